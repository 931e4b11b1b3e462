package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "telemetry", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOTLPReceiver: Codex's captured log batches, posted as OTLP/HTTP JSON,
// protobuf and gzip with a user's access token, are stored once (a replay
// adds nothing), stamped with that user; the answer is OTLP's own; a
// request without a credential is 401 with a google.rpc.Status and counted.
// capturedAt is when the captured samples were recorded: the receiver's
// clock in the tests that send them, so that they stay inside the
// retention window whatever the day the tests run.
var capturedAt = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func TestOTLPReceiver(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func() string
	}{{"sqlite", func() string { return filepath.Join(t.TempDir(), "db") }}, {"postgres", func() string { return testenv.PostgresSchema(t) }}} {
		t.Run(db.name, func(t *testing.T) {
			f := newFixtureOn(t, db.dsn())
			f.api.now = func() time.Time { return capturedAt }
			post := func(path, ctype, encoding, token string, body []byte) (*http.Response, []byte) {
				t.Helper()
				req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				if encoding != "" {
					req.Header.Set("Content-Encoding", encoding)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp, b
			}
			token := f.keys["victim/token"]
			var gz bytes.Buffer
			w := gzip.NewWriter(&gz)
			w.Write(sample(t, "otlp-logs-batch3.json"))
			w.Close()
			for _, c := range []struct {
				ctype, encoding string
				body            []byte
			}{
				{"application/json", "", sample(t, "otlp-logs-batch1.json")},
				{"application/json", "", sample(t, "otlp-logs-batch2.json")},
				{"application/json", "gzip", gz.Bytes()},
				{"application/x-protobuf", "", sample(t, "otlp-logs-0005.pb")},
			} {
				resp, body := post("/v1/logs", c.ctype, c.encoding, token, c.body)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype {
					t.Fatalf("%s %s: %d %s %s", c.ctype, c.encoding, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				if c.ctype == "application/json" && strings.Contains(string(body), "rejected") {
					t.Errorf("JSON success body %q rejects records", body)
				}
			}
			evs, err := f.store.TelemetryEvents(context.Background(), "victim", codexgov.TelemetryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]int{}
			for _, e := range evs {
				types[e.Type]++
				if e.Identity != "user:ann@victim.test" || e.Workspace != "victim" || e.Credential != f.ids["victim/token"] {
					t.Errorf("event %s stamped %s/%s/%s, want ann's access token", e.Name, e.Workspace, e.Identity, e.Credential)
				}
				if e.Name != "" && strings.HasPrefix(e.Name, "codex.") && (!e.ClaimMismatch || e.ClaimEmail != "alice@example.com") {
					t.Errorf("%s: the payload's alice@example.com is a claim, flagged against ann", e.Name)
				}
			}
			for _, typ := range []string{codexgov.TelemetrySessionStart, codexgov.TelemetryPrompt, codexgov.TelemetryTokenUsage, codexgov.TelemetryToolDecision, codexgov.TelemetryToolResult} {
				if types[typ] == 0 {
					t.Errorf("no %s stored (%v)", typ, types)
				}
			}
			// A replay is stored once.
			if resp, body := post("/v1/logs", "application/json", "", token, sample(t, "otlp-logs-batch2.json")); resp.StatusCode != 200 {
				t.Fatalf("replay: %d %s", resp.StatusCode, body)
			}
			again, _ := f.store.TelemetryEvents(context.Background(), "victim", codexgov.TelemetryFilter{})
			if len(again) != len(evs) {
				t.Errorf("a replayed batch added %d events", len(again)-len(evs))
			}
			// Another workspace's reader sees none of them.
			if other, _ := f.store.TelemetryEvents(context.Background(), "attacker", codexgov.TelemetryFilter{}); len(other) != 0 {
				t.Errorf("attacker's workspace holds %d of victim's events", len(other))
			}

			// Refusals: no credential, an API key, a bad body, a bad type.
			for _, c := range []struct {
				ctype, token string
				body         []byte
				status       int
			}{
				{"application/json", "", sample(t, "otlp-logs-batch1.json"), 401},
				{"application/x-protobuf", "", sample(t, "otlp-logs-0005.pb"), 401},
				{"application/json", f.keys["victim/full"], sample(t, "otlp-logs-batch1.json"), 403},
				{"application/json", token, []byte(`{"resourceLogs":[{`), 400},
				{"application/x-protobuf", token, []byte("\xff\xff\xff"), 400},
				{"text/plain", token, []byte("x"), 400},
			} {
				resp, body := post("/v1/logs", c.ctype, "", c.token, c.body)
				if resp.StatusCode != c.status || len(body) == 0 {
					t.Errorf("%s token=%t: %d %q, want %d with a Status body", c.ctype, c.token != "", resp.StatusCode, body, c.status)
				}
				if c.ctype == "application/json" && !strings.Contains(string(body), `"code"`) {
					t.Errorf("JSON error body %q is not a google.rpc.Status", body)
				}
			}
			rec, _ := http.Get(f.srv.URL + "/metrics")
			m, _ := io.ReadAll(rec.Body)
			rec.Body.Close()
			if !strings.Contains(string(m), `codexgov_telemetry_rejected_total{reason="unauthorized"} 2`) {
				t.Errorf("unauthenticated OTLP requests not counted:\n%s", grepLines(string(m), "telemetry"))
			}
			// Metrics: the latest value per series, device and day.
			if resp, body := post("/v1/metrics", "application/json", "", token, sample(t, "otlp-metrics-trimmed.json")); resp.StatusCode != 200 {
				t.Fatalf("/v1/metrics: %d %s", resp.StatusCode, body)
			}
			series := 0
			for _, day := range []string{"2026-12-03"} { // the captured turn's day
				ms, _ := f.store.TelemetryMetrics(context.Background(), "victim", day)
				for _, m := range ms {
					series++
					if m.Identity != "user:ann@victim.test" {
						t.Errorf("metric %s stamped %s", m.Name, m.Identity)
					}
				}
			}
			if series < 10 {
				t.Errorf("%d metric series stored from the captured turn", series)
			}
			// Traces: span summaries, in protobuf.
			td := ptrace.NewTraces()
			sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			sp.SetName("run_turn")
			sp.SetTraceID(pcommon.TraceID{9})
			sp.SetSpanID(pcommon.SpanID{7})
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now()))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(time.Second)))
			pb, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
			if resp, body := post("/v1/traces", "application/x-protobuf", "", token, pb); resp.StatusCode != 200 {
				t.Fatalf("/v1/traces: %d %s", resp.StatusCode, body)
			}
			spans, _ := f.store.TelemetrySpans(context.Background(), "victim", "09000000000000000000000000000000")
			if len(spans) != 1 || spans[0].Name != "run_turn" || spans[0].Identity != "user:ann@victim.test" {
				t.Errorf("spans %+v", spans)
			}
			// Both read back through the admin API, and not from another workspace.
			if code, body := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-traces/09000000000000000000000000000000", f.keys["victim/full"], ""); code != 200 || !strings.Contains(body, `"run_turn"`) {
				t.Errorf("GET telemetry-traces: %d %s", code, body)
			}
			if code, body := f.do(t, "GET", "/api/v1/workspaces/attacker/telemetry-traces/09000000000000000000000000000000", f.keys["attacker/full"], ""); code != 200 || strings.Contains(body, "run_turn") {
				t.Errorf("another workspace's traces: %d %s", code, body)
			}
			if code, body := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-metrics?day=2026-12-03", f.keys["victim/full"], ""); code != 200 || !strings.Contains(body, `"codex.turn.token_usage"`) {
				t.Errorf("GET telemetry-metrics: %d %.300s", code, body)
			}
			if code, _ := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-metrics?day=yesterday", f.keys["victim/full"], ""); code != 400 {
				t.Errorf("a bad day: %d, want 400", code)
			}
		})
	}
}

