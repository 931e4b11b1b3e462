package main

import (
	"context"
	"os"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestOracleReproducesVectors checks that the installed Codex binary still
// prints every shared vector's expected output (what `vectors/regen.sh
// --check` does), so the differential test compares against the right
// release.
func TestOracleReproducesVectors(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	for _, c := range loadRequirementVectors(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			etc := map[string]string{}
			data, err := os.ReadFile(c.toml)
			if err != nil {
				t.Fatal(err)
			}
			etc["requirements.toml"] = string(data)
			if c.managed != "" {
				data, err := os.ReadFile(c.managed)
				if err != nil {
					t.Fatal(err)
				}
				etc["managed_config.toml"] = string(data)
			}
			got, err := oracle.Run(context.Background(), testenv.Run{Etc: etc, Hostname: "vm", Args: []string{"app-server", "--print-startup-config"}})
			if err != nil {
				t.Fatal(err)
			}
			if got.ExitCode != c.exit || got.Stdout != c.expected {
				t.Errorf("the oracle no longer reproduces this vector\nexit %d, want %d\n got: %s\nwant: %s", got.ExitCode, c.exit, got.Stdout, c.expected)
			}
		})
	}
}
