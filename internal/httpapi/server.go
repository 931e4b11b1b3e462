// Package httpapi is the control plane's HTTP surface: the one route table
// (routes.go), authentication and authorization of every route, one error
// shape, client distribution from the in-memory policy snapshot, the
// OpenAPI document generated from the route table, and Prometheus metrics
// labelled by route pattern.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/codex/execpolicy"
	"github.com/codexgov/codexgov/internal/buildinfo"
	"github.com/codexgov/codexgov/internal/configserver"
	"github.com/codexgov/codexgov/internal/gateway"
	"github.com/codexgov/codexgov/internal/policy"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/telemetry"
	"github.com/codexgov/codexgov/internal/web"
)

// DefaultMaxBodyBytes bounds request bodies: two policy documents at their
// limit plus JSON overhead.
const DefaultMaxBodyBytes = 2*policy.MaxDocumentBytes + 64<<10

// Server serves the API from a Store and the snapshot compiled from it.
type Server struct {
	limits    limiters
	dbTimeout time.Duration
	// metricsToken is the SHA-256 of the token /metrics asks for (nil:
	// open).
	metricsToken *[32]byte
	draining     atomic.Bool
	usedMu       sync.Mutex
	used         map[string]time.Time // credential ID -> last use, not yet written
	store        codexgov.Store
	master       signing.MasterKey
	log          *slog.Logger
	maxBodyBytes int64
	now          func() time.Time
	publicURL    string
	telemetryURL string
	deviceEvery  time.Duration

	// rp signs people in through workspaces' identity providers.
	rp codexgov.SingleSignOn

	// The native configuration server.
	keys        *configserver.Keys
	recorder    *configserver.Recorder
	clientID    string
	accessTTL   time.Duration
	refreshIdle time.Duration

	snap      atomic.Pointer[snapshot.Snapshot]
	rebuildMu sync.Mutex

	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	rebuilds *prometheus.CounterVec
	// rebuildKinds counts successful rebuilds: full, or of the changed
	// workspaces only.
	rebuildKinds *prometheus.CounterVec
	// telemetryRejected counts OTLP requests refused before reading them.
	telemetryRejected *prometheus.CounterVec
	// telemetrySecurity counts the security events telemetry shows.
	telemetrySecurity *prometheus.CounterVec
	// ingest bounds the OTLP requests read and stored at once.
	ingest chan struct{}
	// securityWrites bounds the security events being stored at once;
	// past it they are counted and dropped (a flood of refusals must not
	// become a flood of writes).
	// github reads reactions from GitHub's REST API.
	github          *http.Client
	securityWrites  chan struct{}
	securityDropped prometheus.Counter
	// redactors are the workspaces' compiled redactors, by setting.
	redactors sync.Map
	// gw relays the model gateway's requests.
	gw *gateway.Handler
	// execPolicies are composed exec policies by requirements hash (nil
	// for a document without rules), for bypass detection.
	execPolicies *lru.Cache[string, *execpolicy.Policy]
	version      prometheus.Gauge
	built        prometheus.Gauge

	mux *http.ServeMux
	// counters caches the request counter of each method, route and
	// status, so that counting costs no label hashing per request.
	counters sync.Map // metricKey -> prometheus.Counter
	timers   sync.Map // metricKey{code: 0} -> prometheus.Observer
}

type metricKey struct {
	method, route string
	code          int
}

