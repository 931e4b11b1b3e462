package httpapi

// The admin REST surface under /api/v1: workspaces, directory, roles,
// policies, assignment, lookup, credentials, devices, identity providers,
// audit and signing keys.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/telemetry"
)

// whoami describes the caller's credential.
func (s *Server) whoami(c *call) (any, error) {
	p := c.p
	w := codexgov.WhoAmI{Actor: p.ActorID(), Workspace: p.Workspace()}
	switch {
	case p.Key != nil:
		w.Kind, w.ID, w.Name, w.Scopes, w.ExpiresAt = "api_key", p.Key.ID, p.Key.Name, p.Key.Scopes, p.Key.ExpiresAt
	case p.Token != nil:
		w.Kind, w.ID, w.Name, w.Identity, w.ExpiresAt = "access_token", p.Token.ID, p.Token.Name, "user:"+p.Token.User, p.Token.ExpiresAt
	case p.Enrollment != nil:
		w.Kind, w.ID, w.Name, w.Identity, w.ExpiresAt = "enrollment_token", p.Enrollment.ID, p.Enrollment.Name, p.Enrollment.Identity(), p.Enrollment.ExpiresAt
	case p.Person != nil:
		w.Kind, w.ID, w.Identity, w.Scopes = "login", p.Person.Via, "user:"+p.Person.Email, p.Person.Scopes
	}
	if w.Scopes == nil {
		w.Scopes = []codexgov.Scope{}
	}
	return w, nil
}

// CreateWorkspace is the body of POST /api/v1/workspaces.
type CreateWorkspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) listWorkspaces(c *call) (any, error) {
	if c.p.Key.Workspace != "" {
		w, err := s.store.Workspace(c.ctx, c.p.Key.Workspace)
		if err != nil {
			return nil, err
		}
		return []*codexgov.Workspace{w}, nil
	}
	return s.store.Workspaces(c.ctx)
}

func (s *Server) createWorkspace(c *call) (any, error) {
	var in CreateWorkspace
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.Workspace, error) { return s.store.CreateWorkspace(c.ctx, in.ID, in.Name) })
}

func (s *Server) getWorkspace(c *call) (any, error) { return s.store.Workspace(c.ctx, c.ws) }

func (s *Server) getSettings(c *call) (any, error) {
	w, err := s.store.Workspace(c.ctx, c.ws)
	if err != nil {
		return nil, err
	}
	return w.Settings, nil
}

func (s *Server) updateSettings(c *call) (any, error) {
	var in codexgov.SettingsUpdate
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (codexgov.Settings, error) {
		w, err := s.store.UpdateSettings(c.ctx, c.ws, in)
		if w == nil {
			return codexgov.Settings{}, err
		}
		return w.Settings, err
	})
}

// CreateUser is the body of POST …/users.
type CreateUser struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func (s *Server) listUsers(c *call) (any, error) { return s.store.Users(c.ctx, c.ws) }

func (s *Server) getUser(c *call) (any, error) { return s.store.User(c.ctx, c.ws, c.path("email")) }

func (s *Server) createUser(c *call) (any, error) {
	var in CreateUser
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.User, error) {
		return s.store.CreateUser(c.ctx, c.ws, codexgov.User{Email: in.Email, Name: in.Name})
	})
}

func (s *Server) updateUser(c *call) (any, error) {
	var in codexgov.UserUpdate
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.User, error) { return s.store.UpdateUser(c.ctx, c.ws, c.path("email"), in) })
}

// CreateGroup is the body of POST …/groups.
type CreateGroup struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) listGroups(c *call) (any, error) { return s.store.Groups(c.ctx, c.ws) }

func (s *Server) getGroup(c *call) (any, error) { return s.store.Group(c.ctx, c.ws, c.path("group")) }

func (s *Server) createGroup(c *call) (any, error) {
	var in CreateGroup
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.Group, error) {
		return s.store.CreateGroup(c.ctx, c.ws, codexgov.Group{Name: in.Name, Description: in.Description})
	})
}

func (s *Server) deleteGroup(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteGroup(c.ctx, c.ws, c.path("group")) })
}

func (s *Server) addMember(c *call) (any, error) {
	return mutate(c, func() (*codexgov.Group, error) {
		return s.store.AddGroupMember(c.ctx, c.ws, c.path("group"), c.path("email"))
	})
}

func (s *Server) removeMember(c *call) (any, error) {
	return mutate(c, func() (*codexgov.Group, error) {
		return s.store.RemoveGroupMember(c.ctx, c.ws, c.path("group"), c.path("email"))
	})
}

func (s *Server) grantRole(c *call) (any, error) {
	return mutate(c, func() (*codexgov.Group, error) {
		return s.store.GrantGroupRole(c.ctx, c.ws, c.path("group"), c.path("role"))
	})
}

func (s *Server) revokeRole(c *call) (any, error) {
	return mutate(c, func() (*codexgov.Group, error) {
		return s.store.RevokeGroupRole(c.ctx, c.ws, c.path("group"), c.path("role"))
	})
}

