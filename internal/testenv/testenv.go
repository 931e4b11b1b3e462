// Package testenv gives tests the real components they run against: the
// pinned Codex CLI as an oracle in a private mount and UTS namespace, and
// the shared conformance vectors. A missing component skips its tests
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

// SharedDir returns ../shared beside the repository (the specification and
// the conformance vectors), or "" when it is not there.
func SharedDir() string {
	if d := os.Getenv("CODEXGOV_SHARED"); d != "" {
		return d
	}
	d := filepath.Join(RepoRoot(), "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "codex", "vectors")); err != nil {
		return ""
	}
	return d
}

// Vectors returns the folder of the Codex conformance vectors.
func Vectors(t testing.TB) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		Missing(t, "../shared/codex/vectors not found (set CODEXGOV_SHARED)")
	}
	return filepath.Join(d, "codex", "vectors")
}
