package compliance

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/codexgov/codexgov/internal/signing"
)

// The layout of a pulled folder (codexgov compliance pull), which Verify
// checks offline: each file NAME.jsonl beside NAME.manifest.json (its
// manifest and signature), the JWKS, and the checkpoint naming each
// chain's newest manifest.
const (
	ManifestSuffix = ".manifest.json"
	JWKSFile       = "jwks.json"
	CheckpointFile = "checkpoint.json"
)

// SignedManifest is a manifest file's content.
type SignedManifest struct {
	// Manifest is the manifest's exact bytes (canonical JSON).
	Manifest  string `json:"manifest"`
	Signature string `json:"signature"`
}

// Checkpoint is what pull remembers between runs: per chain
// ("WORKSPACE/EVENT_TYPE"), the newest manifest pulled and the after
// cursor of the list route.
type Checkpoint struct {
	Chains map[string]ChainHead `json:"chains"`
}

// ChainHead is a chain's newest pulled file.
type ChainHead struct {
	// First is the chain's first file pulled into the folder.
	First          int64  `json:"first_seq"`
	Seq            int64  `json:"seq"`
	ManifestSHA256 string `json:"manifest_sha256"`
	After          string `json:"after"`
}

// Report is what Verify found.
type Report struct {
	Files, Records int
	Chains         int
}

// VerifyError is the first broken link Verify found.
type VerifyError struct {
	File   string
	Reason string
}

func (e *VerifyError) Error() string { return e.File + ": " + e.Reason }

