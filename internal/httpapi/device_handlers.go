package httpapi

// The device login surface: RFC 8628 device authorization for codexgov
// login, its token and revocation endpoints, and the verification page.

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/web"
)

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
	if ok, d := s.limits.workspace.allow(ws, s.now()); !ok {
		err := tooMany(c.w, d, "too many device sign-ins started for this workspace")
		return tokenError(c, http.StatusTooManyRequests, "slow_down", codexgov.ErrorMessage(err))
	}
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
	if err := s.store.CreateDeviceAuthorization(c.ctx, d); codexgov.ErrorCode(err) == codexgov.ETOOMANY {
		c.w.Header().Set("Retry-After", "60")
		return tokenError(c, http.StatusTooManyRequests, "slow_down", codexgov.ErrorMessage(err))
	} else if err != nil {
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
