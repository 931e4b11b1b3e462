package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// chunkBytes is the size of a sealed file's stored chunks.
const chunkBytes = 1 << 20

// telemetryTypes are the telemetry rows each Codex event type is made
// from (compliance.FromTelemetry).
func (s *DB) complianceTelemetryWhere(eventType string) string {
	decision := `json_extract(data, '$.decision')`
	if s.postgres {
		decision = `(data::jsonb ->> 'decision')`
	}
	if eventType == codexgov.ComplianceSecurityLog {
		return `(type = 'bypass' OR type = 'security' OR claim_mismatch OR (type = 'tool_decision' AND COALESCE(` + decision + `, '') NOT LIKE 'approved%'))`
	}
	return `type IN ('token_usage', 'prompt', 'tool_result', 'tool_decision', 'model_response')`
}

// ComplianceSources reads, in arrival order, the records of one
// workspace and event type that arrived after cursor and by upTo, at most
// limit: telemetry events for the Codex types, audit events for the audit
// and auth types. next is the cursor after them (cursor itself when there
// are none) and arrived the last one's arrival.
func (s *DB) ComplianceSources(ctx context.Context, ws, eventType, cursor string, upTo time.Time, limit int) ([]*codexgov.TelemetryEvent, []*codexgov.AuditEvent, string, time.Time, error) {
	at, key := int64(0), ""
	if cursor != "" {
		a, k, ok := strings.Cut(cursor, "/")
		n, err := strconv.ParseInt(a, 10, 64)
		if !ok || err != nil {
			return nil, nil, "", time.Time{}, fmt.Errorf("compliance cursor %q is malformed", cursor)
		}
		at, key = n, k
	}
	switch eventType {
	case codexgov.ComplianceCodexLog, codexgov.ComplianceSecurityLog:
		rows, err := s.db.QueryContext(ctx, `SELECT `+telemetryColumns+` FROM telemetry_events WHERE workspace_id = $1 AND (received_at > $2 OR (received_at = $2 AND event_id > $3))
			AND received_at <= $4 AND `+s.complianceTelemetryWhere(eventType)+` ORDER BY received_at, event_id LIMIT `+strconv.Itoa(limit), ws, at, key, upTo.UnixMicro())
		if err != nil {
			return nil, nil, "", time.Time{}, dbError("compliance", err)
		}
		evs, err := s.scanTelemetry(ctx, rows)
		if err != nil || len(evs) == 0 {
			return nil, nil, cursor, time.Time{}, err
		}
		last := evs[len(evs)-1]
		return evs, nil, fmt.Sprintf("%d/%s", last.ReceivedAt.UnixMicro(), last.ID), last.ReceivedAt, nil
	case codexgov.ComplianceAuditLog, codexgov.ComplianceAuthLog:
		var likes []string
		for _, p := range codexgov.AuthActionPrefixes {
			likes = append(likes, "action LIKE '"+p+"%'")
		}
		kind := "(" + strings.Join(likes, " OR ") + ")"
		if eventType == codexgov.ComplianceAuditLog {
			kind = "NOT " + kind
		}
		rows, err := s.db.QueryContext(ctx, `SELECT id, workspace_id, actor, action, target, before, after, request_id, created_at, client_ip, user_agent FROM audit_events
			WHERE workspace_id = $1 AND (created_at > $2 OR (created_at = $2 AND id > $3)) AND created_at <= $4 AND `+kind+` ORDER BY created_at, id LIMIT `+strconv.Itoa(limit),
			ws, at, atoi(key), upTo.UnixMicro())
		if err != nil {
			return nil, nil, "", time.Time{}, dbError("compliance", err)
		}
		defer rows.Close()
		var out []*codexgov.AuditEvent
		var lastAt int64
		var lastID int64
		for rows.Next() {
			var a codexgov.AuditEvent
			var before, after string
			var created int64
			if err := rows.Scan(&a.ID, &a.Workspace, &a.Actor, &a.Action, &a.Target, &before, &after, &a.RequestID, &created, &a.ClientIP, &a.UserAgent); err != nil {
				return nil, nil, "", time.Time{}, dbError("compliance", err)
			}
			a.Before, a.After, a.Time = []byte(before), []byte(after), fromMicros(created)
			lastAt, lastID = created, a.ID
			out = append(out, &a)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, "", time.Time{}, dbError("compliance", err)
		}
		if lastID == 0 {
			return nil, nil, cursor, time.Time{}, nil
		}
		return nil, out, fmt.Sprintf("%d/%d", lastAt, lastID), fromMicros(lastAt), nil
	}
	return nil, nil, "", time.Time{}, fmt.Errorf("unknown compliance event type %q", eventType)
}

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

