package codexgov

import "time"

// TelemetryEvent is one Codex OpenTelemetry log event as codexgov keeps
// it: stamped with who sent it — taken from the credential, never from the
// payload — normalised into a type with typed fields, and the raw
// attributes beside.
type TelemetryEvent struct {
	// ID is deterministic: the same record sent twice is stored once.
	ID        string `json:"event_id"`
	Workspace string `json:"workspace"`
	// Identity ("user:EMAIL" or "service:NAME"), Credential (its ID) and
	// Device (an enrollment token's machine name) come from the
	// credential that sent the event.
	Identity   string `json:"identity"`
	Credential string `json:"credential"`
	Device     string `json:"device,omitempty"`
	// ClientIP is the address the batch came from (the connection's peer).
	ClientIP   string    `json:"client_ip,omitempty"`
	Time       time.Time `json:"time"`
	ReceivedAt time.Time `json:"received_at"`
	// Type is one of the TelemetryType values; Name is Codex's event.name.
	Type    string `json:"type"`
	Name    string `json:"name"`
	Session string `json:"session,omitempty"`
	// Surface is Codex's originator (codex_exec, codex_vscode, …).
	Surface string `json:"surface,omitempty"`
	Model   string `json:"model,omitempty"`
	// Host is the payload's host.name: a claim, not an identity.
	Host string `json:"host,omitempty"`
	// ClaimEmail is the payload's user.email; ClaimMismatch is set when it
	// names someone other than the credential's user (a security event).
	ClaimEmail    string `json:"claim_email,omitempty"`
	ClaimMismatch bool   `json:"claim_mismatch,omitempty"`
	// Data holds the type's fields (token counts, tool name, decision…).
	Data map[string]any `json:"data,omitempty"`
	// Attributes are the record's attributes as sent, less the texts not
	// kept (prompts, tool arguments and output).
	Attributes map[string]any `json:"attributes"`
}

// The telemetry event types.
const (
	TelemetrySessionStart   = "session_start"
	TelemetryPrompt         = "prompt"
	TelemetryAPIRequest     = "api_request"
	TelemetryTokenUsage     = "token_usage"
	TelemetryToolDecision   = "tool_decision"
	TelemetryToolResult     = "tool_result"
	TelemetrySandboxOutcome = "sandbox_outcome"
	TelemetryOther          = "other"
	// TelemetryBypass is codexgov's own: a command Codex ran that a
	// prompt or forbidden rule would have caught, had Codex split it.
	TelemetryBypass = "bypass"
	// TelemetrySecurity is codexgov's own: what the server saw — access
	// refused, a revoked credential used, a device drifted — kept with the
	// telemetry so that it is sealed, retained and held with it. Data's
	// "kind" is the Compliance API detail_type.
	TelemetrySecurity = "security"
	// TelemetryModelResponse is codexgov's own: a model request through
	// the gateway, with its usage and, where captured, its prompt and
	// response text (Attributes "prompt", "response"). Data's
	// "count_tokens" says the analytics count its tokens (the workspace's
	// telemetry is off, so no token_usage event counts them).
	TelemetryModelResponse = "model_response"
)

// The kinds of server-observed security events.
const (
	SecurityAccessDenied      = "ACCESS_DENIED"
	SecurityRevokedCredential = "REVOKED_CREDENTIAL_USED"
	SecurityDeviceDrifted     = "DEVICE_DRIFTED"
)

// TelemetryRetention is how long raw telemetry is kept (until the
// Compliance API sets a workspace's own retention).
const TelemetryRetention = 30 * 24 * time.Hour

// TelemetryFuture is how far ahead of the server's clock an event's time
// may be; later ones, and ones older than the retention, are refused
// (OTLP partial success) rather than stored.
const TelemetryFuture = 24 * time.Hour

// TelemetryFilter selects telemetry events: all when empty; newest first.
type TelemetryFilter struct {
	Identity, Session, Type string
	Since, Until            time.Time
	Limit                   int
}

// TelemetryMetric is one metric series of one device on one day: the
// last value Codex sent that day (its counters are cumulative), stamped
// from the credential like events.
type TelemetryMetric struct {
	Workspace  string `json:"workspace"`
	Day        string `json:"day"` // YYYY-MM-DD, UTC
	Identity   string `json:"identity"`
	Credential string `json:"credential"`
	Device     string `json:"device,omitempty"`
	Name       string `json:"name"`
	// Attributes are the data point's, as canonical JSON.
	Attributes string `json:"attributes"`
	// Kind is sum, gauge or histogram; Value is a sum's or gauge's value,
	// Count and Sum a histogram's.
	Kind  string    `json:"kind"`
	Value float64   `json:"value"`
	Count uint64    `json:"count,omitempty"`
	Sum   float64   `json:"sum,omitempty"`
	Time  time.Time `json:"time"`
}

// TelemetrySpan is the summary kept of one trace span (not its body).
type TelemetrySpan struct {
	Workspace  string        `json:"workspace"`
	TraceID    string        `json:"trace_id"`
	SpanID     string        `json:"span_id"`
	ParentID   string        `json:"parent_id,omitempty"`
	Name       string        `json:"name"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"duration"`
	Status     string        `json:"status"` // unset, ok or error
	Session    string        `json:"session,omitempty"`
	Identity   string        `json:"identity"`
	Credential string        `json:"credential"`
	Device     string        `json:"device,omitempty"`
}

// SessionActivity is one Codex session as its telemetry shows it: who ran
// it on which machine, with which surface and model, and what happened.
type SessionActivity struct {
	Session  string    `json:"session"`
	Identity string    `json:"identity"`
	Device   string    `json:"device,omitempty"`
	Surface  string    `json:"surface,omitempty"`
	Model    string    `json:"model,omitempty"`
	Start    time.Time `json:"start"`
	Last     time.Time `json:"last"`
	Prompts  int64     `json:"prompts"`
	// Tokens is the sum of the turns' total token counts.
	Tokens    int64 `json:"tokens"`
	ToolCalls int64 `json:"tool_calls"`
	// Tools are the distinct tools the session ran.
	Tools []string `json:"tools"`
	// Approvals and Denials count the tool decisions (approved, approved
	// for the session; denied, aborted).
	Approvals int64 `json:"approvals"`
	Denials   int64 `json:"denials"`
	// Bypasses counts the commands that slipped past policy.
	Bypasses int64 `json:"bypasses"`
}

// ActivityFilter selects sessions: those with events in [Since, Until),
// of one identity when set; the most recent first.
type ActivityFilter struct {
	Identity     string
	Since, Until time.Time
	Limit        int
}

// TelemetryTokenMint asks for a telemetry token for a user, optionally
// naming the machine (for a per-device MDM profile).
type TelemetryTokenMint struct {
	User   string `json:"user"`
	Device string `json:"device,omitempty"`
}

// TelemetryToken is a minted telemetry token and the [otel] block that
// carries it, ready to append to a requirements.toml.
type TelemetryToken struct {
	Token    string `json:"token"`
	Identity string `json:"identity"`
	Device   string `json:"device,omitempty"`
	Otel     string `json:"otel"`
}
