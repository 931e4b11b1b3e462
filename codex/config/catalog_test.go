package config

import (
	"context"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestFeatureCatalog checks the committed catalog against the pinned
// binary's `codex features list` on an empty CODEX_HOME: every name, stage
// and default, in order.
func TestFeatureCatalog(t *testing.T) {
	o := testenv.CodexOracle(t)
	res, err := o.Run(context.Background(), testenv.Run{Args: []string{"features", "list"}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("features list: %v, exit %d: %s", err, res.ExitCode, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != len(catalog) {
		t.Fatalf("codex lists %d features, the catalog %d", len(lines), len(catalog))
	}
	for i, line := range lines {
		f := strings.Fields(line)
		got := Feature{Name: f[0], Stage: strings.Join(f[1:len(f)-1], " "), Default: f[len(f)-1] == "true"}
		if got != catalog[i] {
			t.Errorf("feature %d: codex %+v, catalog %+v", i, got, catalog[i])
		}
	}
}

func TestParseOverride(t *testing.T) {
	for _, c := range []struct {
		in, key, kind, str string
	}{
		{`model="o3"`, "model", "string", "o3"},
		{`sandbox_mode=workspace-write`, "sandbox_mode", "string", "workspace-write"},
		{` web_search = 'live' `, "web_search", "string", "live"},
		{`features.memories=true`, "features.memories", "boolean", ""},
		{`model=gpt 5 x`, "model", "string", "gpt 5 x"},
		{`model="unterminated`, "model", "string", "unterminated"},
	} {
		path, v, err := parseOverride(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if strings.Join(path, ".") != c.key || v.Kind.String() != c.kind || (c.str != "" && v.Str != c.str) {
			t.Errorf("%q: key %q kind %s value %q; want %q %s %q", c.in, strings.Join(path, "."), v.Kind, v.Str, c.key, c.kind, c.str)
		}
	}
	if _, _, err := parseOverride("no-equals"); err == nil {
		t.Error("an override without = must be refused")
	}
}
