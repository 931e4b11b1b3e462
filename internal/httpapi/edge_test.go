package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/codexgov/codexgov"
)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// A workspace in a path is checked before anything is built from it: no
// request text can make a redirect leave the server (browsers read /\host
// as //host).
func TestNoOpenRedirect(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{
		"/ui/..%2f%5cevil.example",
		"/ui/..%2f%2fevil.example",
		"/ui/%5c%5cevil.example",
		"/ui/%2f%2fevil.example",
		"/ui/..%5cevil.example/sign-in",
		"/ui/victim%2f..%2f..%2f%5cevil.example",
	} {
		resp, err := noRedirect.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d Location %q, want 404", p, resp.StatusCode, loc)
		}
		if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || strings.Contains(loc, "evil") {
			t.Errorf("GET %s: redirects off the server to %q", p, loc)
		}
	}
	// A real workspace still redirects to its own sign-in page.
	resp, err := noRedirect.Get(f.srv.URL + "/ui/victim")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/victim/sign-in" {
		t.Errorf("GET /ui/victim: %d %q, want 302 /ui/victim/sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The Bearer scheme is case-insensitive (RFC 7235 §2.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	f := newFixture(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/workspaces/victim/users", nil)
		req.Header.Set("Authorization", scheme+" "+f.keys["victim/full"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200", scheme, resp.StatusCode)
		}
	}
	for _, h := range []string{"Basic " + f.keys["victim/full"], "Bearer", "Bearer ", f.keys["victim/full"]} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/workspaces/victim/users", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %.12q…: %d, want 401", h, resp.StatusCode)
		}
	}
}

// Text PostgreSQL cannot hold (a NUL byte, invalid UTF-8) and numbers above
// its INTEGER columns are refused at the edge with 400 naming the field, on
// both databases alike; invalid UTF-8 is refused, not replaced with U+FFFD.
func TestUnstorableInputIsRefusedAtTheEdge(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		key := f.keys["victim/full"]
		ws := "/api/v1/workspaces/victim"
		for _, c := range []struct {
			method, path, body, field string
		}{
			{"GET", ws + "/users/ann%00@victim.test", "", "{email}"},
			{"GET", ws + "/users/ann%ff@victim.test", "", "{email}"},
			{"GET", ws + "/groups/eng%00", "", "{group}"},
			{"DELETE", ws + "/api-keys/k%c3%28", "", "{id}"},
			{"POST", ws + "/users", `{"email":"bob\u0000@victim.test"}`, "/email"},
			{"POST", ws + "/users", "{\"email\":\"bob@victim.test\",\"name\":\"B\xffb\"}", "/name"},
			{"POST", ws + "/roles", "{\"name\":\"r\",\"permissions\":[\"codex_local\",\"x\xc3\"]}", "/permissions/1"},
			{"POST", ws + "/groups", `{"name":"ops","description":"a\u0000b"}`, "/description"},
			{"PUT", ws + "/policies/p1", `{"requirements":"# \u0000\n"}`, "/requirements"},
			{"GET", ws + "/policies/policy-victim?version=2147483648", "", "?version"},
			{"GET", ws + "/telemetry-events?identity=a%00b", "", "?identity"},
			{"GET", ws + "/telemetry-events?session=%FF%FE", "", "?session"},
			{"GET", ws + "/lookup?user=ann%00@victim.test", "", "?user"},
			{"GET", ws + "/policies/policy-victim?version=99999999999999999999", "", "?version"},
			{"GET", ws + "/policies/policy-victim/diff?from=1&to=4294967296", "", "?to"},
			{"GET", ws + "/policies/policy-victim/diff?from=2147483648", "", "?from"},
		} {
			code, body := f.do(t, c.method, c.path, key, c.body)
			if code != http.StatusBadRequest || !strings.Contains(body, `"field": "`+c.field+`"`) {
				t.Errorf("%s %s %q: %d %s, want 400 naming %q", c.method, c.path, c.body, code, body, c.field)
			}
		}
		// Nothing was stored.
		if code, body := f.do(t, "GET", ws+"/users", key, ""); code != 200 || strings.Contains(body, "bob") {
			t.Errorf("users after refused writes: %d %s", code, body)
		}
		// The largest version the columns hold is a plain not-found.
		if code, body := f.do(t, "GET", ws+"/policies/policy-victim?version=2147483647", key, ""); code != http.StatusNotFound {
			t.Errorf("version 2147483647: %d %s, want 404", code, body)
		}
	})
}

