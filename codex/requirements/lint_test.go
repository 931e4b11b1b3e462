package requirements

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files (review the diff by hand)")

func lintText(diags []Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// TestLintGolden checks the human output of every warning and of errors
// found together, against hand-written expectations in testdata/lint.
func TestLintGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "lint", "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	seen := map[string]bool{}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, "requirements.toml"))
			if err != nil {
				t.Fatal(err)
			}
			diags := Lint("requirements.toml", string(src), LintOptions{})
			for _, d := range diags {
				seen[d.Code] = true
			}
			got := lintText(diags)
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("lint output differs\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	for _, code := range []string{CodeEmptyMCPAllowlist, CodeRemoteSandboxNoRO, CodeUnknownKey, CodeIgnoredKey, CodeLegacyMCPArgs, CodeOtelHeaderRedacted, CodeUnknownHookEvent, CodeKeyAfterTable} {
		if !seen[code] {
			t.Errorf("no golden case produces warning %q", code)
		}
	}
}

// TestLintLocatesEveryVectorError lints every vector Codex rejects: lint
// must report exactly one error marked as Codex's own, with the same text
// Codex gives, at a position inside the file.
func TestLintLocatesEveryVectorError(t *testing.T) {
	dir := filepath.Join(testenv.Vectors(t), "requirements")
	codes, err := os.ReadFile(filepath.Join(dir, "exit_codes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, line := range strings.Split(strings.TrimSpace(string(codes)), "\n") {
		name, code, _ := strings.Cut(line, "\t")
		if code != "1" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name+".managed_config.toml")); err == nil {
			continue // rejected because of managed_config.toml, not this file
		}
		rejected++
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, name+".toml"))
			if err != nil {
				t.Fatal(err)
			}
			layer := Layer{Source: Source{Kind: SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: string(src), BaseDir: "/etc/codex"}
			_, cerr := Effective(Inputs{System: &layer, Hostname: func() string { return "vm" }})
			if cerr == nil {
				t.Fatal("Effective accepts a file Codex rejects")
			}
			diags := Lint("/etc/codex/requirements.toml", string(src), LintOptions{Hostname: "vm"})
			var codex []Diagnostic
			for _, d := range diags {
				if d.Codex {
					codex = append(codex, d)
				}
			}
			if len(codex) != 1 {
				t.Fatalf("want exactly one diagnostic marked as Codex's error, got %d:\n%s", len(codex), lintText(diags))
			}
			d := codex[0]
			if d.Severity != SeverityError {
				t.Errorf("Codex's error is reported as %s", d.Severity)
			}
			core, _, _ := strings.Cut(d.Message, " (in `")
			if !strings.Contains(cerr.Error(), core) {
				t.Errorf("message %q is not Codex's error %q", core, cerr.Error())
			}
			lines := strings.Split(string(src), "\n")
			if d.Line < 1 || d.Line > len(lines) || d.Column < 1 || d.Column > len([]rune(lines[d.Line-1]))+1 {
				t.Errorf("position %d:%d is outside the file", d.Line, d.Column)
			}
			if want, ok := vectorErrorPositions[name]; ok && want != strconv.Itoa(d.Line)+":"+strconv.Itoa(d.Column) {
				t.Errorf("position %d:%d, want %s (%s)", d.Line, d.Column, want, d.Message)
			}
		})
	}
	if rejected < 40 {
		t.Fatalf("only %d rejected vectors found", rejected)
	}
}

// vectorErrorPositions are the positions an admin would point at, worked
// out by hand from each file: one case per error family.
var vectorErrorPositions = map[string]string{
	"005-toml-syntax-error":                      "1:37", // end of the unclosed array
	"008-approval-empty":                         "1:29", // the []
	"009-approval-invalid-enum":                  "1:30", // "sometimes"
	"010-approval-wrong-type":                    "1:29", // "never"
	"018-sandbox-missing-read-only":              "1:25", // the list
	"029-mcp-missing-identity":                   "1:14", // [mcp_servers.a]
	"033-mcp-url-regex-invalid":                  "2:12", // the identity table
	"040-features-both-spellings":                "3:2",  // [feature_requirements]
	"043-rules-allow-rejected":                   "4:47", // "allow"
	"052-rules-empty-prefix_rules":               "2:16", // []
	"056-rules-error-index-second-rule":          "4:44", // the [] of any_of
	"062-network-port-out-of-range":              "2:13", // 70000
	"068-network-two-surfaces":                   "3:2",  // [experimental_network]
	"074-remote-sandbox-match-missing-read-only": "3:25", // the matching entry's modes
	"081-otel-unknown-key":                       "2:1",  // bogus
	"085-login-methods-empty":                    "1:25", // []
	"090-model-catalog-missing-file":             "1:22", // the path
	"099-allowlist-undefined-profile":            "2:11", // mystery's value
	"103-windows-empty-list":                     "2:35", // []
	"105-model-provider-not-found":               "1:18", // "corp"
	"106-model-provider-empty-name":              "1:18", // [model_providers.corp]
	"115-auto-review-namespaced-model-rejected":  "2:32", // "openai/gpt-6"
	"124-toml-gotcha-key-after-table":            "3:29", // the list under [features]
}
