package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/testenv"
)

// The policies the end-to-end test serves. Each is also run by the
// oracle as a plain /etc/codex/requirements.toml: Codex must show exactly
// the same requirements whether it reads the policy from its own file or
// fetches it from codexgov.
const (
	engTOML     = "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\nallowed_approval_policies = [\"on-request\", \"untrusted\"]\n\n[features]\napps = false\n"
	eng2TOML    = "allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"on-request\"]\nallowed_web_search_modes = [\"cached\"]\n"
	secTOML     = "allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"untrusted\"]\n"
	engDefaults = "model = \"gpt-codexgov-eng\"\n"
	// The baseline goes into the bootstrap file, below every served policy.
	floorTOML = "allowed_web_search_modes = [\"cached\", \"disabled\"]\n"
)

// e2e is one codexgov server with --dev-tls and its admin client.
type e2e struct {
	t      *testing.T
	m      *Main
	dir    string
	addr   string
	url    string
	key    string
	ca     string
	admin  *client.Client
	https  *http.Client
	oracle *testenv.Oracle
	skew   atomic.Int64 // added to the server's clock, in seconds
}

func newE2E(t *testing.T) *e2e {
	e := &e2e{t: t, oracle: testenv.CodexOracle(t), dir: t.TempDir()}
	e.start("127.0.0.1:0")
	t.Cleanup(func() { e.m.Close() })
	return e
}

