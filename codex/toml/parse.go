package toml

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse reads a TOML document into a table value. Its errors are
// *SyntaxError values whose Error text is what Codex prints for the same
// document.
func Parse(src string) (*Value, error) { return ParseLimited(src, 0) }

// ParseLimited parses like Parse, but stops with an error once the
// document holds more than maxValues keys, values and tables (0: no
// limit). Codex has no such limit; a server that parses documents from
// the network uses one to bound the memory a document can take.
func ParseLimited(src string, maxValues int) (*Value, error) {
	p := &parser{src: src, maxNodes: maxValues}
	p.root = &Value{Kind: Table, Tbl: NewTable(), explicit: true}
	p.cur = p.root
	if err := p.document(); err != nil {
		return nil, err
	}
	// toml reports a structural error first; otherwise the first error in
	// a token's content or in the table structure, in document order.
	if len(p.soft) > 0 {
		return nil, p.soft[0]
	}
	// A key of too many parts fails when the document is turned into
	// values, after parsing: no position.
	if p.keyTooDeep {
		return nil, &SyntaxError{Msg: "recursion limit", src: p.src, unplaced: true}
	}
	return p.root, nil
}

// The limits of Codex 0.169.0's TOML reader (observed on the binary):
// arrays and inline tables nest at most MaxValueDepth deep (the next
// opening bracket is "cannot recurse further; max recursion depth met"),
// and a key (dotted, a table header, or inside an inline table) has at
// most MaxKeySegments parts ("recursion limit"). They also bound what a
// document can make this parser allocate in nesting.
const (
	MaxValueDepth  = 80
	MaxKeySegments = 80
)

type parser struct {
	src     string
	pos     int
	root    *Value
	cur     *Value
	lastEnd int // end of the last significant token, where "unclosed" errors point
	// depth is the nesting of arrays and inline tables being parsed.
	depth int
	// keyTooDeep: a key has more than MaxKeySegments parts.
	keyTooDeep bool
	// nodes counts keys and values; maxNodes bounds them (0: no bound).
	nodes, maxNodes int
	// soft holds errors the parser recovers from: bad token contents and
	// duplicate or conflicting keys.
	soft []*SyntaxError
}

func (p *parser) softFail(msg string, start, end int) {
	p.soft = append(p.soft, &SyntaxError{Msg: msg, Span: Span{start, end}, src: p.src})
}

func (p *parser) fail(msg string, start, end int) error {
	return &SyntaxError{Msg: msg, Span: Span{start, end}, src: p.src}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) peekAt(off int) byte {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) atNewline() bool {
	return p.peek() == '\n' || (p.peek() == '\r' && p.peekAt(1) == '\n')
}

func (p *parser) skipNewline() {
	if p.peek() == '\r' {
		p.pos++
	}
	p.pos++
}

func (p *parser) skipComment() error {
	for p.pos < len(p.src) && !p.atNewline() {
		c := p.src[p.pos]
		if c == '\r' || (c < 0x20 && c != '\t') || c == 0x7f {
			return p.fail("invalid comment character", p.pos, p.pos+1)
		}
		_, n := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += n
	}
	return nil
}

