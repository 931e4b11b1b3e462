package storetest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// testSCIMDirectory covers what SCIM provisioning needs: stable IDs,
// external IDs and profiles, group names as identity providers spell
// them, one-step group updates and a groups-claim sync.
func testSCIMDirectory(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	profile := json.RawMessage(`{"name":{"givenName":"Ann"}}`)
	u := must(s.CreateUser(ctx, "a", codexgov.User{Email: "Ann@Example.com", ExternalID: "okta-1", Profile: profile}))
	if len(u.ID) < 8 || u.ID[:4] != "usr_" || u.ExternalID != "okta-1" {
		t.Fatalf("created user: %+v", u)
	}
	got := must(s.UserByID(ctx, "a", u.ID))
	if got.Email != "ann@example.com" || got.ExternalID != "okta-1" || !bytes.Equal(got.Profile, profile) {
		t.Errorf("by id: %+v profile %s", got, got.Profile)
	}
	if _, err := s.UserByID(ctx, "b", u.ID); code(err) != codexgov.ENOTFOUND {
		t.Errorf("another workspace's user by id: %v", err)
	}
	x, p := "okta-9", json.RawMessage(`{"title":"eng"}`)
	got = must(s.UpdateUser(ctx, "a", "ann@example.com", codexgov.UserUpdate{ExternalID: &x, Profile: &p}))
	if got.ExternalID != "okta-9" || string(got.Profile) != `{"title":"eng"}` {
		t.Errorf("update external id/profile: %+v", got)
	}
	must(s.CreateUser(ctx, "a", codexgov.User{Email: "bob@example.com"}))

	for _, bad := range []string{"", " lead", "tab\tin", string([]byte{0xff})} {
		if _, err := s.CreateGroup(ctx, "a", codexgov.Group{Name: bad}); code(err) != codexgov.EINVALID {
			t.Errorf("group name %q: %v", bad, err)
		}
	}
	g := must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "Codex Admins", ExternalID: "00g1"}))
	if g.ID[:4] != "grp_" || g.ExternalID != "00g1" {
		t.Fatalf("group: %+v", g)
	}
	if byID := must(s.GroupByID(ctx, "a", g.ID)); byID.Name != "Codex Admins" {
		t.Errorf("group by id: %+v", byID)
	}
	if _, err := s.GroupByID(ctx, "b", g.ID); code(err) != codexgov.ENOTFOUND {
		t.Errorf("another workspace's group by id: %v", err)
	}
	v0 := must(s.Version(ctx))
	desc := "from Okta"
	g = must(s.UpdateGroup(ctx, "a", "Codex Admins", codexgov.GroupUpdate{Description: &desc, AddMembers: []string{"ANN@example.com", "bob@example.com", "ann@example.com"}, RemoveMembers: []string{"bob@example.com", "nobody@example.com"}}))
	if !slices.Equal(g.Members, []string{"ann@example.com"}) || g.Description != "from Okta" {
		t.Errorf("update group: %+v", g)
	}
	if v := must(s.Version(ctx)); v != v0+1 {
		t.Errorf("one update moved the version %d -> %d, want one step", v0, v)
	}
	if ev := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1}))[0]; ev.Action != "group.update" || ev.Target != "group:Codex Admins" {
		t.Errorf("audit: %+v", ev)
	}
	before := must(s.Version(ctx))
	if _, err := s.UpdateGroup(ctx, "a", "Codex Admins", codexgov.GroupUpdate{AddMembers: []string{"bob@example.com", "ghost@example.com"}}); code(err) != codexgov.ENOTFOUND {
		t.Errorf("adding an unknown user: %v", err)
	}
	if g := must(s.Group(ctx, "a", "Codex Admins")); !slices.Equal(g.Members, []string{"ann@example.com"}) || must(s.Version(ctx)) != before {
		t.Errorf("a failed update left a partial write: %+v", g)
	}

	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "eng"}))
	must(s.CreateGroup(ctx, "a", codexgov.Group{Name: "sec"}))
	u = must(s.SetUserGroups(ctx, "a", "ann@example.com", []string{"eng", "sec", "not-a-group"}))
	if !slices.Equal(u.Groups, []string{"eng", "sec"}) {
		t.Errorf("sync: %v", u.Groups)
	}
	v1 := must(s.Version(ctx))
	u = must(s.SetUserGroups(ctx, "a", "ann@example.com", []string{"sec", "eng"}))
	if !slices.Equal(u.Groups, []string{"eng", "sec"}) || must(s.Version(ctx)) != v1 {
		t.Errorf("a sync that changes nothing: %v, version moved %v", u.Groups, must(s.Version(ctx)) != v1)
	}
	if ev := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1}))[0]; ev.Action != "user.groups.sync" || string(ev.Before) != `["Codex Admins"]` || string(ev.After) != `["eng","sec"]` {
		t.Errorf("sync audit: %+v", ev)
	}
}

