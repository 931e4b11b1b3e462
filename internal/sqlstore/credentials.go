package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

func joinScopes(ss []codexgov.Scope) string {
	s := make([]string, len(ss))
	for i, v := range ss {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func splitScopes(s string) []codexgov.Scope {
	out := []codexgov.Scope{}
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, codexgov.Scope(p))
		}
	}
	return out
}

// CreateAPIKey stores an API key (its hash only).
func (s *DB) CreateAPIKey(ctx context.Context, k codexgov.APIKey) (*codexgov.APIKey, error) {
	valid := codexgov.WorkspaceScopes()
	if k.Workspace == "" {
		valid = []codexgov.Scope{codexgov.ScopeServerAdmin}
	}
	if len(k.Scopes) == 0 {
		return nil, invalid("/scopes", "an API key needs at least one scope; valid: %s", joinScopes(valid))
	}
	var scopes []codexgov.Scope
	for i, sc := range k.Scopes {
		if !slices.Contains(valid, sc) {
			return nil, invalid(fmt.Sprintf("/scopes/%d", i), "scope %q is not valid here; valid: %s", sc, joinScopes(valid))
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	slices.Sort(scopes)
	if k.Hash == "" || k.ID == "" {
		return nil, &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Err: errors.New("API key without id or hash")}
	}
	actor, _ := codexgov.ActorFrom(ctx)
	nk := &codexgov.APIKey{ID: k.ID, Workspace: k.Workspace, Name: k.Name, Scopes: scopes, Hash: k.Hash, CreatedBy: actor.ID, CreatedAt: fromMicros(s.now())}
	if !k.ExpiresAt.IsZero() {
		if !k.ExpiresAt.After(nk.CreatedAt) {
			return nil, invalid("/expires_at", "the expiry %s is not in the future", k.ExpiresAt.Format(time.RFC3339))
		}
		nk.ExpiresAt = fromMicros(k.ExpiresAt.UnixMicro())
	}
	err := s.change(ctx, k.Workspace, "api_key.create", "api_key:"+k.ID, func(tx *sql.Tx) (any, any, error) {
		if k.Workspace != "" {
			if _, err := workspace(ctx, tx, k.Workspace); err != nil {
				return nil, nil, err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, workspace_id, name, scopes, hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			nk.ID, nk.Workspace, nk.Name, joinScopes(nk.Scopes), nk.Hash, nk.CreatedBy, nk.CreatedAt.UnixMicro(), micros(nk.ExpiresAt))
		return nil, nk, err
	})
	if err != nil {
		return nil, err
	}
	return nk, nil
}

const keyColumns = `id, workspace_id, name, scopes, hash, created_by, created_at, revoked_at, expires_at, last_used_at`

func scanKey(row interface{ Scan(...any) error }) (*codexgov.APIKey, error) {
	var k codexgov.APIKey
	var scopes string
	var created, revoked, expires, used int64
	if err := row.Scan(&k.ID, &k.Workspace, &k.Name, &scopes, &k.Hash, &k.CreatedBy, &created, &revoked, &expires, &used); err != nil {
		return nil, err
	}
	k.Scopes, k.CreatedAt, k.RevokedAt = splitScopes(scopes), fromMicros(created), fromMicros(revoked)
	k.ExpiresAt, k.LastUsedAt = fromMicros(expires), fromMicros(used)
	return &k, nil
}

// micros is t in microseconds since the epoch, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// RecordCredentialUse writes when credentials were last used: API keys and
// enrollment tokens by ID. It is an observation, not an admin change: not
// audited, no state version bump, and a time never moves back.
func (s *DB) RecordCredentialUse(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("credential use", err)
	}
	defer tx.Rollback()
	for id, at := range used {
		table := "api_keys"
		if strings.HasPrefix(id, codexgov.EnrollmentIDPrefix) {
			table = "enrollment_tokens"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`, id, at.UnixMicro()); err != nil {
			return dbError("credential use", err)
		}
	}
	return dbError("credential use", tx.Commit())
}

func apiKeys(ctx context.Context, q queryer, where string, args ...any) ([]*codexgov.APIKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKeys lists a workspace's keys (revoked ones included).
func (s *DB) APIKeys(ctx context.Context, ws string) ([]*codexgov.APIKey, error) {
	return inWorkspace(ctx, s, "api keys", ws, func(q queryer) ([]*codexgov.APIKey, error) {
		return apiKeys(ctx, q, `workspace_id = $1`, ws)
	})
}

// HasServerKey reports whether a server key was ever made.
func (s *DB) HasServerKey(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE workspace_id = ''`).Scan(&n); err != nil {
		return false, dbError("server key", err)
	}
	return n > 0, nil
}

// RevokeAPIKey revokes a key; revoking it again changes nothing.
func (s *DB) RevokeAPIKey(ctx context.Context, ws, id string) (*codexgov.APIKey, error) {
	return revoke(ctx, s, ws, id, "api_key", "api_keys", "API key", apiKeys, func(k *codexgov.APIKey) *time.Time { return &k.RevokedAt })
}

// CreateAccessToken stores an access token (its hash only).
func (s *DB) CreateAccessToken(ctx context.Context, t codexgov.AccessToken) (*codexgov.AccessToken, error) {
	email, err := codexgov.NormalizeEmail("/user", t.User)
	if err != nil {
		return nil, err
	}
	if t.Hash == "" || t.ID == "" || t.ExpiresAt.IsZero() {
		return nil, &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Err: errors.New("access token without id, hash or expiry")}
	}
	actor, _ := codexgov.ActorFrom(ctx)
	nt := &codexgov.AccessToken{ID: t.ID, Workspace: t.Workspace, User: email, Name: t.Name, Hash: t.Hash, CreatedBy: actor.ID,
		CreatedAt: fromMicros(s.now()), ExpiresAt: t.ExpiresAt.UTC().Truncate(1000)}
	err = s.change(ctx, t.Workspace, "access_token.create", "access_token:"+t.ID, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, t.Workspace); err != nil {
			return nil, nil, err
		}
		if _, err := user(ctx, tx, t.Workspace, email); err != nil {
			return nil, nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (id, workspace_id, email, name, hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			nt.ID, nt.Workspace, nt.User, nt.Name, nt.Hash, nt.CreatedBy, nt.CreatedAt.UnixMicro(), nt.ExpiresAt.UnixMicro())
		return nil, nt, err
	})
	if err != nil {
		return nil, err
	}
	return nt, nil
}

