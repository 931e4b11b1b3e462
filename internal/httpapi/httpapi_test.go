package httpapi

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/scim"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json")

type fixture struct {
	store *sqlstore.DB
	api   *Server
	srv   *httptest.Server
	keys  map[string]string // name -> secret
	ids   map[string]string // name -> record id
}

func actor() context.Context {
	return codexgov.WithActor(context.Background(), codexgov.Actor{ID: "test", RequestID: "seed"})
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, filepath.Join(t.TempDir(), "db"))
}

// onBothDatabases runs fn on a fixture over SQLite, then over PostgreSQL
// (a schema of its own).
func onBothDatabases(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newFixtureOn(t, testenv.PostgresSchema(t))) })
}

func newFixtureOn(t *testing.T, dsn string) *fixture {
	t.Helper()
	// Tests drive the API from one address with one key, faster than any
	// client; TestRateLimits turns the limits on.
	return newFixtureWith(t, dsn, Options{Limits: &Limits{}})
}

func newFixtureWith(t *testing.T, dsn string, opts Options) *fixture {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	store.SetValidator(policy.Validate)
	t.Cleanup(func() { store.Close() })
	var master signing.MasterKey
	ctx := actor()
	f := &fixture{store: store, keys: map[string]string{}, ids: map[string]string{}}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.AddSigningKey(ctx, signing.NewSigningKey(master, time.Now())))
	on := true
	for _, ws := range []string{"victim", "attacker"} {
		must(store.CreateWorkspace(ctx, ws, ""))
		must(store.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{AllowAccessTokens: &on, AllowDeviceCodeLogin: &on}))
		perms := append(codexgov.DefaultRolePermissions(), codexgov.PermAccessTokens)
		must(store.UpdateRole(ctx, ws, codexgov.DefaultRoleName, codexgov.RoleUpdate{Permissions: &perms}))
		u, err := store.CreateUser(ctx, ws, codexgov.User{Email: "ann@" + ws + ".test"})
		must(u, err)
		g, err := store.CreateGroup(ctx, ws, codexgov.Group{Name: "eng-" + ws})
		must(g, err)
		f.ids[ws+"/user"], f.ids[ws+"/group"] = u.ID, g.ID
		must(store.PutIdentityProvider(ctx, codexgov.IdentityProvider{Name: "idp-" + ws, Workspace: ws, Issuer: "https://idp." + ws + ".test", ClientID: "client-" + ws, ClientSecretEnc: []byte("sealed"), AllowedDomain: ws + ".test"}))
		must(store.AddGroupMember(ctx, ws, "eng-"+ws, "ann@"+ws+".test"))
		must(store.CreateRole(ctx, ws, codexgov.Role{Name: "role-" + ws, Permissions: []codexgov.Permission{"codex_local", "access_tokens"}}))
		must(store.GrantGroupRole(ctx, ws, "eng-"+ws, "role-"+ws))
		must(store.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "policy-" + ws, Requirements: "# secret of " + ws + "\nallowed_sandbox_modes = [\"read-only\"]\n"}))
		must(store.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng-" + ws, Policy: "policy-" + ws}}}))
		must(store.PutGateway(ctx, codexgov.Gateway{Workspace: ws, BaseURL: "https://models." + ws + ".test/v1", KeyEnc: []byte("sealed")}))
		b, err := store.PutGatewayBudget(ctx, codexgov.GatewayBudget{Workspace: ws, Scope: "user", Subject: "ann@" + ws + ".test", Unit: "tokens", Period: "day", Limit: 1000})
		must(b, err)
		f.ids[ws+"/budget"] = b.ID
		must(store.CreateSink(ctx, ws, codexgov.SinkInput{Name: "sink-" + ws, Kind: codexgov.SinkWebhook, URL: "https://siem." + ws + ".test/in", Secret: strings.Repeat("x", 32)}, []byte("sealed")))
		mk := func(name string, scopes ...codexgov.Scope) {
			secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
			must(store.CreateAPIKey(ctx, codexgov.APIKey{ID: id, Workspace: ws, Name: name, Scopes: scopes, Hash: hash}))
			f.keys[ws+"/"+name], f.ids[ws+"/"+name] = secret, id
		}
		mk("full", codexgov.WorkspaceScopes()...)
		mk("audit-only", codexgov.ScopeAuditRead)
		mk("read-only", codexgov.ScopeAdminRead)
		mk("revoked", codexgov.WorkspaceScopes()...)
		must(store.RevokeAPIKey(ctx, ws, f.ids[ws+"/revoked"]))
		secret, id, hash := codexgov.NewSecret(codexgov.AccessTokenPrefix)
		must(store.CreateAccessToken(ctx, codexgov.AccessToken{ID: id, Workspace: ws, User: "ann@" + ws + ".test", Hash: hash, ExpiresAt: time.Now().Add(time.Hour)}))
		f.keys[ws+"/token"], f.ids[ws+"/token"] = secret, id
	}
	ks, _ := store.SigningKeys(ctx)
	f.ids["kid"] = ks[0].KID
	f.api, err = New(context.Background(), store, master, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var paramRE = regexp.MustCompile(`\{([a-z]+)\}`)

// TestTenantIsolation is generated from the route table: every route that
// takes a credential is tried without one, with a revoked key, with a key
// lacking its scope and with another workspace's credential.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	victimData := []string{"ann@victim.test", "idp.victim.test", "siem.victim.test", "client-victim", "eng-victim", "role-victim", "policy-victim", "secret of victim", f.ids["victim/full"]}
	fill := func(rt Route) string {
		return paramRE.ReplaceAllStringFunc(rt.Path, func(m string) string {
			switch m {
			case "{ws}":
				return "victim"
			case "{email}":
				return "ann@victim.test"
			case "{group}":
				return "eng-victim"
			case "{role}":
				return "role-victim"
			case "{policy}":
				return "policy-victim"
			case "{id}":
				switch {
				case strings.HasPrefix(rt.Path, scimBase+"/Users/"):
					return f.ids["victim/user"]
				case strings.HasPrefix(rt.Path, scimBase+"/Groups/"):
					return f.ids["victim/group"]
				case strings.HasPrefix(rt.Path, scimBase+"/Schemas/"):
					return scim.UserSchema
				}
				if strings.Contains(rt.Path, "access-tokens") {
					return f.ids["victim/token"]
				}
				return f.ids["victim/full"]
			case "{idp}":
				return "idp-victim"
			case "{kid}":
				return f.ids["kid"]
			case "{trace}":
				return "09000000000000000000000000000000"
			case "{file}":
				return "file_0123456789abcdef"
			case "{hold}":
				return "hold_0123456789abcdef"
			case "{task}":
				return "01a23da0-9366-7f22-86b0-93554eaffd91"
			case "{user}":
				return "ann@victim.test"
			case "{sink}":
				return "sink-victim"
			case "{budget}":
				return f.ids["victim/budget"]
			}
			t.Fatalf("route %s %s: the isolation test does not know path parameter %s; teach it", rt.Method, rt.Path, m)
			return ""
		})
	}
	body := func(rt Route) string {
		if rt.In == nil {
			return ""
		}
		b, _ := json.Marshal(rt.In)
		return string(b)
	}
	stateBefore, _ := f.store.Version(context.Background())
	checked := 0
	for _, rt := range Routes() {
		if !rt.Auth.Authenticates() {
			continue
		}
		name := rt.Method + " " + rt.Path
		path := fill(rt)
		if strings.Contains(rt.Path, "/lookup") {
			path += "?user=ann@victim.test"
		}
		expect := func(who, token string, want int) {
			t.Helper()
			code, resp := f.do(t, rt.Method, path, token, body(rt))
			if code != want {
				t.Errorf("%s with %s: status %d, want %d (%s)", name, who, code, want, resp)
			}
			if code >= 400 && (rt.Errors == SCIM) {
				var e struct {
					Schemas        []string
					Status, Detail string
				}
				if err := json.Unmarshal([]byte(resp), &e); err != nil || !slices.Equal(e.Schemas, []string{scim.ErrorSchema}) || e.Status != strconv.Itoa(code) || e.Detail == "" {
					t.Errorf("%s with %s: error body not in the SCIM error schema: %s", name, who, resp)
				}
			} else if code >= 400 && rt.Errors == OTLP {
				var e struct {
					Code    int
					Message string
				}
				if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Code == 0 || e.Message == "" {
					t.Errorf("%s with %s: error body not a google.rpc.Status: %s", name, who, resp)
				}
			} else if code >= 400 {
				var e ErrorBody
				if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Code == "" || e.Message == "" {
					t.Errorf("%s with %s: error body not in the one shape: %s", name, who, resp)
				}
				for _, d := range victimData {
					if strings.Contains(resp, d) && !strings.Contains(path, d) {
						t.Errorf("%s with %s: error body leaks %q: %s", name, who, d, resp)
					}
				}
			}
		}
		expect("no token", "", 401)
		expect("a revoked key", f.keys["victim/revoked"], 401)
		expect("a malformed token", "cgk_not-a-real-key", 401)
		switch rt.Auth {
		case Client:
			expect("an API key", f.keys["victim/full"], 403)
			// Another workspace's token only ever sees its own user's data.
			code, resp := f.do(t, rt.Method, path, f.keys["attacker/token"], "")
			for _, d := range victimData {
				if strings.Contains(resp, d) {
					t.Errorf("%s with the attacker's token (%d): leaks %q", name, code, d)
				}
			}
		case Key:
			switch {
			case rt.Scope == codexgov.ScopeServerAdmin:
				expect("a workspace key", f.keys["victim/full"], 403)
			case rt.Scope == codexgov.ScopeAuditRead:
				expect("a key without audit:read", f.keys["victim/read-only"], 403)
			default:
				expect("a key without "+string(rt.Scope), f.keys["victim/audit-only"], 403)
			}
			expect("an access token", f.keys["victim/token"], 403)
			switch {
			case (rt.Errors == SCIM) && strings.Contains(rt.Path, "{id}") && !strings.Contains(rt.Path, "/Schemas/"):
				// The workspace is the key's: the victim's records do
				// not exist in the attacker's.
				expect("another workspace's scim key", f.keys["attacker/full"], 404)
			case (rt.Errors == SCIM):
				code, resp := f.do(t, rt.Method, path, f.keys["attacker/full"], body(rt))
				if code >= 500 || strings.Contains(resp, "victim") {
					t.Errorf("%s with the attacker's key: %d %s", name, code, resp)
				}
			case strings.Contains(rt.Path, "{ws}"):
				expect("another workspace's key", f.keys["attacker/full"], 404)
				expect("another workspace's token", f.keys["attacker/token"], 404)
				if rt.Surface == SurfaceCompliance {
					// The Compliance API also names the workspace by UUID.
					w, _ := f.store.Workspace(context.Background(), "victim")
					byUUID := strings.Replace(path, "/victim/", "/"+w.UUID+"/", 1)
					if code, resp := f.do(t, rt.Method, byUUID, f.keys["attacker/full"], body(rt)); code != 404 {
						t.Errorf("%s by the victim's UUID with the attacker's key: %d %s", name, code, resp)
					}
				}
			case rt.Scope != codexgov.ScopeServerAdmin:
				code, resp := f.do(t, rt.Method, path, f.keys["attacker/full"], body(rt))
				if code != 200 || strings.Contains(resp, "victim") {
					t.Errorf("%s with the attacker's key: %d %s", name, code, resp)
				}
			}
		}
		checked++
	}
	if after, _ := f.store.Version(context.Background()); after != stateBefore {
		t.Errorf("the refused requests changed the state: version %d -> %d", stateBefore, after)
	}
	if evs, _ := f.store.AuditEvents(context.Background(), "victim", codexgov.AuditFilter{Limit: 1}); evs[0].RequestID != "seed" {
		t.Errorf("a refused request wrote an audit event: %+v", evs[0])
	}
	public := 0
	for _, rt := range Routes() {
		if !rt.Auth.Authenticates() {
			public++
		}
	}
	if public != 60 || checked != len(Routes())-public {
		t.Errorf("only %d routes checked (%d without a key or client credential; the console's are in identity_test.go)", checked, public)
	}
}