// A malformed or oversized form is the caller's error: 400, never 500.
func TestFormRoutesRefuseBadForms(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		huge := "a=" + strings.Repeat("x", maxFormBytes+1)
		for _, path := range []string{"/device", "/device/approve", "/device/decide", "/ui/victim/settings", "/ui/victim/sign-out", "/oauth/device/code", "/oauth/token"} {
			for _, body := range []string{"a=%zz", "user_code=%", huge, "user_code=" + url.QueryEscape("AB\x00CD"), "user_code=%ff%fe"} {
				resp, err := http.Post(f.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("POST %s %.20q: %d, want 400", path, body, resp.StatusCode)
				}
			}
		}
	})
}

// A client that disconnects is not a server error: its request is recorded
// as 499 in the metrics, logged at debug level, never at ERROR.
func TestClientGoneIsNotAServerError(t *testing.T) {
	f := newFixture(t)
	var logs strings.Builder
	f.api.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone before the database answers
	for _, path := range []string{"/api/v1/workspaces/victim/users", "/api/v1/workspaces/victim/audit-events", "/scim/v2/Users"} {
		req := httptest.NewRequestWithContext(ctx, "GET", "http://127.0.0.1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+f.keys["victim/full"])
		rec := httptest.NewRecorder()
		f.api.ServeHTTP(rec, req)
		if rec.Code != StatusClientClosedRequest {
			t.Errorf("GET %s with the client gone: %d, want 499", path, rec.Code)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "client closed the request") {
		t.Errorf("logs:\n%s", logs.String())
	}
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `code="499"`) || strings.Contains(rec.Body.String(), `code="500"`) {
		t.Errorf("metrics count the disconnect as:\n%s", grepLines(rec.Body.String(), "codexgov_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Without --public-url the Host header never becomes a link: the surfaces
// that build links answer only loopback requests; with one, links use it
// whatever the Host says.
func TestHostHeaderNeverBecomesALink(t *testing.T) {
	f := newFixture(t)
	send := func(method, path, body, ctype string, auth bool) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		req.Host = "evil.example"
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+f.keys["victim/full"])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Location")
	}
	cases := []struct {
		method, path, body, ctype string
		auth                      bool
	}{
		{"GET", "/scim/v2/ServiceProviderConfig", "", "", true},
		{"GET", "/scim/v2/Users", "", "", true},
		{"POST", "/oauth/device/code", "client_id=codexgov-cli&workspace=victim", "application/x-www-form-urlencoded", false},
		{"GET", "/ui/victim/sign-in", "", "", false},
		{"GET", "/ui/victim", "", "", false},
		{"GET", "/device", "", "", false},
	}
	for _, c := range cases {
		code, body, loc := send(c.method, c.path, c.body, c.ctype, c.auth)
		if code != http.StatusBadRequest || !strings.Contains(body, "public-url") || strings.Contains(body, "http://evil.example") || strings.Contains(loc, "evil") {
			t.Errorf("%s %s with Host evil.example: %d Location %q %.300s, want 400 asking for --public-url", c.method, c.path, code, loc, body)
		}
	}
	// With a public URL, links use it.
	f.api.publicURL = "https://codexgov.corp.example"
	code, body, _ := send("GET", "/scim/v2/ServiceProviderConfig", "", "", true)
	if code != 200 || strings.Contains(body, "evil.example") || !strings.Contains(body, "https://codexgov.corp.example/scim/v2") {
		t.Errorf("with a public URL: %d %.300s", code, body)
	}
}

// POST /signing-keys takes no body: one sent is refused, not ignored.
func TestRotateSigningKeyRefusesABody(t *testing.T) {
	f := newFixture(t)
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	if _, err := f.store.CreateAPIKey(actor(), codexgov.APIKey{ID: id, Name: "server", Scopes: []codexgov.Scope{codexgov.ScopeServerAdmin}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	f.api.changed(context.Background())
	for _, body := range []string{`{"kid":"mine","private_key":"…"}`, `x`, `{}`} {
		if code, out := f.do(t, "POST", "/api/v1/signing-keys", secret, body); code != 400 {
			t.Errorf("POST /signing-keys %s: %d %s, want 400", body, code, out)
		}
	}
	code, out := f.do(t, "GET", "/api/v1/signing-keys", secret, "")
	if code != 200 || strings.Count(out, `"kid"`) != 1 {
		t.Errorf("after refused rotations: %d %s, want the one key", code, out)
	}
	if code, out := f.do(t, "POST", "/api/v1/signing-keys", secret, ""); code != 201 {
		t.Errorf("POST /signing-keys with no body: %d %s", code, out)
	}
	// Plain HTTP answers carry no HSTS header (it only means something
	// over HTTPS).
	resp, err := http.Get(f.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}
}
