package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// telemetryBatch is how many rows one INSERT carries.
const telemetryBatch = 200

const telemetryColumns = `workspace_id, event_id, time, received_at, type, name, session_id, surface, model, identity, credential, device, host, claim_email, claim_mismatch, data, attributes`

// AppendTelemetry stores events in one transaction with multi-row inserts;
// an event already stored (same workspace and ID) is skipped. The caller
// acknowledges the sender only after it returns without error.
func (s *DB) AppendTelemetry(ctx context.Context, evs []codexgov.TelemetryEvent) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("telemetry", err)
	}
	defer tx.Rollback()
	stored := 0
	for start := 0; start < len(evs); start += telemetryBatch {
		batch := evs[start:min(start+telemetryBatch, len(evs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO telemetry_events (` + telemetryColumns + `) VALUES `)
		args := make([]any, 0, len(batch)*17)
		for i, e := range batch {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range 17 {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString("$" + strconv.Itoa(len(args)+j+1))
			}
			b.WriteByte(')')
			data, err := json.Marshal(e.Data)
			if err != nil {
				return 0, dbError("telemetry", err)
			}
			attrs, err := json.Marshal(e.Attributes)
			if err != nil {
				return 0, dbError("telemetry", err)
			}
			args = append(args, e.Workspace, e.ID, e.Time.UnixMicro(), e.ReceivedAt.UnixMicro(), e.Type, e.Name, e.Session, e.Surface, e.Model,
				e.Identity, e.Credential, e.Device, e.Host, e.ClaimEmail, e.ClaimMismatch, string(data), string(attrs))
		}
		b.WriteString(` ON CONFLICT (workspace_id, event_id) DO NOTHING`)
		res, err := tx.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return 0, dbError("telemetry", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, dbError("telemetry", err)
		}
		stored += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, commitError("telemetry", err)
	}
	return stored, nil
}

// TelemetryEvents lists a workspace's telemetry events, newest first.
func (s *DB) TelemetryEvents(ctx context.Context, ws string, f codexgov.TelemetryFilter) ([]*codexgov.TelemetryEvent, error) {
	q := `SELECT ` + telemetryColumns + ` FROM telemetry_events WHERE workspace_id = $1`
	args := []any{ws}
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
	}
	if f.Identity != "" {
		add("identity = ?", f.Identity)
	}
	if f.Session != "" {
		add("session_id = ?", f.Session)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UnixMicro())
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q += " ORDER BY time DESC, event_id LIMIT " + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("telemetry", err)
	}
	defer rows.Close()
	var out []*codexgov.TelemetryEvent
	for rows.Next() {
		var e codexgov.TelemetryEvent
		var t, recv int64
		var data, attrs string
		if err := rows.Scan(&e.Workspace, &e.ID, &t, &recv, &e.Type, &e.Name, &e.Session, &e.Surface, &e.Model, &e.Identity, &e.Credential,
			&e.Device, &e.Host, &e.ClaimEmail, &e.ClaimMismatch, &data, &attrs); err != nil {
			return nil, dbError("telemetry", err)
		}
		e.Time, e.ReceivedAt = time.UnixMicro(t).UTC(), time.UnixMicro(recv).UTC()
		json.Unmarshal([]byte(data), &e.Data)
		json.Unmarshal([]byte(attrs), &e.Attributes)
		out = append(out, &e)
	}
	return out, dbError("telemetry", rows.Err())
}

// UpsertTelemetryMetrics keeps each series' latest value per device and
// day, in one transaction.
func (s *DB) UpsertTelemetryMetrics(ctx context.Context, ms []codexgov.TelemetryMetric) error {
	if len(ms) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("telemetry metrics", err)
	}
	defer tx.Rollback()
	for _, m := range ms {
		if _, err := tx.ExecContext(ctx, `INSERT INTO telemetry_metrics (workspace_id, day, credential, identity, device, name, attributes, kind, value, count, sum, time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (workspace_id, day, credential, name, attributes) DO UPDATE SET kind = excluded.kind, value = excluded.value, count = excluded.count, sum = excluded.sum, time = excluded.time
			WHERE excluded.time >= telemetry_metrics.time`,
			m.Workspace, m.Day, m.Credential, m.Identity, m.Device, m.Name, m.Attributes, m.Kind, m.Value, int64(m.Count), m.Sum, m.Time.UnixMicro()); err != nil {
			return dbError("telemetry metrics", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return commitError("telemetry metrics", err)
	}
	return nil
}

// AppendTelemetrySpans stores span summaries, each once.
func (s *DB) AppendTelemetrySpans(ctx context.Context, spans []codexgov.TelemetrySpan) (int, error) {
	if len(spans) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("telemetry spans", err)
	}
	defer tx.Rollback()
	stored := 0
	for _, sp := range spans {
		res, err := tx.ExecContext(ctx, `INSERT INTO telemetry_spans (workspace_id, trace_id, span_id, parent_id, name, start, duration_us, status, session_id, identity, credential, device)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (workspace_id, trace_id, span_id) DO NOTHING`,
			sp.Workspace, sp.TraceID, sp.SpanID, sp.ParentID, sp.Name, sp.Start.UnixMicro(), sp.Duration.Microseconds(), sp.Status, sp.Session, sp.Identity, sp.Credential, sp.Device)
		if err != nil {
			return 0, dbError("telemetry spans", err)
		}
		n, _ := res.RowsAffected()
		stored += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, commitError("telemetry spans", err)
	}
	return stored, nil
}

// TelemetryMetrics lists a workspace's metric series of a day.
func (s *DB) TelemetryMetrics(ctx context.Context, ws, day string) ([]*codexgov.TelemetryMetric, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT workspace_id, day, credential, identity, device, name, attributes, kind, value, count, sum, time FROM telemetry_metrics
		WHERE workspace_id = $1 AND day = $2 ORDER BY name, credential, attributes`, ws, day)
	if err != nil {
		return nil, dbError("telemetry metrics", err)
	}
	defer rows.Close()
	var out []*codexgov.TelemetryMetric
	for rows.Next() {
		var m codexgov.TelemetryMetric
		var count, t int64
		if err := rows.Scan(&m.Workspace, &m.Day, &m.Credential, &m.Identity, &m.Device, &m.Name, &m.Attributes, &m.Kind, &m.Value, &count, &m.Sum, &t); err != nil {
			return nil, dbError("telemetry metrics", err)
		}
		m.Count, m.Time = uint64(count), time.UnixMicro(t).UTC()
		out = append(out, &m)
	}
	return out, dbError("telemetry metrics", rows.Err())
}

// TelemetrySpans lists a workspace's span summaries of a trace, by start.
func (s *DB) TelemetrySpans(ctx context.Context, ws, traceID string) ([]*codexgov.TelemetrySpan, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT workspace_id, trace_id, span_id, parent_id, name, start, duration_us, status, session_id, identity, credential, device FROM telemetry_spans
		WHERE workspace_id = $1 AND trace_id = $2 ORDER BY start, span_id`, ws, traceID)
	if err != nil {
		return nil, dbError("telemetry spans", err)
	}
	defer rows.Close()
	var out []*codexgov.TelemetrySpan
	for rows.Next() {
		var sp codexgov.TelemetrySpan
		var start, dur int64
		if err := rows.Scan(&sp.Workspace, &sp.TraceID, &sp.SpanID, &sp.ParentID, &sp.Name, &start, &dur, &sp.Status, &sp.Session, &sp.Identity, &sp.Credential, &sp.Device); err != nil {
			return nil, dbError("telemetry spans", err)
		}
		sp.Start, sp.Duration = time.UnixMicro(start).UTC(), time.Duration(dur)*time.Microsecond
		out = append(out, &sp)
	}
	return out, dbError("telemetry spans", rows.Err())
}
