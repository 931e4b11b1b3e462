package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/oidc"
	"github.com/codexgov/codexgov/internal/web"
)

// Identity: upstream OIDC providers per workspace, single sign-on for the
// admin web pages, the Codex sign-in page and the device verification
// page, and RFC 8628 device login for `codexgov login`.

// Device authorization parameters (RFC 8628 §3.2).
const (
	DeviceCodeTTL  = 10 * time.Minute
	DeviceInterval = 5 * time.Second
	// userCodeAlphabet has no vowels (no words) and no look-alikes
	// (RFC 8628 §6.1).
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	// SessionTTL bounds an admin web session.
	SessionTTL = 8 * time.Hour
	ssoTTL     = 10 * time.Minute
)

// DeviceCodeResponse is RFC 8628 §3.2's response.
type DeviceCodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

func newUserCode() string {
	var b [8]byte
	rand.Read(b[:])
	out := make([]byte, 8)
	for i, x := range b {
		out[i] = userCodeAlphabet[int(x)%len(userCodeAlphabet)]
	}
	return string(out)
}

// displayCode shows a stored user code as people read it: BCDF-GHJK.
func displayCode(c string) string {
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}

func (s *Server) parseForm(c *call) error {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxFormBytes)
	return c.r.ParseForm()
}

// deviceCode starts a device authorization.
func (s *Server) deviceCode(c *call) error {
	if err := s.parseForm(c); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	f := c.r.PostForm
	if f.Get("client_id") != configserver.CLIClientID {
		return tokenError(c, http.StatusUnauthorized, "invalid_client", "unknown client_id; this endpoint serves codexgov login (client_id "+configserver.CLIClientID+")")
	}
	ws := f.Get("workspace")
	if ws != "" {
		w, ok := s.snap.Load().Workspace(ws)
		if !ok {
			return tokenError(c, http.StatusBadRequest, "invalid_request", "no workspace "+ws)
		}
		if !w.Settings.AllowDeviceCodeLogin {
			return tokenError(c, http.StatusBadRequest, "access_denied", "device-code login is turned off for workspace "+ws+" (setting allow_device_code_login)")
		}
	}
	device, _, deviceHash := codexgov.NewSecret(codexgov.OAuthCodePrefix)
	d := codexgov.DeviceAuthorization{DeviceHash: deviceHash, UserCode: newUserCode(), ClientID: configserver.CLIClientID, Scope: f.Get("scope"),
		Workspace: ws, Interval: s.deviceEvery, ExpiresAt: s.now().Add(DeviceCodeTTL), UserAgent: userAgent(c.r)}
	if err := s.store.CreateDeviceAuthorization(c.ctx, d); err != nil {
		s.log.Error("device authorization failed", "err", err)
		return tokenError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the server could not start the sign-in; try again")
	}
	base := s.baseURL(c.r)
	c.w.Header().Set("Cache-Control", "no-store")
	writeJSON(c.w, http.StatusOK, DeviceCodeResponse{DeviceCode: device, UserCode: displayCode(d.UserCode), VerificationURI: base + "/device",
		VerificationURIComplete: base + "/device?user_code=" + displayCode(d.UserCode), ExpiresIn: int64(DeviceCodeTTL / time.Second), Interval: int64(max(s.deviceEvery/time.Second, 1))})
	return nil
}

