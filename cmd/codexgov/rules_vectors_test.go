package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

type execpolicyCase struct {
	Rules                  []string        `json:"rules"`
	Command                []string        `json:"command"`
	ResolveHostExecutables bool            `json:"resolve_host_executables"`
	Output                 json.RawMessage `json:"output"`
	ExitCode               int             `json:"exit_code"`
	Error                  string          `json:"error"`
}

func loadExecpolicyVectors(t *testing.T) (string, []execpolicyCase) {
	t.Helper()
	dir := filepath.Join(testenv.Vectors(t), "execpolicy")
	f, err := os.Open(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []execpolicyCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c execpolicyCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if len(cases) != 156 {
		t.Fatalf("found %d execpolicy vectors, want 156", len(cases))
	}
	return dir, cases
}

func checkArgs(rules []string, resolve bool, command []string) []string {
	args := []string{"rules", "check"}
	for _, r := range rules {
		args = append(args, "--rules", r)
	}
	if resolve {
		args = append(args, "--resolve-host-executables")
	}
	return append(append(args, "--"), command...)
}

// TestExecpolicyVectors runs every shared vector through `codexgov rules
// check` from the execpolicy/ folder: stdout (or stderr) and exit code must
// be Codex's, byte for byte.
func TestExecpolicyVectors(t *testing.T) {
	dir, cases := loadExecpolicyVectors(t)
	t.Chdir(dir)
	for i, c := range cases {
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), checkArgs(c.Rules, c.ResolveHostExecutables, c.Command), nil, &stdout, &stderr)
			if code != c.ExitCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.ExitCode, stderr.String())
			}
			if c.ExitCode != 0 {
				if stderr.String() != c.Error {
					t.Errorf("stderr differs\n got: %q\nwant: %q", stderr.String(), c.Error)
				}
				return
			}
			var want bytes.Buffer
			if err := json.Compact(&want, c.Output); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != want.String()+"\n" {
				t.Errorf("stdout differs\n got: %s\nwant: %s", stdout.String(), want.String())
			}
		})
	}
}
