package toml

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError is a TOML syntax or structure error found while parsing.
type SyntaxError struct {
	Msg  string
	Span Span
	src  string
	// unplaced marks an error toml reports with no position (a key of more
	// than MaxKeySegments parts: "recursion limit"); Span is then 0.
	unplaced bool
}

// Error renders the error exactly as Rust's toml crate does: a header with
// the 1-based line and column, the offending line and a caret under the span.
func (e *SyntaxError) Error() string {
	if e.unplaced {
		return e.Msg + "\n"
	}
	line, col := translatePosition(e.src, e.Span.Start)
	lineNum := line + 1
	gutter := len(strconv.Itoa(lineNum))
	content := strings.Split(e.src, "\n")[line]
	highlight := e.Span.End - e.Span.Start
	// toml clips the highlight to the line, mixing bytes and characters as it does.
	if rest := len(content) - col; highlight > rest {
		highlight = max(rest, 0)
	}
	var b strings.Builder
	b.WriteString("TOML parse error at line " + strconv.Itoa(lineNum) + ", column " + strconv.Itoa(col+1) + "\n")
	b.WriteString(strings.Repeat(" ", gutter+1) + "|\n")
	b.WriteString(strconv.Itoa(lineNum) + " | " + content + "\n")
	b.WriteString(strings.Repeat(" ", gutter+1) + "|" + strings.Repeat(" ", col+1) + "^")
	for i := 1; i < highlight; i++ {
		b.WriteByte('^')
	}
	b.WriteString("\n" + e.Msg + "\n")
	return b.String()
}

// Position returns the 1-based line and column (in characters) of the error.
func (e *SyntaxError) Position() (line, col int) {
	l, c := translatePosition(e.src, e.Span.Start)
	return l + 1, c + 1
}

// translatePosition mirrors toml's translate_position: a 0-based line and a
// 0-based character column, allowing the index to sit one past the end.
func translatePosition(src string, index int) (line, col int) {
	if src == "" {
		return 0, index
	}
	safe := min(index, len(src)-1)
	offset := index - safe
	lineStart := strings.LastIndexByte(src[:safe], '\n') + 1
	line = strings.Count(src[:lineStart], "\n")
	seg := src[lineStart : safe+1]
	if utf8.ValidString(seg) {
		col = utf8.RuneCountInString(seg) - 1
	} else {
		col = safe - lineStart
	}
	return line, col + offset
}

// LineCol converts a byte offset in src to a 1-based line and character column.
func LineCol(src string, offset int) (line, col int) {
	if offset > len(src) {
		offset = len(src)
	}
	lineStart := strings.LastIndexByte(src[:offset], '\n') + 1
	return strings.Count(src[:lineStart], "\n") + 1, utf8.RuneCountInString(src[lineStart:offset]) + 1
}

// RustFloat formats f as Rust's Display for f64 does: the shortest digits
// that round-trip, never in exponent form.
func RustFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