// globalToken is the token endpoint of codexgov login: the device_code
// grant and the refresh_token grant of the CLI client.
func (s *Server) globalToken(c *call) error {
	if err := s.parseForm(c); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	f := c.r.PostForm
	if f.Get("client_id") != configserver.CLIClientID {
		return tokenError(c, http.StatusUnauthorized, "invalid_client", "unknown client_id")
	}
	refresh, _, refreshHash := codexgov.NewSecret(codexgov.RefreshTokenPrefix)
	var g *codexgov.OAuthGrant
	var err error
	switch f.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		var poll codexgov.DevicePoll
		ctx := codexgov.WithActor(c.ctx, codexgov.Actor{ID: "oauth_client:" + configserver.CLIClientID, RequestID: c.w.Header().Get("X-Request-Id")})
		g, poll, err = s.store.PollDeviceAuthorization(ctx, codexgov.HashSecret(f.Get("device_code")), codexgov.OAuthGrant{ID: codexgov.NewID("grant"), RefreshHash: refreshHash})
		if err == nil {
			switch poll {
			case codexgov.PollAuthorizationPending:
				return tokenError(c, http.StatusBadRequest, "authorization_pending", "waiting for the code to be approved on the verification page")
			case codexgov.PollSlowDown:
				return tokenError(c, http.StatusBadRequest, "slow_down", "polling too fast: wait 5 s longer between requests")
			case codexgov.PollExpired:
				return tokenError(c, http.StatusBadRequest, "expired_token", "the code expired before it was approved; run codexgov login again")
			case codexgov.PollDenied:
				return tokenError(c, http.StatusBadRequest, "access_denied", "the sign-in was denied on the verification page")
			}
		}
	case "refresh_token":
		g, _, err = s.store.RefreshOAuthGrant(c.ctx, "", codexgov.HashSecret(f.Get("refresh_token")), refreshHash, configserver.RefreshGrace, s.refreshIdle)
		if err == nil && g.ClientID != configserver.CLIClientID {
			err = codexgov.Errorf(codexgov.EINVALIDGRANT, "the refresh token belongs to another client")
		}
	default:
		return tokenError(c, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be urn:ietf:params:oauth:grant-type:device_code or refresh_token")
	}
	if err != nil {
		return s.grantError(c, f.Get("grant_type"), err)
	}
	return s.writeTokens(c, configserver.AccessClaims{Grant: g.ID, Workspace: g.Workspace, User: g.User, Client: configserver.CLIClientID}, refresh, g.Workspace)
}

