// Package shellsplit turns a shell tool call into the commands Codex
// 0.169.0's exec policy evaluates (SPEC.md §4.5), and goes further with a
// strict analysis that finds every command Codex does not evaluate.
//
// Codex splits `[bash|sh|zsh, -c|-lc, script]` into commands only when the
// script is "plain": words (unquoted, or quoted without expansions) joined
// by &&, ||, ; or |. Any other script is evaluated as one opaque argv, so
// prefix rules about the programs inside it never fire. Analyze reports
// those programs, with the reason Codex misses them and their byte offset
// in the script.
package shellsplit

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Command is one argv the exec policy sees.
type Command struct {
	Argv []string
	// Offset is the byte offset of the command in the script, or -1 when
	// it is the tool call's own argv.
	Offset int
}

// Finding is a command Codex does not evaluate against its rules.
type Finding struct {
	Argv   []string
	Offset int // byte offset in the script; -1 for the tool call's argv
	Reason string
}

// Result is the analysis of one tool call.
type Result struct {
	// Shell reports an argv of the form [bash|sh|zsh, -c|-lc, script].
	Shell bool
	// Plain reports a script Codex splits; NotPlain says why it does not.
	Plain    bool
	NotPlain string
	// Commands are what Codex evaluates: the split script, or argv itself.
	Commands []Command
	// Hidden are the commands the strict analysis found that Codex does
	// not evaluate.
	Hidden []Finding
}

var shells = map[string]bool{"bash": true, "sh": true, "zsh": true}

// shellScript returns the script of a [shell, -c|-lc, script] argv.
func shellScript(argv []string) (string, bool) {
	if len(argv) != 3 || !shells[path.Base(argv[0])] || (argv[1] != "-c" && argv[1] != "-lc") {
		return "", false
	}
	return argv[2], true
}

// Analyze splits argv as Codex does and runs the strict analysis.
func Analyze(argv []string) Result {
	script, ok := shellScript(argv)
	if !ok {
		return Result{Commands: []Command{{Argv: argv, Offset: -1}}, Hidden: expand(argv, -1, "", 0, 0)}
	}
	res := Result{Shell: true}
	plain, why, cmds, hidden := analyzeScript(script, 0, 0)
	res.Plain, res.NotPlain, res.Hidden = plain, why, hidden
	if plain {
		res.Commands = cmds
	} else {
		res.Commands = []Command{{Argv: argv, Offset: -1}}
	}
	return res
}

// maxDepth bounds nested shells and wrappers.
const maxDepth = 8

// analyzeScript splits a script when it is plain; either way it lists the
// commands Codex would not evaluate. Offsets are relative to the outermost
// script, where this one starts at base.
func analyzeScript(script string, base, depth int) (bool, string, []Command, []Finding) {
	file, err := parse(script)
	if err != nil {
		return false, "the script does not parse", nil, nil
	}
	cmds, why := plainCommands(file)
	if why == "" && len(cmds) == 0 {
		why = "the script has no command"
	}
	if why != "" {
		return false, why, nil, hiddenCommands(script, file, base, depth)
	}
	var hidden []Finding
	for i := range cmds {
		cmds[i].Offset += base
		hidden = append(hidden, expand(cmds[i].Argv, cmds[i].Offset, script, base, depth)...)
	}
	return true, "", cmds, hidden
}

func parse(script string) (*syntax.File, error) {
	return syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
}

// plainCommands returns the commands of a plain script, or why it is not.
func plainCommands(f *syntax.File) ([]Command, string) {
	var cmds []Command
	var walk func(s *syntax.Stmt) string
	walk = func(s *syntax.Stmt) string {
		switch {
		case s.Negated:
			return "negation (!)"
		case s.Background:
			return "a background job (&)"
		case s.Coprocess:
			return "a coprocess"
		case len(s.Redirs) > 0:
			for _, r := range s.Redirs {
				if r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc {
					return "a heredoc"
				}
			}
			return "a redirection"
		}
		switch c := s.Cmd.(type) {
		case *syntax.CallExpr:
			if len(c.Assigns) > 0 {
				return "a variable assignment"
			}
			var argv []string
			for _, w := range c.Args {
				lit, why := literal(w)
				if why != "" {
					return why
				}
				argv = append(argv, lit)
			}
			cmds = append(cmds, Command{Argv: argv, Offset: int(c.Pos().Offset())})
			return ""
		case *syntax.BinaryCmd:
			if c.Op != syntax.AndStmt && c.Op != syntax.OrStmt && c.Op != syntax.Pipe {
				return "the operator " + c.Op.String()
			}
			if why := walk(c.X); why != "" {
				return why
			}
			return walk(c.Y)
		case *syntax.Subshell:
			return "a subshell"
		case *syntax.Block:
			return "a command group"
		case *syntax.FuncDecl:
			return "a function definition"
		case *syntax.DeclClause:
			return "a declaration (" + c.Variant.Value + ")"
		case nil:
			return "an empty command"
		}
		return "control flow"
	}
	for _, s := range f.Stmts {
		if why := walk(s); why != "" {
			return nil, why
		}
	}
	return cmds, ""
}

