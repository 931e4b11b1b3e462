package policy

import (
	udiff "github.com/aymanbagabas/go-udiff"
)

// Diff returns a unified diff (three lines of context) from a to b, or ""
// when they are equal. The Myers diff of go-udiff keeps memory linear in
// the documents' size: a 10,000-line policy diffs in a few megabytes.
func Diff(nameA, nameB, a, b string) string {
	if a == b {
		return ""
	}
	return udiff.Unified(nameA, nameB, a, b)
}
