// Package rulesgen generates random Codex `.rules` files and commands for
// differential tests against `codex execpolicy check`: prefix rules with
// first-position alternatives, duplicates, justifications and self-tests,
// host executables, network rules, Starlark loops, functions and f-strings,
// and the common ways a file fails to load.
package rulesgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Case is one invocation: rule files (by relative path, in --rules order)
// and a command.
type Case struct {
	Files   []File
	Command []string
	Resolve bool
}

// File is one generated `.rules` file.
type File struct {
	Path, Contents string
}

var (
	programs = []string{"git", "rm", "npm", "docker", "kubectl", "python", "python3", "make", "tar", "curl", "ls", "cat", "gh"}
	words    = []string{"push", "commit", "status", "-rf", "install", "run", "exec", "--privileged", "get", "pods", "-c", "-m", "pytest", "x", "hello world", "--force", "view"}
)

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func q(s string) string { return fmt.Sprintf("%q", s) }

type gen struct {
	r *rand.Rand
	// used records tokens for building commands that hit rules.
	patterns [][]string
	hosts    []string
}

// token returns a pattern position: a word, or a list of alternatives.
func (g *gen) token(from []string) (string, []string) {
	if g.r.IntN(4) == 0 {
		n := 2 + g.r.IntN(2)
		alts := make([]string, n)
		for i := range alts {
			alts[i] = pick(g.r, from...)
		}
		qs := make([]string, n)
		for i, a := range alts {
			qs[i] = q(a)
		}
		return "[" + strings.Join(qs, ", ") + "]", alts
	}
	w := pick(g.r, from...)
	return q(w), []string{w}
}

func (g *gen) prefixRule(multiline bool) string {
	var parts []string
	var example []string
	first, alts := g.token(programs)
	parts = append(parts, first)
	example = append(example, alts[0])
	for i := 0; i < g.r.IntN(3); i++ {
		t, alts := g.token(words)
		parts = append(parts, t)
		example = append(example, alts[0])
	}
	g.patterns = append(g.patterns, example)
	args := []string{"pattern = [" + strings.Join(parts, ", ") + "]"}
	if g.r.IntN(4) != 0 {
		args = append(args, "decision = "+q(pick(g.r, "allow", "prompt", "forbidden")))
	}
	if g.r.IntN(3) == 0 {
		args = append(args, "justification = "+q(pick(g.r, "needs review", "destructive", "network access", "blocked by policy")))
	}
	if g.r.IntN(6) == 0 {
		ex := example
		if g.r.IntN(4) == 0 {
			ex = []string{pick(g.r, programs...), pick(g.r, words...)}
		}
		if g.r.IntN(2) == 0 {
			qs := make([]string, len(ex))
			for i, w := range ex {
				qs[i] = q(w)
			}
			args = append(args, "match = [["+strings.Join(qs, ", ")+"]]")
		} else {
			args = append(args, "match = ["+q(strings.Join(ex, " "))+"]")
		}
	}
	if g.r.IntN(8) == 0 {
		args = append(args, "not_match = [["+q(pick(g.r, programs...))+", "+q(pick(g.r, words...))+"]]")
	}
	if multiline {
		return "prefix_rule(\n    " + strings.Join(args, ",\n    ") + ",\n)"
	}
	return "prefix_rule(" + strings.Join(args, ", ") + ")"
}

func (g *gen) hostExecutable() string {
	name := pick(g.r, "git", "make", "tar", "python3")
	g.hosts = append(g.hosts, name)
	var paths []string
	for i := 0; i < g.r.IntN(3); i++ {
		paths = append(paths, q(pick(g.r, "/usr/bin/", "/usr/local/bin/", "/opt/tools/bin/")+name))
	}
	return "host_executable(name = " + q(name) + ", paths = [" + strings.Join(paths, ", ") + "])"
}

var invalidStatements = []string{
	`prefix_rule(pattern = ["git"], decision = "deny")`,
	`prefix_rule(pattern = [], decision = "allow")`,
	`prefix_rule(pattern = ["git", []], decision = "prompt")`,
	`prefix_rule(pattern = ["git", 1], decision = "prompt")`,
	`prefix_rule(pattern = ["git", ["a", 2]], decision = "prompt")`,
	`prefix_rule(pattern = ["git"], decision = "prompt", justification = "   ")`,
	`prefix_rule(pattern = ["git"], decision = "prompt", reviewer = "user")`,
	`prefix_rule(pattern = ["git"], decision = 1)`,
	`prefix_rule(pattern = "git")`,
	`prefix_rule()`,
	`allow_rule(pattern = ["git"])`,
	`host_executable(name = "git", paths = ["usr/bin/git"])`,
	`host_executable(name = "git", paths = ["/usr/bin/hg"])`,
	`host_executable(name = "bin/git", paths = ["/usr/bin/git"])`,
	`network_rule(host = "*.example.com", protocol = "https", decision = "deny")`,
	`network_rule(host = "example.com", protocol = "ftp", decision = "deny")`,
	`prefix_rule(pattern = ["git"], decision = "prompt", match = [""])`,
	`prefix_rule(pattern = ["git"], decision = "prompt", match = [1])`,
	`prefix_rule(pattern = ["git", "push"], decision = "prompt", match = ["git pull"])`,
	`prefix_rule(pattern = ["git"], decision = "prompt", not_match = ["git status"])`,
	"prefix_rule(\n    pattern = [\"git\"],\n    decision = \"nope\",\n)",
	"def deny(*words):\n    prefix_rule(pattern = list(words), decision = \"deny\")\ndeny(\"go\", \"run\")",
	"prefix_rule(pattern = [\"git\"]) @",
	// A new line where an operand or keyword was due: Rust starlark's
	// recursive-descent wording and a caret after the line's end.
	"x = ",
	"x = 1 +",
	"x = not",
	"for t",
}

