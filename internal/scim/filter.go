// Package scim is codexgov's SCIM 2.0 service provider core (RFC 7643 and
// RFC 7644): the filter language, PATCH paths and operations, attribute
// selection, the error schema, and the discovery documents. Resources are
// handled as JSON objects (map[string]any) so that filters and patches
// work on every attribute a client sends; internal/httpapi maps them to
// codexgov users and groups.
package scim

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxFilterLength bounds a filter expression, and MaxFilterDepth its
// nesting, so that a hostile filter costs little to refuse.
const (
	MaxFilterLength = 4096
	MaxFilterDepth  = 32
)

// Filter is a parsed filter expression.
type Filter interface {
	// String renders the filter in canonical form; parsing it gives the
	// same filter.
	String() string
	match(v map[string]any) bool
}

// AttrPath names an attribute: an optional schema URI, the attribute and
// an optional sub-attribute ("name.givenName").
type AttrPath struct {
	URI, Name, Sub string
}

func (p AttrPath) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URI != "" {
		s = p.URI + ":" + s
	}
	return s
}

// Compare is `attrPath op value`.
type Compare struct {
	Path  AttrPath
	Op    string // eq ne co sw ew gt ge lt le
	Value any    // string, float64, bool or nil
}

// Present is `attrPath pr`.
type Present struct{ Path AttrPath }

// Logical is `left and right` or `left or right`.
type Logical struct {
	Op          string // and, or
	Left, Right Filter
}

// Not is `not (filter)`.
type Not struct{ Filter Filter }

// ValuePath is `attr[filter]`: some value of a multi-valued complex
// attribute matches the inner filter.
type ValuePath struct {
	Path   AttrPath
	Filter Filter
}

func (c *Compare) String() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(c.Value)
	v := strings.TrimSuffix(b.String(), "\n")
	if f, ok := c.Value.(float64); ok {
		v = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return c.Path.String() + " " + c.Op + " " + v
}
func (p *Present) String() string { return p.Path.String() + " pr" }
func (l *Logical) String() string {
	return "(" + l.Left.String() + " " + l.Op + " " + l.Right.String() + ")"
}
func (n *Not) String() string       { return "not (" + n.Filter.String() + ")" }
func (v *ValuePath) String() string { return v.Path.String() + "[" + v.Filter.String() + "]" }

// Error is a SCIM protocol error: an HTTP status, a scimType (RFC 7644
// §3.12) and a detail a person can act on.
type Error struct {
	Status   int
	SCIMType string
	Detail   string
}

func (e *Error) Error() string { return e.Detail }

// Errorf makes an Error.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, SCIMType: scimType, Detail: fmt.Sprintf(format, args...)}
}

type tokenKind int

const (
	tEOF tokenKind = iota
	tWord
	tString
	tNumber
	tLParen
	tRParen
	tLBracket
	tRBracket
)

type token struct {
	kind tokenKind
	text string
	str  string  // tString: the decoded string
	num  float64 // tNumber
	pos  int
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func isAttrChar(r rune) bool {
	return r == '-' || r == '_' || r == '$' || r == '.' || r == ':' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			out = append(out, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == '[':
			out = append(out, token{kind: tLBracket, text: "[", pos: i})
			i++
		case c == ']':
			out = append(out, token{kind: tRBracket, text: "]", pos: i})
			i++
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string starting at offset %d", i)
			}
			var s string
			if err := json.Unmarshal([]byte(src[i:j+1]), &s); err != nil {
				return nil, fmt.Errorf("invalid string at offset %d: %v", i, err)
			}
			out = append(out, token{kind: tString, text: src[i : j+1], str: s, pos: i})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(src) && strings.IndexByte("0123456789.eE+-", src[j]) >= 0 {
				j++
			}
			f, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("invalid number %q at offset %d", src[i:j], i)
			}
			out = append(out, token{kind: tNumber, text: src[i:j], num: f, pos: i})
			i = j
		default:
			if r, _ := utf8.DecodeRuneInString(src[i:]); !isAttrChar(r) {
				return nil, fmt.Errorf("unexpected character %q at offset %d", r, i)
			}
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if !isAttrChar(r) {
					break
				}
				j += size
			}
			out = append(out, token{kind: tWord, text: src[i:j], pos: i})
			i = j
		}
	}
	return append(out, token{kind: tEOF, pos: len(src)}), nil
}