func testIdentityProviders(t *testing.T, s codexgov.Store) {
	ctx := Actor()
	must(s.CreateWorkspace(ctx, "a", ""))
	must(s.CreateWorkspace(ctx, "b", ""))
	p := codexgov.IdentityProvider{Name: "okta", Workspace: "a", Issuer: "https://idp.example.com", ClientID: "cid", ClientSecretEnc: []byte("sealed-1"), AllowedDomain: "Example.com", GroupsClaim: "groups"}
	for _, tc := range []struct {
		edit  func(*codexgov.IdentityProvider)
		field string
	}{
		{func(p *codexgov.IdentityProvider) { p.Name = "Bad Name" }, "/name"},
		{func(p *codexgov.IdentityProvider) { p.Issuer = "idp.example.com" }, "/issuer"},
		{func(p *codexgov.IdentityProvider) { p.ClientID = " " }, "/client_id"},
		{func(p *codexgov.IdentityProvider) { p.AllowedDomain = "@example.com" }, "/allowed_domain"},
		{func(p *codexgov.IdentityProvider) { p.ClientSecretEnc = nil }, "/client_secret"},
	} {
		bad := p
		tc.edit(&bad)
		_, err := s.PutIdentityProvider(ctx, bad)
		if e, ok := err.(*codexgov.Error); !ok || e.Code != codexgov.EINVALID || len(e.Details) == 0 || e.Details[0].Field != tc.field {
			t.Errorf("want EINVALID at %s, got %v", tc.field, err)
		}
	}
	got := must(s.PutIdentityProvider(ctx, p))
	if got.AllowedDomain != "example.com" || got.ClientSecret != "" {
		t.Errorf("put: %+v", got)
	}
	// A replace without a secret keeps the stored one.
	p2 := p
	p2.ClientSecretEnc, p2.GroupsClaim = nil, ""
	must(s.PutIdentityProvider(ctx, p2))
	got = must(s.IdentityProvider(ctx, "a", "okta"))
	if string(got.ClientSecretEnc) != "sealed-1" || got.GroupsClaim != "" {
		t.Errorf("replace: %+v", got)
	}
	if _, err := s.IdentityProvider(ctx, "b", "okta"); code(err) != codexgov.ENOTFOUND {
		t.Errorf("another workspace's provider: %v", err)
	}
	if l := must(s.IdentityProviders(ctx, "b")); len(l) != 0 {
		t.Errorf("b lists %d providers", len(l))
	}
	if ev := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1}))[0]; ev.Action != "identity_provider.put" || bytes.Contains(ev.After, []byte("sealed-1")) {
		t.Errorf("audit: %+v", ev)
	}
	if err := s.DeleteIdentityProvider(ctx, "a", "okta"); err != nil {
		t.Fatal(err)
	}
	if l := must(s.IdentityProviders(ctx, "a")); len(l) != 0 {
		t.Errorf("after delete: %d", len(l))
	}
}

