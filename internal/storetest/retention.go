package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// testRetentionAndHolds moves the clock past each event type's retention:
// what is past it expires, except what an active legal hold covers (a
// user's files and events; a whole workspace), and a released hold no
// longer keeps anything. Holds are audited.
func testRetentionAndHolds(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	must(s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{ComplianceRetention: map[string]int{"CODEX_LOG": 1, "CODEX_SECURITY_LOG": 1}}))
	if _, err := s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{ComplianceRetention: map[string]int{"CODEX_LOG": 4000}}); code(err) != codexgov.EINVALID {
		t.Errorf("4000 days of retention: %v", err)
	}
	seq := map[string]int64{}
	file := func(ws, typ, actors string) string {
		seq[ws+typ]++
		id := fmt.Sprintf("file_%s_%s_%d", ws, typ, seq[ws+typ])
		f := &codexgov.ComplianceFile{ID: id, Workspace: ws, EventType: typ, Seq: seq[ws+typ], EndTime: t0, StartTime: t0, FileName: id + ".jsonl",
			Manifest: []byte("{}"), Cursor: "0/x", Actors: actors, EventCount: 1, FileSize: 3}
		if err := s.PutComplianceFile(ctx, f, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		return id
	}
	annFile := file("a", "CODEX_LOG", "\nann@example.com\n")
	boFile := file("a", "CODEX_LOG", "\nbo@example.com\n")
	auditFile := file("a", "AUDIT_LOG", "\nadmin@example.com\n")
	heldWS := file("b", "CODEX_LOG", "\nbo@example.com\n")
	ev := func(ws, who string) codexgov.TelemetryEvent {
		return codexgov.TelemetryEvent{ID: "tev_ret_" + ws + who, Workspace: ws, Identity: "user:" + who, Credential: "enr_1", Time: t0, ReceivedAt: t0, Type: codexgov.TelemetryOther, Name: "x", Attributes: map[string]any{}}
	}
	if _, err := s.AppendTelemetry(ctx, []codexgov.TelemetryEvent{ev("a", "ann@example.com"), ev("a", "bo@example.com"), ev("b", "bo@example.com")}); err != nil {
		t.Fatal(err)
	}
	span := func(ws, who string) codexgov.TelemetrySpan {
		return codexgov.TelemetrySpan{Workspace: ws, TraceID: "trace-ret", SpanID: ws + who, Name: "turn", Start: t0, Identity: "user:" + who, Credential: "enr_1"}
	}
	if _, err := s.AppendTelemetrySpans(ctx, []codexgov.TelemetrySpan{span("a", "ann@example.com"), span("a", "bo@example.com"), span("b", "bo@example.com")}); err != nil {
		t.Fatal(err)
	}
	spans := func(ws string) (ids []string) {
		for _, sp := range must(s.TelemetrySpans(ctx, ws, "trace-ret")) {
			ids = append(ids, sp.SpanID)
		}
		return ids
	}
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	annHold := must(s.CreateLegalHold(ctx, "a", codexgov.LegalHoldInput{User: "ann@example.com", Reason: "matter 2026-117"}))
	must(s.CreateLegalHold(ctx, "b", codexgov.LegalHoldInput{Reason: "litigation hold, whole workspace"}))
	if _, err := s.CreateLegalHold(ctx, "a", codexgov.LegalHoldInput{User: "ann@example.com"}); code(err) != codexgov.EINVALID {
		t.Errorf("a hold without a reason: %v", err)
	}
	exists := func(ws, id string) bool { _, err := s.ComplianceFile(ctx, ws, id); return err == nil }
	events := func(ws, who string) int {
		evs, _ := s.TelemetryEvents(ctx, ws, codexgov.TelemetryFilter{Identity: "user:" + who})
		return len(evs)
	}

	// Two days on: one-day CODEX_LOG expires, except ann's (held); the
	// 30-day audit stays; workspace b is held whole.
	if _, err := s.ExpireRetention(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if exists("a", boFile) || !exists("a", annFile) || !exists("a", auditFile) || !exists("b", heldWS) {
		t.Errorf("after two days: bo's %v (want gone), ann's %v, audit %v, held workspace %v (want kept)", exists("a", boFile), exists("a", annFile), exists("a", auditFile), exists("b", heldWS))
	}
	if events("a", "bo@example.com") != 0 || events("a", "ann@example.com") != 1 || events("b", "bo@example.com") != 1 {
		t.Errorf("after two days: events bo %d (want 0), ann %d, held workspace %d (want 1)", events("a", "bo@example.com"), events("a", "ann@example.com"), events("b", "bo@example.com"))
	}
	// Span summaries by the same rule, though holds keep the partitions.
	if got := spans("a"); len(got) != 1 || got[0] != "aann@example.com" || len(spans("b")) != 1 {
		t.Errorf("after two days: spans of a %v (want ann's only), of the held workspace %v", got, spans("b"))
	}
	// 31 days on: the audit file expires; ann's stays while held.
	if _, err := s.ExpireRetention(ctx, t0.Add(31*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if exists("a", auditFile) || !exists("a", annFile) || !exists("b", heldWS) {
		t.Errorf("after 31 days: audit %v (want gone), ann's %v, held workspace %v (want kept)", exists("a", auditFile), exists("a", annFile), exists("b", heldWS))
	}
	// Released, the hold keeps nothing.
	rel := must(s.ReleaseLegalHold(ctx, "a", annHold.ID))
	if rel.ReleasedAt.IsZero() {
		t.Errorf("released hold: %+v", rel)
	}
	if _, err := s.ReleaseLegalHold(ctx, "a", annHold.ID); err != codexgov.ErrNoChange {
		t.Errorf("releasing twice: %v", err)
	}
	if _, err := s.ExpireRetention(ctx, t0.Add(31*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if exists("a", annFile) || events("a", "ann@example.com") != 0 {
		t.Errorf("after the release: ann's file %v, events %d (want gone)", exists("a", annFile), events("a", "ann@example.com"))
	}
	hs := must(s.LegalHolds(ctx, "a"))
	if len(hs) != 1 || hs[0].ReleasedAt.IsZero() {
		t.Errorf("holds of a: %+v", hs)
	}
	page := must(s.AuditEvents(context.Background(), "a", codexgov.AuditFilter{Limit: 5}))
	if page[0].Action != "legal_hold.release" || page[1].Action != "legal_hold.create" {
		t.Errorf("holds not audited: %s, %s", page[0].Action, page[1].Action)
	}
}

// testCodexTasks: sessions page by their last event, newest first, with
// a cursor; a task's title is its first prompt when the text was kept,
// else "(redacted)"; created_by_id is the user's ID.
func testCodexTasks(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	ann := must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	var evs []codexgov.TelemetryEvent
	for i, session := range []string{"s1", "s2", "s3"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		attrs := map[string]any{"prompt": "[REDACTED]"}
		if session == "s2" {
			attrs = map[string]any{"prompt": "fix the flaky test"}
		}
		evs = append(evs,
			codexgov.TelemetryEvent{ID: "tev_task_p" + session, Workspace: "a", Identity: "user:ann@example.com", Credential: "enr_1", Time: at, ReceivedAt: at, Type: codexgov.TelemetryPrompt, Name: "codex.user_prompt", Session: session, Attributes: attrs},
			codexgov.TelemetryEvent{ID: "tev_task_t" + session, Workspace: "a", Identity: "user:ann@example.com", Credential: "enr_1", Time: at.Add(time.Second), ReceivedAt: at, Type: codexgov.TelemetryOther, Name: "x", Session: session, Attributes: map[string]any{}})
	}
	if _, err := s.AppendTelemetry(ctx, evs); err != nil {
		t.Fatal(err)
	}
	p1 := must(s.CodexTasks(ctx, "a", 2, ""))
	if len(p1.Data) != 2 || !p1.HasMore || p1.Cursor == nil || p1.Data[0].ID != "s3" || p1.Data[1].ID != "s2" {
		t.Fatalf("first page: %+v", p1)
	}
	if p1.Data[1].Title != "fix the flaky test" || p1.Data[0].Title != "(redacted)" || p1.Data[0].CreatedByID != ann.ID {
		t.Errorf("tasks: %+v %+v", p1.Data[0], p1.Data[1])
	}
	p2 := must(s.CodexTasks(ctx, "a", 2, *p1.Cursor))
	if len(p2.Data) != 1 || p2.HasMore || p2.Cursor != nil || p2.Data[0].ID != "s1" {
		t.Errorf("second page: %+v", p2)
	}
	if one := must(s.CodexTask(ctx, "a", "s2")); one.Title != "fix the flaky test" || one.UpdatedAt <= one.CreatedAt {
		t.Errorf("one task: %+v", one)
	}
	if _, err := s.CodexTask(ctx, "a", "nope"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("an unknown task: %v", err)
	}
	if _, err := s.CodexTasks(ctx, "a", 2, "!!"); code(err) != codexgov.EINVALID {
		t.Errorf("a bad cursor: %v", err)
	}
}
