// Package syncagent is codexgov sync: it fetches a machine's policy from
// /api/v1/client/{requirements,defaults}, verifies the detached signatures
// against the key set it pinned at enrollment, validates the result as
// Codex 0.169.0 would read it, and writes /etc/codex/requirements.toml and
// managed_config.toml atomically. The last known good policy is kept in a
// state folder: when the server is down, or a response fails verification
// or validation, nothing changes and Codex keeps enforcing it (fail open to
// the last known good policy, where the native configuration server fails
// closed).
package syncagent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/internal/atomicfile"
	"github.com/codexgov/codexgov/internal/signing"
)

// The files the agent owns.
const (
	RequirementsFile  = "requirements.toml"
	ManagedConfigFile = "managed_config.toml"
	// In the state folder:
	jwksFile      = "jwks.json"
	lkgFile       = "last-known-good.json"
	machineIDFile = "machine-id"
)

// Config is one machine's agent.
type Config struct {
	// Client talks to the server with the machine's credential.
	Client *client.Client
	// Etc is the folder Codex reads (/etc/codex).
	Etc string
	// State keeps the pinned key set and the last known good policy
	// (/var/lib/codexgov/sync); it is created with mode 0700.
	State string
	// PinJWKS, when set, is the key set to pin at enrollment instead of
	// trusting the server's on first use.
	PinJWKS []byte
	// MachineID overrides the derived machine ID.
	MachineID string
	// Codex is the codex binary whose version is reported ("" looks up
	// codex on PATH).
	Codex        string
	AgentVersion string
	Log          *slog.Logger
	// Hostname is the machine's name (os.Hostname when nil); Codex
	// evaluates remote_sandbox_config against it.
	Hostname func() string
}

// Document is one verified document as kept in the state folder.
type Document struct {
	Body      string `json:"body"`
	ETag      string `json:"etag"`
	Signature string `json:"signature"`
}

// LastKnownGood is the last policy the agent verified, validated and
// wrote.
type LastKnownGood struct {
	Requirements Document  `json:"requirements"`
	Defaults     Document  `json:"defaults"`
	Policy       string    `json:"policy"`
	Version      int       `json:"policy_version"`
	Hash         string    `json:"hash"`
	AppliedAt    time.Time `json:"applied_at"`
	KID          string    `json:"kid"`
}

// Outcome is one run's result, as reported to the server.
type Outcome struct {
	Result string
	Err    error
	// Policy, Version and Hash describe what the files hold after the run
	// (empty when the agent has never applied one).
	Policy  string
	Version int
	Hash    string
	// Reported is false when the report could not be sent.
	Reported bool
	// ReportRefused is the server's refusal of the report (an invalid
	// machine ID, say): the machine will not show in the devices list, so
	// the run counts as failed.
	ReportRefused error
}

// Agent runs syncs for one machine.
type Agent struct {
	cfg Config
	log *slog.Logger
}

