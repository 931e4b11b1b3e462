package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/server"
	"github.com/codexgov/codexgov/internal/testenv"
)

// The analytics benchmark's data (CODEXGOV_BENCH_ROLLUP_USERS and
// CODEXGOV_BENCH_RAW_USERS make a smaller run).
const (
	benchRollupUsers = 100_000
	benchRollupDays  = 90
	benchRawUsers    = 10_000
	benchRawDays     = 30
)

var (
	benchClients = []string{"CODEX_CLI", "CODEX_IDE_VSCODE", "CODEX_SERVICE_EXEC", "CODEX_UNKNOWN_DEFAULT"}
	benchSurface = []string{"codex_cli_rs", "codex_vscode", "codex_exec", "some_other_tool"}
	benchModels  = []string{"gpt-5-mini", "gpt-5.1-codex", "gpt-5.1-codex-max"}
)

// BenchmarkAnalytics (make bench-analytics) serves the Analytics API from
// a real server on each database:
//
//   - workspace "big": 100,000 users × 90 days of rollups (every user
//     active every day: the worst case for per-user pages), bulk-loaded as
//     the store keeps them, with the 100,000 users in the directory. The
//     90-day workspace query (by day and by week), the first page of
//     per-user rows (1,000) and the tenth page are timed, 60 requests
//     each: p50 and p95 (goal p95 < 200 ms).
//   - workspace "raw": the raw events of 10,000 users × 30 days (a session
//     a day of 1–4 turns), stored through the store's own telemetry path,
//     which keeps the rollups. The 30-day workspace answer and the first
//     page of per-user rows are asked of the API and computed by a naive
//     GROUP BY over the raw events (the same answer: the test checks every
//     counter of every row), in interleaved rounds; the ratio is the API's
//     median time over the naive query's (goal ≤ 1/50).
func BenchmarkAnalytics(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) { benchAnalytics(b, db) })
	}
}

// analyticsBench is one database's server and a connection of its own to
// the same database, for the bulk load and the naive queries.
type analyticsBench struct {
	b       *testing.B
	db      string
	m       *Main
	conn    *sql.DB // SQLite
	pg      *pgx.Conn
	today   time.Time
	http    *http.Client
	keys    map[string]string // workspace → analytics:read key
	reports []string
}

func benchAnalytics(b *testing.B, db string) {
	ctx := context.Background()
	ab, admin := newAnalyticsBench(b, db)
	for _, ws := range []string{"big", "raw"} {
		if _, err := admin.CreateWorkspace(ctx, ws, ""); err != nil {
			b.Fatal(err)
		}
		k, err := admin.CreateAPIKey(ctx, ws, "dashboard", codexgov.ScopeAnalyticsRead)
		if err != nil {
			b.Fatal(err)
		}
		ab.keys[ws] = k.Secret
	}
	// The raw events are kept 60 days (the default 30 would expire the
	// oldest day's events at the restart below).
	if _, err := admin.UpdateSettings(ctx, "raw", codexgov.SettingsUpdate{ComplianceRetention: map[string]int{"CODEX_LOG": 60}}); err != nil {
		b.Fatal(err)
	}
	rollupUsers := cyclesFromEnv("CODEXGOV_BENCH_ROLLUP_USERS", benchRollupUsers)
	rawUsers := cyclesFromEnv("CODEXGOV_BENCH_RAW_USERS", benchRawUsers)

	start := time.Now()
	ab.loadUsers(ctx, "big", rollupUsers)
	rows := ab.loadRollups(ctx, "big", rollupUsers)
	ab.report("big: %d users, %d rollup rows (%d days) bulk-loaded in %s", rollupUsers, rows, benchRollupDays, time.Since(start).Round(time.Second))
	ab.loadUsers(ctx, "raw", rawUsers)
	events := ab.loadEvents(ctx, "raw", rawUsers)
	ab.report("raw: %d users × %d days, %d raw events, stored through the store's telemetry path (rollups queued in the same transactions)", rawUsers, benchRawDays, events)
	ab.restart(nil)
	if db == "postgres" {
		if _, err := ab.pg.Exec(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	} else if _, err := ab.conn.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		ab.bigQueries()
		ab.rawVersusNaive()
	}
	for _, r := range ab.reports {
		b.Log(r)
	}
}

