// Package codexgov is the domain of the codexgov control plane: workspaces,
// users, groups, roles and their permissions, workspace settings, the
// access decision, policies and their assignment to groups, credentials and
// the audit log, plus the Store interface the storage adapters implement.
// It imports only the standard library.
package codexgov

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Workspace is one tenant. Every other record belongs to exactly one.
type Workspace struct {
	// ID is the workspace's slug, chosen at creation: lowercase letters,
	// digits and dashes. It appears in every API path.
	ID   string `json:"id"`
	Name string `json:"name"`
	// UUID is the workspace's stable UUID, given at creation: the
	// Compliance API's workspace_id (which also accepts ID).
	UUID      string    `json:"uuid"`
	CreatedAt time.Time `json:"created_at"`
	Settings  Settings  `json:"settings"`
}

// Settings are a workspace's toggles. Only AllowCodexLocal is on in a new
// workspace.
type Settings struct {
	AllowCodexLocal      bool `json:"allow_codex_local"`
	AllowCodexCloud      bool `json:"allow_codex_cloud"`
	AllowAccessTokens    bool `json:"allow_access_tokens"`
	AllowDeviceCodeLogin bool `json:"allow_device_code_login"`
	AllowAgentInternet   bool `json:"allow_agent_internet"`
	// AllowJITProvisioning creates a user who signs in with single
	// sign-on for the first time; off, only users already in the
	// workspace (added by an admin or by SCIM) can sign in.
	AllowJITProvisioning bool `json:"allow_jit_provisioning"`
	// DefaultRole is the role of users who have no role through a group.
	DefaultRole string `json:"default_role"`
	// Telemetry is the OpenTelemetry export codexgov enforces on every
	// machine it delivers a policy to (docs/telemetry.md): TelemetryOff,
	// TelemetryMetadata (events without prompt text) or TelemetryPrompts.
	Telemetry string `json:"telemetry"`
	// TelemetryDropTraces keeps no trace span summaries.
	TelemetryDropTraces bool `json:"telemetry_drop_traces"`
	// TelemetryRedact are the workspace's own redaction patterns (RE2
	// syntax), applied with the built-in detectors before anything is
	// stored.
	TelemetryRedact []string `json:"telemetry_redact"`
	// ComplianceRetention is how many days each Compliance API event type
	// is kept (ComplianceEventTypes; DefaultRetentionDays when absent),
	// raw telemetry for the longest of the Codex types.
	ComplianceRetention map[string]int `json:"compliance_retention_days"`
	// AnalyticsLookbackDays is how far back an Analytics API query may
	// start (DefaultLookbackDays when 0).
	AnalyticsLookbackDays int `json:"analytics_lookback_days"`
	// ModelPrices are the admin's price table, by model, behind the
	// Analytics API's estimated_cost_usd.
	ModelPrices map[string]ModelPrice `json:"model_prices"`
	// AnalyticsCSVEmails lets the Analytics API's per-user CSV export
	// carry users' emails (off: the column is empty).
	AnalyticsCSVEmails bool `json:"analytics_csv_emails"`
}

// ModelPrice is a model's price in US dollars per million tokens.
type ModelPrice struct {
	Input       float64 `json:"input"`
	CachedInput float64 `json:"cached_input"`
	Output      float64 `json:"output"`
}

// Cost is the estimated USD of token counts at the price (per million).
func (p ModelPrice) Cost(uncachedInput, cachedInput, output int64) float64 {
	return (float64(uncachedInput)*p.Input + float64(cachedInput)*p.CachedInput + float64(output)*p.Output) / 1e6
}

// Analytics lookback limits, in days.
const (
	DefaultLookbackDays = 90
	MaxLookbackDays     = 730
)

// Lookback is how far back an Analytics API query may start.
func (s Settings) Lookback() int {
	if s.AnalyticsLookbackDays <= 0 {
		return DefaultLookbackDays
	}
	return s.AnalyticsLookbackDays
}

// The values of Settings.Telemetry.
const (
	TelemetryOff      = "off"
	TelemetryMetadata = "metadata"
	TelemetryPrompts  = "prompts"
)

// Limits on Settings.TelemetryRedact.
const (
	MaxRedactPatterns     = 50
	MaxRedactPatternBytes = 500
)

