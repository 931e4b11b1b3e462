// Package testenv gives tests the real components they run against: the
// pinned Codex CLI as an oracle in a private mount and UTS namespace, and
// the Codex conformance vectors. A missing component skips its tests
// loudly outside CI and fails them when CI=true.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// InCI reports whether the suite runs in CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with a loud message, or fails it in CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("MISSING (CI=true, nothing may skip): "+format, args...)
	}
	t.Logf("#### SKIPPED: "+format, args...)
	t.SkipNow()
}

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Vectors returns the folder of the Codex conformance vectors: the real
// Codex 0.169.0's outputs, kept in the repository's own testdata so that a
// clone with nothing beside it runs every test. TestOracleReproducesVectors
// checks that the pinned binary still prints them.
func Vectors(t testing.TB) string {
	t.Helper()
	d := filepath.Join(RepoRoot(), "testdata", "codex", "vectors")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("the Codex vectors are part of the repository: %v", err)
	}
	return d
}
