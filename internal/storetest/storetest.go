// Package storetest is the one conformance suite every codexgov.Store
// implementation passes: it is run against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// Opener returns a fresh, empty store for one test.
type Opener func(t *testing.T) codexgov.Store

// Actor is the context every change in the suite is made with.
func Actor() context.Context {
	return codexgov.WithActor(context.Background(), codexgov.Actor{ID: "api_key:key_test", RequestID: "req_test"})
}

func code(err error) string { return codexgov.ErrorCode(err) }

// must stops the test on an unexpected error: the panic fails the test
// with the error and its stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const baseline = "allowed_approval_policies = [\"on-request\", \"never\"]\nallowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"
const strict = "allowed_approval_policies = [\"on-request\"]\nallowed_sandbox_modes = [\"read-only\"]\n"

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s codexgov.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Directory", testDirectory},
		{"Roles", testRoles},
		{"Policies", testPolicies},
		{"RejectedPolicyLeavesStateUnchanged", testRejectedPolicy},
		{"Assignment", testAssignment},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"Credentials", testCredentials},
		{"AuditEveryChange", testAudit},
		{"NoChangeNoAudit", testNoChange},
		{"DeleteUser", testDeleteUser},
		{"ChangeLogAndWorkspaceState", testChangeLog},
		{"SigningKeys", testSigningKeys},
		{"StateAndVersion", testState},
		{"ChangeWithoutActorRefused", testNoActor},
		{"EnrollmentTokens", testEnrollmentTokens},
		{"OAuthGrants", testOAuthGrants},
		{"Deliveries", testDeliveries},
		{"SyncMachines", testSyncMachines},
		{"SCIMDirectory", testSCIMDirectory},
		{"IdentityProviders", testIdentityProviders},
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"Telemetry", testTelemetry},
		{"TelemetryMetricsAndSpans", testTelemetryMetricsAndSpans},
		{"TelemetryGroupCommitAndRetention", testTelemetryGroupCommitAndRetention},
		{"TelemetryActivity", testTelemetryActivity},
		{"AnalyticsRebuildDuringIngest", testAnalyticsRebuildDuringIngest},
		{"AnalyticsRanking", testAnalyticsRanking},
		{"Gateway", testGateway},
		{"GatewayBudgets", testGatewayBudgets},
		{"RetentionAndHolds", testRetentionAndHolds},
		{"CodexTasks", testCodexTasks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func testWorkspaces(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	w := must(s.CreateWorkspace(ctx, "acme", "Acme"))
	if !w.Settings.AllowCodexLocal || w.Settings.AllowCodexCloud || w.Settings.AllowAccessTokens || w.Settings.DefaultRole != codexgov.DefaultRoleName {
		t.Errorf("new workspace settings = %+v", w.Settings)
	}
	if _, err := s.CreateWorkspace(ctx, "acme", "again"); code(err) != codexgov.ECONFLICT {
		t.Errorf("duplicate workspace: %v", err)
	}
	if _, err := s.CreateWorkspace(ctx, "Bad ID", ""); code(err) != codexgov.EINVALID {
		t.Errorf("bad id: %v", err)
	}
	if _, err := s.Workspace(ctx, "nope"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("missing workspace: %v", err)
	}
	on := true
	w = must(s.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowCodexCloud: &on}))
	if !w.Settings.AllowCodexCloud || !w.Settings.AllowCodexLocal {
		t.Errorf("after update: %+v", w.Settings)
	}
	bad := "ghost"
	if _, err := s.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{DefaultRole: &bad}); code(err) != codexgov.EINVALID {
		t.Errorf("unknown default role: %v", err)
	}
	got := must(s.Workspace(ctx, "acme"))
	if got.Settings.DefaultRole != codexgov.DefaultRoleName || !got.Settings.AllowCodexCloud {
		t.Errorf("stored settings = %+v", got.Settings)
	}
	ws := must(s.Workspaces(ctx))
	if len(ws) != 1 || ws[0].ID != "acme" || ws[0].Name != "Acme" {
		t.Errorf("workspaces = %+v", ws)
	}
}

