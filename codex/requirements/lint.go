package requirements

import (
	"errors"
	"fmt"
	"github.com/codexgov/codexgov/codex/internal/didyoumean"
	"slices"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// Severity of a diagnostic.
type Severity string

// Diagnostic severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic codes. Errors are what Codex rejects; warnings are footguns
// Codex accepts silently.
const (
	CodeTOML                = "toml-syntax"
	CodeType                = "invalid-value"
	CodeConstraint          = "rejected"
	CodeUnknownKey          = "unknown-key"
	CodeIgnoredKey          = "ignored-key"
	CodeEmptyMCPAllowlist   = "empty-mcp-allowlist"
	CodeLegacyMCPArgs       = "legacy-mcp-args-ignored"
	CodeRemoteSandboxNoRO   = "remote-sandbox-without-read-only"
	CodeOtelHeaderRedacted  = "otel-header-redacted"
	CodeUnknownHookEvent    = "unknown-hook-event"
	CodeKeyAfterTable       = "key-after-table"
	maxConstraintLintRounds = 32
)

// Diagnostic is one finding of Lint, located in the file.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	// Key is the dotted key path the finding concerns, when known.
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	// Codex marks the error Codex itself reports (Codex stops at its first
	// error and gives no position).
	Codex bool `json:"codex,omitempty"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Severity, d.Message)
}

// LintOptions configures Lint.
type LintOptions struct {
	// CodexDir is the folder the file is evaluated as installed in
	// (relative paths resolve against it); "/etc/codex" when empty.
	CodexDir string
	// ReadFile reads files the requirements refer to; os.ReadFile when nil.
	ReadFile func(string) ([]byte, error)
	// Hostname evaluates remote_sandbox_config for one machine. When empty,
	// no entry matches and entries that would break Codex are warnings.
	Hostname string
}

// Lint checks one requirements.toml as the system requirements file.
// It reports every error it can find (Codex reports only the first, without
// a position) and warnings for what Codex silently ignores or
// misinterprets. Diagnostics are ordered by position.
func Lint(file, contents string, opts LintOptions) []Diagnostic {
	dir := opts.CodexDir
	if dir == "" {
		dir = "/etc/codex"
	}
	l := &linter{file: file, src: contents, layer: Layer{Source: Source{Kind: SystemFile, Path: file}, Contents: contents, BaseDir: dir}, readFile: opts.ReadFile, hostname: opts.Hostname}
	doc, err := toml.Parse(contents)
	if err != nil {
		var se *toml.SyntaxError
		if errors.As(err, &se) {
			line, col := se.Position()
			return []Diagnostic{{File: file, Line: line, Column: col, Severity: SeverityError, Code: CodeTOML, Message: se.Msg, Codex: true}}
		}
		return []Diagnostic{{File: file, Line: 1, Column: 1, Severity: SeverityError, Code: CodeTOML, Message: err.Error(), Codex: true}}
	}
	l.doc = doc
	l.codexVerdict()
	if l.typeErrors() {
		l.constraintErrors()
	}
	l.warnings()
	slices.SortStableFunc(l.diags, func(a, b Diagnostic) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return l.diags
}

type linter struct {
	file, src string
	layer     Layer
	doc       *toml.Value
	readFile  func(string) ([]byte, error)
	hostname  string
	diags     []Diagnostic
	// badKeys are top-level keys that failed to decode.
	badKeys map[string]bool
	// codexErr is the error Codex reports for the file, if any.
	codexErr *Error
}

func (l *linter) effective(doc *toml.Value) error {
	layer := l.layer
	layer.Doc = doc
	_, err := Effective(Inputs{System: &layer, Hostname: func() string { return l.hostname }, ReadFile: l.readFile})
	return err
}

func (l *linter) codexVerdict() {
	var e *Error
	if err := l.effective(l.doc); errors.As(err, &e) {
		l.codexErr = e
	}
}

func (l *linter) at(span toml.Span) (int, int) {
	return toml.LineCol(l.src, span.Start)
}

func (l *linter) add(d Diagnostic) {
	for _, o := range l.diags {
		if o.Line == d.Line && o.Column == d.Column && o.Message == d.Message {
			return
		}
	}
	d.File = l.file
	l.diags = append(l.diags, d)
}

// typeErrors decodes each top-level key on its own, so one bad key does
// not hide the next; the whole document is decoded too, for the errors
// that need two keys (duplicate aliases). It reports whether the keys that
// decode can still be checked together (no error spans several keys).
func (l *linter) typeErrors() bool {
	d := &toml.Decoder{BaseDir: l.layer.BaseDir}
	report := func(err error) {
		var de *toml.DeError
		if !errors.As(err, &de) {
			return
		}
		line, col := l.at(de.Span)
		msg := de.Msg
		if len(de.Keys) > 0 {
			msg += " (in `" + strings.Join(de.Keys, ".") + "`)"
		}
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityError, Code: CodeType, Key: strings.Join(de.Keys, "."), Message: msg})
	}
	checkable := true
	whole := l.doc.Clone()
	whole.Tbl.Remove("model_providers")
	if _, err := layerSchema.Decode(d, whole); err != nil {
		var de *toml.DeError
		if errors.As(err, &de) && strings.HasPrefix(de.Msg, "duplicate field") {
			report(err)
			checkable = false
		}
	}
	if _, err := bootstrapSchema.Decode(d, l.doc); err != nil {
		report(err)
	}
	l.badKeys = map[string]bool{}
	for _, e := range l.doc.Tbl.Entries() {
		single := toml.NewTableValue(toml.NewTable())
		single.Tbl.Insert(e)
		schema := layerSchema
		if e.Key == "model_providers" {
			schema = mergedSchema
		}
		if _, err := schema.Decode(d, single); err != nil {
			report(err)
			l.badKeys[e.Key] = true
		}
	}
	l.markCodex()
	return checkable
}

// constraintErrors runs the real composition repeatedly, removing the key
// each error concerns, to list every rejected value.
func (l *linter) constraintErrors() {
	defer l.markCodex()
	doc := l.doc.Clone()
	for k := range l.badKeys {
		doc.Tbl.Remove(k)
	}
	for round := 0; round < maxConstraintLintRounds; round++ {
		err := l.effective(doc)
		var e *Error
		if !errors.As(err, &e) {
			return
		}
		span := l.errorSpan(e)
		line, col := l.at(span)
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityError, Code: CodeConstraint, Key: pathKey(e.Path), Message: e.Detail})
		if len(e.Path) == 0 || doc.Tbl.Remove(e.Path[0]) == nil {
			return
		}
	}
}

// markCodex flags the diagnostic that matches Codex's own error.
func (l *linter) markCodex() {
	if l.codexErr == nil {
		return
	}
	span := l.errorSpan(l.codexErr)
	line, col := l.at(span)
	for i := range l.diags {
		if l.diags[i].Severity == SeverityError && l.diags[i].Line == line && l.diags[i].Column == col {
			for j := range l.diags {
				l.diags[j].Codex = false
			}
			l.diags[i].Codex = true
			return
		}
	}
}

func pathKey(path []string) string {
	var parts []string
	for _, p := range path {
		if strings.HasPrefix(p, "=") {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ".")
}

// errorSpan locates an error in the file: a TOML or decoding error by its
// own span, a constraint error by its key path.
func (l *linter) errorSpan(e *Error) toml.Span {
	var de *toml.DeError
	if errors.As(e, &de) {
		return de.Span
	}
	var se *toml.SyntaxError
	if errors.As(e, &se) {
		return se.Span
	}
	return locate(l.doc, e.Path)
}

// locate returns the span of the deepest value of path found in doc.
func locate(doc *toml.Value, path []string) toml.Span {
	v := doc
	best := toml.Span{}
	for _, seg := range path {
		switch {
		case v == nil:
			return best
		case strings.HasPrefix(seg, "=") && v.Kind == toml.Array:
			var found *toml.Value
			for _, e := range v.Arr {
				if e.Kind == toml.String && e.Str == seg[1:] {
					found = e
					break
				}
			}
			v = found
		case v.Kind == toml.Array:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(v.Arr) {
				return best
			}
			v = v.Arr[i]
		case v.Kind == toml.Table:
			e := v.Tbl.Get(seg)
			if e == nil {
				return best
			}
			best = e.KeySpan
			v = e.Value
		default:
			return best
		}
		if v != nil && v.Span != (toml.Span{}) {
			best = v.Span
		}
	}
	return best
}

// knownTopLevel lists the keys Codex reads from requirements.toml.
func knownTopLevel() []string {
	var keys []string
	for _, f := range mergedSchema.Fields {
		keys = append(keys, f.Name)
		keys = append(keys, f.Aliases...)
	}
	return keys
}

func (l *linter) warnings() {
	known := knownTopLevel()
	for _, e := range l.doc.Tbl.Entries() {
		line, col := l.at(e.KeySpan)
		switch {
		case e.Key == "allowed_permissions":
			l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeIgnoredKey, Key: e.Key,
				Message: "`allowed_permissions` is ignored by Codex " + CodexVersion + "; use `allowed_permission_profiles`"})
		case !slices.Contains(known, e.Key):
			msg := "unknown key `" + e.Key + "` is silently ignored by Codex"
			if s := didyoumean.Closest(e.Key, known); s != "" {
				msg += "; did you mean `" + s + "`?"
			}
			l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeUnknownKey, Key: e.Key, Message: msg})
		}
	}
	if m := l.doc.Tbl.Get("mcp_servers"); m != nil && m.Value.Kind == toml.Table && m.Value.Tbl.Len() == 0 {
		line, col := l.at(m.KeySpan)
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeEmptyMCPAllowlist, Key: "mcp_servers",
			Message: "an empty [mcp_servers] is an allowlist of nothing: Codex disables every configured MCP server"})
	}
	l.legacyMCPArgs(l.doc.Tbl.Value("mcp_servers"), "mcp_servers")
	if plugins := l.doc.Tbl.Value("plugins"); plugins != nil && plugins.Kind == toml.Table {
		for _, p := range plugins.Tbl.Entries() {
			if p.Value.Kind == toml.Table {
				l.legacyMCPArgs(p.Value.Tbl.Value("mcp_servers"), "plugins."+p.Key+".mcp_servers")
			}
		}
	}
	l.keysAfterTables(known)
	l.remoteSandbox()
	l.otelHeaders()
	l.hookEvents()
}

// keysAfterTables flags a top-level requirements key written below a
// [table] header where that table has no such key: TOML puts it inside the
// table, where Codex ignores it or rejects it.
func (l *linter) keysAfterTables(known []string) {
	for _, e := range l.doc.Tbl.Entries() {
		if e.Value.Kind != toml.Table {
			continue
		}
		var schema toml.Type
		for _, f := range mergedSchema.Fields {
			if f.Name == e.Key || slices.Contains(f.Aliases, e.Key) {
				schema = f.Type
			}
		}
		for _, inner := range e.Value.Tbl.Entries() {
			if !slices.Contains(known, inner.Key) || belongsTo(schema, inner) {
				continue
			}
			line, col := l.at(inner.KeySpan)
			l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeKeyAfterTable, Key: e.Key + "." + inner.Key,
				Message: "`" + inner.Key + "` is a top-level requirements key, but here it belongs to [" + e.Key + "]; move it above the first [table] header"})
		}
	}
}

// belongsTo reports whether entry is a plausible member of a table of type t.
func belongsTo(t toml.Type, entry *toml.Entry) bool {
	elemFits := func(elem toml.Type) bool {
		_, err := elem.Decode(&toml.Decoder{}, entry.Value)
		return err == nil
	}
	switch s := t.(type) {
	case *toml.Struct:
		for _, f := range s.Fields {
			if f.Name == entry.Key || slices.Contains(f.Aliases, entry.Key) {
				return true
			}
		}
		if m, ok := s.Flatten.(toml.Map); ok {
			return elemFits(m.Elem)
		}
		return false
	case toml.Map:
		return elemFits(s.Elem)
	}
	return true
}

func (l *linter) legacyMCPArgs(servers *toml.Value, prefix string) {
	if servers == nil || servers.Kind != toml.Table {
		return
	}
	for _, s := range servers.Tbl.Entries() {
		if s.Value.Kind != toml.Table {
			continue
		}
		id := s.Value.Tbl.Value("identity")
		if id == nil || id.Kind != toml.Table {
			continue
		}
		cmd, args := id.Tbl.Value("command"), id.Tbl.Get("args")
		if cmd == nil || cmd.Kind != toml.String || args == nil {
			continue
		}
		line, col := l.at(args.KeySpan)
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeLegacyMCPArgs, Key: prefix + "." + s.Key + ".identity.args",
			Message: fmt.Sprintf("`args` is ignored in the legacy identity { command = %q }: any arguments are allowed; pin them with identity = { command = { executable = %q, args = [...] } }", cmd.Str, cmd.Str)})
	}
}

func (l *linter) remoteSandbox() {
	rsc := l.doc.Tbl.Value("remote_sandbox_config")
	if rsc == nil || rsc.Kind != toml.Array {
		return
	}
	for i, entry := range rsc.Arr {
		if entry.Kind != toml.Table {
			continue
		}
		modes := entry.Tbl.Get("allowed_sandbox_modes")
		if modes == nil || modes.Value.Kind != toml.Array {
			continue
		}
		hasRO := false
		for _, m := range modes.Value.Arr {
			hasRO = hasRO || (m.Kind == toml.String && m.Str == "read-only")
		}
		if hasRO {
			continue
		}
		var patterns []string
		if hp := entry.Tbl.Value("hostname_patterns"); hp != nil && hp.Kind == toml.Array {
			for _, p := range hp.Arr {
				patterns = append(patterns, fmt.Sprintf("%q", p.Str))
			}
		}
		line, col := l.at(modes.Value.Span)
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeRemoteSandboxNoRO, Key: "remote_sandbox_config." + strconv.Itoa(i) + ".allowed_sandbox_modes",
			Message: "allowed_sandbox_modes lacks \"read-only\": Codex refuses to start on hosts matching [" + strings.Join(patterns, ", ") + "]"})
	}
}

func (l *linter) otelHeaders() {
	otel := l.doc.Tbl.Value("otel")
	if otel == nil || otel.Kind != toml.Table {
		return
	}
	for _, exp := range []string{"exporter", "trace_exporter", "metrics_exporter"} {
		v := otel.Tbl.Value(exp)
		if v == nil || v.Kind != toml.Table {
			continue
		}
		for _, kind := range v.Tbl.Entries() {
			if kind.Value.Kind != toml.Table {
				continue
			}
			headers := kind.Value.Tbl.Value("headers")
			if headers == nil || headers.Kind != toml.Table {
				continue
			}
			for _, h := range headers.Tbl.Entries() {
				line, col := l.at(h.KeySpan)
				l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeOtelHeaderRedacted, Key: "otel." + exp + "." + kind.Key + ".headers." + h.Key,
					Message: "Codex reports this exporter header as \"[redacted]\", so its value cannot be checked on a machine; the secret sits in plain text in this file, readable wherever the file is"})
			}
		}
	}
}

func (l *linter) hookEvents() {
	hooks := l.doc.Tbl.Value("hooks")
	if hooks == nil || hooks.Kind != toml.Table {
		return
	}
	known := append([]string{"managed_dir", "windows_managed_dir"}, hookEvents...)
	for _, e := range hooks.Tbl.Entries() {
		if slices.Contains(known, e.Key) {
			continue
		}
		msg := "hook event `" + e.Key + "` is not one Codex knows, so its hooks never run"
		if s := didyoumean.Closest(e.Key, hookEvents); s != "" {
			msg += "; did you mean `" + s + "`?"
		}
		line, col := l.at(e.KeySpan)
		l.add(Diagnostic{Line: line, Column: col, Severity: SeverityWarning, Code: CodeUnknownHookEvent, Key: "hooks." + e.Key, Message: msg})
	}
}
