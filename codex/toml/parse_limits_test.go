package toml

import (
	"strings"
	"testing"
)

// The reader's limits, as Codex 0.169.0 keeps them (cmd/codexgov's
// TestTOMLLimitsMatchCodex checks them against the binary).
func TestParseLimits(t *testing.T) {
	nest := func(open, close string, n int) string {
		return "x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n"
	}
	for _, c := range []struct {
		name, doc, err string
	}{
		{"array 80", nest("[", "]", 80), ""},
		{"array 81", nest("[", "]", 81), "TOML parse error at line 1, column 85\n"},
		{"inline table 81", nest("{a=", "}", 81), "cannot recurse further; max recursion depth met"},
		{"dotted key 80", strings.Repeat("a.", 79) + "a = 1\n", ""},
		{"dotted key 81", strings.Repeat("a.", 80) + "a = 1\n", "recursion limit\n"},
		{"header 81", "[" + strings.Repeat("a.", 80) + "a]\n", "recursion limit\n"},
		{"dotted key 81 and a syntax error", strings.Repeat("a.", 80) + "a = 1\nb = \n", "string values must be quoted"},
		{"long key keeps no parts past the limit", strings.Repeat("a.", 100000) + "a = 1\n", "recursion limit\n"},
	} {
		_, err := Parse(c.doc)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.err)
		}
	}
	if _, err := ParseLimited("a = [1, 2, 3]\nb = 1\n", 4); err == nil || !strings.Contains(err.Error(), TooManyValues) {
		t.Errorf("ParseLimited over its bound: %v", err)
	}
	if _, err := ParseLimited("a = [1, 2, 3]\nb = 1\n", 5); err != nil {
		t.Errorf("ParseLimited at its bound: %v", err)
	}
}
