package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/envknob"

	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/internal/atomicfile"
)

// installer writes a machine's bootstrap /etc/codex/requirements.toml.
type installer struct {
	server, workspace, token, enrollToken string
	etc, ca                               string
	dryRun                                bool
	out                                   io.Writer
	now                                   func() time.Time
}

func newInstallCmd() *cobra.Command {
	in := &installer{now: time.Now}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Point this machine's Codex at the codexgov configuration server",
		Long: `Write the bootstrap /etc/codex/requirements.toml: the [config_server] table that
makes every Codex start fetch its policy from codexgov, plus the workspace's
baseline requirements. Run it as root, or from config management.

Two modes:
  OAuth (default)  --workspace WS --token API_KEY: each user signs in once with
                   "codex login". Linux needs a Secret Service (gnome-keyring,
                   KWallet) for Codex's token store.
  Enrollment       --enroll-token cge_…: the machine is identified by its token,
                   for headless Linux, CI runners and devboxes.

The result is validated as Codex 0.169.0 reads it, written atomically, and the
previous file is kept as requirements.toml.codexgov-backup.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.out = cmd.OutOrStdout()
			in.pickMode(cmd.Flags())
			if err := in.run(cmd.Context()); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.server, "server", "", "the server's HTTPS URL as machines reach it")
	envknob.Bind(f, "server", "CODEXGOV_SERVER")
	f.StringVarP(&in.workspace, "workspace", "w", "", "workspace id, for OAuth mode")
	envknob.Bind(f, "workspace", "CODEXGOV_WORKSPACE")
	f.StringVar(&in.token, "token", "", "API key with admin:read, for OAuth mode")
	envknob.Bind(f, "token", "CODEXGOV_TOKEN")
	f.StringVar(&in.enrollToken, "enroll-token", "", "enrollment token: enrollment mode")
	envknob.Bind(f, "enroll-token", "CODEXGOV_ENROLL_TOKEN")
	f.StringVar(&in.etc, "etc", "/etc/codex", "folder to write requirements.toml in")
	f.StringVar(&in.ca, "ca", "", "PEM CA certificate the server's certificate chains to, when it is private: trusted for this command, and the way to make Codex trust it is printed")
	envknob.Bind(f, "ca", "CODEXGOV_CA")
	f.BoolVar(&in.dryRun, "dry-run", false, "print the file instead of writing it")
	return cmd
}

// pickMode settles the mode when the environment gives both an enrollment
// token and an API key (the quickstart exports CODEXGOV_TOKEN and
// CODEXGOV_WORKSPACE for the admin commands): what is on the command line
// wins over the environment, and between two variables the enrollment
// token does, as the more specific. Both modes on the command line stay an
// error.
func (in *installer) pickMode(fs *pflag.FlagSet) {
	if in.enrollToken == "" || (in.workspace == "" && in.token == "") {
		return
	}
	enrollGiven := fs.Changed("enroll-token")
	oauthGiven := fs.Changed("workspace") || fs.Changed("token")
	switch {
	case enrollGiven && oauthGiven:
		return
	case oauthGiven:
		in.enrollToken = ""
	default:
		if !fs.Changed("workspace") {
			in.workspace = ""
		}
		if !fs.Changed("token") {
			in.token = ""
		}
	}
}

func (in *installer) run(ctx context.Context) error {
	base, err := url.Parse(strings.TrimRight(in.server, "/"))
	if err != nil || base.Host == "" {
		return fmt.Errorf("--server %q: want the server's URL, such as https://codexgov.example.com", in.server)
	}
	// Every [config_server] URL is this one plus a path, so Codex's rules
	// for them (CONFIG_SERVER.md §2) are checked here once.
	if !strings.EqualFold(base.Scheme, "https") || base.User != nil || base.Fragment != "" || base.RawQuery != "" {
		return fmt.Errorf("--server %q: Codex reaches a configuration server over HTTPS only, with no userinfo, query or fragment", in.server)
	}
	var path, auth string
	switch {
	case in.enrollToken != "" && (in.workspace != "" || in.token != ""):
		return errors.New("--enroll-token excludes --workspace and --token: the token names its workspace")
	case in.enrollToken != "":
		path = "/codex-config/enroll/" + url.PathEscape(in.enrollToken) + "/install"
	case in.workspace == "" || in.token == "":
		return errors.New("give --enroll-token for enrollment mode, or --workspace and --token for OAuth mode")
	default:
		path, auth = "/api/v1/workspaces/"+url.PathEscape(in.workspace)+"/install", in.token
	}
	client, err := httpsClient(in.ca)
	if err != nil {
		return err
	}
	var b codexgov.Bootstrap
	if err := getJSON(ctx, client, base.String()+path, auth, &b); err != nil {
		return err
	}
	text := bootstrapTOML(base.String(), in.enrollToken, b, in.now())
	target := filepath.Join(in.etc, "requirements.toml")
	var errs []string
	for _, d := range requirements.Lint(target, text, requirements.LintOptions{CodexDir: in.etc}) {
		// The lint cannot fetch the bundle, so it reports what Codex does
		// when the fetch fails; that is the server's to answer, not the
		// file's.
		if d.Key == "config_server" && d.Code == "rejected" {
			continue
		}
		if d.Severity == requirements.SeverityError {
			errs = append(errs, fmt.Sprintf("%s:%d:%d: %s", target, d.Line, d.Column, d.Message))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the bootstrap file would make Codex refuse to start; nothing was written:\n  %s", strings.Join(errs, "\n  "))
	}
	if in.dryRun {
		_, err := io.WriteString(in.out, text)
		return err
	}
	backup, err := atomicfile.Write(target, []byte(text), atomicfile.Options{Mode: 0o644, Root: true, Backup: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(in.out, "wrote %s (workspace %s, %s mode)\n", target, b.Workspace, b.Mode)
	if backup != "" {
		fmt.Fprintf(in.out, "kept the previous file as %s\n", backup)
	}
	if b.Baseline != nil {
		fmt.Fprintf(in.out, "baseline: policy %q version %d\n", b.Baseline.Name, b.Baseline.Version)
	}
	if b.Mode == "oauth" {
		fmt.Fprintln(in.out, "each user signs in once with: codex login   (Linux needs a Secret Service such as gnome-keyring)")
	}
	if in.ca != "" {
		abs, _ := filepath.Abs(in.ca)
		fmt.Fprintf(in.out, "the server's CA is private: make Codex trust it, either per user with\n  export CODEX_CA_CERTIFICATE=%s\nor for the whole machine (Debian, Ubuntu) with\n  cp %s /usr/local/share/ca-certificates/codexgov.crt && update-ca-certificates\n", abs, abs)
	}
	return nil
}

func httpsClient(ca string) (*http.Client, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", ca)
		}
		conf.RootCAs = pool
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, Proxy: http.ProxyFromEnvironment}}, nil
}

func getJSON(ctx context.Context, client *http.Client, u, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reach the server: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		var e codexgov.Error
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return fmt.Errorf("the server refused (%d %s): %s", resp.StatusCode, e.Code, e.Message)
		}
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

// bootstrapTOML is the bootstrap requirements.toml: the baseline, then
// the [config_server] table (a table header after the baseline's own
// tables is always valid TOML).
func bootstrapTOML(server, enrollToken string, b codexgov.Bootstrap, now time.Time) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Written by codexgov install on %s for workspace %q (%s mode).\n", now.UTC().Format(time.RFC3339), b.Workspace, b.Mode)
	sb.WriteString("# Codex fetches this machine's policy from codexgov at each start (cached for\n# one hour) and refuses to start when it cannot. Run codexgov install again\n# to change this file.\n\n")
	if b.Baseline != nil && strings.TrimSpace(b.Baseline.Requirements) != "" {
		fmt.Fprintf(&sb, "# Baseline: policy %q version %d. The served policy overrides it key by key.\n", b.Baseline.Name, b.Baseline.Version)
		sb.WriteString(strings.TrimRight(b.Baseline.Requirements, "\n"))
		sb.WriteString("\n\n")
	}
	q := strconv.Quote
	sb.WriteString("[config_server]\n")
	if b.Mode == "enrollment" {
		fmt.Fprintf(&sb, "base_url = %s\n", q(server+"/codex-config/enroll/"+enrollToken))
		return sb.String()
	}
	ws := server + "/codex-config/" + b.Workspace
	fmt.Fprintf(&sb, "base_url = %s\n\n[config_server.oauth]\n", q(ws))
	fmt.Fprintf(&sb, "authorization_url = %s\ntoken_url = %s\nclient_id = %s\n", q(ws+"/oauth/authorize"), q(ws+"/oauth/token"), q(b.ClientID))
	if len(b.Scopes) > 0 {
		qs := make([]string, len(b.Scopes))
		for i, s := range b.Scopes {
			qs[i] = q(s)
		}
		fmt.Fprintf(&sb, "scopes = [%s]\n", strings.Join(qs, ", "))
	}
	return sb.String()
}
