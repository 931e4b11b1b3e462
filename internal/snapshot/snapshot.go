// Package snapshot is what the server answers from: the whole stored
// state compiled into an immutable value (every client document with its
// ETag and JWS computed once, the directory, the assignment, the
// credentials), with credential authentication and lookups that need no
// database query.
package snapshot

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/signing"
)

// Document is one response body as served: its bytes, strong entity tag
// and detached signature, computed once per snapshot.
type Document struct {
	Body []byte
	// Hash is the body's SHA-256, hex.
	Hash      string
	ETag      string // quoted
	Signature string
	Policy    string // "" when no policy applies
	Version   int
	// Header holds the response headers, ready to copy: serving a
	// document allocates nothing for them.
	Header      map[string][]string
	contentType string
}

// Snapshot is the compiled, immutable state at one version.
type Snapshot struct {
	Version int64
	Built   time.Time
	signer  *signing.Signer
	// export writes the enforced [otel] block (WithExport).
	export *Export
	spaces map[string]*space
	keys   *index[*codexgov.APIKey]      // by hash
	tokens *index[*codexgov.AccessToken] // by hash
	empty  *Document
	// emptyBundle is the configuration-server bundle of no policy.
	emptyBundle *Document
	enroll      *index[*enrollView] // by hash
	enrollByID  *index[*enrollView]
	revoked     *index[bool] // OAuth grant IDs
}

// enrollView is an enrollment token with its identity's decision and
// bundle, made once at compile time.
type enrollView struct {
	token  *codexgov.EnrollmentToken
	access codexgov.Decision
	policy *compiled
}

type space struct {
	ws         *codexgov.Workspace
	users      map[string]*userView
	groups     map[string]*codexgov.Group
	roles      map[string]*codexgov.Role
	policies   map[string]*compiled
	assignment *codexgov.Assignment
	// enrollment are the live enrollment tokens, in creation order.
	enrollment []*codexgov.EnrollmentToken
	// tokenIDs are the live access tokens' IDs (telemetry tokens minted
	// for one live while it does).
	tokenIDs map[string]bool
	// creds are the workspace's entries in the snapshot's indexes, so
	// that Update can take them out again.
	creds spaceCreds
	// gateway is the workspace's model gateway, or nil; budgeted its
	// budgets' subjects ("user:EMAIL", "group:NAME").
	gateway  *codexgov.Gateway
	budgeted map[string]bool
}

// spaceCreds are one workspace's credentials, keyed as the indexes key
// them.
type spaceCreds struct {
	keys       map[string]*codexgov.APIKey
	tokens     map[string]*codexgov.AccessToken
	enroll     map[string]*enrollView
	enrollByID map[string]*enrollView
	revoked    map[string]bool
}

func (c spaceCreds) names() (keys, tokens, enroll, enrollByID, revoked []string) {
	for k := range c.keys {
		keys = append(keys, k)
	}
	for k := range c.tokens {
		tokens = append(tokens, k)
	}
	for k := range c.enroll {
		enroll = append(enroll, k)
	}
	for k := range c.enrollByID {
		enrollByID = append(enrollByID, k)
	}
	for k := range c.revoked {
		revoked = append(revoked, k)
	}
	return
}

type compiled struct {
	version      *codexgov.PolicyVersion
	requirements *Document
	defaults     *Document
	// bundle is the native configuration server's response body.
	bundle *Document
}

type userView struct {
	user   *codexgov.User
	perms  []codexgov.Permission
	match  codexgov.Match
	policy *compiled
	// The decisions, made once here rather than on every request.
	access map[codexgov.Surface]codexgov.Decision
	token  codexgov.Decision
}

