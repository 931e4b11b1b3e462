package config

import (
	"testing"
	"testing/fstest"
)

func resolveFiles(t *testing.T, files map[string]string) *Resolution {
	t.Helper()
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	res, err := Resolve(Machine{Etc: "/etc", CodexHome: "/home", Cwd: "/repo", FS: memFS(m), Hostname: func() string { return "vm" }})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The Windows sandbox cannot be observed on Linux; these follow Codex's
// sources (SPEC.md §3.4): elevated when allowed, else unelevated.
func TestWindowsSandboxFallback(t *testing.T) {
	for _, c := range []struct{ config, reqs, want, requiredBy string }{
		{"", "", "", ""},
		{"[windows]\nsandbox = \"unelevated\"\n", "", "unelevated", ""},
		{"[windows]\nsandbox = \"unelevated\"\n", "[windows]\nallowed_sandbox_implementations = [\"elevated\"]\n", "elevated", "/etc/codex/requirements.toml"},
		{"", "[windows]\nallowed_sandbox_implementations = [\"unelevated\"]\n", "unelevated", "/etc/codex/requirements.toml"},
		{"[windows]\nsandbox = \"elevated\"\n", "[windows]\nallowed_sandbox_implementations = [\"unelevated\", \"elevated\"]\n", "elevated", ""},
	} {
		files := map[string]string{"home/config.toml": c.config}
		if c.reqs != "" {
			files["etc/requirements.toml"] = c.reqs
		}
		got := resolveFiles(t, files).WindowsSandbox
		if got.Value != c.want || got.RequiredBy != c.requiredBy {
			t.Errorf("config %q, requirements %q: %+v, want %q required by %q", c.config, c.reqs, got, c.want, c.requiredBy)
		}
	}
}
