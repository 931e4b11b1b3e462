package httpapi

// The Codex configuration server surface: the OAuth authorization server
// (sign-in page, token endpoint) and the bundle endpoints.

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/web"
)

// The native configuration server (CONFIG_SERVER.md): Codex's base_url is
// https://HOST/codex-config/{ws} in OAuth mode and
// https://HOST/codex-config/enroll/{token} in enrollment mode.
const (
	configBase = "/codex-config/{ws}"
	enrollBase = "/codex-config/enroll/{token}"
)

// maxFormBytes bounds the OAuth form bodies.
const maxFormBytes = 64 << 10

func (s *Server) serveBundle(c *call, doc *snapshot.Document) {
	h := c.w.Header()
	for k, v := range doc.Header {
		h[k] = v
	}
	// Codex sends no conditional headers and must always get the body.
	h["Cache-Control"] = noStore
	c.w.Write(doc.Body)
}

var noStore = []string{"no-store"}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	return ua
}

func (s *Server) record(c *call, ws, device, kind, identity string, doc *snapshot.Document) {
	d := codexgov.Delivery{Workspace: ws, Device: device, Kind: kind, Identity: identity, UserAgent: userAgent(c.r), LastFetch: s.now().UTC()}
	if doc == nil {
		d.BundleHash = codexgov.DeliveryDenied
		s.securityEvent(c.r.Context(), ws, identity, device, codexgov.SecurityAccessDenied, "config_server",
			map[string]any{"route": "configuration server bundle", "reason": "no policy may be served to this identity (Codex refuses to start)", "device": device})
	} else {
		d.Policy, d.PolicyVersion, d.BundleHash = doc.Policy, doc.Version, doc.Hash
	}
	s.recorder.Record(d)
}

// invalidToken is the bundle endpoint's 401: Codex refreshes once and
// retries, then asks the user to sign in again.
func invalidToken(c *call, msg string) error {
	c.w.Header().Set("WWW-Authenticate", `Bearer realm="codexgov", error="invalid_token"`)
	return codexgov.Errorf(codexgov.EUNAUTHORIZED, "%s", msg)
}

// oauthBundle serves an OAuth sign-in's bundle from the snapshot: no
// database query.
func (s *Server) oauthBundle(c *call) error {
	ws := c.path("ws")
	secret, ok := bearer(c.r.Header.Get("Authorization"))
	if !ok {
		return invalidToken(c, "sign in first: run codex login")
	}
	claims, err := s.keys.Verify(secret, s.now())
	if err != nil {
		return invalidToken(c, err.Error())
	}
	snap := s.snap.Load()
	if claims.Workspace == ws && claims.Client == "" && snap.GrantRevoked(claims.Grant) {
		s.securityEvent(c.r.Context(), ws, "user:"+claims.User, claims.Grant, codexgov.SecurityRevokedCredential, "config_server",
			map[string]any{"credential_type": "oauth_grant", "route": "configuration server bundle"})
	}
	if claims.Workspace != ws || claims.Client != "" || snap.GrantRevoked(claims.Grant) {
		return invalidToken(c, "the access token is not valid here")
	}
	if err := s.limitCredential(c.w, "grant:"+claims.Grant); err != nil {
		return err
	}
	doc, err := snap.UserBundle(ws, claims.User)
	s.record(c, ws, claims.Grant, codexgov.DeliveryOAuth, "user:"+claims.User, doc)
	if err != nil {
		return err
	}
	if doc, err = snap.DecorateBundle(doc, snapshot.TelemetrySender{Workspace: ws, Identity: "user:" + claims.User, Credential: claims.Grant}); err != nil {
		return err
	}
	s.serveBundle(c, doc)
	return nil
}

// enrollBundle serves an enrollment token's bundle from the snapshot.
func (s *Server) enrollBundle(c *call) error {
	snap := s.snap.Load()
	t, doc, err := snap.EnrollmentBundle(c.path("token"), s.now())
	if t != nil {
		if err := s.limitCredential(c.w, "enrollment_token:"+t.ID); err != nil {
			return err
		}
		s.record(c, t.Workspace, t.ID, codexgov.DeliveryEnrollment, t.Identity(), doc)
		if err == nil {
			s.noteUse(t.ID)
		}
	}
	if err != nil {
		return err
	}
	if doc, err = snap.DecorateBundle(doc, snapshot.TelemetrySender{Workspace: t.Workspace, Identity: t.Identity(), Credential: t.ID, Device: t.Name}); err != nil {
		return err
	}
	s.serveBundle(c, doc)
	return nil
}

func (s *Server) bootstrap(ws, mode string) (codexgov.Bootstrap, error) {
	b, ok := s.snap.Load().Baseline(ws)
	if !ok {
		return codexgov.Bootstrap{}, codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", ws)
	}
	out := codexgov.Bootstrap{Workspace: ws, Mode: mode, Baseline: b}
	if mode == "oauth" {
		out.ClientID, out.Scopes = s.clientID, configserver.DefaultScopes
	}
	return out, nil
}