// newAnalyticsBench starts a server on the database (its first start
// prints the admin key) and opens a connection of the benchmark's own to
// the same database for bulk loads and naive queries; both end with b.
func newAnalyticsBench(b *testing.B, db string) (*analyticsBench, *client.Client) {
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{DataDir: b.TempDir(), Listen: "127.0.0.1:0", Out: &out, Limits: &server.Limits{}}
	if db == "postgres" {
		m.Database = testenv.PostgresSchema(b)
	}
	if err := m.Run(ctx); err != nil {
		b.Fatal(err)
	}
	ab := &analyticsBench{b: b, db: db, m: m, today: time.Now().UTC().Truncate(24 * time.Hour), http: &http.Client{}, keys: map[string]string{}}
	b.Cleanup(func() { ab.m.Close() })
	var err error
	if db == "sqlite" {
		ab.conn, err = sql.Open("sqlite", "file:"+filepath.Join(m.DataDir, "codexgov.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=cache_size(-1000000)&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		ab.conn.SetMaxOpenConns(1)
		b.Cleanup(func() { ab.conn.Close() })
	} else {
		if ab.pg, err = pgx.Connect(ctx, m.Database); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ab.pg.Close(context.Background()) })
	}
	return ab, client.New("http://"+m.Addr, adminKeyRE.FindString(out.String()))
}

// restart runs the server anew on the same data: its directory snapshot
// is compiled afresh, with the bulk-loaded users (they bypassed the
// store's change log).
func (ab *analyticsBench) restart(logger *slog.Logger) {
	ab.m.Close()
	ab.m = &Main{DataDir: ab.m.DataDir, Database: ab.m.Database, Listen: "127.0.0.1:0", Out: io.Discard, Limits: &server.Limits{}, Logger: logger}
	if err := ab.m.Run(context.Background()); err != nil {
		ab.b.Fatal(err)
	}
}

func (ab *analyticsBench) report(format string, args ...any) {
	ab.reports = append(ab.reports, ab.db+": "+fmt.Sprintf(format, args...))
}

func benchEmail(ws string, u int) string { return fmt.Sprintf("u%06d@%s.test", u, ws) }

// loadUsers bulk-inserts the workspace's users into the directory.
func (ab *analyticsBench) loadUsers(ctx context.Context, ws string, n int) {
	ab.copyRows(ctx, "users", []string{"workspace_id", "email", "name", "active", "created_at", "id"}, func(yield func([]any) bool) {
		for u := range n {
			if !yield([]any{ws, benchEmail(ws, u), fmt.Sprintf("User %d", u), true, int64(1), fmt.Sprintf("user-%s-%06d", ws, u)}) {
				return
			}
		}
	})
}

// copyRows bulk-loads rows: COPY on PostgreSQL, multi-row INSERTs of 500
// rows in transactions of 100,000 on SQLite.
func (ab *analyticsBench) copyRows(ctx context.Context, table string, cols []string, rows func(yield func([]any) bool)) int64 {
	b := ab.b
	if ab.pg != nil {
		src := &iterSource{}
		next, stop := iterPull(rows)
		defer stop()
		src.next = next
		n, err := ab.pg.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
		if err != nil {
			b.Fatalf("COPY %s: %v", table, err)
		}
		return n
	}
	const per = 500
	stmt := func(k int) string {
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		for i := range k {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")")
		}
		return q.String()
	}
	full, err := ab.conn.PrepareContext(ctx, stmt(per))
	if err != nil {
		b.Fatal(err)
	}
	defer full.Close()
	var n int64
	var args []any
	tx, err := ab.conn.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	inTx := 0
	flush := func() {
		k := len(args) / len(cols)
		if k == 0 {
			return
		}
		var err error
		if k == per {
			_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, stmt(k), args...)
		}
		if err != nil {
			b.Fatalf("INSERT INTO %s: %v", table, err)
		}
		n, inTx, args = n+int64(k), inTx+k, args[:0]
		if inTx >= 100_000 {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			if tx, err = ab.conn.BeginTx(ctx, nil); err != nil {
				b.Fatal(err)
			}
			inTx = 0
		}
	}
	for r := range rows {
		args = append(args, r...)
		if len(args) == per*len(cols) {
			flush()
		}
	}
	flush()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return n
}

