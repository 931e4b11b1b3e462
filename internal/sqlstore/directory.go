package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/google/uuid"
)

var workspaceIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &codexgov.Error{Code: codexgov.EINVALID, Message: msg, Details: []codexgov.Detail{{Field: field, Message: msg}}}
}

// CreateWorkspace creates a workspace with default settings and its default
// role.
func (s *DB) CreateWorkspace(ctx context.Context, id, name string) (*codexgov.Workspace, error) {
	if !workspaceIDRE.MatchString(id) {
		return nil, invalid("/id", "%q is not a valid workspace id: use 1 to 63 lowercase letters, digits or '-', starting with a letter or digit", id)
	}
	if strings.TrimSpace(name) == "" {
		name = id
	}
	w := &codexgov.Workspace{ID: id, Name: name, UUID: uuid.NewString(), CreatedAt: fromMicros(s.now()), Settings: codexgov.DefaultSettings()}
	err := s.change(ctx, id, "workspace.create", "workspace:"+id, func(tx *sql.Tx) (any, any, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE id = $1`, id).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "workspace %q already exists", id)
		}
		st := w.Settings
		if _, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, created_at, allow_codex_local, allow_codex_cloud, allow_access_tokens, allow_device_code_login, allow_agent_internet, allow_jit_provisioning, default_role, telemetry, telemetry_drop_traces, telemetry_redact, uuid, compliance_retention) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			id, name, w.CreatedAt.UnixMicro(), st.AllowCodexLocal, st.AllowCodexCloud, st.AllowAccessTokens, st.AllowDeviceCodeLogin, st.AllowAgentInternet, st.AllowJITProvisioning, st.DefaultRole, st.Telemetry, st.TelemetryDropTraces, redactJSON(st.TelemetryRedact), w.UUID, retentionJSON(st.ComplianceRetention)); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO roles (workspace_id, name, description, permissions, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, codexgov.DefaultRoleName, "The role of users who have no role through a group", joinPerms(codexgov.DefaultRolePermissions()), w.CreatedAt.UnixMicro()); err != nil {
			return nil, nil, err
		}
		return nil, w, nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

const workspaceColumns = `id, name, created_at, allow_codex_local, allow_codex_cloud, allow_access_tokens, allow_device_code_login, allow_agent_internet, allow_jit_provisioning, default_role, telemetry, telemetry_drop_traces, telemetry_redact, uuid, compliance_retention, analytics_lookback_days, model_prices, analytics_csv_emails`

func pricesJSON(m map[string]codexgov.ModelPrice) string {
	if m == nil {
		m = map[string]codexgov.ModelPrice{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func retentionJSON(m map[string]int) string {
	if m == nil {
		m = map[string]int{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func redactJSON(p []string) string {
	if p == nil {
		p = []string{}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func scanWorkspace(row interface{ Scan(...any) error }) (*codexgov.Workspace, error) {
	var w codexgov.Workspace
	var created int64
	st := &w.Settings
	var redact, retention, prices string
	if err := row.Scan(&w.ID, &w.Name, &created, &st.AllowCodexLocal, &st.AllowCodexCloud, &st.AllowAccessTokens, &st.AllowDeviceCodeLogin, &st.AllowAgentInternet, &st.AllowJITProvisioning, &st.DefaultRole, &st.Telemetry, &st.TelemetryDropTraces, &redact, &w.UUID, &retention, &st.AnalyticsLookbackDays, &prices, &st.AnalyticsCSVEmails); err != nil {
		return nil, err
	}
	if json.Unmarshal([]byte(prices), &st.ModelPrices) != nil || st.ModelPrices == nil {
		st.ModelPrices = map[string]codexgov.ModelPrice{}
	}
	if json.Unmarshal([]byte(retention), &st.ComplianceRetention) != nil || st.ComplianceRetention == nil {
		st.ComplianceRetention = map[string]int{}
	}
	if json.Unmarshal([]byte(redact), &st.TelemetryRedact) != nil || st.TelemetryRedact == nil {
		st.TelemetryRedact = []string{}
	}
	w.CreatedAt = fromMicros(created)
	return &w, nil
}

func workspace(ctx context.Context, q queryer, id string) (*codexgov.Workspace, error) {
	w, err := scanWorkspace(q.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("workspace %q not found", id)
	}
	return w, err
}

// Workspace returns one workspace.
func (s *DB) Workspace(ctx context.Context, id string) (*codexgov.Workspace, error) {
	w, err := workspace(ctx, s.db, id)
	if err != nil {
		return nil, dbError("workspace", err)
	}
	return w, nil
}

// Workspaces lists every workspace.
func (s *DB) Workspaces(ctx context.Context) ([]*codexgov.Workspace, error) {
	ws, err := workspaces(ctx, s.db)
	if err != nil {
		return nil, dbError("workspaces", err)
	}
	return ws, nil
}

func workspaces(ctx context.Context, q queryer) ([]*codexgov.Workspace, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.Workspace{}
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateSettings changes a workspace's settings.
func (s *DB) UpdateSettings(ctx context.Context, ws string, u codexgov.SettingsUpdate) (*codexgov.Workspace, error) {
	var after *codexgov.Workspace
	err := s.change(ctx, ws, "settings.update", "workspace:"+ws, func(tx *sql.Tx) (any, any, error) {
		before, err := workspace(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		st := u.Apply(before.Settings)
		a := *before
		a.Settings = st
		after = &a
		if st.Equal(before.Settings) {
			return nil, nil, errUnchanged
		}
		if err := st.Validate(); err != nil {
			return nil, nil, err
		}
		if st.TelemetryOn() && !before.Settings.TelemetryOn() && s.otel != nil {
			if err := s.policiesWithoutOtel(ctx, tx, ws); err != nil {
				return nil, nil, err
			}
		}
		if st.DefaultRole != "" {
			if _, err := role(ctx, tx, ws, st.DefaultRole); err != nil {
				return nil, nil, invalid("/default_role", "default role %q does not exist in workspace %q", st.DefaultRole, ws)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET allow_codex_local = $2, allow_codex_cloud = $3, allow_access_tokens = $4, allow_device_code_login = $5, allow_agent_internet = $6, default_role = $7, allow_jit_provisioning = $8, telemetry = $9, telemetry_drop_traces = $10, telemetry_redact = $11, compliance_retention = $12, analytics_lookback_days = $13, model_prices = $14, analytics_csv_emails = $15 WHERE id = $1`,
			ws, st.AllowCodexLocal, st.AllowCodexCloud, st.AllowAccessTokens, st.AllowDeviceCodeLogin, st.AllowAgentInternet, st.DefaultRole, st.AllowJITProvisioning, st.Telemetry, st.TelemetryDropTraces, redactJSON(st.TelemetryRedact), retentionJSON(st.ComplianceRetention), st.AnalyticsLookbackDays, pricesJSON(st.ModelPrices), st.AnalyticsCSVEmails); err != nil {
			return nil, nil, err
		}
		return before.Settings, st, nil
	})
	return after, noChange(err)
}

