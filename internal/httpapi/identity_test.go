package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/oidc"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/testenv"
)

type ssoEnv struct {
	t     *testing.T
	store *sqlstore.DB
	dir   string
	api   *Server
	srv   *httptest.Server
	idp   *testenv.IdP
	key   string
}

// newSSOEnv runs a real server over TLS (secure cookies) on SQLite with
// workspace acme, whose "okta" provider is the fake IdP.
func newSSOEnv(t *testing.T) *ssoEnv {
	e := &ssoEnv{t: t, dir: t.TempDir(), idp: testenv.NewIdP(t)}
	var err error
	e.store, err = sqlstore.Open(context.Background(), filepath.Join(e.dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	e.store.SetValidator(policy.Validate)
	t.Cleanup(func() { e.store.Close() })
	ctx := actor()
	var master signing.MasterKey
	master[0] = 7
	e.store.AddSigningKey(ctx, signing.NewSigningKey(master, time.Now()))
	e.store.CreateWorkspace(ctx, "acme", "Acme")
	e.store.CreateWorkspace(ctx, "other", "Other")
	e.store.CreateRole(ctx, "acme", codexgov.Role{Name: "admin", Permissions: []codexgov.Permission{codexgov.PermCodexAdmin, codexgov.PermCodexLocal}})
	e.store.CreateGroup(ctx, "acme", codexgov.Group{Name: "Codex Admins"})
	e.store.GrantGroupRole(ctx, "acme", "Codex Admins", "admin")
	e.store.CreateGroup(ctx, "acme", codexgov.Group{Name: "eng", ExternalID: "00g-eng"})
	e.store.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "eng", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n"})
	e.store.SetAssignment(ctx, "acme", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}}})
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	if _, err := e.store.CreateAPIKey(ctx, codexgov.APIKey{ID: id, Workspace: "acme", Name: "admin", Scopes: codexgov.WorkspaceScopes(), Hash: hash}); err != nil {
		t.Fatal(err)
	}
	e.key = secret
	e.api, err = New(context.Background(), e.store, master, Options{SSO: &oidc.RelyingParty{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewTLSServer(e.api)
	t.Cleanup(e.srv.Close)
	body := `{"display_name":"Okta","issuer":"` + e.idp.URL + `","client_id":"` + e.idp.ClientID + `","client_secret":"` + e.idp.ClientSecret + `","allowed_domain":"acme.test","groups_claim":"groups"}`
	if code, resp := e.api_("PUT", "/api/v1/workspaces/acme/identity-providers/okta", body); code != 200 || strings.Contains(resp, e.idp.ClientSecret) {
		t.Fatalf("put provider: %d %s", code, resp)
	}
	return e
}

func (e *ssoEnv) api_(method, path, body string) (int, string) {
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// browser is a client with cookies that follows redirects through the
// fake IdP, as a person's browser does.
func (e *ssoEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := e.srv.Client()
	return &http.Client{Transport: c.Transport, Jar: jar}
}

var ssoLinkRE = regexp.MustCompile(`href="(/sso/start\?flow=[^"]+)"`)

func browse(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// adminSignIn signs a browser in through the admin page's SSO link and
// returns the final page.
func (e *ssoEnv) adminSignIn(b *http.Client) (*http.Response, string) {
	e.t.Helper()
	_, page := browse(e.t, b, e.srv.URL+"/ui/acme/sign-in")
	m := ssoLinkRE.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no SSO link on the sign-in page: %s", page)
	}
	return browse(e.t, b, e.srv.URL+html.UnescapeString(m[1]))
}

func yes() *bool { v := true; return &v }

func ptr[T any](v T) *T { return &v }
func no() *bool         { v := false; return &v }

func TestSingleSignOn(t *testing.T) {
	e := newSSOEnv(t)
	ctx := actor()

	t.Run("client secret encrypted at rest", func(t *testing.T) {
		// Checkpoint the WAL so that every byte written is in the files.
		for _, f := range []string{"db", "db-wal", "db-shm"} {
			b, err := os.ReadFile(filepath.Join(e.dir, f))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if strings.Contains(string(b), e.idp.ClientSecret) {
				t.Errorf("the client secret is in plain text in %s", f)
			}
		}
		p, err := e.store.IdentityProvider(ctx, "acme", "okta")
		if err != nil || len(p.ClientSecretEnc) == 0 {
			t.Fatalf("%v %+v", err, p)
		}
		if got, err := e.api.keys.OpenSecret("idp:acme/okta", p.ClientSecretEnc); err != nil || got != e.idp.ClientSecret {
			t.Errorf("sealed secret opens to %q, %v", got, err)
		}
		if code, body := e.api_("GET", "/api/v1/workspaces/acme/identity-providers/okta", ""); code != 200 || strings.Contains(body, e.idp.ClientSecret) || strings.Contains(body, "client_secret") {
			t.Errorf("GET shows the secret: %s", body)
		}
	})

	t.Run("JIT off refuses an unknown user", func(t *testing.T) {
		e.idp.SignInAs(testenv.Claims{Email: "alice@acme.test", Name: "Alice", Groups: []string{"Codex Admins"}})
		resp, page := e.adminSignIn(e.browser())
		if resp.StatusCode != 403 || !strings.Contains(page, "allow_jit_provisioning") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
		if _, err := e.store.User(ctx, "acme", "alice@acme.test"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			t.Errorf("user created with JIT off: %v", err)
		}
	})

	e.store.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowJITProvisioning: yes()})
	e.api.Rebuild(ctx)
	b := e.browser()

	t.Run("admin sign-in with JIT user and groups claim", func(t *testing.T) {
		resp, page := e.adminSignIn(b)
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/ui/acme" || !strings.Contains(page, `<span id="who">alice@acme.test</span>`) {
			t.Fatalf("%d %s %s", resp.StatusCode, resp.Request.URL, page)
		}
		u, err := e.store.User(ctx, "acme", "alice@acme.test")
		if err != nil || u.Name != "Alice" || !slices.Equal(u.Groups, []string{"Codex Admins"}) {
			t.Fatalf("JIT user: %+v %v", u, err)
		}
		evs, _ := e.store.AuditEvents(ctx, "acme", codexgov.AuditFilter{Limit: 2})
		if evs[0].Action != "user.groups.sync" || evs[0].Actor != "oidc:okta" || evs[1].Action != "user.create" || evs[1].Actor != "oidc:okta" {
			t.Errorf("audit: %+v / %+v", evs[0], evs[1])
		}
		var cookie *http.Cookie
		for _, c := range b.Jar.Cookies(must(url.Parse(e.srv.URL))) {
			if c.Name == "__Host-codexgov_session" {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatal("no __Host- session cookie")
		}
	})

	// A Codex session seen by telemetry, prompts kept: its page lists them.
	if _, err := e.store.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{Telemetry: ptr(codexgov.TelemetryPrompts)}); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute)
	if _, err := e.store.AppendTelemetry(ctx, []codexgov.TelemetryEvent{
		{ID: "ev-1", Workspace: "acme", Identity: "user:alice@acme.test", Credential: "et_1", Time: at, ReceivedAt: at, Type: codexgov.TelemetryPrompt, Name: "codex.user_prompt", Session: "sess-1",
			Data: map[string]any{"prompt_length": 13}, Attributes: map[string]any{"prompt": "fix the build", "prompt_length": 13}},
		{ID: "ev-2", Workspace: "acme", Identity: "user:alice@acme.test", Credential: "et_1", Time: at.Add(time.Second), ReceivedAt: at, Type: codexgov.TelemetryToolDecision, Name: "codex.tool_decision", Session: "sess-1",
			Data: map[string]any{"tool_name": "shell", "decision": "denied"}, Attributes: map[string]any{}},
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("every console page renders", func(t *testing.T) {
		for _, rt := range Routes() {
			if rt.Auth != Session || rt.Method != "GET" {
				continue
			}
			path := strings.NewReplacer("{ws}", "acme", "{policy}", "eng", "{session}", "sess-1").Replace(rt.Path)
			if strings.HasSuffix(path, "/export") {
				path += "?route=usage&start=2026-11-01&end=2026-11-30&group_by=day&format=csv"
			}
			resp, body := browse(t, b, e.srv.URL+path)
			if resp.StatusCode != 200 || resp.Request.URL.Path != strings.Split(path, "?")[0] {
				t.Errorf("GET %s: %d at %s %.500s", path, resp.StatusCode, resp.Request.URL, body)
			}
		}
	})

	t.Run("CSRF protection on the settings form", func(t *testing.T) {
		_, page := browse(t, b, e.srv.URL+"/ui/acme/settings")
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no CSRF token on the page")
		}
		// The form as the page has it: every toggle that is on stays on.
		checked := url.Values{}
		for _, on := range regexp.MustCompile(`name="([a-z_]+)" value="on" checked`).FindAllStringSubmatch(page, -1) {
			checked.Set(on[1], "on")
		}
		post := func(form url.Values, origin string) *http.Response {
			req, _ := http.NewRequest("POST", e.srv.URL+"/ui/acme/settings", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		v0, _ := e.store.Version(ctx)
		if r := post(url.Values{"allow_device_code_login": {"on"}}, ""); r.StatusCode != 403 {
			t.Errorf("no token: %d", r.StatusCode)
		}
		if r := post(url.Values{"allow_device_code_login": {"on"}, "csrf": {m[1]}}, "https://evil.test"); r.StatusCode != 403 {
			t.Errorf("foreign origin: %d", r.StatusCode)
		}
		if v, _ := e.store.Version(ctx); v != v0 {
			t.Error("a refused form changed the state")
		}
		checked.Set("allow_device_code_login", "on")
		checked.Set("allow_jit_provisioning", "on")
		checked.Set("csrf", html.UnescapeString(m[1]))
		r := post(checked, e.srv.URL)
		if r.StatusCode != 200 || r.Request.URL.Query().Get("done") != "Settings saved." {
			t.Fatalf("with token: %d %s", r.StatusCode, r.Request.URL)
		}
		w, _ := e.store.Workspace(ctx, "acme")
		evs, _ := e.store.AuditEvents(ctx, "acme", codexgov.AuditFilter{Limit: 1})
		if !w.Settings.AllowDeviceCodeLogin || !w.Settings.AllowCodexLocal || evs[0].Action != "settings.update" || evs[0].Actor != "user:alice@acme.test (console)" {
			t.Errorf("settings %+v, audit %+v", w.Settings, evs[0])
		}
		// acme's session (and its form token) reaches nothing of another
		// workspace: every console page of "other" sends it to sign in,
		// every console form is refused, and nothing changes.
		other0, _ := e.store.Workspace(ctx, "other")
		v1, _ := e.store.Version(ctx)
		fill := strings.NewReplacer("{ws}", "other", "{email}", "alice@acme.test", "{policy}", "eng", "{kind}", "api-keys", "{id}", "key_x", "{group}", "eng", "{role}", "admin", "{session}", "sess-1")
		pages, forms := 0, 0
		for _, rt := range Routes() {
			if rt.Auth != Session {
				continue
			}
			path := fill.Replace(rt.Path)
			if rt.Method == "GET" {
				pages++
				nb := &http.Client{Transport: b.Transport, Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := nb.Get(e.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/other/sign-in" || strings.Contains(string(body), "alice") || strings.Contains(string(body), "Codex Admins") {
					t.Errorf("GET %s with acme's session: %d to %q", path, resp.StatusCode, resp.Header.Get("Location"))
				}
				continue
			}
			forms++
			form := url.Values{"allow_device_code_login": {"on"}, "csrf": {html.UnescapeString(m[1])}, "requirements": {"x = 1\n"}, "rule": {"1"}, "move": {"down"}, "name": {"n"}, "active": {"false"}, "op": {"delete"}, "email": {"alice@acme.test"}}
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.srv.URL)
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("POST %s with acme's session: %d", path, resp.StatusCode)
			}
		}
		if pages < 15 || forms < 8 {
			t.Errorf("only %d console pages and %d forms checked", pages, forms)
		}
		if other, _ := e.store.Workspace(ctx, "other"); !other.Settings.Equal(other0.Settings) {
			t.Error("acme's session changed another workspace's settings")
		}
		if v, _ := e.store.Version(ctx); v != v1 {
			t.Errorf("acme's session changed the state through another workspace's forms: version %d -> %d", v1, v)
		}
	})

	t.Run("console edits: groups, roles, settings, identity providers", func(t *testing.T) {
		_, page := browse(t, b, e.srv.URL+"/ui/acme/groups")
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no CSRF token on the groups page")
		}
		csrf := html.UnescapeString(m[1])
		// post sends a console form as the page would and returns where the
		// browser lands and what it shows.
		post := func(path string, form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", csrf)
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.srv.URL)
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Request.URL.Query().Get("done"), string(body)
		}
		lastAudit := func(action string) {
			t.Helper()
			evs, _ := e.store.AuditEvents(ctx, "acme", codexgov.AuditFilter{Limit: 1})
			if len(evs) == 0 || evs[0].Action != action || evs[0].Actor != "user:alice@acme.test (console)" {
				t.Errorf("last audit record: %+v, want %s by alice in the console", evs, action)
			}
		}

		// Groups: create, add a member, grant a role; a SCIM group's
		// members are refused.
		if code, done, body := post("/ui/acme/groups", url.Values{"name": {"reviewers"}, "description": {"Code reviewers"}}); code != 200 || done != "Group reviewers created." {
			t.Fatalf("create group: %d %q %.300s", code, done, body)
		}
		lastAudit("group.create")
		if code, done, _ := post("/ui/acme/groups/reviewers", url.Values{"op": {"add-member"}, "email": {"alice@acme.test"}}); code != 200 || done != "alice@acme.test added to reviewers." {
			t.Fatalf("add member: %d %q", code, done)
		}
		if code, _, _ := post("/ui/acme/groups/reviewers", url.Values{"op": {"grant-role"}, "role": {"admin"}}); code != 200 {
			t.Fatalf("grant: %d", code)
		}
		g, err := e.store.Group(ctx, "acme", "reviewers")
		if err != nil || g.Description != "Code reviewers" || !slices.Equal(g.Members, []string{"alice@acme.test"}) || !slices.Equal(g.Roles, []string{"admin"}) {
			t.Fatalf("group after the console: %+v %v", g, err)
		}
		v0, _ := e.store.Version(ctx)
		if code, _, body := post("/ui/acme/groups/eng", url.Values{"op": {"add-member"}, "email": {"bob@acme.test"}}); code != 409 || !strings.Contains(body, "managed by SCIM") {
			t.Errorf("a SCIM group's member added in the console: %d %.300s", code, body)
		}
		if code, _, body := post("/ui/acme/groups/reviewers", url.Values{"op": {"grant-role"}, "role": {"no-such-role"}}); code != 404 {
			t.Errorf("unknown role granted: %d %.300s", code, body)
		}
		if v, _ := e.store.Version(ctx); v != v0 {
			t.Error("a refused group change changed the state")
		}
		_, page = browse(t, b, e.srv.URL+"/ui/acme/users?q=alice")
		if !regexp.MustCompile(`<td>alice@acme.test</td><td>[^<]*</td><td>[^<]*</td><td>admin</td>`).MatchString(page) {
			t.Errorf("the users page does not show alice's roles: %.2000s", page)
		}

		// Roles: create with permissions, change them, delete.
		if code, done, _ := post("/ui/acme/roles", url.Values{"name": {"auditors"}, "description": {"Read the logs"}, "permission": {"compliance_read", "analytics_read"}}); code != 200 || done != "Role auditors created." {
			t.Fatalf("create role: %d %q", code, done)
		}
		r, err := e.store.Role(ctx, "acme", "auditors")
		if err != nil || !slices.Equal(r.Permissions, []codexgov.Permission{codexgov.PermAnalyticsRead, codexgov.PermComplianceRead}) {
			t.Fatalf("role: %+v %v", r, err)
		}
		_, page = browse(t, b, e.srv.URL+"/ui/acme/roles")
		if !strings.Contains(page, "reads the Compliance API and the audit log") || !strings.Contains(page, `value="compliance_read" checked`) {
			t.Errorf("the roles page does not explain or show auditors' permissions")
		}
		if code, _, _ := post("/ui/acme/roles/auditors", url.Values{"op": {"save"}, "description": {"Reads analytics"}, "permission": {"analytics_read"}}); code != 200 {
			t.Fatalf("save role: %d", code)
		}
		lastAudit("role.update")
		if r, _ := e.store.Role(ctx, "acme", "auditors"); r.Description != "Reads analytics" || !slices.Equal(r.Permissions, []codexgov.Permission{codexgov.PermAnalyticsRead}) {
			t.Errorf("role after save: %+v", r)
		}
		if code, _, body := post("/ui/acme/roles/auditors", url.Values{"op": {"save"}, "permission": {"root"}}); code != 400 || !strings.Contains(body, "root") {
			t.Errorf("a bad permission: %d %.300s", code, body)
		}
		if code, _, _ := post("/ui/acme/roles/auditors", url.Values{"op": {"delete"}}); code != 200 {
			t.Errorf("delete role: %d", code)
		}
		if _, err := e.store.Role(ctx, "acme", "auditors"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			t.Errorf("role still there: %v", err)
		}

		// Settings: retention and lookback with the toggles as they are;
		// a bad number names its field and changes nothing.
		_, page = browse(t, b, e.srv.URL+"/ui/acme/settings")
		w0, _ := e.store.Workspace(ctx, "acme")
		form := url.Values{"telemetry": {"prompts"}, "default_role": {"admin"}, "analytics_lookback_days": {"120"}, "retention_CODEX_LOG": {"45"}, "retention_AUDIT_LOG": {"400"}}
		for _, on := range regexp.MustCompile(`name="([a-z_]+)" value="on" checked`).FindAllStringSubmatch(page, -1) {
			form.Set(on[1], "on")
		}
		if !strings.Contains(page, `<option value="`+w0.Settings.DefaultRole+`" selected>`) {
			t.Errorf("the settings page does not select the default role %q", w0.Settings.DefaultRole)
		}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("retention_AUTH_LOG", "ninety")
		if code, _, body := post("/ui/acme/settings", bad); code != 400 || !strings.Contains(body, "/compliance_retention_days/AUTH_LOG") {
			t.Errorf("bad retention: %d %.300s", code, body)
		}
		bad.Set("retention_AUTH_LOG", "0")
		if code, _, body := post("/ui/acme/settings", bad); code != 400 || !strings.Contains(body, "want 1 to") {
			t.Errorf("zero retention: %d %.300s", code, body)
		}
		if w, _ := e.store.Workspace(ctx, "acme"); !w.Settings.Equal(w0.Settings) {
			t.Error("a refused settings form changed the settings")
		}
		if code, done, _ := post("/ui/acme/settings", form); code != 200 || done != "Settings saved." {
			t.Fatalf("settings: %d %q", code, done)
		}
		lastAudit("settings.update")
		w, _ := e.store.Workspace(ctx, "acme")
		st := w.Settings
		if st.ComplianceRetention["CODEX_LOG"] != 45 || st.ComplianceRetention["AUDIT_LOG"] != 400 || st.AnalyticsLookbackDays != 120 || st.DefaultRole != "admin" ||
			st.AllowCodexLocal != w0.Settings.AllowCodexLocal || st.AllowJITProvisioning != w0.Settings.AllowJITProvisioning || st.Telemetry != codexgov.TelemetryPrompts {
			t.Errorf("settings after the console: %+v", st)
		}

		// Identity providers: add one (secret sealed, never shown), edit
		// it without retyping the secret (kept), remove it.
		idp := url.Values{"name": {"backup"}, "display_name": {"Backup IdP"}, "issuer": {"https://login.backup.test"}, "client_id": {"cg"}, "client_secret": {"s3cret-backup-value"}, "allowed_domain": {"acme.test"}, "groups_claim": {"groups"}}
		if code, done, _ := post("/ui/acme/identity-providers", idp); code != 200 || done != "Identity provider backup saved." {
			t.Fatalf("put idp: %d %q", code, done)
		}
		lastAudit("identity_provider.put")
		_, page = browse(t, b, e.srv.URL+"/ui/acme/settings?idp=backup")
		if !strings.Contains(page, "https://login.backup.test") || strings.Contains(page, "s3cret-backup-value") {
			t.Errorf("the settings page does not list the provider, or shows its secret")
		}
		idp.Del("client_secret")
		idp.Set("client_id", "cg2")
		if code, _, _ := post("/ui/acme/identity-providers", idp); code != 200 {
			t.Fatalf("edit idp: %d", code)
		}
		p, err := e.store.IdentityProvider(ctx, "acme", "backup")
		if err != nil || p.ClientID != "cg2" {
			t.Fatalf("idp after edit: %+v %v", p, err)
		}
		if sec, err := e.api.keys.OpenSecret("idp:acme/backup", p.ClientSecretEnc); err != nil || sec != "s3cret-backup-value" {
			t.Errorf("the secret after an edit without one: %q %v", sec, err)
		}
		if code, _, body := post("/ui/acme/identity-providers", url.Values{"name": {"bad"}, "issuer": {"not a url"}, "client_id": {"x"}, "client_secret": {"y"}, "allowed_domain": {"acme.test"}}); code != 400 || !strings.Contains(body, "/issuer") {
			t.Errorf("bad issuer: %d %.300s", code, body)
		}
		if code, _, _ := post("/ui/acme/identity-providers", url.Values{"name": {"backup"}, "op": {"delete"}}); code != 200 {
			t.Errorf("delete idp: %d", code)
		}
		if _, err := e.store.IdentityProvider(ctx, "acme", "backup"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			t.Errorf("idp still there: %v", err)
		}
		// The default role back, and the group made above gone, so that
		// later steps see acme as it was.
		form.Set("default_role", w0.Settings.DefaultRole)
		if code, _, _ := post("/ui/acme/settings", form); code != 200 {
			t.Errorf("settings back: %d", code)
		}
		if code, _, _ := post("/ui/acme/groups/reviewers", url.Values{"op": {"delete"}}); code != 200 {
			t.Errorf("delete group: %d", code)
		}
		lastAudit("group.delete")
	})

	t.Run("a session's events, with the prompts kept", func(t *testing.T) {
		_, page := browse(t, b, e.srv.URL+"/ui/acme/activity")
		if !strings.Contains(page, `href="/ui/acme/activity/sess-1"`) {
			t.Errorf("the activity page does not link the session")
		}
		_, page = browse(t, b, e.srv.URL+"/ui/acme/activity/sess-1")
		i, j := strings.Index(page, "fix the build"), strings.Index(page, "decision: denied")
		if i < 0 || j < i || !strings.Contains(page, "tool_name: shell") {
			t.Errorf("the session page lacks the prompt, or the decision, or their order: %.2000s", page)
		}
		if resp, _ := browse(t, b, e.srv.URL+"/ui/acme/activity/no-such-session"); resp.StatusCode != 404 {
			t.Errorf("unknown session: %d", resp.StatusCode)
		}
	})

	t.Run("groups claim moves memberships at the next sign-in", func(t *testing.T) {
		e.idp.SignInAs(testenv.Claims{Email: "alice@acme.test", Groups: []string{"00g-eng", "Unknown group"}})
		resp, page := e.adminSignIn(e.browser())
		u, _ := e.store.User(ctx, "acme", "alice@acme.test")
		if !slices.Equal(u.Groups, []string{"eng"}) {
			t.Errorf("groups after sync: %v", u.Groups)
		}
		// No codex_admin any more: no admin session.
		if resp.StatusCode != 403 || !strings.Contains(page, "codex_admin") {
			t.Errorf("%d %s", resp.StatusCode, page)
		}
		// And the old session stops at its next request.
		resp, _ = browse(t, b, e.srv.URL+"/ui/acme")
		if resp.Request.URL.Path != "/ui/acme/sign-in" {
			t.Errorf("old session still admin: %s", resp.Request.URL)
		}
		if l, err := e.api.Snapshot().LookupUser("acme", "alice@acme.test"); err != nil || l.Policy == nil || l.Policy.Name != "eng" {
			t.Errorf("lookup after sync: %+v %v", l, err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			claims testenv.Claims
			spoil  testenv.Spoil
			want   string
		}{
			{"wrong audience", testenv.Claims{Email: "bob@acme.test"}, testenv.Spoil{Audience: "someone-else"}, "audience"},
			{"wrong issuer", testenv.Claims{Email: "bob@acme.test"}, testenv.Spoil{Issuer: "https://evil.test"}, "issue"},
			{"expired token", testenv.Claims{Email: "bob@acme.test"}, testenv.Spoil{Expired: true}, "expired"},
			{"bad signature", testenv.Claims{Email: "bob@acme.test"}, testenv.Spoil{WrongKey: true}, "signature"},
			{"disallowed domain", testenv.Claims{Email: "bob@evil.test"}, testenv.Spoil{}, "not in the allowed domain acme.test"},
			{"unverified email", testenv.Claims{Email: "bob@acme.test", EmailVerified: no()}, testenv.Spoil{}, "not verified"},
		} {
			e.idp.SignInAs(tc.claims)
			e.idp.SetSpoil(tc.spoil)
			v0, _ := e.store.Version(ctx)
			resp, page := e.adminSignIn(e.browser())
			if resp.StatusCode != 403 || !strings.Contains(page, "Single sign-on failed") || !strings.Contains(page, tc.want) {
				t.Errorf("%s: %d, want 403 naming %q: %s", tc.name, resp.StatusCode, tc.want, page)
			}
			if v, _ := e.store.Version(ctx); v != v0 {
				t.Errorf("%s: a refused sign-in changed the state", tc.name)
			}
		}
		e.idp.SetSpoil(testenv.Spoil{})
		if _, err := e.store.User(ctx, "acme", "bob@acme.test"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			t.Errorf("a refused sign-in created bob: %v", err)
		}
	})

	t.Run("Codex OAuth sign-in through single sign-on", func(t *testing.T) {
		e.idp.SignInAs(testenv.Claims{Email: "carol@acme.test", Groups: []string{"eng"}})
		// Codex's loopback listener.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan url.Values, 1)
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Query() }))
		defer ln.Close()
		verifier := "v3rifier-" + strings.Repeat("x", 40)
		redirect := "http://" + ln.Addr().String() + "/callback"
		q := url.Values{"response_type": {"code"}, "client_id": {"codex-cli"}, "redirect_uri": {redirect}, "state": {"st4te"},
			"code_challenge": {(&oauthFlow{verifier: verifier}).challenge()}, "code_challenge_method": {"S256"}, "scope": {"codex.config offline_access"}}
		br := e.browser()
		_, page := browse(t, br, e.srv.URL+"/codex-config/acme/oauth/authorize?"+q.Encode())
		m := ssoLinkRE.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "Access token") {
			t.Fatalf("the sign-in page has no SSO link or lost the token fallback: %s", page)
		}
		browse(t, br, e.srv.URL+html.UnescapeString(m[1]))
		var cb url.Values
		select {
		case cb = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("Codex's listener got no callback")
		}
		if cb.Get("state") != "st4te" || cb.Get("code") == "" {
			t.Fatalf("callback: %v", cb)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirect}, "client_id": {"codex-cli"}, "code_verifier": {verifier}}
		resp, err := e.srv.Client().PostForm(e.srv.URL+"/codex-config/acme/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		var tok configserver.TokenResponse
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ := http.NewRequest("GET", e.srv.URL+"/codex-config/acme/codex/config/bundle", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err = e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"eng@v1"`) {
			t.Errorf("carol's bundle: %d %s", resp.StatusCode, body)
		}
		if u, err := e.store.User(ctx, "acme", "carol@acme.test"); err != nil || !slices.Equal(u.Groups, []string{"eng"}) {
			t.Errorf("carol: %+v %v", u, err)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testLogger sends the server's log to the test's.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
