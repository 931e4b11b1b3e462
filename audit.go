package codexgov

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent is one admin change, written in the same transaction as the
// change itself.
type AuditEvent struct {
	ID        int64           `json:"id"`
	Workspace string          `json:"workspace"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	RequestID string          `json:"request_id"`
	Time      time.Time       `json:"time"`
	// ClientIP and UserAgent are where the change came from (empty for
	// a background job or the CLI on the database).
	ClientIP  string `json:"client_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []*AuditEvent `json:"events"`
	// Next is the cursor for the next (older) page; 0 at the end.
	Next int64 `json:"next"`
}

// AuditFilter pages through audit events.
type AuditFilter struct {
	// Before is a cursor: only events with a smaller ID are returned.
	Before int64
	Limit  int
}

// Actor is who makes a change: "api_key:key_…", "server" for the server's
// own changes at start.
type Actor struct {
	ID        string
	RequestID string
}

type actorKey struct{}

// WithActor returns a context that attributes changes to the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.ID != ""
}

type requestMetaKey struct{}

// WithRequestMetadata returns a context carrying where the request came
// from: audited changes and stored telemetry record it.
func WithRequestMetadata(ctx context.Context, m RequestMetadata) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetadataFrom returns the context's request metadata (empty when
// none: a background job, the CLI on the database).
func RequestMetadataFrom(ctx context.Context) RequestMetadata {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMetadata)
	return m
}