const complianceFileColumns = `id, workspace_id, event_type, seq, start_time, end_time, max_event_time, event_count, file_name, size, sha256, prev_hash, manifest, signature, cursor, actors, replaces, replaced_by`

func scanComplianceFile(row interface{ Scan(...any) error }) (*codexgov.ComplianceFile, error) {
	var f codexgov.ComplianceFile
	var start, end, maxT int64
	var manifest string
	if err := row.Scan(&f.ID, &f.Workspace, &f.EventType, &f.Seq, &start, &end, &maxT, &f.EventCount, &f.FileName, &f.FileSize, &f.SHA256, &f.PrevHash, &manifest, &f.Signature, &f.Cursor, &f.Actors, &f.Replaces, &f.ReplacedBy); err != nil {
		return nil, err
	}
	f.StartTime, f.EndTime, f.MaxEventTime, f.Manifest = fromMicros(start), fromMicros(end), fromMicros(maxT), []byte(manifest)
	return &f, nil
}

// LastComplianceFile is the newest file of a workspace's chain of one
// event type, or nil.
func (s *DB) LastComplianceFile(ctx context.Context, ws, eventType string) (*codexgov.ComplianceFile, error) {
	f, err := scanComplianceFile(s.db.QueryRowContext(ctx, `SELECT `+complianceFileColumns+` FROM compliance_files WHERE workspace_id = $1 AND event_type = $2 ORDER BY seq DESC LIMIT 1`, ws, eventType))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return f, dbError("compliance", err)
}

// PutComplianceFile stores a sealed file and its body in one
// transaction; a file with the same place in its chain (another replica
// sealed it first) is a conflict and nothing is written.
func (s *DB) PutComplianceFile(ctx context.Context, f *codexgov.ComplianceFile, body []byte) error {
	key, err := s.dataKeyFor(ctx, f.Workspace)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("compliance", err)
	}
	defer tx.Rollback()
	if err := insertComplianceFile(ctx, tx, key, f, body); err != nil {
		return err
	}
	return commitError("compliance", tx.Commit())
}

// insertComplianceFile stores a file and its body's chunks (encrypted
// with key when set).
func insertComplianceFile(ctx context.Context, tx *sql.Tx, key *dataKey, f *codexgov.ComplianceFile, body []byte) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO compliance_files (`+complianceFileColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT DO NOTHING`,
		f.ID, f.Workspace, f.EventType, f.Seq, f.StartTime.UnixMicro(), f.EndTime.UnixMicro(), f.MaxEventTime.UnixMicro(), f.EventCount, f.FileName, f.FileSize, f.SHA256, f.PrevHash, string(f.Manifest), f.Signature, f.Cursor, f.Actors, f.Replaces, f.ReplacedBy)
	if err != nil {
		return dbError("compliance", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return codexgov.Errorf(codexgov.ECONFLICT, "compliance file %s %s #%d was sealed by another replica", f.Workspace, f.EventType, f.Seq)
	}
	for n := 0; n*chunkBytes < len(body) || n == 0; n++ {
		chunk := body[n*chunkBytes : min((n+1)*chunkBytes, len(body))]
		if _, err := tx.ExecContext(ctx, `INSERT INTO compliance_chunks (file_id, n, data) VALUES ($1, $2, $3)`, f.ID, n, sealChunk(key, chunk, chunkAAD(f.ID, n))); err != nil {
			return dbError("compliance", err)
		}
	}
	return nil
}