// Equal reports whether two settings are the same.
func (s Settings) Equal(o Settings) bool {
	return s.AllowCodexLocal == o.AllowCodexLocal && s.AllowCodexCloud == o.AllowCodexCloud && s.AllowAccessTokens == o.AllowAccessTokens &&
		s.AllowDeviceCodeLogin == o.AllowDeviceCodeLogin && s.AllowAgentInternet == o.AllowAgentInternet && s.AllowJITProvisioning == o.AllowJITProvisioning &&
		s.DefaultRole == o.DefaultRole && s.telemetry() == o.telemetry() && s.TelemetryDropTraces == o.TelemetryDropTraces && slices.Equal(s.TelemetryRedact, o.TelemetryRedact) &&
		maps.Equal(s.ComplianceRetention, o.ComplianceRetention) && s.Lookback() == o.Lookback() && maps.Equal(s.ModelPrices, o.ModelPrices) &&
		s.AnalyticsCSVEmails == o.AnalyticsCSVEmails
}

func (s Settings) telemetry() string {
	if s.Telemetry == "" {
		return TelemetryOff
	}
	return s.Telemetry
}

// TelemetryOn reports whether codexgov enforces telemetry export.
func (s Settings) TelemetryOn() bool { return s.telemetry() != TelemetryOff }

// Retention limits, in days.
const (
	DefaultRetentionDays = 30
	MaxRetentionDays     = 3650
)

// Retention is how long records of an event type are kept.
func (s Settings) Retention(eventType string) time.Duration {
	days := s.ComplianceRetention[eventType]
	if days <= 0 {
		days = DefaultRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// TelemetryKept is how long the workspace's raw telemetry is kept:
// the longest of the Codex event types it feeds.
func (s Settings) TelemetryKept() time.Duration {
	return max(s.Retention(ComplianceCodexLog), s.Retention(ComplianceSecurityLog))
}

// Validate checks the telemetry and retention settings, naming the JSON
// pointer of the first bad one.
func (s Settings) Validate() error {
	for t, d := range s.ComplianceRetention {
		if !slices.Contains(ComplianceEventTypes, t) {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("/compliance_retention_days/%s: not an event type; want CODEX_LOG, CODEX_SECURITY_LOG, AUDIT_LOG or AUTH_LOG", t)}
		}
		if d < 1 || d > MaxRetentionDays {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("/compliance_retention_days/%s: %d days; want 1 to %d (ten years)", t, d, MaxRetentionDays)}
		}
	}
	if s.AnalyticsLookbackDays < 0 || s.AnalyticsLookbackDays > MaxLookbackDays {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("/analytics_lookback_days: %d days; want 1 to %d", s.AnalyticsLookbackDays, MaxLookbackDays)}
	}
	if len(s.ModelPrices) > 200 {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("/model_prices: %d models; at most 200", len(s.ModelPrices))}
	}
	for m, p := range s.ModelPrices {
		if m == "" || len(m) > 200 {
			return &Error{Code: EINVALID, Message: "/model_prices: a model name is 1 to 200 bytes"}
		}
		for _, v := range []float64{p.Input, p.CachedInput, p.Output} {
			if v < 0 || v > 10000 || v != v {
				return &Error{Code: EINVALID, Message: fmt.Sprintf("/model_prices/%s: prices are US dollars per million tokens, from 0 to 10000", m)}
			}
		}
	}
	switch s.telemetry() {
	case TelemetryOff, TelemetryMetadata, TelemetryPrompts:
	default:
		return &Error{Code: EINVALID, Message: fmt.Sprintf("/telemetry: %q is not a telemetry setting; want off, metadata or prompts", s.Telemetry)}
	}
	if len(s.TelemetryRedact) > MaxRedactPatterns {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("/telemetry_redact: %d patterns; at most %d", len(s.TelemetryRedact), MaxRedactPatterns)}
	}
	for i, p := range s.TelemetryRedact {
		at := fmt.Sprintf("/telemetry_redact/%d", i)
		if p == "" || len(p) > MaxRedactPatternBytes {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s: a pattern is 1 to %d bytes", at, MaxRedactPatternBytes)}
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s: %v (RE2 syntax: https://github.com/google/re2/wiki/Syntax)", at, err)}
		}
		if re.MatchString("") {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s: %q matches the empty string, so it would redact nothing useful; give a pattern that needs at least one character", at, p)}
		}
	}
	return nil
}

