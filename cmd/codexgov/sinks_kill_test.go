package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/testenv"
)

// sinkKillCycles is how many times TestSinksSurviveKill kills the server
// on each database (CODEXGOV_SINK_KILL_CYCLES raises it).
func sinkKillCycles() int { return cyclesFromEnv("CODEXGOV_SINK_KILL_CYCLES", 50) }

// TestSinksSurviveKill runs the real server binary sealing every 100 ms
// and pushing every 50 ms to a signed webhook, feeds it Codex records and
// admin changes, and kills it with SIGKILL at a random moment, 50 times
// on each database. After the last restart has caught up, the webhook
// has received every stored record at least once, and after
// de-duplication on event_id exactly the stored set.
func TestSinksSurviveKill(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "codexgov")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"server", "--data-dir", dir, "--sync-interval", "100ms", "--rate-per-credential", "0",
				"--compliance-seal-interval", "100ms", "--compliance-seal-grace", "0", "--compliance-push-interval", "50ms"}
			if db == "postgres" {
				args = append(args, "--database", testenv.PostgresSchema(t))
			}
			secret := strings.Repeat("k1ll", 10)
			hook, hookSrv := webhookReceiver(t, secret, 0)
			k := &killRun{t: t, bin: bin, args: args}
			k.start()
			key := adminKeyRE.FindString(k.out.String())
			admin := client.New(k.url, key)
			ctx := context.Background()
			must[*codexgov.Workspace](t)(admin.CreateWorkspace(ctx, "acme", ""))
			must[*codexgov.User](t)(admin.CreateUser(ctx, "acme", "ann@acme.test", ""))
			tok := must[*codexgov.EnrollmentToken](t)(admin.CreateEnrollmentToken(ctx, "acme", client.EnrollmentTokenRequest{User: "ann@acme.test", Name: "kill-box"}))
			reader := must[*codexgov.APIKey](t)(admin.CreateAPIKey(ctx, "acme", "reader", codexgov.ScopeComplianceRead))
			must[*codexgov.ComplianceSink](t)(admin.CreateComplianceSink(ctx, "acme", codexgov.SinkInput{Name: "hook", Kind: codexgov.SinkWebhook, URL: hookSrv.URL, Secret: secret}))

			cycles := sinkKillCycles()
			start := time.Now()
			deliveredAtKill, pushing := 0, 0
			for cycle := range cycles {
				if cycle > 0 {
					k.start()
				}
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { // Codex records
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						req, _ := http.NewRequest("POST", k.url+"/v1/logs", bytes.NewReader(otlpPrompt(fmt.Sprintf("kill-%d-%d", cycle, i), "p")))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+tok.Secret)
						if resp, err := http.DefaultClient.Do(req); err == nil {
							resp.Body.Close()
						}
						time.Sleep(10 * time.Millisecond)
					}
				}()
				go func() { // admin changes (AUDIT_LOG)
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						admin.CreateUser(ctx, "acme", fmt.Sprintf("k%d-%d@acme.test", cycle, i), "")
						time.Sleep(30 * time.Millisecond)
					}
				}()
				time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
				if n := len(hook.snapshot()); n > deliveredAtKill {
					pushing++
					deliveredAtKill = n
				}
				k.kill()
				close(stop)
				wg.Wait()
			}
			k.start()
			defer k.kill()
			var want map[string]bool
			deadline := time.Now().Add(60 * time.Second)
			for {
				want = storedIDs(t, k.url, reader.Secret)
				got := hook.snapshot()
				diff := sameSet(got, want)
				if diff == "" {
					dups := 0
					for _, n := range got {
						dups += n - 1
					}
					t.Logf("%s: %d SIGKILLs, %d of them after the webhook received more (%d records by the last kill); the webhook has all %d stored records, %d delivered more than once; %s in all",
						db, cycles, pushing, deliveredAtKill, len(want), dups, time.Since(start).Round(time.Second))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("60 s after the last restart: %s\n%s", diff, k.out.String())
				}
				time.Sleep(500 * time.Millisecond)
			}
			if len(want) < cycles || pushing < cycles/2 {
				t.Fatalf("%d records stored, and the webhook received more in only %d of %d cycles: the kills did not land while pushing", len(want), pushing, cycles)
			}
		})
	}
}