func testDirectory(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	u := must(s.CreateUser(ctx, "a", codexgov.User{Email: "Ann@Example.com", Name: "Ann"}))
	if u.Email != "ann@example.com" || !u.Active {
		t.Errorf("user = %+v", u)
	}
	if _, err := s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}); code(err) != codexgov.ECONFLICT {
		t.Errorf("duplicate user: %v", err)
	}
	if _, err := s.CreateUser(ctx, "a", codexgov.User{Email: "not an email"}); code(err) != codexgov.EINVALID {
		t.Errorf("bad email: %v", err)
	}
	// Same email in another workspace is another person record.
	must(s.CreateUser(ctx, "b", codexgov.User{Email: "ann@example.com"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	if _, err := s.CreateGroup(ctx, "a", codexgov.Group{Name: "Eng\nTeam"}); code(err) != codexgov.EINVALID {
		t.Errorf("bad group name: %v", err)
	}
	g := must(s.AddGroupMember(ctx, "a", "eng", "ANN@example.com"))
	if !slices.Equal(g.Members, []string{"ann@example.com"}) {
		t.Errorf("members = %v", g.Members)
	}
	// Adding a member again changes nothing, and says so.
	if g, err := s.AddGroupMember(ctx, "a", "eng", "ann@example.com"); !errors.Is(err, codexgov.ErrNoChange) || !slices.Equal(g.Members, []string{"ann@example.com"}) {
		t.Errorf("re-adding a member: %v %+v, want ErrNoChange and the group", err, g)
	}
	if _, err := s.AddGroupMember(ctx, "a", "eng", "bob@example.com"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("unknown member: %v", err)
	}
	// Workspace b cannot see or touch a's group.
	if _, err := s.Group(ctx, "b", "eng"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("cross-workspace group read: %v", err)
	}
	if _, err := s.AddGroupMember(ctx, "b", "eng", "ann@example.com"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("cross-workspace member add: %v", err)
	}
	u = must(s.User(ctx, "a", "ann@example.com"))
	if !slices.Equal(u.Groups, []string{"eng"}) {
		t.Errorf("user groups = %v", u.Groups)
	}
	off := false
	u = must(s.UpdateUser(ctx, "a", "ann@example.com", codexgov.UserUpdate{Active: &off}))
	if u.Active {
		t.Error("deactivate did not stick")
	}
	us := must(s.Users(ctx, "a"))
	if len(us) != 1 || us[0].Active || !slices.Equal(us[0].Groups, []string{"eng"}) {
		t.Errorf("users = %+v", us)
	}
	must(s.RemoveGroupMember(ctx, "a", "eng", "ann@example.com"))
	if _, err := s.RemoveGroupMember(ctx, "a", "eng", "ann@example.com"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("remove non-member: %v", err)
	}
	if err := s.DeleteGroup(ctx, "a", "eng"); err != nil {
		t.Fatal(err)
	}
	if gs := must(s.Groups(ctx, "a")); len(gs) != 0 {
		t.Errorf("groups after delete = %+v", gs)
	}
}

func testRoles(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	r := must(s.CreateRole(ctx, "a", codexgov.Role{Name: "codex-admin", Permissions: []codexgov.Permission{"codex_admin", "codex_local", "codex_admin"}}))
	if !slices.Equal(r.Permissions, []codexgov.Permission{"codex_admin", "codex_local"}) {
		t.Errorf("permissions = %v", r.Permissions)
	}
	_, err := s.CreateRole(ctx, "a", codexgov.Role{Name: "x", Permissions: []codexgov.Permission{"codex_local", "root"}})
	var e *codexgov.Error
	if !errors.As(err, &e) || e.Code != codexgov.EINVALID || len(e.Details) != 1 || e.Details[0].Field != "/permissions/1" {
		t.Errorf("unknown permission: %#v", err)
	}
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "admins"}))
	must(s.GrantGroupRole(ctx, "a", "admins", "codex-admin"))
	if err := s.DeleteRole(ctx, "a", "codex-admin"); code(err) != codexgov.ECONFLICT {
		t.Errorf("delete granted role: %v", err)
	}
	if err := s.DeleteRole(ctx, "a", codexgov.DefaultRoleName); code(err) != codexgov.ECONFLICT {
		t.Errorf("delete default role: %v", err)
	}
	ps := []codexgov.Permission{"analytics_read"}
	r = must(s.UpdateRole(ctx, "a", "codex-admin", codexgov.RoleUpdate{Permissions: &ps}))
	if !slices.Equal(r.Permissions, ps) {
		t.Errorf("updated permissions = %v", r.Permissions)
	}
	must(s.RevokeGroupRole(ctx, "a", "admins", "codex-admin"))
	if err := s.DeleteRole(ctx, "a", "codex-admin"); err != nil {
		t.Fatal(err)
	}
	rs := must(s.Roles(ctx, "a"))
	if len(rs) != 1 || rs[0].Name != codexgov.DefaultRoleName || !slices.Equal(rs[0].Permissions, codexgov.DefaultRolePermissions()) {
		t.Errorf("roles = %+v", rs)
	}
}

func testPolicies(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	v1 := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: baseline, Comment: "first"}))
	if v1.Version != 1 || v1.Hash != codexgov.ContentHash(baseline, "") || v1.CreatedBy != "api_key:key_test" {
		t.Errorf("v1 = %+v", v1)
	}
	same := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: baseline}))
	if same.Version != 1 {
		t.Errorf("identical put made version %d", same.Version)
	}
	v2 := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: strict, Defaults: "model = \"gpt-5\"\n"}))
	if v2.Version != 2 || v2.Defaults != "model = \"gpt-5\"\n" {
		t.Errorf("v2 = %+v", v2)
	}
	old := must(s.Policy(ctx, "a", "baseline", 1))
	if old.Requirements != baseline || old.Comment != "first" {
		t.Errorf("version 1 changed: %+v", old)
	}
	if cur := must(s.Policy(ctx, "a", "baseline", 0)); cur.Version != 2 {
		t.Errorf("current = %d", cur.Version)
	}
	h := must(s.PolicyHistory(ctx, "a", "baseline"))
	if len(h) != 2 || h[0].Version != 1 || h[1].Version != 2 {
		t.Errorf("history = %+v", h)
	}
	if _, err := s.Policy(ctx, "a", "baseline", 9); code(err) != codexgov.ENOTFOUND {
		t.Errorf("missing version: %v", err)
	}
	w := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "warned", Requirements: "allowed_sandbox_modes = [\"read-only\"]\nbogus_key = 1\n"}))
	if len(w.Warnings) == 0 {
		t.Error("no warning for an unknown key")
	}
	ps := must(s.Policies(ctx, "a"))
	if len(ps) != 2 || ps[0].Name != "baseline" || ps[0].Version != 2 {
		t.Errorf("policies = %+v", ps)
	}
	if err := s.DeletePolicy(ctx, "a", "warned"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PolicyHistory(ctx, "a", "warned"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("history of deleted policy: %v", err)
	}
}

