package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/httpapi"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
)

// seedWorkspaces adds n workspaces of users users each: three groups, a
// policy per group and an assignment, through the store (audited) except
// the users and memberships, which are bulk-inserted.
func seedWorkspaces(b *testing.B, s *sqlstore.DB, from, n, users int) {
	b.Helper()
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "bench"})
	for i := from; i < from+n; i++ {
		ws := fmt.Sprintf("ws%04d", i)
		if _, err := s.CreateWorkspace(ctx, ws, ""); err != nil {
			b.Fatal(err)
		}
		var rules []codexgov.Rule
		for _, g := range []string{"eng", "ops", "contractors"} {
			if _, err := s.CreateGroup(ctx, ws, codexgov.Group{Name: g}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: g, Requirements: fmt.Sprintf("# %s %s\nallowed_sandbox_modes = [\"read-only\"]\n", ws, g)}); err != nil {
				b.Fatal(err)
			}
			rules = append(rules, codexgov.Rule{Group: g, Policy: g})
		}
		if _, err := s.SetAssignment(ctx, ws, codexgov.Assignment{Rules: rules, Default: "eng"}); err != nil {
			b.Fatal(err)
		}
		tx, err := s.SQL().Begin()
		if err != nil {
			b.Fatal(err)
		}
		for u := range users {
			email := fmt.Sprintf("user%03d@%s.test", u, ws)
			if _, err := tx.Exec(`INSERT INTO users (workspace_id, email, name, active, created_at, id) VALUES ($1, $2, '', TRUE, 1, $3)`, ws, email, fmt.Sprintf("usr_%s_%d", ws, u)); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO group_members (workspace_id, group_name, email) VALUES ($1, $2, $3)`, ws, []string{"eng", "ops", "contractors"}[u%3], email); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolicyWriteScaling: one policy write in one workspace (the
// store write and this replica's rebuild, as an API write does), and a
// second replica on the same database catching up, as the number of
// other workspaces of 100 users grows from 10 to 1,000. Both should stay
// flat: a change costs in proportion to its own workspace.
func BenchmarkPolicyWriteScaling(b *testing.B) {
	dir := b.TempDir()
	dsn := filepath.Join(dir, "codexgov.db")
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetValidator(policy.Validate)
	replica, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer replica.Close()
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "bench"})
	var master signing.MasterKey
	if _, err := s.AddSigningKey(ctx, signing.NewSigningKey(master, time.Now())); err != nil {
		b.Fatal(err)
	}
	seeded := 0
	for _, others := range []int{10, 100, 1000} {
		seedWorkspaces(b, s, seeded, others-seeded, 100)
		seeded = others
		api, err := httpapi.New(context.Background(), s, master, httpapi.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := httpapi.New(context.Background(), replica, master, httpapi.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		write := func() {
			n++
			if _, err := s.PutPolicy(ctx, "ws0000", codexgov.PolicyInput{Name: "eng", Requirements: fmt.Sprintf("# write %d\nallowed_sandbox_modes = [\"read-only\"]\n", n)}); err != nil {
				b.Fatal(err)
			}
			if err := api.Rebuild(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("write/others=%d", others), func(b *testing.B) {
			for b.Loop() {
				write()
			}
		})
		b.Run(fmt.Sprintf("catch-up/others=%d", others), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				write()
				b.StartTimer()
				if err := rep.Rebuild(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The reference in the same run: a full compile of all of it.
		b.Run(fmt.Sprintf("full-rebuild/others=%d", others), func(b *testing.B) {
			for b.Loop() {
				fresh, err := httpapi.New(context.Background(), replica, master, httpapi.Options{})
				if err != nil || fresh.Snapshot().Version == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
