package execpolicy

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// realisticPolicy builds n rules over n/5 programs (several rules per
// program, 1-3 positions, some alternatives, mixed decisions), like an
// organisation's merged Team Config and requirements rules.
func realisticPolicy(n int) (*Policy, [][]string) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	programs := max(n/5, 1)
	subcommands := []string{"push", "commit", "status", "install", "run", "exec", "delete", "apply", "get", "-rf", "--force", "test"}
	p := NewPolicy()
	for i := 0; i < n; i++ {
		prog := fmt.Sprintf("tool%04d", r.IntN(programs))
		var rest []Token
		for k := 0; k < r.IntN(3); k++ {
			alts := []string{subcommands[r.IntN(len(subcommands))]}
			if r.IntN(3) == 0 {
				alts = append(alts, subcommands[r.IntN(len(subcommands))])
			}
			rest = append(rest, Token{Alternatives: alts})
		}
		p.AddRule(Rule{First: prog, Rest: rest, Decision: Decision(1 + r.IntN(3)), Justification: "policy"})
	}
	// Commands that hit rules at four places in the policy, plus two misses,
	// so every size does the same kind of work.
	var commands [][]string
	for k := 0; k < 4; k++ {
		rule := p.Rules()[k*n/4]
		argv := []string{rule.First}
		for _, t := range rule.Rest {
			argv = append(argv, t.Alternatives[0])
		}
		commands = append(commands, append(argv, "--extra", "arg"))
	}
	commands = append(commands, []string{"unknown-program", "--flag"}, []string{"/usr/bin/unlisted", "x"})
	return p, commands
}

// BenchmarkCheck measures one check against policies of growing size and
// against the linear reference at the largest size. Goals: rules=10000
// within 5x of rules=10, at least 100x faster than linear/rules=10000, and
// 0 allocs/op for commands that match nothing.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		p, cmds := realisticPolicy(n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.Check(cmds[i%len(cmds)], true)
				i++
			}
		})
	}
	p, cmds := realisticPolicy(10000)
	b.Run("linear/rules=10000", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			linearCheck(p.Rules(), nil, cmds[i%len(cmds)], true)
			i++
		}
	})
	// The non-matching case alone, for its allocation count.
	b.Run("miss/rules=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Check(cmds[4], true)
		}
	})
}
