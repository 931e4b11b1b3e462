// Package server wires the control plane together: the database, the
// master key, the HTTP API and its background loops, TLS, and the
// operations on a data folder (backup, restore, admin key rotation, the
// health check). codexgov server runs it; the end-to-end tests run it on a
// random port with a temporary database.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/devtls"
	"github.com/codexgov/codexgov/internal/httpapi"
	"github.com/codexgov/codexgov/internal/oidc"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
	"github.com/codexgov/codexgov/internal/tlsreload"
	"google.golang.org/grpc"
)

// Limits are request rate limits; DefaultLimits those a server starts with.
type Limits = httpapi.Limits

// DefaultLimits are the rate limits by default.
var DefaultLimits = httpapi.DefaultLimits

// DefaultDBTimeout and DefaultMaxConns are the database deadline and
// connection cap by default.
const (
	DefaultDBTimeout = httpapi.DefaultDBTimeout
	DefaultMaxConns  = sqlstore.DefaultMaxConns
)

// DefaultMaxBodyBytes is the largest request body accepted by default.
const DefaultMaxBodyBytes = httpapi.DefaultMaxBodyBytes

// Main is the control plane process: `codexgov server` and the end-to-end
// tests both run it.
type Main struct {
	Listen        string
	DataDir       string
	Database      string // postgres://… or empty for SQLite in DataDir
	MasterKeyFile string // empty: DataDir/master.key
	SyncInterval  time.Duration
	MaxBodyBytes  int64
	// TLSCert and TLSKey serve HTTPS (TLS 1.2 or newer) with a real
	// certificate; DevTLS makes a local CA and certificate in
	// DataDir/dev-tls instead (development and tests only).
	TLSCert, TLSKey string
	DevTLS          bool
	// AccessTTL is the configuration server's access-token lifetime.
	AccessTTL time.Duration
	// RecordInterval is how often bundle fetch records are written.
	RecordInterval time.Duration
	// PublicURL is the external base URL (SCIM locations, the single
	// sign-on redirect URI); empty: each request's own.
	PublicURL string
	// MetricsTokenFile holds the token /metrics asks for (open when
	// empty).
	MetricsTokenFile string
	// DBTimeout bounds each request's wait for the database (1s to 60s;
	// DefaultDBTimeout when 0); DatabaseMaxConns caps PostgreSQL
	// connections (DefaultMaxConns when 0).
	DBTimeout        time.Duration
	DatabaseMaxConns int
	// Limits are the request rate limits (httpapi.DefaultLimits when nil).
	Limits *Limits
	// DeviceInterval is the device login's polling interval (tests).
	DeviceInterval time.Duration
	// OTLPGRPCAddr, when set, serves the OTLP/gRPC receiver there (TLS
	// as the main listener); GRPCAddr is the address it listens on.
	OTLPGRPCAddr string
	GRPCAddr     string
	// ComplianceSealInterval is how often compliance files are sealed
	// (DefaultSealInterval when 0); ComplianceGrace how long after arrival
	// a record is sealed (DefaultSealGrace when 0, none when negative).
	ComplianceSealInterval time.Duration
	ComplianceGrace        time.Duration
	// CompliancePushInterval is how often SIEM sinks are delivered to
	// (DefaultPushInterval when 0); SinkMaxBackoff bounds the wait after
	// failed deliveries (5 minutes when 0).
	CompliancePushInterval time.Duration
	SinkMaxBackoff         time.Duration
	// Now is the API's clock (time.Now when nil); tests move it.
	Now    func() time.Time
	Logger *slog.Logger
	// Out receives the one-time server admin key.
	Out io.Writer

	// Addr is the address actually listened on, set by Run, and URL the
	// base URL (https:// when TLS is on).
	Addr string
	URL  string
	// DevCA is the development CA's certificate file (with DevTLS).
	DevCA string
	Store *sqlstore.DB
	API   *httpapi.Server
	grpc  *grpc.Server

	srv    *http.Server
	certs  *tlsreload.Reloader
	cancel context.CancelFunc
	done   chan struct{}
}

