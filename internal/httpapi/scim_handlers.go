package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/scim"
)

// The SCIM 2.0 service provider (RFC 7643/7644). An identity provider
// authenticates with a workspace API key holding the scim scope; the
// workspace comes from the key. Users are keyed by email (userName), which
// is why userName is immutable here, and a group's displayName is its
// codexgov name, which assignment rules use. Deleting a user deactivates
// it: the audit trail keeps naming a real user.
const scimBase = "/scim/v2"

const scimContentType = "application/scim+json"

func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", scimContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeSCIMError renders any error in the SCIM error schema (RFC 7644
// §3.12).
func (s *Server) writeSCIMError(w http.ResponseWriter, r *http.Request, id string, err error) {
	f, gone := s.failure(w, r, id, err)
	if gone {
		return
	}
	err, status := f.err, f.status
	code := f.code
	var se *scim.Error
	if !errors.As(err, &se) {
		se = &scim.Error{Status: status, Detail: codexgov.ErrorMessage(err)}
		var e *codexgov.Error
		if errors.As(err, &e) && len(e.Details) > 0 {
			se.Detail += ": " + e.Details[0].Field + ": " + e.Details[0].Message
		}
		switch code {
		case codexgov.ECONFLICT:
			se.SCIMType = "uniqueness"
		case codexgov.EINVALID:
			se.SCIMType = "invalidValue"
		}
	}
	if se.Status >= 500 {
		s.log.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codexgov"`)
	}
	body := map[string]any{"schemas": []string{scim.ErrorSchema}, "status": strconv.Itoa(se.Status), "detail": se.Detail}
	if se.SCIMType != "" {
		body["scimType"] = se.SCIMType
	}
	writeSCIM(w, se.Status, body)
}

// baseURL is the server's external URL: Options.PublicURL, or the
// request's own scheme and host.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

func (s *Server) scimURL(c *call) string { return s.baseURL(c.r) + scimBase }

func (s *Server) scimDecode(c *call) (map[string]any, error) {
	var m map[string]any
	if err := s.scimBody(c, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, scim.Errorf(400, "invalidSyntax", "the body must be a JSON object")
	}
	return m, nil
}

// scimBody reads a SCIM request body into v: valid UTF-8 (refused, not
// replaced), one JSON value, and no NUL in any string.
func (s *Server) scimBody(c *call, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, s.maxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return scim.Errorf(413, "", "the body is over the %d-byte limit", mbe.Limit)
	}
	if err != nil {
		return scim.Errorf(400, "invalidSyntax", "the body could not be read: %v", err)
	}
	if i := invalidUTF8At(body); i >= 0 {
		return scim.Errorf(400, "invalidSyntax", "the body is not valid UTF-8 at byte %d", i)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return scim.Errorf(400, "invalidSyntax", "the body is not the JSON this request takes: %v", err)
	}
	if d := walkDecoded(reflect.ValueOf(v), ""); d != nil {
		return scim.Errorf(400, "invalidValue", "%s: %s", d.Field, d.Message)
	}
	return nil
}

func (s *Server) scimServiceProviderConfig(c *call) error {
	writeSCIM(c.w, 200, scim.ServiceProviderConfig(s.scimURL(c)))
	return nil
}

func (s *Server) scimResourceTypes(c *call) error {
	rts := scim.ResourceTypes(s.scimURL(c))
	if id := c.path("id"); id != "" {
		for _, rt := range rts {
			if rt.(map[string]any)["id"] == id {
				writeSCIM(c.w, 200, rt)
				return nil
			}
		}
		return scim.Errorf(404, "", "resource type %q not found (User, Group)", id)
	}
	writeSCIM(c.w, 200, map[string]any{"schemas": []string{scim.ListSchema}, "totalResults": len(rts), "startIndex": 1, "itemsPerPage": len(rts), "Resources": rts})
	return nil
}

func (s *Server) scimSchemas(c *call) error {
	ss := scim.Schemas(s.scimURL(c))
	if id := c.path("id"); id != "" {
		for _, sc := range ss {
			if sc.(map[string]any)["id"] == id {
				writeSCIM(c.w, 200, sc)
				return nil
			}
		}
		return scim.Errorf(404, "", "schema %q not found", id)
	}
	writeSCIM(c.w, 200, map[string]any{"schemas": []string{scim.ListSchema}, "totalResults": len(ss), "startIndex": 1, "itemsPerPage": len(ss), "Resources": ss})
	return nil
}

// managedUserAttributes are the attributes codexgov keeps in its own
// columns (or never keeps: a password); the rest of a user resource is
// its profile, kept to be given back.
var managedUserAttributes = []string{"schemas", "id", "externalid", "username", "active", "groups", "meta", "password"}

