package execpolicy

import (
	"strings"

	"github.com/codexgov/codexgov/codex/shellsplit"
)

// Explanation is what Codex does with one tool call, and what it misses.
type Explanation struct {
	Argv     []string
	Analysis shellsplit.Result
	// Evaluations are Codex's, one per command it evaluates.
	Evaluations []Evaluation
	// Decision is the strictest decision over those evaluations.
	Decision Decision
	// Outcome describes what Codex does with the command.
	Outcome string
	// Findings are the strict analysis's hidden commands, evaluated.
	Findings []FindingResult
}

// FindingResult is a hidden command and what the policy says about it.
type FindingResult struct {
	shellsplit.Finding
	Evaluation Evaluation
	// Bypass marks a hidden command the policy prompts for or forbids
	// while Codex's own decision for the tool call is weaker.
	Bypass bool
}

// Bypassed reports whether any hidden command bypasses the policy.
func (e *Explanation) Bypassed() bool {
	for _, f := range e.Findings {
		if f.Bypass {
			return true
		}
	}
	return false
}

// Explain evaluates a tool call as the agent does (SPEC.md §4.4-4.5) and
// runs the strict analysis against the same policy.
func Explain(p *Policy, argv []string, resolveHost bool) Explanation {
	ex := Explanation{Argv: argv, Analysis: shellsplit.Analyze(argv)}
	for _, c := range ex.Analysis.Commands {
		ev := p.Check(c.Argv, resolveHost)
		ex.Evaluations = append(ex.Evaluations, ev)
		if ev.Decision > ex.Decision {
			ex.Decision = ev.Decision
		}
	}
	ex.Outcome = outcome(argv, ex.Evaluations, ex.Decision)
	for _, f := range ex.Analysis.Hidden {
		ev := p.Check(f.Argv, resolveHost)
		ex.Findings = append(ex.Findings, FindingResult{Finding: f, Evaluation: ev, Bypass: ev.Decision >= Prompt && ev.Decision > ex.Decision})
	}
	return ex
}

// outcome words Codex's reaction as SPEC.md §4.5 records it.
func outcome(argv []string, evs []Evaluation, d Decision) string {
	cmd := "`" + QuoteCommand(argv) + "`"
	var just, prefix string
	longest := 0
	for _, ev := range evs {
		for _, m := range ev.Matches {
			if m.Rule.Decision != d {
				continue
			}
			if just == "" && m.Rule.Justification != "" {
				just = m.Rule.Justification
			}
			if n := 1 + len(m.Args); n > longest {
				longest = n
				prefix = QuoteCommand(append([]string{m.Program}, m.Args...))
			}
		}
	}
	switch d {
	case Forbidden:
		if just != "" {
			return "Codex rejects it: " + cmd + " rejected: " + just
		}
		return "Codex rejects it: " + cmd + " rejected: policy forbids commands starting with `" + prefix + "`"
	case Prompt, PromptUser:
		reason := "requires approval by policy"
		if just != "" {
			reason = "requires approval: " + just
		}
		who := "asks for approval"
		if d == PromptUser {
			who = "asks the user (not an automatic reviewer) for approval"
		}
		return "Codex " + who + ": " + cmd + " " + reason + " (with approval_policy = never it is rejected: approval required by policy, but AskForApproval is set to Never)"
	case Allow:
		return "Codex runs it without asking: the policy allows it"
	}
	return "No rule matches: Codex falls back to its sandbox and approval settings"
}

// QuoteCommand renders argv as a POSIX shell command line.
func QuoteCommand(argv []string) string {
	out := make([]string, len(argv))
	for i, w := range argv {
		safe := w != ""
		for j := 0; j < len(w) && safe; j++ {
			c := w[j]
			safe = isIdentByte(c) || strings.IndexByte("-_./=:,+@%^", c) >= 0
		}
		if safe {
			out[i] = w
		} else {
			out[i] = "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(out, " ")
}