// Run opens the database, prepares first-start credentials, and starts
// serving in the background.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	// The port first: a second server on the same address fails here,
	// before it creates a data folder, a key or a database.
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		ln.Close()
		if m.Store != nil {
			m.Store.Close()
			m.Store = nil
		}
		return err
	}
	if m.DBTimeout != 0 && (m.DBTimeout < time.Second || m.DBTimeout > time.Minute) {
		return fail(fmt.Errorf("--db-timeout %s: use 1s to 60s", m.DBTimeout))
	}
	if m.DatabaseMaxConns < 0 {
		return fail(fmt.Errorf("--database-max-conns %d: use 1 or more", m.DatabaseMaxConns))
	}
	var metricsToken string
	if m.MetricsTokenFile != "" {
		b, err := os.ReadFile(m.MetricsTokenFile)
		if err != nil {
			return fail(fmt.Errorf("--metrics-token-file: %w", err))
		}
		if metricsToken = strings.TrimSpace(string(b)); len(metricsToken) < 16 {
			return fail(fmt.Errorf("--metrics-token-file %s: the token has %d characters; use 16 or more (for example: openssl rand -hex 32 > %s)", m.MetricsTokenFile, len(metricsToken), m.MetricsTokenFile))
		}
	}
	dsn := m.Database
	if dsn == "" {
		dsn = filepath.Join(m.DataDir, "codexgov.db")
	}
	keyFile := m.MasterKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(m.DataDir, "master.key")
	}
	master, err := signing.LoadMasterKey(keyFile)
	keyMissing := errors.Is(err, os.ErrNotExist)
	if err != nil && !keyMissing {
		return fail(fmt.Errorf("master key: %w", err))
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fail(fmt.Errorf("open database: %w", err))
	}
	m.Store = store
	store.SetValidator(policy.Validate)
	store.SetOtelCheck(policy.SetsOtel)
	store.SetMaxConns(m.DatabaseMaxConns)
	if keyMissing {
		// A database that already holds sealed secrets with no key beside
		// it is a lost or misplaced key: a new one would make every signing
		// key and IdP secret unreadable, so nothing is written.
		if used, err := store.HasServerKey(ctx); err != nil {
			return fail(err)
		} else if used {
			return fail(fmt.Errorf("the master key %s is missing, but the database (%s) already holds data sealed with one: restore master.key from the backup (codexgov server backup keeps it beside the database), or point --master-key-file at it; no new key was written", keyFile, store.Dialect()))
		}
		if master, err = signing.CreateMasterKey(keyFile); err != nil {
			return fail(fmt.Errorf("master key: %w", err))
		}
		m.Logger.Info("created the master key that encrypts signing keys", "file", keyFile)
	}
	// Content at rest (prompt and tool texts, sealed compliance files) is
	// encrypted under per-workspace data keys the master key wraps.
	store.SetKeyWrapper(signing.NewKeyWrapper(master))
	if err := m.firstStart(ctx, master); err != nil {
		return fail(err)
	}
	tlsConf, err := m.tlsConfig()
	if err != nil {
		return fail(err)
	}
	m.Addr = ln.Addr().String()
	// The enforced [otel] block names the receiver as machines reach it:
	// the public URL, else this listener's own.
	telemetryURL := m.PublicURL
	if telemetryURL == "" {
		telemetryURL = "http://" + m.Addr
		if tlsConf != nil {
			telemetryURL = "https://" + m.Addr
		}
	}
	m.API, err = httpapi.New(ctx, store, master, httpapi.Options{Logger: m.Logger, MaxBodyBytes: m.MaxBodyBytes, AccessTTL: m.AccessTTL, Now: m.Now, PublicURL: m.PublicURL, DeviceInterval: m.DeviceInterval,
		MetricsToken: metricsToken, DBTimeout: m.DBTimeout, Limits: m.Limits, SSO: &oidc.RelyingParty{Now: m.Now}, TelemetryURL: telemetryURL})
	if err != nil {
		return fail(fmt.Errorf("build the policy snapshot: %w", err))
	}
	if m.PublicURL == "" {
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
			m.Logger.Warn("no --public-url: single sign-on, device login, SCIM and the admin pages answer only requests to a loopback host, so that no Host header becomes a link; set --public-url to the server's external https:// URL", "listen", m.Addr)
		}
	}
	m.URL = "http://" + m.Addr
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
		m.URL = "https://" + m.Addr
	}
	if m.OTLPGRPCAddr != "" {
		gln, err := net.Listen("tcp", m.OTLPGRPCAddr)
		if err != nil {
			return fail(fmt.Errorf("--otlp-grpc-addr: %w", err))
		}
		m.GRPCAddr = gln.Addr().String()
		m.grpc = m.API.GRPC(tlsConf)
		go func() {
			if err := m.grpc.Serve(gln); err != nil {
				m.Logger.Error("OTLP/gRPC serve", "err", err)
			}
		}()
		m.Logger.Info("OTLP/gRPC receiver listening", "addr", m.GRPCAddr, "tls", tlsConf != nil)
	}
	m.srv = &http.Server{Handler: m.API, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10, TLSConfig: tlsConf,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	syncCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done = make(chan struct{})
	interval := m.SyncInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	record := m.RecordInterval
	if record <= 0 {
		record = 2 * time.Second
	}
	seal, grace := m.ComplianceSealInterval, m.ComplianceGrace
	if seal <= 0 {
		seal = DefaultSealInterval
	}
	switch {
	case grace == 0:
		grace = DefaultSealGrace
	case grace < 0:
		grace = 0
	}
	push := m.CompliancePushInterval
	if push <= 0 {
		push = DefaultPushInterval
	}
	// A replica restarted on the same host and address takes its sinks'
	// leases back at once.
	owner, _ := os.Hostname()
	owner += "/" + m.Addr
	var wg sync.WaitGroup
	wg.Add(7)
	go func() {
		defer wg.Done()
		m.API.RunReactionPolls(syncCtx, 15*time.Minute)
	}()
	go func() {
		defer wg.Done()
		m.API.RunAnalytics(syncCtx, time.Second)
	}()
	go func() {
		defer wg.Done()
		m.API.RunSealer(syncCtx, seal, grace)
	}()
	go func() {
		defer wg.Done()
		m.API.RunSinks(syncCtx, httpapi.SinkOptions{Every: push, MaxBackoff: m.SinkMaxBackoff, Owner: owner})
	}()
	go func() {
		defer wg.Done()
		m.API.Sync(syncCtx, interval)
	}()
	go func() {
		defer wg.Done()
		m.pruneTelemetry(syncCtx, store)
	}()
	go func() {
		defer wg.Done()
		m.API.RunRecorder(syncCtx, record)
	}()
	go func() {
		wg.Wait()
		close(m.done)
	}()
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("serve", "err", err)
		}
	}()
	m.Logger.Info("codexgov server listening", "url", m.URL, "database", store.Dialect(), "snapshot_version", m.API.Snapshot().Version)
	return nil
}