// TestOpenAPIMatchesRouteTable checks the served document against the
// route table, and against the committed docs/openapi.json.
func TestOpenAPIMatchesRouteTable(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "GET", "/api/v1/openapi.json", "", "")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, rt := range Routes() {
		want[strings.ToLower(rt.Method)+" "+rt.Path] = true
	}
	got := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			got[m+" "+p] = true
			if !want[m+" "+p] {
				t.Errorf("OpenAPI documents %s %s, which the route table lacks", m, p)
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("route %s is missing from the OpenAPI document", k)
		}
	}
	for _, ref := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(body, -1) {
		if _, ok := doc.Components.Schemas[ref[1]]; !ok {
			t.Errorf("dangling $ref %s", ref[1])
		}
	}
	file := filepath.Join(testenv.RepoRoot(), "docs", "openapi.json")
	if *update {
		os.WriteFile(file, []byte(body), 0o644)
	}
	committed, err := os.ReadFile(file)
	if err != nil || string(committed) != body {
		t.Errorf("docs/openapi.json is not the served document; run go test ./internal/httpapi -run OpenAPI -update")
	}
}

func TestErrorsNamePlaces(t *testing.T) {
	f := newFixture(t)
	key := f.keys["victim/full"]
	for _, tc := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/api/v1/workspaces/victim/groups", `{"name": 7}`, 400, "/name"},
		{"POST", "/api/v1/workspaces/victim/groups", `{"nmae": "x"}`, 400, "/nmae"},
		{"POST", "/api/v1/workspaces/victim/roles", `{"name": "x", "permissions": ["codex_local", "sudo"]}`, 400, "/permissions/1"},
		{"PUT", "/api/v1/workspaces/victim/policies/p", `{"requirements": "allowed_sandbox_modes = [1]"}`, 400, "/requirements"},
		{"PUT", "/api/v1/workspaces/victim/assignment", `{"rules": [{"group": "nope", "policy": "policy-victim"}]}`, 400, "/rules/0/group"},
		{"POST", "/api/v1/workspaces/victim/users", `{"email": "x@y.z"` + strings.Repeat(" ", DefaultMaxBodyBytes) + `}`, 413, ""},
		{"GET", "/api/v1/workspaces/victim/audit-events?limit=x", ``, 400, "?limit"},
	} {
		code, body := f.do(t, tc.method, tc.path, key, tc.body)
		var e ErrorBody
		json.Unmarshal([]byte(body), &e)
		if code != tc.status || (tc.field != "" && (len(e.Details) == 0 || e.Details[0].Field != tc.field)) {
			t.Errorf("%s %s %.40s: %d %s, want %d at %s", tc.method, tc.path, tc.body, code, body, tc.status, tc.field)
		}
	}
}

