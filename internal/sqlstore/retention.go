package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

const legalHoldColumns = `id, workspace_id, user_email, reason, created_by, created_at, released_at`

func scanHold(row interface{ Scan(...any) error }) (*codexgov.LegalHold, error) {
	var h codexgov.LegalHold
	var created, released int64
	if err := row.Scan(&h.ID, &h.Workspace, &h.User, &h.Reason, &h.CreatedBy, &created, &released); err != nil {
		return nil, err
	}
	h.CreatedAt = fromMicros(created)
	if released != 0 {
		h.ReleasedAt = fromMicros(released)
	}
	return &h, nil
}

// CreateLegalHold sets a hold on a user of the workspace, or on the whole
// workspace, audited in the same transaction.
func (s *DB) CreateLegalHold(ctx context.Context, ws string, in codexgov.LegalHoldInput) (*codexgov.LegalHold, error) {
	reason := strings.TrimSpace(in.Reason)
	if reason == "" || len(reason) > 1000 {
		return nil, invalid("/reason", "a hold needs a reason of 1 to 1000 characters (the matter it is for)")
	}
	email := ""
	if in.User != "" {
		e, err := codexgov.NormalizeEmail("/user", in.User)
		if err != nil {
			return nil, err
		}
		email = e
	}
	actor, _ := codexgov.ActorFrom(ctx)
	h := &codexgov.LegalHold{ID: codexgov.NewID("hold"), Workspace: ws, User: email, Reason: reason, CreatedBy: actor.ID, CreatedAt: fromMicros(s.now())}
	target := "workspace:" + ws
	if email != "" {
		target = "user:" + email
	}
	err := s.change(ctx, ws, "legal_hold.create", target, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		if email != "" {
			if _, err := user(ctx, tx, ws, email); err != nil {
				return nil, nil, err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO legal_holds (`+legalHoldColumns+`) VALUES ($1, $2, $3, $4, $5, $6, 0)`, h.ID, ws, email, reason, h.CreatedBy, h.CreatedAt.UnixMicro())
		return nil, h, err
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseLegalHold lifts a hold, audited.
func (s *DB) ReleaseLegalHold(ctx context.Context, ws, id string) (*codexgov.LegalHold, error) {
	var out *codexgov.LegalHold
	err := s.change(ctx, ws, "legal_hold.release", "legal_hold:"+id, func(tx *sql.Tx) (any, any, error) {
		h, err := scanHold(tx.QueryRowContext(ctx, `SELECT `+legalHoldColumns+` FROM legal_holds WHERE workspace_id = $1 AND id = $2`, ws, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, notFound("legal hold %q not found", id)
		}
		if err != nil {
			return nil, nil, err
		}
		if !h.ReleasedAt.IsZero() {
			out = h
			return nil, nil, errUnchanged
		}
		before := *h
		h.ReleasedAt = fromMicros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE legal_holds SET released_at = $3 WHERE workspace_id = $1 AND id = $2`, ws, id, h.ReleasedAt.UnixMicro()); err != nil {
			return nil, nil, err
		}
		out = h
		return before, h, nil
	})
	if errors.Is(err, errUnchanged) {
		return out, codexgov.ErrNoChange
	}
	return out, err
}

// LegalHolds lists a workspace's holds, active ones first, newest first.
func (s *DB) LegalHolds(ctx context.Context, ws string) ([]*codexgov.LegalHold, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+legalHoldColumns+` FROM legal_holds WHERE workspace_id = $1 ORDER BY released_at <> 0, created_at DESC`, ws)
	if err != nil {
		return nil, dbError("legal holds", err)
	}
	defer rows.Close()
	out := []*codexgov.LegalHold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, dbError("legal holds", err)
		}
		out = append(out, h)
	}
	return out, dbError("legal holds", rows.Err())
}

