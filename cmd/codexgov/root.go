package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/codexgov/codexgov/internal/buildinfo"
	"github.com/codexgov/codexgov/internal/envknob"
)

func newRootCmd() *cobra.Command {
	// Every PersistentPreRunE from the root down runs, not only the
	// nearest: the root's applies the environment for all of them.
	cobra.EnableTraverseRunHooks = true
	root := &cobra.Command{
		Use:           "codexgov",
		Short:         "Governance control plane for OpenAI Codex fleets",
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := envknob.Apply(cmd.Flags(), os.LookupEnv); err != nil {
				return &exitError{code: 2, err: err}
			}
			return withServerCA(cmd)
		},
	}
	root.SetVersionTemplate("codexgov {{.Version}}\n")
	root.AddCommand(newServerCmd(), newAdminCmd(), newLoginCmd(), newLogoutCmd(), newInstallCmd(), newSyncCmd(), newMDMCmd(), newComplianceCmd(),
		newRequirementsCmd(), newRulesCmd(), newExplainCmd(), newTeamConfigCmd(), newVersionCmd())
	strictGroups(root)
	return root
}

// strictGroups makes every command that only groups others refuse an
// unknown subcommand (exit 2, with cobra's "did you mean") instead of
// printing help and exiting 0: a mistyped off-boarding step in a script
// must not look like success. With no argument it still prints its help.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.SuggestionsMinimumDistance = 2
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return &exitError{code: 2, err: fmt.Errorf("%s\nRun '%s --help' for usage", msg, cmd.CommandPath())}
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// withServerCA puts an HTTP client that trusts --ca (when the command has
// one) into the command's context, where every request to the server and
// the OAuth client of codexgov login find it.
func withServerCA(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("ca")
	if f == nil {
		return nil
	}
	hc, err := httpsClient(f.Value.String())
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	cmd.SetContext(context.WithValue(cmd.Context(), oauth2.HTTPClient, hc))
	return nil
}

// serverHTTP is the HTTP client for talking to the server: the one
// withServerCA made, else the default.
func serverHTTP(ctx context.Context) *http.Client {
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return hc
	}
	return http.DefaultClient
}

// addCAFlag gives a command that talks to the server its --ca flag.
func addCAFlag(cmd *cobra.Command, persistent bool) {
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	fs.String("ca", "", "PEM CA certificate the server's certificate chains to, when it is private")
	envknob.Bind(fs, "ca", "CODEXGOV_CA")
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print codexgov's version, the revision it was built from, and the Go toolchain",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := buildinfo.Read()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), in)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "codexgov %s\n", in.Version)
			if in.Revision != "" {
				dirty := ""
				if in.Modified {
					dirty = " (modified)"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revision %s%s\n", in.Revision, dirty)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", in.GoVersion, in.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
