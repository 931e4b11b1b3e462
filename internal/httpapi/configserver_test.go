package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/snapshot"
)

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type oauthFlow struct {
	t        *testing.T
	f        *fixture
	ws       string
	verifier string
	redirect string
}

func newFlow(t *testing.T, f *fixture, ws string) *oauthFlow {
	return &oauthFlow{t: t, f: f, ws: ws, verifier: strings.Repeat("v", 43) + "erifier-" + ws, redirect: "http://127.0.0.1:41234/callback"}
}

func (o *oauthFlow) challenge() string {
	sum := sha256.Sum256([]byte(o.verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (o *oauthFlow) authorizeQuery() url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {"codex-cli"}, "redirect_uri": {o.redirect},
		"code_challenge": {o.challenge()}, "code_challenge_method": {"S256"}, "state": {"st4te"}, "scope": {"codex.config offline_access"}}
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func post(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var requestFieldRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

// code signs in with secret on the sign-in page and returns the code.
func (o *oauthFlow) code(secret string) string {
	o.t.Helper()
	base := o.f.srv.URL + "/codex-config/" + o.ws + "/oauth"
	resp, page := get(o.t, base+"/authorize?"+o.authorizeQuery().Encode())
	m := requestFieldRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		o.t.Fatalf("authorize: %d %s", resp.StatusCode, page)
	}
	resp, page = post(o.t, base+"/sign-in/access-token", url.Values{"request": {html.UnescapeString(m[1])}, "secret": {secret}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("state") != "st4te" || loc.Query().Get("code") == "" {
		o.t.Fatalf("sign-in: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	return loc.Query().Get("code")
}

func (o *oauthFlow) token(form url.Values) (int, configserver.TokenResponse, configserver.TokenError) {
	o.t.Helper()
	form.Set("client_id", "codex-cli")
	resp, body := post(o.t, o.f.srv.URL+"/codex-config/"+o.ws+"/oauth/token", form)
	var ok configserver.TokenResponse
	var bad configserver.TokenError
	json.Unmarshal([]byte(body), &ok)
	json.Unmarshal([]byte(body), &bad)
	if resp.Header.Get("Cache-Control") != "no-store" {
		o.t.Errorf("token response without Cache-Control: no-store")
	}
	return resp.StatusCode, ok, bad
}

func (o *oauthFlow) exchange(code string) (int, configserver.TokenResponse, configserver.TokenError) {
	return o.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o.redirect}, "code_verifier": {o.verifier}})
}

func (o *oauthFlow) refresh(rt string) (int, configserver.TokenResponse, configserver.TokenError) {
	return o.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (o *oauthFlow) bundle(access string) (int, string) {
	return o.f.do(o.t, "GET", "/codex-config/"+o.ws+"/codex/config/bundle", access, "")
}

func TestOAuthCodeExchange(t *testing.T) {
	f := newFixture(t)
	o := newFlow(t, f, "victim")

	// PKCE, redirect URI and client must match what the code was issued for.
	code := o.code(f.keys["victim/token"])
	good := o.verifier
	o.verifier = strings.Repeat("x", 50)
	if st, _, e := o.exchange(code); st != 400 || e.Error != "invalid_grant" || !strings.Contains(e.Description, "code_verifier") {
		t.Errorf("wrong verifier: %d %+v", st, e)
	}
	// A failed check does not use the code up.
	o.verifier = good
	o.redirect = "http://127.0.0.1:1/callback"
	if st, _, e := o.exchange(code); st != 400 || e.Error != "invalid_grant" || !strings.Contains(e.Description, "redirect_uri") {
		t.Errorf("wrong redirect: %d %+v", st, e)
	}
	o.redirect = "http://127.0.0.1:41234/callback"
	st, tok, _ := o.exchange(code)
	if st != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || !strings.HasPrefix(tok.RefreshToken, codexgov.RefreshTokenPrefix) || tok.Scope != "codex.config offline_access" {
		t.Fatalf("exchange: %d %+v", st, tok)
	}
	if st, body := o.bundle(tok.AccessToken); st != 200 || !strings.Contains(body, `"id":"policy-victim@v1"`) {
		t.Fatalf("bundle: %d %s", st, body)
	}

	// Using a code twice revokes the sign-in made with it (RFC 6749 §4.1.2).
	if st, _, e := o.exchange(code); st != 400 || e.Error != "invalid_grant" {
		t.Errorf("reused code: %d %+v", st, e)
	}
	gs, _ := f.store.OAuthGrants(context.Background(), "victim")
	if len(gs) != 1 || gs[0].RevokeReason != "code_reuse" {
		t.Fatalf("after code reuse: %+v", gs)
	}
	if st, _ := o.bundle(tok.AccessToken); st != 401 {
		t.Errorf("the revoked sign-in's access token still works: %d", st)
	}
	if st, _, e := o.refresh(tok.RefreshToken); st != 400 || e.Error != "invalid_grant" {
		t.Errorf("the revoked sign-in's refresh token: %d %+v", st, e)
	}
}

func TestOAuthRefreshRotation(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.store.Now = func() time.Time { return now }
	f.api.now = func() time.Time { return now }
	o := newFlow(t, f, "victim")
	_, first, _ := o.exchange(o.code(f.keys["victim/token"]))

	st, second, _ := o.refresh(first.RefreshToken)
	if st != 200 || second.RefreshToken == first.RefreshToken || second.Scope != "codex.config offline_access" {
		t.Fatalf("refresh: %d %+v", st, second)
	}
	// The token just rotated out still works within the grace period: a
	// client whose response was lost must not be stranded.
	now = now.Add(time.Minute)
	st, third, _ := o.refresh(first.RefreshToken)
	if st != 200 {
		t.Fatalf("previous token within the grace period: %d", st)
	}
	// Past the grace period, an old token is a stolen copy: the sign-in is
	// revoked, for the thief and the owner alike.
	now = now.Add(configserver.RefreshGrace + time.Second)
	st, _, e := o.refresh(second.RefreshToken)
	if st != 400 || e.Error != "invalid_grant" {
		t.Fatalf("reused old refresh token: %d %+v", st, e)
	}
	if st, _, _ := o.refresh(third.RefreshToken); st != 400 {
		t.Errorf("the current token after reuse detection: %d", st)
	}
	evs, _ := f.store.AuditEvents(context.Background(), "victim", codexgov.AuditFilter{Limit: 1})
	if evs[0].Action != "oauth_grant.revoke" || evs[0].Actor != "system:refresh_reuse" {
		t.Errorf("reuse revocation not audited: %+v", evs[0])
	}

	// (Signed in now: the user's access token expires within the hour.)
	_, tok, _ := o.exchange(o.code(f.keys["victim/token"]))
	// Rotated-out tokens are remembered for a month: an older one is just
	// unknown (still invalid_grant) and no longer revokes the sign-in.
	_, t0, _ := o.exchange(o.code(f.keys["victim/token"]))
	_, t1, _ := o.refresh(t0.RefreshToken)
	now = now.Add(31 * 24 * time.Hour)
	_, t2, _ := o.refresh(t1.RefreshToken)
	if st, _, e := o.refresh(t0.RefreshToken); st != 400 || !strings.Contains(e.Description, "not valid") {
		t.Errorf("a token rotated out over a month ago: %d %+v", st, e)
	}
	if st, _, _ := o.refresh(t2.RefreshToken); st != 200 {
		t.Errorf("the current token after a forgotten one came back: %d", st)
	}

	// A sign-in unused for longer than its idle lifetime is dead.
	now = now.Add(configserver.DefaultRefreshIdle + time.Hour)
	if st, _, e := o.refresh(tok.RefreshToken); st != 400 || e.Error != "invalid_grant" || !strings.Contains(e.Description, "unused") {
		t.Errorf("idle sign-in: %d %+v", st, e)
	}
}

// TestOAuthTransientFaults: a database fault is 503, which Codex retries,
// never invalid_grant, which would strand it until codex logout.
func TestOAuthTransientFaults(t *testing.T) {
	f := newFixture(t)
	o := newFlow(t, f, "victim")
	_, tok, _ := o.exchange(o.code(f.keys["victim/token"]))
	f.store.Close()
	st, _, e := o.refresh(tok.RefreshToken)
	if st != 503 || e.Error != "temporarily_unavailable" {
		t.Errorf("refresh with the database down: %d %+v", st, e)
	}
	// The bundle keeps serving from the snapshot.
	if st, _ := o.bundle(tok.AccessToken); st != 200 {
		t.Errorf("bundle with the database down: %d", st)
	}
}

func TestOAuthAuthorizeErrors(t *testing.T) {
	f := newFixture(t)
	o := newFlow(t, f, "victim")
	base := f.srv.URL + "/codex-config/victim/oauth/authorize?"
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		// redirect: the error goes back to Codex; otherwise a page.
		redirect string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "evil") }, ""},
		{"non-loopback redirect", func(q url.Values) { q.Set("redirect_uri", "http://evil.test:80/callback") }, ""},
		{"https redirect", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1:1/callback") }, ""},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"token flow", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "admin") }, "invalid_scope"},
		{"other resource", func(q url.Values) { q.Set("resource", "https://h/codex-config/attacker") }, "invalid_target"},
	} {
		q := o.authorizeQuery()
		tc.change(q)
		resp, body := get(t, base+q.Encode())
		loc, _ := url.Parse(resp.Header.Get("Location"))
		switch {
		case tc.redirect == "" && (resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, "Codex sign-in failed")):
			t.Errorf("%s: want an error page, got %d %q", tc.name, resp.StatusCode, resp.Header.Get("Location"))
		case tc.redirect != "" && (resp.StatusCode != 302 || loc.Query().Get("error") != tc.redirect || loc.Query().Get("state") != "st4te"):
			t.Errorf("%s: want a redirect with error=%s, got %d %q", tc.name, tc.redirect, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// The sign-in page refuses another workspace's token and a made-up one
	// without issuing a code, and Cancel goes back to Codex as access_denied.
	resp, page := get(t, base+o.authorizeQuery().Encode())
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("sign-in page: %d, headers %v", resp.StatusCode, resp.Header)
	}
	sealed := html.UnescapeString(requestFieldRE.FindStringSubmatch(page)[1])
	for _, secret := range []string{f.keys["attacker/token"], f.keys["victim/full"], "cgt_madeup"} {
		resp, body := post(t, f.srv.URL+"/codex-config/victim/oauth/sign-in/access-token", url.Values{"request": {sealed}, "secret": {secret}})
		if resp.StatusCode != 401 || resp.Header.Get("Location") != "" || !strings.Contains(body, "not valid") {
			t.Errorf("sign-in with %.8s…: %d %q", secret, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A sealed request is bound to its workspace.
	if resp, _ := post(t, f.srv.URL+"/codex-config/attacker/oauth/sign-in/access-token", url.Values{"request": {sealed}, "secret": {f.keys["attacker/token"]}}); resp.StatusCode != 400 {
		t.Errorf("another workspace's sealed request: %d", resp.StatusCode)
	}
	resp, _ = post(t, f.srv.URL+"/codex-config/victim/oauth/sign-in/deny", url.Values{"request": {sealed}})
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" {
		t.Errorf("cancel: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "" {
		t.Errorf("a redirect carries a page's CSP: %q", csp)
	}
}

// TestConfigServerIsolation: a credential of one workspace never reads
// another's bundle, and a bad one is 401 without any workspace's data.
func TestConfigServerIsolation(t *testing.T) {
	f := newFixture(t)
	a := newFlow(t, f, "attacker")
	_, tok, _ := a.exchange(a.code(f.keys["attacker/token"]))
	v := newFlow(t, f, "victim")
	parts := strings.SplitN(tok.AccessToken, ".", 2)
	for name, access := range map[string]string{
		"another workspace's access token": tok.AccessToken,
		"a tampered access token":          parts[0] + "x." + parts[1],
		"an API key":                       f.keys["victim/full"],
		"a user access token":              f.keys["victim/token"],
		"none":                             "",
	} {
		st, body := v.bundle(access)
		if st != 401 || strings.Contains(body, "victim") {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	// The attacker's refresh token means nothing at the victim's endpoint.
	if st, _, e := v.refresh(tok.RefreshToken); st != 400 || e.Error != "invalid_grant" {
		t.Errorf("another workspace's refresh token: %d %+v", st, e)
	}
	// An enrollment token reads its own identity's bundle only.
	ctx := actor()
	secret, id, hash := codexgov.NewSecret(codexgov.EnrollmentTokenPrefix)
	if _, err := f.store.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: id, Workspace: "attacker", User: "ann@attacker.test", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	f.api.Rebuild(context.Background())
	if st, body := f.do(t, "GET", "/codex-config/enroll/"+secret+"/codex/config/bundle", "", ""); st != 200 || !strings.Contains(body, "policy-attacker") || strings.Contains(body, "victim") {
		t.Errorf("enrollment bundle: %d %s", st, body)
	}
	// It authenticates (codexgov sync uses it on the client routes), but
	// another workspace does not exist for it and its own admin routes
	// are closed.
	if st, _ := f.do(t, "GET", "/api/v1/workspaces/victim/devices", secret, ""); st != 404 {
		t.Errorf("an enrollment token on another workspace's admin route: %d", st)
	}
	if st, _ := f.do(t, "GET", "/api/v1/workspaces/attacker/devices", secret, ""); st != 403 {
		t.Errorf("an enrollment token on its own workspace's admin route: %d", st)
	}
	if st, body := f.do(t, "GET", "/api/v1/client/requirements", secret, ""); st != 200 || strings.Contains(body, "victim") {
		t.Errorf("an enrollment token's own requirements: %d %s", st, body)
	}
	if st, _ := f.do(t, "GET", "/codex-config/enroll/"+secret+"x/codex/config/bundle", "", ""); st != 401 {
		t.Errorf("an unknown enrollment token: %d", st)
	}
	// The attacker's devices are not the victim's.
	f.api.FlushDeliveries(context.Background())
	st, body := f.do(t, "GET", "/api/v1/workspaces/victim/devices", f.keys["victim/full"], "")
	if st != 200 || strings.Contains(body, id) {
		t.Errorf("victim's devices: %d %s", st, body)
	}
}

type flakyWriter struct {
	fail  bool
	calls int
	rows  map[string]codexgov.Delivery
}

func (w *flakyWriter) RecordDeliveries(_ context.Context, ds []codexgov.Delivery) error {
	w.calls++
	if w.fail {
		return errors.New("database down")
	}
	for _, d := range ds {
		if old, ok := w.rows[d.Device]; ok {
			d.FirstFetch, d.Fetches = old.FirstFetch, old.Fetches+d.Fetches
		}
		w.rows[d.Device] = d
	}
	return nil
}

func TestRecorderCoalescesAndBounds(t *testing.T) {
	w := &flakyWriter{rows: map[string]codexgov.Delivery{}}
	r := configserver.NewRecorder(w, 4)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 1000 {
		r.Record(codexgov.Delivery{Workspace: "w", Device: "d1", BundleHash: "h", LastFetch: t0.Add(time.Duration(i) * time.Second)})
	}
	r.Record(codexgov.Delivery{Workspace: "w", Device: "d2", LastFetch: t0})
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w.calls != 1 || len(w.rows) != 2 || w.rows["d1"].Fetches != 1000 || !w.rows["d1"].FirstFetch.Equal(t0) || !w.rows["d1"].LastFetch.Equal(t0.Add(999*time.Second)) {
		t.Fatalf("1000 fetches of one device: %d writes, rows %+v", w.calls, w.rows)
	}
	// The database is down: records wait, merged with newer ones, within
	// the bound; what does not fit is counted as dropped.
	w.fail = true
	for _, d := range []string{"a", "b", "c", "d", "e", "f"} {
		r.Record(codexgov.Delivery{Workspace: "w", Device: d, LastFetch: t0})
	}
	if r.Pending() != 4 || r.Dropped.Load() != 2 {
		t.Fatalf("bound: pending %d, dropped %d", r.Pending(), r.Dropped.Load())
	}
	if err := r.Flush(context.Background()); err == nil {
		t.Fatal("flush to a down database succeeded")
	}
	r.Record(codexgov.Delivery{Workspace: "w", Device: "a", LastFetch: t0.Add(time.Hour)})
	w.fail = false
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := w.rows["a"]; a.Fetches != 2 || !a.FirstFetch.Equal(t0) || !a.LastFetch.Equal(t0.Add(time.Hour)) || len(w.rows) != 6 {
		t.Fatalf("after recovery: %+v (%d rows)", a, len(w.rows))
	}
}

// A sync report is checked field by field, named by JSON pointer; the
// identity comes from the credential, never from the body.
func TestSyncReportValidation(t *testing.T) {
	f := newFixture(t)
	ctx := actor()
	secret, id, hash := codexgov.NewSecret(codexgov.EnrollmentTokenPrefix)
	if _, err := f.store.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: id, Workspace: "victim", Service: "ci", Groups: []string{}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	f.api.Rebuild(context.Background())
	st, body := f.do(t, "POST", "/api/v1/client/sync-reports", secret, `{"machine_id":"x","applied_hash":"md5:1","result":"great","hostname":"ok","future_field":1}`)
	if st != 400 {
		t.Fatalf("bad report: %d %s", st, body)
	}
	for _, field := range []string{"/machine_id", "/applied_hash", "/result"} {
		if !strings.Contains(body, `"field": "`+field+`"`) {
			t.Errorf("no detail for %s: %s", field, body)
		}
	}
	long := strings.Repeat("é", 800)
	st, body = f.do(t, "POST", "/api/v1/client/sync-reports", secret, `{"machine_id":"machine-0001","identity":"user:boss@victim","result":"failed","error":"`+long+`","future_field":1}`)
	if st != 204 {
		t.Fatalf("good report (with an unknown field from a newer agent): %d %s", st, body)
	}
	ms, err := f.store.SyncMachines(context.Background(), "victim")
	if err != nil || len(ms) != 1 || ms[0].Identity != "service:ci" || ms[0].Credential != id || len(ms[0].Error) > 1004 || !utf8.ValidString(ms[0].Error) {
		t.Fatalf("stored: %+v %v", ms, err)
	}
}

// With the workspace's telemetry on, an OAuth sign-in's bundle carries a
// second requirements fragment, codexgov-telemetry, whose [otel] block
// holds a telemetry token minted for that sign-in: the receiver stamps its
// events with the user and the sign-in, and refuses it once the sign-in
// is revoked. The policy's own fragment is unchanged.
func TestOAuthBundleCarriesTelemetry(t *testing.T) {
	f := newFixtureWith(t, filepath.Join(t.TempDir(), "db"), Options{TelemetryURL: "https://codexgov.test"})
	if code, body := f.do(t, "PATCH", "/api/v1/workspaces/victim/settings", f.keys["victim/full"], `{"telemetry": "metadata"}`); code != 200 {
		t.Fatalf("settings: %d %s", code, body)
	}
	o := newFlow(t, f, "victim")
	_, tok, _ := o.exchange(o.code(f.keys["victim/token"]))
	st, body := o.bundle(tok.AccessToken)
	var b snapshot.BundleResponse
	if st != 200 || json.Unmarshal([]byte(body), &b) != nil || len(b.Requirements.EnterpriseManaged) != 2 {
		t.Fatalf("bundle: %d %s", st, body)
	}
	policy, otel := b.Requirements.EnterpriseManaged[0], b.Requirements.EnterpriseManaged[1]
	if policy.ID != "policy-victim@v1" || strings.Contains(policy.Contents, "otel") || otel.ID != snapshot.TelemetryFragmentID ||
		!strings.Contains(otel.Contents, `endpoint = "https://codexgov.test/v1/logs"`) || !strings.Contains(otel.Contents, "log_user_prompt = false") {
		t.Fatalf("fragments: %+v", b.Requirements.EnterpriseManaged)
	}
	secret := regexp.MustCompile(`Bearer (cgo_[^"]+)`).FindStringSubmatch(otel.Contents)[1]
	send := func() int {
		batch := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"observedTimeUnixNano":"` + fmt.Sprint(time.Now().UnixNano()) + `","attributes":[{"key":"event.name","value":{"stringValue":"codex.user_prompt"}}]}]}]}]}`
		code, _ := f.postJSON(t, "/v1/logs", secret, []byte(batch))
		return code
	}
	if code := send(); code != 200 {
		t.Fatalf("the bundle's telemetry token: %d", code)
	}
	gs, _ := f.store.OAuthGrants(context.Background(), "victim")
	_, evs := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-events", f.keys["victim/full"], "")
	if len(gs) != 1 || !strings.Contains(evs, `"credential": "`+gs[0].ID+`"`) || !strings.Contains(evs, `"identity": "user:ann@victim.test"`) {
		t.Errorf("events: %s (sign-ins %+v)", evs, gs)
	}
	// A second sign-in leaves the first one's token working; revoking the
	// first sign-in ends it.
	o.exchange(o.code(f.keys["victim/token"]))
	if code := send(); code != 200 {
		t.Fatalf("another sign-in revoked this one's token: %d", code)
	}
	if code, body := f.do(t, "DELETE", "/api/v1/workspaces/victim/oauth-grants/"+gs[0].ID, f.keys["victim/full"], ""); code >= 300 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code := send(); code != 401 {
		t.Errorf("the revoked sign-in's telemetry token: %d", code)
	}
}
