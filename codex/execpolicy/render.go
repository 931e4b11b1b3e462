package execpolicy

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pos is a 1-based line and character column.
type Pos struct{ Line, Col int }

// Span is a source range: Start is the first character, End the position
// just past the last one.
type Span struct{ Start, End Pos }

// Frame is one traceback entry: a call site.
type Frame struct {
	Line     int
	Function string // "<module>" at top level
}

// LoadError is a `.rules` file that failed to load. Error renders Codex's
// cause text (Rust starlark's diagnostic, or a self-test failure).
type LoadError struct {
	Path string
	// Message is the error line ("invalid decision: deny").
	Message string
	// Span locates the error; Traceback lists the calls that led to it,
	// outermost first (empty for errors found before evaluation).
	Span      Span
	Traceback []Frame
	// SelfTest marks match/not_match failures, which Codex reports as
	// plain text without a source excerpt.
	SelfTest bool
	// EOF marks a parse error at the end of a file that ends in a newline,
	// which Rust starlark renders without a source line.
	EOF bool
	src []string
}

// Position returns where the error is, for diagnostics.
func (e *LoadError) Position() Pos { return e.Span.Start }

func (e *LoadError) Error() string {
	if e.SelfTest {
		return e.Message
	}
	var b strings.Builder
	b.WriteString("starlark error: ")
	if len(e.Traceback) > 0 {
		b.WriteString("Traceback (most recent call last):\n")
		for _, f := range e.Traceback {
			b.WriteString("  * " + e.Path + ":" + strconv.Itoa(f.Line) + ", in " + f.Function + "\n")
			b.WriteString("      " + strings.TrimSpace(e.line(f.Line)) + "\n")
		}
	}
	b.WriteString("error: " + e.Message + "\n")
	if e.EOF {
		b.WriteString("--> " + e.Path + ":" + strconv.Itoa(e.Span.Start.Line) + ":1\n |\n |\n")
		return b.String()
	}
	s, t := e.Span.Start, e.Span.End
	width := len(strconv.Itoa(t.Line))
	pad := strings.Repeat(" ", width)
	b.WriteString(pad + "--> " + e.Path + ":" + strconv.Itoa(s.Line) + ":" + strconv.Itoa(s.Col) + "\n")
	b.WriteString(pad + " |\n")
	num := func(l int) string {
		n := strconv.Itoa(l)
		return strings.Repeat(" ", width-len(n)) + n
	}
	if s.Line == t.Line {
		b.WriteString(strings.TrimRight(num(s.Line)+" | "+e.line(s.Line), " ") + "\n")
		if t.Col > s.Col {
			b.WriteString(pad + " | " + strings.Repeat(" ", s.Col-1) + strings.Repeat("^", t.Col-s.Col) + "\n")
		} else {
			b.WriteString(pad + " | " + strings.Repeat(" ", s.Col-1) + "\n")
		}
	} else {
		// rustc-style multi-line span: a "/" when it starts the line,
		// otherwise an underline leading to the first character.
		lastCol := t.Col - 1
		if s.Col == 1 {
			b.WriteString(num(s.Line) + " | / " + e.line(s.Line) + "\n")
		} else {
			b.WriteString(num(s.Line) + " |   " + e.line(s.Line) + "\n")
			b.WriteString(pad + " |  " + strings.Repeat("_", s.Col) + "^\n")
		}
		for l := s.Line + 1; l <= t.Line; l++ {
			b.WriteString(strings.TrimRight(num(l)+" | | "+e.line(l), " ") + "\n")
		}
		b.WriteString(pad + " | |" + strings.Repeat("_", lastCol) + "^\n")
	}
	b.WriteString(pad + " |\n")
	return b.String()
}

func (e *LoadError) line(n int) string {
	if n < 1 || n > len(e.src) {
		return ""
	}
	return e.src[n-1]
}

// Report renders the whole `codex execpolicy check` failure for a file:
// anyhow's "Error: … Caused by:" with the cause indented four spaces.
func (e *LoadError) Report() string {
	var b strings.Builder
	b.WriteString("Error: failed to parse policy at " + e.Path + "\n\nCaused by:\n")
	for _, l := range strings.Split(strings.TrimSuffix(e.Error(), "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	if !e.SelfTest {
		b.WriteString("    \n")
	}
	return b.String()
}

// charCol converts a byte column (1-based) on a line to a character column.
func charCol(line string, byteCol int) int {
	if byteCol-1 > len(line) {
		return byteCol
	}
	return utf8.RuneCountInString(line[:byteCol-1]) + 1
}
