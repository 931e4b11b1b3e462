package execpolicy

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
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
			b.WriteString("      " + frameSnippet(strings.TrimSpace(e.line(f.Line))) + "\n")
		}
	}
	b.WriteString("error: " + e.Message + "\n")
	if e.EOF {
		b.WriteString("--> " + e.Path + ":" + strconv.Itoa(e.Span.Start.Line) + ":1\n |\n |\n")
		return b.String()
	}
	s, t := e.Span.Start, e.Span.End
	// A span that ends at the start of the next line is a new line token:
	// one caret after the line's end, and the next line shown when the
	// file goes on.
	newline := t.Line == s.Line+1 && t.Col == 1
	showNext := newline && (t.Line < len(e.src) || t.Line == len(e.src) && e.src[t.Line-1] != "")
	if newline && !showNext {
		t = s
	}
	width := len(strconv.Itoa(t.Line))
	pad := strings.Repeat(" ", width)
	b.WriteString(pad + "--> " + e.Path + ":" + strconv.Itoa(s.Line) + ":" + strconv.Itoa(s.Col) + "\n")
	b.WriteString(pad + " |\n")
	num := func(l int) string {
		n := strconv.Itoa(l)
		return strings.Repeat(" ", width-len(n)) + n
	}
	if newline {
		line := e.line(s.Line)
		if n := utf8.RuneCountInString(line); s.Col-1 < n {
			line = string([]rune(line)[:s.Col-1])
		}
		b.WriteString(num(s.Line) + " | " + line + "\n")
		lead, _ := displayWidths(e.line(s.Line), s.Col, s.Col)
		b.WriteString(pad + " | " + strings.Repeat(" ", lead) + "^\n")
		if showNext {
			b.WriteString(num(t.Line) + " | " + e.line(t.Line) + "\n")
		}
	} else if s.Line == t.Line {
		// Trailing blanks are not shown, except those a caret points past.
		line := strings.TrimRight(e.line(s.Line), " ")
		if full := e.line(s.Line); t.Col-1 > utf8.RuneCountInString(line) {
			line = string([]rune(full)[:min(t.Col-1, utf8.RuneCountInString(full))])
		}
		if line == "" {
			b.WriteString(num(s.Line) + " |\n")
		} else {
			b.WriteString(num(s.Line) + " | " + line + "\n")
		}
		if t.Col > s.Col {
			lead, marked := displayWidths(e.line(s.Line), s.Col, t.Col)
			b.WriteString(pad + " | " + strings.Repeat(" ", lead) + strings.Repeat("^", marked) + "\n")
		} else {
			lead, _ := displayWidths(e.line(s.Line), s.Col, s.Col)
			b.WriteString(pad + " | " + strings.Repeat(" ", lead) + "\n")
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

// displayWidths measures a line as the terminal snippet renderer does
// (unicode-width): the columns before character column from, and the
// columns of the characters from from to to. East Asian wide and
// full-width characters take two columns.
func displayWidths(line string, from, to int) (lead, marked int) {
	col := 1
	for _, r := range line {
		w := 1
		if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
			w = 2
		}
		switch {
		case col < from:
			lead += w
		case col < to:
			marked += w
		}
		col++
	}
	// Columns past the end (a span over the line's end) count one each.
	if col < from {
		lead += from - col
		col = from
	}
	if col < to {
		marked += to - max(col, from)
	}
	return lead, marked
}

// charCol converts a byte column (1-based) on a line to a character column.
func charCol(line string, byteCol int) int {
	if byteCol-1 > len(line) {
		return byteCol
	}
	return utf8.RuneCountInString(line[:byteCol-1]) + 1
}

// frameSnippet shortens a traceback frame's source line as Rust starlark's
// truncate_snippet does with a limit of 80: a line of more than 80
// characters keeps its first 77 and ends with "...".
func frameSnippet(line string) string {
	const limit, ddd = 80, "..."
	if utf8.RuneCountInString(line) <= limit {
		return line
	}
	n := 0
	for i := range line {
		if n == limit-len(ddd) {
			return line[:i] + ddd
		}
		n++
	}
	return line
}