// CreateRole is the body of POST …/roles.
type CreateRole struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Permissions []codexgov.Permission `json:"permissions"`
}

func (s *Server) listRoles(c *call) (any, error) { return s.store.Roles(c.ctx, c.ws) }

func (s *Server) getRole(c *call) (any, error) { return s.store.Role(c.ctx, c.ws, c.path("role")) }

func (s *Server) createRole(c *call) (any, error) {
	var in CreateRole
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.Role, error) {
		return s.store.CreateRole(c.ctx, c.ws, codexgov.Role{Name: in.Name, Description: in.Description, Permissions: in.Permissions})
	})
}

func (s *Server) updateRole(c *call) (any, error) {
	var in codexgov.RoleUpdate
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.Role, error) { return s.store.UpdateRole(c.ctx, c.ws, c.path("role"), in) })
}

func (s *Server) deleteRole(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteRole(c.ctx, c.ws, c.path("role")) })
}

// PutPolicy is the body of PUT …/policies/{policy}.
type PutPolicy struct {
	Requirements string `json:"requirements"`
	Defaults     string `json:"defaults"`
	Comment      string `json:"comment"`
}

func (s *Server) listPolicies(c *call) (any, error) { return s.store.Policies(c.ctx, c.ws) }

func (s *Server) putPolicy(c *call) (any, error) {
	var in PutPolicy
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if c.r.URL.Query().Get("dry_run") == "true" {
		return s.dryRunPolicy(c, codexgov.PolicyInput{Name: c.path("policy"), Requirements: in.Requirements, Defaults: in.Defaults, Comment: in.Comment})
	}
	p := codexgov.PolicyInput{Name: c.path("policy"), Requirements: in.Requirements, Defaults: in.Defaults, Comment: in.Comment}
	// If-Match: the version the change was made from (0: a new policy).
	if v := c.r.Header.Get("If-Match"); v != "" {
		n, err := strconv.Atoi(strings.Trim(v, `"`))
		if err != nil || n < 0 {
			return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "If-Match: want the policy version the change was made from (an integer, 0 for a new policy)",
				Details: []codexgov.Detail{{Field: "If-Match", Message: "got " + strconv.Quote(v)}}}
		}
		p.BaseVersion = &n
	}
	return mutate(c, func() (*codexgov.PolicyVersion, error) { return s.store.PutPolicy(c.ctx, c.ws, p) })
}

// queryInt reads a positive integer query parameter that fits the 32-bit
// columns it is compared with (versions, page sizes).
func queryInt(c *call, name string) (int, bool, error) {
	n, ok, err := queryIntBits(c, name, 32)
	return int(n), ok, err
}

func queryIntBits(c *call, name string, bits int) (int64, bool, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, bits)
	if err != nil || n < 1 {
		msg := "want a positive integer, got " + strconv.Quote(v)
		if ne := (*strconv.NumError)(nil); errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			msg = fmt.Sprintf("%s is out of range: at most %d", v, int64(1)<<(bits-1)-1)
		}
		return 0, false, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
			Details: []codexgov.Detail{{Field: "?" + name, Message: msg}}}
	}
	return n, true, nil
}

func (s *Server) getPolicy(c *call) (any, error) {
	v, _, err := queryInt(c, "version")
	if err != nil {
		return nil, err
	}
	return s.store.Policy(c.ctx, c.ws, c.path("policy"), v)
}

func (s *Server) deletePolicy(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeletePolicy(c.ctx, c.ws, c.path("policy")) })
}

func (s *Server) policyHistory(c *call) (any, error) {
	return s.store.PolicyHistory(c.ctx, c.ws, c.path("policy"))
}

func (s *Server) policyDiff(c *call) (any, error) {
	name := c.path("policy")
	cur, err := s.store.Policy(c.ctx, c.ws, name, 0)
	if err != nil {
		return nil, err
	}
	to, ok, err := queryInt(c, "to")
	if err != nil {
		return nil, err
	}
	if !ok {
		to = cur.Version
	}
	from, ok, err := queryInt(c, "from")
	if err != nil {
		return nil, err
	}
	if !ok {
		from = max(to-1, 1)
	}
	a, err := s.store.Policy(c.ctx, c.ws, name, from)
	if err != nil {
		return nil, err
	}
	b, err := s.store.Policy(c.ctx, c.ws, name, to)
	if err != nil {
		return nil, err
	}
	fa, fb := name+"@"+strconv.Itoa(from), name+"@"+strconv.Itoa(to)
	return codexgov.PolicyDiff{Policy: name, From: from, To: to,
		Requirements: policy.Diff(fa+"/requirements.toml", fb+"/requirements.toml", a.Requirements, b.Requirements),
		Defaults:     policy.Diff(fa+"/managed_config.toml", fb+"/managed_config.toml", a.Defaults, b.Defaults)}, nil
}

