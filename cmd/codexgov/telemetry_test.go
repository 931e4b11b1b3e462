package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// capturedAt is when the captured OTLP samples were recorded.
var capturedAt = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

// `codexgov admin events` lists what the receiver stored, stamped with the
// user and the machine whose enrollment token sent it, with its filters.
func TestAdminEvents(t *testing.T) {
	// The server's clock is the samples' capture day, so that they stay
	// inside the retention window whatever day the test runs.
	srvURL, key := startServer(t, &Main{DataDir: t.TempDir(), Now: func() time.Time { return capturedAt }})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "users", "add", "ann@acme.test")
	var tok codexgov.EnrollmentToken
	admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "laptop-7")
	for _, f := range []string{"otlp-logs-batch1.json", "otlp-logs-batch2.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "telemetry", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", srvURL+"/v1/logs", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /v1/logs %s: %d", f, resp.StatusCode)
		}
	}
	var all []codexgov.TelemetryEvent
	admin.json(&all, "events")
	var tools []codexgov.TelemetryEvent
	admin.json(&tools, "events", "--type", "tool_result", "--user", "ann@acme.test", "--since", "87600h")
	if len(all) < 10 || len(tools) != 1 || tools[0].Identity != "user:ann@acme.test" || tools[0].Device != "laptop-7" || tools[0].Data["tool_name"] == nil {
		t.Errorf("%d events, tool results %+v", len(all), tools)
	}
	out, _ := admin.run(0, "events", "--type", "tool_decision")
	if !strings.Contains(out, "user:ann@acme.test") || !strings.Contains(out, "tool_decision") || !strings.Contains(out, "CLAIMS alice@example.com") {
		t.Errorf("events table:\n%s", out)
	}
	if _, errOut := admin.run(2, "events", "--since", "yesterday"); !strings.Contains(errOut, "--since") {
		t.Errorf("a bad --since: %s", errOut)
	}
	var none []codexgov.TelemetryEvent
	admin.json(&none, "events", "--user", "bo@acme.test")
	if len(none) != 0 {
		t.Errorf("bo has %d events", len(none))
	}
}
