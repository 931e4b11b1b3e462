// Package telemetry turns the OpenTelemetry logs Codex 0.169.0 exports into
// codexgov's typed telemetry events (docs/telemetry.md). It decodes nothing
// itself: the Collector's pdata does; it knows Codex's quirks — the event
// name is the attribute event.name, timeUnixNano is 0, numbers arrive as
// strings, tool_token_count is the total — and stamps every event with the
// credential that sent it, never with what the payload claims.
package telemetry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/codexgov/codexgov"
)

// Sender is who sent a batch, from its credential.
type Sender struct {
	Workspace string
	// Identity is "user:EMAIL" or "service:NAME".
	Identity   string
	Credential string
	// Device names the machine when the credential is a machine's
	// (an enrollment token); "" otherwise.
	Device string
}

// MaxAttributeBytes bounds one attribute value kept; longer values are
// cut and marked.
const MaxAttributeBytes = 16 << 10

// textAttributes hold content: a tool's arguments and output are kept
// with their secrets redacted (bypass detection reads the commands); a
// prompt's text is not kept, only its length.
var textAttributes = map[string]bool{"prompt": true, "arguments": true, "output": true}

// keptText are the text attributes kept, redacted.
var keptText = map[string]bool{"arguments": true, "output": true}

var defaultRedactor = NewRedactor(nil)

// Normalize returns the events of ld, sent by from and received at now,
// in the order they arrived, with the built-in redaction.
func Normalize(ld plog.Logs, from Sender, now time.Time) []codexgov.TelemetryEvent {
	return NormalizeWith(ld, from, now, defaultRedactor)
}

// NormalizeWith is Normalize with a workspace's redactor.
func NormalizeWith(ld plog.Logs, from Sender, now time.Time, r *Redactor) []codexgov.TelemetryEvent {
	var out []codexgov.TelemetryEvent
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		host := str(rl.Resource().Attributes(), "host.name")
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := range lrs.Len() {
				out = append(out, normalizeRecord(lrs.At(k), sl.Scope().Name(), host, from, now, r))
			}
		}
	}
	return out
}

func normalizeRecord(lr plog.LogRecord, scope, host string, from Sender, now time.Time, r *Redactor) codexgov.TelemetryEvent {
	attrs := lr.Attributes()
	e := codexgov.TelemetryEvent{
		Workspace: from.Workspace, Identity: from.Identity, Credential: from.Credential, Device: from.Device,
		ReceivedAt: now.UTC(), Host: host,
		Name:    str(attrs, "event.name"),
		Session: str(attrs, "conversation.id"),
		Surface: str(attrs, "originator"),
		Model:   str(attrs, "model"),
	}
	if e.Name == "" {
		// Stray records (credential storage, metrics flushes): the scope
		// says what they are.
		e.Name = cut(scope)
	}
	e.Host = cut(host)
	e.Time = eventTime(lr, attrs, now)
	if email := str(attrs, "user.email"); email != "" {
		e.ClaimEmail = email
		if user, ok := strings.CutPrefix(from.Identity, "user:"); !ok || !strings.EqualFold(user, email) {
			e.ClaimMismatch = true
		}
	}
	e.Attributes = map[string]any{}
	redactions := 0
	attrs.Range(func(k string, v pcommon.Value) bool {
		if textAttributes[k] {
			e.Attributes[k+"_length"] = len(v.AsString())
			if keptText[k] || (k == "prompt" && r.keepPrompts && v.AsString() != "[REDACTED]") {
				text, n := r.Redact(v.AsString())
				redactions += n
				e.Attributes[k] = cut(text)
			}
			return true
		}
		text, n := r.Redact(v.AsString())
		if n > 0 {
			redactions += n
			e.Attributes[clean(k)] = cut(text)
			return true
		}
		e.Attributes[clean(k)] = keep(v)
		return true
	})
	if b := lr.Body().AsString(); b != "" {
		text, n := r.Redact(b)
		redactions += n
		e.Attributes["body"] = cut(text)
	}
	e.Type, e.Data = typed(e.Name, attrs)
	// Everything else taken from the payload is text too.
	for k, v := range e.Data {
		if sv, ok := v.(string); ok {
			text, n := r.Redact(sv)
			redactions += n
			e.Data[k] = text
		}
	}
	for _, f := range []*string{&e.Name, &e.Session, &e.Surface, &e.Model, &e.Host, &e.ClaimEmail} {
		text, n := r.Redact(*f)
		redactions += n
		*f = text
	}
	if redactions > 0 {
		e.Data["redactions"] = redactions
	}
	e.ID = eventID(lr, e, attrs)
	return e
}

