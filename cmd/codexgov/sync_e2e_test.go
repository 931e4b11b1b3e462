package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/testenv"
)

// syncMachine is a developer machine whose /etc/codex codexgov sync keeps.
type syncMachine struct {
	e       *e2e
	m       *testenv.Machine
	state   string
	id      string
	secret  string
	server  string // the URL sync talks to (the server, or a proxy)
	extra   []string
	lastOut string
}

func (e *e2e) syncMachine(id, secret string) *syncMachine {
	return &syncMachine{e: e, m: e.machine(), state: filepath.Join(e.t.TempDir(), "state"), id: id, secret: secret, server: e.url}
}

func (s *syncMachine) args() []string {
	return append([]string{"sync", "--once", "--server", s.server, "--enroll-token", s.secret, "--etc", s.m.Etc, "--state", s.state,
		"--ca", s.e.ca, "--machine-id", s.id, "--codex", s.e.oracle.Bin}, s.extra...)
}

// sync runs `codexgov sync --once` in-process and checks its exit status.
func (s *syncMachine) sync(t *testing.T, want int) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), s.args(), strings.NewReader(""), &stdout, &stderr)
	s.lastOut = stdout.String() + stderr.String()
	if code != want {
		t.Fatalf("codexgov sync: exit %d, want %d\n%s", code, want, s.lastOut)
	}
	return s.lastOut
}

