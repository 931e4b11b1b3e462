package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/internal/buildinfo"
	"github.com/codexgov/codexgov/internal/envknob"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/syncagent"
)

type syncFlags struct {
	server, enrollToken, ca, etc, state, jwks, machineID, codex string
	once, daemon, repin                                         bool
	interval, minRetry                                          time.Duration
}

func newSyncCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync (--once | --daemon [--interval 5m]) [--etc DIR]",
		Short: "Keep this machine's /etc/codex policy files in step with codexgov, with the last known good policy when the server is away",
		Long: `Fetch this machine's policy (/api/v1/client/requirements and /client/defaults, with
If-None-Match), verify the detached signatures against the key set pinned at
enrollment, validate the pair as Codex 0.169.0 reads it, and write
requirements.toml and managed_config.toml into --etc atomically (mode 0644,
owned by root when run as root).

When the server cannot be reached, or a response fails verification or
validation, nothing changes: Codex keeps enforcing the last known good policy,
kept with its signatures in --state. Each run is reported to the server and
shows in its devices list.

The machine identifies itself with an enrollment token (--enroll-token, or
CODEXGOV_ENROLL_TOKEN) or, without one, with the codexgov login credential.
The first run pins the server's signing key set (or the one given with
--jwks); later key rotations are accepted when a pinned key signed the new set.

--once exits 0 when the files hold the server's policy (applied, unchanged or
repaired), 1 when the run changed nothing because it failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.once == f.daemon {
				return &exitError{code: 2, err: errors.New("give exactly one of --once and --daemon")}
			}
			if f.interval < time.Second || f.minRetry < 100*time.Millisecond {
				return &exitError{code: 2, err: fmt.Errorf("--interval %s, --retry %s: want at least 1s and 100ms", f.interval, f.minRetry)}
			}
			if f.machineID != "" && !codexgov.ValidMachineID(f.machineID) {
				return &exitError{code: 2, err: fmt.Errorf("--machine-id %q: want %s", f.machineID, codexgov.MachineIDRule)}
			}
			a, err := f.agent(cmd)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if f.repin {
				if err := a.Repin(); err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			if f.daemon {
				a.Daemon(cmd.Context(), syncagent.Backoff{Interval: f.interval, Min: f.minRetry})
				return nil
			}
			o := a.RunOnce(cmd.Context())
			out := cmd.OutOrStdout()
			switch o.Result {
			case codexgov.SyncApplied, codexgov.SyncUnchanged, codexgov.SyncRepaired:
				if o.ReportRefused != nil {
					return &exitError{code: 1, err: fmt.Errorf("%s, but the server refused the report (%v): this machine does not show in the devices list", o.Result, o.ReportRefused)}
				}
				fmt.Fprintf(out, "%s: %s in %s\n", o.Result, o.Holding(), f.etc)
				return nil
			}
			return &exitError{code: 1, err: fmt.Errorf("%s: %v; still enforcing %s", o.Result, o.Err, o.Holding())}
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.once, "once", false, "run one sync and exit")
	fl.BoolVar(&f.daemon, "daemon", false, "run until stopped: every --interval, retrying failures with backoff and jitter")
	fl.DurationVar(&f.interval, "interval", 5*time.Minute, "time between runs in --daemon mode (jittered by ±10%)")
	fl.DurationVar(&f.minRetry, "retry", 10*time.Second, "first retry delay after a failure; it doubles up to --interval")
	fl.StringVar(&f.server, "server", "", "the server's URL; default: the codexgov login credential's")
	envknob.Bind(fl, "server", "CODEXGOV_SERVER")
	fl.StringVar(&f.enrollToken, "enroll-token", "", "the machine's enrollment token; without one, the codexgov login credential is used")
	envknob.Bind(fl, "enroll-token", "CODEXGOV_ENROLL_TOKEN")
	fl.StringVar(&f.ca, "ca", "", "PEM CA certificate the server's certificate chains to, when it is private")
	envknob.Bind(fl, "ca", "CODEXGOV_CA")
	fl.StringVar(&f.etc, "etc", "/etc/codex", "folder Codex reads requirements.toml and managed_config.toml from")
	fl.StringVar(&f.state, "state", "/var/lib/codexgov/sync", "folder for the pinned key set and the last known good policy")
	envknob.Bind(fl, "state", "CODEXGOV_SYNC_STATE")
	fl.StringVar(&f.jwks, "jwks", "", "JWKS file to pin at enrollment instead of trusting the server's on first use")
	fl.BoolVar(&f.repin, "repin", false, "forget the pinned key set and pin again (with --jwks, or the server's)")
	fl.StringVar(&f.machineID, "machine-id", "", "this machine's ID in the devices list (default: derived from /etc/machine-id)")
	fl.StringVar(&f.codex, "codex", "", "the codex binary whose version is reported (default: codex on PATH)")
	return cmd
}

func (f *syncFlags) agent(cmd *cobra.Command) (*syncagent.Agent, error) {
	var c *client.Client
	server := strings.TrimSuffix(f.server, "/")
	if f.enrollToken != "" {
		if server == "" {
			return nil, errors.New("--enroll-token needs --server")
		}
		c = client.New(server, f.enrollToken)
	} else {
		cred, err := loadCredential()
		if err != nil {
			return nil, fmt.Errorf("no --enroll-token and no codexgov login credential (%v): give the machine's enrollment token, or run codexgov login", err)
		}
		if server != "" && server != cred.Server {
			return nil, fmt.Errorf("the codexgov login credential is for %s, not --server %s", cred.Server, server)
		}
		server = cred.Server
		c = client.New(server, "")
		c.Token = func(ctx context.Context) (string, error) { return accessToken(ctx, cred) }
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("--server %q: want the server's URL, such as https://codexgov.example.com", server)
	}
	if u.Scheme == "http" && !configserver.Loopback(u.Hostname()) {
		return nil, fmt.Errorf("--server %q: the credential would cross the network in clear text; use https:// (plain http is for a server on this machine only)", server)
	}
	if c.HTTP, err = httpsClient(f.ca); err != nil {
		return nil, err
	}
	var pin []byte
	if f.jwks != "" {
		if pin, err = os.ReadFile(f.jwks); err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return syncagent.New(syncagent.Config{Client: c, Etc: f.etc, State: f.state, PinJWKS: pin, MachineID: f.machineID,
		Codex: f.codex, AgentVersion: buildinfo.Version(), Log: log})
}
