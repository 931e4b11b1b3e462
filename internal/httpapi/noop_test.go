package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// A write that changes nothing writes no audit row and leaves the state
// version alone (so no replica rebuilds), and answers the unchanged object
// with Codexgov-Change: none.
func TestNoOpWritesAreNotAudited(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		key := f.keys["victim/full"]
		ws := "/api/v1/workspaces/victim"
		// Set a known state first: these are real changes.
		for _, c := range []struct{ method, path, body string }{
			{"PATCH", ws + "/settings", `{"allow_device_code_login":true}`},
			{"PATCH", ws + "/users/ann@victim.test", `{"name":"Ann"}`},
		} {
			if code, body := f.do(t, c.method, c.path, key, c.body); code != 200 {
				t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
			}
		}
		for _, c := range []struct{ method, path, body, want string }{
			{"PATCH", ws + "/settings", `{}`, `"allow_device_code_login": true`},
			{"PATCH", ws + "/settings", `{"allow_device_code_login":true}`, `"allow_device_code_login": true`},
			{"PATCH", ws + "/users/ann@victim.test", `{}`, `"name": "Ann"`},
			{"PATCH", ws + "/users/ann@victim.test", `{"name":"Ann","active":true}`, `"name": "Ann"`},
			{"PUT", ws + "/groups/eng-victim/members/ann@victim.test", ``, `"ann@victim.test"`},
			{"PUT", ws + "/groups/eng-victim/roles/role-victim", ``, `"role-victim"`},
		} {
			events := f.auditCount(t)
			version, err := f.store.Version(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(c.method, f.srv.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				b.WriteString(string(buf[:n]))
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(b.String(), c.want) || resp.Header.Get(ChangeHeader) != "none" {
				t.Errorf("%s %s %s: %d %s=%q %s, want 200 with %s and %s: none", c.method, c.path, c.body, resp.StatusCode, ChangeHeader, resp.Header.Get(ChangeHeader), b.String(), c.want, ChangeHeader)
			}
			if n := f.auditCount(t); n != events {
				t.Errorf("%s %s %s: %d audit events written, want none", c.method, c.path, c.body, n-events)
			}
			if v, _ := f.store.Version(context.Background()); v != version {
				t.Errorf("%s %s %s: state version %d -> %d, want unchanged", c.method, c.path, c.body, version, v)
			}
		}
	})
}

func (f *fixture) auditCount(t *testing.T) int {
	t.Helper()
	code, body := f.do(t, "GET", "/api/v1/workspaces/victim/audit-events?limit=1000", f.keys["victim/full"], "")
	if code != 200 {
		t.Fatalf("audit events: %d %s", code, body)
	}
	return strings.Count(body, `"action"`)
}
