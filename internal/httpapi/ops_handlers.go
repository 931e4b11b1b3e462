package httpapi

// The operations surface: health, readiness, metrics, the JWKS and the
// OpenAPI document.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is the /healthz body.
type Health struct {
	Status          string `json:"status"`
	Database        string `json:"database"`
	SnapshotVersion int64  `json:"snapshot_version"`
	SnapshotBuilt   string `json:"snapshot_built"`
}

func (s *Server) health(c *call) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	db := "ok"
	if _, err := s.store.Version(ctx); err != nil {
		db = "unavailable"
	}
	snap := s.snap.Load()
	// Still 200 when the database is down: the snapshot keeps serving
	// clients, so the process is healthy and must not be restarted.
	return Health{Status: "ok", Database: db, SnapshotVersion: snap.Version, SnapshotBuilt: snap.Built.UTC().Format(time.RFC3339)}, nil
}

// ready answers 200 while the server takes traffic and 503 once it drains
// (after SIGTERM), so a load balancer stops sending before connections
// close. A database outage does not make a replica unready: it keeps
// serving clients from its snapshot, and the body says the database is
// down.
func (s *Server) ready(c *call) error {
	v, _ := s.health(c)
	h := v.(Health)
	status := http.StatusOK
	if s.draining.Load() {
		h.Status, status = "draining", http.StatusServiceUnavailable
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	return json.NewEncoder(c.w).Encode(h)
}

// Drain makes /readyz answer 503 from now on.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) metrics(c *call) error {
	if s.metricsToken != nil {
		tok, _ := bearer(c.r.Header.Get("Authorization"))
		h := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(h[:], s.metricsToken[:]) != 1 {
			return codexgov.Errorf(codexgov.EUNAUTHORIZED, "/metrics asks for the token of the server's --metrics-token-file: send Authorization: Bearer <token>")
		}
	}
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(c.w, c.r)
	return nil
}

func (s *Server) jwks(c *call) error {
	c.w.Header().Set("Content-Type", "application/jwk-set+json")
	c.w.Header().Set("Cache-Control", "public, max-age=300")
	snap := s.snap.Load()
	if sigs := snap.JWKSSignatures(); len(sigs) > 0 {
		c.w.Header().Set(signing.SignatureHeader, strings.Join(sigs, ", "))
	}
	c.w.Write(snap.JWKS())
	return nil
}

func (s *Server) openapi(c *call) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Write(OpenAPI())
	return nil
}