// skipTrivia skips whitespace, newlines and comments (inside arrays and
// inline tables).
func (p *parser) skipTrivia() error {
	for {
		p.skipSpace()
		switch {
		case p.atNewline():
			p.skipNewline()
		case p.peek() == '#':
			if err := p.skipComment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *parser) document() error {
	for {
		p.skipSpace()
		if p.eof() {
			return nil
		}
		switch {
		case p.atNewline():
			p.skipNewline()
			continue
		case p.peek() == '#':
			if err := p.skipComment(); err != nil {
				return err
			}
			continue
		case p.peek() == '[':
			if err := p.header(); err != nil {
				return err
			}
		default:
			if err := p.keyval(p.cur, false); err != nil {
				return err
			}
		}
		if err := p.endOfLine(); err != nil {
			return err
		}
	}
}

func (p *parser) endOfLine() error {
	p.skipSpace()
	switch {
	case p.eof():
		return nil
	case p.peek() == '#':
		return p.skipComment()
	case p.atNewline():
		p.skipNewline()
		return nil
	}
	return p.fail("unexpected key or value, expected newline, `#`", p.pos, p.pos+1)
}

type keyPart struct {
	name string
	span Span
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func (p *parser) simpleKey() (keyPart, error) {
	start := p.pos
	switch p.peek() {
	case '"':
		if strings.HasPrefix(p.src[p.pos:], `"""`) {
			return keyPart{}, p.fail("multi-line basic strings are not allowed for keys", p.pos, p.pos+3)
		}
		s, err := p.basicString()
		if err != nil {
			return keyPart{}, err
		}
		return keyPart{s, Span{start, p.pos}}, nil
	case '\'':
		if strings.HasPrefix(p.src[p.pos:], `'''`) {
			return keyPart{}, p.fail("multi-line literal strings are not allowed for keys", p.pos, p.pos+3)
		}
		s, err := p.literalString()
		if err != nil {
			return keyPart{}, err
		}
		return keyPart{s, Span{start, p.pos}}, nil
	}
	for p.pos < len(p.src) && isBareKeyChar(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return keyPart{}, p.fail("unquoted keys cannot be empty, expected letters, numbers, `-`, `_`", p.pos, p.pos+1)
	}
	p.lastEnd = p.pos
	return keyPart{p.src[start:p.pos], Span{start, p.pos}}, nil
}

func (p *parser) key() ([]keyPart, error) {
	var parts []keyPart
	for {
		k, err := p.simpleKey()
		if err != nil {
			return nil, err
		}
		// A key over the limit is refused once the document parses; its
		// parts past the limit are not kept (nor is the key used), so a
		// long one costs no memory per part.
		if len(parts) <= MaxKeySegments {
			parts = append(parts, k)
		}
		if len(parts) > MaxKeySegments {
			p.keyTooDeep = true
		}
		save := p.pos
		p.skipSpace()
		if p.peek() != '.' {
			p.pos = save
			return parts, nil
		}
		p.pos++
		p.skipSpace()
	}
}

// keyval parses `key = value` into table t. inInline marks inline tables,
// whose tables are closed to later extension.
func (p *parser) keyval(t *Value, inInline bool) error {
	parts, err := p.key()
	if err != nil {
		return err
	}
	if err := p.count(len(parts) - 1); err != nil {
		return err
	}
	p.skipSpace()
	if p.peek() != '=' {
		if inInline {
			return p.fail("missing assignment between key-value pairs, expected `=`", p.pos, p.pos+1)
		}
		return p.fail("key with no value, expected `=`", p.pos, p.pos+1)
	}
	p.pos++
	p.skipSpace()
	val, err := p.value()
	if err != nil {
		return err
	}
	if len(parts) > MaxKeySegments {
		return nil // refused after parsing (keyTooDeep); not stored
	}
	parent := t
	for _, k := range parts[:len(parts)-1] {
		e := parent.Tbl.Get(k.name)
		if e == nil {
			nt := &Value{Kind: Table, Tbl: NewTable(), dotted: true, inline: inInline, Span: k.span}
			parent.Tbl.Insert(&Entry{Key: k.name, KeySpan: k.span, Value: nt})
			parent = nt
			continue
		}
		switch {
		case e.Value.Kind == Table && e.Value.inline && !inInline:
			p.softFail("cannot extend value of type inline table with a dotted key", k.span.Start, k.span.End)
			return nil
		case e.Value.Kind == Table && (e.Value.dotted || !e.Value.explicit):
			parent = e.Value
		case e.Value.Kind == Table:
			p.softFail("duplicate key", k.span.Start, k.span.End)
			return nil
		default:
			p.softFail("cannot extend value of type "+typeName(e.Value)+" with a dotted key", k.span.Start, k.span.End)
			return nil
		}
	}
	last := parts[len(parts)-1]
	if parent.Tbl.Get(last.name) != nil {
		p.softFail("duplicate key", last.span.Start, last.span.End)
		return nil
	}
	parent.Tbl.Insert(&Entry{Key: last.name, KeySpan: last.span, Value: val})
	return nil
}

// typeName names v's type as toml_parser does in structure errors.
func typeName(v *Value) string {
	switch {
	case v.Kind == Array && v.arrayOfTbl:
		return "array of tables"
	case v.Kind == Table && v.inline:
		return "inline table"
	}
	return v.Kind.String()
}

func (p *parser) header() error {
	start := p.pos
	array := strings.HasPrefix(p.src[p.pos:], "[[")
	if array {
		p.pos += 2
	} else {
		p.pos++
	}
	p.lastEnd = p.pos
	p.skipSpace()
	parts, err := p.key()
	if err != nil {
		return err
	}
	if err := p.count(len(parts)); err != nil {
		return err
	}
	p.skipSpace()
	if p.peek() != ']' {
		if array {
			return p.fail("unclosed array table, expected `]`", p.lastEnd, p.lastEnd+1)
		}
		return p.fail("unclosed table, expected `]`", p.lastEnd, p.lastEnd+1)
	}
	p.pos++
	p.lastEnd = p.pos
	if array {
		if p.peek() != ']' {
			return p.fail("unclosed array table, expected `]`", p.lastEnd, p.lastEnd+1)
		}
		p.pos++
	}
	_ = start
	if len(parts) > MaxKeySegments {
		// Refused after parsing (keyTooDeep); its keys go nowhere.
		p.cur = &Value{Kind: Table, Tbl: NewTable(), explicit: true}
		return nil
	}
	parent := p.root
	for _, k := range parts[:len(parts)-1] {
		e := parent.Tbl.Get(k.name)
		if e == nil {
			nt := &Value{Kind: Table, Tbl: NewTable(), Span: k.span}
			parent.Tbl.Insert(&Entry{Key: k.name, KeySpan: k.span, Value: nt})
			parent = nt
			continue
		}
		switch {
		case e.Value.Kind == Table && e.Value.inline:
			return p.headerConflict("cannot extend value of type inline table with a dotted key", k.span)
		case e.Value.Kind == Table:
			parent = e.Value
		case e.Value.Kind == Array && e.Value.arrayOfTbl:
			parent = e.Value.Arr[len(e.Value.Arr)-1]
		default:
			return p.headerConflict("duplicate key", k.span)
		}
	}
	last := parts[len(parts)-1]
	e := parent.Tbl.Get(last.name)
	if array {
		nt := &Value{Kind: Table, Tbl: NewTable(), explicit: true, Span: last.span}
		switch {
		case e == nil:
			arr := &Value{Kind: Array, Arr: []*Value{nt}, arrayOfTbl: true, Span: last.span}
			parent.Tbl.Insert(&Entry{Key: last.name, KeySpan: last.span, Value: arr})
		case e.Value.Kind == Array && e.Value.arrayOfTbl:
			e.Value.Arr = append(e.Value.Arr, nt)
		default:
			return p.headerConflict("duplicate key", last.span)
		}
		p.cur = nt
		return nil
	}
	switch {
	case e == nil:
		nt := &Value{Kind: Table, Tbl: NewTable(), explicit: true, Span: last.span}
		parent.Tbl.Insert(&Entry{Key: last.name, KeySpan: last.span, Value: nt})
		p.cur = nt
	case e.Value.Kind == Table && !e.Value.explicit && !e.Value.dotted && !e.Value.inline:
		e.Value.explicit = true
		e.KeySpan = last.span
		p.cur = e.Value
	default:
		return p.headerConflict("duplicate key", last.span)
	}
	return nil
}

// headerConflict records a table-structure error and sends the keys that
// follow the header into a detached table, so parsing can go on.
func (p *parser) headerConflict(msg string, span Span) error {
	p.softFail(msg, span.Start, span.End)
	p.cur = &Value{Kind: Table, Tbl: NewTable(), explicit: true}
	return nil
}

// count adds n keys, values or tables to the document's tally.
func (p *parser) count(n int) error {
	if p.nodes += n; p.maxNodes > 0 && p.nodes > p.maxNodes {
		return p.fail(fmt.Sprintf("%s: a document may hold at most %d", TooManyValues, p.maxNodes), p.pos, p.pos+1)
	}
	return nil
}

// TooManyValues is the message of a document over ParseLimited's bound.
const TooManyValues = "too many keys and values"

func (p *parser) value() (*Value, error) {
	start := p.pos
	if err := p.count(1); err != nil {
		return nil, err
	}
	var v *Value
	var err error
	switch c := p.peek(); {
	case c == '"':
		var s string
		if strings.HasPrefix(p.src[p.pos:], `"""`) {
			s, err = p.mlBasicString()
		} else {
			s, err = p.basicString()
		}
		v = &Value{Kind: String, Str: s}
	case c == '\'':
		var s string
		if strings.HasPrefix(p.src[p.pos:], `'''`) {
			s, err = p.mlLiteralString()
		} else {
			s, err = p.literalString()
		}
		v = &Value{Kind: String, Str: s}
	case c == '[' || c == '{':
		if p.depth >= MaxValueDepth {
			return nil, p.fail("cannot recurse further; max recursion depth met", p.pos, p.pos+1)
		}
		p.depth++
		if c == '[' {
			v, err = p.array()
		} else {
			v, err = p.inlineTable()
		}
		p.depth--
	default:
		v, err = p.scalar()
		if se, ok := err.(*SyntaxError); ok {
			p.soft = append(p.soft, se)
			v, err = &Value{Kind: String}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	v.Span = Span{start, p.pos}
	p.lastEnd = p.pos
	return v, nil
}

func (p *parser) array() (*Value, error) {
	p.pos++ // [
	p.lastEnd = p.pos
	v := &Value{Kind: Array, inline: true, Arr: []*Value{}}
	needValue := true
	for {
		if err := p.skipTrivia(); err != nil {
			return nil, err
		}
		switch {
		case p.eof():
			return nil, p.fail("unclosed array, expected `]`", p.lastEnd, p.lastEnd+1)
		case p.peek() == ']':
			p.pos++
			return v, nil
		case p.peek() == ',':
			if needValue {
				return nil, p.fail("extra comma in array, expected value", p.pos, p.pos+1)
			}
			p.pos++
			p.lastEnd = p.pos
			needValue = true
			continue
		}
		if !needValue {
			if p.peek() == '=' {
				return nil, p.fail("unexpected `=` in array, expected value, `]`", p.pos, p.pos+1)
			}
			return nil, p.fail("missing comma between array elements, expected `,`", p.pos, p.pos+1)
		}
		e, err := p.value()
		if err != nil {
			return nil, err
		}
		v.Arr = append(v.Arr, e)
		needValue = false
	}
}

func (p *parser) inlineTable() (*Value, error) {
	p.pos++ // {
	p.lastEnd = p.pos
	v := &Value{Kind: Table, Tbl: NewTable(), inline: true, explicit: true}
	needValue := true
	for {
		if err := p.skipTrivia(); err != nil {
			return nil, err
		}
		switch {
		case p.eof():
			return nil, p.fail("unclosed inline table, expected `}`", p.lastEnd, p.lastEnd+1)
		case p.peek() == '}':
			p.pos++
			return v, nil
		case p.peek() == ',':
			if needValue {
				return nil, p.fail("extra comma in inline table, expected key", p.pos, p.pos+1)
			}
			p.pos++
			p.lastEnd = p.pos
			needValue = true
			continue
		}
		if !needValue {
			switch c := p.peek(); {
			case c == '=':
				return nil, p.fail("extra assignment between key-value pairs, expected `,`", p.pos, p.pos+1)
			case c == '[' || c == '{':
				return nil, p.fail("missing key for inline table element, expected `,`", p.pos, p.pos+1)
			case c == '"' || c == '\'' || isBareKeyChar(c):
				return nil, p.fail("missing comma between key-value pairs, expected `,`", p.pos, p.pos+1)
			default:
				return nil, p.fail("invalid inline table element, expected `,`", p.pos, p.pos+1)
			}
		}
		if err := p.keyval(v, true); err != nil {
			return nil, err
		}
		needValue = false
	}
}

func (p *parser) basicString() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.eof() || p.atNewline() || p.peek() == '\n' {
			p.softFail("invalid basic string, expected `\"`", p.pos, p.pos+1)
			p.lastEnd = p.pos
			return b.String(), nil
		}
		c := p.peek()
		switch {
		case c == '"':
			p.pos++
			p.lastEnd = p.pos
			return b.String(), nil
		case c == '\\':
			p.escape(&b)
		case c < 0x20 && c != '\t' || c == 0x7f:
			p.softFail("invalid basic string, expected `\"`", p.pos, p.pos+1)
			p.pos++
		default:
			r, n := utf8.DecodeRuneInString(p.src[p.pos:])
			b.WriteRune(r)
			p.pos += n
		}
	}
}

func (p *parser) escape(b *strings.Builder) {
	p.pos++ // backslash
	c := p.peek()
	simple := map[byte]rune{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\'}
	if r, ok := simple[c]; ok {
		b.WriteRune(r)
		p.pos++
		return
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 {
		p.softFail("missing escaped value, expected `b`, `e`, `f`, `n`, `r`, `\\`, `\"`, `x`, `u`, `U`", p.pos, p.pos+1)
		return
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.src) && p.pos-start < digits && isHex(p.src[p.pos]) {
		p.pos++
	}
	if p.pos-start < digits {
		p.softFail("too few unicode value digits, expected unicode hexadecimal value", p.pos, p.pos+1)
		return
	}
	n, _ := strconv.ParseUint(p.src[start:p.pos], 16, 32)
	if !utf8.ValidRune(rune(n)) {
		p.softFail("invalid value, expected unicode scalar value", start, p.pos)
		return
	}
	b.WriteRune(rune(n))
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *parser) mlBasicString() (string, error) {
	return p.multiline('"', "invalid multi-line basic string, expected `\"`")
}

func (p *parser) mlLiteralString() (string, error) {
	return p.multiline('\'', "invalid multi-line literal string, expected `'`")
}

// multiline reads a multi-line string delimited by three quotes; basic
// strings (") take escapes and line-ending backslashes, literal ones (')
// take the text as written.
func (p *parser) multiline(quote byte, unterminated string) (string, error) {
	delim := strings.Repeat(string(quote), 3)
	p.pos += 3
	if p.atNewline() {
		p.skipNewline()
	}
	var b strings.Builder
	for {
		if p.eof() {
			p.softFail(unterminated, p.pos, p.pos+1)
			p.lastEnd = p.pos
			return b.String(), nil
		}
		if strings.HasPrefix(p.src[p.pos:], delim) {
			// Up to two quotes may sit right before the closing delimiter.
			extra := 0
			for extra < 2 && strings.HasPrefix(p.src[p.pos+1+extra:], delim) {
				extra++
			}
			b.WriteString(strings.Repeat(string(quote), extra))
			p.pos += 3 + extra
			p.lastEnd = p.pos
			return b.String(), nil
		}
		c := p.peek()
		switch {
		case c == '\\' && quote == '"':
			if p.lineEndingBackslash() {
				continue
			}
			p.escape(&b)
		case p.atNewline():
			p.skipNewline()
			b.WriteByte('\n')
		case c < 0x20 && c != '\t' || c == 0x7f:
			p.softFail(unterminated, p.pos, p.pos+1)
			p.pos++
		default:
			r, n := utf8.DecodeRuneInString(p.src[p.pos:])
			b.WriteRune(r)
			p.pos += n
		}
	}
}

// lineEndingBackslash skips a backslash that ends a line, with the
// whitespace and newlines after it, and reports whether it did.
func (p *parser) lineEndingBackslash() bool {
	j := p.pos + 1
	for j < len(p.src) && (p.src[j] == ' ' || p.src[j] == '\t') {
		j++
	}
	if j >= len(p.src) || !(p.src[j] == '\n' || p.src[j] == '\r' && j+1 < len(p.src) && p.src[j+1] == '\n') {
		return false
	}
	p.pos = j
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r' && p.peekAt(1) == '\n') {
		p.pos++
	}
	return true
}

func (p *parser) literalString() (string, error) {
	p.pos++
	start := p.pos
	for {
		if p.eof() || p.atNewline() || p.peek() == '\n' {
			p.softFail("invalid literal string, expected `'`", p.pos, p.pos+1)
			p.lastEnd = p.pos
			return p.src[start:p.pos], nil
		}
		c := p.peek()
		if c == '\'' {
			s := p.src[start:p.pos]
			p.pos++
			p.lastEnd = p.pos
			return s, nil
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			p.softFail("invalid literal string, expected `'`", p.pos, p.pos+1)
		}
		_, n := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += n
	}
}

func isScalarEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ']', '}', '#', '[', '{', '"', '\'', '=':
		return true
	}
	return false
}

func (p *parser) scalar() (*Value, error) {
	start := p.pos
	for p.pos < len(p.src) && !isScalarEnd(p.src[p.pos]) {
		_, n := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += n
	}
	// Unquoted runs separated by blanks lex as one token (that is how
	// "1979-05-27 07:32:00" stays whole), so "1 b" is one bad scalar.
	merged := false
	for {
		j := p.pos
		for j < len(p.src) && (p.src[j] == ' ' || p.src[j] == '\t') {
			j++
		}
		if j == p.pos || j >= len(p.src) || isScalarEnd(p.src[j]) {
			break
		}
		merged = true
		p.pos = j
		for p.pos < len(p.src) && !isScalarEnd(p.src[p.pos]) {
			_, n := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += n
		}
	}
	tok := p.src[start:p.pos]
	if merged {
		if isDateToken(tok[:min(10, len(tok))]) && len(tok) > 10 && tok[10] == ' ' {
			return p.datetime(tok, start)
		}
		return nil, p.fail("string values must be quoted, expected literal string", start, p.pos)
	}
	if tok == "" {
		return nil, p.fail("string values must be quoted, expected literal string", start, start+1)
	}
	switch tok {
	case "true":
		return &Value{Kind: Boolean, Bool: true}, nil
	case "false":
		return &Value{Kind: Boolean, Bool: false}, nil
	case "inf", "+inf":
		return &Value{Kind: Float, Float: math.Inf(1)}, nil
	case "-inf":
		return &Value{Kind: Float, Float: math.Inf(-1)}, nil
	case "nan", "+nan":
		return &Value{Kind: Float, Float: math.NaN()}, nil
	case "-nan":
		return &Value{Kind: Float, Float: math.Copysign(math.NaN(), -1)}, nil
	}
	c := tok[0]
	switch {
	case c == 't':
		return nil, p.fail("invalid boolean, expected `true`", start, p.pos)
	case c == 'f':
		return nil, p.fail("invalid boolean, expected `false`", start, p.pos)
	case c == 'i' || strings.HasPrefix(tok, "+i") || strings.HasPrefix(tok, "-i"):
		return nil, p.fail("invalid float, expected `inf`", start, p.pos)
	case c == 'n' || strings.HasPrefix(tok, "+n") || strings.HasPrefix(tok, "-n"):
		return nil, p.fail("invalid float, expected `nan`", start, p.pos)
	case isDigit(c) && looksLikeDatetime(tok):
		return p.datetime(tok, start)
	case isDigit(c) || ((c == '+' || c == '-') && len(tok) > 1 && isDigit(tok[1])):
		return p.number(tok, start)
	}
	return nil, p.fail("string values must be quoted, expected literal string", start, p.pos)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDateToken(s string) bool {
	return len(s) == 10 && isDigit(s[0]) && isDigit(s[3]) && s[4] == '-' && s[7] == '-'
}

func looksLikeDatetime(s string) bool {
	return len(s) >= 5 && isDigit(s[0]) && isDigit(s[1]) && (s[2] == ':' || len(s) >= 5 && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-')
}

func (p *parser) number(tok string, start int) (*Value, error) {
	s := tok
	sign := ""
	off := 0
	if s[0] == '+' || s[0] == '-' {
		sign = s[:1]
		s = s[1:]
		off = 1
	}
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b') && sign == "" {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]]
		digits := s[2:]
		if err := p.checkUnderscores(digits, start+2); err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(digits, "_", ""), base, 64)
		if err != nil {
			return nil, p.fail("integer number overflowed", start, start+len(tok))
		}
		return &Value{Kind: Integer, Int: n}, nil
	}
	// Split into integer part, fraction and exponent.
	intEnd := 0
	for intEnd < len(s) && (isDigit(s[intEnd]) || s[intEnd] == '_') {
		intEnd++
	}
	intPart := s[:intEnd]
	if err := p.checkUnderscores(intPart, start+off); err != nil {
		return nil, err
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return nil, p.fail("unexpected leading zero, expected nothing", start+off, start+off+1)
	}
	rest := s[intEnd:]
	isFloat := false
	if strings.HasPrefix(rest, ".") {
		isFloat = true
		j := 1
		for j < len(rest) && (isDigit(rest[j]) || rest[j] == '_') {
			j++
		}
		frac := rest[1:j]
		if frac == "" || !isDigit(frac[0]) {
			at := start + off + intEnd + 1
			return nil, p.fail("invalid fraction, expected digits", at, at+1)
		}
		if err := p.checkUnderscores(frac, start+off+intEnd+1); err != nil {
			return nil, err
		}
		rest = rest[j:]
		intEnd += j
	}
	if strings.HasPrefix(rest, "e") || strings.HasPrefix(rest, "E") {
		isFloat = true
		j := 1
		if j < len(rest) && (rest[j] == '+' || rest[j] == '-') {
			j++
		}
		k := j
		for k < len(rest) && (isDigit(rest[k]) || rest[k] == '_') {
			k++
		}
		if k == j || !isDigit(rest[j]) {
			at := start + off + intEnd + j
			return nil, p.fail("invalid exponent, expected digits", at, at+1)
		}
		if err := p.checkUnderscores(rest[j:k], start+off+intEnd+j); err != nil {
			return nil, err
		}
		rest = rest[k:]
		intEnd += k
	}
	if rest != "" {
		at := start + off + intEnd
		return nil, p.fail("unexpected content, expected nothing", at, at+1)
	}
	clean := strings.ReplaceAll(tok, "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, p.fail("invalid float", start, start+len(tok))
		}
		return &Value{Kind: Float, Float: f}, nil
	}
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		return nil, p.fail("invalid type: integer `"+strings.TrimPrefix(clean, "+")+"` as i128, expected any valid TOML value", start, start+len(tok))
	}
	return &Value{Kind: Integer, Int: n}, nil
}

