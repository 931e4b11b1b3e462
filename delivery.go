package codexgov

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// EnrollmentToken identifies one machine to the native configuration
// server without a sign-in: headless Linux, CI runners and devboxes, which
// have no keyring for Codex's OAuth token store. It belongs to a user or to
// a named service identity, grants reading that identity's bundle and
// nothing else, and only its hash is stored.
type EnrollmentToken struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace"`
	// Name says which machine or fleet holds the token ("ci-runner-07").
	Name string `json:"name"`
	// User is the owning user's email; empty for a service identity.
	User string `json:"user,omitempty"`
	// Service names the service identity; empty for a user's token.
	Service string `json:"service,omitempty"`
	// Groups are a service identity's groups: they choose its policy and
	// grant its roles, as a user's groups do.
	Groups    []string  `json:"groups,omitempty"`
	Hash      string    `json:"-"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// LastUsedAt is when the token last fetched or reported (recorded in
	// batches); zero for never.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Secret     string    `json:"secret,omitempty"`
}

// Identity names who a token or grant acts for: "user:<email>" or
// "service:<name>".
func (t *EnrollmentToken) Identity() string {
	if t.Service != "" {
		return "service:" + t.Service
	}
	return "user:" + t.User
}

// OAuthCode is a pending authorization code: single use, short lived,
// stored by hash with what the token request must match.
type OAuthCode struct {
	Hash        string
	Workspace   string
	User        string
	ClientID    string
	RedirectURI string
	Challenge   string // PKCE S256 code challenge
	Scope       string
	Resource    string
	ExpiresAt   time.Time
}

// OAuthGrant is one sign-in of Codex to the native configuration server:
// the refresh-token family of one CODEX_HOME on one machine. Refresh tokens
// rotate; only the current and the previous one's hashes are stored.
type OAuthGrant struct {
	ID         string    `json:"id"`
	Workspace  string    `json:"workspace"`
	User       string    `json:"user"`
	ClientID   string    `json:"client_id"`
	Scope      string    `json:"scope"`
	Resource   string    `json:"resource,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	RotatedAt  time.Time `json:"rotated_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	// RevokeReason says why a grant was revoked: "admin", "code_reuse",
	// "refresh_reuse".
	RevokeReason string `json:"revoke_reason,omitempty"`
	RefreshHash  string `json:"-"`
	CodeHash     string `json:"-"`
}

// RefreshOutcome is what a refresh did.
type RefreshOutcome int

// Refresh outcomes.
const (
	RefreshRotated RefreshOutcome = iota // the current token, rotated
	RefreshGrace                         // the previous token within the grace period, rotated again
)

// Delivery kinds: how a machine identified itself to the bundle endpoint.
const (
	DeliveryEnrollment = "enrollment"
	DeliveryOAuth      = "oauth"
)

// Delivery is the proof of delivery of one device: the last bundle the
// native configuration server served it. A device is an enrollment token
// or an OAuth grant, or a machine running codexgov sync (LastFetch is its
// last report).
type Delivery struct {
	Workspace string `json:"workspace"`
	// Device is the enrollment token's or OAuth grant's ID, or a sync
	// machine's machine ID.
	Device string `json:"device"`
	Kind   string `json:"kind"`
	// Identity is "user:<email>" or "service:<name>".
	Identity string `json:"identity"`
	// Policy and PolicyVersion name what was served ("" and 0 when no
	// policy applied or access was denied).
	Policy        string `json:"policy"`
	PolicyVersion int    `json:"policy_version"`
	// BundleHash is the served body's SHA-256 hex, or "denied" when the
	// fetch was refused with 403. For a sync machine it is the applied
	// policy's content hash (PolicyVersion.Hash).
	BundleHash string `json:"bundle_hash"`
	UserAgent  string `json:"user_agent"`
	// FirstFetch and LastFetch are absent for a device that never fetched.
	FirstFetch time.Time `json:"first_fetch,omitzero"`
	LastFetch  time.Time `json:"last_fetch,omitzero"`
	Fetches    int64     `json:"fetches"`
}

// DeliveryDenied is Delivery.BundleHash of a refused fetch.
const DeliveryDenied = "denied"