// Twenty planted secrets, sent by Codex in a prompt, a tool's arguments,
// its output and another attribute, never reach the database files in
// clear: SQLite's db, -wal and -shm, and the PostgreSQL table's rows.
func TestPlantedSecretsNeverStored(t *testing.T) {
	var texts []string
	for _, p := range testenv.PlantedSecrets {
		texts = append(texts, p.Text)
	}
	all := strings.Join(texts, "\n")
	str := func(k, v string) map[string]any {
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	}
	record := func(name string, attrs ...map[string]any) map[string]any {
		return map[string]any{"observedTimeUnixNano": "1764750000000000000", "attributes": append([]map[string]any{str("event.name", name), str("conversation.id", "s1"), str("event.timestamp", "2026-12-03T09:00:00.000Z")}, attrs...)}
	}
	batch, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{
		"resource": map[string]any{"attributes": []any{str("host.name", "vm")}},
		"scopeLogs": []any{map[string]any{"scope": map[string]any{"name": "codex_otel.log_only"}, "logRecords": []any{
			record("codex.user_prompt", str("prompt", all), str("prompt_length", "9000")),
			record("codex.tool_result", str("tool_name", "exec_command"), str("call_id", "c1"), str("arguments", `{"cmd":`+strconv.Quote(all)+`}`), str("output", all), str("success", "true")),
			record("codex.api_request", str("error.message", all)),
		}}}}}})
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			dsn := filepath.Join(dir, "codexgov.db")
			if db == "postgres" {
				dsn = testenv.PostgresSchema(t)
			}
			f := newFixtureOn(t, dsn)
			f.api.now = func() time.Time { return capturedAt }
			if code, _ := f.postJSON(t, "/v1/logs", f.keys["victim/token"], batch); code != 200 {
				t.Fatalf("POST /v1/logs: %d", code)
			}
			evs, _ := f.store.TelemetryEvents(context.Background(), "victim", codexgov.TelemetryFilter{})
			if len(evs) != 3 {
				t.Fatalf("%d events stored, want 3", len(evs))
			}
			redactions := 0
			for _, e := range evs {
				if n, ok := e.Data["redactions"].(float64); ok {
					redactions += int(n)
				}
			}
			var stored []byte
			if db == "sqlite" {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					b, _ := os.ReadFile(dsn + suffix)
					stored = append(stored, b...)
				}
			} else {
				pg, err := sql.Open("pgx", dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer pg.Close()
				rows, err := pg.Query(`SELECT t::text FROM telemetry_events t`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					rows.Scan(&s)
					stored = append(stored, s...)
				}
				rows.Close()
			}
			if len(stored) == 0 || !bytes.Contains(stored, []byte("exec_command")) {
				t.Fatalf("the stored bytes do not hold the events (%d bytes)", len(stored))
			}
			for _, p := range testenv.PlantedSecrets {
				if bytes.Contains(stored, []byte(p.Secret)) {
					t.Errorf("%s: planted secret %q is in the database in clear", db, p.Secret)
				}
			}
			t.Logf("%s: %d stored bytes scanned, 20 planted secrets absent, %d redactions recorded", db, len(stored), redactions)
		})
	}
}