// Options configure a Server.
type Options struct {
	// GatewayTransport reaches the model gateway's upstreams (HTTP/2 when
	// they offer it, when nil).
	GatewayTransport http.RoundTripper
	Logger           *slog.Logger
	MaxBodyBytes     int64
	Now              func() time.Time
	// AccessTTL is the configuration server's access-token lifetime
	// (configserver.DefaultAccessTTL when 0); RefreshIdle how long an
	// unused sign-in lives (configserver.DefaultRefreshIdle when 0).
	AccessTTL   time.Duration
	RefreshIdle time.Duration
	// ClientID is the OAuth client Codex is configured with
	// (configserver.DefaultClientID when empty).
	ClientID string
	// MaxPendingDeliveries bounds the fetch records held between flushes.
	MaxPendingDeliveries int
	// PublicURL is the server's external base URL ("https://codexgov.example.com"):
	// SCIM locations and the OIDC redirect URI are built from it. Empty:
	// from each request's scheme and Host.
	PublicURL string
	// TelemetryURL is the receiver's base URL in the [otel] block
	// delivered while a workspace's telemetry is on (PublicURL when
	// empty).
	TelemetryURL string
	// DeviceInterval is the device login's polling interval (5 s when 0).
	DeviceInterval time.Duration
	// SSO signs people in through workspaces' identity providers
	// (internal/oidc); nil turns single sign-on off.
	SSO codexgov.SingleSignOn
	// MetricsToken, when set, is the bearer token /metrics asks for.
	MetricsToken string
	// Limits are the request rate limits (DefaultLimits when nil).
	Limits *Limits
	// DBTimeout bounds every request's work, its database calls included,
	// and each background database call (DefaultDBTimeout when 0): a
	// database that does not answer gives 503 within it, not a hang.
	DBTimeout time.Duration
}

// DefaultDBTimeout is how long a request waits for the database.
const DefaultDBTimeout = 5 * time.Second

// ssoGrace is added to DBTimeout for single sign-on, which also waits for
// the identity provider.
const ssoGrace = 20 * time.Second

// New builds a server and compiles its first snapshot; it fails if the
// store cannot be read.
func New(ctx context.Context, store codexgov.Store, master signing.MasterKey, o Options) (*Server, error) {
	s := &Server{store: store, master: master, log: o.Logger, maxBodyBytes: o.MaxBodyBytes, now: o.Now, publicURL: strings.TrimRight(o.PublicURL, "/")}
	if o.TelemetryURL == "" {
		o.TelemetryURL = s.publicURL
	}
	s.telemetryURL = strings.TrimRight(o.TelemetryURL, "/")
	s.execPolicies, _ = lru.New[string, *execpolicy.Policy](256)
	if o.MetricsToken != "" {
		h := sha256.Sum256([]byte(o.MetricsToken))
		s.metricsToken = &h
	}
	lim := DefaultLimits
	if o.Limits != nil {
		lim = *o.Limits
	}
	s.limits = newLimiters(lim)
	s.dbTimeout = o.DBTimeout
	if s.dbTimeout <= 0 {
		s.dbTimeout = DefaultDBTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBodyBytes <= 0 {
		s.maxBodyBytes = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keys, s.clientID, s.accessTTL, s.refreshIdle = configserver.NewKeys(master), o.ClientID, o.AccessTTL, o.RefreshIdle
	s.gw = s.newGateway(o.GatewayTransport)
	if s.clientID == "" {
		s.clientID = configserver.DefaultClientID
	}
	if s.accessTTL == 0 {
		s.accessTTL = configserver.DefaultAccessTTL
	}
	if s.accessTTL < configserver.MinAccessTTL || s.accessTTL > codexgov.MaxOAuthAccessTTL {
		return nil, fmt.Errorf("the access-token lifetime %s is outside %s to %s: Codex refreshes 30 s before expiry, and revocation is remembered for %s", s.accessTTL, configserver.MinAccessTTL, codexgov.MaxOAuthAccessTTL, codexgov.MaxOAuthAccessTTL)
	}
	if s.refreshIdle == 0 {
		s.refreshIdle = configserver.DefaultRefreshIdle
	}
	s.rp = o.SSO
	s.deviceEvery = o.DeviceInterval
	if s.deviceEvery <= 0 {
		s.deviceEvery = DeviceInterval
	}
	s.recorder = configserver.NewRecorder(store, o.MaxPendingDeliveries)
	s.registry = prometheus.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexgov_http_requests_total", Help: "HTTP requests by method, route pattern and status code."}, []string{"method", "route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codexgov_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"method", "route"})
	s.rebuilds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexgov_snapshot_rebuilds_total", Help: "Policy snapshot rebuilds by result."}, []string{"result"})
	s.rebuildKinds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexgov_snapshot_rebuild_kinds_total", Help: "Successful snapshot rebuilds: full, or of the changed workspaces only."}, []string{"kind"})
	s.telemetryRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexgov_telemetry_rejected_total", Help: "OTLP requests refused before they were read, by reason (unauthorized: no or a bad credential)."}, []string{"reason"})
	s.telemetrySecurity = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexgov_telemetry_security_events_total", Help: "Security events found in telemetry: bypass (a command a rule would have caught, run unsplit), claim_mismatch (a payload naming another user)."}, []string{"kind"})
	s.ingest = make(chan struct{}, maxIngest)
	s.securityWrites = make(chan struct{}, 4)
	s.github = &http.Client{Timeout: 30 * time.Second}
	s.securityDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "codexgov_security_events_dropped_total", Help: "Server-observed security events (access refused, revoked credential used) not stored because too many were being written."})
	s.version = prometheus.NewGauge(prometheus.GaugeOpts{Name: "codexgov_snapshot_version", Help: "State version the served snapshot was compiled from."})
	s.built = prometheus.NewGauge(prometheus.GaugeOpts{Name: "codexgov_snapshot_built_timestamp_seconds", Help: "When the served snapshot was compiled."})
	bi := buildinfo.Read()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "codexgov_build_info", Help: "Always 1; the labels say which codexgov is serving.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion}})
	buildInfo.Set(1)
	s.registry.MustRegister(buildInfo, s.requests, s.duration, s.rebuilds, s.rebuildKinds, s.telemetryRejected, s.telemetrySecurity, s.securityDropped, s.version, s.built, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codexgov_delivery_records_dropped_total", Help: "Bundle fetches not recorded because the record buffer was full."}, func() float64 { return float64(s.recorder.Dropped.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codexgov_delivery_flushes_total", Help: "Writes of buffered bundle fetch records."}, func() float64 { return float64(s.recorder.Flushes.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codexgov_delivery_flush_errors_total", Help: "Failed writes of buffered bundle fetch records (retried)."}, func() float64 { return float64(s.recorder.FlushErrors.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "codexgov_delivery_records_pending", Help: "Devices whose last fetch is not written yet."}, func() float64 { return float64(s.recorder.Pending()) }))
	if err := s.Rebuild(ctx); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	for _, rt := range Routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.handler(rt))
	}
	s.mux.Handle("/", s.handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return codexgov.Errorf(codexgov.ENOTFOUND, "no route for %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path)
	}))
	return s, nil
}

