package execpolicy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// maxSteps bounds the work one `.rules` file may do.
const maxSteps = 10_000_000

var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// ReadError is a `.rules` file that could not be read.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string {
	return "failed to read policy at " + e.Path + ": " + e.Err.Error()
}

// Report renders the failure as `codex execpolicy check` prints it.
func (e *ReadError) Report() string {
	cause := e.Err.Error()
	switch {
	case errors.Is(e.Err, os.ErrNotExist):
		cause = "No such file or directory (os error 2)"
	case errors.Is(e.Err, os.ErrPermission):
		cause = "Permission denied (os error 13)"
	}
	return "Error: failed to read policy at " + e.Path + "\n\nCaused by:\n    " + cause + "\n"
}

// NetworkRule is a network_rule() declaration. Codex keeps them for the
// network proxy; they never appear in `execpolicy check` output.
type NetworkRule struct {
	Host, Protocol string
	Decision       Decision
	Justification  string
}

// File is one loaded `.rules` file.
type File struct {
	Path         string
	Policy       *Policy
	NetworkRules []NetworkRule
	// Examples counts the match and not_match self-tests that passed.
	Examples int
}

// LoadFile reads and evaluates a `.rules` file. Errors are *ReadError or
// *LoadError.
func LoadFile(name string) (*File, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &ReadError{Path: name, Err: err}
	}
	return Load(name, string(data))
}

// Load evaluates a `.rules` document as Codex 0.169.0 does: Starlark with
// f-strings and top-level control flow, the builtins prefix_rule,
// host_executable and network_rule, no load(), a step budget, then the
// match/not_match self-tests of every prefix_rule call.
func Load(name, src string) (*File, error) {
	l := &loader{path: name, src: src, lines: strings.Split(src, "\n"), file: &File{Path: name, Policy: NewPolicy()}}
	if err := l.run(); err != nil {
		return nil, err
	}
	return l.file, nil
}

type loader struct {
	path, src string
	lines     []string
	// rewritten are the lines go.starlark.net parses (f-strings
	// rewritten), whose columns it counts in runes.
	rewritten []string
	fmap      *fstringMap
	ast       *syntax.File
	file      *File
	calls     []*ruleCall
}

// ruleCall is one prefix_rule() call with its self-test examples.
type ruleCall struct {
	pos      Pos // where prefix_rule was called
	rules    []Rule
	match    [][]string
	notMatch [][]string
}

func (l *loader) fail(msg string, span Span, trace []Frame) *LoadError {
	return &LoadError{Path: l.path, Message: msg, Span: span, Traceback: trace, src: l.lines}
}

func (l *loader) run() error {
	if i := strings.IndexByte(l.src, '\t'); i >= 0 {
		p := l.bytePos(i)
		return l.fail("Parse error: tabs are not allowed", Span{p, p}, nil)
	}
	rewritten, fmap := rewriteFStrings(l.src)
	l.fmap = fmap
	l.rewritten = strings.Split(rewritten, "\n")
	f, err := fileOptions.Parse(l.path, rewritten, 0)
	if err != nil {
		return l.parseError(err)
	}
	l.ast = f
	if err := l.checkStatic(f); err != nil {
		return err
	}
	thread := &starlark.Thread{Name: "rules", Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
		return nil, errors.New("load is not available")
	}}
	thread.SetMaxExecutionSteps(maxSteps)
	predeclared := starlark.StringDict{
		"prefix_rule":     starlark.NewBuiltin("prefix_rule", l.prefixRule),
		"host_executable": starlark.NewBuiltin("host_executable", l.hostExecutable),
		"network_rule":    starlark.NewBuiltin("network_rule", l.networkRule),
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return l.resolveError(err)
	}
	globals, err := prog.Init(thread, predeclared)
	if err != nil {
		return l.evalError(err)
	}
	globals.Freeze()
	if err := l.selfTests(); err != nil {
		return err
	}
	for _, c := range l.calls {
		l.file.Examples += len(c.match) + len(c.notMatch)
	}
	return nil
}

