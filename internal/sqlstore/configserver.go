package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// CreateEnrollmentToken stores an enrollment token (its hash only) for a
// user or a named service identity.
func (s *DB) CreateEnrollmentToken(ctx context.Context, t codexgov.EnrollmentToken) (*codexgov.EnrollmentToken, error) {
	if t.Hash == "" || t.ID == "" {
		return nil, &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Err: errors.New("enrollment token without id or hash")}
	}
	switch {
	case t.User != "" && t.Service != "":
		return nil, invalid("/service", "an enrollment token belongs to a user or to a service identity, not both")
	case t.User == "" && t.Service == "":
		return nil, invalid("/user", "an enrollment token needs an owner: a user's email, or a service identity's name")
	case t.Service == "" && len(t.Groups) > 0:
		return nil, invalid("/groups", "a user's token takes the user's own groups; groups are for service identities")
	}
	if t.User != "" {
		email, err := codexgov.NormalizeEmail("/user", t.User)
		if err != nil {
			return nil, err
		}
		t.User = email
	} else if err := codexgov.CheckName("/service", t.Service); err != nil {
		return nil, err
	}
	groups := slices.Clone(t.Groups)
	slices.Sort(groups)
	groups = slices.Compact(groups)
	actor, _ := codexgov.ActorFrom(ctx)
	nt := &codexgov.EnrollmentToken{ID: t.ID, Workspace: t.Workspace, Name: t.Name, User: t.User, Service: t.Service, Groups: groups, Hash: t.Hash,
		CreatedBy: actor.ID, CreatedAt: fromMicros(s.now()), ExpiresAt: t.ExpiresAt.UTC().Truncate(1000)}
	err := s.change(ctx, t.Workspace, "enrollment_token.create", "enrollment_token:"+t.ID, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, t.Workspace); err != nil {
			return nil, nil, err
		}
		if nt.User != "" {
			if _, err := user(ctx, tx, t.Workspace, nt.User); err != nil {
				return nil, nil, err
			}
		}
		var details []codexgov.Detail
		for i, g := range groups {
			if _, err := group(ctx, tx, t.Workspace, g); err != nil {
				details = append(details, codexgov.Detail{Field: fmt.Sprintf("/groups/%d", i), Message: fmt.Sprintf("group %q does not exist", g)})
			}
		}
		if len(details) > 0 {
			return nil, nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid enrollment token: nothing was created", Details: details}
		}
		var expires int64
		if !nt.ExpiresAt.IsZero() {
			expires = nt.ExpiresAt.UnixMicro()
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO enrollment_tokens (id, workspace_id, name, email, service, groups_list, hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			nt.ID, nt.Workspace, nt.Name, nt.User, nt.Service, strings.Join(groups, "\n"), nt.Hash, nt.CreatedBy, nt.CreatedAt.UnixMicro(), expires)
		return nil, nt, err
	})
	if err != nil {
		return nil, err
	}
	return nt, nil
}

const enrollmentColumns = `id, workspace_id, name, email, service, groups_list, hash, created_by, created_at, expires_at, revoked_at, last_used_at`

