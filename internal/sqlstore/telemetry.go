package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// telemetryBatch is how many rows one INSERT carries.
const telemetryBatch = 200

const telemetryColumns = `workspace_id, event_id, time, received_at, type, name, session_id, surface, model, identity, credential, device, host, claim_email, claim_mismatch, data, attributes, client_ip`

// AppendTelemetry stores events; an event already stored (same
// workspace and ID) is skipped. It returns once they are committed: the
// caller acknowledges the sender only then. Concurrent calls share
// transactions (group commit): each waits for the commit that carries its
// events, and a failed commit fails every call in it (they are retried,
// and the event IDs make the retry store each event once).
func (s *DB) AppendTelemetry(ctx context.Context, evs []codexgov.TelemetryEvent) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	s.groupOnce.Do(s.startGroupCommit)
	req := &appendReq{evs: evs, done: make(chan appendResult, 1)}
	select {
	case s.group <- req:
	case <-s.closed:
		return 0, &codexgov.Error{Code: codexgov.EUNAVAILABLE, Message: "the store is closing", Op: "telemetry"}
	case <-ctx.Done():
		return 0, dbError("telemetry", ctx.Err())
	}
	select {
	case r := <-req.done:
		return r.stored, r.err
	case <-s.closed:
		return 0, &codexgov.Error{Code: codexgov.EUNAVAILABLE, Message: "the store closed before the events were committed; send them again", Op: "telemetry"}
	case <-ctx.Done():
		// The events may still be committed; a resend is stored once.
		return 0, dbError("telemetry", ctx.Err())
	}
}

type appendReq struct {
	evs  []codexgov.TelemetryEvent
	done chan appendResult
}

type appendResult struct {
	stored int
	err    error
}

// groupMaxEvents bounds one group commit.
const groupMaxEvents = 20000

// groupTimeout bounds one group commit's transaction.
const groupTimeout = 30 * time.Second

func (s *DB) startGroupCommit() {
	s.group = make(chan *appendReq, 256)
	// SQLite has one writer; PostgreSQL commits groups in parallel too.
	writers := 1
	if s.postgres {
		writers = 4
	}
	for range writers {
		go s.groupCommitter()
	}
}

func (s *DB) groupCommitter() {
	for {
		var first *appendReq
		select {
		case first = <-s.group:
		case <-s.closed:
			return
		}
		reqs, n := []*appendReq{first}, len(first.evs)
	more:
		for n < groupMaxEvents {
			select {
			case r := <-s.group:
				reqs, n = append(reqs, r), n+len(r.evs)
			default:
				break more
			}
		}
		counts, err := s.commitGroup(reqs)
		for i, r := range reqs {
			if err != nil {
				r.done <- appendResult{err: err}
			} else {
				r.done <- appendResult{stored: counts[i]}
			}
		}
	}
}

