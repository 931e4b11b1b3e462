package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/requirements"
)

func newRequirementsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "requirements",
		Short: "Work with Codex requirements.toml policies",
	}
	cmd.AddCommand(newEffectiveCmd(), newLintCmd())
	return cmd
}

type effectiveFlags struct {
	system, managedConfig, cloudBundle, mdmBase64, mdmConfigBase64, hostname, codexDir, codexHome string
}

func newEffectiveCmd() *cobra.Command {
	var f effectiveFlags
	cmd := &cobra.Command{
		Use:   "effective",
		Short: "Print the requirements Codex " + requirements.CodexVersion + " would enforce, as `codex app-server --print-startup-config` does",
		Long: `Composes the requirements layers exactly as Codex ` + requirements.CodexVersion + ` does and prints
the JSON line that ` + "`codex app-server --print-startup-config`" + ` prints for the same inputs.
Exit status 0 means Codex would start; 1 means Codex rejects the configuration
and the line is Codex's error envelope.

Files given with --system and --managed-config are evaluated as if installed
in --codex-dir (so error messages and relative paths match a real machine).
Without any layer flag the files in --codex-dir are read if they exist.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.inputs()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			res, err := requirements.Effective(in)
			var rerr *requirements.Error
			switch {
			case errors.As(err, &rerr):
				fmt.Fprintln(cmd.OutOrStdout(), rerr.JSON())
				return &exitError{code: 1}
			case err != nil:
				return &exitError{code: 2, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.StartupConfigJSON())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.system, "system", "", "system requirements.toml to evaluate")
	fl.StringVar(&f.managedConfig, "managed-config", "", "legacy managed_config.toml to evaluate")
	fl.StringVar(&f.cloudBundle, "cloud-bundle", "", "JSON body of the cloud config bundle endpoint")
	fl.StringVar(&f.mdmBase64, "mdm-requirements-base64", "", "macOS MDM requirements_toml_base64 value")
	fl.StringVar(&f.mdmConfigBase64, "mdm-config-base64", "", "macOS MDM config_toml_base64 value (read as the legacy managed_config.toml, above the file)")
	fl.StringVar(&f.hostname, "hostname", "", "hostname for remote_sandbox_config (default: this machine's)")
	fl.StringVar(&f.codexDir, "codex-dir", "/etc/codex", "folder the files are evaluated as installed in")
	fl.StringVar(&f.codexHome, "codex-home", defaultCodexHome(), "CODEX_HOME; relative paths in cloud fragments resolve against it")
	return cmd
}

func (f *effectiveFlags) inputs() (requirements.Inputs, error) {
	var in requirements.Inputs
	if f.hostname != "" {
		h := f.hostname
		in.Hostname = func() string { return h }
	}
	noFlags := f.system == "" && f.managedConfig == "" && f.cloudBundle == "" && f.mdmBase64 == "" && f.mdmConfigBase64 == ""
	systemPath := filepath.Join(f.codexDir, "requirements.toml")
	managedPath := filepath.Join(f.codexDir, "managed_config.toml")
	load := func(file, installedAt string, kind requirements.SourceKind, optional bool) (*requirements.Layer, error) {
		data, err := os.ReadFile(file)
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &requirements.Layer{
			Source:   requirements.Source{Kind: kind, Path: installedAt},
			Contents: string(data),
			BaseDir:  f.codexDir,
		}, nil
	}
	// Files given on the command line stand in for their installed paths,
	// so references to them (model_catalog_json) read what Codex would read.
	overlay := map[string]string{}
	if f.system != "" {
		overlay[systemPath] = f.system
	}
	if f.managedConfig != "" {
		overlay[managedPath] = f.managedConfig
	}
	in.ReadFile = func(path string) ([]byte, error) {
		if file, ok := overlay[filepath.Clean(path)]; ok {
			return os.ReadFile(file)
		}
		return os.ReadFile(path)
	}
	var err error
	switch {
	case noFlags:
		if in.System, err = load(systemPath, systemPath, requirements.SystemFile, true); err != nil {
			return in, err
		}
		if in.LegacyManaged, err = load(managedPath, managedPath, requirements.LegacyManagedFile, true); err != nil {
			return in, err
		}
		return in, nil
	case f.system != "":
		if in.System, err = load(f.system, systemPath, requirements.SystemFile, false); err != nil {
			return in, err
		}
	}
	if f.managedConfig != "" {
		if in.LegacyManaged, err = load(f.managedConfig, managedPath, requirements.LegacyManagedFile, false); err != nil {
			return in, err
		}
	}
	if f.cloudBundle != "" {
		data, err := os.ReadFile(f.cloudBundle)
		if err != nil {
			return in, err
		}
		if in.Cloud, err = requirements.ParseCloudBundle(data); err != nil {
			return in, fmt.Errorf("%s: %w", f.cloudBundle, err)
		}
		for i := range in.Cloud {
			in.Cloud[i].BaseDir = f.codexHome
		}
	}
	if f.mdmBase64 != "" {
		data, err := mdmBase64("--mdm-requirements-base64", f.mdmBase64)
		if err != nil {
			return in, err
		}
		in.MDM = &requirements.Layer{Source: requirements.Source{Kind: requirements.MDMRequirements}, Contents: data}
	}
	if f.mdmConfigBase64 != "" {
		if f.managedConfig != "" {
			return in, errors.New("give --mdm-config-base64 or --managed-config, not both: the evaluation composes one legacy managed config layer")
		}
		data, err := mdmBase64("--mdm-config-base64", f.mdmConfigBase64)
		if err != nil {
			return in, err
		}
		in.LegacyManaged = &requirements.Layer{Source: requirements.Source{Kind: requirements.LegacyManagedMDM}, Contents: data}
	}
	return in, nil
}

// defaultCodexHome is where Codex keeps its state: $CODEX_HOME or ~/.codex.
func defaultCodexHome() string {
	if h := os.Getenv("CODEX_HOME"); h != "" {
		return h
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".codex")
	}
	return ".codex"
}
