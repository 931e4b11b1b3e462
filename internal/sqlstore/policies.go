package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/codexgov/codexgov"
)

// PutPolicy validates and stores a new version of a policy.
func (s *DB) PutPolicy(ctx context.Context, ws string, in codexgov.PolicyInput) (*codexgov.PolicyVersion, error) {
	if s.validate == nil {
		return nil, &codexgov.Error{Code: codexgov.EINTERNAL, Message: "internal error", Op: "policy.put", Err: errors.New("no policy validator is wired into the store (SetValidator)")}
	}
	warns, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	actor, _ := codexgov.ActorFrom(ctx)
	var out *codexgov.PolicyVersion
	err = s.change(ctx, ws, "policy.put", "policy:"+in.Name, func(tx *sql.Tx) (any, any, error) {
		w, err := workspace(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		if w.Settings.TelemetryOn() && s.otel != nil {
			if d, ok := s.otel(in.Requirements); ok {
				return nil, nil, &codexgov.Error{Code: codexgov.EINVALID, Details: []codexgov.Detail{d},
					Message: fmt.Sprintf("policy %q sets its own [otel] at requirements.toml:%d:%d, but workspace %q has telemetry %q: codexgov delivers the [otel] block itself; nothing was stored", in.Name, d.Line, d.Column, ws, w.Settings.Telemetry)}
			}
		}
		cur, err := policyVersion(ctx, tx, ws, in.Name, 0)
		var nf *codexgov.Error
		switch {
		case errors.As(err, &nf) && nf.Code == codexgov.ENOTFOUND:
			cur = nil
			if _, err := tx.ExecContext(ctx, `INSERT INTO policies (workspace_id, name, current_version) VALUES ($1, $2, 0)`, ws, in.Name); err != nil {
				return nil, nil, err
			}
		case err != nil:
			return nil, nil, err
		}
		if in.BaseVersion != nil {
			at := 0
			if cur != nil {
				at = cur.Version
			}
			if at != *in.BaseVersion {
				return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "policy %q is at version %d, not the version %d this change was made from: reload it and apply the change again; nothing was stored", in.Name, at, *in.BaseVersion)
			}
		}
		hash := codexgov.ContentHash(in.Requirements, in.Defaults)
		if cur != nil && cur.Hash == hash {
			out = cur
			return nil, nil, errUnchanged
		}
		v := &codexgov.PolicyVersion{Name: in.Name, Version: 1, Requirements: in.Requirements, Defaults: in.Defaults, Comment: in.Comment,
			Hash: hash, CreatedBy: actor.ID, CreatedAt: fromMicros(s.now())}
		if cur != nil {
			v.Version = cur.Version + 1
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (workspace_id, name, version, requirements, defaults, comment, hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			ws, v.Name, v.Version, v.Requirements, v.Defaults, v.Comment, v.Hash, v.CreatedBy, v.CreatedAt.UnixMicro()); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET current_version = $3 WHERE workspace_id = $1 AND name = $2`, ws, v.Name, v.Version); err != nil {
			return nil, nil, err
		}
		out = v
		return cur, v, nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	o := *out
	o.Warnings = warns
	return &o, nil
}

// errUnchanged rolls back a change that would change nothing.
var errUnchanged = errors.New("unchanged")

// noChange turns errUnchanged into the codexgov.ErrNoChange callers see.
func noChange(err error) error {
	if errors.Is(err, errUnchanged) {
		return codexgov.ErrNoChange
	}
	return err
}

const versionColumns = `name, version, requirements, defaults, comment, hash, created_by, created_at`

func scanVersion(row interface{ Scan(...any) error }) (*codexgov.PolicyVersion, error) {
	var v codexgov.PolicyVersion
	var created int64
	if err := row.Scan(&v.Name, &v.Version, &v.Requirements, &v.Defaults, &v.Comment, &v.Hash, &v.CreatedBy, &created); err != nil {
		return nil, err
	}
	v.CreatedAt = fromMicros(created)
	return &v, nil
}

func policyVersion(ctx context.Context, q queryer, ws, name string, version int) (*codexgov.PolicyVersion, error) {
	var row *sql.Row
	if version == 0 {
		row = q.QueryRowContext(ctx, `SELECT `+prefixed("v.", versionColumns)+` FROM policies p JOIN policy_versions v ON v.workspace_id = p.workspace_id AND v.name = p.name AND v.version = p.current_version WHERE p.workspace_id = $1 AND p.name = $2`, ws, name)
	} else {
		row = q.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM policy_versions WHERE workspace_id = $1 AND name = $2 AND version = $3`, ws, name, version)
	}
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, notFound("policy %q not found", name)
		}
		return nil, notFound("policy %q has no version %d", name, version)
	}
	return v, err
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// Policy returns one version of a policy (0: the current one).
func (s *DB) Policy(ctx context.Context, ws, name string, version int) (*codexgov.PolicyVersion, error) {
	return inWorkspace(ctx, s, "policy", ws, func(q queryer) (*codexgov.PolicyVersion, error) {
		return policyVersion(ctx, q, ws, name, version)
	})
}