// revokeToken is RFC 7009 for the CLI's refresh token: codexgov logout.
func (s *Server) revokeToken(c *call) error {
	if err := s.parseForm(c); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	tok := c.r.PostForm.Get("token")
	ctx := codexgov.WithActor(c.ctx, codexgov.Actor{ID: "oauth_client:" + configserver.CLIClientID, RequestID: c.w.Header().Get("X-Request-Id")})
	if err := s.store.RevokeOAuthGrantByRefresh(ctx, codexgov.HashSecret(tok)); err != nil {
		s.log.Error("token revocation failed", "err", err)
		return tokenError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the server could not revoke the token; try again")
	}
	s.changed(c.ctx)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// --- the device verification page ---

func (s *Server) devicePage(c *call) error {
	code := c.r.URL.Query().Get("user_code")
	web.RenderPage(c.w, http.StatusOK, web.Page{Title: "Sign in a device", Lines: []string{"Enter the code codexgov login shows on your device."},
		Forms: []web.Form{{Action: "/device", Inputs: []web.Input{{Name: "user_code", Label: "Code", Type: "text", Value: code}}, Buttons: []web.Button{{Label: "Continue"}}}}})
	return nil
}

// pendingDevice finds a pending, unexpired authorization by what a
// person typed.
func (s *Server) pendingDevice(c *call, typed string) (*codexgov.DeviceAuthorization, string) {
	d, err := s.store.DeviceAuthorization(c.ctx, codexgov.NormalizeUserCode(typed))
	switch {
	case codexgov.ErrorCode(err) == codexgov.ENOTFOUND:
		return nil, "No device is waiting for the code " + typed + ". Check the code codexgov login shows."
	case err != nil:
		return nil, "The server could not look the code up just now. Try again in a moment."
	case !s.now().Before(d.ExpiresAt):
		return nil, "The code " + displayCode(d.UserCode) + " expired. Run codexgov login again."
	case d.Status != codexgov.DeviceAuthPending:
		return nil, "The code " + displayCode(d.UserCode) + " was already " + string(d.Status) + "."
	}
	return d, ""
}

// deviceSignIn shows how to approve a code: an access token, or single
// sign-on through the workspace's providers.
func (s *Server) deviceSignIn(c *call) error {
	if err := s.parseForm(c); err != nil {
		return err
	}
	d, msg := s.pendingDevice(c, c.r.PostForm.Get("user_code"))
	if d == nil {
		web.RenderPage(c.w, http.StatusBadRequest, web.Page{Title: "Sign in a device", Error: msg, Forms: []web.Form{{Action: "/device", Method: "get", Buttons: []web.Button{{Label: "Try another code"}}}}})
		return nil
	}
	s.renderDeviceSignIn(c, d, "", http.StatusOK)
	return nil
}

func (s *Server) renderDeviceSignIn(c *call, d *codexgov.DeviceAuthorization, errMsg string, status int) {
	code := displayCode(d.UserCode)
	p := web.Page{Title: "Approve codexgov login", Code: code, Error: errMsg,
		Lines: []string{"A device asked to sign in to codexgov as you (" + d.UserAgent + "). Approve only if you started codexgov login and it shows this code."}}
	if d.Workspace != "" {
		p.Links = s.ssoLinks(c, d.Workspace, ssoFlow{Kind: "device", Workspace: d.Workspace, UserCode: d.UserCode})
	} else {
		p.Forms = append(p.Forms, web.Form{Action: "/device/sso", Method: "get", Hidden: []web.Field{{Name: "user_code", Value: d.UserCode}},
			Inputs: []web.Input{{Name: "workspace", Label: "Workspace (for single sign-on)", Type: "text"}}, Buttons: []web.Button{{Label: "Continue with single sign-on"}}})
	}
	p.Forms = append(p.Forms, web.Form{Action: "/device/approve", Hidden: []web.Field{{Name: "user_code", Value: d.UserCode}},
		Inputs:  []web.Input{{Name: "secret", Label: "Or your access token (cgt_…)", Type: "password"}},
		Buttons: []web.Button{{Name: "decision", Value: "approve", Label: "Approve"}, {Name: "decision", Value: "deny", Label: "Deny"}}})
	web.RenderPage(c.w, status, p)
}

// deviceSSO picks the workspace's providers for a device code.
func (s *Server) deviceSSO(c *call) error {
	q := c.r.URL.Query()
	d, msg := s.pendingDevice(c, q.Get("user_code"))
	if d == nil {
		web.RenderPage(c.w, http.StatusBadRequest, web.Page{Title: "Sign in a device", Error: msg})
		return nil
	}
	ws := strings.TrimSpace(q.Get("workspace"))
	links := s.ssoLinks(c, ws, ssoFlow{Kind: "device", Workspace: ws, UserCode: d.UserCode})
	if len(links) == 0 {
		s.renderDeviceSignIn(c, d, "Workspace "+ws+" has no single sign-on; approve with an access token instead.", http.StatusNotFound)
		return nil
	}
	if len(links) == 1 {
		http.Redirect(c.w, c.r, links[0].Href, http.StatusFound)
		return nil
	}
	web.RenderPage(c.w, http.StatusOK, web.Page{Title: "Choose how to sign in", Code: displayCode(d.UserCode), Links: links})
	return nil
}

// deviceApprove approves or denies a code with an access token.
func (s *Server) deviceApprove(c *call) error {
	if err := s.parseForm(c); err != nil {
		return err
	}
	f := c.r.PostForm
	d, msg := s.pendingDevice(c, f.Get("user_code"))
	if d == nil {
		web.RenderPage(c.w, http.StatusBadRequest, web.Page{Title: "Sign in a device", Error: msg})
		return nil
	}
	p, err := s.snap.Load().Authenticate(strings.TrimSpace(f.Get("secret")), s.now())
	if err != nil || p.Token == nil || (d.Workspace != "" && p.Token.Workspace != d.Workspace) {
		s.renderDeviceSignIn(c, d, "That access token is not valid here: it is unknown, revoked, expired or another workspace's.", http.StatusUnauthorized)
		return nil
	}
	s.decideDevice(c, d, p.Token.Workspace, p.Token.User, f.Get("decision") == "approve", "access_token:"+p.Token.ID)
	return nil
}

// deviceDecision is carried sealed from a single sign-on to the approve
// and deny buttons.
type deviceDecision struct {
	UserCode, Workspace, Email string
	Expires                    int64
}

func (s *Server) deviceDecide(c *call) error {
	if err := s.parseForm(c); err != nil {
		return err
	}
	var dd deviceDecision
	if err := s.keys.OpenValue("device-decision", c.r.PostForm.Get("decision_token"), &dd); err != nil || s.now().Unix() >= dd.Expires {
		web.RenderPage(c.w, http.StatusBadRequest, web.Page{Title: "Sign in a device", Error: "This approval page expired; open the verification page again."})
		return nil
	}
	d, msg := s.pendingDevice(c, dd.UserCode)
	if d == nil {
		web.RenderPage(c.w, http.StatusBadRequest, web.Page{Title: "Sign in a device", Error: msg})
		return nil
	}
	s.decideDevice(c, d, dd.Workspace, dd.Email, c.r.PostForm.Get("decision") == "approve", "user:"+dd.Email+" (sso)")
	return nil
}

func (s *Server) decideDevice(c *call, d *codexgov.DeviceAuthorization, ws, email string, approve bool, actor string) {
	if approve {
		w, ok := s.snap.Load().Workspace(ws)
		if !ok || !w.Settings.AllowDeviceCodeLogin {
			s.renderDeviceSignIn(c, d, "Device-code login is turned off for workspace "+ws+" (setting allow_device_code_login). Ask your administrator.", http.StatusForbidden)
			return
		}
		if _, _, ok := s.snap.Load().Access(ws, email); !ok {
			s.renderDeviceSignIn(c, d, "You are not a user of workspace "+ws+".", http.StatusForbidden)
			return
		}
	}
	ctx := codexgov.WithActor(c.ctx, codexgov.Actor{ID: actor, RequestID: c.w.Header().Get("X-Request-Id")})
	if err := s.store.DecideDeviceAuthorization(ctx, d.UserCode, ws, email, approve); err != nil {
		s.renderDeviceSignIn(c, d, codexgov.ErrorMessage(err), http.StatusConflict)
		return
	}
	if approve {
		web.RenderPage(c.w, http.StatusOK, web.Page{Title: "Device signed in", Lines: []string{"codexgov login on your device is signed in as " + email + " in " + ws + ". You can close this page."}})
		return
	}
	web.RenderPage(c.w, http.StatusOK, web.Page{Title: "Sign-in denied", Lines: []string{"The device was not signed in. If you did not start codexgov login, tell your administrator."}})
}

// --- single sign-on ---

// ssoFlow says what a single sign-on is for; it travels sealed.
type ssoFlow struct {
	Kind      string `json:"k"` // admin, codex, device
	Workspace string `json:"w"`
	Provider  string `json:"p"`
	Request   string `json:"r,omitempty"` // the sealed Codex AuthRequest
	UserCode  string `json:"u,omitempty"`
	Expires   int64  `json:"e"`
}

// ssoPending is the browser's half of a sign-in in progress, in a
// cookie: the provider's answer must match it.
type ssoPending struct {
	Flow                   ssoFlow
	State, Nonce, Verifier string
	Expires                int64
}

const ssoCookie = "codexgov_sso"

func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.publicURL, "https://")
}