// bytePos converts a byte offset in the original source to a position.
func (l *loader) bytePos(off int) Pos {
	line := strings.Count(l.src[:off], "\n") + 1
	start := strings.LastIndexByte(l.src[:off], '\n') + 1
	return Pos{line, charCol(l.lines[line-1], off-start+1)}
}

// pos maps a go.starlark.net position (on the rewritten source) back to
// the original text.
func (l *loader) pos(p syntax.Position) Pos {
	line, col := int(p.Line), int(p.Col)
	// go.starlark.net counts columns in runes, the f-string map in bytes.
	if line >= 1 && line <= len(l.rewritten) {
		col = byteCol(l.rewritten[line-1], col)
	}
	col = l.fmap.original(line, col)
	if line >= 1 && line <= len(l.lines) {
		col = charCol(l.lines[line-1], col)
	}
	return Pos{line, col}
}

func (l *loader) span(n syntax.Node) Span {
	start, end := n.Span()
	return Span{l.pos(start), l.pos(end)}
}

// parseError words a syntax error as Rust starlark's parser does.
func (l *loader) parseError(err error) error {
	var se syntax.Error
	if !errors.As(err, &se) {
		return l.fail("Parse error: "+err.Error(), Span{}, nil)
	}
	p := l.pos(se.Pos)
	span := Span{p, p}
	msg := se.Msg
	switch {
	case strings.HasPrefix(msg, "got newline, want ") || strings.HasPrefix(msg, "got end of file, want "):
		want := msg[strings.Index(msg, ", want ")+len(", want "):]
		atEOF := strings.HasPrefix(msg, "got end of file")
		what := expectedWhat(want)
		got := "new line"
		switch {
		case atEOF && want == "indent":
			got = "end of file"
		case atEOF:
			// Newlines inside brackets are not tokens: the file ended where
			// the recursive-descent parser wanted its next operand.
			what = l.expectedAtEOF(what)
		case se.Pos.Col == 1 && se.Pos.Line > 1:
			// go.starlark.net places a statement's final new line at the
			// start of the next line; Rust starlark at the end of its own.
			prev := int(se.Pos.Line) - 1
			span = Span{Pos{prev, utf8.RuneCountInString(l.lines[prev-1]) + 1}, Pos{prev, utf8.RuneCountInString(l.lines[prev-1]) + 1}}
		}
		e := l.fail("Parse error: unexpected "+got+", expected "+what, span, nil)
		if atEOF {
			// At the very end of the file Rust starlark reports 1:1 and
			// shows no source line, whatever the file's length.
			e.EOF = true
			e.Span = Span{Pos{1, 1}, Pos{1, 1}}
		} else {
			// The new line itself is the unexpected token: its span runs
			// to the start of the next line, which the snippet shows.
			e.Span.End = Pos{e.Span.Start.Line + 1, 1}
		}
		return e
	case strings.Contains(msg, "unexpected input character"):
		ch := strings.Trim(msg[strings.LastIndex(msg, " ")+1:], "'")
		span.End.Col++
		return l.fail("Parse error: invalid input `"+ch+"`", span, nil)
	case strings.HasPrefix(msg, "got ") && strings.Contains(msg, "want indent"):
		name := identAt(l.lines, p)
		span.End.Col = p.Col + len(name)
		return l.fail("Parse error: unexpected identifier '"+name+"', expected new indentation block", span, nil)
	}
	return l.fail("Parse error: "+msg, span, nil)
}

// byteCol turns a 1-based rune column of line into a 1-based byte column;
// past the end it counts one byte a column.
func byteCol(line string, runeCol int) int {
	n := 1
	for i := range line {
		if n == runeCol {
			return i + 1
		}
		n++
	}
	return len(line) + 1 + runeCol - n
}

// expectedAtEOF corrects what was expected when the file ends inside an
// open bracket: after an opening bracket, a comma, "=" or ":" the parser
// wants an expression (a parameter name in a def header), where
// go.starlark.net names the closing bracket.
func (l *loader) expectedAtEOF(what string) string {
	src := strings.TrimRight(l.src, " \n\r")
	if src == "" {
		return what
	}
	switch src[len(src)-1] {
	case '(', '[', '{', ',', '=', ':':
		stmt := src[strings.LastIndexByte(src, '\n')+1:]
		if defHeader.MatchString(stmt) {
			return "identifier"
		}
		return "expression"
	}
	return what
}