// dump is everything a workspace holds, for before/after comparisons.
func dump(t *testing.T, s codexgov.Store) string {
	t.Helper()
	st := must(s.State(context.Background()))
	st.Version = 0
	b, _ := json.Marshal(st)
	evs := must(s.AuditEvents(context.Background(), "a", codexgov.AuditFilter{Limit: 1000}))
	e, _ := json.Marshal(evs)
	return string(b) + string(e)
}

func testRejectedPolicy(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: baseline}))
	before := dump(t, s)
	v0 := must(s.Version(ctx))
	for _, tc := range []struct {
		name string
		in   codexgov.PolicyInput
		// field, line, column of the first detail
		field      string
		line, col  int
		wantInText string
	}{
		{"toml syntax", codexgov.PolicyInput{Name: "baseline", Requirements: "allowed_sandbox_modes = [\"read-only\"\n"}, "/requirements", 1, 37, ""},
		{"bad enum", codexgov.PolicyInput{Name: "baseline", Requirements: "allowed_sandbox_modes = [\"yolo\"]\n"}, "/requirements", 1, 26, "yolo"},
		{"new policy bad type", codexgov.PolicyInput{Name: "fresh", Requirements: "allowed_approval_policies = \"never\"\n"}, "/requirements", 1, 0, ""},
		{"bad defaults", codexgov.PolicyInput{Name: "baseline", Requirements: baseline, Defaults: "approval_policy = \"sometimes\"\n"}, "/defaults", 1, 0, ""},
		{"bad name", codexgov.PolicyInput{Name: "Base Line", Requirements: baseline}, "/name", 0, 0, ""},
	} {
		_, err := s.PutPolicy(ctx, "a", tc.in)
		var e *codexgov.Error
		if !errors.As(err, &e) || e.Code != codexgov.EINVALID || len(e.Details) == 0 {
			t.Errorf("%s: err = %v, want EINVALID with details", tc.name, err)
			continue
		}
		d := e.Details[0]
		if d.Field != tc.field || (tc.line > 0 && d.Line != tc.line) || (tc.col > 0 && d.Column != tc.col) {
			t.Errorf("%s: detail = %+v, want %s line %d col %d", tc.name, d, tc.field, tc.line, tc.col)
		}
	}
	if after := dump(t, s); after != before {
		t.Errorf("a rejected write changed the stored state:\nbefore %s\nafter  %s", before, after)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("state version moved from %d to %d", v0, v)
	}
}

func testAssignment(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "contractors"}))
	must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: baseline}))
	must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "strict", Requirements: strict}))
	a := codexgov.Assignment{Rules: []codexgov.Rule{{Group: "contractors", Policy: "strict"}, {Group: "eng", Policy: "baseline"}}, Default: "strict"}
	got := must(s.SetAssignment(ctx, "a", a))
	if !slices.Equal(got.Rules, a.Rules) {
		t.Errorf("set = %+v", got)
	}
	before := dump(t, s)
	_, err := s.SetAssignment(ctx, "a", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "baseline"}, {Group: "ghosts", Policy: "baseline"}, {Group: "eng", Policy: "strict"}}, Default: "none"})
	var e *codexgov.Error
	if !errors.As(err, &e) || e.Code != codexgov.EINVALID {
		t.Fatalf("invalid assignment: %v", err)
	}
	var fields []string
	for _, d := range e.Details {
		fields = append(fields, d.Field)
	}
	if !slices.Equal(fields, []string{"/rules/1/group", "/rules/2/group", "/default"}) {
		t.Errorf("detail fields = %v", fields)
	}
	if dump(t, s) != before {
		t.Error("rejected assignment changed the state")
	}
	stored := must(s.Assignment(ctx, "a"))
	if !slices.Equal(stored.Rules, a.Rules) || stored.Default != "strict" {
		t.Errorf("stored = %+v", stored)
	}
	if err := s.DeleteGroup(ctx, "a", "eng"); code(err) != codexgov.ECONFLICT {
		t.Errorf("delete assigned group: %v", err)
	}
	if err := s.DeletePolicy(ctx, "a", "strict"); code(err) != codexgov.ECONFLICT {
		t.Errorf("delete assigned policy: %v", err)
	}
	must(s.SetAssignment(ctx, "a", codexgov.Assignment{}))
	if err := s.DeletePolicy(ctx, "a", "strict"); err != nil {
		t.Errorf("delete unassigned policy: %v", err)
	}
}

