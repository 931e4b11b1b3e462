package snapshot

// Enforced telemetry export: while a workspace's telemetry setting is on,
// every policy codexgov delivers carries an [otel] block that exports to
// this server with the machine's or the user's own telemetry token
// (docs/telemetry.md). Codex honours [otel] from requirements over the
// user's config.toml and -c, so the user cannot turn it off.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov"
)

// Export is how the snapshot writes the [otel] block it delivers.
type Export struct {
	// URL is the receiver's base URL as machines reach it
	// ("https://codexgov.example.com"); the block names URL/v1/logs,
	// /v1/metrics and /v1/traces.
	URL string
	// Mint returns the telemetry token of a sender.
	Mint func(TelemetrySender) string
	// GatewayURL is the model gateway's base URL as machines reach it
	// (URL + "/gateway/v1"); MintGateway returns a sender's gateway token.
	GatewayURL  string
	MintGateway func(TelemetrySender) string
}

// GatewayProviderID is the model provider a routed policy pins.
const GatewayProviderID = "codexgov"

// GatewayFragmentID is the id of the bundle fragment that pins it.
const GatewayFragmentID = "codexgov-gateway"

// Gateway returns a workspace's model gateway, as of the snapshot.
func (s *Snapshot) Gateway(ws string) (*codexgov.Gateway, bool) {
	sp := s.spaces[ws]
	if sp == nil || sp.gateway == nil {
		return nil, false
	}
	return sp.gateway, true
}

// Budgeted reports whether a gateway budget applies to the user or one of
// their groups, as of the snapshot.
func (s *Snapshot) Budgeted(ws, email string, groups []string) bool {
	sp := s.spaces[ws]
	if sp == nil || len(sp.budgeted) == 0 {
		return false
	}
	if sp.budgeted["user:"+strings.ToLower(email)] {
		return true
	}
	for _, g := range groups {
		if sp.budgeted["group:"+g] {
			return true
		}
	}
	return false
}

// UserGroups are a user's groups, as of the snapshot.
func (s *Snapshot) UserGroups(ws, email string) []string {
	if sp := s.spaces[ws]; sp != nil {
		if v := sp.users[strings.ToLower(email)]; v != nil {
			return v.user.Groups
		}
	}
	return nil
}

// GatewayBlock is what pins the sender's Codex to the model gateway when
// its workspace routes model traffic through codexgov: the root key
// (model_provider, which must come before any table) and the provider's
// table with the sender's own gateway token; both "" otherwise.
func (s *Snapshot) GatewayBlock(who TelemetrySender) (root, table string) {
	sp := s.spaces[who.Workspace]
	if sp == nil || sp.gateway == nil || !sp.gateway.Route || s.export == nil || s.export.GatewayURL == "" || s.export.MintGateway == nil {
		return "", ""
	}
	q := strconv.Quote
	root = fmt.Sprintf("# Enforced by codexgov (workspace %s): Codex's model requests go through\n# codexgov's gateway, whatever the user's config says.\nmodel_provider = %s\n", q(who.Workspace), q(GatewayProviderID))
	table = fmt.Sprintf("[model_providers.%s]\nname = %s\nbase_url = %s\nwire_api = \"responses\"\nhttp_headers = { %s = %s }\n",
		GatewayProviderID, q("codexgov"), q(s.export.GatewayURL), q("Codexgov-Gateway-Token"), q(s.export.MintGateway(who)))
	return root, table
}

// decorate is a requirements.toml body with what the sender's workspace
// enforces: the gateway's root key first, then the policy, then the
// [otel] and provider tables (a table header after the policy's own
// tables is always valid TOML). enforced is false when the workspace
// enforces nothing (body itself is returned).
func (s *Snapshot) decorate(body []byte, who TelemetrySender) (out []byte, enforced bool) {
	root, table := s.GatewayBlock(who)
	otel := s.OtelBlock(who)
	if root == "" && otel == "" {
		return body, false
	}
	out = make([]byte, 0, len(root)+len(body)+len(otel)+len(table)+4)
	if root != "" {
		out = append(out, root...)
		if len(body) > 0 {
			out = append(out, '\n')
		}
	}
	out = append(out, body...)
	for _, b := range []string{otel, table} {
		if b != "" {
			out = appendBlock(out, b)
		}
	}
	return out, true
}

