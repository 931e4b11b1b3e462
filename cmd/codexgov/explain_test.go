package main

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files (review the diff by hand)")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sampleMachine copies testdata/explain/machine to a temp folder, makes its
// project a git repository trusted by the user, and returns the folder.
func sampleMachine(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "explain", "machine")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), "${PROJECT}", filepath.Join(dst, "project")))
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dst, "project", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestExplainGolden(t *testing.T) {
	m := sampleMachine(t)
	args := []string{"explain", "--etc", filepath.Join(m, "etc"), "--codex-home", filepath.Join(m, "home"),
		"--cwd", filepath.Join(m, "project", "services", "api"), "-c", "web_search=indexed", "--enable", "undo"}
	out, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "explain.txt", strings.ReplaceAll(out, m, "$MACHINE"))

	out, _, code = runCLI(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d", code)
	}
	var rep struct {
		Schema         int `json:"schema"`
		ApprovalPolicy struct {
			Value, Source, Configured, RequiredBy string
		} `json:"approval_policy"`
		SandboxMode struct {
			Value, Source, Configured string
		} `json:"sandbox_mode"`
		Features map[string]struct {
			Value  bool
			Source string
		}
		MCPServers map[string]struct {
			Enabled        bool    `json:"enabled"`
			DisabledReason *string `json:"disabled_reason"`
		} `json:"mcp_servers"`
		Warnings []struct{ Codex, Plain string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != 1 || rep.ApprovalPolicy.Value != "untrusted" || rep.ApprovalPolicy.Source != "requirements" || rep.ApprovalPolicy.Configured != "never" {
		t.Errorf("approval_policy: %+v", rep.ApprovalPolicy)
	}
	// services/api/.codex asks for workspace-write, which is allowed and
	// beats the user's danger-full-access.
	if rep.SandboxMode.Value != "workspace-write" || rep.SandboxMode.Source != "project" {
		t.Errorf("sandbox_mode: %+v", rep.SandboxMode)
	}
	if f := rep.Features["memories"]; f.Value || f.Source != "requirements" {
		t.Errorf("features.memories: %+v, want pinned false", f)
	}
	if f := rep.Features["tool_suggest"]; f.Value || f.Source != "project" {
		t.Errorf("features.tool_suggest: %+v, want false from the project", f)
	}
	if s := rep.MCPServers["scratch"]; s.Enabled || s.DisabledReason == nil || *s.DisabledReason != "requirements (/etc/codex/requirements.toml)" {
		t.Errorf("mcp_servers.scratch: %+v", s)
	}
	if s := rep.MCPServers["github"]; !s.Enabled || s.DisabledReason != nil {
		t.Errorf("mcp_servers.github: %+v", s)
	}
	if len(rep.Warnings) == 0 || rep.Warnings[0].Plain == "" || rep.Warnings[0].Codex == "" {
		t.Errorf("warnings: %+v", rep.Warnings)
	}
}

func TestExplainLoadError(t *testing.T) {
	m := sampleMachine(t)
	if err := os.WriteFile(filepath.Join(m, "home", "config.toml"), []byte("approval_policy = \"untrusted\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"explain", "--etc", filepath.Join(m, "etc"), "--codex-home", filepath.Join(m, "home"), "--cwd", m}
	out, _, code := runCLI(t, append(base, "--json")...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 1 || rep["error"] != "approval_policy = \"untrusted\" is no longer supported; remove this setting" || rep["approval_policy"] != nil {
		t.Errorf("exit %d, report %v", code, rep)
	}
	out, _, code = runCLI(t, base...)
	if code != 1 || !strings.Contains(out, "Codex would refuse to start") {
		t.Errorf("human: exit %d, %q", code, out)
	}
}

func TestTeamConfigLintGolden(t *testing.T) {
	repo := filepath.Join("testdata", "teamconfig", "repo")
	reqs := filepath.Join("testdata", "teamconfig", "requirements.toml")
	out, _, code := runCLI(t, "teamconfig", "lint", repo, "--requirements", reqs)
	if code != 1 {
		t.Errorf("exit %d, want 1 (the sample has errors)", code)
	}
	golden(t, "teamconfig-lint.txt", out)

	out, _, code = runCLI(t, "teamconfig", "lint", repo)
	if code != 1 || strings.Contains(out, "is not allowed by") {
		t.Errorf("without --requirements: exit %d, output %q", code, out)
	}
	out, _, code = runCLI(t, "teamconfig", "lint", "--json", repo)
	var rep struct {
		Version     int `json:"version"`
		Diagnostics []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Severity string `json:"severity"`
			Code     string `json:"code"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Version != 1 || code != 1 {
		t.Fatalf("--json: exit %d, %v: %s", code, err, out)
	}
	codes := map[string]bool{}
	for _, d := range rep.Diagnostics {
		codes[d.Code] = true
	}
	for _, c := range []string{"unknown-key", "project-denied", "unknown-feature", "removed-feature", "rules-self-test", "skill"} {
		if !codes[c] {
			t.Errorf("no %s diagnostic in %+v", c, rep.Diagnostics)
		}
	}
	clean := t.TempDir()
	if err := os.Mkdir(filepath.Join(clean, ".codex"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTemp(t, filepath.Join(clean, ".codex"), "config.toml", "model = \"gpt-6.1-sol\"\n")
	if out, _, code := runCLI(t, "teamconfig", "lint", clean); code != 0 || out != "" {
		t.Errorf("clean repo: exit %d, %q", code, out)
	}
}

// With the project's trust unset, explain shows the state now and what the
// IDE extension or the desktop app will make of it; with it set, it shows
// no such section and app_server_start is null.
func TestExplainAppServerStart(t *testing.T) {
	m := sampleMachine(t)
	userConfig := filepath.Join(m, "home", "config.toml")
	b, err := os.ReadFile(userConfig)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"explain", "--etc", filepath.Join(m, "etc"), "--codex-home", filepath.Join(m, "home"), "--cwd", filepath.Join(m, "project", "services", "api")}
	out, _, code := runCLI(t, append(args, "--json")...)
	if code != 0 || !strings.Contains(out, `"app_server_start": null`) {
		t.Fatalf("trusted project: exit %d, want app_server_start null:\n%s", code, out)
	}

	untrusted := strings.Split(string(b), "[projects.")[0]
	if err := os.WriteFile(userConfig, []byte(untrusted), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "explain-app-server.txt", strings.ReplaceAll(out, m, "$MACHINE"))

	out, _, _ = runCLI(t, append(args, "--json")...)
	var rep struct {
		ApprovalPolicy struct{ Value string } `json:"approval_policy"`
		App            *struct {
			Trusts         string
			ConfigFile     string                         `json:"config_file"`
			Automatic      bool                           `json:"automatic"`
			OnRequest      []string                       `json:"on_request"`
			ApprovalPolicy struct{ Value string }         `json:"approval_policy"`
			SandboxMode    struct{ Value, Source string } `json:"sandbox_mode"`
			Warnings       []struct{ Codex string }
		} `json:"app_server_start"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	a := rep.App
	if a == nil {
		t.Fatalf("app_server_start is null for an untrusted git project with a writable sandbox:\n%s", out)
	}
	// The requirements turn the user's danger-full-access into read-only,
	// so only a thread asking for workspace-write (the one writable mode
	// they allow) does it; the git repository is what gets trusted.
	if a.Trusts != filepath.Join(m, "project") || a.Automatic || strings.Join(a.OnRequest, ",") != "workspace-write" ||
		a.ConfigFile != filepath.Join(m, "home", "config.toml") {
		t.Errorf("app_server_start: trusts %q automatic %t on_request %q config_file %q", a.Trusts, a.Automatic, a.OnRequest, a.ConfigFile)
	}
	// Once trusted, the project's services/api/.codex workspace-write
	// applies.
	if a.SandboxMode.Value != "workspace-write" || a.SandboxMode.Source != "project" {
		t.Errorf("app_server_start.sandbox_mode %+v, want workspace-write from the project", a.SandboxMode)
	}
	if len(a.Warnings) == 0 || !strings.HasPrefix(a.Warnings[0].Codex, "Project-local config, hooks, and exec policies are disabled") {
		t.Errorf("app_server_start.warnings start with the startup warnings: %+v", a.Warnings)
	}
}
