package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/server"
	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/telemetry"
	"github.com/codexgov/codexgov/internal/testenv"
)

// The ingest benchmark's shape: each round sends benchBatches batches of
// one captured Codex turn (25 log records) from benchSenders senders.
const (
	benchBatches = 160
	benchSenders = 8
)

// BenchmarkIngest (make bench-ingest) measures the OTLP/HTTP receiver
// end to end — Codex-shaped protobuf batches built from the captured
// samples, POSTed to a real server that normalises, redacts, checks the
// commands, group-commits and answers only once committed — against, in
// the same run, a raw batched insert of the same rows into the same schema
// (SQLite with synchronous=FULL; PostgreSQL COPY), on each database. The
// rounds alternate endpoint and raw; the reported ratio is the median
// round's endpoint/raw events per second (goal ≥ 0.3).
func BenchmarkIngest(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) { benchIngest(b, db) })
	}
}

func benchIngest(b *testing.B, db string) {
	ctx := context.Background()
	m := &Main{DataDir: b.TempDir(), Listen: "127.0.0.1:0", Out: io.Discard, Limits: &server.Limits{}}
	var out bytes.Buffer
	m.Out = &out
	rawDSN := filepath.Join(b.TempDir(), "raw.db")
	if db == "postgres" {
		m.Database = testenv.PostgresSchema(b)
		rawDSN = testenv.PostgresSchema(b)
	}
	if err := m.Run(ctx); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	admin := client.New("http://"+m.Addr, adminKeyRE.FindString(out.String()))
	if _, err := admin.CreateWorkspace(ctx, "acme", ""); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, "acme", "ann@acme.test", ""); err != nil {
		b.Fatal(err)
	}
	tok, err := admin.CreateEnrollmentToken(ctx, "acme", client.EnrollmentTokenRequest{User: "ann@acme.test", Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	raw := openRaw(b, db, rawDSN)
	defer raw.close()

	var endpoint, reference, ratios []float64
	var bytesPerEvent float64
	round := 0
	for b.Loop() {
		round++
		batches, rows, size := benchTurns(b, round, tok.ID)
		bytesPerEvent = float64(size) / float64(len(batches)*25)
		run := func(one func(i int) error) float64 {
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, benchSenders)
			for s := range benchSenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := s; i < len(batches); i += benchSenders {
						if err := one(i); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			return float64(len(batches)*25) / time.Since(start).Seconds()
		}
		post := func(i int) error { return postProto(m.Addr, tok.Secret, batches[i]) }
		insert := func(i int) error { return raw.insert(ctx, rows[i]) }
		var e, r float64
		if round%2 == 1 {
			e, r = run(post), run(insert)
		} else {
			r, e = run(insert), run(post)
		}
		endpoint, reference, ratios = append(endpoint, e), append(reference, r), append(ratios, e/r)
	}
	stored := storedBytesPerEvent(b, db, m)
	b.ReportMetric(stored, "stored-bytes/event")
	med := func(v []float64) float64 { s := slices.Clone(v); slices.Sort(s); return s[len(s)/2] }
	b.ReportMetric(med(endpoint), "endpoint-events/s")
	b.ReportMetric(med(reference), "raw-events/s")
	b.ReportMetric(med(ratios), "ratio")
	b.ReportMetric(bytesPerEvent, "proto-bytes/event")
	b.Logf("%s: %d rounds of %d batches × 25 events from %d senders; endpoint %.0f events/s, raw %.0f events/s (medians); ratio median %.3f, min %.3f, max %.3f; %.0f protobuf bytes per event sent, %.0f bytes per event stored (tables and indexes)",
		db, len(ratios), benchBatches, benchSenders, med(endpoint), med(reference), med(ratios), slices.Min(ratios), slices.Max(ratios), bytesPerEvent, stored)
}

// benchTurns builds the round's batches: the three captured log batches
// of one Codex turn merged into one protobuf request, with a session of
// its own and the current time (so that nothing is a replay), and the
// same rows as the receiver stores them, for the raw insert.
func benchTurns(b *testing.B, round int, credential string) ([][]byte, [][]codexgov.TelemetryEvent, int) {
	turn := plogotlp.NewExportRequest()
	for _, f := range []string{"otlp-logs-batch1.json", "otlp-logs-batch2.json", "otlp-logs-batch3.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "telemetry", "testdata", f))
		if err != nil {
			b.Fatal(err)
		}
		r := plogotlp.NewExportRequest()
		if err := r.UnmarshalJSON(raw); err != nil {
			b.Fatal(err)
		}
		r.Logs().ResourceLogs().MoveAndAppendTo(turn.Logs().ResourceLogs())
	}
	var batches [][]byte
	var rows [][]codexgov.TelemetryEvent
	size := 0
	now := time.Now().UTC()
	for i := range benchBatches {
		session := fmt.Sprintf("bench-%d-%d", round, i)
		req := plogotlp.NewExportRequest()
		turn.Logs().CopyTo(req.Logs())
		forEachRecord(req.Logs(), func(lr plog.LogRecord) {
			lr.Attributes().PutStr("conversation.id", session)
			lr.Attributes().PutStr("event.timestamp", now.Format(time.RFC3339Nano))
		})
		body, err := req.MarshalProto()
		if err != nil {
			b.Fatal(err)
		}
		batches = append(batches, body)
		size += len(body)
		evs := telemetry.Normalize(req.Logs(), telemetry.Sender{Workspace: "acme", Identity: "user:ann@acme.test", Credential: credential, Device: "bench"}, now)
		for j := range evs {
			evs[j].ID += "-raw" // the raw table is another database; kept distinct anyway
		}
		rows = append(rows, evs)
	}
	return batches, rows, size
}

func forEachRecord(ld plog.Logs, f func(plog.LogRecord)) {
	for i := range ld.ResourceLogs().Len() {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				f(lrs.At(k))
			}
		}
	}
}

var benchHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchSenders}}

func postProto(addr, token string, body []byte) error {
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST /v1/logs: %d %s", resp.StatusCode, msg)
	}
	return nil
}

// rawStore is the reference: the same schema (migrated by sqlstore), and
// the rows written with no receiver in front: one transaction with one
// multi-row INSERT per batch on SQLite (synchronous=FULL, as the store
// runs it), one COPY per batch on PostgreSQL.
type rawStore struct {
	sqlite *sql.DB
	pg     chan *pgx.Conn
}

func openRaw(b *testing.B, db, dsn string) *rawStore {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	r := &rawStore{}
	if db == "sqlite" {
		r.sqlite, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	r.pg = make(chan *pgx.Conn, benchSenders)
	for range benchSenders {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		r.pg <- c
	}
	// Today's and tomorrow's partitions, as the receiver makes them.
	c := <-r.pg
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for d := range 2 {
		from := day.Add(time.Duration(d) * 24 * time.Hour)
		if _, err := c.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS telemetry_events_%s PARTITION OF telemetry_events FOR VALUES FROM (%d) TO (%d)`,
			from.Format("20060102"), from.UnixMicro(), from.Add(24*time.Hour).UnixMicro())); err != nil {
			b.Fatal(err)
		}
	}
	r.pg <- c
	return r
}

var rawColumns = []string{"workspace_id", "event_id", "time", "received_at", "type", "name", "session_id", "surface", "model", "identity", "credential", "device", "host", "claim_email", "claim_mismatch", "data", "attributes"}

func rawValues(e codexgov.TelemetryEvent) []any {
	data, _ := json.Marshal(e.Data)
	attrs, _ := json.Marshal(e.Attributes)
	return []any{e.Workspace, e.ID, e.Time.UnixMicro(), e.ReceivedAt.UnixMicro(), e.Type, e.Name, e.Session, e.Surface, e.Model,
		e.Identity, e.Credential, e.Device, e.Host, e.ClaimEmail, e.ClaimMismatch, string(data), string(attrs)}
}

func (r *rawStore) insert(ctx context.Context, evs []codexgov.TelemetryEvent) error {
	if r.sqlite != nil {
		var q strings.Builder
		q.WriteString("INSERT INTO telemetry_events (" + strings.Join(rawColumns, ", ") + ") VALUES ")
		var args []any
		for i, e := range evs {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for j := range rawColumns {
				if j > 0 {
					q.WriteByte(',')
				}
				q.WriteString("$" + strconv.Itoa(len(args)+j+1))
			}
			q.WriteByte(')')
			args = append(args, rawValues(e)...)
		}
		tx, err := r.sqlite.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		return tx.Commit()
	}
	c := <-r.pg
	defer func() { r.pg <- c }()
	rows := make([][]any, len(evs))
	for i, e := range evs {
		rows[i] = rawValues(e)
	}
	_, err := c.CopyFrom(ctx, pgx.Identifier{"telemetry_events"}, rawColumns, pgx.CopyFromRows(rows))
	return err
}

func (r *rawStore) close() {
	if r.sqlite != nil {
		r.sqlite.Close()
	}
	if r.pg != nil {
		for range benchSenders {
			(<-r.pg).Close(context.Background())
		}
	}
}

// storedBytesPerEvent is the receiver's database size per stored event:
// SQLite's file and WAL (which hold the other tables too, a few pages),
// or the PostgreSQL event partitions with their indexes.
func storedBytesPerEvent(b *testing.B, db string, m *Main) float64 {
	var n, size float64
	if db == "sqlite" {
		c, err := sql.Open("sqlite", "file:"+filepath.Join(m.DataDir, "codexgov.db")+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.QueryRow(`SELECT COUNT(*) FROM telemetry_events`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		for _, f := range []string{"codexgov.db", "codexgov.db-wal"} {
			if fi, err := os.Stat(filepath.Join(m.DataDir, f)); err == nil {
				size += float64(fi.Size())
			}
		}
		return size / n
	}
	c, err := sql.Open("pgx", m.Database)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.QueryRow(`SELECT COUNT(*) FROM telemetry_events`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if err := c.QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'telemetry_events' AND p.relnamespace = to_regnamespace(current_schema())::oid`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	return size / n
}
