// Package configserver is the protocol side of codexgov's native
// configuration server for Codex 0.169.0 (CONFIG_SERVER.md): the OAuth
// 2.0 authorization-code grant with PKCE for a public client on a
// loopback redirect, self-contained access tokens that the bundle
// endpoint checks without a database query, the sealing of pending requests, and the
// coalescing recorder of bundle fetches (proof of delivery).
package configserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/signing"
)

// DefaultClientID is the OAuth client Codex is configured with.
const DefaultClientID = "codex-cli"

// Scopes the authorization server knows. Codex sends them only on the
// authorize request; the token endpoint carries them over.
const (
	ScopeConfig        = "codex.config"
	ScopeOfflineAccess = "offline_access"
)

// DefaultScopes are written into bootstrap files.
var DefaultScopes = []string{ScopeConfig, ScopeOfflineAccess}

// AccessTokenPrefix marks the configuration server's access tokens.
const AccessTokenPrefix = "cga_"

// Lifetimes. Codex refreshes an access token once it is within about
// 30 s of expiry, so the access token must live far longer; its bundle
// cache lasts an hour, which one access token covers.
const (
	DefaultAccessTTL   = time.Hour
	MinAccessTTL       = 5 * time.Minute
	DefaultRefreshIdle = 90 * 24 * time.Hour
	CodeTTL            = 2 * time.Minute
	RequestTTL         = 15 * time.Minute
	// RefreshGrace accepts the refresh token a client just rotated out,
	// in case the response to its refresh was lost on the way.
	RefreshGrace = 2 * time.Minute
)

// Keys are the protocol's operations on the keys the master key derives
// (internal/signing.Sealer): access tokens, sealed authorization requests,
// and through the Sealer, sealed values, sealed secrets and MACs.
type Keys struct {
	*signing.Sealer
}

// NewKeys derives the protocol keys.
func NewKeys(m signing.MasterKey) *Keys { return &Keys{Sealer: signing.NewSealer(m)} }

// AccessClaims are what an access token says.
type AccessClaims struct {
	Grant     string `json:"g"`
	Workspace string `json:"w"`
	User      string `json:"u"`
	Expires   int64  `json:"e"`
	// Client is set for the codexgov CLI's tokens (CLIClientID), which
	// the admin API takes; Codex's own tokens leave it empty.
	Client string `json:"c,omitempty"`
}

// CLIClientID is the OAuth client of `codexgov login`.
const CLIClientID = "codexgov-cli"

var b64 = base64.RawURLEncoding

// Mint makes an access token: the claims and their HMAC-SHA256.
func (k *Keys) Mint(c AccessClaims) string {
	payload, _ := json.Marshal(c)
	p := AccessTokenPrefix + b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(k.sum(p))
}

func (k *Keys) sum(p string) []byte { return k.TokenMAC(p) }