// commitGroup writes the requests' events in one transaction, with
// multi-row inserts, and returns how many of each were new.
func (s *DB) commitGroup(reqs []*appendReq) ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	if s.postgres {
		if err := s.ensurePartitions(ctx, reqs); err != nil {
			return nil, dbError("telemetry", err)
		}
	}
	// Each event once, in key order: concurrent groups then take their
	// row locks in the same order and never deadlock; an event the group
	// holds twice counts for the first call that sent it.
	owner := map[eventKey]int{}
	var evs []codexgov.TelemetryEvent
	for i, r := range reqs {
		for _, e := range r.evs {
			k := eventKey{e.Workspace, e.ID}
			if _, dup := owner[k]; !dup {
				owner[k] = i
				evs = append(evs, e)
			}
		}
	}
	slices.SortFunc(evs, func(a, b codexgov.TelemetryEvent) int {
		return cmp.Or(cmp.Compare(a.Workspace, b.Workspace), cmp.Compare(a.ID, b.ID))
	})
	// The workspaces' data keys are found (or made) before the
	// transaction: on SQLite it holds the only writer.
	keys := map[string]*dataKey{}
	for _, e := range evs {
		if _, ok := keys[e.Workspace]; !ok {
			k, err := s.dataKeyFor(ctx, e.Workspace)
			if err != nil {
				return nil, err
			}
			keys[e.Workspace] = k
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("telemetry", err)
	}
	defer tx.Rollback()
	counts := make([]int, len(reqs))
	for start := 0; start < len(evs); start += telemetryBatch {
		batch := evs[start:min(start+telemetryBatch, len(evs))]
		added, err := insertEvents(ctx, tx, s.postgres, batch, keys)
		if err != nil {
			return nil, dbError("telemetry", err)
		}
		isNew := make(map[eventKey]bool, len(added))
		for _, k := range added {
			counts[owner[k]]++
			isNew[k] = true
		}
		// The analytics rollups take each new event once: queued in its
		// transaction (a replayed event adds nothing).
		fresh := make([]*codexgov.TelemetryEvent, 0, len(added))
		for i := range batch {
			if isNew[eventKey{batch[i].Workspace, batch[i].ID}] {
				fresh = append(fresh, &batch[i])
			}
		}
		if err := s.enqueueRollups(ctx, tx, fresh); err != nil {
			return nil, dbError("analytics rollups", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, commitError("telemetry", err)
	}
	return counts, nil
}

type eventKey struct{ workspace, id string }

// insertEvents inserts a batch with one statement and returns the keys of
// the rows that were new.
func insertEvents(ctx context.Context, tx *sql.Tx, pg bool, batch []codexgov.TelemetryEvent, keys map[string]*dataKey) ([]eventKey, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO telemetry_events (` + telemetryColumns + `) VALUES `)
	args := make([]any, 0, len(batch)*18)
	for i, e := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(placeholders(pg, len(args), 18))
		data, err := json.Marshal(e.Data)
		if err != nil {
			return nil, err
		}
		attrs, err := json.Marshal(e.Attributes)
		if err != nil {
			return nil, err
		}
		args = append(args, e.Workspace, e.ID, e.Time.UnixMicro(), e.ReceivedAt.UnixMicro(), e.Type, e.Name, e.Session, e.Surface, e.Model,
			e.Identity, e.Credential, e.Device, e.Host, e.ClaimEmail, e.ClaimMismatch, string(data), sealText(keys[e.Workspace], string(attrs), eventAAD(e.Workspace, e.ID)), e.ClientIP)
	}
	b.WriteString(` ON CONFLICT DO NOTHING RETURNING workspace_id, event_id`)
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var added []eventKey
	for rows.Next() {
		var k eventKey
		if err := rows.Scan(&k.workspace, &k.id); err != nil {
			return nil, err
		}
		added = append(added, k)
	}
	return added, rows.Err()
}

// dayMicros is one UTC day in microseconds: the partition width.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// partitionName is the PostgreSQL partition of events of the UTC day
// starting at micros.
func partitionName(day int64) string {
	return "telemetry_events_" + time.UnixMicro(day*dayMicros).UTC().Format("20060102")
}

func floorDay(micros int64) int64 {
	d := micros / dayMicros
	if micros < 0 && micros%dayMicros != 0 {
		d--
	}
	return d
}

// ensurePartitions creates the day partitions the requests' events fall
// in (PostgreSQL; events are partitioned by day so that retention drops
// whole partitions).
func (s *DB) ensurePartitions(ctx context.Context, reqs []*appendReq) error {
	for _, r := range reqs {
		for _, e := range r.evs {
			day := floorDay(e.Time.UnixMicro())
			if _, ok := s.partitions.Load(day); ok {
				continue
			}
			name := partitionName(day)
			_, err := s.db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF telemetry_events FOR VALUES FROM (%d) TO (%d)`, name, day*dayMicros, (day+1)*dayMicros))
			if err != nil {
				// Another replica may have created it at the same moment.
				var n int
				if qerr := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_class WHERE relname = $1`, name).Scan(&n); qerr != nil || n == 0 {
					return err
				}
			}
			s.partitions.Store(day, true)
		}
	}
	return nil
}

// PruneTelemetry removes telemetry older than before: on PostgreSQL by
// dropping the day partitions that end by then, on SQLite by deleting
// rows; metrics of earlier days and spans that started earlier too. It
// returns how many partitions or event rows went.
func (s *DB) PruneTelemetry(ctx context.Context, before time.Time) (int64, error) {
	cut := before.UnixMicro()
	var removed int64
	if s.postgres {
		rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry_events'`)
		if err != nil {
			return 0, dbError("telemetry retention", err)
		}
		var drop []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return 0, dbError("telemetry retention", err)
			}
			day, err := time.Parse("20060102", strings.TrimPrefix(name, "telemetry_events_"))
			if err == nil && day.Add(24*time.Hour).UnixMicro() <= cut {
				drop = append(drop, name)
			}
		}
		rows.Close()
		for _, name := range drop {
			if _, err := s.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
				return removed, dbError("telemetry retention", err)
			}
			day, _ := time.Parse("20060102", strings.TrimPrefix(name, "telemetry_events_"))
			s.partitions.Delete(floorDay(day.UnixMicro()))
			removed++
		}
	} else {
		for {
			res, err := s.db.ExecContext(ctx, `DELETE FROM telemetry_events WHERE rowid IN (SELECT rowid FROM telemetry_events WHERE time < $1 LIMIT 5000)`, cut)
			if err != nil {
				return removed, dbError("telemetry retention", err)
			}
			n, _ := res.RowsAffected()
			removed += n
			if n == 0 {
				break
			}
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM telemetry_metrics WHERE day < $1`, before.UTC().Format("2006-01-02")); err != nil {
		return removed, dbError("telemetry retention", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM telemetry_spans WHERE start < $1`, cut); err != nil {
		return removed, dbError("telemetry retention", err)
	}
	return removed, nil
}

