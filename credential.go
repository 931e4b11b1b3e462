package codexgov

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scope is what an API key may do.
type Scope string

// API key scopes. A write scope includes the matching read.
const (
	// ScopeServerAdmin is the server key's: every workspace, creating
	// workspaces, signing keys.
	ScopeServerAdmin      Scope = "server:admin"
	ScopeAdminRead        Scope = "admin:read"        // directory, settings, policies, assignment, lookup
	ScopeAdminWrite       Scope = "admin:write"       // change them
	ScopeAuditRead        Scope = "audit:read"        // the audit log
	ScopeCredentialsWrite Scope = "credentials:write" // issue and revoke API keys and access tokens
	// ScopeSCIM is an identity provider's: the SCIM 2.0 endpoints of its
	// workspace, and nothing else.
	ScopeSCIM Scope = "scim"
	// ScopeTelemetryWrite is a telemetry token's only scope: sending
	// OTLP to the receiver.
	ScopeTelemetryWrite Scope = "telemetry:write"
	// ScopeComplianceRead reads the Compliance API (log files, tasks);
	// ScopeComplianceDelete deletes tasks.
	ScopeComplianceRead   Scope = "compliance:read"
	ScopeComplianceDelete Scope = "compliance:delete"
	// ScopeAnalyticsRead reads the Analytics API.
	ScopeAnalyticsRead Scope = "analytics:read"
)

// WorkspaceScopes are the scopes a workspace key may carry.
func WorkspaceScopes() []Scope {
	return []Scope{ScopeAdminRead, ScopeAdminWrite, ScopeAuditRead, ScopeCredentialsWrite, ScopeSCIM, ScopeComplianceRead, ScopeComplianceDelete, ScopeAnalyticsRead}
}

// Allows reports whether a key with these scopes may act with scope want.
func Allows(have []Scope, want Scope) bool {
	if slices.Contains(have, ScopeServerAdmin) || slices.Contains(have, want) {
		return true
	}
	return want == ScopeAdminRead && (slices.Contains(have, ScopeAdminWrite) || slices.Contains(have, ScopeCredentialsWrite))
}

// WhoAmI describes the credential a request came with
// (GET /api/v1/whoami, codexgov admin whoami).
type WhoAmI struct {
	// Kind is api_key, access_token, enrollment_token or login.
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Actor is how the audit log names this caller.
	Actor string `json:"actor"`
	// Workspace is "" for a server key.
	Workspace string `json:"workspace"`
	// Identity is the user or service a client credential acts for.
	Identity  string    `json:"identity,omitempty"`
	Scopes    []Scope   `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// APIKey is an admin credential. Only Hash is stored, never the secret.
type APIKey struct {
	ID        string    `json:"id"`
	Workspace string    `json:"workspace"` // empty for a server key
	Name      string    `json:"name"`
	Scopes    []Scope   `json:"scopes"`
	Hash      string    `json:"-"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for a key that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// LastUsedAt is when a request last came with the key (recorded in
	// batches, so up to a flush interval late); zero for never.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	// Secret is set only in the response that creates the key.
	Secret string `json:"secret,omitempty"`
}

// AccessToken is a per-user credential for the client routes: admins issue
// and revoke them, and they expire.
type AccessToken struct {
	ID        string    `json:"id"`
	Workspace string    `json:"workspace"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Secret    string    `json:"secret,omitempty"`
}

// Credential prefixes: they make a leaked secret recognisable to secret
// scanners and tell the server which table to look in.
const (
	APIKeyPrefix      = "cgk_"
	AccessTokenPrefix = "cgt_"
	// EnrollmentTokenPrefix marks a device enrollment token, which sits in
	// the configuration server URL of a machine's bootstrap file.
	EnrollmentTokenPrefix = "cge_"
	// EnrollmentIDPrefix begins every enrollment token's record ID.
	EnrollmentIDPrefix = "enr_"
	// RefreshTokenPrefix marks an OAuth refresh token of the native
	// configuration server.
	RefreshTokenPrefix = "cgr_"
	// OAuthCodePrefix marks an OAuth authorization code.
	OAuthCodePrefix = "cgc_"
	// TelemetryTokenPrefix marks a telemetry token: scope telemetry:write
	// only, carried in the [otel] headers codexgov delivers.
	TelemetryTokenPrefix = "cgo_"
)

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret with the prefix, its record ID and
// its hash.
func NewSecret(prefix string) (secret, id, hash string) {
	var b [32]byte
	rand.Read(b[:])
	secret = prefix + strings.ToLower(tokenEncoding.EncodeToString(b[:]))
	idPrefix := map[string]string{AccessTokenPrefix: "tok", EnrollmentTokenPrefix: "enr", RefreshTokenPrefix: "grant", OAuthCodePrefix: "code"}[prefix]
	if idPrefix == "" {
		idPrefix = "key"
	}
	return secret, NewID(idPrefix), HashSecret(secret)
}

// HashSecret is how secrets are stored and looked up: SHA-256, hex. The
// secrets are 256 random bits, so a fast hash is enough.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random record ID with the prefix ("key_3f9c…").
func NewID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s_%x", prefix, b)
}

// SigningKey is an Ed25519 key that signs distributed documents. The
// private half is stored encrypted.
type SigningKey struct {
	KID        string    `json:"kid"`
	PublicKey  []byte    `json:"public_key"`
	PrivateEnc []byte    `json:"-"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	RetiredAt  time.Time `json:"retired_at,omitzero"`
}