// A command Codex ran unsplit that the sender's policy forbids is stored
// as a bypass event naming the rule, and counted as a security event.
func TestBypassFlaggedOnIngest(t *testing.T) {
	f := newFixture(t)
	if _, err := f.store.PutPolicy(actor(), "victim", codexgov.PolicyInput{Name: "policy-victim", Requirements: "[rules]\nprefix_rules = [\n  { pattern = [{ token = \"rm\" }, { token = \"-rf\" }], decision = \"forbidden\", justification = \"no recursive deletes\" },\n]\n"}); err != nil {
		t.Fatal(err)
	}
	f.api.changed(context.Background())
	str := func(k, v string) map[string]any {
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	}
	batch, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": []any{
		map[string]any{"observedTimeUnixNano": fmt.Sprint(time.Now().UnixNano()), "attributes": []any{str("event.name", "codex.tool_result"), str("conversation.id", "s9"),
			str("tool_name", "exec_command"), str("call_id", "c1"), str("success", "true"), str("arguments", `{"cmd":"rm -rf build > /dev/null"}`)}},
		// A year old: past the retention, refused as a partial success.
		map[string]any{"observedTimeUnixNano": fmt.Sprint(time.Now().AddDate(-1, 0, 0).UnixNano()), "attributes": []any{str("event.name", "codex.tool_result"), str("conversation.id", "s-old"),
			str("tool_name", "exec_command"), str("call_id", "c0"), str("success", "true"), str("arguments", `{"cmd":"rm -rf old > /dev/null"}`)}},
	}}}}}})
	code, ack := f.postJSON(t, "/v1/logs", f.keys["victim/token"], batch)
	if code != 200 || !strings.Contains(string(ack), `"rejectedLogRecords":"1"`) || !strings.Contains(string(ack), "outside the window") {
		t.Fatalf("POST /v1/logs: %d %s; want 200 with a partial success rejecting the year-old record", code, ack)
	}
	code, body := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-events?type=bypass", f.keys["victim/full"], "")
	if strings.Contains(body, "s-old") {
		t.Errorf("the year-old record was stored: %s", body)
	}
	if code != 200 || !strings.Contains(body, `"rule": "rm -rf (no recursive deletes)"`) || !strings.Contains(body, `"identity": "user:ann@victim.test"`) || !strings.Contains(body, `"session": "s9"`) {
		t.Errorf("bypass events: %d %s", code, body)
	}
	rec, _ := http.Get(f.srv.URL + "/metrics")
	m, _ := io.ReadAll(rec.Body)
	rec.Body.Close()
	if !strings.Contains(string(m), `codexgov_telemetry_security_events_total{kind="bypass"} 1`) {
		t.Errorf("bypass not counted:\n%s", grepLines(string(m), "telemetry_security"))
	}
}

