package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/compliance"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// complianceServer starts a server that seals every 100 ms, feeds it the
// captured Codex turn and some admin changes, and pulls its files with
// `codexgov compliance pull` into a folder.
func complianceServer(t *testing.T) (srvURL, key, dir string, admin cli) {
	t.Helper()
	m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1}
	srvURL, key = startServer(t, m)
	admin = cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "users", "add", "ann@acme.test")
	var tok struct {
		Secret string `json:"secret"`
	}
	admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "laptop-7")
	for i, f := range []string{"otlp-logs-batch1.json", "otlp-logs-batch2.json", "otlp-logs-batch3.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "telemetry", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		// The captured turn, dated now (inside the retention window).
		batch := plogotlp.NewExportRequest()
		if err := batch.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		forEachRecord(batch.Logs(), func(lr plog.LogRecord) {
			lr.Attributes().PutStr("event.timestamp", time.Now().UTC().Format(time.RFC3339Nano))
		})
		b, _ := batch.MarshalJSON()
		postLogs(t, srvURL, tok.Secret, b)
		admin.run(0, "users", "add", fmt.Sprintf("u%d@acme.test", i))
		time.Sleep(250 * time.Millisecond) // a file per batch, so that chains have links
	}
	var ck struct {
		Secret string `json:"secret"`
	}
	admin.json(&ck, "api-keys", "create", "siem", "--scope", "compliance:read")
	time.Sleep(300 * time.Millisecond)
	dir = t.TempDir()
	out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", ck.Secret, "-w", "acme", "--out", dir)
	if code != 0 {
		t.Fatalf("pull: %d %s%s", code, out, errOut)
	}
	return srvURL, ck.Secret, dir, admin
}

// TestCompliancePullAndVerify: pull writes each file with its signed
// manifest, the JWKS and a checkpoint; a second pull fetches only what is
// new and de-duplicates records on event_id; verify accepts the untouched
// folder.
func TestCompliancePullAndVerify(t *testing.T) {
	srvURL, key, dir, admin := complianceServer(t)
	out, errOut, code := runCLI(t, "compliance", "verify", dir)
	if code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify of an untouched pull: %d %s%s", code, out, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "CODEX_LOG.events.jsonl"))
	admin.run(0, "users", "add", "late@acme.test")
	time.Sleep(400 * time.Millisecond)
	out, errOut, code = runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir)
	if code != 0 || !strings.Contains(out, "pulled 1 files") {
		t.Fatalf("the second pull: %d %s%s", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "CODEX_LOG.events.jsonl"))
	if !bytes.Equal(before, after) || len(before) == 0 {
		t.Errorf("the second pull changed the CODEX_LOG events (%d → %d bytes)", len(before), len(after))
	}
	if out, _, code := runCLI(t, "compliance", "verify", dir); code != 0 {
		t.Fatalf("verify after the second pull: %s", out)
	}
	// With the list route's 100 requests a minute used up, pull waits for
	// the server and finishes.
	for i := 0; ; i++ {
		req, _ := http.NewRequest("GET", srvURL+"/v1/compliance/workspaces/acme/logs?event_type=CODEX_LOG&after=2100-01-01T00:00:00Z", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 429 {
			break
		}
		if i > 200 {
			t.Fatal("the list route never answered 429")
		}
	}
	admin.run(0, "users", "add", "later@acme.test")
	time.Sleep(400 * time.Millisecond)
	out, errOut, code = runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir)
	if code != 0 || !strings.Contains(out, "pulled 1 files") {
		t.Fatalf("a pull against an exhausted rate limit: %d %s%s", code, out, errOut)
	}
}