// Verify checks a pulled folder offline: every manifest's signature
// against the JWKS, every file's size, SHA-256 and record count against
// its manifest, every record's event type, each chain unbroken (seq
// consecutive, each manifest naming the previous one's hash, from seq 1
// or from where the folder's first pull began), and each chain's newest
// manifest the checkpoint's. It returns the first broken link.
func Verify(dir string, jwks []byte) (Report, error) {
	var rep Report
	entries, err := os.ReadDir(dir)
	if err != nil {
		return rep, err
	}
	chains := map[string][]link{}
	jsonl := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ManifestSuffix):
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return rep, err
			}
			var sm SignedManifest
			if err := json.Unmarshal(raw, &sm); err != nil {
				return rep, &VerifyError{name, "not a signed manifest: " + err.Error()}
			}
			// pull writes the canonical form; anything else was edited,
			// including the signature's unused base64 bits.
			if canon, _ := json.Marshal(sm); !bytes.Equal(canon, raw) {
				return rep, &VerifyError{name, "is not the manifest file as pulled (edited)"}
			}
			for _, part := range strings.Split(sm.Signature, ".") {
				if _, err := base64.RawURLEncoding.Strict().DecodeString(part); err != nil {
					return rep, &VerifyError{name, "the signature is not in canonical base64url (edited)"}
				}
			}
			if _, err := signing.Verify(jwks, []byte(sm.Manifest), sm.Signature); err != nil {
				return rep, &VerifyError{name, "the signature does not verify against the JWKS: " + err.Error()}
			}
			var m Manifest
			if err := json.Unmarshal([]byte(sm.Manifest), &m); err != nil {
				return rep, &VerifyError{name, "the manifest does not parse: " + err.Error()}
			}
			if m.FileName+ManifestSuffix != name {
				return rep, &VerifyError{name, fmt.Sprintf("the manifest is %s's, not this file's", m.FileName)}
			}
			key := m.WorkspaceID + "/" + m.EventType
			chains[key] = append(chains[key], link{m, Hash([]byte(sm.Manifest)), name})
		case strings.HasSuffix(name, ".jsonl"):
			jsonl[name] = true
		}
	}
	var cp Checkpoint
	if raw, err := os.ReadFile(filepath.Join(dir, CheckpointFile)); err == nil {
		if err := json.Unmarshal(raw, &cp); err != nil {
			return rep, &VerifyError{CheckpointFile, "does not parse: " + err.Error()}
		}
	}
	for key := range cp.Chains {
		if _, ok := chains[key]; !ok {
			return rep, &VerifyError{CheckpointFile, "chain " + key + " has no files here: they were removed"}
		}
	}
	keys := make([]string, 0, len(chains))
	for k := range chains {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		links := chains[key]
		slices.SortFunc(links, func(a, b link) int { return int(a.m.Seq - b.m.Seq) })
		// A file re-sealed after a deletion names the earlier link it
		// replaces: that link keeps its manifest and may have no body.
		byID := map[string]link{}
		replaced := map[string]bool{}
		for _, l := range links {
			if l.m.Replaces == "" {
				byID[l.m.ID] = l
				continue
			}
			if old, ok := byID[l.m.Replaces]; ok {
				if old.m.SHA256 != l.m.ReplacesSHA256 {
					return rep, &VerifyError{l.file, fmt.Sprintf("replaces %s, whose SHA-256 is %s, not the %s it names", old.m.FileName, short(old.m.SHA256), short(l.m.ReplacesSHA256))}
				}
				if l.m.EventCount+l.m.RemovedCount != old.m.EventCount {
					return rep, &VerifyError{l.file, fmt.Sprintf("replaces %s (%d records) but keeps %d and removes %d", old.m.FileName, old.m.EventCount, l.m.EventCount, l.m.RemovedCount)}
				}
			} else if ids(links)[l.m.Replaces] {
				return rep, &VerifyError{l.file, "replaces " + l.m.Replaces + ", which is not an earlier link of its chain"}
			}
			replaced[l.m.Replaces] = true
			byID[l.m.ID] = l
		}
		for i, l := range links {
			if i > 0 {
				prev := links[i-1]
				if l.m.Seq != prev.m.Seq+1 {
					return rep, &VerifyError{l.file, fmt.Sprintf("chain %s jumps from #%d to #%d: files are missing", key, prev.m.Seq, l.m.Seq)}
				}
				if l.m.PrevManifestSHA256 != prev.hash {
					return rep, &VerifyError{l.file, fmt.Sprintf("does not follow #%d: it names the previous manifest %s, which is %s", prev.m.Seq, short(l.m.PrevManifestSHA256), short(prev.hash))}
				}
			} else if l.m.Seq == 1 && l.m.PrevManifestSHA256 != "" {
				return rep, &VerifyError{l.file, "the first file of a chain names a previous manifest"}
			}
			if _, err := os.Stat(filepath.Join(dir, l.m.FileName)); err != nil && replaced[l.m.ID] {
				rep.Files++
				continue
			}
			n, err := checkFile(dir, l.m)
			if err != nil {
				return rep, err
			}
			delete(jsonl, l.m.FileName)
			rep.Files++
			rep.Records += n
		}
		if head, ok := cp.Chains[key]; ok {
			if head.First > 0 && links[0].m.Seq != head.First {
				return rep, &VerifyError{links[0].file, fmt.Sprintf("chain %s begins at #%d, but the folder's first pull began it at #%d: files are missing", key, links[0].m.Seq, head.First)}
			}
			last := links[len(links)-1]
			if last.m.Seq != head.Seq || last.hash != head.ManifestSHA256 {
				return rep, &VerifyError{last.file, fmt.Sprintf("chain %s ends at #%d, but the checkpoint's newest is #%d (%s): files are missing or replaced", key, last.m.Seq, head.Seq, short(head.ManifestSHA256))}
			}
		}
		rep.Chains++
	}
	for name := range jsonl {
		if !strings.HasSuffix(name, ".events.jsonl") {
			return rep, &VerifyError{name, "has no manifest"}
		}
	}
	return rep, nil
}

// checkFile checks one file against its manifest and returns its record
// count.
func checkFile(dir string, m Manifest) (int, error) {
	body, err := os.ReadFile(filepath.Join(dir, m.FileName))
	if err != nil {
		return 0, &VerifyError{m.FileName, "missing: " + err.Error()}
	}
	if int64(len(body)) != m.Size {
		return 0, &VerifyError{m.FileName, fmt.Sprintf("is %d bytes; its manifest says %d", len(body), m.Size)}
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return 0, &VerifyError{m.FileName, fmt.Sprintf("has SHA-256 %s; its manifest says %s", short(got), short(m.SHA256))}
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		n++
		var r struct {
			EventType string `json:"event_type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.EventType != m.EventType {
			return 0, &VerifyError{m.FileName, fmt.Sprintf("line %d is not a %s record", n, m.EventType)}
		}
	}
	if int64(n) != m.EventCount {
		return 0, &VerifyError{m.FileName, fmt.Sprintf("holds %d records; its manifest says %d", n, m.EventCount)}
	}
	return n, nil
}

// link is one manifest of a chain in a pulled folder.
type link struct {
	m    Manifest
	hash string
	file string
}

func ids(links []link) map[string]bool {
	out := map[string]bool{}
	for _, l := range links {
		out[l.m.ID] = true
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return "(none)"
	}
	return h
}
