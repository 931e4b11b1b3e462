package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// lockedBuffer is an output the test reads while the command runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var userCodeRE = regexp.MustCompile(`enter the code ([A-Z]{4}-[A-Z]{4})`)

type loginRun struct {
	stdout, stderr *lockedBuffer
	done           chan int
}

// startLogin runs `codexgov login` in-process and waits for its code.
func startLogin(t *testing.T, args ...string) (*loginRun, string) {
	t.Helper()
	r := &loginRun{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	go func() {
		r.done <- run(context.Background(), append([]string{"login"}, args...), strings.NewReader(""), r.stdout, r.stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := userCodeRE.FindStringSubmatch(r.stderr.String()); m != nil {
			return r, m[1]
		}
		select {
		case code := <-r.done:
			t.Fatalf("login exited %d before showing a code: %s", code, r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("login showed no code: %s", r.stderr.String())
	return nil, ""
}

func (r *loginRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("codexgov login did not finish")
		return -1
	}
}

// TestDeviceLogin runs codexgov login against a real server; a person's
// approval is given on the verification page by an HTTP client. It covers
// the pending, slow_down, denied and expired paths, the workspace
// setting, the stored credential, admin commands without --token, and
// logout.
func TestDeviceLogin(t *testing.T) {
	var skew atomic.Int64
	m := &Main{DataDir: t.TempDir(), DeviceInterval: time.Second}
	serverURL, _ := startServer(t, m)
	m.Store.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "test"})
	on, off := true, false
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.Store.CreateWorkspace(ctx, "acme", ""))
	must(m.Store.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowAccessTokens: &on, AllowDeviceCodeLogin: &off}))
	must(m.Store.CreateRole(ctx, "acme", codexgov.Role{Name: "admin", Permissions: []codexgov.Permission{codexgov.PermCodexAdmin, codexgov.PermCodexLocal, codexgov.PermAccessTokens}}))
	must(m.Store.CreateUser(ctx, "acme", codexgov.User{Email: "alice@acme.test"}))
	must(m.Store.CreateGroup(ctx, "acme", codexgov.Group{Name: "Codex Admins", Members: []string{"alice@acme.test"}}))
	must(m.Store.GrantGroupRole(ctx, "acme", "Codex Admins", "admin"))
	secret, id, hash := codexgov.NewSecret(codexgov.AccessTokenPrefix)
	must(m.Store.CreateAccessToken(ctx, codexgov.AccessToken{ID: id, Workspace: "acme", User: "alice@acme.test", Hash: hash, ExpiresAt: time.Now().Add(24 * time.Hour)}))
	// Another workspace, whose token must not approve acme's devices.
	must(m.Store.CreateWorkspace(ctx, "other", ""))
	must(m.Store.UpdateSettings(ctx, "other", codexgov.SettingsUpdate{AllowAccessTokens: &on, AllowDeviceCodeLogin: &on}))
	must(m.Store.CreateUser(ctx, "other", codexgov.User{Email: "eve@other.test"}))
	perms := []codexgov.Permission{codexgov.PermCodexLocal, codexgov.PermAccessTokens}
	must(m.Store.UpdateRole(ctx, "other", codexgov.DefaultRoleName, codexgov.RoleUpdate{Permissions: &perms}))
	otherSecret, oid, ohash := codexgov.NewSecret(codexgov.AccessTokenPrefix)
	must(m.Store.CreateAccessToken(ctx, codexgov.AccessToken{ID: oid, Workspace: "other", User: "eve@other.test", Hash: ohash, ExpiresAt: time.Now().Add(time.Hour)}))
	if err := m.API.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := t.TempDir()
	t.Setenv("CODEXGOV_CONFIG_DIR", cfg)
	t.Setenv("CODEXGOV_SERVER", "")
	os.Unsetenv("CODEXGOV_SERVER")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(cfg, "no-bus"))

	// A proxy in front of the server shows the test the device code, so
	// that it can poll once itself and make the CLI's poll too early.
	var deviceCode atomic.Value
	target, _ := url.Parse(serverURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path == "/oauth/device/code" && resp.StatusCode == 200 {
			b, _ := io.ReadAll(resp.Body)
			var d struct {
				DeviceCode string `json:"device_code"`
			}
			json.Unmarshal(b, &d)
			deviceCode.Store(d.DeviceCode)
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	page := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(serverURL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	t.Run("refused while the workspace setting is off", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"login", "--server", serverURL, "--workspace", "acme", "--store", "file"}, nil, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "allow_device_code_login") {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		// Approval is refused too when the device named no workspace.
		r, userCode := startLogin(t, "--server", serverURL, "--store", "file")
		status, body := page("/device/approve", url.Values{"user_code": {userCode}, "secret": {secret}, "decision": {"approve"}})
		if status != 403 || !strings.Contains(body, "allow_device_code_login") {
			t.Errorf("approval with the setting off: %d %s", status, body)
		}
		page("/device/approve", url.Values{"user_code": {userCode}, "secret": {secret}, "decision": {"deny"}})
		r.wait(t)
	})
	must(m.Store.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowDeviceCodeLogin: &on}))
	m.API.Rebuild(ctx)

	t.Run("pending, slow_down, approved", func(t *testing.T) {
		r, userCode := startLogin(t, "--server", front.URL, "--workspace", "acme", "--store", "file")
		// The test polls first: the CLI's first poll then comes too soon.
		resp, err := http.PostForm(serverURL+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {"codexgov-cli"}, "device_code": {deviceCode.Load().(string)}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"authorization_pending"`) {
			t.Fatalf("first poll: %d %s", resp.StatusCode, b)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			d, err := m.Store.DeviceAuthorization(ctx, codexgov.NormalizeUserCode(userCode))
			if err != nil {
				t.Fatal(err)
			}
			if d.Interval == time.Second+codexgov.DeviceSlowDownStep {
				break // the CLI was told slow_down, and the interval grew
			}
			if time.Now().After(deadline) {
				t.Fatalf("no slow_down: interval %s", d.Interval)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The verification page, as a person uses it.
		if status, body := page("/device", url.Values{"user_code": {strings.ToLower(userCode)}}); status != 200 || !strings.Contains(body, userCode) || !strings.Contains(body, "Approve") {
			t.Fatalf("verification page: %d %s", status, body)
		}
		for _, bad := range []string{"cgt_wrong", otherSecret} {
			if status, body := page("/device/approve", url.Values{"user_code": {userCode}, "secret": {bad}, "decision": {"approve"}}); status != 401 || strings.Contains(body, "signed in as") {
				t.Errorf("a wrong or other workspace's token approved acme's device: %d %s", status, body)
			}
		}
		if status, body := page("/device/approve", url.Values{"user_code": {userCode}, "secret": {secret}, "decision": {"approve"}}); status != 200 || !strings.Contains(body, "signed in as alice@acme.test") {
			t.Fatalf("approve: %d %s", status, body)
		}
		if code := r.wait(t); code != 0 {
			t.Fatalf("login exit %d: %s", code, r.stderr.String())
		}
		if !strings.Contains(r.stdout.String(), "Signed in to "+front.URL+" as alice@acme.test in workspace acme") {
			t.Errorf("stdout: %s", r.stdout.String())
		}
		st, err := os.Stat(filepath.Join(cfg, "credentials.json"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("credential file: %v %v", st, err)
		}
		// codexgov admin without --token acts as alice, audited as her.
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"admin", "users", "add", "bob@acme.test"}, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("admin as alice: %d %s", code, stderr.String())
		}
		evs, _ := m.Store.AuditEvents(ctx, "acme", codexgov.AuditFilter{Limit: 1})
		if evs[0].Action != "user.create" || !strings.HasPrefix(evs[0].Actor, "user:alice@acme.test (grant_") {
			t.Errorf("audit: %s by %s; stdout %s stderr %s", evs[0].Action, evs[0].Actor, stdout.String(), stderr.String())
		}
		// codexgov sync without an enrollment token uses the login: the
		// machine gets alice's policy and is listed as hers.
		must(m.Store.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "admins", Requirements: secTOML}))
		must(m.Store.SetAssignment(ctx, "acme", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "Codex Admins", Policy: "admins"}}}))
		must(nil, m.API.Rebuild(ctx))
		etc := t.TempDir()
		stdout.Reset()
		if code := run(context.Background(), []string{"sync", "--once", "--etc", etc, "--state", filepath.Join(cfg, "sync"), "--machine-id", "alice-laptop"}, nil, &stdout, &stderr); code != 0 ||
			!strings.Contains(stdout.String(), "applied: policy admins v1") {
			t.Fatalf("sync with the login: %d %s %s", code, stdout.String(), stderr.String())
		}
		if b, _ := os.ReadFile(filepath.Join(etc, "requirements.toml")); string(b) != secTOML {
			t.Errorf("synced requirements: %q", b)
		}
		ms, _ := m.Store.SyncMachines(ctx, "acme")
		if len(ms) != 1 || ms[0].MachineID != "alice-laptop" || ms[0].Identity != "user:alice@acme.test" || !strings.HasPrefix(ms[0].Credential, "grant_") {
			t.Errorf("sync machines: %+v", ms)
		}
		// Logout revokes the sign-in on the server and removes the file.
		stdout.Reset()
		if code := run(context.Background(), []string{"logout"}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "Signed out") {
			t.Fatalf("logout: %d %s %s", code, stdout.String(), stderr.String())
		}
		if _, err := os.Stat(filepath.Join(cfg, "credentials.json")); !os.IsNotExist(err) {
			t.Errorf("credential kept: %v", err)
		}
		gs, _ := m.Store.OAuthGrants(ctx, "acme")
		if len(gs) != 1 || gs[0].RevokeReason != "logout" || gs[0].ClientID != "codexgov-cli" {
			t.Errorf("grant after logout: %+v", gs)
		}
	})

	t.Run("denied", func(t *testing.T) {
		r, userCode := startLogin(t, "--server", serverURL, "--store", "file")
		if status, body := page("/device/approve", url.Values{"user_code": {userCode}, "secret": {secret}, "decision": {"deny"}}); status != 200 || !strings.Contains(body, "denied") {
			t.Fatalf("deny: %d %s", status, body)
		}
		if code := r.wait(t); code == 0 || !strings.Contains(r.stderr.String(), "access_denied") {
			t.Errorf("exit %d: %s", code, r.stderr.String())
		}
	})

	t.Run("expired", func(t *testing.T) {
		r, userCode := startLogin(t, "--server", serverURL, "--store", "file")
		skew.Store(int64(11 * time.Minute))
		defer skew.Store(0)
		if code := r.wait(t); code == 0 || !strings.Contains(r.stderr.String(), "expired_token") {
			t.Errorf("exit %d: %s", code, r.stderr.String())
		}
		if d, err := m.Store.DeviceAuthorization(ctx, codexgov.NormalizeUserCode(userCode)); err != nil || d.Status != codexgov.DeviceAuthPending || d.User != "" {
			t.Errorf("an expired code changed: %+v %v", d, err)
		}
	})
}
