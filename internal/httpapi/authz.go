package httpapi

// Authentication and authorization of API routes: the bearer credential,
// the workspace in the path (404 for another workspace), the scope.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/telemetry"
)

// call is one request on its way through a route.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	s     *Server
	route *Route
	ctx   context.Context
	ws    string
	p     snapshot.Principal
}

func (c *call) path(name string) string { return c.r.PathValue(name) }

func (s *Server) authorize(c *call) error {
	c.ctx = codexgov.WithRequestMetadata(c.r.Context(), codexgov.RequestMetadata{ClientIP: clientIP(c.r), ClientUserAgent: truncateUA(c.r.UserAgent())})
	c.ws = c.r.PathValue("ws")
	if !c.route.Auth.Authenticates() {
		if unauthenticatedLimited(c.route) {
			return s.limitUnauthenticated(c.w, c.r)
		}
		return nil // the handler checks its protocol's own proof
	}
	secret, ok := bearer(c.r.Header.Get("Authorization"))
	if !ok {
		return codexgov.Errorf(codexgov.EUNAUTHORIZED, "missing credential: send Authorization: Bearer <API key or access token>")
	}
	p, err := s.authenticate(c.ctx, secret)
	if err != nil {
		return err
	}
	c.p = p
	if p.Telemetry != nil && c.route.Surface != SurfaceTelemetry {
		return codexgov.Errorf(codexgov.EFORBIDDEN, "a telemetry token has the one scope %s: it sends OTLP to /v1/logs, /v1/metrics and /v1/traces, nothing else", codexgov.ScopeTelemetryWrite)
	}
	noteActor(c.ctx, p.ActorID())
	if err := s.limitCredential(c.w, p.ActorID()); err != nil {
		return err
	}
	switch {
	case p.Key != nil:
		s.noteUse(p.Key.ID)
	case p.Enrollment != nil:
		s.noteUse(p.Enrollment.ID)
	}
	own := p.Workspace()
	if c.route.Surface == SurfaceCompliance || c.route.Surface == SurfaceAnalytics {
		// The Compliance and Analytics APIs name a workspace by its UUID
		// or its ID.
		if w, ok := s.snap.Load().WorkspaceByRef(c.ws); ok {
			c.ws = w.ID
		}
	}
	// Another workspace's records do not exist for this caller: 404 before
	// any other check, so that nothing tells a workspace exists.
	if c.ws != "" && own != "" && own != c.ws {
		return codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", c.ws)
	}
	if c.route.Surface == SurfaceCompliance && c.ws != "" {
		if ok, d := s.limits.compliance.allow(c.ws+" "+c.route.Method+" "+c.route.Path, s.now()); !ok {
			return tooMany(c.w, d, "the Compliance API allows 100 requests a minute per workspace and route")
		}
	}
	switch c.route.Auth {
	case Client:
		if p.Key != nil {
			return codexgov.Errorf(codexgov.EFORBIDDEN, "this route takes a client credential (an access token, an enrollment token or a codexgov login), not an API key")
		}
	case Key:
		if p.Person != nil && !(c.route.Errors == SCIM) {
			if !codexgov.Allows(p.Person.Scopes, c.route.Scope) {
				return codexgov.Errorf(codexgov.EFORBIDDEN, "your roles do not give the %s scope this route needs (codexgov login acts with your own permissions: codex_admin for the admin API)", c.route.Scope)
			}
			c.ctx = codexgov.WithActor(c.ctx, codexgov.Actor{ID: p.ActorID(), RequestID: c.w.Header().Get("X-Request-Id")})
			return nil
		}
		if p.Key == nil {
			return codexgov.Errorf(codexgov.EFORBIDDEN, "this route takes an API key, not an access token")
		}
		if !codexgov.Allows(p.Key.Scopes, c.route.Scope) {
			return codexgov.Errorf(codexgov.EFORBIDDEN, "the API key lacks the %s scope this route needs", c.route.Scope)
		}
		if c.route.Errors == SCIM {
			if p.Key.Workspace == "" {
				return codexgov.Errorf(codexgov.EFORBIDDEN, "SCIM takes a workspace's API key with the scim scope, not a server key")
			}
			c.ws = p.Key.Workspace
		}
		// Only API keys change state; client routes skip this allocation.
		c.ctx = codexgov.WithActor(c.ctx, codexgov.Actor{ID: p.ActorID(), RequestID: c.w.Header().Get("X-Request-Id")})
	}
	return nil
}

