// Package teamconfig checks a repository's Team Config: the files Codex
// reads from a project's .codex folder (config.toml, rules/*.rules and
// skills/*/SKILL.md), as Codex 0.169.0 would read them, and optionally what
// an organisation's requirements would override.
package teamconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov/codex/config"
	"github.com/codexgov/codexgov/codex/execpolicy"
	"github.com/codexgov/codexgov/codex/internal/didyoumean"
	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/toml"
)

// Diagnostic is one finding, located in its file: the same type (and JSON)
// as requirements lint's.
type Diagnostic = requirements.Diagnostic

// The severities: errors make Codex refuse the file or the session;
// warnings are settings Codex ignores or replaces.
const (
	Error   = requirements.SeverityError
	Warning = requirements.SeverityWarning
)

// Options tune Lint.
type Options struct {
	// Requirements, when set, are the composed requirements the project
	// will run under: every project value they would override is flagged.
	Requirements *requirements.Requirements
}

// Lint checks the Team Config under repo. Diagnostics are sorted by file
// and position. A missing .codex folder is itself reported.
func Lint(repo string, opts Options) ([]Diagnostic, error) {
	dot := filepath.Join(repo, ".codex")
	if fi, err := os.Stat(dot); err != nil || !fi.IsDir() {
		return []Diagnostic{{File: dot, Line: 1, Column: 1, Severity: Error, Code: "no-team-config", Message: "no .codex folder: a repository's Team Config lives in .codex/ (config.toml, rules/*.rules, skills/*/SKILL.md)"}}, nil
	}
	var out []Diagnostic
	cfg := filepath.Join(dot, "config.toml")
	if b, err := os.ReadFile(cfg); err == nil {
		out = append(out, lintConfig(cfg, string(b), opts, false)...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rules, _ := filepath.Glob(filepath.Join(dot, "rules", "*.rules"))
	for _, r := range rules {
		out = append(out, lintRules(r)...)
	}
	skills, _ := filepath.Glob(filepath.Join(dot, "skills", "*"))
	for _, s := range skills {
		if fi, err := os.Stat(s); err == nil && fi.IsDir() {
			out = append(out, lintSkill(filepath.Join(s, "SKILL.md"))...)
		}
	}
	byPosition(out)
	return out, nil
}

// byPosition sorts diagnostics by file, line and column.
func byPosition(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

func at(file, src string, offset int, sev requirements.Severity, code, key, msg string) Diagnostic {
	line, col := toml.LineCol(src, offset)
	return Diagnostic{File: file, Line: line, Column: col, Severity: sev, Code: code, Key: key, Message: msg}
}

// LintManagedConfig checks a managed configuration (managed_config.toml,
// an admin's managed defaults) as lint checks a project's config.toml,
// except that every key may be set there.
func LintManagedConfig(file, src string) []Diagnostic {
	return lintConfig(file, src, Options{}, true)
}

func lintConfig(file, src string, opts Options, managed bool) []Diagnostic {
	doc, err := toml.Parse(src)
	if err != nil {
		se := err.(*toml.SyntaxError)
		return []Diagnostic{at(file, src, se.Span.Start, Error, "toml", "", se.Msg)}
	}
	var out []Diagnostic
	for _, e := range doc.Tbl.Entries() {
		k := e.Key
		switch {
		case !managed && config.ProjectDenied(k):
			out = append(out, at(file, src, e.KeySpan.Start, Warning, "project-denied", k,
				"`"+k+"` cannot be set by a project: Codex drops it with \"Ignored unsupported project-local config keys\"; set it in the user's config.toml or in managed configuration"))
		case !config.KnownKey(k):
			msg := "unknown key `" + k + "`: Codex ignores it"
			if s := didyoumean.Closest(k, config.KnownKeys()); s != "" {
				msg += "; did you mean `" + s + "`?"
			}
			out = append(out, at(file, src, e.KeySpan.Start, Warning, "unknown-key", k, msg))
		}
	}
	if f := doc.Tbl.Get("features"); f != nil && f.Value.Kind == toml.Table {
		known := map[string]config.Feature{}
		var names []string
		for _, c := range config.Catalog() {
			known[c.Name] = c
			names = append(names, c.Name)
		}
		for _, e := range f.Value.Tbl.Entries() {
			c, ok := known[e.Key]
			switch {
			case !ok:
				msg := "unknown feature `" + e.Key + "`"
				if s := didyoumean.Closest(e.Key, names); s != "" {
					msg += "; did you mean `" + s + "`?"
				}
				out = append(out, at(file, src, e.KeySpan.Start, Warning, "unknown-feature", "features."+e.Key, msg))
			case c.Stage == "removed":
				out = append(out, at(file, src, e.KeySpan.Start, Warning, "removed-feature", "features."+e.Key, "feature `"+e.Key+"` was removed from Codex: the setting has no effect"))
			}
			if e.Value.Kind != toml.Boolean {
				out = append(out, at(file, src, e.Value.Span.Start, Error, "codex-load", "features."+e.Key, "feature flags must be true or false"))
			}
		}
	}
	for _, p := range config.Problems(doc) {
		out = append(out, at(file, src, p.Span.Start, Error, "codex-load", p.Key, strings.ReplaceAll(p.Message, "\n", " ")+" (Codex refuses to start)"))
	}
	if opts.Requirements != nil {
		out = append(out, overridden(file, src, doc, opts.Requirements)...)
	}
	byPosition(out)
	return out
}

// overridden flags every project value the requirements would replace.
func overridden(file, src string, doc *toml.Value, reqs *requirements.Requirements) []Diagnostic {
	var out []Diagnostic
	check := func(key string, a *requirements.Allowed, what string) {
		e := doc.Tbl.Get(key)
		if a == nil || e == nil || e.Value.Kind != toml.String {
			return
		}
		if !a.Has(config.Canonical(key, e.Value.Str)) {
			out = append(out, at(file, src, e.Value.Span.Start, Warning, "overridden", key,
				what+" `"+e.Value.Str+"` is not allowed by "+a.Source.String()+" (allowed: "+strings.Join(a.Values, ", ")+"): Codex falls back with a warning"))
		}
	}
	check("approval_policy", reqs.AllowedApprovalPolicies(), "approval policy")
	check("approvals_reviewer", reqs.AllowedApprovalsReviewers(), "approvals reviewer")
	check("sandbox_mode", reqs.AllowedSandboxModes(), "sandbox mode")
	check("web_search", reqs.AllowedWebSearchModes(), "web search mode")
	if f := doc.Tbl.Get("features"); f != nil && f.Value.Kind == toml.Table {
		pins, src2 := reqs.FeaturePins()
		for _, p := range pins {
			if e := f.Value.Tbl.Get(p.Name); e != nil && e.Value.Kind == toml.Boolean && e.Value.Bool != p.Value {
				out = append(out, at(file, src, e.Value.Span.Start, Warning, "overridden", "features."+p.Name,
					"feature `"+p.Name+"` is pinned to "+strconv.FormatBool(p.Value)+" by "+src2.String()+": this setting has no effect"))
			}
		}
	}
	if s := doc.Tbl.Get("mcp_servers"); s != nil && s.Value.Kind == toml.Table {
		if src2, ok := reqs.MCPAllowlist(); ok {
			for _, e := range s.Value.Tbl.Entries() {
				if e.Value.Kind != toml.Table {
					continue
				}
				if !reqs.MCPAllows(e.Key, config.MCPTransport(e.Value)) {
					out = append(out, at(file, src, e.KeySpan.Start, Warning, "overridden", "mcp_servers."+e.Key,
						"MCP server `"+e.Key+"` is not in the allowlist of "+src2.String()+" (or its command or URL differs): Codex lists it as disabled"))
				}
			}
		}
	}
	return out
}

func lintRules(file string) []Diagnostic {
	_, err := execpolicy.LoadFile(file)
	if err == nil {
		return nil
	}
	var le *execpolicy.LoadError
	if errors.As(err, &le) {
		p := le.Position()
		code := "rules"
		if le.SelfTest {
			code = "rules-self-test"
		}
		return []Diagnostic{{File: file, Line: max(p.Line, 1), Column: max(p.Col, 1), Severity: Error, Code: code, Message: le.Message}}
	}
	return []Diagnostic{{File: file, Line: 1, Column: 1, Severity: Error, Code: "rules", Message: err.Error()}}
}

// lintSkill checks a SKILL.md's YAML front matter for a name and a
// description, which Codex needs to list the skill.
func lintSkill(file string) []Diagnostic {
	b, err := os.ReadFile(file)
	if err != nil {
		return []Diagnostic{{File: file, Line: 1, Column: 1, Severity: Error, Code: "skill", Message: "missing SKILL.md: each skill folder needs one, with name and description front matter"}}
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return []Diagnostic{{File: file, Line: 1, Column: 1, Severity: Error, Code: "skill", Message: "no front matter: SKILL.md must start with a --- block holding name: and description:"}}
	}
	fields := map[string]string{}
	end := -1
	for i := 1; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "---" {
			end = i
			break
		}
		if l == "" || l[0] == ' ' || l[0] == '\t' || l[0] == '#' {
			if k := lastKey(lines[1:i]); k != "" && strings.TrimSpace(l) != "" {
				fields[k] += " " + strings.TrimSpace(l) // continuation of a folded or block value
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return []Diagnostic{{File: file, Line: i + 1, Column: 1, Severity: Error, Code: "skill", Message: "front matter line is not `key: value`"}}
		}
		v = strings.TrimSpace(v)
		if v == "|" || v == ">" || v == "|-" || v == ">-" {
			v = ""
		}
		fields[strings.TrimSpace(k)] = strings.Trim(v, `"'`)
	}
	if end < 0 {
		return []Diagnostic{{File: file, Line: 1, Column: 1, Severity: Error, Code: "skill", Message: "front matter is not closed with ---"}}
	}
	var out []Diagnostic
	for _, k := range []string{"name", "description"} {
		if strings.TrimSpace(fields[k]) == "" {
			out = append(out, Diagnostic{File: file, Line: 1, Column: 1, Severity: Error, Code: "skill", Key: k, Message: "front matter has no " + k + ": Codex needs a name and a description to list the skill"})
		}
	}
	return out
}

func lastKey(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if l != "" && l[0] != ' ' && l[0] != '\t' && l[0] != '#' {
			k, _, _ := strings.Cut(l, ":")
			return strings.TrimSpace(k)
		}
	}
	return ""
}
