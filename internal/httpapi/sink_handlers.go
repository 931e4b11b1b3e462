package httpapi

// SIEM sinks (admin surface) and the pusher that delivers to them.

import (
	"context"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/siem"
)

func sinkAAD(ws, name string) string { return "sink:" + ws + "/" + name }

func (s *Server) createSink(c *call) (any, error) {
	var in codexgov.SinkInput
	if err := s.decode(c.w, c.r, &in); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var enc []byte
	if in.Secret != "" {
		enc = s.keys.SealSecret(sinkAAD(c.ws, in.Name), in.Secret)
	}
	return s.store.CreateSink(c.ctx, c.ws, in, enc)
}

func (s *Server) listSinks(c *call) (any, error) {
	sinks, err := s.store.Sinks(c.ctx, c.ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, k := range sinks {
		lag := &codexgov.SinkLag{}
		for _, t := range k.EventTypes {
			n, oldest, err := s.store.SinkLag(c.ctx, c.ws, t, k.Cursor[t])
			if err != nil {
				return nil, err
			}
			lag.Records += n
			if n > 0 && (lag.Oldest.IsZero() || oldest.Before(lag.Oldest)) {
				lag.Oldest = oldest
			}
		}
		if !lag.Oldest.IsZero() {
			lag.Seconds = max(0, now.Sub(lag.Oldest).Seconds())
		}
		k.Lag = lag
	}
	return sinks, nil
}

func (s *Server) deleteSink(c *call) (any, error) {
	return s.store.DeleteSink(c.ctx, c.ws, c.path("sink"))
}

func (s *Server) rewindSink(c *call) (any, error) {
	return s.store.RewindSink(c.ctx, c.ws, c.path("sink"))
}

func (s *Server) sinkDeadLetters(c *call) (any, error) {
	return s.store.DeadLetters(c.ctx, c.ws, c.path("sink"))
}

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
