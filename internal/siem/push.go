package siem

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/codexgov/codexgov"
)

// Store is what the pusher reads and writes.
type Store interface {
	AllSinks(ctx context.Context) ([]*codexgov.ComplianceSink, error)
	LeaseSink(ctx context.Context, id, owner string, until, now time.Time) (bool, error)
	ComplianceFilesFromSeq(ctx context.Context, ws, eventType string, seq int64, limit int) ([]*codexgov.ComplianceFile, error)
	ComplianceChunk(ctx context.Context, id string, n int) ([]byte, bool, error)
	AdvanceSink(ctx context.Context, id, eventType string, c codexgov.SinkCursor, delivered int64, now time.Time) error
	DeadLetterSink(ctx context.Context, d codexgov.DeadLetter, c codexgov.SinkCursor) error
	FailSink(ctx context.Context, id string, attempts int, next time.Time, msg string, now time.Time) error
}

// Pusher delivers every sink's backlog, one round at a time.
type Pusher struct {
	Store Store
	// Open opens a sink's sealed secret.
	Open func(k *codexgov.ComplianceSink) (string, error)
	// WorkspaceUUID names a workspace as the records do.
	WorkspaceUUID func(ws string) string
	// Owner names this replica for the sinks' leases.
	Owner string
	Now   func() time.Time
	Log   *slog.Logger
	// BatchRecords and BatchBytes bound one delivery.
	BatchRecords int
	BatchBytes   int
	// MaxBackoff bounds the wait between failed attempts.
	MaxBackoff time.Duration
	senders    map[string]Sender
}

// Lease is how long a replica owns a sink's delivery without renewing.
const Lease = time.Minute

// Backoff is the wait before attempt n+1 after n failures: 1 s doubling,
// at most max, with ±20% jitter; a receiver's Retry-After wins.
func Backoff(n int, retryAfter, maxWait time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxWait)
	}
	d := time.Second << min(n-1, 20)
	d = min(d, maxWait)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Round delivers what each due sink has waiting, and returns how many
// records it delivered.
func (p *Pusher) Round(ctx context.Context) (int64, error) {
	sinks, err := p.Store.AllSinks(ctx)
	if err != nil {
		return 0, err
	}
	if p.senders == nil {
		p.senders = map[string]Sender{}
	}
	live := map[string]bool{}
	var total int64
	var errs []error
	for _, k := range sinks {
		live[k.ID] = true
		now := p.Now()
		if k.Paused || k.NextAttempt.After(now) {
			continue
		}
		ok, err := p.Store.LeaseSink(ctx, k.ID, p.Owner, now.Add(Lease), now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		n, err := p.deliver(ctx, k)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %s/%s: %w", k.Workspace, k.Name, err))
		}
	}
	for id, s := range p.senders {
		if !live[id] {
			s.Close()
			delete(p.senders, id)
		}
	}
	return total, errors.Join(errs...)
}

// Close closes the senders' connections.
func (p *Pusher) Close() {
	for id, s := range p.senders {
		s.Close()
		delete(p.senders, id)
	}
}

func (p *Pusher) sender(k *codexgov.ComplianceSink) (Sender, error) {
	if s := p.senders[k.ID]; s != nil {
		return s, nil
	}
	secret := ""
	if k.HasSecret {
		var err error
		if secret, err = p.Open(k); err != nil {
			return nil, err
		}
	}
	s, err := NewSender(k, secret, p.WorkspaceUUID(k.Workspace))
	if err != nil {
		return nil, err
	}
	p.senders[k.ID] = s
	return s, nil
}

// deliver sends a sink's backlog of each event type, batch by batch, each
// batch's cursor stored before the next is sent. A failure stops the sink
// for this round and schedules its next attempt.
func (p *Pusher) deliver(ctx context.Context, k *codexgov.ComplianceSink) (int64, error) {
	s, err := p.sender(k)
	if err != nil {
		return 0, p.fail(ctx, k, &SendError{Msg: err.Error()})
	}
	var delivered int64
	for _, typ := range k.EventTypes {
		c := k.Cursor[typ]
		for {
			files, err := p.Store.ComplianceFilesFromSeq(ctx, k.Workspace, typ, c.Seq, 20)
			if err != nil {
				return delivered, err
			}
			if len(files) == 0 {
				break
			}
			for _, f := range files {
				if f.Seq != c.Seq {
					c = codexgov.SinkCursor{Seq: f.Seq}
				}
				if f.ReplacedBy != "" {
					// Its records that survived a deletion are in the
					// file that replaced it, later in the chain.
					c = codexgov.SinkCursor{Seq: f.Seq + 1}
					if err := p.Store.AdvanceSink(ctx, k.ID, typ, c, 0, p.Now()); err != nil {
						return delivered, err
					}
					continue
				}
				n, next, err := p.file(ctx, k, s, typ, f, c)
				delivered += n
				if err != nil {
					return delivered, err
				}
				c = next
			}
		}
	}
	return delivered, nil
}