// iterSource feeds a pulled iterator to COPY.
type iterSource struct {
	next func() ([]any, bool)
	row  []any
}

func (s *iterSource) Next() bool {
	var ok bool
	s.row, ok = s.next()
	return ok
}
func (s *iterSource) Values() ([]any, error) { return s.row, nil }
func (s *iterSource) Err() error             { return nil }

func iterPull(seq func(yield func([]any) bool)) (func() ([]any, bool), func()) {
	ch := make(chan []any, 1024)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		seq(func(r []any) bool {
			select {
			case ch <- r:
				return true
			case <-done:
				return false
			}
		})
	}()
	return func() ([]any, bool) { r, ok := <-ch; return r, ok }, func() { close(done) }
}

// synthUsage is user u's day d (0 = the oldest day) in the big workspace:
// one client and one model each, every day.
func synthUsage(u, d int) [6]int64 {
	turns := int64(1 + (u*7+d)%9)
	threads := int64(1 + (u+d)%3)
	input := turns * int64(1200+u%500)
	output := turns * int64(150+d%50)
	return [6]int64{threads, turns, input, input / 3, output, output / 4}
}

// loadRollups writes the big workspace's rollups as the store keeps them
// (a row per bucket × identity × client × model, '*' for all), in key
// order, days then weeks.
func (ab *analyticsBench) loadRollups(ctx context.Context, ws string, users int) int64 {
	return ab.loadRollupsDays(ctx, ws, users, benchRollupDays)
}

func (ab *analyticsBench) loadRollupsDays(ctx context.Context, ws string, users, days int) int64 {
	first := ab.today.AddDate(0, 0, -(days - 1))
	type cm struct{ client, model string }
	combos := func(u int) []cm {
		c, m := benchClients[u%len(benchClients)], benchModels[u%len(benchModels)]
		return []cm{{"*", "*"}, {"*", m}, {c, "*"}, {c, m}}
	}
	add := func(a *[6]int64, v [6]int64) {
		for i := range a {
			a[i] += v[i]
		}
	}
	// A week row carries its days' sums: threads counted per day (every
	// thread here lasts a day: the week's threads) and a person's active
	// days (every day of it).
	emit := func(yield func([]any) bool, period, bucket, ident string, c cm, v [6]int64, people, days int64) bool {
		var dayThreads int64
		if period == "week" {
			dayThreads = v[0]
		}
		return yield([]any{ws, period, bucket, ident, c.client, c.model, v[0], v[1], v[2], v[3], v[4], v[5], people, dayThreads, days})
	}
	// bucketRows writes one bucket: the workspace rows, then each user's.
	bucketRows := func(yield func([]any) bool, period, bucket string, days []int) bool {
		perUser := func(u int) [6]int64 {
			var v [6]int64
			for _, d := range days {
				add(&v, synthUsage(u, d))
			}
			return v
		}
		total := map[cm]*[6]int64{}
		people := map[cm]int64{}
		for u := range users {
			v := perUser(u)
			for _, c := range combos(u) {
				if total[c] == nil {
					total[c] = &[6]int64{}
				}
				add(total[c], v)
				people[c]++
			}
		}
		keys := make([]cm, 0, len(total))
		for c := range total {
			keys = append(keys, c)
		}
		slices.SortFunc(keys, func(a, b cm) int { return strings.Compare(a.client+"\x00"+a.model, b.client+"\x00"+b.model) })
		for _, c := range keys {
			if !emit(yield, period, bucket, "*", c, *total[c], people[c], 0) {
				return false
			}
		}
		for u := range users {
			v := perUser(u)
			for _, c := range combos(u) {
				var active int64
				if period == "week" {
					active = int64(len(days))
				}
				if !emit(yield, period, bucket, "user:"+benchEmail(ws, u), c, v, 0, active) {
					return false
				}
			}
		}
		return true
	}
	return ab.copyRows(ctx, "analytics_usage", []string{"workspace_id", "period", "bucket", "identity", "client_id", "model", "threads", "turns", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens", "users", "day_threads", "days"},
		func(yield func([]any) bool) {
			for d := range days {
				if !bucketRows(yield, "day", first.AddDate(0, 0, d).Format(time.DateOnly), []int{d}) {
					return
				}
			}
			weeks := map[string][]int{}
			var order []string
			for d := range days {
				day := first.AddDate(0, 0, d)
				wk := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)).Format(time.DateOnly)
				if weeks[wk] == nil {
					order = append(order, wk)
				}
				weeks[wk] = append(weeks[wk], d)
			}
			for _, wk := range order {
				if !bucketRows(yield, "week", wk, weeks[wk]) {
					return
				}
			}
		})
}

