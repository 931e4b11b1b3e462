package httpapi

// The console surface: the admin console's pages under /ui/{ws}/…,
// server-rendered, on the same store calls and engines as the admin API
// (policy lint, lookup, devices, the Analytics API's page). Reading needs
// a session of the workspace; every write is a form post with the
// session's CSRF token, checked by Go's cross-origin protection too,
// audited as the person, and versioned objects are written only over the
// version the form was made from (docs/console.md).

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/web"
)

// consolePage is one entry of the console's sidebar: its path under
// /ui/{ws} and the scope a person needs to see it.
type consolePage struct {
	page, path, label string
	scope             codexgov.Scope
}

var consolePages = []consolePage{
	{"overview", "", "Overview", codexgov.ScopeAdminRead},
	{"users", "/users", "Users", codexgov.ScopeAdminRead},
	{"groups", "/groups", "Groups", codexgov.ScopeAdminRead},
	{"roles", "/roles", "Roles", codexgov.ScopeAdminRead},
	{"policies", "/policies", "Policies", codexgov.ScopeAdminRead},
	{"assignment", "/assignment", "Assignment", codexgov.ScopeAdminRead},
	{"lookup", "/lookup", "Lookup", codexgov.ScopeAdminRead},
	{"devices", "/devices", "Devices", codexgov.ScopeAdminRead},
	{"activity", "/activity", "Activity", codexgov.ScopeAuditRead},
	{"analytics", "/analytics", "Analytics", codexgov.ScopeAnalyticsRead},
	{"compliance", "/compliance", "Compliance", codexgov.ScopeAuditRead},
	{"audit", "/audit", "Audit log", codexgov.ScopeAuditRead},
	{"credentials", "/credentials", "Credentials", codexgov.ScopeAdminRead},
	{"settings", "/settings", "Settings", codexgov.ScopeAdminRead},
}

// consoleCall is a console request with its session.
type consoleCall struct {
	*call
	sess   *session
	scopes []codexgov.Scope
	view   web.Console
}

func (cc *consoleCall) can(sc codexgov.Scope) bool { return codexgov.Allows(cc.scopes, sc) }

// openConsole checks a console page's session and scope. Without a
// session it sends the browser to sign in; a person whose roles do not
// reach the page gets its first page they may see, or a 403 page.
func (s *Server) openConsole(c *call, page string) (*consoleCall, bool) {
	ws := c.path("ws")
	sess, scopes := s.webSession(c, ws)
	if sess == nil {
		http.Redirect(c.w, c.r, "/ui/"+ws+"/sign-in", http.StatusFound)
		return nil, false
	}
	cc := &consoleCall{call: c, sess: sess, scopes: scopes}
	cc.ws = ws
	var me *consolePage
	for i, p := range consolePages {
		if !cc.can(p.scope) {
			continue
		}
		cc.view.Nav = append(cc.view.Nav, web.NavItem{Href: "/ui/" + ws + p.path, Label: p.label, Current: p.page == page})
		if p.page == page {
			me = &consolePages[i]
		}
	}
	if me == nil {
		if page == "overview" && len(cc.view.Nav) > 0 {
			http.Redirect(c.w, c.r, cc.view.Nav[0].Href, http.StatusFound)
			return nil, false
		}
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not allowed", Error: "Your roles in " + ws + " do not give you this page."})
		return nil, false
	}
	cc.view.Workspace, cc.view.Email, cc.view.CSRF, cc.view.Page, cc.view.Title = ws, sess.Email, s.csrfToken(sess), page, me.label
	cc.view.CanWrite = cc.can(codexgov.ScopeAdminWrite)
	switch c.r.URL.Query().Get("done") {
	case "":
	default:
		cc.view.Notice = c.r.URL.Query().Get("done")
	}
	return cc, true
}

// render writes the page, or its fragment for an htmx request that asks
// for one.
func (cc *consoleCall) render(status int, data any) error {
	cc.view.Data = data
	return web.RenderConsole(cc.w, status, cc.view, false)
}

// crossOrigin is Go's CSRF defence (Sec-Fetch-Site and Origin), in front
// of the session's form token.
var crossOrigin = http.NewCrossOriginProtection()

// consoleWrite checks a console form post: a live session of the
// workspace, the same origin, the session's CSRF token, and codex_admin.
// It returns the context that audits the change as the person.
func (s *Server) consoleWrite(c *call) (*consoleCall, bool) {
	ws := c.path("ws")
	if err := s.parseForm(c); err != nil {
		s.writeError(c.w, c.r, "", err)
		return nil, false
	}
	sess, scopes := s.webSession(c, ws)
	if sess == nil || crossOrigin.Check(c.r) != nil || !s.checkCSRF(c, sess) {
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not saved", Error: "This form is not valid for your session (it expired, or it was sent from another site). Nothing was changed."})
		return nil, false
	}
	if !codexgov.Allows(scopes, codexgov.ScopeAdminWrite) {
		web.RenderPage(c.w, http.StatusForbidden, web.Page{Title: "Not saved", Error: "Your roles do not allow changes here (codex_admin does). Nothing was changed."})
		return nil, false
	}
	cc := &consoleCall{call: c, sess: sess, scopes: scopes}
	cc.ws = ws
	cc.ctx = codexgov.WithActor(c.ctx, codexgov.Actor{ID: "user:" + sess.Email + " (console)", RequestID: c.w.Header().Get("X-Request-Id")})
	return cc, true
}

// done sends the browser back to a console page with a notice.
func (cc *consoleCall) done(path, notice string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(cc.w, cc.r, "/ui/"+cc.ws+path+sep+"done="+url.QueryEscape(notice), http.StatusSeeOther)
	return nil
}

// failed answers a refused write with the page it came from and the error,
// status by the error's code (a stale version is 409).
func (s *Server) failed(cc *consoleCall, page string, err error) error {
	if codexgov.ErrorCode(err) == codexgov.EINTERNAL || codexgov.ErrorCode(err) == codexgov.EUNAVAILABLE {
		return err
	}
	msg := codexgov.ErrorMessage(err)
	var e *codexgov.Error
	if errors.As(err, &e) {
		for _, d := range e.Details {
			if d.Field != "" {
				msg += "; " + d.Field + ": " + d.Message
			} else {
				msg += "; " + d.Message
			}
		}
	}
	web.RenderPage(cc.w, statusOf[codexgov.ErrorCode(err)], web.Page{Title: "Not saved", Error: msg + ". Nothing was changed.",
		Links: []web.Link{{Href: "/ui/" + cc.ws + page, Label: "Back"}}})
	return nil
}

// consoleRoot sends / to the console.
func (s *Server) consoleRoot(c *call) error {
	if c.r.URL.Path != "/" {
		return codexgov.Errorf(codexgov.ENOTFOUND, "no such page")
	}
	http.Redirect(c.w, c.r, "/ui/", http.StatusFound)
	return nil
}

// consoleStart asks which workspace to sign in to (workspaces are not
// listed to strangers).
func (s *Server) consoleStart(c *call) error {
	if ws := strings.TrimSpace(c.r.URL.Query().Get("workspace")); ws != "" {
		http.Redirect(c.w, c.r, "/ui/"+url.PathEscape(ws)+"/sign-in", http.StatusFound)
		return nil
	}
	return web.RenderPage(c.w, http.StatusOK, web.Page{Title: "codexgov console", Lines: []string{"Sign in to your workspace's console with your organisation's single sign-on."},
		Forms: []web.Form{{Action: "/ui/", Method: "get", Inputs: []web.Input{{Name: "workspace", Label: "Workspace ID", Type: "text"}}, Buttons: []web.Button{{Label: "Continue"}}}}})
}

