package codexgov

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GatewayTokenPrefix marks a gateway token: the per-user credential the
// delivered policy puts in the codexgov model provider's headers. Like a
// telemetry token it is self-contained (workspace, identity, credential,
// device, and a MAC under a key of its own) and stored nowhere.
const GatewayTokenPrefix = "cgg_"

// The gateway's capture modes: what a model request's record keeps.
const (
	// GatewayCaptureOff keeps nothing of the content (metadata, tokens).
	GatewayCaptureOff = "off"
	// GatewayCaptureMetadata keeps metadata, the repository and the tool
	// calls' names, not the prompts, responses or arguments.
	GatewayCaptureMetadata = "metadata"
	// GatewayCaptureFull keeps the new input items, the response text and
	// the tool calls, redacted before storage.
	GatewayCaptureFull = "full"
)

// Gateway is a workspace's model gateway: where its model traffic goes,
// whether every delivered policy routes Codex through codexgov, and what
// is captured. The upstream key is sealed with the master key (KeyEnc)
// and never shown again.
type Gateway struct {
	Workspace string `json:"workspace"`
	// BaseURL is a Responses-compatible base URL: the gateway forwards
	// POST /responses to BaseURL + "/responses".
	BaseURL string `json:"base_url"`
	KeyEnc  []byte `json:"-"`
	// KeySet tells that a key is stored (it is never shown).
	KeySet bool `json:"key_set"`
	// Route makes every delivered policy pin codexgov's model provider.
	Route bool `json:"route_model_traffic"`
	// Models are the models allowed per group ("*": everyone in no listed
	// group); a person may use the union of their listed groups' models.
	// Nobody is restricted while it is empty.
	Models    map[string][]string `json:"allowed_models,omitempty"`
	Capture   string              `json:"capture"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// Check validates a gateway's settings, naming the field.
func (g *Gateway) Check() error {
	u, err := url.Parse(g.BaseURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
		return &Error{Code: EINVALID, Message: "invalid gateway", Details: []Detail{{Field: "/base_url", Message: fmt.Sprintf("%q is not a base URL: want the Responses API's, such as https://api.openai.com/v1", g.BaseURL)}}}
	case g.Capture != GatewayCaptureOff && g.Capture != GatewayCaptureMetadata && g.Capture != GatewayCaptureFull:
		return &Error{Code: EINVALID, Message: "invalid gateway", Details: []Detail{{Field: "/capture", Message: fmt.Sprintf("%q: want off, metadata or full", g.Capture)}}}
	}
	for group, models := range g.Models {
		if group != "*" {
			if err := CheckGroupName("/allowed_models/"+group, group); err != nil {
				return err
			}
		}
		if len(models) == 0 {
			return &Error{Code: EINVALID, Message: "invalid gateway", Details: []Detail{{Field: "/allowed_models/" + group, Message: "an empty list: want the model names the group may use (remove the group to leave it unrestricted)"}}}
		}
		for i, m := range models {
			if m == "" || len(m) > 200 || strings.TrimSpace(m) != m {
				return &Error{Code: EINVALID, Message: "invalid gateway", Details: []Detail{{Field: fmt.Sprintf("/allowed_models/%s/%d", group, i), Message: fmt.Sprintf("%q: want a model name such as gpt-5.1-codex", m)}}}
			}
		}
	}
	return nil
}

// AllowedModels are the models a member of groups may use through the
// gateway; restricted is false when any model goes.
func (g *Gateway) AllowedModels(groups []string) (models []string, restricted bool) {
	if len(g.Models) == 0 {
		return nil, false
	}
	listed := false
	for _, gr := range groups {
		if ms, ok := g.Models[gr]; ok {
			listed = true
			models = append(models, ms...)
		}
	}
	if !listed {
		ms, ok := g.Models["*"]
		if !ok {
			return nil, false
		}
		models = ms
	}
	slices.Sort(models)
	return slices.Compact(models), true
}

// GatewayRepo is one repository of a turn's workspace roots, from Codex's
// x-codex-turn-metadata.
type GatewayRepo struct {
	Root    string            `json:"root"`
	Remotes map[string]string `json:"remotes,omitempty"`
	Head    string            `json:"head,omitempty"`
	Dirty   bool              `json:"dirty"`
}

// GatewayToolCall is a tool call the model asked for.
type GatewayToolCall struct {
	CallID    string `json:"call_id,omitempty"`
	Name      string `json:"name"`
	Arguments string `json:"arguments,omitempty"`
}

// GatewayRecord is one model request through the gateway.
type GatewayRecord struct {
	ID        string    `json:"id"`
	Workspace string    `json:"workspace"`
	Time      time.Time `json:"time"`
	// Identity, Credential and Device come from the gateway token.
	Identity   string `json:"identity"`
	Credential string `json:"credential,omitempty"`
	Device     string `json:"device,omitempty"`
	// Installation is Codex's installation_id; Session, Turn and Surface
	// (its originator) come from its headers.
	Installation string        `json:"installation_id,omitempty"`
	Session      string        `json:"session,omitempty"`
	Turn         string        `json:"turn,omitempty"`
	Surface      string        `json:"surface,omitempty"`
	UserAgent    string        `json:"user_agent,omitempty"`
	Repos        []GatewayRepo `json:"repos,omitempty"`
	Cwd          string        `json:"cwd,omitempty"`
	Model        string        `json:"model"`
	Status       int           `json:"status"`
	LatencyMS    float64       `json:"latency_ms"`
	FirstByteMS  float64       `json:"first_byte_ms"`
	// Token usage from response.completed.
	InputTokens     int64  `json:"input_tokens"`
	CachedTokens    int64  `json:"cached_tokens"`
	OutputTokens    int64  `json:"output_tokens"`
	ReasoningTokens int64  `json:"reasoning_tokens"`
	Error           string `json:"error,omitempty"`
	Capture         string `json:"capture"`
	// InputFrom is the index, in the request's input, of the first item
	// kept in Input: Codex re-sends the whole history on every request,
	// and a record keeps only the items its session's previous record did
	// not (0 when the history changed, compaction say).
	InputFrom int `json:"input_from"`
	// NewTurn says this is its session's first record of its turn.
	NewTurn   bool              `json:"new_turn"`
	Input     []json.RawMessage `json:"input,omitempty"`
	Output    string            `json:"output,omitempty"`
	ToolCalls []GatewayToolCall `json:"tool_calls,omitempty"`
}

// GatewayFilter selects records: of one session or identity, newest first.
type GatewayFilter struct {
	Session, Identity string
	Limit             int
}

// GatewayStore is the gateway's part of the Store.
type GatewayStore interface {
	// PutGateway creates or replaces a workspace's gateway (an empty
	// KeyEnc keeps the stored key), audited.
	PutGateway(ctx context.Context, g Gateway) (*Gateway, error)
	Gateway(ctx context.Context, ws string) (*Gateway, error)
	DeleteGateway(ctx context.Context, ws string) error
	// RecordGatewayRequest stores one model request's record with the
	// input items its session's previous record did not have (input is
	// the request's whole input; nil when the capture keeps no content),
	// and sets rec.InputFrom.
	RecordGatewayRequest(ctx context.Context, rec *GatewayRecord, input []json.RawMessage) error
	GatewayRecords(ctx context.Context, ws string, f GatewayFilter) ([]*GatewayRecord, error)
	// MintGatewayToken audits the minting of an active user's gateway
	// token (the token itself is stored nowhere); the workspace needs a
	// gateway.
	MintGatewayToken(ctx context.Context, ws string, m TelemetryTokenMint) error
	// GatewayRepositories sums the requests per repository over the days
	// [from, to) (YYYY-MM-DD), most tokens first.
	GatewayRepositories(ctx context.Context, ws, from, to string) ([]RepositoryUsage, error)
}

// GatewayToken is a minted gateway token and the model provider block
// that carries it, ready to append to a requirements.toml.
type GatewayToken struct {
	Token    string `json:"token"`
	Identity string `json:"identity"`
	Device   string `json:"device,omitempty"`
}

// Budget units and periods.
const (
	BudgetTokens = "tokens"
	BudgetUSD    = "usd"
)

// GatewayBudget caps what a person, or a group together, may spend
// through the gateway per day, week (from Monday) or month, UTC, in tokens
// (input and output) or in estimated USD (the analytics price table).
type GatewayBudget struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace"`
	// Scope is "user" (Subject an email) or "group" (Subject a group
	// name: its members' requests together).
	Scope     string    `json:"scope"`
	Subject   string    `json:"subject"`
	Unit      string    `json:"unit"`
	Period    string    `json:"period"`
	Limit     float64   `json:"limit"`
	CreatedAt time.Time `json:"created_at"`
}