func (s *Server) dryRunPolicy(c *call, in codexgov.PolicyInput) (any, error) {
	warns, err := policy.Validate(in)
	if err != nil {
		return nil, err
	}
	cur, err := s.store.Policy(c.ctx, c.ws, in.Name, 0)
	if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
		cur, err = &codexgov.PolicyVersion{Name: in.Name}, nil
	}
	if err != nil {
		return nil, err
	}
	fa, fb := in.Name+"@"+strconv.Itoa(cur.Version), in.Name+"@new"
	hash := codexgov.ContentHash(in.Requirements, in.Defaults)
	return codexgov.PolicyDryRun{DryRun: true, Version: cur.Version + 1, Hash: hash, Warnings: warns, Unchanged: cur.Version > 0 && cur.Hash == hash,
		Diff: codexgov.PolicyDiff{Policy: in.Name, From: cur.Version, To: cur.Version + 1,
			Requirements: policy.Diff(fa+"/requirements.toml", fb+"/requirements.toml", cur.Requirements, in.Requirements),
			Defaults:     policy.Diff(fa+"/managed_config.toml", fb+"/managed_config.toml", cur.Defaults, in.Defaults)}}, nil
}

// getAssignment answers the assignment with its entity tag (ETag), for a
// later PUT's If-Match.
func (s *Server) getAssignment(c *call) (any, error) {
	a, err := s.store.Assignment(c.ctx, c.ws)
	if err == nil {
		c.w.Header().Set("ETag", `"`+codexgov.AssignmentETag(a)+`"`)
	}
	return a, err
}

func (s *Server) setAssignment(c *call) (any, error) {
	var in codexgov.Assignment
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	in.IfMatch = c.r.Header.Get("If-Match")
	return mutate(c, func() (*codexgov.Assignment, error) { return s.store.SetAssignment(c.ctx, c.ws, in) })
}

func (s *Server) lookup(c *call) (any, error) {
	q := c.r.URL.Query()
	user, group := q.Get("user"), q.Get("group")
	snap := s.snap.Load()
	if _, ok := snap.Workspace(c.ws); !ok {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", c.ws)
	}
	switch {
	case user != "" && group == "":
		l, err := snap.LookupUser(c.ws, user)
		if err != nil {
			return nil, err
		}
		// Delivery facts come from the database; the lookup itself does
		// not, so it still answers while the database is down.
		if l.Devices, err = s.devices(c, DefaultStaleAfter, "user:"+l.User); err != nil {
			s.log.Warn("lookup: devices unavailable", "err", err)
		}
		return l, nil
	case group != "" && user == "":
		return snap.LookupGroup(c.ws, group)
	}
	return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "look up by exactly one of ?user=EMAIL or ?group=NAME",
		Details: []codexgov.Detail{{Field: "?user", Message: "give either user or group, not both or neither"}}}
}

// CreateAPIKey is the body of POST …/api-keys.
type CreateAPIKey struct {
	Name   string           `json:"name"`
	Scopes []codexgov.Scope `json:"scopes"`
	// ExpiresIn is a Go duration ("2160h"); empty or "never" for a key
	// that does not expire.
	ExpiresIn string `json:"expires_in,omitempty"`
}

func (s *Server) listAPIKeys(c *call) (any, error) { return s.store.APIKeys(c.ctx, c.ws) }

func (s *Server) createAPIKey(c *call) (any, error) {
	var in CreateAPIKey
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	// No key mints a key stronger than itself.
	for i, sc := range in.Scopes {
		if !codexgov.Allows(c.p.Key.Scopes, sc) {
			return nil, &codexgov.Error{Code: codexgov.EFORBIDDEN, Message: "a key cannot grant a scope it does not hold",
				Details: []codexgov.Detail{{Field: "/scopes/" + strconv.Itoa(i), Message: "the calling key lacks " + string(sc)}}}
		}
	}
	expires, err := codexgov.APIKeyLifetime.ExpiresAt("/expires_in", in.ExpiresIn, s.now())
	if err != nil {
		return nil, err
	}
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	return mutate(c, func() (*codexgov.APIKey, error) {
		k, err := s.store.CreateAPIKey(c.ctx, codexgov.APIKey{ID: id, Workspace: c.ws, Name: in.Name, Scopes: in.Scopes, Hash: hash, ExpiresAt: expires})
		if err != nil {
			return nil, err
		}
		k.Secret = secret
		return k, nil
	})
}

func (s *Server) revokeAPIKey(c *call) (any, error) {
	return mutate(c, func() (*codexgov.APIKey, error) { return s.store.RevokeAPIKey(c.ctx, c.ws, c.path("id")) })
}

// CreateAccessToken is the body of POST …/access-tokens.
type CreateAccessToken struct {
	User string `json:"user"`
	Name string `json:"name"`
	// ExpiresIn is a Go duration ("720h"); 90 days when empty, at most
	// 366 days.
	ExpiresIn string `json:"expires_in"`
}

func (s *Server) listAccessTokens(c *call) (any, error) { return s.store.AccessTokens(c.ctx, c.ws) }

