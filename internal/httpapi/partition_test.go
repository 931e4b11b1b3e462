package httpapi

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestPartitionedDatabaseAnswers503: with PostgreSQL behind a partition
// that drops every packet, requests that need the database answer 503
// (within the database deadline, not after the TCP stack gives up), a
// write sent into the partition is not applied, and clients keep being
// served from the snapshot.
func TestPartitionedDatabaseAnswers503(t *testing.T) {
	base, err := url.Parse(testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	part := testenv.NewPartition(t, base.Host)
	base.Host = part.Addr
	const deadline = 2 * time.Second
	f := newFixtureWith(t, base.String(), Options{DBTimeout: deadline})
	key, token := f.keys["victim/full"], f.keys["victim/token"]
	hc := &http.Client{Timeout: 60 * time.Second} // the test's own bound

	events := f.auditCount(t)
	part.Drop(true)
	type probe struct{ method, path, body, ctype, auth string }
	probes := []probe{
		{"GET", "/api/v1/workspaces/victim/users", "", "", key},
		{"POST", "/api/v1/workspaces/victim/groups", `{"name":"partitioned"}`, "", key},
		{"PATCH", "/api/v1/workspaces/victim/settings", `{"allow_codex_cloud":false}`, "", key},
		{"POST", "/oauth/token", "grant_type=refresh_token&client_id=codexgov-cli&refresh_token=cgr_x", "application/x-www-form-urlencoded", ""},
		{"GET", "/api/v1/workspaces/victim/audit-events", "", "", key},
	}
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(p.method, f.srv.URL+p.path, strings.NewReader(p.body))
			if p.auth != "" {
				req.Header.Set("Authorization", "Bearer "+p.auth)
			}
			if p.ctype != "" {
				req.Header.Set("Content-Type", p.ctype)
			}
			start := time.Now()
			resp, err := hc.Do(req)
			took := time.Since(start)
			if err != nil {
				t.Errorf("%s %s: no answer after %s: %v", p.method, p.path, took.Round(time.Millisecond), err)
				return
			}
			resp.Body.Close()
			if want := http.StatusServiceUnavailable; resp.StatusCode != want {
				t.Errorf("%s %s during the partition: %d after %s, want %d", p.method, p.path, resp.StatusCode, took.Round(time.Millisecond), want)
			}
			t.Logf("partition: %s %s → %d in %s (database deadline %s)", p.method, p.path, resp.StatusCode, took.Round(time.Millisecond), deadline)
		}()
	}
	// Machines keep getting their policy from the snapshot meanwhile.
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/client/requirements", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("client requirements during the partition: %d, want 200 from the snapshot", resp.StatusCode)
	}
	wg.Wait()

	part.Drop(false)
	// Healed: the write sent into the partition was not applied, and the
	// server works again.
	var code int
	var body string
	for range 20 {
		if code, body = f.do(t, "GET", "/api/v1/workspaces/victim/groups", key, ""); code == 200 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code != 200 || strings.Contains(body, "partitioned") {
		t.Errorf("after the partition: %d %s, want 200 without the group sent into it", code, body)
	}
	if n := f.auditCount(t); n != events {
		t.Errorf("%d audit events appeared for writes sent into the partition, want none", n-events)
	}
	if code, body := f.do(t, "POST", "/api/v1/workspaces/victim/groups", key, `{"name":"after"}`); code != 201 {
		t.Errorf("a write after the partition: %d %s", code, body)
	}
}

// TestPostgresConnectionsAreCapped: a burst of concurrent admin reads uses
// at most the pool's connections (they queue behind it within their
// deadline) and every one is answered.
func TestPostgresConnectionsAreCapped(t *testing.T) {
	u, err := url.Parse(testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	app := "codexgov_cap_" + strings.ReplaceAll(t.Name(), "/", "_")
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	f := newFixtureWith(t, u.String(), Options{DBTimeout: 30 * time.Second})
	const cap = 4
	f.store.SetMaxConns(cap)

	watch, err := sql.Open("pgx", testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	var peak atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for ctx.Err() == nil {
			var n int64
			if err := watch.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err == nil && n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	const clients = 128
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/workspaces/victim/audit-events?limit=50", nil)
				req.Header.Set("Authorization", "Bearer "+f.keys["victim/full"])
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	stop()
	<-sampled
	t.Logf("%d concurrent clients × 4 admin reads: peak %d PostgreSQL connections (cap %d), %d failed", clients, peak.Load(), cap, failed.Load())
	if peak.Load() > cap {
		t.Errorf("peak %d connections, over the cap of %d", peak.Load(), cap)
	}
	if peak.Load() == 0 {
		t.Errorf("no connection was seen: the sampling does not watch this server")
	}
	if failed.Load() > 0 {
		t.Errorf("%d requests failed behind the cap, want all answered", failed.Load())
	}
}
