package codexgov

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// IdentityProvider is an upstream OpenID Connect provider a workspace's
// people sign in with (Okta, Entra ID, Google…).
type IdentityProvider struct {
	// Name identifies the provider in the workspace and on the sign-in
	// page's button ("okta").
	Name      string `json:"name"`
	Workspace string `json:"workspace"`
	// DisplayName is the button's label ("Okta"); Name when empty.
	DisplayName string `json:"display_name,omitempty"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	// ClientSecret is only ever read from a request; the store keeps it
	// encrypted with the master key (ClientSecretEnc).
	ClientSecret    string `json:"client_secret,omitempty"`
	ClientSecretEnc []byte `json:"-"`
	// AllowedDomain is the one email domain whose people may sign in
	// ("example.com"); an ID token with another email is refused.
	AllowedDomain string `json:"allowed_domain"`
	// GroupsClaim names the ID token claim listing the user's groups;
	// when set, the user's memberships are synchronised at each sign-in.
	GroupsClaim string    `json:"groups_claim,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CheckGroupName checks a group name: groups come from identity providers
// ("Codex Admins", "Engineering / Platform"), so any printable text of 1 to
// 256 characters without surrounding spaces is accepted.
func CheckGroupName(field, name string) error {
	bad := func(why string) error {
		return &Error{Code: EINVALID, Message: "invalid group name", Details: []Detail{{Field: field, Message: fmt.Sprintf("%q %s; want 1 to 256 printable characters without leading or trailing spaces", name, why)}}}
	}
	switch {
	case name == "":
		return bad("is empty")
	case !utf8.ValidString(name):
		return bad("is not valid UTF-8")
	case utf8.RuneCountInString(name) > 256:
		return bad("is too long")
	case strings.TrimSpace(name) != name:
		return bad("has leading or trailing spaces")
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }):
		return bad("contains a control character")
	}
	return nil
}

// UserScopes are the API scopes a person's own sign-in (codexgov login, an
// admin web session) carries: they follow the person's roles at the time
// of each request.
func UserScopes(perms []Permission) []Scope {
	var out []Scope
	if slices.Contains(perms, PermCodexAdmin) {
		out = append(out, ScopeAdminRead, ScopeAdminWrite, ScopeCredentialsWrite, ScopeAuditRead)
	}
	if slices.Contains(perms, PermComplianceRead) && !slices.Contains(out, ScopeAuditRead) {
		out = append(out, ScopeAuditRead)
	}
	// The Compliance API: compliance_read reads it, compliance_delete
	// deletes (and so reads) tasks.
	if slices.Contains(perms, PermComplianceRead) || slices.Contains(perms, PermComplianceDelete) {
		out = append(out, ScopeComplianceRead)
	}
	if slices.Contains(perms, PermComplianceDelete) {
		out = append(out, ScopeComplianceDelete)
	}
	// The Analytics API: analytics_read, or codex_admin.
	if slices.Contains(perms, PermAnalyticsRead) || slices.Contains(perms, PermCodexAdmin) {
		out = append(out, ScopeAnalyticsRead)
	}
	return out
}

// DeviceAuthorization is a pending RFC 8628 device authorization:
// `codexgov login` on a machine without a browser shows UserCode, a person
// approves it on the verification page, and the device's polling then gets
// its sign-in.
type DeviceAuthorization struct {
	DeviceHash string
	// UserCode is normalized: eight letters, upper case, no dash.
	UserCode string
	ClientID string
	Scope    string
	// Workspace is the workspace asked for, or empty until a person
	// approves it from any workspace.
	Workspace string
	// User is the approving user's email.
	User      string
	Status    DeviceAuthStatus
	Interval  time.Duration
	CreatedAt time.Time
	ExpiresAt time.Time
	LastPoll  time.Time
	UserAgent string
}

// DeviceAuthStatus is where a device authorization stands.
type DeviceAuthStatus string

// Device authorization states.
const (
	DeviceAuthPending  DeviceAuthStatus = "pending"
	DeviceAuthApproved DeviceAuthStatus = "approved"
	DeviceAuthDenied   DeviceAuthStatus = "denied"
	DeviceAuthUsed     DeviceAuthStatus = "used"
)

// DevicePoll is the outcome of a device's token request.
type DevicePoll int

// Poll outcomes, as RFC 8628 §3.5 names them.
const (
	PollIssued               DevicePoll = iota // the sign-in was created
	PollAuthorizationPending                   // not decided yet
	PollSlowDown                               // polled faster than the interval (which grows by 5 s)
	PollExpired                                // the device code expired
	PollDenied                                 // the person denied it
)

// DeviceSlowDownStep is how much the polling interval grows at each
// slow_down (RFC 8628 §3.5).
const DeviceSlowDownStep = 5 * time.Second

// NormalizeUserCode turns what a person typed into a stored user code:
// upper case, without dashes or spaces.
func NormalizeUserCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// NormalizeEmail lowercases and checks an email address, the key of a
// user; field is the request's JSON pointer or attribute for the error.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || a.Name != "" {
		msg := fmt.Sprintf("%q is not an email address (want name@example.com)", email)
		return "", &Error{Code: EINVALID, Message: msg, Details: []Detail{{Field: field, Message: msg}}}
	}
	return e, nil
}

// SingleSignOn is an OpenID Connect relying party (internal/oidc); the
// server wires one into the HTTP API.
type SingleSignOn interface {
	// Begin makes the authorization request: a random state, a nonce and
	// a PKCE verifier, which the caller keeps (sealed) for Finish.
	Begin(ctx context.Context, ip *IdentityProvider, secret, redirect string) (*SSOStart, error)
	// Finish redeems the code and checks the ID token. An identity
	// codexgov does not accept is ErrSSORefused, with a message that can
	// be shown to the person.
	Finish(ctx context.Context, ip *IdentityProvider, secret, redirect, code string, st SSOStart) (*SSOIdentity, error)
}

// SSOStart is what the browser takes to the identity provider.
type SSOStart struct {
	URL                    string
	State, Nonce, Verifier string
}

// SSOIdentity is who an ID token says signed in.
type SSOIdentity struct {
	Email string
	Name  string
	// Groups is the groups claim's values; HasGroups says whether the
	// provider is set to send one (an empty claim then means "no groups").
	Groups    []string
	HasGroups bool
	Subject   string
}

// ErrSSORefused is an ID token or identity codexgov does not accept.
var ErrSSORefused = errors.New("single sign-on refused")

// WantedGroups is a groups claim applied to a workspace's groups: the
// groups whose name or external ID the claim lists.
func WantedGroups(claim []string, groups []*Group) []string {
	var out []string
	for _, g := range groups {
		if slices.Contains(claim, g.Name) || (g.ExternalID != "" && slices.Contains(claim, g.ExternalID)) {
			out = append(out, g.Name)
		}
	}
	return out
}