var defHeader = regexp.MustCompile(`^def\s+\w+\s*\([^)]*$`)

// expectedWhat words what go.starlark.net wanted as the Rust starlark
// recursive-descent parser (parser_rd.rs) does: a missing operand is an
// "expression", a keyword and a punctuation token are named by kind (the
// lexer's Display of Token).
func expectedWhat(want string) string {
	switch want {
	case "primary expression":
		return "expression"
	case "indent":
		return "new indentation block"
	case "in", "and", "or", "not", "if", "else", "for", "def", "load", "return", "pass", "break", "continue", "lambda", "elif":
		return "keyword '" + want + "'"
	}
	return "symbol '" + strings.Trim(want, "'") + "'"
}

func identAt(lines []string, p Pos) string {
	if p.Line < 1 || p.Line > len(lines) {
		return ""
	}
	s := []rune(lines[p.Line-1])
	i := p.Col - 1
	j := i
	for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if i > len(s) {
		return ""
	}
	return string(s[i:j])
}

// checkStatic reports what Rust starlark rejects before running a file:
// load statements and repeated keyword arguments.
func (l *loader) checkStatic(f *syntax.File) error {
	var err error
	syntax.Walk(f, func(n syntax.Node) bool {
		if err != nil {
			return false
		}
		switch n := n.(type) {
		case *syntax.LoadStmt:
			err = l.fail("No imports are available, you tried `"+n.Module.Value.(string)+"` (no call to `Evaluator.set_loader`)", l.span(n), nil)
		case *syntax.CallExpr:
			seen := map[string]bool{}
			for _, a := range n.Args {
				if b, ok := a.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
					name := b.X.(*syntax.Ident).Name
					if seen[name] {
						err = l.fail("repeated named argument", l.span(b.X), nil)
						return false
					}
					seen[name] = true
				}
			}
		}
		return true
	})
	return err
}

// resolveError reports an undefined name.
func (l *loader) resolveError(err error) error {
	var list resolve.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		if name, ok := strings.CutPrefix(e.Msg, "undefined: "); ok {
			name, _, _ = strings.Cut(name, " ")
			p := l.pos(e.Pos)
			return l.fail("Variable `"+name+"` not found", Span{p, Pos{p.Line, p.Col + len([]rune(name))}}, nil)
		}
		p := l.pos(e.Pos)
		return l.fail(e.Msg, Span{p, p}, nil)
	}
	return l.fail(err.Error(), Span{}, nil)
}

// builtinError carries a message worded as Codex's builtins word it.
type builtinError struct{ msg string }

func (e *builtinError) Error() string { return e.msg }

// evalError renders a runtime failure with its traceback. The error's span
// is the whole call expression of the innermost Starlark frame.
func (l *loader) evalError(err error) error {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return l.fail(err.Error(), Span{}, nil)
	}
	msg := ee.Msg
	var be *builtinError
	if errors.As(ee.Unwrap(), &be) {
		msg = be.msg
	}
	var frames []Frame
	var last syntax.Position
	for _, fr := range ee.CallStack {
		if !fr.Pos.IsValid() || fr.Pos.Line == 0 {
			continue // a builtin's own frame
		}
		name := fr.Name
		if name == "<toplevel>" {
			name = "<module>"
		}
		frames = append(frames, Frame{Line: int(fr.Pos.Line), Function: name})
		last = fr.Pos
	}
	span := Span{l.pos(last), l.pos(last)}
	if call := l.callAt(last); call != nil {
		span = l.span(call)
	}
	return l.fail(msg, span, frames)
}

// callAt finds the call expression whose parenthesis is at p.
func (l *loader) callAt(p syntax.Position) *syntax.CallExpr {
	var found *syntax.CallExpr
	syntax.Walk(l.ast, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && c.Lparen.Line == p.Line && c.Lparen.Col == p.Col {
			found = c
		}
		return found == nil
	})
	return found
}