// DefaultSettings are the settings of a new workspace.
func DefaultSettings() Settings {
	return Settings{AllowCodexLocal: true, DefaultRole: DefaultRoleName, Telemetry: TelemetryOff, TelemetryRedact: []string{}, ComplianceRetention: map[string]int{}, ModelPrices: map[string]ModelPrice{}}
}

// SettingsUpdate changes the settings whose fields are not nil.
type SettingsUpdate struct {
	AllowCodexLocal      *bool     `json:"allow_codex_local,omitempty"`
	AllowCodexCloud      *bool     `json:"allow_codex_cloud,omitempty"`
	AllowAccessTokens    *bool     `json:"allow_access_tokens,omitempty"`
	AllowDeviceCodeLogin *bool     `json:"allow_device_code_login,omitempty"`
	AllowAgentInternet   *bool     `json:"allow_agent_internet,omitempty"`
	AllowJITProvisioning *bool     `json:"allow_jit_provisioning,omitempty"`
	DefaultRole          *string   `json:"default_role,omitempty"`
	Telemetry            *string   `json:"telemetry,omitempty"`
	TelemetryDropTraces  *bool     `json:"telemetry_drop_traces,omitempty"`
	TelemetryRedact      *[]string `json:"telemetry_redact,omitempty"`
	// ComplianceRetention sets the days of the event types it names.
	ComplianceRetention map[string]int `json:"compliance_retention_days,omitempty"`
	// AnalyticsLookbackDays sets the lookback (0: the default).
	AnalyticsLookbackDays *int `json:"analytics_lookback_days,omitempty"`
	// ModelPrices sets the prices of the models it names; a model with
	// every price null is removed.
	ModelPrices map[string]*ModelPrice `json:"model_prices,omitempty"`
	// AnalyticsCSVEmails allows emails in per-user CSV exports.
	AnalyticsCSVEmails *bool `json:"analytics_csv_emails,omitempty"`
}

// Apply returns s with the update applied.
func (u SettingsUpdate) Apply(s Settings) Settings {
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.AllowCodexLocal, u.AllowCodexLocal)
	set(&s.AllowCodexCloud, u.AllowCodexCloud)
	set(&s.AllowAccessTokens, u.AllowAccessTokens)
	set(&s.AllowDeviceCodeLogin, u.AllowDeviceCodeLogin)
	set(&s.AllowAgentInternet, u.AllowAgentInternet)
	set(&s.AllowJITProvisioning, u.AllowJITProvisioning)
	if u.DefaultRole != nil {
		s.DefaultRole = *u.DefaultRole
	}
	if u.Telemetry != nil {
		s.Telemetry = *u.Telemetry
		if s.Telemetry == "" {
			s.Telemetry = TelemetryOff
		}
	}
	set(&s.TelemetryDropTraces, u.TelemetryDropTraces)
	if len(u.ComplianceRetention) > 0 {
		m := maps.Clone(s.ComplianceRetention)
		if m == nil {
			m = map[string]int{}
		}
		maps.Copy(m, u.ComplianceRetention)
		s.ComplianceRetention = m
	}
	set(&s.AnalyticsCSVEmails, u.AnalyticsCSVEmails)
	if u.AnalyticsLookbackDays != nil {
		s.AnalyticsLookbackDays = *u.AnalyticsLookbackDays
	}
	if len(u.ModelPrices) > 0 {
		m := maps.Clone(s.ModelPrices)
		if m == nil {
			m = map[string]ModelPrice{}
		}
		for k, v := range u.ModelPrices {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = *v
			}
		}
		s.ModelPrices = m
	}
	if u.TelemetryRedact != nil {
		s.TelemetryRedact = slices.Clone(*u.TelemetryRedact)
		if s.TelemetryRedact == nil {
			s.TelemetryRedact = []string{}
		}
	}
	return s
}

