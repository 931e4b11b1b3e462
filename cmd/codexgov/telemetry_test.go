package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
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
	post := func(f string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "telemetry", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if code := postLogs(t, srvURL, tok.Secret, b); code != 200 {
			t.Fatalf("POST /v1/logs %s: %d", f, code)
		}
	}
	// events --follow prints what arrives while it runs, each event once.
	followEvery = 100 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	var followed syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"admin", "--server", srvURL, "--token", key, "--workspace", "acme", "events", "--follow", "--json"}, strings.NewReader(""), &followed, &followed)
	}()
	post("otlp-logs-batch1.json")
	post("otlp-logs-batch2.json")
	post("otlp-logs-batch2.json") // a replay: stored and printed once
	var all []codexgov.TelemetryEvent
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		admin.json(&all, "events")
		if strings.Count(followed.String(), "\n") >= len(all) && strings.Contains(followed.String(), `"type":"tool_decision"`) {
			break
		}
	}
	stop()
	if code := <-done; code != 0 {
		t.Errorf("events --follow: exit %d after Ctrl-C\n%s", code, followed.String())
	}
	ids := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(followed.String()), "\n") {
		var ev codexgov.TelemetryEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events --follow --json printed %q: %v", line, err)
		}
		ids[ev.ID]++
	}
	if len(ids) != len(all) {
		t.Errorf("events --follow printed %d distinct events; the store holds %d", len(ids), len(all))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("events --follow printed %s %d times", id, n)
		}
	}
	// activity summarises the captured session.
	var sessions []codexgov.SessionActivity
	admin.json(&sessions, "activity", "--since", "87600h")
	if len(sessions) != 1 || sessions[0].Identity != "user:ann@acme.test" || sessions[0].Device != "laptop-7" || sessions[0].Surface == "" || sessions[0].Model == "" ||
		sessions[0].Prompts != 1 || sessions[0].Tokens == 0 || sessions[0].ToolCalls == 0 || sessions[0].Approvals == 0 {
		t.Errorf("activity: %+v", sessions)
	}
	if out, _ := admin.run(0, "activity", "--since", "87600h"); !strings.Contains(out, "laptop-7") || !strings.Contains(out, "PROMPTS") {
		t.Errorf("activity table:\n%s", out)
	}
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

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The OTLP/gRPC receiver (--otlp-grpc-addr) takes the same credentials as
// OTLP/HTTP from the authorization metadata, stores the same events, and
// answers OTLP's gRPC statuses: no credential → Unauthenticated, an API
// key → PermissionDenied.
func TestOTLPGRPC(t *testing.T) {
	m := &Main{DataDir: t.TempDir(), OTLPGRPCAddr: "127.0.0.1:0", Now: func() time.Time { return capturedAt }}
	srvURL, key := startServer(t, m)
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "users", "add", "ann@acme.test")
	var tok codexgov.EnrollmentToken
	admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "grpc-box")
	conn, err := grpc.NewClient(m.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "telemetry", "testdata", "otlp-logs-0005.pb"))
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(b); err != nil {
		t.Fatal(err)
	}
	logs := plogotlp.NewGRPCClient(conn)
	export := func(bearer string) error {
		ctx := context.Background()
		if bearer != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
		}
		_, err := logs.Export(ctx, req, grpc.UseCompressor("gzip"))
		return err
	}
	if err := export(tok.Secret); err != nil {
		t.Fatalf("export with the enrollment token: %v", err)
	}
	var evs []codexgov.TelemetryEvent
	admin.json(&evs, "events")
	if len(evs) == 0 {
		t.Fatal("nothing stored from OTLP/gRPC")
	}
	for _, ev := range evs {
		if ev.Identity != "user:ann@acme.test" || ev.Device != "grpc-box" || ev.Credential != tok.ID {
			t.Errorf("stamped %s %s %s", ev.Identity, ev.Device, ev.Credential)
		}
	}
	if err := export(tok.Secret); err != nil {
		t.Fatal(err)
	}
	var again []codexgov.TelemetryEvent
	admin.json(&again, "events")
	if len(again) != len(evs) {
		t.Errorf("a replayed gRPC batch: %d events, then %d", len(evs), len(again))
	}
	if c := status.Code(export("")); c != codes.Unauthenticated {
		t.Errorf("no credential: %v", c)
	}
	if c := status.Code(export(key)); c != codes.PermissionDenied {
		t.Errorf("an API key: %v", c)
	}
	if c := status.Code(export("cge_forged")); c != codes.Unauthenticated {
		t.Errorf("a forged token: %v", c)
	}
	t.Logf("%d events stored over OTLP/gRPC (gzip)", len(evs))
}

// postLogs sends an OTLP/JSON logs export with a bearer credential and
// returns the status.
func postLogs(t *testing.T, server, bearer string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", server+"/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
