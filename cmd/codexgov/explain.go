package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/codex/config"
)

type explainFlags struct {
	codexHome, cwd, etc, profile, hostname string
	overrides, enable, disable             []string
	json                                   bool
}

func newExplainCmd() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Show what Codex will run with on this machine, which layer set each value, and what requirements changed",
		Long: `Resolve Codex 0.169.0's configuration for one machine, user and folder:
the system, cloud, user, profile, project, session-flag and legacy managed
layers, then the requirements. Prints the effective approval policy,
approvals reviewer, sandbox mode, web search mode, model, features that
differ from their defaults and MCP servers, each with the layer that set it,
followed by Codex's startup warnings, verbatim and in plain words.

Exit status: 0 when Codex would start, 1 when it would refuse to load.
--json prints the versioned report documented in docs/cli.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExplain(cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.codexHome, "codex-home", "", "the user's CODEX_HOME (default $CODEX_HOME, else ~/.codex)")
	fl.StringVar(&f.cwd, "cwd", "", "the folder Codex starts in (default: the current folder)")
	fl.StringVar(&f.etc, "etc", config.SystemDir, "folder read in place of /etc/codex for every system file")
	fl.StringVarP(&f.profile, "profile", "p", "", "profile NAME: layer CODEX_HOME/NAME.config.toml over the user config")
	fl.StringArrayVarP(&f.overrides, "config", "c", nil, "a -c key=value override, as given to codex (repeatable)")
	fl.StringArrayVar(&f.enable, "enable", nil, "a feature enabled with --enable (repeatable)")
	fl.StringArrayVar(&f.disable, "disable", nil, "a feature disabled with --disable (repeatable)")
	fl.StringVar(&f.hostname, "hostname", "", "hostname for remote_sandbox_config (default: this machine's)")
	fl.BoolVar(&f.json, "json", false, "print the versioned JSON report")
	return cmd
}

func runExplain(w io.Writer, f explainFlags) error {
	m, err := f.machine()
	if err != nil {
		return err
	}
	res, rerr := config.Resolve(m)
	if f.json {
		var report any
		if rerr != nil {
			report = map[string]any{"schema": 1, "error": rerr.Error()}
		} else {
			report = configReport(m, res)
		}
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", b)
		if rerr != nil {
			return &exitError{code: 1}
		}
		return nil
	}
	if rerr != nil {
		fmt.Fprintf(w, "Codex would refuse to start:\n  %s\n", strings.ReplaceAll(rerr.Error(), "\n", "\n  "))
		return &exitError{code: 1}
	}
	writeExplain(w, res)
	writeAppServerStart(w, m, res)
	return nil
}

func (f explainFlags) machine() (config.Machine, error) {
	home := f.codexHome
	if home == "" {
		home = os.Getenv("CODEX_HOME")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return config.Machine{}, fmt.Errorf("--codex-home: %w", err)
		}
		home = filepath.Join(h, ".codex")
	}
	cwd := f.cwd
	if cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return config.Machine{}, err
		}
		cwd = wd
	}
	var err error
	if home, err = filepath.Abs(home); err != nil {
		return config.Machine{}, err
	}
	if cwd, err = filepath.Abs(cwd); err != nil {
		return config.Machine{}, err
	}
	m := config.Machine{Etc: f.etc, CodexHome: home, Cwd: cwd, Profile: f.profile, Overrides: f.overrides, Enable: f.enable, Disable: f.disable}
	if f.hostname != "" {
		host := f.hostname
		m.Hostname = func() string { return host }
	}
	return m, nil
}

// explainSetting is one constrained setting in the JSON report.
type explainSetting struct {
	Value  *string `json:"value"`
	Source string  `json:"source"`
	Path   string  `json:"path,omitempty"`
	// Set when a requirement replaced the configured value.
	Configured       *string `json:"configured,omitempty"`
	ConfiguredSource string  `json:"configured_source,omitempty"`
	ConfiguredPath   string  `json:"configured_path,omitempty"`
	RequiredBy       string  `json:"required_by,omitempty"`
	Note             string  `json:"note,omitempty"`
}

func settingJSON(s config.Setting) explainSetting {
	out := explainSetting{Source: "default", Note: s.Note}
	if s.Value != "" {
		v := s.Value
		out.Value = &v
	}
	if s.Layer != nil {
		out.Source, out.Path = s.Layer.Label(), s.Layer.Path()
	}
	if s.RequiredBy != "" {
		c := s.Configured
		out.ConfiguredSource, out.ConfiguredPath = out.Source, out.Path
		out.Source, out.Path, out.Configured, out.RequiredBy = "requirements", "", &c, s.RequiredBy
	}
	return out
}

type explainFeature struct {
	Value    bool   `json:"value"`
	Source   string `json:"source"`
	Path     string `json:"path,omitempty"`
	Default  bool   `json:"default"`
	Stage    string `json:"stage"`
	PinnedBy string `json:"pinned_by,omitempty"`
}

type explainMCP struct {
	Enabled        bool    `json:"enabled"`
	DisabledReason *string `json:"disabled_reason"`
	Source         string  `json:"source"`
	Path           string  `json:"path,omitempty"`
}

type explainLayer struct {
	Kind           string `json:"kind"`
	Path           string `json:"path,omitempty"`
	Profile        string `json:"profile,omitempty"`
	DisabledReason string `json:"disabled_reason,omitempty"`
}

type explainWarning struct {
	Codex string `json:"codex"`
	Plain string `json:"plain"`
}

// configReport is the --json report, schema 1 (docs/cli.md).
func configReport(m config.Machine, r *config.Resolution) map[string]any {
	features := map[string]explainFeature{}
	for _, f := range r.Features {
		ef := explainFeature{Value: f.Value, Source: "default", Default: f.Default, Stage: f.Stage, PinnedBy: f.PinnedBy}
		if f.Layer != nil {
			ef.Source, ef.Path = f.Layer.Label(), f.Layer.Path()
		}
		if f.PinnedBy != "" {
			ef.Source = "requirements"
		}
		features[f.Name] = ef
	}
	mcp := map[string]explainMCP{}
	for _, s := range r.MCPServers {
		e := explainMCP{Enabled: s.Enabled, DisabledReason: s.DisabledReason}
		if s.Layer != nil {
			e.Source, e.Path = s.Layer.Label(), s.Layer.Path()
		}
		mcp[s.Name] = e
	}
	layers := []explainLayer{}
	for i := len(r.Layers) - 1; i >= 0; i-- {
		l := r.Layers[i]
		layers = append(layers, explainLayer{Kind: l.Label(), Path: l.Path(), Profile: l.Profile, DisabledReason: l.Disabled})
	}
	warnings := []explainWarning{}
	for _, w := range r.Warnings {
		warnings = append(warnings, explainWarning(w))
	}
	return map[string]any{
		"schema":             1,
		"cwd":                m.Cwd,
		"project_root":       r.ProjectRoot,
		"project_trusted":    r.Trusted(),
		"approval_policy":    settingJSON(r.ApprovalPolicy),
		"approvals_reviewer": settingJSON(r.ApprovalsReviewer),
		"sandbox_mode":       settingJSON(r.SandboxMode),
		"web_search_mode":    settingJSON(r.WebSearchMode),
		"model":              settingJSON(r.Model),
		"windows_sandbox":    settingJSON(r.WindowsSandbox),
		"features":           features,
		"mcp_servers":        mcp,
		"layers":             layers,
		"warnings":           warnings,
		"app_server_start":   appServerReport(m, r),
		"telemetry":          r.Telemetry,
	}
}

// appServerReport is the report's app_server_start: nil when an app-server
// thread start leaves the trust as it is, else what it writes and the
// configuration the thread (and every later start) runs with.
func appServerReport(m config.Machine, r *config.Resolution) map[string]any {
	t := config.AppServerStart(m, r)
	if t == nil {
		return nil
	}
	out := map[string]any{}
	if t.Trusted != nil {
		trusted := m
		trusted.TrustProject = t.Target
		out = configReport(trusted, t.Trusted)
		delete(out, "schema")
		delete(out, "app_server_start")
	}
	warnings := []explainWarning{}
	for _, w := range t.Warnings {
		warnings = append(warnings, explainWarning(w))
	}
	out["clients"] = "the Codex app-server: the IDE extension and the desktop app"
	out["trusts"] = t.Target
	out["config_file"] = filepath.Join(m.CodexHome, "config.toml")
	out["automatic"] = t.Automatic
	out["on_request"] = append([]string{}, t.OnRequest...)
	out["warnings"] = warnings
	if t.Error != "" {
		out["error"] = t.Error
	}
	return out
}

func describeSource(s config.Setting) string {
	var out string
	switch {
	case s.RequiredBy != "":
		what := "configured " + s.Configured + " in " + layerName(s.Layer)
		if s.Layer == nil {
			what = "default " + s.Configured
		}
		out = "requirement " + s.RequiredBy + " (" + what + ")"
	case s.Layer != nil:
		out = s.Layer.String()
	default:
		out = "default"
	}
	if s.Note != "" {
		out += "; " + s.Note
	}
	return out
}

func layerName(l *config.Layer) string {
	if l == nil {
		return "default"
	}
	return l.String()
}

func writeExplain(w io.Writer, r *config.Resolution) {
	writeSettings(w, r)
	writeTelemetry(w, r)

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Layers (highest first):")
	for i := len(r.Layers) - 1; i >= 0; i-- {
		l := r.Layers[i]
		line := "  " + l.String()
		if l.Disabled != "" {
			line += ": disabled. " + l.Disabled
		}
		fmt.Fprintln(w, line)
	}
	writeWarnings(w, r.Warnings)
}

func writeWarnings(w io.Writer, ws []config.Warning) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Warnings:")
	for i, wn := range ws {
		fmt.Fprintf(w, "%d. %s\n   Codex says: %s\n", i+1, wn.Plain, strings.ReplaceAll(strings.TrimRight(wn.Codex, "\n"), "\n", "\n   "))
	}
}

// writeAppServerStart tells what the IDE extension or the desktop app makes
// of a project whose trust is not set.
func writeAppServerStart(w io.Writer, m config.Machine, r *config.Resolution) {
	t := config.AppServerStart(m, r)
	if t == nil {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "In the IDE extension or the desktop app (the Codex app-server):")
	when := "a thread that asks for a writable sandbox (" + strings.Join(t.OnRequest, " or ") + ")"
	if t.Automatic {
		when = "every thread started here (the configured sandbox, " + r.SandboxMode.Value + ", is writable)"
	}
	fmt.Fprintf(w, "  This project's trust is not set, so %s makes Codex write\n", when)
	fmt.Fprintf(w, "    [projects.%q]\n    trust_level = \"trusted\"\n", t.Target)
	fmt.Fprintf(w, "  into %s and load the project's settings.\n", filepath.Join(m.CodexHome, "config.toml"))
	if t.Error != "" {
		fmt.Fprintf(w, "  The thread then fails to start:\n    %s\n", strings.ReplaceAll(t.Error, "\n", "\n    "))
		return
	}
	fmt.Fprintln(w, "  That thread, and every Codex started here afterwards (the CLI too), runs with:")
	fmt.Fprintln(w)
	writeSettings(w, t.Trusted)
	writeWarnings(w, t.Warnings)
}

func writeSettings(w io.Writer, r *config.Resolution) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSET BY")
	row := func(name string, s config.Setting) {
		v := s.Value
		if v == "" {
			v = "(Codex's default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, v, describeSource(s))
	}
	row("approval_policy", r.ApprovalPolicy)
	row("approvals_reviewer", r.ApprovalsReviewer)
	row("sandbox_mode", r.SandboxMode)
	row("web_search", r.WebSearchMode)
	row("model", r.Model)
	for _, f := range r.Features {
		if f.Value == f.Default && f.PinnedBy == "" {
			continue
		}
		src := "default"
		switch {
		case f.PinnedBy != "":
			src = "requirement " + f.PinnedBy + " (pinned)"
		case f.Layer != nil:
			src = f.Layer.String()
		}
		fmt.Fprintf(tw, "features.%s\t%t\t%s\n", f.Name, f.Value, src)
	}
	for _, s := range r.MCPServers {
		state := "enabled"
		if !s.Enabled {
			state = "disabled"
			if s.DisabledReason != nil {
				state += ": " + *s.DisabledReason
			} else {
				state += " in config"
			}
		}
		src := ""
		if s.Layer != nil {
			src = s.Layer.String()
		}
		fmt.Fprintf(tw, "mcp_servers.%s\t%s\t%s\n", s.Name, state, src)
	}
	for _, e := range r.Exact {
		fmt.Fprintf(tw, "%s\t%v\trequirement %s (replaces the config value)\n", e.Key, e.Required, e.Source)
	}
	tw.Flush()
}

// writeTelemetry shows the OpenTelemetry export Codex runs with, and
// whether requirements enforce it (codexgov's telemetry setting delivers
// such requirements).
func writeTelemetry(w io.Writer, r *config.Resolution) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Telemetry export (OpenTelemetry):")
	names := map[string]string{"exporter": "logs", "metrics_exporter": "metrics", "trace_exporter": "traces", "log_user_prompt": "prompt text"}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range r.Telemetry {
		how := s.Source
		if s.Enforced {
			how = "enforced by " + s.Source + "; the user's config.toml and -c cannot change it"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", names[s.Key], s.Value, how)
	}
	tw.Flush()
}
