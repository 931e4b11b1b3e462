package httpapi

// OTLP/gRPC: the same receiver on its own listener (--otlp-grpc-addr),
// for collectors and Codex exporters configured with otlp-grpc. The
// credential, its checks, the normalisation and the storage are those of
// OTLP/HTTP.

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters may gzip
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/snapshot"
)

// GRPC returns the OTLP/gRPC server: TLS with conf when it is not nil.
func (s *Server) GRPC(conf *tls.Config) *grpc.Server {
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxOTLPBytes), grpc.MaxConcurrentStreams(64)}
	if conf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
	}
	g := grpc.NewServer(opts...)
	plogotlp.RegisterGRPCServer(g, &grpcLogs{s: s})
	pmetricotlp.RegisterGRPCServer(g, &grpcMetrics{s: s})
	ptraceotlp.RegisterGRPCServer(g, &grpcTraces{s: s})
	return g
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	s *Server
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	s *Server
}

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Server
}

func (g *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	p, release, err := g.s.grpcCall(ctx)
	if err != nil {
		return plogotlp.NewExportResponse(), err
	}
	defer release()
	meta := codexgov.RequestMetadata{}
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		if host, _, err := net.SplitHostPort(pr.Addr.String()); err == nil {
			meta.ClientIP = host
		}
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("user-agent")) > 0 {
		meta.ClientUserAgent = truncateUA(md.Get("user-agent")[0])
	}
	resp, err := g.s.ingestLogs(codexgov.WithRequestMetadata(ctx, meta), p, req)
	return resp, g.s.grpcError(err)
}

func (g *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	p, release, err := g.s.grpcCall(ctx)
	if err != nil {
		return pmetricotlp.NewExportResponse(), err
	}
	defer release()
	return pmetricotlp.NewExportResponse(), g.s.grpcError(g.s.ingestMetrics(ctx, p, req))
}

func (g *grpcTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	p, release, err := g.s.grpcCall(ctx)
	if err != nil {
		return ptraceotlp.NewExportResponse(), err
	}
	defer release()
	return ptraceotlp.NewExportResponse(), g.s.grpcError(g.s.ingestTraces(ctx, p, req))
}

// grpcCall authenticates an OTLP/gRPC call from its authorization
// metadata, as the HTTP receiver does, and takes an ingest slot.
func (s *Server) grpcCall(ctx context.Context) (snapshot.Principal, func(), error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var secret string
	ok := false
	if v := md.Get("authorization"); len(v) == 1 {
		secret, ok = bearer(v[0])
	}
	if !ok {
		s.telemetryRejected.WithLabelValues(codexgov.EUNAUTHORIZED).Inc()
		return snapshot.Principal{}, nil, status.Error(codes.Unauthenticated, "missing credential: send the metadata authorization: Bearer <telemetry token, enrollment token or access token>")
	}
	p, err := s.authenticate(ctx, secret)
	if err != nil {
		s.telemetryRejected.WithLabelValues(codexgov.EUNAUTHORIZED).Inc()
		return snapshot.Principal{}, nil, status.Error(codes.Unauthenticated, codexgov.ErrorMessage(err))
	}
	if p.Key != nil {
		s.telemetryRejected.WithLabelValues(codexgov.EFORBIDDEN).Inc()
		return snapshot.Principal{}, nil, status.Error(codes.PermissionDenied, "the receiver takes a client credential (a telemetry token, an enrollment token or an access token), not an API key")
	}
	release, ok := s.takeIngest()
	if !ok {
		s.telemetryRejected.WithLabelValues(codexgov.ETOOMANY).Inc()
		// OTLP/gRPC: Unavailable is retryable.
		return snapshot.Principal{}, nil, status.Error(codes.Unavailable, "the telemetry receiver is busy; retry")
	}
	return p, release, nil
}

// grpcError maps a codexgov error to its gRPC status.
func (s *Server) grpcError(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch codexgov.ErrorCode(err) {
	case codexgov.EINVALID, codexgov.ETOOLARGE:
		code = codes.InvalidArgument
	case codexgov.EUNAVAILABLE, codexgov.ETOOMANY:
		code = codes.Unavailable
	case codexgov.EUNAUTHORIZED:
		code = codes.Unauthenticated
	case codexgov.EFORBIDDEN:
		code = codes.PermissionDenied
	}
	if errors.Is(err, context.Canceled) {
		code = codes.Canceled
	}
	msg := codexgov.ErrorMessage(err)
	if code == codes.Internal {
		s.log.Error("OTLP/gRPC export failed", "err", err)
		msg = "internal error"
	}
	return status.Error(code, strings.TrimSpace(msg))
}
