// Package compliance turns what codexgov records (Codex telemetry, the
// admin audit, sign-ins) into Compliance API records in OpenAI's
// envelope, seals them into files whose manifests form a signed chain,
// and verifies such files offline (docs/compliance.md).
package compliance

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/codexgov/codexgov"
)

// namespace makes event IDs: a UUID (version 5) of the workspace and the
// source record, so that a record sealed again (a re-seal after deletion,
// another replica) keeps its event_id.
var namespace = uuid.MustParse("0f5e2d0c-7a4e-4c55-9d57-9f6c1d8b6a11")

// EventID is the stable UUID of a source record.
func EventID(workspace, source string) string {
	return uuid.NewSHA1(namespace, []byte(workspace+"\x00"+source)).String()
}

// Timestamp is the envelope's time format: ISO 8601, microseconds, UTC.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// ClientID maps Codex's originator (the event's surface) to the Compliance
// API's client_id.
func ClientID(surface string) string {
	if surface == "" {
		return "CODEXGOV"
	}
	if c, ok := codexgov.KnownClientID(surface); ok {
		return c
	}
	s := strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, surface))
	if !strings.HasPrefix(s, "CODEX_") {
		s = "CODEX_" + s
	}
	return s
}

// credentialType names a credential by its ID's prefix.
func credentialType(id string) string {
	switch {
	case strings.HasPrefix(id, "enr_"):
		return "enrollment_token"
	case strings.HasPrefix(id, "tok_"):
		return "access_token"
	case strings.HasPrefix(id, "grant_"):
		return "oauth_grant"
	case strings.HasPrefix(id, "key_"):
		return "api_key"
	case id == "telemetry_token":
		return "telemetry_token"
	}
	return "credential"
}

func actorOf(identity string) codexgov.ComplianceActor {
	if email, ok := strings.CutPrefix(identity, "user:"); ok {
		return codexgov.ComplianceActor{Type: "user", UserEmail: email}
	}
	if svc, ok := strings.CutPrefix(identity, "service:"); ok {
		return codexgov.ComplianceActor{Type: "service", UserID: svc}
	}
	return codexgov.ComplianceActor{Type: "system"}
}

