package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// TestCredentialLifetimesAndWhoAmI: whoami names the credential; API keys
// may expire and record their last use; enrollment tokens expire after a
// year unless asked otherwise.
func TestCredentialLifetimesAndWhoAmI(t *testing.T) {
	var skew atomic.Int64
	m := &Main{DataDir: filepath.Join(t.TempDir(), "data"), Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	srvURL, key := startServer(t, m)
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")

	var who codexgov.WhoAmI
	admin.json(&who, "whoami")
	if who.Kind != "api_key" || who.Workspace != "" || len(who.Scopes) != 1 || who.Scopes[0] != codexgov.ScopeServerAdmin || !strings.HasPrefix(who.Actor, "api_key:key_") {
		t.Errorf("whoami with the server key: %+v", who)
	}

	var k codexgov.APIKey
	admin.json(&k, "api-keys", "create", "ci", "--scope", "admin:read", "--expires-in", "1h")
	if d := k.ExpiresAt.Sub(k.CreatedAt); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Errorf("key expiry %v (created %v)", k.ExpiresAt, k.CreatedAt)
	}
	ci := cli{t: t, server: srvURL, token: k.Secret, ws: "acme"}
	ci.json(&who, "whoami")
	if who.Kind != "api_key" || who.ID != k.ID || who.Workspace != "acme" || who.ExpiresAt.IsZero() {
		t.Errorf("whoami with a workspace key: %+v", who)
	}
	if out, _ := ci.run(0, "whoami"); !strings.Contains(out, "api_key:"+k.ID) || !strings.Contains(out, "admin:read") {
		t.Errorf("whoami text:\n%s", out)
	}
	// Its use is recorded (in a batch, written here at once).
	if err := m.API.FlushCredentialUse(context.Background()); err != nil {
		t.Fatal(err)
	}
	var keys []codexgov.APIKey
	admin.json(&keys, "api-keys", "list")
	if len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
		t.Errorf("last use not recorded: %+v", keys)
	}
	if out, _ := admin.run(0, "api-keys", "list"); !strings.Contains(out, "LAST USED") {
		t.Errorf("api-keys list has no LAST USED column:\n%s", out)
	}
	// An hour later the key is refused, and says why.
	skew.Store(int64(61 * time.Minute))
	if _, stderr, code := ci.runIn("", "whoami"); code != 1 || !strings.Contains(stderr, "the API key expired at") {
		t.Errorf("an expired key: exit %d, %s", code, stderr)
	}
	skew.Store(0)
	if _, stderr, code := admin.runIn("", "api-keys", "create", "bad", "--scope", "admin:read", "--expires-in", "-1h"); code != 1 || !strings.Contains(stderr, "/expires_in") {
		t.Errorf("a negative expiry: exit %d, %s", code, stderr)
	}

	// Enrollment tokens: a year by default, never when asked.
	admin.run(0, "users", "add", "ann@acme.test")
	var et codexgov.EnrollmentToken
	admin.json(&et, "enrollment-tokens", "issue", "--user", "ann@acme.test")
	if d := et.ExpiresAt.Sub(et.CreatedAt); d < codexgov.EnrollmentTokenLifetime.Default-time.Second || d > codexgov.EnrollmentTokenLifetime.Default+time.Second {
		t.Errorf("enrollment token lifetime %v, want a year", d)
	}
	var never codexgov.EnrollmentToken
	admin.json(&never, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--expires-in", "never")
	if !never.ExpiresAt.IsZero() || never.ID == "" {
		t.Errorf("--expires-in never: %+v", never)
	}
	// An access token over the limit is refused with the rule.
	admin.run(0, "settings", "set", "--allow-access-tokens")
	if _, stderr, code := admin.runIn("", "access-tokens", "issue", "ann@acme.test", "--expires-in", "9000h"); code != 1 || !strings.Contains(stderr, "at most 8784h (366 days)") {
		t.Errorf("access token over the limit: exit %d, %s", code, stderr)
	}
}

// TestRetireRefusedWhileMachinesTrustOnlyTheKey: after a rotation, the old
// key is not retired while a sync machine has pinned only it.
func TestRetireRefusedWhileMachinesTrustOnlyTheKey(t *testing.T) {
	m := &Main{DataDir: filepath.Join(t.TempDir(), "data")}
	srvURL, key := startServer(t, m)
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	var keys []codexgov.SigningKey
	admin.json(&keys, "signing-keys", "list")
	old := keys[0].KID
	admin.run(0, "signing-keys", "rotate")
	admin.json(&keys, "signing-keys", "list")
	var active string
	for _, k := range keys {
		if k.Active {
			active = k.KID
		}
	}
	report := func(machine string, pinned ...string) {
		t.Helper()
		err := m.Store.RecordSyncReport(context.Background(), codexgov.SyncMachine{Workspace: "acme", Identity: "user:ann@acme.test", Credential: "enr_1",
			SyncReport: codexgov.SyncReport{MachineID: machine, SyncHost: codexgov.SyncHost{Hostname: "laptop"}, Result: codexgov.SyncUnchanged, PinnedKIDs: pinned},
			LastReport: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	report("machine-0001", old)
	_, stderr, code := admin.runIn("", "signing-keys", "retire", old)
	if code != 1 || !strings.Contains(stderr, "1 sync machine(s) may trust only key "+old) || !strings.Contains(stderr, "acme/machine-0001") {
		t.Errorf("retire while a machine trusts only the key: exit %d, %s", code, stderr)
	}
	// Once the machine has pinned the new set, the key retires.
	report("machine-0001", old, active)
	var k codexgov.SigningKey
	admin.json(&k, "signing-keys", "retire", old)
	if k.RetiredAt.IsZero() {
		t.Errorf("not retired: %+v", k)
	}
	// --force retires regardless (a second retire changes nothing).
	report("machine-0002", old)
	if _, stderr := admin.run(0, "signing-keys", "retire", old, "--force"); !strings.Contains(stderr, "nothing changed") {
		t.Errorf("second retire: %s", stderr)
	}
	var raw json.RawMessage
	admin.json(&raw, "signing-keys", "list")
}

// TestCAFlag: every command that talks to the server trusts --ca (or
// CODEXGOV_CA) for a private CA, and refuses the server without it.
func TestCAFlag(t *testing.T) {
	m := &Main{DataDir: filepath.Join(t.TempDir(), "data"), DevTLS: true}
	_, key := startServer(t, m)
	base := []string{"admin", "--server", m.URL, "--token", key}
	if _, errOut, code := runCLI(t, append(base, "whoami")...); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("without --ca: exit %d, %s", code, errOut)
	}
	if out, errOut, code := runCLI(t, append(base, "whoami", "--ca", m.DevCA)...); code != 0 || !strings.Contains(out, "api_key:") {
		t.Errorf("with --ca: exit %d, %s%s", code, out, errOut)
	}
	t.Setenv("CODEXGOV_CA", m.DevCA)
	if _, errOut, code := runCLI(t, append(base, "whoami")...); code != 0 {
		t.Errorf("with CODEXGOV_CA: exit %d, %s", code, errOut)
	}
	for _, c := range [][]string{{"admin"}, {"mdm", "profile"}, {"install"}, {"sync"}, {"login"}, {"logout"}} {
		cmd, _, err := newRootCmd().Find(c)
		if err != nil || cmd.Flags().Lookup("ca") == nil && cmd.PersistentFlags().Lookup("ca") == nil {
			t.Errorf("codexgov %s has no --ca", strings.Join(c, " "))
		}
	}
}
