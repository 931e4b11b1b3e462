package requirements

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// This file is the view of composed requirements that the config engine
// (codex/config) applies to a resolved config.toml, as Codex does at startup.

// Allowed is an allow-list requirement in the requirement's own order, with
// the layer that set it.
type Allowed struct {
	// Values are Codex config spellings ("on-request", "workspace-write",
	// "cached", "auto_review"…). A granular approval policy is "granular".
	Values []string
	// Debug are the Rust debug names Codex prints in its warnings, one per
	// value ("OnRequest", "Granular(GranularApprovalConfig { … })").
	Debug  []string
	Source Source
}

// Has reports whether v (a config spelling) is allowed.
func (a *Allowed) Has(v string) bool { return contains(a.Values, v) }

// AllowedApprovalPolicies is allowed_approval_policies, nil when unset.
func (r *Requirements) AllowedApprovalPolicies() *Allowed {
	return r.allowed("allowed_approval_policies", func(x any) (string, string) {
		if vv, ok := x.(toml.VariantValue); ok {
			return "granular", GranularDebug(vv.Value.(*toml.Object))
		}
		return x.(string), ApprovalDebug(x.(string))
	})
}

// AllowedApprovalsReviewers is allowed_approvals_reviewers, nil when unset.
func (r *Requirements) AllowedApprovalsReviewers() *Allowed {
	return r.allowed("allowed_approvals_reviewers", func(x any) (string, string) {
		return x.(string), ReviewerDebug(x.(string))
	})
}

// AllowedSandboxModes is allowed_sandbox_modes (after any
// remote_sandbox_config match), nil when unset.
func (r *Requirements) AllowedSandboxModes() *Allowed {
	return r.allowed("allowed_sandbox_modes", func(x any) (string, string) {
		return x.(string), rustSandboxName(x.(string))
	})
}

// AllowedWebSearchModes is allowed_web_search_modes with "disabled" added
// (Codex always allows it), nil when unset.
func (r *Requirements) AllowedWebSearchModes() *Allowed {
	a := r.allowed("allowed_web_search_modes", func(x any) (string, string) {
		return x.(string), WebSearchDebug(x.(string))
	})
	if a != nil && !a.Has("disabled") {
		a.Values = append(a.Values, "disabled")
		a.Debug = append(a.Debug, "Disabled")
	}
	return a
}

func (r *Requirements) allowed(field string, name func(any) (string, string)) *Allowed {
	if r == nil {
		return nil
	}
	list, ok := r.typed.Get(field).([]any)
	if !ok {
		return nil
	}
	a := &Allowed{Source: r.sources[field]}
	for _, x := range list {
		v, d := name(x)
		a.Values = append(a.Values, v)
		a.Debug = append(a.Debug, d)
	}
	return a
}

// ApprovalDebug is the Rust debug name of an approval policy spelling.
func ApprovalDebug(v string) string {
	switch v {
	case "untrusted":
		return "UnlessTrusted"
	case "on-request", "on-failure":
		return "OnRequest"
	case "never":
		return "Never"
	}
	return v
}

// GranularDebug is the Rust debug form of a granular approval policy.
func GranularDebug(g *toml.Object) string {
	var b strings.Builder
	b.WriteString("Granular(GranularApprovalConfig { ")
	for i, f := range []string{"sandbox_approval", "rules", "skill_approval", "request_permissions", "mcp_elicitations"} {
		if i > 0 {
			b.WriteString(", ")
		}
		v, _ := g.Get(f).(bool)
		b.WriteString(f)
		if v {
			b.WriteString(": true")
		} else {
			b.WriteString(": false")
		}
	}
	b.WriteString(" })")
	return b.String()
}

// ReviewerDebug is the Rust debug name of an approvals reviewer spelling.
func ReviewerDebug(v string) string {
	switch v {
	case "user":
		return "User"
	case "auto_review", "guardian_subagent":
		return "AutoReview"
	}
	return v
}

// SandboxDebug is the Rust debug name of a sandbox mode spelling.
func SandboxDebug(v string) string { return rustSandboxName(v) }