// RunRecorder writes bundle fetch records every interval until ctx ends,
// then flushes what is left.
func (s *Server) RunRecorder(ctx context.Context, interval time.Duration) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
				s.FlushCredentialUse(fctx)
				cancel()
				return
			case <-t.C:
				fctx, cancel := context.WithTimeout(ctx, s.dbTimeout)
				err := s.FlushCredentialUse(fctx)
				cancel()
				if err != nil {
					s.log.Warn("writing credential last-use times failed; retried", "err", err)
				}
			}
		}
	}()
	failing := false
	s.recorder.Run(ctx, interval, func(err error) {
		if !failing {
			s.log.Warn("writing bundle fetch records failed; they are kept and retried", "err", err)
		}
		failing = true
	})
}

// noteUse remembers that a credential was used now; FlushCredentialUse
// writes the times in one transaction, so a busy key costs no write per
// request.
func (s *Server) noteUse(id string) {
	s.usedMu.Lock()
	if s.used == nil {
		s.used = map[string]time.Time{}
	}
	s.used[id] = s.now()
	s.usedMu.Unlock()
}

// FlushCredentialUse writes the pending last-use times now; on error they
// are kept for the next flush.
func (s *Server) FlushCredentialUse(ctx context.Context) error {
	s.usedMu.Lock()
	used := s.used
	s.used = nil
	s.usedMu.Unlock()
	if err := s.store.RecordCredentialUse(ctx, used); err != nil {
		s.usedMu.Lock()
		for id, at := range used {
			if cur, ok := s.used[id]; !ok || cur.Before(at) {
				if s.used == nil {
					s.used = map[string]time.Time{}
				}
				s.used[id] = at
			}
		}
		s.usedMu.Unlock()
		return err
	}
	return nil
}

// FlushDeliveries writes pending bundle fetch records now.
func (s *Server) FlushDeliveries(ctx context.Context) error { return s.recorder.Flush(ctx) }

// Snapshot is the snapshot being served.
func (s *Server) Snapshot() *snapshot.Snapshot { return s.snap.Load() }