// CreateUser adds an active user (u.ID when set, else a new ID).
func (s *DB) CreateUser(ctx context.Context, ws string, u codexgov.User) (*codexgov.User, error) {
	email, err := codexgov.NormalizeEmail("/email", u.Email)
	if err != nil {
		return nil, err
	}
	id := u.ID
	if id == "" {
		id = codexgov.NewID("usr")
	}
	nu := &codexgov.User{ID: id, Email: email, Name: strings.TrimSpace(u.Name), Active: true, CreatedAt: fromMicros(s.now()), Groups: []string{}, ExternalID: u.ExternalID, Profile: u.Profile}
	err = s.change(ctx, ws, "user.create", "user:"+email, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		if _, err := user(ctx, tx, ws, email); err == nil {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "user %q already exists", email)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (workspace_id, email, name, active, created_at, id, external_id, profile) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			ws, email, nu.Name, true, nu.CreatedAt.UnixMicro(), nu.ID, nu.ExternalID, string(nu.Profile))
		return nil, nu, err
	})
	if err != nil {
		return nil, err
	}
	return nu, nil
}

const userColumns = `email, name, active, created_at, id, external_id, profile`

func scanUser(row interface{ Scan(...any) error }) (*codexgov.User, error) {
	u := &codexgov.User{Groups: []string{}}
	var created int64
	var profile string
	if err := row.Scan(&u.Email, &u.Name, &u.Active, &created, &u.ID, &u.ExternalID, &profile); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	if profile != "" {
		u.Profile = json.RawMessage(profile)
	}
	return u, nil
}