func meta(kind, location string, created time.Time) map[string]any {
	ts := created.UTC().Format(time.RFC3339)
	return map[string]any{"resourceType": kind, "created": ts, "lastModified": ts, "location": location}
}

func (s *Server) userResource(base string, u *codexgov.User, groups map[string]*codexgov.Group) map[string]any {
	m := map[string]any{}
	if len(u.Profile) > 0 {
		json.Unmarshal(u.Profile, &m)
	}
	schemas := []any{scim.UserSchema}
	if _, _, ok := scim.Get(m, scim.EnterpriseSchema); ok {
		schemas = append(schemas, scim.EnterpriseSchema)
	}
	m["schemas"], m["id"], m["userName"], m["active"] = schemas, u.ID, u.Email, u.Active
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	if _, _, ok := scim.Get(m, "displayName"); !ok && u.Name != "" {
		m["displayName"] = u.Name
	}
	refs := []any{}
	for _, name := range u.Groups {
		if g := groups[name]; g != nil {
			refs = append(refs, map[string]any{"value": g.ID, "display": g.Name, "$ref": base + "/Groups/" + g.ID})
		}
	}
	m["groups"] = refs
	m["meta"] = meta("User", base+"/Users/"+u.ID, u.CreatedAt)
	return m
}

func (s *Server) groupResource(base string, g *codexgov.Group, users map[string]*codexgov.User) map[string]any {
	members := []any{}
	for _, e := range g.Members {
		if u := users[e]; u != nil {
			members = append(members, map[string]any{"value": u.ID, "display": u.Email, "$ref": base + "/Users/" + u.ID})
		}
	}
	m := map[string]any{"schemas": []any{scim.GroupSchema}, "id": g.ID, "displayName": g.Name, "members": members, "meta": meta("Group", base+"/Groups/"+g.ID, g.CreatedAt)}
	if g.ExternalID != "" {
		m["externalId"] = g.ExternalID
	}
	return m
}

// scimUsers reads the workspace's users, indexed by email.
func (s *Server) scimUsers(c *call) ([]*codexgov.User, map[string]*codexgov.User, error) {
	us, err := s.store.Users(c.ctx, c.ws)
	byEmail := make(map[string]*codexgov.User, len(us))
	for _, u := range us {
		byEmail[u.Email] = u
	}
	return us, byEmail, err
}

// scimGroups reads the workspace's groups, indexed by name.
func (s *Server) scimGroups(c *call) ([]*codexgov.Group, map[string]*codexgov.Group, error) {
	gs, err := s.store.Groups(c.ctx, c.ws)
	byName := make(map[string]*codexgov.Group, len(gs))
	for _, g := range gs {
		byName[g.Name] = g
	}
	return gs, byName, err
}

// list answers a list request: filter, then startIndex/count, then
// attributes (RFC 7644 §3.4.2).
func (s *Server) scimList(c *call, all []map[string]any) error {
	q := c.r.URL.Query()
	var f scim.Filter
	if fs := q.Get("filter"); fs != "" {
		var err error
		if f, err = scim.ParseFilter(fs); err != nil {
			return err
		}
	}
	start, count := 1, 100
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return scim.Errorf(400, "invalidValue", "startIndex %q is not an integer", v)
		}
		start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return scim.Errorf(400, "invalidValue", "count %q is not an integer", v)
		}
		count = min(max(n, 0), scim.MaxPageSize)
	}
	var matched []map[string]any
	for _, r := range all {
		if f == nil || scim.Match(f, r) {
			matched = append(matched, r)
		}
	}
	attrs, excl := scim.SplitList(q.Get("attributes")), scim.SplitList(q.Get("excludedAttributes"))
	page := []any{}
	for i := start - 1; i < len(matched) && len(page) < count; i++ {
		page = append(page, scim.Project(matched[i], attrs, excl))
	}
	writeSCIM(c.w, 200, map[string]any{"schemas": []string{scim.ListSchema}, "totalResults": len(matched), "startIndex": start, "itemsPerPage": len(page), "Resources": page})
	return nil
}

func (s *Server) scimListUsers(c *call) error {
	us, _, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	_, groups, err := s.scimGroups(c)
	if err != nil {
		return err
	}
	base := s.scimURL(c)
	all := make([]map[string]any, len(us))
	for i, u := range us {
		all[i] = s.userResource(base, u, groups)
	}
	return s.scimList(c, all)
}

