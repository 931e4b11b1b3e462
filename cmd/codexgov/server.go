package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov/internal/envknob"
	"github.com/codexgov/codexgov/internal/server"
)

// Main is the control plane process (internal/server).
type Main = server.Main

func newServerCmd() *cobra.Command {
	m := &Main{}
	logLevel := envknob.NewEnum("info", "debug", "info", "warn", "error")
	logFormat := envknob.NewEnum("text", "text", "json")
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the codexgov control plane",
		Long: `Run the codexgov control plane: the REST API under /api/v1, client policy
distribution, /healthz and /metrics.

Every flag can also be set with the environment variable named in its help
(docs/configuration.md); an invalid value stops the server.
On the first start the server creates a server admin API key and prints it
once; only its hash is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel.Value)); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--log-level: %w", err)}
			}
			opts := &slog.HandlerOptions{Level: lvl}
			if logFormat.Value == "json" {
				m.Logger = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts))
			} else {
				m.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts))
			}
			m.Out = cmd.OutOrStdout()
			switch {
			case m.ComplianceGrace < 0:
				return &exitError{code: 2, err: fmt.Errorf("--compliance-seal-grace %s: use 0 or more", m.ComplianceGrace)}
			case m.ComplianceGrace == 0:
				m.ComplianceGrace = -1 // none
			}
			if err := m.Run(cmd.Context()); err != nil {
				m.Close()
				return &exitError{code: 1, err: err}
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
		wait:
			for {
				select {
				case <-hup:
					if err := m.ReloadTLS(); err != nil {
						m.Logger.Error("SIGHUP: the TLS certificate does not load; serving the previous one", "err", err)
					} else if m.TLSCert != "" || m.DevTLS {
						m.Logger.Info("SIGHUP: reloaded the TLS certificate")
					}
				case <-cmd.Context().Done():
					break wait
				}
			}
			m.Logger.Info("shutting down")
			if err := m.Close(); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	// The data and listener flags are persistent: backup, restore,
	// rotate-admin-key and healthcheck work on the same folder, database
	// and address.
	pf := cmd.PersistentFlags()
	pf.StringVar(&m.DataDir, "data-dir", "./codexgov-data", "folder for the SQLite database and the master key")
	pf.StringVar(&m.Database, "database", "", "postgres://… URL; SQLite in --data-dir when empty")
	pf.StringVar(&m.MasterKeyFile, "master-key-file", "", "32-byte key that encrypts signing keys; every replica needs the same one; default DATA_DIR/master.key")
	for flag, name := range map[string]string{"data-dir": "CODEXGOV_DATA_DIR", "database": "CODEXGOV_DATABASE", "master-key-file": "CODEXGOV_MASTER_KEY_FILE"} {
		envknob.Bind(pf, flag, name)
	}
	cmd.AddCommand(serverOpsCmds(m)...)
	f := cmd.Flags()
	pf.StringVar(&m.Listen, "listen", "127.0.0.1:7700", "address to listen on")
	f.DurationVar(&m.SyncInterval, "sync-interval", 2*time.Second, "how often to check the database for changes made by other replicas")
	f.Int64Var(&m.MaxBodyBytes, "max-body-bytes", server.DefaultMaxBodyBytes, "largest request body accepted")
	pf.StringVar(&m.TLSCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (TLS 1.2+), reloaded on SIGHUP and when the file changes; Codex reaches a configuration server over HTTPS only")
	pf.StringVar(&m.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	pf.BoolVar(&m.DevTLS, "dev-tls", false, "development and tests only: make a local CA and a certificate for 127.0.0.1/localhost in DATA_DIR/dev-tls and serve HTTPS; --dev-tls=false overrides the variable")
	f.DurationVar(&m.AccessTTL, "oauth-access-ttl", time.Hour, "lifetime of the configuration server's access tokens, 5m to 24h")
	f.StringVar(&m.PublicURL, "public-url", "", "external base URL, https://…: single sign-on redirects to PUBLIC_URL/sso/callback; empty: the URL each request came to")
	f.DurationVar(&m.ComplianceSealInterval, "compliance-seal-interval", server.DefaultSealInterval, "how often new records are sealed into Compliance API log files")
	f.DurationVar(&m.ComplianceGrace, "compliance-seal-grace", server.DefaultSealGrace, "how long after arrival a record is sealed (longer than any write transaction; 0 for none)")
	f.DurationVar(&m.CompliancePushInterval, "compliance-push-interval", server.DefaultPushInterval, "how often sealed records are pushed to the SIEM sinks")
	f.StringVar(&m.OTLPGRPCAddr, "otlp-grpc-addr", "", "also serve the OTLP/gRPC receiver at this address (TLS as the main listener), for exporters configured with otlp-grpc; empty: OTLP/HTTP only")
	f.DurationVar(&m.DBTimeout, "db-timeout", server.DefaultDBTimeout, "how long a request waits for the database before it answers 503, 1s to 60s")
	f.IntVar(&m.DatabaseMaxConns, "database-max-conns", server.DefaultMaxConns, "most PostgreSQL connections this replica opens; requests beyond them queue within --db-timeout")
	limits := server.DefaultLimits
	m.Limits = &limits
	f.Float64Var(&limits.PerAddress, "rate-per-address", limits.PerAddress, "requests per second one client address may make to the routes anyone can call (sign-in, device login, OAuth); 0: no limit")
	f.Float64Var(&limits.PerWorkspace, "rate-per-workspace", limits.PerWorkspace, "requests per second to those routes naming one workspace, from all addresses; 0: no limit")
	f.Float64Var(&limits.PerCredential, "rate-per-credential", limits.PerCredential, "requests per second one API key, token or sign-in may make; 0: no limit")
	f.StringVar(&m.MetricsTokenFile, "metrics-token-file", "", "file holding a token (16+ characters) that /metrics then asks for as Authorization: Bearer; empty: /metrics is open")
	f.DurationVar(&m.RecordInterval, "record-interval", 2*time.Second, "how often bundle fetch records are written")
	f.Var(logLevel, "log-level", "debug, info, warn or error")
	f.Var(logFormat, "log-format", "text or json")
	for flag, name := range map[string]string{"listen": "CODEXGOV_LISTEN", "tls-cert": "CODEXGOV_TLS_CERT", "tls-key": "CODEXGOV_TLS_KEY", "dev-tls": "CODEXGOV_DEV_TLS"} {
		envknob.Bind(pf, flag, name)
	}
	for flag, name := range map[string]string{"sync-interval": "CODEXGOV_SYNC_INTERVAL", "max-body-bytes": "CODEXGOV_MAX_BODY_BYTES", "oauth-access-ttl": "CODEXGOV_OAUTH_ACCESS_TTL",
		"public-url": "CODEXGOV_PUBLIC_URL", "otlp-grpc-addr": "CODEXGOV_OTLP_GRPC_ADDR", "metrics-token-file": "CODEXGOV_METRICS_TOKEN_FILE", "db-timeout": "CODEXGOV_DB_TIMEOUT", "database-max-conns": "CODEXGOV_DATABASE_MAX_CONNS", "rate-per-address": "CODEXGOV_RATE_PER_ADDRESS", "rate-per-workspace": "CODEXGOV_RATE_PER_WORKSPACE", "rate-per-credential": "CODEXGOV_RATE_PER_CREDENTIAL", "record-interval": "CODEXGOV_RECORD_INTERVAL", "log-level": "CODEXGOV_LOG_LEVEL", "log-format": "CODEXGOV_LOG_FORMAT"} {
		envknob.Bind(f, flag, name)
	}
	return cmd
}
