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

// TestConsoleLayout: a console page escapes what it is given, loads its
// scripts and stylesheet from this server only (versioned by content),
// and is sent with a policy that allows nothing else.
func TestConsoleLayout(t *testing.T) {
	evil := `<script>alert(1)</script>`
	rec := httptest.NewRecorder()
	err := RenderConsole(rec, 200, Console{Workspace: "acme", Email: evil, Page: "roles", Title: "Roles", Nav: []NavItem{{Href: "/ui/acme/roles", Label: "Roles", Current: true}},
		Data: map[string]any{"Roles": []map[string]any{{"Name": evil, "Description": evil, "Explained": []string{evil}}}, "Holders": map[string][]string{}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if strings.Contains(body, evil) || strings.Count(body, "&lt;script&gt;") != 4 {
		t.Errorf("input not escaped:\n%s", body)
	}
	for _, a := range []string{"style.css", "htmx.min.js", "uPlot.iife.min.js", "console.js"} {
		if !strings.Contains(body, AssetURL(a)) || !strings.Contains(AssetURL(a), "?v=") {
			t.Errorf("the page does not load %s from %s", a, AssetURL(a))
		}
	}
	if !strings.Contains(body, `aria-current="page"`) {
		t.Errorf("the current page is not marked")
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	// Every asset is served with its type and cached by content.
	for name := range assets {
		rec := httptest.NewRecorder()
		if !ServeAsset(rec, httptest.NewRequest("GET", AssetURL(name), nil)) || rec.Body.Len() == 0 || rec.Header().Get("Cache-Control") == "" {
			t.Errorf("asset %s not served", name)
		}
	}
}
