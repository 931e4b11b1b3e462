package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// testGateway: a workspace's gateway is put (audited, the key kept when
// none is given, bad fields refused by name), read and removed; records
// keep only the input items their session's previous record did not have,
// all of them again when the history changed; workspaces do not see each
// other's.
func testGateway(t *testing.T, s codexgov.Store) {
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "admin"})
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	if _, err := s.Gateway(ctx, "a"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
		t.Fatalf("no gateway yet: %v", err)
	}
	if _, err := s.PutGateway(ctx, codexgov.Gateway{Workspace: "a", BaseURL: "https://api.example.test/v1"}); codexgov.ErrorCode(err) != codexgov.EINVALID {
		t.Errorf("a new gateway without a key: %v", err)
	}
	for _, bad := range []codexgov.Gateway{{Workspace: "a", BaseURL: "ftp://x", KeyEnc: []byte("k")}, {Workspace: "a", BaseURL: "https://x.test/v1", Capture: "everything", KeyEnc: []byte("k")}} {
		var e *codexgov.Error
		if _, err := s.PutGateway(ctx, bad); !errors.As(err, &e) || len(e.Details) != 1 {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	g, err := s.PutGateway(ctx, codexgov.Gateway{Workspace: "a", BaseURL: "https://api.example.test/v1", KeyEnc: []byte("sealed-1"), Route: true})
	if err != nil || g.Capture != codexgov.GatewayCaptureMetadata || !g.KeySet {
		t.Fatalf("put: %+v %v", g, err)
	}
	if _, err = s.PutGateway(ctx, codexgov.Gateway{Workspace: "a", BaseURL: "https://proxy.example.test/v1", Capture: codexgov.GatewayCaptureFull, Route: true}); err != nil {
		t.Fatal(err)
	}
	got := must(s.Gateway(ctx, "a"))
	if got.BaseURL != "https://proxy.example.test/v1" || string(got.KeyEnc) != "sealed-1" || got.Capture != codexgov.GatewayCaptureFull || !got.Route {
		t.Errorf("after an update without a key: %+v", got)
	}
	if _, err := s.PutGateway(ctx, *got); !errors.Is(err, codexgov.ErrNoChange) {
		t.Errorf("the same gateway again: %v", err)
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 5}))
	if len(evs) < 2 || evs[0].Action != "gateway.put" || evs[1].Action != "gateway.put" || evs[0].Actor != "admin" || string(evs[0].After) == "" || slices.Contains([]string{string(evs[0].After), string(evs[0].Before)}, "sealed-1") {
		t.Errorf("audit: %+v", evs)
	}
	if _, err := s.Gateway(ctx, "b"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
		t.Errorf("b sees a gateway: %v", err)
	}

	// Records: a session of three requests, each re-sending the history.
	item := func(i int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"type":"message","role":"user","content":[{"type":"input_text","text":"item %d"}]}`, i))
	}
	history := func(n int) []json.RawMessage {
		var h []json.RawMessage
		for i := range n {
			h = append(h, item(i))
		}
		return h
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	record := func(ws, session string, input []json.RawMessage, n int) *codexgov.GatewayRecord {
		t.Helper()
		r := &codexgov.GatewayRecord{Workspace: ws, Time: at.Add(time.Duration(n) * time.Second), Identity: "user:ann@example.com", Device: "laptop", Session: session, Turn: "turn-1",
			Model: "gpt-5.1-codex", Status: 200, InputTokens: 100, OutputTokens: 10, Capture: codexgov.GatewayCaptureFull, Output: fmt.Sprintf("answer %d", n),
			Repos:     []codexgov.GatewayRepo{{Root: "/src/repo", Remotes: map[string]string{"origin": "https://github.com/acme/repo.git"}, Head: "abc123", Dirty: true}},
			ToolCalls: []codexgov.GatewayToolCall{{CallID: "c1", Name: "exec_command", Arguments: `{"cmd":"ls"}`}}}
		if err := s.RecordGatewayRequest(ctx, r, input); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for n, size := range []int{2, 4, 7} {
		r := record("a", "th-1", history(size), n)
		want := []int{0, 2, 4}[n]
		if r.InputFrom != want || len(r.Input) != size-want {
			t.Errorf("request %d: kept from %d (%d items), want from %d", n, r.InputFrom, len(r.Input), want)
		}
		if r.NewTurn != (n == 0) {
			t.Errorf("request %d of turn-1: new turn %v", n, r.NewTurn)
		}
	}
	// A metadata-only record of the session's next turn starts it.
	next := &codexgov.GatewayRecord{Workspace: "a", Identity: "user:ann@example.com", Session: "th-1", Turn: "turn-2", Model: "m", Status: 200, Capture: codexgov.GatewayCaptureMetadata, Time: at.Add(2500 * time.Millisecond)}
	if err := s.RecordGatewayRequest(ctx, next, nil); err != nil || !next.NewTurn || next.Input != nil {
		t.Errorf("turn-2 without content: new turn %v, %v", next.NewTurn, err)
	}
	// The history changed (compacted): everything is kept again.
	compacted := append([]json.RawMessage{json.RawMessage(`{"type":"compaction","summary":"…"}`)}, item(6), item(7))
	if r := record("a", "th-1", compacted, 3); r.InputFrom != 0 || len(r.Input) != 3 {
		t.Errorf("after compaction: from %d, %d items", r.InputFrom, len(r.Input))
	}
	// Another session starts from nothing; metadata-only keeps no input.
	if r := record("a", "th-2", history(3), 4); r.InputFrom != 0 || len(r.Input) != 3 {
		t.Errorf("another session: from %d", r.InputFrom)
	}
	meta := &codexgov.GatewayRecord{Workspace: "a", Identity: "user:bob@example.com", Session: "th-3", Model: "m", Status: 200, Capture: codexgov.GatewayCaptureMetadata}
	if err := s.RecordGatewayRequest(ctx, meta, nil); err != nil || meta.Input != nil {
		t.Fatal(err, meta.Input)
	}
	record("b", "th-1", history(5), 5)

	recs := must(s.GatewayRecords(ctx, "a", codexgov.GatewayFilter{Session: "th-1"}))
	recs = slices.DeleteFunc(recs, func(r *codexgov.GatewayRecord) bool { return r.Turn == "turn-2" })
	if len(recs) != 4 {
		t.Fatalf("th-1 records: %d", len(recs))
	}
	// Stored items, in order, rebuild each request's whole input.
	var kept []json.RawMessage
	for _, r := range slices.Backward(recs) {
		kept = append(kept[:r.InputFrom], r.Input...)
	}
	if !slices.EqualFunc(kept, compacted, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Errorf("the last request's input from the records: %s", kept)
	}
	r := recs[0]
	if r.Output != "answer 3" || len(r.ToolCalls) != 1 || r.ToolCalls[0].Arguments != `{"cmd":"ls"}` || len(r.Repos) != 1 || r.Repos[0].Head != "abc123" || !r.Repos[0].Dirty ||
		r.Repos[0].Remotes["origin"] != "https://github.com/acme/repo.git" || r.InputTokens != 100 || r.Device != "laptop" || !r.Time.Equal(at.Add(3*time.Second)) {
		t.Errorf("record read back: %+v", r)
	}
	if all := must(s.GatewayRecords(ctx, "a", codexgov.GatewayFilter{})); len(all) != 7 {
		t.Errorf("a's records: %d", len(all))
	}
	if bob := must(s.GatewayRecords(ctx, "a", codexgov.GatewayFilter{Identity: "user:bob@example.com"})); len(bob) != 1 || bob[0].Input != nil {
		t.Errorf("bob's: %+v", bob)
	}
	if b := must(s.GatewayRecords(ctx, "b", codexgov.GatewayFilter{})); len(b) != 1 || b[0].InputFrom != 0 || len(b[0].Input) != 5 {
		t.Errorf("b's records (its own session state): %+v", b)
	}
	// Per repository: th-1's four records and th-2's one are in
	// acme/repo (ann), the metadata ones in none; b's are b's.
	repos := must(s.GatewayRepositories(ctx, "a", "2026-12-01", "2026-12-02"))
	if len(repos) != 1 || repos[0].Repository != "https://github.com/acme/repo.git" || repos[0].Requests != 5 || repos[0].People != 1 || repos[0].InputTokens != 500 || repos[0].OutputTokens != 50 {
		t.Errorf("repositories: %+v", repos)
	}
	if none := must(s.GatewayRepositories(ctx, "a", "2026-12-02", "2026-12-09")); len(none) != 0 {
		t.Errorf("repositories of a later week: %+v", none)
	}
	if codexgov.RepositoryOf([]codexgov.GatewayRepo{{Root: "/src/x", Remotes: map[string]string{"upstream": "u", "fork": "f"}}}) != "f" || codexgov.RepositoryOf([]codexgov.GatewayRepo{{Root: "/src/x"}}) != "/src/x" {
		t.Error("RepositoryOf")
	}
	if err := s.DeleteGateway(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Gateway(ctx, "a"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
		t.Errorf("after delete: %v", err)
	}
}