// Verify checks an access token's MAC and expiry.
func (k *Keys) Verify(token string, now time.Time) (AccessClaims, error) {
	var c AccessClaims
	p, sig, ok := strings.Cut(token, ".")
	if !ok || !strings.HasPrefix(p, AccessTokenPrefix) {
		return c, errors.New("malformed access token")
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.sum(p)) {
		return c, errors.New("access token signature does not verify")
	}
	payload, err := b64.DecodeString(p[len(AccessTokenPrefix):])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, errors.New("malformed access token")
	}
	if now.Unix() >= c.Expires {
		return c, fmt.Errorf("access token expired at %s", time.Unix(c.Expires, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// AuthRequest is a validated authorization request, carried sealed
// through the sign-in page (and, later, through an upstream IdP's state),
// so that any replica can finish it.
type AuthRequest struct {
	Workspace   string `json:"w"`
	ClientID    string `json:"c"`
	RedirectURI string `json:"r"`
	State       string `json:"s"`
	Challenge   string `json:"p"`
	Scope       string `json:"o"`
	Resource    string `json:"x,omitempty"`
	Expires     int64  `json:"e"`
}

// Seal encrypts a request for the sign-in form.
func (k *Keys) Seal(r AuthRequest) string { return k.SealValue("authreq", r) }

// Open decrypts and checks a sealed request.
func (k *Keys) Open(s string, now time.Time) (AuthRequest, error) {
	var r AuthRequest
	if err := k.OpenValue("authreq", s, &r); err != nil {
		return r, errors.New("the sign-in request is " + err.Error() + "; start again from Codex")
	}
	if now.Unix() >= r.Expires {
		return r, errors.New("the sign-in request expired; run codex login again")
	}
	return r, nil
}

// AuthError is an authorization request error: Redirect says whether it
// may be sent to the redirect URI (RFC 6749 §4.1.2.1: not when the client
// or the redirect URI is wrong, which a person must be shown instead).
type AuthError struct {
	Code        string
	Description string
	Redirect    bool
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Description }

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// Loopback reports whether a URL host names this machine: localhost or a
// loopback address.
func Loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// CheckRedirectURI accepts a loopback redirect on any port (RFC 8252 §7.3):
// http, host 127.0.0.1, [::1] or localhost, path /callback.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return errors.New("redirect_uri must be http://127.0.0.1:<port>/callback")
	}
	host := u.Hostname()
	if !Loopback(host) {
		return fmt.Errorf("redirect_uri host %q is not a loopback address; Codex listens on 127.0.0.1", host)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return errors.New("redirect_uri needs a port")
	}
	if u.Path != "/callback" {
		return fmt.Errorf("redirect_uri path %q is not /callback", u.Path)
	}
	return nil
}

// ParseAuthorize validates an authorization request's query.
func ParseAuthorize(ws string, q url.Values, clientID string, now time.Time) (AuthRequest, error) {
	r := AuthRequest{Workspace: ws, ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state"),
		Challenge: q.Get("code_challenge"), Resource: q.Get("resource"), Expires: now.Add(RequestTTL).Unix()}
	if r.ClientID != clientID {
		return r, &AuthError{Code: "invalid_client", Description: fmt.Sprintf("unknown client_id %q; the bootstrap file must say client_id = %q", r.ClientID, clientID)}
	}
	if err := CheckRedirectURI(r.RedirectURI); err != nil {
		return r, &AuthError{Code: "invalid_request", Description: err.Error()}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return r, &AuthError{Code: "unsupported_response_type", Description: "response_type must be code", Redirect: true}
	}
	if q.Get("code_challenge_method") != "S256" || !challengeRE.MatchString(r.Challenge) {
		return r, &AuthError{Code: "invalid_request", Description: "PKCE is required: code_challenge (43 base64url characters) with code_challenge_method=S256", Redirect: true}
	}
	var scopes []string
	for _, s := range strings.Fields(q.Get("scope")) {
		if s != ScopeConfig && s != ScopeOfflineAccess {
			return r, &AuthError{Code: "invalid_scope", Description: fmt.Sprintf("unknown scope %q; known: %s %s", s, ScopeConfig, ScopeOfflineAccess), Redirect: true}
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	r.Scope = strings.Join(scopes, " ")
	if r.Resource != "" {
		if err := CheckResource(ws, r.Resource); err != nil {
			return r, &AuthError{Code: "invalid_target", Description: err.Error(), Redirect: true}
		}
	}
	return r, nil
}

// CheckResource accepts an RFC 8707 resource that names this workspace's
// configuration server base URL.
func CheckResource(ws, resource string) error {
	u, err := url.Parse(resource)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || strings.TrimSuffix(u.Path, "/") != "/codex-config/"+ws {
		return fmt.Errorf("resource %q is not this workspace's configuration server (https://<host>/codex-config/%s)", resource, ws)
	}
	return nil
}

// VerifyPKCE checks BASE64URL(SHA256(verifier)) against the challenge.
func VerifyPKCE(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// TokenResponse is the token endpoint's success body.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// TokenError is the token endpoint's error body (RFC 6749 §5.2).
type TokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// Callback is the redirect that completes an authorization request.
func (r AuthRequest) Callback(params url.Values) string {
	params.Set("state", r.State)
	return r.RedirectURI + "?" + params.Encode()
}

// NewCode returns a fresh authorization code and its hash.
func NewCode() (code, hash string) {
	code, _, hash = codexgov.NewSecret(codexgov.OAuthCodePrefix)
	return code, hash
}