func testCredentials(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	if has := must(s.HasServerKey(ctx)); has {
		t.Error("fresh store has a server key")
	}
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	k := must(s.CreateAPIKey(ctx, codexgov.APIKey{ID: id, Workspace: "a", Name: "ci", Scopes: []codexgov.Scope{"admin:write", "admin:read"}, Hash: hash}))
	if !slices.Equal(k.Scopes, []codexgov.Scope{"admin:read", "admin:write"}) || k.Secret != "" {
		t.Errorf("key = %+v", k)
	}
	if _, err := s.CreateAPIKey(ctx, codexgov.APIKey{ID: "key_x", Workspace: "a", Scopes: []codexgov.Scope{"server:admin"}, Hash: "h"}); code(err) != codexgov.EINVALID {
		t.Errorf("workspace key with server scope: %v", err)
	}
	ks := must(s.APIKeys(ctx, "a"))
	if len(ks) != 1 || ks[0].Hash != codexgov.HashSecret(secret) {
		t.Errorf("keys = %+v", ks)
	}
	if _, err := s.RevokeAPIKey(ctx, "b", id); code(err) != codexgov.ENOTFOUND {
		t.Errorf("revoke from another workspace: %v", err)
	}
	r := must(s.RevokeAPIKey(ctx, "a", id))
	if r.RevokedAt.IsZero() {
		t.Error("not revoked")
	}
	_, tid, thash := codexgov.NewSecret(codexgov.AccessTokenPrefix)
	exp := time.Now().Add(time.Hour)
	tok := must(s.CreateAccessToken(ctx, codexgov.AccessToken{ID: tid, Workspace: "a", User: "ann@example.com", Hash: thash, ExpiresAt: exp}))
	if tok.User != "ann@example.com" || tok.ExpiresAt.Sub(exp).Abs() > time.Millisecond {
		t.Errorf("token = %+v", tok)
	}
	if _, err := s.CreateAccessToken(ctx, codexgov.AccessToken{ID: "tok_y", Workspace: "b", User: "ann@example.com", Hash: "h2", ExpiresAt: exp}); code(err) != codexgov.ENOTFOUND {
		t.Errorf("token for a user of another workspace: %v", err)
	}
	st := must(s.State(ctx))
	if len(st.APIKeys) != 0 || len(st.AccessTokens) != 1 {
		t.Errorf("state holds %d keys and %d tokens, want 0 and 1", len(st.APIKeys), len(st.AccessTokens))
	}
	must(s.RevokeAccessToken(ctx, "a", tid))
	if st := must(s.State(ctx)); len(st.AccessTokens) != 0 {
		t.Error("revoked token still in state")
	}
}

// testNoChange: settings set to the values they have, and a second revoke,
// write nothing (no audit event, no state version) and say so with
// ErrNoChange and the object as it stands.
func testNoChange(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	on := true
	must(s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{AllowAccessTokens: &on}))
	key := must(s.CreateAPIKey(ctx, codexgov.APIKey{ID: "key_1", Workspace: "a", Name: "ci", Scopes: []codexgov.Scope{codexgov.ScopeAdminRead}, Hash: "h1"}))
	tok := must(s.CreateAccessToken(ctx, codexgov.AccessToken{ID: "tok_1", Workspace: "a", User: "ann@example.com", Hash: "h2", ExpiresAt: time.Now().Add(time.Hour)}))
	must(s.RevokeAPIKey(ctx, "a", key.ID))
	must(s.RevokeAccessToken(ctx, "a", tok.ID))
	version := must(s.Version(ctx))
	events := len(must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1000})))

	w, err := s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{AllowAccessTokens: &on})
	if !errors.Is(err, codexgov.ErrNoChange) || w == nil || !w.Settings.AllowAccessTokens {
		t.Errorf("settings set to what they are: %v, %+v; want ErrNoChange and the settings", err, w)
	}
	k, err := s.RevokeAPIKey(ctx, "a", key.ID)
	if !errors.Is(err, codexgov.ErrNoChange) || k == nil || k.RevokedAt.IsZero() {
		t.Errorf("second API key revoke: %v, %+v; want ErrNoChange and the revoked key", err, k)
	}
	at, err := s.RevokeAccessToken(ctx, "a", tok.ID)
	if !errors.Is(err, codexgov.ErrNoChange) || at == nil || at.RevokedAt.IsZero() {
		t.Errorf("second access token revoke: %v, %+v; want ErrNoChange", err, at)
	}
	if v := must(s.Version(ctx)); v != version {
		t.Errorf("state version moved from %d to %d on changes that changed nothing", version, v)
	}
	if n := len(must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1000}))); n != events {
		t.Errorf("%d audit events after changes that changed nothing, want %d", n, events)
	}
	// A real change still writes one.
	off := false
	if _, err := s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{AllowAccessTokens: &off}); err != nil {
		t.Fatal(err)
	}
	if n := len(must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1000}))); n != events+1 {
		t.Errorf("%d audit events after a real change, want %d", n, events+1)
	}
}

// testDeleteUser: a deleted user is gone with its memberships and access
// tokens, its other credentials are revoked, the audit event keeps it, and
// the email can be added again.
func testDeleteUser(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	u := must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	must(s.AddGroupMember(ctx, "a", "eng", "ann@example.com"))
	must(s.CreateAccessToken(ctx, codexgov.AccessToken{ID: "tok_1", Workspace: "a", User: "ann@example.com", Hash: "h1", ExpiresAt: time.Now().Add(time.Hour)}))
	must(s.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: "enr_1", Workspace: "a", User: "ann@example.com", Hash: "h2"}))
	if err := s.DeleteUser(ctx, "a", "ANN@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User(ctx, "a", "ann@example.com"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("deleted user: %v", err)
	}
	if g := must(s.Group(ctx, "a", "eng")); len(g.Members) != 0 {
		t.Errorf("members after delete: %v", g.Members)
	}
	if ts := must(s.AccessTokens(ctx, "a")); len(ts) != 0 {
		t.Errorf("access tokens after delete: %v", ts)
	}
	if es := must(s.EnrollmentTokens(ctx, "a")); len(es) != 1 || es[0].RevokedAt.IsZero() {
		t.Errorf("enrollment token after delete: %+v", es)
	}
	if err := s.DeleteUser(ctx, "a", "ann@example.com"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1}))
	if evs[0].Action != "user.delete" || !strings.Contains(string(evs[0].Before), u.ID) || !strings.Contains(string(evs[0].Before), "tok_1") {
		t.Errorf("audit event: %s %s", evs[0].Action, evs[0].Before)
	}
	again := must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	if again.ID == u.ID {
		t.Error("the re-created user has the deleted one's id")
	}
}

