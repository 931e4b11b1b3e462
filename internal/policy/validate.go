// Package policy validates policy documents exactly as Codex 0.169.0
// would read them (the requirements as a system requirements.toml, the
// defaults as managed configuration), and diffs their versions.
package policy

import (
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/teamconfig"
	"github.com/codexgov/codexgov/codex/toml"
)

// MaxDocumentBytes bounds each policy document.
const MaxDocumentBytes = 256 << 10

// MaxDocumentValues bounds the keys, values and tables of one policy
// document (a real policy holds a few hundred): with it, validating a
// document of the largest size holds under 20 times its size in memory.
const MaxDocumentValues = 2500

// validating bounds the validations that run at once, so that concurrent
// writes take bounded memory; the others wait their turn.
var validating = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// Validate checks a policy as Codex 0.169.0 would read it: the
// requirements as /etc/codex/requirements.toml and the defaults as managed
// configuration. A document Codex would reject gives an EINVALID error
// with every finding positioned; otherwise the warnings (what Codex
// accepts but silently ignores) are returned.
func Validate(p codexgov.PolicyInput) ([]codexgov.Detail, error) {
	if err := codexgov.CheckName("/name", p.Name); err != nil {
		return nil, err
	}
	var errs, warns []codexgov.Detail
	for _, d := range []struct{ field, text string }{{"/requirements", p.Requirements}, {"/defaults", p.Defaults}} {
		if len(d.text) > MaxDocumentBytes {
			errs = append(errs, codexgov.Detail{Field: d.field, Message: fmt.Sprintf("document is %d bytes; the limit is %d", len(d.text), MaxDocumentBytes)})
		}
	}
	if len(errs) > 0 {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "policy document too large", Details: errs}
	}
	// Bounded before anything reads them in full: how many keys and
	// values a document may hold, and how many validations run at once.
	for _, d := range []struct{ field, text string }{{"/requirements", p.Requirements}, {"/defaults", p.Defaults}} {
		if _, err := toml.ParseLimited(d.text, MaxDocumentValues); err != nil {
			if se, ok := err.(*toml.SyntaxError); ok && strings.HasPrefix(se.Msg, toml.TooManyValues) {
				line, col := se.Position()
				errs = append(errs, codexgov.Detail{Field: d.field, Line: line, Column: col, Severity: "error", Code: "too_many_values",
					Message: fmt.Sprintf("the document holds more than %d keys and values (this one is past the limit); split the policy or shorten its lists", MaxDocumentValues)})
			}
		}
	}
	if len(errs) > 0 {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "policy document too large", Details: errs}
	}
	validating <- struct{}{}
	defer func() { <-validating }()
	diags := requirements.Lint("requirements.toml", p.Requirements, requirements.LintOptions{
		// The server has no machine: files a policy names are read on
		// the developer's machine, never here.
		ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist },
	})
	for _, d := range diags {
		detail := toDetail("/requirements", d)
		if d.Severity == requirements.SeverityError {
			errs = append(errs, detail)
		} else {
			warns = append(warns, detail)
		}
	}
	errs, warns = fragmentRules(p.Requirements, errs, warns)
	if p.Defaults != "" {
		for _, d := range teamconfig.LintManagedConfig("managed_config.toml", p.Defaults) {
			detail := toDetail("/defaults", d)
			if d.Severity == teamconfig.Error {
				errs = append(errs, detail)
			} else {
				warns = append(warns, detail)
			}
		}
	}
	if len(errs) > 0 {
		return warns, &codexgov.Error{Code: codexgov.EINVALID,
			Message: fmt.Sprintf("Codex 0.169.0 would reject policy %q: nothing was stored", p.Name), Details: errs}
	}
	return warns, nil
}

func toDetail(field string, d requirements.Diagnostic) codexgov.Detail {
	return codexgov.Detail{Field: field, Key: d.Key, Line: d.Line, Column: d.Column,
		Severity: string(d.Severity), Code: d.Code, Message: d.Message}
}

// fragmentDropped lists the requirements keys Codex 0.169.0 drops silently
// from a configuration-server fragment (CONFIG_SERVER.md §4.2).
var fragmentDropped = []string{"allowed_login_methods", "chatgpt_base_url", "cli_auth_credentials_store"}

// fragmentRules applies what holds for a policy served as a
// configuration-server fragment: config_server makes Codex reject the
// whole bundle, and some keys are dropped. A document that does not parse
// has its errors from the lint already.
func fragmentRules(src string, errs, warns []codexgov.Detail) ([]codexgov.Detail, []codexgov.Detail) {
	doc, err := toml.Parse(src)
	if err != nil {
		return errs, warns
	}
	for _, e := range doc.Tbl.Entries() {
		line, col := toml.LineCol(src, e.KeySpan.Start)
		switch {
		case e.Key == "config_server":
			errs = append(errs, codexgov.Detail{Field: "/requirements", Key: e.Key, Line: line, Column: col, Severity: "error", Code: "config-server-in-policy",
				Message: "config_server makes Codex reject the whole served bundle; it belongs only in the bootstrap /etc/codex/requirements.toml that codexgov install writes"})
		case slices.Contains(fragmentDropped, e.Key):
			warns = append(warns, codexgov.Detail{Field: "/requirements", Key: e.Key, Line: line, Column: col, Severity: "warning", Code: "dropped-in-fragment",
				Message: e.Key + " is dropped silently when this policy is served by the native configuration server; set it in the bootstrap file's baseline instead"})
		}
	}
	return errs, warns
}

// SetsOtel reports where a policy's requirements set `[otel]` (1-based
// line and column of its key), or ok false. codexgov delivers `[otel]`
// itself while a workspace's telemetry is on, and refuses a policy's own.
func SetsOtel(requirementsTOML string) (d codexgov.Detail, ok bool) {
	doc, err := toml.ParseLimited(requirementsTOML, MaxDocumentValues)
	if err != nil || doc.Tbl == nil {
		return codexgov.Detail{}, false
	}
	e := doc.Tbl.Get("otel")
	if e == nil {
		return codexgov.Detail{}, false
	}
	line, col := 1, 1
	for _, r := range requirementsTOML[:min(e.KeySpan.Start, len(requirementsTOML))] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return codexgov.Detail{Field: "/requirements", Line: line, Column: col, Severity: "error", Code: "otel_enforced",
		Message: "[otel] is set by codexgov while the workspace's telemetry setting is on: remove this table from the policy, or turn telemetry off (codexgov admin settings set --telemetry off)"}, true
}
