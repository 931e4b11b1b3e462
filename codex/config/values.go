package config

import (
	"slices"

	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/toml"
)

// Problem is a config value Codex refuses to load.
type Problem struct {
	// Key is the dotted key path.
	Key string
	// Span locates the value (for an MCP server, its name).
	Span    toml.Span
	Message string
}

// enumKeys are the string settings Codex checks on load, in its order.
var enumKeys = []struct {
	key     string
	allowed []string
}{
	{"approval_policy", []string{"on-request", "on-failure", "never"}},
	{"approvals_reviewer", []string{"user", "auto_review", "guardian_subagent"}},
	{"sandbox_mode", []string{"read-only", "workspace-write", "danger-full-access"}},
	{"web_search", []string{"disabled", "cached", "indexed", "live"}},
}

// Problems lists the values of a config document that make Codex refuse to
// load, in the order Codex checks them: an MCP server with both a command
// and a URL, approval_policy = "untrusted", then unknown values of the
// string settings.
func Problems(doc *toml.Value) []Problem {
	var out []Problem
	for _, e := range sortedServers(doc) {
		if e.Value.Kind == toml.Table && e.Value.Tbl.Value("command") != nil && e.Value.Tbl.Value("url") != nil {
			out = append(out, Problem{Key: "mcp_servers." + e.Key, Span: e.KeySpan, Message: "url is not supported for stdio\nin `mcp_servers." + e.Key + "`"})
		}
	}
	for _, k := range enumKeys {
		v := doc.Tbl.Value(k.key)
		switch {
		case v == nil:
		case k.key == "approval_policy" && v.Kind == toml.String && v.Str == "untrusted":
			out = append(out, Problem{Key: k.key, Span: v.Span, Message: "approval_policy = \"untrusted\" is no longer supported; remove this setting"})
		case k.key == "approval_policy" && v.Kind == toml.Table:
			// granular
		case v.Kind != toml.String:
			out = append(out, Problem{Key: k.key, Span: v.Span, Message: "invalid type for `" + k.key + "`: expected a string"})
		case !slices.Contains(k.allowed, v.Str):
			out = append(out, Problem{Key: k.key, Span: v.Span, Message: "unknown variant `" + v.Str + "` for `" + k.key + "`, expected one of " + quoteList(k.allowed)})
		}
	}
	return out
}

// Canonical is the value Codex uses for a setting's legacy spelling:
// approval_policy "on-failure" is "on-request", approvals_reviewer
// "guardian_subagent" is "auto_review".
func Canonical(key, v string) string {
	switch {
	case key == "approval_policy" && v == "on-failure":
		return "on-request"
	case key == "approvals_reviewer" && v == "guardian_subagent":
		return "auto_review"
	}
	return v
}

// MCPTransport is what an MCP allowlist compares a configured server's
// table with: its command and args, or its URL.
func MCPTransport(server *toml.Value) requirements.MCPServer {
	var s requirements.MCPServer
	if server == nil || server.Kind != toml.Table {
		return s
	}
	t := server.Tbl
	if v := t.Value("url"); v != nil && v.Kind == toml.String {
		s.URL = v.Str
	}
	if v := t.Value("command"); v != nil && v.Kind == toml.String {
		s.Command = v.Str
	}
	if v := t.Value("args"); v != nil && v.Kind == toml.Array {
		for _, a := range v.Arr {
			s.Args = append(s.Args, a.Str)
		}
	}
	return s
}
