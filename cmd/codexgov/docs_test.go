package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/shell"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestDocumentedCommandsParse: every `codexgov …` command line the docs and
// the README show names commands that exist, flags they take and a valid
// number of arguments, so that a reader who copies one gets no "unknown
// command" or "unknown flag".
func TestDocumentedCommandsParse(t *testing.T) {
	root := testenv.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"))
	// A command in backticks or at the start of a code line; stops at a
	// shell operator or a comment.
	re := regexp.MustCompile("(?m)(?:^\\s*|`)(codexgov (?:admin|server|sync|install|login|logout|mdm|requirements|rules|explain|teamconfig|version)\\b(?:[^`|>&;#\\n\\\\]|\\\\\\n)*)")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			line := strings.TrimSpace(strings.ReplaceAll(m[1], "\\\n", " "))
			// Placeholders in synopses ([--flag X], A | B, …) are not
			// command lines.
			if strings.ContainsAny(line, "[]|…") || strings.Contains(line, "...") || strings.Contains(line, "$(") {
				continue
			}
			args, err := shell.Fields(line, func(string) string { return "" })
			if err != nil {
				continue
			}
			checked++
			cmd, rest, err := newRootCmd().Find(args[1:])
			if err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(f), line, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(f), line, err)
				continue
			}
			// A bare command name in prose ("see codexgov rules check") is
			// not a command line: its arguments are not checked.
			if len(rest) == 0 {
				continue
			}
			if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil && cmd.Runnable() {
				t.Errorf("%s: %q: %v", filepath.Base(f), line, err)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d documented command lines checked", checked)
	}
	t.Logf("%d documented command lines parse", checked)
}
