package execpolicy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

func words(ws ...string) Token { return Token{Alternatives: ws} }

// prefix adds pattern as Codex does: alternatives in the first position
// become one rule per alternative.
func prefix(p *Policy, first []string, rest []Token, d Decision, justification string) {
	for _, f := range first {
		p.AddRule(Rule{First: f, Rest: rest, Decision: d, Justification: justification})
	}
}

// The vector rule files, transcribed by hand (the Starlark loader is not
// part of this package yet).
var fixtures = map[string]func(p *Policy){
	"rules/basic.rules": func(p *Policy) {
		prefix(p, []string{"git"}, []Token{words("push", "commit")}, Prompt, "git writes need review")
		prefix(p, []string{"git"}, nil, Allow, "")
		prefix(p, []string{"git"}, []Token{words("reset"), words("--hard")}, Forbidden, "destructive")
		prefix(p, []string{"rm"}, []Token{words("-rf")}, Forbidden, "")
		prefix(p, []string{"rm"}, nil, Prompt, "")
		prefix(p, []string{"ls"}, nil, Allow, "")
		prefix(p, []string{"npm"}, []Token{words("install", "ci", "i")}, Prompt, "")
		prefix(p, []string{"npm"}, []Token{words("test")}, Allow, "")
		prefix(p, []string{"cargo"}, []Token{words("test")}, Allow, "")
		prefix(p, []string{"docker"}, []Token{words("run", "exec"), words("--privileged")}, Forbidden, "no privileged containers")
		prefix(p, []string{"curl"}, nil, Prompt, "network access")
		prefix(p, []string{"echo"}, []Token{words("hello world")}, Allow, "")
	},
	"rules/alternatives.rules": func(p *Policy) {
		prefix(p, []string{"python", "python3"}, []Token{words("-m"), words("pytest")}, Allow, "")
		prefix(p, []string{"python", "python3"}, []Token{words("-c")}, Forbidden, "no inline python")
		prefix(p, []string{"python"}, nil, Prompt, "")
		prefix(p, []string{"kubectl"}, []Token{words("get", "describe"), words("pods", "svc")}, Allow, "")
		prefix(p, []string{"kubectl"}, []Token{words("delete", "apply")}, Prompt, "")
	},
	"rules/hostexec.rules": func(p *Policy) {
		p.AddHostExecutable("git", []string{"/usr/bin/git", "/usr/local/bin/git", "/usr/bin/git"})
		p.AddHostExecutable("make", []string{})
		prefix(p, []string{"git"}, []Token{words("status")}, Allow, "")
		prefix(p, []string{"git"}, []Token{words("push")}, Forbidden, "")
		prefix(p, []string{"make"}, nil, Prompt, "")
		prefix(p, []string{"tar"}, nil, Prompt, "")
		prefix(p, []string{"/usr/bin/tar"}, []Token{words("-x")}, Forbidden, "")
	},
	"rules/overlay.rules": func(p *Policy) {
		prefix(p, []string{"git"}, []Token{words("push")}, Forbidden, "pushes are blocked")
		prefix(p, []string{"ls"}, []Token{words("-la")}, Prompt, "")
		prefix(p, []string{"cat"}, nil, Allow, "")
	},
}

type vectorCase struct {
	Rules                  []string        `json:"rules"`
	Command                []string        `json:"command"`
	ResolveHostExecutables bool            `json:"resolve_host_executables"`
	Note                   string          `json:"note"`
	Output                 json.RawMessage `json:"output"`
	ExitCode               int             `json:"exit_code"`
}

// TestVectorsWithTranscribedRules checks the matcher and the output format
// against every vector whose rule files are transcribed above: stdout must
// be Codex's, byte for byte.
func TestVectorsWithTranscribedRules(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.Vectors(t), "execpolicy", "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	checked := 0
	for line := 1; sc.Scan(); line++ {
		var c vectorCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		p, ok := policyFor(c.Rules)
		if !ok || c.ExitCode != 0 {
			continue
		}
		checked++
		var want bytes.Buffer
		if err := json.Compact(&want, c.Output); err != nil {
			t.Fatal(err)
		}
		got := p.Check(c.Command, c.ResolveHostExecutables).AppendJSON(nil, false)
		if string(got) != want.String() {
			t.Errorf("line %d %v %q (%s):\n got: %s\nwant: %s", line, c.Rules, c.Command, c.Note, got, want.String())
		}
	}
	if checked < 110 {
		t.Fatalf("checked only %d vectors", checked)
	}
	t.Logf("%d vector cases checked", checked)
}

func policyFor(files []string) (*Policy, bool) {
	p := NewPolicy()
	for _, f := range files {
		add, ok := fixtures[f]
		if !ok {
			return nil, false
		}
		add(p)
	}
	return p, true
}

// TestPrettyOutput compares --pretty output with the real binary's, copied
// from `codex execpolicy check --rules basic.rules --pretty -- git push origin`.
func TestPrettyOutput(t *testing.T) {
	p, _ := policyFor([]string{"rules/basic.rules"})
	want := `{
  "matchedRules": [
    {
      "prefixRuleMatch": {
        "matchedPrefix": [
          "git",
          "push"
        ],
        "decision": "prompt",
        "justification": "git writes need review"
      }
    },
    {
      "prefixRuleMatch": {
        "matchedPrefix": [
          "git"
        ],
        "decision": "allow"
      }
    }
  ],
  "decision": "prompt"
}`
	if got := string(p.Check([]string{"git", "push", "origin"}, false).AppendJSON(nil, true)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := string(p.Check([]string{"nothing"}, false).AppendJSON(nil, true)); got != "{\n  \"matchedRules\": []\n}" {
		t.Errorf("no match, got:\n%s", got)
	}
}

// TestCheckAllocations: a command that matches nothing evaluates without
// allocating; a match costs one allocation (the result).
func TestCheckAllocations(t *testing.T) {
	p, _ := policyFor([]string{"rules/basic.rules", "rules/hostexec.rules"})
	miss := []string{"terraform", "apply", "-auto-approve"}
	hit := []string{"git", "push", "origin", "main"}
	resolved := []string{"/usr/bin/git", "push"}
	if n := testing.AllocsPerRun(100, func() { p.Check(miss, true) }); n != 0 {
		t.Errorf("non-matching command: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.Check(hit, true) }); n > 1 {
		t.Errorf("matching command: %v allocations, want at most 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.Check(resolved, true) }); n > 1 {
		t.Errorf("host-resolved command: %v allocations, want at most 1", n)
	}
}
