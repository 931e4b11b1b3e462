package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

const sinkColumns = `id, workspace_id, name, kind, url, event_types, secret_enc, ca_cert, cursor, paused, attempts, next_attempt, last_error, last_error_at, last_delivered_at, delivered, dead_letters, created_at`

func scanSink(row interface{ Scan(...any) error }) (*codexgov.ComplianceSink, error) {
	var k codexgov.ComplianceSink
	var types, secret, cursor string
	var next, errAt, delivered, created int64
	if err := row.Scan(&k.ID, &k.Workspace, &k.Name, &k.Kind, &k.URL, &types, &secret, &k.CACert, &cursor, &k.Paused, &k.Attempts, &next, &k.LastError, &errAt, &delivered, &k.Delivered, &k.DeadLetters, &created); err != nil {
		return nil, err
	}
	k.EventTypes = strings.Split(types, ",")
	k.SecretEnc, _ = base64.StdEncoding.DecodeString(secret)
	k.HasSecret = len(k.SecretEnc) > 0
	k.Cursor = map[string]codexgov.SinkCursor{}
	json.Unmarshal([]byte(cursor), &k.Cursor)
	k.NextAttempt, k.LastErrorAt, k.LastDeliveredAt, k.CreatedAt = fromMicros(next), fromMicros(errAt), fromMicros(delivered), fromMicros(created)
	return &k, nil
}

// CreateSink adds a workspace's SIEM sink, audited; its secret arrives
// sealed. Its cursor starts at the oldest file still kept.
func (s *DB) CreateSink(ctx context.Context, ws string, in codexgov.SinkInput, secretEnc []byte) (*codexgov.ComplianceSink, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	k := &codexgov.ComplianceSink{ID: codexgov.NewID("sink"), Workspace: ws, Name: in.Name, Kind: in.Kind, URL: in.URL, EventTypes: in.EventTypes, SecretEnc: secretEnc,
		HasSecret: len(secretEnc) > 0, CACert: in.CACert, Cursor: map[string]codexgov.SinkCursor{}, CreatedAt: fromMicros(s.now())}
	err := s.audited(ctx, ws, "compliance_sink.create", "compliance_sink:"+in.Name, false, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM compliance_sinks WHERE workspace_id = $1 AND name = $2`, ws, in.Name).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "sink %q already exists; remove it first to change it", in.Name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO compliance_sinks (`+sinkColumns+`, lease_owner, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', $9, 0, 0, '', 0, 0, 0, 0, $10, '', 0)`,
			k.ID, ws, k.Name, k.Kind, k.URL, strings.Join(k.EventTypes, ","), base64.StdEncoding.EncodeToString(secretEnc), k.CACert, false, k.CreatedAt.UnixMicro())
		return nil, k, err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// Sinks lists a workspace's sinks by name.
func (s *DB) Sinks(ctx context.Context, ws string) ([]*codexgov.ComplianceSink, error) {
	return s.sinks(ctx, `WHERE workspace_id = $1 ORDER BY name`, ws)
}

// AllSinks lists every workspace's sinks (the pusher's round).
func (s *DB) AllSinks(ctx context.Context) ([]*codexgov.ComplianceSink, error) {
	return s.sinks(ctx, `ORDER BY workspace_id, name`)
}

func (s *DB) sinks(ctx context.Context, where string, args ...any) ([]*codexgov.ComplianceSink, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sinkColumns+` FROM compliance_sinks `+where, args...)
	if err != nil {
		return nil, dbError("compliance sinks", err)
	}
	defer rows.Close()
	out := []*codexgov.ComplianceSink{}
	for rows.Next() {
		k, err := scanSink(rows)
		if err != nil {
			return nil, dbError("compliance sinks", err)
		}
		out = append(out, k)
	}
	return out, dbError("compliance sinks", rows.Err())
}

func (s *DB) sink(ctx context.Context, q queryer, ws, name string) (*codexgov.ComplianceSink, error) {
	k, err := scanSink(q.QueryRowContext(ctx, `SELECT `+sinkColumns+` FROM compliance_sinks WHERE workspace_id = $1 AND name = $2`, ws, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("sink %q not found", name)
	}
	return k, err
}

// DeleteSink removes a sink and its dead letters, audited.
func (s *DB) DeleteSink(ctx context.Context, ws, name string) (*codexgov.ComplianceSink, error) {
	var before *codexgov.ComplianceSink
	err := s.audited(ctx, ws, "compliance_sink.delete", "compliance_sink:"+name, false, func(tx *sql.Tx) (any, any, error) {
		var err error
		if before, err = s.sink(ctx, tx, ws, name); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM compliance_dead_letters WHERE sink_id = $1`, before.ID); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM compliance_sinks WHERE id = $1`, before.ID)
		return before, nil, err
	})
	return before, err
}