func user(ctx context.Context, q queryer, ws, email string) (*codexgov.User, error) {
	return userWhere(ctx, q, ws, "email", strings.ToLower(email))
}

func userWhere(ctx context.Context, q queryer, ws, column, value string) (*codexgov.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND `+column+` = $2`, ws, value))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user %q not found", value)
	}
	if err != nil {
		return nil, err
	}
	u.Groups, err = stringList(ctx, q, `SELECT group_name FROM group_members WHERE workspace_id = $1 AND email = $2 ORDER BY group_name`, ws, u.Email)
	return u, err
}

// UserByID returns the user with a stable ID.
func (s *DB) UserByID(ctx context.Context, ws, id string) (*codexgov.User, error) {
	return inWorkspace(ctx, s, "user", ws, func(q queryer) (*codexgov.User, error) { return userWhere(ctx, q, ws, "id", id) })
}

func stringList(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// User returns one user.
func (s *DB) User(ctx context.Context, ws, email string) (*codexgov.User, error) {
	return inWorkspace(ctx, s, "user", ws, func(q queryer) (*codexgov.User, error) { return user(ctx, q, ws, email) })
}

// Users lists a workspace's users.
func (s *DB) Users(ctx context.Context, ws string) ([]*codexgov.User, error) {
	return inWorkspace(ctx, s, "users", ws, func(q queryer) ([]*codexgov.User, error) { return users(ctx, q, ws) })
}

func users(ctx context.Context, q queryer, ws string) ([]*codexgov.User, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 ORDER BY email`, ws)
	if err != nil {
		return nil, err
	}
	out := []*codexgov.User{}
	byEmail := map[string]*codexgov.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
		byEmail[u.Email] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT email, group_name FROM group_members WHERE workspace_id = $1 ORDER BY email, group_name`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e, g string
		if err := rows.Scan(&e, &g); err != nil {
			return nil, err
		}
		if u := byEmail[e]; u != nil {
			u.Groups = append(u.Groups, g)
		}
	}
	return out, rows.Err()
}

// UpdateUser renames, deactivates or reactivates a user; an update that
// changes nothing answers the user with codexgov.ErrNoChange.
func (s *DB) UpdateUser(ctx context.Context, ws, email string, u codexgov.UserUpdate) (*codexgov.User, error) {
	var after *codexgov.User
	err := s.change(ctx, ws, "user.update", "user:"+strings.ToLower(email), func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		before, err := user(ctx, tx, ws, email)
		if err != nil {
			return nil, nil, err
		}
		a := *before
		if u.Name != nil {
			a.Name = strings.TrimSpace(*u.Name)
		}
		if u.Active != nil {
			a.Active = *u.Active
		}
		if u.ExternalID != nil {
			a.ExternalID = *u.ExternalID
		}
		if u.Profile != nil {
			a.Profile = *u.Profile
		}
		if a.Name == before.Name && a.Active == before.Active && a.ExternalID == before.ExternalID && bytes.Equal(a.Profile, before.Profile) {
			after = before
			return nil, nil, errUnchanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $3, active = $4, external_id = $5, profile = $6 WHERE workspace_id = $1 AND email = $2`, ws, a.Email, a.Name, a.Active, a.ExternalID, string(a.Profile)); err != nil {
			return nil, nil, err
		}
		after = &a
		return before, after, nil
	})
	return after, noChange(err)
}