// Compile builds a snapshot. Every distinct document is signed once here,
// so serving it costs map lookups only.
func Compile(st *codexgov.State, signer *signing.Signer, now time.Time) (*Snapshot, error) {
	s := &Snapshot{Version: st.Version, Built: now, signer: signer, spaces: map[string]*space{}}
	var err error
	if s.empty, err = s.document(nil, "", 0, tomlType); err != nil {
		return nil, err
	}
	if s.emptyBundle, err = s.document(BundleBody(nil), "", 0, jsonType); err != nil {
		return nil, err
	}
	shared := map[string]*compiled{} // by content hash, across workspaces
	all := spaceCreds{keys: map[string]*codexgov.APIKey{}, tokens: map[string]*codexgov.AccessToken{}, enroll: map[string]*enrollView{},
		enrollByID: map[string]*enrollView{}, revoked: map[string]bool{}}
	for _, k := range st.APIKeys {
		if k.Workspace == "" {
			all.keys[k.Hash] = k // server keys belong to no workspace
		}
	}
	for _, w := range st.Workspaces {
		sp, err := s.compileSpace(w, st, shared)
		if err != nil {
			return nil, err
		}
		s.spaces[w.ID] = sp
		merge(&all, sp.creds)
	}
	s.keys = (*index[*codexgov.APIKey])(nil).with(nil, all.keys)
	s.tokens = (*index[*codexgov.AccessToken])(nil).with(nil, all.tokens)
	s.enroll = (*index[*enrollView])(nil).with(nil, all.enroll)
	s.enrollByID = (*index[*enrollView])(nil).with(nil, all.enrollByID)
	s.revoked = (*index[bool])(nil).with(nil, all.revoked)
	return s, nil
}

func merge(dst *spaceCreds, src spaceCreds) {
	for k, v := range src.keys {
		dst.keys[k] = v
	}
	for k, v := range src.tokens {
		dst.tokens[k] = v
	}
	for k, v := range src.enroll {
		dst.enroll[k] = v
	}
	for k, v := range src.enrollByID {
		dst.enrollByID[k] = v
	}
	for k, v := range src.revoked {
		dst.revoked[k] = v
	}
}

// Update returns a snapshot at version in which workspace ws is compiled
// anew from st (the state of that workspace alone, as
// Store.WorkspaceState reads it), or removed when st holds no workspace.
// Every other workspace is shared with s, and only the index shards the
// workspace's credentials fall in are copied: a change costs in
// proportion to its own workspace. The signing keys must be the same as
// s's (a key change rebuilds everything).
func (s *Snapshot) Update(ws string, st *codexgov.State, version int64, now time.Time) (*Snapshot, error) {
	n := *s
	n.Version, n.Built = version, now
	n.spaces = make(map[string]*space, len(s.spaces)+1)
	for k, v := range s.spaces {
		n.spaces[k] = v
	}
	var old spaceCreds
	shared := map[string]*compiled{}
	if sp := s.spaces[ws]; sp != nil {
		old = sp.creds
		// The workspace's documents that did not change keep their
		// signatures.
		for _, c := range sp.policies {
			shared[c.version.Hash] = c
		}
		delete(n.spaces, ws)
	}
	cur := spaceCreds{}
	for _, w := range st.Workspaces {
		if w.ID != ws {
			continue
		}
		sp, err := n.compileSpace(w, st, shared)
		if err != nil {
			return nil, err
		}
		n.spaces[ws] = sp
		cur = sp.creds
	}
	dk, dt, de, di, dr := old.names()
	n.keys = s.keys.with(dk, cur.keys)
	n.tokens = s.tokens.with(dt, cur.tokens)
	n.enroll = s.enroll.with(de, cur.enroll)
	n.enrollByID = s.enrollByID.with(di, cur.enrollByID)
	n.revoked = s.revoked.with(dr, cur.revoked)
	return &n, nil
}

