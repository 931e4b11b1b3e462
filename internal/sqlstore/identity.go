package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// PutIdentityProvider creates or replaces a workspace's upstream OIDC
// provider. The client secret arrives sealed (ClientSecretEnc); an empty
// one on a replace keeps the stored secret.
func (s *DB) PutIdentityProvider(ctx context.Context, p codexgov.IdentityProvider) (*codexgov.IdentityProvider, error) {
	if err := codexgov.CheckName("/name", p.Name); err != nil {
		return nil, err
	}
	u, err := url.Parse(p.Issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
		return nil, invalid("/issuer", "%q is not an issuer URL: want the https:// URL the provider's /.well-known/openid-configuration lives under", p.Issuer)
	case strings.TrimSpace(p.ClientID) == "":
		return nil, invalid("/client_id", "the client id the provider issued for codexgov is required")
	case p.AllowedDomain == "" || strings.ContainsAny(p.AllowedDomain, "@/ ") || !strings.Contains(p.AllowedDomain, "."):
		return nil, invalid("/allowed_domain", "%q is not an email domain: want the domain whose people may sign in, such as example.com", p.AllowedDomain)
	}
	p.AllowedDomain = strings.ToLower(p.AllowedDomain)
	now := fromMicros(s.now())
	var after *codexgov.IdentityProvider
	err = s.change(ctx, p.Workspace, "identity_provider.put", "identity_provider:"+p.Name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, p.Workspace); err != nil {
			return nil, nil, err
		}
		before, err := identityProvider(ctx, tx, p.Workspace, p.Name)
		if err != nil && codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			return nil, nil, err
		}
		a := p
		a.ClientSecret, a.UpdatedAt, a.CreatedAt = "", now, now
		if before != nil {
			a.CreatedAt = before.CreatedAt
			if len(a.ClientSecretEnc) == 0 {
				a.ClientSecretEnc = before.ClientSecretEnc
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM identity_providers WHERE workspace_id = $1 AND name = $2`, p.Workspace, p.Name)
			if err != nil {
				return nil, nil, err
			}
		}
		if len(a.ClientSecretEnc) == 0 {
			return nil, nil, invalid("/client_secret", "the client secret the provider issued for codexgov is required")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO identity_providers (workspace_id, name, display_name, issuer, client_id, client_secret_enc, allowed_domain, groups_claim, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.Workspace, a.Name, a.DisplayName, a.Issuer, a.ClientID, base64.StdEncoding.EncodeToString(a.ClientSecretEnc), a.AllowedDomain, a.GroupsClaim, a.CreatedAt.UnixMicro(), a.UpdatedAt.UnixMicro())
		after = &a
		if before == nil {
			return nil, after, err
		}
		return before, after, err
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

const idpColumns = `workspace_id, name, display_name, issuer, client_id, client_secret_enc, allowed_domain, groups_claim, created_at, updated_at`

func scanIdentityProvider(row interface{ Scan(...any) error }) (*codexgov.IdentityProvider, error) {
	var p codexgov.IdentityProvider
	var enc string
	var created, updated int64
	if err := row.Scan(&p.Workspace, &p.Name, &p.DisplayName, &p.Issuer, &p.ClientID, &enc, &p.AllowedDomain, &p.GroupsClaim, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.ClientSecretEnc, err = base64.StdEncoding.DecodeString(enc); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

func identityProvider(ctx context.Context, q queryer, ws, name string) (*codexgov.IdentityProvider, error) {
	p, err := scanIdentityProvider(q.QueryRowContext(ctx, `SELECT `+idpColumns+` FROM identity_providers WHERE workspace_id = $1 AND name = $2`, ws, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("identity provider %q not found", name)
	}
	return p, err
}

// IdentityProvider returns one provider, its secret still sealed.
func (s *DB) IdentityProvider(ctx context.Context, ws, name string) (*codexgov.IdentityProvider, error) {
	return inWorkspace(ctx, s, "identity provider", ws, func(q queryer) (*codexgov.IdentityProvider, error) { return identityProvider(ctx, q, ws, name) })
}

// IdentityProviders lists a workspace's providers by name.
func (s *DB) IdentityProviders(ctx context.Context, ws string) ([]*codexgov.IdentityProvider, error) {
	return inWorkspace(ctx, s, "identity providers", ws, func(q queryer) ([]*codexgov.IdentityProvider, error) {
		rows, err := q.QueryContext(ctx, `SELECT `+idpColumns+` FROM identity_providers WHERE workspace_id = $1 ORDER BY name`, ws)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []*codexgov.IdentityProvider{}
		for rows.Next() {
			p, err := scanIdentityProvider(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, rows.Err()
	})
}

// DeleteIdentityProvider removes a provider: its sign-ins stop at once.
func (s *DB) DeleteIdentityProvider(ctx context.Context, ws, name string) error {
	return s.change(ctx, ws, "identity_provider.delete", "identity_provider:"+name, func(tx *sql.Tx) (any, any, error) {
		before, err := identityProvider(ctx, tx, ws, name)
		if err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM identity_providers WHERE workspace_id = $1 AND name = $2`, ws, name)
		return before, nil, err
	})
}

