// Package didyoumean finds the known name a mistyped one most likely meant,
// for the linters' "did you mean" hints.
package didyoumean

import "strings"

var fold = strings.NewReplacer("-", "", "_", "")

func norm(s string) string { return strings.ToLower(fold.Replace(s)) }

// Closest returns the known name closest to key, if it is close enough to
// be a likely typo (case, '_' versus '-', a plural, a swapped pair or a few
// edits), else "". It allocates two rows per call, whatever the number of
// known names, and skips names too far apart in length to be a typo.
func Closest(key string, known []string) string {
	nk := norm(key)
	limit := max(1, len(nk)/5)
	best, bestDist := "", limit+1
	rows := make([]int, 3*(len(nk)+1))
	for _, k := range known {
		n := norm(k)
		if d := len(n) - len(nk); d > limit || -d > limit {
			continue
		}
		if d := distance(n, nk, rows); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours each cost
// 1. rows holds three rows of len(b)+1.
func distance(a, b string, rows []int) int {
	n := len(b) + 1
	prev2, prev, cur := rows[:n], rows[n:2*n], rows[2*n:3*n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