// User is a person in a workspace, keyed by email (stored lowercased).
type User struct {
	// ID is the user's stable identifier ("usr_…"), its SCIM id.
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	// Groups the user belongs to, by name, sorted.
	Groups []string `json:"groups"`
	// ExternalID is the identity provider's identifier (SCIM externalId).
	ExternalID string `json:"external_id,omitempty"`
	// Profile holds the SCIM attributes codexgov keeps only to give them
	// back (name parts, emails, title…), as a JSON object.
	Profile json.RawMessage `json:"-"`
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	Name   *string `json:"name,omitempty"`
	Active *bool   `json:"active,omitempty"`
	// ExternalID and Profile are set by SCIM only.
	ExternalID *string          `json:"-"`
	Profile    *json.RawMessage `json:"-"`
}

// Group is a set of users. Roles granted to a group apply to its members.
type Group struct {
	// ID is the group's stable identifier ("grp_…"), its SCIM id.
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	// Members are the members' emails, sorted.
	Members []string `json:"members"`
	// Roles are the names of the roles granted to the group, sorted.
	Roles []string `json:"roles"`
	// ExternalID is the identity provider's identifier (SCIM externalId).
	ExternalID string `json:"external_id,omitempty"`
}

// GroupUpdate changes a group in one audited step: the fields that are not
// nil, then AddMembers, then RemoveMembers (emails; adding a member again or
// removing a non-member changes nothing).
type GroupUpdate struct {
	Description   *string
	ExternalID    *string
	AddMembers    []string
	RemoveMembers []string
}

// Role is a named set of permissions.
type Role struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
	CreatedAt   time.Time    `json:"created_at"`
}

// RoleUpdate changes the fields that are not nil.
type RoleUpdate struct {
	Description *string       `json:"description,omitempty"`
	Permissions *[]Permission `json:"permissions,omitempty"`
}

// DefaultRoleName is the role every new workspace starts with, as its
// default role.
const DefaultRoleName = "member"

// DefaultRolePermissions are the permissions of a new workspace's default
// role: using Codex locally, nothing else.
func DefaultRolePermissions() []Permission { return []Permission{PermCodexLocal} }

