package telemetry

import (
	"strings"
	"testing"

	"github.com/codexgov/codexgov"
)

const forbidRm = `[rules]
prefix_rules = [
  { pattern = [{ token = "rm" }, { token = "-rf" }], decision = "forbidden", justification = "no recursive deletes" },
  { pattern = [{ token = "git" }, { token = "push" }], decision = "prompt" },
]
`

func toolResult(id, args string) codexgov.TelemetryEvent {
	return codexgov.TelemetryEvent{ID: id, Workspace: "acme", Identity: "user:ann@acme.test", Session: "s1", Type: codexgov.TelemetryToolResult,
		Data: map[string]any{"call_id": "c-" + id}, Attributes: map[string]any{"arguments": args}}
}

// A forbidden or prompted command Codex ran because it did not split the
// script (behind a redirect, inside sh -c, a subshell) is a bypass naming
// the rule and the form; plain forms Codex evaluates itself are not.
func TestBypasses(t *testing.T) {
	p := PolicyOf(forbidRm)
	if p == nil {
		t.Fatal("no policy from the requirements' [rules]")
	}
	evs := []codexgov.TelemetryEvent{
		toolResult("plain", `{"cmd":"ls -la"}`),
		toolResult("direct", `{"cmd":"rm -rf build"}`),               // Codex evaluates this itself: rejected, not a bypass
		toolResult("redirect", `{"cmd":"rm -rf build > /dev/null"}`), // not split: a bypass
		toolResult("shc", `{"cmd":"sh -c 'rm -rf build'"}`),
		toolResult("subshell", `{"cmd":"(git push origin main)"}`),
		toolResult("argv", `{"command":["bash","-c","echo ok; rm -rf /tmp/x"]}`),
	}
	got := Bypasses(evs, p)
	by := map[string]codexgov.TelemetryEvent{}
	for _, b := range got {
		if b.Type != codexgov.TelemetryBypass || b.Identity != "user:ann@acme.test" || b.Session != "s1" {
			t.Errorf("bypass not stamped like its tool result: %+v", b)
		}
		by[strings.TrimSuffix(strings.Split(b.ID, "_bypass")[0], "")] = b
	}
	for _, id := range []string{"redirect", "shc", "subshell"} {
		b, ok := by[id]
		if !ok {
			t.Errorf("%s: no bypass found (got %v)", id, got)
			continue
		}
		if b.Data["rule"] == "" || b.Data["form"] == "" || b.Data["hidden_command"] == "" || b.Data["command"] == "" {
			t.Errorf("%s: bypass %+v does not name the command, rule and form", id, b.Data)
		}
	}
	if b, ok := by["redirect"]; ok && !strings.Contains(b.Data["rule"].(string), "no recursive deletes") {
		t.Errorf("redirect bypass rule %q, want the justification", b.Data["rule"])
	}
	for _, id := range []string{"plain", "direct"} {
		if _, ok := by[id]; ok {
			t.Errorf("%s flagged as a bypass", id)
		}
	}
	if PolicyOf("") != nil || PolicyOf("allowed_sandbox_modes = [\"read-only\"]\n") != nil {
		t.Error("a policy without [rules] gives an exec policy")
	}
}