const tokenColumns = `id, workspace_id, email, name, hash, created_by, created_at, expires_at, revoked_at`

func accessTokens(ctx context.Context, q queryer, where string, args ...any) ([]*codexgov.AccessToken, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM access_tokens WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.AccessToken{}
	for rows.Next() {
		var t codexgov.AccessToken
		var created, expires, revoked int64
		if err := rows.Scan(&t.ID, &t.Workspace, &t.User, &t.Name, &t.Hash, &t.CreatedBy, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// AccessTokens lists a workspace's access tokens (revoked ones included).
func (s *DB) AccessTokens(ctx context.Context, ws string) ([]*codexgov.AccessToken, error) {
	return inWorkspace(ctx, s, "access tokens", ws, func(q queryer) ([]*codexgov.AccessToken, error) {
		return accessTokens(ctx, q, `workspace_id = $1`, ws)
	})
}

// RevokeAccessToken revokes an access token.
func (s *DB) RevokeAccessToken(ctx context.Context, ws, id string) (*codexgov.AccessToken, error) {
	return revoke(ctx, s, ws, id, "access_token", "access_tokens", "access token", accessTokens, func(t *codexgov.AccessToken) *time.Time { return &t.RevokedAt })
}

// revoke marks one of a workspace's credentials revoked (kind names it in
// the audit log, table holds it, list reads it), audited; revoking it
// again changes nothing.
func revoke[T any](ctx context.Context, s *DB, ws, id, kind, table, noun string,
	list func(context.Context, queryer, string, ...any) ([]*T, error), revokedAt func(*T) *time.Time) (*T, error) {
	var after *T
	err := s.change(ctx, ws, kind+".revoke", kind+":"+id, func(tx *sql.Tx) (any, any, error) {
		rows, err := list(ctx, tx, `workspace_id = $1 AND id = $2`, ws, id)
		if err != nil {
			return nil, nil, err
		}
		if len(rows) == 0 {
			return nil, nil, notFound("%s %q not found", noun, id)
		}
		before := rows[0]
		a := *before
		after = &a
		at := revokedAt(&a)
		if !at.IsZero() {
			return nil, nil, errUnchanged
		}
		*at = fromMicros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revoked_at = $2 WHERE id = $1`, id, at.UnixMicro()); err != nil {
			return nil, nil, err
		}
		return before, after, nil
	})
	return after, noChange(err)
}

// AuditEvents lists a workspace's audit events, newest first.
func (s *DB) AuditEvents(ctx context.Context, ws string, f codexgov.AuditFilter) ([]*codexgov.AuditEvent, error) {
	if _, err := workspace(ctx, s.db, ws); err != nil {
		return nil, dbError("audit events", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	before := f.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, workspace_id, actor, action, target, before, after, request_id, created_at FROM audit_events WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, ws, before, limit)
	if err != nil {
		return nil, dbError("audit events", err)
	}
	defer rows.Close()
	out := []*codexgov.AuditEvent{}
	for rows.Next() {
		var e codexgov.AuditEvent
		var b, a string
		var created int64
		if err := rows.Scan(&e.ID, &e.Workspace, &e.Actor, &e.Action, &e.Target, &b, &a, &e.RequestID, &created); err != nil {
			return nil, dbError("audit events", err)
		}
		e.Before, e.After, e.Time = []byte(b), []byte(a), fromMicros(created)
		out = append(out, &e)
	}
	return out, dbError("audit events", rows.Err())
}

func signingKeys(ctx context.Context, q queryer, where string, args ...any) ([]*codexgov.SigningKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT kid, public_key, private_enc, active, created_at, retired_at FROM signing_keys WHERE `+where+` ORDER BY created_at, kid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.SigningKey{}
	for rows.Next() {
		var k codexgov.SigningKey
		var pub, priv string
		var created, retired int64
		if err := rows.Scan(&k.KID, &pub, &priv, &k.Active, &created, &retired); err != nil {
			return nil, err
		}
		if k.PublicKey, err = base64.StdEncoding.DecodeString(pub); err != nil {
			return nil, err
		}
		if k.PrivateEnc, err = base64.StdEncoding.DecodeString(priv); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromMicros(created), fromMicros(retired)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// SigningKeys lists every signing key, retired ones included.
func (s *DB) SigningKeys(ctx context.Context) ([]*codexgov.SigningKey, error) {
	ks, err := signingKeys(ctx, s.db, `1 = 1`)
	return ks, dbError("signing keys", err)
}

// AddSigningKey stores a key as the active one.
func (s *DB) AddSigningKey(ctx context.Context, k codexgov.SigningKey) (*codexgov.SigningKey, error) {
	nk := k
	nk.Active, nk.CreatedAt, nk.RetiredAt = true, fromMicros(s.now()), fromMicros(0)
	err := s.change(ctx, "", "signing_key.add", "signing_key:"+k.KID, func(tx *sql.Tx) (any, any, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET active = $1 WHERE active = $2`, false, true); err != nil {
			return nil, nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, public_key, private_enc, active, created_at) VALUES ($1, $2, $3, $4, $5)`,
			nk.KID, base64.StdEncoding.EncodeToString(nk.PublicKey), base64.StdEncoding.EncodeToString(nk.PrivateEnc), true, nk.CreatedAt.UnixMicro())
		return nil, &nk, err
	})
	if err != nil {
		return nil, err
	}
	return &nk, nil
}

// RetireSigningKey stops publishing a key that is no longer active.
func (s *DB) RetireSigningKey(ctx context.Context, kid string) (*codexgov.SigningKey, error) {
	var after *codexgov.SigningKey
	err := s.change(ctx, "", "signing_key.retire", "signing_key:"+kid, func(tx *sql.Tx) (any, any, error) {
		ks, err := signingKeys(ctx, tx, `kid = $1`, kid)
		if err != nil {
			return nil, nil, err
		}
		if len(ks) == 0 {
			return nil, nil, notFound("signing key %q not found", kid)
		}
		before := ks[0]
		if before.Active {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "signing key %q is the active key: rotate to a new key first", kid)
		}
		a := *before
		after = &a
		if !a.RetiredAt.IsZero() {
			return nil, nil, errUnchanged
		}
		a.RetiredAt = fromMicros(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = $2 WHERE kid = $1`, kid, a.RetiredAt.UnixMicro()); err != nil {
			return nil, nil, err
		}
		return before, after, nil
	})
	return after, noChange(err)
}

// State reads the whole distributable state in one transaction.
func (s *DB) State(ctx context.Context) (*codexgov.State, error) {
	tx, err := s.db.BeginTx(ctx, s.readOpts())
	if err != nil {
		return nil, dbError("state", err)
	}
	defer tx.Rollback()
	st, err := readState(ctx, tx, s.now(), nil)
	if err != nil {
		return nil, dbError("state", err)
	}
	return st, nil
}

// readOpts is a consistent read: PostgreSQL's repeatable read (SQLite's
// transactions are serializable already).
func (s *DB) readOpts() *sql.TxOptions {
	if s.postgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return &sql.TxOptions{}
}

// readState reads the state, or only workspace *only's part of it.
func readState(ctx context.Context, tx *sql.Tx, now int64, only *string) (*codexgov.State, error) {
	st := &codexgov.State{Users: map[string][]*codexgov.User{}, Groups: map[string][]*codexgov.Group{}, Roles: map[string][]*codexgov.Role{},
		Policies: map[string][]*codexgov.PolicyVersion{}, Assignments: map[string]*codexgov.Assignment{}, RevokedGrants: map[string][]string{},
		Gateways: map[string]*codexgov.Gateway{}, Budgeted: map[string][]string{}}
	if err := tx.QueryRowContext(ctx, `SELECT version FROM state WHERE id = 1`).Scan(&st.Version); err != nil {
		return nil, err
	}
	var err error
	where, args := "", []any{}
	if only != nil {
		w, err := workspace(ctx, tx, *only)
		if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
			return st, nil
		}
		if err != nil {
			return nil, err
		}
		st.Workspaces = []*codexgov.Workspace{w}
		where, args = ` AND workspace_id = $1`, []any{*only}
	} else if st.Workspaces, err = workspaces(ctx, tx); err != nil {
		return nil, err
	}
	for _, w := range st.Workspaces {
		if st.Users[w.ID], err = users(ctx, tx, w.ID); err != nil {
			return nil, err
		}
		if st.Groups[w.ID], err = groups(ctx, tx, w.ID); err != nil {
			return nil, err
		}
		if st.Roles[w.ID], err = roles(ctx, tx, w.ID); err != nil {
			return nil, err
		}
		if st.Policies[w.ID], err = currentPolicies(ctx, tx, w.ID); err != nil {
			return nil, err
		}
		if st.Assignments[w.ID], err = assignment(ctx, tx, w.ID); err != nil {
			return nil, err
		}
		switch g, err := gateway(ctx, tx, w.ID); {
		case err == nil:
			st.Gateways[w.ID] = g
		case codexgov.ErrorCode(err) != codexgov.ENOTFOUND:
			return nil, err
		}
		if st.Budgeted[w.ID], err = budgetSubjects(ctx, tx, w.ID); err != nil {
			return nil, err
		}
	}
	if st.APIKeys, err = apiKeys(ctx, tx, `revoked_at = 0`+where, args...); err != nil {
		return nil, err
	}
	if st.AccessTokens, err = accessTokens(ctx, tx, `revoked_at = 0`+where, args...); err != nil {
		return nil, err
	}
	if only == nil {
		if st.SigningKeys, err = signingKeys(ctx, tx, `retired_at = 0`); err != nil {
			return nil, err
		}
	}
	if st.EnrollmentTokens, err = enrollmentTokens(ctx, tx, `revoked_at = 0`+where, args...); err != nil {
		return nil, err
	}
	cutoff := now - codexgov.MaxOAuthAccessTTL.Microseconds()
	q := `SELECT workspace_id, id FROM oauth_grants WHERE revoked_at > $1 ORDER BY id`
	qargs := []any{cutoff}
	if only != nil {
		q, qargs = `SELECT workspace_id, id FROM oauth_grants WHERE revoked_at > $1 AND workspace_id = $2 ORDER BY id`, []any{cutoff, *only}
	}
	rows, err := tx.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ws, id string
		if err := rows.Scan(&ws, &id); err != nil {
			return nil, err
		}
		st.RevokedGrants[ws] = append(st.RevokedGrants[ws], id)
	}
	return st, rows.Err()
}
