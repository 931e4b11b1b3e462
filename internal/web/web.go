// Package web renders the server's HTML: the device verification page,
// Codex's sign-in page, single sign-on results and the admin page. Every
// page shares one layout and one stylesheet, embedded in the binary, and
// is sent with the same security headers.
package web

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var files embed.FS

//go:embed assets/style.css
var stylesheet string

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	// The stylesheet is the package's own file: trusted CSS.
	"stylesheet": func() template.CSS { return template.CSS(stylesheet) }, //nolint:gosec // embedded, not input
}).ParseFS(files, "templates/*.html"))

// SecurityHeaders are set on every page: nothing loads from elsewhere, no
// framing, no caching, and forms may go to this server and, by redirect,
// to Codex's loopback listener only.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:* http://[::1]:*; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

func render(w http.ResponseWriter, status int, name string, data any) error {
	SecurityHeaders(w.Header())
	w.WriteHeader(status)
	return pages.ExecuteTemplate(w, name, data)
}

// Page is one of the small pages: the device verification page, single
// sign-on results, the admin sign-in.
type Page struct {
	Title    string
	Lines    []string
	Error    string
	Code     string // a user code to show large
	Links    []Link
	Forms    []Form
	Internal bool
}

// Link is a button-like link (single sign-on leaves with a GET).
type Link struct{ Href, Label string }

// Form is a form on a page.
type Form struct {
	Action  string
	Method  string // "post" unless set
	Hidden  []Field
	Inputs  []Input
	Buttons []Button
}

// Field is a hidden form field.
type Field struct{ Name, Value string }

// Input is a visible form field.
type Input struct{ Name, Label, Type, Value string }

// Button submits a form with its name and value.
type Button struct{ Name, Value, Label string }

// RenderPage writes a Page.
func RenderPage(w http.ResponseWriter, status int, p Page) error { return render(w, status, "page", p) }

// A SignInMethod is one way the person at Codex's sign-in page proves who
// they are: a form of its own posting to Action/ID, or a link (single
// sign-on leaves for the identity provider with a GET).
type SignInMethod struct {
	ID    string
	Label string
	// Secret asks for a secret on the page itself (the access token).
	Secret      bool
	SecretLabel string
	Link        string
}

// AccessTokenMethod signs in with an access token an admin issued.
var AccessTokenMethod = SignInMethod{ID: "access-token", Label: "Sign in", Secret: true, SecretLabel: "Access token (cgt_…) from your Codex administrator"}

// SignIn is Codex's sign-in page (the configuration server's OAuth
// authorization endpoint).
type SignIn struct {
	Workspace     string
	WorkspaceName string
	Request       string // the sealed authorization request
	Methods       []SignInMethod
	Error         string
	Action        string // the forms' base path
}

// RenderSignIn writes Codex's sign-in page.
func RenderSignIn(w http.ResponseWriter, status int, p SignIn) error {
	return render(w, status, "signin", p)
}

// RenderSignInError writes the page for a sign-in that cannot go back to
// Codex (an unknown client, a redirect URI that is not loopback).
func RenderSignInError(w http.ResponseWriter, status int, msg string) error {
	return render(w, status, "signin-error", msg)
}
