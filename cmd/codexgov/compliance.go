package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/atomicfile"
	"github.com/codexgov/codexgov/internal/compliance"
)

func newComplianceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compliance",
		Short: "Pull Compliance API log files and verify them offline",
	}
	cmd.AddCommand(newCompliancePullCmd(), newComplianceVerifyCmd())
	return cmd
}

func newComplianceVerifyCmd() *cobra.Command {
	var jwksFile string
	cmd := &cobra.Command{
		Use:   "verify DIR [--jwks FILE]",
		Short: "Verify pulled log files offline: signatures, hashes, record counts and each chain unbroken",
		Long: `Verify a folder written by codexgov compliance pull, with no server: every
manifest's signature against the JWKS (DIR/jwks.json, or --jwks), every file's
size, SHA-256 and record count against its manifest, and each chain of files
unbroken up to the newest one the checkpoint names. Exit status 1 names the
first broken link and why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if jwksFile == "" {
				jwksFile = filepath.Join(args[0], compliance.JWKSFile)
			}
			jwks, err := os.ReadFile(jwksFile)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("the JWKS: %w", err)}
			}
			rep, err := compliance.Verify(args[0], jwks)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("verification failed: %w", err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "verified %d files (%d records) in %d chains\n", rep.Files, rep.Records, rep.Chains)
			return nil
		},
	}
	cmd.Flags().StringVar(&jwksFile, "jwks", "", "the server's JWKS (default DIR/jwks.json, saved by pull)")
	return cmd
}

func newCompliancePullCmd() *cobra.Command {
	e := &adminEnv{files: map[string]string{}}
	var out string
	var types []string
	cmd := &cobra.Command{
		Use:   "pull --out DIR [--event-type T...]",
		Short: "Download new Compliance API log files incrementally, checked, with their signed manifests",
		Long: `Do what OpenAI's download script does, against codexgov: for each event type,
list the log files after the checkpoint, download each (list → 307 → signed
URL), check its SHA-256 and that its manifest follows the last one pulled,
and write NAME.jsonl with NAME.manifest.json, the JWKS and the checkpoint into
--out. Records are also appended, de-duplicated on event_id, to
TYPE.events.jsonl. Run it again to fetch only what is new; verify the folder
offline with codexgov compliance verify. Needs a key with compliance:read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := e.ws()
			if err != nil {
				return err
			}
			e.http = serverHTTP(cmd.Context())
			return pull(cmd.Context(), e, ws, out, types, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	e.serverFlags(fl, "API key with compliance:read")
	addCAFlag(cmd, false)
	fl.StringVarP(&out, "out", "o", "", "folder to write into (created; its checkpoint says where the last pull ended)")
	fl.StringArrayVar(&types, "event-type", codexgov.ComplianceEventTypes, "event type to pull (repeatable)")
	cmd.MarkFlagRequired("out")
	return cmd
}

// pull fetches new files of each type into dir.
func pull(ctx context.Context, e *adminEnv, ws, dir string, types []string, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c := e.client()
	cp := compliance.Checkpoint{Chains: map[string]compliance.ChainHead{}}
	if raw, err := os.ReadFile(filepath.Join(dir, compliance.CheckpointFile)); err == nil {
		if err := json.Unmarshal(raw, &cp); err != nil {
			return fmt.Errorf("%s: %w", compliance.CheckpointFile, err)
		}
	}
	jwks, err := getRaw(ctx, c.HTTP, c.Base()+"/.well-known/jwks.json", "")
	if err != nil {
		return fmt.Errorf("the JWKS: %w", err)
	}
	if err := writePulled(filepath.Join(dir, compliance.JWKSFile), jwks); err != nil {
		return err
	}
	base := "/v1/compliance/workspaces/" + url.PathEscape(ws)
	files, records, erased := 0, 0, 0
	for _, typ := range types {
		seen, err := loadSeen(filepath.Join(dir, typ+".events.jsonl"))
		if err != nil {
			return err
		}
		for {
			var page struct {
				Data []struct {
					ID         string `json:"id"`
					FileName   string `json:"file_name"`
					SHA256     string `json:"file_sha256"`
					ReplacedBy string `json:"replaced_by"`
				} `json:"data"`
				HasMore     bool    `json:"has_more"`
				LastEndTime *string `json:"last_end_time"`
			}
			after := "1970-01-01T00:00:00Z"
			var chainKey string
			for k, h := range cp.Chains {
				if strings.HasSuffix(k, "/"+typ) && h.After != "" {
					after, chainKey = h.After, k
				}
			}
			q := url.Values{"event_type": {typ}, "after": {after}, "limit": {"100"}, "include_replaced": {"true"}}
			if err := retry(ctx, func() error { return c.Do(ctx, "GET", base+"/logs?"+q.Encode(), nil, &page) }); err != nil {
				return err
			}
			for _, f := range page.Data {
				var sm compliance.SignedManifest
				if err := retry(ctx, func() error { return c.Do(ctx, "GET", base+"/logs/"+url.PathEscape(f.ID)+"/manifest", nil, &sm) }); err != nil {
					return err
				}
				var m compliance.Manifest
				if err := json.Unmarshal([]byte(sm.Manifest), &m); err != nil || m.SHA256 != f.SHA256 || m.FileName != f.FileName {
					return fmt.Errorf("file %s: its manifest does not describe it", f.ID)
				}
				key := m.WorkspaceID + "/" + m.EventType
				if chainKey == "" {
					chainKey = key
				}
				if head, ok := cp.Chains[key]; ok && head.Seq > 0 && (m.Seq != head.Seq+1 || m.PrevManifestSHA256 != head.ManifestSHA256) {
					return fmt.Errorf("file %s (#%d) does not follow the last one pulled (#%d): the server's chain changed; verify the folder and investigate", f.FileName, m.Seq, head.Seq)
				}
				smRaw, _ := json.Marshal(sm)
				advance := func() {
					first := cp.Chains[key].First
					if first == 0 {
						first = m.Seq
					}
					cp.Chains[key] = compliance.ChainHead{First: first, Seq: m.Seq, ManifestSHA256: compliance.Hash([]byte(sm.Manifest)), After: cp.Chains[key].After}
				}
				if f.ReplacedBy != "" {
					// Replaced after a deletion before this folder got it:
					// its manifest keeps the chain; its records are gone.
					if err := writePulled(filepath.Join(dir, f.FileName+compliance.ManifestSuffix), smRaw); err != nil {
						return err
					}
					advance()
					continue
				}
				token, err := c.Bearer(ctx)
				if err != nil {
					return err
				}
				var body []byte
				err = retry(ctx, func() error {
					var err error
					body, err = getRaw(ctx, c.HTTP, c.Base()+base+"/logs/"+url.PathEscape(f.ID), token)
					return err
				})
				if err != nil {
					return fmt.Errorf("file %s: %w", f.FileName, err)
				}
				sum := sha256.Sum256(body)
				if hex.EncodeToString(sum[:]) != f.SHA256 {
					return fmt.Errorf("file %s: the download's SHA-256 is not file_sha256", f.FileName)
				}
				if err := writePulled(filepath.Join(dir, f.FileName), body); err != nil {
					return err
				}
				if err := writePulled(filepath.Join(dir, f.FileName+compliance.ManifestSuffix), smRaw); err != nil {
					return err
				}
				if m.Replaces != "" {
					gone, err := dropReplaced(dir, typ, m.Replaces, body)
					if err != nil {
						return err
					}
					for id := range gone {
						delete(seen, id)
					}
					erased += len(gone)
				}
				n, err := appendNew(filepath.Join(dir, typ+".events.jsonl"), body, seen)
				if err != nil {
					return err
				}
				records += n
				files++
				advance()
			}
			if page.LastEndTime != nil && chainKey != "" {
				h := cp.Chains[chainKey]
				h.After = *page.LastEndTime
				cp.Chains[chainKey] = h
			}
			raw, _ := json.MarshalIndent(cp, "", "  ")
			if err := writePulled(filepath.Join(dir, compliance.CheckpointFile), raw); err != nil {
				return err
			}
			if !page.HasMore {
				break
			}
		}
	}
	fmt.Fprintf(w, "pulled %d files, %d new records, into %s\n", files, records, dir)
	if erased > 0 {
		fmt.Fprintf(w, "removed %d records the server deleted (files re-sealed after a deletion)\n", erased)
	}
	return nil
}

func writePulled(path string, data []byte) error {
	_, err := atomicfile.Write(path, data, atomicfile.Options{Mode: 0o644})
	return err
}

// errBusy is getRaw's error on 429 and 503.
var errBusy = errors.New("the server asks to retry later")

// retry runs fn again while the server says it is busy (the Compliance
// API's 100 requests a minute per route: 429), waiting 2, 4, 8… seconds,
// at most 8 times.
func retry(ctx context.Context, fn func() error) error {
	wait := 2 * time.Second
	for i := 0; ; i++ {
		err := fn()
		if err == nil || i == 8 || !(errors.Is(err, errBusy) || codexgov.ErrorCode(err) == codexgov.ETOOMANY || codexgov.ErrorCode(err) == codexgov.EUNAVAILABLE) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

func getRaw(ctx context.Context, hc *http.Client, u, bearer string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return nil, fmt.Errorf("%s: %s: %w", u, resp.Status, errBusy)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s: %s %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	return io.ReadAll(resp.Body)
}

// loadSeen reads the event IDs already in an events file.
func loadSeen(file string) (map[string]bool, error) {
	seen := map[string]bool{}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return seen, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			seen[r.EventID] = true
		}
	}
	return seen, sc.Err()
}

// appendNew appends the body's records not seen yet (by event_id).
func appendNew(file string, body []byte, seen map[string]bool) (int, error) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(body), "\n"), "\n") {
		var r struct {
			EventID string `json:"event_id"`
		}
		if line == "" || json.Unmarshal([]byte(line), &r) != nil || seen[r.EventID] {
			continue
		}
		seen[r.EventID] = true
		if _, err := f.WriteString(line + "\n"); err != nil {
			return n, err
		}
		n++
	}
	return n, f.Sync()
}

