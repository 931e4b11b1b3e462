package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestREADMEQuickstart runs the README's quickstart block verbatim with a
// freshly built binary, in an empty folder, on a free port.
func TestREADMEQuickstart(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- quickstart -->\n```bash\n")
	block, _, ok2 := strings.Cut(rest, "```\n<!-- /quickstart -->")
	if !ok || !ok2 {
		t.Fatal("README has no quickstart block")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "codexgov"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CODEXGOV_LISTEN="+addr, "CODEXGOV_SERVER=http://"+addr, "CODEXGOV_TOKEN=", "CODEXGOV_WORKSPACE=")
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("quickstart did not finish in 60 s:\n%s", out)
	}
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		`rule 1 matched: user ann@acme.test is in group "eng"`,
		`no rule matched user bob@acme.test: the default policy applies`,
		"policy             locked version 1",
		"allowed_approval_policies = [\"on-request\", \"untrusted\"]\nallowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, text)
		}
	}
}

// The systemd unit in docs/sync.md runs a command line this binary
// accepts.
func TestSyncDocUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "sync.md"))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart="); ok {
			line = v
		}
	}
	args := strings.Fields(line)
	if len(args) < 3 || filepath.Base(args[0]) != "codexgov" || args[1] != "sync" || !slices.Contains(args, "--daemon") {
		t.Fatalf("ExecStart in docs/sync.md: %q", line)
	}
	cmd := newSyncCmd()
	if err := cmd.ParseFlags(args[2:]); err != nil {
		t.Fatalf("docs/sync.md ExecStart: %v", err)
	}
	for _, env := range []string{"CODEXGOV_SERVER=", "CODEXGOV_ENROLL_TOKEN="} {
		if !strings.Contains(string(b), env) {
			t.Errorf("docs/sync.md: the EnvironmentFile does not set %s", env)
		}
	}
}
