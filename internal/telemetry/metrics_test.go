package telemetry

import (
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The captured metrics of a real turn become one series per name and
// attributes, stamped from the sender; histograms keep count and sum.
func TestMetricsCapturedTurn(t *testing.T) {
	b, err := os.ReadFile("testdata/otlp-metrics-trimmed.json")
	if err != nil {
		t.Fatal(err)
	}
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	from := Sender{Workspace: "acme", Identity: "user:ann@acme.test", Credential: "et_1", Device: "laptop-7"}
	ms := Metrics(req.Metrics(), from, time.Now())
	byName := map[string]int{}
	for _, m := range ms {
		byName[m.Name]++
		if m.Workspace != "acme" || m.Device != "laptop-7" || m.Day == "" || m.Attributes == "" {
			t.Errorf("series %+v", m)
		}
		if m.Name == "codex.turn.token_usage" && (m.Kind != "histogram" || m.Count == 0) {
			t.Errorf("token usage histogram %+v", m)
		}
	}
	if byName["codex.sse_event"] != 5 || byName["codex.turn.token_usage"] != 6 || byName["codex.thread.started"] != 1 {
		t.Errorf("series per name %v", byName)
	}
}

// A span keeps its names, ids, times, status and session, not its body.
func TestSpanSummaries(t *testing.T) {
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("run_turn")
	sp.SetTraceID(pcommon.TraceID{1, 2, 3})
	sp.SetSpanID(pcommon.SpanID{4, 5})
	sp.SetParentSpanID(pcommon.SpanID{6})
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(1500 * time.Millisecond)))
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.Attributes().PutStr("conversation.id", "s1")
	sp.Attributes().PutStr("cwd", "/home/ann/secret-project")
	got := Spans(td, Sender{Workspace: "acme", Identity: "user:ann@acme.test", Credential: "et_1"})
	if len(got) != 1 {
		t.Fatalf("%d spans", len(got))
	}
	s := got[0]
	if s.Name != "run_turn" || s.TraceID != "01020300000000000000000000000000" || s.SpanID != "0405000000000000" || s.ParentID != "0600000000000000" ||
		s.Duration != 1500*time.Millisecond || s.Status != "error" || s.Session != "s1" || !s.Start.Equal(start) {
		t.Errorf("summary %+v", s)
	}
}