// SetUserGroups makes a user a member of exactly the named groups that
// exist, in one audited step.
func (s *DB) SetUserGroups(ctx context.Context, ws, email string, groups []string) (*codexgov.User, error) {
	var after *codexgov.User
	err := s.change(ctx, ws, "user.groups.sync", "user:"+strings.ToLower(email), func(tx *sql.Tx) (any, any, error) {
		before, err := user(ctx, tx, ws, email)
		if err != nil {
			return nil, nil, err
		}
		existing, err := stringList(ctx, tx, `SELECT name FROM user_groups WHERE workspace_id = $1`, ws)
		if err != nil {
			return nil, nil, err
		}
		changed := false
		for _, g := range existing {
			want, have := slices.Contains(groups, g), slices.Contains(before.Groups, g)
			switch {
			case want && !have:
				_, err = tx.ExecContext(ctx, `INSERT INTO group_members (workspace_id, group_name, email) VALUES ($1, $2, $3)`, ws, g, before.Email)
			case have && !want:
				_, err = tx.ExecContext(ctx, `DELETE FROM group_members WHERE workspace_id = $1 AND group_name = $2 AND email = $3`, ws, g, before.Email)
			default:
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			changed = true
		}
		if !changed {
			after = before
			return nil, nil, errUnchanged
		}
		after, err = user(ctx, tx, ws, email)
		return before.Groups, after.Groups, err
	})
	if errors.Is(err, errUnchanged) {
		return after, nil
	}
	return after, err
}

// CreateGroup creates an empty group (g.ID when set, else a new ID).
func (s *DB) CreateGroup(ctx context.Context, ws string, g codexgov.Group) (*codexgov.Group, error) {
	if err := codexgov.CheckGroupName("/name", g.Name); err != nil {
		return nil, err
	}
	id := g.ID
	if id == "" {
		id = codexgov.NewID("grp")
	}
	ng := &codexgov.Group{ID: id, Name: g.Name, Description: g.Description, CreatedAt: fromMicros(s.now()), Members: []string{}, Roles: []string{}, ExternalID: g.ExternalID}
	err := s.change(ctx, ws, "group.create", "group:"+g.Name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		if _, err := group(ctx, tx, ws, g.Name); err == nil {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "group %q already exists", g.Name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_groups (workspace_id, name, description, created_at, id, external_id) VALUES ($1, $2, $3, $4, $5, $6)`, ws, ng.Name, ng.Description, ng.CreatedAt.UnixMicro(), ng.ID, ng.ExternalID); err != nil {
			return nil, nil, err
		}
		// Members given at creation (SCIM) join in the same step.
		for i, e := range g.Members {
			u, err := user(ctx, tx, ws, e)
			if err != nil {
				return nil, nil, invalid(fmt.Sprintf("/members/%d", i), "user %q does not exist", e)
			}
			if slices.Contains(ng.Members, u.Email) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (workspace_id, group_name, email) VALUES ($1, $2, $3)`, ws, ng.Name, u.Email); err != nil {
				return nil, nil, err
			}
			ng.Members = append(ng.Members, u.Email)
		}
		slices.Sort(ng.Members)
		return nil, ng, nil
	})
	if err != nil {
		return nil, err
	}
	return ng, nil
}

func group(ctx context.Context, q queryer, ws, name string) (*codexgov.Group, error) {
	return groupWhere(ctx, q, ws, "name", name)
}

func groupWhere(ctx context.Context, q queryer, ws, column, value string) (*codexgov.Group, error) {
	var g codexgov.Group
	var created int64
	err := q.QueryRowContext(ctx, `SELECT name, description, created_at, id, external_id FROM user_groups WHERE workspace_id = $1 AND `+column+` = $2`, ws, value).Scan(&g.Name, &g.Description, &created, &g.ID, &g.ExternalID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("group %q not found", value)
	}
	name := g.Name
	if err != nil {
		return nil, err
	}
	g.CreatedAt = fromMicros(created)
	if g.Members, err = stringList(ctx, q, `SELECT email FROM group_members WHERE workspace_id = $1 AND group_name = $2 ORDER BY email`, ws, name); err != nil {
		return nil, err
	}
	g.Roles, err = stringList(ctx, q, `SELECT role_name FROM group_roles WHERE workspace_id = $1 AND group_name = $2 ORDER BY role_name`, ws, name)
	return &g, err
}