// Delivery states.
const (
	// DeviceCurrent: the device's last fetch got what it should get now.
	DeviceCurrent = "current"
	// DevicePending: its policy changed since its last fetch; it gets the
	// new one at its next Codex start once its one-hour cache expires.
	DevicePending = "pending"
	// DeviceStale: no fetch for longer than the chosen threshold.
	DeviceStale = "stale"
	// DeviceDenied: its last fetch was refused (403): Codex keeps no
	// cache after a refusal, so the machine runs with no managed policy
	// from codexgov until access is granted.
	DeviceDenied = "denied"
)

// ClientCacheTTL is how long Codex 0.169.0 keeps a fetched bundle.
const ClientCacheTTL = time.Hour

// DeviceStatus is a device with what it should have now and its state.
type DeviceStatus struct {
	Delivery
	// LastFetch is zero for a device that never fetched.
	Expected DeliveryTarget `json:"expected"`
	State    string         `json:"state"`
	// CacheExpires is when the device's cached bundle expires (native
	// configuration server devices only).
	CacheExpires time.Time `json:"cache_expires,omitzero"`
	// Sync is what a codexgov sync machine last reported (kind sync only).
	Sync *SyncState `json:"sync,omitempty"`
}

// DeliveryTarget is the bundle an identity should receive now.
type DeliveryTarget struct {
	Policy        string `json:"policy"`
	PolicyVersion int    `json:"policy_version"`
	BundleHash    string `json:"bundle_hash"`
}

// DeviceState classifies a device: stale when it has not fetched for
// longer than staleAfter, else denied when its last fetch was refused,
// else current when it got the target, else pending.
func DeviceState(d *Delivery, target DeliveryTarget, now time.Time, staleAfter time.Duration) string {
	switch {
	case d.LastFetch.IsZero() || now.Sub(d.LastFetch) > staleAfter:
		return DeviceStale
	case d.BundleHash == DeliveryDenied:
		return DeviceDenied
	case d.BundleHash == target.BundleHash:
		return DeviceCurrent
	}
	return DevicePending
}

// DeliverySync is the device kind of a machine running codexgov sync,
// which writes the policy into /etc/codex itself and reports each run.
const DeliverySync = "sync"

// Results of a codexgov sync run, as it reports them.
const (
	// SyncApplied: a new policy was verified, validated and written.
	SyncApplied = "applied"
	// SyncUnchanged: the server has nothing newer; the files hold it.
	SyncUnchanged = "unchanged"
	// SyncRepaired: the files on disk differed from the last known good
	// policy (edited or removed by hand) and were rewritten from it.
	SyncRepaired = "repaired"
	// SyncRefused: the response failed signature verification or Codex
	// would reject it; nothing was changed.
	SyncRefused = "refused"
	// SyncDenied: the server refused the machine's identity (no access,
	// revoked credential); the last known good files stay.
	SyncDenied = "denied"
	// SyncFailed: any other failure (the server unreachable, a full
	// disk); nothing was changed.
	SyncFailed = "failed"
)

// SyncResults are the results a sync report may carry.
var SyncResults = []string{SyncApplied, SyncUnchanged, SyncRepaired, SyncRefused, SyncDenied, SyncFailed}

