package httpapi

// The compliance surface: OpenAI's Compliance API (list → 307 → download →
// cursor) over the files the sealer writes (docs/compliance.md).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/compliance"
	"github.com/codexgov/codexgov/internal/siem"
)

// complianceBase is the Compliance API's workspace path; {ws} is the
// workspace's UUID or ID.
const complianceBase = "/v1/compliance/workspaces/{ws}"

// downloadTTL is how long a signed download URL works.
const downloadTTL = time.Minute

// ComplianceLogList is the list route's body (OpenAI's shape).
type ComplianceLogList struct {
	Data    []*codexgov.ComplianceFile `json:"data"`
	HasMore bool                       `json:"has_more"`
	// LastEndTime is the last file's end_time, the next page's after;
	// null on an empty page.
	LastEndTime *string `json:"last_end_time"`
}

// ComplianceMaxEventTime is the max_event_time route's body.
type ComplianceMaxEventTime struct {
	MaxEventTime map[string]*string `json:"max_event_time"`
}

// ComplianceManifest is a file's signed manifest: the manifest's exact
// bytes (canonical JSON, as a string, since they are what is hashed and
// signed) and the detached JWS.
type ComplianceManifest struct {
	Manifest  string `json:"manifest"`
	Signature string `json:"signature"`
}

func invalidParam(name, msg string) error {
	return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter " + name, Details: []codexgov.Detail{{Field: "?" + name, Message: msg}}}
}

// eventTypes reads the required, repeatable event_type.
func eventTypes(r *http.Request) ([]string, error) {
	ts := r.URL.Query()["event_type"]
	if len(ts) == 0 {
		return nil, invalidParam("event_type", "required: one or more of CODEX_LOG, CODEX_SECURITY_LOG, AUDIT_LOG, AUTH_LOG")
	}
	for _, t := range ts {
		if !slices.Contains(codexgov.ComplianceEventTypes, t) {
			return nil, invalidParam("event_type", strconv.Quote(t)+" is not an event type; want CODEX_LOG, CODEX_SECURITY_LOG, AUDIT_LOG or AUTH_LOG")
		}
	}
	return ts, nil
}

func isoParam(r *http.Request, name string, required bool) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		if required {
			return time.Time{}, invalidParam(name, "required: an ISO 8601 time with a time zone, such as 2026-12-03T00:00:00Z")
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, invalidParam(name, "want an ISO 8601 time with a time zone, such as 2026-12-03T00:00:00Z, got "+strconv.Quote(v))
	}
	return t, nil
}

func (s *Server) complianceLogs(c *call) (any, error) {
	types, err := eventTypes(c.r)
	if err != nil {
		return nil, err
	}
	f := codexgov.ComplianceFilter{EventTypes: types, Limit: 100}
	if f.After, err = isoParam(c.r, "after", true); err != nil {
		return nil, err
	}
	if f.Before, err = isoParam(c.r, "before", false); err != nil {
		return nil, err
	}
	if v := c.r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, invalidParam("limit", "an integer from 1 to 100, got "+strconv.Quote(v))
		}
		f.Limit = n
	}
	switch v := c.r.URL.Query().Get("include_replaced"); v {
	case "", "false":
	case "true":
		f.IncludeReplaced = true
	default:
		return nil, invalidParam("include_replaced", "true or false, got "+strconv.Quote(v))
	}
	files, more, err := s.store.ComplianceFiles(c.ctx, c.ws, f)
	if err != nil {
		return nil, err
	}
	out := ComplianceLogList{Data: files, HasMore: more}
	if len(files) > 0 {
		last := compliance.Timestamp(files[len(files)-1].EndTime)
		out.LastEndTime = &last
	}
	return out, nil
}

// downloadClaim is what a signed download URL carries.
type downloadClaim struct {
	Workspace string `json:"w"`
	File      string `json:"f"`
	Expires   int64  `json:"e"`
}