// compileSpace compiles one workspace of st: its directory, its policies'
// documents (reusing shared, by content hash, and adding to it), every
// user's decisions, and its credentials.
func (s *Snapshot) compileSpace(w *codexgov.Workspace, st *codexgov.State, shared map[string]*compiled) (*space, error) {
	sp := &space{ws: w, users: map[string]*userView{}, groups: map[string]*codexgov.Group{}, roles: map[string]*codexgov.Role{},
		policies: map[string]*compiled{}, assignment: st.Assignments[w.ID], gateway: st.Gateways[w.ID], budgeted: map[string]bool{},
		creds: spaceCreds{keys: map[string]*codexgov.APIKey{}, tokens: map[string]*codexgov.AccessToken{}, enroll: map[string]*enrollView{},
			enrollByID: map[string]*enrollView{}, revoked: map[string]bool{}}}
	if sp.assignment == nil {
		sp.assignment = &codexgov.Assignment{}
	}
	for _, b := range st.Budgeted[w.ID] {
		sp.budgeted[b] = true
	}
	for _, g := range st.Groups[w.ID] {
		sp.groups[g.Name] = g
	}
	for _, r := range st.Roles[w.ID] {
		sp.roles[r.Name] = r
	}
	var err error
	for _, p := range st.Policies[w.ID] {
		c, ok := shared[p.Hash]
		if !ok {
			c = &compiled{version: p}
			if c.requirements, err = s.document([]byte(p.Requirements), p.Name, p.Version, tomlType); err != nil {
				return nil, err
			}
			if c.defaults, err = s.document([]byte(p.Defaults), p.Name, p.Version, tomlType); err != nil {
				return nil, err
			}
			if c.bundle, err = s.document(BundleBody(p), p.Name, p.Version, jsonType); err != nil {
				return nil, err
			}
			shared[p.Hash] = c
		}
		switch {
		case c.version == p:
		case c.version.Name == p.Name && c.version.Version == p.Version:
			// The same name, version and content in another workspace:
			// the same documents, this workspace's own record.
			c = &compiled{version: p, requirements: c.requirements, defaults: c.defaults, bundle: c.bundle}
		default:
			// The same content under another name or version: same
			// bytes and signature, its own identity. The bundle names
			// the policy, so it is its own.
			b, err := s.document(BundleBody(p), p.Name, p.Version, jsonType)
			if err != nil {
				return nil, err
			}
			c = &compiled{version: p, requirements: relabel(c.requirements, p), defaults: relabel(c.defaults, p), bundle: b}
		}
		sp.policies[p.Name] = c
	}
	groupList := st.Groups[w.ID]
	for _, u := range st.Users[w.ID] {
		member := func(g *codexgov.Group) bool { return slices.Contains(u.Groups, g.Name) }
		v := &userView{user: u, perms: codexgov.UserPermissions(groupList, member, sp.roles, w.Settings.DefaultRole)}
		v.match = sp.assignment.Select("user "+u.Email, func(g string) bool { return slices.Contains(u.Groups, g) })
		v.policy = sp.policies[v.match.Policy]
		v.access = map[codexgov.Surface]codexgov.Decision{
			codexgov.SurfaceLocal: codexgov.Decide(w.Settings, u, v.perms, codexgov.SurfaceLocal),
			codexgov.SurfaceCloud: codexgov.Decide(w.Settings, u, v.perms, codexgov.SurfaceCloud),
		}
		v.token = codexgov.CanHoldAccessToken(w.Settings, u, v.perms)
		sp.users[u.Email] = v
	}
	for _, k := range st.APIKeys {
		if k.Workspace == w.ID {
			sp.creds.keys[k.Hash] = k
		}
	}
	sp.tokenIDs = map[string]bool{}
	for _, t := range st.AccessTokens {
		if t.Workspace == w.ID {
			sp.creds.tokens[t.Hash] = t
			sp.tokenIDs[t.ID] = true
		}
	}
	for _, id := range st.RevokedGrants[w.ID] {
		sp.creds.revoked[id] = true
	}
	for _, t := range st.EnrollmentTokens {
		if t.Workspace != w.ID {
			continue
		}
		ev := &enrollView{token: t}
		if t.Service != "" {
			// A service identity: its token's groups choose its policy
			// and grant its roles, as a user's groups do.
			member := func(g string) bool { return slices.Contains(t.Groups, g) }
			perms := codexgov.UserPermissions(groupList, func(g *codexgov.Group) bool { return member(g.Name) }, sp.roles, w.Settings.DefaultRole)
			ev.access = codexgov.Decide(w.Settings, &codexgov.User{Email: t.Identity(), Active: true}, perms, codexgov.SurfaceLocal)
			ev.policy = sp.policies[sp.assignment.Select(t.Identity(), member).Policy]
		} else if v := sp.users[t.User]; v != nil {
			ev.access, ev.policy = v.access[codexgov.SurfaceLocal], v.policy
		} else {
			ev.access = codexgov.Decide(w.Settings, nil, nil, codexgov.SurfaceLocal)
		}
		sp.creds.enroll[t.Hash] = ev
		sp.creds.enrollByID[t.ID] = ev
		sp.enrollment = append(sp.enrollment, t)
	}
	return sp, nil
}

func relabel(d *Document, p *codexgov.PolicyVersion) *Document {
	c := *d
	c.Policy, c.Version = p.Name, p.Version
	c.setHeader()
	return &c
}

const (
	tomlType = "application/toml"
	jsonType = "application/json"
)

func (s *Snapshot) document(body []byte, name string, version int, contentType string) (*Document, error) {
	if body == nil {
		body = []byte{}
	}
	d := &Document{Body: body, Hash: codexgov.BodyHash(body), Policy: name, Version: version, contentType: contentType}
	d.ETag = `"` + d.Hash + `"`
	if s.signer != nil {
		sig, err := s.signer.Sign(body)
		if err != nil {
			return nil, err
		}
		d.Signature = sig
	}
	d.setHeader()
	return d, nil
}