func (s *Server) scimListGroups(c *call) error {
	_, users, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	gs, _, err := s.scimGroups(c)
	if err != nil {
		return err
	}
	base := s.scimURL(c)
	all := make([]map[string]any, len(gs))
	for i, g := range gs {
		all[i] = s.groupResource(base, g, users)
	}
	return s.scimList(c, all)
}

func (s *Server) scimFetchUser(c *call) (*codexgov.User, error) {
	u, err := s.store.UserByID(c.ctx, c.ws, c.path("id"))
	if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
		return nil, scim.Errorf(404, "", "user %q not found", c.path("id"))
	}
	return u, err
}

func (s *Server) scimFetchGroup(c *call) (*codexgov.Group, error) {
	g, err := s.store.GroupByID(c.ctx, c.ws, c.path("id"))
	if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
		return nil, scim.Errorf(404, "", "group %q not found", c.path("id"))
	}
	return g, err
}

func (s *Server) writeUser(c *call, status int, u *codexgov.User) error {
	_, groups, err := s.scimGroups(c)
	if err != nil {
		return err
	}
	return writeResource(c, status, s.userResource(s.scimURL(c), u, groups))
}

func (s *Server) writeGroup(c *call, status int, g *codexgov.Group) error {
	_, users, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	return writeResource(c, status, s.groupResource(s.scimURL(c), g, users))
}

// writeResource sends one resource, with its Location when created, as
// attributes / excludedAttributes select.
func writeResource(c *call, status int, res map[string]any) error {
	if status == http.StatusCreated {
		c.w.Header().Set("Location", res["meta"].(map[string]any)["location"].(string))
	}
	q := c.r.URL.Query()
	writeSCIM(c.w, status, scim.Project(res, scim.SplitList(q.Get("attributes")), scim.SplitList(q.Get("excludedAttributes"))))
	return nil
}

func (s *Server) scimGetUser(c *call) error {
	u, err := s.scimFetchUser(c)
	if err != nil {
		return err
	}
	return s.writeUser(c, 200, u)
}

func (s *Server) scimGetGroup(c *call) error {
	g, err := s.scimFetchGroup(c)
	if err != nil {
		return err
	}
	return s.writeGroup(c, 200, g)
}

// userFields reads what codexgov keeps from a user resource.
type userFields struct {
	email, name, externalID string
	active                  *bool
	profile                 json.RawMessage
}

func stringAttr(m map[string]any, name string) (string, bool, error) {
	v, _, ok := scim.Get(m, name)
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, scim.Errorf(400, "invalidValue", "%s must be a string", name)
	}
	return s, true, nil
}

func readUser(m map[string]any) (userFields, error) {
	var f userFields
	if err := scim.ValidateResource(m, scim.UserSchema); err != nil {
		return f, err
	}
	userName, ok, err := stringAttr(m, "userName")
	if err != nil {
		return f, err
	}
	if !ok || userName == "" {
		return f, scim.Errorf(400, "invalidValue", "userName is required")
	}
	if f.email, err = codexgov.NormalizeEmail("userName", userName); err != nil {
		return f, scim.Errorf(400, "invalidValue", "userName %q is not an email address: codexgov keys users by email, so map userName to the user's email (for Entra ID, userPrincipalName or mail)", userName)
	}
	if f.externalID, _, err = stringAttr(m, "externalId"); err != nil {
		return f, err
	}
	if v, _, ok := scim.Get(m, "active"); ok && v != nil {
		var b bool
		switch x := v.(type) {
		case bool:
			b = x
		case string: // Entra ID sends "True"/"False"
			switch strings.ToLower(x) {
			case "true":
				b = true
			case "false":
			default:
				return f, scim.Errorf(400, "invalidValue", "active must be true or false, not %q", x)
			}
		default:
			return f, scim.Errorf(400, "invalidValue", "active must be a boolean")
		}
		f.active = &b
	}
	f.name, _, _ = stringAttr(m, "displayName")
	if f.name == "" {
		if n, _, ok := scim.Get(m, "name"); ok {
			if nm, ok := n.(map[string]any); ok {
				f.name, _, _ = stringAttr(nm, "formatted")
				if f.name == "" {
					given, _, _ := stringAttr(nm, "givenName")
					family, _, _ := stringAttr(nm, "familyName")
					f.name = strings.TrimSpace(given + " " + family)
				}
			}
		}
	}
	profile := map[string]any{}
	for k, v := range m {
		if !slices.Contains(managedUserAttributes, strings.ToLower(k)) {
			profile[k] = v
		}
	}
	f.profile, _ = json.Marshal(profile)
	return f, nil
}