// literal returns a word's value when it has no expansion.
func literal(w *syntax.Word) (string, string) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if strings.ContainsRune(p.Value, '\\') {
				return "", "a backslash escape"
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", "an ANSI-C quoted string ($'…')"
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", "a locale string ($\"…\")"
			}
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return "", expansionReason(q)
				}
				b.WriteString(unescapeDouble(lit.Value))
			}
		default:
			return "", expansionReason(part)
		}
	}
	return b.String(), ""
}

func expansionReason(p syntax.WordPart) string {
	switch p.(type) {
	case *syntax.ParamExp:
		return "a variable expansion"
	case *syntax.CmdSubst:
		return "a command substitution"
	case *syntax.ArithmExp:
		return "an arithmetic expansion"
	case *syntax.ProcSubst:
		return "a process substitution"
	case *syntax.ExtGlob:
		return "an extended glob"
	}
	return "an expansion"
}

func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// source returns the text of a word as written (for words with expansions).
func source(script string, w *syntax.Word) string {
	return script[w.Pos().Offset():w.End().Offset()]
}

// heredocBody is a heredoc's text without its closing delimiter line.
func heredocBody(script string, rd *syntax.Redirect) string {
	body := source(script, rd.Hdoc)
	delim, _ := literal(rd.Word)
	lines := strings.SplitAfter(body, "\n")
	if n := len(lines); n > 0 && strings.TrimSpace(lines[n-1]) == delim {
		return strings.Join(lines[:n-1], "")
	}
	return body
}

// hiddenCommands lists every command in a script Codex evaluates as one
// opaque argv, each with the first construct that hides it. base is the
// script's offset in the outermost script.
func hiddenCommands(script string, f *syntax.File, base, depth int) []Finding {
	var out []Finding
	var visit func(node syntax.Node, reason string)
	visitStmts := func(stmts []*syntax.Stmt, reason string) {
		for _, s := range stmts {
			visit(s, reason)
		}
	}
	visit = func(node syntax.Node, reason string) {
		switch n := node.(type) {
		case *syntax.Stmt:
			r := reason
			for _, rd := range n.Redirs {
				if r == "" {
					r = "a redirection"
					if rd.Op == syntax.Hdoc || rd.Op == syntax.DashHdoc {
						r = "a heredoc"
					}
				}
				if rd.Word != nil {
					visitWord(rd.Word, &out, script, base, visit)
				}
			}
			if r == "" {
				switch {
				case n.Negated:
					r = "negation (!)"
				case n.Background:
					r = "a background job (&)"
				}
			}
			if n.Cmd != nil {
				visit(n.Cmd, r)
			}
			// A heredoc fed to a shell is a script of its own.
			if call, ok := n.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
				if name, _ := literal(call.Args[0]); shells[path.Base(name)] {
					for _, rd := range n.Redirs {
						if (rd.Op == syntax.Hdoc || rd.Op == syntax.DashHdoc) && rd.Hdoc != nil {
							body := heredocBody(script, rd)
							if inner, err := parse(body); err == nil {
								for _, h := range hiddenCommands(body, inner, base+int(rd.Hdoc.Pos().Offset()), depth+1) {
									h.Reason = "a script fed to " + name + " by a heredoc"
									out = append(out, h)
								}
							}
						}
					}
				}
			}
		case *syntax.CallExpr:
			r := reason
			if r == "" && len(n.Assigns) > 0 {
				r = "a variable assignment"
			}
			for _, a := range n.Assigns {
				if a.Value != nil {
					visitWord(a.Value, &out, script, base, visit)
				}
			}
			if len(n.Args) == 0 {
				return
			}
			var argv []string
			exp := ""
			for _, w := range n.Args {
				lit, why := literal(w)
				if why != "" {
					lit = source(script, w)
					if exp == "" {
						exp = why
					}
				}
				argv = append(argv, lit)
				visitWord(w, &out, script, base, visit)
			}
			if r == "" {
				r = exp
			}
			if r == "" {
				r = "a script Codex does not split"
			}
			off := base + int(n.Args[0].Pos().Offset())
			out = append(out, Finding{Argv: argv, Offset: off, Reason: r})
			out = append(out, expand(argv, off, script, base, depth)...)
		case *syntax.BinaryCmd:
			visit(n.X, reason)
			visit(n.Y, reason)
		case *syntax.Subshell:
			visitStmts(n.Stmts, firstNonEmpty(reason, "a subshell"))
		case *syntax.Block:
			visitStmts(n.Stmts, firstNonEmpty(reason, "a command group"))
		case *syntax.IfClause:
			for c := n; c != nil; c = c.Else {
				visitStmts(c.Cond, firstNonEmpty(reason, "control flow"))
				visitStmts(c.Then, firstNonEmpty(reason, "control flow"))
			}
		case *syntax.WhileClause:
			visitStmts(n.Cond, firstNonEmpty(reason, "control flow"))
			visitStmts(n.Do, firstNonEmpty(reason, "control flow"))
		case *syntax.ForClause:
			visitStmts(n.Do, firstNonEmpty(reason, "control flow"))
		case *syntax.CaseClause:
			for _, item := range n.Items {
				visitStmts(item.Stmts, firstNonEmpty(reason, "control flow"))
			}
		case *syntax.FuncDecl:
			visit(n.Body, firstNonEmpty(reason, "a function definition"))
		case *syntax.TimeClause:
			if n.Stmt != nil {
				visit(n.Stmt, firstNonEmpty(reason, "a time prefix"))
			}
		case *syntax.CoprocClause:
			visit(n.Stmt, firstNonEmpty(reason, "a coprocess"))
		}
	}
	visitStmts(f.Stmts, "")
	return out
}