func testDeviceAuthorizations(t *testing.T, s codexgov.Store) {
	ctx := configWorkspace(t, s)
	must(s.CreateWorkspace(ctx, "b", ""))
	now := time.Now()
	mk := func(hash, code, ws string, expires time.Time) {
		t.Helper()
		if err := s.CreateDeviceAuthorization(ctx, codexgov.DeviceAuthorization{DeviceHash: hash, UserCode: code, ClientID: "codexgov-cli", Scope: "admin", Workspace: ws, Interval: 5 * time.Second, ExpiresAt: expires, UserAgent: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	mk("d1", "AAAABBBB", "", now.Add(10*time.Minute))
	d := must(s.DeviceAuthorization(ctx, "AAAABBBB"))
	if d.Status != codexgov.DeviceAuthPending || d.ClientID != "codexgov-cli" || d.Interval != 5*time.Second {
		t.Fatalf("pending: %+v", d)
	}
	if _, poll := must2(s.PollDeviceAuthorization(ctx, "d1", codexgov.OAuthGrant{ID: "g1", RefreshHash: "r1"})); poll != codexgov.PollAuthorizationPending {
		t.Errorf("first poll: %v", poll)
	}
	if _, poll := must2(s.PollDeviceAuthorization(ctx, "d1", codexgov.OAuthGrant{ID: "g1", RefreshHash: "r1"})); poll != codexgov.PollSlowDown {
		t.Errorf("immediate second poll: %v", poll)
	}
	if d := must(s.DeviceAuthorization(ctx, "AAAABBBB")); d.Interval != 10*time.Second {
		t.Errorf("interval after slow_down: %v", d.Interval)
	}
	v0 := must(s.Version(ctx))
	if err := s.DecideDeviceAuthorization(ctx, "AAAABBBB", "a", "ann@example.com", true); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideDeviceAuthorization(ctx, "AAAABBBB", "a", "ann@example.com", false); code(err) != codexgov.ECONFLICT {
		t.Errorf("second decision: %v", err)
	}
	g, poll := must2(s.PollDeviceAuthorization(ctx, "d1", codexgov.OAuthGrant{ID: "g1", RefreshHash: "r1"}))
	if poll != codexgov.PollIssued || g.Workspace != "a" || g.User != "ann@example.com" || g.ClientID != "codexgov-cli" {
		t.Fatalf("after approval: %v %+v", poll, g)
	}
	if _, _, err := s.PollDeviceAuthorization(ctx, "d1", codexgov.OAuthGrant{ID: "g2", RefreshHash: "r2"}); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("second redemption: %v", err)
	}
	if v := must(s.Version(ctx)); v != v0 {
		t.Errorf("a device sign-in moved the state version")
	}
	evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 2}))
	if evs[0].Action != "oauth_grant.create" || evs[1].Action != "device_login.approve" {
		t.Errorf("audit: %s, %s", evs[0].Action, evs[1].Action)
	}
	if g, _ := must2(s.RefreshOAuthGrant(ctx, "", "r1", "r1b", time.Minute, time.Hour)); g.ID != "g1" {
		t.Errorf("refresh without a workspace: %+v", g)
	}

	mk("d2", "CCCCDDDD", "a", now.Add(10*time.Minute))
	if err := s.DecideDeviceAuthorization(ctx, "CCCCDDDD", "b", "bo@example.com", true); code(err) != codexgov.EINVALID {
		t.Errorf("approving another workspace's device: %v", err)
	}
	if err := s.DecideDeviceAuthorization(ctx, "CCCCDDDD", "a", "ann@example.com", false); err != nil {
		t.Fatal(err)
	}
	if _, poll := must2(s.PollDeviceAuthorization(ctx, "d2", codexgov.OAuthGrant{ID: "g3", RefreshHash: "r3"})); poll != codexgov.PollDenied {
		t.Errorf("denied: %v", poll)
	}
	mk("d3", "EEEEFFFF", "", now.Add(-time.Second))
	if _, poll := must2(s.PollDeviceAuthorization(ctx, "d3", codexgov.OAuthGrant{ID: "g4", RefreshHash: "r4"})); poll != codexgov.PollExpired {
		t.Errorf("expired: %v", poll)
	}
	if err := s.DecideDeviceAuthorization(ctx, "EEEEFFFF", "a", "ann@example.com", true); code(err) != codexgov.EINVALID {
		t.Errorf("approving an expired code: %v", err)
	}
	if _, _, err := s.PollDeviceAuthorization(ctx, "nope", codexgov.OAuthGrant{ID: "g5", RefreshHash: "r5"}); code(err) != codexgov.EINVALIDGRANT {
		t.Errorf("unknown device code: %v", err)
	}
}