// Group returns one group with its members and roles.
func (s *DB) Group(ctx context.Context, ws, name string) (*codexgov.Group, error) {
	return inWorkspace(ctx, s, "group", ws, func(q queryer) (*codexgov.Group, error) { return group(ctx, q, ws, name) })
}

// GroupByID returns the group with a stable ID.
func (s *DB) GroupByID(ctx context.Context, ws, id string) (*codexgov.Group, error) {
	return inWorkspace(ctx, s, "group", ws, func(q queryer) (*codexgov.Group, error) { return groupWhere(ctx, q, ws, "id", id) })
}

// UpdateGroup changes a group's description, external ID and members in
// one audited step.
func (s *DB) UpdateGroup(ctx context.Context, ws, name string, u codexgov.GroupUpdate) (*codexgov.Group, error) {
	return s.groupEdit(ctx, ws, name, "group.update", "", func(tx *sql.Tx, g *codexgov.Group) error {
		if u.Description != nil || u.ExternalID != nil {
			d, x := g.Description, g.ExternalID
			if u.Description != nil {
				d = *u.Description
			}
			if u.ExternalID != nil {
				x = *u.ExternalID
			}
			if _, err := tx.ExecContext(ctx, `UPDATE user_groups SET description = $3, external_id = $4 WHERE workspace_id = $1 AND name = $2`, ws, name, d, x); err != nil {
				return err
			}
		}
		members := slices.Clone(g.Members)
		for _, e := range u.AddMembers {
			e = strings.ToLower(e)
			if slices.Contains(members, e) {
				continue
			}
			if _, err := user(ctx, tx, ws, e); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (workspace_id, group_name, email) VALUES ($1, $2, $3)`, ws, name, e); err != nil {
				return err
			}
			members = append(members, e)
		}
		for _, e := range u.RemoveMembers {
			e = strings.ToLower(e)
			if !slices.Contains(members, e) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE workspace_id = $1 AND group_name = $2 AND email = $3`, ws, name, e); err != nil {
				return err
			}
			members = slices.DeleteFunc(members, func(m string) bool { return m == e })
		}
		return nil
	})
}

// Groups lists a workspace's groups.
func (s *DB) Groups(ctx context.Context, ws string) ([]*codexgov.Group, error) {
	return inWorkspace(ctx, s, "groups", ws, func(q queryer) ([]*codexgov.Group, error) { return groups(ctx, q, ws) })
}

// groups reads a workspace's groups with their members and roles in three
// queries, however many groups there are.
func groups(ctx context.Context, q queryer, ws string) ([]*codexgov.Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, description, created_at, id, external_id FROM user_groups WHERE workspace_id = $1 ORDER BY name`, ws)
	if err != nil {
		return nil, err
	}
	out := []*codexgov.Group{}
	byName := map[string]*codexgov.Group{}
	for rows.Next() {
		var g codexgov.Group
		var created int64
		if err := rows.Scan(&g.Name, &g.Description, &created, &g.ID, &g.ExternalID); err != nil {
			rows.Close()
			return nil, err
		}
		g.CreatedAt = fromMicros(created)
		out = append(out, &g)
		byName[g.Name] = &g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		query string
		add   func(g *codexgov.Group, v string)
	}{
		{`SELECT group_name, email FROM group_members WHERE workspace_id = $1 ORDER BY group_name, email`, func(g *codexgov.Group, v string) { g.Members = append(g.Members, v) }},
		{`SELECT group_name, role_name FROM group_roles WHERE workspace_id = $1 ORDER BY group_name, role_name`, func(g *codexgov.Group, v string) { g.Roles = append(g.Roles, v) }},
	} {
		rows, err := q.QueryContext(ctx, part.query, ws)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var name, v string
			if err := rows.Scan(&name, &v); err != nil {
				rows.Close()
				return nil, err
			}
			if g := byName[name]; g != nil {
				part.add(g, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// One group read alone has empty, not nil, lists; keep the two alike.
	for _, g := range out {
		if g.Members == nil {
			g.Members = []string{}
		}
		if g.Roles == nil {
			g.Roles = []string{}
		}
	}
	return out, nil
}

// DeleteGroup deletes a group that no assignment rule uses.
func (s *DB) DeleteGroup(ctx context.Context, ws, name string) error {
	return s.change(ctx, ws, "group.delete", "group:"+name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		before, err := group(ctx, tx, ws, name)
		if err != nil {
			return nil, nil, err
		}
		var pos []int
		rows, err := tx.QueryContext(ctx, `SELECT position FROM assignment_rules WHERE workspace_id = $1 AND group_name = $2 ORDER BY position`, ws, name)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var p int
			rows.Scan(&p)
			pos = append(pos, p)
		}
		rows.Close()
		if len(pos) > 0 {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "group %q is used by assignment rule %v: change the assignment first", name, pos)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM user_groups WHERE workspace_id = $1 AND name = $2`, ws, name)
		return before, nil, err
	})
}

