package execpolicy

import (
	"fmt"
	"path"
	"strings"
	"testing"
)

// linearCheck is the deliberately naive reference: it scans every rule in
// order and shares no code with Policy.Check.
func linearCheck(rules []Rule, hosts map[string][]string, argv []string, resolve bool) Evaluation {
	scan := func(first string) []Match {
		var out []Match
		for i := range rules {
			r := &rules[i]
			if r.First != first || len(argv) < 1+len(r.Rest) {
				continue
			}
			ok := true
			for j, tok := range r.Rest {
				found := false
				for _, alt := range tok.Alternatives {
					if alt == argv[j+1] {
						found = true
					}
				}
				if !found {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, Match{Rule: r, Program: first, Args: argv[1 : 1+len(r.Rest)]})
			}
		}
		return out
	}
	if len(argv) == 0 {
		return Evaluation{}
	}
	matches := scan(argv[0])
	if len(matches) == 0 && resolve && strings.HasPrefix(argv[0], "/") {
		name := path.Base(argv[0])
		norm := argv[0]
		if len(norm) > 1 {
			norm = strings.TrimSuffix(norm, "/")
		}
		allowed, declared := hosts[name]
		permitted := !declared
		for _, a := range allowed {
			permitted = permitted || a == norm
		}
		if permitted {
			matches = scan(name)
			for i := range matches {
				matches[i].ResolvedProgram = norm
			}
		}
	}
	ev := Evaluation{Matches: matches}
	for _, m := range matches {
		if m.Rule.Decision > ev.Decision {
			ev.Decision = m.Rule.Decision
		}
	}
	return ev
}

func sameEvaluation(a, b Evaluation) error {
	if a.Decision != b.Decision || len(a.Matches) != len(b.Matches) {
		return fmt.Errorf("decision %v vs %v, %d vs %d matches", a.Decision, b.Decision, len(a.Matches), len(b.Matches))
	}
	for i := range a.Matches {
		x, y := a.Matches[i], b.Matches[i]
		if x.Rule != y.Rule || x.Program != y.Program || x.ResolvedProgram != y.ResolvedProgram || strings.Join(x.Args, "\x00") != strings.Join(y.Args, "\x00") {
			return fmt.Errorf("match %d differs: %+v vs %+v", i, x, y)
		}
	}
	return nil
}

// FuzzCheckMatchesLinear builds a policy and commands from the fuzz input
// and wants the indexed engine to agree with the linear reference.
func FuzzCheckMatchesLinear(f *testing.F) {
	f.Add([]byte("git push rm -rf ls"), true)
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 201, 202}, false)
	vocab := []string{"git", "push", "commit", "rm", "-rf", "ls", "/usr/bin/git", "/usr/bin/git/", "/opt/git", "python", "python3", "-c", "", "a b", "/bin/ls", "make"}
	f.Fuzz(func(t *testing.T, data []byte, resolve bool) {
		word := func(i int) string { return vocab[int(data[i%len(data)])%len(vocab)] }
		if len(data) == 0 {
			return
		}
		p := NewPolicy()
		hosts := map[string][]string{}
		pos := 0
		for n := 0; n < 40 && pos+4 < len(data); n++ {
			op := data[pos] % 8
			pos++
			switch op {
			case 0:
				name := path.Base(word(pos))
				paths := []string{word(pos + 1)}
				if data[pos]%3 == 0 {
					paths = nil
				}
				p.AddHostExecutable(name, paths)
				for _, q := range paths {
					q = strings.TrimSuffix(q, "/")
					if q == "" {
						q = "/"
					}
					hosts[name] = append(hosts[name], q)
				}
				if paths == nil && hosts[name] == nil {
					hosts[name] = []string{}
				}
				pos += 2
			default:
				var rest []Token
				for k := 0; k < int(data[pos]%4); k++ {
					alts := []string{word(pos + 1 + k)}
					if data[(pos+k)%len(data)]%2 == 0 {
						alts = append(alts, word(pos+5+k))
					}
					rest = append(rest, Token{Alternatives: alts})
				}
				p.AddRule(Rule{First: word(pos + 9), Rest: rest, Decision: Decision(1 + data[pos]%3), Justification: word(pos + 2)})
				pos += 3
			}
		}
		for c := 0; c < 8; c++ {
			argv := make([]string, 1+int(data[(pos+c)%len(data)])%5)
			for i := range argv {
				argv[i] = word(pos + c*7 + i)
			}
			got := p.Check(argv, resolve)
			want := linearCheck(p.Rules(), hosts, argv, resolve)
			if err := sameEvaluation(got, want); err != nil {
				t.Fatalf("argv %q resolve=%v: %v", argv, resolve, err)
			}
		}
	})
}
