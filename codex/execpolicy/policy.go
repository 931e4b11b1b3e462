// Package execpolicy evaluates commands against Codex exec-policy prefix
// rules exactly as Codex 0.169.0 does (SPEC.md §4.2): every matching rule is
// reported in definition order, the strictest decision wins, matched
// prefixes hold the command's own tokens, and host-executable resolution
// applies only when nothing matched literally.
//
// Rules are indexed by their first token, so a check costs the rules of one
// program, not of the whole policy; a command that matches nothing is
// evaluated without allocating.
package execpolicy

import (
	"path"
	"strings"
)

// Decision is a rule's verdict. Values are ordered by severity.
type Decision uint8

// Decisions, least to most severe. PromptUser exists only in requirements
// rules: a prompt an automatic reviewer may not answer. Codex does not
// show how it ranks against prompt; codexgov treats it as stricter.
const (
	NoDecision Decision = iota
	Allow
	Prompt
	PromptUser
	Forbidden
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Prompt:
		return "prompt"
	case PromptUser:
		return "prompt-user"
	case Forbidden:
		return "forbidden"
	}
	return ""
}

// ParseDecision reads a decision as `.rules` files spell it.
func ParseDecision(s string) (Decision, bool) {
	switch s {
	case "allow":
		return Allow, true
	case "prompt":
		return Prompt, true
	case "forbidden":
		return Forbidden, true
	}
	return NoDecision, false
}

// Token is one position of a pattern after the first: a word, or a set of
// alternative words.
type Token struct {
	Alternatives []string
}

func (t Token) matches(word string) bool {
	for _, a := range t.Alternatives {
		if a == word {
			return true
		}
	}
	return false
}

// Rule is one prefix rule. A pattern whose first position has alternatives
// is stored as one Rule per alternative, as Codex does.
type Rule struct {
	First    string
	Rest     []Token
	Decision Decision
	// Justification is shown with the decision; empty means none.
	Justification string
}

// Len is the number of command tokens the rule covers.
func (r *Rule) Len() int { return 1 + len(r.Rest) }

// Policy is an ordered set of prefix rules with host-executable
// declarations.
type Policy struct {
	rules   []Rule
	byFirst map[string][]int32
	// hostExecutables maps a bare name to the absolute paths allowed to
	// resolve to it (declared names only).
	hostExecutables map[string][]string
}

// NewPolicy returns an empty policy.
func NewPolicy() *Policy {
	return &Policy{byFirst: map[string][]int32{}, hostExecutables: map[string][]string{}}
}

// AddRule appends a rule (definition order is report order).
func (p *Policy) AddRule(r Rule) {
	p.byFirst[r.First] = append(p.byFirst[r.First], int32(len(p.rules)))
	p.rules = append(p.rules, r)
}

// AddHostExecutable declares which absolute paths may resolve to name;
// repeated paths are kept once. An empty list allows no path.
func (p *Policy) AddHostExecutable(name string, paths []string) {
	list := p.hostExecutables[name]
	if list == nil {
		list = []string{}
	}
	for _, q := range paths {
		q = normalizeProgram(q)
		dup := false
		for _, have := range list {
			dup = dup || have == q
		}
		if !dup {
			list = append(list, q)
		}
	}
	p.hostExecutables[name] = list
}

// HostExecutables returns how many names have host_executable declarations.
func (p *Policy) HostExecutables() int { return len(p.hostExecutables) }

// Rules returns the rules in definition order. The slice must not be modified.
func (p *Policy) Rules() []Rule { return p.rules }

// Append adds every rule and declaration of other after p's own, as the
// agent appends requirements rules to the file policy.
func (p *Policy) Append(other *Policy) {
	for _, r := range other.rules {
		p.AddRule(r)
	}
	for name, paths := range other.hostExecutables {
		p.AddHostExecutable(name, paths)
	}
}

// Match is one matching rule. The matched prefix is Program followed by
// Args: the command's own tokens (Program is the bare name when the match
// came from host-executable resolution).
type Match struct {
	Rule            *Rule
	Program         string
	Args            []string
	ResolvedProgram string
}

// Evaluation is the outcome of a check.
type Evaluation struct {
	Matches  []Match
	Decision Decision
}

// Check evaluates argv. With resolveHost, an absolute first token that
// matches no rule literally is looked up by its basename, subject to the
// host_executable declarations.
func (p *Policy) Check(argv []string, resolveHost bool) Evaluation {
	if len(argv) == 0 {
		return Evaluation{}
	}
	program := argv[0]
	idx := p.byFirst[program]
	n := p.count(idx, argv)
	resolved := ""
	if n == 0 && resolveHost && strings.HasPrefix(program, "/") {
		name := path.Base(program)
		norm := normalizeProgram(program)
		if allowed, declared := p.hostExecutables[name]; !declared || contains(allowed, norm) {
			idx = p.byFirst[name]
			n = p.count(idx, argv)
			program, resolved = name, norm
		}
	}
	if n == 0 {
		return Evaluation{}
	}
	ev := Evaluation{Matches: make([]Match, 0, n)}
	for _, i := range idx {
		r := &p.rules[i]
		if !r.matchesRest(argv) {
			continue
		}
		ev.Matches = append(ev.Matches, Match{Rule: r, Program: program, Args: argv[1:r.Len()], ResolvedProgram: resolved})
		if r.Decision > ev.Decision {
			ev.Decision = r.Decision
		}
	}
	return ev
}

func (p *Policy) count(idx []int32, argv []string) int {
	n := 0
	for _, i := range idx {
		if p.rules[i].matchesRest(argv) {
			n++
		}
	}
	return n
}

// matchesRest checks every position after the first (the index already
// matched the first token).
func (r *Rule) matchesRest(argv []string) bool {
	if len(argv) < r.Len() {
		return false
	}
	for i, t := range r.Rest {
		if !t.matches(argv[i+1]) {
			return false
		}
	}
	return true
}

// normalizeProgram drops a trailing slash, as Codex compares paths.
func normalizeProgram(p string) string {
	if len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
