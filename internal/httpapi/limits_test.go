package httpapi

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/testenv"
)

// TestRateLimits: unauthenticated routes are limited per client address
// and per workspace, authenticated ones per credential (one key cannot
// starve another), with 429 and Retry-After; health and metrics are not
// limited; pending device sign-ins are capped per workspace.
func TestRateLimits(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func() string
	}{{"sqlite", func() string { return filepath.Join(t.TempDir(), "db") }}, {"postgres", func() string { return testenv.PostgresSchema(t) }}} {
		t.Run(db.name, func(t *testing.T) { testRateLimits(t, db.dsn) })
	}
}

func testRateLimits(t *testing.T, dsn func() string) {
	{
		post := func(f *fixture, path, form string) *http.Response {
			t.Helper()
			resp, err := http.Post(f.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		// Per address: 2/s with a burst of 6.
		f := newFixtureWith(t, dsn(), Options{Limits: &Limits{PerAddress: 2}})
		var codes []int
		for range 10 {
			codes = append(codes, post(f, "/oauth/device/code", "client_id=codexgov-cli").StatusCode)
		}
		resp := post(f, "/oauth/device/code", "client_id=codexgov-cli")
		if codes[0] != 200 || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("per address: %v then %d Retry-After %q, want 200s then 429 with Retry-After", codes, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		for range 50 {
			if r, err := http.Get(f.srv.URL + "/healthz"); err != nil || r.StatusCode != 200 {
				t.Fatalf("/healthz is limited: %v %v", r, err)
			} else {
				r.Body.Close()
			}
		}

		// Per workspace, from any address: 1/s with a burst of 3.
		f = newFixtureWith(t, dsn(), Options{Limits: &Limits{PerWorkspace: 1}})
		limited := 0
		for range 8 {
			if post(f, "/oauth/device/code", "client_id=codexgov-cli&workspace=victim").StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 || post(f, "/oauth/device/code", "client_id=codexgov-cli&workspace=attacker").StatusCode == http.StatusTooManyRequests {
			t.Errorf("per workspace: %d of 8 limited for victim; another workspace must not be", limited)
		}

		// Per credential: 2/s with a burst of 6; another key is unaffected.
		f = newFixtureWith(t, dsn(), Options{Limits: &Limits{PerCredential: 2}})
		last := 0
		for range 10 {
			last, _ = f.do(t, "GET", "/api/v1/workspaces/victim/users", f.keys["victim/full"], "")
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("per credential: the 10th quick request answered %d, want 429", last)
		}
		if code, _ := f.do(t, "GET", "/api/v1/workspaces/victim/users", f.keys["victim/read-only"], ""); code != 200 {
			t.Errorf("another key of the same workspace: %d, want 200", code)
		}

		// Pending device sign-ins are capped per workspace.
		f = newFixtureWith(t, dsn(), Options{Limits: &Limits{}})
		for i := range sqlstore.MaxPendingDeviceAuthorizations {
			if r := post(f, "/oauth/device/code", "client_id=codexgov-cli&workspace=attacker"); r.StatusCode != 200 {
				t.Fatalf("device code %d: %d", i, r.StatusCode)
			}
		}
		if r := post(f, "/oauth/device/code", "client_id=codexgov-cli&workspace=attacker"); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("device code beyond the pending cap: %d, want 429", r.StatusCode)
		}
		if r := post(f, "/oauth/device/code", "client_id=codexgov-cli&workspace=victim"); r.StatusCode != 200 {
			t.Errorf("another workspace's device code: %d, want 200", r.StatusCode)
		}
	}
}