// ExpireRetention removes what each workspace keeps no longer: compliance
// files whose end_time is past their type's retention, and raw telemetry
// past the longest Codex type's, except what an active hold covers (a
// workspace hold: everything; a user hold: the files that name the user
// and the user's events). On PostgreSQL, event partitions are then
// dropped whole when every workspace's retention has passed them and no
// hold is active anywhere (and metrics and spans of days past the longest
// retention go); otherwise expired rows are deleted.
func (s *DB) ExpireRetention(ctx context.Context, now time.Time) (codexgov.Expired, error) {
	var out codexgov.Expired
	rows, err := s.db.QueryContext(ctx, `SELECT id, compliance_retention FROM workspaces`)
	if err != nil {
		return out, dbError("retention", err)
	}
	type wsRet struct {
		id  string
		set codexgov.Settings
	}
	var wss []wsRet
	for rows.Next() {
		var w wsRet
		var raw string
		if err := rows.Scan(&w.id, &raw); err != nil {
			rows.Close()
			return out, dbError("retention", err)
		}
		json.Unmarshal([]byte(raw), &w.set.ComplianceRetention)
		wss = append(wss, w)
	}
	rows.Close()
	anyHold := false
	longest := codexgov.DefaultRetentionDays * 24 * time.Hour
	for _, w := range wss {
		holds, err := s.LegalHolds(ctx, w.id)
		if err != nil {
			return out, err
		}
		whole, users := false, []string{}
		for _, h := range holds {
			if h.ReleasedAt.IsZero() {
				anyHold = true
				if h.User == "" {
					whole = true
				} else {
					users = append(users, h.User)
				}
			}
		}
		longest = max(longest, w.set.TelemetryKept())
		if whole {
			continue
		}
		for _, t := range codexgov.ComplianceEventTypes {
			cut := now.Add(-w.set.Retention(t)).UnixMicro()
			q := `SELECT id FROM compliance_files WHERE workspace_id = $1 AND event_type = $2 AND end_time < $3`
			args := []any{w.id, t, cut}
			for _, u := range users {
				args = append(args, "%\n"+u+"\n%")
				q += ` AND actors NOT LIKE $` + itoa(len(args))
			}
			ids, err := s.strings(ctx, q, args...)
			if err != nil {
				return out, err
			}
			for _, id := range ids {
				if _, err := s.db.ExecContext(ctx, `DELETE FROM compliance_chunks WHERE file_id = $1`, id); err != nil {
					return out, dbError("retention", err)
				}
				if _, err := s.db.ExecContext(ctx, `DELETE FROM compliance_files WHERE id = $1`, id); err != nil {
					return out, dbError("retention", err)
				}
				out.Files++
			}
		}
		// Raw events: deleted by row here (partitions below, when safe).
		q := `DELETE FROM telemetry_events WHERE workspace_id = $1 AND time < $2`
		args := []any{w.id, now.Add(-w.set.TelemetryKept()).UnixMicro()}
		for _, u := range users {
			args = append(args, "user:"+u)
			q += ` AND identity <> $` + itoa(len(args))
		}
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return out, dbError("retention", err)
		}
		n, _ := res.RowsAffected()
		out.Events += n
		// Metrics and span summaries by the same rule, so that a hold
		// elsewhere (which keeps partitions) does not keep them forever.
		kept := now.Add(-w.set.TelemetryKept())
		for _, del := range []struct {
			q   string
			cut any
		}{{`DELETE FROM telemetry_metrics WHERE workspace_id = $1 AND day < $2`, kept.UTC().Format("2006-01-02")}, {`DELETE FROM telemetry_spans WHERE workspace_id = $1 AND start < $2`, kept.UnixMicro()}} {
			q, args := del.q, []any{w.id, del.cut}
			for _, u := range users {
				args = append(args, "user:"+u)
				q += ` AND identity <> $` + itoa(len(args))
			}
			if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
				return out, dbError("retention", err)
			}
		}
	}
	if !anyHold {
		n, err := s.PruneTelemetry(ctx, now.Add(-longest))
		if err != nil {
			return out, err
		}
		out.Partitions = n
	}
	return out, nil
}

func (s *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("retention", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, dbError("retention", err)
		}
		out = append(out, v)
	}
	return out, dbError("retention", rows.Err())
}

func itoa(n int) string { return strconv.Itoa(n) }
