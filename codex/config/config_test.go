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

// Cloud config fragments sit between the system file and the user config,
// the first fragment highest (SPEC.md §3.3).
func TestCloudConfigFragments(t *testing.T) {
	m := fstest.MapFS{
		"etc/config.toml":  {Data: []byte("model = \"system\"\nweb_search = \"live\"\napproval_policy = \"never\"\n")},
		"home/config.toml": {Data: []byte("model = \"user\"\n")},
	}
	res, err := Resolve(Machine{Etc: "/etc", CodexHome: "/home", Cwd: "/repo", FS: memFS(m),
		CloudConfig: []CloudFragment{
			{ID: "cfg_1", Name: "Corp", Contents: "model = \"cloud-high\"\nweb_search = \"indexed\"\n"},
			{ID: "cfg_2", Name: "Base", Contents: "web_search = \"disabled\"\napproval_policy = \"on-request\"\n"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Value != "user" || res.Model.Layer.Kind != User {
		t.Errorf("model %+v: the user beats cloud fragments", res.Model)
	}
	if res.WebSearchMode.Value != "indexed" || res.WebSearchMode.Layer.ID != "cfg_1" {
		t.Errorf("web search %+v: the first fragment is the highest", res.WebSearchMode)
	}
	if res.ApprovalPolicy.Value != "on-request" || res.ApprovalPolicy.Layer.ID != "cfg_2" {
		t.Errorf("approval %+v: any fragment beats the system file", res.ApprovalPolicy)
	}
}
