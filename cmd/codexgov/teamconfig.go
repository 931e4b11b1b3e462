package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/teamconfig"
)

func newTeamConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "teamconfig",
		Short: "Check a repository's Team Config (.codex/)",
	}
	var reqFile string
	var asJSON bool
	lint := &cobra.Command{
		Use:   "lint REPO_DIR",
		Short: "Lint .codex/config.toml, .codex/rules/*.rules and .codex/skills/*/SKILL.md",
		Long: `Check a repository's Team Config as Codex 0.169.0 reads it: TOML errors,
unknown keys (with "did you mean"), keys a project may not set (Codex drops
them), values Codex refuses, .rules files including their match/not_match
self-tests, and SKILL.md front matter (name and description).

With --requirements FILE, every project value those requirements would
override is flagged too.

Diagnostics print as file:line:col: severity: message (or --json).
Exit status: 0 when clean or warnings only, 1 on any error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts teamconfig.Options
			if reqFile != "" {
				data, err := os.ReadFile(reqFile)
				if err != nil {
					return fmt.Errorf("--requirements: %w", err)
				}
				abs, err := filepath.Abs(reqFile)
				if err != nil {
					return err
				}
				res, err := requirements.Effective(requirements.Inputs{System: &requirements.Layer{
					Source:   requirements.Source{Kind: requirements.SystemFile, Path: reqFile},
					Contents: string(data),
					BaseDir:  filepath.Dir(abs),
				}})
				if err != nil {
					return fmt.Errorf("--requirements %s: Codex would reject it: %w", reqFile, err)
				}
				opts.Requirements = res.Requirements
			}
			ds, err := teamconfig.Lint(args[0], opts)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if ds == nil {
					ds = []teamconfig.Diagnostic{}
				}
				b, err := json.MarshalIndent(map[string]any{"version": 1, "diagnostics": ds}, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\n", b)
			} else {
				for _, d := range ds {
					fmt.Fprintln(w, d.String())
				}
			}
			if teamconfig.HasErrors(ds) {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	lint.Flags().StringVar(&reqFile, "requirements", "", "requirements.toml to check the project's values against")
	lint.Flags().BoolVar(&asJSON, "json", false, "print a versioned JSON report")
	cmd.AddCommand(lint)
	return cmd
}