// unclosed statements are only placed at the end of a file: Codex's
// wording for an unclosed call followed by more code depends on its
// parser's token sets, which codexgov does not reproduce (see
// docs/codex-rules.md). At the end, the file stops where the parser wanted
// an expression, an identifier or a closing bracket.
var unclosed = []string{
	`prefix_rule(pattern = ["git"]`,
	`prefix_rule(pattern = [`,
	`prefix_rule(pattern = ["git",`,
	`prefix_rule(`,
	`prefix_rule(pattern = ["git"],`,
	`x = {"a":`,
	`x = (`,
	"def f(",
	"def f():",
}

// longLine is a call that fails to load on a line of 74 to 88
// characters, ASCII or not: a traceback frame shows a line of more than
// 80 characters as its first 77 and "...".
func (g *gen) longLine() string {
	const head, tail = `prefix_rule(pattern = ["git"], decision = "nope", justification = "`, `")`
	width := 74 + g.r.IntN(15)
	pad := strings.Repeat(pick(g.r, "x", "é", "x", "語"), max(width-len(head)-len(tail), 1))
	return head + pad + tail
}

func (g *gen) file(path string, invalid bool) File {
	var stmts []string
	n := 1 + g.r.IntN(7)
	for i := 0; i < n; i++ {
		switch k := g.r.IntN(20); {
		case k < 10:
			stmts = append(stmts, g.prefixRule(false))
		case k < 12:
			stmts = append(stmts, g.prefixRule(true))
		case k < 14:
			stmts = append(stmts, g.hostExecutable())
		case k == 14:
			stmts = append(stmts, "network_rule(host = "+q(pick(g.r, "api.github.com", "example.com", "10.0.0.1"))+", protocol = "+q(pick(g.r, "http", "https", "socks5_tcp"))+", decision = "+q(pick(g.r, "allow", "deny", "prompt"))+")")
		case k == 15:
			tools := []string{pick(g.r, words...), pick(g.r, words...)}
			g.patterns = append(g.patterns, []string{"go", tools[0]})
			stmts = append(stmts, "TOOLS = ["+q(tools[0])+", "+q(tools[1])+"]\nfor t in TOOLS:\n    prefix_rule(pattern = [\"go\", t], decision = \"allow\", justification = f\"go {t} is safe\")")
		case k == 16:
			w := pick(g.r, words...)
			g.patterns = append(g.patterns, []string{"deploy", w})
			stmts = append(stmts, "def deny(*words):\n    prefix_rule(pattern = list(words), decision = \"forbidden\")\ndeny(\"deploy\", "+q(w)+")")
		case k == 17 && len(stmts) > 0:
			stmts = append(stmts, stmts[g.r.IntN(len(stmts))]) // duplicate
		default:
			stmts = append(stmts, "# comment "+fmt.Sprint(i)+"\n"+g.prefixRule(false))
		}
	}
	if invalid {
		switch k := g.r.IntN(len(invalidStatements) + 4); {
		case k < 2:
			stmts = append(stmts, pick(g.r, unclosed...))
		case k < 4:
			at := g.r.IntN(len(stmts) + 1)
			stmts = append(stmts[:at], append([]string{g.longLine()}, stmts[at:]...)...)
		default:
			at := g.r.IntN(len(stmts) + 1)
			bad := pick(g.r, invalidStatements...)
			stmts = append(stmts[:at], append([]string{bad}, stmts[at:]...)...)
		}
	}
	return File{Path: path, Contents: strings.Join(stmts, "\n") + "\n"}
}

func (g *gen) command() ([]string, bool) {
	var argv []string
	if len(g.patterns) > 0 && g.r.IntN(4) != 0 {
		argv = append(argv, g.patterns[g.r.IntN(len(g.patterns))]...)
		if g.r.IntN(3) == 0 && len(argv) > 1 {
			argv = argv[:1+g.r.IntN(len(argv)-1)]
		}
	} else {
		argv = []string{pick(g.r, programs...)}
	}
	for i := 0; i < g.r.IntN(3); i++ {
		argv = append(argv, pick(g.r, words...))
	}
	resolve := g.r.IntN(2) == 0
	if g.r.IntN(3) == 0 {
		argv[0] = pick(g.r, "/usr/bin/", "/usr/local/bin/", "/opt/tools/bin/", "/bin/") + argv[0] + pick(g.r, "", "", "/")
	}
	if g.r.IntN(20) == 0 {
		argv[0] = pick(g.r, "unknown-tool", "", " git")
	}
	return argv, resolve
}

// Generate returns count cases from seed; about 10% of files fail to load.
func Generate(seed uint64, count int) []Case {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	cases := make([]Case, count)
	for i := range cases {
		g := &gen{r: r}
		n := 1 + r.IntN(2)
		for j := 0; j < n; j++ {
			cases[i].Files = append(cases[i].Files, g.file(fmt.Sprintf("rules/f%d.rules", j), r.IntN(10) == 0))
		}
		cases[i].Command, cases[i].Resolve = g.command()
	}
	return cases
}
