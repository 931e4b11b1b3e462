package httpapi

// The gateway surface: Codex's model requests (the Responses API), relayed
// to the workspace's upstream by internal/gateway with the caller named by
// its gateway token, and recorded (docs/gateway.md).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/gateway"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/telemetry"
)

// GatewayTokenHeader carries a gateway token in the headers the delivered
// provider sets (an Authorization: Bearer cgg_… works too).
const GatewayTokenHeader = "Codexgov-Gateway-Token"

func (s *Server) newGateway(transport http.RoundTripper) *gateway.Handler {
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ForceAttemptHTTP2 = true
		t.MaxIdleConnsPerHost = 64
		transport = t
	}
	return &gateway.Handler{Authenticate: s.gatewayCaller, Admit: s.gatewayAdmit, Record: s.gatewayRecord, Client: &http.Client{Transport: transport}, CredentialHeader: GatewayTokenHeader}
}

func gatewayRefusal(status int, code, msg string) *gateway.Error {
	return &gateway.Error{Status: status, Type: "invalid_request_error", Code: code, Message: msg}
}

// gatewayCaller resolves a request's gateway token to its caller, and the
// caller's workspace to its upstream (the key opened from its seal).
func (s *Server) gatewayCaller(r *http.Request) (gateway.Caller, gateway.Upstream, error) {
	tok := r.Header.Get(GatewayTokenHeader)
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if !strings.HasPrefix(tok, codexgov.GatewayTokenPrefix) {
		return gateway.Caller{}, gateway.Upstream{}, gatewayRefusal(http.StatusUnauthorized, "invalid_api_key", "codexgov: this request has no gateway credential; Codex gets one with the policy codexgov delivers (run codexgov sync, or sign in again)")
	}
	claims, err := telemetry.ParseTokenAs(codexgov.GatewayTokenPrefix, s.keys.GatewayMAC, tok)
	if err != nil {
		return gateway.Caller{}, gateway.Upstream{}, gatewayRefusal(http.StatusUnauthorized, "invalid_api_key", "codexgov: the gateway credential is not valid ("+err.Error()+")")
	}
	snap := s.snap.Load()
	if err := snap.TelemetryLive(snapshot.TelemetrySender{Workspace: claims.Workspace, Identity: claims.Identity, Credential: claims.Credential, Device: claims.Device}); err != nil {
		return gateway.Caller{}, gateway.Upstream{}, gatewayRefusal(http.StatusUnauthorized, "invalid_api_key", "codexgov: the gateway credential was revoked: the credential or user it was issued for is no longer valid")
	}
	if email, ok := strings.CutPrefix(claims.Identity, "user:"); ok {
		access, _, known := snap.Access(claims.Workspace, email)
		if d := access[codexgov.SurfaceLocal]; !known || !d.Allowed {
			return gateway.Caller{}, gateway.Upstream{}, gatewayRefusal(http.StatusForbidden, "access_denied", "codexgov: you may not use Codex in this workspace ("+d.Reason+"); ask your administrator")
		}
	}
	g, ok := snap.Gateway(claims.Workspace)
	if !ok {
		return gateway.Caller{}, gateway.Upstream{}, &gateway.Error{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "gateway_not_configured", Message: "codexgov: this workspace's model gateway has no upstream; ask your administrator"}
	}
	key, err := s.keys.OpenSecret(gatewayKeyLabel(claims.Workspace), g.KeyEnc)
	if err != nil {
		return gateway.Caller{}, gateway.Upstream{}, err
	}
	return gateway.Caller{Workspace: claims.Workspace, Identity: claims.Identity, Device: claims.Device, Credential: claims.Credential, Capture: g.Capture}, gateway.Upstream{BaseURL: g.BaseURL, Key: key}, nil
}