// visitWord finds commands inside a word's substitutions.
func visitWord(w *syntax.Word, out *[]Finding, script string, base int, visit func(syntax.Node, string)) {
	syntax.Walk(w, func(n syntax.Node) bool {
		switch s := n.(type) {
		case *syntax.CmdSubst:
			for _, st := range s.Stmts {
				visit(st, "a command substitution")
			}
			return false
		case *syntax.ProcSubst:
			for _, st := range s.Stmts {
				visit(st, "a process substitution")
			}
			return false
		}
		return true
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// wrappers run the command that follows their own options.
var wrappers = map[string]func(args []string) int{
	"env":     envSkip,
	"sudo":    optionSkip(map[string]bool{"-u": true, "-g": true, "-h": true, "-p": true, "-C": true, "-D": true, "-r": true, "-t": true, "-U": true}),
	"doas":    optionSkip(map[string]bool{"-u": true, "-C": true}),
	"nice":    optionSkip(map[string]bool{"-n": true}),
	"ionice":  optionSkip(map[string]bool{"-c": true, "-n": true, "-p": true}),
	"nohup":   optionSkip(nil),
	"command": optionSkip(nil),
	"exec":    optionSkip(map[string]bool{"-a": true}),
	"time":    optionSkip(map[string]bool{"-f": true, "-o": true}),
	"stdbuf":  optionSkip(nil),
	"timeout": func(args []string) int {
		i := optionSkip(map[string]bool{"-k": true, "-s": true, "--kill-after": true, "--signal": true})(args)
		if i < len(args) {
			i++ // the duration
		}
		return i
	},
	"xargs": optionSkip(map[string]bool{"-n": true, "-I": true, "-L": true, "-P": true, "-s": true, "-d": true, "-E": true, "-a": true}),
}

// optionSkip skips leading options; those in withValue take the next word.
func optionSkip(withValue map[string]bool) func([]string) int {
	return func(args []string) int {
		i := 0
		for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" {
			if args[i] == "--" {
				return i + 1
			}
			if withValue[args[i]] {
				i++
			}
			i++
		}
		return i
	}
}

func envSkip(args []string) int {
	i := 0
	for i < len(args) {
		a := args[i]
		switch {
		case a == "-u" || a == "--unset" || a == "-C" || a == "--chdir" || a == "-S" || a == "--split-string":
			i += 2
		case strings.HasPrefix(a, "-"):
			i++
		case strings.Contains(a, "="):
			i++
		default:
			return i
		}
	}
	return i
}

// expand finds the commands a command runs that Codex does not match
// against its rules: what a wrapper runs, and the script of a nested shell.
// offset is the command's place in the outermost script (-1 when it is
// not in a script); script and base locate the script it appears in.
func expand(argv []string, offset int, script string, base, depth int) []Finding {
	if len(argv) == 0 || depth > maxDepth {
		return nil
	}
	name := path.Base(argv[0])
	if skip, ok := wrappers[name]; ok {
		rest := argv[1:]
		i := skip(rest)
		if i >= len(rest) {
			return nil
		}
		inner := rest[i:]
		out := []Finding{{Argv: inner, Offset: offset, Reason: "run by " + name}}
		return append(out, expand(inner, offset, script, base, depth+1)...)
	}
	inner, ok := shellScript(argv)
	if !ok {
		return nil
	}
	// Locate the nested script in the outer text, when written verbatim.
	innerBase := -1
	if offset >= 0 && offset-base <= len(script) {
		if k := strings.Index(script[offset-base:], inner); k >= 0 {
			innerBase = offset + k
		}
	}
	plain, _, cmds, hidden := analyzeScript(inner, max(innerBase, 0), depth+1)
	var out []Finding
	if plain {
		for _, c := range cmds {
			out = append(out, Finding{Argv: c.Argv, Offset: c.Offset, Reason: "a nested " + name + " -c script"})
		}
	}
	for _, h := range hidden {
		h.Reason = "a nested " + name + " -c script, then " + h.Reason
		out = append(out, h)
	}
	if innerBase < 0 {
		for i := range out {
			out[i].Offset = -1
		}
	}
	return out
}
