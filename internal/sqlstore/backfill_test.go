package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// TestWeekDaySumsBackfill: migration 00026's fill of the week rows' day
// sums (day_threads, days) from the day rows agrees with what applying
// the rollup deltas keeps, on both databases — events over three weeks,
// sessions running over midnight.
func TestWeekDaySumsBackfill(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			defer s.Close()
			ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "test"})
			if _, err := s.CreateWorkspace(ctx, "a", ""); err != nil {
				t.Fatal(err)
			}
			first := time.Date(2026, 10, 29, 22, 0, 0, 0, time.UTC) // a Thursday, late
			var evs []codexgov.TelemetryEvent
			for i := range 300 {
				at := first.Add(time.Duration(i) * 97 * time.Minute)
				who := []string{"ann", "bob", "cat"}[i%3]
				evs = append(evs, codexgov.TelemetryEvent{ID: fmt.Sprintf("tev_b%04d", i), Workspace: "a", Identity: "user:" + who + "@example.com", Credential: "et_1",
					Session: fmt.Sprintf("%s-%d", who, i/20), Surface: []string{"codex_cli_rs", "codex_vscode"}[i%2], Model: []string{"gpt-5.1-codex", "gpt-5-mini"}[i/7%2],
					Time: at, ReceivedAt: at, Type: codexgov.TelemetryPrompt, Name: "codex.user_prompt", Attributes: map[string]any{}})
			}
			if _, err := s.AppendTelemetry(ctx, evs); err != nil {
				t.Fatal(err)
			}
			if err := s.DrainAnalytics(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			read := func() map[string][2]int64 {
				rows, err := s.db.QueryContext(ctx, `SELECT bucket, identity, client_id, model, day_threads, days FROM analytics_usage WHERE period = 'week'`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string][2]int64{}
				for rows.Next() {
					var b, id, c, m string
					var v [2]int64
					if err := rows.Scan(&b, &id, &c, &m, &v[0], &v[1]); err != nil {
						t.Fatal(err)
					}
					out[b+" "+id+" "+c+" "+m] = v
				}
				return out
			}
			kept := read()
			if len(kept) < 20 {
				t.Fatalf("only %d week rows", len(kept))
			}
			dir := "migrations/sqlite"
			if s.postgres {
				dir = "migrations/postgres"
			}
			up, err := fs.ReadFile(migrations, dir+"/00026_analytics_week_day_sums.sql")
			if err != nil {
				t.Fatal(err)
			}
			text := string(up)
			i := strings.Index(text, "UPDATE analytics_usage SET day_threads")
			fill := text[i : i+strings.Index(text[i:], ";")]
			if _, err := s.db.ExecContext(ctx, `UPDATE analytics_usage SET day_threads = 0, days = 0`); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, fill); err != nil {
				t.Fatal(err)
			}
			if filled := read(); !maps.Equal(filled, kept) {
				for k, v := range kept {
					if filled[k] != v {
						t.Errorf("%s: filled %v, kept %v", k, filled[k], v)
					}
				}
			}
			var nonzero int
			for _, v := range kept {
				if v[0] > 0 && v[1] > 1 {
					nonzero++
				}
			}
			if nonzero == 0 {
				t.Error("no week row has day sums to compare")
			}
		})
	}
}
