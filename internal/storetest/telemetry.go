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