func (s *Server) scimCreateUser(c *call) error {
	m, err := s.scimDecode(c)
	if err != nil {
		return err
	}
	if err := readOnlySet(m, nil, scim.UserSchema); err != nil {
		return err
	}
	f, err := readUser(m)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(c.ctx, c.ws, codexgov.User{Email: f.email, Name: f.name, ExternalID: f.externalID, Profile: f.profile})
	if codexgov.ErrorCode(err) == codexgov.ECONFLICT {
		return scim.Errorf(409, "uniqueness", "a user with userName %q already exists", f.email)
	}
	if err != nil {
		return err
	}
	if f.active != nil && !*f.active {
		if u, err = s.store.UpdateUser(c.ctx, c.ws, u.Email, codexgov.UserUpdate{Active: f.active}); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
			return err
		}
	}
	s.changed(c.ctx)
	return s.writeUser(c, http.StatusCreated, u)
}

// replaceUser writes a whole resource over a user: PUT, and PATCH after
// the operations are applied.
func (s *Server) replaceUser(c *call, cur *codexgov.User, m map[string]any) error {
	f, err := readUser(m)
	if err != nil {
		return err
	}
	if f.email != cur.Email {
		return scim.Errorf(400, "mutability", "userName is immutable here (it is the user's email, codexgov's key): %q cannot become %q; deprovision the user and provision the new address", cur.Email, f.email)
	}
	up := codexgov.UserUpdate{Name: &f.name, ExternalID: &f.externalID, Profile: &f.profile, Active: f.active}
	u, err := s.store.UpdateUser(c.ctx, c.ws, cur.Email, up)
	if errors.Is(err, codexgov.ErrNoChange) {
		return s.writeUser(c, 200, u)
	}
	if err != nil {
		return err
	}
	s.changed(c.ctx)
	return s.writeUser(c, 200, u)
}

func (s *Server) scimReplaceUser(c *call) error {
	cur, err := s.scimFetchUser(c)
	if err != nil {
		return err
	}
	m, err := s.scimDecode(c)
	if err != nil {
		return err
	}
	_, groups, err := s.scimGroups(c)
	if err != nil {
		return err
	}
	if err := readOnlySet(m, s.userResource(s.scimURL(c), cur, groups), scim.UserSchema); err != nil {
		return err
	}
	return s.replaceUser(c, cur, m)
}

func (s *Server) decodePatch(c *call) ([]scim.PatchOp, error) {
	var p scim.PatchRequest
	if err := s.scimBody(c, &p); err != nil {
		return nil, err
	}
	if !slices.Contains(p.Schemas, scim.PatchSchema) {
		return nil, scim.Errorf(400, "invalidSyntax", "schemas must contain %s", scim.PatchSchema)
	}
	return p.Operations, nil
}

func (s *Server) scimPatchUser(c *call) error {
	cur, err := s.scimFetchUser(c)
	if err != nil {
		return err
	}
	ops, err := s.decodePatch(c)
	if err != nil {
		return err
	}
	res := s.userResource(s.scimURL(c), cur, nil)
	if err := scim.Apply(res, ops, scim.UserSchema); err != nil {
		return err
	}
	if err := readOnlySet(res, s.userResource(s.scimURL(c), cur, nil), scim.UserSchema); err != nil {
		return err
	}
	return s.replaceUser(c, cur, res)
}

func (s *Server) scimDeleteUser(c *call) error {
	cur, err := s.scimFetchUser(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(c.ctx, c.ws, cur.Email); err != nil {
		return err
	}
	s.changed(c.ctx)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// memberEmails turns a members attribute into emails.
func memberEmails(v any, byID map[string]*codexgov.User) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, scim.Errorf(400, "invalidValue", "members must be an array")
	}
	var out []string
	for i, it := range list {
		m, _ := it.(map[string]any)
		id, _, _ := stringAttr(m, "value")
		u := byID[id]
		if u == nil {
			return nil, scim.Errorf(400, "invalidValue", "members[%d].value %q is not a user of this workspace", i, id)
		}
		if !slices.Contains(out, u.Email) {
			out = append(out, u.Email)
		}
	}
	return out, nil
}