func (d *Document) setHeader() {
	d.Header = map[string][]string{
		"Etag":                    {d.ETag},
		"Cache-Control":           {"private, no-cache"},
		"Codexgov-Policy":         {d.Policy},
		"Codexgov-Policy-Version": {strconv.Itoa(d.Version)},
		"Content-Type":            {d.contentType},
		"Content-Length":          {strconv.Itoa(len(d.Body))},
	}
	if d.Signature != "" {
		d.Header[signing.SignatureHeader] = []string{d.Signature}
	}
}

// JWKSSignatures are the JWKS's detached signatures, one per published
// key.
func (s *Snapshot) JWKSSignatures() []string {
	if s.signer == nil {
		return nil
	}
	return s.signer.JWKSSignatures()
}

// JWKS is the published key set.
func (s *Snapshot) JWKS() []byte {
	if s.signer == nil {
		return []byte(`{"keys":[]}`)
	}
	return s.signer.JWKS()
}

// Principal is an authenticated caller: an API key or a user's access
// token.
type Principal struct {
	Key   *codexgov.APIKey
	Token *codexgov.AccessToken
	// Enrollment is a machine's enrollment token (codexgov sync): it reads
	// its identity's client documents and reports, nothing else.
	Enrollment *codexgov.EnrollmentToken
	// Person is a person's own sign-in (codexgov login or an admin web
	// session), whose scopes follow the person's roles.
	Person *Person
	// Telemetry is a telemetry token's sender: it sends OTLP, nothing
	// else (scope telemetry:write).
	Telemetry *TelemetrySender
}

// TelemetrySender is who a telemetry token was minted for.
type TelemetrySender struct {
	Workspace, Identity string
	// Credential is the credential the token was minted for ("" for one
	// an admin minted for a user); Device the machine's name, if any.
	Credential, Device string
}

// TelemetryLive checks that a telemetry token's sender still may send:
// the credential it was minted for is not revoked, or, for a token an
// admin minted for a user, the user is still active in the workspace.
func (s *Snapshot) TelemetryLive(t TelemetrySender) error {
	sp, ok := s.spaces[t.Workspace]
	if !ok {
		return codexgov.Errorf(codexgov.EUNAUTHORIZED, "the telemetry token is not valid")
	}
	c := t.Credential
	switch {
	case strings.HasPrefix(c, codexgov.EnrollmentIDPrefix):
		if ev, _ := s.enrollByID.get(c); ev != nil && ev.token.Workspace == t.Workspace {
			return nil
		}
	case strings.HasPrefix(c, "grant_"):
		if !s.GrantRevoked(c) {
			return nil
		}
	case strings.HasPrefix(c, "tok_"):
		if sp.tokenIDs[c] {
			return nil
		}
	case c == "":
		if email, ok := strings.CutPrefix(t.Identity, "user:"); ok {
			if v := sp.users[strings.ToLower(email)]; v != nil && v.user.Active {
				return nil
			}
		}
	}
	return codexgov.Errorf(codexgov.EUNAUTHORIZED, "the telemetry token is no longer valid: the credential or user it was minted for was revoked or removed")
}

// Person is a signed-in person acting on the admin API.
type Person struct {
	Workspace, Email string
	// Via names the sign-in: "grant_…" for codexgov login, "web" for a
	// session.
	Via    string
	Scopes []codexgov.Scope
}

// ActorID names the principal in audit events.
func (p Principal) ActorID() string {
	if p.Key != nil {
		return "api_key:" + p.Key.ID
	}
	if p.Token != nil {
		return "access_token:" + p.Token.ID
	}
	if p.Person != nil {
		return "user:" + p.Person.Email + " (" + p.Person.Via + ")"
	}
	if p.Enrollment != nil {
		return "enrollment_token:" + p.Enrollment.ID
	}
	if p.Telemetry != nil {
		return "telemetry_token:" + p.Telemetry.Identity + "/" + p.Telemetry.Credential
	}
	return ""
}

// Workspace is the workspace the principal belongs to ("" for a server
// key).
func (p Principal) Workspace() string {
	switch {
	case p.Key != nil:
		return p.Key.Workspace
	case p.Token != nil:
		return p.Token.Workspace
	case p.Person != nil:
		return p.Person.Workspace
	case p.Enrollment != nil:
		return p.Enrollment.Workspace
	case p.Telemetry != nil:
		return p.Telemetry.Workspace
	}
	return ""
}