// typed maps an event to its type and typed fields.
func typed(name string, a pcommon.Map) (string, map[string]any) {
	d := map[string]any{}
	set := func(key, attr string, conv func(pcommon.Map, string) (any, bool)) {
		if v, ok := conv(a, attr); ok {
			d[key] = v
		}
	}
	switch name {
	case "codex.conversation_starts":
		for _, k := range []string{"provider_name", "approval_policy", "sandbox_policy", "reasoning_effort", "mcp_servers"} {
			set(k, k, asString)
		}
		return codexgov.TelemetrySessionStart, d
	case "codex.user_prompt":
		set("prompt_length", "prompt_length", asInt)
		d["redacted_by_codex"] = str(a, "prompt") == "[REDACTED]"
		return codexgov.TelemetryPrompt, d
	case "codex.api_request":
		set("duration_ms", "duration_ms", asInt)
		set("status", "http.response.status_code", asInt)
		set("attempt", "attempt", asInt)
		set("endpoint", "endpoint", asString)
		set("error", "error.message", asString)
		return codexgov.TelemetryAPIRequest, d
	case "codex.sse_event":
		if str(a, "event.kind") == "response.completed" {
			if _, ok := a.Get("input_token_count"); ok {
				set("input_tokens", "input_token_count", asInt)
				set("output_tokens", "output_token_count", asInt)
				set("cached_tokens", "cached_token_count", asInt)
				set("reasoning_tokens", "reasoning_token_count", asInt)
				// Codex names the total tool_token_count.
				set("total_tokens", "tool_token_count", asInt)
				return codexgov.TelemetryTokenUsage, d
			}
		}
		set("kind", "event.kind", asString)
		return codexgov.TelemetryOther, d
	case "codex.tool_decision":
		for _, k := range []string{"tool_name", "call_id", "decision", "source"} {
			set(k, k, asString)
		}
		return codexgov.TelemetryToolDecision, d
	case "codex.tool_result":
		for _, k := range []string{"tool_name", "call_id", "mcp_server"} {
			set(k, k, asString)
		}
		set("success", "success", asBool)
		set("duration_ms", "duration_ms", asInt)
		set("output_truncated", "output_truncated", asBool)
		set("seq", "tool_result_seq", asInt)
		d["arguments_length"] = len(str(a, "arguments"))
		d["output_length"] = len(str(a, "output"))
		return codexgov.TelemetryToolResult, d
	case "codex.sandbox_outcome":
		set("outcome", "outcome", asString)
		set("duration_ms", "initial_duration_ms", asInt)
		set("escalated_duration_ms", "escalated_duration_ms", asInt)
		return codexgov.TelemetrySandboxOutcome, d
	}
	return codexgov.TelemetryOther, d
}

// eventTime is the event's own time: event.timestamp (Codex leaves
// timeUnixNano at 0), else the record's times, else now.
func eventTime(lr plog.LogRecord, a pcommon.Map, now time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, str(a, "event.timestamp")); err == nil {
		return t.UTC()
	}
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime().UTC()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime().UTC()
	}
	return now.UTC()
}

// eventID is a hash of what makes a record itself: who sent it, its
// times, scope-independent attributes and body. A batch sent again gives
// the same IDs.
func eventID(lr plog.LogRecord, e codexgov.TelemetryEvent, a pcommon.Map) string {
	h := sha256.New()
	for _, s := range []string{e.Workspace, e.Credential, e.Host, strconv.FormatUint(uint64(lr.Timestamp()), 10),
		strconv.FormatUint(uint64(lr.ObservedTimestamp()), 10), lr.Body().AsString()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, a.Len())
	a.Range(func(k string, _ pcommon.Value) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := a.Get(k)
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(v.AsString()))
		h.Write([]byte{0})
	}
	return "tev_" + hex.EncodeToString(h.Sum(nil)[:16])
}

func str(a pcommon.Map, k string) string {
	if v, ok := a.Get(k); ok {
		return cut(v.AsString())
	}
	return ""
}

func asString(a pcommon.Map, k string) (any, bool) {
	v, ok := a.Get(k)
	if !ok {
		return nil, false
	}
	return cut(v.AsString()), true
}

// asInt reads an integer Codex may send as a string.
func asInt(a pcommon.Map, k string) (any, bool) {
	v, ok := a.Get(k)
	if !ok {
		return nil, false
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.AsString()), 10, 64)
	return n, err == nil
}

// asBool reads a boolean Codex may send as "true"/"false".
func asBool(a pcommon.Map, k string) (any, bool) {
	v, ok := a.Get(k)
	if !ok {
		return nil, false
	}
	if v.Type() == pcommon.ValueTypeBool {
		return v.Bool(), true
	}
	b, err := strconv.ParseBool(v.AsString())
	return b, err == nil
}

// keep turns an attribute into a JSON value, long strings cut.
func keep(v pcommon.Value) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return cut(v.Str())
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeBool:
		return v.Bool()
	}
	raw := v.AsRaw()
	b, err := json.Marshal(raw)
	if err != nil || len(b) > MaxAttributeBytes {
		return cut(v.AsString())
	}
	return raw
}

// cut bounds a string and makes it storable text: valid UTF-8 without
// NUL (the payload is observed data; what cannot be stored is replaced).
func cut(s string) string {
	if len(s) > MaxAttributeBytes {
		s = s[:MaxAttributeBytes] + "…[cut]"
	}
	return clean(s)
}

func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