func enrollmentTokens(ctx context.Context, q queryer, where string, args ...any) ([]*codexgov.EnrollmentToken, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+enrollmentColumns+` FROM enrollment_tokens WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.EnrollmentToken{}
	for rows.Next() {
		var t codexgov.EnrollmentToken
		var groups string
		var created, expires, revoked, used int64
		if err := rows.Scan(&t.ID, &t.Workspace, &t.Name, &t.User, &t.Service, &groups, &t.Hash, &t.CreatedBy, &created, &expires, &revoked, &used); err != nil {
			return nil, err
		}
		if groups != "" {
			t.Groups = strings.Split(groups, "\n")
		}
		t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked), fromMicros(used)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// EnrollmentTokens lists a workspace's enrollment tokens (revoked ones
// included).
func (s *DB) EnrollmentTokens(ctx context.Context, ws string) ([]*codexgov.EnrollmentToken, error) {
	return inWorkspace(ctx, s, "enrollment tokens", ws, func(q queryer) ([]*codexgov.EnrollmentToken, error) {
		return enrollmentTokens(ctx, q, `workspace_id = $1`, ws)
	})
}

// RevokeEnrollmentToken revokes a token; revoking it again changes
// nothing.
func (s *DB) RevokeEnrollmentToken(ctx context.Context, ws, id string) (*codexgov.EnrollmentToken, error) {
	return revoke(ctx, s, ws, id, "enrollment_token", "enrollment_tokens", "enrollment token", enrollmentTokens, func(t *codexgov.EnrollmentToken) *time.Time { return &t.RevokedAt })
}

// CreateOAuthCode stores an authorization code. Codes are protocol state,
// not admin changes: they are not audited and the state version does not
// move. Expired codes are swept here.
func (s *DB) CreateOAuthCode(ctx context.Context, c codexgov.OAuthCode) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oauth_codes WHERE expires_at < $1`, now-int64(time.Hour/time.Microsecond)); err != nil {
		return dbError("oauth code", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO oauth_codes (hash, workspace_id, email, client_id, redirect_uri, challenge, scope, resource, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.Hash, c.Workspace, c.User, c.ClientID, c.RedirectURI, c.Challenge, c.Scope, c.Resource, c.ExpiresAt.UnixMicro())
	return dbError("oauth code", err)
}

func invalidGrant(format string, args ...any) error {
	return codexgov.Errorf(codexgov.EINVALIDGRANT, format, args...)
}

// ExchangeOAuthCode redeems an authorization code once and creates the
// grant g from it, audited as the user's sign-in. check validates the
// stored code against the token request (client, redirect URI, PKCE). A
// second redemption of a code revokes the grant its first one made (RFC
// 6749 §4.1.2) and fails.
func (s *DB) ExchangeOAuthCode(ctx context.Context, codeHash string, check func(*codexgov.OAuthCode) error, g codexgov.OAuthGrant) (*codexgov.OAuthGrant, error) {
	var ng *codexgov.OAuthGrant
	err := s.audited(ctx, g.Workspace, "oauth_grant.create", "oauth_grant:"+g.ID, false, func(tx *sql.Tx) (any, any, error) {
		var c codexgov.OAuthCode
		var expires, used int64
		err := tx.QueryRowContext(ctx, `SELECT hash, workspace_id, email, client_id, redirect_uri, challenge, scope, resource, expires_at, used_at FROM oauth_codes WHERE hash = $1`, codeHash).
			Scan(&c.Hash, &c.Workspace, &c.User, &c.ClientID, &c.RedirectURI, &c.Challenge, &c.Scope, &c.Resource, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && c.Workspace != g.Workspace) {
			return nil, nil, invalidGrant("the authorization code is not valid")
		}
		if err != nil {
			return nil, nil, err
		}
		c.ExpiresAt = fromMicros(expires)
		now := s.now()
		if used != 0 {
			return nil, nil, errCodeReused
		}
		if now >= expires {
			return nil, nil, invalidGrant("the authorization code expired")
		}
		if err := check(&c); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_codes SET used_at = $2 WHERE hash = $1`, codeHash, now); err != nil {
			return nil, nil, err
		}
		ng = &codexgov.OAuthGrant{ID: g.ID, Workspace: c.Workspace, User: c.User, ClientID: c.ClientID, Scope: c.Scope, Resource: c.Resource, UserAgent: g.UserAgent,
			CreatedAt: fromMicros(now), LastUsedAt: fromMicros(now), RefreshHash: g.RefreshHash, CodeHash: codeHash}
		if _, err = tx.ExecContext(ctx, `INSERT INTO oauth_grants (id, workspace_id, email, client_id, scope, resource, user_agent, code_hash, refresh_hash, previous_refresh_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', $10, $10)`,
			ng.ID, ng.Workspace, ng.User, ng.ClientID, ng.Scope, ng.Resource, ng.UserAgent, codeHash, ng.RefreshHash, now); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, issued_at) VALUES ($1, $2, $3)`, ng.RefreshHash, ng.ID, now)
		return nil, ng, err
	})
	if errors.Is(err, errCodeReused) {
		gs, err := oauthGrants(ctx, s.db, `code_hash = $1 AND revoked_at = 0`, codeHash)
		if err != nil {
			return nil, dbError("oauth code", err)
		}
		sys := codexgov.WithActor(ctx, codexgov.Actor{ID: "system:code_reuse"})
		for _, g := range gs {
			if _, err := s.revokeGrant(sys, g.Workspace, g.ID, "code_reuse"); err != nil {
				return nil, err
			}
		}
		return nil, invalidGrant("the authorization code was already used; the sign-in made with it is revoked")
	}
	if err != nil {
		return nil, err
	}
	return ng, nil
}

var errCodeReused = errors.New("authorization code reused")

// refreshHistory is how long rotated-out refresh tokens are remembered.
const refreshHistory = 30 * 24 * time.Hour

const grantColumns = `id, workspace_id, email, client_id, scope, resource, user_agent, code_hash, refresh_hash, previous_refresh_hash, created_at, last_used_at, rotated_at, revoked_at, revoke_reason`

func scanGrant(row interface{ Scan(...any) error }) (*codexgov.OAuthGrant, string, error) {
	var g codexgov.OAuthGrant
	var prev string
	var created, used, rotated, revoked int64
	if err := row.Scan(&g.ID, &g.Workspace, &g.User, &g.ClientID, &g.Scope, &g.Resource, &g.UserAgent, &g.CodeHash, &g.RefreshHash, &prev, &created, &used, &rotated, &revoked, &g.RevokeReason); err != nil {
		return nil, "", err
	}
	g.CreatedAt, g.LastUsedAt, g.RotatedAt, g.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(rotated), fromMicros(revoked)
	return &g, prev, nil
}

func oauthGrants(ctx context.Context, q queryer, where string, args ...any) ([]*codexgov.OAuthGrant, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.OAuthGrant{}
	for rows.Next() {
		g, _, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RefreshOAuthGrant rotates a grant's refresh token: refreshHash must be
// its current token, or its previous one within grace (a client that lost
// the response to its last refresh and retries). Any other token the grant
// was ever issued is reuse:
// the grant is revoked (audited) and the refresh fails. A grant unused for
// longer than idle has expired. Dead grants give EINVALIDGRANT; a database
// fault gives EUNAVAILABLE, which callers must report as transient.
func (s *DB) RefreshOAuthGrant(ctx context.Context, ws, refreshHash, newRefreshHash string, grace, idle time.Duration) (*codexgov.OAuthGrant, codexgov.RefreshOutcome, error) {
	var out *codexgov.OAuthGrant
	var outcome codexgov.RefreshOutcome
	var reuse *codexgov.OAuthGrant
	err := func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		g, prev, err := scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE ($1 = '' OR workspace_id = $1) AND id = (SELECT grant_id FROM oauth_refresh_tokens WHERE hash = $2)`, ws, refreshHash))
		if errors.Is(err, sql.ErrNoRows) {
			return invalidGrant("the refresh token is not valid")
		}
		if err != nil {
			return err
		}
		now := s.Now()
		switch {
		case !g.RevokedAt.IsZero():
			return invalidGrant("the sign-in was revoked (%s)", g.RevokeReason)
		case now.Sub(g.LastUsedAt) > idle:
			return invalidGrant("the sign-in expired after %s unused", idle)
		case g.RefreshHash == refreshHash:
			outcome = codexgov.RefreshRotated
			prev = refreshHash
		case prev == refreshHash && now.Sub(g.RotatedAt) <= grace:
			outcome = codexgov.RefreshGrace
		default:
			reuse = g
			return nil
		}
		g.RefreshHash, g.LastUsedAt, g.RotatedAt = newRefreshHash, now.UTC().Truncate(time.Microsecond), now.UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET refresh_hash = $2, previous_refresh_hash = $3, last_used_at = $4, rotated_at = $4 WHERE id = $1`,
			g.ID, newRefreshHash, prev, now.UnixMicro()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, issued_at) VALUES ($1, $2, $3)`, newRefreshHash, g.ID, now.UnixMicro()); err != nil {
			return err
		}
		// An hourly refresh makes thousands of tokens a year per sign-in:
		// keep a month of them for reuse detection (an older one comes
		// back as unknown, still invalid_grant), and always the current
		// and previous.
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_refresh_tokens WHERE grant_id = $1 AND issued_at < $2 AND hash <> $3 AND hash <> $4`,
			g.ID, now.Add(-refreshHistory).UnixMicro(), newRefreshHash, prev); err != nil {
			return err
		}
		out = g
		return tx.Commit()
	}()
	if err != nil {
		return nil, 0, dbError("oauth refresh", err)
	}
	if reuse != nil {
		// A rotated-out refresh token came back: someone holds a copy.
		// Revoke the whole sign-in, audited, and refuse.
		sys := codexgov.WithActor(ctx, codexgov.Actor{ID: "system:refresh_reuse"})
		if _, err := s.revokeGrant(sys, reuse.Workspace, reuse.ID, "refresh_reuse"); err != nil {
			return nil, 0, err
		}
		return nil, 0, invalidGrant("the refresh token was already used; the sign-in is revoked")
	}
	return out, outcome, nil
}

// OAuthGrants lists a workspace's sign-ins (revoked ones included).
func (s *DB) OAuthGrants(ctx context.Context, ws string) ([]*codexgov.OAuthGrant, error) {
	return inWorkspace(ctx, s, "oauth grants", ws, func(q queryer) ([]*codexgov.OAuthGrant, error) {
		return oauthGrants(ctx, q, `workspace_id = $1`, ws)
	})
}

// RevokeOAuthGrantByRefresh revokes the sign-in of a refresh token: a
// sign-out. An unknown or rotated-out token changes nothing.
func (s *DB) RevokeOAuthGrantByRefresh(ctx context.Context, refreshHash string) error {
	gs, err := oauthGrants(ctx, s.db, `refresh_hash = $1 AND revoked_at = 0`, refreshHash)
	if err != nil {
		return dbError("oauth revoke", err)
	}
	for _, g := range gs {
		if _, err := s.revokeGrant(ctx, g.Workspace, g.ID, "logout"); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
			return err
		}
	}
	return nil
}

// RevokeOAuthGrant revokes a sign-in: its refresh token stops working at
// once and its access tokens as soon as every replica has synced.
func (s *DB) RevokeOAuthGrant(ctx context.Context, ws, id string) (*codexgov.OAuthGrant, error) {
	return s.revokeGrant(ctx, ws, id, "admin")
}

func (s *DB) revokeGrant(ctx context.Context, ws, id, reason string) (*codexgov.OAuthGrant, error) {
	var after *codexgov.OAuthGrant
	err := s.change(ctx, ws, "oauth_grant.revoke", "oauth_grant:"+id, func(tx *sql.Tx) (any, any, error) {
		gs, err := oauthGrants(ctx, tx, `workspace_id = $1 AND id = $2`, ws, id)
		if err != nil {
			return nil, nil, err
		}
		if len(gs) == 0 {
			return nil, nil, notFound("sign-in %q not found", id)
		}
		before := gs[0]
		a := *before
		after = &a
		if !a.RevokedAt.IsZero() {
			return nil, nil, errUnchanged
		}
		a.RevokedAt, a.RevokeReason = fromMicros(s.now()), reason
		if _, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $2, revoke_reason = $3 WHERE id = $1`, id, a.RevokedAt.UnixMicro(), reason); err != nil {
			return nil, nil, err
		}
		return before, after, nil
	})
	return after, noChange(err)
}