func (s *Server) installEnroll(c *call) (any, error) {
	t, _, err := s.snap.Load().EnrollmentBundle(c.path("token"), s.now())
	if t == nil {
		return nil, err
	}
	return s.bootstrap(t.Workspace, "enrollment")
}

// authorize is the OAuth authorization endpoint: it validates Codex's
// request and shows the sign-in page.
func (s *Server) oauthAuthorize(c *call) error {
	ws := c.path("ws")
	w, ok := s.snap.Load().Workspace(ws)
	if !ok {
		web.RenderSignInError(c.w, http.StatusNotFound, "This Codex configuration server has no workspace "+ws+". Check the base_url in /etc/codex/requirements.toml.")
		return nil
	}
	req, err := configserver.ParseAuthorize(ws, c.r.URL.Query(), s.clientID, s.now())
	if err != nil {
		ae := err.(*configserver.AuthError)
		if !ae.Redirect {
			web.RenderSignInError(c.w, http.StatusBadRequest, ae.Description)
			return nil
		}
		http.Redirect(c.w, c.r, req.Callback(url.Values{"error": {ae.Code}, "error_description": {ae.Description}}), http.StatusFound)
		return nil
	}
	web.RenderSignIn(c.w, http.StatusOK, s.page(c, w, s.keys.Seal(req), ""))
	return nil
}

// page is the Codex sign-in page: single sign-on through each of the
// workspace's identity providers, and the access-token fallback.
func (s *Server) page(c *call, w *codexgov.Workspace, sealed, msg string) web.SignIn {
	name := w.Name
	if name == "" {
		name = w.ID
	}
	var methods []web.SignInMethod
	for _, l := range s.ssoLinks(c, w.ID, ssoFlow{Kind: "codex", Workspace: w.ID, Request: sealed}) {
		methods = append(methods, web.SignInMethod{ID: "sso", Label: l.Label, Link: l.Href})
	}
	methods = append(methods, web.AccessTokenMethod)
	return web.SignIn{Workspace: w.ID, WorkspaceName: name, Request: sealed, Error: msg, Methods: methods, Action: "/codex-config/" + w.ID + "/oauth/sign-in"}
}

// oauthSignIn completes the sign-in page: on success it stores a code and
// sends the browser back to Codex's loopback listener.
func (s *Server) oauthSignIn(c *call) error {
	ws := c.path("ws")
	snap := s.snap.Load()
	w, ok := snap.Workspace(ws)
	if !ok {
		web.RenderSignInError(c.w, http.StatusNotFound, "no such workspace")
		return nil
	}
	if err := s.parseForm(c); err != nil {
		web.RenderSignInError(c.w, http.StatusBadRequest, codexgov.ErrorMessage(err))
		return nil
	}
	sealed := c.r.PostForm.Get("request")
	req, err := s.keys.Open(sealed, s.now())
	if err == nil && req.Workspace != ws {
		err = errWrongWorkspace
	}
	if err != nil {
		web.RenderSignInError(c.w, http.StatusBadRequest, err.Error())
		return nil
	}
	switch c.path("method") {
	case "deny":
		http.Redirect(c.w, c.r, req.Callback(url.Values{"error": {"access_denied"}, "error_description": {"the sign-in was cancelled"}}), http.StatusFound)
		return nil
	case web.AccessTokenMethod.ID:
	default:
		web.RenderSignInError(c.w, http.StatusNotFound, "unknown sign-in method")
		return nil
	}
	secret := strings.TrimSpace(c.r.PostForm.Get("secret"))
	p, err := snap.Authenticate(secret, s.now())
	if err != nil || p.Token == nil || p.Token.Workspace != ws {
		web.RenderSignIn(c.w, http.StatusUnauthorized, s.page(c, w, sealed, "That access token is not valid for "+w.ID+": it is unknown, revoked, expired or another workspace's. Ask your Codex administrator for a new one."))
		return nil
	}
	email := p.Token.User
	acc, _, _ := snap.Access(ws, email)
	for _, d := range []codexgov.Decision{acc[codexgov.SurfaceLocal], snap.CanHoldAccessToken(ws, email)} {
		if !d.Allowed {
			web.RenderSignIn(c.w, http.StatusForbidden, s.page(c, w, sealed, codexgov.AccessDeniedMessage+" ("+d.Reason+")"))
			return nil
		}
	}
	code, hash := configserver.NewCode()
	err = s.store.CreateOAuthCode(c.ctx, codexgov.OAuthCode{Hash: hash, Workspace: ws, User: email, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Challenge: req.Challenge, Scope: req.Scope, Resource: req.Resource, ExpiresAt: s.now().Add(configserver.CodeTTL)})
	if err != nil {
		s.log.Error("sign-in: storing the code failed", "err", err)
		web.RenderSignIn(c.w, http.StatusServiceUnavailable, s.page(c, w, sealed, "The server could not complete the sign-in just now. Try again in a moment."))
		return nil
	}
	http.Redirect(c.w, c.r, req.Callback(url.Values{"code": {code}}), http.StatusFound)
	return nil
}

