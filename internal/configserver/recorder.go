package configserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexgov/codexgov"
)

// DeliveryWriter is where the recorder writes.
type DeliveryWriter interface {
	RecordDeliveries(ctx context.Context, ds []codexgov.Delivery) error
}

// Recorder coalesces bundle fetches in memory and writes them
// asynchronously: a burst of fetches from one device becomes one row
// update per flush, and the fetch path never waits for the database. It
// holds at most Max devices between flushes; fetches from further devices
// are counted in Dropped until the next flush makes room.
type Recorder struct {
	w   DeliveryWriter
	max int

	mu      sync.Mutex
	pending map[string]*codexgov.Delivery // by workspace + device
	kick    chan struct{}

	// Dropped counts fetches not recorded because the buffer was full.
	Dropped atomic.Uint64
	// Flushes and FlushErrors count writes.
	Flushes, FlushErrors atomic.Uint64
}

// NewRecorder makes a recorder holding at most max devices between
// flushes.
func NewRecorder(w DeliveryWriter, max int) *Recorder {
	if max <= 0 {
		max = 100_000
	}
	return &Recorder{w: w, max: max, pending: map[string]*codexgov.Delivery{}, kick: make(chan struct{}, 1)}
}

// Record notes one fetch. It never blocks on I/O.
func (r *Recorder) Record(d codexgov.Delivery) {
	k := d.Workspace + "\x00" + d.Device
	r.mu.Lock()
	p, ok := r.pending[k]
	switch {
	case ok:
		first, n := p.FirstFetch, p.Fetches
		*p = d
		p.FirstFetch, p.Fetches = first, n+1
	case len(r.pending) >= r.max:
		r.mu.Unlock()
		r.Dropped.Add(1)
		return
	default:
		d.Fetches = 1
		d.FirstFetch = d.LastFetch
		r.pending[k] = &d
	}
	full := len(r.pending) >= r.max/2
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Pending is the number of devices waiting to be written.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// Flush writes what is pending in one transaction. On failure the records
// go back into the buffer (merged with newer ones, within the bound) to be
// tried again.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string]*codexgov.Delivery{}
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ds := make([]codexgov.Delivery, 0, len(batch))
	for _, d := range batch {
		ds = append(ds, *d)
	}
	r.Flushes.Add(1)
	err := r.w.RecordDeliveries(ctx, ds)
	if err == nil {
		return nil
	}
	r.FlushErrors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, old := range batch {
		if p, ok := r.pending[k]; ok {
			p.FirstFetch, p.Fetches = old.FirstFetch, p.Fetches+old.Fetches
		} else if len(r.pending) < r.max {
			r.pending[k] = old
		} else {
			r.Dropped.Add(uint64(old.Fetches))
		}
	}
	return err
}

// Run flushes every interval, and early when the buffer is half full,
// until ctx ends; then it flushes once more, for at most five seconds.
func (r *Recorder) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := r.Flush(fctx); err != nil && onError != nil {
				onError(err)
			}
			cancel()
			return
		case <-t.C:
		case <-r.kick:
		}
		if err := r.Flush(ctx); err != nil && onError != nil {
			onError(err)
		}
	}
}
