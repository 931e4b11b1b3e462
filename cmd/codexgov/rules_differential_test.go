package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
	"github.com/codexgov/codexgov/internal/testenv/rulesgen"
)

// TestDifferentialRules runs generated rule files and commands through the
// real `codex execpolicy check` and through `codexgov rules check`, and wants
// identical stdout, stderr and exit codes. CODEXGOV_RULES_SEED and
// CODEXGOV_RULES_CASES change the sample.
func TestDifferentialRules(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	seed := envInt(t, "CODEXGOV_RULES_SEED", 20261121)
	count := envInt(t, "CODEXGOV_RULES_CASES", 1000)
	cases := rulesgen.Generate(uint64(seed), count)
	work := t.TempDir()
	var agree, total, failing atomic.Int64
	t.Run("cases", func(t *testing.T) {
		for i, c := range cases {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				total.Add(1)
				dir := filepath.Join(work, strconv.Itoa(i))
				files := map[string]string{}
				var paths []string
				for _, f := range c.Files {
					files[f.Path] = f.Contents
					paths = append(paths, f.Path)
					if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f.Path)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, f.Path), []byte(f.Contents), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				args := checkArgs(paths, c.Resolve, c.Command)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				want, err := oracle.Run(ctx, testenv.Run{Cwd: files, Args: append([]string{"execpolicy"}, args[1:]...)})
				if err != nil {
					t.Fatalf("oracle: %v", err)
				}
				wantErr := dropEnvironmentNoise(want.Stderr)
				var stdout, stderr bytes.Buffer
				code := runIn(dir, args, &stdout, &stderr)
				if code != 0 {
					failing.Add(1)
				}
				if code == want.ExitCode && stdout.String() == want.Stdout && stderr.String() == wantErr {
					agree.Add(1)
					return
				}
				var b strings.Builder
				for _, f := range c.Files {
					b.WriteString("--- " + f.Path + "\n" + f.Contents)
				}
				t.Errorf("disagreement for %q (resolve=%v)\n%s\ncodex (exit %d):\n%s%s\ncodexgov (exit %d):\n%s%s",
					c.Command, c.Resolve, b.String(), want.ExitCode, want.Stdout, wantErr, code, stdout.String(), stderr.String())
			})
		}
	})
	t.Logf("rules differential agreement: %d/%d cases identical (seed %d; %d with a file that fails to load)", agree.Load(), total.Load(), seed, failing.Load())
}

// dropEnvironmentNoise removes the line Codex prints when it cannot create
// its PATH aliases, which is about the machine, not the policy.
func dropEnvironmentNoise(s string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "WARNING: proceeding, even though") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// runIn runs the CLI with dir as the working folder, as the rule paths are
// relative. It locks the process-wide working folder for the duration.
func runIn(dir string, args []string, stdout, stderr *bytes.Buffer) int {
	cwdMu.Lock()
	defer cwdMu.Unlock()
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		return -1
	}
	defer os.Chdir(old)
	return run(context.Background(), args, nil, stdout, stderr)
}

var cwdMu sync.Mutex
