package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/siem"
	"github.com/codexgov/codexgov/internal/testenv"
)

// receiver collects delivered records by event_id, counting duplicates.
type receiver struct {
	mu       sync.Mutex
	ids      map[string]int
	requests int
	refused  int
	badAuth  int
}

func newReceiver() *receiver { return &receiver{ids: map[string]int{}} }

func (r *receiver) add(raw []byte) {
	var rec struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(raw, &rec) == nil && rec.EventID != "" {
		r.ids[rec.EventID]++
	}
}

func (r *receiver) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.ids))
	for k, v := range r.ids {
		out[k] = v
	}
	return out
}

// hecReceiver is a Splunk HTTP Event Collector as far as codexgov sees
// one: "Authorization: Splunk TOKEN", concatenated event objects, and 503
// "Server is busy" (code 9, with Retry-After) until busyUntil.
func hecReceiver(t *testing.T, token string, busyUntil time.Time) (*receiver, *httptest.Server) {
	r := newReceiver()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if req.URL.Path != "/services/collector/event" {
			http.Error(w, `{"text":"The requested URL was not found on this server.","code":404}`, http.StatusNotFound)
			return
		}
		if req.Header.Get("Authorization") != "Splunk "+token {
			r.badAuth++
			w.WriteHeader(401)
			io.WriteString(w, `{"text":"Invalid authorization","code":3}`)
			return
		}
		if time.Now().Before(busyUntil) {
			r.refused++
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			io.WriteString(w, `{"text":"Server is busy","code":9}`)
			return
		}
		dec := json.NewDecoder(req.Body)
		var batch [][]byte
		for dec.More() {
			var ev struct {
				Time       float64         `json:"time"`
				Sourcetype string          `json:"sourcetype"`
				Event      json.RawMessage `json:"event"`
			}
			if err := dec.Decode(&ev); err != nil || ev.Time == 0 || !strings.HasPrefix(ev.Sourcetype, "codexgov:compliance:") {
				w.WriteHeader(400)
				io.WriteString(w, `{"text":"Invalid data format","code":6}`)
				return
			}
			batch = append(batch, ev.Event)
		}
		for _, b := range batch {
			r.add(b)
		}
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

// webhookReceiver checks each delivery's HMAC-SHA256 signature; status,
// when not 0, is what it answers instead of taking the batch.
func webhookReceiver(t *testing.T, secret string, status int) (*receiver, *httptest.Server) {
	r := newReceiver()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		sig := req.Header.Get("Codexgov-Webhook-Signature")
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		var unix int64
		fmt.Sscan(ts, &unix)
		if sig == "" || siem.Sign([]byte(secret), time.Unix(unix, 0), body) != sig || time.Since(time.Unix(unix, 0)) > 5*time.Minute {
			r.badAuth++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if status != 0 {
			r.refused++
			http.Error(w, "this receiver refuses every batch", status)
			return
		}
		var wb siem.WebhookBody
		if err := json.Unmarshal(body, &wb); err != nil || wb.Delivery == "" || wb.EventType == "" {
			http.Error(w, "bad body", 400)
			return
		}
		for _, rec := range wb.Records {
			r.add(rec)
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

// storedIDs pulls every event type into a new folder and returns the
// event IDs the server holds.
func storedIDs(t *testing.T, srvURL, key string) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	if out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir); code != 0 {
		t.Fatalf("pull: %d %s%s", code, out, errOut)
	}
	ids := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".events.jsonl") {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, line := range bytes.Split(b, []byte("\n")) {
			var rec struct {
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.EventID != "" {
				ids[rec.EventID] = true
			}
		}
	}
	return ids
}

// sameSet says how two sets of event IDs differ, or "".
func sameSet(got map[string]int, want map[string]bool) string {
	missing, extra := 0, 0
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	for id := range got {
		if !want[id] {
			extra++
		}
	}
	if missing == 0 && extra == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d stored records missing, %d delivered that are not stored", missing, len(want), extra)
}

func writeSecret(t *testing.T, secret string) string {
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSinksDeliverEveryRecord, on both databases: a Splunk HEC receiver
// that answers 503 "Server is busy" for its first 3 seconds and a signed
// webhook each receive every stored record of every event type; a
// webhook that refuses every batch (400) gets them all dead-lettered and
// holds back nothing; sinks list shows the counts, the lag and the last
// error.
func TestSinksDeliverEveryRecord(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1, CompliancePushInterval: 100 * time.Millisecond, SinkMaxBackoff: time.Second}
			if backend == "postgres" {
				m.Database = testenv.PostgresSchema(t)
			}
			srvURL, key := startServer(t, m)
			admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
			admin.run(0, "workspaces", "create", "acme")
			admin.run(0, "settings", "set", "--telemetry", "prompts")
			admin.run(0, "users", "add", "ann@acme.test")
			var tok, ck struct {
				Secret string `json:"secret"`
			}
			admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "laptop-7")
			admin.json(&ck, "api-keys", "create", "siem", "--scope", "compliance:read")

			hecToken, hookSecret := "0c9e5b7e-4a55-4bfa-9d1c-6a8f0a2f6f10", strings.Repeat("s3cr3t", 8)
			hec, hecSrv := hecReceiver(t, hecToken, time.Now().Add(3*time.Second))
			hook, hookSrv := webhookReceiver(t, hookSecret, 0)
			refuser, refuserSrv := webhookReceiver(t, hookSecret, 400)
			admin.run(0, "compliance", "sinks", "add", "splunk", "--kind", "splunk_hec", "--url", hecSrv.URL, "--secret-file", writeSecret(t, hecToken))
			admin.run(0, "compliance", "sinks", "add", "hook", "--kind", "webhook", "--url", hookSrv.URL, "--secret-file", writeSecret(t, hookSecret))
			admin.run(0, "compliance", "sinks", "add", "refuser", "--kind", "webhook", "--url", refuserSrv.URL+"/in", "--secret-file", writeSecret(t, hookSecret), "--event-type", "AUDIT_LOG")
			// Bad input names the field and what is valid.
			_, errOut := admin.run(1, "compliance", "sinks", "add", "bad", "--kind", "syslog", "--url", "udp://10.0.0.1:514")
			if !strings.Contains(errOut, "/url") || !strings.Contains(errOut, "tls://HOST:PORT") {
				t.Fatalf("a syslog sink on udp: %s", errOut)
			}

			for i := range 6 {
				if code := postLogs(t, srvURL, tok.Secret, otlpPrompt(fmt.Sprintf("s-%d", i), fmt.Sprintf("prompt %d", i))); code != 200 {
					t.Fatalf("OTLP export: %d", code)
				}
				admin.run(0, "users", "add", fmt.Sprintf("u%d@acme.test", i))
				time.Sleep(150 * time.Millisecond)
			}
			var want map[string]bool
			deadline := time.Now().Add(30 * time.Second)
			for {
				want = storedIDs(t, srvURL, ck.Secret)
				dh, dw := sameSet(hec.snapshot(), want), sameSet(hook.snapshot(), want)
				if dh == "" && dw == "" && len(want) > 12 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 30 s: HEC: %s; webhook: %s", dh, dw)
				}
				time.Sleep(300 * time.Millisecond)
			}
			hec.mu.Lock()
			if hec.refused == 0 || hec.badAuth > 0 {
				t.Errorf("the HEC receiver refused %d requests while busy (want some) and saw %d bad tokens", hec.refused, hec.badAuth)
			}
			hec.mu.Unlock()
			if hook.badAuth > 0 || refuser.badAuth > 0 {
				t.Errorf("webhook signatures failed %d + %d times", hook.badAuth, refuser.badAuth)
			}
			out, _ := admin.run(0, "compliance", "sinks", "list", "--json")
			var sinks []struct {
				Name        string `json:"name"`
				Delivered   int    `json:"delivered"`
				DeadLetters int    `json:"dead_letters"`
				LastError   string `json:"last_error"`
				Lag         struct {
					Records int `json:"records"`
				} `json:"lag"`
			}
			if err := json.Unmarshal([]byte(out), &sinks); err != nil || len(sinks) != 3 {
				t.Fatalf("sinks list: %v\n%s", err, out)
			}
			audit := 0
			for _, k := range sinks {
				switch k.Name {
				case "splunk":
					if k.Delivered < len(want) || !strings.Contains(k.LastError, "Server is busy") || k.Lag.Records != 0 {
						t.Errorf("splunk: %+v", k)
					}
				case "hook":
					if k.Delivered < len(want) || k.DeadLetters != 0 || k.Lag.Records != 0 {
						t.Errorf("hook: %+v", k)
					}
				case "refuser":
					audit = k.DeadLetters
					if k.Delivered != 0 || k.DeadLetters == 0 || k.Lag.Records != 0 || !strings.Contains(k.LastError, "400") {
						t.Errorf("refuser: %+v", k)
					}
				}
			}
			out, _ = admin.run(0, "compliance", "sinks", "dead-letters", "refuser", "--json")
			var dead []struct {
				EventType string `json:"event_type"`
				Count     int    `json:"count"`
			}
			json.Unmarshal([]byte(out), &dead)
			n := 0
			for _, d := range dead {
				if d.EventType != "AUDIT_LOG" {
					t.Errorf("a dead letter of %s; the refuser takes AUDIT_LOG only", d.EventType)
				}
				n += d.Count
			}
			if n != audit || n == 0 {
				t.Errorf("dead letters hold %d records; the sink counts %d", n, audit)
			}
			text, _ := admin.run(0, "compliance", "sinks", "list")
			if !strings.Contains(text, "LAG") || !strings.Contains(text, "0 records") {
				t.Errorf("sinks list:\n%s", text)
			}
			t.Logf("%s: %d records to each sink; HEC refused %d requests while busy; %d records dead-lettered", backend, len(want), hec.refused, n)
		})
	}
}
