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
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "codex", "vectors", "execpolicy", "rules", "*.rules"))
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
