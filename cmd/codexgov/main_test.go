package main

import (
	"context"
	"os"
	"testing"
)

// cliEnv makes the test binary act as the codexgov command, so that a test
// can run it as a separate process (and kill it).
const cliEnv = "CODEXGOV_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
