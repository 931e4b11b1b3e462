package httpapi

// The single sign-on surface: leaving for a workspace's identity provider
// and coming back to the callback.

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/web"
)

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
	return s.keys.OpenSecret(idpSecretLabel(p.Workspace, p.Name), p.ClientSecretEnc)
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
	if s.rp == nil {
		return ssoFailed(c, http.StatusNotFound, "Single sign-on is not available on this server.")
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
	if s.rp == nil {
		return ssoFailed(c, http.StatusNotFound, "Single sign-on is not available on this server.")
	}
	id, err := s.rp.Finish(c.ctx, p, secret, s.ssoRedirectURI(c.r), q.Get("code"), codexgov.SSOStart{State: pending.State, Nonce: pending.Nonce, Verifier: pending.Verifier})
	if err != nil {
		s.log.Warn("single sign-on refused", "workspace", p.Workspace, "provider", p.Name, "err", err)
		status := http.StatusForbidden
		if !errors.Is(err, codexgov.ErrSSORefused) {
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
			_, err = s.store.SetUserGroups(actor, p.Workspace, u.Email, codexgov.WantedGroups(id.Groups, groups))
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

// idpSecretLabel binds a provider's sealed client secret to it.
func idpSecretLabel(ws, name string) string { return "idp:" + ws + "/" + name }
