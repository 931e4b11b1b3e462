package configserver

import (
	"html/template"
	"net/http"
)

// A SignInMethod is one way the person at the sign-in page proves who
// they are. Each method is a button or form on the page and a POST route
// of its own (/codex-config/{ws}/oauth/sign-in/{method}) that receives the
// sealed authorization request and, on success, names the user. The
// access-token method is built in; an OIDC upstream is another method
// that carries the sealed request through the IdP as its state.
type SignInMethod struct {
	ID    string
	Label string
	// Secret asks for a secret on the page itself (the access token).
	Secret      bool
	SecretLabel string
	// Link makes the method a link instead of a form: single sign-on
	// leaves for the identity provider with a GET.
	Link string
}

// AccessTokenMethod signs in with an access token an admin issued.
var AccessTokenMethod = SignInMethod{ID: "access-token", Label: "Sign in", Secret: true, SecretLabel: "Access token (cgt_…) from your Codex administrator"}

// Page is what the sign-in page shows.
type Page struct {
	Workspace     string
	WorkspaceName string
	Request       string // sealed AuthRequest
	Methods       []SignInMethod
	Error         string
	Action        string // the form's base path
}

var pageTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Codex · {{.WorkspaceName}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .3rem}input[type=password]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit}.error{color:#a40e26;border:1px solid #a40e26;padding:.5rem}.muted{color:#57606a;font-size:.9rem}a.sso{display:inline-block;padding:.5rem 1rem;border:1px solid #1b1f24;color:inherit;text-decoration:none}
</style></head><body>
<h1>Sign in to Codex for {{.WorkspaceName}}</h1>
<p class="muted">Codex on your machine asked for your organization's settings. Signing in lets it load the policy your administrator chose for you.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{range .Methods}}{{if .Link}}
<p><a class="sso" href="{{.Link}}">{{.Label}}</a></p>{{else}}
<form method="post" action="{{$.Action}}/{{.ID}}">
<input type="hidden" name="request" value="{{$.Request}}">
{{if .Secret}}<label for="secret-{{.ID}}">{{.SecretLabel}}</label>
<input type="password" id="secret-{{.ID}}" name="secret" autocomplete="off" required autofocus>{{end}}
<button type="submit">{{.Label}}</button>
</form>
{{end}}{{end}}
<form method="post" action="{{.Action}}/deny"><input type="hidden" name="request" value="{{.Request}}"><button type="submit">Cancel</button></form>
</body></html>
`))

// ErrorPage is shown when the request cannot go back to Codex (an
// unknown client or a redirect URI that is not loopback).
var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codex sign-in failed</title></head><body style="font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto">
<h1>Codex sign-in failed</h1><p>{{.}}</p><p>Run <code>codex login</code> again. If this keeps happening, send this page to your Codex administrator.</p></body></html>
`))

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

// RenderPage writes the sign-in page.
func RenderPage(w http.ResponseWriter, status int, p Page) {
	SecurityHeaders(w.Header())
	w.WriteHeader(status)
	pageTmpl.Execute(w, p)
}

// RenderError writes a page for an error that cannot be sent to Codex.
func RenderError(w http.ResponseWriter, status int, msg string) {
	SecurityHeaders(w.Header())
	w.WriteHeader(status)
	errorTmpl.Execute(w, msg)
}