// Check validates a budget, naming the field.
func (b *GatewayBudget) Check() error {
	bad := func(field, msg string) error {
		return &Error{Code: EINVALID, Message: "invalid budget", Details: []Detail{{Field: field, Message: msg}}}
	}
	switch {
	case b.Scope == "user":
		if _, err := NormalizeEmail("/subject", b.Subject); err != nil {
			return err
		}
	case b.Scope == "group":
		if err := CheckGroupName("/subject", b.Subject); err != nil {
			return err
		}
	default:
		return bad("/scope", fmt.Sprintf("%q: want user or group", b.Scope))
	}
	switch {
	case b.Unit != BudgetTokens && b.Unit != BudgetUSD:
		return bad("/unit", fmt.Sprintf("%q: want tokens or usd", b.Unit))
	case b.Period != "day" && b.Period != "week" && b.Period != "month":
		return bad("/period", fmt.Sprintf("%q: want day, week or month", b.Period))
	case !(b.Limit > 0) || b.Limit > 1e15:
		return bad("/limit", fmt.Sprintf("%g: want a positive amount", b.Limit))
	}
	return nil
}

// PeriodStart is the first day (YYYY-MM-DD, UTC) of the budget period
// holding t.
func (b *GatewayBudget) PeriodStart(t time.Time) string {
	d := t.UTC().Truncate(24 * time.Hour)
	switch b.Period {
	case "week":
		d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		d = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d.Format(time.DateOnly)
}

// GatewayBudgetUse is a budget with what its current period has used and
// holds reserved for requests in flight.
type GatewayBudgetUse struct {
	GatewayBudget
	PeriodStart string  `json:"period_start"`
	Used        float64 `json:"used"`
	Reserved    float64 `json:"reserved"`
}

// BudgetHold is what a request reserved: an amount per budget, in the
// budget's unit, to settle when the request completes.
type BudgetHold struct {
	Workspace string
	Items     []BudgetHoldItem
}

// BudgetHoldItem is one budget's reservation.
type BudgetHoldItem struct {
	Budget, PeriodStart, Unit string
	Amount                    float64
}

// BudgetStore is the budgets' part of the Store.
type BudgetStore interface {
	// PutGatewayBudget creates a budget, or replaces the limit of the one
	// with its scope, subject, unit and period; audited.
	PutGatewayBudget(ctx context.Context, b GatewayBudget) (*GatewayBudget, error)
	DeleteGatewayBudget(ctx context.Context, ws, id string) error
	// GatewayBudgets lists a workspace's budgets with their use in the
	// period holding now.
	GatewayBudgets(ctx context.Context, ws string, now time.Time) ([]*GatewayBudgetUse, error)
	// ReserveGatewayBudgets reserves a request's estimate (per unit) on
	// every budget of the person and of their groups, atomically: all or
	// none. Over any budget, nothing is reserved and the error
	// (EFORBIDDEN) names the budget, its use and its limit.
	ReserveGatewayBudgets(ctx context.Context, ws, email string, groups []string, now time.Time, estimate map[string]float64) (*BudgetHold, error)
	// SettleGatewayBudgets replaces a hold by the request's real use.
	SettleGatewayBudgets(ctx context.Context, hold *BudgetHold, actual map[string]float64) error
}

// RepositoryUsage is what went through the gateway for one repository in
// a window of days: requests, distinct people, tokens.
type RepositoryUsage struct {
	Repository   string `json:"repository"`
	Requests     int64  `json:"requests"`
	People       int64  `json:"people"`
	InputTokens  int64  `json:"input_tokens"`
	CachedTokens int64  `json:"cached_tokens"`
	OutputTokens int64  `json:"output_tokens"`
}

// RepositoryOf names a request's repository: its first workspace root's
// origin remote, else its first remote by name, else the root itself; ""
// outside a repository.
func RepositoryOf(repos []GatewayRepo) string {
	if len(repos) == 0 {
		return ""
	}
	r := repos[0]
	if u := r.Remotes["origin"]; u != "" {
		return u
	}
	if names := slices.Sorted(maps.Keys(r.Remotes)); len(names) > 0 {
		return r.Remotes[names[0]]
	}
	return r.Root
}
