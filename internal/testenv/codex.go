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
  mkdir /etc/codex
fi
mount --bind "$2" /etc/codex
shift 3
cd "$1"; shift
exec "$@"`

// prepared is a private environment ready to run Codex in.
type prepared struct {
	args    []string // unshare … codex, without Codex's own arguments
	env     []string
	cleanup func()
}

// prepare writes r's files and builds the namespace command line.
func (o *Oracle) prepare(r Run) (*prepared, error) {
	tmp, err := os.MkdirTemp("", "codexgov-oracle-")
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp(o.homeRoot, "home-")
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	cleanup := func() { os.RemoveAll(tmp); os.RemoveAll(home) }
	etc := filepath.Join(tmp, "etc")
	cwd := filepath.Join(tmp, "cwd")
	for _, d := range []string{etc, cwd, filepath.Join(tmp, "ov", "upper"), filepath.Join(tmp, "ov", "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			cleanup()
			return nil, err
		}
	}
	write := func(dir string, files map[string]string) error {
		for name, body := range files {
			if err := writeFile(filepath.Join(dir, name), body); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range []struct {
		dir   string
		files map[string]string
	}{{etc, r.Etc}, {cwd, r.Cwd}, {home, r.Home}} {
		if err := write(f.dir, f.files); err != nil {
			cleanup()
			return nil, err
		}
	}
	host := r.Hostname
	if host == "" {
		host = "vm"
	}
	env := append(oracleEnv(), "CODEX_HOME="+home)
	return &prepared{
		args:    []string{"-m", "-u", "sh", "-c", nsScript, "sh", host, etc, filepath.Join(tmp, "ov"), cwd, o.Bin},
		env:     append(env, r.Env...),
		cleanup: cleanup,
	}, nil
}

// Run executes Codex with r's private environment.
func (o *Oracle) Run(ctx context.Context, r Run) (Result, error) {
	pr, err := o.prepare(r)
	if err != nil {
		return Result{}, err
	}
	defer pr.cleanup()
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", append(pr.args, r.Args...)...)
	cmd.Env = pr.env
	cmd.Stdin = strings.NewReader(r.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
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

func writeFile(path, body string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(body), 0o600)
}
