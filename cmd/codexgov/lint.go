package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/requirements"
)

// lintReport is the --json output of `codexgov requirements lint`
// (a versioned contract).
type lintReport struct {
	Version     int                       `json:"version"`
	Codex       string                    `json:"codex"`
	Errors      int                       `json:"errors"`
	Warnings    int                       `json:"warnings"`
	Diagnostics []requirements.Diagnostic `json:"diagnostics"`
}

func newLintCmd() *cobra.Command {
	var asJSON bool
	var codexDir, hostname string
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check requirements.toml files: every error Codex would reject, with its position, and footgun warnings",
		Long: `Checks each FILE as the system requirements.toml of a Codex ` + requirements.CodexVersion + ` machine.
Errors are everything Codex would reject (Codex refuses to start on them),
with the line and column Codex does not give; the one Codex itself reports is
marked in --json. Warnings are settings Codex accepts but silently ignores or
that behave unexpectedly. Exit status 1 when any file has an error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			report := lintReport{Version: 1, Codex: requirements.CodexVersion, Diagnostics: []requirements.Diagnostic{}}
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				for _, d := range requirements.Lint(file, string(data), requirements.LintOptions{CodexDir: codexDir, Hostname: hostname}) {
					if d.Severity == requirements.SeverityError {
						report.Errors++
					} else {
						report.Warnings++
					}
					report.Diagnostics = append(report.Diagnostics, d)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else {
				for _, d := range report.Diagnostics {
					fmt.Fprintln(out, d.String())
				}
			}
			if report.Errors > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON report (version 1)")
	cmd.Flags().StringVar(&codexDir, "codex-dir", "/etc/codex", "folder the files are evaluated as installed in")
	cmd.Flags().StringVar(&hostname, "hostname", "", "evaluate remote_sandbox_config for this host (default: no host matches; entries that would break Codex are warnings)")
	return cmd
}