// testChangeLog: the change log names the workspace of every change since
// a version ("" for the server's own), and WorkspaceState reads one
// workspace's part of the state.
func testChangeLog(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	v := must(s.Version(ctx))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	must(s.CreateAPIKey(ctx, codexgov.APIKey{ID: "key_a", Workspace: "a", Name: "a", Scopes: []codexgov.Scope{codexgov.ScopeAdminRead}, Hash: "ha"}))
	must(s.CreateAPIKey(ctx, codexgov.APIKey{ID: "key_b", Workspace: "b", Name: "b", Scopes: []codexgov.Scope{codexgov.ScopeAdminRead}, Hash: "hb"}))
	wss, complete, err := s.ChangesSince(ctx, v)
	if err != nil || !complete || !slices.Equal(wss, []string{"a", "b"}) {
		t.Errorf("ChangesSince = %v, %v, %v; want [a b]", wss, complete, err)
	}
	v = must(s.Version(ctx))
	if wss, complete, _ := s.ChangesSince(ctx, v); !complete || len(wss) != 0 {
		t.Errorf("no change: %v, %v", wss, complete)
	}
	must(s.CreateAPIKey(ctx, codexgov.APIKey{ID: "key_srv", Name: "srv", Scopes: []codexgov.Scope{codexgov.ScopeServerAdmin}, Hash: "hs"}))
	if wss, _, _ := s.ChangesSince(ctx, v); !slices.Equal(wss, []string{""}) {
		t.Errorf("a server key: %v, want [\"\"]", wss)
	}
	// A replica older than the log reaches must read everything.
	if _, complete, _ := s.ChangesSince(ctx, -5); complete {
		t.Error("a version before the log is complete")
	}
	st := must(s.WorkspaceState(ctx, "a"))
	if len(st.Workspaces) != 1 || st.Workspaces[0].ID != "a" || len(st.Users["a"]) != 1 || len(st.APIKeys) != 1 || st.APIKeys[0].ID != "key_a" || len(st.SigningKeys) != 0 {
		t.Errorf("WorkspaceState(a): %d workspaces, users %v, keys %v", len(st.Workspaces), st.Users, st.APIKeys)
	}
	if st.Version != must(s.Version(ctx)) {
		t.Errorf("WorkspaceState version %d", st.Version)
	}
	if gone := must(s.WorkspaceState(ctx, "nope")); len(gone.Workspaces) != 0 {
		t.Errorf("a missing workspace: %+v", gone.Workspaces)
	}
}

func testAudit(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	must(s.AddGroupMember(ctx, "a", "eng", "ann@example.com"))
	on := true
	must(s.UpdateSettings(ctx, "a", codexgov.SettingsUpdate{AllowAccessTokens: &on}))
	if _, err := s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}); err == nil {
		t.Fatal("duplicate group accepted")
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 100}))
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
		if e.Actor != "api_key:key_test" || e.RequestID != "req_test" || e.Time.IsZero() {
			t.Errorf("event %+v", e)
		}
	}
	want := []string{"settings.update", "group.member.add", "user.create", "group.create", "workspace.create"}
	if !slices.Equal(actions, want) {
		t.Errorf("actions = %v, want %v (newest first; the failed create wrote none)", actions, want)
	}
	var before, after codexgov.Settings
	json.Unmarshal(evs[0].Before, &before)
	json.Unmarshal(evs[0].After, &after)
	if before.AllowAccessTokens || !after.AllowAccessTokens {
		t.Errorf("settings before/after = %s / %s", evs[0].Before, evs[0].After)
	}
	page := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 2}))
	page2 := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 2, Before: page[1].ID}))
	if len(page) != 2 || len(page2) != 2 || page2[0].Action != "user.create" {
		t.Errorf("pages: %d, %d", len(page), len(page2))
	}
	if other := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Before: evs[len(evs)-1].ID})); len(other) != 0 {
		t.Errorf("past the end: %d events", len(other))
	}
}

func testSigningKeys(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	k1 := must(s.AddSigningKey(ctx, codexgov.SigningKey{KID: "k1", PublicKey: []byte{1, 2}, PrivateEnc: []byte{3}}))
	must(s.AddSigningKey(ctx, codexgov.SigningKey{KID: "k2", PublicKey: []byte{4}, PrivateEnc: []byte{5}}))
	if !k1.Active {
		t.Error("k1 not active when added")
	}
	if _, err := s.RetireSigningKey(ctx, "k2"); code(err) != codexgov.ECONFLICT {
		t.Errorf("retire active key: %v", err)
	}
	ks := must(s.SigningKeys(ctx))
	if len(ks) != 2 || ks[0].Active || !ks[1].Active || !slices.Equal(ks[0].PublicKey, []byte{1, 2}) {
		t.Errorf("keys = %+v", ks)
	}
	must(s.RetireSigningKey(ctx, "k1"))
	st := must(s.State(ctx))
	if len(st.SigningKeys) != 1 || st.SigningKeys[0].KID != "k2" {
		t.Errorf("published = %+v", st.SigningKeys)
	}
}