// gatewayAdmit checks a request before it is forwarded: the model is one
// the person's groups may use, and their budgets hold its estimate.
func (s *Server) gatewayAdmit(_ context.Context, c gateway.Caller, req *gateway.Request) (func(gateway.Result), error) {
	snap := s.snap.Load()
	g, ok := snap.Gateway(c.Workspace)
	if !ok {
		return nil, nil
	}
	email, _ := strings.CutPrefix(c.Identity, "user:")
	groups := snap.UserGroups(c.Workspace, email)
	if models, restricted := g.AllowedModels(groups); restricted && !slices.Contains(models, req.Model) {
		// 400: Codex 0.169.0 shows it at once; a 403 it retries five
		// times (seconds of "Reconnecting…") before showing it.
		return nil, &gateway.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "model_not_allowed",
			Message: fmt.Sprintf("codexgov: the model %s is not allowed for you in workspace %s; allowed: %s. Pick one of these with -m or /model, or ask your administrator.", req.Model, c.Workspace, strings.Join(models, ", "))}
	}
	if email == c.Identity || !snap.Budgeted(c.Workspace, email, groups) {
		return nil, nil // budgets are people's and groups'; none applies
	}
	// Budgets: the request's estimate reserved on each of the person's
	// and their groups' budgets, settled to the real use when it ends.
	price, priced := s.modelPrice(c.Workspace, req.Model)
	estimate := map[string]float64{codexgov.BudgetTokens: float64(req.Size/3 + GatewayOutputAllowance)}
	if priced {
		estimate[codexgov.BudgetUSD] = price.Cost(int64(req.Size/3), 0, GatewayOutputAllowance)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
	defer cancel()
	hold, err := s.store.ReserveGatewayBudgets(ctx, c.Workspace, email, groups, s.now(), estimate)
	if err != nil {
		if codexgov.ErrorCode(err) == codexgov.EFORBIDDEN {
			// 400, as a model refused: shown at once, not retried.
			return nil, &gateway.Error{Status: http.StatusBadRequest, Type: "insufficient_quota", Code: "budget_exceeded", Message: "codexgov: " + codexgov.ErrorMessage(err) + ". Ask your administrator, or wait for the next period."}
		}
		return nil, err
	}
	if len(hold.Items) == 0 {
		return nil, nil
	}
	return func(res gateway.Result) {
		u := res.Usage
		actual := map[string]float64{codexgov.BudgetTokens: float64(u.InputTokens + u.OutputTokens)}
		if priced {
			actual[codexgov.BudgetUSD] = price.Cost(u.InputTokens-u.CachedTokens, u.CachedTokens, u.OutputTokens)
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
		defer cancel()
		if err := s.store.SettleGatewayBudgets(ctx, hold, actual); err != nil {
			s.log.Error("gateway: a budget reservation was not settled (it is released with its period)", "workspace", c.Workspace, "user", email, "err", err)
		}
	}, nil
}

// GatewayOutputAllowance is the output tokens a request's budget estimate
// counts, above its input (a third of its body's bytes, more than its
// tokens): budgets are reserved before the answer's size is known.
const GatewayOutputAllowance = 4096

// modelPrice is the workspace's price of a model (analytics price table).
func (s *Server) modelPrice(ws, model string) (codexgov.ModelPrice, bool) {
	w, ok := s.snap.Load().Workspace(ws)
	if !ok {
		return codexgov.ModelPrice{}, false
	}
	p, ok := w.Settings.ModelPrices[model]
	return p, ok
}

// gatewayKeyLabel binds a sealed upstream key to its workspace.
func gatewayKeyLabel(ws string) string { return "gateway:" + ws }

// gatewayRecord stores what the workspace's capture mode keeps of a model
// request, redacted with the telemetry's rules before storage.
func (s *Server) gatewayRecord(ctx context.Context, c gateway.Caller, req *gateway.Request, res *gateway.Result) {
	red := s.redactor(c.Workspace)
	clean := func(v string) string { t, _ := red.Redact(v); return t }
	rec := &codexgov.GatewayRecord{Workspace: c.Workspace, Time: s.now().Add(-res.Latency), Identity: c.Identity, Credential: c.Credential, Device: c.Device,
		Installation: req.Installation, Session: req.Session, Turn: req.Turn, Surface: req.Surface, UserAgent: req.UserAgent, Cwd: clean(req.Cwd), Model: req.Model,
		Status: res.Status, LatencyMS: float64(res.Latency.Microseconds()) / 1000, FirstByteMS: float64(res.FirstByte.Microseconds()) / 1000,
		InputTokens: res.Usage.InputTokens, CachedTokens: res.Usage.CachedTokens, OutputTokens: res.Usage.OutputTokens, ReasoningTokens: res.Usage.ReasoningTokens,
		Error: clean(res.Error), Capture: c.Capture}
	for _, r := range req.Repos {
		remotes := map[string]string{}
		for name, u := range r.Remotes {
			remotes[name] = clean(u) // https://user:token@host/… keeps no token
		}
		rec.Repos = append(rec.Repos, codexgov.GatewayRepo{Root: clean(r.Root), Remotes: remotes, Head: r.Head, Dirty: r.Dirty})
	}
	var input []json.RawMessage
	switch c.Capture {
	case codexgov.GatewayCaptureFull:
		rec.Output = clean(res.Output)
		for _, tc := range res.ToolCalls {
			rec.ToolCalls = append(rec.ToolCalls, codexgov.GatewayToolCall{CallID: tc.CallID, Name: tc.Name, Arguments: clean(tc.Arguments)})
		}
		input = make([]json.RawMessage, len(req.Input))
		for i, it := range req.Input {
			input[i] = redactJSON(red, it)
		}
	case codexgov.GatewayCaptureMetadata:
		for _, tc := range res.ToolCalls {
			rec.ToolCalls = append(rec.ToolCalls, codexgov.GatewayToolCall{CallID: tc.CallID, Name: tc.Name})
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.dbTimeout)
	defer cancel()
	if err := s.store.RecordGatewayRequest(ctx, rec, input); err != nil {
		s.log.Error("gateway: the record of a model request was not stored", "workspace", c.Workspace, "session", req.Session, "err", err)
		return
	}
	if c.Capture == codexgov.GatewayCaptureOff {
		return
	}
	// The request as a telemetry event of codexgov's own: the Compliance
	// API's PROMPT_RESPONSE_RECEIVED (sealed, retained and held with the
	// telemetry), and the analytics' tokens where telemetry counts none.
	w, _ := s.snap.Load().Workspace(c.Workspace)
	ev := codexgov.TelemetryEvent{ID: "gw-" + rec.ID, Workspace: c.Workspace, Identity: c.Identity, Credential: c.Credential, Device: c.Device, Time: rec.Time, ReceivedAt: s.now(),
		ClientIP: codexgov.RequestMetadataFrom(ctx).ClientIP,
		Type:     codexgov.TelemetryModelResponse, Name: "codexgov.gateway.response", Session: rec.Session, Surface: rec.Surface, Model: rec.Model, Attributes: map[string]any{},
		Data: map[string]any{"turn_id": rec.Turn, "status": rec.Status, "input_tokens": rec.InputTokens, "cached_tokens": rec.CachedTokens, "output_tokens": rec.OutputTokens,
			"reasoning_tokens": rec.ReasoningTokens, "latency_ms": rec.LatencyMS, "count_tokens": w == nil || !w.Settings.TelemetryOn()}}
	if rec.NewTurn {
		ev.Data["turns"] = 1
	}
	if len(rec.ToolCalls) > 0 {
		var names []string
		for _, tc := range rec.ToolCalls {
			names = append(names, tc.Name)
		}
		ev.Data["tool_calls"] = names
	}
	if len(rec.Repos) > 0 {
		repo := rec.Repos[0]
		ev.Data["repository"] = map[string]any{"root": repo.Root, "remote_urls": repo.Remotes, "head": repo.Head, "dirty": repo.Dirty}
	}
	if c.Capture == codexgov.GatewayCaptureFull {
		// The turn's prompt: the last message the person typed, in the
		// whole history (a tool call's follow-up carries none of its own).
		if p := gateway.PromptText(input); p != "" {
			ev.Attributes["prompt"] = p
		}
		if rec.Output != "" {
			ev.Attributes["response"] = rec.Output
		}
	}
	if _, err := s.store.AppendTelemetry(ctx, []codexgov.TelemetryEvent{ev}); err != nil {
		s.log.Error("gateway: the compliance event of a model request was not stored", "workspace", c.Workspace, "session", req.Session, "err", err)
	}
}

// redactJSON redacts every string of a JSON value (its structure kept).
func redactJSON(red *telemetry.Redactor, raw json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		t, _ := red.Redact(string(raw))
		b, _ := json.Marshal(t)
		return b
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			r, _ := red.Redact(t)
			return r
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return x
	}
	b, _ := json.Marshal(walk(v))
	return b
}

// WaitGateway returns when the gateway's requests have all been settled
// against their budgets and recorded (they are, just after each answer).
func (s *Server) WaitGateway() { s.gw.Wait() }

// gatewayResponses relays POST /gateway/v1/responses.
func (s *Server) gatewayResponses(c *call) error {
	s.gw.ServeHTTP(c.w, c.r)
	return nil
}

// gatewayModels answers Codex's model list as its own providers do when
// they have none to add.
func (s *Server) gatewayModels(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]any{"data": []any{}, "models": []any{}})
	return nil
}

// gatewayTurnCosts takes Codex's turn-cost reports (nothing is kept: the
// gateway's records have the usage).
func (s *Server) gatewayTurnCosts(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]any{})
	return nil
}