func (s *Server) sessionCookieName(r *http.Request) string {
	if s.secureCookies(r) {
		return "__Host-codexgov_session"
	}
	return "codexgov_session"
}

// ssoLinks are the sign-in links of a workspace's providers for a flow.
func (s *Server) ssoLinks(c *call, ws string, flow ssoFlow) []web.Link {
	if _, ok := s.snap.Load().Workspace(ws); !ok {
		return nil
	}
	ps, err := s.store.IdentityProviders(c.ctx, ws)
	if err != nil {
		return nil
	}
	var out []web.Link
	for _, p := range ps {
		f := flow
		f.Provider, f.Expires = p.Name, s.now().Add(ssoTTL).Unix()
		label := p.DisplayName
		if label == "" {
			label = p.Name
		}
		out = append(out, web.Link{Href: "/sso/start?flow=" + url.QueryEscape(s.keys.SealValue("sso-flow", f)), Label: "Sign in with " + label})
	}
	return out
}

func (s *Server) providerSecret(p *codexgov.IdentityProvider) (string, error) {
	return s.keys.OpenSecret("idp:"+p.Workspace+"/"+p.Name, p.ClientSecretEnc)
}

func (s *Server) ssoRedirectURI(r *http.Request) string { return s.baseURL(r) + "/sso/callback" }

