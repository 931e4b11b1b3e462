package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func serverOpsCmds(m *Main) []*cobra.Command {
	return []*cobra.Command{
		{
			Use:   "backup DIR",
			Short: "Copy the SQLite database (online, consistent) and master.key into the new folder DIR",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, a []string) error {
				if err := m.Backup(cmd.Context(), a[0]); err != nil {
					return &exitError{code: 1, err: err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (codexgov.db, master.key); keep the folder private\n", m.DataDir, a[0])
				return nil
			},
		},
		{
			Use:   "restore BACKUP_DIR",
			Short: "Restore a backup into an empty --data-dir, checking that its key opens its signing keys",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, a []string) error {
				if err := m.Restore(cmd.Context(), a[0]); err != nil {
					return &exitError{code: 1, err: err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "restored %s into %s; start the server on it\n", a[0], m.DataDir)
				return nil
			},
		},
		{
			Use:   "healthcheck",
			Short: "Exit 0 when the server on --listen answers /readyz with 200 (the container HEALTHCHECK)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := m.Healthcheck(cmd.Context()); err != nil {
					return &exitError{code: 1, err: err}
				}
				return nil
			},
		},
		rotateMasterKeyCmd(m),
		{
			Use:   "rotate-admin-key",
			Short: "Revoke every server admin key and print a new one (run on the server's data folder or database)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := m.RotateAdminKey(cmd.Context(), cmd.OutOrStdout()); err != nil {
					return &exitError{code: 1, err: err}
				}
				return nil
			},
		},
	}
}

func rotateMasterKeyCmd(m *Main) *cobra.Command {
	var newKey string
	cmd := &cobra.Command{
		Use:   "rotate-master-key --new-master-key-file FILE",
		Short: "Move everything the master key seals to a new key in one transaction; run it with every server stopped",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if newKey == "" {
				return &exitError{code: 2, err: fmt.Errorf("--new-master-key-file is required: make one with head -c 32 /dev/urandom > FILE; chmod 600 FILE")}
			}
			if err := m.RotateMasterKey(cmd.Context(), newKey, cmd.OutOrStdout()); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&newKey, "new-master-key-file", "", "the new master key (32 bytes)")
	return cmd
}
