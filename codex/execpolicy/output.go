package execpolicy

import (
	"github.com/codexgov/codexgov/codex/internal/serdejson"
)

// AppendJSON appends the evaluation as `codex execpolicy check` prints it:
// one compact line, or serde_json's pretty layout with pretty.
//
//	{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":[…],"decision":"…",
//	  "resolvedProgram":"…","justification":"…"}}],"decision":"…"}
//
// With no match it is {"matchedRules":[]} and has no decision.
func (ev Evaluation) AppendJSON(b []byte, pretty bool) []byte {
	w := writer{b: b, pretty: pretty}
	w.open('{')
	w.key("matchedRules")
	if len(ev.Matches) == 0 {
		w.b = append(w.b, '[', ']')
	} else {
		w.open('[')
		for i, m := range ev.Matches {
			if i > 0 {
				w.comma()
			}
			w.item()
			w.open('{')
			w.key("prefixRuleMatch")
			w.open('{')
			w.key("matchedPrefix")
			w.open('[')
			w.item()
			w.b = serdejson.AppendString(w.b, m.Program)
			for _, a := range m.Args {
				w.comma()
				w.item()
				w.b = serdejson.AppendString(w.b, a)
			}
			w.close(']')
			w.comma()
			w.key("decision")
			w.b = serdejson.AppendString(w.b, m.Rule.Decision.String())
			if m.ResolvedProgram != "" {
				w.comma()
				w.key("resolvedProgram")
				w.b = serdejson.AppendString(w.b, m.ResolvedProgram)
			}
			if m.Rule.Justification != "" {
				w.comma()
				w.key("justification")
				w.b = serdejson.AppendString(w.b, m.Rule.Justification)
			}
			w.close('}')
			w.close('}')
		}
		w.close(']')
	}
	if ev.Decision != NoDecision {
		w.comma()
		w.key("decision")
		w.b = serdejson.AppendString(w.b, ev.Decision.String())
	}
	w.close('}')
	return w.b
}

// writer emits compact JSON, or serde_json's PrettyFormatter layout.
type writer struct {
	b      []byte
	pretty bool
	depth  int
}

func (w *writer) newline() {
	if w.pretty {
		w.b = append(w.b, '\n')
		for i := 0; i < w.depth; i++ {
			w.b = append(w.b, ' ', ' ')
		}
	}
}

func (w *writer) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
}

// item starts an array element on its own line.
func (w *writer) item() { w.newline() }

func (w *writer) close(c byte) {
	w.depth--
	w.newline()
	w.b = append(w.b, c)
}

func (w *writer) comma() { w.b = append(w.b, ',') }

// key starts an object member on its own line.
func (w *writer) key(k string) {
	w.newline()
	w.b = serdejson.AppendString(w.b, k)
	w.b = append(w.b, ':')
	if w.pretty {
		w.b = append(w.b, ' ')
	}
}
