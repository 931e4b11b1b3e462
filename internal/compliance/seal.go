package compliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// Manifest describes one sealed file; manifests chain by the hash of the
// previous one and are signed (a detached JWS) with the server's active
// signing key, published in the JWKS.
type Manifest struct {
	ID                 string `json:"id"`
	WorkspaceID        string `json:"workspace_id"`
	EventType          string `json:"event_type"`
	Seq                int64  `json:"seq"`
	FileName           string `json:"file_name"`
	SHA256             string `json:"file_sha256"`
	Size               int64  `json:"file_size"`
	EventCount         int64  `json:"event_count"`
	StartTime          string `json:"start_time"`
	EndTime            string `json:"end_time"`
	PrevManifestSHA256 string `json:"prev_manifest_sha256"`
	// Replaces is set on a file re-sealed after a deletion: the file it
	// replaces (an earlier link, which keeps its manifest and loses its
	// body), that file's SHA-256, how many records the deletion removed
	// from it, and why ("codex_task_deleted" or "user_erased").
	Replaces       string `json:"replaces,omitempty"`
	ReplacesSHA256 string `json:"replaces_file_sha256,omitempty"`
	RemovedCount   int64  `json:"removed_count,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// Bytes is the manifest's canonical form: what is hashed and signed.
func (m Manifest) Bytes() []byte {
	b, _ := json.Marshal(m)
	return b
}

// Hash is the hex SHA-256 of a manifest's canonical form.
func Hash(manifest []byte) string {
	sum := sha256.Sum256(manifest)
	return hex.EncodeToString(sum[:])
}

// Source is what the sealer reads: the workspace's records of one event
// type that arrived after a cursor and by a time, in arrival order, and
// the cursor after them.
type Source interface {
	ComplianceSources(ctx context.Context, ws, eventType, cursor string, upTo time.Time, limit int) (tel []*codexgov.TelemetryEvent, audit []*codexgov.AuditEvent, next string, arrived time.Time, err error)
	LastComplianceFile(ctx context.Context, ws, eventType string) (*codexgov.ComplianceFile, error)
	LatestComplianceEnd(ctx context.Context, ws string) (time.Time, error)
	PutComplianceFile(ctx context.Context, f *codexgov.ComplianceFile, body []byte) error
}

// endAfter is a new file's end_time: its last record's arrival, but after
// every file the workspace already has, so that a client's after cursor
// (over any event types) never passes a file sealed later.
func endAfter(ctx context.Context, st Source, ws string, t time.Time) (time.Time, error) {
	latest, err := st.LatestComplianceEnd(ctx, ws)
	if err != nil {
		return t, err
	}
	if !t.After(latest) {
		t = latest.Add(time.Microsecond)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// Sealer seals records into files.
type Sealer struct {
	Store Source
	// Sign makes the detached JWS of a manifest.
	Sign func([]byte) (string, error)
	// Grace is how long after arrival a record is sealed: a transaction
	// still open then would otherwise commit behind the cursor.
	Grace time.Duration
	// MaxEvents bounds one file.
	MaxEvents int
}

// ErrRaced is returned when another replica sealed the same file first.
var ErrRaced = errors.New("another replica sealed this file first")

// Seal seals what arrived for one workspace and event type by now − Grace
// into files (none when nothing arrived), and returns how many it wrote.
func (s *Sealer) Seal(ctx context.Context, ws, workspaceUUID, eventType string, now time.Time) (int, error) {
	written := 0
	for {
		last, err := s.Store.LastComplianceFile(ctx, ws, eventType)
		if err != nil {
			return written, err
		}
		cursor, prev, seq := "", "", int64(1)
		if last != nil {
			cursor, prev, seq = last.Cursor, Hash(last.Manifest), last.Seq+1
		}
		tel, audit, next, arrived, err := s.Store.ComplianceSources(ctx, ws, eventType, cursor, now.Add(-s.Grace), s.MaxEvents)
		if err != nil {
			return written, err
		}
		if next == cursor || next == "" {
			return written, nil
		}
		var body bytes.Buffer
		var count int64
		var maxTime time.Time
		actors := map[string]bool{}
		enc := json.NewEncoder(&body)
		enc.SetEscapeHTML(false)
		emit := func(r codexgov.ComplianceRecord) error {
			if r.EventType != eventType {
				return nil
			}
			count++
			if r.Actor.UserEmail != "" {
				actors[r.Actor.UserEmail] = true
			}
			if t, err := time.Parse("2006-01-02T15:04:05.000000Z", r.Timestamp); err == nil && t.After(maxTime) {
				maxTime = t
			}
			return enc.Encode(r)
		}
		for _, e := range tel {
			for _, r := range FromTelemetry(e, workspaceUUID) {
				if err := emit(r); err != nil {
					return written, err
				}
			}
		}
		for _, a := range audit {
			if err := emit(FromAudit(a, workspaceUUID)); err != nil {
				return written, err
			}
		}
		end, err := endAfter(ctx, s.Store, ws, arrived)
		if err != nil {
			return written, err
		}
		f := &codexgov.ComplianceFile{ID: fileID(ws, eventType, seq), Workspace: ws, EventType: eventType, Seq: seq,
			EndTime: end, FileSize: int64(body.Len()), EventCount: count, MaxEventTime: maxTime, PrevHash: prev, Cursor: next}
		if last != nil {
			f.StartTime = last.EndTime
		}
		f.Actors = actorList(actors)
		if err := finish(f, workspaceUUID, body.Bytes(), Manifest{}, s.Sign); err != nil {
			return written, err
		}
		if err := s.Store.PutComplianceFile(ctx, f, body.Bytes()); err != nil {
			return written, err
		}
		written++
	}
}

func fileID(ws, eventType string, seq int64) string {
	return "file_" + EventID(ws, fmt.Sprintf("%s/%d", eventType, seq))[:23]
}

func actorList(actors map[string]bool) string {
	if len(actors) == 0 {
		return ""
	}
	return "\n" + strings.Join(slices.Sorted(maps.Keys(actors)), "\n") + "\n"
}

// finish fills a file's name, hash and signed manifest (extra carries a
// replacement's fields).
func finish(f *codexgov.ComplianceFile, workspaceUUID string, body []byte, extra Manifest, sign func([]byte) (string, error)) error {
	sum := sha256.Sum256(body)
	f.SHA256 = hex.EncodeToString(sum[:])
	f.FileSize = int64(len(body))
	f.FileName = fmt.Sprintf("%s_%s_%06d.jsonl", workspaceUUID, f.EventType, f.Seq)
	m := extra
	m.ID, m.WorkspaceID, m.EventType, m.Seq, m.FileName, m.SHA256, m.Size = f.ID, workspaceUUID, f.EventType, f.Seq, f.FileName, f.SHA256, f.FileSize
	m.EventCount, m.StartTime, m.EndTime, m.PrevManifestSHA256 = f.EventCount, Timestamp(f.StartTime), Timestamp(f.EndTime), f.PrevHash
	f.Manifest = m.Bytes()
	var err error
	f.Signature, err = sign(f.Manifest)
	return err
}