func (s *syncMachine) files(t *testing.T) (req, def string) {
	t.Helper()
	r, err := os.ReadFile(filepath.Join(s.m.Etc, "requirements.toml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := os.ReadFile(filepath.Join(s.m.Etc, "managed_config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(r), string(d)
}

// expectFiles checks the written files and what the real Codex makes of
// them: exactly what it prints with the policy's own files as /etc/codex.
func (s *syncMachine) expectFiles(t *testing.T, req, def, what string) {
	t.Helper()
	gotReq, gotDef := s.files(t)
	if gotReq != req || gotDef != def {
		t.Fatalf("%s: files\n%s\n--\n%s\nwant\n%s\n--\n%s", what, gotReq, gotDef, req, def)
	}
	for _, name := range []string{"requirements.toml", "managed_config.toml"} {
		fi, err := os.Stat(filepath.Join(s.m.Etc, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o644 || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: %s is %v owned by %d:%d; want 0644 root:root", what, name, fi.Mode().Perm(), st.Uid, st.Gid)
		}
	}
	r := startup(t, s.m)
	want, err := s.e.oracle.Run(context.Background(), testenv.Run{Etc: map[string]string{"requirements.toml": req, "managed_config.toml": def},
		Args: []string{"app-server", "--print-startup-config"}})
	if err != nil || want.ExitCode != 0 {
		t.Fatalf("oracle on the policy's own files: %v %+v", err, want)
	}
	if r.ExitCode != 0 || r.Stdout != want.Stdout {
		t.Fatalf("%s: Codex on the synced machine printed (exit %d)\n%s%s\nwant\n%s", what, r.ExitCode, r.Stdout, r.Stderr, want.Stdout)
	}
}

func (s *syncMachine) expectDevice(t *testing.T, state, policy string, version int, result string) codexgov.DeviceStatus {
	t.Helper()
	d, ok := s.e.devices(client.DeviceFilter{})[s.id]
	if !ok {
		t.Fatalf("sync machine %s not in the devices list", s.id)
	}
	if d.Kind != codexgov.DeliverySync || d.State != state || d.Policy != policy || d.PolicyVersion != version || d.Sync == nil || d.Sync.Result != result {
		t.Fatalf("device %s: %+v (sync %+v); want state %s, %s v%d, result %s", s.id, d, d.Sync, state, policy, version, result)
	}
	return d
}

// tamperProxy stands between sync and the server and spoils the
// requirements document the way an attacker on the path would.
type tamperProxy struct {
	srv  *httptest.Server
	mode atomic.Value // string
}

func (e *e2e) tamperProxy(t *testing.T, forger *signing.Signer) *tamperProxy {
	target, _ := url.Parse(e.url)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = e.https.Transport
	p := &tamperProxy{}
	p.mode.Store("")
	rp.ModifyResponse = func(resp *http.Response) error {
		mode := p.mode.Load().(string)
		path := resp.Request.URL.Path
		if resp.StatusCode != 200 {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		switch {
		case mode == "body" && path == "/api/v1/client/requirements":
			// The attacker widens the sandbox; the signature and entity
			// tag are the server's.
			body = append(body, []byte("\n# relaxed\nallowed_sandbox_modes = [\"read-only\", \"danger-full-access\"]\n")...)
		case mode == "signature" && path == "/api/v1/client/requirements":
			sig := resp.Header.Get(signing.SignatureHeader)
			i := strings.LastIndexByte(sig, '.')
			flip := byte('A')
			if sig[i+1] == 'A' {
				flip = 'B'
			}
			resp.Header.Set(signing.SignatureHeader, sig[:i+1]+string(flip)+sig[i+2:])
		case mode == "forged" && path == "/api/v1/client/requirements":
			// A body signed with the attacker's own key, and the
			// attacker's key set served as the server's.
			body = []byte("allowed_sandbox_modes = [\"read-only\", \"danger-full-access\"]\n")
			sig, _ := forger.Sign(body)
			resp.Header.Set(signing.SignatureHeader, sig)
			resp.Header.Set("Etag", `"`+codexgov.BodyHash(body)+`"`)
		case mode == "forged" && path == "/.well-known/jwks.json":
			body = forger.JWKS()
			resp.Header.Set(signing.SignatureHeader, strings.Join(forger.JWKSSignatures(), ", "))
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

func newForger(t *testing.T) *signing.Signer {
	var mk signing.MasterKey
	rand.Read(mk[:])
	k := signing.NewSigningKey(mk, time.Now())
	s, err := signing.NewSigner(mk, []*codexgov.SigningKey{&k})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newSyncE2E is a server with workspace acme where alice is in group eng.
func newSyncE2E(t *testing.T) (*e2e, context.Context, func(any, error) any, string) {
	e := newE2E(t)
	ctx := context.Background()
	ok := must[any](t)
	ws := "acme"
	ok(e.admin.CreateWorkspace(ctx, ws, "Acme Corp"))
	ok(e.admin.CreateUser(ctx, ws, "alice@acme.test", ""))
	ok(e.admin.CreateGroup(ctx, ws, "eng", ""))
	ok(e.admin.AddMember(ctx, ws, "eng", "alice@acme.test"))
	return e, ctx, ok, ws
}

// TestSyncEndToEnd drives codexgov sync against a real server with the
// real Codex 0.169.0 reading what it writes.
func TestSyncEndToEnd(t *testing.T) {
	e, ctx, ok, ws := newSyncE2E(t)
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: engTOML, Defaults: engDefaults}))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng2", Requirements: eng2TOML}))
	assign := func(p string) {
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: p}}}))
	}
	assign("eng")
	tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "alice@acme.test", Name: "alice-devbox"}))
	s := e.syncMachine("devbox-0001", tok.Secret)
	// A file someone else wrote is kept at the first sync.
	if err := testenv.WriteFile(filepath.Join(s.m.Etc, "requirements.toml"), "allowed_sandbox_modes = [\"read-only\"]\n"); err != nil {
		t.Fatal(err)
	}

	t.Run("first sync applies the assigned policy", func(t *testing.T) {
		out := s.sync(t, 0)
		if !strings.Contains(out, "applied: policy eng v1") || !strings.Contains(out, "pinned the signing key set") {
			t.Errorf("output: %s", out)
		}
		s.expectFiles(t, engTOML, engDefaults, "after the first sync")
		if b, _ := os.ReadFile(filepath.Join(s.m.Etc, "requirements.toml.codexgov-backup")); string(b) != "allowed_sandbox_modes = [\"read-only\"]\n" {
			t.Errorf("the replaced file was not kept: %q", b)
		}
		d := s.expectDevice(t, codexgov.DeviceCurrent, "eng", 1, codexgov.SyncApplied)
		host, _ := os.Hostname()
		if d.Identity != "user:alice@acme.test" || d.Sync.Hostname != host || d.Sync.CodexVersion != "0.169.0" || d.Sync.OS != "linux" ||
			d.Fetches != 1 || d.Expected.Policy != "eng" || !strings.HasPrefix(d.BundleHash, "sha256:") {
			t.Errorf("device: %+v %+v", d, d.Sync)
		}
		// The admin CLI's table shows the machine with its host and last
		// run.
		var stdout bytes.Buffer
		printDevices(&stdout, must[[]codexgov.DeviceStatus](t)(e.admin.Devices(ctx, ws, client.DeviceFilter{})))
		var line string
		for _, l := range strings.Split(stdout.String(), "\n") {
			if strings.HasPrefix(l, "devbox-0001") {
				line = strings.Join(strings.Fields(l), " ")
			}
		}
		if !strings.Contains(line, "devbox-0001 sync user:alice@acme.test") || !strings.Contains(line, "eng v1 eng v1 current "+host+" applied") {
			t.Errorf("admin devices:\n%s", stdout.String())
		}
		if fi, err := os.Stat(s.state); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("state folder: %v %v", fi.Mode(), err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("nothing new: 304 and unchanged", func(t *testing.T) {
		if out := s.sync(t, 0); !strings.Contains(out, "unchanged: policy eng v1") {
			t.Errorf("output: %s", out)
		}
		if d := s.expectDevice(t, codexgov.DeviceCurrent, "eng", 1, codexgov.SyncUnchanged); d.Fetches != 2 {
			t.Errorf("reports: %d", d.Fetches)
		}
	})

	t.Run("an assignment change reaches the machine at the next sync", func(t *testing.T) {
		assign("eng2")
		s.expectDevice(t, codexgov.DevicePending, "eng", 1, codexgov.SyncUnchanged)
		if out := s.sync(t, 0); !strings.Contains(out, "applied: policy eng2 v1") {
			t.Errorf("output: %s", out)
		}
		s.expectFiles(t, eng2TOML, "", "after the assignment changed")
		s.expectDevice(t, codexgov.DeviceCurrent, "eng2", 1, codexgov.SyncApplied)
	})

	t.Run("files edited by hand are put back", func(t *testing.T) {
		if err := testenv.WriteFile(filepath.Join(s.m.Etc, "requirements.toml"), "allowed_sandbox_modes = [\"read-only\", \"danger-full-access\"]\n"); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(s.m.Etc, "managed_config.toml"))
		if out := s.sync(t, 0); !strings.Contains(out, "repaired: policy eng2 v1") {
			t.Errorf("output: %s", out)
		}
		s.expectFiles(t, eng2TOML, "", "after the repair")
	})

	t.Run("tampered responses are refused and nothing changes", func(t *testing.T) {
		proxy := e.tamperProxy(t, newForger(t))
		assign("eng") // there is something new to fetch
		lkgBefore, _ := os.ReadFile(filepath.Join(s.state, "last-known-good.json"))
		jwksBefore, _ := os.ReadFile(filepath.Join(s.state, "jwks.json"))
		s.server = proxy.srv.URL
		for _, c := range []struct{ mode, why string }{
			{"body", "the signature does not verify"},
			{"signature", "the signature does not verify"},
			{"forged", "not signed by a pinned key"},
		} {
			proxy.mode.Store(c.mode)
			out := s.sync(t, 1)
			if !strings.Contains(out, "refused") || !strings.Contains(out, c.why) || !strings.Contains(out, "still enforcing policy eng2 v1") {
				t.Errorf("%s: output: %s", c.mode, out)
			}
			s.expectFiles(t, eng2TOML, "", "after a tampered "+c.mode)
			lkg, _ := os.ReadFile(filepath.Join(s.state, "last-known-good.json"))
			jwks, _ := os.ReadFile(filepath.Join(s.state, "jwks.json"))
			if !bytes.Equal(lkg, lkgBefore) || !bytes.Equal(jwks, jwksBefore) {
				t.Errorf("%s: the state folder changed", c.mode)
			}
			d := s.expectDevice(t, codexgov.DevicePending, "eng2", 1, codexgov.SyncRefused)
			if !strings.Contains(d.Sync.Error, c.why) {
				t.Errorf("%s: reported error %q", c.mode, d.Sync.Error)
			}
		}
		s.server = e.url
		s.sync(t, 0)
		s.expectFiles(t, engTOML, engDefaults, "through the server itself")
	})

	t.Run("a key rotation is accepted because the pinned key signed the new set", func(t *testing.T) {
		k := must[*codexgov.SigningKey](t)(e.admin.RotateSigningKey(ctx))
		assign("eng2")
		if out := s.sync(t, 0); !strings.Contains(out, "rotated its signing keys") || !strings.Contains(out, "applied: policy eng2 v1") {
			t.Errorf("output: %s", out)
		}
		if jwks, _ := os.ReadFile(filepath.Join(s.state, "jwks.json")); !strings.Contains(string(jwks), k.KID) {
			t.Errorf("the new key was not pinned: %s", jwks)
		}
		s.expectFiles(t, eng2TOML, "", "after the key rotation")
	})

	t.Run("server stopped: the files stay and Codex keeps enforcing them", func(t *testing.T) {
		e.stop()
		out := s.sync(t, 1)
		if !strings.Contains(out, "failed") || !strings.Contains(out, "still enforcing policy eng2 v1") {
			t.Errorf("output: %s", out)
		}
		s.expectFiles(t, eng2TOML, "", "with the server down")
		e.start(e.addr)
	})

	t.Run("a revoked token: denied, the last known good policy stays", func(t *testing.T) {
		other := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "alice@acme.test", Name: "spare"}))
		ok(e.admin.RevokeEnrollmentToken(ctx, ws, tok.ID))
		out := s.sync(t, 1)
		if !strings.Contains(out, "denied") || !strings.Contains(out, "still enforcing policy eng2 v1") {
			t.Errorf("output: %s", out)
		}
		s.expectFiles(t, eng2TOML, "", "after the token was revoked")
		s.secret = other.Secret
	})

	t.Run("daemon: follows changes, rides out an outage, stops on cancel", func(t *testing.T) {
		args := s.args()
		args[1] = "--daemon"
		args = append(args, "--interval", "1s", "--retry", "200ms")
		dctx, cancel := context.WithCancel(ctx)
		var logs lockedBuffer
		done := make(chan int)
		go func() { done <- run(dctx, args, strings.NewReader(""), io.Discard, &logs) }()
		waitFor := func(req string) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if b, _ := os.ReadFile(filepath.Join(s.m.Etc, "requirements.toml")); string(b) == req {
					return
				}
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("the daemon did not write the new policy:\n%s", logs.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		assign("eng")
		waitFor(engTOML)
		e.stop()
		time.Sleep(1500 * time.Millisecond) // at least one failed run
		e.start(e.addr)
		assign("eng2")
		waitFor(eng2TOML)
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("daemon exit %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the daemon did not stop on cancel")
		}
		if l := logs.String(); !strings.Contains(l, "result=failed") || !strings.Contains(l, "connection refused") {
			t.Errorf("the outage is not in the log:\n%s", l)
		}
		s.expectFiles(t, eng2TOML, "", "after the daemon")
	})
}

