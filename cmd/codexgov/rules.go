package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/execpolicy"
	"github.com/codexgov/codexgov/codex/requirements"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with Codex exec-policy rules (.rules files and requirements prefix rules)",
	}
	cmd.AddCommand(newRulesCheckCmd(), newRulesExplainCmd(), newRulesTestCmd())
	return cmd
}

type policyFlags struct {
	rules        []string
	requirements string
	resolveHost  bool
}

func (f *policyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.rules, "rules", nil, "a .rules file (repeatable; evaluated in order)")
	cmd.Flags().StringVar(&f.requirements, "requirements", "", "a requirements.toml whose [rules] are appended, as the agent does")
	cmd.Flags().BoolVar(&f.resolveHost, "resolve-host-executables", false, "resolve absolute program paths by basename, subject to host_executable()")
}

// load loads the rule files in order into one policy; the first file that
// fails stops, as in Codex. Requirements rules are appended after them.
func (f *policyFlags) load() (*execpolicy.Policy, error) {
	p := execpolicy.NewPolicy()
	for _, name := range f.rules {
		file, err := execpolicy.LoadFile(name)
		if err != nil {
			return nil, err
		}
		p.Append(file.Policy)
	}
	if f.requirements == "" {
		return p, nil
	}
	data, err := os.ReadFile(f.requirements)
	if err != nil {
		return nil, err
	}
	res, err := requirements.Effective(requirements.Inputs{System: &requirements.Layer{
		Source:   requirements.Source{Kind: requirements.SystemFile, Path: f.requirements},
		Contents: string(data), BaseDir: filepath.Dir(f.requirements),
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: Codex rejects these requirements: %w", f.requirements, err)
	}
	if res.Requirements != nil {
		p.Append(execpolicy.FromRequirements(res.Requirements.PrefixRules()))
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

func requireCommand(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New("the following required arguments were not provided: <COMMAND>")}
	}
	return nil
}

func newRulesCheckCmd() *cobra.Command {
	var f policyFlags
	var pretty bool
	cmd := &cobra.Command{
		Use:   "check --rules FILE [--rules FILE...] [--requirements FILE] [--resolve-host-executables] [--pretty] -- CMD...",
		Short: "Evaluate a command as `codex execpolicy check` does (same output, same errors)",
		Long: `Evaluates CMD against the rule files exactly as ` + "`codex execpolicy check`" + ` (Codex 0.169.0)
does: same JSON on stdout, same error text on stderr, same exit status.
--requirements appends a requirements.toml's [rules] prefix rules after the
files, as the agent does (Codex's own check command has no such flag).`,
		Args: requireCommand,
		RunE: func(cmd *cobra.Command, argv []string) error {
			p, err := f.load()
			if err != nil {
				return reportLoadError(cmd, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(p.Check(argv, f.resolveHost).AppendJSON(nil, pretty)))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the JSON output")
	return cmd
}
