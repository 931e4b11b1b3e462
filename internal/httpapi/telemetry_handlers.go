package httpapi

// The telemetry surface: the OTLP/HTTP receiver Codex exports its logs,
// metrics and traces to (docs/telemetry.md).

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/codex/execpolicy"
	"github.com/codexgov/codexgov/internal/snapshot"
	"github.com/codexgov/codexgov/internal/telemetry"
)

// MaxOTLPBytes bounds an OTLP request body, compressed and decompressed
// (one Codex exec turn sends traces of about 1.2 MB in JSON).
const MaxOTLPBytes = 16 << 20

// maxIngest is how many OTLP requests are read and stored at once; more
// are asked to retry (429 with Retry-After, as OTLP specifies).
const maxIngest = 16

// otlpJSON reports whether the request is OTLP/JSON (else protobuf), or
// an error for another media type.
func otlpJSON(r *http.Request) (bool, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mt == "application/json":
		return true, nil
	case err == nil && mt == "application/x-protobuf":
		return false, nil
	}
	return false, &codexgov.Error{Code: codexgov.EINVALID, Message: "OTLP/HTTP takes Content-Type application/x-protobuf or application/json"}
}

// otlpBody reads the request body, gunzipped when Content-Encoding says so,
// within MaxOTLPBytes both ways.
func otlpBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, MaxOTLPBytes)
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, codexgov.Errorf(codexgov.EINVALID, "the gzip body does not open: %v", err)
		}
		rd = gz
	default:
		return nil, codexgov.Errorf(codexgov.EINVALID, "Content-Encoding %q: this receiver takes gzip or none", r.Header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(io.LimitReader(rd, MaxOTLPBytes+1))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) || len(b) > MaxOTLPBytes {
		return nil, codexgov.Errorf(codexgov.ETOOLARGE, "the OTLP body is over %d bytes", MaxOTLPBytes)
	}
	if err != nil {
		return nil, codexgov.Errorf(codexgov.EINVALID, "the body could not be read: %v", err)
	}
	return b, nil
}

// takeIngest takes one of the maxIngest slots, if one is free, for
// either transport; release gives it back.
func (s *Server) takeIngest() (release func(), ok bool) {
	select {
	case s.ingest <- struct{}{}:
		return func() { <-s.ingest }, true
	default:
		return nil, false
	}
}

// ingestSlot takes an ingest slot, or asks the sender to retry.
func (s *Server) ingestSlot(w http.ResponseWriter) (func(), error) {
	if release, ok := s.takeIngest(); ok {
		return release, nil
	}
	return nil, tooMany(w, 1e9, "the telemetry receiver is busy")
}

// senderOf is who sent a batch, from the credential alone.
func senderOf(p snapshot.Principal) telemetry.Sender {
	identity, credential := p.Identity()
	sd := telemetry.Sender{Workspace: p.Workspace(), Identity: identity, Credential: credential}
	if p.Enrollment != nil {
		sd.Device = p.Enrollment.Name
	}
	if p.Telemetry != nil {
		sd.Device = p.Telemetry.Device
	}
	return sd
}

// otlpRead takes an ingest slot and reads an OTLP request: its body and
// whether it is JSON. release gives the slot back.
func (s *Server) otlpRead(c *call) (body []byte, isJSON bool, release func(), err error) {
	if isJSON, err = otlpJSON(c.r); err != nil {
		return nil, false, nil, err
	}
	if release, err = s.ingestSlot(c.w); err != nil {
		return nil, false, nil, err
	}
	if body, err = otlpBody(c.w, c.r); err != nil {
		release()
		return nil, false, nil, err
	}
	return body, isJSON, release, nil
}

func (s *Server) otlpLogs(c *call) error {
	body, isJSON, release, err := s.otlpRead(c)
	if err != nil {
		return err
	}
	defer release()
	req := plogotlp.NewExportRequest()
	if isJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return codexgov.Errorf(codexgov.EINVALID, "not an OTLP logs export request: %v", err)
	}
	resp, err := s.ingestLogs(c.ctx, c.p, req)
	if err != nil {
		return err
	}
	return s.otlpOK(c, resp, isJSON)
}