func TestMetricsUseRoutePatterns(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/api/v1/workspaces/victim/users/ann@victim.test", f.keys["victim/full"], "")
	f.do(t, "GET", "/no/such/path", "", "")
	_, body := f.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{
		`codexgov_http_requests_total{code="200",method="GET",route="/api/v1/workspaces/{ws}/users/{email}"} 1`,
		`codexgov_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`codexgov_snapshot_version `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "ann@victim.test") {
		t.Error("metrics carry a raw path")
	}
}

// countingStore counts the state reads of a real store.
type countingStore struct {
	codexgov.Store
	states, workspaceStates int
}

func (c *countingStore) State(ctx context.Context) (*codexgov.State, error) {
	c.states++
	return c.Store.State(ctx)
}

func (c *countingStore) WorkspaceState(ctx context.Context, ws string) (*codexgov.State, error) {
	c.workspaceStates++
	return c.Store.WorkspaceState(ctx, ws)
}

// TestRebuildReadsOnlyAfterARealChange: a rebuild with nothing changed
// reads the version and nothing else; after a change in one workspace it
// reads that workspace's state once, and nothing of the others.
func TestRebuildReadsOnlyAfterARealChange(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	api, err := New(context.Background(), cs, signing.MasterKey{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs.states = 0
	for range 5 {
		if err := api.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if cs.states != 0 || cs.workspaceStates != 0 {
		t.Errorf("%d state and %d workspace reads without a change, want 0", cs.states, cs.workspaceStates)
	}
	on := true
	if _, err := f.store.UpdateSettings(actor(), "victim", codexgov.SettingsUpdate{AllowCodexCloud: &on}); err != nil {
		t.Fatal(err)
	}
	if err := api.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cs.states != 0 || cs.workspaceStates != 1 {
		t.Errorf("%d state and %d workspace reads after one change in one workspace, want 0 and 1", cs.states, cs.workspaceStates)
	}
	// A server-level change (a new signing key) rebuilds everything.
	if _, err := f.store.AddSigningKey(actor(), signing.NewSigningKey(signing.MasterKey{}, time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := api.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cs.states != 1 {
		t.Errorf("%d full state reads after a signing key change, want 1", cs.states)
	}
}

// TestIncrementalSnapshotEqualsFullCompile: after changes in several
// workspaces applied one workspace at a time, every lookup, document and
// credential answers as a snapshot compiled from scratch does.
func TestIncrementalSnapshotEqualsFullCompile(t *testing.T) {
	f := newFixture(t)
	api := f.api
	ctx := actor()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []string{"victim", "attacker"} {
		must(f.store.CreateUser(ctx, ws, codexgov.User{Email: "new@" + ws + ".test"}))
		must(f.store.CreateGroup(ctx, ws, codexgov.Group{Name: "late"}))
		must(f.store.AddGroupMember(ctx, ws, "late", "new@"+ws+".test"))
		must(f.store.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "late", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n"}))
		a, err := f.store.Assignment(ctx, ws)
		must(a, err)
		a.Rules = append([]codexgov.Rule{{Group: "late", Policy: "late"}}, a.Rules...)
		must(f.store.SetAssignment(ctx, ws, *a))
		secret, id, hash := codexgov.NewSecret(codexgov.EnrollmentTokenPrefix)
		must(f.store.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: id, Workspace: ws, User: "new@" + ws + ".test", Hash: hash}))
		f.keys[ws+"/enroll"] = secret
		if err := api.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	must(f.store.RevokeAPIKey(ctx, "victim", f.ids["victim/full"]))
	if err := api.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh, err := New(context.Background(), f.store, signing.MasterKey{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	inc, full := api.Snapshot(), fresh.Snapshot()
	if inc.Version != full.Version {
		t.Fatalf("versions %d and %d", inc.Version, full.Version)
	}
	st, err := f.store.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, a, b any) {
		t.Helper()
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s differs:\nincremental %s\nfull        %s", what, ja, jb)
		}
	}
	for _, w := range st.Workspaces {
		for _, u := range st.Users[w.ID] {
			li, ei := inc.LookupUser(w.ID, u.Email)
			lf, ef := full.LookupUser(w.ID, u.Email)
			same("lookup "+u.Email, []any{li, ei}, []any{lf, ef})
			bi, _ := inc.UserBundle(w.ID, u.Email)
			bf, _ := full.UserBundle(w.ID, u.Email)
			same("bundle "+u.Email, bi, bf)
		}
		for _, g := range st.Groups[w.ID] {
			li, _ := inc.LookupGroup(w.ID, g.Name)
			lf, _ := full.LookupGroup(w.ID, g.Name)
			same("group "+g.Name, li, lf)
		}
		same("enrollment tokens of "+w.ID, inc.EnrollmentTokens(w.ID), full.EnrollmentTokens(w.ID))
	}
	for name, secret := range f.keys {
		pi, ei := inc.Authenticate(secret, time.Now())
		pf, ef := full.Authenticate(secret, time.Now())
		same("credential "+name, []any{pi.ActorID(), ei}, []any{pf.ActorID(), ef})
	}
	if _, err := inc.Authenticate(f.keys["victim/full"], time.Now()); err == nil {
		t.Error("a revoked key still authenticates in the incremental snapshot")
	}
}