// WithExport returns the snapshot with its export set (nil: no workspace
// gets an [otel] block). Update keeps it.
func (s *Snapshot) WithExport(e *Export) *Snapshot {
	s.export = e
	return s
}

// TelemetryFragmentID is the id of the bundle fragment that carries the
// enforced [otel] block; Codex names it in its messages.
const TelemetryFragmentID = "codexgov-telemetry"

// OtelBlock is the [otel] table the sender's machine is delivered, or ""
// when the workspace's telemetry is off.
func (s *Snapshot) OtelBlock(who TelemetrySender) string {
	sp := s.spaces[who.Workspace]
	if sp == nil || s.export == nil || !sp.ws.Settings.TelemetryOn() {
		return ""
	}
	st := sp.ws.Settings
	q := strconv.Quote
	headers := fmt.Sprintf("headers = { authorization = %s }", q("Bearer "+s.export.Mint(who)))
	exporter := func(signal string) string {
		return fmt.Sprintf("{ otlp-http = { endpoint = %s, protocol = \"binary\", %s } }", q(strings.TrimRight(s.export.URL, "/")+"/v1/"+signal), headers)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Enforced by codexgov (workspace %s, telemetry = %s): Codex exports its\n# events, metrics and traces to codexgov, whatever the user's config says.\n[otel]\n", q(who.Workspace), q(st.Telemetry))
	fmt.Fprintf(&b, "log_user_prompt = %t\n", st.Telemetry == codexgov.TelemetryPrompts)
	fmt.Fprintf(&b, "exporter = %s\n", exporter("logs"))
	fmt.Fprintf(&b, "metrics_exporter = %s\n", exporter("metrics"))
	if st.TelemetryDropTraces {
		b.WriteString("trace_exporter = \"none\"\n")
	} else {
		fmt.Fprintf(&b, "trace_exporter = %s\n", exporter("traces"))
	}
	return b.String()
}

// appendBlock appends a block of tables to a requirements.toml body: a
// table header after the policy's own tables is always valid TOML, and the
// store refuses a policy that sets [otel] itself while telemetry is on.
func appendBlock(body []byte, block string) []byte {
	out := make([]byte, 0, len(body)+len(block)+2)
	out = append(out, body...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if len(out) > 0 {
		out = append(out, '\n')
	}
	return append(out, block...)
}

// Decorate returns the requirements document the sender is served: doc
// with the enforced [otel] block, signed, or doc itself when telemetry is
// off.
func (s *Snapshot) Decorate(doc *Document, who TelemetrySender) (*Document, error) {
	body, enforced := s.decorate(doc.Body, who)
	if !enforced {
		return doc, nil
	}
	return s.document(body, doc.Policy, doc.Version, doc.contentType)
}

// DecorateBundle returns the configuration-server bundle the sender is
// served: doc with one more requirements fragment, the [otel] block, or
// doc itself when telemetry is off. The delivery record keeps doc's hash.
func (s *Snapshot) DecorateBundle(doc *Document, who TelemetrySender) (*Document, error) {
	block := s.OtelBlock(who)
	root, table := s.GatewayBlock(who)
	if block == "" && root == "" {
		return doc, nil
	}
	var b BundleResponse
	if err := json.Unmarshal(doc.Body, &b); err != nil {
		return nil, err
	}
	if block != "" {
		b.Requirements.EnterpriseManaged = append(b.Requirements.EnterpriseManaged, Fragment{ID: TelemetryFragmentID, Name: "codexgov telemetry", Contents: block})
	}
	if root != "" {
		b.Requirements.EnterpriseManaged = append(b.Requirements.EnterpriseManaged, Fragment{ID: GatewayFragmentID, Name: "codexgov model gateway", Contents: root + "\n" + table})
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return s.document(body, doc.Policy, doc.Version, doc.contentType)
}

// SenderRequirements is the requirements document the sender of telemetry
// is served now: the rules its commands are checked against. A telemetry
// token counts as the credential it was minted for.
func (s *Snapshot) SenderRequirements(p Principal) (*Document, error) {
	if t := p.Telemetry; t != nil {
		if ev, _ := s.enrollByID.get(t.Credential); ev != nil {
			p = Principal{Enrollment: ev.token}
		} else {
			email, _ := strings.CutPrefix(t.Identity, "user:")
			p = Principal{Person: &Person{Workspace: t.Workspace, Email: email}}
		}
	}
	return s.ClientDocument(p, Requirements)
}