// loadEvents stores the raw workspace's events through the store's own
// telemetry path (four writers, batches of 2,000, as the receiver's group
// commit would) and applies the queued rollups; it returns the count.
func (ab *analyticsBench) loadEvents(ctx context.Context, ws string, users int) int64 {
	b := ab.b
	batches := make(chan []codexgov.TelemetryEvent, 8)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if _, err := ab.m.Store.AppendTelemetry(ctx, batch); err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
		}()
	}
	t0 := time.Now()
	var n int64
	var batch []codexgov.TelemetryEvent
	for d := range benchRawDays {
		for u := range users {
			for _, e := range rawDay(ws, u, d, ab.today) {
				batch = append(batch, e)
				if len(batch) == 2000 {
					batches <- batch
					n += int64(len(batch))
					batch = nil
				}
			}
		}
	}
	batches <- batch
	n += int64(len(batch))
	close(batches)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	stored := time.Since(t0)
	if err := ab.m.Store.DrainAnalytics(ctx, ws); err != nil {
		b.Fatal(err)
	}
	ab.report("raw: %d events stored in %s (%.0f events/s), the queued rollups applied in %s", n, stored.Round(time.Second), float64(n)/stored.Seconds(), (time.Since(t0) - stored).Round(time.Millisecond))
	return n
}

// rawDay is user u's events on day d of the raw workspace (d = 0 is 30
// days ago): a session opened (no model named) and 1–4 turns, each a
// prompt and its token usage.
func rawDay(ws string, u, d int, today time.Time) []codexgov.TelemetryEvent {
	at := today.AddDate(0, 0, d-benchRawDays).Add(time.Duration(u%43200) * time.Second)
	session := fmt.Sprintf("s-%d-%d", u, d)
	base := codexgov.TelemetryEvent{Workspace: ws, Identity: "user:" + benchEmail(ws, u), Credential: fmt.Sprintf("cred-%d", u), Device: fmt.Sprintf("laptop-%d", u),
		Session: session, Surface: benchSurface[u%len(benchSurface)], Host: fmt.Sprintf("host-%d", u), ReceivedAt: at.Add(time.Second)}
	model := benchModels[(u+d)%len(benchModels)]
	var evs []codexgov.TelemetryEvent
	ev := func(i int, typ, name, model string, data map[string]any) {
		e := base
		e.ID, e.Time, e.Type, e.Name, e.Model, e.Data = fmt.Sprintf("%s-%d", session, i), at.Add(time.Duration(i)*time.Second), typ, name, model, data
		e.Attributes = map[string]any{"event.name": name}
		evs = append(evs, e)
	}
	ev(0, codexgov.TelemetrySessionStart, "codex.conversation_starts", "", map[string]any{})
	for t := range 1 + (u+d)%4 {
		in := int64(1000 + (u*31+d*17+t*7)%4000)
		ev(1+2*t, codexgov.TelemetryPrompt, "codex.user_prompt", model, map[string]any{"prompt_length": int64(40)})
		ev(2+2*t, codexgov.TelemetryTokenUsage, "codex.sse_event", model, map[string]any{
			"input_tokens": in, "cached_tokens": in / 4, "output_tokens": int64(100 + (u+t)%300), "reasoning_tokens": int64(10 + d),
		})
	}
	return evs
}