var errWrongWorkspace = &codexgov.Error{Code: codexgov.EINVALID, Message: "the sign-in request belongs to another workspace; start again from Codex"}

func tokenError(c *call, status int, code, desc string) error {
	h := c.w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="codexgov"`)
	}
	writeJSON(c.w, status, configserver.TokenError{Error: code, Description: desc})
	return nil
}

// oauthToken is the token endpoint: the authorization_code grant with
// PKCE and the refresh_token grant, for the public client Codex is. Dead
// grants get invalid_grant; database faults get 503, which Codex retries.
func (s *Server) oauthToken(c *call) error {
	ws := c.path("ws")
	if _, ok := s.snap.Load().Workspace(ws); !ok {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "no such workspace")
	}
	if err := s.parseForm(c); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded: "+codexgov.ErrorMessage(err))
	}
	f := c.r.PostForm
	if f.Get("client_id") != s.clientID {
		return tokenError(c, http.StatusUnauthorized, "invalid_client", "unknown client_id")
	}
	if res := f.Get("resource"); res != "" {
		if err := configserver.CheckResource(ws, res); err != nil {
			return tokenError(c, http.StatusBadRequest, "invalid_target", err.Error())
		}
	}
	refresh, _, refreshHash := codexgov.NewSecret(codexgov.RefreshTokenPrefix)
	var g *codexgov.OAuthGrant
	var err error
	switch f.Get("grant_type") {
	case "authorization_code":
		code, redirect, verifier, resource := f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"), f.Get("resource")
		check := func(oc *codexgov.OAuthCode) error {
			switch {
			case oc.ClientID != s.clientID:
				return codexgov.Errorf(codexgov.EINVALIDGRANT, "the code was issued to another client")
			case oc.RedirectURI != redirect:
				return codexgov.Errorf(codexgov.EINVALIDGRANT, "redirect_uri does not match the authorization request")
			case !configserver.VerifyPKCE(verifier, oc.Challenge):
				return codexgov.Errorf(codexgov.EINVALIDGRANT, "code_verifier does not match the code_challenge")
			case resource != oc.Resource:
				return codexgov.Errorf(codexgov.EINVALIDGRANT, "resource does not match the authorization request")
			}
			return nil
		}
		ctx := codexgov.WithActor(c.ctx, codexgov.Actor{ID: "oauth_client:" + s.clientID, RequestID: c.w.Header().Get("X-Request-Id")})
		g, err = s.store.ExchangeOAuthCode(ctx, codexgov.HashSecret(code), check,
			codexgov.OAuthGrant{ID: codexgov.NewID("grant"), Workspace: ws, UserAgent: userAgent(c.r), RefreshHash: refreshHash})
	case "refresh_token":
		g, _, err = s.store.RefreshOAuthGrant(c.ctx, ws, codexgov.HashSecret(f.Get("refresh_token")), refreshHash, configserver.RefreshGrace, s.refreshIdle)
	default:
		return tokenError(c, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
	if err != nil {
		return s.grantError(c, f.Get("grant_type"), err)
	}
	return s.writeTokens(c, configserver.AccessClaims{Grant: g.ID, Workspace: ws, User: g.User}, refresh, g.Scope)
}

// grantError answers a failed grant: invalid_grant for a dead one, and
// for any other fault 503, which clients retry (Codex is stranded by a
// 4xx).
func (s *Server) grantError(c *call, grantType string, err error) error {
	if codexgov.ErrorCode(err) == codexgov.EINVALIDGRANT {
		// A reused code or refresh token revokes its sign-in: serve the
		// revocation here at once (other replicas sync).
		s.changed(c.ctx)
		return tokenError(c, http.StatusBadRequest, "invalid_grant", codexgov.ErrorMessage(err))
	}
	s.log.Error("oauth token request failed", "grant_type", grantType, "err", err)
	return tokenError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the server could not complete the request; try again")
}

// writeTokens mints the access token for claims and sends it with the
// new refresh token.
func (s *Server) writeTokens(c *call, claims configserver.AccessClaims, refresh, scope string) error {
	claims.Expires = s.now().Add(s.accessTTL).Unix()
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Header().Set("Pragma", "no-cache")
	writeJSON(c.w, http.StatusOK, configserver.TokenResponse{AccessToken: s.keys.Mint(claims), TokenType: "Bearer", ExpiresIn: int64(s.accessTTL / time.Second), RefreshToken: refresh, Scope: scope})
	return nil
}