// ingestLogs normalises, checks and stores one logs export from a client
// principal, whatever the transport, and returns the answer once the
// events are committed.
func (s *Server) ingestLogs(ctx context.Context, p snapshot.Principal, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	resp := plogotlp.NewExportResponse()
	evs := telemetry.NormalizeWith(req.Logs(), senderOf(p), s.now(), s.redactor(p.Workspace()))
	if ip := codexgov.RequestMetadataFrom(ctx).ClientIP; ip != "" {
		for i := range evs {
			evs[i].ClientIP = ip
		}
	}
	// An event outside the retention window would be deleted at once (or
	// names a clock far off): it is refused, and said so.
	now := s.now()
	kept, rejected := evs[:0], 0
	for _, e := range evs {
		if e.Time.Before(now.Add(-codexgov.TelemetryRetention)) || e.Time.After(now.Add(codexgov.TelemetryFuture)) {
			rejected++
			continue
		}
		kept = append(kept, e)
	}
	// Commands Codex ran are checked against the rules the sender is
	// served now (the machine's own .rules files are not known here).
	if doc, err := s.snap.Load().SenderRequirements(p); err == nil && doc != nil {
		bypasses := telemetry.Bypasses(kept, s.execPolicy(doc))
		kept = append(kept, bypasses...)
		s.telemetrySecurity.WithLabelValues("bypass").Add(float64(len(bypasses)))
	}
	for _, e := range kept {
		if e.ClaimMismatch {
			s.telemetrySecurity.WithLabelValues("claim_mismatch").Inc()
		}
	}
	if _, err := s.store.AppendTelemetry(ctx, kept); err != nil {
		return resp, err
	}
	// Acknowledged only now that the events are committed.
	if rejected > 0 {
		s.telemetryRejected.WithLabelValues("out_of_window").Add(float64(rejected))
		resp.PartialSuccess().SetRejectedLogRecords(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(fmt.Sprintf("%d log records are dated outside the window this server keeps (the last %s, and at most %s ahead of its clock): check the machine's clock", rejected, codexgov.TelemetryRetention, codexgov.TelemetryFuture))
	}
	return resp, nil
}

// otlpMetrics keeps the latest value of each series per device and day.
func (s *Server) otlpMetrics(c *call) error {
	body, isJSON, release, err := s.otlpRead(c)
	if err != nil {
		return err
	}
	defer release()
	req := pmetricotlp.NewExportRequest()
	if err := unmarshal(req.UnmarshalJSON, req.UnmarshalProto, body, isJSON); err != nil {
		return codexgov.Errorf(codexgov.EINVALID, "not an OTLP metrics export request: %v", err)
	}
	if err := s.ingestMetrics(c.ctx, c.p, req); err != nil {
		return err
	}
	return s.otlpOK(c, pmetricotlp.NewExportResponse(), isJSON)
}

// otlpTraces keeps span summaries, not the span bodies.
func (s *Server) otlpTraces(c *call) error {
	body, isJSON, release, err := s.otlpRead(c)
	if err != nil {
		return err
	}
	defer release()
	req := ptraceotlp.NewExportRequest()
	if err := unmarshal(req.UnmarshalJSON, req.UnmarshalProto, body, isJSON); err != nil {
		return codexgov.Errorf(codexgov.EINVALID, "not an OTLP traces export request: %v", err)
	}
	if err := s.ingestTraces(c.ctx, c.p, req); err != nil {
		return err
	}
	return s.otlpOK(c, ptraceotlp.NewExportResponse(), isJSON)
}

func (s *Server) ingestMetrics(ctx context.Context, p snapshot.Principal, req pmetricotlp.ExportRequest) error {
	return s.store.UpsertTelemetryMetrics(ctx, telemetry.Metrics(req.Metrics(), senderOf(p), s.now()))
}

// ingestTraces keeps span summaries. A workspace that keeps no traces is
// still answered success: Codex has nothing to retry.
func (s *Server) ingestTraces(ctx context.Context, p snapshot.Principal, req ptraceotlp.ExportRequest) error {
	if w, ok := s.snap.Load().Workspace(p.Workspace()); ok && w.Settings.TelemetryDropTraces {
		return nil
	}
	_, err := s.store.AppendTelemetrySpans(ctx, telemetry.Spans(req.Traces(), senderOf(p)))
	return err
}

// otlpOK answers success, in the request's encoding, once the data is
// committed.
func (s *Server) otlpOK(c *call, resp otlpMarshaler, isJSON bool) error {
	out, err := marshal(resp, isJSON)
	if err != nil {
		return err
	}
	writeOTLP(c.w, isJSON, http.StatusOK, out)
	return nil
}

func unmarshal(j, p func([]byte) error, b []byte, isJSON bool) error {
	if isJSON {
		return j(b)
	}
	return p(b)
}

type otlpMarshaler interface {
	MarshalJSON() ([]byte, error)
	MarshalProto() ([]byte, error)
}

func marshal(m otlpMarshaler, isJSON bool) ([]byte, error) {
	if isJSON {
		return m.MarshalJSON()
	}
	return m.MarshalProto()
}

func writeOTLP(w http.ResponseWriter, isJSON bool, status int, body []byte) {
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	w.WriteHeader(status)
	w.Write(body)
}

// grpcCodes maps codexgov error codes to the google.rpc.Code a Status
// carries.
var grpcCodes = map[string]int{
	codexgov.EINVALID: 3, codexgov.ENOTFOUND: 5, codexgov.EUNAUTHORIZED: 16, codexgov.EFORBIDDEN: 7,
	codexgov.ETOOLARGE: 3, codexgov.ETOOMANY: 8, codexgov.EUNAVAILABLE: 14, codexgov.EINTERNAL: 13,
}

// writeOTLPError answers with a google.rpc.Status (OTLP/HTTP §Failures),
// JSON or protobuf as the request was; 429 and 503 carry Retry-After.
func (s *Server) writeOTLPError(w http.ResponseWriter, r *http.Request, id string, err error) {
	f, gone := s.failure(w, r, id, err)
	if gone {
		return
	}
	err, status := f.err, f.status
	code := f.code
	if code == codexgov.EUNAUTHORIZED || code == codexgov.EFORBIDDEN || code == codexgov.ETOOMANY {
		s.telemetryRejected.WithLabelValues(code).Inc()
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	}
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codexgov"`)
	}
	msg := codexgov.ErrorMessage(err) + " (request " + id + ")"
	grpc := grpcCodes[code]
	if grpc == 0 {
		grpc = 13
	}
	if isJSON, _ := otlpJSON(r); isJSON || r.Header.Get("Content-Type") == "" {
		writeJSON(w, status, map[string]any{"code": grpc, "message": msg})
		return
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(grpc))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, msg)
	writeOTLP(w, false, status, b)
}

// redactor is the workspace's redactor, compiled once per distinct
// setting.
func (s *Server) redactor(ws string) *telemetry.Redactor {
	w, ok := s.snap.Load().Workspace(ws)
	if !ok {
		return telemetry.ForWorkspace(codexgov.DefaultSettings())
	}
	key := w.Settings.Telemetry + "\x00" + strings.Join(w.Settings.TelemetryRedact, "\x00")
	if r, ok := s.redactors.Load(key); ok {
		return r.(*telemetry.Redactor)
	}
	r := telemetry.ForWorkspace(w.Settings)
	s.redactors.Store(key, r)
	return r
}

// execPolicy is the exec policy of a requirements document, composed once
// per distinct document (by hash), not on every logs export.
func (s *Server) execPolicy(doc *snapshot.Document) *execpolicy.Policy {
	if p, ok := s.execPolicies.Get(doc.Hash); ok {
		return p
	}
	p := telemetry.PolicyOf(string(doc.Body))
	s.execPolicies.Add(doc.Hash, p)
	return p
}
