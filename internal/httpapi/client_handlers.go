package httpapi

// The client documents surface: what a machine fetches and reports with
// an access token, an enrollment token or a codexgov login.

import (
	"net/http"
	"strings"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/snapshot"
)

func (s *Server) clientRequirements(c *call) error { return s.clientDocument(c, snapshot.Requirements) }

func (s *Server) clientDefaults(c *call) error { return s.clientDocument(c, snapshot.Defaults) }

// clientDocument serves from the snapshot only: no database query.
func (s *Server) clientDocument(c *call, kind snapshot.Kind) error {
	snap := s.snap.Load()
	doc, err := snap.ClientDocument(c.p, kind)
	if err != nil {
		return err
	}
	if kind == snapshot.Requirements {
		if doc, err = snap.Decorate(doc, telemetrySender(c.p)); err != nil {
			return err
		}
	}
	h := c.w.Header()
	// The slices are shared and never modified: net/http only reads them.
	for k, v := range doc.Header {
		h[k] = v
	}
	if inm := c.r.Header["If-None-Match"]; len(inm) > 0 && etagMatch(inm[0], doc.ETag) {
		delete(h, "Content-Type")
		delete(h, "Content-Length")
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	c.w.Write(doc.Body)
	return nil
}

// etagMatch is If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// ClientAccess is the /client/access body.
type ClientAccess struct {
	Workspace   string                                 `json:"workspace"`
	User        string                                 `json:"user"`
	Permissions []codexgov.Permission                  `json:"permissions"`
	Access      map[codexgov.Surface]codexgov.Decision `json:"access"`
}

func (s *Server) clientAccess(c *call) (any, error) {
	identity, _ := c.p.Identity()
	email, ok := strings.CutPrefix(identity, "user:")
	if !ok {
		return nil, codexgov.Errorf(codexgov.EFORBIDDEN, "a service identity has no per-surface access; its policy is at /api/v1/client/requirements")
	}
	ws := c.p.Workspace()
	acc, perms, ok := s.snap.Load().Access(ws, email)
	if !ok {
		return nil, codexgov.Errorf(codexgov.EACCESSDENIED, codexgov.AccessDeniedMessage)
	}
	return ClientAccess{Workspace: ws, User: email, Permissions: perms, Access: acc}, nil
}

// syncReport records a codexgov sync run. The identity is the
// credential's; the machine says only what it is and what it holds.
func (s *Server) syncReport(c *call) (any, error) {
	var r codexgov.SyncReport
	if err := s.decodeBody(c.w, c.r, &r, false); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	// A failure's message is kept, shortened: a report is never refused
	// for the length of the error it carries.
	if len(r.Error) > 1000 {
		r.Error = strings.ToValidUTF8(r.Error[:1000], "") + "…"
	}
	identity, credential := c.p.Identity()
	now := s.now()
	m := codexgov.SyncMachine{Workspace: c.p.Workspace(), Identity: identity, Credential: credential, SyncReport: r, LastReport: now}
	switch r.Result {
	case codexgov.SyncApplied, codexgov.SyncUnchanged, codexgov.SyncRepaired:
		m.LastApplied = now
	}
	return nil, s.store.RecordSyncReport(c.ctx, m)
}

// telemetrySender is who a client principal's telemetry token is minted
// for: its own credential, and its machine when it has one.
func telemetrySender(p snapshot.Principal) snapshot.TelemetrySender {
	identity, credential := p.Identity()
	who := snapshot.TelemetrySender{Workspace: p.Workspace(), Identity: identity, Credential: credential}
	if p.Enrollment != nil {
		who.Device = p.Enrollment.Name
	}
	return who
}
