package execpolicy

import "github.com/codexgov/codexgov/codex/requirements"

// FromRequirements builds the policy of requirements [rules] prefix rules,
// expanding first-position alternatives as for .rules files. The agent
// appends it after the .rules policy (Policy.Append), so requirements can
// only make a decision stricter.
func FromRequirements(rules []requirements.PrefixRule) *Policy {
	p := NewPolicy()
	for _, r := range rules {
		d := map[string]Decision{"prompt": Prompt, "prompt-user": PromptUser, "forbidden": Forbidden, "allow": Allow}[r.Decision]
		rest := make([]Token, len(r.Pattern)-1)
		for i := range rest {
			rest[i] = Token{Alternatives: r.Pattern[i+1]}
		}
		for _, first := range r.Pattern[0] {
			p.AddRule(Rule{First: first, Rest: rest, Decision: d, Justification: r.Justification})
		}
	}
	return p
}
