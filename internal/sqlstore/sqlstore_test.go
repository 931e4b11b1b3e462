package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/storetest"
	"github.com/codexgov/codexgov/internal/testenv"
)

func openSQLite(t *testing.T) *DB {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "codexgov.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t *testing.T) *DB {
	s, err := Open(context.Background(), testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
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