// WebSearchDebug is the Rust debug name of a web search mode spelling.
func WebSearchDebug(v string) string {
	if v == "" {
		return v
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

// FeaturePin is one [features] requirement.
type FeaturePin struct {
	Name  string
	Value bool
}

// FeaturePins are the [features] requirements in document order, with the
// layer that set them.
func (r *Requirements) FeaturePins() ([]FeaturePin, Source) {
	if r == nil {
		return nil, Source{}
	}
	o, ok := r.typed.Get("features").(*toml.Object)
	if !ok {
		return nil, Source{}
	}
	entries, _ := o.Get("entries").(*toml.Object)
	if entries == nil {
		return nil, Source{}
	}
	var pins []FeaturePin
	for _, k := range entries.Keys {
		b, _ := entries.Vals[k].(bool)
		pins = append(pins, FeaturePin{Name: k, Value: b})
	}
	return pins, r.sources["features"]
}

// MCPServer is what an allowlist identity is compared with: a configured
// server's transport.
type MCPServer struct {
	// Command and Args for a stdio server; URL for a streamable HTTP one.
	Command string
	Args    []string
	URL     string
}

// MCPAllowlist reports whether [mcp_servers] requirements are set (an empty
// table is an allowlist of nothing) and the layer that set them.
func (r *Requirements) MCPAllowlist() (Source, bool) {
	if r == nil {
		return Source{}, false
	}
	if _, ok := r.typed.Get("mcp_servers").(*toml.Object); !ok {
		return Source{}, false
	}
	return r.sources["mcp_servers"], true
}

// MCPAllows reports whether the allowlist admits the configured server
// name with transport s. It is true when no allowlist is set.
func (r *Requirements) MCPAllows(name string, s MCPServer) bool {
	if r == nil {
		return true
	}
	servers, ok := r.typed.Get("mcp_servers").(*toml.Object)
	if !ok {
		return true
	}
	req, ok := servers.Get(name).(*toml.Object)
	if !ok {
		return false
	}
	vv := req.Get("identity").(toml.VariantValue)
	o := vv.Value.(*toml.Object)
	stdio := s.URL == ""
	switch vv.Name {
	case "legacy-command":
		return stdio && o.Get("command") == s.Command
	case "legacy-url":
		return !stdio && o.Get("url") == s.URL
	case "command":
		cmd := o.Get("command").(*toml.Object)
		matchers := cmd.Get("args").([]any)
		if !stdio || cmd.Get("executable") != s.Command || len(matchers) != len(s.Args) {
			return false
		}
		for i, m := range matchers {
			if !mcpMatch(m, s.Args[i]) {
				return false
			}
		}
		return true
	case "url":
		return !stdio && mcpMatch(o.Get("url"), s.URL)
	}
	return false
}

func mcpMatch(m any, s string) bool {
	vv := m.(toml.VariantValue)
	o := vv.Value.(*toml.Object)
	switch vv.Name {
	case "exact":
		return o.Get("value") == s
	case "prefix":
		return strings.HasPrefix(s, o.Get("value").(string))
	case "regex":
		re, err := regexp.Compile(`^(?:` + o.Get("expression").(string) + `)$`)
		return err == nil && re.MatchString(s)
	}
	return false
}

// Otel reports whether [otel] requirements are set, and by which layer.
func (r *Requirements) Otel() (Source, bool) {
	if r == nil {
		return Source{}, false
	}
	if _, ok := r.typed.Get("otel").(*toml.Object); !ok {
		return Source{}, false
	}
	return r.sources["otel"], true
}

// Exact returns a requirement that replaces the same-named config value
// (cli_auth_credentials_store, chatgpt_base_url, sqlite_home, log_dir,
// model_catalog_json, check_for_update_on_startup, allow_login_shell), with
// its layer.
func (r *Requirements) Exact(key string) (any, Source, bool) {
	if r == nil {
		return nil, Source{}, false
	}
	v := r.typed.Get(key)
	if v == nil {
		return nil, Source{}, false
	}
	return v, r.sources[key], true
}

// AllowedWindowsSandboxImplementations is
// windows.allowed_sandbox_implementations ("elevated", "unelevated"), nil
// when unset.
func (r *Requirements) AllowedWindowsSandboxImplementations() *Allowed {
	if r == nil {
		return nil
	}
	w, ok := r.typed.Get("windows").(*toml.Object)
	if !ok {
		return nil
	}
	list, ok := w.Get("allowed_sandbox_implementations").([]any)
	if !ok {
		return nil
	}
	a := &Allowed{Source: r.sources["windows"]}
	for _, x := range list {
		a.Values = append(a.Values, x.(string))
		a.Debug = append(a.Debug, WebSearchDebug(x.(string)))
	}
	return a
}

// OtelLeaf describes one [otel] requirement leaf for people: an
// exporter as "otlp-http ENDPOINT (PROTOCOL)" (header values are never
// shown, as Codex prints them "[redacted]"), a bool or a string as is.
// ok is false when requirements do not set the leaf.
func (r *Requirements) OtelLeaf(key string) (desc string, src Source, ok bool) {
	if r == nil {
		return "", Source{}, false
	}
	o, isObj := r.typed.Get("otel").(*toml.Object)
	if !isObj || o.Get(key) == nil {
		return "", Source{}, false
	}
	return DescribeExporter(o.Get(key)), r.sources["otel"], true
}

// DescribeExporter describes an [otel] value as OtelLeaf does.
func DescribeExporter(v any) string {
	switch x := v.(type) {
	case toml.VariantValue:
		o, _ := x.Value.(*toml.Object)
		if o == nil {
			return x.Name
		}
		s := x.Name + " " + fmt.Sprint(o.Get("endpoint"))
		if p := o.Get("protocol"); p != nil {
			s += " (" + fmt.Sprint(p) + ")"
		}
		if h, ok := o.Get("headers").(*toml.Object); ok && len(h.Keys) > 0 {
			s += ", headers " + strings.Join(h.Keys, ", ")
		}
		return s
	case *toml.Value:
		return describeValue(x)
	}
	return fmt.Sprint(v)
}

func describeValue(v *toml.Value) string {
	switch v.Kind {
	case toml.String:
		return v.Str
	case toml.Boolean:
		return fmt.Sprint(v.Bool)
	case toml.Table:
		for _, variant := range []string{"otlp-http", "otlp-grpc"} {
			if in := v.Tbl.Value(variant); in != nil && in.Kind == toml.Table {
				s := variant
				if ep := in.Tbl.Value("endpoint"); ep != nil {
					s += " " + ep.Str
				}
				if p := in.Tbl.Value("protocol"); p != nil {
					s += " (" + p.Str + ")"
				}
				if h := in.Tbl.Value("headers"); h != nil && h.Kind == toml.Table && h.Tbl.Len() > 0 {
					var ks []string
					for _, e := range h.Tbl.Entries() {
						ks = append(ks, e.Key)
					}
					s += ", headers " + strings.Join(ks, ", ")
				}
				return s
			}
		}
	}
	return "set"
}
