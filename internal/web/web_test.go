package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPagesShareLayoutAndEscape: every page has the one stylesheet and the
// security headers, and escapes what it is given.
func TestPagesShareLayoutAndEscape(t *testing.T) {
	evil := `<script>alert(1)</script>`
	for name, render := range map[string]func(w http.ResponseWriter) error{
		"page": func(w http.ResponseWriter) error {
			return RenderPage(w, 200, Page{Title: "T", Error: evil, Lines: []string{evil}})
		},
		"signin": func(w http.ResponseWriter) error {
			return RenderSignIn(w, 401, SignIn{WorkspaceName: evil, Methods: []SignInMethod{AccessTokenMethod}, Action: "/a"})
		},
		"error": func(w http.ResponseWriter) error { return RenderSignInError(w, 400, evil) },
		"admin": func(w http.ResponseWriter) error {
			return RenderAdmin(w, 200, AdminHome{Workspace: "acme", Email: evil, Groups: []GroupRow{{Name: evil}}})
		},
	} {
		rec := httptest.NewRecorder()
		if err := render(rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := rec.Body.String()
		if strings.Contains(body, evil) || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: input not escaped", name)
		}
		if strings.Count(body, "<style>") != 1 || !strings.Contains(body, "a.sso{") || !strings.HasPrefix(body, "<!doctype html>") {
			t.Errorf("%s: not the shared layout:\n%s", name, body)
		}
		if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", name, rec.Header())
		}
	}
}