func (s *DB) groupEdit(ctx context.Context, ws, groupName, action, target string, edit func(tx *sql.Tx, g *codexgov.Group) error) (*codexgov.Group, error) {
	var after *codexgov.Group
	err := s.change(ctx, ws, action, strings.TrimSpace("group:"+groupName+" "+target), func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		before, err := group(ctx, tx, ws, groupName)
		if err != nil {
			return nil, nil, err
		}
		if err := edit(tx, before); err != nil {
			if errors.Is(err, errUnchanged) {
				after = before
			}
			return nil, nil, err
		}
		after, err = group(ctx, tx, ws, groupName)
		return before, after, err
	})
	return after, noChange(err)
}

// AddGroupMember adds a user to a group; adding a member again changes
// nothing and answers the group with codexgov.ErrNoChange.
func (s *DB) AddGroupMember(ctx context.Context, ws, groupName, email string) (*codexgov.Group, error) {
	email = strings.ToLower(email)
	return s.groupEdit(ctx, ws, groupName, "group.member.add", "user:"+email, func(tx *sql.Tx, g *codexgov.Group) error {
		if _, err := user(ctx, tx, ws, email); err != nil {
			return err
		}
		if slices.Contains(g.Members, email) {
			return errUnchanged
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (workspace_id, group_name, email) VALUES ($1, $2, $3)`, ws, groupName, email)
		return err
	})
}

// RemoveGroupMember removes a user from a group.
func (s *DB) RemoveGroupMember(ctx context.Context, ws, groupName, email string) (*codexgov.Group, error) {
	email = strings.ToLower(email)
	return s.groupEdit(ctx, ws, groupName, "group.member.remove", "user:"+email, func(tx *sql.Tx, g *codexgov.Group) error {
		if !slices.Contains(g.Members, email) {
			return notFound("user %q is not a member of group %q", email, groupName)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE workspace_id = $1 AND group_name = $2 AND email = $3`, ws, groupName, email)
		return err
	})
}

// GrantGroupRole grants a role to a group's members; granting it again
// answers the group with codexgov.ErrNoChange.
func (s *DB) GrantGroupRole(ctx context.Context, ws, groupName, roleName string) (*codexgov.Group, error) {
	return s.groupEdit(ctx, ws, groupName, "group.role.grant", "role:"+roleName, func(tx *sql.Tx, g *codexgov.Group) error {
		if _, err := role(ctx, tx, ws, roleName); err != nil {
			return err
		}
		if slices.Contains(g.Roles, roleName) {
			return errUnchanged
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_roles (workspace_id, group_name, role_name) VALUES ($1, $2, $3)`, ws, groupName, roleName)
		return err
	})
}

// RevokeGroupRole takes a role away from a group.
func (s *DB) RevokeGroupRole(ctx context.Context, ws, groupName, roleName string) (*codexgov.Group, error) {
	return s.groupEdit(ctx, ws, groupName, "group.role.revoke", "role:"+roleName, func(tx *sql.Tx, g *codexgov.Group) error {
		if !slices.Contains(g.Roles, roleName) {
			return notFound("role %q is not granted to group %q", roleName, groupName)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM group_roles WHERE workspace_id = $1 AND group_name = $2 AND role_name = $3`, ws, groupName, roleName)
		return err
	})
}

