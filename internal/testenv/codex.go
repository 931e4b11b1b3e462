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

// Run executes Codex with r's private environment.
func (o *Oracle) Run(ctx context.Context, r Run) (Result, error) {
	tmp, err := os.MkdirTemp("", "codexgov-oracle-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	etc := filepath.Join(tmp, "etc")
	cwd := filepath.Join(tmp, "cwd")
	for _, d := range []string{etc, cwd, filepath.Join(tmp, "ov", "upper"), filepath.Join(tmp, "ov", "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Result{}, err
		}
	}
	for name, body := range r.Etc {
		if err := writeFile(filepath.Join(etc, name), body); err != nil {
			return Result{}, err
		}
	}
	for name, body := range r.Cwd {
		if err := writeFile(filepath.Join(cwd, name), body); err != nil {
			return Result{}, err
		}
	}
	home, err := os.MkdirTemp(o.homeRoot, "home-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(home)
	for name, body := range r.Home {
		if err := writeFile(filepath.Join(home, name), body); err != nil {
			return Result{}, err
		}
	}
	host := r.Hostname
	if host == "" {
		host = "vm"
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append([]string{"-m", "-u", "sh", "-c", nsScript, "sh", host, etc, filepath.Join(tmp, "ov"), cwd, o.Bin}, r.Args...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(oracleEnv(), "CODEX_HOME="+home)
	cmd.Env = append(cmd.Env, r.Env...)
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