// New checks the configuration and prepares the state folder.
func New(cfg Config) (*Agent, error) {
	if cfg.Client == nil || cfg.Etc == "" || cfg.State == "" {
		return nil, errors.New("syncagent: Client, Etc and State are required")
	}
	if err := os.MkdirAll(cfg.State, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	if err := os.Chmod(cfg.State, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	if cfg.Hostname == nil {
		cfg.Hostname = func() string { h, _ := os.Hostname(); return h }
	}
	a := &Agent{cfg: cfg, log: cfg.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// refusal is a response that failed verification or validation.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

// RunOnce runs one sync and reports it.
func (a *Agent) RunOnce(ctx context.Context) Outcome {
	o := a.sync(ctx)
	if o.Err != nil {
		a.log.Warn("sync: nothing changed", "result", o.Result, "reason", o.Err.Error(), "holding", o.Holding())
	} else {
		a.log.Info("sync: "+o.Result, "policy", o.Policy, "version", o.Version, "hash", o.Hash)
	}
	report := codexgov.SyncReport{MachineID: a.machineID(), SyncHost: codexgov.SyncHost{Hostname: a.cfg.Hostname(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		AgentVersion: a.cfg.AgentVersion, CodexVersion: a.codexVersion(ctx)}, AppliedHash: o.Hash, Policy: o.Policy, PolicyVersion: o.Version, Result: o.Result}
	if o.Err != nil {
		report.Error = o.Err.Error()
	}
	report.PinnedKIDs = a.pinnedKIDs()
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var api *client.APIError
	if err := a.cfg.Client.ReportSync(rctx, report); errors.As(err, &api) && api.StatusCode < 500 {
		o.ReportRefused = err
		a.log.Error("sync: the server refused the report; this machine will not show in the devices list", "err", err)
	} else if err != nil {
		a.log.Warn("sync: the report did not reach the server", "err", err)
	} else {
		o.Reported = true
	}
	return o
}

// Holding says what the machine's files hold after the run.
func (o Outcome) Holding() string {
	if o.Hash == "" {
		return "no policy"
	}
	return fmt.Sprintf("policy %s v%d (%s)", o.Policy, o.Version, o.Hash)
}

func (a *Agent) sync(ctx context.Context) Outcome {
	for _, dir := range []string{a.cfg.Etc, a.cfg.State} {
		if removed, err := atomicfile.CleanTemp(dir); err != nil {
			return Outcome{Result: codexgov.SyncFailed, Err: err}
		} else if len(removed) > 0 {
			a.log.Info("sync: removed temporary files an interrupted run left", "dir", dir, "files", removed)
		}
	}
	lkg, err := a.lastKnownGood()
	if err != nil {
		return Outcome{Result: codexgov.SyncFailed, Err: err}
	}
	// What the machine holds unless this run changes it.
	held := func(result string, err error) Outcome {
		o := Outcome{Result: result, Err: err}
		if lkg != nil {
			o.Policy, o.Version, o.Hash = lkg.Policy, lkg.Version, lkg.Hash
		}
		return o
	}
	// Files edited or removed by hand are put back from the last known
	// good policy first: that needs no server.
	repaired := false
	if lkg != nil {
		if repaired, err = a.repair(lkg); err != nil {
			return held(codexgov.SyncFailed, err)
		}
	}
	fresh, err := a.fetch(ctx, lkg)
	var rf refusal
	var api *client.APIError
	switch {
	case errors.As(err, &rf):
		return held(codexgov.SyncRefused, err)
	case errors.As(err, &api) && (api.StatusCode == 401 || api.StatusCode == 403 || api.StatusCode == 404):
		return held(codexgov.SyncDenied, err)
	case err != nil:
		return held(codexgov.SyncFailed, err)
	case fresh == nil && repaired:
		return held(codexgov.SyncRepaired, nil)
	case fresh == nil:
		return held(codexgov.SyncUnchanged, nil)
	}
	if err := a.apply(fresh, lkg == nil); err != nil {
		return held(codexgov.SyncFailed, err)
	}
	lkg = fresh
	return held(codexgov.SyncApplied, nil)
}

// fetch returns the server's policy when it differs from the last known
// good one, verified and validated; nil when it is the same.
func (a *Agent) fetch(ctx context.Context, lkg *LastKnownGood) (*LastKnownGood, error) {
	jwks, err := a.pinnedJWKS(ctx)
	if err != nil {
		return nil, err
	}
	var etagReq, etagDef string
	if lkg != nil {
		etagReq, etagDef = lkg.Requirements.ETag, lkg.Defaults.ETag
	}
	// The two documents come from one snapshot unless the policy changed
	// between the requests: then the pair is fetched again.
	for attempt := 0; ; attempt++ {
		req, err := a.cfg.Client.ClientRequirements(ctx, etagReq)
		if err != nil {
			return nil, err
		}
		def, err := a.cfg.Client.ClientDefaults(ctx, etagDef)
		if err != nil {
			return nil, err
		}
		if req.NotModified && def.NotModified {
			return nil, nil
		}
		// One changed and one did not, or the two are of different
		// versions: fetch both in full, so that the pair is one version.
		half := req.NotModified || def.NotModified
		if attempt < 2 && (half || req.Policy != def.Policy || req.Version != def.Version) {
			etagReq, etagDef = "", ""
			continue
		}
		if half {
			return nil, errors.New("the server answered 304 Not Modified to a request without If-None-Match")
		}
		out := &LastKnownGood{Policy: req.Policy, Version: req.Version}
		for _, p := range []struct {
			name string
			doc  *client.Document
			into *Document
		}{{RequirementsFile, req, &out.Requirements}, {ManagedConfigFile, def, &out.Defaults}} {
			kid, err := a.verify(ctx, &jwks, p.doc)
			if err != nil {
				return nil, refusal{fmt.Errorf("%s from the server: %w; nothing was changed", p.name, err)}
			}
			if got := `"` + codexgov.BodyHash(p.doc.Body) + `"`; p.doc.ETag != got {
				return nil, refusal{fmt.Errorf("%s from the server: the entity tag %s is not the body's %s", p.name, p.doc.ETag, got)}
			}
			out.KID = kid
			*p.into = Document{Body: string(p.doc.Body), ETag: p.doc.ETag, Signature: p.doc.Signature}
		}
		out.Hash = codexgov.ContentHash(out.Requirements.Body, out.Defaults.Body)
		if lkg != nil && out.Hash == lkg.Hash {
			return nil, nil
		}
		if err := a.validate(out); err != nil {
			return nil, refusal{err}
		}
		return out, nil
	}
}

// verify checks a document's detached signature against the pinned key
// set. A key the set does not have means the server rotated its keys:
// the server's current set is accepted when a pinned key signed it, and
// pinned in turn.
func (a *Agent) verify(ctx context.Context, jwks *[]byte, d *client.Document) (string, error) {
	if d.Signature == "" {
		return "", errors.New("it carries no signature")
	}
	kid, err := signing.Verify(*jwks, d.Body, d.Signature)
	if err == nil {
		return kid, nil
	}
	if !errors.Is(err, signing.ErrUnknownKey) {
		return "", fmt.Errorf("the signature does not verify: %w", err)
	}
	current, ferr := a.cfg.Client.SignedJWKS(ctx)
	if ferr != nil {
		return "", fmt.Errorf("%w, and the server's key set could not be fetched: %v", err, ferr)
	}
	by, verr := signing.VerifyAny(*jwks, current.Body, current.Signature)
	if verr != nil {
		return "", fmt.Errorf("%w, and the server's key set is not signed by a pinned key (%v): re-pin with codexgov sync --repin if the keys were rotated on purpose", err, verr)
	}
	if _, err := atomicfile.Write(filepath.Join(a.cfg.State, jwksFile), current.Body, atomicfile.Options{Mode: 0o600}); err != nil {
		return "", err
	}
	a.log.Info("sync: the server rotated its signing keys; pinned the new key set", "vouched_by", by)
	*jwks = current.Body
	kid, err = signing.Verify(*jwks, d.Body, d.Signature)
	if err != nil {
		return "", fmt.Errorf("the signature does not verify: %w", err)
	}
	return kid, nil
}

// pinnedJWKS returns the pinned key set, pinning one at enrollment: the
// one given (--jwks), else the server's on first use.
func (a *Agent) pinnedJWKS(ctx context.Context) ([]byte, error) {
	path := filepath.Join(a.cfg.State, jwksFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	pin := a.cfg.PinJWKS
	how := "given with --jwks"
	if pin == nil {
		d, err := a.cfg.Client.SignedJWKS(ctx)
		if err != nil {
			return nil, fmt.Errorf("enrollment: fetch the server's key set: %w", err)
		}
		// The set must at least vouch for itself.
		if _, err := signing.VerifyAny(d.Body, d.Body, d.Signature); err != nil {
			return nil, refusal{fmt.Errorf("enrollment: the server's key set is not signed by its own keys: %w", err)}
		}
		pin, how = d.Body, "the server's, trusted on first use"
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(pin, &set); err != nil || len(set.Keys) == 0 {
		return nil, refusal{fmt.Errorf("enrollment: the key set to pin is not a JWKS with keys (%v)", err)}
	}
	if _, err := atomicfile.Write(path, pin, atomicfile.Options{Mode: 0o600}); err != nil {
		return nil, err
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.KID
	}
	a.log.Info("sync: pinned the signing key set", "how", how, "kids", kids)
	return pin, nil
}

// pinnedKIDs lists the key ids of the pinned set, for the report: the
// server will not retire a key machines trust alone.
func (a *Agent) pinnedKIDs() []string {
	b, err := os.ReadFile(filepath.Join(a.cfg.State, jwksFile))
	if err != nil {
		return nil
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal(b, &set) != nil {
		return nil
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// Repin forgets the pinned key set; the next run pins again.
func (a *Agent) Repin() error {
	err := os.Remove(filepath.Join(a.cfg.State, jwksFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// validate composes the two files as Codex 0.169.0 reads them from Etc.
func (a *Agent) validate(l *LastKnownGood) error {
	reqPath, defPath := filepath.Join(a.cfg.Etc, RequirementsFile), filepath.Join(a.cfg.Etc, ManagedConfigFile)
	in := requirements.Inputs{
		System:        &requirements.Layer{Source: requirements.Source{Kind: requirements.SystemFile, Path: reqPath}, Contents: l.Requirements.Body, BaseDir: a.cfg.Etc},
		LegacyManaged: &requirements.Layer{Source: requirements.Source{Kind: requirements.LegacyManagedFile, Path: defPath}, Contents: l.Defaults.Body, BaseDir: a.cfg.Etc},
		Hostname:      a.cfg.Hostname,
	}
	if _, err := requirements.Effective(in); err != nil {
		return fmt.Errorf("policy %s v%d: Codex %s would refuse to start with it: %v; nothing was changed", l.Policy, l.Version, requirements.CodexVersion, err)
	}
	return nil
}

// apply keeps the policy as the last known good one, then writes the
// files. A run killed in between leaves each file whole; the next run
// puts back whatever differs from the last known good policy.
func (a *Agent) apply(l *LastKnownGood, first bool) error {
	l.AppliedAt = time.Now().UTC()
	b, _ := json.MarshalIndent(l, "", "  ")
	if _, err := atomicfile.Write(filepath.Join(a.cfg.State, lkgFile), b, atomicfile.Options{Mode: 0o600}); err != nil {
		return fmt.Errorf("keep the last known good policy: %w", err)
	}
	// The first apply keeps the files it replaces (written by someone
	// else) as .codexgov-backup.
	_, err := a.writeFiles(l, first)
	return err
}

// repair rewrites the files that differ from the last known good policy.
func (a *Agent) repair(l *LastKnownGood) (bool, error) {
	changed, err := a.writeFiles(l, false)
	if changed {
		a.log.Warn("sync: the files differed from the last known good policy and were put back", "policy", l.Policy, "version", l.Version)
	}
	return changed, err
}

func (a *Agent) writeFiles(l *LastKnownGood, backup bool) (bool, error) {
	changed := false
	for _, f := range []struct{ name, body string }{{RequirementsFile, l.Requirements.Body}, {ManagedConfigFile, l.Defaults.Body}} {
		path := filepath.Join(a.cfg.Etc, f.name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, []byte(f.body)) {
			continue
		}
		b, err := atomicfile.Write(path, []byte(f.body), atomicfile.Options{Mode: 0o644, Root: true, Backup: backup})
		if err != nil {
			return changed, fmt.Errorf("write %s: %w", path, err)
		}
		if b != "" {
			a.log.Info("sync: kept the file it replaced", "backup", b)
		}
		changed = true
	}
	return changed, nil
}

// lastKnownGood reads the kept policy (nil before the first apply).
func (a *Agent) lastKnownGood() (*LastKnownGood, error) {
	path := filepath.Join(a.cfg.State, lkgFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l LastKnownGood
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w (remove it to fetch the policy again)", path, err)
	}
	if l.Hash != codexgov.ContentHash(l.Requirements.Body, l.Defaults.Body) {
		return nil, fmt.Errorf("%s: its content does not match its hash (remove it to fetch the policy again)", path)
	}
	return &l, nil
}

// machineID is stable per machine and reveals nothing of /etc/machine-id
// (an application-specific hash of it, as systemd recommends).
func (a *Agent) machineID() string {
	if a.cfg.MachineID != "" {
		return a.cfg.MachineID
	}
	path := filepath.Join(a.cfg.State, machineIDFile)
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) >= 8 {
		return string(bytes.TrimSpace(b))
	}
	var id string
	if b, err := os.ReadFile("/etc/machine-id"); err == nil && len(bytes.TrimSpace(b)) > 0 {
		m := hmac.New(sha256.New, bytes.TrimSpace(b))
		m.Write([]byte("codexgov sync machine id"))
		id = hex.EncodeToString(m.Sum(nil))[:32]
	} else {
		var r [16]byte
		rand.Read(r[:])
		id = hex.EncodeToString(r[:])
	}
	atomicfile.Write(path, []byte(id+"\n"), atomicfile.Options{Mode: 0o600})
	return id
}

// codexVersion is what `codex --version` prints, "" when there is no
// codex.
func (a *Agent) codexVersion(ctx context.Context) string {
	bin := a.cfg.Codex
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("codex"); err != nil {
			return ""
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	return fields[len(fields)-1]
}

// Backoff is the daemon's schedule.
type Backoff struct {
	// Interval is the time between successful runs (jittered by ±10%).
	Interval time.Duration
	// Min is the first retry delay after a failure; it doubles up to
	// Interval, with full jitter over its upper half.
	Min time.Duration
}

// Next is the delay after a run: failures counts the failed runs in a row
// (0 after a success).
func (b Backoff) Next(failures int) time.Duration {
	if failures == 0 {
		return jitter(b.Interval, 0.9, 1.1)
	}
	d := b.Interval
	if f := float64(b.Min) * math.Pow(2, float64(failures-1)); f < float64(b.Interval) {
		d = time.Duration(f)
	}
	return jitter(d, 0.5, 1)
}

func jitter(d time.Duration, lo, hi float64) time.Duration {
	return time.Duration(float64(d) * (lo + mrand.Float64()*(hi-lo)))
}

// Daemon runs syncs until ctx ends.
func (a *Agent) Daemon(ctx context.Context, b Backoff) {
	failures := 0
	for {
		o := a.RunOnce(ctx)
		switch o.Result {
		case codexgov.SyncApplied, codexgov.SyncUnchanged, codexgov.SyncRepaired:
			failures = 0
		default:
			failures++
		}
		next := b.Next(failures)
		a.log.Debug("sync: next run", "in", next.Round(time.Second))
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
