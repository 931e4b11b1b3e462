package telemetry

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/codexgov/codexgov"
)

func load(t *testing.T, name string) plogotlp.ExportRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if strings.HasSuffix(name, ".pb") {
		err = req.UnmarshalProto(b)
	} else {
		err = req.UnmarshalJSON(b)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// The captured batches of one real `codex exec` turn (Codex 0.169.0, a
// ChatGPT sign-in claiming user.email) normalise into typed events,
// stamped from the sender, the claim kept and flagged when it differs.
func TestNormalizeCapturedTurn(t *testing.T) {
	from := Sender{Workspace: "acme", Identity: "user:ana@acme.test", Credential: "at_1", Device: ""}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var evs []codexgov.TelemetryEvent
	for _, f := range []string{"otlp-logs-batch1.json", "otlp-logs-batch2.json", "otlp-logs-batch3.json"} {
		evs = append(evs, Normalize(load(t, f).Logs(), from, now)...)
	}
	byType := map[string][]codexgov.TelemetryEvent{}
	ids := map[string]bool{}
	for _, e := range evs {
		byType[e.Type] = append(byType[e.Type], e)
		if ids[e.ID] {
			t.Errorf("two events share ID %s", e.ID)
		}
		ids[e.ID] = true
		if e.Workspace != "acme" || e.Identity != "user:ana@acme.test" || e.Credential != "at_1" {
			t.Errorf("%s not stamped from the sender: %+v", e.Name, e)
		}
		if e.Time.IsZero() || e.Time.Year() < 2026 && e.Name != "" {
			t.Errorf("%s: time %v (Codex leaves timeUnixNano at 0; event.timestamp is the time)", e.Name, e.Time)
		}
	}
	for _, typ := range []string{codexgov.TelemetrySessionStart, codexgov.TelemetryPrompt, codexgov.TelemetryAPIRequest, codexgov.TelemetryTokenUsage, codexgov.TelemetryToolDecision, codexgov.TelemetryToolResult} {
		if len(byType[typ]) == 0 {
			t.Errorf("no %s event in the captured turn", typ)
		}
	}
	if len(byType[codexgov.TelemetryTokenUsage]) > 0 {
		u := byType[codexgov.TelemetryTokenUsage][0]
		in, out, total := u.Data["input_tokens"], u.Data["output_tokens"], u.Data["total_tokens"]
		if in == nil || out == nil || total == nil || total.(int64) < in.(int64)+out.(int64)-1 {
			t.Errorf("token usage %+v: tool_token_count is the total", u.Data)
		}
	}
	for _, e := range byType[codexgov.TelemetryToolResult] {
		if e.Data["tool_name"] == nil || e.Data["success"] == nil || e.Data["arguments_length"] == 0 {
			t.Errorf("tool result %+v", e.Data)
		}
		// The command is kept (bypass detection reads it), redacted.
		if e.Attributes["arguments"] != `{"cmd": "echo codexgov-tool-ok"}` {
			t.Errorf("tool arguments %v", e.Attributes["arguments"])
		}
	}
	for _, e := range byType[codexgov.TelemetryPrompt] {
		if _, ok := e.Attributes["prompt"]; ok {
			t.Errorf("prompt text kept: %v", e.Attributes["prompt"])
		}
	}
	for _, e := range evs {
		if e.Session == "" && strings.HasPrefix(e.Name, "codex.") {
			t.Errorf("%s without a session", e.Name)
		}
		// The captured turn was signed in as alice@example.com: a claim
		// kept, and flagged, since the credential is ana's.
		if strings.HasPrefix(e.Name, "codex.") && (e.ClaimEmail != "alice@example.com" || !e.ClaimMismatch) {
			t.Errorf("%s: claim %q flagged %t, want alice@example.com flagged", e.Name, e.ClaimEmail, e.ClaimMismatch)
		}
	}

	// The same batch sent again gives the same IDs; another sender other IDs.
	again := Normalize(load(t, "otlp-logs-batch2.json").Logs(), from, now.Add(time.Hour))
	other := Normalize(load(t, "otlp-logs-batch2.json").Logs(), Sender{Workspace: "acme", Identity: "user:bo@acme.test", Credential: "at_2"}, now)
	for i := range again {
		if !ids[again[i].ID] {
			t.Errorf("replayed %s got a new ID", again[i].Name)
		}
		if ids[other[i].ID] {
			t.Errorf("another sender's %s shares an ID", other[i].Name)
		}
	}
	// Protobuf batches decode the same way.
	if pb := Normalize(load(t, "otlp-logs-0005.pb").Logs(), from, now); len(pb) == 0 || pb[0].Type != codexgov.TelemetryAPIRequest {
		t.Errorf("protobuf batch: %+v", pb)
	}
}

// A claim that names the credential's own user is not flagged.
func TestClaimMatchingTheCredential(t *testing.T) {
	evs := Normalize(load(t, "otlp-logs-batch1.json").Logs(), Sender{Workspace: "acme", Identity: "user:Alice@Example.com", Credential: "at_1"}, time.Now())
	for _, e := range evs {
		if e.ClaimMismatch {
			t.Errorf("%s flagged although the claim is the credential's user", e.Name)
		}
	}
}