func (s *Server) createAccessToken(c *call) (any, error) {
	var in CreateAccessToken
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.AccessToken, error) { return s.issueAccessToken(c.ctx, c.ws, in) })
}

// issueAccessToken makes an access token for a user who may hold one; its
// Secret is set only here (the API and the console).
func (s *Server) issueAccessToken(ctx context.Context, ws string, in CreateAccessToken) (*codexgov.AccessToken, error) {
	expires, err := codexgov.AccessTokenLifetime.ExpiresAt("/expires_in", in.ExpiresIn, s.now())
	if err != nil {
		return nil, err
	}
	if _, err := s.store.User(ctx, ws, in.User); err != nil {
		return nil, err
	}
	if d := s.snap.Load().CanHoldAccessToken(ws, in.User); !d.Allowed {
		return nil, &codexgov.Error{Code: codexgov.ECONFLICT, Message: "this user cannot hold an access token",
			Details: []codexgov.Detail{{Field: "/user", Message: d.Reason}}}
	}
	secret, id, hash := codexgov.NewSecret(codexgov.AccessTokenPrefix)
	t, err := s.store.CreateAccessToken(ctx, codexgov.AccessToken{ID: id, Workspace: ws, User: in.User, Name: in.Name, Hash: hash, ExpiresAt: expires})
	if err != nil {
		return nil, err
	}
	t.Secret = secret
	return t, nil
}

func (s *Server) revokeAccessToken(c *call) (any, error) {
	return mutate(c, func() (*codexgov.AccessToken, error) {
		return s.store.RevokeAccessToken(c.ctx, c.ws, c.path("id"))
	})
}

func (s *Server) auditEvents(c *call) (any, error) {
	before, _, err := queryIntBits(c, "before", 64)
	if err != nil {
		return nil, err
	}
	limit, ok, err := queryInt(c, "limit")
	if err != nil {
		return nil, err
	}
	if !ok {
		limit = 100
	}
	if limit > 1000 {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter", Details: []codexgov.Detail{{Field: "?limit", Message: "at most 1000"}}}
	}
	evs, err := s.store.AuditEvents(c.ctx, c.ws, codexgov.AuditFilter{Before: before, Limit: limit})
	if err != nil {
		return nil, err
	}
	p := codexgov.AuditPage{Events: evs}
	if len(evs) == limit {
		p.Next = evs[len(evs)-1].ID
	}
	return p, nil
}

func (s *Server) telemetryEvents(c *call) (any, error) {
	q := c.r.URL.Query()
	f := codexgov.TelemetryFilter{Identity: q.Get("identity"), Session: q.Get("session"), Type: q.Get("type")}
	var err error
	if f.Identity, f.Since, f.Until, err = telemetryQuery(q, f.Identity); err != nil {
		return nil, err
	}
	evs, err := s.store.TelemetryEvents(c.ctx, c.ws, f)
	if evs == nil && err == nil {
		evs = []*codexgov.TelemetryEvent{}
	}
	return evs, err
}

// telemetryQuery reads the ?user (an email: identity user:EMAIL), ?since
// and ?until filters the telemetry routes share.
func telemetryQuery(q url.Values, identity string) (string, time.Time, time.Time, error) {
	if u := q.Get("user"); u != "" {
		email, err := codexgov.NormalizeEmail("?user", u)
		if err != nil {
			return "", time.Time{}, time.Time{}, err
		}
		identity = "user:" + email
	}
	var since, until time.Time
	for _, t := range []struct {
		name string
		into *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(t.name); v != "" {
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", time.Time{}, time.Time{}, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
					Details: []codexgov.Detail{{Field: "?" + t.name, Message: "want an RFC 3339 time such as 2026-12-03T09:00:00Z, got " + strconv.Quote(v)}}}
			}
			*t.into = at
		}
	}
	return identity, since, until, nil
}

// telemetryActivity summarises the workspace's Codex sessions.
func (s *Server) telemetryActivity(c *call) (any, error) {
	var f codexgov.ActivityFilter
	var err error
	if f.Identity, f.Since, f.Until, err = telemetryQuery(c.r.URL.Query(), c.r.URL.Query().Get("identity")); err != nil {
		return nil, err
	}
	return s.store.TelemetryActivity(c.ctx, c.ws, f)
}

func (s *Server) telemetryMetrics(c *call) (any, error) {
	day := c.r.URL.Query().Get("day")
	if day == "" {
		day = s.now().UTC().Format("2006-01-02")
	}
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
			Details: []codexgov.Detail{{Field: "?day", Message: "want a day such as 2026-12-03, got " + strconv.Quote(day)}}}
	}
	ms, err := s.store.TelemetryMetrics(c.ctx, c.ws, day)
	if ms == nil && err == nil {
		ms = []*codexgov.TelemetryMetric{}
	}
	return ms, err
}