// authenticate finds the principal of a bearer secret: an API key, an
// access token, or the access token of a person's codexgov login.
func (s *Server) authenticate(ctx context.Context, secret string) (snapshot.Principal, error) {
	snap := s.snap.Load()
	if strings.HasPrefix(secret, codexgov.TelemetryTokenPrefix) {
		claims, err := telemetry.ParseToken(s.keys.TelemetryMAC, secret)
		if err != nil {
			return snapshot.Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the telemetry token is not valid (%s)", err)
		}
		who := snapshot.TelemetrySender{Workspace: claims.Workspace, Identity: claims.Identity, Credential: claims.Credential, Device: claims.Device}
		if err := snap.TelemetryLive(who); err != nil {
			if _, known := snap.WorkspaceByRef(claims.Workspace); known {
				s.securityEvent(ctx, claims.Workspace, claims.Identity, claims.Credential, codexgov.SecurityRevokedCredential, "telemetry",
					map[string]any{"credential_type": "telemetry_token", "device": claims.Device, "reason": codexgov.ErrorMessage(err)})
			}
			return snapshot.Principal{}, err
		}
		return snapshot.Principal{Telemetry: &who}, nil
	}
	if !strings.HasPrefix(secret, configserver.AccessTokenPrefix) {
		return snap.Authenticate(secret, s.now())
	}
	claims, err := s.keys.Verify(secret, s.now())
	if err != nil {
		return snapshot.Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "%s; run codexgov login again", err.Error())
	}
	if claims.Client == configserver.CLIClientID && snap.GrantRevoked(claims.Grant) {
		s.securityEvent(ctx, claims.Workspace, "user:"+claims.User, claims.Grant, codexgov.SecurityRevokedCredential, "codexgov_login",
			map[string]any{"credential_type": "codexgov_login"})
	}
	if claims.Client != configserver.CLIClientID || snap.GrantRevoked(claims.Grant) {
		return snapshot.Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the bearer token is not valid (unknown, revoked or malformed)")
	}
	return snapshot.Principal{Person: &snapshot.Person{Workspace: claims.Workspace, Email: claims.User, Via: claims.Grant, Scopes: snap.UserScopes(claims.Workspace, claims.User)}}, nil
}

// changed rebuilds the snapshot after a committed change, so that this
// replica serves it at once. A failed rebuild is retried by Sync.
func (s *Server) changed(ctx context.Context) {
	if err := s.Rebuild(ctx); err != nil {
		s.log.Warn("snapshot rebuild after a change failed; Sync will retry", "err", err)
	}
}

// mutate runs a store change and rebuilds the snapshot when it succeeded.
// A change that changed nothing answers with the object as it stands and
// the header Codexgov-Change: none, so that a client can say no audit
// event was written.
func mutate[T any](c *call, fn func() (T, error)) (any, error) {
	v, err := fn()
	if errors.Is(err, codexgov.ErrNoChange) {
		c.w.Header().Set(ChangeHeader, "none")
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	c.s.changed(c.ctx)
	return v, nil
}

// ChangeHeader is "none" on the answer to a change that changed nothing.
const ChangeHeader = "Codexgov-Change"

// truncateUA bounds a User-Agent kept in records.
func truncateUA(ua string) string {
	if len(ua) > 256 {
		return strings.ToValidUTF8(ua[:256], "")
	}
	return ua
}
