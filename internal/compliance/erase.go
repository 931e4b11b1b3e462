package compliance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// EraseStore is what an erasure reads and writes.
type EraseStore interface {
	Source
	ComplianceFilesNaming(ctx context.Context, ws, email string, types []string) ([]*codexgov.ComplianceFile, error)
	ComplianceChunk(ctx context.Context, id string, n int) ([]byte, bool, error)
	EraseCompliance(ctx context.Context, ws string, e codexgov.Erasure, repl []codexgov.ComplianceReplacement) (int64, error)
	LegalHolds(ctx context.Context, ws string) ([]*codexgov.LegalHold, error)
}

// Erase removes a Codex task's records (e.Session) or a person's (e.User)
// from the raw events and from every sealed file that holds them: each
// such file is re-sealed without them as a new link of its chain whose
// manifest names the file it replaces, and the replaced file keeps its
// manifest and loses its body. An active legal hold on the workspace or on
// e.Owner refuses it (409), and nothing changes.
func Erase(ctx context.Context, st EraseStore, sign func([]byte) (string, error), ws, workspaceUUID string, e codexgov.Erasure, now time.Time) (*codexgov.ErasureResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := erase(ctx, st, sign, ws, workspaceUUID, e, now)
		// A seal of the same chain between planning and writing: plan
		// again on the new chain head.
		if codexgov.ErrorCode(err) == codexgov.ECONFLICT && attempt < 4 && !isHold(err) {
			continue
		}
		return res, err
	}
}

func isHold(err error) bool {
	var ce *codexgov.Error
	return errors.As(err, &ce) && strings.HasPrefix(ce.Message, "legal hold ")
}

func erase(ctx context.Context, st EraseStore, sign func([]byte) (string, error), ws, workspaceUUID string, e codexgov.Erasure, now time.Time) (*codexgov.ErasureResult, error) {
	holds, err := st.LegalHolds(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, h := range holds {
		if h.ReleasedAt.IsZero() && (h.User == "" || h.User == e.Owner) {
			on := "the whole workspace"
			if h.User != "" {
				on = h.User
			}
			return nil, codexgov.Errorf(codexgov.ECONFLICT, "legal hold %s on %s (%s) blocks deletion: release it first (codexgov admin legal-holds release %s)", h.ID, on, h.Reason, h.ID)
		}
	}
	types := []string{codexgov.ComplianceCodexLog, codexgov.ComplianceSecurityLog}
	reason := "codex_task_deleted"
	match := func(r *record) bool { return r.EventDetails.SessionID == e.Session }
	if e.User != "" {
		types = append(types, codexgov.ComplianceAuthLog)
		reason = "user_erased"
		match = func(r *record) bool { return r.Actor.UserEmail == e.User }
	}
	files, err := st.ComplianceFilesNaming(ctx, ws, e.Owner, types)
	if err != nil {
		return nil, err
	}
	res := &codexgov.ErasureResult{Files: []codexgov.ReplacedFile{}}
	var repl []codexgov.ComplianceReplacement
	heads := map[string]*codexgov.ComplianceFile{}
	end, err := endAfter(ctx, st, ws, now)
	if err != nil {
		return nil, err
	}
	for _, old := range files {
		body, err := readBody(ctx, st, old.ID)
		if err != nil {
			return nil, err
		}
		var kept bytes.Buffer
		var removed, count int64
		actors := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
		for sc.Scan() {
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return nil, codexgov.Errorf(codexgov.EINTERNAL, "compliance file %s does not parse: %v", old.ID, err)
			}
			if match(&r) {
				removed++
				continue
			}
			count++
			if r.Actor.UserEmail != "" {
				actors[r.Actor.UserEmail] = true
			}
			kept.Write(sc.Bytes())
			kept.WriteByte('\n')
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		if removed == 0 {
			continue
		}
		head := heads[old.EventType]
		if head == nil {
			if head, err = st.LastComplianceFile(ctx, ws, old.EventType); err != nil {
				return nil, err
			}
		}
		nf := &codexgov.ComplianceFile{Workspace: ws, EventType: old.EventType, Seq: head.Seq + 1, StartTime: old.StartTime, EndTime: end,
			EventCount: count, MaxEventTime: old.MaxEventTime, PrevHash: Hash(head.Manifest), Cursor: head.Cursor, Actors: actorList(actors), Replaces: old.ID}
		nf.ID = fileID(ws, nf.EventType, nf.Seq)
		if err := finish(nf, workspaceUUID, kept.Bytes(), Manifest{Replaces: old.ID, ReplacesSHA256: old.SHA256, RemovedCount: removed, Reason: reason}, sign); err != nil {
			return nil, err
		}
		end = end.Add(time.Microsecond)
		heads[old.EventType] = nf
		repl = append(repl, codexgov.ComplianceReplacement{Old: old, New: nf, Body: kept.Bytes()})
		res.Files = append(res.Files, codexgov.ReplacedFile{ID: old.ID, EventType: old.EventType, ReplacedBy: nf.ID, Removed: removed})
	}
	if res.DeletedEvents, err = st.EraseCompliance(ctx, ws, e, repl); err != nil {
		return nil, err
	}
	return res, nil
}

// record is what an erasure reads of a record.
type record struct {
	Actor struct {
		UserEmail string `json:"user_email"`
	} `json:"actor"`
	EventDetails struct {
		SessionID string `json:"session_id"`
	} `json:"event_details"`
}

// readBody reads a sealed file's whole body (a file an erasure rewrites).
func readBody(ctx context.Context, st EraseStore, id string) ([]byte, error) {
	var body []byte
	for n := 0; ; n++ {
		chunk, ok, err := st.ComplianceChunk(ctx, id, n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return body, nil
		}
		body = append(body, chunk...)
	}
}