// RecordDeliveries upserts devices' last fetches in one transaction. They
// are observations, not admin changes: not audited, no state version bump.
func (s *DB) RecordDeliveries(ctx context.Context, ds []codexgov.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("record deliveries", err)
	}
	defer tx.Rollback()
	for _, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (workspace_id, device, kind, identity, policy, policy_version, bundle_hash, user_agent, first_fetch, last_fetch, fetches)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (workspace_id, device) DO UPDATE SET kind = excluded.kind, identity = excluded.identity, policy = excluded.policy, policy_version = excluded.policy_version,
  bundle_hash = excluded.bundle_hash, user_agent = excluded.user_agent, last_fetch = excluded.last_fetch, fetches = deliveries.fetches + excluded.fetches`,
			d.Workspace, d.Device, d.Kind, d.Identity, d.Policy, d.PolicyVersion, d.BundleHash, d.UserAgent, d.FirstFetch.UnixMicro(), d.LastFetch.UnixMicro(), d.Fetches); err != nil {
			return dbError("record deliveries", err)
		}
	}
	return dbError("record deliveries", tx.Commit())
}

// Deliveries lists a workspace's devices by last fetch, newest first.
func (s *DB) Deliveries(ctx context.Context, ws string) ([]*codexgov.Delivery, error) {
	return inWorkspace(ctx, s, "deliveries", ws, func(q queryer) ([]*codexgov.Delivery, error) {
		rows, err := q.QueryContext(ctx, `SELECT workspace_id, device, kind, identity, policy, policy_version, bundle_hash, user_agent, first_fetch, last_fetch, fetches FROM deliveries WHERE workspace_id = $1 ORDER BY last_fetch DESC, device`, ws)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []*codexgov.Delivery{}
		for rows.Next() {
			var d codexgov.Delivery
			var first, last int64
			if err := rows.Scan(&d.Workspace, &d.Device, &d.Kind, &d.Identity, &d.Policy, &d.PolicyVersion, &d.BundleHash, &d.UserAgent, &first, &last, &d.Fetches); err != nil {
				return nil, err
			}
			d.FirstFetch, d.LastFetch = fromMicros(first), fromMicros(last)
			out = append(out, &d)
		}
		return out, rows.Err()
	})
}

// RecordSyncReport upserts a sync machine's last report. The first report
// time and the count are the store's; LastApplied keeps its value across
// runs that did not apply.
func (s *DB) RecordSyncReport(ctx context.Context, m codexgov.SyncMachine) error {
	applied := int64(0)
	if !m.LastApplied.IsZero() {
		applied = m.LastApplied.UnixMicro()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_machines (workspace_id, machine_id, identity, credential, hostname, os, arch, agent_version, codex_version,
  applied_hash, policy, policy_version, result, error, first_report, last_report, last_applied, reports, pinned_kids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, 1, $17)
ON CONFLICT (workspace_id, machine_id) DO UPDATE SET identity = excluded.identity, credential = excluded.credential, hostname = excluded.hostname,
  os = excluded.os, arch = excluded.arch, agent_version = excluded.agent_version, codex_version = excluded.codex_version,
  applied_hash = excluded.applied_hash, policy = excluded.policy, policy_version = excluded.policy_version, result = excluded.result,
  error = excluded.error, last_report = excluded.last_report,
  last_applied = CASE WHEN excluded.last_applied > 0 THEN excluded.last_applied ELSE sync_machines.last_applied END,
  reports = sync_machines.reports + 1, pinned_kids = excluded.pinned_kids`,
		m.Workspace, m.MachineID, m.Identity, m.Credential, m.Hostname, m.OS, m.Arch, m.AgentVersion, m.CodexVersion,
		m.AppliedHash, m.Policy, m.PolicyVersion, m.Result, m.Error, m.LastReport.UnixMicro(), applied, strings.Join(m.PinnedKIDs, "\n"))
	return dbError("record sync report", err)
}

