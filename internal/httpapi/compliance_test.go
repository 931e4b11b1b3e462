package httpapi

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// The Compliance API allows 100 requests a minute per workspace and
// route, as OpenAI's: the 101st is 429 with Retry-After, naming the limit;
// another route and another workspace keep their own budgets.
func TestComplianceRateLimit(t *testing.T) {
	f := newFixtureWith(t, filepath.Join(t.TempDir(), "db"), Options{Limits: &Limits{PerCredential: 1000}})
	path := "/v1/compliance/workspaces/victim/max_event_time?event_type=CODEX_LOG"
	key := f.keys["victim/full"]
	for i := range 100 {
		if code, body := f.do(t, "GET", path, key, ""); code != 200 {
			t.Fatalf("request %d: %d %s", i+1, code, body)
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("request 101: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code, body := f.do(t, "GET", "/v1/compliance/workspaces/victim/codex_tasks", key, ""); code != 200 {
		t.Errorf("another route: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/v1/compliance/workspaces/attacker/max_event_time?event_type=CODEX_LOG", f.keys["attacker/full"], ""); code != 200 {
		t.Errorf("another workspace: %d %s", code, body)
	}
	if _, body := f.do(t, "GET", path, key, ""); !strings.Contains(body, "100 requests a minute") {
		t.Errorf("the 429 does not name the limit: %s", body)
	}
}
