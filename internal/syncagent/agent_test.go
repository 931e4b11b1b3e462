package syncagent

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/signing"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Interval: 5 * time.Minute, Min: 10 * time.Second}
	for i := 0; i < 200; i++ {
		if d := b.Next(0); d < 270*time.Second || d > 330*time.Second {
			t.Fatalf("after a success: %s, want 5m ±10%%", d)
		}
		if d := b.Next(1); d < 5*time.Second || d > 10*time.Second {
			t.Fatalf("first retry: %s, want 5s to 10s", d)
		}
		if d := b.Next(3); d < 20*time.Second || d > 40*time.Second {
			t.Fatalf("third retry: %s, want 20s to 40s", d)
		}
		if d := b.Next(30); d < 150*time.Second || d > 5*time.Minute {
			t.Fatalf("many failures: %s, want at most the interval", d)
		}
	}
}

// A document the server signed that Codex would refuse (the real server
// never stores one; a compromised or buggy one might serve it) is refused
// like a bad signature: nothing changes.
func TestValidationRefusal(t *testing.T) {
	var mk signing.MasterKey
	rand.Read(mk[:])
	k := signing.NewSigningKey(mk, time.Now())
	signer, err := signing.NewSigner(mk, []*codexgov.SigningKey{&k})
	if err != nil {
		t.Fatal(err)
	}
	req := "allowed_sandbox_modes = [\"read-only\"]\n"
	var reports []codexgov.SyncReport
	reportStatus := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body string
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			w.Header().Set(signing.SignatureHeader, strings.Join(signer.JWKSSignatures(), ", "))
			w.Write(signer.JWKS())
			return
		case "/api/v1/client/requirements":
			body = req
		case "/api/v1/client/defaults":
		case "/api/v1/client/sync-reports":
			var rep codexgov.SyncReport
			json.NewDecoder(r.Body).Decode(&rep)
			reports = append(reports, rep)
			w.WriteHeader(reportStatus)
			if reportStatus != http.StatusNoContent {
				w.Write([]byte(`{"code":"invalid","message":"invalid sync report","details":[{"field":"/machine_id","message":"want 8 to 128 characters"}]}`))
			}
			return
		}
		sig, _ := signer.Sign([]byte(body))
		w.Header().Set(signing.SignatureHeader, sig)
		w.Header().Set("Etag", `"`+codexgov.BodyHash([]byte(body))+`"`)
		w.Header().Set("Codexgov-Policy", "p")
		w.Header().Set("Codexgov-Policy-Version", "1")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	etc := t.TempDir()
	a, err := New(Config{Client: client.New(srv.URL, "cge_x"), Etc: etc, State: filepath.Join(t.TempDir(), "state"), MachineID: "test-machine"})
	if err != nil {
		t.Fatal(err)
	}
	if o := a.RunOnce(context.Background()); o.Result != codexgov.SyncApplied || !o.Reported {
		t.Fatalf("first run: %+v", o)
	}
	// The report names the keys the machine pinned, so the server does not
	// retire a key the machine trusts alone.
	if len(reports) != 1 || len(reports[0].PinnedKIDs) != 1 || reports[0].PinnedKIDs[0] != k.KID {
		t.Errorf("report pinned kids: %+v, want [%s]", reports, k.KID)
	}
	// A report the server refuses is the run's failure to report.
	reportStatus = http.StatusBadRequest
	if o := a.RunOnce(context.Background()); o.ReportRefused == nil || o.Reported {
		t.Errorf("refused report: %+v", o)
	}
	reportStatus = http.StatusNoContent
	req = "allowed_sandbox_modes = [\"workspace-write\"]\n" // no read-only: Codex refuses to start
	o := a.RunOnce(context.Background())
	if o.Result != codexgov.SyncRefused || !strings.Contains(o.Err.Error(), "would refuse to start") || !strings.Contains(o.Err.Error(), "read-only") {
		t.Fatalf("invalid policy: %+v", o)
	}
	if b, _ := os.ReadFile(filepath.Join(etc, RequirementsFile)); string(b) != "allowed_sandbox_modes = [\"read-only\"]\n" {
		t.Errorf("the file changed: %q", b)
	}
}
