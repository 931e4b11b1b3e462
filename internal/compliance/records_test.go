package compliance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// Telemetry events map to records of the right types, with stable IDs,
// the envelope filled from the credential, and the security records
// beside the Codex ones.
func TestFromTelemetry(t *testing.T) {
	at := time.Date(2026, 12, 3, 13, 22, 33, 429000000, time.UTC)
	ev := func(typ string, data map[string]any) *codexgov.TelemetryEvent {
		return &codexgov.TelemetryEvent{ID: "tev_1", Workspace: "acme", Identity: "user:ann@acme.test", Credential: "enr_1", Device: "laptop",
			Time: at, Type: typ, Session: "s1", Surface: "codex_exec", Model: "gpt-x", Data: data, Attributes: map[string]any{"arguments": `{"cmd":"ls"}`, "output": "ok"}}
	}
	cases := []struct {
		ev    *codexgov.TelemetryEvent
		types []string
	}{
		{ev(codexgov.TelemetryTokenUsage, map[string]any{"input_tokens": 10, "output_tokens": 5}), []string{"CODEX_LOG/PROMPT_RESPONSE_RECEIVED"}},
		{ev(codexgov.TelemetryToolResult, map[string]any{"tool_name": "exec_command", "success": true}), []string{"CODEX_LOG/TOOL_CALL_COMPLETED"}},
		{ev(codexgov.TelemetryToolDecision, map[string]any{"decision": "approved"}), []string{"CODEX_LOG/TOOL_APPROVAL_DECISION"}},
		{ev(codexgov.TelemetryToolDecision, map[string]any{"decision": "denied"}), []string{"CODEX_LOG/TOOL_APPROVAL_DECISION", "CODEX_SECURITY_LOG/APPROVAL_DENIED"}},
		{ev(codexgov.TelemetryBypass, map[string]any{"rule": "rm -rf"}), []string{"CODEX_SECURITY_LOG/COMMAND_BYPASSED_POLICY"}},
		{ev(codexgov.TelemetryOther, map[string]any{}), nil},
	}
	for _, c := range cases {
		rs := FromTelemetry(c.ev, "9cbebc2e-b942-41b5-b285-8179fe3b4f64")
		var got []string
		ids := map[string]bool{}
		for _, r := range rs {
			got = append(got, r.EventType+"/"+r.EventDetails["detail_type"].(string))
			ids[r.EventID] = true
			if r.Timestamp != "2026-12-03T13:22:33.429000Z" || r.ClientID != "CODEX_SERVICE_EXEC" || r.Actor.UserEmail != "ann@acme.test" ||
				r.Principal != (codexgov.ComplianceID{ID: "enr_1", Type: "enrollment_token"}) || r.WorkspaceID != "9cbebc2e-b942-41b5-b285-8179fe3b4f64" {
				t.Errorf("%s: envelope %+v", c.ev.Type, r)
			}
		}
		if len(got) != len(c.types) || len(ids) != len(rs) {
			t.Errorf("%s %v: records %v, want %v (distinct ids %d)", c.ev.Type, c.ev.Data, got, c.types, len(ids))
			continue
		}
		for i := range got {
			if got[i] != c.types[i] {
				t.Errorf("%s: records %v, want %v", c.ev.Type, got, c.types)
			}
		}
		// The same source gives the same event IDs (a re-seal keeps them).
		for i, r := range FromTelemetry(c.ev, "9cbebc2e-b942-41b5-b285-8179fe3b4f64") {
			if r.EventID != rs[i].EventID {
				t.Errorf("%s: event_id not stable", c.ev.Type)
			}
		}
	}
	tr := FromTelemetry(ev(codexgov.TelemetryToolResult, map[string]any{"tool_name": "exec_command", "success": false}), "w")[0]
	if tr.EventDetails["status"] != "failed" || tr.EventDetails["tool_input"] != `{"cmd":"ls"}` || tr.EventDetails["result_preview"] != "ok" {
		t.Errorf("tool result details: %v", tr.EventDetails)
	}
}

// Audit events become AUDIT_LOG records, sign-ins and credentials
// AUTH_LOG, with the actor read from the audit's actor.
func TestFromAudit(t *testing.T) {
	a := &codexgov.AuditEvent{ID: 7, Workspace: "acme", Actor: "user:ann@acme.test (grant_1)", Action: "policy.put", Target: "policy:eng",
		After: json.RawMessage(`{"name":"eng"}`), Time: time.Unix(0, 0)}
	r := FromAudit(a, "w")
	if r.EventType != codexgov.ComplianceAuditLog || r.EventDetails["detail_type"] != "POLICY_PUT" || r.Actor.UserEmail != "ann@acme.test" || r.Principal.ID != "grant_1" {
		t.Errorf("policy.put: %+v", r)
	}
	a.Action, a.Actor = "enrollment_token.create", "api_key:key_9"
	r = FromAudit(a, "w")
	if r.EventType != codexgov.ComplianceAuthLog || r.Principal != (codexgov.ComplianceID{ID: "key_9", Type: "api_key"}) {
		t.Errorf("enrollment_token.create: %+v", r)
	}
}
