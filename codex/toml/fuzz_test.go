package toml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a = 1", "[a]\nb = [1, 2, {c = 'd'}]", "a = \"\"\"\nx\\\n  y\"\"\"",
		"a = 1979-05-27T07:32:00Z\nb = 07:32", "[[a]]\n[a.b]\nc = inf", "a = {b = 1,}",
	} {
		f.Add(s)
	}
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "codex", "vectors", "requirements", "*.toml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(string(data))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		v, err := Parse(src)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "TOML parse error at line ") {
				t.Fatalf("error without position: %q", msg)
			}
			return
		}
		if v.Kind != Table {
			t.Fatalf("document is %v, want a table", v.Kind)
		}
		_ = v.Clone().GoString()
	})
}