func joinPerms(ps []codexgov.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func splitPerms(s string) []codexgov.Permission {
	out := []codexgov.Permission{}
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, codexgov.Permission(p))
		}
	}
	return out
}

// CreateRole creates a custom role.
func (s *DB) CreateRole(ctx context.Context, ws string, r codexgov.Role) (*codexgov.Role, error) {
	if err := codexgov.CheckName("/name", r.Name); err != nil {
		return nil, err
	}
	perms, err := codexgov.ParsePermissions("/permissions", r.Permissions)
	if err != nil {
		return nil, err
	}
	nr := &codexgov.Role{Name: r.Name, Description: r.Description, Permissions: perms, CreatedAt: fromMicros(s.now())}
	err = s.change(ctx, ws, "role.create", "role:"+r.Name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		if _, err := role(ctx, tx, ws, r.Name); err == nil {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "role %q already exists", r.Name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (workspace_id, name, description, permissions, created_at) VALUES ($1, $2, $3, $4, $5)`, ws, nr.Name, nr.Description, joinPerms(perms), nr.CreatedAt.UnixMicro())
		return nil, nr, err
	})
	if err != nil {
		return nil, err
	}
	return nr, nil
}

func scanRole(row interface{ Scan(...any) error }) (*codexgov.Role, error) {
	var r codexgov.Role
	var perms string
	var created int64
	if err := row.Scan(&r.Name, &r.Description, &perms, &created); err != nil {
		return nil, err
	}
	r.Permissions, r.CreatedAt = splitPerms(perms), fromMicros(created)
	return &r, nil
}

func role(ctx context.Context, q queryer, ws, name string) (*codexgov.Role, error) {
	r, err := scanRole(q.QueryRowContext(ctx, `SELECT name, description, permissions, created_at FROM roles WHERE workspace_id = $1 AND name = $2`, ws, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role %q not found", name)
	}
	return r, err
}

func roles(ctx context.Context, q queryer, ws string) ([]*codexgov.Role, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, description, permissions, created_at FROM roles WHERE workspace_id = $1 ORDER BY name`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Role returns one role.
func (s *DB) Role(ctx context.Context, ws, name string) (*codexgov.Role, error) {
	return inWorkspace(ctx, s, "role", ws, func(q queryer) (*codexgov.Role, error) { return role(ctx, q, ws, name) })
}

// Roles lists a workspace's roles.
func (s *DB) Roles(ctx context.Context, ws string) ([]*codexgov.Role, error) {
	return inWorkspace(ctx, s, "roles", ws, func(q queryer) ([]*codexgov.Role, error) { return roles(ctx, q, ws) })
}

// UpdateRole changes a role's description or permissions.
func (s *DB) UpdateRole(ctx context.Context, ws, name string, u codexgov.RoleUpdate) (*codexgov.Role, error) {
	var perms []codexgov.Permission
	if u.Permissions != nil {
		var err error
		if perms, err = codexgov.ParsePermissions("/permissions", *u.Permissions); err != nil {
			return nil, err
		}
	}
	var after *codexgov.Role
	err := s.change(ctx, ws, "role.update", "role:"+name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		before, err := role(ctx, tx, ws, name)
		if err != nil {
			return nil, nil, err
		}
		a := *before
		if u.Description != nil {
			a.Description = *u.Description
		}
		if u.Permissions != nil {
			a.Permissions = perms
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET description = $3, permissions = $4 WHERE workspace_id = $1 AND name = $2`, ws, name, a.Description, joinPerms(a.Permissions)); err != nil {
			return nil, nil, err
		}
		after = &a
		return before, after, nil
	})
	return after, err
}

// DeleteRole deletes a role that is neither granted to a group nor the
// default role.
func (s *DB) DeleteRole(ctx context.Context, ws, name string) error {
	return s.change(ctx, ws, "role.delete", "role:"+name, func(tx *sql.Tx) (any, any, error) {
		w, err := workspace(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		before, err := role(ctx, tx, ws, name)
		if err != nil {
			return nil, nil, err
		}
		if w.Settings.DefaultRole == name {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "role %q is the workspace's default role: choose another default role first", name)
		}
		gs, err := stringList(ctx, tx, `SELECT group_name FROM group_roles WHERE workspace_id = $1 AND role_name = $2 ORDER BY group_name`, ws, name)
		if err != nil {
			return nil, nil, err
		}
		if len(gs) > 0 {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "role %q is granted to group(s) %s: revoke it first", name, strings.Join(gs, ", "))
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM roles WHERE workspace_id = $1 AND name = $2`, ws, name)
		return before, nil, err
	})
}

// DeleteUser removes a user for good (SCIM DELETE): its memberships go,
// every credential it holds is revoked (access tokens are removed with
// it), and the audit log keeps its history. The email can then be used
// by a new user with a new ID.
func (s *DB) DeleteUser(ctx context.Context, ws, email string) error {
	return s.change(ctx, ws, "user.delete", "user:"+strings.ToLower(email), func(tx *sql.Tx) (any, any, error) {
		before, err := user(ctx, tx, ws, email)
		if err != nil {
			return nil, nil, err
		}
		now := s.now()
		revoked := map[string][]string{}
		for _, q := range []struct{ kind, query string }{
			{"access_tokens", `SELECT id FROM access_tokens WHERE workspace_id = $1 AND email = $2 AND revoked_at = 0`},
			{"enrollment_tokens", `SELECT id FROM enrollment_tokens WHERE workspace_id = $1 AND email = $2 AND revoked_at = 0`},
			{"oauth_grants", `SELECT id FROM oauth_grants WHERE workspace_id = $1 AND email = $2 AND revoked_at = 0`},
		} {
			rows, err := tx.QueryContext(ctx, q.query, ws, before.Email)
			if err != nil {
				return nil, nil, err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, nil, err
				}
				revoked[q.kind] = append(revoked[q.kind], id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, nil, err
			}
		}
		for _, stmt := range []string{
			`UPDATE enrollment_tokens SET revoked_at = $3 WHERE workspace_id = $1 AND email = $2 AND revoked_at = 0`,
			`UPDATE oauth_grants SET revoked_at = $3, revoke_reason = 'user deleted' WHERE workspace_id = $1 AND email = $2 AND revoked_at = 0`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, ws, before.Email, now); err != nil {
				return nil, nil, err
			}
		}
		for _, stmt := range []string{
			`DELETE FROM access_tokens WHERE workspace_id = $1 AND email = $2`,
			`DELETE FROM group_members WHERE workspace_id = $1 AND email = $2`,
			`DELETE FROM users WHERE workspace_id = $1 AND email = $2`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, ws, before.Email); err != nil {
				return nil, nil, err
			}
		}
		return map[string]any{"user": before, "revoked": revoked}, nil, nil
	})
}

