package codexgov_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

func TestDecide(t *testing.T) {
	on := codexgov.Settings{AllowCodexLocal: true, AllowCodexCloud: true}
	active := &codexgov.User{Email: "a@x.test", Active: true}
	local := []codexgov.Permission{codexgov.PermCodexLocal}
	for _, tc := range []struct {
		name    string
		s       codexgov.Settings
		u       *codexgov.User
		perms   []codexgov.Permission
		surface codexgov.Surface
		allowed bool
		reason  string
	}{
		{"allowed locally", on, active, local, codexgov.SurfaceLocal, true, "Codex local is on and the user's roles have codex_local"},
		{"no such user", on, nil, local, codexgov.SurfaceLocal, false, "the user is not in the workspace"},
		{"deactivated wins over permissions", on, &codexgov.User{Active: false}, local, codexgov.SurfaceLocal, false, "the user is deactivated"},
		{"surface off", codexgov.Settings{AllowCodexCloud: true}, active, local, codexgov.SurfaceLocal, false, "Codex local is turned off for the workspace"},
		{"permission missing", on, active, local, codexgov.SurfaceCloud, false, "none of the user's roles has the codex_cloud permission"},
		{"cloud allowed", on, active, []codexgov.Permission{codexgov.PermCodexCloud}, codexgov.SurfaceCloud, true, "Codex cloud is on and the user's roles have codex_cloud"},
		{"unknown surface", on, active, local, codexgov.Surface("ide"), false, `unknown surface "ide"`},
		{"no permissions at all", on, active, nil, codexgov.SurfaceLocal, false, "none of the user's roles has the codex_local permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := codexgov.Decide(tc.s, tc.u, tc.perms, tc.surface)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Errorf("Decide = %+v, want allowed=%v %q", d, tc.allowed, tc.reason)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	a := codexgov.Assignment{Rules: []codexgov.Rule{{Group: "contractors", Policy: "strict"}, {Group: "eng", Policy: "baseline"}}, Default: "fallback"}
	in := func(groups ...string) func(string) bool {
		return func(g string) bool { return slices.Contains(groups, g) }
	}
	for _, tc := range []struct {
		name     string
		a        codexgov.Assignment
		groups   []string
		rule     int
		policy   string
		fallback bool
		skipped  int
	}{
		{"first rule", a, []string{"contractors", "eng"}, 1, "strict", false, 0},
		{"first match wins, earlier rules explained", a, []string{"eng"}, 2, "baseline", false, 1},
		{"no match: the default", a, []string{"sales"}, 0, "fallback", true, 2},
		{"no match and no default", codexgov.Assignment{Rules: a.Rules}, nil, 0, "", false, 2},
		{"empty assignment", codexgov.Assignment{}, []string{"eng"}, 0, "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.a.Select("user ann@x.test", in(tc.groups...))
			if m.Rule != tc.rule || m.Policy != tc.policy || m.Fallback != tc.fallback || len(m.Skipped) != tc.skipped || m.Reason == "" {
				t.Errorf("Select = %+v", m)
			}
			for _, sk := range m.Skipped {
				if !strings.Contains(sk.Reason, "user ann@x.test is not in group") {
					t.Errorf("skipped reason %q", sk.Reason)
				}
			}
		})
	}
}

func TestAllows(t *testing.T) {
	for _, tc := range []struct {
		have []codexgov.Scope
		want codexgov.Scope
		ok   bool
	}{
		{[]codexgov.Scope{codexgov.ScopeServerAdmin}, codexgov.ScopeSCIM, true},
		{[]codexgov.Scope{codexgov.ScopeAdminRead}, codexgov.ScopeAdminRead, true},
		{[]codexgov.Scope{codexgov.ScopeAdminRead}, codexgov.ScopeAdminWrite, false},
		{[]codexgov.Scope{codexgov.ScopeAdminWrite}, codexgov.ScopeAdminRead, true},
		{[]codexgov.Scope{codexgov.ScopeCredentialsWrite}, codexgov.ScopeAdminRead, true},
		{[]codexgov.Scope{codexgov.ScopeAdminWrite}, codexgov.ScopeAuditRead, false},
		{[]codexgov.Scope{codexgov.ScopeSCIM}, codexgov.ScopeAdminRead, false},
		{[]codexgov.Scope{codexgov.ScopeAuditRead}, codexgov.ScopeAdminRead, false},
		{nil, codexgov.ScopeAdminRead, false},
	} {
		if got := codexgov.Allows(tc.have, tc.want); got != tc.ok {
			t.Errorf("Allows(%v, %s) = %v, want %v", tc.have, tc.want, got, tc.ok)
		}
	}
}

func TestLifetimes(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		l    codexgov.Lifetime
		in   string
		want time.Duration // -1: no expiry
		err  string
	}{
		{"access token default", codexgov.AccessTokenLifetime, "", 90 * 24 * time.Hour, ""},
		{"access token asked", codexgov.AccessTokenLifetime, "720h", 720 * time.Hour, ""},
		{"access token over the limit", codexgov.AccessTokenLifetime, "8785h", 0, "at most 8784h (366 days)"},
		{"access token never is refused", codexgov.AccessTokenLifetime, "never", 0, "above zero"},
		{"enrollment default: a year", codexgov.EnrollmentTokenLifetime, "", 365 * 24 * time.Hour, ""},
		{"enrollment never", codexgov.EnrollmentTokenLifetime, "never", -1, ""},
		{"api key default: none", codexgov.APIKeyLifetime, "", -1, ""},
		{"api key asked", codexgov.APIKeyLifetime, "2160h", 2160 * time.Hour, ""},
		{"negative", codexgov.APIKeyLifetime, "-1h", 0, `or "never" for no expiry`},
		{"garbage", codexgov.EnrollmentTokenLifetime, "a year", 0, "a duration such as"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, err := tc.l.ExpiresAt("/expires_in", tc.in, now)
			if tc.err != "" {
				var e *codexgov.Error
				if !errors.As(err, &e) || e.Details[0].Field != "/expires_in" || !strings.Contains(e.Details[0].Message, tc.err) {
					t.Errorf("err %v, want one at /expires_in saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want < 0 && !at.IsZero() || tc.want >= 0 && !at.Equal(now.Add(tc.want)) {
				t.Errorf("expires %v, want now+%v", at, tc.want)
			}
		})
	}
}

func TestSyncReportValidate(t *testing.T) {
	good := codexgov.SyncReport{MachineID: "machine-0001", Result: codexgov.SyncApplied, PinnedKIDs: []string{"k1"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*codexgov.SyncReport)
		field string
	}{
		{"short machine id", func(r *codexgov.SyncReport) { r.MachineID = "laptop7" }, "/machine_id"},
		{"bad hash", func(r *codexgov.SyncReport) { r.AppliedHash = "md5:x" }, "/applied_hash"},
		{"unknown result", func(r *codexgov.SyncReport) { r.Result = "ok" }, "/result"},
		{"negative version", func(r *codexgov.SyncReport) { r.PolicyVersion = -1 }, "/policy_version"},
		{"invalid UTF-8", func(r *codexgov.SyncReport) { r.Hostname = "\xff" }, "/hostname"},
		{"empty kid", func(r *codexgov.SyncReport) { r.PinnedKIDs = []string{""} }, "/pinned_kids/0"},
	} {
		r := good
		tc.edit(&r)
		var e *codexgov.Error
		if err := r.Validate(); !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Field != tc.field {
			t.Errorf("%s: %v, want one detail at %s", tc.name, err, tc.field)
		}
	}
}

// TestJoinDevices: the devices list's rules, without a database.
func TestJoinDevices(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	target := codexgov.DeliveryTarget{Policy: "eng", PolicyVersion: 2, BundleHash: "h2"}
	denied := codexgov.DeliveryTarget{BundleHash: codexgov.DeliveryDenied}
	in := codexgov.DeviceSources{
		Workspace: "acme",
		Recorded: []*codexgov.Delivery{
			{Workspace: "acme", Device: "enr_current", Kind: codexgov.DeliveryEnrollment, Identity: "user:a@x.test", BundleHash: "h2", LastFetch: now.Add(-time.Minute)},
			{Workspace: "acme", Device: "enr_refused", Kind: codexgov.DeliveryEnrollment, Identity: "user:b@x.test", BundleHash: codexgov.DeliveryDenied, LastFetch: now.Add(-time.Minute)},
			{Workspace: "acme", Device: "enr_revoked", Kind: codexgov.DeliveryEnrollment, Identity: "user:a@x.test", BundleHash: "h2", LastFetch: now},
		},
		Enrollment: []*codexgov.EnrollmentToken{{ID: "enr_current", User: "a@x.test"}, {ID: "enr_refused", User: "b@x.test"}, {ID: "enr_sync_only", User: "a@x.test"}, {ID: "enr_never", User: "c@x.test"}},
		Grants: []*codexgov.OAuthGrant{
			{ID: "grant_codex", User: "a@x.test", ClientID: "codex"},
			{ID: "grant_login", User: "a@x.test", ClientID: "codexgov-cli"},
			{ID: "grant_revoked", User: "a@x.test", ClientID: "codex", RevokedAt: now},
		},
		Machines: []*codexgov.SyncMachine{
			{Workspace: "acme", Identity: "user:a@x.test", Credential: "enr_sync_only", SyncReport: codexgov.SyncReport{MachineID: "machine-1", AppliedHash: "h2", Result: codexgov.SyncUnchanged}, LastReport: now},
			{Workspace: "acme", Identity: "user:b@x.test", Credential: "enr_refused", SyncReport: codexgov.SyncReport{MachineID: "machine-2", Result: codexgov.SyncDenied}, LastReport: now},
		},
		CLIClientID: "codexgov-cli",
		Target: func(d *codexgov.Delivery) (codexgov.DeliveryTarget, bool) {
			if d.Device == "enr_revoked" {
				return codexgov.DeliveryTarget{}, false
			}
			if d.Identity == "user:b@x.test" {
				return denied, true
			}
			return target, true
		},
		SyncTarget: func(m *codexgov.SyncMachine) codexgov.DeliveryTarget {
			if m.Identity == "user:b@x.test" {
				return denied
			}
			return target
		},
		Now: now, StaleAfter: 72 * time.Hour,
	}
	got := map[string]codexgov.DeviceStatus{}
	for _, d := range codexgov.JoinDevices(in) {
		if _, dup := got[d.Device]; dup {
			t.Errorf("device %s listed twice", d.Device)
		}
		got[d.Device] = d
	}
	want := map[string]string{"enr_current": codexgov.DeviceCurrent, "enr_refused": codexgov.DeviceDenied, "enr_never": codexgov.DeviceStale,
		"grant_codex": codexgov.DeviceStale, "machine-1": codexgov.DeviceCurrent, "machine-2": codexgov.DeviceDenied}
	for dev, state := range want {
		if got[dev].State != state {
			t.Errorf("%s: state %q, want %q", dev, got[dev].State, state)
		}
	}
	for _, absent := range []string{"enr_sync_only", "grant_login", "grant_revoked", "enr_revoked"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s is listed as a device of its own", absent)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d devices, want %d", len(got), len(want))
	}
	// Codex keeps no cache after a 403; one hour after a served bundle.
	if !got["enr_refused"].CacheExpires.IsZero() {
		t.Errorf("a refused device has a cache until %v", got["enr_refused"].CacheExpires)
	}
	if e := got["enr_current"].CacheExpires; !e.Equal(now.Add(-time.Minute).Add(time.Hour)) {
		t.Errorf("cache expires %v", e)
	}
	// "Never" is an absent field, not year 1.
	b, _ := json.Marshal(got["enr_never"])
	if strings.Contains(string(b), "0001-01-01") || strings.Contains(string(b), "last_fetch") {
		t.Errorf("a never-fetched device: %s", b)
	}
	// Filtering by identity.
	in.Identity = "user:b@x.test"
	for _, d := range codexgov.JoinDevices(in) {
		if d.Identity != "user:b@x.test" {
			t.Errorf("identity filter let %s through", d.Device)
		}
	}
}

// A person's compliance permissions carry the Compliance API's scopes:
// compliance_read reads it, compliance_delete also deletes; neither
// carries the admin scopes.
func TestUserScopesCompliance(t *testing.T) {
	for _, c := range []struct {
		perms []codexgov.Permission
		want  []codexgov.Scope
	}{
		{[]codexgov.Permission{codexgov.PermComplianceRead}, []codexgov.Scope{codexgov.ScopeAuditRead, codexgov.ScopeComplianceRead}},
		{[]codexgov.Permission{codexgov.PermComplianceDelete}, []codexgov.Scope{codexgov.ScopeComplianceRead, codexgov.ScopeComplianceDelete}},
		{[]codexgov.Permission{codexgov.PermCodexLocal}, nil},
	} {
		got := codexgov.UserScopes(c.perms)
		if !slices.Equal(got, c.want) {
			t.Errorf("codexgov.UserScopes(%v) = %v, want %v", c.perms, got, c.want)
		}
		if codexgov.Allows(got, codexgov.ScopeAdminWrite) {
			t.Errorf("%v allows admin:write", c.perms)
		}
	}
}