// Store keeps the control plane's state. Every method that changes state
// writes its audit event in the same transaction as the change; the actor
// comes from the context (WithActor) and a change without one is refused.
// Reads of another workspace's records report ENOTFOUND.
type Store interface {
	GatewayStore
	BudgetStore

	CreateWorkspace(ctx context.Context, id, name string) (*Workspace, error)
	Workspace(ctx context.Context, id string) (*Workspace, error)
	Workspaces(ctx context.Context) ([]*Workspace, error)
	UpdateSettings(ctx context.Context, ws string, u SettingsUpdate) (*Workspace, error)

	CreateUser(ctx context.Context, ws string, u User) (*User, error)
	User(ctx context.Context, ws, email string) (*User, error)
	Users(ctx context.Context, ws string) ([]*User, error)
	UpdateUser(ctx context.Context, ws, email string, u UserUpdate) (*User, error)
	// DeleteUser removes a user for good: memberships gone, credentials
	// revoked, history kept in the audit log, the email free for a new
	// user. Returns ENOTFOUND when there is no such user.
	DeleteUser(ctx context.Context, ws, email string) error
	// UserByID finds a user by its stable ID.
	UserByID(ctx context.Context, ws, id string) (*User, error)
	// SetUserGroups makes the user a member of exactly these groups (by
	// name; unknown names are ignored), in one audited step: an identity
	// provider's groups claim at sign-in.
	SetUserGroups(ctx context.Context, ws, email string, groups []string) (*User, error)

	CreateGroup(ctx context.Context, ws string, g Group) (*Group, error)
	Group(ctx context.Context, ws, name string) (*Group, error)
	Groups(ctx context.Context, ws string) ([]*Group, error)
	DeleteGroup(ctx context.Context, ws, name string) error
	// GroupByID finds a group by its stable ID.
	GroupByID(ctx context.Context, ws, id string) (*Group, error)
	UpdateGroup(ctx context.Context, ws, name string, u GroupUpdate) (*Group, error)
	AddGroupMember(ctx context.Context, ws, group, email string) (*Group, error)
	RemoveGroupMember(ctx context.Context, ws, group, email string) (*Group, error)
	GrantGroupRole(ctx context.Context, ws, group, role string) (*Group, error)
	RevokeGroupRole(ctx context.Context, ws, group, role string) (*Group, error)

	CreateRole(ctx context.Context, ws string, r Role) (*Role, error)
	Role(ctx context.Context, ws, name string) (*Role, error)
	Roles(ctx context.Context, ws string) ([]*Role, error)
	UpdateRole(ctx context.Context, ws, name string, u RoleUpdate) (*Role, error)
	DeleteRole(ctx context.Context, ws, name string) error

	// PutPolicy stores a new version of the named policy (creating the
	// policy at version 1). A document Codex would reject is refused with
	// EINVALID and nothing is stored; a document identical to the current
	// version stores nothing and returns the current version.
	PutPolicy(ctx context.Context, ws string, p PolicyInput) (*PolicyVersion, error)
	// Policy returns one version of a policy; version 0 is the current one.
	Policy(ctx context.Context, ws, name string, version int) (*PolicyVersion, error)
	// Policies returns the current version of every policy.
	Policies(ctx context.Context, ws string) ([]*PolicyVersion, error)
	// PolicyHistory returns every version, oldest first.
	PolicyHistory(ctx context.Context, ws, name string) ([]*PolicyVersion, error)
	DeletePolicy(ctx context.Context, ws, name string) error

	Assignment(ctx context.Context, ws string) (*Assignment, error)
	SetAssignment(ctx context.Context, ws string, a Assignment) (*Assignment, error)

	// CreateAPIKey stores a key; the secret itself is never stored, only
	// k.Hash. An empty workspace makes a server key.
	CreateAPIKey(ctx context.Context, k APIKey) (*APIKey, error)
	APIKeys(ctx context.Context, ws string) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, ws, id string) (*APIKey, error)
	// HasServerKey reports whether any server key (revoked or not) exists.
	HasServerKey(ctx context.Context) (bool, error)

	CreateAccessToken(ctx context.Context, t AccessToken) (*AccessToken, error)
	AccessTokens(ctx context.Context, ws string) ([]*AccessToken, error)
	RevokeAccessToken(ctx context.Context, ws, id string) (*AccessToken, error)

	// CreateEnrollmentToken stores a device enrollment token (its hash
	// only) for a user or a named service identity.
	CreateEnrollmentToken(ctx context.Context, t EnrollmentToken) (*EnrollmentToken, error)
	EnrollmentTokens(ctx context.Context, ws string) ([]*EnrollmentToken, error)
	RevokeEnrollmentToken(ctx context.Context, ws, id string) (*EnrollmentToken, error)

	// CreateOAuthCode stores an authorization code (protocol state: not
	// audited, no state version bump).
	CreateOAuthCode(ctx context.Context, c OAuthCode) error
	// ExchangeOAuthCode redeems a code once and creates the sign-in g from
	// it, audited; check validates the stored code against the request.
	// A reused code revokes the sign-in its first use made.
	ExchangeOAuthCode(ctx context.Context, codeHash string, check func(*OAuthCode) error, g OAuthGrant) (*OAuthGrant, error)
	// RefreshOAuthGrant rotates a sign-in's refresh token (EINVALIDGRANT
	// when the sign-in is dead for good; reuse of an old token revokes it).
	RefreshOAuthGrant(ctx context.Context, ws, refreshHash, newRefreshHash string, grace, idle time.Duration) (*OAuthGrant, RefreshOutcome, error)
	OAuthGrants(ctx context.Context, ws string) ([]*OAuthGrant, error)
	// RevokeOAuthGrantByRefresh revokes the sign-in a refresh token
	// belongs to (a sign-out); an unknown token changes nothing.
	RevokeOAuthGrantByRefresh(ctx context.Context, refreshHash string) error
	RevokeOAuthGrant(ctx context.Context, ws, id string) (*OAuthGrant, error)

	// PutIdentityProvider creates or replaces an upstream OIDC provider
	// (its client secret arrives encrypted, in ClientSecretEnc).
	PutIdentityProvider(ctx context.Context, p IdentityProvider) (*IdentityProvider, error)
	IdentityProviders(ctx context.Context, ws string) ([]*IdentityProvider, error)
	IdentityProvider(ctx context.Context, ws, name string) (*IdentityProvider, error)
	DeleteIdentityProvider(ctx context.Context, ws, name string) error

	// CreateDeviceAuthorization stores a pending RFC 8628 device
	// authorization (protocol state: not audited).
	CreateDeviceAuthorization(ctx context.Context, d DeviceAuthorization) error
	// DeviceAuthorization finds a pending or decided authorization by its
	// user code (normalized: upper case, no dash).
	DeviceAuthorization(ctx context.Context, userCode string) (*DeviceAuthorization, error)
	// DecideDeviceAuthorization approves or denies a pending authorization
	// for a user of ws, audited.
	DecideDeviceAuthorization(ctx context.Context, userCode, ws, email string, approve bool) error
	// PollDeviceAuthorization is the token request of a device: it
	// records the poll, and once approved creates the sign-in g (audited)
	// exactly once.
	PollDeviceAuthorization(ctx context.Context, deviceHash string, g OAuthGrant) (*OAuthGrant, DevicePoll, error)

	// RecordDeliveries upserts devices' last bundle fetches (observations:
	// not audited, no state version bump).
	RecordDeliveries(ctx context.Context, ds []Delivery) error
	Deliveries(ctx context.Context, ws string) ([]*Delivery, error)
	// RecordSyncReport upserts a sync machine's last report (an
	// observation: not audited, no state version bump). m.Reports is
	// ignored: the store counts.
	RecordSyncReport(ctx context.Context, m SyncMachine) error
	// RecordCredentialUse writes when API keys and enrollment tokens (by
	// ID) were last used: observations, not audited; a time never moves
	// back.
	RecordCredentialUse(ctx context.Context, used map[string]time.Time) error
	// AppendTelemetry stores telemetry events in one transaction, each
	// once (an event whose ID is stored is skipped), and returns how many
	// were new. Events are observations: not audited, no version bump.
	AppendTelemetry(ctx context.Context, evs []TelemetryEvent) (int, error)
	// UpsertTelemetryMetrics keeps the latest value of each metric series
	// per device and day (a later time replaces an earlier one).
	UpsertTelemetryMetrics(ctx context.Context, ms []TelemetryMetric) error
	// TelemetryActivity summarises a workspace's sessions from their
	// events, most recent first.
	TelemetryActivity(ctx context.Context, ws string, f ActivityFilter) ([]*SessionActivity, error)
	// LatestTelemetry is when the workspace's newest stored event happened
	// (zero when none).
	LatestTelemetry(ctx context.Context, ws string) (time.Time, error)
	// MintTelemetryToken records, audited, that an admin minted a
	// telemetry token for an active user (the token itself is
	// self-contained and stored nowhere).
	MintTelemetryToken(ctx context.Context, ws string, m TelemetryTokenMint) error
	// ComplianceSources reads the records one compliance file is sealed
	// from (see internal/compliance); the cursor is opaque.
	ComplianceSources(ctx context.Context, ws, eventType, cursor string, upTo time.Time, limit int) ([]*TelemetryEvent, []*AuditEvent, string, time.Time, error)
	// LastComplianceFile is the newest file of a chain, or nil.
	LastComplianceFile(ctx context.Context, ws, eventType string) (*ComplianceFile, error)
	// LatestComplianceEnd is the latest end_time of a workspace's files.
	LatestComplianceEnd(ctx context.Context, ws string) (time.Time, error)
	// ComplianceFilesNaming lists current files of the types naming a
	// user among their actors (any when email is "").
	ComplianceFilesNaming(ctx context.Context, ws, email string, types []string) ([]*ComplianceFile, error)
	// EraseCompliance deletes an erasure's raw events and stores its
	// re-sealed files, in one audited transaction; a legal hold refuses it.
	EraseCompliance(ctx context.Context, ws string, e Erasure, repl []ComplianceReplacement) (int64, error)

	// SIEM sinks: created, removed and rewound audited; the pusher leases
	// each, reads files by seq and moves the durable cursor.
	CreateSink(ctx context.Context, ws string, in SinkInput, secretEnc []byte) (*ComplianceSink, error)
	Sinks(ctx context.Context, ws string) ([]*ComplianceSink, error)
	AllSinks(ctx context.Context) ([]*ComplianceSink, error)
	DeleteSink(ctx context.Context, ws, name string) (*ComplianceSink, error)
	RewindSink(ctx context.Context, ws, name string) (*ComplianceSink, error)
	DeadLetters(ctx context.Context, ws, name string) ([]*DeadLetter, error)
	LeaseSink(ctx context.Context, id, owner string, until, now time.Time) (bool, error)
	AdvanceSink(ctx context.Context, id, eventType string, c SinkCursor, delivered int64, now time.Time) error
	DeadLetterSink(ctx context.Context, d DeadLetter, c SinkCursor) error
	FailSink(ctx context.Context, id string, attempts int, next time.Time, msg string, now time.Time) error
	ComplianceFilesFromSeq(ctx context.Context, ws, eventType string, seq int64, limit int) ([]*ComplianceFile, error)
	SinkLag(ctx context.Context, ws, eventType string, c SinkCursor) (int64, time.Time, error)

	// AnalyticsUsage reads a page of usage rollups (the Analytics API).
	AnalyticsUsage(ctx context.Context, ws string, q UsageQuery) ([]UsageRollup, bool, error)
	// RebuildAnalytics recomputes the rollups from the raw events, from the
	// Monday of since's week on, audited.
	// AnalyticsActiveUsers counts the people active per bucket and client
	// in [from, to) (the dashboard).
	AnalyticsActiveUsers(ctx context.Context, ws, period, from, to string) ([]ActiveUsers, error)
	// AnalyticsRanking is the limit people with the most tokens, threads,
	// turns or the longest streak (sort) in [from, to).
	AnalyticsRanking(ctx context.Context, ws, period, from, to, sort string, limit int) ([]UserRank, error)
	RebuildAnalytics(ctx context.Context, ws string, since time.Time) (int64, error)
	// DrainAnalytics applies the queued rollup deltas (of ws, or all).
	DrainAnalytics(ctx context.Context, ws string) error
	// Code-review analytics from GitHub webhooks.
	PutGitHubIntegration(ctx context.Context, ws string, reviewers []string, secretEnc []byte, apiURL string, tokenEnc []byte) (*GitHubIntegration, error)
	GitHubIntegration(ctx context.Context, ws string) (*GitHubIntegration, error)
	CodeReviewExists(ctx context.Context, ws, id string) (bool, error)
	RecordCodeReview(ctx context.Context, e CodeReviewEvent) (bool, error)
	CodeReviewRollups(ctx context.Context, ws, period, from, to, after string, limit int) ([]CodeReviewRollup, bool, error)
	ReviewerComments(ctx context.Context, ws string, since time.Time, limit int) ([]ReviewerComment, error)
	SetCommentReactions(ctx context.Context, ws, id string, r CommentReactions, now time.Time) error
	CodeReviewResponses(ctx context.Context, ws, period, from, to, after string, limit int) ([]CodeReviewResponses, bool, error)
	// PutComplianceFile stores a sealed file and its body (ECONFLICT when
	// its place in the chain is taken).
	PutComplianceFile(ctx context.Context, f *ComplianceFile, body []byte) error
	// ComplianceFiles lists files by end_time, and whether more follow.
	ComplianceFiles(ctx context.Context, ws string, f ComplianceFilter) ([]*ComplianceFile, bool, error)
	// ComplianceFile returns one file's record (ENOTFOUND).
	ComplianceFile(ctx context.Context, ws, id string) (*ComplianceFile, error)
	// ComplianceChunk returns chunk n of a file's body (ok false past the
	// last), so that a file is served a chunk at a time.
	ComplianceChunk(ctx context.Context, id string, n int) ([]byte, bool, error)
	// ComplianceMaxEventTimes is the latest sealed record time per type.
	ComplianceMaxEventTimes(ctx context.Context, ws string, types []string) (map[string]time.Time, error)
	// CodexTasks pages through a workspace's Codex sessions, most recently
	// updated first (cursor "" for the first page); CodexTask returns one
	// (ENOTFOUND).
	CodexTasks(ctx context.Context, ws string, limit int, cursor string) (*TaskPage, error)
	CodexTask(ctx context.Context, ws, id string) (*CodexTask, error)
	// CreateLegalHold sets a hold (audited); ReleaseLegalHold lifts it
	// (audited); LegalHolds lists a workspace's, active first.
	CreateLegalHold(ctx context.Context, ws string, in LegalHoldInput) (*LegalHold, error)
	ReleaseLegalHold(ctx context.Context, ws, id string) (*LegalHold, error)
	LegalHolds(ctx context.Context, ws string) ([]*LegalHold, error)
	// ExpireRetention removes, as of now, the compliance files and raw
	// telemetry past each workspace's retention, except what a hold
	// covers; PostgreSQL partitions go whole when nothing in them is
	// held or kept longer.
	ExpireRetention(ctx context.Context, now time.Time) (Expired, error)
	// PruneTelemetry removes telemetry older than before (retention) and
	// says how many partitions or rows of events went.
	PruneTelemetry(ctx context.Context, before time.Time) (int64, error)
	// AppendTelemetrySpans stores span summaries, each once.
	AppendTelemetrySpans(ctx context.Context, spans []TelemetrySpan) (int, error)
	// TelemetryMetrics lists a workspace's metric series of a day.
	TelemetryMetrics(ctx context.Context, ws, day string) ([]*TelemetryMetric, error)
	// TelemetrySpans lists a workspace's span summaries of a trace.
	TelemetrySpans(ctx context.Context, ws, traceID string) ([]*TelemetrySpan, error)
	// TelemetryEvents lists a workspace's telemetry events, newest first.
	TelemetryEvents(ctx context.Context, ws string, f TelemetryFilter) ([]*TelemetryEvent, error)
	// SyncMachines lists a workspace's sync machines, last report first.
	SyncMachines(ctx context.Context, ws string) ([]*SyncMachine, error)

	// AuditEvents lists a workspace's events, newest first, starting after
	// the cursor (an event ID; 0 for the newest).
	AuditEvents(ctx context.Context, ws string, f AuditFilter) ([]*AuditEvent, error)

	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// AddSigningKey stores a key and makes it the active one; the previous
	// active key stays published until retired.
	AddSigningKey(ctx context.Context, k SigningKey) (*SigningKey, error)
	RetireSigningKey(ctx context.Context, kid string) (*SigningKey, error)

	// Version is the state version: it grows with every committed change.
	Version(ctx context.Context) (int64, error)
	// State reads everything the policy snapshot is compiled from, at one
	// consistent version.
	State(ctx context.Context) (*State, error)
	// WorkspaceState reads one workspace's part of the state (no signing
	// keys, no server keys); a workspace that does not exist gives a State
	// without workspaces.
	WorkspaceState(ctx context.Context, ws string) (*State, error)
	// ChangesSince lists the workspaces changed after version ("" for a
	// server-level change such as a signing key); complete is false when
	// the log no longer reaches back that far.
	ChangesSince(ctx context.Context, version int64) (workspaces []string, complete bool, err error)

	Close() error
}