func (s *Server) telemetrySpans(c *call) (any, error) {
	sp, err := s.store.TelemetrySpans(c.ctx, c.ws, strings.ToLower(c.path("trace")))
	if sp == nil && err == nil {
		sp = []*codexgov.TelemetrySpan{}
	}
	return sp, err
}

func (s *Server) listSigningKeys(c *call) (any, error) { return s.store.SigningKeys(c.ctx) }

func (s *Server) rotateSigningKey(c *call) (any, error) {
	// The route takes no body: one sent is a client that means something
	// else (a key of its own, say), refused rather than ignored.
	if b, err := io.ReadAll(io.LimitReader(c.r.Body, 1024)); err != nil || len(bytes.TrimSpace(b)) > 0 {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid request body",
			Details: []codexgov.Detail{{Field: "", Message: "this route takes no body: the server generates the key"}}}
	}
	return mutate(c, func() (*codexgov.SigningKey, error) {
		return s.store.AddSigningKey(c.ctx, signing.NewSigningKey(s.master, s.now()))
	})
}

// retireSigningKey stops publishing a key, unless sync machines trust it
// alone (they would refuse every policy once it is gone); ?force=true
// retires it anyway.
func (s *Server) retireSigningKey(c *call) (any, error) {
	kid := c.path("kid")
	if c.r.URL.Query().Get("force") != "true" {
		keys, err := s.store.SigningKeys(c.ctx)
		if err != nil {
			return nil, err
		}
		wss, err := s.store.Workspaces(c.ctx)
		if err != nil {
			return nil, err
		}
		var machines []*codexgov.SyncMachine
		for _, w := range wss {
			ms, err := s.store.SyncMachines(c.ctx, w.ID)
			if err != nil {
				return nil, err
			}
			machines = append(machines, ms...)
		}
		if blockers := codexgov.RetireBlockers(kid, keys, machines); len(blockers) > 0 {
			e := &codexgov.Error{Code: codexgov.ECONFLICT, Message: fmt.Sprintf("%d sync machine(s) may trust only key %s: retiring it now would make them refuse every policy. Wait until they have synced a policy signed by the active key, or retire with force", len(blockers), kid)}
			for i, b := range blockers {
				if i == 20 {
					e.Details = append(e.Details, codexgov.Detail{Message: fmt.Sprintf("and %d more", len(blockers)-20)})
					break
				}
				e.Details = append(e.Details, codexgov.Detail{Message: b})
			}
			return nil, e
		}
	}
	return mutate(c, func() (*codexgov.SigningKey, error) { return s.store.RetireSigningKey(c.ctx, kid) })
}

func (s *Server) installOAuth(c *call) (any, error) { return s.bootstrap(c.ws, "oauth") }