// Rebuild compiles a new snapshot from the store and serves it, unless a
// newer one is already served. On error the old snapshot keeps serving.
func (s *Server) Rebuild(ctx context.Context) error {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	// The version first: one row, and nothing else is read unless the
	// state really changed.
	v, err := s.store.Version(ctx)
	if err != nil {
		s.rebuilds.WithLabelValues("error").Inc()
		return err
	}
	cur := s.snap.Load()
	if cur != nil && cur.Version == v {
		return nil
	}
	if cur != nil {
		if next, ok, err := s.rebuildChanged(ctx, cur, v); err != nil {
			s.rebuilds.WithLabelValues("error").Inc()
			return err
		} else if ok {
			s.publish(next, "workspace")
			return nil
		}
	}
	st, err := s.store.State(ctx)
	if err != nil {
		s.rebuilds.WithLabelValues("error").Inc()
		return err
	}
	if cur := s.snap.Load(); cur != nil && cur.Version == st.Version {
		return nil
	}
	signer, err := signing.NewSigner(s.master, st.SigningKeys)
	if err != nil {
		s.rebuilds.WithLabelValues("error").Inc()
		return err
	}
	snap, err := snapshot.Compile(st, signer, s.now())
	if err != nil {
		s.rebuilds.WithLabelValues("error").Inc()
		return err
	}
	s.publish(snap, "full")
	return nil
}

// rebuildChanged recompiles only the workspaces changed since cur, when
// the change log says which and no server-level change (a signing key)
// is among them; ok is false when a full rebuild is needed.
func (s *Server) rebuildChanged(ctx context.Context, cur *snapshot.Snapshot, v int64) (*snapshot.Snapshot, bool, error) {
	wss, complete, err := s.store.ChangesSince(ctx, cur.Version)
	if err != nil || !complete || slices.Contains(wss, "") || len(wss) > maxIncremental {
		return nil, false, err
	}
	next := cur
	for _, ws := range wss {
		st, err := s.store.WorkspaceState(ctx, ws)
		if err != nil {
			return nil, false, err
		}
		if next, err = next.Update(ws, st, v, s.now()); err != nil {
			return nil, false, err
		}
	}
	return next, true, nil
}

// maxIncremental is how many changed workspaces are recompiled one by
// one before a full rebuild is cheaper.
const maxIncremental = 64

// publish serves snap and records the rebuild.
func (s *Server) publish(snap *snapshot.Snapshot, kind string) {
	if s.telemetryURL != "" {
		claims := func(w snapshot.TelemetrySender) telemetry.TokenClaims {
			return telemetry.TokenClaims{Workspace: w.Workspace, Identity: w.Identity, Credential: w.Credential, Device: w.Device}
		}
		e := &snapshot.Export{URL: s.telemetryURL, Mint: func(w snapshot.TelemetrySender) string { return telemetry.MintToken(s.keys.TelemetryMAC, claims(w)) }}
		// The gateway, as machines reach this server (the telemetry URL).
		e.GatewayURL = s.telemetryURL + "/gateway/v1"
		e.MintGateway = func(w snapshot.TelemetrySender) string {
			return telemetry.MintTokenAs(codexgov.GatewayTokenPrefix, s.keys.GatewayMAC, claims(w))
		}
		snap.WithExport(e)
	}
	s.snap.Store(snap)
	s.rebuilds.WithLabelValues("ok").Inc()
	s.rebuildKinds.WithLabelValues(kind).Inc()
	s.version.Set(float64(snap.Version))
	s.built.Set(float64(snap.Built.UnixNano()) / 1e9)
}

