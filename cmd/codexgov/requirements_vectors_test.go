package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

type vectorCase struct {
	name, toml, managed, expected string
	exit                          int
}

func loadRequirementVectors(t *testing.T) []vectorCase {
	t.Helper()
	dir := filepath.Join(testenv.Vectors(t), "requirements")
	codes, err := os.ReadFile(filepath.Join(dir, "exit_codes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []vectorCase
	for _, line := range strings.Split(strings.TrimSpace(string(codes)), "\n") {
		name, code, _ := strings.Cut(line, "\t")
		exit, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("exit_codes.tsv: %q: %v", line, err)
		}
		c := vectorCase{name: name, toml: filepath.Join(dir, name+".toml"), exit: exit}
		if _, err := os.Stat(filepath.Join(dir, name+".managed_config.toml")); err == nil {
			c.managed = filepath.Join(dir, name+".managed_config.toml")
		}
		want, err := os.ReadFile(filepath.Join(dir, name+".expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		c.expected = string(want)
		cases = append(cases, c)
	}
	if len(cases) != 125 {
		t.Fatalf("found %d requirements vectors, want 125", len(cases))
	}
	return cases
}

// TestRequirementsVectors runs every shared vector through
// `codexgov requirements effective` and wants Codex's exact stdout and exit code.
func TestRequirementsVectors(t *testing.T) {
	for _, c := range loadRequirementVectors(t) {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"requirements", "effective", "--system", c.toml, "--hostname", "vm"}
			if c.managed != "" {
				args = append(args, "--managed-config", c.managed)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, nil, &stdout, &stderr)
			if code != c.exit {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.exit, stderr.String())
			}
			if stdout.String() != c.expected {
				t.Errorf("stdout differs\n got: %s\nwant: %s", stdout.String(), c.expected)
			}
		})
	}
}