// TestSyncSurvivesKill kills codexgov sync with SIGKILL at random moments
// while it writes, and checks after each kill that every file Codex reads
// is whole and valid: one of the policies' exact documents.
func TestSyncSurvivesKill(t *testing.T) {
	e, ctx, ok, ws := newSyncE2E(t)
	// Long files (about 40 KB), so that writing one is not a single
	// instant.
	pad := strings.Repeat("# a comment line that makes the file long enough to take time to write\n", 500)
	engBig, eng2Big, defBig := engTOML+pad, eng2TOML+pad, engDefaults+pad
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: engBig, Defaults: defBig}))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng2", Requirements: eng2Big}))
	tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "alice@acme.test"}))
	s := e.syncMachine("killed-0001", tok.Secret)
	valid := map[string][]string{"requirements.toml": {engBig, eng2Big}, "managed_config.toml": {defBig, ""}}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	runOnce := func() *exec.Cmd {
		cmd := exec.Command(self, s.args()...)
		cmd.Env = append(os.Environ(), cliEnv+"=1")
		return cmd
	}
	// How long one run takes here, to spread the kills over it.
	start := time.Now()
	ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}}}))
	if out, err := runOnce().CombinedOutput(); err != nil {
		t.Fatalf("a whole run: %v\n%s", err, out)
	}
	full := time.Since(start)

	check := func(i int) {
		t.Helper()
		files := map[string]string{}
		for name, bodies := range valid {
			b, err := os.ReadFile(filepath.Join(s.m.Etc, name))
			if err != nil {
				t.Fatalf("kill %d: %s: %v", i, name, err)
			}
			found := false
			for _, v := range bodies {
				found = found || string(b) == v
			}
			if !found {
				t.Fatalf("kill %d: %s is not a whole policy document:\n%q", i, name, b)
			}
			files[name] = string(b)
		}
		in := requirements.Inputs{
			System:        &requirements.Layer{Source: requirements.Source{Kind: requirements.SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: files["requirements.toml"], BaseDir: "/etc/codex"},
			LegacyManaged: &requirements.Layer{Source: requirements.Source{Kind: requirements.LegacyManagedFile, Path: "/etc/codex/managed_config.toml"}, Contents: files["managed_config.toml"], BaseDir: "/etc/codex"},
		}
		if _, err := requirements.Effective(in); err != nil {
			t.Fatalf("kill %d: Codex would refuse the files: %v", i, err)
		}
	}
	killed, changed, runs, policies := 0, 0, 0, []string{"eng2", "eng"}
	last, _ := os.ReadFile(filepath.Join(s.m.Etc, "requirements.toml"))
	for i := 0; killed < 50; i++ {
		runs++
		if i >= 200 {
			t.Fatalf("only %d of %d runs were still running when killed", killed, i)
		}
		// Each run has a new policy to write.
		ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: policies[i%2]}}}))
		cmd := runOnce()
		// Half the kills land at random within a run, half on a write
		// into the folder Codex reads (seen with inotify), where a writer
		// that is not atomic would leave a part of a file.
		var onWrite <-chan struct{}
		if i%2 == 1 {
			skip, _ := rand.Int(rand.Reader, big.NewInt(3))
			onWrite = watchWrites(t, s.m.Etc, int(skip.Int64()))
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if onWrite != nil {
			select {
			case <-onWrite:
			case <-time.After(5 * full):
			}
		} else {
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(full)))
			time.Sleep(time.Duration(n.Int64()))
		}
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			err := cmd.Wait()
			if ee, isExit := err.(*exec.ExitError); isExit && ee.Sys().(syscall.WaitStatus).Signaled() {
				killed++
			}
		} else {
			cmd.Wait()
		}
		check(i)
		if cur, _ := os.ReadFile(filepath.Join(s.m.Etc, "requirements.toml")); !bytes.Equal(cur, last) {
			changed++
			last = cur
		}
	}
	// A run after the last kill leaves the assigned policy, no temporary
	// files, and Codex starts with it.
	ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng2"}}}))
	s.sync(t, 0)
	s.expectFiles(t, eng2Big, "", "after the kills")
	for _, dir := range []string{s.m.Etc, s.state} {
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if strings.Contains(en.Name(), "codexgov-tmp") {
				t.Errorf("a temporary file is left in %s: %s", dir, en.Name())
			}
		}
	}
	var lkg map[string]any
	b, _ := os.ReadFile(filepath.Join(s.state, "last-known-good.json"))
	if err := json.Unmarshal(b, &lkg); err != nil {
		t.Errorf("last-known-good.json: %v", err)
	}
	t.Logf("%d of %d runs killed with SIGKILL mid-run (the files changed after %d of them); a whole run took %s", killed, runs, changed, full)
}

// watchWrites signals after the (skip+1)th change to a file in dir: a
// file created, written or renamed into place.
func watchWrites(t *testing.T, dir string, skip int) <-chan struct{} {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() {
		defer unix.Close(fd)
		buf := make([]byte, 64*1024)
		seen := 0
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			// Poll so that the goroutine ends when no write comes.
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if n, _ := unix.Poll(fds, 100); n <= 0 {
				continue
			}
			n, err := unix.Read(fd, buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				off += unix.SizeofInotifyEvent + int(ev.Len)
				if seen++; seen > skip {
					close(ch)
					return
				}
			}
		}
	}()
	return ch
}
