package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/execpolicy"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with Codex exec-policy rules (.rules files and requirements prefix rules)",
	}
	cmd.AddCommand(newRulesCheckCmd())
	return cmd
}

type checkFlags struct {
	rules       []string
	resolveHost bool
	pretty      bool
}

// loadPolicies loads the rule files in order into one policy; the first
// file that fails stops the check, as in Codex.
func loadPolicies(files []string) (*execpolicy.Policy, error) {
	p := execpolicy.NewPolicy()
	for _, f := range files {
		file, err := execpolicy.LoadFile(f)
		if err != nil {
			return nil, err
		}
		p.Append(file.Policy)
	}
	return p, nil
}

// reportLoadError prints a rule-file failure exactly as Codex does.
func reportLoadError(cmd *cobra.Command, err error) error {
	var le *execpolicy.LoadError
	var re *execpolicy.ReadError
	switch {
	case errors.As(err, &le):
		fmt.Fprint(cmd.ErrOrStderr(), le.Report())
	case errors.As(err, &re):
		fmt.Fprint(cmd.ErrOrStderr(), re.Report())
	default:
		return &exitError{code: 2, err: err}
	}
	return &exitError{code: 1}
}

func newRulesCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check --rules FILE [--rules FILE...] [--resolve-host-executables] [--pretty] -- CMD...",
		Short: "Evaluate a command as `codex execpolicy check` does (same output, same errors)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: 2, err: errors.New("the following required arguments were not provided: <COMMAND>")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, argv []string) error {
			p, err := loadPolicies(f.rules)
			if err != nil {
				return reportLoadError(cmd, err)
			}
			out := p.Check(argv, f.resolveHost).AppendJSON(nil, f.pretty)
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&f.rules, "rules", nil, "a .rules file (repeatable; evaluated in order)")
	cmd.Flags().BoolVar(&f.resolveHost, "resolve-host-executables", false, "resolve absolute program paths by basename, subject to host_executable()")
	cmd.Flags().BoolVar(&f.pretty, "pretty", false, "indent the JSON output")
	return cmd
}
