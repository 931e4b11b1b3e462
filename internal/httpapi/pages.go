package httpapi

import (
	"html/template"
	"net/http"

	"github.com/codexgov/codexgov/internal/configserver"
)

// Page is one of the server's small HTML pages: the device verification
// page, single sign-on results and the admin sign-in.
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

var htmlPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · codexgov</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .3rem}input[type=password],input[type=text]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem;font:inherit}.error{color:#a40e26;border:1px solid #a40e26;padding:.5rem}
.code{font:600 2rem/1.2 ui-monospace,monospace;letter-spacing:.15em}a.sso{display:inline-block;padding:.5rem 1rem;border:1px solid #1b1f24;color:inherit;text-decoration:none;margin:.3rem 0}
</style></head><body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Code}}<p class="code">{{.Code}}</p>{{end}}
{{range .Lines}}<p>{{.}}</p>{{end}}
{{range .Links}}<p><a class="sso" href="{{.Href}}">{{.Label}}</a></p>{{end}}
{{range .Forms}}<form method="{{if .Method}}{{.Method}}{{else}}post{{end}}" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
{{range .Inputs}}<label for="f-{{.Name}}">{{.Label}}</label><input type="{{.Type}}" id="f-{{.Name}}" name="{{.Name}}" value="{{.Value}}" autocomplete="off">{{end}}
{{range .Buttons}}<button type="submit"{{if .Name}} name="{{.Name}}" value="{{.Value}}"{{end}}>{{.Label}}</button>{{end}}
</form>{{end}}
</body></html>
`))

func renderPage(w http.ResponseWriter, status int, p Page) {
	configserver.SecurityHeaders(w.Header())
	w.WriteHeader(status)
	htmlPage.Execute(w, p)
}

// AdminHome is the admin web page of a workspace.
type AdminHome struct {
	Workspace, Email, CSRF string
	Users, Active          int
	Groups                 []GroupRow
	DeviceLogin, JIT       bool
	Providers              []string
	Notice                 string
}

// GroupRow is one group on the admin page.
type GroupRow struct {
	Name    string
	Members int
	Roles   string
}

var adminPage = template.Must(template.New("admin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Workspace}} · codexgov</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #d0d7de;text-align:left}.notice{border:1px solid #1a7f37;padding:.5rem}</style>
</head><body>
<header><strong>codexgov</strong> · {{.Workspace}} · signed in as <span id="who">{{.Email}}</span>
<form method="post" action="/ui/{{.Workspace}}/sign-out" style="display:inline"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form></header>
{{if .Notice}}<p class="notice" role="status">{{.Notice}}</p>{{end}}
<h1>Workspace {{.Workspace}}</h1>
<p><span id="users">{{.Users}}</span> users, {{.Active}} active. Single sign-on: {{range .Providers}}{{.}} {{else}}none{{end}}</p>
<h2>Groups</h2>
<table id="groups"><tr><th>Group</th><th>Members</th><th>Roles</th></tr>
{{range .Groups}}<tr><td>{{.Name}}</td><td>{{.Members}}</td><td>{{.Roles}}</td></tr>{{end}}</table>
<h2>Sign-in settings</h2>
<form method="post" action="/ui/{{.Workspace}}/settings">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label><input type="checkbox" name="allow_device_code_login" value="on"{{if .DeviceLogin}} checked{{end}}> Allow device-code login (codexgov login)</label>
<label><input type="checkbox" name="allow_jit_provisioning" value="on"{{if .JIT}} checked{{end}}> Create users at their first single sign-on</label>
<button type="submit">Save</button>
</form>
</body></html>
`))