func (e *e2e) start(listen string) {
	e.t.Helper()
	var out bytes.Buffer
	e.m = &Main{Listen: listen, DataDir: e.dir, DevTLS: true, Out: &out, SyncInterval: 100 * time.Millisecond, RecordInterval: 50 * time.Millisecond,
		ComplianceSealInterval: 200 * time.Millisecond, ComplianceGrace: -1,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load()) * time.Second) }}
	if err := e.m.Run(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.addr, e.url, e.ca = e.m.Addr, e.m.URL, e.m.DevCA
	if k := adminKeyRE.FindString(out.String()); k != "" {
		e.key = k
	}
	if !strings.Contains(out.String(), "for development and tests only") || !strings.Contains(out.String(), "CODEX_CA_CERTIFICATE="+e.ca) {
		e.t.Fatalf("--dev-tls did not say what it is and where its CA is:\n%s", out.String())
	}
	pem, err := os.ReadFile(e.ca)
	if err != nil {
		e.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	e.https = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.admin = client.New(e.url, e.key)
	e.admin.HTTP = e.https
}

func (e *e2e) stop() {
	e.t.Helper()
	if err := e.m.Close(); err != nil {
		e.t.Fatal(err)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// machine is a developer machine: its own /etc/codex and CODEX_HOME,
// trusting the dev CA.
func (e *e2e) machine(env ...string) *testenv.Machine {
	e.t.Helper()
	m, err := e.oracle.Prepare(testenv.Run{Env: append([]string{"CODEX_CA_CERTIFICATE=" + e.ca, "BROWSER=/bin/true"}, env...)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(m.Close)
	return m
}

// install runs `codexgov install` in-process into the machine's /etc/codex.
func (e *e2e) install(m *testenv.Machine, args ...string) string {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"install", "--server", e.url, "--etc", m.Etc, "--ca", e.ca}, args...)
	if code := run(context.Background(), full, strings.NewReader(""), &stdout, &stderr); code != 0 {
		e.t.Fatalf("codexgov install: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// startup runs `codex app-server --print-startup-config` on the machine.
func startup(t *testing.T, m *testenv.Machine) testenv.Result {
	t.Helper()
	r, err := m.Run(context.Background(), "", "", "app-server", "--print-startup-config")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is what the oracle prints with the given files as /etc/codex:
// the reference the config-server run must equal.
func (e *e2e) want(system string) string {
	e.t.Helper()
	r, err := e.oracle.Run(context.Background(), testenv.Run{Etc: map[string]string{"requirements.toml": system}, Args: []string{"app-server", "--print-startup-config"}})
	if err != nil || r.ExitCode != 0 {
		e.t.Fatalf("oracle on the plain policy: %v %+v", err, r)
	}
	return r.Stdout
}

func (e *e2e) expectStartup(m *testenv.Machine, system, what string) {
	e.t.Helper()
	r := startup(e.t, m)
	if want := e.want(system); r.ExitCode != 0 || r.Stdout != want {
		e.t.Fatalf("%s: Codex through codexgov printed (exit %d)\n%s%s\nwant (the policy as a plain system file)\n%s", what, r.ExitCode, r.Stdout, r.Stderr, want)
	}
}

// failure is the error data Codex prints when it refuses to start.
type failure struct {
	Reason     string `json:"reason"`
	ErrorCode  string `json:"errorCode"`
	Detail     string `json:"detail"`
	Action     string `json:"action"`
	StatusCode int    `json:"statusCode"`
}

func expectRefusal(t *testing.T, r testenv.Result, errorCode string, status int) failure {
	t.Helper()
	if r.ExitCode == 0 {
		t.Fatalf("Codex started; want it to refuse (%s %d): %s", errorCode, status, r.Stdout)
	}
	var body struct {
		Error struct {
			Data failure `json:"data"`
		} `json:"error"`
	}
	all := r.Stdout + r.Stderr
	i := strings.Index(all, `{"error"`)
	if i < 0 || json.NewDecoder(strings.NewReader(all[i:])).Decode(&body) != nil {
		t.Fatalf("no error JSON from Codex:\n%s", all)
	}
	f := body.Error.Data
	if f.ErrorCode != errorCode || f.StatusCode != status {
		t.Fatalf("Codex refused with %+v; want errorCode %s, statusCode %d", f, errorCode, status)
	}
	return f
}

func (e *e2e) devices(f client.DeviceFilter) map[string]codexgov.DeviceStatus {
	e.t.Helper()
	ds := must[[]codexgov.DeviceStatus](e.t)(e.admin.Devices(context.Background(), "acme", f))
	out := map[string]codexgov.DeviceStatus{}
	for _, d := range ds {
		out[d.Device] = d
	}
	return out
}

func (e *e2e) expectDevice(id, state, policy string, version int) codexgov.DeviceStatus {
	e.t.Helper()
	d, ok := e.devices(client.DeviceFilter{})[id]
	if !ok {
		e.t.Fatalf("device %s not listed", id)
	}
	if d.State != state || d.Policy != policy || d.PolicyVersion != version {
		e.t.Fatalf("device %s: state %s, received %s v%d (hash %s), expected %+v; want state %s, received %s v%d", id, d.State, d.Policy, d.PolicyVersion, d.BundleHash, d.Expected, state, policy, version)
	}
	return d
}

// TestConfigServerEndToEnd drives the real Codex 0.169.0 against a real
// codexgov server with --dev-tls, in both identification modes.
func TestConfigServerEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	ok := must[any](t)
	ws := "acme"
	ok(e.admin.CreateWorkspace(ctx, ws, "Acme Corp"))
	tokens := true
	ok(e.admin.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{AllowAccessTokens: &tokens}))
	perms := []codexgov.Permission{codexgov.PermCodexLocal, codexgov.PermAccessTokens}
	ok(e.admin.UpdateRole(ctx, ws, codexgov.DefaultRoleName, codexgov.RoleUpdate{Permissions: &perms}))
	ok(e.admin.CreateRole(ctx, ws, codexgov.Role{Name: "observer", Description: "may sign in, not use Codex", Permissions: []codexgov.Permission{codexgov.PermAccessTokens}}))
	for _, u := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
		ok(e.admin.CreateUser(ctx, ws, u, ""))
	}
	for g, members := range map[string][]string{"eng": {"alice@acme.test"}, "sec": {"bob@acme.test"}, "observers": {"carol@acme.test"}} {
		ok(e.admin.CreateGroup(ctx, ws, g, ""))
		for _, u := range members {
			ok(e.admin.AddMember(ctx, ws, g, u))
		}
	}
	ok(e.admin.GrantRole(ctx, ws, "observers", "observer"))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: engTOML, Defaults: engDefaults}))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "sec", Requirements: secTOML}))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "floor", Requirements: floorTOML}))
	ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "sec", Policy: "sec"}}}))

	t.Run("enrollment", func(t *testing.T) {
		e.t = t
		tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "alice@acme.test", Name: "alice-laptop"}))
		m := e.machine()
		out := e.install(m, "--enroll-token", tok.Secret)
		if !strings.Contains(out, "enrollment mode") || !strings.Contains(out, "CODEX_CA_CERTIFICATE=") {
			t.Errorf("install output: %s", out)
		}
		file, _ := os.ReadFile(filepath.Join(m.Etc, "requirements.toml"))
		if !strings.Contains(string(file), fmt.Sprintf("base_url = %q", e.url+"/codex-config/enroll/"+tok.Secret)) || strings.Contains(string(file), "[config_server.oauth]") {
			t.Fatalf("bootstrap file:\n%s", file)
		}

		// Exactly the group's policy, as if it were the machine's own file.
		e.expectStartup(m, engTOML, "alice (eng) in enrollment mode")
		d := e.expectDevice(tok.ID, codexgov.DeviceCurrent, "eng", 1)
		if d.Identity != "user:alice@acme.test" || d.Kind != codexgov.DeliveryEnrollment || d.UserAgent == "" || d.Fetches != 1 {
			t.Errorf("delivery record: %+v", d)
		}

		// The assignment changes: the device is pending until it fetches
		// again; its one-hour cache keeps the old policy meanwhile.
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "sec"}, {Group: "sec", Policy: "sec"}}}))
		e.expectDevice(tok.ID, codexgov.DevicePending, "eng", 1)
		e.expectStartup(m, engTOML, "alice's cached bundle within the hour")
		if err := m.NewHome(); err != nil {
			t.Fatal(err)
		}
		e.expectStartup(m, secTOML, "alice with a fresh CODEX_HOME after the assignment changed")
		e.expectDevice(tok.ID, codexgov.DeviceCurrent, "sec", 1)
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "sec", Policy: "sec"}}}))

		// A service identity: its token's groups choose its policy.
		svc := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{Service: "ci-runners", Groups: []string{"sec"}, Name: "runner-07"}))
		ms := e.machine()
		e.install(ms, "--enroll-token", svc.Secret)
		e.expectStartup(ms, secTOML, "service identity ci-runners (group sec)")
		e.expectDevice(svc.ID, codexgov.DeviceCurrent, "sec", 1)

		// A user without codex_local cannot start Codex.
		ct := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "carol@acme.test"}))
		mc := e.machine()
		e.install(mc, "--enroll-token", ct.Secret)
		expectRefusal(t, startup(t, mc), "RequestFailed", 403)
		// Refused, and with no cache: Codex keeps none after a 403.
		if d := e.expectDevice(ct.ID, codexgov.DeviceDenied, "", 0); d.BundleHash != codexgov.DeliveryDenied || !d.CacheExpires.IsZero() {
			t.Errorf("carol's delivery: %+v", d)
		}
		// What the server said, which Codex does not show: our message.
		resp, err := e.https.Get(e.url + "/codex-config/enroll/" + ct.Secret + "/codex/config/bundle")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), codexgov.AccessDeniedMessage) {
			t.Errorf("carol's bundle: %d %s", resp.StatusCode, body)
		}

		// With the server stopped, a valid cache still starts Codex.
		e.stop()
		e.expectStartup(m, secTOML, "alice's cache with the server down")
		e.start(e.addr)

		// A revoked token makes Codex fail closed (once its cache is gone).
		ok(e.admin.RevokeEnrollmentToken(ctx, ws, tok.ID))
		if err := m.NewHome(); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, startup(t, m), "Auth", 401)
		if _, listed := e.devices(client.DeviceFilter{})[tok.ID]; listed {
			t.Errorf("a revoked token's device is still listed")
		}
	})
	if t.Failed() {
		return
	}

	t.Run("managed defaults", func(t *testing.T) {
		e.t = t
		tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "alice@acme.test", Name: "alice-ide"}))
		m := e.machine()
		e.install(m, "--enroll-token", tok.Secret)
		first, _ := os.ReadFile(filepath.Join(m.Etc, "requirements.toml"))
		// The workspace's baseline goes into the bootstrap file, below the
		// served policy: Codex enforces both, key by key.
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "sec", Policy: "sec"}}, Baseline: "floor"}))
		if out := e.install(m, "--enroll-token", tok.Secret); !strings.Contains(out, `baseline: policy "floor" version 1`) {
			t.Errorf("install with a baseline: %s", out)
		}
		if backup, _ := os.ReadFile(filepath.Join(m.Etc, "requirements.toml.codexgov-backup")); string(backup) != string(first) {
			t.Errorf("the previous bootstrap file was not kept:\n%s", backup)
		}
		e.expectStartup(m, floorTOML+engTOML, "alice with the floor baseline")
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "sec", Policy: "sec"}}}))
		as, err := m.StartAppServer(ctx, "", "app-server")
		if err != nil {
			t.Fatal(err)
		}
		defer as.Close()
		raw, err := as.Call(ctx, "config/read", map[string]any{"includeLayers": true, "cwd": m.Cwd})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Config struct {
				Model string `json:"model"`
			} `json:"config"`
			Origins map[string]struct {
				Name struct {
					Type string `json:"type"`
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"name"`
			} `json:"origins"`
			Layers []struct {
				Name struct {
					Type string `json:"type"`
					ID   string `json:"id"`
				} `json:"name"`
			} `json:"layers"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if got.Config.Model != "gpt-codexgov-eng" {
			t.Errorf("config/read model = %q, want the policy's managed default; %s", got.Config.Model, raw)
		}
		layer := false
		for _, l := range got.Layers {
			layer = layer || (l.Name.Type == "enterpriseManaged" && l.Name.ID == "eng@v1")
		}
		if o := got.Origins["model"].Name; !layer || o.Type != "enterpriseManaged" || o.ID != "eng@v1" || o.Name != "eng" {
			t.Errorf("the defaults are not an enterpriseManaged layer named for the policy (layer %v, model origin %+v): %s", layer, o, raw)
		}
	})

	t.Run("oauth", func(t *testing.T) {
		e.t = t
		keyring := testenv.Keyring(t)
		installKey := must[*codexgov.APIKey](t)(e.admin.CreateAPIKey(ctx, ws, "config management", codexgov.ScopeAdminRead))
		at := map[string]string{}
		for _, u := range []string{"alice@acme.test", "bob@acme.test"} {
			at[u] = must[*codexgov.AccessToken](t)(e.admin.CreateAccessToken(ctx, ws, u, "sign-in", "")).Secret
		}
		m := e.machine(keyring...)
		out := e.install(m, "--workspace", ws, "--token", installKey.Secret)
		file, _ := os.ReadFile(filepath.Join(m.Etc, "requirements.toml"))
		if !strings.Contains(out, "codex login") || !strings.Contains(string(file), "[config_server.oauth]") {
			t.Fatalf("install: %s\n%s", out, file)
		}
		// Before signing in, Codex refuses to start.
		expectRefusal(t, startup(t, m), "Auth", 0)

		e.login(m, at["alice@acme.test"])
		e.expectStartup(m, engTOML, "alice signed in")
		grants := must[[]codexgov.OAuthGrant](t)(e.admin.OAuthGrants(ctx, ws))
		if len(grants) != 1 || grants[0].User != "alice@acme.test" {
			t.Fatalf("sign-ins: %+v", grants)
		}
		alice := grants[0]
		e.expectDevice(alice.ID, codexgov.DeviceCurrent, "eng", 1)

		// Another user on another CODEX_HOME sees their own group's policy.
		if err := m.NewHome(); err != nil {
			t.Fatal(err)
		}
		e.login(m, at["bob@acme.test"])
		e.expectStartup(m, secTOML, "bob signed in")

		// An expired access token is refreshed transparently: the server's
		// clock moves two hours on, past the one-hour access token; with
		// the cache gone, Codex's fetch gets 401, it refreshes and retries.
		e.skew.Store(2 * 3600)
		defer e.skew.Store(0)
		caches, _ := filepath.Glob(filepath.Join(m.Home, "managed-config-*.json"))
		if len(caches) != 1 {
			t.Fatalf("bundle cache files: %v", caches)
		}
		os.Remove(caches[0])
		e.expectStartup(m, secTOML, "bob after his access token expired")
		var bob codexgov.OAuthGrant
		for _, g := range must[[]codexgov.OAuthGrant](t)(e.admin.OAuthGrants(ctx, ws)) {
			if g.User == "bob@acme.test" {
				bob = g
			}
		}
		if bob.RotatedAt.IsZero() || !bob.RevokedAt.IsZero() {
			t.Errorf("bob's sign-in was not refreshed (rotated at %v, revoked %v)", bob.RotatedAt, bob.RevokedAt)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("delivery states", func(t *testing.T) {
		e.t = t
		// A token that never fetched is stale; with a short threshold
		// every device is.
		never := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "bob@acme.test", Name: "never-used"}))
		if d := e.devices(client.DeviceFilter{})[never.ID]; d.State != codexgov.DeviceStale || !d.LastFetch.IsZero() {
			t.Errorf("unused token: %+v", d)
		}
		// Four hours on (the refresh test recorded bob's last fetch two
		// hours ahead), nothing has fetched within the last hour.
		e.skew.Store(4 * 3600)
		all := e.devices(client.DeviceFilter{StaleAfter: time.Hour})
		e.skew.Store(0)
		if len(all) < 5 {
			t.Errorf("only %d devices listed", len(all))
		}
		for id, d := range all {
			if d.State != codexgov.DeviceStale {
				t.Errorf("device %s with no fetch for over an hour: %s", id, d.State)
			}
		}
		// --drifted lists exactly the devices that are not current.
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "sec"}, {Group: "sec", Policy: "sec"}}}))
		drifted := e.devices(client.DeviceFilter{Drifted: true})
		for id, d := range e.devices(client.DeviceFilter{}) {
			_, listed := drifted[id]
			if listed == (d.State == codexgov.DeviceCurrent) {
				t.Errorf("device %s (%s): listed as drifted = %v", id, d.State, listed)
			}
			if d.Identity == "user:alice@acme.test" && !d.LastFetch.IsZero() && d.State != codexgov.DevicePending {
				t.Errorf("alice's device %s after her policy changed: %s", id, d.State)
			}
		}
		// The lookup shows the same delivery facts for a user.
		l := must[*codexgov.Lookup](t)(e.admin.LookupUser(ctx, ws, "alice@acme.test"))
		if len(l.Devices) == 0 {
			t.Fatalf("lookup shows no devices for alice")
		}
		for _, d := range l.Devices {
			if d.Identity != "user:alice@acme.test" {
				t.Errorf("lookup for alice lists %s", d.Identity)
			}
		}
	})
}