func ssoFailed(c *call, status int, msg string) error {
	web.RenderPage(c.w, status, web.Page{Title: "Single sign-on failed", Error: msg, Lines: []string{"Start again from where you signed in. If this keeps happening, send this page to your administrator."}})
	return nil
}

// ssoStart sends the browser to the identity provider.
func (s *Server) ssoStart(c *call) error {
	var flow ssoFlow
	if err := s.keys.OpenValue("sso-flow", c.r.URL.Query().Get("flow"), &flow); err != nil || s.now().Unix() >= flow.Expires {
		return ssoFailed(c, http.StatusBadRequest, "This sign-in link is not valid or expired.")
	}
	p, err := s.store.IdentityProvider(c.ctx, flow.Workspace, flow.Provider)
	if err != nil {
		return ssoFailed(c, http.StatusNotFound, "The identity provider "+flow.Provider+" is no longer set up for "+flow.Workspace+".")
	}
	secret, err := s.providerSecret(p)
	if err != nil {
		s.log.Error("identity provider secret", "workspace", p.Workspace, "provider", p.Name, "err", err)
		return ssoFailed(c, http.StatusInternalServerError, "The identity provider's settings cannot be read on this server.")
	}
	st, err := s.rp.Begin(c.ctx, p, secret, s.ssoRedirectURI(c.r))
	if err != nil {
		s.log.Warn("single sign-on start failed", "issuer", p.Issuer, "err", err)
		return ssoFailed(c, http.StatusBadGateway, err.Error())
	}
	exp := s.now().Add(ssoTTL)
	http.SetCookie(c.w, &http.Cookie{Name: ssoCookie, Value: s.keys.SealValue("sso-pending", ssoPending{Flow: flow, State: st.State, Nonce: st.Nonce, Verifier: st.Verifier, Expires: exp.Unix()}),
		Path: "/sso/", MaxAge: int(ssoTTL / time.Second), HttpOnly: true, Secure: s.secureCookies(c.r), SameSite: http.SameSiteLaxMode})
	http.Redirect(c.w, c.r, st.URL, http.StatusFound)
	return nil
}

