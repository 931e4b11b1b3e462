package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/codexgov/codexgov"
)

// usageKey is one rollup row's key within a workspace.
type usageKey struct {
	ws, period, bucket, identity, client, model string
}

type usageDelta struct {
	threads, turns, input, cached, output, reasoning int64
	// users counts, on a workspace row, the people newly active in its
	// bucket, client and model (set when the delta is applied).
	users int64
	// dayThreads and days are a week row's sums of its days' rows: their
	// threads (a thread counted once per day) and, on a person's row, the
	// days they were active; set when the delta is applied. With them a
	// window of days is summed from whole weeks plus the days at its edges.
	dayThreads, days int64
}

// weekOf is the week row holding day row k's day.
func weekOf(k usageKey) usageKey {
	t, _ := time.Parse(time.DateOnly, k.bucket)
	k.period, k.bucket = "week", weekBucket(t)
	return k
}

// Buckets are UTC dates; a week starts on Monday.
func dayBucket(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func weekBucket(t time.Time) string {
	d := t.UTC().Truncate(24 * time.Hour)
	wd := (int(d.Weekday()) + 6) % 7 // Monday 0
	return d.AddDate(0, 0, -wd).Format(time.DateOnly)
}

func count(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// rollupDelta is what some events add to the rollups: counters per row,
// and the sessions each row has seen (a thread counts once per row).
type rollupDelta struct {
	deltas  map[usageKey]*usageDelta
	threads map[usageKey]map[string]bool
}

func newRollupDelta() *rollupDelta {
	return &rollupDelta{deltas: map[usageKey]*usageDelta{}, threads: map[usageKey]map[string]bool{}}
}

func (rd *rollupDelta) add(k usageKey, d usageDelta, session string) {
	acc := rd.deltas[k]
	if acc == nil {
		acc = &usageDelta{}
		rd.deltas[k] = acc
	}
	acc.turns += d.turns
	acc.input += d.input
	acc.cached += d.cached
	acc.output += d.output
	acc.reasoning += d.reasoning
	if session != "" {
		if rd.threads[k] == nil {
			rd.threads[k] = map[string]bool{}
		}
		rd.threads[k][session] = true
	}
}

// computeRollups is what events add: a turn is a prompt, tokens come from
// response.completed, and every event of a session marks its thread.
func computeRollups(evs []*codexgov.TelemetryEvent) *rollupDelta {
	rd := newRollupDelta()
	for _, e := range evs {
		var d usageDelta
		switch e.Type {
		case codexgov.TelemetryPrompt:
			d.turns = 1
		case codexgov.TelemetryTokenUsage:
			d.input, d.cached, d.output, d.reasoning = count(e.Data["input_tokens"]), count(e.Data["cached_tokens"]), count(e.Data["output_tokens"]), count(e.Data["reasoning_tokens"])
		case codexgov.TelemetryModelResponse:
			// The gateway's count (tokens, and a turn on a turn's first
			// request), only where no telemetry counts them.
			if e.Data["count_tokens"] == true {
				d.turns = count(e.Data["turns"])
				d.input, d.cached, d.output, d.reasoning = count(e.Data["input_tokens"]), count(e.Data["cached_tokens"]), count(e.Data["output_tokens"]), count(e.Data["reasoning_tokens"])
			}
		}
		if e.Session == "" && d == (usageDelta{}) {
			continue
		}
		client := codexgov.AnalyticsClientID(e.Surface)
		for _, pb := range [][2]string{{"day", dayBucket(e.Time)}, {"week", weekBucket(e.Time)}} {
			for _, ident := range []string{e.Identity, "*"} {
				for _, cm := range [][2]string{{client, e.Model}, {client, "*"}, {"*", e.Model}, {"*", "*"}} {
					if cm[1] == "" {
						continue // no model named: counted in the totals and per client only
					}
					rd.add(usageKey{e.Workspace, pb[0], pb[1], ident, cm[0], cm[1]}, d, e.Session)
				}
			}
		}
	}
	return rd
}

// pendingRollup is one queued delta of one workspace, as stored: rows
// [period, bucket, identity, client, model, turns, input, cached, output,
// reasoning] and threads [period, bucket, identity, client, model, session].
type pendingRollup struct {
	U [][]any    `json:"u"`
	T [][]string `json:"t"`
}

// enqueueRollups queues what newly stored events add to the rollups, in
// their transaction: one small row per workspace, so that ingest never
// waits on the rollup rows other transactions are updating. The queue is
// applied by DrainAnalytics (a background worker, and every usage read
// first), each row exactly once.
func (s *DB) enqueueRollups(ctx context.Context, tx *sql.Tx, evs []*codexgov.TelemetryEvent) error {
	rd := computeRollups(evs)
	byWS := map[string]*pendingRollup{}
	get := func(ws string) *pendingRollup {
		p := byWS[ws]
		if p == nil {
			p = &pendingRollup{}
			byWS[ws] = p
		}
		return p
	}
	for k, d := range rd.deltas {
		get(k.ws).U = append(get(k.ws).U, []any{k.period, k.bucket, k.identity, k.client, k.model, d.turns, d.input, d.cached, d.output, d.reasoning})
	}
	for k, ss := range rd.threads {
		for sess := range ss {
			get(k.ws).T = append(get(k.ws).T, []string{k.period, k.bucket, k.identity, k.client, k.model, sess})
		}
	}
	for ws, p := range byWS {
		b, _ := json.Marshal(p)
		if _, err := tx.ExecContext(ctx, `INSERT INTO analytics_pending (workspace_id, payload) VALUES ($1, $2)`, ws, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// DrainAnalytics applies the queued rollup deltas (of one workspace, or
// all when ws is ""), oldest first, each batch in one transaction that
// deletes what it applied. Replicas drain at once safely: on PostgreSQL a
// batch skips rows another holds.
func (s *DB) DrainAnalytics(ctx context.Context, ws string) error {
	for {
		n, err := s.drainOnce(ctx, ws)
		if err != nil || n == 0 {
			return err
		}
	}
}

func (s *DB) drainOnce(ctx context.Context, ws string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("analytics", err)
	}
	defer tx.Rollback()
	n, err := s.drainTx(ctx, tx, ws, 200)
	if err != nil || n == 0 {
		return 0, dbError("analytics", err)
	}
	return n, commitError("analytics", tx.Commit())
}

// drainTx applies up to limit queued rows in tx.
func (s *DB) drainTx(ctx context.Context, tx *sql.Tx, ws string, limit int) (int, error) {
	q := `SELECT id, workspace_id, payload FROM analytics_pending`
	var args []any
	if ws != "" {
		q += ` WHERE workspace_id = $1`
		args = append(args, ws)
	}
	q += ` ORDER BY id LIMIT ` + strconv.Itoa(limit)
	if s.postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	rd := newRollupDelta()
	var ids []any
	for rows.Next() {
		var id int64
		var w, payload string
		if err := rows.Scan(&id, &w, &payload); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
		var p pendingRollup
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			rows.Close()
			return 0, fmt.Errorf("analytics queue row %d: %w", id, err)
		}
		for _, u := range p.U {
			if len(u) != 10 {
				continue
			}
			str := func(i int) string { v, _ := u[i].(string); return v }
			rd.add(usageKey{w, str(0), str(1), str(2), str(3), str(4)}, usageDelta{turns: count(u[5]), input: count(u[6]), cached: count(u[7]), output: count(u[8]), reasoning: count(u[9])}, "")
		}
		for _, t := range p.T {
			if len(t) == 6 {
				rd.add(usageKey{w, t[0], t[1], t[2], t[3], t[4]}, usageDelta{}, t[5])
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := applyDelta(ctx, tx, s.postgres, rd); err != nil {
		return 0, err
	}
	ph := make([]string, len(ids))
	for i := range ids {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM analytics_pending WHERE id IN (`+strings.Join(ph, ",")+`)`, ids...); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// applyRollups adds events to the rollups in tx (the rebuild).
func (s *DB) applyRollups(ctx context.Context, tx *sql.Tx, evs []*codexgov.TelemetryEvent) error {
	return applyDelta(ctx, tx, s.postgres, computeRollups(evs))
}

// applyDelta writes a delta: new (row, session) pairs count a thread each.
func applyDelta(ctx context.Context, tx *sql.Tx, pg bool, rd *rollupDelta) error {
	deltas, threads := rd.deltas, rd.threads
	if len(deltas) == 0 {
		return nil
	}
	// New threads: the (row, session) pairs not counted before.
	type threadRow struct {
		k       usageKey
		session string
	}
	var rows []threadRow
	for k, ss := range threads {
		for sess := range ss {
			rows = append(rows, threadRow{k, sess})
		}
	}
	slices.SortFunc(rows, func(a, b threadRow) int {
		return cmp.Or(cmpKey(a.k, b.k), cmp.Compare(a.session, b.session))
	})
	values := make([][]any, len(rows))
	for n, r := range rows {
		values[n] = []any{r.k.ws, r.k.period, r.k.bucket, r.k.identity, r.k.client, r.k.model, r.session}
	}
	if err := insertNewKeys(ctx, tx, pg, `INSERT INTO analytics_threads (workspace_id, period, bucket, identity, client_id, model, session_id) VALUES `, "", values, func(k usageKey) {
		deltas[k].threads++
		if k.period == "day" {
			weekDelta(deltas, k).dayThreads++
		}
	}); err != nil {
		return err
	}
	keys := make([]usageKey, 0, len(deltas))
	for k := range deltas {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmpKey)
	// New people: a person's row made now (not there before) adds one to
	// the workspace row's active people of its bucket, client and model,
	// and a person's day row made now one to their week row's days.
	values = values[:0]
	for _, k := range keys {
		if k.identity != "*" {
			values = append(values, []any{k.ws, k.period, k.bucket, k.identity, k.client, k.model})
		}
	}
	if err := insertNewKeys(ctx, tx, pg, `INSERT INTO analytics_usage (workspace_id, period, bucket, identity, client_id, model, threads, turns, input_tokens, cached_tokens, output_tokens, reasoning_tokens, users) VALUES `,
		", 0, 0, 0, 0, 0, 0, 0", values, func(k usageKey) {
			if k.period == "day" {
				weekDelta(deltas, k).days++
			}
			k.identity = "*"
			if d := deltas[k]; d != nil {
				d.users++
			}
		}); err != nil {
		return err
	}
	if len(keys) != len(deltas) { // a week row only a new day row named
		keys = slices.SortedFunc(maps.Keys(deltas), cmpKey)
	}
	for start := 0; start < len(keys); start += 400 {
		batch := keys[start:min(start+400, len(keys))]
		var b strings.Builder
		b.WriteString(`INSERT INTO analytics_usage (workspace_id, period, bucket, identity, client_id, model, threads, turns, input_tokens, cached_tokens, output_tokens, reasoning_tokens, users, day_threads, days) VALUES `)
		args := make([]any, 0, len(batch)*15)
		for i, k := range batch {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(placeholders(pg, len(args), 15))
			d := deltas[k]
			args = append(args, k.ws, k.period, k.bucket, k.identity, k.client, k.model, d.threads, d.turns, d.input, d.cached, d.output, d.reasoning, d.users, d.dayThreads, d.days)
		}
		b.WriteString(` ON CONFLICT (workspace_id, period, bucket, identity, client_id, model) DO UPDATE SET threads = analytics_usage.threads + excluded.threads, users = analytics_usage.users + excluded.users,
			day_threads = analytics_usage.day_threads + excluded.day_threads, days = analytics_usage.days + excluded.days,
			turns = analytics_usage.turns + excluded.turns, input_tokens = analytics_usage.input_tokens + excluded.input_tokens,
			cached_tokens = analytics_usage.cached_tokens + excluded.cached_tokens, output_tokens = analytics_usage.output_tokens + excluded.output_tokens,
			reasoning_tokens = analytics_usage.reasoning_tokens + excluded.reasoning_tokens`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// weekDelta is the delta of day row k's week row (made if the delta has
// none: the week's rows are always written with their days').
func weekDelta(deltas map[usageKey]*usageDelta, k usageKey) *usageDelta {
	wk := weekOf(k)
	d := deltas[wk]
	if d == nil {
		d = &usageDelta{}
		deltas[wk] = d
	}
	return d
}

// insertNewKeys inserts rows (their first six values a usageKey's, then
// the literal columns of fill), 400 to a statement, skipping the ones
// already there, and hands each new row's key to fn: what a delta counts
// once (a thread per row, a person per bucket).
func insertNewKeys(ctx context.Context, tx *sql.Tx, pg bool, insert, fill string, values [][]any, fn func(usageKey)) error {
	for start := 0; start < len(values); start += 400 {
		batch := values[start:min(start+400, len(values))]
		var b strings.Builder
		b.WriteString(insert)
		args := make([]any, 0, len(batch)*len(batch[0]))
		for i, v := range batch {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSuffix(placeholders(pg, len(args), len(v)), ")") + fill + ")")
			args = append(args, v...)
		}
		b.WriteString(` ON CONFLICT DO NOTHING RETURNING workspace_id, period, bucket, identity, client_id, model`)
		res, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		for res.Next() {
			var k usageKey
			if err := res.Scan(&k.ws, &k.period, &k.bucket, &k.identity, &k.client, &k.model); err != nil {
				res.Close()
				return err
			}
			fn(k)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}

func cmpKey(a, b usageKey) int {
	return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.period, b.period), cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.identity, b.identity),
		cmp.Compare(a.client, b.client), cmp.Compare(a.model, b.model))
}

// placeholders is "($n+1, …, $n+k)" on PostgreSQL and "(?, …, ?)" on
// SQLite, whose parser looks each $N name up in a list (a statement of
// thousands of them costs time quadratic in their number) but numbers
// anonymous ones as it goes. A statement using it has only such
// parameters, in order.
func placeholders(pg bool, n, k int) string {
	var b strings.Builder
	b.WriteByte('(')
	for j := range k {
		if j > 0 {
			b.WriteByte(',')
		}
		if pg {
			b.WriteString("$" + strconv.Itoa(n+j+1))
		} else {
			b.WriteByte('?')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// AnalyticsUsage reads the rollups of a page: at most q.Limit (bucket,
// identity) pairs after the cursor, in time order, each with all its rows;
// more says whether pairs follow. Both forms are index seeks whatever the
// workspace's size: a per-user page walks the primary key from the cursor
// ((bucket, identity) row values) for its pairs and joins each pair's rows
// by key (one statement: a range between the first and last pair would
// read every other row of those buckets); a workspace page reads the
// partial index of the workspace rows (identity '*' a literal so that the
// index applies).
func (s *DB) AnalyticsUsage(ctx context.Context, ws string, q codexgov.UsageQuery) ([]codexgov.UsageRollup, bool, error) {
	const cols = `u.bucket, u.identity, u.client_id, u.model, u.threads, u.turns, u.input_tokens, u.cached_tokens, u.output_tokens, u.reasoning_tokens`
	var rows *sql.Rows
	var err error
	if q.Workspace {
		after := q.AfterBucket
		if after < q.From {
			after = "" // from q.From on
		}
		rows, err = s.db.QueryContext(ctx, `SELECT `+cols+` FROM (SELECT bucket FROM analytics_usage WHERE workspace_id = $1 AND period = $2 AND identity = '*' AND client_id = '*' AND model = '*'
			AND bucket >= $3 AND bucket < $4 AND bucket > $5 ORDER BY bucket LIMIT `+strconv.Itoa(q.Limit+1)+`) p
			JOIN analytics_usage u ON u.workspace_id = $1 AND u.period = $2 AND u.identity = '*' AND u.bucket = p.bucket ORDER BY u.bucket, u.client_id, u.model`,
			ws, q.Period, q.From, q.To, after)
	} else {
		rows, err = s.db.QueryContext(ctx, `SELECT `+cols+` FROM (SELECT bucket, identity FROM analytics_usage WHERE workspace_id = $1 AND period = $2 AND (bucket, identity) > ($3, $4) AND bucket < $5
			AND identity <> '*' AND client_id = '*' AND model = '*' ORDER BY bucket, identity LIMIT `+strconv.Itoa(q.Limit+1)+`) p
			JOIN analytics_usage u ON u.workspace_id = $1 AND u.period = $2 AND u.bucket = p.bucket AND u.identity = p.identity ORDER BY u.bucket, u.identity, u.client_id, u.model`,
			ws, q.Period, max(q.From, q.AfterBucket), afterIdent(q), q.To)
	}
	if err != nil {
		return nil, false, dbError("analytics", err)
	}
	defer rows.Close()
	var out []codexgov.UsageRollup
	pairs, more := 0, false
	for rows.Next() {
		r := codexgov.UsageRollup{Period: q.Period}
		var input, cached, output int64
		if err := rows.Scan(&r.Bucket, &r.Identity, &r.Client, &r.Model, &r.Threads, &r.Turns, &input, &cached, &output, &r.ReasoningTokens); err != nil {
			return nil, false, dbError("analytics", err)
		}
		if n := len(out); n == 0 || out[n-1].Bucket != r.Bucket || out[n-1].Identity != r.Identity {
			if pairs++; pairs > q.Limit {
				more = true // the pair after the page: it only says more follow
				break
			}
		}
		r.UncachedTextInputTokens, r.CachedTextInputTokens, r.TextOutputTokens, r.TextTotalTokens = input-cached, cached, output, input+output
		out = append(out, r)
	}
	return out, more, dbError("analytics", rows.Err())
}

// afterIdent is where a per-user page starts within its first bucket:
// after the cursor's identity when the cursor is in the window, else from
// the bucket's first identity ('*' sorts before every user).
func afterIdent(q codexgov.UsageQuery) string {
	if q.AfterBucket == "" || q.AfterBucket < q.From {
		return "*"
	}
	return q.AfterIdent
}

// RebuildAnalytics recomputes a workspace's usage rollups from the raw
// events, from the Monday of since's week on (a week's rows need its whole
// week), in one audited transaction: the rows from then on are deleted and
// every stored event from then on is applied again. It returns how many
// events it read. Raw events past their retention are gone, and so is what
// they counted.
//
// Events keep arriving meanwhile. On SQLite the rebuild holds the only
// write lock, so none is stored during it. On PostgreSQL the transaction
// is REPEATABLE READ: the queue it applies and the events it reads are one
// snapshot, so an event committed later is not read and stays queued, to
// be applied after (once); a rollup row the queue worker changed since the
// snapshot fails the rebuild with a serialization error, and it is tried
// again (up to 10 times).
func (s *DB) RebuildAnalytics(ctx context.Context, ws string, since time.Time) (int64, error) {
	var read int64
	var err error
	for range 10 {
		read, err = s.rebuildAnalytics(ctx, ws, since)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "40001" && pe.Code != "40P01") {
			break
		}
	}
	return read, err
}

func (s *DB) rebuildAnalytics(ctx context.Context, ws string, since time.Time) (int64, error) {
	from := weekBucket(since)
	start, _ := time.Parse(time.DateOnly, from)
	var read int64
	err := s.audited(ctx, ws, "analytics.rebuild", "analytics:"+from, false, func(tx *sql.Tx) (any, any, error) {
		if s.postgres {
			if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
				return nil, nil, err
			}
		}
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		// What is queued counts first (its older buckets stay); the rest
		// is replaced below.
		for {
			n, err := s.drainTx(ctx, tx, ws, 200)
			if err != nil {
				return nil, nil, err
			}
			if n == 0 {
				break
			}
		}
		for _, q := range []string{`DELETE FROM analytics_usage WHERE workspace_id = $1 AND bucket >= $2`, `DELETE FROM analytics_threads WHERE workspace_id = $1 AND bucket >= $2`} {
			if _, err := tx.ExecContext(ctx, q, ws, from); err != nil {
				return nil, nil, err
			}
		}
		at, id := start.UnixMicro()-1, ""
		for {
			rows, err := tx.QueryContext(ctx, `SELECT event_id, time, type, session_id, surface, model, identity, data FROM telemetry_events
				WHERE workspace_id = $1 AND (time > $2 OR (time = $2 AND event_id > $3)) ORDER BY time, event_id LIMIT 5000`, ws, at, id)
			if err != nil {
				return nil, nil, err
			}
			var page []*codexgov.TelemetryEvent
			for rows.Next() {
				e := &codexgov.TelemetryEvent{Workspace: ws}
				var t int64
				var data string
				if err := rows.Scan(&e.ID, &t, &e.Type, &e.Session, &e.Surface, &e.Model, &e.Identity, &data); err != nil {
					rows.Close()
					return nil, nil, err
				}
				e.Time = time.UnixMicro(t).UTC()
				json.Unmarshal([]byte(data), &e.Data)
				page = append(page, e)
				at, id = t, e.ID
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, nil, err
			}
			if len(page) == 0 {
				break
			}
			read += int64(len(page))
			if err := s.applyRollups(ctx, tx, page); err != nil {
				return nil, nil, err
			}
		}
		return nil, map[string]any{"from": from, "events": read}, nil
	})
	return read, err
}

// AnalyticsActiveUsers reads the people active per bucket and client from
// the workspace rows (their users counter, kept as deltas are applied:
// the workspace rows' partial index, not the people's rows).
func (s *DB) AnalyticsActiveUsers(ctx context.Context, ws, period, from, to string) ([]codexgov.ActiveUsers, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT bucket, client_id, users FROM analytics_usage WHERE workspace_id = $1 AND period = $2 AND identity = '*' AND model = '*'
		AND bucket >= $3 AND bucket < $4 ORDER BY bucket, client_id`, ws, period, from, to)
	if err != nil {
		return nil, dbError("analytics", err)
	}
	defer rows.Close()
	var out []codexgov.ActiveUsers
	for rows.Next() {
		var a codexgov.ActiveUsers
		if err := rows.Scan(&a.Bucket, &a.Client, &a.Users); err != nil {
			return nil, dbError("analytics", err)
		}
		out = append(out, a)
	}
	return out, dbError("analytics", rows.Err())
}

// AnalyticsRanking sums each person's rows of the window in SQL and keeps
// the top limit by tokens, threads or turns; their streaks come from their
// active buckets. Sorted by streak, every person's buckets are read.
func (s *DB) AnalyticsRanking(ctx context.Context, ws, period, from, to, sort string, limit int) ([]codexgov.UserRank, error) {
	step := 1
	if period == "week" {
		step = 7
	}
	streaks := func(idents []string) (map[string]int, error) {
		q := `SELECT identity, bucket FROM analytics_usage WHERE workspace_id = $1 AND period = $2 AND bucket >= $3 AND bucket < $4 AND identity <> '*' AND client_id = '*' AND model = '*'`
		args := []any{ws, period, from, to}
		if idents != nil {
			var ph []string
			for _, id := range idents {
				args = append(args, id)
				ph = append(ph, "$"+strconv.Itoa(len(args)))
			}
			q += ` AND identity IN (` + strings.Join(ph, ",") + `)`
		}
		rows, err := s.db.QueryContext(ctx, q+` ORDER BY identity, bucket`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]int{}
		var last string
		var prev time.Time
		run := 0
		for rows.Next() {
			var id, b string
			if err := rows.Scan(&id, &b); err != nil {
				return nil, err
			}
			t, _ := time.Parse(time.DateOnly, b)
			if id == last && t.Sub(prev) == time.Duration(step)*24*time.Hour {
				run++
			} else {
				run = 1
			}
			last, prev = id, t
			out[id] = max(out[id], run)
		}
		return out, rows.Err()
	}
	order := map[string]string{"threads": "SUM(threads)", "turns": "SUM(turns)"}[sort]
	if order == "" {
		order = "SUM(tokens)"
	}
	// The people's rows of the window: by day, the whole weeks inside it
	// from the week rows (their day sums: threads counted per day, active
	// days) and the days at its edges from the day rows, a fifth of the
	// rows of a month; else the rows themselves.
	args := []any{ws}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	people := func(period, from, to, threads, days, only string) string {
		return `SELECT identity, ` + threads + ` AS threads, turns, input_tokens + output_tokens AS tokens, ` + days + ` AS n FROM analytics_usage WHERE workspace_id = $1 AND period = ` + arg(period) +
			` AND bucket >= ` + arg(from) + ` AND bucket < ` + arg(to) + ` AND identity <> '*' AND client_id = '*' AND model = '*'` + only
	}
	window := func(only string) string {
		if period == "day" {
			f, _ := time.Parse(time.DateOnly, from)
			t, _ := time.Parse(time.DateOnly, to)
			firstWeek, lastWeek := weekBucket(f.AddDate(0, 0, 6)), weekBucket(t)
			if firstWeek < lastWeek {
				return people("week", firstWeek, lastWeek, "day_threads", "days", only) + ` UNION ALL ` + people("day", from, firstWeek, "threads", "1", only) +
					` UNION ALL ` + people("day", lastWeek, to, "threads", "1", only)
			}
		}
		return people(period, from, to, "threads", "1", only)
	}
	var pick []string
	var all map[string]int
	var q string
	const sums = `SELECT identity, CAST(SUM(threads) AS BIGINT), CAST(SUM(turns) AS BIGINT), CAST(SUM(tokens) AS BIGINT), CAST(SUM(n) AS BIGINT) FROM (`
	if sort == "streak" {
		var err error
		if all, err = streaks(nil); err != nil {
			return nil, dbError("analytics", err)
		}
		for id := range all {
			pick = append(pick, id)
		}
		slices.SortFunc(pick, func(a, b string) int { return cmp.Or(cmp.Compare(all[b], all[a]), cmp.Compare(a, b)) })
		pick = pick[:min(limit, len(pick))]
		if len(pick) == 0 {
			return nil, nil
		}
		var ph []string
		for _, id := range pick {
			ph = append(ph, arg(id))
		}
		q = sums + window(` AND identity IN (`+strings.Join(ph, ",")+`)`) + `) w GROUP BY identity`
	} else {
		q = sums + window("") + `) w GROUP BY identity ORDER BY ` + order + ` DESC, identity LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbError("analytics", err)
	}
	var out []codexgov.UserRank
	for rows.Next() {
		var r codexgov.UserRank
		if err := rows.Scan(&r.Identity, &r.Threads, &r.Turns, &r.Tokens, &r.Active); err != nil {
			rows.Close()
			return nil, dbError("analytics", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("analytics", err)
	}
	if all == nil {
		ids := make([]string, len(out))
		for i, r := range out {
			ids[i] = r.Identity
		}
		if len(ids) > 0 {
			if all, err = streaks(ids); err != nil {
				return nil, dbError("analytics", err)
			}
		}
	}
	for i := range out {
		out[i].Streak = all[out[i].Identity]
	}
	key := func(r codexgov.UserRank) int64 {
		switch sort {
		case "threads":
			return r.Threads
		case "turns":
			return r.Turns
		case "streak":
			return int64(r.Streak)
		}
		return r.Tokens
	}
	slices.SortFunc(out, func(a, b codexgov.UserRank) int {
		return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a.Identity, b.Identity))
	})
	return out, nil
}
