package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
)

// TestServerSecurityRecords: what the server itself sees becomes
// CODEX_SECURITY_LOG records — a 403 on a client route (ACCESS_DENIED), a
// revoked telemetry token used (REVOKED_CREDENTIAL_USED), and a device
// whose last fetch is past the 72-hour threshold (DEVICE_DRIFTED, once per
// episode, dated when it crossed) — each naming the caller's workspace,
// identity and address.
func TestServerSecurityRecords(t *testing.T) {
	var skew atomic.Int64
	m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1, RecordInterval: 50 * time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	srvURL, key := startServer(t, m)
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "settings", "set", "--telemetry", "metadata")
	admin.run(0, "users", "add", "ann@acme.test")
	admin.run(0, "users", "add", "bo@acme.test")
	var enr, ck, wk struct {
		Secret string `json:"secret"`
		ID     string `json:"id"`
	}
	admin.json(&enr, "enrollment-tokens", "issue", "--user", "bo@acme.test", "--name", "bo-laptop")
	admin.json(&ck, "api-keys", "create", "siem", "--scope", "compliance:read")
	admin.json(&wk, "api-keys", "create", "ops", "--scope", "admin:read")

	// A workspace API key on a client route: 403.
	req, _ := http.NewRequest("GET", srvURL+"/api/v1/client/requirements", nil)
	req.Header.Set("Authorization", "Bearer "+wk.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("an API key on a client route: %d", resp.StatusCode)
	}
	// A telemetry token used after its user was deactivated: 401.
	tt, err := client.New(srvURL, key).MintTelemetryToken(context.Background(), "acme", codexgov.TelemetryTokenMint{User: "ann@acme.test", Device: "ann-mac"})
	if err != nil {
		t.Fatal(err)
	}
	admin.run(0, "users", "deactivate", "ann@acme.test")
	time.Sleep(300 * time.Millisecond)
	if code := postLogs(t, srvURL, tt.Token, otlpPrompt("s-dead", "p")); code != 401 {
		t.Fatalf("a dead telemetry token: %d, want 401", code)
	}
	// Bo's machine fetches its bundle, then is not heard from for 73 hours.
	resp, err = http.Get(srvURL + "/codex-config/enroll/" + enr.Secret + "/codex/config/bundle")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bundle: %d", resp.StatusCode)
	}
	time.Sleep(300 * time.Millisecond)
	skew.Store(int64(73 * time.Hour))

	want := map[string]func(map[string]any) string{
		"ACCESS_DENIED": func(r map[string]any) string {
			d := r["event_details"].(map[string]any)
			if !strings.Contains(d["route"].(string), "/api/v1/client/requirements") || r["request_metadata"].(map[string]any)["client_ip"] != "127.0.0.1" {
				return "route or address"
			}
			return ""
		},
		"REVOKED_CREDENTIAL_USED": func(r map[string]any) string {
			if r["actor"].(map[string]any)["user_email"] != "ann@acme.test" || r["event_details"].(map[string]any)["credential_type"] != "telemetry_token" {
				return "actor or credential type"
			}
			return ""
		},
		"DEVICE_DRIFTED": func(r map[string]any) string {
			d := r["event_details"].(map[string]any)
			if r["actor"].(map[string]any)["user_email"] != "bo@acme.test" || d["stale_after"] != "72h0m0s" || d["last_fetch"] == "" {
				return "actor or threshold"
			}
			return ""
		},
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		dir := t.TempDir()
		if out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", ck.Secret, "-w", "acme", "--out", dir, "--event-type", "CODEX_SECURITY_LOG"); code != 0 {
			t.Fatalf("pull: %d %s%s", code, out, errOut)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "CODEX_SECURITY_LOG.events.jsonl"))
		seen := map[string]int{}
		problems := []string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) != nil {
				continue
			}
			kind := r["event_details"].(map[string]any)["detail_type"].(string)
			seen[kind]++
			if check := want[kind]; check != nil {
				if p := check(r); p != "" {
					problems = append(problems, kind+": "+p+": "+line)
				}
			}
		}
		if len(problems) > 0 {
			t.Fatalf("security records:\n%s", strings.Join(problems, "\n"))
		}
		if seen["ACCESS_DENIED"] >= 1 && seen["REVOKED_CREDENTIAL_USED"] >= 1 && seen["DEVICE_DRIFTED"] == 1 {
			t.Logf("security records: %v", seen)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s the security records are %v:\n%s", seen, b)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Two hours on, the drift job runs again: the episode is not recorded
	// twice.
	skew.Store(int64(75 * time.Hour))
	time.Sleep(time.Second)
	dir := t.TempDir()
	if out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", ck.Secret, "-w", "acme", "--out", dir, "--event-type", "CODEX_SECURITY_LOG"); code != 0 {
		t.Fatalf("pull: %d %s%s", code, out, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "CODEX_SECURITY_LOG.events.jsonl"))
	if n := strings.Count(string(b), `"DEVICE_DRIFTED"`); n != 2 { // detail_type and type
		t.Fatalf("after the drift job ran again, DEVICE_DRIFTED appears %d times (want one record):\n%s", n, b)
	}
}