// Identity is who a client principal acts for ("user:<email>" or
// "service:<name>") and the ID of the credential it used.
func (p Principal) Identity() (identity, credential string) {
	switch {
	case p.Token != nil:
		return "user:" + p.Token.User, p.Token.ID
	case p.Person != nil:
		return "user:" + p.Person.Email, p.Person.Via
	case p.Enrollment != nil:
		return p.Enrollment.Identity(), p.Enrollment.ID
	case p.Telemetry != nil:
		c := p.Telemetry.Credential
		if c == "" {
			c = "telemetry_token"
		}
		return p.Telemetry.Identity, c
	}
	return "", ""
}

// Authenticate finds the credential for a bearer secret. Revoked, expired
// and unknown secrets give EUNAUTHORIZED.
func (s *Snapshot) Authenticate(secret string, now time.Time) (Principal, error) {
	h := codexgov.HashSecret(secret)
	switch {
	case strings.HasPrefix(secret, codexgov.APIKeyPrefix):
		if k, ok := s.keys.get(h); ok {
			if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
				return Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the API key expired at %s", k.ExpiresAt.Format(time.RFC3339))
			}
			return Principal{Key: k}, nil
		}
	case strings.HasPrefix(secret, codexgov.AccessTokenPrefix):
		if t, ok := s.tokens.get(h); ok {
			if !now.Before(t.ExpiresAt) {
				return Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the access token expired at %s", t.ExpiresAt.Format(time.RFC3339))
			}
			return Principal{Token: t}, nil
		}
	case strings.HasPrefix(secret, codexgov.EnrollmentTokenPrefix):
		if ev, ok := s.enroll.get(h); ok {
			if t := ev.token; !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
				return Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the enrollment token expired at %s", t.ExpiresAt.Format(time.RFC3339))
			}
			return Principal{Enrollment: ev.token}, nil
		}
	}
	return Principal{}, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the bearer token is not valid (unknown, revoked or malformed)")
}

// WorkspaceByRef finds a workspace by its ID or its UUID (the Compliance
// API's workspace_id accepts either).
func (s *Snapshot) WorkspaceByRef(ref string) (*codexgov.Workspace, bool) {
	if sp, ok := s.spaces[ref]; ok {
		return sp.ws, true
	}
	if len(ref) == 36 {
		for _, sp := range s.spaces {
			if strings.EqualFold(sp.ws.UUID, ref) {
				return sp.ws, true
			}
		}
	}
	return nil, false
}

// Workspaces are the snapshot's workspaces, in no order.
func (s *Snapshot) Workspaces() []*codexgov.Workspace {
	out := make([]*codexgov.Workspace, 0, len(s.spaces))
	for _, sp := range s.spaces {
		out = append(out, sp.ws)
	}
	return out
}

// Sign makes the detached JWS of body with the active signing key.
func (s *Snapshot) Sign(body []byte) (string, error) {
	if s.signer == nil {
		return "", errors.New("no signing key")
	}
	return s.signer.Sign(body)
}

// Workspace returns a workspace as of the snapshot.
func (s *Snapshot) Workspace(id string) (*codexgov.Workspace, bool) {
	sp, ok := s.spaces[id]
	if !ok {
		return nil, false
	}
	return sp.ws, true
}

// Kind selects one of a policy's documents.
type Kind int

// The documents a client fetches.
const (
	Requirements Kind = iota
	Defaults
)

// ClientDocument returns the document a client principal is served: a
// user's access token, a person's codexgov login, or a machine's
// enrollment token. An identity that may not use Codex locally (or, for an
// access token, may no longer hold one) gets EACCESSDENIED with the
// message Codex users are shown.
func (s *Snapshot) ClientDocument(p Principal, kind Kind) (*Document, error) {
	c, err := s.clientPolicy(p)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return s.empty, nil
	}
	if kind == Defaults {
		return c.defaults, nil
	}
	return c.requirements, nil
}