func testState(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	v0 := must(s.Version(ctx))
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	must(s.AddGroupMember(ctx, "a", "eng", "ann@example.com"))
	must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "baseline", Requirements: baseline}))
	must(s.SetAssignment(ctx, "a", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "baseline"}}}))
	v := must(s.Version(ctx))
	if v != v0+6 {
		t.Errorf("version %d after 6 changes from %d", v, v0)
	}
	st := must(s.State(ctx))
	if st.Version != v || len(st.Users["a"]) != 1 || !slices.Equal(st.Users["a"][0].Groups, []string{"eng"}) ||
		len(st.Policies["a"]) != 1 || st.Assignments["a"].Rules[0].Policy != "baseline" || len(st.Roles["a"]) != 1 {
		t.Errorf("state = %+v", st)
	}
}

func testNoActor(t *testing.T, s codexgov.Store) {
	if _, err := s.CreateWorkspace(context.Background(), "a", ""); code(err) != codexgov.EINTERNAL {
		t.Errorf("change without actor: %v", err)
	}
	if ws := must(s.Workspaces(context.Background())); len(ws) != 0 {
		t.Errorf("unaudited change stored: %+v", ws)
	}
}

func configWorkspace(t *testing.T, s codexgov.Store) context.Context {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "ann@example.com"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "ci"}))
	return ctx
}

func testEnrollmentTokens(t *testing.T, s codexgov.Store) {
	ctx := configWorkspace(t, s)
	v0 := must(s.Version(ctx))
	for _, tc := range []struct {
		tok   codexgov.EnrollmentToken
		field string
	}{
		{codexgov.EnrollmentToken{User: "ann@example.com", Service: "x"}, "/service"},
		{codexgov.EnrollmentToken{}, "/user"},
		{codexgov.EnrollmentToken{User: "ann@example.com", Groups: []string{"ci"}}, "/groups"},
		{codexgov.EnrollmentToken{Service: "Bad Name"}, "/service"},
		{codexgov.EnrollmentToken{Service: "runners", Groups: []string{"ci", "nope"}}, "/groups/1"},
	} {
		tc.tok.ID, tc.tok.Workspace, tc.tok.Hash = "enr_bad", "a", "h-bad"
		_, err := s.CreateEnrollmentToken(ctx, tc.tok)
		var e *codexgov.Error
		if !errors.As(err, &e) || e.Code != codexgov.EINVALID || len(e.Details) == 0 || e.Details[0].Field != tc.field {
			t.Errorf("%+v: got %v, want EINVALID at %s", tc.tok, err, tc.field)
		}
	}
	if _, err := s.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: "enr_x", Workspace: "a", User: "bob@example.com", Hash: "h0"}); code(err) != codexgov.ENOTFOUND {
		t.Errorf("token for an unknown user: %v", err)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("refused tokens changed the state version %d -> %d", v0, v)
	}
	u := must(s.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: "enr_1", Workspace: "a", User: "ANN@example.com", Name: "laptop", Hash: "h1"}))
	svc := must(s.CreateEnrollmentToken(ctx, codexgov.EnrollmentToken{ID: "enr_2", Workspace: "a", Service: "runners", Groups: []string{"ci", "ci"}, Hash: "h2"}))
	if u.User != "ann@example.com" || u.Identity() != "user:ann@example.com" || svc.Identity() != "service:runners" || !slices.Equal(svc.Groups, []string{"ci"}) || u.CreatedBy != "api_key:key_test" {
		t.Errorf("created: %+v %+v", u, svc)
	}
	st := must(s.State(ctx))
	if len(st.EnrollmentTokens) != 2 || st.EnrollmentTokens[0].Hash != "h1" {
		t.Errorf("state tokens: %+v", st.EnrollmentTokens)
	}
	must(s.RevokeEnrollmentToken(ctx, "a", "enr_1"))
	if _, err := s.RevokeEnrollmentToken(ctx, "b", "enr_2"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("revoking from another workspace: %v", err)
	}
	st = must(s.State(ctx))
	if len(st.EnrollmentTokens) != 1 || st.EnrollmentTokens[0].ID != "enr_2" {
		t.Errorf("state after revoke: %+v", st.EnrollmentTokens)
	}
	ts := must(s.EnrollmentTokens(ctx, "a"))
	if len(ts) != 2 || ts[0].RevokedAt.IsZero() || !ts[1].RevokedAt.IsZero() {
		t.Errorf("list: %+v", ts)
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 3}))
	if evs[0].Action != "enrollment_token.revoke" || evs[1].Action != "enrollment_token.create" || strings.Contains(string(evs[1].After), "h2") {
		t.Errorf("audit: %s %s %s", evs[0].Action, evs[1].Action, evs[1].After)
	}
}