// selfTests runs the prefix_rule examples after the file loaded, call by
// call: a call's not_match examples, then its match examples.
func (l *loader) selfTests() error {
	for _, c := range l.calls {
		for _, ex := range c.notMatch {
			for i := range c.rules {
				if ruleMatches(&c.rules[i], ex) {
					return &LoadError{Path: l.path, SelfTest: true, Span: Span{c.pos, c.pos}, Message: "expected example to not match rule `" + matchDebug(&c.rules[i], ex) + "`: " + shellJoin(ex)}
				}
			}
		}
		var unmatched []string
		for _, ex := range c.match {
			hit := false
			for i := range c.rules {
				hit = hit || ruleMatches(&c.rules[i], ex)
			}
			if !hit {
				unmatched = append(unmatched, shellJoin(ex))
			}
		}
		if len(unmatched) > 0 {
			var rules []string
			for i := range c.rules {
				rules = append(rules, rustDebugString(ruleDebug(&c.rules[i])))
			}
			quoted := make([]string, len(unmatched))
			for i, u := range unmatched {
				quoted[i] = rustDebugString(u)
			}
			return &LoadError{Path: l.path, SelfTest: true, Span: Span{c.pos, c.pos}, Message: "expected every example to match at least one rule. rules: [" +
				strings.Join(rules, ", ") + "]; unmatched examples: [" + strings.Join(quoted, ", ") + "]"}
		}
	}
	return nil
}

func ruleMatches(r *Rule, argv []string) bool {
	return len(argv) > 0 && argv[0] == r.First && r.matchesRest(argv)
}

func ruleDebug(r *Rule) string {
	rest := make([]string, len(r.Rest))
	for i, t := range r.Rest {
		if len(t.Alternatives) == 1 {
			rest[i] = "Single(" + rustDebugString(t.Alternatives[0]) + ")"
			continue
		}
		alts := make([]string, len(t.Alternatives))
		for j, a := range t.Alternatives {
			alts[j] = rustDebugString(a)
		}
		rest[i] = "Alts([" + strings.Join(alts, ", ") + "])"
	}
	return fmt.Sprintf("PrefixRule { pattern: PrefixPattern { canonical_matching: false, first: %s, rest: [%s] }, decision: %s, justification: %s }",
		rustDebugString(r.First), strings.Join(rest, ", "), decisionDebug(r.Decision), optionDebug(r.Justification))
}

func matchDebug(r *Rule, argv []string) string {
	prefix := make([]string, r.Len())
	for i := range prefix {
		prefix[i] = rustDebugString(argv[i])
	}
	return fmt.Sprintf("PrefixRuleMatch { matched_prefix: [%s], decision: %s, resolved_program: None, justification: %s }",
		strings.Join(prefix, ", "), decisionDebug(r.Decision), optionDebug(r.Justification))
}

func decisionDebug(d Decision) string {
	s := d.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func optionDebug(s string) string {
	if s == "" {
		return "None"
	}
	return "Some(" + rustDebugString(s) + ")"
}

// ---- builtins ----

// kwargs binds a builtin's arguments as Rust starlark does: positional in
// signature order, then named; unknown names and missing required
// parameters are errors worded like starlark-rust's.
func bindArgs(fn string, names []string, required int, args starlark.Tuple, kwargs []starlark.Tuple) ([]starlark.Value, error) {
	vals := make([]starlark.Value, len(names))
	if len(args) > len(names) {
		return nil, &builtinError{fmt.Sprintf("Found %d extra positional parameter(s) for call to %s", len(args)-len(names), fn)}
	}
	copy(vals, args)
	var extra []string
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		i := indexOf(names, k)
		if i < 0 {
			extra = append(extra, "`"+k+"`")
			continue
		}
		vals[i] = kv[1]
	}
	if len(extra) > 0 {
		return nil, &builtinError{"Found " + strings.Join(extra, ", ") + " extra named parameter(s) for call to " + fn}
	}
	for i := 0; i < required; i++ {
		if vals[i] == nil {
			return nil, &builtinError{"Missing parameter `" + names[i] + "` for call to `" + fn + "`"}
		}
	}
	return vals, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// typeMismatch is starlark-rust's parameter type error.
func typeMismatch(param, expected string, v starlark.Value) error {
	return &builtinError{fmt.Sprintf("Type of parameter `%s` doesn't match, expected `%s`, actual `%s (repr: %s)`", param, expected, rustTypeName(v), rustRepr(v))}
}

func rustTypeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.String:
		return "string"
	case starlark.Bool:
		return "bool"
	case starlark.NoneType:
		return "NoneType"
	}
	return v.Type()
}