func (s *Snapshot) clientPolicy(p Principal) (*compiled, error) {
	deny := func(reason string) error {
		return &codexgov.Error{Code: codexgov.EACCESSDENIED, Message: codexgov.AccessDeniedMessage, Details: []codexgov.Detail{{Message: reason}}}
	}
	if p.Enrollment != nil {
		ev, _ := s.enrollByID.get(p.Enrollment.ID)
		if ev == nil {
			return nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the enrollment token is not valid (unknown or revoked)")
		}
		if !ev.access.Allowed {
			return nil, deny(ev.access.Reason)
		}
		return ev.policy, nil
	}
	ws, email := p.Workspace(), ""
	switch {
	case p.Token != nil:
		email = p.Token.User
	case p.Person != nil:
		email = p.Person.Email
	}
	sp, ok := s.spaces[ws]
	if !ok || email == "" {
		return nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the bearer token is not valid")
	}
	v := sp.users[strings.ToLower(email)]
	if v == nil {
		return nil, deny("the user is not in the workspace")
	}
	checks := []codexgov.Decision{v.access[codexgov.SurfaceLocal]}
	if p.Token != nil {
		checks = append(checks, v.token)
	}
	for _, d := range checks {
		if !d.Allowed {
			return nil, deny(d.Reason)
		}
	}
	return v.policy, nil
}

// Access is the access decision for a user, as of the snapshot.
func (s *Snapshot) Access(ws, email string) (map[codexgov.Surface]codexgov.Decision, []codexgov.Permission, bool) {
	sp, ok := s.spaces[ws]
	if !ok {
		return nil, nil, false
	}
	v := sp.users[strings.ToLower(email)]
	if v == nil {
		return nil, nil, false
	}
	return v.access, v.perms, true
}

// CanHoldAccessToken is the token decision for a user, as of the snapshot.
func (s *Snapshot) CanHoldAccessToken(ws, email string) codexgov.Decision {
	sp, ok := s.spaces[ws]
	if !ok {
		return codexgov.Decision{Reason: "no such workspace"}
	}
	v := sp.users[strings.ToLower(email)]
	if v == nil {
		return codexgov.CanHoldAccessToken(sp.ws.Settings, nil, nil)
	}
	return v.token
}

// LookupUser explains which policy a user gets.
func (s *Snapshot) LookupUser(ws, email string) (*codexgov.Lookup, error) {
	sp, ok := s.spaces[ws]
	if !ok {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", ws)
	}
	email = strings.ToLower(email)
	v := sp.users[email]
	if v == nil {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "user %q not found", email)
	}
	l := s.lookup(ws, v.match, v.policy)
	l.User, l.Groups = email, v.user.Groups
	active := v.user.Active
	l.Active = &active
	l.Access, l.Permissions, _ = s.Access(ws, email)
	return l, nil
}

// LookupGroup explains which policy a member of exactly this one group
// gets.
func (s *Snapshot) LookupGroup(ws, groupName string) (*codexgov.Lookup, error) {
	sp, ok := s.spaces[ws]
	if !ok {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", ws)
	}
	if _, ok := sp.groups[groupName]; !ok {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "group %q not found", groupName)
	}
	m := sp.assignment.Select("group "+groupName, func(g string) bool { return g == groupName })
	l := s.lookup(ws, m, sp.policies[m.Policy])
	l.Group, l.Groups = groupName, []string{groupName}
	return l, nil
}

func (s *Snapshot) lookup(ws string, m codexgov.Match, c *compiled) *codexgov.Lookup {
	l := &codexgov.Lookup{Workspace: ws, Match: m, SnapshotVersion: s.Version}
	if l.Match.Skipped == nil {
		l.Match.Skipped = []codexgov.SkippedRule{}
	}
	if c == nil {
		l.RequirementsETag, l.DefaultsETag, l.BundleETag = s.empty.ETag, s.empty.ETag, s.emptyBundle.ETag
		return l
	}
	l.Policy = c.version
	l.RequirementsETag, l.DefaultsETag, l.BundleETag = c.requirements.ETag, c.defaults.ETag, c.bundle.ETag
	return l
}

// UserScopes are the API scopes a person's own sign-in (codexgov login, an
// admin web session) carries as of the snapshot: none for an unknown or
// deactivated user.
func (s *Snapshot) UserScopes(ws, email string) []codexgov.Scope {
	sp, ok := s.spaces[ws]
	if !ok {
		return nil
	}
	v := sp.users[strings.ToLower(email)]
	if v == nil || !v.user.Active {
		return nil
	}
	return codexgov.UserScopes(v.perms)
}

// UserID is a workspace user's ID by email ("" when there is none).
func (s *Snapshot) UserID(ws, email string) string {
	sp, ok := s.spaces[ws]
	if !ok {
		return ""
	}
	if v := sp.users[strings.ToLower(email)]; v != nil {
		return v.user.ID
	}
	return ""
}