// CreateEnrollmentToken is the body of POST …/enrollment-tokens.
type CreateEnrollmentToken struct {
	Name string `json:"name"`
	// User owns the token, or Service names a service identity with
	// Groups.
	User    string   `json:"user,omitempty"`
	Service string   `json:"service,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	// ExpiresIn is a Go duration ("8760h"); a year when empty; "never" for
	// a token that does not expire.
	ExpiresIn string `json:"expires_in,omitempty"`
}

func (s *Server) listEnrollmentTokens(c *call) (any, error) {
	return s.store.EnrollmentTokens(c.ctx, c.ws)
}

func (s *Server) createEnrollmentToken(c *call) (any, error) {
	var in CreateEnrollmentToken
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return mutate(c, func() (*codexgov.EnrollmentToken, error) { return s.issueEnrollmentToken(c.ctx, c.ws, in) })
}

// issueEnrollmentToken makes an enrollment token; its Secret is set only
// here (the API and the console).
func (s *Server) issueEnrollmentToken(ctx context.Context, ws string, in CreateEnrollmentToken) (*codexgov.EnrollmentToken, error) {
	expires, err := codexgov.EnrollmentTokenLifetime.ExpiresAt("/expires_in", in.ExpiresIn, s.now())
	if err != nil {
		return nil, err
	}
	secret, id, hash := codexgov.NewSecret(codexgov.EnrollmentTokenPrefix)
	t, err := s.store.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: id, Workspace: ws, Name: in.Name, User: in.User, Service: in.Service,
		Groups: in.Groups, Hash: hash, ExpiresAt: expires})
	if err != nil {
		return nil, err
	}
	t.Secret = secret
	return t, nil
}

func (s *Server) revokeEnrollmentToken(c *call) (any, error) {
	return mutate(c, func() (*codexgov.EnrollmentToken, error) {
		return s.store.RevokeEnrollmentToken(c.ctx, c.ws, c.path("id"))
	})
}

func (s *Server) listOAuthGrants(c *call) (any, error) { return s.store.OAuthGrants(c.ctx, c.ws) }

func (s *Server) revokeOAuthGrant(c *call) (any, error) {
	return mutate(c, func() (*codexgov.OAuthGrant, error) { return s.store.RevokeOAuthGrant(c.ctx, c.ws, c.path("id")) })
}

// DefaultStaleAfter is the devices list's default threshold.
const DefaultStaleAfter = 72 * time.Hour

func (s *Server) listDevices(c *call) (any, error) {
	q := c.r.URL.Query()
	stale := DefaultStaleAfter
	if v := q.Get("stale_after"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
				Details: []codexgov.Detail{{Field: "?stale_after", Message: "want a duration such as \"24h\", above zero"}}}
		}
		stale = d
	}
	drifted := false
	switch q.Get("drifted") {
	case "", "false":
	case "true":
		drifted = true
	default:
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
			Details: []codexgov.Detail{{Field: "?drifted", Message: "want true or false"}}}
	}
	ds, err := s.devices(c, stale, q.Get("identity"))
	if err != nil {
		return nil, err
	}
	if drifted {
		ds = slices.DeleteFunc(ds, func(d codexgov.DeviceStatus) bool { return d.State == codexgov.DeviceCurrent })
	}
	return ds, nil
}

// devices joins the recorded deliveries with the live devices (enrollment
// tokens and sign-ins, including those that never fetched) and what each
// should have now.
func (s *Server) devices(c *call, staleAfter time.Duration, identity string) ([]codexgov.DeviceStatus, error) {
	return s.devicesOf(c.ctx, c.ws, staleAfter, identity)
}

func (s *Server) devicesOf(ctx context.Context, ws string, staleAfter time.Duration, identity string) ([]codexgov.DeviceStatus, error) {
	// The recorder's pending fetches belong in the answer.
	if err := s.recorder.Flush(ctx); err != nil {
		s.log.Warn("devices: flushing fetch records failed", "err", err)
	}
	recorded, err := s.store.Deliveries(ctx, ws)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.OAuthGrants(ctx, ws)
	if err != nil {
		return nil, err
	}
	machines, err := s.store.SyncMachines(ctx, ws)
	if err != nil {
		return nil, err
	}
	snap := s.snap.Load()
	return codexgov.JoinDevices(codexgov.DeviceSources{Workspace: ws, Recorded: recorded, Enrollment: snap.EnrollmentTokens(ws), Grants: grants,
		Machines: machines, CLIClientID: configserver.CLIClientID, Target: snap.Target, SyncTarget: snap.SyncTarget,
		Identity: identity, Now: s.now(), StaleAfter: staleAfter}), nil
}

// PutIdentityProvider is the body of PUT …/identity-providers/{idp}.
type PutIdentityProvider struct {
	DisplayName string `json:"display_name,omitempty"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	// ClientSecret is required when creating; empty on a replace keeps
	// the stored one. It is stored encrypted and never returned.
	ClientSecret  string `json:"client_secret,omitempty"`
	AllowedDomain string `json:"allowed_domain"`
	GroupsClaim   string `json:"groups_claim,omitempty"`
}

func (s *Server) listIdentityProviders(c *call) (any, error) {
	return s.store.IdentityProviders(c.ctx, c.ws)
}

func (s *Server) getIdentityProvider(c *call) (any, error) {
	return s.store.IdentityProvider(c.ctx, c.ws, c.path("idp"))
}

func (s *Server) putIdentityProvider(c *call) (any, error) {
	var in PutIdentityProvider
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	name := c.path("idp")
	p := codexgov.IdentityProvider{Name: name, Workspace: c.ws, DisplayName: in.DisplayName, Issuer: in.Issuer, ClientID: in.ClientID,
		AllowedDomain: in.AllowedDomain, GroupsClaim: in.GroupsClaim}
	if in.ClientSecret != "" {
		p.ClientSecretEnc = s.keys.SealSecret(idpSecretLabel(c.ws, name), in.ClientSecret)
	}
	return mutate(c, func() (*codexgov.IdentityProvider, error) { return s.store.PutIdentityProvider(c.ctx, p) })
}

func (s *Server) deleteIdentityProvider(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteIdentityProvider(c.ctx, c.ws, c.path("idp")) })
}

// mintTelemetryToken mints a user's telemetry token for a per-user
// delivery that does not fetch from codexgov (an MDM profile). The token
// is self-contained; the mint is audited.
func (s *Server) mintTelemetryToken(c *call) (any, error) {
	var in codexgov.TelemetryTokenMint
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if len(in.Device) > 200 || strings.ContainsFunc(in.Device, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid device", Details: []codexgov.Detail{{Field: "/device", Message: "a machine name of at most 200 printable characters"}}}
	}
	if s.telemetryURL == "" {
		return nil, codexgov.Errorf(codexgov.ECONFLICT, "this server does not know the URL machines reach it at, so it cannot write the [otel] block: start it with --public-url")
	}
	if err := s.store.MintTelemetryToken(c.ctx, c.ws, in); err != nil {
		return nil, err
	}
	email, _ := codexgov.NormalizeEmail("/user", in.User)
	snap := s.snap.Load()
	who := snapshot.TelemetrySender{Workspace: c.ws, Identity: "user:" + email, Device: in.Device}
	block := snap.OtelBlock(who)
	if block == "" {
		return nil, codexgov.Errorf(codexgov.ECONFLICT, "workspace %q has telemetry off: turn it on first", c.ws)
	}
	return codexgov.TelemetryToken{Token: telemetry.MintToken(s.keys.TelemetryMAC, telemetry.TokenClaims{Workspace: c.ws, Identity: who.Identity, Device: in.Device}),
		Identity: who.Identity, Device: in.Device, Otel: block}, nil
}