// policiesWithoutOtel refuses to turn telemetry on while a policy's current
// version sets its own [otel], naming each.
func (s *DB) policiesWithoutOtel(ctx context.Context, tx *sql.Tx, ws string) error {
	rows, err := tx.QueryContext(ctx, `SELECT v.name, v.version, v.requirements FROM policies p JOIN policy_versions v
		ON v.workspace_id = p.workspace_id AND v.name = p.name AND v.version = p.current_version WHERE p.workspace_id = $1 ORDER BY v.name`, ws)
	if err != nil {
		return err
	}
	defer rows.Close()
	var details []codexgov.Detail
	var names []string
	for rows.Next() {
		var name, req string
		var version int
		if err := rows.Scan(&name, &version, &req); err != nil {
			return err
		}
		if d, ok := s.otel(req); ok {
			d.Field = "/policies/" + name + "/requirements"
			d.Message = fmt.Sprintf("policy %q version %d sets [otel] at requirements.toml:%d:%d", name, version, d.Line, d.Column)
			details = append(details, d)
			names = append(names, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(details) > 0 {
		return &codexgov.Error{Code: codexgov.ECONFLICT, Details: details,
			Message: fmt.Sprintf("/telemetry: codexgov cannot enforce its own [otel] while policies set theirs (%s): remove [otel] from them first; nothing was changed", strings.Join(names, ", "))}
	}
	return nil
}