// get asks the Analytics API and returns the body and the time it took.
func (ab *analyticsBench) get(ws, route string, q url.Values) ([]byte, time.Duration) {
	req, _ := http.NewRequest("GET", "http://"+ab.m.Addr+"/v1/analytics/codex/workspaces/"+ws+"/"+route+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+ab.keys[ws])
	start := time.Now()
	resp, err := ab.http.Do(req)
	if err != nil {
		ab.b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != 200 {
		ab.b.Fatalf("GET %s: %d %s %v", req.URL, resp.StatusCode, body, err)
	}
	return body, took
}

type benchPage struct {
	Data     []codexgov.UsageRow `json:"data"`
	HasMore  bool                `json:"has_more"`
	NextPage *string             `json:"next_page"`
}

func percentile(v []time.Duration, p float64) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// bigQueries times the big workspace's queries, 60 requests each.
func (ab *analyticsBench) bigQueries() {
	b := ab.b
	window := url.Values{"start_time": {fmt.Sprint(ab.today.AddDate(0, 0, -(benchRollupDays - 1)).Unix())}, "end_time": {fmt.Sprint(ab.today.AddDate(0, 0, 1).Unix())}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range window {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	// The tenth page's cursor, found once.
	q10 := with("limit", "1000")
	for range 9 {
		body, _ := ab.get("big", "usage", q10)
		var p benchPage
		if err := json.Unmarshal(body, &p); err != nil || p.NextPage == nil {
			b.Fatalf("paging: %v %s", err, body[:min(len(body), 200)])
		}
		q10.Set("page", *p.NextPage)
	}
	cases := []struct {
		name, rows string
		q          url.Values
		want       int
	}{
		{"workspace-90d-day", "workspace rows", with("group", "workspace"), benchRollupDays},
		{"workspace-90d-week", "workspace rows", with("group", "workspace", "group_by", "week"), 0},
		{"users-90d-first-page", "per-user rows", with("limit", "1000"), min(1000, ab.usersBig()*benchRollupDays)},
		{"users-90d-tenth-page", "per-user rows", q10, min(1000, max(0, ab.usersBig()*benchRollupDays-9000))},
	}
	for _, c := range cases {
		var took []time.Duration
		var rows int
		for range 60 {
			body, d := ab.get("big", "usage", c.q)
			took = append(took, d)
			var p benchPage
			if err := json.Unmarshal(body, &p); err != nil {
				b.Fatal(err)
			}
			rows = len(p.Data)
			if c.want > 0 && rows != c.want {
				b.Fatalf("%s: %d rows, want %d", c.name, rows, c.want)
			}
			if strings.HasPrefix(c.name, "users") && (p.Data[0].Actor == nil || !strings.HasPrefix(p.Data[0].Actor.UserID, "user-big-")) {
				b.Fatalf("%s: the first row's actor is not the directory's user: %+v", c.name, p.Data[0].Actor)
			}
		}
		b.ReportMetric(ms(percentile(took, 0.5)), c.name+"-p50-ms")
		b.ReportMetric(ms(percentile(took, 0.95)), c.name+"-p95-ms")
		ab.report("big %s (%d %s): p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d requests", c.name, rows, c.rows, ms(percentile(took, 0.5)), ms(percentile(took, 0.95)), ms(slices.Max(took)), len(took))
	}
}

func (ab *analyticsBench) usersBig() int {
	return cyclesFromEnv("CODEXGOV_BENCH_ROLLUP_USERS", benchRollupUsers)
}

// answer is one usage row's counters as compared: totals, per client, per
// model.
type answer struct {
	bucket, identity string
	totals           codexgov.UsageCounters
	clients, models  map[string]codexgov.UsageCounters
}

func answersOf(rows []codexgov.UsageRow) []answer {
	var out []answer
	for _, r := range rows {
		a := answer{bucket: time.Unix(r.StartTime, 0).UTC().Format(time.DateOnly), identity: "*", totals: r.Totals, clients: map[string]codexgov.UsageCounters{}, models: map[string]codexgov.UsageCounters{}}
		if r.Actor != nil {
			a.identity = r.Actor.Email
		}
		for _, c := range r.Clients {
			a.clients[c.ClientID] = c.UsageCounters
		}
		for _, m := range r.Models {
			a.models[m.Model] = m.UsageCounters
		}
		out = append(out, a)
	}
	return out
}

// naive answers the same question with GROUP BY over the raw events:
// per day (and per user unless workspace), the totals, per surface (then
// mapped to its client) and per model, threads being distinct sessions;
// the first limit rows in time order.
func (ab *analyticsBench) naive(ws string, from, to time.Time, workspace bool, limit int) []answer {
	ctx := context.Background()
	num := func(f string) string { return `COALESCE(json_extract(data, '$.` + f + `'), 0)` }
	if ab.pg != nil {
		num = func(f string) string { return `COALESCE((data::jsonb ->> '` + f + `')::BIGINT, 0)` }
	}
	ident, group := `identity`, `, identity`
	if workspace {
		ident, group = `'*'`, ``
	}
	sum := func(e string) string { return `CAST(SUM(` + e + `) AS BIGINT)` }
	tokens := func(f string) string { return sum(`CASE WHEN type = 'token_usage' THEN ` + num(f) + ` ELSE 0 END`) }
	agg := `COUNT(DISTINCT CASE WHEN session_id <> '' THEN session_id END), ` + sum(`CASE WHEN type = 'prompt' THEN 1 ELSE 0 END`) + `, ` +
		tokens("input_tokens") + `, ` + tokens("cached_tokens") + `, ` + tokens("output_tokens")
	where := `FROM telemetry_events WHERE workspace_id = $1 AND time >= $2 AND time < $3`
	q := `SELECT 't', time / 86400000000, ` + ident + `, '', ` + agg + ` ` + where + ` GROUP BY time / 86400000000` + group + `
		UNION ALL SELECT 'c', time / 86400000000, ` + ident + `, surface, ` + agg + ` ` + where + ` GROUP BY time / 86400000000` + group + `, surface
		UNION ALL SELECT 'm', time / 86400000000, ` + ident + `, model, ` + agg + ` ` + where + ` AND model <> '' GROUP BY time / 86400000000` + group + `, model`
	args := []any{ws, from.UnixMicro(), to.UnixMicro()}
	type row struct {
		level, ident, key string
		day               int64
		v                 [5]int64
	}
	var rows []row
	scan := func(next func() bool, scan func(...any) error) {
		for next() {
			var r row
			if err := scan(&r.level, &r.day, &r.ident, &r.key, &r.v[0], &r.v[1], &r.v[2], &r.v[3], &r.v[4]); err != nil {
				ab.b.Fatal(err)
			}
			rows = append(rows, r)
		}
	}
	if ab.pg != nil {
		rs, err := ab.pg.Query(ctx, q, args...)
		if err != nil {
			ab.b.Fatal(err)
		}
		scan(rs.Next, rs.Scan)
		rs.Close()
		if rs.Err() != nil {
			ab.b.Fatal(rs.Err())
		}
	} else {
		rs, err := ab.conn.QueryContext(ctx, q, args...)
		if err != nil {
			ab.b.Fatal(err)
		}
		scan(rs.Next, rs.Scan)
		rs.Close()
		if rs.Err() != nil {
			ab.b.Fatal(rs.Err())
		}
	}
	counters := func(v [5]int64) codexgov.UsageCounters {
		return codexgov.UsageCounters{Threads: v[0], Turns: v[1], UncachedTextInputTokens: v[2] - v[3], CachedTextInputTokens: v[3], TextOutputTokens: v[4], TextTotalTokens: v[2] + v[4]}
	}
	byKey := map[[2]string]*answer{}
	for _, r := range rows {
		id := strings.TrimPrefix(r.ident, "user:")
		k := [2]string{time.Unix(r.day*86400, 0).UTC().Format(time.DateOnly), id}
		a := byKey[k]
		if a == nil {
			a = &answer{bucket: k[0], identity: id, clients: map[string]codexgov.UsageCounters{}, models: map[string]codexgov.UsageCounters{}}
			byKey[k] = a
		}
		switch r.level {
		case "t":
			a.totals = counters(r.v)
		case "c":
			c := codexgov.AnalyticsClientID(r.key)
			prev := a.clients[c]
			n := counters(r.v)
			a.clients[c] = codexgov.UsageCounters{Threads: prev.Threads + n.Threads, Turns: prev.Turns + n.Turns, UncachedTextInputTokens: prev.UncachedTextInputTokens + n.UncachedTextInputTokens,
				CachedTextInputTokens: prev.CachedTextInputTokens + n.CachedTextInputTokens, TextOutputTokens: prev.TextOutputTokens + n.TextOutputTokens, TextTotalTokens: prev.TextTotalTokens + n.TextTotalTokens}
		case "m":
			a.models[r.key] = counters(r.v)
		}
	}
	out := make([]answer, 0, len(byKey))
	for _, a := range byKey {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b answer) int {
		return strings.Compare(a.bucket+"\x00"+a.identity, b.bucket+"\x00"+b.identity)
	})
	return out[:min(limit, len(out))]
}

// rawVersusNaive asks the raw workspace's 30-day workspace answer and the
// first page of per-user rows of the API and of the naive query, in
// alternating order, five rounds; every answer is compared.
func (ab *analyticsBench) rawVersusNaive() {
	b := ab.b
	from, to := ab.today.AddDate(0, 0, -benchRawDays), ab.today
	cases := []struct {
		name      string
		q         url.Values
		workspace bool
		limit     int
	}{
		{"workspace-30d", url.Values{"start_time": {fmt.Sprint(from.Unix())}, "end_time": {fmt.Sprint(to.Unix())}, "group": {"workspace"}}, true, 1000},
		{"users-30d-first-page", url.Values{"start_time": {fmt.Sprint(from.Unix())}, "end_time": {fmt.Sprint(to.Unix())}, "limit": {"1000"}}, false, 1000},
	}
	for _, c := range cases {
		var apiTimes, naiveTimes []time.Duration
		var ratios []float64
		for round := range 5 {
			api := func() {
				var took []time.Duration
				var got []answer
				for range 10 {
					body, d := ab.get("raw", "usage", c.q)
					took = append(took, d)
					var p benchPage
					if err := json.Unmarshal(body, &p); err != nil {
						b.Fatal(err)
					}
					got = answersOf(p.Data)
				}
				apiTimes = append(apiTimes, took...)
				if round == 0 {
					want := ab.naive("raw", from, to, c.workspace, c.limit)
					if len(got) != len(want) {
						b.Fatalf("%s: the API answers %d rows, the naive query %d", c.name, len(got), len(want))
					}
					for i := range got {
						if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
							b.Fatalf("%s row %d:\nAPI   %+v\nnaive %+v", c.name, i, got[i], want[i])
						}
					}
				}
			}
			naive := func() {
				start := time.Now()
				ab.naive("raw", from, to, c.workspace, c.limit)
				naiveTimes = append(naiveTimes, time.Since(start))
			}
			if round%2 == 0 {
				api()
				naive()
			} else {
				naive()
				api()
			}
			ratios = append(ratios, ms(percentile(apiTimes[len(apiTimes)-10:], 0.5))/ms(naiveTimes[len(naiveTimes)-1]))
		}
		med := slices.Clone(ratios)
		slices.Sort(med)
		b.ReportMetric(med[len(med)/2], c.name+"-api/naive")
		b.ReportMetric(ms(percentile(apiTimes, 0.95)), c.name+"-api-p95-ms")
		ab.report("raw %s: API p50 %.1f ms, p95 %.1f ms; naive GROUP BY p50 %.0f ms; API/naive median %.4f (1/%.0f), spread %.4f–%.4f over %d rounds; answers equal",
			c.name, ms(percentile(apiTimes, 0.5)), ms(percentile(apiTimes, 0.95)), ms(percentile(naiveTimes, 0.5)), med[len(med)/2], 1/med[len(med)/2], med[0], med[len(med)-1], len(ratios))
	}
}
