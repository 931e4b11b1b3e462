// Package sqlstore implements codexgov.Store on SQLite (modernc, WAL) and
// PostgreSQL (pgx) with one set of SQL texts. Every change runs in one
// transaction that also writes its audit event and bumps the state
// version, which replicas poll to rebuild their snapshots.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/codexgov/codexgov"
)

//go:embed migrations
var migrations embed.FS

// DB is a codexgov.Store on one SQL database.
type DB struct {
	db       *sql.DB
	postgres bool
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// failpoint, when set, runs at named points inside every change's
	// transaction; an error it returns aborts the transaction there.
	failpoint func(point string) error
	// validate checks a policy before it is stored (SetValidator).
	validate Validator
	// group carries AppendTelemetry calls to the group committers.
	group     chan *appendReq
	groupOnce sync.Once
	// closed stops the group committers (Close).
	closed    chan struct{}
	closeOnce sync.Once
	// partitions are the PostgreSQL event partitions known to exist, by
	// day number.
	partitions sync.Map
	// otel finds a policy's own [otel] (SetOtelCheck).
	otel func(requirements string) (codexgov.Detail, bool)
	// keys are the data keys for content at rest (SetKeyWrapper).
	keys dataKeys
}

// Validator checks a policy as Codex reads it before the store keeps it:
// the warnings, or an EINVALID error with every finding positioned. The
// server wires internal/policy.Validate in, so that the store itself knows
// no Codex semantics.
type Validator func(codexgov.PolicyInput) ([]codexgov.Detail, error)

// SetValidator sets the policy validator; PutPolicy refuses every write
// until one is set.
func (s *DB) SetValidator(v Validator) { s.validate = v }

// SetOtelCheck sets how the store finds a policy's own [otel] table: while
// a workspace's telemetry is on, codexgov delivers [otel] itself, so a
// policy that sets it is refused, and telemetry is not turned on while a
// policy sets it.
func (s *DB) SetOtelCheck(f func(requirements string) (codexgov.Detail, bool)) { s.otel = f }

var _ codexgov.Store = (*DB)(nil)

// DefaultMaxConns is the default cap on PostgreSQL connections per
// replica: requests beyond it queue (within their deadline) instead of
// taking more of the cluster's slots.
const DefaultMaxConns = 16

// SetMaxConns caps the database connections this process opens; callers
// beyond the cap wait for one within their context's deadline.
func (s *DB) SetMaxConns(n int) {
	if n <= 0 || !s.postgres {
		return
	}
	s.db.SetMaxOpenConns(n)
	s.db.SetMaxIdleConns(n)
}

