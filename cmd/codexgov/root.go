package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "codexgov",
		Short:         "Governance control plane for OpenAI Codex fleets",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newRequirementsCmd(), newRulesCmd(), newExplainCmd(), newTeamConfigCmd())
	return root
}

func newServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "server",
		Short: "Run the codexgov control plane (not yet implemented)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.PrintErrln("codexgov server: not yet implemented")
			return &exitError{code: 1}
		},
	}
}