// FromTelemetry is the records a Codex telemetry event gives, each with
// its event type: CODEX_LOG for turns, tool calls and approval decisions,
// CODEX_SECURITY_LOG for denials, bypasses and payloads naming someone
// else. Events that say nothing a compliance reader needs give none.
func FromTelemetry(e *codexgov.TelemetryEvent, workspaceID string) []codexgov.ComplianceRecord {
	base := func(eventType, detail, suffix string, details map[string]any) codexgov.ComplianceRecord {
		details["detail_type"] = detail
		if e.Session != "" {
			details["session_id"] = e.Session
		}
		if e.Device != "" {
			details["device"] = e.Device
		}
		return codexgov.ComplianceRecord{
			EventID: EventID(e.Workspace, "telemetry/"+e.ID+suffix), Type: detail, Timestamp: Timestamp(e.Time),
			Principal: codexgov.ComplianceID{ID: e.Credential, Type: credentialType(e.Credential)}, Actor: actorOf(e.Identity),
			EventType: eventType, ClientID: ClientID(e.Surface), WorkspaceID: workspaceID,
			RequestMetadata: codexgov.RequestMetadata{ClientIP: e.ClientIP, ClientUserAgent: e.Surface}, EventDetails: details,
		}
	}
	d := e.Data
	var out []codexgov.ComplianceRecord
	switch e.Type {
	case codexgov.TelemetryTokenUsage:
		out = append(out, base(codexgov.ComplianceCodexLog, "PROMPT_RESPONSE_RECEIVED", "", map[string]any{
			"turn_id": e.ID, "model": e.Model, "status": "completed",
			"token_usage": map[string]any{"input_tokens": d["input_tokens"], "output_tokens": d["output_tokens"],
				"cached_input_tokens": d["cached_tokens"], "reasoning_output_tokens": d["reasoning_tokens"]},
		}))
	case codexgov.TelemetryModelResponse:
		details := map[string]any{"turn_id": d["turn_id"], "model": e.Model, "status": d["status"], "source": "gateway",
			"token_usage": map[string]any{"input_tokens": d["input_tokens"], "output_tokens": d["output_tokens"],
				"cached_input_tokens": d["cached_tokens"], "reasoning_output_tokens": d["reasoning_tokens"]}}
		for _, k := range []string{"repository", "tool_calls"} {
			if v, ok := d[k]; ok {
				details[k] = v
			}
		}
		if p, ok := e.Attributes["prompt"].(string); ok {
			details["prompt_text"] = p
		}
		if r, ok := e.Attributes["response"].(string); ok {
			details["response_text"] = r
		}
		out = append(out, base(codexgov.ComplianceCodexLog, "PROMPT_RESPONSE_RECEIVED", "", details))
	case codexgov.TelemetryPrompt:
		details := map[string]any{"model": e.Model, "prompt_length": d["prompt_length"]}
		if p, ok := e.Attributes["prompt"].(string); ok {
			details["prompt_text"] = p
		}
		out = append(out, base(codexgov.ComplianceCodexLog, "PROMPT_SUBMITTED", "", details))
	case codexgov.TelemetryToolResult:
		status := "failed"
		if d["success"] == true {
			status = "succeeded"
		}
		preview, _ := e.Attributes["output"].(string)
		if len(preview) > 1000 {
			preview = preview[:1000]
		}
		out = append(out, base(codexgov.ComplianceCodexLog, "TOOL_CALL_COMPLETED", "", map[string]any{
			"tool_name": d["tool_name"], "call_id": d["call_id"], "tool_input": e.Attributes["arguments"], "status": status, "result_preview": strings.ToValidUTF8(preview, ""),
		}))
	case codexgov.TelemetryToolDecision:
		decision := fmt.Sprint(d["decision"])
		details := map[string]any{"tool_name": d["tool_name"], "call_id": d["call_id"], "decision": decision, "source": d["source"]}
		out = append(out, base(codexgov.ComplianceCodexLog, "TOOL_APPROVAL_DECISION", "", details))
		if !strings.HasPrefix(decision, "approved") {
			out = append(out, base(codexgov.ComplianceSecurityLog, "APPROVAL_DENIED", "/security", map[string]any{"tool_name": d["tool_name"], "call_id": d["call_id"], "decision": decision}))
		}
	case codexgov.TelemetrySecurity:
		details := map[string]any{}
		for k, v := range d {
			if k != "kind" {
				details[k] = v
			}
		}
		out = append(out, base(codexgov.ComplianceSecurityLog, fmt.Sprint(d["kind"]), "", details))
	case codexgov.TelemetryBypass:
		out = append(out, base(codexgov.ComplianceSecurityLog, "COMMAND_BYPASSED_POLICY", "", map[string]any{
			"command": d["command"], "hidden_command": d["hidden_command"], "rule": d["rule"], "form": d["form"],
		}))
	}
	if e.ClaimMismatch {
		out = append(out, base(codexgov.ComplianceSecurityLog, "CREDENTIAL_MISMATCH", "/claim", map[string]any{"claimed_email": e.ClaimEmail}))
	}
	return out
}

// AuditType is the event type of an audited action.
func AuditType(action string) string {
	for _, p := range codexgov.AuthActionPrefixes {
		if strings.HasPrefix(action, p) {
			return codexgov.ComplianceAuthLog
		}
	}
	return codexgov.ComplianceAuditLog
}

// FromAudit is the record of an audit event (AUDIT_LOG or AUTH_LOG).
func FromAudit(a *codexgov.AuditEvent, workspaceID string) codexgov.ComplianceRecord {
	principal := codexgov.ComplianceID{ID: a.Actor, Type: "system"}
	actor := codexgov.ComplianceActor{Type: "system"}
	if kind, id, ok := strings.Cut(a.Actor, ":"); ok {
		principal = codexgov.ComplianceID{ID: id, Type: kind}
		actor.Type = kind
		if kind == "user" {
			email, via, _ := strings.Cut(id, " (")
			principal.ID = strings.TrimSuffix(via, ")")
			actor = codexgov.ComplianceActor{Type: "user", UserEmail: email}
		}
	}
	details := map[string]any{"detail_type": strings.ToUpper(strings.ReplaceAll(a.Action, ".", "_")), "action": a.Action, "target": a.Target, "request_id": a.RequestID}
	for k, raw := range map[string]json.RawMessage{"before": a.Before, "after": a.After} {
		var v any
		if len(raw) > 0 && json.Unmarshal(raw, &v) == nil {
			details[k] = v
		}
	}
	typ := AuditType(a.Action)
	return codexgov.ComplianceRecord{
		EventID: EventID(a.Workspace, fmt.Sprintf("audit/%d", a.ID)), Type: details["detail_type"].(string), Timestamp: Timestamp(a.Time),
		Principal: principal, Actor: actor, EventType: typ, ClientID: "CODEXGOV", WorkspaceID: workspaceID, EventDetails: details,
		RequestMetadata: codexgov.RequestMetadata{ClientIP: a.ClientIP, ClientUserAgent: a.UserAgent},
	}
}