// TestComplianceTamper: 10,000 random edits of a pulled folder — bit
// flips, line deletions, insertions and reorders, truncations, a dropped
// file, swapped files, a replayed old file, a forged manifest — are each
// found by verify; the untouched folder verifies.
func TestComplianceTamper(t *testing.T) {
	_, _, dir, _ := complianceServer(t)
	jwks, err := os.ReadFile(filepath.Join(dir, compliance.JWKSFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compliance.Verify(dir, jwks); err != nil {
		t.Fatalf("the untouched folder: %v", err)
	}
	orig := map[string][]byte{}
	var files, manifests []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		orig[e.Name()] = b
		switch {
		case strings.HasSuffix(e.Name(), compliance.ManifestSuffix):
			manifests = append(manifests, e.Name())
		case strings.HasSuffix(e.Name(), ".jsonl") && !strings.HasSuffix(e.Name(), ".events.jsonl"):
			if len(b) == 0 {
				t.Fatalf("%s is empty: the sealer wrote a file of no records", e.Name())
			}
			files = append(files, e.Name())
		}
	}
	slices.Sort(files)
	if len(files) < 6 {
		t.Fatalf("only %d files pulled: %v", len(files), files)
	}
	lines := func(b []byte) [][]byte { return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) }
	kinds := []string{"bit flip", "line deleted", "line inserted", "lines reordered", "truncated", "file dropped", "files swapped", "old file replayed", "manifest edited", "manifest dropped", "checkpoint edited"}
	const edits, workers = 10000, 4
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := t.TempDir()
			for n, b := range orig {
				os.WriteFile(filepath.Join(work, n), b, 0o644)
			}
			// reset puts back what the last edit touched.
			reset := func() {
				entries, _ := os.ReadDir(work)
				have := map[string]bool{}
				for _, e := range entries {
					have[e.Name()] = true
				}
				for n, b := range orig {
					if cur, err := os.ReadFile(filepath.Join(work, n)); !have[n] || err != nil || !bytes.Equal(cur, b) {
						os.WriteFile(filepath.Join(work, n), b, 0o644)
					}
				}
			}
			for i := wk; i < edits; i += workers {
				rng := rand.New(rand.NewPCG(20261203, uint64(i)))
				reset()
				f := files[rng.IntN(len(files))]
				path := filepath.Join(work, f)
				body := orig[f]
				kind := kinds[rng.IntN(len(kinds))]
				switch kind {
				case "bit flip":
					b := slices.Clone(body)
					p := rng.IntN(len(b))
					b[p] ^= 1 << rng.IntN(8)
					os.WriteFile(path, b, 0o644)
				case "line deleted":
					ls := slices.Clone(lines(body))
					ls[len(ls)-1] = append(slices.Clone(ls[len(ls)-1]), '\n')
					j := rng.IntN(len(ls))
					os.WriteFile(path, bytes.Join(append(slices.Clone(ls[:j]), ls[j+1:]...), nil), 0o644)
				case "line inserted":
					ls := slices.Clone(lines(body))
					ls[len(ls)-1] = append(slices.Clone(ls[len(ls)-1]), '\n')
					j := rng.IntN(len(ls) + 1)
					src := lines(orig[files[rng.IntN(len(files))]])
					ins := append(slices.Clone(src[rng.IntN(len(src))]), '\n')
					ins = append(bytes.TrimRight(ins, "\n"), '\n')
					os.WriteFile(path, bytes.Join(slices.Insert(slices.Clone(ls), j, ins), nil), 0o644)
				case "lines reordered":
					ls := slices.Clone(lines(body))
					ls[len(ls)-1] = append(slices.Clone(ls[len(ls)-1]), '\n')
					if len(ls) < 2 {
						ls = append(ls, ls[0]) // a one-line file: a duplicated line
					} else {
						a, b := rng.IntN(len(ls)), rng.IntN(len(ls))
						for bytes.Equal(ls[a], ls[b]) {
							a, b = rng.IntN(len(ls)), rng.IntN(len(ls))
						}
						ls[a], ls[b] = ls[b], ls[a]
					}
					os.WriteFile(path, bytes.Join(ls, nil), 0o644)
				case "truncated":
					os.WriteFile(path, body[:rng.IntN(len(body))], 0o644)
				case "file dropped":
					os.Remove(path)
					os.Remove(path + compliance.ManifestSuffix)
				case "files swapped":
					g := files[rng.IntN(len(files))]
					for g == f {
						g = files[rng.IntN(len(files))]
					}
					os.WriteFile(path, orig[g], 0o644)
					os.WriteFile(filepath.Join(work, g), body, 0o644)
				case "old file replayed":
					// An older file of the same chain, with its own manifest, put
					// in a newer one's place.
					var older string
					for _, g := range files {
						if g < f && strings.Split(g, "_")[1] == strings.Split(f, "_")[1] {
							older = g
						}
					}
					if older == "" {
						os.Remove(path)
						os.Remove(path + compliance.ManifestSuffix)
						break
					}
					os.WriteFile(path, orig[older], 0o644)
					os.WriteFile(path+compliance.ManifestSuffix, orig[older+compliance.ManifestSuffix], 0o644)
				case "manifest edited":
					m := manifests[rng.IntN(len(manifests))]
					b := slices.Clone(orig[m])
					p := rng.IntN(len(b))
					b[p] ^= 1 << rng.IntN(8)
					os.WriteFile(filepath.Join(work, m), b, 0o644)
				case "manifest dropped":
					os.Remove(path + compliance.ManifestSuffix)
				case "checkpoint edited":
					b := slices.Clone(orig[compliance.CheckpointFile])
					i := bytes.Index(b, []byte(`"seq": `)) + len(`"seq": `)
					b[i]++
					os.WriteFile(filepath.Join(work, compliance.CheckpointFile), b, 0o644)
				}
				mu.Lock()
				counts[kind]++
				mu.Unlock()
				if _, err := compliance.Verify(work, jwks); err == nil {
					t.Errorf("edit %d (%s of %s) was not detected", i, kind, f)
					return
				}
			}
		}()
	}
	wg.Wait()
	work := t.TempDir()
	for n, b := range orig {
		os.WriteFile(filepath.Join(work, n), b, 0o644)
	}
	if _, err := compliance.Verify(work, jwks); err != nil {
		t.Fatalf("the untouched copy: %v", err)
	}
	t.Logf("%d edits over %d files, all detected: %v", edits, len(files), counts)
}