// LatestComplianceEnd is the latest end_time of any of a workspace's
// files: a new file ends after it, so that a client's after cursor, over
// any event types, never passes a file sealed later.
func (s *DB) LatestComplianceEnd(ctx context.Context, ws string) (time.Time, error) {
	var end sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(end_time) FROM compliance_files WHERE workspace_id = $1`, ws).Scan(&end)
	if err != nil || !end.Valid {
		return time.Time{}, dbError("compliance", err)
	}
	return fromMicros(end.Int64), nil
}

// ComplianceFilesNaming lists a workspace's current (not replaced) files
// of the event types that name the user among their actors (any user
// when email is ""), by event type and seq.
func (s *DB) ComplianceFilesNaming(ctx context.Context, ws, email string, types []string) ([]*codexgov.ComplianceFile, error) {
	q := `SELECT ` + complianceFileColumns + ` FROM compliance_files WHERE workspace_id = $1 AND replaced_by = ''`
	args := []any{ws}
	if email != "" {
		// LIKE's wildcards in an email only widen the candidates: the
		// caller reads each file's records.
		args = append(args, "%\n"+email+"\n%")
		q += ` AND actors LIKE $2`
	}
	var ph []string
	for _, t := range types {
		args = append(args, t)
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	q += ` AND event_type IN (` + strings.Join(ph, ", ") + `) ORDER BY event_type, seq`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("compliance", err)
	}
	defer rows.Close()
	var out []*codexgov.ComplianceFile
	for rows.Next() {
		cf, err := scanComplianceFile(rows)
		if err != nil {
			return nil, dbError("compliance", err)
		}
		out = append(out, cf)
	}
	return out, dbError("compliance", rows.Err())
}

// EraseCompliance carries out an erasure in one audited transaction: the
// raw events go, each replaced file loses its body and names its
// replacement, and the replacements are stored. An active legal hold on
// the workspace or on e.Owner refuses it, and nothing changes.
func (s *DB) EraseCompliance(ctx context.Context, ws string, e codexgov.Erasure, repl []codexgov.ComplianceReplacement) (int64, error) {
	key, err := s.dataKeyFor(ctx, ws)
	if err != nil {
		return 0, err
	}
	action, target := "compliance.codex_task_delete", "codex_task:"+e.Session
	if e.User != "" {
		action, target = "compliance.user_erase", "user:"+e.User
	}
	var deleted int64
	err = s.audited(ctx, ws, action, target, false, func(tx *sql.Tx) (any, any, error) {
		var id, user, reason string
		err := tx.QueryRowContext(ctx, `SELECT id, user_email, reason FROM legal_holds WHERE workspace_id = $1 AND released_at = 0 AND (user_email = '' OR user_email = $2) ORDER BY created_at LIMIT 1`, ws, e.Owner).Scan(&id, &user, &reason)
		if err == nil {
			return nil, nil, holdError(id, user, reason)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
		var res sql.Result
		if e.User != "" {
			if res, err = tx.ExecContext(ctx, `DELETE FROM telemetry_events WHERE workspace_id = $1 AND identity = $2`, ws, "user:"+e.User); err != nil {
				return nil, nil, err
			}
			deleted, _ = res.RowsAffected()
			// Their metrics and span summaries are theirs too.
			for _, q := range []string{`DELETE FROM telemetry_metrics WHERE workspace_id = $1 AND identity = $2`, `DELETE FROM telemetry_spans WHERE workspace_id = $1 AND identity = $2`} {
				if _, err := tx.ExecContext(ctx, q, ws, "user:"+e.User); err != nil {
					return nil, nil, err
				}
			}
			var auth []string
			for _, p := range codexgov.AuthActionPrefixes {
				auth = append(auth, "substr(action, 1, "+strconv.Itoa(len(p))+") = '"+p+"'")
			}
			prefix := "user:" + e.User + " ("
			if res, err = tx.ExecContext(ctx, `DELETE FROM audit_events WHERE workspace_id = $1 AND (actor = $2 OR substr(actor, 1, `+strconv.Itoa(len(prefix))+`) = $3) AND (`+strings.Join(auth, " OR ")+`)`,
				ws, "user:"+e.User, prefix); err != nil {
				return nil, nil, err
			}
			n, _ := res.RowsAffected()
			deleted += n
		} else {
			if res, err = tx.ExecContext(ctx, `DELETE FROM telemetry_events WHERE workspace_id = $1 AND session_id = $2`, ws, e.Session); err != nil {
				return nil, nil, err
			}
			deleted, _ = res.RowsAffected()
			if _, err := tx.ExecContext(ctx, `DELETE FROM telemetry_spans WHERE workspace_id = $1 AND session_id = $2`, ws, e.Session); err != nil {
				return nil, nil, err
			}
		}
		for _, r := range repl {
			res, err := tx.ExecContext(ctx, `UPDATE compliance_files SET replaced_by = $1 WHERE id = $2 AND workspace_id = $3 AND replaced_by = ''`, r.New.ID, r.Old.ID, ws)
			if err != nil {
				return nil, nil, err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "compliance file %s was replaced meanwhile", r.Old.ID)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM compliance_chunks WHERE file_id = $1`, r.Old.ID); err != nil {
				return nil, nil, err
			}
			if err := insertComplianceFile(ctx, tx, key, r.New, r.Body); err != nil {
				return nil, nil, err
			}
		}
		files := make([]string, len(repl))
		for i, r := range repl {
			files[i] = r.Old.ID + " → " + r.New.ID
		}
		return nil, map[string]any{"deleted_events": deleted, "replaced_files": files}, nil
	})
	return deleted, err
}