// complianceLog answers 307 to the file's signed URL.
func (s *Server) complianceLog(c *call) error {
	f, err := s.store.ComplianceFile(c.ctx, c.ws, c.path("file"))
	if err != nil {
		return err
	}
	if f.ReplacedBy != "" {
		return replacedError(f)
	}
	token := s.keys.SealValue("compliance download", downloadClaim{Workspace: f.Workspace, File: f.ID, Expires: s.now().Add(downloadTTL).Unix()})
	c.w.Header().Set("Location", s.baseURL(c.r)+"/v1/compliance/download/"+token)
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusTemporaryRedirect)
	return nil
}

// complianceDownload serves a file at its signed URL, streaming its
// chunks: the server never holds a file whole.
func (s *Server) complianceDownload(c *call) error {
	var claim downloadClaim
	if err := s.keys.OpenValue("compliance download", c.path("token"), &claim); err != nil {
		return codexgov.Errorf(codexgov.ENOTFOUND, "this download URL is not valid; ask the list route for the file again")
	}
	if s.now().Unix() > claim.Expires {
		return codexgov.Errorf(codexgov.ENOTFOUND, "this download URL expired (they work for %s); ask the list route for the file again", downloadTTL)
	}
	ctx, cancel := context.WithTimeout(c.ctx, s.dbTimeout)
	f, err := s.store.ComplianceFile(ctx, claim.Workspace, claim.File)
	cancel()
	if err != nil {
		return err
	}
	if f.ReplacedBy != "" {
		return replacedError(f)
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/jsonl")
	h.Set("Content-Length", strconv.FormatInt(f.FileSize, 10))
	h.Set("Content-Disposition", `attachment; filename="`+f.FileName+`"`)
	h.Set("Codexgov-File-SHA256", f.SHA256)
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	// A file is served a chunk at a time: each read has the database
	// deadline and each write its own, so that a large file reaches a slow
	// client whole. Past the header, a failure can only cut the body
	// short, which the client's length and hash check catches.
	rc := http.NewResponseController(c.w)
	for n := 0; ; n++ {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.r.Context()), s.dbTimeout)
		data, ok, err := s.store.ComplianceChunk(ctx, f.ID, n)
		cancel()
		if err != nil {
			s.log.Warn("compliance download cut short", "file", f.ID, "err", err)
			return nil
		}
		if !ok || c.r.Context().Err() != nil {
			return nil
		}
		rc.SetWriteDeadline(time.Now().Add(downloadChunkWrite))
		if _, err := c.w.Write(data); err != nil {
			return nil
		}
	}
}

// downloadChunkWrite bounds the write of one 1 MiB chunk to a client.
const downloadChunkWrite = time.Minute

func (s *Server) complianceManifest(c *call) (any, error) {
	f, err := s.store.ComplianceFile(c.ctx, c.ws, c.path("file"))
	if err != nil {
		return nil, err
	}
	return ComplianceManifest{Manifest: string(f.Manifest), Signature: f.Signature}, nil
}

func (s *Server) complianceMaxEventTime(c *call) (any, error) {
	types, err := eventTypes(c.r)
	if err != nil {
		return nil, err
	}
	m, err := s.store.ComplianceMaxEventTimes(c.ctx, c.ws, types)
	if err != nil {
		return nil, err
	}
	out := ComplianceMaxEventTime{MaxEventTime: map[string]*string{}}
	for _, t := range types {
		out.MaxEventTime[t] = nil
		if at, ok := m[t]; ok {
			v := compliance.Timestamp(at)
			out.MaxEventTime[t] = &v
		}
	}
	return out, nil
}

// SealCompliance seals, for every workspace and event type, what arrived
// by now − grace into files. Replicas may run it at once: a file sealed
// by another first is skipped.
func (s *Server) SealCompliance(ctx context.Context, grace time.Duration) (int, error) {
	snap := s.snap.Load()
	sealer := &compliance.Sealer{Store: s.store, Sign: snap.Sign, Grace: grace, MaxEvents: 50000}
	total := 0
	var errs []error
	for _, w := range snap.Workspaces() {
		for _, t := range codexgov.ComplianceEventTypes {
			n, err := sealer.Seal(ctx, w.ID, w.UUID, t, s.now())
			total += n
			if err != nil && codexgov.ErrorCode(err) != codexgov.ECONFLICT {
				errs = append(errs, err)
			}
		}
	}
	return total, errors.Join(errs...)
}