// file sends one file's records from the cursor's line on.
func (p *Pusher) file(ctx context.Context, k *codexgov.ComplianceSink, s Sender, typ string, f *codexgov.ComplianceFile, c codexgov.SinkCursor) (int64, codexgov.SinkCursor, error) {
	sc := bufio.NewScanner(&chunkReader{ctx: ctx, st: p.Store, id: f.ID})
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var line int64
	var delivered int64
	var batch []json.RawMessage
	size := 0
	first := c.Line
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		b := Batch{EventType: typ, Delivery: fmt.Sprintf("%s/%s/%d", k.Name, f.ID, first), Records: batch}
		sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
		err := s.Send(sendCtx, b)
		cancel()
		next := codexgov.SinkCursor{Seq: f.Seq, Line: first + int64(len(batch))}
		var se *SendError
		switch {
		case err == nil:
			if err := p.Store.AdvanceSink(ctx, k.ID, typ, next, int64(len(batch)), p.Now()); err != nil {
				return err
			}
			delivered += int64(len(batch))
		case errors.As(err, &se) && se.Permanent:
			p.Log.Warn("compliance sink: the receiver refused a batch for good; it is kept as a dead letter", "sink", k.Name, "workspace", k.Workspace, "file", f.ID, "line", first, "records", len(batch), "err", se.Msg)
			if err := p.Store.DeadLetterSink(ctx, codexgov.DeadLetter{Sink: k.ID, EventType: typ, File: f.ID, Line: first, Count: int64(len(batch)), Error: se.Msg, CreatedAt: p.Now()}, next); err != nil {
				return err
			}
		default:
			if se == nil {
				se = &SendError{Msg: err.Error()}
			}
			return p.fail(ctx, k, se)
		}
		c, first, batch, size = next, next.Line, nil, 0
		return nil
	}
	for sc.Scan() {
		if line < c.Line {
			line++
			continue
		}
		line++
		rec := append(json.RawMessage(nil), sc.Bytes()...)
		batch = append(batch, rec)
		size += len(rec)
		if len(batch) >= p.BatchRecords || size >= p.BatchBytes {
			if err := flush(); err != nil {
				return delivered, c, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return delivered, c, err
	}
	if err := flush(); err != nil {
		return delivered, c, err
	}
	end := codexgov.SinkCursor{Seq: f.Seq + 1}
	if err := p.Store.AdvanceSink(ctx, k.ID, typ, end, 0, p.Now()); err != nil {
		return delivered, c, err
	}
	return delivered, end, nil
}

// errFailed stops a sink's round after a failed delivery (already
// recorded).
var errFailed = errors.New("delivery failed; retried after a backoff")

func (p *Pusher) fail(ctx context.Context, k *codexgov.ComplianceSink, se *SendError) error {
	attempts := k.Attempts + 1
	wait := Backoff(attempts, se.RetryAfter, p.MaxBackoff)
	now := p.Now()
	if s := p.senders[k.ID]; s != nil {
		s.Close()
		delete(p.senders, k.ID)
	}
	if err := p.Store.FailSink(ctx, k.ID, attempts, now.Add(wait), se.Msg, now); err != nil {
		return err
	}
	p.Log.Warn("compliance sink: delivery failed; retrying after a backoff", "sink", k.Name, "workspace", k.Workspace, "attempt", attempts, "retry_in", wait.Round(time.Millisecond), "err", se.Msg)
	return fmt.Errorf("%w: %s", errFailed, se.Msg)
}

// IsRetrying tells a failed delivery (already recorded and scheduled)
// from an error of codexgov's own.
func IsRetrying(err error) bool { return errors.Is(err, errFailed) }

// chunkReader reads a sealed file's body a chunk at a time.
type chunkReader struct {
	ctx  context.Context
	st   Store
	id   string
	n    int
	buf  []byte
	done bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		data, ok, err := r.st.ComplianceChunk(r.ctx, r.id, r.n)
		if err != nil {
			return 0, err
		}
		if !ok {
			r.done = true
			continue
		}
		r.n++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
