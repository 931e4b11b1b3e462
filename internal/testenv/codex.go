package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Oracle runs the pinned real Codex binary. Each run sees a private
// /etc/codex (a bind mount in a fresh mount namespace, so the machine's own
// /etc/codex is never touched), a hostname of the test's choice (a UTS
// namespace) and a throw-away CODEX_HOME outside the system temp folder.
type Oracle struct {
	Bin string
	// homeRoot holds the throw-away CODEX_HOME folders.
	homeRoot string
}

// CodexOracle returns the oracle from CODEX_BIN (installed by `make test`),
// or skips (fails in CI) when it cannot run here.
func CodexOracle(t testing.TB) *Oracle {
	t.Helper()
	bin := os.Getenv("CODEX_BIN")
	if bin == "" {
		Missing(t, "CODEX_BIN is not set; `make test` installs the pinned Codex CLI and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		Missing(t, "CODEX_BIN=%s: %v", bin, err)
	}
	if os.Geteuid() != 0 {
		Missing(t, "the Codex oracle needs root for its private mount and UTS namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		Missing(t, "unshare not found: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(cache, "codexgov", "oracle-homes")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	return &Oracle{Bin: bin, homeRoot: root}
}

// Run describes one invocation of the oracle.
type Run struct {
	// Etc holds the files of the private /etc/codex, by name.
	Etc map[string]string
	// Home holds files written into the throw-away CODEX_HOME, by name.
	Home map[string]string
	// Cwd holds files written into the working folder Codex runs in.
	Cwd map[string]string
	// Hostname is the UTS hostname Codex sees ("vm" when empty).
	Hostname string
	Args     []string
	Env      []string
	Stdin    string
	Timeout  time.Duration
}

// Result is what the oracle printed.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

const nsScript = `set -e
hostname "$1"
if [ ! -d /etc/codex ]; then
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$3/upper,workdir=$3/work" /etc
  mkdir -p /etc/codex
fi
mount --bind "$2" /etc/codex
shift 3
cd "$1"; shift
exec "$@"`

// Machine is one prepared private environment: its /etc/codex, CODEX_HOME
// and working folder exist on disk, so a test can add files (which may name
// these paths) and run several Codex commands against the same machine.
type Machine struct {
	o *Oracle
	// Etc is the folder bound over /etc/codex inside the namespace.
	Etc string
	// Home is the throw-away CODEX_HOME.
	Home string
	// Cwd is the folder Codex starts in.
	Cwd      string
	tmp      string
	hostname string
	env      []string
}

// Prepare writes r's files and returns the machine; Close removes it.
// r.Args, r.Stdin and r.Timeout are ignored.
func (o *Oracle) Prepare(r Run) (*Machine, error) {
	tmp, err := os.MkdirTemp("", "codexgov-oracle-")
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp(o.homeRoot, "home-")
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	m := &Machine{o: o, Etc: filepath.Join(tmp, "etc"), Home: home, Cwd: filepath.Join(tmp, "cwd"), tmp: tmp, hostname: r.Hostname}
	if m.hostname == "" {
		m.hostname = "vm"
	}
	for _, d := range []string{m.Etc, m.Cwd, filepath.Join(tmp, "ov", "upper"), filepath.Join(tmp, "ov", "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			m.Close()
			return nil, err
		}
	}
	for _, f := range []struct {
		dir   string
		files map[string]string
	}{{m.Etc, r.Etc}, {m.Cwd, r.Cwd}, {m.Home, r.Home}} {
		for name, body := range f.files {
			if err := WriteFile(filepath.Join(f.dir, name), body); err != nil {
				m.Close()
				return nil, err
			}
		}
	}
	m.env = append(append(oracleEnv(), "CODEX_HOME="+home), r.Env...)
	return m, nil
}

// Close removes the machine's files.
func (m *Machine) Close() {
	os.RemoveAll(m.tmp)
	os.RemoveAll(m.Home)
}

// command builds `unshare … codex args…` starting in dir (Cwd when empty).
func (m *Machine) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	if dir == "" {
		dir = m.Cwd
	}
	ns := []string{"-m", "-u", "sh", "-c", nsScript, "sh", m.hostname, m.Etc, filepath.Join(m.tmp, "ov"), dir, m.o.Bin}
	cmd := exec.CommandContext(ctx, "unshare", append(ns, args...)...)
	cmd.Env = m.env
	return cmd
}

// Command is `codex args…` on the machine, to start and watch.
func (m *Machine) Command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	return m.command(ctx, dir, args...)
}

// NewHome gives the machine a fresh, empty CODEX_HOME (the old one is
// removed): a new user, or the same user with no sign-in and no cache.
func (m *Machine) NewHome() error {
	home, err := os.MkdirTemp(m.o.homeRoot, "home-")
	if err != nil {
		return err
	}
	os.RemoveAll(m.Home)
	m.Home = home
	for i, e := range m.env {
		if strings.HasPrefix(e, "CODEX_HOME=") {
			m.env[i] = "CODEX_HOME=" + home
		}
	}
	return nil
}

// Run executes `codex args…` on the machine, starting in dir (Cwd when
// empty), with a 60 s limit.
func (m *Machine) Run(ctx context.Context, dir, stdin string, args ...string) (Result, error) {
	return m.run(ctx, 60*time.Second, dir, stdin, args)
}

func (m *Machine) run(ctx context.Context, timeout time.Duration, dir, stdin string, args []string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := m.command(ctx, dir, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	case err != nil:
		return res, fmt.Errorf("running codex: %w", err)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("codex did not finish within %s", timeout)
	}
	return res, nil
}

// Run executes Codex with r's private environment.
func (o *Oracle) Run(ctx context.Context, r Run) (Result, error) {
	m, err := o.Prepare(r)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	return m.run(ctx, timeout, "", r.Stdin, r.Args)
}

// oracleEnv is a minimal environment: no proxy or API key variables leak
// into the oracle, and nothing points it off the machine.
func oracleEnv() []string {
	env := []string{"RUST_BACKTRACE=0", "RUST_LIB_BACKTRACE=0", "NO_COLOR=1", "LANG=C.UTF-8"}
	for _, k := range []string{"PATH", "HOME", "TERM"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// WriteFile writes body at path, creating its folders.
func WriteFile(path, body string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o600)
}
