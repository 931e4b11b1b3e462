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
