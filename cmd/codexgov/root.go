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
	root.AddCommand(newServerCmd(), newAdminCmd(), newLoginCmd(), newLogoutCmd(), newInstallCmd(), newSyncCmd(), newMDMCmd(), newRequirementsCmd(), newRulesCmd(), newExplainCmd(), newTeamConfigCmd())
	return root
}