// TelemetryEvents lists a workspace's telemetry events, newest first.
func (s *DB) TelemetryEvents(ctx context.Context, ws string, f codexgov.TelemetryFilter) ([]*codexgov.TelemetryEvent, error) {
	q := `SELECT ` + telemetryColumns + ` FROM telemetry_events WHERE workspace_id = $1`
	q, args := telemetryWhere(q, []any{ws}, f.Identity, f.Since, f.Until, [2]any{"session_id = ?", f.Session}, [2]any{"type = ?", f.Type})
	q += " ORDER BY time DESC, event_id LIMIT " + telemetryLimit(f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("telemetry", err)
	}
	return s.scanTelemetry(ctx, rows)
}

// eventAAD binds an event's encrypted attributes to the event.
func eventAAD(ws, id string) string { return "telemetry event:" + ws + "/" + id }

// scanTelemetry reads telemetryColumns rows, closes them, then decrypts
// the attributes (after closing: a data key may need a query).
func (s *DB) scanTelemetry(ctx context.Context, rows *sql.Rows) ([]*codexgov.TelemetryEvent, error) {
	out, attrs, err := scanTelemetryRows(rows)
	if err != nil {
		return nil, err
	}
	for i, e := range out {
		plain, err := s.openText(ctx, attrs[i], eventAAD(e.Workspace, e.ID))
		if err != nil {
			return nil, codexgov.Errorf(codexgov.EINTERNAL, "telemetry event %s: %v", e.ID, err)
		}
		json.Unmarshal([]byte(plain), &e.Attributes)
	}
	return out, nil
}