// RewindSink moves a sink's cursor back to the oldest file kept (every
// kept record is delivered again; receivers de-duplicate on event_id) and
// clears its backoff, audited.
func (s *DB) RewindSink(ctx context.Context, ws, name string) (*codexgov.ComplianceSink, error) {
	var after *codexgov.ComplianceSink
	err := s.audited(ctx, ws, "compliance_sink.rewind", "compliance_sink:"+name, false, func(tx *sql.Tx) (any, any, error) {
		before, err := s.sink(ctx, tx, ws, name)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE compliance_sinks SET cursor = '{}', attempts = 0, next_attempt = 0 WHERE id = $1`, before.ID); err != nil {
			return nil, nil, err
		}
		after, err = s.sink(ctx, tx, ws, name)
		return before.Cursor, after.Cursor, err
	})
	return after, err
}

// LeaseSink takes (or renews) a sink's delivery lease for owner until the
// given time; false when another replica holds it.
func (s *DB) LeaseSink(ctx context.Context, id, owner string, until, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE compliance_sinks SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND (lease_owner = $1 OR lease_until < $4)`, owner, until.UnixMicro(), id, now.UnixMicro())
	if err != nil {
		return false, dbError("compliance sinks", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AdvanceSink records a delivered batch: the event type's cursor moves,
// the count grows, and the backoff clears. It is durable before the next
// batch is sent: a crash re-sends at most one batch.
func (s *DB) AdvanceSink(ctx context.Context, id, eventType string, c codexgov.SinkCursor, delivered int64, now time.Time) error {
	return s.moveSink(ctx, id, eventType, c, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE compliance_sinks SET delivered = delivered + $1, last_delivered_at = $2, attempts = 0, next_attempt = 0 WHERE id = $3`, delivered, now.UnixMicro(), id)
		return err
	})
}

// DeadLetterSink keeps a batch the receiver refused for good and moves
// the cursor past it, in one transaction.
func (s *DB) DeadLetterSink(ctx context.Context, d codexgov.DeadLetter, c codexgov.SinkCursor) error {
	return s.moveSink(ctx, d.Sink, d.EventType, c, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO compliance_dead_letters (sink_id, event_type, file_id, line, count, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			d.Sink, d.EventType, d.File, d.Line, d.Count, d.Error, d.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE compliance_sinks SET dead_letters = dead_letters + $1, last_error = $2, last_error_at = $3 WHERE id = $4`, d.Count, d.Error, d.CreatedAt.UnixMicro(), d.Sink)
		return err
	})
}

func (s *DB) moveSink(ctx context.Context, id, eventType string, c codexgov.SinkCursor, more func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("compliance sinks", err)
	}
	defer tx.Rollback()
	var raw string
	if err := tx.QueryRowContext(ctx, `SELECT cursor FROM compliance_sinks WHERE id = $1`, id).Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("sink %s was removed", id)
		}
		return dbError("compliance sinks", err)
	}
	cursor := map[string]codexgov.SinkCursor{}
	json.Unmarshal([]byte(raw), &cursor)
	cursor[eventType] = c
	b, _ := json.Marshal(cursor)
	if _, err := tx.ExecContext(ctx, `UPDATE compliance_sinks SET cursor = $1 WHERE id = $2`, string(b), id); err != nil {
		return dbError("compliance sinks", err)
	}
	if err := more(tx); err != nil {
		return dbError("compliance sinks", err)
	}
	return commitError("compliance sinks", tx.Commit())
}

// FailSink records a failed delivery: the attempt count, when to try
// again, and the error.
func (s *DB) FailSink(ctx context.Context, id string, attempts int, next time.Time, msg string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE compliance_sinks SET attempts = $1, next_attempt = $2, last_error = $3, last_error_at = $4 WHERE id = $5`, attempts, next.UnixMicro(), msg, now.UnixMicro(), id)
	return dbError("compliance sinks", err)
}

// DeadLetters lists a sink's dead letters, newest first.
func (s *DB) DeadLetters(ctx context.Context, ws, name string) ([]*codexgov.DeadLetter, error) {
	k, err := s.sink(ctx, s.db, ws, name)
	if err != nil {
		return nil, dbError("compliance sinks", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT event_type, file_id, line, count, error, created_at FROM compliance_dead_letters WHERE sink_id = $1 ORDER BY created_at DESC LIMIT 1000`, k.ID)
	if err != nil {
		return nil, dbError("compliance sinks", err)
	}
	defer rows.Close()
	out := []*codexgov.DeadLetter{}
	for rows.Next() {
		d := &codexgov.DeadLetter{Sink: name}
		var created int64
		if err := rows.Scan(&d.EventType, &d.File, &d.Line, &d.Count, &d.Error, &created); err != nil {
			return nil, dbError("compliance sinks", err)
		}
		d.CreatedAt = fromMicros(created)
		out = append(out, d)
	}
	return out, dbError("compliance sinks", rows.Err())
}

// ComplianceFilesFromSeq lists a chain's files from seq on, by seq.
func (s *DB) ComplianceFilesFromSeq(ctx context.Context, ws, eventType string, seq int64, limit int) ([]*codexgov.ComplianceFile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+complianceFileColumns+` FROM compliance_files WHERE workspace_id = $1 AND event_type = $2 AND seq >= $3 ORDER BY seq LIMIT $4`, ws, eventType, seq, limit)
	if err != nil {
		return nil, dbError("compliance", err)
	}
	defer rows.Close()
	var out []*codexgov.ComplianceFile
	for rows.Next() {
		f, err := scanComplianceFile(rows)
		if err != nil {
			return nil, dbError("compliance", err)
		}
		out = append(out, f)
	}
	return out, dbError("compliance", rows.Err())
}

// SinkLag is a sink's backlog of one event type: the sealed records from
// its cursor on, and the oldest such file's end_time.
func (s *DB) SinkLag(ctx context.Context, ws, eventType string, c codexgov.SinkCursor) (int64, time.Time, error) {
	var n, oldest sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT SUM(event_count), MIN(end_time) FROM compliance_files WHERE workspace_id = $1 AND event_type = $2 AND seq >= $3 AND replaced_by = ''`, ws, eventType, c.Seq).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, dbError("compliance sinks", err)
	}
	if !n.Valid {
		return 0, time.Time{}, nil
	}
	return max(0, n.Int64-c.Line), fromMicros(oldest.Int64), nil
}