// State is the whole distributable state at one version.
type State struct {
	Version      int64
	Workspaces   []*Workspace
	Users        map[string][]*User          // by workspace
	Groups       map[string][]*Group         // by workspace
	Roles        map[string][]*Role          // by workspace
	Policies     map[string][]*PolicyVersion // current versions, by workspace
	Assignments  map[string]*Assignment      // by workspace
	APIKeys      []*APIKey                   // not revoked, with hashes
	AccessTokens []*AccessToken              // not revoked, with hashes
	SigningKeys  []*SigningKey               // not retired
	// EnrollmentTokens are the tokens not revoked, with hashes.
	EnrollmentTokens []*EnrollmentToken
	// RevokedGrants are the OAuth sign-ins revoked within
	// MaxOAuthAccessTTL, whose access tokens may still be unexpired, by
	// workspace.
	RevokedGrants map[string][]string
	// Gateways are the workspaces' model gateways (their keys sealed).
	Gateways map[string]*Gateway
	// Budgeted are, by workspace, the gateway budgets' subjects
	// ("user:EMAIL", "group:NAME"): a request of anyone else reserves
	// nothing, and skips the database.
	Budgeted map[string][]string
}

// MaxOAuthAccessTTL bounds the lifetime of the native configuration
// server's access tokens, so that a revoked sign-in's tokens need to be
// remembered only this long.
const MaxOAuthAccessTTL = 24 * time.Hour
