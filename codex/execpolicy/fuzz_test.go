package execpolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary documents to the .rules loader: it must never
// panic, and every failure must render Codex's report.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "codex", "vectors", "execpolicy", "rules", "*.rules"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("x = f\"a {b} {{c}}\"\nfor i in range(3):\n    prefix_rule(pattern = [str(i)])")
	f.Add("def g():\n    g()\ng()")
	f.Add("while True:\n    pass")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Load("fuzz.rules", src)
		if le, ok := err.(*LoadError); ok {
			if r := le.Report(); !strings.HasPrefix(r, "Error: failed to parse policy at fuzz.rules\n\nCaused by:\n") {
				t.Fatalf("report %q", r)
			}
		}
	})
}

// TestStepBudget: a file that never finishes is stopped by the step budget
// (Codex's own interpreter has no such limit; codexgov must not hang).
func TestStepBudget(t *testing.T) {
	_, err := Load("loop.rules", "def f():\n    for i in range(1000000000):\n        pass\nf()\n")
	le, ok := err.(*LoadError)
	if !ok || !strings.Contains(le.Message, "too many steps") {
		t.Fatalf("err = %v, want the step budget to stop the file", err)
	}
}

// TestSelfTestPosition: self-test failures carry the prefix_rule call's
// position (Codex's own report has none).
func TestSelfTestPosition(t *testing.T) {
	_, err := Load("x.rules", "# header\n\n  \nprefix_rule(pattern = [\"git\"], match = [\"hg\"])\n")
	le, ok := err.(*LoadError)
	if !ok || !le.SelfTest || le.Span.Start != (Pos{4, 1}) {
		t.Fatalf("err = %#v, want a self-test failure at 4:1", err)
	}
}
