package execpolicy

import (
	"errors"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// Rust starlark accepts f-strings (f"go {t} is safe"); go.starlark.net does
// not. rewriteFStrings turns each into an equivalent str.format call before
// parsing and records how columns moved, so errors point at the original.

// fstringMap maps columns of the rewritten source back to the original.
type fstringMap struct {
	byLine map[int][]rewrite
}

type rewrite struct {
	newStart, newEnd, origStart, origEnd int // 1-based byte columns, ends exclusive
}

func (m *fstringMap) original(line, col int) int {
	if m == nil {
		return col
	}
	out := col
	for _, r := range m.byLine[line] {
		switch {
		case col >= r.newEnd:
			out = col - (r.newEnd - r.origEnd)
		case col >= r.newStart:
			return r.origStart
		default:
			return out
		}
	}
	return out
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func rewriteFStrings(src string) (string, *fstringMap) {
	m := &fstringMap{byLine: map[int][]rewrite{}}
	var out strings.Builder
	line, lineStartIn, lineStartOut := 1, 0, 0
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			out.WriteByte(c)
			i++
			line++
			lineStartIn, lineStartOut = i, out.Len()
		case c == '#':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			out.WriteString(src[i : i+j])
			i += j
		case c == '"' || c == '\'':
			end := stringEnd(src, i)
			seg := src[i:end]
			out.WriteString(seg)
			line += strings.Count(seg, "\n")
			if k := strings.LastIndexByte(seg, '\n'); k >= 0 {
				lineStartIn, lineStartOut = i+k+1, out.Len()-(len(seg)-k-1)
			}
			i = end
		case (c == 'f' || c == 'F') && (i == 0 || !isIdentByte(src[i-1])) && i+1 < len(src) && (src[i+1] == '"' || src[i+1] == '\''):
			end := stringEnd(src, i+1)
			lit := src[i+1 : end]
			format, exprs := splitFString(lit)
			origStart := i - lineStartIn + 1
			newStart := out.Len() - lineStartOut + 1
			repl := format
			if len(exprs) > 0 {
				repl = "(" + format + ".format(" + strings.Join(exprs, ", ") + "))"
			}
			out.WriteString(repl)
			if strings.Contains(lit, "\n") {
				// A triple-quoted f-string: only the last line's columns move.
				line += strings.Count(lit, "\n")
				k := strings.LastIndexByte(lit, '\n')
				lineStartIn = i + 1 + k + 1
				lineStartOut = out.Len() - (len(repl) - strings.LastIndexByte(repl, '\n') - 1)
				origStart = 1
				newStart = 1
			}
			m.byLine[line] = append(m.byLine[line], rewrite{
				newStart: newStart, newEnd: out.Len() - lineStartOut + 1,
				origStart: origStart, origEnd: end - lineStartIn + 1,
			})
			i = end
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), m
}

// stringEnd returns the offset just past the string literal starting at i
// (the end of the source if it is unterminated).
func stringEnd(src string, i int) int {
	q := src[i]
	triple := strings.HasPrefix(src[i:], strings.Repeat(string(q), 3))
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(src) {
		switch {
		case src[j] == '\\':
			j += 2
			continue
		case triple && strings.HasPrefix(src[j:], strings.Repeat(string(q), 3)):
			return j + 3
		case !triple && src[j] == q:
			return j + 1
		case !triple && src[j] == '\n':
			return j
		}
		j++
	}
	return len(src)
}

// splitFString turns the literal of an f-string (with its quotes) into a
// format string and the expressions it interpolates.
func splitFString(lit string) (string, []string) {
	var format strings.Builder
	var exprs []string
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		switch {
		case c == '{' && i+1 < len(lit) && lit[i+1] == '{', c == '}' && i+1 < len(lit) && lit[i+1] == '}':
			format.WriteString(lit[i : i+2])
			i++
		case c == '{':
			depth, j := 0, i+1
			for ; j < len(lit); j++ {
				switch lit[j] {
				case '(', '[', '{':
					depth++
				case ')', ']':
					depth--
				case '}':
					if depth == 0 {
						goto done
					}
					depth--
				}
			}
		done:
			exprs = append(exprs, strings.TrimSpace(lit[i+1:min(j, len(lit))]))
			format.WriteString("{}")
			i = j
		default:
			format.WriteByte(c)
		}
	}
	return format.String(), exprs
}

func rustDebugString(s string) string { return toml.RustDebugString(s) }

// shellSplit splits an example string with POSIX shell quoting.
func shellSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("example is not a valid shell command")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("example is not a valid shell command")
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// shellJoin renders words as a shell command, quoting where needed.
func shellJoin(words []string) string { return QuoteCommand(words) }
