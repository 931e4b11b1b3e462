package policy

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	a := "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n"
	b := "a = 1\nb = 2\nc = 30\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\ni = 9\n"
	want := "--- v1/requirements.toml\n+++ v2/requirements.toml\n@@ -1,8 +1,9 @@\n a = 1\n b = 2\n-c = 3\n+c = 30\n d = 4\n e = 5\n f = 6\n g = 7\n h = 8\n+i = 9\n"
	if got := Diff("v1/requirements.toml", "v2/requirements.toml", a, b); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if got := Diff("a", "b", a, a); got != "" {
		t.Errorf("equal documents: %q", got)
	}
	if got := Diff("a", "b", "", "x = 1\n"); got != "--- a\n+++ b\n@@ -0,0 +1 @@\n+x = 1\n" {
		t.Errorf("from empty: %q", got)
	}
}

// bigPolicies are two 10,000-line documents that differ on every every-th
// line.
func bigPolicies(every int) (string, string) {
	var a, b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&a, "key_%d = %d\n", i, i)
		if i%every == 0 {
			fmt.Fprintf(&b, "key_%d = %d\n", i, -i)
		} else {
			fmt.Fprintf(&b, "key_%d = %d\n", i, i)
		}
	}
	return a.String(), b.String()
}

// TestDiffMemoryIsBounded: a 10,000-line diff allocates under 50 MB (the
// former quadratic table took 441 MB). Bytes allocated, not time, are
// measured: they do not depend on the machine's load.
//
// Past about 100 changed places go-udiff stops searching for the shortest
// edit script and reports larger hunks: still a correct diff, which is the
// price of the bound.
func TestDiffMemoryIsBounded(t *testing.T) {
	for _, tc := range []struct {
		every, wantRemoved int
	}{{500, 19}, {10, -1}} { // key_0 = -0 is unchanged
		a, b := bigPolicies(tc.every)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := Diff("a", "b", a, b)
		runtime.ReadMemStats(&after)
		removed := strings.Count(d, "\n-key_")
		if tc.wantRemoved >= 0 && removed != tc.wantRemoved {
			t.Errorf("every %d: %d removed lines, want %d", tc.every, removed, tc.wantRemoved)
		}
		if got := patch(t, a, d); got != b {
			t.Errorf("every %d: the diff does not turn a into b", tc.every)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 50<<20 {
			t.Errorf("every %d: a 10,000-line diff allocated %d MB, want under 50 MB", tc.every, alloc>>20)
		} else {
			t.Logf("every %d: a 10,000-line diff allocated %.1f MB, %d lines removed", tc.every, float64(alloc)/(1<<20), removed)
		}
	}
}

// patch applies a unified diff made by Diff to a.
func patch(t *testing.T, a, d string) string {
	t.Helper()
	src := strings.SplitAfter(a, "\n")
	var out []string
	next := 0 // index in src of the next line not yet copied
	for _, line := range strings.SplitAfter(d, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "---") || strings.HasPrefix(line, "+++"):
		case strings.HasPrefix(line, "@@"):
			var from int
			fmt.Sscanf(line, "@@ -%d", &from)
			if from > 0 {
				from--
			}
			out = append(out, src[next:from]...)
			next = from
		case line[0] == ' ':
			out = append(out, src[next])
			next++
		case line[0] == '-':
			next++
		case line[0] == '+':
			out = append(out, line[1:])
		}
	}
	out = append(out, src[next:]...)
	return strings.Join(out, "")
}

func BenchmarkDiff10000Lines(b *testing.B) {
	x, y := bigPolicies(10)
	b.ReportAllocs()
	for b.Loop() {
		Diff("a", "b", x, y)
	}
}