func usersByID(users map[string]*codexgov.User) map[string]*codexgov.User {
	out := make(map[string]*codexgov.User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out
}

func (s *Server) scimCreateGroup(c *call) error {
	m, err := s.scimDecode(c)
	if err != nil {
		return err
	}
	if err := readOnlySet(m, nil, scim.GroupSchema); err != nil {
		return err
	}
	if err := scim.ValidateResource(m, scim.GroupSchema); err != nil {
		return err
	}
	name, _, err := stringAttr(m, "displayName")
	if err != nil {
		return err
	}
	if err := codexgov.CheckGroupName("displayName", name); err != nil {
		return scim.Errorf(400, "invalidValue", "displayName: %s", err.(*codexgov.Error).Details[0].Message)
	}
	ext, _, err := stringAttr(m, "externalId")
	if err != nil {
		return err
	}
	_, users, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	mv, _, _ := scim.Get(m, "members")
	members, err := memberEmails(mv, usersByID(users))
	if err != nil {
		return err
	}
	g, err := s.store.CreateGroup(c.ctx, c.ws, codexgov.Group{Name: name, ExternalID: ext, Members: members})
	if codexgov.ErrorCode(err) == codexgov.ECONFLICT {
		return scim.Errorf(409, "uniqueness", "a group named %q already exists", name)
	}
	if err != nil {
		return err
	}
	s.changed(c.ctx)
	return s.writeGroup(c, http.StatusCreated, g)
}

// replaceGroup writes a whole resource over a group.
func (s *Server) replaceGroup(c *call, cur *codexgov.Group, m map[string]any, users map[string]*codexgov.User) error {
	if err := readOnlySet(m, s.groupResource(s.scimURL(c), cur, users), scim.GroupSchema); err != nil {
		return err
	}
	if err := scim.ValidateResource(m, scim.GroupSchema); err != nil {
		return err
	}
	name, _, err := stringAttr(m, "displayName")
	if err != nil {
		return err
	}
	if name != cur.Name {
		return scim.Errorf(400, "mutability", "displayName is immutable here (assignment rules refer to the group by name): %q cannot become %q", cur.Name, name)
	}
	ext, _, err := stringAttr(m, "externalId")
	if err != nil {
		return err
	}
	mv, _, _ := scim.Get(m, "members")
	want, err := memberEmails(mv, usersByID(users))
	if err != nil {
		return err
	}
	up := codexgov.GroupUpdate{ExternalID: &ext}
	for _, e := range want {
		if !slices.Contains(cur.Members, e) {
			up.AddMembers = append(up.AddMembers, e)
		}
	}
	for _, e := range cur.Members {
		if !slices.Contains(want, e) {
			up.RemoveMembers = append(up.RemoveMembers, e)
		}
	}
	g, err := s.store.UpdateGroup(c.ctx, c.ws, cur.Name, up)
	if err != nil {
		return err
	}
	s.changed(c.ctx)
	if c.r.Method == http.MethodPatch && c.r.URL.Query().Get("attributes") == "" {
		// RFC 7644 §3.5.2: 204 when the client did not ask for the
		// resource back; Entra ID expects it.
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.writeGroup(c, 200, g)
}

func (s *Server) scimReplaceGroup(c *call) error {
	cur, err := s.scimFetchGroup(c)
	if err != nil {
		return err
	}
	m, err := s.scimDecode(c)
	if err != nil {
		return err
	}
	_, users, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	return s.replaceGroup(c, cur, m, users)
}

func (s *Server) scimPatchGroup(c *call) error {
	cur, err := s.scimFetchGroup(c)
	if err != nil {
		return err
	}
	ops, err := s.decodePatch(c)
	if err != nil {
		return err
	}
	_, users, err := s.scimUsers(c)
	if err != nil {
		return err
	}
	res := s.groupResource(s.scimURL(c), cur, users)
	if err := scim.Apply(res, ops, scim.GroupSchema); err != nil {
		return err
	}
	return s.replaceGroup(c, cur, res, users)
}

func (s *Server) scimDeleteGroup(c *call) error {
	cur, err := s.scimFetchGroup(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteGroup(c.ctx, c.ws, cur.Name); err != nil {
		if codexgov.ErrorCode(err) == codexgov.ECONFLICT {
			return scim.Errorf(409, "", "%s", codexgov.ErrorMessage(err))
		}
		return err
	}
	s.changed(c.ctx)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// readOnlySet refuses a write to a read-only attribute (id, meta, a user's
// groups): on a create any value but an empty list (cur nil), on a
// replace or patch a value
// other than the resource's own; leaving one out changes nothing.
func readOnlySet(next, cur map[string]any, schema string) error {
	for _, name := range scim.ReadOnly(schema) {
		v, key, ok := scim.Get(next, name)
		if !ok || v == nil {
			continue
		}
		if cur == nil {
			if l, isList := v.([]any); isList && len(l) == 0 {
				continue // Okta sends "groups": [] on every create
			}
			return scim.Errorf(400, "mutability", "%s is read-only: the service provider sets it", key)
		}
		if was, _, _ := scim.Get(cur, name); !sameJSON(v, was) {
			return scim.Errorf(400, "mutability", "%s is read-only: it cannot be changed (send it as it is, or leave it out)", key)
		}
	}
	return nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