func testOAuthGrants(t *testing.T, s codexgov.Store) {
	ctx := configWorkspace(t, s)
	code1 := codexgov.OAuthCode{Hash: "c1", Workspace: "a", User: "ann@example.com", ClientID: "codex-cli", RedirectURI: "http://127.0.0.1:1/callback", Challenge: "ch", Scope: "codex.config", ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateOAuthCode(ctx, code1); err != nil {
		t.Fatal(err)
	}
	v0 := must(s.Version(ctx))
	pass := func(*codexgov.OAuthCode) error { return nil }
	deny := func(*codexgov.OAuthCode) error { return codexgov.Errorf(codexgov.EINVALIDGRANT, "pkce") }
	if _, err := s.ExchangeOAuthCode(ctx, "c1", deny, codexgov.OAuthGrant{ID: "g0", Workspace: "a", RefreshHash: "r0"}); code(err) != codexgov.EINVALIDGRANT {
		t.Fatalf("failed check: %v", err)
	}
	if _, err := s.ExchangeOAuthCode(ctx, "c1", pass, codexgov.OAuthGrant{ID: "g1", Workspace: "b", RefreshHash: "r1"}); code(err) != codexgov.EINVALIDGRANT {
		t.Fatalf("code of another workspace: %v", err)
	}
	g := must(s.ExchangeOAuthCode(ctx, "c1", pass, codexgov.OAuthGrant{ID: "g1", Workspace: "a", RefreshHash: "r1", UserAgent: "codex-cli"}))
	if g.User != "ann@example.com" || g.Scope != "codex.config" || g.ClientID != "codex-cli" {
		t.Errorf("grant: %+v", g)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("a sign-in moved the state version %d -> %d: every replica would recompile", v0, v)
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1}))
	if evs[0].Action != "oauth_grant.create" || evs[0].Target != "oauth_grant:g1" {
		t.Errorf("sign-in not audited: %+v", evs[0])
	}
	// Rotation, grace, reuse.
	hour := time.Hour
	g2, out := must2(s.RefreshOAuthGrant(ctx, "a", "r1", "r2", time.Minute, hour))
	if out != codexgov.RefreshRotated || g2.RotatedAt.IsZero() {
		t.Errorf("rotate: %v %+v", out, g2)
	}
	if _, out = must2(s.RefreshOAuthGrant(ctx, "a", "r1", "r3", time.Minute, hour)); out != codexgov.RefreshGrace {
		t.Errorf("previous token within grace: %v", out)
	}
	if _, _, err := s.RefreshOAuthGrant(ctx, "b", "r3", "r4", time.Minute, hour); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("refresh in another workspace: %v", err)
	}
	if _, _, err := s.RefreshOAuthGrant(ctx, "a", "r2", "r4", 0, hour); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("a rotated-out token: %v", err)
	}
	gs := must(s.OAuthGrants(ctx, "a"))
	if len(gs) != 1 || gs[0].RevokeReason != "refresh_reuse" {
		t.Fatalf("after reuse: %+v", gs)
	}
	st := must(s.State(ctx))
	if !slices.Equal(st.RevokedGrants["a"], []string{"g1"}) {
		t.Errorf("state revoked grants: %v", st.RevokedGrants)
	}
	if _, _, err := s.RefreshOAuthGrant(ctx, "a", "r3", "r5", time.Minute, hour); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("the current token of a revoked grant: %v", err)
	}
	// A code is single use: the second use revokes the grant it made.
	code2 := code1
	code2.Hash = "c2"
	must(struct{}{}, s.CreateOAuthCode(ctx, code2))
	must(s.ExchangeOAuthCode(ctx, "c2", pass, codexgov.OAuthGrant{ID: "g2", Workspace: "a", RefreshHash: "s1"}))
	if _, err := s.ExchangeOAuthCode(ctx, "c2", pass, codexgov.OAuthGrant{ID: "g3", Workspace: "a", RefreshHash: "s2"}); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("reused code: %v", err)
	}
	for _, g := range must(s.OAuthGrants(ctx, "a")) {
		if g.ID == "g3" || g.RevokedAt.IsZero() {
			t.Errorf("after code reuse: %+v", g)
		}
	}
	// An expired code.
	code3 := code1
	code3.Hash, code3.ExpiresAt = "c3", time.Now().Add(-time.Second)
	must(struct{}{}, s.CreateOAuthCode(ctx, code3))
	if _, err := s.ExchangeOAuthCode(ctx, "c3", pass, codexgov.OAuthGrant{ID: "g4", Workspace: "a", RefreshHash: "t1"}); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("expired code: %v", err)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func testDeliveries(t *testing.T, s codexgov.Store) {
	ctx := configWorkspace(t, s)
	must(s.CreateWorkspace(ctx, "b", ""))
	v0 := must(s.Version(ctx))
	t0 := time.Unix(1_800_000_000, 0).UTC()
	d := codexgov.Delivery{Workspace: "a", Device: "enr_1", Kind: codexgov.DeliveryEnrollment, Identity: "user:ann@example.com", Policy: "p", PolicyVersion: 1, BundleHash: "h1", UserAgent: "codex-cli", FirstFetch: t0, LastFetch: t0, Fetches: 3}
	must(struct{}{}, s.RecordDeliveries(ctx, []codexgov.Delivery{d, {Workspace: "b", Device: "enr_9", Kind: codexgov.DeliveryOAuth, Identity: "user:x@b", FirstFetch: t0, LastFetch: t0, Fetches: 1}}))
	d2 := d
	d2.PolicyVersion, d2.BundleHash, d2.FirstFetch, d2.LastFetch, d2.Fetches = 2, "h2", t0.Add(time.Hour), t0.Add(2*time.Hour), 2
	must(struct{}{}, s.RecordDeliveries(ctx, []codexgov.Delivery{d2}))
	ds := must(s.Deliveries(ctx, "a"))
	if len(ds) != 1 || ds[0].Fetches != 5 || !ds[0].FirstFetch.Equal(t0) || !ds[0].LastFetch.Equal(t0.Add(2*time.Hour)) || ds[0].PolicyVersion != 2 || ds[0].BundleHash != "h2" {
		t.Errorf("deliveries: %+v", ds)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("fetch records moved the state version")
	}
	if _, err := s.Deliveries(ctx, "nope"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("deliveries of a missing workspace: %v", err)
	}
}

