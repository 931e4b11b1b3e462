package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/compliance"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/testenv"
)

// benchEvents is how many events the downloaded file holds.
const benchEvents = 1_000_000

// BenchmarkComplianceDownload (make bench-compliance) serves one sealed
// CODEX_LOG file of 1,000,000 tool-call records (about 1 GB; sealed from
// 1,000,000 raw events whose texts are encrypted at rest) from the real
// server binary on PostgreSQL, and downloads it the way a Compliance API
// client does (list → 307 → signed URL); in the same run, interleaved
// round by round, psql's \copy (SELECT …) TO STDOUT reads the same
// 1,000,000 source rows. The ratio is the median round's download
// records/s over psql's rows/s (goal ≥ 0.5). The server's resident memory
// is sampled every 10 ms while it serves the file: the growth over its
// resting size is reported.
func BenchmarkComplianceDownload(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		testenv.Missing(b, "psql is not installed (Debian: postgresql-client)")
	}
	ctx := context.Background()
	dsn := testenv.PostgresSchema(b)
	u, _ := url.Parse(dsn)
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	plainDSN := u.String()

	bin := filepath.Join(b.TempDir(), "codexgov")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	k := &killRun{t: b, bin: bin, args: []string{"server", "--data-dir", dir, "--database", dsn, "--rate-per-credential", "0", "--compliance-seal-interval", "24h"}}
	k.start()
	defer k.kill()
	key := adminKeyRE.FindString(k.out.String())
	admin := client.New(k.url, key)
	if _, err := admin.CreateWorkspace(ctx, "acme", ""); err != nil {
		b.Fatal(err)
	}
	reader, err := admin.CreateAPIKey(ctx, "acme", "reader", codexgov.ScopeComplianceRead)
	if err != nil {
		b.Fatal(err)
	}

	// The raw events, then one file sealed from them, written beside the
	// running server with its master key and signing key.
	master, err := signing.LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	store.SetKeyWrapper(signing.NewKeyWrapper(master))
	start := time.Now()
	args := strings.Repeat("x", 300)
	now := time.Now().UTC()
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 5000; i < benchEvents; i += 4 * 5000 {
				batch := make([]codexgov.TelemetryEvent, 0, 5000)
				for j := i; j < min(i+5000, benchEvents); j++ {
					batch = append(batch, codexgov.TelemetryEvent{ID: fmt.Sprintf("ev-%07d", j), Workspace: "acme", Identity: "user:ann@acme.test", Credential: "enr_bench", Device: "bench-box",
						Time: now.Add(time.Duration(j) * time.Microsecond), ReceivedAt: now.Add(time.Duration(j) * time.Microsecond), Type: codexgov.TelemetryToolResult, Name: "codex.tool_result",
						Session: fmt.Sprintf("sess-%05d", j/100), Surface: "codex_exec", Model: "gpt-5.1-codex",
						Data:       map[string]any{"tool_name": "exec_command", "call_id": fmt.Sprintf("call-%07d", j), "success": true, "duration_ms": 12},
						Attributes: map[string]any{"arguments": `{"cmd":"go test ./... # ` + args + `"}`, "output": "ok  \tgithub.com/acme/app\t0.01s " + args}})
				}
				if _, err := store.AppendTelemetry(ctx, batch); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := signing.NewSigner(master, keys)
	if err != nil {
		b.Fatal(err)
	}
	var wsUUID string
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT uuid FROM workspaces WHERE id = 'acme'`).Scan(&wsUUID); err != nil {
		b.Fatal(err)
	}
	sealer := &compliance.Sealer{Store: store, Sign: signer.Sign, MaxEvents: benchEvents + 1}
	if n, err := sealer.Seal(ctx, "acme", wsUUID, codexgov.ComplianceCodexLog, time.Now().Add(time.Hour)); err != nil || n != 1 {
		b.Fatalf("seal: %d files, %v", n, err)
	}
	f, err := store.LastComplianceFile(ctx, "acme", codexgov.ComplianceCodexLog)
	if err != nil || f.EventCount != benchEvents {
		b.Fatalf("the sealed file: %+v %v", f, err)
	}
	b.Logf("setup: %d raw events stored and sealed into one file of %d MB in %s", benchEvents, f.FileSize>>20, time.Since(start).Round(time.Second))

	hc := &http.Client{}
	download := func() (int64, time.Duration) {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", k.url+"/v1/compliance/workspaces/acme/logs/"+f.ID, nil)
		req.Header.Set("Authorization", "Bearer "+reader.Secret)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("download: %s", resp.Status)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != f.FileSize {
			b.Fatalf("download: %d of %d bytes, %v", n, f.FileSize, err)
		}
		return n, time.Since(t0)
	}
	copyRows := func() (int64, time.Duration) {
		t0 := time.Now()
		cmd := exec.Command(psql, "-X", "-q", "-d", plainDSN, "-c", `\copy (SELECT * FROM `+schema+`.telemetry_events WHERE workspace_id = 'acme' ORDER BY received_at, event_id) TO STDOUT`)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var rows int64
		r := bufio.NewReaderSize(out, 1<<20)
		for {
			chunk, err := r.ReadSlice('\n')
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				rows++
			}
			if err == io.EOF {
				break
			}
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
		}
		if err := cmd.Wait(); err != nil || rows != benchEvents {
			b.Fatalf("psql \\copy: %d rows, %v", rows, err)
		}
		return rows, time.Since(t0)
	}

	// The resting size, then the peak while serving.
	rss := func() int64 {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", k.cmd.Process.Pid))
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return kb << 10
			}
		}
		return 0
	}
	rounds := 6
	if v, err := strconv.Atoi(os.Getenv("ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	var ratios []float64
	var peak, rest int64
	for range b.N {
		for r := range rounds {
			rest = rss()
			stop := make(chan struct{})
			var sampled sync.WaitGroup
			sampled.Add(1)
			var roundPeak int64
			go func() {
				defer sampled.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
						roundPeak = max(roundPeak, rss())
					}
				}
			}()
			_, dt := download()
			close(stop)
			sampled.Wait()
			peak = max(peak, roundPeak-rest)
			_, ct := copyRows()
			ours, theirs := float64(benchEvents)/dt.Seconds(), float64(benchEvents)/ct.Seconds()
			ratios = append(ratios, ours/theirs)
			b.Logf("round %d: download %.0f records/s (%.0f MB/s), psql \\copy %.0f rows/s; ratio %.2f; server RSS %d MB at rest, +%d MB while serving",
				r+1, ours, float64(f.FileSize)/dt.Seconds()/1e6, theirs, ours/theirs, rest>>20, (roundPeak-rest)>>20)
		}
	}
	slices.Sort(ratios)
	median := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		median = (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
	}
	verdict := "MET"
	if median < 0.5 {
		verdict = "MISSED"
	}
	b.Logf("ratio download/psql \\copy: median %.2f over %d rounds, spread %.2f-%.2f; goal >= 0.50 %s; largest RSS growth while serving the %d MB file: %d MB",
		median, len(ratios), ratios[0], ratios[len(ratios)-1], verdict, f.FileSize>>20, peak>>20)
	b.ReportMetric(median, "ratio")
	b.ReportMetric(float64(peak>>20), "rss_growth_MB")
}
