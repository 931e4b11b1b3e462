package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
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

// testTelemetryGroupCommitAndRetention: 24 concurrent appends of
// overlapping batches over three days (sharing group commits) store each
// event once, and each call learns how many of its own were new; pruning
// before the second day removes the first day's events, metrics and spans
// and keeps the rest.
func testTelemetryGroupCommitAndRetention(t *testing.T, s codexgov.Store) {
	ctx := context.Background()
	day1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ev := func(i int) codexgov.TelemetryEvent {
		at := day1.Add(time.Duration(i%3)*24*time.Hour + time.Duration(i)*time.Second)
		return codexgov.TelemetryEvent{ID: fmt.Sprintf("tev_g%04d", i), Workspace: "a", Identity: "user:ann@example.com", Credential: "et_1",
			Time: at, ReceivedAt: at, Type: codexgov.TelemetryOther, Name: "x", Attributes: map[string]any{}}
	}
	var wg sync.WaitGroup
	stored := make([]int, 24)
	errs := make([]error, 24)
	for g := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var evs []codexgov.TelemetryEvent
			for i := g * 50; i < g*50+100; i++ { // each batch overlaps the next by 50
				evs = append(evs, ev(i))
			}
			stored[g], errs[g] = s.AppendTelemetry(ctx, evs)
		}()
	}
	wg.Wait()
	total := 0
	for g := range 24 {
		if errs[g] != nil {
			t.Fatalf("append %d: %v", g, errs[g])
		}
		total += stored[g]
	}
	distinct := 23*50 + 100
	if total != distinct {
		t.Errorf("the concurrent appends say they stored %d; want the %d distinct events", total, distinct)
	}
	all, err := s.TelemetryEvents(ctx, "a", codexgov.TelemetryFilter{Since: day1, Until: day1.Add(72 * time.Hour)})
	if err != nil || len(all) != 1000 { // the read is capped at 1000
		t.Fatalf("read %d, %v", len(all), err)
	}
	count := func() (n [3]int) {
		for d := range 3 {
			got, err := s.TelemetryEvents(ctx, "a", codexgov.TelemetryFilter{Since: day1.Add(time.Duration(d) * 24 * time.Hour), Until: day1.Add(time.Duration(d+1) * 24 * time.Hour), Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			n[d] = len(got)
		}
		return n
	}
	before := count()
	if before[0]+before[1]+before[2] != distinct {
		t.Fatalf("per day %v; want %d in all", before, distinct)
	}
	if err := s.UpsertTelemetryMetrics(ctx, []codexgov.TelemetryMetric{{Workspace: "a", Day: "2026-11-01", Credential: "et_1", Name: "m", Attributes: "{}", Kind: "sum", Time: day1}}); err != nil {
		t.Fatal(err)
	}
	must(s.AppendTelemetrySpans(ctx, []codexgov.TelemetrySpan{{Workspace: "a", TraceID: "t1", SpanID: "s1", Name: "x", Start: day1}}))
	if _, err := s.PruneTelemetry(ctx, day1.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if after := count(); after[0] != 0 || after[1] != before[1] || after[2] != before[2] {
		t.Errorf("after pruning day one: per day %v; want [0 %d %d]", after, before[1], before[2])
	}
	if ms, _ := s.TelemetryMetrics(ctx, "a", "2026-11-01"); len(ms) != 0 {
		t.Errorf("day one's metrics outlived retention: %d", len(ms))
	}
	if sp, _ := s.TelemetrySpans(ctx, "a", "t1"); len(sp) != 0 {
		t.Errorf("day one's spans outlived retention: %d", len(sp))
	}
	// A day pruned can receive again (its partition is made anew).
	if n, err := s.AppendTelemetry(ctx, []codexgov.TelemetryEvent{ev(0)}); err != nil || n != 1 {
		t.Errorf("append into a pruned day: %d, %v", n, err)
	}
}

// testTelemetryActivity: sessions are summarised per user and machine —
// surface, model, prompts, summed tokens, tool calls and distinct tools,
// approvals, denials, bypasses — most recent first, filtered by user and
// time, and kept apart per workspace.
func testTelemetryActivity(t *testing.T, s codexgov.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	n := 0
	ev := func(ws, who, session, typ string, at time.Duration, data map[string]any) codexgov.TelemetryEvent {
		n++
		return codexgov.TelemetryEvent{ID: fmt.Sprintf("tev_act%03d", n), Workspace: ws, Identity: who, Credential: "enr_1", Device: "laptop", Time: t0.Add(at), ReceivedAt: t0,
			Type: typ, Name: "x", Session: session, Surface: "codex_exec", Model: "gpt-x", Data: data, Attributes: map[string]any{}}
	}
	ann, bo := "user:ann@example.com", "user:bo@example.com"
	evs := []codexgov.TelemetryEvent{
		ev("a", ann, "s1", codexgov.TelemetrySessionStart, 0, map[string]any{}),
		ev("a", ann, "s1", codexgov.TelemetryPrompt, time.Second, map[string]any{"prompt_length": 5}),
		ev("a", ann, "s1", codexgov.TelemetryTokenUsage, 2*time.Second, map[string]any{"total_tokens": 1290}),
		ev("a", ann, "s1", codexgov.TelemetryTokenUsage, 3*time.Second, map[string]any{"total_tokens": 10}),
		ev("a", ann, "s1", codexgov.TelemetryToolDecision, 4*time.Second, map[string]any{"decision": "approved", "tool_name": "exec_command"}),
		ev("a", ann, "s1", codexgov.TelemetryToolDecision, 5*time.Second, map[string]any{"decision": "denied", "tool_name": "exec_command"}),
		ev("a", ann, "s1", codexgov.TelemetryToolResult, 6*time.Second, map[string]any{"tool_name": "exec_command"}),
		ev("a", ann, "s1", codexgov.TelemetryToolResult, 7*time.Second, map[string]any{"tool_name": "apply_patch"}),
		ev("a", ann, "s1", codexgov.TelemetryToolResult, 8*time.Second, map[string]any{"tool_name": "exec_command"}),
		ev("a", ann, "s1", codexgov.TelemetryBypass, 8*time.Second, map[string]any{"rule": "rm -rf"}),
		ev("a", bo, "s2", codexgov.TelemetryPrompt, time.Hour, map[string]any{}),
		ev("b", ann, "s3", codexgov.TelemetryPrompt, 2*time.Hour, map[string]any{}),
	}
	if _, err := s.AppendTelemetry(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := s.TelemetryActivity(ctx, "a", codexgov.ActivityFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("activity: %d, %v", len(got), err)
	}
	if got[0].Session != "s2" || got[0].Identity != bo {
		t.Errorf("most recent first: %+v", got[0])
	}
	a := got[1]
	if a.Session != "s1" || a.Identity != ann || a.Device != "laptop" || a.Surface != "codex_exec" || a.Model != "gpt-x" || a.Prompts != 1 || a.Tokens != 1300 ||
		a.ToolCalls != 3 || fmt.Sprint(a.Tools) != "[apply_patch exec_command]" || a.Approvals != 1 || a.Denials != 1 || a.Bypasses != 1 ||
		!a.Start.Equal(t0) || !a.Last.Equal(t0.Add(8*time.Second)) {
		t.Errorf("session s1: %+v", a)
	}
	if f, _ := s.TelemetryActivity(ctx, "a", codexgov.ActivityFilter{Identity: ann, Since: t0.Add(30 * time.Minute)}); len(f) != 0 {
		t.Errorf("filtered: %+v", f)
	}
	if b, _ := s.TelemetryActivity(ctx, "b", codexgov.ActivityFilter{}); len(b) != 1 || b[0].Session != "s3" {
		t.Errorf("workspace b: %+v", b)
	}
}

// testAnalyticsRebuildDuringIngest: rollups rebuilt while events keep
// arriving count every event exactly once — what the rebuild reads is not
// applied again from the queue, and what it does not read is.
func testAnalyticsRebuildDuringIngest(t *testing.T, s codexgov.Store) {
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "test"})
	must(s.CreateWorkspace(ctx, "a", ""))
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	ev := func(i int) codexgov.TelemetryEvent {
		at := day.Add(time.Duration(i) * time.Second)
		return codexgov.TelemetryEvent{ID: fmt.Sprintf("tev_r%05d", i), Workspace: "a", Identity: "user:ann@example.com", Credential: "et_1", Session: fmt.Sprintf("sess-%d", i%7),
			Surface: "codex_cli_rs", Model: "gpt-5.1-codex", Time: at, ReceivedAt: at, Type: codexgov.TelemetryPrompt, Name: "codex.user_prompt", Attributes: map[string]any{}}
	}
	batch := func(from, n int) []codexgov.TelemetryEvent {
		var evs []codexgov.TelemetryEvent
		for i := from; i < from+n; i++ {
			evs = append(evs, ev(i))
		}
		return evs
	}
	if _, err := s.AppendTelemetry(ctx, batch(0, 200)); err != nil {
		t.Fatal(err)
	}
	const batches, per = 80, 25
	var wg sync.WaitGroup
	var appendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range batches {
			if _, err := s.AppendTelemetry(ctx, batch(200+b*per, per)); err != nil {
				appendErr = err
				return
			}
		}
	}()
	rebuilds := 0
	for range 6 {
		if _, err := s.RebuildAnalytics(ctx, "a", day); err != nil {
			t.Fatalf("rebuild during ingest: %v", err)
		}
		rebuilds++
	}
	wg.Wait()
	if appendErr != nil {
		t.Fatal(appendErr)
	}
	if err := s.DrainAnalytics(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	want := int64(200 + batches*per)
	// One person, counted once as active however many times the rebuild
	// and the queue applied their rows.
	if act, err := s.AnalyticsActiveUsers(ctx, "a", "day", "2026-11-01", "2026-11-10"); err != nil || len(act) != 2 || act[0].Users != 1 || act[1].Users != 1 {
		t.Errorf("active people after the rebuilds: %+v %v; want 1 on CODEX_CLI and 1 on all", act, err)
	}
	for _, period := range []string{"day", "week"} {
		rows, _, err := s.AnalyticsUsage(ctx, "a", codexgov.UsageQuery{Period: period, From: "2026-11-01", To: "2026-11-10", Workspace: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if r.Turns != want || r.Threads != 7 {
				got = append(got, fmt.Sprintf("%s %s/%s: %d turns, %d threads", r.Bucket, r.Client, r.Model, r.Turns, r.Threads))
			}
		}
		if len(rows) != 4 || len(got) > 0 {
			t.Errorf("%s after %d rebuilds during ingest: %d rows, wrong: %v; want every row %d turns, 7 threads", period, rebuilds, len(rows), got, want)
		}
	}
}

// testAnalyticsRanking: the people's ranking over windows of days equals
// sums computed here from the events themselves — windows inside a week,
// across weeks (whole weeks plus edge days), starting or ending on a
// Monday — with sessions that run over midnight (a thread counts once per
// day), before and after a rebuild.
func testAnalyticsRanking(t *testing.T, s codexgov.Store) {
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "test"})
	must(s.CreateWorkspace(ctx, "a", ""))
	first := time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC) // a Wednesday
	const days = 26
	people := []string{"ann", "bob", "cat", "dan", "eve"}
	// The events: each person is active on some days (dan never on
	// Sundays, eve in bursts), with a session of theirs per day that
	// sometimes begins before midnight.
	var evs []codexgov.TelemetryEvent
	type dayKey struct {
		who string
		day int
	}
	sessions := map[dayKey]map[string]bool{}
	tokens, turns := map[dayKey]int64{}, map[dayKey]int64{}
	for p, who := range people {
		for d := range days {
			at := first.AddDate(0, 0, d)
			if (p == 3 && at.Weekday() == time.Sunday) || (p == 4 && d%5 >= 3) || (p == 1 && d%3 == 2) {
				continue
			}
			sess := fmt.Sprintf("%s-%d", who, d/2) // a session spans two days
			for n := range 1 + (p+d)%3 {
				ts := at.Add(time.Duration(1+n) * time.Hour)
				id := fmt.Sprintf("tev_k%s%03d%d", who, d, n)
				evs = append(evs,
					codexgov.TelemetryEvent{ID: id + "p", Workspace: "a", Identity: "user:" + who + "@example.com", Credential: "et_1", Session: sess, Surface: "codex_cli_rs", Model: "gpt-5.1-codex",
						Time: ts, ReceivedAt: ts, Type: codexgov.TelemetryPrompt, Name: "codex.user_prompt", Attributes: map[string]any{}},
					codexgov.TelemetryEvent{ID: id + "u", Workspace: "a", Identity: "user:" + who + "@example.com", Credential: "et_1", Session: sess, Surface: "codex_cli_rs", Model: "gpt-5.1-codex",
						Time: ts.Add(time.Second), ReceivedAt: ts, Type: codexgov.TelemetryTokenUsage, Name: "codex.sse_event", Attributes: map[string]any{},
						Data: map[string]any{"input_tokens": int64(100*(p+1) + d), "output_tokens": int64(7 * n)}})
				k := dayKey{who, d}
				if sessions[k] == nil {
					sessions[k] = map[string]bool{}
				}
				sessions[k][sess] = true
				turns[k]++
				tokens[k] += int64(100*(p+1)+d) + int64(7*n)
			}
		}
	}
	for i := 0; i < len(evs); i += 97 { // batches that split days and sessions
		if _, err := s.AppendTelemetry(ctx, evs[i:min(i+97, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DrainAnalytics(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, w := range [][2]int{{0, 26}, {1, 20}, {5, 19}, {5, 12}, {2, 4}, {0, 7}, {12, 26}, {3, 25}} {
			from, to := first.AddDate(0, 0, w[0]).Format(time.DateOnly), first.AddDate(0, 0, w[1]).Format(time.DateOnly)
			want := map[string]codexgov.UserRank{}
			for _, who := range people {
				r := codexgov.UserRank{Identity: "user:" + who + "@example.com"}
				run := 0
				for d := w[0]; d < w[1]; d++ {
					k := dayKey{who, d}
					if turns[k] == 0 {
						run = 0
						continue
					}
					r.Tokens += tokens[k]
					r.Turns += turns[k]
					r.Threads += int64(len(sessions[k]))
					r.Active++
					run++
					r.Streak = max(r.Streak, run)
				}
				if r.Active > 0 {
					want[r.Identity] = r
				}
			}
			for _, sort := range []string{"tokens", "turns", "threads", "streak"} {
				got, err := s.AnalyticsRanking(ctx, "a", "day", from, to, sort, 10)
				if err != nil {
					t.Fatalf("%s: ranking %s..%s by %s: %v", when, from, to, sort, err)
				}
				if len(got) != len(want) {
					t.Errorf("%s: ranking %s..%s by %s: %d people, want %d", when, from, to, sort, len(got), len(want))
					continue
				}
				for i, r := range got {
					if r != want[r.Identity] {
						t.Errorf("%s: ranking %s..%s by %s: %+v, want %+v", when, from, to, sort, r, want[r.Identity])
					}
					if i > 0 {
						key := map[string]func(codexgov.UserRank) int64{"tokens": func(r codexgov.UserRank) int64 { return r.Tokens }, "turns": func(r codexgov.UserRank) int64 { return r.Turns },
							"threads": func(r codexgov.UserRank) int64 { return r.Threads }, "streak": func(r codexgov.UserRank) int64 { return int64(r.Streak) }}[sort]
						if key(got[i-1]) < key(r) {
							t.Errorf("%s: ranking by %s out of order at %d: %+v before %+v", when, sort, i, got[i-1], r)
						}
					}
				}
			}
		}
	}
	check("as ingested")
	if _, err := s.RebuildAnalytics(ctx, "a", first.AddDate(0, 0, 9)); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild from the second week on")
}
