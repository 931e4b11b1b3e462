package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL check reads the rows itself
	_ "modernc.org/sqlite"             // the SQLite check reads the file itself

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/testenv"
)

// killCycles is how many times TestTelemetrySurvivesKill kills the
// server on each database (CODEXGOV_KILL_CYCLES raises it).
func killCycles() int { return cyclesFromEnv("CODEXGOV_KILL_CYCLES", 100) }

// cyclesFromEnv is a kill loop's count: the variable's when it is a
// positive number, else def.
func cyclesFromEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// recordsPerBatch is how many log records each sent batch holds, all of
// one session: after a kill a batch is stored whole or not at all.
const recordsPerBatch = 5

// TestTelemetrySurvivesKill runs the real server binary, sends Codex-shaped
// log batches to it from four senders, and kills it with SIGKILL at a
// random moment, 100 times on SQLite and 100 on PostgreSQL. A sender
// records every batch the server acknowledged. After each restart every
// acknowledged event is stored exactly once, and every batch is stored
// whole or not at all.
func TestTelemetrySurvivesKill(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "codexgov")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"server", "--data-dir", dir, "--sync-interval", "100ms", "--rate-per-credential", "0"}
			dsn := "file:" + filepath.Join(dir, "codexgov.db") + "?mode=ro"
			driver := "sqlite"
			if db == "postgres" {
				dsn = testenv.PostgresSchema(t)
				args = append(args, "--database", dsn)
				driver = "pgx"
			}
			k := &killRun{t: t, bin: bin, args: args}
			k.start()
			key := adminKeyRE.FindString(k.out.String())
			admin := client.New(k.url, key)
			ctx := context.Background()
			must[*codexgov.Workspace](t)(admin.CreateWorkspace(ctx, "acme", ""))
			must[*codexgov.User](t)(admin.CreateUser(ctx, "acme", "ann@acme.test", ""))
			tok := must[*codexgov.EnrollmentToken](t)(admin.CreateEnrollmentToken(ctx, "acme", client.EnrollmentTokenRequest{User: "ann@acme.test", Name: "kill-box"}))
			check, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()

			var mu sync.Mutex
			acked := map[string]bool{}
			next := 0
			killedMidBatch := 0
			cycles := killCycles()
			start := time.Now()
			for cycle := range cycles {
				if cycle > 0 {
					k.start()
					k.verify(check, acked)
				}
				sendCtx, stop := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				inflight := 0
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for sendCtx.Err() == nil {
							mu.Lock()
							next++
							session := fmt.Sprintf("kill-%06d", next)
							inflight++
							mu.Unlock()
							ok := sendBatch(sendCtx, k.url, tok.Secret, session)
							mu.Lock()
							inflight--
							if ok {
								acked[session] = true
							}
							mu.Unlock()
						}
					}()
				}
				time.Sleep(time.Duration(20+rand.IntN(180)) * time.Millisecond)
				mu.Lock()
				if inflight > 0 {
					killedMidBatch++
				}
				mu.Unlock()
				k.kill()
				stop()
				wg.Wait()
			}
			k.start()
			k.verify(check, acked)
			k.kill()
			t.Logf("%s: %d SIGKILLs (%d with batches in flight), %d batches acknowledged of %d sent, each found stored once after every restart; %s in all",
				db, cycles, killedMidBatch, len(acked), next, time.Since(start).Round(time.Second))
		})
	}
}

// killRun is the server process killed and restarted on one port.
type killRun struct {
	t    testing.TB
	bin  string
	args []string
	addr string
	url  string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

func (k *killRun) start() {
	k.t.Helper()
	if k.addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			k.t.Fatal(err)
		}
		k.addr = ln.Addr().String()
		ln.Close()
		k.url = "http://" + k.addr
	}
	k.out.Reset()
	k.cmd = exec.Command(k.bin, append(k.args, "--listen", k.addr)...)
	k.cmd.Stdout, k.cmd.Stderr = &k.out, &k.out
	k.cmd.Env = append(os.Environ(), "CODEXGOV_TOKEN=", "CODEXGOV_WORKSPACE=")
	if err := k.cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { k.cmd.Process.Kill(); k.cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(k.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	k.t.Fatalf("the server did not get ready in 30 s:\n%s", k.out.String())
}

func (k *killRun) kill() {
	k.cmd.Process.Signal(syscall.SIGKILL)
	k.cmd.Wait()
}

// verify checks, with the server up again, that every acknowledged batch
// is stored exactly once and that no batch is stored in part.
func (k *killRun) verify(db *sql.DB, acked map[string]bool) {
	k.t.Helper()
	rows, err := db.Query(`SELECT session_id, COUNT(*), COUNT(DISTINCT event_id) FROM telemetry_events WHERE session_id LIKE 'kill-%' GROUP BY session_id`)
	if err != nil {
		k.t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var session string
		var n, distinct int
		if err := rows.Scan(&session, &n, &distinct); err != nil {
			k.t.Fatal(err)
		}
		stored[session] = true
		if n != recordsPerBatch || distinct != recordsPerBatch {
			k.t.Fatalf("batch %s is stored as %d rows (%d distinct events); want %d once each", session, n, distinct, recordsPerBatch)
		}
	}
	if err := rows.Err(); err != nil {
		k.t.Fatal(err)
	}
	for s := range acked {
		if !stored[s] {
			k.t.Fatalf("batch %s was acknowledged but is not stored after the restart", s)
		}
	}
}

// sendBatch posts one batch of a session's records (Codex's shape: the
// time in event.timestamp) and reports whether the server acknowledged
// it.
func sendBatch(ctx context.Context, url, token, session string) bool {
	var b bytes.Buffer
	b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"codex_exec"}}]},"scopeLogs":[{"scope":{"name":"codex_otel.log_only"},"logRecords":[`)
	now := time.Now().UTC()
	for i := range recordsPerBatch {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"attributes":[{"key":"event.name","value":{"stringValue":"codex.api_request"}},{"key":"event.timestamp","value":{"stringValue":"%s"}},{"key":"conversation.id","value":{"stringValue":"%s"}},{"key":"attempt","value":{"stringValue":"%d"}}]}`,
			now.Format(time.RFC3339Nano), session, i)
	}
	b.WriteString(`]}]}]}`)
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/logs", &b)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
