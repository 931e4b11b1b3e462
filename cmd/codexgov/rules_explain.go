package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/execpolicy"
)

// explainReport is the --json output of `codexgov rules explain` (version 1).
type explainReport struct {
	Version   int             `json:"version"`
	Command   []string        `json:"command"`
	Shell     bool            `json:"shell"`
	Plain     bool            `json:"plain"`
	NotPlain  string          `json:"notPlain,omitempty"`
	Evaluated []evaluatedCmd  `json:"evaluated"`
	Decision  string          `json:"decision,omitempty"`
	Outcome   string          `json:"outcome"`
	Findings  []findingReport `json:"findings"`
	Bypass    bool            `json:"bypass"`
}

type evaluatedCmd struct {
	Argv         []string        `json:"argv"`
	Offset       int             `json:"offset"`
	Decision     string          `json:"decision,omitempty"`
	MatchedRules json.RawMessage `json:"matchedRules"`
}

type findingReport struct {
	Argv         []string        `json:"argv"`
	Offset       int             `json:"offset"`
	Reason       string          `json:"reason"`
	Decision     string          `json:"decision,omitempty"`
	MatchedRules json.RawMessage `json:"matchedRules"`
	Bypass       bool            `json:"bypass"`
}

func matchedRules(ev execpolicy.Evaluation) json.RawMessage {
	var v struct {
		MatchedRules json.RawMessage `json:"matchedRules"`
	}
	_ = json.Unmarshal(ev.AppendJSON(nil, false), &v)
	return v.MatchedRules
}

func describe(ev execpolicy.Evaluation) string {
	if ev.Decision == execpolicy.NoDecision {
		return "no matching rule"
	}
	var parts []string
	for _, m := range ev.Matches {
		s := m.Rule.Decision.String() + " by `" + execpolicy.QuoteCommand(append([]string{m.Program}, m.Args...)) + "`"
		if m.Rule.Justification != "" {
			s += " (" + m.Rule.Justification + ")"
		}
		parts = append(parts, s)
	}
	return ev.Decision.String() + ": " + strings.Join(parts, "; ")
}