func testSyncMachines(t *testing.T, s codexgov.Store) {
	ctx := configWorkspace(t, s)
	must(s.CreateWorkspace(ctx, "b", ""))
	v0 := must(s.Version(ctx))
	t0 := time.Unix(1_800_000_000, 0).UTC()
	m := codexgov.SyncMachine{Workspace: "a", Identity: "service:ci", Credential: "enr_1", LastReport: t0, LastApplied: t0,
		SyncReport: codexgov.SyncReport{MachineID: "m1", SyncHost: codexgov.SyncHost{Hostname: "ci-07", OS: "linux", Arch: "amd64", AgentVersion: "dev", CodexVersion: "0.169.0"},
			AppliedHash: "sha256:aa", Policy: "eng", PolicyVersion: 1, Result: codexgov.SyncApplied}}
	must(struct{}{}, s.RecordSyncReport(ctx, m))
	other := m
	other.Workspace, other.Hostname = "b", "elsewhere"
	must(struct{}{}, s.RecordSyncReport(ctx, other))
	// A failed run later: the last report moves, the last applied stays.
	m2 := m
	m2.LastReport, m2.LastApplied, m2.Result, m2.Error = t0.Add(time.Hour), time.Time{}, codexgov.SyncRefused, "bad signature"
	must(struct{}{}, s.RecordSyncReport(ctx, m2))
	ms := must(s.SyncMachines(ctx, "a"))
	if len(ms) != 1 {
		t.Fatalf("sync machines of a: %+v", ms)
	}
	got := ms[0]
	if got.Reports != 2 || !got.FirstReport.Equal(t0) || !got.LastReport.Equal(t0.Add(time.Hour)) || !got.LastApplied.Equal(t0) ||
		got.Result != codexgov.SyncRefused || got.Error != "bad signature" || got.Hostname != "ci-07" || got.AppliedHash != "sha256:aa" || got.Credential != "enr_1" {
		t.Errorf("sync machine after two reports: %+v", got)
	}
	if bs := must(s.SyncMachines(ctx, "b")); len(bs) != 1 || bs[0].Hostname != "elsewhere" || bs[0].Reports != 1 {
		t.Errorf("sync machines of b: %+v", bs)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("sync reports moved the state version")
	}
	if _, err := s.SyncMachines(ctx, "nope"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("sync machines of a missing workspace: %v", err)
	}
}

// testOptimisticConcurrency: a policy written over a version that is no
// longer current, or an assignment over one that changed, is refused
// with a conflict and stores nothing.
func testOptimisticConcurrency(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "ops"}))
	zero, one := 0, 1
	v1 := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "p", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n", BaseVersion: &zero}))
	if _, err := s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "p", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n# two\n", BaseVersion: &zero}); codexgov.ErrorCode(err) != codexgov.ECONFLICT {
		t.Fatalf("a write over version 0 of a policy at version 1: %v", err)
	}
	v2 := must(s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "p", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n# two\n", BaseVersion: &one}))
	if _, err := s.PutPolicy(ctx, "a", codexgov.PolicyInput{Name: "p", Requirements: "allowed_sandbox_modes = [\"read-only\"]\n# three\n", BaseVersion: &one}); codexgov.ErrorCode(err) != codexgov.ECONFLICT {
		t.Fatalf("a second write over version 1: %v", err)
	}
	if cur := must(s.Policy(ctx, "a", "p", 0)); v1.Version != 1 || v2.Version != 2 || cur.Version != 2 || !strings.Contains(cur.Requirements, "# two") {
		t.Errorf("after the refused write: version %d %q", cur.Version, cur.Requirements)
	}
	a := must(s.SetAssignment(ctx, "a", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "p"}, {Group: "ops", Policy: "p"}}}))
	stale := codexgov.AssignmentETag(a)
	must(s.SetAssignment(ctx, "a", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "ops", Policy: "p"}, {Group: "eng", Policy: "p"}}, IfMatch: `"` + stale + `"`}))
	if _, err := s.SetAssignment(ctx, "a", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "p"}}, IfMatch: stale}); codexgov.ErrorCode(err) != codexgov.ECONFLICT {
		t.Fatalf("an assignment over a stale entity tag: %v", err)
	}
	if got := must(s.Assignment(ctx, "a")); len(got.Rules) != 2 || got.Rules[0].Group != "ops" {
		t.Errorf("after the refused write: %+v", got.Rules)
	}
}
