package httpapi

// The web pages surface: the admin page and its session cookie.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/web"
)

// parseForm reads a form body of at most maxFormBytes: a malformed,
// oversized or unstorable form is the caller's error (400, 413), never 500.
func (s *Server) parseForm(c *call) error {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxFormBytes)
	if err := c.r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return codexgov.Errorf(codexgov.EINVALID, "the form is over the %d-byte limit", mbe.Limit)
		}
		return codexgov.Errorf(codexgov.EINVALID, "the form could not be read: %v", err)
	}
	return checkForm(c.r)
}

// session is an admin's web session, sealed in its cookie. A new ID is
// drawn at every sign-in (no fixation), and the CSRF token is derived
// from it.
type session struct {
	ID, Workspace, Email string
	Expires              int64
}

func (s *Server) startSession(c *call, ws, email string) error {
	if !consoleAllowed(s.snap.Load().UserScopes(ws, email)) {
		return ssoFailed(c, http.StatusForbidden, email+" signed in, but none of your roles in "+ws+" has a permission these pages need: codex_admin, analytics_read (the dashboard) or compliance_read (the audit log).")
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
	if !consoleAllowed(scopes) {
		return nil, nil
	}
	return &sess, scopes
}

// consoleAllowed is whether a person's scopes open any console page: the
// admin pages (codex_admin), the dashboard (analytics_read) or the audit
// log (compliance_read). Each page checks its own scope.
func consoleAllowed(scopes []codexgov.Scope) bool {
	return slices.Contains(scopes, codexgov.ScopeAdminRead) || slices.Contains(scopes, codexgov.ScopeAnalyticsRead) || slices.Contains(scopes, codexgov.ScopeAuditRead)
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