// ParseFilter parses a filter expression (RFC 7644 §3.4.2.2). Errors are
// *Error with scimType invalidFilter and the offset of the fault.
func ParseFilter(src string) (Filter, error) {
	if len(src) > MaxFilterLength {
		return nil, Errorf(400, "invalidFilter", "the filter is longer than %d bytes", MaxFilterLength)
	}
	if !utf8.ValidString(src) {
		return nil, Errorf(400, "invalidFilter", "the filter is not valid UTF-8")
	}
	toks, err := lex(src)
	if err != nil {
		return nil, Errorf(400, "invalidFilter", "filter: %v", err)
	}
	p := &parser{src: src, toks: toks}
	f, err := p.or()
	if err == nil && p.peek().kind != tEOF {
		err = p.errf("unexpected %q", p.peek().text)
	}
	if err != nil {
		return nil, Errorf(400, "invalidFilter", "filter: %v", err)
	}
	return f, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(format string, args ...any) error {
	t := p.peek()
	where := "at the end"
	if t.kind != tEOF {
		where = fmt.Sprintf("at offset %d", t.pos)
	}
	return fmt.Errorf(format+" "+where, args...)
}

func (p *parser) keyword(w string) bool {
	t := p.peek()
	if t.kind == tWord && strings.EqualFold(t.text, w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) or() (Filter, error) {
	if p.depth++; p.depth > MaxFilterDepth {
		return nil, p.errf("the filter nests deeper than %d", MaxFilterDepth)
	}
	defer func() { p.depth-- }()
	return p.chain("or", p.and)
}

func (p *parser) and() (Filter, error) { return p.chain("and", p.unary) }

// chain parses operands joined by one logical operator, left to right.
func (p *parser) chain(op string, operand func() (Filter, error)) (Filter, error) {
	left, err := operand()
	for err == nil && p.keyword(op) {
		var right Filter
		if right, err = operand(); err == nil {
			left = &Logical{Op: op, Left: left, Right: right}
		}
	}
	return left, err
}

func (p *parser) unary() (Filter, error) {
	if t := p.peek(); t.kind == tWord && strings.EqualFold(t.text, "not") && p.toks[p.i+1].kind == tLParen {
		p.i++
		f, err := p.group()
		if err != nil {
			return nil, err
		}
		return &Not{Filter: f}, nil
	}
	if p.peek().kind == tLParen {
		return p.group()
	}
	return p.attrExp()
}

func (p *parser) group() (Filter, error) {
	if p.next().kind != tLParen {
		return nil, p.errf("want (")
	}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tRParen {
		return nil, p.errf("want )")
	}
	p.i++
	return f, nil
}

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) attrExp() (Filter, error) {
	t := p.peek()
	if t.kind != tWord {
		return nil, p.errf("want an attribute name")
	}
	p.i++
	path, err := ParseAttrPath(t.text)
	if err != nil {
		return nil, fmt.Errorf("%v at offset %d", err, t.pos)
	}
	if p.peek().kind == tLBracket {
		if path.Sub != "" {
			return nil, fmt.Errorf("a sub-attribute cannot take a [filter] at offset %d", t.pos)
		}
		p.i++
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRBracket {
			return nil, p.errf("want ]")
		}
		p.i++
		return &ValuePath{Path: path, Filter: inner}, nil
	}
	op := p.peek()
	if op.kind != tWord {
		return nil, p.errf("want an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)")
	}
	name := strings.ToLower(op.text)
	p.i++
	if name == "pr" {
		return &Present{Path: path}, nil
	}
	if !compareOps[name] {
		p.i--
		return nil, p.errf("unknown operator %q (want eq, ne, co, sw, ew, gt, ge, lt, le or pr)", op.text)
	}
	v := p.next()
	var val any
	switch {
	case v.kind == tString:
		val = v.str
	case v.kind == tNumber:
		val = v.num
	case v.kind == tWord && v.text == "true":
		val = true
	case v.kind == tWord && v.text == "false":
		val = false
	case v.kind == tWord && v.text == "null":
		val = nil
	default:
		p.i--
		return nil, p.errf("want a value (a \"string\", a number, true, false or null)")
	}
	return &Compare{Path: path, Op: name, Value: val}, nil
}

// ParseAttrPath parses `[URI:]name[.sub]`.
func ParseAttrPath(s string) (AttrPath, error) {
	var p AttrPath
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URI, s = s[:i], s[i+1:]
	}
	name, sub, _ := strings.Cut(s, ".")
	if !validName(name) || (sub != "" && !validName(sub)) || strings.Contains(sub, ".") {
		return AttrPath{}, fmt.Errorf("invalid attribute path %q", s)
	}
	p.Name, p.Sub = name, sub
	return p, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		alpha := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i == 0 && !alpha && r != '$' {
			return false
		}
		if !alpha && !(r >= '0' && r <= '9') && r != '-' && r != '_' && r != '$' {
			return false
		}
	}
	return true
}