// ssoCallback finishes a sign-in: checks the answer and the ID token,
// finds (or creates) the user, applies the groups claim, then does what
// the flow was for.
func (s *Server) ssoCallback(c *call) error {
	ck, err := c.r.Cookie(ssoCookie)
	var pending ssoPending
	if err != nil || s.keys.OpenValue("sso-pending", ck.Value, &pending) != nil || s.now().Unix() >= pending.Expires {
		return ssoFailed(c, http.StatusBadRequest, "This browser has no sign-in in progress (it expired, or cookies are blocked).")
	}
	http.SetCookie(c.w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/sso/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(c.r), SameSite: http.SameSiteLaxMode})
	q := c.r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pending.State)) != 1 {
		return ssoFailed(c, http.StatusBadRequest, "The identity provider's answer does not belong to this sign-in.")
	}
	if e := q.Get("error"); e != "" {
		return ssoFailed(c, http.StatusForbidden, "The identity provider refused the sign-in: "+e+" "+q.Get("error_description"))
	}
	flow := pending.Flow
	p, err := s.store.IdentityProvider(c.ctx, flow.Workspace, flow.Provider)
	if err != nil {
		return ssoFailed(c, http.StatusNotFound, "The identity provider "+flow.Provider+" is no longer set up for "+flow.Workspace+".")
	}
	secret, err := s.providerSecret(p)
	if err != nil {
		return ssoFailed(c, http.StatusInternalServerError, "The identity provider's settings cannot be read on this server.")
	}
	id, err := s.rp.Finish(c.ctx, p, secret, s.ssoRedirectURI(c.r), q.Get("code"), oidc.Start{State: pending.State, Nonce: pending.Nonce, Verifier: pending.Verifier})
	if err != nil {
		s.log.Warn("single sign-on refused", "workspace", p.Workspace, "provider", p.Name, "err", err)
		status := http.StatusForbidden
		if !errors.Is(err, oidc.ErrRefused) {
			status = http.StatusBadGateway
		}
		return ssoFailed(c, status, err.Error())
	}
	actor := codexgov.WithActor(c.ctx, codexgov.Actor{ID: "oidc:" + p.Name, RequestID: c.w.Header().Get("X-Request-Id")})
	u, err := s.store.User(c.ctx, p.Workspace, id.Email)
	if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
		w, _ := s.snap.Load().Workspace(p.Workspace)
		if w == nil || !w.Settings.AllowJITProvisioning {
			return ssoFailed(c, http.StatusForbidden, id.Email+" is not a user of "+p.Workspace+", and the workspace does not create users at first sign-in (setting allow_jit_provisioning). Ask your administrator to provision you.")
		}
		u, err = s.store.CreateUser(actor, p.Workspace, codexgov.User{Email: id.Email, Name: id.Name})
	}
	if err != nil {
		s.log.Error("single sign-on: user", "err", err)
		return ssoFailed(c, http.StatusServiceUnavailable, "The server could not complete the sign-in just now. Try again in a moment.")
	}
	if !u.Active {
		return ssoFailed(c, http.StatusForbidden, id.Email+" is deactivated in "+p.Workspace+".")
	}
	if id.HasGroups {
		groups, err := s.store.Groups(c.ctx, p.Workspace)
		if err == nil {
			_, err = s.store.SetUserGroups(actor, p.Workspace, u.Email, oidc.WantedGroups(id.Groups, groups))
		}
		if err != nil {
			s.log.Error("single sign-on: groups claim", "err", err)
			return ssoFailed(c, http.StatusServiceUnavailable, "The server could not apply your groups just now. Try again in a moment.")
		}
	}
	s.changed(c.ctx)
	switch flow.Kind {
	case "admin":
		return s.startSession(c, p.Workspace, u.Email)
	case "codex":
		return s.finishCodexSignIn(c, flow, u.Email)
	case "device":
		d, msg := s.pendingDevice(c, flow.UserCode)
		if d == nil {
			return ssoFailed(c, http.StatusBadRequest, msg)
		}
		tok := s.keys.SealValue("device-decision", deviceDecision{UserCode: d.UserCode, Workspace: p.Workspace, Email: u.Email, Expires: s.now().Add(ssoTTL).Unix()})
		web.RenderPage(c.w, http.StatusOK, web.Page{Title: "Approve codexgov login", Code: displayCode(d.UserCode),
			Lines: []string{"Signed in as " + u.Email + ". A device asked to sign in to codexgov as you (" + d.UserAgent + "). Approve only if you started codexgov login and it shows this code."},
			Forms: []web.Form{{Action: "/device/decide", Hidden: []web.Field{{Name: "decision_token", Value: tok}}, Buttons: []web.Button{{Name: "decision", Value: "approve", Label: "Approve"}, {Name: "decision", Value: "deny", Label: "Deny"}}}}})
		return nil
	}
	return ssoFailed(c, http.StatusBadRequest, "Unknown sign-in.")
}

// finishCodexSignIn completes Codex's OAuth sign-in after single sign-on.
func (s *Server) finishCodexSignIn(c *call, flow ssoFlow, email string) error {
	req, err := s.keys.Open(flow.Request, s.now())
	if err != nil || req.Workspace != flow.Workspace {
		return ssoFailed(c, http.StatusBadRequest, "The Codex sign-in request is not valid any more; run codex login again.")
	}
	acc, _, _ := s.snap.Load().Access(flow.Workspace, email)
	if d := acc[codexgov.SurfaceLocal]; !d.Allowed {
		http.Redirect(c.w, c.r, req.Callback(url.Values{"error": {"access_denied"}, "error_description": {codexgov.AccessDeniedMessage + " (" + d.Reason + ")"}}), http.StatusFound)
		return nil
	}
	code, hash := configserver.NewCode()
	err = s.store.CreateOAuthCode(c.ctx, codexgov.OAuthCode{Hash: hash, Workspace: flow.Workspace, User: email, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Challenge: req.Challenge, Scope: req.Scope, Resource: req.Resource, ExpiresAt: s.now().Add(configserver.CodeTTL)})
	if err != nil {
		return ssoFailed(c, http.StatusServiceUnavailable, "The server could not complete the sign-in just now. Try again in a moment.")
	}
	http.Redirect(c.w, c.r, req.Callback(url.Values{"code": {code}}), http.StatusFound)
	return nil
}