// The workspace's telemetry settings reach the receiver: its own redaction
// patterns are applied before storage, prompt text is kept (redacted) only
// with telemetry = prompts, and with telemetry_drop_traces traces are
// acknowledged and not kept. Bad patterns are refused by JSON pointer.
func TestTelemetrySettingsApply(t *testing.T) {
	f := newFixture(t)
	full, token := f.keys["victim/full"], f.keys["victim/token"]
	for body, want := range map[string]string{
		`{"telemetry": "verbose"}`:              `/telemetry: \"verbose\" is not a telemetry setting; want off, metadata or prompts`,
		`{"telemetry_redact": ["(unclosed"]}`:   `/telemetry_redact/0: error parsing regexp`,
		`{"telemetry_redact": ["ok-\\d+", ""]}`: `/telemetry_redact/1: a pattern is 1 to 500 bytes`,
		`{"telemetry_redact": ["x*"]}`:          `matches the empty string`,
	} {
		if code, got := f.do(t, "PATCH", "/api/v1/workspaces/victim/settings", full, body); code != 400 || !strings.Contains(got, want) {
			t.Errorf("PATCH %s: %d %s; want 400 naming %q", body, code, got, want)
		}
	}
	if code, got := f.do(t, "PATCH", "/api/v1/workspaces/victim/settings", full, `{"telemetry": "prompts", "telemetry_drop_traces": true, "telemetry_redact": ["ACME-[0-9]{6}"]}`); code != 200 ||
		!strings.Contains(got, `"telemetry_redact": [`) {
		t.Fatalf("PATCH settings: %d %s", code, got)
	}
	str := func(k, v string) map[string]any {
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	}
	now := fmt.Sprint(time.Now().UnixNano())
	logs, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": []any{
		map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.user_prompt"), str("conversation.id", "s1"), str("prompt", "ship order ACME-123456 today")}},
		map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.tool_result"), str("conversation.id", "s1"), str("tool_name", "exec_command"), str("output", "order ACME-654321 done")}},
	}}}}}})
	traces, _ := json.Marshal(map[string]any{"resourceSpans": []any{map[string]any{"scopeSpans": []any{map[string]any{"spans": []any{
		map[string]any{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "turn", "startTimeUnixNano": now, "endTimeUnixNano": now},
	}}}}}})
	for path, body := range map[string][]byte{"/v1/logs": logs, "/v1/traces": traces} {
		if code, _ := f.postJSON(t, path, token, body); code != 200 {
			t.Fatalf("POST %s: %d", path, code)
		}
	}
	_, got := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-events?session=s1", full, "")
	if strings.Contains(got, "123456") || strings.Contains(got, "654321") || strings.Count(got, "[REDACTED:custom]") != 2 || !strings.Contains(got, "ship order [REDACTED:custom] today") {
		t.Errorf("the workspace's pattern was not applied, or the prompt text not kept: %s", got)
	}
	if code, got := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-traces/5b8efff798038103d269b633813fc60c", full, ""); code != 200 || strings.TrimSpace(got) != "[]" {
		t.Errorf("traces kept with telemetry_drop_traces: %d %s", code, got)
	}
}

// postJSON posts an OTLP/JSON export with a bearer credential and returns
// the status and body.
func (f *fixture) postJSON(t *testing.T, path, bearer string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
