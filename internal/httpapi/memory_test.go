package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/testenv"
)

// vmHWM is the process's peak resident set size, in bytes (Linux).
func vmHWM() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			var kb uint64
			fmt.Sscan(f[1], &kb)
			return kb << 10
		}
	}
	return 0
}

// TestConcurrentPolicyWritesMemory sends 8 policy writes of 240 KB at once
// (each at the document's value limit, the costliest shape that is
// accepted) and reports the peak heap and resident size they take; the
// validations run a few at a time.
func TestConcurrentPolicyWritesMemory(t *testing.T) {
	// The writes queue behind the validation semaphore; on a slow machine
	// the last can wait longer than the default database deadline, which
	// this test does not measure.
	f := newFixtureWith(t, filepath.Join(t.TempDir(), "db"), Options{Limits: &Limits{}, DBTimeout: time.Minute})
	var b strings.Builder
	for i := range policy.MaxDocumentValues - 1 {
		fmt.Fprintf(&b, "k%d = %d\n", i, i)
	}
	doc := b.String()
	doc += "# " + strings.Repeat("p", 240<<10-len(doc)-3) + "\n"
	body, _ := json.Marshal(map[string]string{"requirements": doc})

	rssBefore := vmHWM()
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	peak := testenv.PeakHeap(10, 500*time.Microsecond, func() {
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/workspaces/victim/policies/big%d", f.srv.URL, i), strings.NewReader(string(body)))
				req.Header.Set("Authorization", "Bearer "+f.keys["victim/full"])
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 && resp.StatusCode != 201 {
					failed.Add(1)
					if resp != nil {
						t.Logf("write %d: %d", i, resp.StatusCode)
					}
				}
				if resp != nil {
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
	})
	took := time.Since(start)
	t.Logf("8 concurrent %d-byte policy writes: %s, peak heap +%.1f MB, peak RSS %.1f MB (+%.1f MB over the test so far)",
		len(doc), took.Round(time.Millisecond), float64(peak)/(1<<20), float64(vmHWM())/(1<<20), float64(vmHWM()-rssBefore)/(1<<20))
	if failed.Load() > 0 {
		t.Errorf("%d of 8 writes failed", failed.Load())
	}
	// Bounded: the eight request bodies, and a few validations at a time
	// of at most 20 times a document each.
	if limit := uint64(8*len(body) + 4*20*len(doc)); peak > limit {
		t.Errorf("peak heap %.1f MB, over %.1f MB", float64(peak)/(1<<20), float64(limit)/(1<<20))
	}
}