// --- admin web sessions ---

// session is an admin's web session, sealed in its cookie. A new ID is
// drawn at every sign-in (no fixation), and the CSRF token is derived
// from it.
type session struct {
	ID, Workspace, Email string
	Expires              int64
}

func (s *Server) startSession(c *call, ws, email string) error {
	if !slices.Contains(s.snap.Load().UserScopes(ws, email), codexgov.ScopeAdminRead) {
		return ssoFailed(c, http.StatusForbidden, email+" signed in, but none of your roles in "+ws+" has the codex_admin permission these pages need.")
	}
	var id [16]byte
	rand.Read(id[:])
	sess := session{ID: hex.EncodeToString(id[:]), Workspace: ws, Email: email, Expires: s.now().Add(SessionTTL).Unix()}
	http.SetCookie(c.w, &http.Cookie{Name: s.sessionCookieName(c.r), Value: s.keys.SealValue("session", sess), Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: s.secureCookies(c.r), SameSite: http.SameSiteLaxMode})
	http.Redirect(c.w, c.r, "/ui/"+ws, http.StatusFound)
	return nil
}

// webSession returns the caller's live session for ws: the cookie opens,
// has not expired, and its person is still an active admin there.
func (s *Server) webSession(c *call, ws string) (*session, []codexgov.Scope) {
	ck, err := c.r.Cookie(s.sessionCookieName(c.r))
	if err != nil {
		return nil, nil
	}
	var sess session
	if s.keys.OpenValue("session", ck.Value, &sess) != nil || s.now().Unix() >= sess.Expires || sess.Workspace != ws {
		return nil, nil
	}
	scopes := s.snap.Load().UserScopes(ws, sess.Email)
	if !slices.Contains(scopes, codexgov.ScopeAdminRead) {
		return nil, nil
	}
	return &sess, scopes
}

func (s *Server) csrfToken(sess *session) string { return s.keys.MAC("csrf:" + sess.ID) }

// checkCSRF guards a session's form post: the token derived from the
// session, and an Origin (when sent) that is this server's.
func (s *Server) checkCSRF(c *call, sess *session) bool {
	if o := c.r.Header.Get("Origin"); o != "" && o != s.baseURL(c.r) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.r.PostForm.Get("csrf")), []byte(s.csrfToken(sess))) == 1
}

func (s *Server) adminSignIn(c *call) error {
	ws := c.path("ws")
	if _, ok := s.snap.Load().Workspace(ws); !ok {
		web.RenderPage(c.w, http.StatusNotFound, web.Page{Title: "Not found", Error: "No workspace " + ws + "."})
		return nil
	}
	links := s.ssoLinks(c, ws, ssoFlow{Kind: "admin", Workspace: ws})
	p := web.Page{Title: "Sign in to codexgov · " + ws, Links: links}
	if len(links) == 0 {
		p.Lines = []string{"This workspace has no single sign-on set up. Administrators use the API with an API key or codexgov login."}
	}
	web.RenderPage(c.w, http.StatusOK, p)
	return nil
}

func (s *Server) adminHome(c *call) error {
	ws := c.path("ws")
	sess, _ := s.webSession(c, ws)
	if sess == nil {
		http.Redirect(c.w, c.r, "/ui/"+ws+"/sign-in", http.StatusFound)
		return nil
	}
	users, err := s.store.Users(c.ctx, ws)
	if err != nil {
		return err
	}
	groups, err := s.store.Groups(c.ctx, ws)
	if err != nil {
		return err
	}
	ps, err := s.store.IdentityProviders(c.ctx, ws)
	if err != nil {
		return err
	}
	w, _ := s.snap.Load().Workspace(ws)
	h := web.AdminHome{Workspace: ws, Email: sess.Email, CSRF: s.csrfToken(sess), Users: len(users), DeviceLogin: w.Settings.AllowDeviceCodeLogin, JIT: w.Settings.AllowJITProvisioning}
	if c.r.URL.Query().Get("saved") == "1" {
		h.Notice = "Settings saved."
	}
	for _, u := range users {
		if u.Active {
			h.Active++
		}
	}
	for _, g := range groups {
		h.Groups = append(h.Groups, web.GroupRow{Name: g.Name, Members: len(g.Members), Roles: strings.Join(g.Roles, ", ")})
	}
	for _, p := range ps {
		h.Providers = append(h.Providers, p.Name)
	}
	return web.RenderAdmin(c.w, http.StatusOK, h)
}

