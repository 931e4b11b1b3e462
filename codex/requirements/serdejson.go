package requirements

import (
	"encoding/json"
	"strings"
)

// serdeJSONError reports the first syntax error in data as serde_json
// words it ("expected value at line 1 column 2").
func serdeJSONError(data []byte) string {
	s := &jsonScan{data: data, line: 1}
	if msg := s.value(); msg != "" {
		return msg
	}
	s.ws()
	if s.pos < len(s.data) {
		s.next()
		return s.at("trailing characters")
	}
	return "invalid JSON"
}

// jsonScan walks JSON just far enough to find serde_json's first error.
type jsonScan struct {
	data      []byte
	pos, line int
	col       int
}

func (s *jsonScan) next() byte {
	c := s.data[s.pos]
	s.pos++
	if c == '\n' {
		s.line++
		s.col = 0
	} else {
		s.col++
	}
	return c
}

func (s *jsonScan) at(msg string) string {
	return msg + " at line " + itoa(s.line) + " column " + itoa(s.col)
}

// peekAt reports an error at the next, unconsumed byte.
func (s *jsonScan) peekAt(msg string) string {
	col := s.col + 1
	return msg + " at line " + itoa(s.line) + " column " + itoa(col)
}

func (s *jsonScan) ws() {
	for s.pos < len(s.data) && strings.IndexByte(" \t\r\n", s.data[s.pos]) >= 0 {
		s.next()
	}
}

func (s *jsonScan) value() string {
	s.ws()
	if s.pos >= len(s.data) {
		return s.at("EOF while parsing a value")
	}
	switch c := s.data[s.pos]; {
	case c == 't' || c == 'f' || c == 'n':
		word := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
		for i := 0; i < len(word); i++ {
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a value")
			}
			if s.next() != word[i] {
				return s.at("expected ident")
			}
		}
		return ""
	case c == '[':
		s.next()
		for first := true; ; first = false {
			s.ws()
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a list")
			}
			if s.data[s.pos] == ']' {
				if !first {
					s.next()
					return s.at("trailing comma")
				}
				s.next()
				return ""
			}
			if msg := s.value(); msg != "" {
				return msg
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a list")
			}
			switch s.next() {
			case ',':
			case ']':
				return ""
			default:
				return s.at("expected `,` or `]`")
			}
		}
	case c == '{':
		s.next()
		s.ws()
		if s.pos >= len(s.data) {
			return s.at("EOF while parsing an object")
		}
		if s.data[s.pos] == '}' {
			s.next()
			return ""
		}
		if s.data[s.pos] != '"' {
			return s.peekAt("key must be a string")
		}
		if !json.Valid(s.data) {
			return s.peekAt("expected value")
		}
		s.pos = len(s.data)
		return ""
	case c == '"' || c == '-' || c >= '0' && c <= '9':
		// Scalars: defer to the standard decoder for the rest.
		var v any
		dec := json.NewDecoder(strings.NewReader(string(s.data[s.pos:])))
		if err := dec.Decode(&v); err != nil {
			return s.peekAt("expected value")
		}
		for i := int64(0); i < dec.InputOffset(); i++ {
			s.next()
		}
		return ""
	}
	return s.peekAt("expected value")
}