func rustRepr(v starlark.Value) string {
	switch x := v.(type) {
	case starlark.String:
		return rustDebugString(string(x))
	}
	return v.String()
}

func optString(param string, v starlark.Value) (string, bool, error) {
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return "", false, nil
	case starlark.String:
		return string(x), true, nil
	}
	return "", false, typeMismatch(param, "str", v)
}

func (l *loader) prefixRule(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	vals, err := bindArgs("prefix_rule", []string{"pattern", "decision", "match", "not_match", "justification"}, 1, args, kwargs)
	if err != nil {
		return nil, err
	}
	pattern, ok := vals[0].(*starlark.List)
	if !ok {
		return nil, typeMismatch("pattern", "list", vals[0])
	}
	decision := Allow
	if ds, set, err := optString("decision", vals[1]); err != nil {
		return nil, err
	} else if set {
		d, ok := ParseDecision(ds)
		if !ok {
			return nil, &builtinError{"invalid decision: " + ds}
		}
		decision = d
	}
	var matchList, notMatchList *starlark.List
	for i, p := range []string{"match", "not_match"} {
		switch x := vals[2+i].(type) {
		case nil, starlark.NoneType:
		case *starlark.List:
			if i == 0 {
				matchList = x
			} else {
				notMatchList = x
			}
		default:
			return nil, typeMismatch(p, "list", x)
		}
	}
	justification, hasJust, err := optString("justification", vals[4])
	if err != nil {
		return nil, err
	}
	if pattern.Len() == 0 {
		return nil, &builtinError{"invalid pattern element: pattern cannot be empty"}
	}
	tokens := make([][]string, pattern.Len())
	for i := 0; i < pattern.Len(); i++ {
		switch x := pattern.Index(i).(type) {
		case starlark.String:
			tokens[i] = []string{string(x)}
		case *starlark.List:
			if x.Len() == 0 {
				return nil, &builtinError{"invalid pattern element: pattern alternatives cannot be empty"}
			}
			for j := 0; j < x.Len(); j++ {
				s, ok := x.Index(j).(starlark.String)
				if !ok {
					return nil, &builtinError{"invalid pattern element: pattern alternative must be a string (got " + x.Index(j).Type() + ")"}
				}
				tokens[i] = append(tokens[i], string(s))
			}
		default:
			return nil, &builtinError{"invalid pattern element: pattern element must be a string or list of strings (got " + x.Type() + ")"}
		}
	}
	if hasJust && strings.TrimSpace(justification) == "" {
		return nil, &builtinError{"invalid rule: justification cannot be empty"}
	}
	call := &ruleCall{}
	if call.pos = l.pos(thread.CallFrame(1).Pos); call.pos.Line > 0 {
		if c := l.callAt(thread.CallFrame(1).Pos); c != nil {
			call.pos = l.span(c).Start
		}
	}
	var exErr error
	if call.match, exErr = examples(matchList); exErr != nil {
		return nil, exErr
	}
	if call.notMatch, exErr = examples(notMatchList); exErr != nil {
		return nil, exErr
	}
	rest := make([]Token, len(tokens)-1)
	for i := range rest {
		rest[i] = Token{Alternatives: tokens[i+1]}
	}
	for _, first := range tokens[0] {
		r := Rule{First: first, Rest: rest, Decision: decision, Justification: justification}
		l.file.Policy.AddRule(r)
		call.rules = append(call.rules, r)
	}
	l.calls = append(l.calls, call)
	return starlark.None, nil
}

