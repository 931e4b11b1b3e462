package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/testenv"
)

var adminKeyRE = regexp.MustCompile(`cgk_[a-z2-7]{52}`)

// startServer runs a real Main on a random port.
func startServer(t *testing.T, m *Main) (url, adminKey string) {
	t.Helper()
	var out bytes.Buffer
	m.Listen, m.Out = "127.0.0.1:0", &out
	if m.SyncInterval == 0 {
		m.SyncInterval = 100 * time.Millisecond
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return "http://" + m.Addr, adminKeyRE.FindString(out.String())
}

type cli struct {
	t                 *testing.T
	server, token, ws string
}

// run runs `codexgov admin …` in-process and returns stdout; want is the
// expected exit status.
func (c cli) run(want int, args ...string) (string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"admin", "--server", c.server, "--token", c.token, "--workspace", c.ws}, args...)
	if code := run(context.Background(), full, strings.NewReader(""), &stdout, &stderr); code != want {
		c.t.Fatalf("codexgov %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func (c cli) json(v any, args ...string) {
	c.t.Helper()
	out, _ := c.run(0, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("codexgov %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

const (
	baselineTOML = "# baseline: everyone in engineering\nallowed_approval_policies = [\"on-request\", \"never\"]\nallowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"
	strictTOML   = "# contractors: read-only\nallowed_approval_policies = [\"on-request\"]\nallowed_sandbox_modes = [\"read-only\"]\n"
	fallbackTOML = "# everyone else\nallowed_sandbox_modes = [\"read-only\"]\nallowed_web_search_modes = [\"disabled\"]\n"
)

func fetch(t *testing.T, c *client.Client, etag string) *client.Document {
	t.Helper()
	d, err := c.ClientRequirements(context.Background(), etag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestServerEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srvURL, key := startServer(t, &Main{DataDir: filepath.Join(dir, "data")})
	if key == "" {
		t.Fatal("the first start printed no admin key")
	}
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme", "--name", "Acme Corp")
	admin.run(0, "settings", "set", "--allow-access-tokens")
	admin.run(0, "roles", "update", "member", "-p", "codex_local,access_tokens")
	admin.run(0, "roles", "create", "codex-admin", "-p", "codex_local", "-p", "codex_admin", "-p", "access_tokens")

	files := map[string]string{"baseline": baselineTOML, "strict": strictTOML, "fallback": fallbackTOML}
	for name, body := range files {
		f := filepath.Join(dir, name+".toml")
		os.WriteFile(f, []byte(body), 0o644)
		admin.run(0, "policies", "put", name, "--requirements", f, "--comment", "initial "+name)
	}
	// A document Codex rejects is refused, with its file position.
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"sometimes\"]\n"), 0o644)
	_, stderr := admin.run(1, "policies", "put", "strict", "--requirements", bad)
	if !strings.Contains(stderr, bad+":2:30: error:") || !strings.Contains(stderr, "sometimes") {
		t.Errorf("rejection does not name the place:\n%s", stderr)
	}
	var strict codexgov.PolicyVersion
	admin.json(&strict, "policies", "get", "strict")
	if strict.Version != 1 || strict.Requirements != strictTOML {
		t.Errorf("strict after the rejected write = v%d %q", strict.Version, strict.Requirements)
	}

	admin.run(0, "groups", "create", "eng")
	admin.run(0, "groups", "create", "contractors")
	admin.run(0, "groups", "create", "codex-admins")
	for _, u := range []string{"ann@acme.test", "carl@acme.test", "dan@acme.test", "root@acme.test"} {
		admin.run(0, "users", "add", u)
	}
	admin.run(0, "groups", "add-member", "eng", "ann@acme.test", "carl@acme.test")
	admin.run(0, "groups", "add-member", "contractors", "carl@acme.test")
	admin.run(0, "groups", "add-member", "codex-admins", "root@acme.test")
	admin.run(0, "groups", "grant-role", "codex-admins", "codex-admin")
	admin.run(0, "assignment", "set", "--rule", "contractors=strict", "--rule", "eng=baseline", "--default", "fallback")

	// Lookup: first match wins, earlier rules are explained, the rest
	// fall back.
	for _, tc := range []struct {
		user, policy string
		rule         int
		skipped      int
	}{
		{"ann@acme.test", "baseline", 2, 1},
		{"carl@acme.test", "strict", 1, 0},
		{"dan@acme.test", "fallback", 0, 2},
	} {
		var l codexgov.Lookup
		admin.json(&l, "lookup", "--user", tc.user)
		if l.Policy == nil || l.Policy.Name != tc.policy || l.Match.Rule != tc.rule || len(l.Match.Skipped) != tc.skipped {
			t.Errorf("lookup %s = %+v", tc.user, l.Match)
			continue
		}
		if tc.skipped > 0 && !strings.Contains(l.Match.Skipped[0].Reason, "is not in group") {
			t.Errorf("lookup %s: skipped reason %q", tc.user, l.Match.Skipped[0].Reason)
		}
		if l.Policy.Hash != codexgov.ContentHash(files[tc.policy], "") {
			t.Errorf("lookup %s: hash %s", tc.user, l.Policy.Hash)
		}
	}
	var lg codexgov.Lookup
	admin.json(&lg, "lookup", "--group", "eng")
	if lg.Policy.Name != "baseline" || lg.Match.Rule != 2 {
		t.Errorf("lookup group eng = %+v", lg.Match)
	}
	var rootLookup codexgov.Lookup
	admin.json(&rootLookup, "lookup", "--user", "root@acme.test")
	if !strings.Contains(fmt.Sprint(rootLookup.Permissions), "codex_admin") || !rootLookup.Access[codexgov.SurfaceLocal].Allowed {
		t.Errorf("admin group's permissions: %+v", rootLookup)
	}

	tokens := map[string]*client.Client{}
	for _, u := range []string{"ann@acme.test", "carl@acme.test", "dan@acme.test"} {
		var tok codexgov.AccessToken
		admin.json(&tok, "access-tokens", "issue", u, "--expires-in", "24h")
		tokens[u] = client.New(srvURL, tok.Secret)
	}
	jwks, err := client.New(srvURL, "").JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check := func(user, policy string) *client.Document {
		t.Helper()
		d := fetch(t, tokens[user], "")
		if string(d.Body) != files[policy] || d.Policy != policy {
			t.Errorf("%s got policy %q: %q, want %s", user, d.Policy, d.Body, policy)
		}
		if d.ETag != `"`+codexgov.BodyHash([]byte(files[policy]))+`"` {
			t.Errorf("%s: ETag %s", user, d.ETag)
		}
		if _, err := signing.Verify(jwks, d.Body, d.Signature); err != nil {
			t.Errorf("%s: signature does not verify against the JWKS: %v", user, err)
		}
		if _, err := signing.Verify(jwks, append(d.Body, '\n'), d.Signature); err == nil {
			t.Errorf("%s: signature verifies over altered bytes", user)
		}
		if nm := fetch(t, tokens[user], d.ETag); !nm.NotModified || len(nm.Body) != 0 {
			t.Errorf("%s: If-None-Match with the current ETag did not give 304", user)
		}
		return d
	}
	ann := check("ann@acme.test", "baseline")
	carl := check("carl@acme.test", "strict")
	check("dan@acme.test", "fallback")

	// Change the order: carl is in both groups, so eng first gives him
	// the baseline; ann's document is untouched.
	admin.run(0, "assignment", "set", "--rule", "eng=baseline", "--rule", "contractors=strict", "--default", "fallback")
	if d := fetch(t, tokens["carl@acme.test"], carl.ETag); d.NotModified || string(d.Body) != baselineTOML {
		t.Errorf("after reordering, carl gets %q (304=%v)", d.Body, d.NotModified)
	}
	if d := fetch(t, tokens["ann@acme.test"], ann.ETag); !d.NotModified {
		t.Error("ann's unchanged document was re-sent")
	}

	// Key rotation keeps the old key published until it is retired.
	var keys []codexgov.SigningKey
	admin.json(&keys, "signing-keys", "list")
	oldKID := keys[0].KID
	admin.run(0, "signing-keys", "rotate")
	jwks2, _ := client.New(srvURL, "").JWKS(ctx)
	d := fetch(t, tokens["ann@acme.test"], "")
	kid, err := signing.Verify(jwks2, d.Body, d.Signature)
	if err != nil || kid == oldKID {
		t.Errorf("after rotation: kid %s (old %s), err %v", kid, oldKID, err)
	}
	if _, err := signing.Verify(jwks2, ann.Body, ann.Signature); err != nil {
		t.Errorf("a signature by the rotated-out key no longer verifies: %v", err)
	}
	admin.run(0, "signing-keys", "retire", oldKID)
	jwks3, _ := client.New(srvURL, "").JWKS(ctx)
	if _, err := signing.Verify(jwks3, ann.Body, ann.Signature); err == nil {
		t.Error("the retired key is still published")
	}

	// A deactivated user gets Codex's access message; a revoked token
	// stops working.
	admin.run(0, "users", "deactivate", "dan@acme.test")
	_, err = tokens["dan@acme.test"].ClientRequirements(ctx, "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Err.Message != codexgov.AccessDeniedMessage {
		t.Errorf("deactivated user: %v", err)
	}
	var toks []codexgov.AccessToken
	admin.json(&toks, "access-tokens", "list")
	admin.run(0, "access-tokens", "revoke", toks[0].ID)
	if _, err := tokens[toks[0].User].ClientRequirements(ctx, ""); !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Errorf("revoked token: %v", err)
	}

	// History, diff and the audit trail.
	f := filepath.Join(dir, "baseline2.toml")
	os.WriteFile(f, []byte(strings.Replace(baselineTOML, `"never"`, `"untrusted"`, 1)), 0o644)
	admin.run(0, "policies", "put", "baseline", "--requirements", f)
	diff, _ := admin.run(1, "policies", "diff", "baseline") // 1: the versions differ
	if !strings.Contains(diff, "-allowed_approval_policies = [\"on-request\", \"never\"]") || !strings.Contains(diff, "+allowed_approval_policies = [\"on-request\", \"untrusted\"]") {
		t.Errorf("diff:\n%s", diff)
	}
	var hist []codexgov.PolicyVersion
	admin.json(&hist, "policies", "history", "baseline")
	if len(hist) != 2 || hist[0].Requirements != baselineTOML {
		t.Errorf("history = %+v", hist)
	}
	var page codexgov.AuditPage
	admin.json(&page, "audit", "--limit", "1000")
	actions := map[string]int{}
	for _, e := range page.Events {
		actions[e.Action]++
		if e.Actor == "" || e.RequestID == "" {
			t.Errorf("audit event without actor or request id: %+v", e)
		}
	}
	for a, n := range map[string]int{"policy.put": 4, "assignment.set": 2, "access_token.create": 3, "access_token.revoke": 1, "user.update": 1, "group.member.add": 4} {
		if actions[a] != n {
			t.Errorf("audit has %d %s events, want %d", actions[a], a, n)
		}
	}

	// Health and metrics.
	resp, err := http.Get(srvURL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
}

func TestAdminKeyPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	m := &Main{DataDir: dir}
	_, key := startServer(t, m)
	m.Close()
	db, _ := os.ReadFile(filepath.Join(dir, "codexgov.db"))
	if key == "" || bytes.Contains(db, []byte(key)) {
		t.Fatalf("key %q printed %v; stored in clear: %v", key, key != "", bytes.Contains(db, []byte(key)))
	}
	srvURL, again := startServer(t, &Main{DataDir: dir})
	if again != "" {
		t.Error("the second start printed another admin key")
	}
	if _, err := client.New(srvURL, key).Workspaces(context.Background()); err != nil {
		t.Errorf("the first key no longer works after a restart: %v", err)
	}
}

// TestReplicasOnPostgres runs two servers on one PostgreSQL database: a
// change through one is served by the other within its sync interval, and
// with the database down both keep serving the last snapshot while admin
// writes fail cleanly.
func TestReplicasOnPostgres(t *testing.T) {
	base := testenv.PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dbname := fmt.Sprintf("codexgov_replicas_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + dbname); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("ALTER DATABASE " + dbname + " ALLOW_CONNECTIONS true")
		admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbname)
		admin.Exec("DROP DATABASE IF EXISTS " + dbname)
	})
	u, _ := url.Parse(base)
	u.Path = "/" + dbname
	dsn := u.String()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	mA := &Main{DataDir: t.TempDir(), Database: dsn, MasterKeyFile: keyFile, SyncInterval: 200 * time.Millisecond}
	urlA, key := startServer(t, mA)
	urlB, again := startServer(t, &Main{DataDir: t.TempDir(), Database: dsn, MasterKeyFile: keyFile, SyncInterval: 200 * time.Millisecond})
	if key == "" || again != "" {
		t.Fatalf("admin key printed by A: %v, by B: %v", key != "", again != "")
	}
	ctx := context.Background()
	a := client.New(urlA, key)
	steps := []error{}
	add := func(_ any, err error) { steps = append(steps, err) }
	on := true
	add(a.CreateWorkspace(ctx, "acme", ""))
	add(a.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowAccessTokens: &on}))
	ps := []codexgov.Permission{"codex_local", "access_tokens"}
	add(a.UpdateRole(ctx, "acme", "member", codexgov.RoleUpdate{Permissions: &ps}))
	add(a.CreateUser(ctx, "acme", "ann@acme.test", ""))
	add(a.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "fallback", Requirements: fallbackTOML}))
	add(a.SetAssignment(ctx, "acme", codexgov.Assignment{Default: "fallback"}))
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	tok, err := a.CreateAccessToken(ctx, "acme", "ann@acme.test", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b := client.New(urlB, tok.Secret)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("replica B did not converge within 10 s: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var doc *client.Document
	waitFor("the first policy", func() bool {
		d, err := b.ClientRequirements(ctx, "")
		doc = d
		return err == nil && string(d.Body) == fallbackTOML
	})
	if _, err := a.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "fallback", Requirements: strictTOML}); err != nil {
		t.Fatal(err)
	}
	waitFor("the new version", func() bool {
		d, err := b.ClientRequirements(ctx, doc.ETag)
		if err == nil && !d.NotModified {
			doc = d
		}
		return err == nil && string(d.Body) == strictTOML
	})

	// The database goes down.
	if _, err := admin.Exec("ALTER DATABASE " + dbname + " ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbname); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		d, err := b.ClientRequirements(ctx, "")
		if err != nil || string(d.Body) != strictTOML {
			t.Fatalf("with the database down, replica B: %v", err)
		}
		if _, err := client.New(urlA, tok.Secret).ClientRequirements(ctx, ""); err != nil {
			t.Fatalf("with the database down, replica A: %v", err)
		}
	}
	_, err = a.CreateGroup(ctx, "acme", "eng", "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Err.Code != codexgov.EUNAVAILABLE {
		t.Errorf("admin write with the database down: %v", err)
	}
	var h struct{ Database string }
	resp, err := http.Get(urlB + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Database != "unavailable" {
		t.Errorf("healthz with the database down: %d %+v", resp.StatusCode, h)
	}

	// It comes back: writes work again and B converges.
	admin.Exec("ALTER DATABASE " + dbname + " ALLOW_CONNECTIONS true")
	waitFor("a write after recovery", func() bool {
		_, err := a.CreateGroup(ctx, "acme", "eng", "")
		return err == nil || codexgov.ErrorCode(err) == codexgov.ECONFLICT
	})
	if _, err := a.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "fallback", Requirements: baselineTOML}); err != nil {
		t.Fatal(err)
	}
	waitFor("the version written after recovery", func() bool {
		d, err := b.ClientRequirements(ctx, "")
		return err == nil && string(d.Body) == baselineTOML
	})
}
