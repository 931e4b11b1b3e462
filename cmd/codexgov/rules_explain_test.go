package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

const deployRules = `prefix_rule(pattern = ["deploy-prod"], decision = "forbidden", justification = "never deploy from agent")
prefix_rule(pattern = ["echo"], decision = "allow")
`

// bypassForms are the SPEC.md §4.5 scripts that Codex 0.169.0 ran despite
// a forbidden rule for deploy-prod, with where deploy-prod sits in each.
var bypassForms = []struct {
	script string
	offset int
}{
	{"(deploy-prod)", 1},
	{"deploy-prod > /tmp/x", 0},
	{"deploy-prod $HOME", 0},
	{"FOO=1 deploy-prod", 6},
	{"deploy-prod <<EOF\nnow\nEOF", 0},
	{"sh -c 'deploy-prod'", 7},
}

// TestExplainFindsEveryBypassForm: rules explain reports deploy-prod in
// each form at its offset and exits 3; the agent-equivalent path gives no
// decision, as Codex did.
func TestExplainFindsEveryBypassForm(t *testing.T) {
	rules := writeFile(t, "deploy.rules", deployRules)
	for _, form := range bypassForms {
		t.Run(form.script, func(t *testing.T) {
			out, errOut, code := runCLI(t, "rules", "explain", "--json", "--rules", rules, "--", "/bin/bash", "-lc", form.script)
			if code != 3 {
				t.Fatalf("exit %d, want 3\n%s%s", code, out, errOut)
			}
			var r explainReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Decision != "" || r.Plain && form.script != "sh -c 'deploy-prod'" {
				t.Errorf("agent path: decision %q plain %v, want no decision", r.Decision, r.Plain)
			}
			found := false
			for _, f := range r.Findings {
				if len(f.Argv) > 0 && f.Argv[0] == "deploy-prod" && f.Offset == form.offset && f.Bypass && f.Decision == "forbidden" {
					found = true
				}
			}
			if !found {
				t.Errorf("no bypass finding for deploy-prod at offset %d: %+v", form.offset, r.Findings)
			}
		})
	}
	// A plain script is split and the rule fires: no bypass.
	out, _, code := runCLI(t, "rules", "explain", "--rules", rules, "--", "bash", "-lc", "echo ok && deploy-prod --now")
	if code != 0 || !strings.Contains(out, "decision: forbidden") || !strings.Contains(out, "rejected: never deploy from agent") {
		t.Errorf("plain script: exit %d\n%s", code, out)
	}
}

// TestBypassFormsMatchCodexCheck: for the same forms, `rules check` prints
// what the real `codex execpolicy check` prints: no matched rule.
func TestBypassFormsMatchCodexCheck(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "deploy.rules"), []byte(deployRules), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, form := range bypassForms {
		argv := []string{"/bin/bash", "-lc", form.script}
		want, err := oracle.Run(context.Background(), testenv.Run{Cwd: map[string]string{"deploy.rules": deployRules},
			Args: append([]string{"execpolicy", "check", "--rules", "deploy.rules", "--"}, argv...)})
		if err != nil {
			t.Fatal(err)
		}
		out, _, code := runCLI(t, append([]string{"rules", "check", "--rules", filepath.Join(dir, "deploy.rules"), "--"}, argv...)...)
		if code != want.ExitCode || out != want.Stdout || out != "{\"matchedRules\":[]}\n" {
			t.Errorf("%q: codexgov exit %d %q, codex exit %d %q", form.script, code, out, want.ExitCode, want.Stdout)
		}
	}
}

func TestRulesTestCommand(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.rules":   "prefix_rule(pattern = [\"git\", \"push\"], decision = \"prompt\", match = [\"git push origin\"], not_match = [\"git pull\"])\n",
		"b.rules":   "prefix_rule(pattern = [\"git\", \"push\"], decision = \"prompt\", match = [\"git pull\"])\n",
		"notes.txt": "ignored",
		"c.rules":   "host_executable(name = \"git\", paths = [\"/usr/bin/git\"])\nnetwork_rule(host = \"example.com\", protocol = \"https\", decision = \"deny\")\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _, code := runCLI(t, "rules", "test", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1 (b.rules fails)", code)
	}
	for _, want := range []string{
		"PASS " + filepath.Join(dir, "a.rules") + " (1 prefix rules, 0 host executables, 0 network rules, 2 examples)",
		"FAIL " + filepath.Join(dir, "b.rules"),
		filepath.Join(dir, "b.rules") + ":1:1: expected every example to match at least one rule.",
		"expected every example to match at least one rule.",
		"PASS " + filepath.Join(dir, "c.rules") + " (0 prefix rules, 1 host executables, 1 network rules, 0 examples)",
		"3 file(s): 2 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