// SyncHost is what a codexgov sync machine says about itself.
type SyncHost struct {
	Hostname     string `json:"hostname"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	AgentVersion string `json:"agent_version"`
	// CodexVersion is what `codex --version` on the agent's PATH printed
	// ("" when no codex was found).
	CodexVersion string `json:"codex_version"`
}

// SyncReport is what codexgov sync sends after each run. The identity is
// the credential's, never the report's.
type SyncReport struct {
	// MachineID is stable per machine (derived from /etc/machine-id, or
	// generated once into the agent's state folder).
	MachineID string `json:"machine_id"`
	SyncHost
	// AppliedHash is the ContentHash of the requirements and managed
	// defaults the machine's files hold after the run ("" for none): the
	// policy version's Hash when they hold one.
	AppliedHash   string `json:"applied_hash"`
	Policy        string `json:"policy"`
	PolicyVersion int    `json:"policy_version"`
	Result        string `json:"result"`
	// Error says why a run did not apply (refused, denied, failed).
	Error string `json:"error,omitempty"`
	// PinnedKIDs are the signing keys the machine trusts (its pinned
	// JWKS); absent from agents older than the field.
	PinnedKIDs []string `json:"pinned_kids,omitempty"`
}

var (
	machineIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)
	contentHashRE    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// MachineIDRule says what a machine ID may be.
const MachineIDRule = "8 to 128 characters from A-Z a-z 0-9 . _ : -"

// ValidMachineID reports whether id is a machine ID the server accepts.
func ValidMachineID(id string) bool { return machineIDPattern.MatchString(id) }

// Validate checks a report field by field; the error's details carry each
// field's JSON pointer. A long Error is shortened, never refused.
func (r *SyncReport) Validate() error {
	var bad []Detail
	check := func(ok bool, field, msg string) {
		if !ok {
			bad = append(bad, Detail{Field: field, Message: msg})
		}
	}
	check(ValidMachineID(r.MachineID), "/machine_id", "want "+MachineIDRule)
	check(r.AppliedHash == "" || contentHashRE.MatchString(r.AppliedHash), "/applied_hash", `want "" or "sha256:" and 64 lower-case hex digits`)
	check(slices.Contains(SyncResults, r.Result), "/result", "want one of "+strings.Join(SyncResults, ", "))
	check(r.PolicyVersion >= 0, "/policy_version", "want a version number, 0 for none")
	for _, f := range []struct {
		field, v string
		max      int
	}{{"/hostname", r.Hostname, 253}, {"/os", r.OS, 64}, {"/arch", r.Arch, 64}, {"/agent_version", r.AgentVersion, 64},
		{"/codex_version", r.CodexVersion, 64}, {"/policy", r.Policy, 128}} {
		check(len(f.v) <= f.max && utf8.ValidString(f.v), f.field, fmt.Sprintf("want valid UTF-8 of at most %d bytes", f.max))
	}
	check(len(r.PinnedKIDs) <= 32, "/pinned_kids", "want at most 32 key ids")
	for i, kid := range r.PinnedKIDs {
		check(kid != "" && len(kid) <= 128 && !strings.ContainsAny(kid, "\n\r") && utf8.ValidString(kid), fmt.Sprintf("/pinned_kids/%d", i), "want a key id of 1 to 128 bytes on one line")
	}
	if len(bad) > 0 {
		return &Error{Code: EINVALID, Message: "invalid sync report", Details: bad}
	}
	return nil
}

// SyncMachine is the last report of one machine running codexgov sync.
type SyncMachine struct {
	Workspace string `json:"workspace"`
	// Identity is the reporting credential's: "user:<email>" or
	// "service:<name>".
	Identity string `json:"identity"`
	// Credential is the enrollment token's, sign-in's or access token's ID.
	Credential string `json:"credential"`
	SyncReport
	FirstReport time.Time `json:"first_report"`
	LastReport  time.Time `json:"last_report"`
	// LastApplied is the last run that applied or confirmed a policy
	// (applied, unchanged, repaired); zero when none did.
	LastApplied time.Time `json:"last_applied,omitzero"`
	Reports     int64     `json:"reports"`
}

// SyncState is what a sync machine reported, shown in the devices list.
type SyncState struct {
	SyncHost
	Result      string    `json:"result"`
	Error       string    `json:"error,omitempty"`
	LastApplied time.Time `json:"last_applied,omitzero"`
}

// RetireBlockers names the sync machines that would stop trusting the
// server if key kid were retired: machines whose last report pinned no
// other published key (they have not yet fetched a key set signed by a
// successor), and machines whose agent does not report its pinned keys.
func RetireBlockers(kid string, published []*SigningKey, machines []*SyncMachine) []string {
	others := map[string]bool{}
	for _, k := range published {
		if k.KID != kid && k.RetiredAt.IsZero() {
			others[k.KID] = true
		}
	}
	var out []string
	for _, m := range machines {
		if len(m.PinnedKIDs) == 0 {
			out = append(out, fmt.Sprintf("%s/%s (%s, agent %s): does not report its pinned keys", m.Workspace, m.MachineID, m.Hostname, m.AgentVersion))
			continue
		}
		trustsOther := false
		for _, p := range m.PinnedKIDs {
			trustsOther = trustsOther || others[p]
		}
		if !trustsOther && slices.Contains(m.PinnedKIDs, kid) {
			out = append(out, fmt.Sprintf("%s/%s (%s): trusts only %s until its next sync after a policy change", m.Workspace, m.MachineID, m.Hostname, kid))
		}
	}
	return out
}

// DeviceSources are what the devices list joins: recorded bundle fetches,
// the credentials that can fetch (live enrollment tokens and Codex
// sign-ins), sync machines' reports, and what each identity should get.
type DeviceSources struct {
	Workspace  string
	Recorded   []*Delivery
	Enrollment []*EnrollmentToken
	Grants     []*OAuthGrant
	Machines   []*SyncMachine
	// CodexClientID names the grants Codex holds; other clients' grants
	// (codexgov login) are people, not devices.
	CLIClientID string
	// Target is what a native device should have now; false drops it (a
	// revoked credential, a removed workspace).
	Target     func(*Delivery) (DeliveryTarget, bool)
	SyncTarget func(*SyncMachine) DeliveryTarget
	// Identity, when set, keeps only that identity's devices.
	Identity   string
	Now        time.Time
	StaleAfter time.Duration
}

// JoinDevices is the devices list, most recent first: every native device
// (one per enrollment token or Codex sign-in) and every sync machine. A
// credential that only sync machines use, and a codexgov login, are not
// devices of their own.
func JoinDevices(in DeviceSources) []DeviceStatus {
	byDevice := map[string]*Delivery{}
	for _, d := range in.Recorded {
		byDevice[d.Device] = d
	}
	usedBySync := map[string]bool{}
	for _, m := range in.Machines {
		usedBySync[m.Credential] = true
	}
	var all []*Delivery
	add := func(id, kind, ident string) {
		if d := byDevice[id]; d != nil {
			all = append(all, d)
			return
		}
		if usedBySync[id] {
			return // never fetched a bundle: the sync machine is the device
		}
		all = append(all, &Delivery{Workspace: in.Workspace, Device: id, Kind: kind, Identity: ident})
	}
	for _, t := range in.Enrollment {
		add(t.ID, DeliveryEnrollment, t.Identity())
	}
	for _, g := range in.Grants {
		if g.RevokedAt.IsZero() && g.ClientID != in.CLIClientID {
			add(g.ID, DeliveryOAuth, "user:"+g.User)
		}
	}
	out := []DeviceStatus{}
	for _, d := range all {
		if in.Identity != "" && d.Identity != in.Identity {
			continue
		}
		target, ok := in.Target(d)
		if !ok {
			continue
		}
		st := DeviceStatus{Delivery: *d, Expected: target, State: DeviceState(d, target, in.Now, in.StaleAfter)}
		// Codex caches a served bundle for an hour, and nothing after a
		// refusal.
		if !d.LastFetch.IsZero() && d.BundleHash != DeliveryDenied {
			st.CacheExpires = d.LastFetch.Add(ClientCacheTTL)
		}
		out = append(out, st)
	}
	for _, m := range in.Machines {
		if in.Identity != "" && m.Identity != in.Identity {
			continue
		}
		d := Delivery{Workspace: m.Workspace, Device: m.MachineID, Kind: DeliverySync, Identity: m.Identity,
			Policy: m.Policy, PolicyVersion: m.PolicyVersion, BundleHash: m.AppliedHash,
			UserAgent: "codexgov-sync/" + m.AgentVersion, FirstFetch: m.FirstReport, LastFetch: m.LastReport, Fetches: m.Reports}
		target := in.SyncTarget(m)
		st := DeviceState(&d, target, in.Now, in.StaleAfter)
		if m.Result == SyncDenied && st != DeviceStale {
			st = DeviceDenied
		}
		out = append(out, DeviceStatus{Delivery: d, Expected: target, State: st,
			Sync: &SyncState{SyncHost: m.SyncHost, Result: m.Result, Error: m.Error, LastApplied: m.LastApplied}})
	}
	slices.SortStableFunc(out, func(a, b DeviceStatus) int { return b.LastFetch.Compare(a.LastFetch) })
	return out
}

// Bootstrap is what codexgov install needs to write a machine's
// /etc/codex/requirements.toml.
type Bootstrap struct {
	Workspace string `json:"workspace"`
	// Mode is "oauth" or "enrollment".
	Mode     string   `json:"mode"`
	ClientID string   `json:"client_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Baseline is the workspace's baseline policy (Assignment.Baseline),
	// written beside [config_server]; nil when it has none.
	Baseline *PolicyVersion `json:"baseline"`
}