var authorizeURLRE = regexp.MustCompile(`https://\S+/oauth/authorize\?\S+`)
var hiddenRequestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

// login runs `codex login` and plays the browser: it opens the authorize
// URL Codex prints, signs in on codexgov's page with the user's access
// token, and delivers the redirect to Codex's loopback listener.
func (e *e2e) login(m *testenv.Machine, accessToken string) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := m.Command(ctx, "", "login")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if u := authorizeURLRE.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
	}()
	var authorize string
	select {
	case authorize = <-found:
	case <-ctx.Done():
		t.Fatalf("codex login printed no authorize URL:\n%s", out.String())
	}
	resp, err := e.https.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sealed := hiddenRequestRE.FindSubmatch(page)
	if resp.StatusCode != 200 || sealed == nil || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, page)
	}
	u, _ := url.Parse(authorize)
	ws := strings.Split(u.Path, "/")[2]
	form := url.Values{"request": {html.UnescapeString(string(sealed[1]))}, "secret": {accessToken}}
	resp, err = e.https.PostForm(e.url+"/codex-config/"+ws+"/oauth/sign-in/access-token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, "http://127.0.0.1:") {
		t.Fatalf("sign-in: %d, Location %q", resp.StatusCode, callback)
	}
	resp, err = http.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cmd.Wait(); err != nil {
		gs, _ := e.admin.OAuthGrants(context.Background(), ws)
		t.Fatalf("codex login: %v\n%s\nsign-ins on the server: %+v", err, out.String(), gs)
	}
	if !strings.Contains(out.String(), "Successfully logged in") {
		t.Fatalf("codex login:\n%s", out.String())
	}
}
