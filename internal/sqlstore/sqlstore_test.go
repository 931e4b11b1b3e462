package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/codexgov/codexgov/internal/signing"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/storetest"
	"github.com/codexgov/codexgov/internal/testenv"
)

func openSQLite(t *testing.T) *DB {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "codexgov.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.SetValidator(policy.Validate)
	s.SetKeyWrapper(testWrapper())
	return s
}

func openPostgres(t *testing.T) *DB {
	s, err := Open(context.Background(), testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	s.SetValidator(policy.Validate)
	s.SetKeyWrapper(testWrapper())
	return s
}

// testWrapper wraps data keys under a fresh master key, as the server
// does: the conformance suite runs with content encrypted at rest.
func testWrapper() KeyWrapper {
	var m signing.MasterKey
	rand.Read(m[:])
	return signing.NewKeyWrapper(m)
}

var backends = []struct {
	name string
	open func(t *testing.T) *DB
}{{"sqlite", openSQLite}, {"postgres", openPostgres}}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) codexgov.Store { return b.open(t) })
		})
	}
}

// TestFailureMidTransaction injects a failure after the change and after
// its audit row: neither may be stored without the other.
func TestFailureMidTransaction(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			ctx := storetest.Actor()
			if _, err := s.CreateWorkspace(ctx, "a", ""); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("injected failure")
			for _, point := range []string{"after-change", "after-audit"} {
				s.failpoint = func(p string) error {
					if p == point {
						return boom
					}
					return nil
				}
				ops := map[string]func() error{
					"create group": func() error { _, err := s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}); return err },
					"put policy": func() error {
						_, err := s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "p", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n"})
						return err
					},
					"update settings": func() error {
						on := true
						_, err := s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{AllowCodexCloud: &on})
						return err
					},
				}
				for name, op := range ops {
					if err := op(); !errors.Is(err, boom) {
						t.Fatalf("%s at %s: err = %v, want the injected failure", name, point, err)
					}
				}
				s.failpoint = nil
				evs, err := s.AuditEvents(ctx, "a", codexgov.AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || evs[0].Action != "workspace.create" {
					t.Errorf("%s: audit rows = %d (%v), want only workspace.create", point, len(evs), evs[0].Action)
				}
				if gs, _ := s.Groups(ctx, "a"); len(gs) != 0 {
					t.Errorf("%s: group stored without its audit row", point)
				}
				if ps, _ := s.Policies(ctx, "a"); len(ps) != 0 {
					t.Errorf("%s: policy stored without its audit row", point)
				}
				if w, _ := s.Workspace(ctx, "a"); w.Settings.AllowCodexCloud {
					t.Errorf("%s: settings changed without an audit row", point)
				}
			}
		})
	}
}

// TestMigrationsParity: every migration version exists for both dialects,
// so that a deployment can move between them and both reach the same
// schema version.
func TestMigrationsParity(t *testing.T) {
	versions := func(dir string) []string {
		entries, err := migrations.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, e := range entries {
			v, _, ok := strings.Cut(e.Name(), "_")
			if !ok || !strings.HasSuffix(e.Name(), ".sql") {
				t.Errorf("%s/%s: want NNNNN_name.sql", dir, e.Name())
				continue
			}
			vs = append(vs, v)
		}
		return vs
	}
	if problems := migrationParity(versions("migrations/sqlite"), versions("migrations/postgres")); len(problems) > 0 {
		t.Error(strings.Join(problems, "\n"))
	}
}

// migrationParity names every version one dialect has and the other lacks.
func migrationParity(sqlite, postgres []string) []string {
	var problems []string
	for _, v := range sqlite {
		if !slices.Contains(postgres, v) {
			problems = append(problems, "migration "+v+" exists for SQLite but not for PostgreSQL")
		}
	}
	for _, v := range postgres {
		if !slices.Contains(sqlite, v) {
			problems = append(problems, "migration "+v+" exists for PostgreSQL but not for SQLite")
		}
	}
	return problems
}

func TestMigrationParityCatchesAGap(t *testing.T) {
	got := migrationParity([]string{"00001", "00002", "00003"}, []string{"00001", "00003", "00004"})
	want := []string{"migration 00002 exists for SQLite but not for PostgreSQL", "migration 00004 exists for PostgreSQL but not for SQLite"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestConcurrentStartsMigrateOnce: replicas starting at once on one
// PostgreSQL schema all open it, and each migration runs once.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	dsn := testenv.PostgresSchema(t)
	const replicas = 4
	errs := make(chan error, replicas)
	var wg sync.WaitGroup
	for range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a replica failed to start: %v", err)
		}
	}
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.Query(`SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v, count int64
		if err := rows.Scan(&v, &count); err != nil {
			t.Fatal(err)
		}
		n++
		if count != 1 {
			t.Errorf("migration %d ran %d times", v, count)
		}
	}
	if want, _ := migrations.ReadDir("migrations/postgres"); n != len(want) {
		t.Errorf("%d migrations applied, want %d", n, len(want))
	}
}

// Every pooled SQLite connection commits with synchronous=FULL: an
// acknowledged change and its audit row survive a power loss.
func TestSQLiteCommitsAreSynced(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.SetMaxOpenConns(4)
	ctx := context.Background()
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		if conns[i], err = s.db.Conn(ctx); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
		var v int
		if err := conns[i].QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != 2 {
			t.Errorf("connection %d: synchronous = %d, want 2 (FULL)", i, v)
		}
	}
}
