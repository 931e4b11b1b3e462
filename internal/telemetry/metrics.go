package telemetry

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/codexgov/codexgov"
)

// Metrics returns the metric series of md as the latest point of each
// series and day (sums, gauges and histograms; Codex sends no others).
func Metrics(md pmetric.Metrics, from Sender, now time.Time) []codexgov.TelemetryMetric {
	type key struct{ day, name, attrs string }
	latest := map[key]codexgov.TelemetryMetric{}
	var order []key
	add := func(name, kind string, attrs pcommon.Map, ts pcommon.Timestamp, value float64, count uint64, sum float64) {
		t := now.UTC()
		if ts != 0 {
			t = ts.AsTime().UTC()
		}
		a := canonical(attrs)
		k := key{t.Format("2006-01-02"), cut(name), a}
		m := codexgov.TelemetryMetric{Workspace: from.Workspace, Day: k.day, Identity: from.Identity, Credential: from.Credential, Device: from.Device,
			Name: k.name, Attributes: a, Kind: kind, Value: value, Count: count, Sum: sum, Time: t}
		if cur, ok := latest[k]; !ok {
			order = append(order, k)
			latest[k] = m
		} else if !t.Before(cur.Time) {
			latest[k] = m
		}
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					dps := m.Sum().DataPoints()
					for d := range dps.Len() {
						dp := dps.At(d)
						add(m.Name(), "sum", dp.Attributes(), dp.Timestamp(), number(dp), 0, 0)
					}
				case pmetric.MetricTypeGauge:
					dps := m.Gauge().DataPoints()
					for d := range dps.Len() {
						dp := dps.At(d)
						add(m.Name(), "gauge", dp.Attributes(), dp.Timestamp(), number(dp), 0, 0)
					}
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for d := range dps.Len() {
						dp := dps.At(d)
						add(m.Name(), "histogram", dp.Attributes(), dp.Timestamp(), 0, dp.Count(), dp.Sum())
					}
				}
			}
		}
	}
	out := make([]codexgov.TelemetryMetric, 0, len(order))
	for _, k := range order {
		out = append(out, latest[k])
	}
	return out
}

func number(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// canonical is a map's attributes as JSON with sorted keys, as storable
// text.
func canonical(a pcommon.Map) string {
	m := map[string]any{}
	a.Range(func(k string, v pcommon.Value) bool {
		m[clean(k)] = keep(v)
		return true
	})
	b, _ := json.Marshal(m) // encoding/json sorts map keys
	return cut(string(b))
}

// Spans returns the summaries of td's spans: names, ids, times, status
// and the Codex session they belong to, never their attributes or events.
func Spans(td ptrace.Traces, from Sender) []codexgov.TelemetrySpan {
	var out []codexgov.TelemetrySpan
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			sps := sss.At(j).Spans()
			for k := range sps.Len() {
				sp := sps.At(k)
				tid, sid, pid := sp.TraceID(), sp.SpanID(), sp.ParentSpanID()
				s := codexgov.TelemetrySpan{Workspace: from.Workspace, TraceID: hex.EncodeToString(tid[:]), SpanID: hex.EncodeToString(sid[:]),
					Name: cut(sp.Name()), Start: sp.StartTimestamp().AsTime().UTC(), Identity: from.Identity, Credential: from.Credential, Device: from.Device,
					Session: str(sp.Attributes(), "conversation.id")}
				if !pid.IsEmpty() {
					s.ParentID = hex.EncodeToString(pid[:])
				}
				if end := sp.EndTimestamp(); end > sp.StartTimestamp() {
					s.Duration = end.AsTime().Sub(sp.StartTimestamp().AsTime())
				}
				switch sp.Status().Code() {
				case ptrace.StatusCodeOk:
					s.Status = "ok"
				case ptrace.StatusCodeError:
					s.Status = "error"
				default:
					s.Status = "unset"
				}
				if s.Session == "" {
					s.Session = str(sp.Attributes(), "thread_id")
				}
				out = append(out, s)
			}
		}
	}
	return out
}
