package policy

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

const realistic = `allowed_approval_policies = ["on-request", "untrusted"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_web_search_modes = ["cached"]
[features]
memories = false
[mcp_servers.github.identity]
url = "https://mcp.example.internal/github"
`

// hostileDocs are documents of about 240 KB shaped to make a TOML reader
// allocate: one endless dotted key, many short keys, deep headers, long
// arrays, many inline tables, long strings.
func hostileDocs(size int) map[string]string {
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)) }
	return map[string]string{
		"realistic":  strings.Repeat(realistic, size/len(realistic)),
		"dotted-key": fill("a.") + "a = 1\n",
		"many-keys": func() string {
			var b strings.Builder
			for i := 0; b.Len() < size; i++ {
				fmt.Fprintf(&b, "k%d = 1\n", i)
			}
			return b.String()
		}(),
		"many-headers": func() string {
			var b strings.Builder
			for i := 0; b.Len() < size; i++ {
				fmt.Fprintf(&b, "[t%d.u.v]\n", i)
			}
			return b.String()
		}(),
		"long-array":    "x = [" + fill("1,") + "1]\n",
		"inline-tables": "x = [" + fill("{a=1},") + "{a=1}]\n",
		"long-string":   "x = \"" + fill("z") + "\"\n",
		// At the value limit, padded with a comment to the size.
		"limit-array":  pad("x = ["+strings.Repeat("1,", MaxDocumentValues-2)+"1]\n", size),
		"limit-tables": pad("x = ["+strings.Repeat("{a=1},", MaxDocumentValues/2-2)+"{a=1}]\n", size),
		"limit-keys": pad(func() string {
			var b strings.Builder
			for i := range MaxDocumentValues - 1 {
				fmt.Fprintf(&b, "k%d = %d\n", i, i)
			}
			return b.String()
		}(), size),
		"limit-headers": pad(func() string {
			var b strings.Builder
			for i := range MaxDocumentValues/3 - 1 {
				fmt.Fprintf(&b, "[t%d.u.v]\n", i)
			}
			return b.String()
		}(), size),
		"limit-strings": pad("x = ["+strings.Repeat("\"workspace-write\",", MaxDocumentValues-2)+"\"x\"]\n", size),
		"deep-then-wide": func() string {
			var b strings.Builder
			for b.Len() < size {
				b.WriteString("x" + fmt.Sprint(b.Len()) + " = " + strings.Repeat("[", 80) + "1" + strings.Repeat("]", 80) + "\n")
			}
			return b.String()
		}(),
	}
}

// pad fills doc to size with a comment.
func pad(doc string, size int) string {
	if n := size - len(doc) - 3; n > 0 {
		doc += "# " + strings.Repeat("p", n) + "\n"
	}
	return doc
}

// BenchmarkValidateHostile reports the bytes one policy write's validation
// allocates for each shape, as a multiple of the document's size.
func BenchmarkValidateHostile(b *testing.B) {
	for name, doc := range hostileDocs(240 << 10) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range b.N {
				Validate(codexgov.PolicyInput{Name: "p", Requirements: doc})
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(doc)), "x-size")
		})
	}
}

// TestValidationMemoryIsBounded: no shape of document makes one validation
// allocate more than 20 times its size, and 8 at once stay bounded.
func TestValidationMemoryIsBounded(t *testing.T) {
	for name, doc := range hostileDocs(240 << 10) {
		// The sampler sees garbage not yet collected too: the least of
		// three runs is the closest to what one validation holds.
		peak := uint64(math.MaxUint64)
		for range 3 {
			peak = min(peak, testenv.PeakHeap(1, 200*time.Microsecond, func() { Validate(codexgov.PolicyInput{Name: "p", Requirements: doc}) }))
		}
		ratio := float64(peak) / float64(len(doc))
		t.Logf("%-15s %7d bytes: peak live heap %.1f MB, %.1f× its size", name, len(doc), float64(peak)/(1<<20), ratio)
		if ratio > 20 {
			t.Errorf("%s: validation held %.1f× the document's size, want at most 20×", name, ratio)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Validate(codexgov.PolicyInput{Name: "p", Requirements: hostileDocs(240 << 10)["dotted-key"]})
		}()
	}
	wg.Wait()
}