// consoleAsset serves the console's embedded scripts and stylesheets.
func (s *Server) consoleAsset(c *call) error {
	if !web.ServeAsset(c.w, c.r) {
		return codexgov.Errorf(codexgov.ENOTFOUND, "no such asset")
	}
	return nil
}

// Overview

type overviewData struct {
	Users, Active, Groups, Policies int
	Devices                         map[string]int
	DevicesTotal                    int
	LastEvent                       time.Time
	Changes                         []*codexgov.AuditEvent
}

func (s *Server) consoleOverview(c *call) error {
	cc, ok := s.openConsole(c, "overview")
	if !ok {
		return nil
	}
	users, err := s.store.Users(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	groups, err := s.store.Groups(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	pols, err := s.store.Policies(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := overviewData{Users: len(users), Groups: len(groups), Policies: len(pols), Devices: map[string]int{}}
	for _, u := range users {
		if u.Active {
			d.Active++
		}
	}
	devs, err := s.devicesOf(c.ctx, cc.ws, DefaultStaleAfter, "")
	if err != nil {
		return err
	}
	for _, dv := range devs {
		d.Devices[dv.State]++
	}
	d.DevicesTotal = len(devs)
	if d.LastEvent, err = s.store.LatestTelemetry(c.ctx, cc.ws); err != nil {
		return err
	}
	if d.Changes, err = s.store.AuditEvents(c.ctx, cc.ws, codexgov.AuditFilter{Limit: 8}); err != nil {
		return err
	}
	return cc.render(http.StatusOK, d)
}

// Users

type usersData struct {
	Query string
	Users []*codexgov.User
	// Roles are each listed user's roles: their groups', or the
	// workspace's default role when their groups give none.
	Roles       map[string][]string
	Page, Pages int
	Total       int
	Prev, Next  string
}

const consolePageSize = 50

func (s *Server) consoleUsers(c *call) error {
	cc, ok := s.openConsole(c, "users")
	if !ok {
		return nil
	}
	all, err := s.store.Users(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimSpace(c.r.URL.Query().Get("q")))
	d := usersData{Query: q}
	for _, u := range all {
		if q == "" || strings.Contains(strings.ToLower(u.Email), q) || strings.Contains(strings.ToLower(u.Name), q) || slices.ContainsFunc(u.Groups, func(g string) bool { return strings.Contains(strings.ToLower(g), q) }) {
			d.Users = append(d.Users, u)
		}
	}
	d.Total = len(d.Users)
	d.Pages = max(1, (d.Total+consolePageSize-1)/consolePageSize)
	d.Page, _ = strconv.Atoi(c.r.URL.Query().Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	d.Users = d.Users[(d.Page-1)*consolePageSize : min(d.Page*consolePageSize, d.Total)]
	groups, err := s.store.Groups(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	w, err := s.store.Workspace(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	byGroup := map[string][]string{}
	for _, g := range groups {
		byGroup[g.Name] = g.Roles
	}
	d.Roles = map[string][]string{}
	for _, u := range d.Users {
		var rs []string
		for _, g := range u.Groups {
			rs = append(rs, byGroup[g]...)
		}
		if len(rs) == 0 && w.Settings.DefaultRole != "" {
			rs = []string{w.Settings.DefaultRole + " (default)"}
		}
		slices.Sort(rs)
		d.Roles[u.Email] = slices.Compact(rs)
	}
	link := func(p int) string {
		return "/ui/" + cc.ws + "/users?" + url.Values{"q": {q}, "page": {strconv.Itoa(p)}}.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page + 1)
	}
	return cc.render(http.StatusOK, d)
}

// consoleUserActive activates or deactivates a user; SCIM-managed users
// are changed in the identity provider, not here.
func (s *Server) consoleUserActive(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	email := c.path("email")
	u, err := s.store.User(cc.ctx, cc.ws, email)
	if err != nil {
		return s.failed(cc, "/users", err)
	}
	if u.ExternalID != "" {
		return s.failed(cc, "/users", codexgov.Errorf(codexgov.ECONFLICT, "%s is managed by SCIM: change them in your identity provider", email))
	}
	active := c.r.PostForm.Get("active") == "true"
	if _, err := s.store.UpdateUser(cc.ctx, cc.ws, email, codexgov.UserUpdate{Active: &active}); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, "/users", err)
	}
	s.changed(c.ctx)
	word := "deactivated"
	if active {
		word = "activated"
	}
	return cc.done("/users?q="+url.QueryEscape(c.r.PostForm.Get("q")), email+" "+word+".")
}

// Groups and roles

type groupsData struct {
	Groups []*codexgov.Group
	Roles  []string
	// Open is the group whose members are listed (?group=).
	Open *codexgov.Group
}

func (s *Server) consoleGroups(c *call) error {
	cc, ok := s.openConsole(c, "groups")
	if !ok {
		return nil
	}
	gs, err := s.store.Groups(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	rs, err := s.store.Roles(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := groupsData{Groups: gs}
	for _, r := range rs {
		d.Roles = append(d.Roles, r.Name)
	}
	if name := c.r.URL.Query().Get("group"); name != "" {
		i := slices.IndexFunc(gs, func(g *codexgov.Group) bool { return g.Name == name })
		if i < 0 {
			return codexgov.Errorf(codexgov.ENOTFOUND, "no group %q", name)
		}
		d.Open = gs[i]
	}
	return cc.render(http.StatusOK, d)
}

// consoleGroupCreate creates a group.
func (s *Server) consoleGroupCreate(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	name := strings.TrimSpace(c.r.PostForm.Get("name"))
	if _, err := s.store.CreateGroup(cc.ctx, cc.ws, codexgov.Group{Name: name, Description: strings.TrimSpace(c.r.PostForm.Get("description"))}); err != nil {
		return s.failed(cc, "/groups", err)
	}
	s.changed(c.ctx)
	return cc.done("/groups?group="+url.QueryEscape(name), "Group "+name+" created.")
}

// consoleGroupChange deletes a group, adds or removes a member, or grants
// or revokes a role (op). The members of a SCIM-managed group are changed
// in the identity provider, not here.
func (s *Server) consoleGroupChange(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	name := c.path("group")
	back := "/groups?group=" + url.QueryEscape(name)
	g, err := s.store.Group(cc.ctx, cc.ws, name)
	if err != nil {
		return s.failed(cc, "/groups", err)
	}
	email, role := strings.TrimSpace(c.r.PostForm.Get("email")), c.r.PostForm.Get("role")
	var notice string
	switch op := c.r.PostForm.Get("op"); op {
	case "delete":
		err, back, notice = s.store.DeleteGroup(cc.ctx, cc.ws, name), "/groups", "Group "+name+" deleted."
	case "add-member", "remove-member":
		if g.ExternalID != "" {
			return s.failed(cc, back, codexgov.Errorf(codexgov.ECONFLICT, "%s is managed by SCIM: change its members in your identity provider", name))
		}
		if op == "add-member" {
			_, err = s.store.AddGroupMember(cc.ctx, cc.ws, name, email)
			notice = email + " added to " + name + "."
		} else {
			_, err = s.store.RemoveGroupMember(cc.ctx, cc.ws, name, email)
			notice = email + " removed from " + name + "."
		}
	case "grant-role":
		_, err = s.store.GrantGroupRole(cc.ctx, cc.ws, name, role)
		notice = "Role " + role + " granted to " + name + "."
	case "revoke-role":
		_, err = s.store.RevokeGroupRole(cc.ctx, cc.ws, name, role)
		notice = "Role " + role + " revoked from " + name + "."
	default:
		return s.failed(cc, back, codexgov.Errorf(codexgov.EINVALID, "op: want delete, add-member, remove-member, grant-role or revoke-role"))
	}
	if err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, back, err)
	}
	s.changed(c.ctx)
	return cc.done(back, notice)
}

type roleView struct {
	*codexgov.Role
	Explained []string
	Has       map[string]bool
}

// permissionWords explains each permission to an admin.
var permissionWords = map[codexgov.Permission]string{
	codexgov.PermCodexLocal:       "may use Codex on their machines (CLI, IDE extension, app)",
	codexgov.PermCodexCloud:       "may use Codex cloud tasks",
	codexgov.PermCodexAdmin:       "administers codexgov: policies, assignment, users, credentials, settings, and reads analytics",
	codexgov.PermAccessTokens:     "may hold access tokens for headless Codex",
	codexgov.PermAnalyticsRead:    "reads the Analytics API and the dashboard, nothing else",
	codexgov.PermComplianceRead:   "reads the Compliance API and the audit log",
	codexgov.PermComplianceDelete: "deletes compliance records (erasure), and reads them",
	codexgov.PermEnvironmentsEdit: "edits Codex cloud environments",
}

type rolesData struct {
	Roles []roleView
	// Permissions are every permission with its words, for the forms.
	Permissions []permissionView
	// Holders are the groups holding each role.
	Holders map[string][]string
}

type permissionView struct{ Name, Words string }

func (s *Server) consoleRoles(c *call) error {
	cc, ok := s.openConsole(c, "roles")
	if !ok {
		return nil
	}
	rs, err := s.store.Roles(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	gs, err := s.store.Groups(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := rolesData{Holders: map[string][]string{}}
	for _, g := range gs {
		for _, r := range g.Roles {
			d.Holders[r] = append(d.Holders[r], g.Name)
		}
	}
	for _, p := range codexgov.Permissions() {
		d.Permissions = append(d.Permissions, permissionView{string(p), permissionWords[p]})
	}
	for _, r := range rs {
		v := roleView{Role: r, Has: map[string]bool{}}
		for _, p := range r.Permissions {
			v.Explained = append(v.Explained, string(p)+": "+cmp.Or(permissionWords[p], "—"))
			v.Has[string(p)] = true
		}
		d.Roles = append(d.Roles, v)
	}
	return cc.render(http.StatusOK, d)
}

// formPermissions reads a role form's permission checkboxes.
func formPermissions(c *call) []codexgov.Permission {
	ps := []codexgov.Permission{}
	for _, p := range c.r.PostForm["permission"] {
		ps = append(ps, codexgov.Permission(p))
	}
	return ps
}

// consoleRoleCreate creates a custom role.
func (s *Server) consoleRoleCreate(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	name := strings.TrimSpace(c.r.PostForm.Get("name"))
	if _, err := s.store.CreateRole(cc.ctx, cc.ws, codexgov.Role{Name: name, Description: strings.TrimSpace(c.r.PostForm.Get("description")), Permissions: formPermissions(c)}); err != nil {
		return s.failed(cc, "/roles", err)
	}
	s.changed(c.ctx)
	return cc.done("/roles", "Role "+name+" created.")
}

// consoleRoleChange saves a role's description and permissions, or
// deletes it (op).
func (s *Server) consoleRoleChange(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	name := c.path("role")
	var err error
	var notice string
	switch c.r.PostForm.Get("op") {
	case "save":
		desc, ps := strings.TrimSpace(c.r.PostForm.Get("description")), formPermissions(c)
		_, err = s.store.UpdateRole(cc.ctx, cc.ws, name, codexgov.RoleUpdate{Description: &desc, Permissions: &ps})
		notice = "Role " + name + " saved."
	case "delete":
		err, notice = s.store.DeleteRole(cc.ctx, cc.ws, name), "Role "+name+" deleted."
	default:
		err = codexgov.Errorf(codexgov.EINVALID, "op: want save or delete")
	}
	if err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, "/roles", err)
	}
	s.changed(c.ctx)
	return cc.done("/roles", notice)
}

// Policies

type policiesData struct {
	Policies []*codexgov.PolicyVersion
	Rules    map[string][]int // policy → the 1-based rules naming it
	Default  string
}

func (s *Server) consolePolicies(c *call) error {
	cc, ok := s.openConsole(c, "policies")
	if !ok {
		return nil
	}
	if n := strings.TrimSpace(c.r.URL.Query().Get("new")); n != "" {
		http.Redirect(c.w, c.r, "/ui/"+cc.ws+"/policies/"+url.PathEscape(n), http.StatusFound)
		return nil
	}
	ps, err := s.store.Policies(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	a, err := s.store.Assignment(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := policiesData{Policies: ps, Rules: map[string][]int{}, Default: a.Default}
	for i, r := range a.Rules {
		d.Rules[r.Policy] = append(d.Rules[r.Policy], i+1)
	}
	return cc.render(http.StatusOK, d)
}

type policyData struct {
	Name         string
	New          bool
	Current      *codexgov.PolicyVersion
	Requirements string
	Comment      string
	Diagnostics  []codexgov.Detail
	Checked      bool
	History      []*codexgov.PolicyVersion
	From, To     int
	Diff         string
	PreviewUser  string
	Preview      *policyPreview
}

type policyPreview struct {
	User, Policy, Reason, Requirements string
	Version                            int
	Matches                            bool
	Error                              string
}

// consolePolicy is a policy's page: its editor (diagnostics from the
// CLI's lint as you type), its history and the diff of two versions, and
// what Codex would enforce for a chosen user.
func (s *Server) consolePolicy(c *call) error {
	cc, ok := s.openConsole(c, "policies")
	if !ok {
		return nil
	}
	name := c.path("policy")
	d := policyData{Name: name}
	cur, err := s.store.Policy(c.ctx, cc.ws, name, 0)
	switch {
	case codexgov.ErrorCode(err) == codexgov.ENOTFOUND:
		if err := codexgov.CheckName("/name", name); err != nil {
			return err
		}
		d.New = true
	case err != nil:
		return err
	default:
		d.Current, d.Requirements = cur, cur.Requirements
		if d.History, err = s.store.PolicyHistory(c.ctx, cc.ws, name); err != nil {
			return err
		}
		slices.Reverse(d.History)
	}
	cc.view.Title, cc.view.Template = "Policy "+name, "policy"
	q := c.r.URL.Query()
	if d.Current != nil {
		d.From, _ = strconv.Atoi(q.Get("from"))
		d.To, _ = strconv.Atoi(q.Get("to"))
		if d.To == 0 {
			d.To = d.Current.Version
		}
		if d.From == 0 {
			d.From = max(1, d.To-1)
		}
		if d.From != d.To {
			a, errA := s.store.Policy(c.ctx, cc.ws, name, d.From)
			b, errB := s.store.Policy(c.ctx, cc.ws, name, d.To)
			if errA == nil && errB == nil {
				d.Diff = policy.Diff(fmt.Sprintf("%s@%d/requirements.toml", name, d.From), fmt.Sprintf("%s@%d/requirements.toml", name, d.To), a.Requirements, b.Requirements)
			}
		}
	}
	d.Diagnostics, d.Checked = lintPolicy(name, d.Requirements), true
	if u := strings.TrimSpace(q.Get("user")); u != "" {
		d.PreviewUser = u
		d.Preview = s.previewPolicy(cc, name, u)
	}
	return cc.render(http.StatusOK, d)
}

// lintPolicy is the CLI's lint of a policy's requirements: errors and
// warnings at line and column.
func lintPolicy(name, requirements string) []codexgov.Detail {
	warns, err := policy.Validate(codexgov.PolicyInput{Name: name, Requirements: requirements})
	var e *codexgov.Error
	if errors.As(err, &e) {
		out := slices.Clone(e.Details)
		if len(out) == 0 {
			out = append(out, codexgov.Detail{Severity: "error", Message: e.Message})
		}
		for i := range out {
			out[i].Severity = cmp.Or(out[i].Severity, "error")
		}
		return append(out, warns...)
	}
	return warns
}

// consolePolicyLint answers the editor's live check: the diagnostics
// fragment for the text as typed (nothing is stored).
func (s *Server) consolePolicyLint(c *call) error {
	if err := s.parseForm(c); err != nil {
		return err
	}
	sess, scopes := s.webSession(c, c.path("ws"))
	if sess == nil || !codexgov.Allows(scopes, codexgov.ScopeAdminRead) || crossOrigin.Check(c.r) != nil || !s.checkCSRF(c, sess) {
		return codexgov.Errorf(codexgov.EFORBIDDEN, "this check is not valid for your session (it expired, or it came from another site)")
	}
	cc, ok := s.openConsole(c, "policies")
	if !ok {
		return nil
	}
	cc.view.Template = "policy"
	cc.view.Data = policyData{Name: c.path("policy"), Diagnostics: lintPolicy(c.path("policy"), strings.ReplaceAll(c.r.PostForm.Get("requirements"), "\r\n", "\n")), Checked: true}
	return web.RenderConsole(c.w, http.StatusOK, cc.view, true)
}

// previewPolicy is what Codex would enforce for a user: the lookup's
// choice of policy, and that policy's requirements.
func (s *Server) previewPolicy(cc *consoleCall, name, email string) *policyPreview {
	p := &policyPreview{User: email}
	l, err := s.snap.Load().LookupUser(cc.ws, email)
	if err != nil {
		p.Error = codexgov.ErrorMessage(err)
		return p
	}
	p.Reason = l.Match.Reason
	if l.Policy != nil {
		p.Policy, p.Version, p.Requirements, p.Matches = l.Policy.Name, l.Policy.Version, l.Policy.Requirements, l.Policy.Name == name
	}
	return p
}

// asAPI is this console request as an Analytics API call of its
// workspace with the query v: the dashboard asks the API's own code.
func (cc *consoleCall) asAPI(v url.Values) *call {
	r := cc.r.Clone(cc.ctx)
	r.URL = &url.URL{Path: cc.r.URL.Path, RawQuery: v.Encode()}
	return &call{w: cc.w, r: r, s: cc.s, route: cc.route, ctx: cc.ctx, ws: cc.ws, p: cc.p}
}

// consolePolicySave stores a new version with its comment, over the
// version the editor was opened on (409 if another was saved since).
func (s *Server) consolePolicySave(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	name := c.path("policy")
	base, _ := strconv.Atoi(cmp.Or(c.r.Header.Get("If-Match"), c.r.PostForm.Get("if_match")))
	// A browser sends a textarea's lines with CRLF: stored as typed, LF.
	text := strings.ReplaceAll(c.r.PostForm.Get("requirements"), "\r\n", "\n")
	in := codexgov.PolicyInput{Name: name, Requirements: text, Comment: strings.TrimSpace(c.r.PostForm.Get("comment")), BaseVersion: &base}
	if cur, err := s.store.Policy(c.ctx, cc.ws, name, 0); err == nil {
		in.Defaults = cur.Defaults
	}
	v, err := s.store.PutPolicy(cc.ctx, cc.ws, in)
	if errors.Is(err, codexgov.ErrNoChange) {
		return cc.done("/policies/"+url.PathEscape(name), "No change: the text is the current version's.")
	}
	if err != nil {
		return s.failed(cc, "/policies/"+url.PathEscape(name), err)
	}
	s.changed(c.ctx)
	return cc.done("/policies/"+url.PathEscape(name), fmt.Sprintf("Saved %s version %d.", name, v.Version))
}

// Assignment

type assignmentData struct {
	Assignment *codexgov.Assignment
	ETag       string
	Counts     []int // users each rule selects, in order
	Default    int   // users the default selects
	Unassigned int
	Policies   []string
}

func (s *Server) consoleAssignment(c *call) error {
	cc, ok := s.openConsole(c, "assignment")
	if !ok {
		return nil
	}
	a, err := s.store.Assignment(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := assignmentData{Assignment: a, ETag: codexgov.AssignmentETag(a), Counts: make([]int, len(a.Rules))}
	users, err := s.store.Users(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	snap := s.snap.Load()
	for _, u := range users {
		if !u.Active {
			continue
		}
		l, err := snap.LookupUser(cc.ws, u.Email)
		switch {
		case err != nil:
		case l.Match.Rule > 0 && l.Match.Rule <= len(d.Counts):
			d.Counts[l.Match.Rule-1]++
		case l.Match.Fallback:
			d.Default++
		default:
			d.Unassigned++
		}
	}
	ps, err := s.store.Policies(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	for _, p := range ps {
		d.Policies = append(d.Policies, p.Name)
	}
	return cc.render(http.StatusOK, d)
}

// consoleAssignmentMove moves a rule up or down, over the assignment the
// page showed (If-Match: its entity tag; 409 if it changed since).
func (s *Server) consoleAssignmentMove(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(c.r.PostForm.Get("rule"))
	if err != nil {
		return s.failed(cc, "/assignment", codexgov.Errorf(codexgov.EINVALID, "rule: want a rule's number"))
	}
	dir := c.r.PostForm.Get("move")
	a, err := s.store.Assignment(cc.ctx, cc.ws)
	if err != nil {
		return err
	}
	j, k := i-1, i-2
	if dir == "down" {
		k = i
	}
	if j < 0 || j >= len(a.Rules) || k < 0 || k >= len(a.Rules) || (dir != "up" && dir != "down") {
		return s.failed(cc, "/assignment", codexgov.Errorf(codexgov.EINVALID, "rule %d cannot move %q", i, dir))
	}
	a.Rules[j], a.Rules[k] = a.Rules[k], a.Rules[j]
	a.IfMatch = cmp.Or(c.r.Header.Get("If-Match"), c.r.PostForm.Get("if_match"), "-")
	if _, err := s.store.SetAssignment(cc.ctx, cc.ws, *a); err != nil {
		return s.failed(cc, "/assignment", err)
	}
	s.changed(c.ctx)
	return cc.done("/assignment", fmt.Sprintf("Rule %d moved %s.", i, dir))
}

// Lookup

type lookupData struct {
	User, Group string
	Result      *codexgov.Lookup
	Error       string
}

func (s *Server) consoleLookup(c *call) error {
	cc, ok := s.openConsole(c, "lookup")
	if !ok {
		return nil
	}
	q := c.r.URL.Query()
	d := lookupData{User: strings.TrimSpace(q.Get("user")), Group: strings.TrimSpace(q.Get("group"))}
	snap := s.snap.Load()
	var err error
	switch {
	case d.User != "":
		d.Result, err = snap.LookupUser(cc.ws, d.User)
	case d.Group != "":
		d.Result, err = snap.LookupGroup(cc.ws, d.Group)
	}
	if err != nil {
		d.Error = codexgov.ErrorMessage(err)
	}
	return cc.render(http.StatusOK, d)
}

// Devices

type devicesData struct {
	Devices []codexgov.DeviceStatus
	Drifted bool
	Counts  map[string]int
}

func (s *Server) consoleDevices(c *call) error {
	cc, ok := s.openConsole(c, "devices")
	if !ok {
		return nil
	}
	all, err := s.devicesOf(c.ctx, cc.ws, DefaultStaleAfter, "")
	if err != nil {
		return err
	}
	d := devicesData{Drifted: c.r.URL.Query().Get("drifted") == "1", Counts: map[string]int{}}
	for _, dv := range all {
		d.Counts[dv.State]++
		drifted := dv.State == codexgov.DeviceStale && !dv.LastFetch.IsZero() // as DEVICE_DRIFTED records it
		if !d.Drifted || drifted {
			d.Devices = append(d.Devices, dv)
		}
	}
	return cc.render(http.StatusOK, d)
}

// Audit log

type auditData struct {
	Actor, Action, Since, Until string
	Events                      []*codexgov.AuditEvent
	More                        bool
	ExportCSV, ExportJSON       string
}

func (s *Server) consoleAudit(c *call) error {
	cc, ok := s.openConsole(c, "audit")
	if !ok {
		return nil
	}
	q := c.r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Since: q.Get("since"), Until: q.Get("until")}
	var since, until time.Time
	if d.Since != "" {
		since, _ = time.Parse(time.DateOnly, d.Since)
	}
	if d.Until != "" {
		if t, err := time.Parse(time.DateOnly, d.Until); err == nil {
			until = t.AddDate(0, 0, 1)
		}
	}
	var before int64
	for len(d.Events) < 500 {
		page, err := s.store.AuditEvents(c.ctx, cc.ws, codexgov.AuditFilter{Before: before, Limit: 500})
		if err != nil {
			return err
		}
		for _, e := range page {
			before = e.ID
			if (d.Actor == "" || strings.Contains(e.Actor, d.Actor)) && (d.Action == "" || strings.HasPrefix(e.Action, d.Action)) &&
				(since.IsZero() || !e.Time.Before(since)) && (until.IsZero() || e.Time.Before(until)) {
				d.Events = append(d.Events, e)
			}
		}
		if len(page) < 500 || (!since.IsZero() && page[len(page)-1].Time.Before(since)) {
			break
		}
	}
	if len(d.Events) > 500 {
		d.Events, d.More = d.Events[:500], true
	}
	switch q.Get("format") {
	case "json":
		c.w.Header().Set("Content-Disposition", `attachment; filename="audit-`+cc.ws+`.json"`)
		writeJSON(c.w, http.StatusOK, d.Events)
		return nil
	case "csv":
		c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		c.w.Header().Set("Content-Disposition", `attachment; filename="audit-`+cc.ws+`.csv"`)
		w := csv.NewWriter(c.w)
		w.Write([]string{"id", "time", "actor", "action", "target", "request_id", "client_ip", "user_agent", "before", "after"})
		for _, e := range d.Events {
			w.Write([]string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target, e.RequestID, e.ClientIP, e.UserAgent, string(e.Before), string(e.After)})
		}
		w.Flush()
		return nil
	}
	v := url.Values{"actor": {d.Actor}, "action": {d.Action}, "since": {d.Since}, "until": {d.Until}, "format": {"csv"}}
	d.ExportCSV = "/ui/" + cc.ws + "/audit?" + v.Encode()
	v.Set("format", "json")
	d.ExportJSON = "/ui/" + cc.ws + "/audit?" + v.Encode()
	return cc.render(http.StatusOK, d)
}

// Credentials

type credentialsData struct {
	APIKeys          []*codexgov.APIKey
	AccessTokens     []*codexgov.AccessToken
	EnrollmentTokens []*codexgov.EnrollmentToken
	Scopes           []codexgov.Scope
	Secret           *shownSecret
}

// shownSecret is a new credential's secret, shown once on the page that
// answers its creation and never again.
type shownSecret struct{ Kind, Name, ID, Secret string }

func (s *Server) credentialsData(cc *consoleCall) (credentialsData, error) {
	var d credentialsData
	var err error
	if d.APIKeys, err = s.store.APIKeys(cc.ctx, cc.ws); err != nil {
		return d, err
	}
	if d.AccessTokens, err = s.store.AccessTokens(cc.ctx, cc.ws); err != nil {
		return d, err
	}
	if d.EnrollmentTokens, err = s.store.EnrollmentTokens(cc.ctx, cc.ws); err != nil {
		return d, err
	}
	d.Scopes = codexgov.WorkspaceScopes()
	return d, nil
}

func (s *Server) consoleCredentials(c *call) error {
	cc, ok := s.openConsole(c, "credentials")
	if !ok {
		return nil
	}
	d, err := s.credentialsData(cc)
	if err != nil {
		return err
	}
	return cc.render(http.StatusOK, d)
}

// consoleCredentialCreate issues an API key, access token or enrollment
// token and answers with the page showing its secret once (no redirect:
// the secret is in no URL and no later page).
func (s *Server) consoleCredentialCreate(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	f := c.r.PostForm
	name := strings.TrimSpace(f.Get("name"))
	shown := &shownSecret{Kind: c.path("kind"), Name: name}
	switch c.path("kind") {
	case "api-keys":
		var scopes []codexgov.Scope
		for _, sc := range f["scope"] {
			if !codexgov.Allows(cc.scopes, codexgov.Scope(sc)) {
				return s.failed(cc, "/credentials", codexgov.Errorf(codexgov.EFORBIDDEN, "your roles do not hold %s, so a key you make cannot", sc))
			}
			scopes = append(scopes, codexgov.Scope(sc))
		}
		expires, err := codexgov.APIKeyLifetime.ExpiresAt("expires_in", f.Get("expires_in"), s.now())
		if err != nil {
			return s.failed(cc, "/credentials", err)
		}
		secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
		k, err := s.store.CreateAPIKey(cc.ctx, codexgov.APIKey{ID: id, Workspace: cc.ws, Name: name, Scopes: scopes, Hash: hash, ExpiresAt: expires})
		if err != nil {
			return s.failed(cc, "/credentials", err)
		}
		shown.ID, shown.Secret = k.ID, secret
	case "access-tokens":
		t, err := s.issueAccessToken(cc.ctx, cc.ws, CreateAccessToken{User: strings.TrimSpace(f.Get("user")), Name: name, ExpiresIn: f.Get("expires_in")})
		if err != nil {
			return s.failed(cc, "/credentials", err)
		}
		shown.ID, shown.Secret = t.ID, t.Secret
	case "enrollment-tokens":
		t, err := s.issueEnrollmentToken(cc.ctx, cc.ws, CreateEnrollmentToken{User: strings.TrimSpace(f.Get("user")), Service: strings.TrimSpace(f.Get("service")), Name: name, ExpiresIn: f.Get("expires_in")})
		if err != nil {
			return s.failed(cc, "/credentials", err)
		}
		shown.ID, shown.Secret = t.ID, t.Secret
	default:
		return codexgov.Errorf(codexgov.ENOTFOUND, "no such credential kind")
	}
	s.changed(c.ctx)
	view, ok := s.openConsole(c, "credentials")
	if !ok {
		return nil
	}
	d, err := s.credentialsData(view)
	if err != nil {
		return err
	}
	d.Secret = shown
	view.view.Notice = "Created " + shown.ID + ". Copy its secret now: it is not shown again."
	return view.render(http.StatusCreated, d)
}

func (s *Server) consoleCredentialRevoke(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	id := c.path("id")
	var err error
	switch c.path("kind") {
	case "api-keys":
		_, err = s.store.RevokeAPIKey(cc.ctx, cc.ws, id)
	case "access-tokens":
		_, err = s.store.RevokeAccessToken(cc.ctx, cc.ws, id)
	case "enrollment-tokens":
		_, err = s.store.RevokeEnrollmentToken(cc.ctx, cc.ws, id)
	default:
		return codexgov.Errorf(codexgov.ENOTFOUND, "no such credential kind")
	}
	if err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, "/credentials", err)
	}
	s.changed(c.ctx)
	return cc.done("/credentials", "Revoked "+id+".")
}

// Settings

type settingsData struct {
	Workspace *codexgov.Workspace
	Providers []*codexgov.IdentityProvider
	Toggles   []settingToggle
	Retention []retentionRow
	Roles     []string
	Lookback  int
	// Edit is the identity provider whose form is open (?idp=; "new"
	// for a new one).
	Edit *codexgov.IdentityProvider
}

type settingToggle struct {
	Name, Label, Help string
	On                bool
}

func toggles(st codexgov.Settings) []settingToggle {
	return []settingToggle{
		{"allow_codex_local", "Codex on machines", "People with codex_local may use the CLI, IDE extension and app.", st.AllowCodexLocal},
		{"allow_codex_cloud", "Codex cloud tasks", "People with codex_cloud may use cloud tasks.", st.AllowCodexCloud},
		{"allow_access_tokens", "Access tokens", "Headless machines may sign in with access tokens.", st.AllowAccessTokens},
		{"allow_device_code_login", "Device-code login", "codexgov login may approve a machine on another device.", st.AllowDeviceCodeLogin},
		{"allow_agent_internet", "Agent internet access", "Cloud agents may reach the internet.", st.AllowAgentInternet},
		{"allow_jit_provisioning", "Create users at first sign-on", "A person the identity provider vouches for becomes a user at their first single sign-on.", st.AllowJITProvisioning},
		{"telemetry_drop_traces", "Drop telemetry traces", "Keep Codex's log events and metrics, not its trace spans.", st.TelemetryDropTraces},
		{"analytics_csv_emails", "Emails in analytics CSV", "Per-user CSV exports of the Analytics API carry users' emails (off: the column is empty).", st.AnalyticsCSVEmails},
	}
}

func (s *Server) consoleSettings(c *call) error {
	cc, ok := s.openConsole(c, "settings")
	if !ok {
		return nil
	}
	w, err := s.store.Workspace(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	ps, err := s.store.IdentityProviders(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	rs, err := s.store.Roles(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := settingsData{Workspace: w, Providers: ps, Toggles: toggles(w.Settings), Lookback: w.Settings.Lookback()}
	for _, r := range rs {
		d.Roles = append(d.Roles, r.Name)
	}
	d.Retention = retentionRows(w.Settings)
	switch name := c.r.URL.Query().Get("idp"); name {
	case "":
	case "new":
		d.Edit = &codexgov.IdentityProvider{GroupsClaim: "groups"}
	default:
		i := slices.IndexFunc(ps, func(p *codexgov.IdentityProvider) bool { return p.Name == name })
		if i < 0 {
			return codexgov.Errorf(codexgov.ENOTFOUND, "no identity provider %q", name)
		}
		d.Edit = ps[i]
	}
	return cc.render(http.StatusOK, d)
}

// consoleSettingsSave writes the whole settings form: every toggle, the
// telemetry mode, the default role, the analytics lookback and each
// record type's retention, in one audited change.
func (s *Server) consoleSettingsSave(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	f := c.r.PostForm
	on := func(k string) *bool { v := f.Get(k) == "on"; return &v }
	u := codexgov.SettingsUpdate{AllowCodexLocal: on("allow_codex_local"), AllowCodexCloud: on("allow_codex_cloud"), AllowAccessTokens: on("allow_access_tokens"),
		AllowDeviceCodeLogin: on("allow_device_code_login"), AllowAgentInternet: on("allow_agent_internet"), AllowJITProvisioning: on("allow_jit_provisioning"),
		TelemetryDropTraces: on("telemetry_drop_traces"), AnalyticsCSVEmails: on("analytics_csv_emails")}
	if v := f.Get("telemetry"); v != "" {
		u.Telemetry = &v
	}
	if f.Has("default_role") {
		v := f.Get("default_role")
		u.DefaultRole = &v
	}
	days := func(field, v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid settings", Details: []codexgov.Detail{{Field: field, Message: fmt.Sprintf("%q is not a whole number of days", v)}}}
		}
		return n, nil
	}
	if v := f.Get("analytics_lookback_days"); v != "" {
		n, err := days("/analytics_lookback_days", v)
		if err != nil {
			return s.failed(cc, "/settings", err)
		}
		u.AnalyticsLookbackDays = &n
	}
	for _, t := range codexgov.ComplianceEventTypes {
		if v := f.Get("retention_" + t); v != "" {
			n, err := days("/compliance_retention_days/"+t, v)
			if err != nil {
				return s.failed(cc, "/settings", err)
			}
			if u.ComplianceRetention == nil {
				u.ComplianceRetention = map[string]int{}
			}
			u.ComplianceRetention[t] = n
		}
	}
	if _, err := s.store.UpdateSettings(cc.ctx, cc.ws, u); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, "/settings", err)
	}
	s.changed(c.ctx)
	return cc.done("/settings", "Settings saved.")
}

// consoleIdentityProvider creates or replaces an identity provider (an
// empty client secret keeps the stored one), or removes it (op).
func (s *Server) consoleIdentityProvider(c *call) error {
	cc, ok := s.consoleWrite(c)
	if !ok {
		return nil
	}
	f := c.r.PostForm
	name := strings.TrimSpace(f.Get("name"))
	if f.Get("op") == "delete" {
		if err := s.store.DeleteIdentityProvider(cc.ctx, cc.ws, name); err != nil {
			return s.failed(cc, "/settings", err)
		}
		s.changed(c.ctx)
		return cc.done("/settings", "Identity provider "+name+" removed.")
	}
	p := codexgov.IdentityProvider{Name: name, Workspace: cc.ws, DisplayName: strings.TrimSpace(f.Get("display_name")), Issuer: strings.TrimSpace(f.Get("issuer")),
		ClientID: strings.TrimSpace(f.Get("client_id")), AllowedDomain: strings.TrimSpace(f.Get("allowed_domain")), GroupsClaim: strings.TrimSpace(f.Get("groups_claim"))}
	if sec := f.Get("client_secret"); sec != "" {
		p.ClientSecretEnc = s.keys.SealSecret(idpSecretLabel(cc.ws, name), sec)
	}
	if _, err := s.store.PutIdentityProvider(cc.ctx, p); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
		return s.failed(cc, "/settings?idp="+url.QueryEscape(cmp.Or(name, "new")), err)
	}
	s.changed(c.ctx)
	return cc.done("/settings", "Identity provider "+name+" saved.")
}

// Activity

type activityData struct {
	Days     int
	Sessions []*codexgov.SessionActivity
}

func (s *Server) consoleActivity(c *call) error {
	cc, ok := s.openConsole(c, "activity")
	if !ok {
		return nil
	}
	// The sessions of the last day by default (?days= up to 30): the page
	// summarises raw events, so it reads a window of them, not all.
	days, _ := strconv.Atoi(c.r.URL.Query().Get("days"))
	days = min(max(days, 1), 30)
	acts, err := s.store.TelemetryActivity(c.ctx, cc.ws, codexgov.ActivityFilter{Since: s.now().Add(-time.Duration(days) * 24 * time.Hour), Limit: 100})
	if err != nil {
		return err
	}
	return cc.render(http.StatusOK, activityData{Days: days, Sessions: acts})
}

type sessionData struct {
	Session string
	Events  []sessionEvent
	// Kept tells whether the workspace keeps prompts (telemetry "prompts").
	Kept bool
}

type sessionEvent struct {
	Time                 time.Time
	Type, Name, Identity string
	Details              []string
	// Prompt is the prompt's text where kept (redacted before storage).
	Prompt string
}

// consoleSession shows one Codex session's events in order (the first
// 1,000): prompts where the workspace keeps them, tools, decisions.
func (s *Server) consoleSession(c *call) error {
	cc, ok := s.openConsole(c, "activity")
	if !ok {
		return nil
	}
	id := c.path("session")
	evs, err := s.store.TelemetryEvents(c.ctx, cc.ws, codexgov.TelemetryFilter{Session: id, Limit: 1000})
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return codexgov.Errorf(codexgov.ENOTFOUND, "no session %q", id)
	}
	w, err := s.store.Workspace(c.ctx, cc.ws)
	if err != nil {
		return err
	}
	d := sessionData{Session: id, Kept: w.Settings.Telemetry == codexgov.TelemetryPrompts}
	for _, e := range slices.Backward(evs) {
		v := sessionEvent{Time: e.Time, Type: e.Type, Name: e.Name, Identity: e.Identity}
		for _, k := range slices.Sorted(maps.Keys(e.Data)) {
			v.Details = append(v.Details, fmt.Sprintf("%s: %v", k, e.Data[k]))
		}
		if p, ok := e.Attributes["prompt"].(string); ok {
			v.Prompt = p
		}
		d.Events = append(d.Events, v)
	}
	cc.view.Template, cc.view.Title = "session", "Session "+id
	return cc.render(http.StatusOK, d)
}

// Analytics dashboard

type dashboardData struct {
	Start, End, GroupBy, Sort string
	Buckets                   []dashboardBucket
	Clients, Models           []string
	Charts                    []web.Chart
	Ranking                   []rankRow
	Reviews                   []codeReviewView
	Totals                    codexgov.UsageCounters
	Cost                      float64
	ExportUsage, ExportUsers  string
	ExportReviews             string
	ExportResponses           string
	Error                     string
}

// dashboardBucket is one day or week of the workspace: the Analytics
// API's workspace row, and the active users per client.
type dashboardBucket struct {
	Start   time.Time
	Row     codexgov.UsageRow
	Active  int
	ByModel map[string]int64 // total tokens per model
	Users   map[string]int   // active users per client
}

type rankRow struct {
	Identity                       string
	Threads, Turns, Tokens, Active int64
	Streak                         int
}

type codeReviewView struct {
	Start time.Time
	codexgov.CodeReviewRow
	Responses codexgov.CodeReviewResponseRow
}

// consoleAnalytics is the dashboard: the Analytics API's numbers for a
// date range, by day or week — active users by client, threads and turns,
// tokens by model and the estimated cost, a user ranking, code reviews and
// their responses — with the API's own CSV and JSON as exports.
func (s *Server) consoleAnalytics(c *call) error {
	cc, ok := s.openConsole(c, "analytics")
	if !ok {
		return nil
	}
	q := c.r.URL.Query()
	today := s.now().UTC().Truncate(24 * time.Hour)
	d := dashboardData{End: cmp.Or(q.Get("end"), today.Format(time.DateOnly)), Start: cmp.Or(q.Get("start"), today.AddDate(0, 0, -29).Format(time.DateOnly)),
		GroupBy: cmp.Or(q.Get("group_by"), "day"), Sort: cmp.Or(q.Get("sort"), "tokens")}
	start, err1 := time.Parse(time.DateOnly, d.Start)
	end, err2 := time.Parse(time.DateOnly, d.End)
	if err1 != nil || err2 != nil || end.Before(start) || (d.GroupBy != "day" && d.GroupBy != "week") {
		d.Error = "Give a start and an end date (YYYY-MM-DD), the end not before the start, and day or week."
		return cc.render(http.StatusBadRequest, d)
	}
	// The API's own window rules (lookback, buckets) through its own
	// parameters.
	api := url.Values{"start_time": {strconv.FormatInt(start.Unix(), 10)}, "end_time": {strconv.FormatInt(end.AddDate(0, 0, 1).Unix(), 10)}, "group_by": {d.GroupBy}}
	sub := func(extra url.Values) *call {
		v := url.Values{}
		for k, x := range api {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		return cc.asAPI(v)
	}
	exp := func(route string, extra url.Values) string {
		v := url.Values{"start": {d.Start}, "end": {d.End}, "group_by": {d.GroupBy}, "route": {route}}
		for k, x := range extra {
			v[k] = x
		}
		return "/ui/" + cc.ws + "/analytics/export?" + v.Encode()
	}
	d.ExportUsage, d.ExportUsers = exp("usage", url.Values{"group": {"workspace"}}), exp("usage", nil)
	d.ExportReviews, d.ExportResponses = exp("code_reviews", nil), exp("code_review_responses", nil)

	// Workspace rows, every page.
	var rows []codexgov.UsageRow
	page := url.Values{"group": {"workspace"}, "limit": {"1000"}}
	for {
		p, _, err := s.usagePage(sub(page))
		if err != nil {
			d.Error = codexgov.ErrorMessage(err)
			return cc.render(statusOf[codexgov.ErrorCode(err)], d)
		}
		rows = append(rows, p.Data...)
		if p.NextPage == nil {
			break
		}
		page.Set("page", *p.NextPage)
	}
	clients, models := map[string]bool{}, map[string]bool{}
	idx := map[int64]int{}
	for _, r := range rows {
		b := dashboardBucket{Start: time.Unix(r.StartTime, 0).UTC(), Row: r, ByModel: map[string]int64{}, Users: map[string]int{}}
		for _, m := range r.Models {
			b.ByModel[m.Model] = m.TextTotalTokens
			models[m.Model] = true
		}
		idx[r.StartTime] = len(d.Buckets)
		d.Buckets = append(d.Buckets, b)
		t := &d.Totals
		t.Threads, t.Turns, t.UncachedTextInputTokens, t.CachedTextInputTokens, t.TextOutputTokens, t.TextTotalTokens = t.Threads+r.Totals.Threads, t.Turns+r.Totals.Turns,
			t.UncachedTextInputTokens+r.Totals.UncachedTextInputTokens, t.CachedTextInputTokens+r.Totals.CachedTextInputTokens, t.TextOutputTokens+r.Totals.TextOutputTokens, t.TextTotalTokens+r.Totals.TextTotalTokens
		d.Cost += r.EstimatedCostUSD
	}
	// Active people per client, and the ranking: summed in SQL over the
	// per-user rollups of the window (the same rows as the per-user pages).
	w, err := s.analyticsWindow(sub(nil), false)
	if err != nil {
		return err
	}
	people, err := s.store.AnalyticsActiveUsers(c.ctx, cc.ws, w.period, w.from, w.to)
	if err != nil {
		return err
	}
	for _, a := range people {
		t, _ := time.Parse(time.DateOnly, a.Bucket)
		i, ok := idx[t.Unix()]
		if !ok {
			continue
		}
		b := &d.Buckets[i]
		b.Users[a.Client] = int(a.Users)
		clients[a.Client] = true
	}
	// A bucket's active people: its workspace row's clients can overlap,
	// so the total is counted on its own (client '*').
	for i := range d.Buckets {
		d.Buckets[i].Active = d.Buckets[i].Users["*"]
		delete(d.Buckets[i].Users, "*")
	}
	delete(clients, "*")
	ranking, err := s.store.AnalyticsRanking(c.ctx, cc.ws, w.period, w.from, w.to, d.Sort, 50)
	if err != nil {
		return err
	}
	for _, r := range ranking {
		d.Ranking = append(d.Ranking, rankRow{Identity: strings.TrimPrefix(r.Identity, "user:"), Threads: r.Threads, Turns: r.Turns, Tokens: r.Tokens, Active: r.Active, Streak: r.Streak})
	}
	for k := range clients {
		d.Clients = append(d.Clients, k)
	}
	for k := range models {
		d.Models = append(d.Models, k)
	}
	slices.Sort(d.Clients)
	slices.Sort(d.Models)

	// Code reviews and the responses to them.
	reviews, _, err := s.store.CodeReviewRollups(c.ctx, cc.ws, w.period, w.from, w.to, "", 30000)
	if err != nil {
		return err
	}
	responses, _, err := s.store.CodeReviewResponses(c.ctx, cc.ws, w.period, w.from, w.to, "", 30000)
	if err != nil {
		return err
	}
	byBucket := map[string]*codeReviewView{}
	var order []string
	get := func(b string) *codeReviewView {
		v := byBucket[b]
		if v == nil {
			t, _ := time.Parse(time.DateOnly, b)
			v = &codeReviewView{Start: t}
			byBucket[b] = v
			order = append(order, b)
		}
		return v
	}
	for _, r := range reviews {
		v := get(r.Bucket)
		v.PullRequestReviews, v.Comments, v.CommentDetails = r.Reviews, r.Comments, codexgov.CommentDetails{P0: r.P0, P1: r.P1, P2: r.P2}
	}
	for _, r := range responses {
		get(r.Bucket).Responses = r.CodeReviewResponseRow
	}
	slices.Sort(order)
	for _, b := range order {
		d.Reviews = append(d.Reviews, *byBucket[b])
	}

	// Charts: the tables' numbers again.
	xs := make([]int64, len(d.Buckets))
	for i, b := range d.Buckets {
		xs[i] = b.Start.Unix()
	}
	series := func(label string, f func(b dashboardBucket) float64) web.ChartSeries {
		v := make([]float64, len(d.Buckets))
		for i, b := range d.Buckets {
			v[i] = f(b)
		}
		return web.ChartSeries{Label: label, Values: v}
	}
	active := web.Chart{Target: "chart-active", Title: "Active users by client", X: xs, Series: []web.ChartSeries{series("all", func(b dashboardBucket) float64 { return float64(b.Active) })}}
	for _, cl := range d.Clients {
		active.Series = append(active.Series, series(cl, func(b dashboardBucket) float64 { return float64(b.Users[cl]) }))
	}
	work := web.Chart{Target: "chart-work", Title: "Threads and turns", X: xs, Series: []web.ChartSeries{
		series("threads", func(b dashboardBucket) float64 { return float64(b.Row.Totals.Threads) }),
		series("turns", func(b dashboardBucket) float64 { return float64(b.Row.Totals.Turns) })}}
	tokens := web.Chart{Target: "chart-tokens", Title: "Tokens by model", X: xs}
	for _, m := range d.Models {
		tokens.Series = append(tokens.Series, series(m, func(b dashboardBucket) float64 { return float64(b.ByModel[m]) }))
	}
	d.Charts = []web.Chart{active, work, tokens}
	return cc.render(http.StatusOK, d)
}

// consoleAnalyticsExport serves the Analytics API's own CSV or JSON for
// the dashboard's range, on the person's session.
func (s *Server) consoleAnalyticsExport(c *call) error {
	cc, ok := s.openConsole(c, "analytics")
	if !ok {
		return nil
	}
	q := c.r.URL.Query()
	start, err1 := time.Parse(time.DateOnly, q.Get("start"))
	end, err2 := time.Parse(time.DateOnly, q.Get("end"))
	if err1 != nil || err2 != nil {
		return codexgov.Errorf(codexgov.EINVALID, "start and end: want dates (YYYY-MM-DD)")
	}
	v := url.Values{"start_time": {strconv.FormatInt(start.Unix(), 10)}, "end_time": {strconv.FormatInt(end.AddDate(0, 0, 1).Unix(), 10)},
		"group_by": {q.Get("group_by")}, "format": {cmp.Or(q.Get("format"), "csv")}, "limit": {"30000"}}
	if g := q.Get("group"); g != "" {
		v.Set("group", g)
	}
	sub := cc.asAPI(v)
	name := q.Get("route")
	c.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s-%s.%s"`, cc.ws, name, q.Get("start"), q.Get("end"), v.Get("format")))
	var err error
	switch name {
	case "usage":
		err = s.analyticsUsage(sub)
	case "code_reviews":
		err = s.analyticsCodeReviews(sub)
	case "code_review_responses":
		err = s.analyticsCodeReviewResponses(sub)
	default:
		return codexgov.Errorf(codexgov.EINVALID, "route: want usage, code_reviews or code_review_responses")
	}
	if err != nil {
		c.w.Header().Del("Content-Disposition")
	}
	return err
}

// Compliance

type complianceData struct {
	Files     []*codexgov.ComplianceFile
	Retention []retentionRow
	Holds     []*codexgov.LegalHold
	Sinks     []*codexgov.ComplianceSink
}

type retentionRow struct {
	Type string
	Days int
}

// retentionRows are the days each record type is kept.
func retentionRows(st codexgov.Settings) []retentionRow {
	var out []retentionRow
	for _, t := range codexgov.ComplianceEventTypes {
		out = append(out, retentionRow{t, int(st.Retention(t) / (24 * time.Hour))})
	}
	return out
}

func (s *Server) consoleCompliance(c *call) error {
	cc, ok := s.openConsole(c, "compliance")
	if !ok {
		return nil
	}
	var d complianceData
	var err error
	if d.Files, _, err = s.store.ComplianceFiles(c.ctx, cc.ws, codexgov.ComplianceFilter{EventTypes: codexgov.ComplianceEventTypes, After: s.now().AddDate(0, 0, -30), Limit: 100}); err != nil {
		return err
	}
	slices.Reverse(d.Files) // newest first
	if w, ok := s.snap.Load().Workspace(cc.ws); ok {
		d.Retention = retentionRows(w.Settings)
	}
	if d.Holds, err = s.store.LegalHolds(c.ctx, cc.ws); err != nil {
		return err
	}
	if d.Sinks, err = s.sinksWithLag(c.ctx, cc.ws); err != nil {
		return err
	}
	return cc.render(http.StatusOK, d)
}
