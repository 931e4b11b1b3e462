package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/codexgov/codexgov"
)

// securityEvent stores what the server saw as a CODEX_SECURITY_LOG
// record: kind is the detail_type, dedupe what makes two occurrences the
// same one (the same credential refused on the same route within a minute
// is stored once). It returns at once: the write runs on its own, bounded;
// when too many are in flight the event is dropped and counted.
func (s *Server) securityEvent(ctx context.Context, ws, identity, credential, kind, dedupe string, details map[string]any) {
	s.securityEventAt(ctx, ws, identity, credential, kind, dedupe, time.Time{}, details)
}

// securityEventAt is securityEvent at a given time: an occurrence with the
// same dedupe key is then stored once whenever it is seen again.
func (s *Server) securityEventAt(ctx context.Context, ws, identity, credential, kind, dedupe string, at time.Time, details map[string]any) {
	if ws == "" {
		return
	}
	e := s.securityRecord(ctx, ws, identity, credential, kind, dedupe, at, details)
	select {
	case s.securityWrites <- struct{}{}:
	default:
		s.securityDropped.Inc()
		return
	}
	go func() {
		defer func() { <-s.securityWrites }()
		wctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
		defer cancel()
		if _, err := s.store.AppendTelemetry(wctx, []codexgov.TelemetryEvent{e}); err != nil {
			s.log.Warn("security event not stored", "kind", kind, "workspace", ws, "err", err)
		}
	}()
}

// securityRecord builds a security event (see securityEvent).
func (s *Server) securityRecord(ctx context.Context, ws, identity, credential, kind, dedupe string, at time.Time, details map[string]any) codexgov.TelemetryEvent {
	now := s.now().UTC()
	bucket := int64(0)
	if at.IsZero() {
		at = now.Truncate(time.Minute)
		bucket = at.Unix()
	}
	at = at.UTC().Truncate(time.Microsecond)
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%d", ws, kind, credential, dedupe, bucket)))
	data := map[string]any{"kind": kind}
	for k, v := range details {
		data[k] = v
	}
	return codexgov.TelemetryEvent{ID: "sec_" + hex.EncodeToString(sum[:12]), Workspace: ws, Identity: identity, Credential: credential, Time: at, ReceivedAt: now,
		Type: codexgov.TelemetrySecurity, Name: "codexgov.security." + kind, Data: data, Attributes: map[string]any{}, ClientIP: codexgov.RequestMetadataFrom(ctx).ClientIP}
}

// noteRefused records a 403 on the client and telemetry routes as an
// ACCESS_DENIED security event of the caller's workspace.
func (s *Server) noteRefused(c *call, err error) {
	code := codexgov.ErrorCode(err)
	if code != codexgov.EFORBIDDEN && code != codexgov.EACCESSDENIED {
		return
	}
	if c.route.Surface != SurfaceClient && c.route.Surface != SurfaceTelemetry {
		return
	}
	ws := c.p.Workspace()
	identity, credential := c.p.Identity()
	ctx := c.ctx
	if ctx == nil {
		ctx = c.r.Context()
	}
	s.securityEvent(ctx, ws, identity, credential, codexgov.SecurityAccessDenied, c.route.Method+" "+c.route.Path,
		map[string]any{"route": c.route.Method + " " + c.route.Path, "reason": codexgov.ErrorMessage(err)})
}

// RecordDrift records, for every workspace, each device whose last fetch
// is older than the devices list's threshold (72 h) as a DEVICE_DRIFTED
// security event, once per stale episode (dated when it crossed the
// threshold). Devices that never fetched are left to the devices list.
func (s *Server) RecordDrift(ctx context.Context) error {
	var errs []error
	for _, w := range s.snap.Load().Workspaces() {
		ds, err := s.devicesOf(ctx, w.ID, DefaultStaleAfter, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var evs []codexgov.TelemetryEvent
		for _, d := range ds {
			if d.State != codexgov.DeviceStale || d.LastFetch.IsZero() {
				continue
			}
			crossed := d.LastFetch.Add(DefaultStaleAfter)
			evs = append(evs, s.securityRecord(ctx, w.ID, d.Identity, d.Device, codexgov.SecurityDeviceDrifted, d.Device+"/"+d.LastFetch.UTC().Format(time.RFC3339Nano), crossed,
				map[string]any{"device": d.Device, "device_kind": d.Kind, "last_fetch": d.LastFetch.UTC().Format(time.RFC3339), "stale_after": DefaultStaleAfter.String(),
					"policy": d.Expected.Policy, "received_version": d.PolicyVersion, "expected_version": d.Expected.PolicyVersion}))
		}
		for len(evs) > 0 {
			n := min(len(evs), 1000)
			if _, err := s.store.AppendTelemetry(ctx, evs[:n]); err != nil {
				errs = append(errs, err)
				break
			}
			evs = evs[n:]
		}
	}
	return errors.Join(errs...)
}