// tlsConfig loads the certificate to serve, or makes the development one.
func (m *Main) tlsConfig() (*tls.Config, error) {
	certFile, keyFile := m.TLSCert, m.TLSKey
	switch {
	case m.DevTLS && (certFile != "" || keyFile != ""):
		return nil, errors.New("--dev-tls and --tls-cert/--tls-key exclude each other")
	case (certFile == "") != (keyFile == ""):
		return nil, errors.New("--tls-cert and --tls-key go together")
	case m.DevTLS:
		f, created, err := devtls.Ensure(filepath.Join(m.DataDir, "dev-tls"), time.Now())
		if err != nil {
			return nil, fmt.Errorf("--dev-tls: %w", err)
		}
		certFile, keyFile, m.DevCA = f.Cert, f.Key, f.CA
		verb := "using"
		if created {
			verb = "created"
		}
		fmt.Fprintf(m.Out, "codexgov: --dev-tls is for development and tests only. %s a local CA; make Codex trust it with\n\n  export CODEX_CA_CERTIFICATE=%s\n\n", verb, f.CA)
	case certFile == "":
		return nil, nil
	}
	r, err := tlsreload.New(certFile, keyFile, m.Logger)
	if err != nil {
		return nil, err
	}
	m.certs = r
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: TLS12CipherSuites, GetCertificate: r.GetCertificate, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// TLS12CipherSuites are the TLS 1.2 suites served: forward-secret AEAD
// only (no CBC, no SHA-1 MAC, no RSA key exchange). TLS 1.3's suites are
// not configurable and all are AEAD.
var TLS12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// firstStart creates the server admin key (printed once, stored hashed) and
// the first signing key.
func (m *Main) firstStart(ctx context.Context, master signing.MasterKey) error {
	ctx = codexgov.WithActor(ctx, codexgov.Actor{ID: "server", RequestID: "first-start"})
	has, err := m.Store.HasServerKey(ctx)
	if err != nil {
		return err
	}
	if !has {
		secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
		if _, err := m.Store.CreateAPIKey(ctx, codexgov.APIKey{ID: id, Name: "server admin (first start)", Scopes: []codexgov.Scope{codexgov.ScopeServerAdmin}, Hash: hash}); err != nil {
			return fmt.Errorf("create the server admin key: %w", err)
		}
		fmt.Fprintf(m.Out, "codexgov: created the server admin API key. It is shown only now and stored only as a hash:\n\n    %s\n\n  export CODEXGOV_TOKEN=%s\n\n", secret, secret)
	}
	keys, err := m.Store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Active {
			return nil
		}
	}
	_, err = m.Store.AddSigningKey(ctx, signing.NewSigningKey(master, time.Now()))
	return err
}

