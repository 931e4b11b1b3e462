package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexgov/codexgov"
)

// runIn runs `codexgov admin …` with stdin and returns stdout, stderr and
// the exit status.
func (c cli) runIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"admin", "--server", c.server, "--token", c.token, "--workspace", c.ws}, args...)
	code := run(context.Background(), full, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func (c cli) auditCount() int {
	c.t.Helper()
	var page codexgov.AuditPage
	c.json(&page, "audit", "--limit", "1000")
	return len(page.Events)
}

// TestPoliciesPutAndDiffAreSafeInScripts: put refuses an empty write,
// keeps the defaults it is not given, reads standard input, dry-runs
// without storing; diff exits 1 when versions differ.
func TestPoliciesPutAndDiffAreSafeInScripts(t *testing.T) {
	dir := t.TempDir()
	srvURL, key := startServer(t, &Main{DataDir: filepath.Join(dir, "data")})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	req := filepath.Join(dir, "req.toml")
	def := filepath.Join(dir, "def.toml")
	os.WriteFile(req, []byte(strictTOML), 0o644)
	os.WriteFile(def, []byte("model = \"gpt-5\"\n"), 0o644)

	// Neither document: refused before anything is sent.
	_, stderr := admin.run(2, "policies", "put", "p")
	if !strings.Contains(stderr, "give --requirements FILE, --defaults FILE or both") {
		t.Errorf("put with no document: %s", stderr)
	}
	admin.run(0, "policies", "put", "p", "--requirements", req, "--defaults", def)

	// Re-putting the requirements keeps the defaults.
	os.WriteFile(req, []byte(baselineTOML), 0o644)
	admin.run(0, "policies", "put", "p", "--requirements", req)
	var v codexgov.PolicyVersion
	admin.json(&v, "policies", "get", "p")
	if v.Version != 2 || v.Requirements != baselineTOML || v.Defaults != "model = \"gpt-5\"\n" {
		t.Errorf("after re-putting the requirements: v%d %q %q", v.Version, v.Requirements, v.Defaults)
	}
	// --clear-defaults drops them; - reads standard input.
	if out, stderr, code := admin.runIn(fallbackTOML, "policies", "put", "p", "--requirements", "-", "--clear-defaults"); code != 0 {
		t.Fatalf("put from stdin: exit %d\n%s%s", code, out, stderr)
	}
	admin.json(&v, "policies", "get", "p")
	if v.Version != 3 || v.Requirements != fallbackTOML || v.Defaults != "" {
		t.Errorf("after --clear-defaults from stdin: v%d %q %q", v.Version, v.Requirements, v.Defaults)
	}
	// A stdin error names <stdin> with the line and column.
	_, stderr, code := admin.runIn("allowed_sandbox_modes = [\"sometimes\"]\n", "policies", "put", "p", "--requirements", "-")
	if code != 1 || !strings.Contains(stderr, "<stdin>:1:") {
		t.Errorf("bad stdin: exit %d, %s", code, stderr)
	}

	// --dry-run: the diff, no new version, no audit event.
	events := admin.auditCount()
	os.WriteFile(req, []byte(strictTOML), 0o644)
	out, _ := admin.run(0, "policies", "put", "p", "--requirements", req, "--dry-run")
	if !strings.Contains(out, "would be version 4") || !strings.Contains(out, "+allowed_approval_policies = [\"on-request\"]") || !strings.Contains(out, "--- p@3/requirements.toml") {
		t.Errorf("dry run output:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("allowed_approval_policies = [\"sometimes\"]\n"), 0o644)
	if _, stderr := admin.run(1, "policies", "put", "p", "--requirements", bad, "--dry-run"); !strings.Contains(stderr, bad+":1:") {
		t.Errorf("dry run of a bad document: %s", stderr)
	}
	admin.json(&v, "policies", "get", "p")
	if v.Version != 3 || admin.auditCount() != events {
		t.Errorf("a dry run stored something: v%d, %d audit events (was %d)", v.Version, admin.auditCount(), events)
	}

	// diff: 1 when the versions differ, 0 when identical.
	out, _ = admin.run(1, "policies", "diff", "p", "--from", "1", "--to", "3")
	if !strings.Contains(out, "-model = \"gpt-5\"") {
		t.Errorf("diff output:\n%s", out)
	}
	admin.run(0, "policies", "put", "p", "--requirements", req)
	admin.run(0, "policies", "put", "q", "--requirements", req)
	admin.run(0, "policies", "put", "q", "--requirements", req, "--comment", "same again")
	if out, _ := admin.run(0, "policies", "diff", "q"); !strings.Contains(out, "identical") {
		t.Errorf("identical versions: %s", out)
	}
}

// TestNoOpChangesWriteNoAudit: settings set to what they are and a second
// revoke say so and write no audit event.
func TestNoOpChangesWriteNoAudit(t *testing.T) {
	dir := t.TempDir()
	srvURL, key := startServer(t, &Main{DataDir: filepath.Join(dir, "data")})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "settings", "set", "--allow-access-tokens")
	var k struct {
		ID string `json:"id"`
	}
	admin.json(&k, "api-keys", "create", "ci", "--scope", "admin:read")
	admin.run(0, "api-keys", "revoke", k.ID)
	events := admin.auditCount()

	for _, args := range [][]string{{"settings", "set", "--allow-access-tokens"}, {"api-keys", "revoke", k.ID}} {
		_, stderr := admin.run(0, args...)
		if !strings.Contains(stderr, "nothing changed; no audit event was written") {
			t.Errorf("%v: %q", args, stderr)
		}
	}
	if n := admin.auditCount(); n != events {
		t.Errorf("%d audit events after no-op changes, want %d", n, events)
	}
	if _, stderr := admin.run(0, "settings", "set", "--allow-access-tokens=false"); strings.Contains(stderr, "nothing changed") {
		t.Errorf("a real change said nothing changed")
	}
	if n := admin.auditCount(); n != events+1 {
		t.Errorf("%d audit events after a real change, want %d", n, events+1)
	}
}

// TestDynamicCompletion: the shell completion of names asks the server the
// command would talk to (credentials from the environment, as scripts set
// them), and permission names come from the code.
func TestDynamicCompletion(t *testing.T) {
	dir := t.TempDir()
	srvURL, key := startServer(t, &Main{DataDir: filepath.Join(dir, "data")})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	req := filepath.Join(dir, "req.toml")
	os.WriteFile(req, []byte(strictTOML), 0o644)
	admin.run(0, "policies", "put", "baseline", "--requirements", req)
	admin.run(0, "policies", "put", "locked", "--requirements", req)
	admin.run(0, "groups", "create", "eng")
	admin.run(0, "users", "add", "ann@acme.test")
	t.Setenv("CODEXGOV_SERVER", srvURL)
	t.Setenv("CODEXGOV_TOKEN", key)
	t.Setenv("CODEXGOV_WORKSPACE", "acme")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"admin", "policies", "get", ""}, []string{"baseline", "locked"}},
		{[]string{"admin", "policies", "diff", "lo"}, []string{"locked"}},
		{[]string{"admin", "groups", "add-member", ""}, []string{"eng"}},
		{[]string{"admin", "groups", "add-member", "eng", ""}, []string{"ann@acme.test"}},
		{[]string{"admin", "roles", "update", "member", "-p", "codex_local,acc"}, []string{"codex_local,access_tokens"}},
		{[]string{"admin", "lookup", "--user", "a"}, []string{"ann@acme.test"}},
	} {
		out, errOut, code := runCLI(t, append([]string{"__complete"}, tc.args...)...)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, ":") {
				got = append(got, line)
			}
		}
		if code != 0 || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("complete %v: exit %d, %q (stderr %q), want %q", tc.args, code, got, errOut, tc.want)
		}
	}
}