// Open connects to dsn, a postgres:// URL or an SQLite file path, and
// brings its schema up to date.
func Open(ctx context.Context, dsn string) (*DB, error) {
	s := &DB{Now: time.Now, closed: make(chan struct{})}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.postgres = true
		s.db, err = sql.Open("pgx", dsn)
		if err == nil {
			s.db.SetMaxOpenConns(DefaultMaxConns)
			s.db.SetMaxIdleConns(DefaultMaxConns)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
		}
		// The database file is the owner's alone; SQLite gives its -wal
		// and -shm files the same mode.
		f, ferr := os.OpenFile(dsn, os.O_RDWR|os.O_CREATE, 0o600)
		if ferr != nil {
			return nil, ferr
		}
		f.Close()
		if ferr := os.Chmod(dsn, 0o600); ferr != nil {
			return nil, ferr
		}
		// PRAGMAs go in the DSN so that every pooled connection has them.
		// synchronous=FULL: a commit (an audit row with its change) is on
		// disk when it is acknowledged, power loss included.
		s.db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.optimize(ctx, true); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Optimize keeps the query planner's statistics current: on SQLite,
// PRAGMA optimize (ANALYZE, within a bounded sample, of the tables whose
// size changed much since their last statistics), as SQLite recommends for
// long-lived connections; the server calls it hourly. Without statistics
// SQLite prefers a covering index's range to a partial index's seek, and
// some analytics queries read a whole window of rows instead of a
// workspace's few. PostgreSQL's autovacuum analyses by itself.
func (s *DB) Optimize(ctx context.Context) error { return s.optimize(ctx, false) }

func (s *DB) optimize(ctx context.Context, opening bool) error {
	if s.postgres {
		return nil
	}
	q := `PRAGMA optimize`
	if opening {
		q = `PRAGMA optimize=0x10002` // every table, not only those queried on this connection
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("optimize database: %w", err)
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if s.postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	if s.postgres {
		// Replicas starting at once migrate once: each waits on a session
		// advisory lock named after its database and schema, so that
		// deployments sharing a PostgreSQL server do not wait on each other.
		var where string
		if err := s.db.QueryRowContext(ctx, `SELECT current_database() || '.' || current_schema()`).Scan(&where); err != nil {
			return fmt.Errorf("migrate database: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("codexgov migrations " + where))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 600))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	return nil
}

// The change log keeps at least changeLogKeep versions, pruned every
// changeLogPrune changes.
const (
	changeLogKeep  = 10000
	changeLogPrune = 1000
)

// ChangesSince lists the workspaces changed after version ("" for a
// server-level change). complete is false when the log no longer reaches
// back that far: the caller must then read the whole state.
func (s *DB) ChangesSince(ctx context.Context, version int64) (workspaces []string, complete bool, err error) {
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(version) FROM state_changes`).Scan(&oldest); err != nil {
		return nil, false, dbError("changes", err)
	}
	cur, err := s.Version(ctx)
	if err != nil {
		return nil, false, err
	}
	if cur > version && (!oldest.Valid || oldest.Int64 > version+1) {
		return nil, false, nil
	}
	workspaces, err = stringList(ctx, s.db, `SELECT DISTINCT workspace_id FROM state_changes WHERE version > $1 ORDER BY workspace_id`, version)
	if err != nil {
		return nil, false, dbError("changes", err)
	}
	return workspaces, true, nil
}

// WorkspaceState reads one workspace's part of the state (its directory,
// policies, assignment and credentials) in one transaction; its Version
// is the state version read with it. A workspace that does not exist
// gives a State with no workspace.
func (s *DB) WorkspaceState(ctx context.Context, ws string) (*codexgov.State, error) {
	tx, err := s.db.BeginTx(ctx, s.readOpts())
	if err != nil {
		return nil, dbError("state", err)
	}
	defer tx.Rollback()
	st, err := readState(ctx, tx, s.now(), &ws)
	if err != nil {
		return nil, dbError("state", err)
	}
	return st, nil
}

// Close closes the database.
func (s *DB) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect names the database: "sqlite" or "postgres".
func (s *DB) Dialect() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

func (s *DB) now() int64 { return s.Now().UnixMicro() }

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// change runs fn in a transaction together with its audit event and the
// state version bump. fn returns the record before and after the change
// (either may be nil) for the audit event.
func (s *DB) change(ctx context.Context, ws, action, target string, fn func(tx *sql.Tx) (before, after any, err error)) error {
	return s.audited(ctx, ws, action, target, true, fn)
}

// audited is change with a choice: bump false records an audited change
// that the distributed snapshot does not depend on (a sign-in), so that
// replicas do not recompile for it.
func (s *DB) audited(ctx context.Context, ws, action, target string, bump bool, fn func(tx *sql.Tx) (before, after any, err error)) error {
	actor, ok := codexgov.ActorFrom(ctx)
	if !ok {
		return &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Op: action, Err: errors.New("a change without an actor is not audited, so it is refused")}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(action, err)
	}
	defer tx.Rollback()
	before, after, err := fn(tx)
	if errors.Is(err, errUnchanged) || errors.Is(err, errCodeReused) {
		return err
	}
	if err != nil {
		return dbError(action, err)
	}
	if err := s.fail("after-change"); err != nil {
		return dbError(action, err)
	}
	meta := codexgov.RequestMetadataFrom(ctx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (workspace_id, actor, action, target, before, after, request_id, created_at, client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ws, actor.ID, action, target, jsonText(before), jsonText(after), actor.RequestID, s.now(), meta.ClientIP, meta.ClientUserAgent); err != nil {
		return dbError(action, err)
	}
	if err := s.fail("after-audit"); err != nil {
		return dbError(action, err)
	}
	if bump {
		var v int64
		if err := tx.QueryRowContext(ctx, `UPDATE state SET version = version + 1 WHERE id = 1 RETURNING version`).Scan(&v); err != nil {
			return dbError(action, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO state_changes (version, workspace_id) VALUES ($1, $2)`, v, ws); err != nil {
			return dbError(action, err)
		}
		if v%changeLogPrune == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM state_changes WHERE version <= $1`, v-changeLogKeep); err != nil {
				return dbError(action, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return commitError(action, err)
	}
	return nil
}

// commitError reports a failed commit. A transaction its context ended
// before the commit was sent was rolled back: nothing changed. One the
// database stopped answering during the commit may or may not have been
// applied, and the error says so, so that nothing changes unreported.
func commitError(action string, err error) error {
	e := dbError(action, err)
	if errors.Is(err, sql.ErrTxDone) || codexgov.ErrorCode(e) != codexgov.EUNAVAILABLE {
		return e
	}
	return &codexgov.Error{Code: codexgov.EUNAVAILABLE, Op: action, Err: err,
		Message: "the database stopped answering while it committed this change: it may or may not have been applied; look before you try again"}
}

func (s *DB) fail(point string) error {
	if s.failpoint == nil {
		return nil
	}
	return s.failpoint(point)
}

func jsonText(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// dbError turns a driver error into a codexgov.Error: constraint
// violations into ECONFLICT, a database that cannot be reached into
// EUNAVAILABLE. codexgov errors pass through.
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *codexgov.Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	var pe *pgconn.PgError
	var se *sqlite.Error
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505", errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return &codexgov.Error{Code: codexgov.ECONFLICT, Message: "already exists", Op: op, Err: err}
	case errors.As(err, &pe) && pe.Code == "23503", errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &codexgov.Error{Code: codexgov.ECONFLICT, Message: "still referenced by another record", Op: op, Err: err}
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57")),
		errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_IOERR || se.Code()&0xff == sqlite3.SQLITE_CANTOPEN),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, context.DeadlineExceeded):
		return &codexgov.Error{Code: codexgov.EUNAVAILABLE, Message: "the database is unavailable; nothing was changed, try again", Op: op, Err: err}
	}
	return &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Op: op, Err: err}
}

func notFound(format string, args ...any) error {
	return codexgov.Errorf(codexgov.ENOTFOUND, format, args...)
}

// queryer is what reads need: the database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inWorkspace runs a read in an existing workspace: a missing workspace is
// ENOTFOUND, and driver errors become codexgov errors.
func inWorkspace[T any](ctx context.Context, s *DB, op, ws string, read func(q queryer) (T, error)) (T, error) {
	var zero T
	if _, err := workspace(ctx, s.db, ws); err != nil {
		return zero, dbError(op, err)
	}
	v, err := read(s.db)
	if err != nil {
		return zero, dbError(op, err)
	}
	return v, nil
}

// Version returns the state version.
func (s *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM state WHERE id = 1`).Scan(&v); err != nil {
		return 0, dbError("version", err)
	}
	return v, nil
}

// BackupTo writes a consistent copy of an SQLite database to path while
// the server runs (VACUUM INTO); path must not exist. A PostgreSQL database
// is backed up with pg_dump instead.
func (s *DB) BackupTo(ctx context.Context, path string) error {
	if s.postgres {
		return errors.New("the database is PostgreSQL: back it up with pg_dump (docs/operations.md)")
	}
	// The copy is the owner's alone: VACUUM INTO fills an empty file made
	// here with mode 0600 (it would otherwise follow the umask).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// ServerKeyIDs lists the server admin keys that are not revoked.
func (s *DB) ServerKeyIDs(ctx context.Context) ([]string, error) {
	keys, err := apiKeys(ctx, s.db, `workspace_id = '' AND revoked_at = 0`)
	if err != nil {
		return nil, dbError("server keys", err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids, nil
}