// dropReplaced applies a re-sealed file to the folder: the file it
// replaces loses its body (its manifest stays, a link of the chain), and
// the records the deletion removed leave TYPE.events.jsonl. It returns
// their event IDs.
func dropReplaced(dir, typ, replacedID string, newBody []byte) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	gone := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), compliance.ManifestSuffix) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var sm compliance.SignedManifest
		var m compliance.Manifest
		if json.Unmarshal(raw, &sm) != nil || json.Unmarshal([]byte(sm.Manifest), &m) != nil || m.ID != replacedID {
			continue
		}
		old, err := os.ReadFile(filepath.Join(dir, m.FileName))
		if errors.Is(err, os.ErrNotExist) {
			return gone, nil
		}
		if err != nil {
			return nil, err
		}
		kept := eventIDs(newBody)
		for id := range eventIDs(old) {
			if !kept[id] {
				gone[id] = true
			}
		}
		if err := os.Remove(filepath.Join(dir, m.FileName)); err != nil {
			return nil, err
		}
		break
	}
	if len(gone) == 0 {
		return gone, nil
	}
	file := filepath.Join(dir, typ+".events.jsonl")
	all, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(all), "\n") {
		var r struct {
			EventID string `json:"event_id"`
		}
		if line == "" || (json.Unmarshal([]byte(line), &r) == nil && gone[r.EventID]) {
			continue
		}
		out.WriteString(line)
	}
	return gone, writePulled(file, out.Bytes())
}

func eventIDs(body []byte) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		var r struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.EventID != "" {
			out[r.EventID] = true
		}
	}
	return out
}
