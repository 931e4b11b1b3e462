package httpapi

import (
	"encoding/json"
	"fmt"
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

// Lists come a page at a time: ?limit, an opaque cursor in
// Codexgov-Next-Cursor and a Link rel="next", nothing lost or repeated;
// bad paging parameters are 400.
func TestListsArePaginated(t *testing.T) {
	f := newFixture(t)
	key := f.keys["victim/full"]
	for i := range 7 {
		if code, body := f.do(t, "POST", "/api/v1/workspaces/victim/users", key, fmt.Sprintf(`{"email":"u%d@victim.test"}`, i)); code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
	}
	var all []string
	next := "/api/v1/workspaces/victim/users?limit=3"
	pages := 0
	for next != "" {
		req, _ := http.NewRequest("GET", f.srv.URL+next, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var users []struct{ Email string }
		json.NewDecoder(resp.Body).Decode(&users)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(users) > 3 {
			t.Fatalf("page %d: %d, %d users", pages, resp.StatusCode, len(users))
		}
		for _, u := range users {
			all = append(all, u.Email)
		}
		pages++
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			if resp.Header.Get(NextCursorHeader) == "" || !strings.HasSuffix(link, `>; rel="next"`) {
				t.Fatalf("Link %q without a cursor header", link)
			}
			next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
	}
	_, whole := f.do(t, "GET", "/api/v1/workspaces/victim/users", key, "")
	var want []struct{ Email string }
	json.Unmarshal([]byte(whole), &want)
	if pages != 3 || len(all) != len(want) || len(all) != 8 {
		t.Errorf("%d pages, %d users (%v); want 3 pages of the 8 users", pages, len(all), all)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if seen[e] || e != want[i].Email {
			t.Errorf("paged list %v differs from the whole list %v", all, want)
			break
		}
		seen[e] = true
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "after=bogus", "after=" + "bzotMQ"} {
		if code, body := f.do(t, "GET", "/api/v1/workspaces/victim/users?"+q, key, ""); code != 400 {
			t.Errorf("?%s: %d %s, want 400", q, code, body)
		}
	}
}