func (s *Server) listLegalHolds(c *call) (any, error) { return s.store.LegalHolds(c.ctx, c.ws) }

func (s *Server) createLegalHold(c *call) (any, error) {
	var in codexgov.LegalHoldInput
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	return s.store.CreateLegalHold(c.ctx, c.ws, in)
}

func (s *Server) releaseLegalHold(c *call) (any, error) {
	return mutate(c, func() (*codexgov.LegalHold, error) { return s.store.ReleaseLegalHold(c.ctx, c.ws, c.path("hold")) })
}

// SIEM sinks: delivered by RunSinks (compliance_handlers.go).

func (s *Server) createSink(c *call) (any, error) {
	var in codexgov.SinkInput
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var enc []byte
	if in.Secret != "" {
		enc = s.keys.SealSecret(sinkAAD(c.ws, in.Name), in.Secret)
	}
	return s.store.CreateSink(c.ctx, c.ws, in, enc)
}

func (s *Server) listSinks(c *call) (any, error) { return s.sinksWithLag(c.ctx, c.ws) }

// sinksWithLag lists a workspace's SIEM sinks with how far each is behind.
func (s *Server) sinksWithLag(ctx context.Context, ws string) ([]*codexgov.ComplianceSink, error) {
	sinks, err := s.store.Sinks(ctx, ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, k := range sinks {
		lag := &codexgov.SinkLag{}
		for _, t := range k.EventTypes {
			n, oldest, err := s.store.SinkLag(ctx, ws, t, k.Cursor[t])
			if err != nil {
				return nil, err
			}
			lag.Records += n
			if n > 0 && (lag.Oldest.IsZero() || oldest.Before(lag.Oldest)) {
				lag.Oldest = oldest
			}
		}
		if !lag.Oldest.IsZero() {
			lag.Seconds = max(0, now.Sub(lag.Oldest).Seconds())
		}
		k.Lag = lag
	}
	return sinks, nil
}

func (s *Server) deleteSink(c *call) (any, error) {
	return s.store.DeleteSink(c.ctx, c.ws, c.path("sink"))
}

func (s *Server) rewindSink(c *call) (any, error) {
	return s.store.RewindSink(c.ctx, c.ws, c.path("sink"))
}

func (s *Server) sinkDeadLetters(c *call) (any, error) {
	return s.store.DeadLetters(c.ctx, c.ws, c.path("sink"))
}

// rebuildAnalytics recomputes the usage rollups, with a deadline of its
// own: it reads every raw event from the week on.
func (s *Server) rebuildAnalytics(c *call) (any, error) {
	var in codexgov.AnalyticsRebuild
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	since, err := time.Parse(time.DateOnly, in.Since)
	if err != nil {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid since", Details: []codexgov.Detail{{Field: "/since", Message: "want a date, YYYY-MM-DD (UTC), got " + strconv.Quote(in.Since)}}}
	}
	if since.After(s.now()) {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid since", Details: []codexgov.Detail{{Field: "/since", Message: "since is in the future"}}}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Minute)
	defer cancel()
	http.NewResponseController(c.w).SetWriteDeadline(time.Now().Add(11 * time.Minute))
	n, err := s.store.RebuildAnalytics(ctx, c.ws, since)
	if err != nil {
		return nil, err
	}
	from := since.AddDate(0, 0, -((int(since.Weekday()) + 6) % 7)).Format(time.DateOnly)
	return codexgov.AnalyticsRebuilt{From: from, Events: n}, nil
}

// putGitHubIntegration sets the workspace's GitHub webhook for code-review
// analytics; the secret is sealed.
func (s *Server) putGitHubIntegration(c *call) (any, error) {
	var in codexgov.GitHubIntegrationInput
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if len(in.WebhookSecret) < 20 || len(in.WebhookSecret) > 1024 {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid webhook_secret", Details: []codexgov.Detail{{Field: "/webhook_secret", Message: "the secret GitHub signs deliveries with: 20 to 1024 characters (for example: openssl rand -hex 32)"}}}
	}
	api := in.APIURL
	if api == "" {
		api = "https://api.github.com"
	}
	if u, err := url.Parse(api); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()))) {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid api_url", Details: []codexgov.Detail{{Field: "/api_url", Message: "GitHub's REST API: https://api.github.com, or an Enterprise Server's https://HOST/api/v3 (http only to a loopback address)"}}}
	}
	var token []byte
	if in.Token != "" {
		token = s.keys.SealSecret(githubTokenAAD(c.ws), in.Token)
	}
	return s.store.PutGitHubIntegration(c.ctx, c.ws, in.Reviewers, s.keys.SealSecret(githubAAD(c.ws), in.WebhookSecret), api, token)
}