func newRulesExplainCmd() *cobra.Command {
	var f policyFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain [--rules FILE...] [--requirements FILE] [--json] -- CMD...",
		Short: "Show how Codex evaluates a tool call, and the commands it lets through unchecked",
		Long: `Takes a command as the agent receives it (including bash -lc '…'), shows the
commands Codex evaluates (a plain script is split at &&, ||, ; and |), their
matches, the decision and what Codex does with it. A strict analysis then
finds every command Codex does not evaluate: inside redirections, subshells,
command substitutions, assignment prefixes, heredocs, nested sh -c, and
wrappers such as env, sudo, xargs, nice, timeout and nohup.
Exit status 3 when such a hidden command is one the policy prompts for or
forbids while Codex lets the tool call through.`,
		Args: requireCommand,
		RunE: func(cmd *cobra.Command, argv []string) error {
			p, err := f.load()
			if err != nil {
				return reportLoadError(cmd, err)
			}
			ex := execpolicy.Explain(p, argv, f.resolveHost)
			if asJSON {
				writeExplainJSON(cmd.OutOrStdout(), ex)
			} else {
				writeExplainText(cmd.OutOrStdout(), ex)
			}
			if ex.Bypassed() {
				return &exitError{code: 3}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON report (version 1)")
	return cmd
}

func writeExplainText(w io.Writer, ex execpolicy.Explanation) {
	a := ex.Analysis
	fmt.Fprintf(w, "command: %s\n", execpolicy.QuoteCommand(ex.Argv))
	switch {
	case a.Plain:
		fmt.Fprintf(w, "Codex splits the script into %d command(s):\n", len(a.Commands))
	case a.Shell:
		fmt.Fprintf(w, "Codex does not split the script (it has %s) and evaluates the tool call as one command:\n", a.NotPlain)
	default:
		fmt.Fprintln(w, "Codex evaluates the command as given:")
	}
	for i, c := range a.Commands {
		at := ""
		if c.Offset >= 0 {
			at = fmt.Sprintf("[offset %d] ", c.Offset)
		}
		fmt.Fprintf(w, "  %s%s\n      %s\n", at, execpolicy.QuoteCommand(c.Argv), describe(ex.Evaluations[i]))
	}
	d := ex.Decision.String()
	if d == "" {
		d = "none"
	}
	fmt.Fprintf(w, "decision: %s\n%s\n", d, ex.Outcome)
	if len(ex.Findings) == 0 {
		fmt.Fprintln(w, "strict analysis: no hidden commands")
		return
	}
	bypasses := 0
	for _, f := range ex.Findings {
		if f.Bypass {
			bypasses++
		}
	}
	fmt.Fprintf(w, "strict analysis: %d hidden command(s) Codex does not evaluate, %d bypass the policy:\n", len(ex.Findings), bypasses)
	for _, f := range ex.Findings {
		mark := ""
		if f.Bypass {
			mark = "  BYPASS: Codex lets this through"
		}
		at := "in the tool call"
		if f.Offset >= 0 {
			at = fmt.Sprintf("offset %d", f.Offset)
		}
		fmt.Fprintf(w, "  %s: %s (hidden by %s)\n      %s%s\n", at, execpolicy.QuoteCommand(f.Argv), f.Reason, describe(f.Evaluation), mark)
	}
}

func writeExplainJSON(w io.Writer, ex execpolicy.Explanation) {
	r := explainReport{Version: 1, Command: ex.Argv, Shell: ex.Analysis.Shell, Plain: ex.Analysis.Plain, NotPlain: ex.Analysis.NotPlain,
		Decision: ex.Decision.String(), Outcome: ex.Outcome, Bypass: ex.Bypassed(), Evaluated: []evaluatedCmd{}, Findings: []findingReport{}}
	for i, c := range ex.Analysis.Commands {
		ev := ex.Evaluations[i]
		r.Evaluated = append(r.Evaluated, evaluatedCmd{Argv: c.Argv, Offset: c.Offset, Decision: ev.Decision.String(), MatchedRules: matchedRules(ev)})
	}
	for _, f := range ex.Findings {
		r.Findings = append(r.Findings, findingReport{Argv: f.Argv, Offset: f.Offset, Reason: f.Reason, Decision: f.Evaluation.Decision.String(), MatchedRules: matchedRules(f.Evaluation), Bypass: f.Bypass})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}

func newRulesTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test DIR",
		Short: "Load every *.rules file in DIR and run its match/not_match self-tests (for Team Config rules/ folders in CI)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := os.ReadDir(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var files []string
			for _, e := range entries {
				if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".rules") {
					files = append(files, filepath.Join(args[0], e.Name()))
				}
			}
			sort.Strings(files)
			if len(files) == 0 {
				return &exitError{code: 2, err: fmt.Errorf("%s: no *.rules files", args[0])}
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, name := range files {
				f, err := execpolicy.LoadFile(name)
				if err != nil {
					failed++
					fmt.Fprintf(out, "FAIL %s\n", name)
					if le, ok := err.(*execpolicy.LoadError); ok && le.Span.Start.Line > 0 {
						fmt.Fprintf(out, "    %s:%d:%d: %s\n", name, le.Span.Start.Line, le.Span.Start.Col, firstLine(le.Message))
					}
					report := err.Error()
					if le, ok := err.(*execpolicy.LoadError); ok {
						report = le.Report()
					} else if re, ok := err.(*execpolicy.ReadError); ok {
						report = re.Report()
					}
					for _, l := range strings.Split(strings.TrimRight(report, "\n "), "\n") {
						fmt.Fprintln(out, "    "+l)
					}
					continue
				}
				fmt.Fprintf(out, "PASS %s (%d prefix rules, %d host executables, %d network rules, %d examples)\n",
					name, len(f.Policy.Rules()), f.Policy.HostExecutables(), len(f.NetworkRules), f.Examples)
			}
			fmt.Fprintf(out, "%d file(s): %d passed, %d failed\n", len(files), len(files)-failed, failed)
			if failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