// SyncMachines lists a workspace's sync machines, last report first.
func (s *DB) SyncMachines(ctx context.Context, ws string) ([]*codexgov.SyncMachine, error) {
	return inWorkspace(ctx, s, "sync machines", ws, func(q queryer) ([]*codexgov.SyncMachine, error) {
		rows, err := q.QueryContext(ctx, `SELECT workspace_id, machine_id, identity, credential, hostname, os, arch, agent_version, codex_version,
  applied_hash, policy, policy_version, result, error, first_report, last_report, last_applied, reports, pinned_kids
FROM sync_machines WHERE workspace_id = $1 ORDER BY last_report DESC, machine_id`, ws)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []*codexgov.SyncMachine{}
		for rows.Next() {
			var m codexgov.SyncMachine
			var first, last, applied int64
			var pinned string
			if err := rows.Scan(&m.Workspace, &m.MachineID, &m.Identity, &m.Credential, &m.Hostname, &m.OS, &m.Arch, &m.AgentVersion, &m.CodexVersion,
				&m.AppliedHash, &m.Policy, &m.PolicyVersion, &m.Result, &m.Error, &first, &last, &applied, &m.Reports, &pinned); err != nil {
				return nil, err
			}
			if pinned != "" {
				m.PinnedKIDs = strings.Split(pinned, "\n")
			}
			m.FirstReport, m.LastReport = fromMicros(first), fromMicros(last)
			if applied > 0 {
				m.LastApplied = fromMicros(applied)
			}
			out = append(out, &m)
		}
		return out, rows.Err()
	})
}