// MaxPendingDeviceAuthorizations bounds the device sign-ins waiting for
// approval in one workspace (and in the workspace-less bucket): what an
// unauthenticated caller can make the server keep.
const MaxPendingDeviceAuthorizations = 500

// CreateDeviceAuthorization stores a pending device authorization, unless
// its workspace already has MaxPendingDeviceAuthorizations unexpired ones
// (codexgov.ETOOMANY), and sweeps the ones that expired a day ago.
func (s *DB) CreateDeviceAuthorization(ctx context.Context, d codexgov.DeviceAuthorization) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM device_authorizations WHERE expires_at < $1`, now-int64(24*time.Hour/time.Microsecond)); err != nil {
		return dbError("device authorization", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO device_authorizations (device_hash, user_code, client_id, scope, workspace_id, email, status, interval_ms, user_agent, created_at, expires_at)
		SELECT $1, $2, $3, $4, $5, '', $6, $7, $8, $9, $10
		WHERE (SELECT count(*) FROM device_authorizations WHERE workspace_id = $5 AND status = $6 AND expires_at > $9) < $11`,
		d.DeviceHash, d.UserCode, d.ClientID, d.Scope, d.Workspace, string(codexgov.DeviceAuthPending), d.Interval.Milliseconds(), d.UserAgent, now, d.ExpiresAt.UnixMicro(), MaxPendingDeviceAuthorizations)
	if err != nil {
		return dbError("device authorization", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbError("device authorization", err)
	} else if n == 0 {
		return codexgov.Errorf(codexgov.ETOOMANY, "%d device sign-ins are already waiting for approval here; try again once some are approved or expire", MaxPendingDeviceAuthorizations)
	}
	return nil
}

const deviceColumns = `device_hash, user_code, client_id, scope, workspace_id, email, status, interval_ms, user_agent, created_at, expires_at, last_poll_at`

func scanDevice(row interface{ Scan(...any) error }) (*codexgov.DeviceAuthorization, error) {
	var d codexgov.DeviceAuthorization
	var status string
	var interval, created, expires, polled int64
	if err := row.Scan(&d.DeviceHash, &d.UserCode, &d.ClientID, &d.Scope, &d.Workspace, &d.User, &status, &interval, &d.UserAgent, &created, &expires, &polled); err != nil {
		return nil, err
	}
	d.Status, d.Interval = codexgov.DeviceAuthStatus(status), time.Duration(interval)*time.Millisecond
	d.CreatedAt, d.ExpiresAt, d.LastPoll = fromMicros(created), fromMicros(expires), fromMicros(polled)
	return &d, nil
}