// checkUnderscores enforces that `_` only sits between two digits.
func (p *parser) checkUnderscores(s string, at int) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			continue
		}
		if i == 0 || i == len(s)-1 || !isHex(s[i-1]) || !isHex(s[i+1]) {
			return p.fail("`_` may only go between digits, expected nothing", at+i, at+i+1)
		}
	}
	return nil
}

// datetime validates a date, time or date-time token and returns it in the
// normalised form toml_datetime displays.
func (p *parser) datetime(tok string, start int) (*Value, error) {
	bad := func(msg string) error { return p.fail(msg, start, start+len(tok)) }
	var out strings.Builder
	s := tok
	if len(s) >= 10 && s[4] == '-' {
		y, m, d := s[0:4], s[5:7], s[8:10]
		if !allDigits(y) || s[7] != '-' || !allDigits(m) || !allDigits(d) {
			return nil, bad("invalid date")
		}
		mi, _ := strconv.Atoi(m)
		di, _ := strconv.Atoi(d)
		yi, _ := strconv.Atoi(y)
		if mi < 1 || mi > 12 {
			return nil, bad("invalid date, expected month between 01 and 12")
		}
		if di < 1 || di > daysIn(yi, mi) {
			return nil, bad("invalid date, expected day between 01 and " + strconv.Itoa(daysIn(yi, mi)))
		}
		out.WriteString(s[:10])
		s = s[10:]
		if s == "" {
			return &Value{Kind: Datetime, Str: out.String()}, nil
		}
		if s[0] != 'T' && s[0] != 't' && s[0] != ' ' {
			return nil, bad("invalid date")
		}
		out.WriteByte('T')
		s = s[1:]
		if s == "" {
			return nil, bad("invalid time, expected hour")
		}
	}
	// time: HH:MM[:SS[.frac]]
	if len(s) < 5 || !allDigits(s[0:2]) || s[2] != ':' || !allDigits(s[3:5]) {
		return nil, bad("invalid time, expected hour")
	}
	h, _ := strconv.Atoi(s[0:2])
	mi, _ := strconv.Atoi(s[3:5])
	if h > 23 {
		return nil, bad("invalid time, expected hour between 00 and 23")
	}
	if mi > 59 {
		return nil, bad("invalid time, expected minute between 00 and 59")
	}
	out.WriteString(s[0:5])
	s = s[5:]
	sec := "00"
	if strings.HasPrefix(s, ":") {
		if len(s) < 3 || !allDigits(s[1:3]) {
			return nil, bad("invalid time, expected second")
		}
		sec = s[1:3]
		si, _ := strconv.Atoi(sec)
		if si > 60 {
			return nil, bad("invalid time, expected second between 00 and 60")
		}
		s = s[3:]
	}
	out.WriteString(":" + sec)
	if strings.HasPrefix(s, ".") {
		j := 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == 1 {
			return nil, bad("invalid time, expected nanoseconds")
		}
		frac := s[1:j]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		frac = strings.TrimRight(frac, "0")
		if frac != "" {
			out.WriteString("." + frac)
		}
		s = s[j:]
	}
	switch {
	case s == "":
	case s == "Z" || s == "z":
		out.WriteString("Z")
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && allDigits(s[1:3]) && s[3] == ':' && allDigits(s[4:6]):
		if s[1:] == "00:00" {
			out.WriteString("+00:00")
		} else {
			out.WriteString(s)
		}
	default:
		return nil, bad("invalid offset, expected `Z`, +OFFSET, -OFFSET")
	}
	return &Value{Kind: Datetime, Str: out.String()}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