// ReloadTLS reads the certificate files again (SIGHUP); without TLS it
// does nothing. On error the current certificate stays in service.
func (m *Main) ReloadTLS() error {
	if m.certs == nil {
		return nil
	}
	return m.certs.Reload()
}

// Close stops accepting requests, lets running ones finish (up to 15 s)
// and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.API != nil {
		m.API.Drain()
	}
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		errs = append(errs, m.srv.Shutdown(ctx))
		cancel()
	}
	if m.API != nil {
		m.API.WaitGateway() // the last model requests' records
	}
	if m.grpc != nil {
		stopped := make(chan struct{})
		go func() { m.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(15 * time.Second):
			m.grpc.Stop()
		}
	}
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// DefaultSealInterval is how often compliance files are sealed, and
// DefaultSealGrace how long after arrival a record waits: longer than any
// write transaction, so that none commits behind the sealed cursor.
const (
	DefaultSealInterval = 5 * time.Minute
	DefaultSealGrace    = time.Minute
	DefaultPushInterval = 5 * time.Second
)

// pruneTelemetry applies retention (compliance files and raw telemetry,
// per workspace and event type, except what legal holds keep) at start and
// hourly (every replica does; each removal is idempotent), and refreshes
// the database's planner statistics after each pass.
func (m *Main) pruneTelemetry(ctx context.Context, store codexgov.Store) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now
		if m.Now != nil {
			now = m.Now
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		n, err := store.ExpireRetention(pctx, now())
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			m.Logger.Warn("retention: expiry failed; retried in an hour", "err", err)
		case n.Files+n.Events+n.Partitions > 0:
			m.Logger.Info("retention: expired", "files", n.Files, "events", n.Events, "partitions", n.Partitions)
		}
		// The planner's statistics, as the tables grow (SQLite).
		if o, ok := store.(interface{ Optimize(context.Context) error }); ok {
			octx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			if err := o.Optimize(octx); err != nil && ctx.Err() == nil {
				m.Logger.Warn("database statistics: optimize failed; retried in an hour", "err", err)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