func deviceWhere(ctx context.Context, q queryer, column, value string) (*codexgov.DeviceAuthorization, error) {
	d, err := scanDevice(q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM device_authorizations WHERE `+column+` = $1`, value))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no device sign-in has the code %s; check the code the device shows", value)
	}
	return d, err
}

// DeviceAuthorization finds an authorization by its user code.
func (s *DB) DeviceAuthorization(ctx context.Context, userCode string) (*codexgov.DeviceAuthorization, error) {
	d, err := deviceWhere(ctx, s.db, "user_code", userCode)
	return d, dbError("device authorization", err)
}

// DecideDeviceAuthorization approves or denies a pending, unexpired
// authorization for a user of ws, audited in ws.
func (s *DB) DecideDeviceAuthorization(ctx context.Context, userCode, ws, email string, approve bool) error {
	action := "device_login.deny"
	if approve {
		action = "device_login.approve"
	}
	return s.audited(ctx, ws, action, "user:"+email, false, func(tx *sql.Tx) (any, any, error) {
		d, err := deviceWhere(ctx, tx, "user_code", userCode)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case d.Status != codexgov.DeviceAuthPending:
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "the code %s was already %s", userCode, d.Status)
		case s.now() >= d.ExpiresAt.UnixMicro():
			return nil, nil, codexgov.Errorf(codexgov.EINVALID, "the code %s expired; run codexgov login again", userCode)
		case d.Workspace != "" && d.Workspace != ws:
			return nil, nil, codexgov.Errorf(codexgov.EINVALID, "the device asked to sign in to another workspace")
		}
		status := codexgov.DeviceAuthDenied
		if approve {
			status = codexgov.DeviceAuthApproved
		}
		_, err = tx.ExecContext(ctx, `UPDATE device_authorizations SET status = $2, workspace_id = $3, email = $4 WHERE device_hash = $1`, d.DeviceHash, string(status), ws, email)
		return nil, map[string]string{"user_code": userCode, "client_id": d.ClientID, "user_agent": d.UserAgent}, err
	})
}

// PollDeviceAuthorization answers a device's token request. Each poll is
// recorded; one faster than the interval is slow_down and lengthens it.
// The first poll after approval creates the sign-in, audited; any later
// one is invalid_grant.
func (s *DB) PollDeviceAuthorization(ctx context.Context, deviceHash string, g codexgov.OAuthGrant) (*codexgov.OAuthGrant, codexgov.DevicePoll, error) {
	d, err := deviceWhere(ctx, s.db, "device_hash", deviceHash)
	if codexgov.ErrorCode(err) == codexgov.ENOTFOUND {
		return nil, 0, invalidGrant("the device code is not valid")
	}
	if err != nil {
		return nil, 0, dbError("device token", err)
	}
	now := s.now()
	switch {
	case d.Status == codexgov.DeviceAuthUsed:
		return nil, 0, invalidGrant("the device code was already used")
	case now >= d.ExpiresAt.UnixMicro():
		return nil, codexgov.PollExpired, nil
	case d.Status == codexgov.DeviceAuthDenied:
		return nil, codexgov.PollDenied, nil
	case d.Status == codexgov.DeviceAuthPending:
		interval, poll := d.Interval, codexgov.PollAuthorizationPending
		if !d.LastPoll.IsZero() && now-d.LastPoll.UnixMicro() < interval.Microseconds() {
			poll, interval = codexgov.PollSlowDown, interval+codexgov.DeviceSlowDownStep
		}
		_, err = s.db.ExecContext(ctx, `UPDATE device_authorizations SET last_poll_at = $2, interval_ms = $3 WHERE device_hash = $1`, deviceHash, now, interval.Milliseconds())
		if err != nil {
			return nil, 0, dbError("device token", err)
		}
		return nil, poll, nil
	}
	var ng *codexgov.OAuthGrant
	err = s.audited(ctx, d.Workspace, "oauth_grant.create", "oauth_grant:"+g.ID, false, func(tx *sql.Tx) (any, any, error) {
		// Only one poll turns an approval into a sign-in.
		res, err := tx.ExecContext(ctx, `UPDATE device_authorizations SET status = $2, last_poll_at = $3 WHERE device_hash = $1 AND status = $4`, deviceHash, string(codexgov.DeviceAuthUsed), now, string(codexgov.DeviceAuthApproved))
		if err != nil {
			return nil, nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, nil, invalidGrant("the device code was already used")
		}
		ng = &codexgov.OAuthGrant{ID: g.ID, Workspace: d.Workspace, User: d.User, ClientID: d.ClientID, Scope: d.Scope, UserAgent: d.UserAgent,
			CreatedAt: fromMicros(now), LastUsedAt: fromMicros(now), RefreshHash: g.RefreshHash, CodeHash: "device:" + deviceHash}
		if _, err = tx.ExecContext(ctx, `INSERT INTO oauth_grants (id, workspace_id, email, client_id, scope, resource, user_agent, code_hash, refresh_hash, previous_refresh_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, '', $9, $9)`,
			ng.ID, ng.Workspace, ng.User, ng.ClientID, ng.Scope, ng.UserAgent, ng.CodeHash, ng.RefreshHash, now); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, grant_id, issued_at) VALUES ($1, $2, $3)`, ng.RefreshHash, ng.ID, now)
		return nil, ng, err
	})
	if err != nil {
		return nil, 0, err
	}
	return ng, codexgov.PollIssued, nil
}
