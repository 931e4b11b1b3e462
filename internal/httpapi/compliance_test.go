package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
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

// A download outlasts the request deadline: an 8 MiB file read by a
// client that pauses past the database timeout (1 s here) still arrives
// whole, each chunk read and written under its own deadline.
func TestComplianceDownloadOutlastsDeadline(t *testing.T) {
	f := newFixtureWith(t, filepath.Join(t.TempDir(), "db"), Options{Limits: &Limits{}, DBTimeout: time.Second})
	body := bytes.Repeat([]byte(`{"event_type":"AUDIT_LOG","pad":"0123456789abcdef0123456789abcdef"}`+"\n"), 8<<20/68)
	sum := sha256.Sum256(body)
	file := &codexgov.ComplianceFile{ID: "file_big", Workspace: "victim", EventType: "AUDIT_LOG", Seq: 1, EndTime: time.Now(), StartTime: time.Now(),
		FileName: "big.jsonl", FileSize: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Manifest: []byte("{}"), Cursor: "0/0"}
	if err := f.store.PutComplianceFile(actor(), file, body); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/compliance/workspaces/victim/logs/file_big", nil)
	req.Header.Set("Authorization", "Bearer "+f.keys["victim/full"])
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || resp.StatusCode != 307 {
		t.Fatalf("redirect: %v %v", err, resp)
	}
	resp.Body.Close()
	dl, err := http.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(dl.Body, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the 1 s deadline
	rest, err := io.ReadAll(dl.Body)
	if err != nil {
		t.Fatalf("the download was cut: %v after %d bytes", err, len(head)+len(rest))
	}
	got := sha256.Sum256(append(head, rest...))
	if len(head)+len(rest) != len(body) || got != sum {
		t.Errorf("downloaded %d bytes (sha256 ok %v) of %d", len(head)+len(rest), got == sum, len(body))
	}
}