// examples reads a match/not_match list: each example is a list of words
// or a string split with POSIX shell quoting.
func examples(list *starlark.List) ([][]string, error) {
	if list == nil {
		return nil, nil
	}
	var out [][]string
	for i := 0; i < list.Len(); i++ {
		switch x := list.Index(i).(type) {
		case starlark.String:
			if string(x) == "" {
				return nil, &builtinError{"invalid example: example cannot be an empty string"}
			}
			words, err := shellSplit(string(x))
			if err != nil {
				return nil, &builtinError{"invalid example: " + err.Error()}
			}
			out = append(out, words)
		case *starlark.List:
			if x.Len() == 0 {
				return nil, &builtinError{"invalid example: example cannot be an empty list"}
			}
			var words []string
			for j := 0; j < x.Len(); j++ {
				s, ok := x.Index(j).(starlark.String)
				if !ok {
					return nil, &builtinError{"invalid example: example must be a string or list of strings (got " + x.Index(j).Type() + ")"}
				}
				words = append(words, string(s))
			}
			out = append(out, words)
		default:
			return nil, &builtinError{"invalid example: example must be a string or list of strings (got " + x.Type() + ")"}
		}
	}
	return out, nil
}

func (l *loader) hostExecutable(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	vals, err := bindArgs("host_executable", []string{"name", "paths"}, 2, args, kwargs)
	if err != nil {
		return nil, err
	}
	name, ok := vals[0].(starlark.String)
	if !ok {
		return nil, typeMismatch("name", "str", vals[0])
	}
	list, ok := vals[1].(*starlark.List)
	if !ok {
		return nil, typeMismatch("paths", "list", vals[1])
	}
	n := string(name)
	if n == "" || strings.ContainsAny(n, "/\\") {
		return nil, &builtinError{"invalid rule: host_executable name must be a bare executable name (got " + n + ")"}
	}
	var paths []string
	for i := 0; i < list.Len(); i++ {
		s, ok := list.Index(i).(starlark.String)
		if !ok {
			return nil, &builtinError{"invalid rule: host_executable paths must be strings (got " + list.Index(i).Type() + ")"}
		}
		p := string(s)
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
			return nil, &builtinError{"invalid rule: host_executable paths must be absolute (got " + p + ")"}
		}
		if path.Base(p) != n {
			return nil, &builtinError{"invalid rule: host_executable path `" + p + "` must have basename `" + n + "`"}
		}
		paths = append(paths, p)
	}
	l.file.Policy.AddHostExecutable(n, paths)
	return starlark.None, nil
}

func (l *loader) networkRule(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	vals, err := bindArgs("network_rule", []string{"host", "protocol", "decision", "justification"}, 3, args, kwargs)
	if err != nil {
		return nil, err
	}
	var s [3]string
	for i, p := range []string{"host", "protocol", "decision"} {
		v, ok := vals[i].(starlark.String)
		if !ok {
			return nil, typeMismatch(p, "str", vals[i])
		}
		s[i] = string(v)
	}
	justification, hasJust, err := optString("justification", vals[3])
	if err != nil {
		return nil, err
	}
	host, protocol := s[0], s[1]
	if strings.ContainsAny(host, "*?") {
		return nil, &builtinError{"invalid rule: network_rule host must be a specific host; wildcards are not allowed"}
	}
	switch protocol {
	case "http", "https", "socks5_tcp", "socks5_udp":
	default:
		return nil, &builtinError{"invalid rule: network_rule protocol must be one of http, https, socks5_tcp, socks5_udp (got " + protocol + ")"}
	}
	decision, ok := ParseDecision(s[2])
	if s[2] == "deny" {
		decision, ok = Forbidden, true
	}
	if !ok {
		return nil, &builtinError{"invalid decision: " + s[2]}
	}
	if hasJust && strings.TrimSpace(justification) == "" {
		return nil, &builtinError{"invalid rule: justification cannot be empty"}
	}
	l.file.NetworkRules = append(l.file.NetworkRules, NetworkRule{Host: host, Protocol: protocol, Decision: decision, Justification: justification})
	return starlark.None, nil
}