// Sync polls the store's state version every interval and rebuilds when it
// moved, so that replicas on one database converge within an interval. It
// returns when ctx ends. A database that is down leaves the current
// snapshot serving.
func (s *Server) Sync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Each poll has a deadline: a database behind a partition does not
		// hold the loop (the snapshot keeps serving meanwhile).
		pctx, cancel := context.WithTimeout(ctx, 6*s.dbTimeout)
		v, err := s.store.Version(pctx)
		if err == nil && v != s.snap.Load().Version {
			err = s.Rebuild(pctx)
		}
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.Warn("policy sync failed; serving the last snapshot", "version", s.snap.Load().Version, "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("policy sync recovered", "version", s.snap.Load().Version)
			failing = false
		}
	}
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	logged := s.log.Enabled(r.Context(), slog.LevelInfo)
	var al *accessEntry
	if logged {
		al = &accessEntry{}
		r = r.WithContext(context.WithValue(r.Context(), accessKey{}, al))
	}
	if r.TLS != nil {
		sw.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(sw, r)
	elapsed := time.Since(start)
	route := r.Pattern
	if route == "" || route == "/" {
		route = "unmatched"
	} else if i := strings.IndexByte(route, ' '); i >= 0 {
		route = route[i+1:]
	}
	if logged {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.code), slog.Duration("duration", elapsed), slog.String("request_id", sw.Header().Get("X-Request-Id")),
			slog.String("actor", al.actor))
	}
	k := metricKey{r.Method, route, sw.code}
	c, ok := s.counters.Load(k)
	if !ok {
		c, _ = s.counters.LoadOrStore(k, s.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.code)))
	}
	c.(prometheus.Counter).Inc()
	k.code = 0
	o, ok := s.timers.Load(k)
	if !ok {
		o, _ = s.timers.LoadOrStore(k, s.duration.WithLabelValues(r.Method, route))
	}
	o.(prometheus.Observer).Observe(elapsed.Seconds())
}

// accessEntry collects what the access log line says beyond the request:
// the authenticated actor.
type accessEntry struct{ actor string }

type accessKey struct{}

// noteActor names the request's actor in its access log line.
func noteActor(ctx context.Context, actor string) {
	if al, ok := ctx.Value(accessKey{}).(*accessEntry); ok {
		al.actor = actor
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestIDPrefix makes this process's request IDs unique among replicas;
// a counter makes them unique within it without a random read per request.
var (
	requestIDPrefix = func() string {
		var b [6]byte
		rand.Read(b[:])
		return "req_" + hex.EncodeToString(b[:]) + "_"
	}()
	requestSeq atomic.Uint64
)

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && requestIDRE.MatchString(id) {
		return id
	}
	return requestIDPrefix + strconv.FormatUint(requestSeq.Add(1), 10)
}

func (s *Server) handlerFunc(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.handlerFuncWith(s.writeError, fn)
}

// handlerFuncWith is handlerFunc with another error writer.
func (s *Server) handlerFuncWith(write func(http.ResponseWriter, *http.Request, string, error), fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header()["X-Request-Id"] = []string{id}
		if err := fn(w, r); err != nil {
			write(w, r, id, err)
		}
	})
}

// statusOf maps error codes to HTTP statuses: the one place it happens.
var statusOf = map[string]int{
	codexgov.EINVALID:      http.StatusBadRequest,
	codexgov.ENOTFOUND:     http.StatusNotFound,
	codexgov.ECONFLICT:     http.StatusConflict,
	codexgov.EUNAUTHORIZED: http.StatusUnauthorized,
	codexgov.EFORBIDDEN:    http.StatusForbidden,
	codexgov.EACCESSDENIED: http.StatusForbidden,
	codexgov.EINVALIDGRANT: http.StatusBadRequest,
	codexgov.EUNAVAILABLE:  http.StatusServiceUnavailable,
	codexgov.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	codexgov.ETOOMANY:      http.StatusTooManyRequests,
	codexgov.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorBody is the one error shape of every route.
type ErrorBody struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Details   []codexgov.Detail `json:"details,omitempty"`
	RequestID string            `json:"request_id"`
}

// failure is what every error writer starts with: a client that went
// away is recorded as 499 (gone, nothing more to write); past the request's
// deadline the error becomes 503; then the error's code and HTTP status.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, id string, err error) (f failed, gone bool) {
	if s.clientGone(w, r, id, err) {
		return failed{err: err}, true
	}
	f.err = s.pastDeadline(r, err)
	f.code = codexgov.ErrorCode(f.err)
	status, ok := statusOf[f.code]
	if !ok {
		status = http.StatusInternalServerError
	}
	f.status = status
	return f, false
}

// failed is an error with its code and HTTP status.
type failed struct {
	err    error
	code   string
	status int
}