func (s *Server) adminSettings(c *call) error {
	ws := c.path("ws")
	if err := s.parseForm(c); err != nil {
		return err
	}
	sess, scopes := s.webSession(c, ws)
	if sess == nil || !s.checkCSRF(c, sess) {
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not saved", Error: "This form is not valid for your session (it expired, or it was sent from another site). Nothing was changed."})
		return nil
	}
	if !slices.Contains(scopes, codexgov.ScopeAdminWrite) {
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not saved", Error: "Your roles do not allow changing settings."})
		return nil
	}
	on := func(k string) *bool { v := c.r.PostForm.Get(k) == "on"; return &v }
	ctx := codexgov.WithActor(c.ctx, codexgov.Actor{ID: "user:" + sess.Email + " (web)", RequestID: c.w.Header().Get("X-Request-Id")})
	if _, err := s.store.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{AllowDeviceCodeLogin: on("allow_device_code_login"), AllowJITProvisioning: on("allow_jit_provisioning")}); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return err
	}
	s.changed(c.ctx)
	http.Redirect(c.w, c.r, "/ui/"+ws+"?saved=1", http.StatusSeeOther)
	return nil
}

func (s *Server) adminSignOut(c *call) error {
	ws := c.path("ws")
	if err := s.parseForm(c); err != nil {
		return err
	}
	if sess, _ := s.webSession(c, ws); sess == nil || !s.checkCSRF(c, sess) {
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not signed out", Error: "This form is not valid for your session."})
		return nil
	}
	http.SetCookie(c.w, &http.Cookie{Name: s.sessionCookieName(c.r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(c.r), SameSite: http.SameSiteLaxMode})
	http.Redirect(c.w, c.r, "/ui/"+ws+"/sign-in", http.StatusSeeOther)
	return nil
}

// --- identity provider administration ---

// PutIdentityProvider is the body of PUT …/identity-providers/{idp}.
type PutIdentityProvider struct {
	DisplayName string `json:"display_name,omitempty"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	// ClientSecret is required when creating; empty on a replace keeps
	// the stored one. It is stored encrypted and never returned.
	ClientSecret  string `json:"client_secret,omitempty"`
	AllowedDomain string `json:"allowed_domain"`
	GroupsClaim   string `json:"groups_claim,omitempty"`
}

func (s *Server) listIdentityProviders(c *call) (any, error) {
	return s.store.IdentityProviders(c.ctx, c.ws)
}

func (s *Server) getIdentityProvider(c *call) (any, error) {
	return s.store.IdentityProvider(c.ctx, c.ws, c.path("idp"))
}

func (s *Server) putIdentityProvider(c *call) (any, error) {
	var in PutIdentityProvider
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	name := c.path("idp")
	p := codexgov.IdentityProvider{Name: name, Workspace: c.ws, DisplayName: in.DisplayName, Issuer: in.Issuer, ClientID: in.ClientID,
		AllowedDomain: in.AllowedDomain, GroupsClaim: in.GroupsClaim}
	if in.ClientSecret != "" {
		p.ClientSecretEnc = s.keys.SealSecret("idp:"+c.ws+"/"+name, in.ClientSecret)
	}
	return mutate(c, func() (*codexgov.IdentityProvider, error) { return s.store.PutIdentityProvider(c.ctx, p) })
}

func (s *Server) deleteIdentityProvider(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteIdentityProvider(c.ctx, c.ws, c.path("idp")) })
}
