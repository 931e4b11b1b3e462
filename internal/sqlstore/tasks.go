package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// CodexTasks pages through the workspace's sessions by their last event,
// newest first, with a keyset cursor ("LAST_MICROS/SESSION", base64url).
func (s *DB) CodexTasks(ctx context.Context, ws string, limit int, cursor string) (*codexgov.TaskPage, error) {
	q := `SELECT session_id, MIN(identity), MIN(time), MAX(time) FROM telemetry_events WHERE workspace_id = $1 AND session_id <> '' GROUP BY session_id`
	args := []any{ws}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		at, session, ok := strings.Cut(string(raw), "/")
		n, perr := strconv.ParseInt(at, 10, 64)
		if err != nil || !ok || perr != nil {
			return nil, invalid("?cursor", "not a cursor this server gave; start again without one")
		}
		args = append(args, n, session)
		q += ` HAVING MAX(time) < $2 OR (MAX(time) = $2 AND session_id > $3)`
	}
	q += ` ORDER BY MAX(time) DESC, session_id LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("codex tasks", err)
	}
	type row struct {
		session, identity string
		first, last       int64
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.session, &r.identity, &r.first, &r.last); err != nil {
			rows.Close()
			return nil, dbError("codex tasks", err)
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("codex tasks", err)
	}
	page := &codexgov.TaskPage{Data: []*codexgov.CodexTask{}}
	if len(rs) > limit {
		rs, page.HasMore = rs[:limit], true
	}
	for _, r := range rs {
		t, err := s.task(ctx, ws, r.session, r.identity, r.first, r.last)
		if err != nil {
			return nil, err
		}
		page.Data = append(page.Data, t)
	}
	if page.HasMore {
		last := rs[len(rs)-1]
		c := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d/%s", last.last, last.session))
		page.Cursor = &c
	}
	return page, nil
}

// CodexTask returns one session as a task.
func (s *DB) CodexTask(ctx context.Context, ws, id string) (*codexgov.CodexTask, error) {
	var identity sql.NullString
	var first, last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(identity), MIN(time), MAX(time) FROM telemetry_events WHERE workspace_id = $1 AND session_id = $2`, ws, id).Scan(&identity, &first, &last); err != nil {
		return nil, dbError("codex tasks", err)
	}
	if !first.Valid || id == "" {
		return nil, notFound("codex task %q not found", id)
	}
	return s.task(ctx, ws, id, identity.String, first.Int64, last.Int64)
}

// task fills a task: its title is the first prompt's text when kept, else
// "(redacted)"; created_by_id the user's ID when the user exists.
func (s *DB) task(ctx context.Context, ws, session, identity string, first, last int64) (*codexgov.CodexTask, error) {
	t := &codexgov.CodexTask{ID: session, Identity: identity, Title: "(redacted)",
		CreatedAt: time.UnixMicro(first).UTC().Format("2006-01-02T15:04:05.000000Z"), UpdatedAt: time.UnixMicro(last).UTC().Format("2006-01-02T15:04:05.000000Z")}
	var id, attrs string
	err := s.db.QueryRowContext(ctx, `SELECT event_id, attributes FROM telemetry_events WHERE workspace_id = $1 AND session_id = $2 AND type = 'prompt' ORDER BY time, event_id LIMIT 1`, ws, session).Scan(&id, &attrs)
	if err != nil && err != sql.ErrNoRows {
		return nil, dbError("codex tasks", err)
	}
	if attrs, err = s.openText(ctx, attrs, eventAAD(ws, id)); err != nil {
		return nil, codexgov.Errorf(codexgov.EINTERNAL, "codex task %s: %v", session, err)
	}
	var a map[string]any
	if json.Unmarshal([]byte(attrs), &a) == nil {
		if p, ok := a["prompt"].(string); ok && p != "" && p != "[REDACTED]" {
			if len(p) > 200 {
				p = strings.ToValidUTF8(p[:200], "") + "…"
			}
			t.Title = p
		}
	}
	if email, ok := strings.CutPrefix(identity, "user:"); ok {
		if u, err := user(ctx, s.db, ws, email); err == nil {
			t.CreatedByID = u.ID
		}
	}
	if t.CreatedByID == "" {
		t.CreatedByID = identity
	}
	return t, nil
}
