// Package client is the Go client of the codexgov REST API. The admin CLI
// and the end-to-end tests use it; other Go programs may too.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// Client talks to one codexgov server with one bearer credential.
type Client struct {
	base  string
	token string
	// Token, when set, gives the bearer credential of each request (a
	// credential that refreshes); it overrides the one given to New.
	Token func(ctx context.Context) (string, error)
	HTTP  *http.Client
}

// New returns a client for the server at base (e.g. http://127.0.0.1:7700).
func New(base, token string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, HTTP: http.DefaultClient}
}

// APIError is an error response of the API.
type APIError struct {
	StatusCode int
	RequestID  string
	Err        *codexgov.Error
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Err.Error(), e.StatusCode) }
func (e *APIError) Unwrap() error { return e.Err }

// Bearer is the credential the client's next request carries.
func (c *Client) Bearer(ctx context.Context) (string, error) {
	if c.Token != nil {
		return c.Token(ctx)
	}
	return c.token, nil
}

// Base is the server URL the client talks to.
func (c *Client) Base() string { return c.base }

func (c *Client) request(ctx context.Context, method, path string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := c.token
	if c.Token != nil {
		if token, err = c.Token(ctx); err != nil {
			return nil, err
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

func decodeError(resp *http.Response) error {
	var body struct {
		codexgov.Error
		RequestID string `json:"request_id"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil || body.Code == "" {
		return &APIError{StatusCode: resp.StatusCode, Err: &codexgov.Error{Code: codexgov.EINTERNAL, Message: strings.TrimSpace(resp.Status + " " + string(b))}}
	}
	e := body.Error
	return &APIError{StatusCode: resp.StatusCode, RequestID: body.RequestID, Err: &e}
}

// Do calls a JSON route: in is sent as the body when not nil, and the
// response is decoded into out when not nil.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	req, err := c.request(ctx, method, path, in)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return decodeError(resp)
	}
	var err2 error
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
	} else {
		err2 = json.NewDecoder(resp.Body).Decode(out)
	}
	if next := resp.Header.Get(NextCursorHeader); err2 == nil && next != "" && method == "GET" {
		return c.rest(ctx, path, next, out)
	}
	if err2 == nil && resp.Header.Get("Codexgov-Change") == "none" {
		// The change changed nothing and wrote no audit event; out holds
		// the object as it stands.
		return codexgov.ErrNoChange
	}
	return err2
}

// NextCursorHeader is the server's cursor of a list's next page.
const NextCursorHeader = "Codexgov-Next-Cursor"

// rest appends the pages of a list after the first to out, a pointer to
// a slice, following the server's cursors.
func (c *Client) rest(ctx context.Context, path, cursor string, out any) error {
	all := reflect.ValueOf(out).Elem()
	if all.Kind() != reflect.Slice {
		return nil
	}
	for cursor != "" {
		u, err := url.Parse(path)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("after", cursor)
		u.RawQuery = q.Encode()
		req, err := c.request(ctx, "GET", u.String(), nil)
		if err != nil {
			return err
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode >= 400 {
			err := decodeError(resp)
			resp.Body.Close()
			return err
		}
		page := reflect.New(all.Type())
		err = json.NewDecoder(resp.Body).Decode(page.Interface())
		resp.Body.Close()
		if err != nil {
			return err
		}
		all.Set(reflect.AppendSlice(all, page.Elem()))
		cursor = resp.Header.Get(NextCursorHeader)
	}
	return nil
}

func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.Do(ctx, "GET", path, nil, &v)
	return v, err
}

func send[T any](ctx context.Context, c *Client, method, path string, in any) (T, error) {
	var v T
	err := c.Do(ctx, method, path, in, &v)
	return v, err
}

func ws(id string, parts ...string) string {
	p := "/api/v1/workspaces/" + url.PathEscape(id)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// Workspaces lists the workspaces the key can see.
func (c *Client) Workspaces(ctx context.Context) ([]codexgov.Workspace, error) {
	return get[[]codexgov.Workspace](ctx, c, "/api/v1/workspaces")
}

// CreateWorkspace creates a workspace (server key).
func (c *Client) CreateWorkspace(ctx context.Context, id, name string) (*codexgov.Workspace, error) {
	return send[*codexgov.Workspace](ctx, c, "POST", "/api/v1/workspaces", map[string]string{"id": id, "name": name})
}

// Workspace returns a workspace.
func (c *Client) Workspace(ctx context.Context, id string) (*codexgov.Workspace, error) {
	return get[*codexgov.Workspace](ctx, c, ws(id))
}

// Settings returns a workspace's settings.
func (c *Client) Settings(ctx context.Context, w string) (*codexgov.Settings, error) {
	return get[*codexgov.Settings](ctx, c, ws(w, "settings"))
}

// UpdateSettings changes a workspace's settings.
func (c *Client) UpdateSettings(ctx context.Context, w string, u codexgov.SettingsUpdate) (*codexgov.Settings, error) {
	return send[*codexgov.Settings](ctx, c, "PATCH", ws(w, "settings"), u)
}

// Users lists users.
func (c *Client) Users(ctx context.Context, w string) ([]codexgov.User, error) {
	return get[[]codexgov.User](ctx, c, ws(w, "users"))
}

// CreateUser adds a user.
func (c *Client) CreateUser(ctx context.Context, w, email, name string) (*codexgov.User, error) {
	return send[*codexgov.User](ctx, c, "POST", ws(w, "users"), map[string]string{"email": email, "name": name})
}

// User returns a user.
func (c *Client) User(ctx context.Context, w, email string) (*codexgov.User, error) {
	return get[*codexgov.User](ctx, c, ws(w, "users", email))
}

// UpdateUser renames, deactivates or reactivates a user.
func (c *Client) UpdateUser(ctx context.Context, w, email string, u codexgov.UserUpdate) (*codexgov.User, error) {
	return send[*codexgov.User](ctx, c, "PATCH", ws(w, "users", email), u)
}

// Groups lists groups.
func (c *Client) Groups(ctx context.Context, w string) ([]codexgov.Group, error) {
	return get[[]codexgov.Group](ctx, c, ws(w, "groups"))
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, w, name, description string) (*codexgov.Group, error) {
	return send[*codexgov.Group](ctx, c, "POST", ws(w, "groups"), map[string]string{"name": name, "description": description})
}

// Group returns a group.
func (c *Client) Group(ctx context.Context, w, name string) (*codexgov.Group, error) {
	return get[*codexgov.Group](ctx, c, ws(w, "groups", name))
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, w, name string) error {
	return c.Do(ctx, "DELETE", ws(w, "groups", name), nil, nil)
}

// AddMember adds a user to a group.
func (c *Client) AddMember(ctx context.Context, w, group, email string) (*codexgov.Group, error) {
	return send[*codexgov.Group](ctx, c, "PUT", ws(w, "groups", group, "members", email), nil)
}

// RemoveMember removes a user from a group.
func (c *Client) RemoveMember(ctx context.Context, w, group, email string) (*codexgov.Group, error) {
	return send[*codexgov.Group](ctx, c, "DELETE", ws(w, "groups", group, "members", email), nil)
}

// GrantRole grants a role to a group.
func (c *Client) GrantRole(ctx context.Context, w, group, role string) (*codexgov.Group, error) {
	return send[*codexgov.Group](ctx, c, "PUT", ws(w, "groups", group, "roles", role), nil)
}

// RevokeRole revokes a role from a group.
func (c *Client) RevokeRole(ctx context.Context, w, group, role string) (*codexgov.Group, error) {
	return send[*codexgov.Group](ctx, c, "DELETE", ws(w, "groups", group, "roles", role), nil)
}

// Roles lists roles.
func (c *Client) Roles(ctx context.Context, w string) ([]codexgov.Role, error) {
	return get[[]codexgov.Role](ctx, c, ws(w, "roles"))
}

// CreateRole creates a custom role.
func (c *Client) CreateRole(ctx context.Context, w string, r codexgov.Role) (*codexgov.Role, error) {
	return send[*codexgov.Role](ctx, c, "POST", ws(w, "roles"), map[string]any{"name": r.Name, "description": r.Description, "permissions": r.Permissions})
}

// Role returns a role.
func (c *Client) Role(ctx context.Context, w, name string) (*codexgov.Role, error) {
	return get[*codexgov.Role](ctx, c, ws(w, "roles", name))
}

// UpdateRole changes a role.
func (c *Client) UpdateRole(ctx context.Context, w, name string, u codexgov.RoleUpdate) (*codexgov.Role, error) {
	return send[*codexgov.Role](ctx, c, "PATCH", ws(w, "roles", name), u)
}

// DeleteRole deletes a role.
func (c *Client) DeleteRole(ctx context.Context, w, name string) error {
	return c.Do(ctx, "DELETE", ws(w, "roles", name), nil, nil)
}

// Policies lists the current version of every policy.
func (c *Client) Policies(ctx context.Context, w string) ([]codexgov.PolicyVersion, error) {
	return get[[]codexgov.PolicyVersion](ctx, c, ws(w, "policies"))
}

// PutPolicy writes a new version of a policy.
func (c *Client) PutPolicy(ctx context.Context, w string, p codexgov.PolicyInput) (*codexgov.PolicyVersion, error) {
	return send[*codexgov.PolicyVersion](ctx, c, "PUT", ws(w, "policies", p.Name), map[string]string{"requirements": p.Requirements, "defaults": p.Defaults, "comment": p.Comment})
}

// DryRunPolicy validates a policy write as the server would make it and
// diffs it against the current version, storing nothing.
func (c *Client) DryRunPolicy(ctx context.Context, w string, p codexgov.PolicyInput) (*codexgov.PolicyDryRun, error) {
	return send[*codexgov.PolicyDryRun](ctx, c, "PUT", ws(w, "policies", p.Name)+"?dry_run=true", map[string]string{"requirements": p.Requirements, "defaults": p.Defaults, "comment": p.Comment})
}

// Policy returns a version of a policy (0: the current one).
func (c *Client) Policy(ctx context.Context, w, name string, version int) (*codexgov.PolicyVersion, error) {
	p := ws(w, "policies", name)
	if version > 0 {
		p += "?version=" + strconv.Itoa(version)
	}
	return get[*codexgov.PolicyVersion](ctx, c, p)
}

// DeletePolicy deletes a policy.
func (c *Client) DeletePolicy(ctx context.Context, w, name string) error {
	return c.Do(ctx, "DELETE", ws(w, "policies", name), nil, nil)
}

// PolicyHistory lists every version of a policy.
func (c *Client) PolicyHistory(ctx context.Context, w, name string) ([]codexgov.PolicyVersion, error) {
	return get[[]codexgov.PolicyVersion](ctx, c, ws(w, "policies", name, "versions"))
}

// DiffPolicy diffs two versions (0 for the defaults: previous and current).
func (c *Client) DiffPolicy(ctx context.Context, w, name string, from, to int) (*codexgov.PolicyDiff, error) {
	q := url.Values{}
	if from > 0 {
		q.Set("from", strconv.Itoa(from))
	}
	if to > 0 {
		q.Set("to", strconv.Itoa(to))
	}
	p := ws(w, "policies", name, "diff")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return get[*codexgov.PolicyDiff](ctx, c, p)
}

// Assignment returns the assignment.
func (c *Client) Assignment(ctx context.Context, w string) (*codexgov.Assignment, error) {
	return get[*codexgov.Assignment](ctx, c, ws(w, "assignment"))
}

// SetAssignment replaces the assignment.
func (c *Client) SetAssignment(ctx context.Context, w string, a codexgov.Assignment) (*codexgov.Assignment, error) {
	return send[*codexgov.Assignment](ctx, c, "PUT", ws(w, "assignment"), a)
}

// LookupUser explains which policy a user gets.
func (c *Client) LookupUser(ctx context.Context, w, email string) (*codexgov.Lookup, error) {
	return get[*codexgov.Lookup](ctx, c, ws(w, "lookup")+"?user="+url.QueryEscape(email))
}

// LookupGroup explains which policy a group's members get.
func (c *Client) LookupGroup(ctx context.Context, w, group string) (*codexgov.Lookup, error) {
	return get[*codexgov.Lookup](ctx, c, ws(w, "lookup")+"?group="+url.QueryEscape(group))
}

// APIKeys lists API keys.
func (c *Client) APIKeys(ctx context.Context, w string) ([]codexgov.APIKey, error) {
	return get[[]codexgov.APIKey](ctx, c, ws(w, "api-keys"))
}

// CreateAPIKey creates an API key that does not expire; its Secret is set
// only here.
func (c *Client) CreateAPIKey(ctx context.Context, w, name string, scopes ...codexgov.Scope) (*codexgov.APIKey, error) {
	return c.CreateAPIKeyWith(ctx, w, APIKeyRequest{Name: name, Scopes: scopes})
}

// APIKeyRequest is the body of an API key's creation.
type APIKeyRequest struct {
	Name   string           `json:"name"`
	Scopes []codexgov.Scope `json:"scopes"`
	// ExpiresIn is a Go duration; empty or "never" for no expiry.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// CreateAPIKeyWith creates an API key; its Secret is set only here.
func (c *Client) CreateAPIKeyWith(ctx context.Context, w string, r APIKeyRequest) (*codexgov.APIKey, error) {
	return send[*codexgov.APIKey](ctx, c, "POST", ws(w, "api-keys"), r)
}

// WhoAmI describes the client's credential.
func (c *Client) WhoAmI(ctx context.Context) (*codexgov.WhoAmI, error) {
	return get[*codexgov.WhoAmI](ctx, c, "/api/v1/whoami")
}

// RevokeAPIKey revokes an API key.
func (c *Client) RevokeAPIKey(ctx context.Context, w, id string) (*codexgov.APIKey, error) {
	return send[*codexgov.APIKey](ctx, c, "DELETE", ws(w, "api-keys", id), nil)
}

// AccessTokens lists access tokens.
func (c *Client) AccessTokens(ctx context.Context, w string) ([]codexgov.AccessToken, error) {
	return get[[]codexgov.AccessToken](ctx, c, ws(w, "access-tokens"))
}

// CreateAccessToken issues an access token; expiresIn is a Go duration or
// "" for the default.
func (c *Client) CreateAccessToken(ctx context.Context, w, user, name, expiresIn string) (*codexgov.AccessToken, error) {
	return send[*codexgov.AccessToken](ctx, c, "POST", ws(w, "access-tokens"), map[string]string{"user": user, "name": name, "expires_in": expiresIn})
}

// RevokeAccessToken revokes an access token.
func (c *Client) RevokeAccessToken(ctx context.Context, w, id string) (*codexgov.AccessToken, error) {
	return send[*codexgov.AccessToken](ctx, c, "DELETE", ws(w, "access-tokens", id), nil)
}

// AuditEvents returns a page of audit events older than before (0: newest).
// TelemetryEvents lists a workspace's Codex telemetry events, newest
// first; q holds the route's filters (user, session, type, since, until).
func (c *Client) TelemetryEvents(ctx context.Context, w string, q url.Values) ([]codexgov.TelemetryEvent, error) {
	p := ws(w, "telemetry-events")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return get[[]codexgov.TelemetryEvent](ctx, c, p)
}

// LegalHolds lists a workspace's legal holds.
func (c *Client) LegalHolds(ctx context.Context, w string) ([]codexgov.LegalHold, error) {
	return get[[]codexgov.LegalHold](ctx, c, ws(w, "legal-holds"))
}

// CreateLegalHold sets a legal hold.
func (c *Client) CreateLegalHold(ctx context.Context, w string, in codexgov.LegalHoldInput) (*codexgov.LegalHold, error) {
	return send[*codexgov.LegalHold](ctx, c, "POST", ws(w, "legal-holds"), in)
}

// ReleaseLegalHold lifts a legal hold.
func (c *Client) ReleaseLegalHold(ctx context.Context, w, id string) (*codexgov.LegalHold, error) {
	return send[*codexgov.LegalHold](ctx, c, "DELETE", ws(w, "legal-holds", id), nil)
}

// MintTelemetryToken mints a user's telemetry token and the [otel] block
// carrying it.
func (c *Client) MintTelemetryToken(ctx context.Context, w string, m codexgov.TelemetryTokenMint) (*codexgov.TelemetryToken, error) {
	return send[*codexgov.TelemetryToken](ctx, c, "POST", ws(w, "telemetry-tokens"), m)
}

// TelemetryActivity summarises a workspace's Codex sessions, most recent
// first; q holds the route's filters (user, identity, since, until).
func (c *Client) TelemetryActivity(ctx context.Context, w string, q url.Values) ([]codexgov.SessionActivity, error) {
	p := ws(w, "telemetry-activity")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return get[[]codexgov.SessionActivity](ctx, c, p)
}

func (c *Client) AuditEvents(ctx context.Context, w string, before int64, limit int) (*codexgov.AuditPage, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	p := ws(w, "audit-events")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return get[*codexgov.AuditPage](ctx, c, p)
}

// SigningKeys lists signing keys (server key).
func (c *Client) SigningKeys(ctx context.Context) ([]codexgov.SigningKey, error) {
	return get[[]codexgov.SigningKey](ctx, c, "/api/v1/signing-keys")
}

// RotateSigningKey adds a new active signing key (server key).
func (c *Client) RotateSigningKey(ctx context.Context) (*codexgov.SigningKey, error) {
	return send[*codexgov.SigningKey](ctx, c, "POST", "/api/v1/signing-keys", nil)
}

// RetireSigningKey stops publishing an inactive key (server key).
// The server refuses while sync machines trust only that key, unless
// force is true.
func (c *Client) RetireSigningKey(ctx context.Context, kid string, force bool) (*codexgov.SigningKey, error) {
	path := "/api/v1/signing-keys/" + url.PathEscape(kid)
	if force {
		path += "?force=true"
	}
	return send[*codexgov.SigningKey](ctx, c, "DELETE", path, nil)
}

// Document is a distributed document as a client received it.
type Document struct {
	Body        []byte
	ETag        string
	Signature   string
	Policy      string
	Version     int
	NotModified bool
}

// ClientRequirements fetches the caller's requirements; with etag set, a
// 304 gives NotModified.
func (c *Client) ClientRequirements(ctx context.Context, etag string) (*Document, error) {
	return c.document(ctx, "/api/v1/client/requirements", etag)
}

// ClientDefaults fetches the caller's managed defaults.
func (c *Client) ClientDefaults(ctx context.Context, etag string) (*Document, error) {
	return c.document(ctx, "/api/v1/client/defaults", etag)
}

func (c *Client) document(ctx context.Context, path, etag string) (*Document, error) {
	req, err := c.request(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return nil, decodeError(resp)
	}
	d := &Document{ETag: resp.Header.Get("ETag"), Signature: resp.Header.Get("Codexgov-Signature"),
		Policy: resp.Header.Get("Codexgov-Policy"), NotModified: resp.StatusCode == http.StatusNotModified}
	d.Version, _ = strconv.Atoi(resp.Header.Get("Codexgov-Policy-Version"))
	d.Body, err = io.ReadAll(resp.Body)
	return d, err
}

// JWKS fetches the published key set.
func (c *Client) JWKS(ctx context.Context) ([]byte, error) {
	d, err := c.SignedJWKS(ctx)
	if err != nil {
		return nil, err
	}
	return d.Body, nil
}

// SignedJWKS fetches the published key set with its signatures (one
// detached JWS per published key, comma-separated, in Signature).
func (c *Client) SignedJWKS(ctx context.Context) (*Document, error) {
	req, err := c.request(ctx, "GET", "/.well-known/jwks.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, decodeError(resp)
	}
	d := &Document{Signature: resp.Header.Get("Codexgov-Signature")}
	d.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return d, err
}

// ReportSync sends a codexgov sync run's report.
func (c *Client) ReportSync(ctx context.Context, r codexgov.SyncReport) error {
	return c.Do(ctx, "POST", "/api/v1/client/sync-reports", r, nil)
}

// EnrollmentTokenRequest is what CreateEnrollmentToken sends.
type EnrollmentTokenRequest struct {
	Name      string   `json:"name"`
	User      string   `json:"user,omitempty"`
	Service   string   `json:"service,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	ExpiresIn string   `json:"expires_in,omitempty"`
}

// EnrollmentTokens lists enrollment tokens.
func (c *Client) EnrollmentTokens(ctx context.Context, w string) ([]codexgov.EnrollmentToken, error) {
	return get[[]codexgov.EnrollmentToken](ctx, c, ws(w, "enrollment-tokens"))
}

// CreateEnrollmentToken issues an enrollment token; the secret is in the
// result only.
func (c *Client) CreateEnrollmentToken(ctx context.Context, w string, r EnrollmentTokenRequest) (*codexgov.EnrollmentToken, error) {
	return send[*codexgov.EnrollmentToken](ctx, c, "POST", ws(w, "enrollment-tokens"), r)
}

// RevokeEnrollmentToken revokes an enrollment token.
func (c *Client) RevokeEnrollmentToken(ctx context.Context, w, id string) (*codexgov.EnrollmentToken, error) {
	return send[*codexgov.EnrollmentToken](ctx, c, "DELETE", ws(w, "enrollment-tokens", id), nil)
}

// OAuthGrants lists Codex sign-ins to the configuration server.
func (c *Client) OAuthGrants(ctx context.Context, w string) ([]codexgov.OAuthGrant, error) {
	return get[[]codexgov.OAuthGrant](ctx, c, ws(w, "oauth-grants"))
}

// RevokeOAuthGrant revokes a sign-in.
func (c *Client) RevokeOAuthGrant(ctx context.Context, w, id string) (*codexgov.OAuthGrant, error) {
	return send[*codexgov.OAuthGrant](ctx, c, "DELETE", ws(w, "oauth-grants", id), nil)
}

// DeviceFilter narrows Devices.
type DeviceFilter struct {
	Drifted    bool
	StaleAfter time.Duration // 0: the server's default
	Identity   string
}

// Devices lists devices with their delivery state.
func (c *Client) Devices(ctx context.Context, w string, f DeviceFilter) ([]codexgov.DeviceStatus, error) {
	q := url.Values{}
	if f.Drifted {
		q.Set("drifted", "true")
	}
	if f.StaleAfter > 0 {
		q.Set("stale_after", f.StaleAfter.String())
	}
	if f.Identity != "" {
		q.Set("identity", f.Identity)
	}
	p := ws(w, "devices")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return get[[]codexgov.DeviceStatus](ctx, c, p)
}

// IdentityProviders lists a workspace's single sign-on providers.
func (c *Client) IdentityProviders(ctx context.Context, w string) ([]codexgov.IdentityProvider, error) {
	return get[[]codexgov.IdentityProvider](ctx, c, ws(w, "identity-providers"))
}

// PutIdentityProvider creates or replaces a provider; body holds issuer,
// client_id, client_secret, allowed_domain and groups_claim.
func (c *Client) PutIdentityProvider(ctx context.Context, w, name string, body map[string]string) (*codexgov.IdentityProvider, error) {
	return send[*codexgov.IdentityProvider](ctx, c, "PUT", ws(w, "identity-providers", name), body)
}

// DeleteIdentityProvider removes a provider.
func (c *Client) DeleteIdentityProvider(ctx context.Context, w, name string) error {
	return c.Do(ctx, "DELETE", ws(w, "identity-providers", name), nil, nil)
}

// DeleteCodexTask deletes a Codex session's compliance records (scope
// compliance:delete); the files that held them are re-sealed.
func (c *Client) DeleteCodexTask(ctx context.Context, w, id string) (*codexgov.ErasureResult, error) {
	return send[*codexgov.ErasureResult](ctx, c, "DELETE", "/v1/compliance/workspaces/"+url.PathEscape(w)+"/codex_tasks/"+url.PathEscape(id), nil)
}

// EraseUser erases a person's compliance records (scope
// compliance:delete); the files that held them are re-sealed.
func (c *Client) EraseUser(ctx context.Context, w, email string) (*codexgov.ErasureResult, error) {
	return send[*codexgov.ErasureResult](ctx, c, "DELETE", "/v1/compliance/workspaces/"+url.PathEscape(w)+"/users/"+url.PathEscape(email)+"/records", nil)
}

// ComplianceSinks lists a workspace's SIEM sinks with their lag.
func (c *Client) ComplianceSinks(ctx context.Context, w string) ([]*codexgov.ComplianceSink, error) {
	return send[[]*codexgov.ComplianceSink](ctx, c, "GET", ws(w, "compliance-sinks"), nil)
}

// CreateComplianceSink adds a SIEM sink.
func (c *Client) CreateComplianceSink(ctx context.Context, w string, in codexgov.SinkInput) (*codexgov.ComplianceSink, error) {
	return send[*codexgov.ComplianceSink](ctx, c, "POST", ws(w, "compliance-sinks"), in)
}

// DeleteComplianceSink removes a SIEM sink.
func (c *Client) DeleteComplianceSink(ctx context.Context, w, name string) (*codexgov.ComplianceSink, error) {
	return send[*codexgov.ComplianceSink](ctx, c, "DELETE", ws(w, "compliance-sinks", name), nil)
}

// RewindComplianceSink delivers every kept record to a sink again.
func (c *Client) RewindComplianceSink(ctx context.Context, w, name string) (*codexgov.ComplianceSink, error) {
	return send[*codexgov.ComplianceSink](ctx, c, "POST", ws(w, "compliance-sinks", name, "rewind"), nil)
}

// ComplianceSinkDeadLetters lists the batches a sink's receiver refused.
func (c *Client) ComplianceSinkDeadLetters(ctx context.Context, w, name string) ([]*codexgov.DeadLetter, error) {
	return send[[]*codexgov.DeadLetter](ctx, c, "GET", ws(w, "compliance-sinks", name, "dead-letters"), nil)
}

// RebuildAnalytics recomputes the usage rollups from the raw events.
func (c *Client) RebuildAnalytics(ctx context.Context, w, since string) (*codexgov.AnalyticsRebuilt, error) {
	return send[*codexgov.AnalyticsRebuilt](ctx, c, "POST", ws(w, "analytics", "rebuild"), codexgov.AnalyticsRebuild{Since: since})
}

// Gateway returns the workspace's model gateway (never its key).
func (c *Client) Gateway(ctx context.Context, w string) (*codexgov.Gateway, error) {
	return get[*codexgov.Gateway](ctx, c, ws(w, "gateway"))
}

// PutGateway creates or replaces the workspace's model gateway; body
// holds base_url, api_key (empty keeps the stored one),
// route_model_traffic, capture and allowed_models.
func (c *Client) PutGateway(ctx context.Context, w string, body map[string]any) (*codexgov.Gateway, error) {
	return send[*codexgov.Gateway](ctx, c, "PUT", ws(w, "gateway"), body)
}

// GatewayBudgets lists the gateway's budgets with their current use.
func (c *Client) GatewayBudgets(ctx context.Context, w string) ([]codexgov.GatewayBudgetUse, error) {
	return get[[]codexgov.GatewayBudgetUse](ctx, c, ws(w, "gateway", "budgets"))
}

// PutGatewayBudget sets a budget.
func (c *Client) PutGatewayBudget(ctx context.Context, w string, b codexgov.GatewayBudget) (*codexgov.GatewayBudget, error) {
	return send[*codexgov.GatewayBudget](ctx, c, "PUT", ws(w, "gateway", "budgets"), b)
}

// DeleteGatewayBudget removes a budget.
func (c *Client) DeleteGatewayBudget(ctx context.Context, w, id string) error {
	return c.Do(ctx, "DELETE", ws(w, "gateway", "budgets", id), nil, nil)
}
