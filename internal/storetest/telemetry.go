package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// testTelemetry: events are stored once per ID (a replay adds nothing and
// no audit event or version bump), kept apart per workspace, read back
// whole (typed data, raw attributes, text as sent) and filtered.
func testTelemetry(t *testing.T, s codexgov.Store) {
	ctx := context.Background()
	base := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var evs []codexgov.TelemetryEvent
	for i := range 450 { // more than one multi-row insert
		typ := codexgov.TelemetryAPIRequest
		if i%3 == 0 {
			typ = codexgov.TelemetryToolResult
		}
		evs = append(evs, codexgov.TelemetryEvent{ID: fmt.Sprintf("tev_%04d", i), Workspace: "a", Identity: "user:ann@example.com", Credential: "et_1",
			Device: "laptop-7", Time: base.Add(time.Duration(i) * time.Second), ReceivedAt: base.Add(time.Hour), Type: typ, Name: "codex.x",
			Session: fmt.Sprintf("s%d", i%2), Surface: "codex_exec", Model: "gpt-x", Host: "vm", ClaimEmail: "eve@example.com", ClaimMismatch: i == 7,
			Data: map[string]any{"n": i, "tool_name": "exec_command"}, Attributes: map[string]any{"k": "ünïcode ✓", "n": float64(i)}})
	}
	evs = append(evs, codexgov.TelemetryEvent{ID: "tev_b", Workspace: "b", Identity: "user:bo@example.com", Credential: "et_2", Time: base, ReceivedAt: base, Type: codexgov.TelemetryOther, Name: "x",
		Attributes: map[string]any{}})
	v0, _ := s.Version(ctx)
	n, err := s.AppendTelemetry(ctx, evs)
	if err != nil || n != len(evs) {
		t.Fatalf("append: %d, %v; want %d", n, err, len(evs))
	}
	if n, err := s.AppendTelemetry(ctx, evs[:10]); err != nil || n != 0 {
		t.Errorf("a replay stored %d, %v; want 0", n, err)
	}
	if v, _ := s.Version(ctx); v != v0 {
		t.Errorf("telemetry moved the state version %d -> %d", v0, v)
	}
	got, err := s.TelemetryEvents(ctx, "a", codexgov.TelemetryFilter{})
	if err != nil || len(got) != 450 {
		t.Fatalf("read: %d, %v", len(got), err)
	}
	first := got[0]
	if first.ID != "tev_0449" || !first.Time.Equal(base.Add(449*time.Second)) || first.Device != "laptop-7" || first.Attributes["k"] != "ünïcode ✓" || first.Data["tool_name"] != "exec_command" {
		t.Errorf("newest event read back as %+v", first)
	}
	for _, e := range got {
		if e.Workspace != "a" || strings.HasPrefix(e.Identity, "user:bo") {
			t.Errorf("workspace a read %+v", e)
		}
	}
	if f, _ := s.TelemetryEvents(ctx, "a", codexgov.TelemetryFilter{Type: codexgov.TelemetryToolResult, Session: "s0", Since: base.Add(100 * time.Second), Until: base.Add(200 * time.Second), Limit: 5}); len(f) != 5 {
		t.Errorf("filtered: %d events, want 5", len(f))
	} else {
		for _, e := range f {
			if e.Type != codexgov.TelemetryToolResult || e.Session != "s0" || e.Time.Before(base.Add(100*time.Second)) || !e.Time.Before(base.Add(200*time.Second)) {
				t.Errorf("filter let through %+v", e)
			}
		}
	}
	if b, _ := s.TelemetryEvents(ctx, "b", codexgov.TelemetryFilter{Identity: "user:ann@example.com"}); len(b) != 0 {
		t.Errorf("workspace b shows ann's events: %d", len(b))
	}
}

// testTelemetryMetricsAndSpans: a series keeps its latest value of the
// day; spans are stored once; both kept apart per workspace.
func testTelemetryMetricsAndSpans(t *testing.T, s codexgov.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	m := codexgov.TelemetryMetric{Workspace: "a", Day: "2026-12-03", Identity: "user:ann@example.com", Credential: "et_1", Device: "laptop-7",
		Name: "codex.tool.call", Attributes: `{"sandbox":"read-only"}`, Kind: "sum", Value: 3, Time: t0}
	later, earlier := m, m
	later.Value, later.Time = 5, t0.Add(time.Hour)
	earlier.Value, earlier.Time = 1, t0.Add(-time.Hour)
	other := m
	other.Workspace = "b"
	for _, batch := range [][]codexgov.TelemetryMetric{{m}, {later}, {earlier}, {other}} {
		if err := s.UpsertTelemetryMetrics(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TelemetryMetrics(ctx, "a", "2026-12-03")
	if err != nil || len(got) != 1 || got[0].Value != 5 || !got[0].Time.Equal(t0.Add(time.Hour)) || got[0].Device != "laptop-7" {
		t.Fatalf("series: %+v, %v; want the latest value 5", got, err)
	}
	sp := codexgov.TelemetrySpan{Workspace: "a", TraceID: "t1", SpanID: "s1", Name: "run_turn", Start: t0, Duration: 1500 * time.Millisecond, Status: "ok", Identity: "user:ann@example.com", Credential: "et_1"}
	if n, err := s.AppendTelemetrySpans(ctx, []codexgov.TelemetrySpan{sp, sp}); err != nil || n != 1 {
		t.Fatalf("spans stored %d, %v; want 1", n, err)
	}
	spans, _ := s.TelemetrySpans(ctx, "a", "t1")
	if len(spans) != 1 || spans[0].Duration != 1500*time.Millisecond || spans[0].Name != "run_turn" {
		t.Errorf("spans %+v", spans)
	}
	if b, _ := s.TelemetrySpans(ctx, "b", "t1"); len(b) != 0 {
		t.Errorf("workspace b sees a's spans")
	}
}