func holdError(id, user, reason string) error {
	on := "the whole workspace"
	if user != "" {
		on = user
	}
	return codexgov.Errorf(codexgov.ECONFLICT, "legal hold %s on %s (%s) blocks deletion: release it first (codexgov admin legal-holds release %s)", id, on, reason, id)
}

// ComplianceFiles lists a workspace's files of the filter's types whose
// end_time is after f.After (and before f.Before), by end_time, and
// whether more follow.
func (s *DB) ComplianceFiles(ctx context.Context, ws string, f codexgov.ComplianceFilter) ([]*codexgov.ComplianceFile, bool, error) {
	q := `SELECT ` + complianceFileColumns + ` FROM compliance_files WHERE workspace_id = $1 AND end_time > $2`
	if !f.IncludeReplaced {
		q += ` AND replaced_by = ''`
	}
	args := []any{ws, f.After.UnixMicro()}
	if !f.Before.IsZero() {
		args = append(args, f.Before.UnixMicro())
		q += ` AND end_time < $3`
	}
	var ph []string
	for _, t := range f.EventTypes {
		args = append(args, t)
		ph = append(ph, "$"+strconv.Itoa(len(args)))
	}
	q += ` AND event_type IN (` + strings.Join(ph, ", ") + `) ORDER BY end_time, id LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, dbError("compliance", err)
	}
	defer rows.Close()
	out := []*codexgov.ComplianceFile{}
	for rows.Next() {
		cf, err := scanComplianceFile(rows)
		if err != nil {
			return nil, false, dbError("compliance", err)
		}
		out = append(out, cf)
	}
	if err := rows.Err(); err != nil {
		return nil, false, dbError("compliance", err)
	}
	if len(out) > f.Limit {
		return out[:f.Limit], true, nil
	}
	return out, false, nil
}

// ComplianceFile returns one of a workspace's files.
func (s *DB) ComplianceFile(ctx context.Context, ws, id string) (*codexgov.ComplianceFile, error) {
	f, err := scanComplianceFile(s.db.QueryRowContext(ctx, `SELECT `+complianceFileColumns+` FROM compliance_files WHERE workspace_id = $1 AND id = $2`, ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("log file %q not found", id)
	}
	return f, dbError("compliance", err)
}

// ComplianceChunk returns chunk n of a file's body; ok is false past the
// last one.
func (s *DB) ComplianceChunk(ctx context.Context, id string, n int) ([]byte, bool, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM compliance_chunks WHERE file_id = $1 AND n = $2`, id, n).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbError("compliance", err)
	}
	plain, err := s.openChunk(ctx, data, chunkAAD(id, n))
	if err != nil {
		return nil, false, codexgov.Errorf(codexgov.EINTERNAL, "compliance file %s chunk %d: %v", id, n, err)
	}
	return plain, true, nil
}

// chunkAAD binds an encrypted chunk to its file and place.
func chunkAAD(id string, n int) string { return "compliance chunk:" + id + "/" + strconv.Itoa(n) }

// ComplianceMaxEventTimes is, per event type, the latest record
// timestamp sealed in the workspace's files (absent when none).
func (s *DB) ComplianceMaxEventTimes(ctx context.Context, ws string, types []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, t := range types {
		var m sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MAX(max_event_time) FROM compliance_files WHERE workspace_id = $1 AND event_type = $2 AND event_count > 0`, ws, t).Scan(&m); err != nil {
			return nil, dbError("compliance", err)
		}
		if m.Valid {
			out[t] = fromMicros(m.Int64)
		}
	}
	return out, nil
}
