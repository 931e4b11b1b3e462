// Package didyoumean finds the known name a mistyped one most likely meant,
// for the linters' "did you mean" hints.
package didyoumean

import "strings"

// Closest returns the known name closest to key, if it is close enough to
// be a likely typo (case, '_' versus '-', a plural, a swapped pair or a few
// edits), else "".
func Closest(key string, known []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
	}
	best, bestDist := "", 1<<30
	for _, k := range known {
		d := distance(norm(key), norm(k))
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := max(1, len(norm(key))/5)
	if bestDist <= limit {
		return best
	}
	return ""
}

// distance is the optimal string alignment distance: insertions, deletions,
// substitutions and swaps of neighbours each cost 1.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