// RunSealer seals every interval until ctx ends.
// It also records drifted devices (RecordDrift) once an hour by the API's
// clock, just before a seal.
func (s *Server) RunSealer(ctx context.Context, every, grace time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var drifted time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := s.now(); now.Sub(drifted) >= time.Hour {
			drifted = now
			if err := s.RecordDrift(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("compliance: recording drifted devices failed; retried in an hour", "err", err)
			}
		}
		if n, err := s.SealCompliance(ctx, grace); err != nil && ctx.Err() == nil {
			s.log.Warn("compliance: sealing failed; retried at the next interval", "err", err)
		} else if n > 0 {
			s.log.Debug("compliance: sealed", "files", n)
		}
	}
}

func (s *Server) codexTasks(c *call) (any, error) {
	limit := 30
	if v := c.r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 30 {
			return nil, invalidParam("limit", "an integer from 1 to 30, got "+strconv.Quote(v))
		}
		limit = n
	}
	return s.store.CodexTasks(c.ctx, c.ws, limit, c.r.URL.Query().Get("cursor"))
}

func (s *Server) codexTask(c *call) (any, error) {
	return s.store.CodexTask(c.ctx, c.ws, c.path("task"))
}

func replacedError(f *codexgov.ComplianceFile) error {
	return codexgov.Errorf(codexgov.ENOTFOUND, "log file %s was replaced by %s after a deletion: its records are gone; its manifest stays in the chain", f.ID, f.ReplacedBy)
}

func (s *Server) deleteCodexTask(c *call) (any, error) {
	t, err := s.store.CodexTask(c.ctx, c.ws, c.path("task"))
	if err != nil {
		return nil, err
	}
	owner, _ := strings.CutPrefix(t.Identity, "user:")
	if owner == t.Identity {
		owner = ""
	}
	return s.erase(c, codexgov.Erasure{Session: t.ID, Owner: owner})
}

func (s *Server) eraseUser(c *call) (any, error) {
	email := strings.ToLower(c.path("user"))
	if !strings.Contains(email, "@") {
		return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid user", Details: []codexgov.Detail{{Field: "/user", Message: "want the person's email address, got " + strconv.Quote(c.path("user"))}}}
	}
	return s.erase(c, codexgov.Erasure{User: email, Owner: email})
}

// erase runs an erasure with a deadline of its own: it reads and rewrites
// every file that holds the records.
func (s *Server) erase(c *call, e codexgov.Erasure) (any, error) {
	w, ok := s.snap.Load().WorkspaceByRef(c.ws)
	if !ok {
		return nil, codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", c.ws)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*s.dbTimeout)
	defer cancel()
	return compliance.Erase(ctx, s.store, s.snap.Load().Sign, w.ID, w.UUID, e, s.now())
}

func sinkAAD(ws, name string) string { return "sink:" + ws + "/" + name }

// SinkOptions tune the pusher.
type SinkOptions struct {
	Every        time.Duration
	BatchRecords int
	MaxBackoff   time.Duration
	// Owner names this replica for the sinks' leases.
	Owner string
}

// RunSinks delivers to every sink every interval until ctx ends.
func (s *Server) RunSinks(ctx context.Context, o SinkOptions) {
	p := &siem.Pusher{Store: s.store, Owner: o.Owner, Now: s.now, Log: s.log, BatchRecords: o.BatchRecords, BatchBytes: 4 << 20, MaxBackoff: o.MaxBackoff,
		Open: func(k *codexgov.ComplianceSink) (string, error) {
			return s.keys.OpenSecret(sinkAAD(k.Workspace, k.Name), k.SecretEnc)
		},
		WorkspaceUUID: func(ws string) string {
			if w, ok := s.snap.Load().WorkspaceByRef(ws); ok {
				return w.UUID
			}
			return ws
		}}
	if p.BatchRecords <= 0 {
		p.BatchRecords = 500
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Minute
	}
	defer p.Close()
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		n, err := p.Round(rctx)
		cancel()
		if err != nil && ctx.Err() == nil && !siem.IsRetrying(err) {
			s.log.Warn("compliance sinks: a round failed; retried at the next interval", "err", err)
		} else if n > 0 {
			s.log.Debug("compliance sinks: delivered", "records", n)
		}
	}
}