func scanTelemetryRows(rows *sql.Rows) ([]*codexgov.TelemetryEvent, []string, error) {
	defer rows.Close()
	var out []*codexgov.TelemetryEvent
	var stored []string
	for rows.Next() {
		var e codexgov.TelemetryEvent
		var t, recv int64
		var data, attrs string
		if err := rows.Scan(&e.Workspace, &e.ID, &t, &recv, &e.Type, &e.Name, &e.Session, &e.Surface, &e.Model, &e.Identity, &e.Credential,
			&e.Device, &e.Host, &e.ClaimEmail, &e.ClaimMismatch, &data, &attrs, &e.ClientIP); err != nil {
			return nil, nil, dbError("telemetry", err)
		}
		e.Time, e.ReceivedAt = time.UnixMicro(t).UTC(), time.UnixMicro(recv).UTC()
		json.Unmarshal([]byte(data), &e.Data)
		out = append(out, &e)
		stored = append(stored, attrs)
	}
	return out, stored, dbError("telemetry", rows.Err())
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

// TelemetryActivity summarises sessions in SQL: one row per session,
// identity and device, with its counts and distinct tools.
func (s *DB) TelemetryActivity(ctx context.Context, ws string, f codexgov.ActivityFilter) ([]*codexgov.SessionActivity, error) {
	field := func(name string) string { return `json_extract(data, '$.` + name + `')` }
	number := func(name string) string { return `COALESCE(` + field(name) + `, 0)` }
	agg := `group_concat(DISTINCT CASE WHEN type = 'tool_result' THEN ` + field("tool_name") + ` END)`
	if s.postgres {
		field = func(name string) string { return `(data::jsonb ->> '` + name + `')` }
		number = func(name string) string { return `COALESCE((data::jsonb ->> '` + name + `')::BIGINT, 0)` }
		agg = `string_agg(DISTINCT CASE WHEN type = 'tool_result' THEN ` + field("tool_name") + ` END, ',')`
	}
	q := `SELECT session_id, identity, device, MAX(surface), MAX(model), MIN(time), MAX(time),
		SUM(CASE WHEN type = 'prompt' THEN 1 ELSE 0 END),
		SUM(CASE WHEN type = 'token_usage' THEN ` + number("total_tokens") + ` ELSE 0 END),
		SUM(CASE WHEN type = 'tool_result' THEN 1 ELSE 0 END),
		SUM(CASE WHEN type = 'tool_decision' AND ` + field("decision") + ` LIKE 'approved%' THEN 1 ELSE 0 END),
		SUM(CASE WHEN type = 'tool_decision' AND ` + field("decision") + ` NOT LIKE 'approved%' THEN 1 ELSE 0 END),
		SUM(CASE WHEN type = 'bypass' THEN 1 ELSE 0 END),
		COALESCE(` + agg + `, '')
		FROM telemetry_events WHERE workspace_id = $1 AND session_id <> ''`
	q, args := telemetryWhere(q, []any{ws}, f.Identity, f.Since, f.Until)
	q += ` GROUP BY session_id, identity, device ORDER BY MAX(time) DESC, session_id LIMIT ` + telemetryLimit(f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("telemetry activity", err)
	}
	defer rows.Close()
	out := []*codexgov.SessionActivity{}
	for rows.Next() {
		var a codexgov.SessionActivity
		var start, last int64
		var tools string
		if err := rows.Scan(&a.Session, &a.Identity, &a.Device, &a.Surface, &a.Model, &start, &last, &a.Prompts, &a.Tokens, &a.ToolCalls,
			&a.Approvals, &a.Denials, &a.Bypasses, &tools); err != nil {
			return nil, dbError("telemetry activity", err)
		}
		a.Start, a.Last = time.UnixMicro(start).UTC(), time.UnixMicro(last).UTC()
		a.Tools = []string{}
		for _, t := range strings.Split(tools, ",") {
			if t != "" {
				a.Tools = append(a.Tools, t)
			}
		}
		slices.Sort(a.Tools)
		out = append(out, &a)
	}
	return out, dbError("telemetry activity", rows.Err())
}

// MintTelemetryToken audits a telemetry token minted for an active user.
// The snapshot does not change (the token is checked against the user).
func (s *DB) MintTelemetryToken(ctx context.Context, ws string, m codexgov.TelemetryTokenMint) error {
	email, err := codexgov.NormalizeEmail("/user", m.User)
	if err != nil {
		return err
	}
	return s.audited(ctx, ws, "telemetry_token.mint", "user:"+email, false, func(tx *sql.Tx) (any, any, error) {
		w, err := workspace(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		if !w.Settings.TelemetryOn() {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "workspace %q has telemetry off: turn it on first (codexgov admin settings set --telemetry metadata)", ws)
		}
		u, err := user(ctx, tx, ws, email)
		if err != nil {
			return nil, nil, err
		}
		if !u.Active {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "user %q is deactivated: a telemetry token for them would not be accepted", email)
		}
		return nil, map[string]string{"user": email, "device": m.Device}, nil
	})
}

// telemetryWhere appends the filters the telemetry reads share (identity
// and time range) to q, numbering their placeholders after args.
func telemetryWhere(q string, args []any, identity string, since, until time.Time, more ...[2]any) (string, []any) {
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
	}
	if identity != "" {
		add("identity = ?", identity)
	}
	for _, m := range more {
		if m[1] != "" {
			add(m[0].(string), m[1])
		}
	}
	if !since.IsZero() {
		add("time >= ?", since.UnixMicro())
	}
	if !until.IsZero() {
		add("time < ?", until.UnixMicro())
	}
	return q, args
}

// telemetryLimit is a read's row limit: at most and by default 1000.
func telemetryLimit(n int) string {
	if n <= 0 || n > 1000 {
		n = 1000
	}
	return strconv.Itoa(n)
}

// LatestTelemetry is the time of the workspace's newest stored event: one
// index probe (workspace, time).
func (s *DB) LatestTelemetry(ctx context.Context, ws string) (time.Time, error) {
	var t sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(time) FROM telemetry_events WHERE workspace_id = $1`, ws).Scan(&t); err != nil {
		return time.Time{}, dbError("telemetry", err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return time.UnixMicro(t.Int64).UTC(), nil
}
