package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

// BenchmarkConsolePages (make bench-console) times every console page of a
// workspace of 10,000 users (in three groups, each a policy) with 90 days
// of analytics rollups, 30 days of raw telemetry events (the default
// retention) and 10,000 devices, on each database, through single sign-on
// like a person: 30 requests per page; p50 and p95 of the server's answer
// (goal p95 < 200 ms).
func BenchmarkConsolePages(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) { benchConsole(b, db) })
	}
}

func benchConsole(b *testing.B, db string) {
	ctx := context.Background()
	ab, admin := newAnalyticsBench(b, db)
	m := ab.m
	users := cyclesFromEnv("CODEXGOV_BENCH_CONSOLE_USERS", 10_000)
	ws := "big"
	if _, err := admin.CreateWorkspace(ctx, ws, ""); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{AllowJITProvisioning: ptr(true)}); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.CreateRole(ctx, ws, codexgov.Role{Name: "admin", Permissions: []codexgov.Permission{codexgov.PermCodexAdmin}}); err != nil {
		b.Fatal(err)
	}
	groups := []string{"eng", "ops", "contractors", "Codex Admins"}
	for i, g := range groups {
		if _, err := admin.CreateGroup(ctx, ws, g, ""); err != nil {
			b.Fatal(err)
		}
		if i < 3 {
			if _, err := admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: g, Requirements: fmt.Sprintf("# %s\nallowed_sandbox_modes = [\"read-only\"]\n", g)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := admin.GrantRole(ctx, ws, "Codex Admins", "admin"); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "ops", Policy: "ops"}, {Group: "contractors", Policy: "contractors"}}, Default: "eng"}); err != nil {
		b.Fatal(err)
	}
	idp := testenv.NewIdP(b)
	if _, err := admin.PutIdentityProvider(ctx, ws, "okta", map[string]string{"issuer": idp.URL, "client_id": idp.ClientID, "client_secret": idp.ClientSecret, "allowed_domain": ws + ".test", "groups_claim": "groups"}); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	ab.loadUsers(ctx, ws, users)
	ab.copyRows(ctx, "group_members", []string{"workspace_id", "group_name", "email"}, func(yield func([]any) bool) {
		for u := range users {
			if !yield([]any{ws, groups[u%3], benchEmail(ws, u)}) {
				return
			}
		}
	})
	rows := ab.loadRollupsDays(ctx, ws, users, benchRollupDays)
	events := ab.loadEvents(ctx, ws, users)
	var ds []codexgov.Delivery
	for u := range users {
		at := ab.today.Add(-time.Duration(u%200) * time.Hour)
		ds = append(ds, codexgov.Delivery{Workspace: ws, Device: fmt.Sprintf("et_%06d", u), Kind: "enrollment", Identity: "user:" + benchEmail(ws, u), Policy: groups[u%3], PolicyVersion: 1,
			BundleHash: "h", UserAgent: "codex_cli_rs/0.169.0", FirstFetch: at, LastFetch: at, Fetches: 1})
	}
	if err := m.Store.RecordDeliveries(ctx, ds); err != nil {
		b.Fatal(err)
	}
	ab.report("%s: %d users, %d rollup rows (90 days), %d raw events (30 days), %d devices, loaded in %s", ws, users, rows, events, len(ds), time.Since(start).Round(time.Second))
	// A restart: the directory snapshot with the bulk-loaded users (and,
	// on SQLite, the planner's statistics: the store runs PRAGMA optimize
	// as it opens). On PostgreSQL, what autovacuum does after a bulk load
	// (the visibility map lets index-only scans skip the table).
	ab.restart(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	m = ab.m
	if db == "postgres" {
		if _, err := ab.pg.Exec(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	base := "http://" + m.Addr

	// Sign in as an admin, as a person does.
	idp.SignInAs(testenv.Claims{Email: "admin@" + ws + ".test", Name: "Admin", Groups: []string{"Codex Admins"}})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(path string) (int, string, time.Duration) {
		t0 := time.Now()
		resp, err := browser.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body), time.Since(t0)
	}
	_, page, _ := get("/ui/" + ws + "/sign-in")
	link := regexp.MustCompile(`href="(/sso/start\?flow=[^"]+)"`).FindStringSubmatch(page)
	if link == nil {
		b.Fatalf("no SSO link: %s", page)
	}
	if code, page, _ := get(html.UnescapeString(link[1])); code != 200 || !strings.Contains(page, `id="who">admin@`) {
		b.Fatalf("sign-in: %d %.300s", code, page)
	}
	pages := []string{"", "/users", "/users?q=u0042", "/users?page=100", "/groups", "/roles", "/policies", "/policies/eng", "/assignment", "/lookup?user=" + benchEmail(ws, 42),
		"/devices", "/devices?drifted=1", "/activity", "/analytics", "/analytics?group_by=week", "/compliance", "/audit", "/credentials", "/settings"}
	// CODEXGOV_BENCH_CONSOLE_PAGES narrows the run to the pages whose path
	// contains it (for a profile of one page).
	if only := os.Getenv("CODEXGOV_BENCH_CONSOLE_PAGES"); only != "" {
		pages = slices.DeleteFunc(pages, func(p string) bool { return !strings.Contains("/ui/"+ws+p, only) })
	}
	for b.Loop() {
		for _, p := range pages {
			var took []time.Duration
			failed := ""
			for range 30 {
				code, body, d := get("/ui/" + ws + p)
				if code != 200 || strings.Contains(body, "Something went wrong") {
					failed = fmt.Sprintf("answered %d after %s", code, d.Round(time.Millisecond))
					b.Errorf("%s: %d %s", p, code, regexp.MustCompile(`class="error"[^>]*>[^<]*`).FindString(body))
					break
				}
				took = append(took, d)
			}
			if failed != "" {
				ab.report("%-28s %s", "/ui/"+ws+p, failed)
				continue
			}
			name := strings.NewReplacer("/", "", "?", "-", "=", "-").Replace(p)
			if name == "" {
				name = "overview"
			}
			p95 := percentile(took, 0.95)
			b.ReportMetric(ms(p95), name+"-p95-ms")
			ab.report("%-28s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms", "/ui/"+ws+p, ms(percentile(took, 0.5)), ms(p95), ms(slices.Max(took)))
		}
	}
	// On standard error too: a benchmark's log is cut after a few lines.
	for _, r := range ab.reports {
		b.Log(r)
		fmt.Fprintln(os.Stderr, r)
	}
}

func ptr[T any](v T) *T { return &v }