func currentPolicies(ctx context.Context, q queryer, ws string) ([]*codexgov.PolicyVersion, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+prefixed("v.", versionColumns)+` FROM policies p JOIN policy_versions v ON v.workspace_id = p.workspace_id AND v.name = p.name AND v.version = p.current_version WHERE p.workspace_id = $1 ORDER BY p.name`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*codexgov.PolicyVersion{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Policies lists the current version of every policy.
func (s *DB) Policies(ctx context.Context, ws string) ([]*codexgov.PolicyVersion, error) {
	return inWorkspace(ctx, s, "policies", ws, func(q queryer) ([]*codexgov.PolicyVersion, error) { return currentPolicies(ctx, q, ws) })
}

// PolicyHistory lists every version of a policy, oldest first.
func (s *DB) PolicyHistory(ctx context.Context, ws, name string) ([]*codexgov.PolicyVersion, error) {
	if _, err := s.Policy(ctx, ws, name, 0); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+` FROM policy_versions WHERE workspace_id = $1 AND name = $2 ORDER BY version`, ws, name)
	if err != nil {
		return nil, dbError("policy history", err)
	}
	defer rows.Close()
	out := []*codexgov.PolicyVersion{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, dbError("policy history", err)
		}
		out = append(out, v)
	}
	return out, dbError("policy history", rows.Err())
}

// DeletePolicy deletes a policy and its history, unless the assignment
// uses it.
func (s *DB) DeletePolicy(ctx context.Context, ws, name string) error {
	return s.change(ctx, ws, "policy.delete", "policy:"+name, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		before, err := policyVersion(ctx, tx, ws, name, 0)
		if err != nil {
			return nil, nil, err
		}
		a, err := assignment(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		for i, r := range a.Rules {
			if r.Policy == name {
				return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "policy %q is used by assignment rule %d: change the assignment first", name, i+1)
			}
		}
		if a.Default == name {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "policy %q is the default policy: change the assignment first", name)
		}
		if a.Baseline == name {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "policy %q is the baseline policy: change the assignment first", name)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM policies WHERE workspace_id = $1 AND name = $2`, ws, name)
		return before, nil, err
	})
}

func assignment(ctx context.Context, q queryer, ws string) (*codexgov.Assignment, error) {
	a := &codexgov.Assignment{Rules: []codexgov.Rule{}}
	if err := q.QueryRowContext(ctx, `SELECT default_policy, baseline_policy FROM workspaces WHERE id = $1`, ws).Scan(&a.Default, &a.Baseline); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("workspace %q not found", ws)
		}
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT group_name, policy_name FROM assignment_rules WHERE workspace_id = $1 ORDER BY position`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r codexgov.Rule
		if err := rows.Scan(&r.Group, &r.Policy); err != nil {
			return nil, err
		}
		a.Rules = append(a.Rules, r)
	}
	return a, rows.Err()
}

// Assignment returns a workspace's policy assignment.
func (s *DB) Assignment(ctx context.Context, ws string) (*codexgov.Assignment, error) {
	a, err := assignment(ctx, s.db, ws)
	if err != nil {
		return nil, dbError("assignment", err)
	}
	return a, nil
}

// SetAssignment replaces the whole assignment. Every group and policy must
// exist, and a group may head only one rule (a second could never match).
func (s *DB) SetAssignment(ctx context.Context, ws string, a codexgov.Assignment) (*codexgov.Assignment, error) {
	if a.Rules == nil {
		a.Rules = []codexgov.Rule{}
	}
	err := s.change(ctx, ws, "assignment.set", "assignment", func(tx *sql.Tx) (any, any, error) {
		before, err := assignment(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		if a.IfMatch != "" && strings.Trim(a.IfMatch, `"`) != codexgov.AssignmentETag(before) {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "the assignment changed since this change was made from it: reload it and apply the change again; nothing was stored")
		}
		var details []codexgov.Detail
		seen := map[string]int{}
		for i, r := range a.Rules {
			if _, err := group(ctx, tx, ws, r.Group); err != nil {
				details = append(details, codexgov.Detail{Field: fmt.Sprintf("/rules/%d/group", i), Message: fmt.Sprintf("group %q does not exist", r.Group)})
			}
			if _, err := policyVersion(ctx, tx, ws, r.Policy, 0); err != nil {
				details = append(details, codexgov.Detail{Field: fmt.Sprintf("/rules/%d/policy", i), Message: fmt.Sprintf("policy %q does not exist", r.Policy)})
			}
			if j, dup := seen[r.Group]; dup {
				details = append(details, codexgov.Detail{Field: fmt.Sprintf("/rules/%d/group", i), Message: fmt.Sprintf("rule %d can never match: rule %d already takes every member of group %q", i+1, j+1, r.Group)})
			} else {
				seen[r.Group] = i
			}
		}
		if a.Default != "" {
			if _, err := policyVersion(ctx, tx, ws, a.Default, 0); err != nil {
				details = append(details, codexgov.Detail{Field: "/default", Message: fmt.Sprintf("policy %q does not exist", a.Default)})
			}
		}
		if a.Baseline != "" {
			if _, err := policyVersion(ctx, tx, ws, a.Baseline, 0); err != nil {
				details = append(details, codexgov.Detail{Field: "/baseline", Message: fmt.Sprintf("policy %q does not exist", a.Baseline)})
			}
		}
		if len(details) > 0 {
			return nil, nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid assignment: nothing was changed", Details: details}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assignment_rules WHERE workspace_id = $1`, ws); err != nil {
			return nil, nil, err
		}
		for i, r := range a.Rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO assignment_rules (workspace_id, position, group_name, policy_name) VALUES ($1, $2, $3, $4)`, ws, i+1, r.Group, r.Policy); err != nil {
				return nil, nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET default_policy = $2, baseline_policy = $3 WHERE id = $1`, ws, a.Default, a.Baseline); err != nil {
			return nil, nil, err
		}
		return before, a, nil
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}