// pastDeadline turns a failure after the request's deadline into 503: the
// database did not answer in time.
func (s *Server) pastDeadline(r *http.Request, err error) error {
	if !errors.Is(r.Context().Err(), context.DeadlineExceeded) || codexgov.ErrorCode(err) == codexgov.EUNAVAILABLE {
		return err
	}
	if status, ok := statusOf[codexgov.ErrorCode(err)]; ok && status < 500 {
		return err
	}
	return &codexgov.Error{Code: codexgov.EUNAVAILABLE, Message: fmt.Sprintf("the database did not answer within %s; nothing was changed, try again", s.dbTimeout), Err: err}
}

// StatusClientClosedRequest is recorded for a request whose client went
// away before it was answered (nginx's 499): not a server error.
const StatusClientClosedRequest = 499

// clientGone reports whether a request failed because its client
// disconnected (its context ended, and the error is that or one a server
// error would otherwise report); it logs that at debug level and records
// 499 for the access log and the metrics.
func (s *Server) clientGone(w http.ResponseWriter, r *http.Request, id string, err error) bool {
	if !errors.Is(r.Context().Err(), context.Canceled) {
		return false // running, or past its deadline (503, below)
	}
	if _, known := statusOf[codexgov.ErrorCode(err)]; known && !errors.Is(err, context.Canceled) && statusOf[codexgov.ErrorCode(err)] < 500 {
		return false
	}
	s.log.Debug("client closed the request", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	w.WriteHeader(StatusClientClosedRequest)
	return true
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, id string, err error) {
	f, gone := s.failure(w, r, id, err)
	if gone {
		return
	}
	err, status := f.err, f.status
	code := f.code
	body := ErrorBody{Code: code, Message: codexgov.ErrorMessage(err), RequestID: id}
	var e *codexgov.Error
	if errors.As(err, &e) {
		body.Details = e.Details
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codexgov"`)
	}
	writeJSON(w, status, body)
}

// writePageError answers a page route's error with an HTML page.
func (s *Server) writePageError(w http.ResponseWriter, r *http.Request, id string, err error) {
	f, gone := s.failure(w, r, id, err)
	if gone {
		return
	}
	err, status := f.err, f.status
	msg := codexgov.ErrorMessage(err)
	var e *codexgov.Error
	if errors.As(err, &e) {
		for _, d := range e.Details {
			msg += " (" + d.Field + ": " + d.Message + ")"
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
		msg = "Something went wrong on the server (request " + id + "). Try again, or give your administrator the request id."
	}
	web.RenderPage(w, status, web.Page{Title: http.StatusText(status), Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads a JSON body strictly into v; errors name the JSON pointer.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return s.decodeBody(w, r, v, true)
}

// decodeBody decodes a JSON body; strict refuses unknown fields, which
// admin routes do. Agent reports are not strict, so that a newer agent
// still reports to an older server.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes))
	if err == nil {
		// encoding/json would replace invalid UTF-8 with U+FFFD: refuse it.
		if i := invalidUTF8At(body); i >= 0 {
			return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid request body",
				Details: []codexgov.Detail{{Field: ptrOrRoot(pointerAt(body, i)), Message: fmt.Sprintf("not valid UTF-8 at byte %d", i)}}}
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if strict {
			dec.DisallowUnknownFields()
		}
		err = dec.Decode(v)
		if err == nil && dec.More() {
			err = errors.New("trailing data after the JSON value")
		}
		if err == nil {
			return checkDecoded(v)
		}
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	detail := codexgov.Detail{Field: "", Message: err.Error()}
	switch {
	case errors.As(err, &mbe):
		return codexgov.Errorf(codexgov.ETOOLARGE, "request body over the %d-byte limit", mbe.Limit)
	case errors.As(err, &ute):
		detail = codexgov.Detail{Field: "/" + strings.ReplaceAll(ute.Field, ".", "/"), Message: fmt.Sprintf("want a JSON %s, got %s", jsonKind(ute.Type.Kind().String()), ute.Value)}
	case errors.As(err, &se):
		detail.Message = fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		detail = codexgov.Detail{Field: "/" + f, Message: fmt.Sprintf("unknown field %q", f)}
	case errors.Is(err, io.EOF):
		detail.Message = "the request needs a JSON body"
	}
	return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid request body", Details: []codexgov.Detail{detail}}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}
