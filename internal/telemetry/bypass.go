package telemetry

import (
	"encoding/json"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/codex/execpolicy"
	"github.com/codexgov/codexgov/codex/requirements"
)

// PolicyOf builds the exec policy of a requirements document, as Codex
// composes its [rules] prefix rules; nil when it has none or does not
// compose.
func PolicyOf(requirementsTOML string) *execpolicy.Policy {
	if strings.TrimSpace(requirementsTOML) == "" {
		return nil
	}
	res, err := requirements.Effective(requirements.Inputs{
		System:   &requirements.Layer{Source: requirements.Source{Kind: requirements.SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: requirementsTOML},
		Hostname: func() string { return "" },
		ReadFile: func(string) ([]byte, error) { return nil, errNoFiles },
	})
	if err != nil || res.Requirements == nil {
		return nil
	}
	rules := res.Requirements.PrefixRules()
	if len(rules) == 0 {
		return nil
	}
	return execpolicy.FromRequirements(rules)
}

type noFiles struct{}

func (noFiles) Error() string { return "no files are read on the server" }

var errNoFiles error = noFiles{}

// toolArgv is the command a tool call ran: exec_command's cmd runs in a
// login shell; shell's command is an argv.
func toolArgv(arguments string) []string {
	var a struct {
		Cmd     json.RawMessage `json:"cmd"`
		Command json.RawMessage `json:"command"`
	}
	if json.Unmarshal([]byte(arguments), &a) != nil {
		return nil
	}
	for _, raw := range []json.RawMessage{a.Cmd, a.Command} {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return []string{"bash", "-lc", s}
		}
		var argv []string
		if json.Unmarshal(raw, &argv) == nil && len(argv) > 0 {
			return argv
		}
	}
	return nil
}

// Bypasses runs the commands of tool results through the rules in force
// (p) and Codex's strict analysis: a command a prompt or forbidden rule
// would have caught, had Codex split it, becomes a bypass event naming
// the rule and the form. The events come back to be stored with the
// others; their IDs derive from the tool result's.
func Bypasses(evs []codexgov.TelemetryEvent, p *execpolicy.Policy) []codexgov.TelemetryEvent {
	if p == nil {
		return nil
	}
	var out []codexgov.TelemetryEvent
	for _, e := range evs {
		if e.Type != codexgov.TelemetryToolResult {
			continue
		}
		args, _ := e.Attributes["arguments"].(string)
		argv := toolArgv(args)
		if argv == nil {
			continue
		}
		ex := execpolicy.Explain(p, argv, true)
		for i, f := range ex.Findings {
			if !f.Bypass {
				continue
			}
			rule, decision := "", f.Evaluation.Decision.String()
			if len(f.Evaluation.Matches) > 0 {
				m := f.Evaluation.Matches[0]
				rule = execpolicy.QuoteCommand(append([]string{m.Program}, m.Args...))
				if m.Rule != nil && m.Rule.Justification != "" {
					rule += " (" + m.Rule.Justification + ")"
				}
			}
			b := e
			b.ID = e.ID + "_bypass" + string(rune('a'+i%26))
			b.Type, b.Name = codexgov.TelemetryBypass, "codexgov.bypass"
			b.Data = map[string]any{
				"tool_call_id":   e.Data["call_id"],
				"command":        execpolicy.QuoteCommand(argv),
				"hidden_command": execpolicy.QuoteCommand(f.Argv),
				"form":           f.Reason,
				"rule":           rule,
				"rule_decision":  decision,
				"codex_decision": ex.Decision.String(),
			}
			b.Attributes = map[string]any{}
			out = append(out, b)
		}
	}
	return out
}