func (s *Server) getGitHubIntegration(c *call) (any, error) {
	return s.store.GitHubIntegration(c.ctx, c.ws)
}

// pollReactions is POST …/github/poll: read the reactions now.
func (s *Server) pollReactions(c *call) (any, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Minute)
	defer cancel()
	n, err := s.PollReactions(ctx, c.ws, 5000)
	if err != nil {
		return nil, err
	}
	return map[string]int{"comments_read": n}, nil
}

// PutGateway is the body of PUT …/gateway.
type PutGateway struct {
	BaseURL string `json:"base_url"`
	// APIKey is the upstream's key: required when creating, empty on a
	// replace keeps the stored one. It is sealed and never returned.
	APIKey  string `json:"api_key,omitempty"`
	Route   bool   `json:"route_model_traffic"`
	Capture string `json:"capture,omitempty"`
	// Models are the models allowed per group ("*": everyone in no listed
	// group); empty restricts nobody.
	Models map[string][]string `json:"allowed_models,omitempty"`
}

func (s *Server) getGateway(c *call) (any, error) { return s.store.Gateway(c.ctx, c.ws) }

func (s *Server) putGateway(c *call) (any, error) {
	var in PutGateway
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	g := codexgov.Gateway{Workspace: c.ws, BaseURL: strings.TrimRight(in.BaseURL, "/"), Route: in.Route, Capture: in.Capture, Models: in.Models}
	if in.APIKey != "" {
		g.KeyEnc = s.keys.SealSecret(gatewayKeyLabel(c.ws), in.APIKey)
	}
	return mutate(c, func() (*codexgov.Gateway, error) { return s.store.PutGateway(c.ctx, g) })
}

func (s *Server) deleteGateway(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteGateway(c.ctx, c.ws) })
}

// mintGatewayToken mints an active user's gateway token (for an MDM
// profile, or a test); the mint is audited.
func (s *Server) mintGatewayToken(c *call) (any, error) {
	var in codexgov.TelemetryTokenMint
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if len(in.Device) > 200 || strings.ContainsFunc(in.Device, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid device", Details: []codexgov.Detail{{Field: "/device", Message: "a machine name of at most 200 printable characters"}}}
	}
	if err := s.store.MintGatewayToken(c.ctx, c.ws, in); err != nil {
		return nil, err
	}
	email, _ := codexgov.NormalizeEmail("/user", in.User)
	claims := telemetry.TokenClaims{Workspace: c.ws, Identity: "user:" + email, Device: in.Device}
	return codexgov.GatewayToken{Token: telemetry.MintTokenAs(codexgov.GatewayTokenPrefix, s.keys.GatewayMAC, claims), Identity: claims.Identity, Device: in.Device}, nil
}

func (s *Server) listGatewayRequests(c *call) (any, error) {
	q := c.r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := codexgov.GatewayFilter{Session: q.Get("session"), Limit: limit}
	if u := q.Get("user"); u != "" {
		f.Identity = "user:" + strings.ToLower(u)
	}
	return s.store.GatewayRecords(c.ctx, c.ws, f)
}

func (s *Server) listGatewayBudgets(c *call) (any, error) {
	return s.store.GatewayBudgets(c.ctx, c.ws, s.now())
}

func (s *Server) putGatewayBudget(c *call) (any, error) {
	var in codexgov.GatewayBudget
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	in.Workspace = c.ws
	return mutate(c, func() (*codexgov.GatewayBudget, error) { return s.store.PutGatewayBudget(c.ctx, in) })
}

func (s *Server) deleteGatewayBudget(c *call) (any, error) {
	return mutate(c, func() (any, error) { return nil, s.store.DeleteGatewayBudget(c.ctx, c.ws, c.path("budget")) })
}

func (s *Server) gatewayRepositories(c *call) (any, error) {
	q := c.r.URL.Query()
	today := s.now().UTC().Truncate(24 * time.Hour)
	end, start := today.AddDate(0, 0, 1), today.AddDate(0, 0, -29)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start", &start}, {"end", &end}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid window", Details: []codexgov.Detail{{Field: p.name, Message: fmt.Sprintf("%q: want a date, YYYY-MM-DD", v)}}}
			}
			*p.t = t
		}
	}
	lookback := 90
	if w, ok := s.snap.Load().Workspace(c.ws); ok {
		lookback = w.Settings.Lookback()
	}
	if !start.Before(end) || end.Sub(start) > time.Duration(lookback)*24*time.Hour {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid window", Details: []codexgov.Detail{{Field: "start", Message: fmt.Sprintf("want start before end, at most %d days apart (the analytics lookback)", lookback)}}}
	}
	return s.store.GatewayRepositories(c.ctx, c.ws, start.Format(time.DateOnly), end.Format(time.DateOnly))
}
