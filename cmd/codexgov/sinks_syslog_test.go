package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/devtls"
	"github.com/codexgov/codexgov/internal/testenv"
)

// TestSyslogSinkRsyslog: a real rsyslogd, listening for syslog over TLS
// (RFC 5425) with a certificate from a private CA, receives every stored
// record of every event type, each an RFC 5424 message whose MSGID is its
// event type and whose MSG is the record.
func TestSyslogSinkRsyslog(t *testing.T) {
	tlsFiles, _, err := devtls.Ensure(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rs := testenv.StartRsyslog(t, tlsFiles.Cert, tlsFiles.Key, tlsFiles.CA)
	m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1, CompliancePushInterval: 100 * time.Millisecond, SinkMaxBackoff: time.Second}
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
	// Without the private CA the receiver's certificate is refused, and
	// the sink says so.
	admin.run(0, "compliance", "sinks", "add", "untrusted", "--kind", "syslog", "--url", "tls://"+rs.Addr, "--event-type", "AUDIT_LOG")
	admin.run(0, "compliance", "sinks", "add", "rsyslog", "--kind", "syslog", "--url", "tls://"+rs.Addr, "--ca-file", tlsFiles.CA)
	for i := range 4 {
		if code := postLogs(t, srvURL, tok.Secret, otlpPrompt(fmt.Sprintf("s-%d", i), fmt.Sprintf("prompt %d ü", i))); code != 200 {
			t.Fatalf("OTLP export: %d", code)
		}
		admin.run(0, "users", "add", fmt.Sprintf("u%d@acme.test", i))
		time.Sleep(150 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		want := storedIDs(t, srvURL, ck.Secret)
		got := map[string]int{}
		bad := ""
		for _, line := range rs.Lines(context.Background()) {
			msgid, msg, _ := strings.Cut(line, " ")
			var rec struct {
				EventID   string `json:"event_id"`
				EventType string `json:"event_type"`
			}
			if err := json.Unmarshal([]byte(msg), &rec); err != nil || rec.EventType != msgid {
				bad = line
				continue
			}
			got[rec.EventID]++
		}
		if bad != "" {
			t.Fatalf("rsyslog received a message that is not a record under its event type: %q", bad)
		}
		diff := sameSet(got, want)
		if diff == "" && len(want) > 8 {
			t.Logf("rsyslog received all %d records over TLS", len(want))
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(rs.Out)
			t.Fatalf("after 30 s: %s\n%s", diff, b)
		}
		time.Sleep(300 * time.Millisecond)
	}
	out, _ := admin.run(0, "compliance", "sinks", "list", "--json")
	var sinks []struct {
		Name      string `json:"name"`
		Delivered int    `json:"delivered"`
		LastError string `json:"last_error"`
		Attempts  int    `json:"attempts"`
	}
	json.Unmarshal([]byte(out), &sinks)
	for _, k := range sinks {
		if k.Name == "untrusted" && (k.Delivered != 0 || k.Attempts == 0 || !strings.Contains(k.LastError, "certificate")) {
			t.Errorf("a sink that cannot trust the receiver: %+v", k)
		}
	}
}
