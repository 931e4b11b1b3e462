package codexgov

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// PolicyInput is what an admin writes: enforced requirements
// (requirements.toml) and optional managed defaults (config.toml keys,
// delivered as managed_config.toml).
type PolicyInput struct {
	Name         string `json:"name"`
	Requirements string `json:"requirements"`
	Defaults     string `json:"defaults"`
	// Comment says why this version was written; it is kept with it.
	Comment string `json:"comment,omitempty"`
	// BaseVersion, when set, is the version the writer started from
	// (If-Match): the write is refused with a conflict when the current
	// version is another (0: the policy must not exist yet).
	BaseVersion *int `json:"-"`
}

// PolicyVersion is one immutable version of a policy.
type PolicyVersion struct {
	Name         string `json:"name"`
	Version      int    `json:"version"`
	Requirements string `json:"requirements"`
	Defaults     string `json:"defaults"`
	Comment      string `json:"comment"`
	// Hash is the version's content hash (ContentHash).
	Hash      string    `json:"hash"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Warnings are findings Codex accepts silently (footguns), returned when
	// the version is written; they are not stored.
	Warnings []Detail `json:"warnings,omitempty"`
}

// ContentHash is the hash of a policy's two documents: SHA-256 over each
// length-prefixed document, hex, prefixed "sha256:".
func ContentHash(requirements, defaults string) string {
	h := sha256.New()
	for _, s := range []string{requirements, defaults} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// BodyHash is the strong entity tag of a served document: the hex SHA-256
// of its bytes.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// PolicyDiff is a unified diff of each document between two versions.
type PolicyDiff struct {
	Policy       string `json:"policy"`
	From         int    `json:"from"`
	To           int    `json:"to"`
	Requirements string `json:"requirements"`
	Defaults     string `json:"defaults"`
}

// PolicyDryRun is what PUT …/policies/{policy}?dry_run=true answers: the
// version that would be written, validated exactly as a real write is, and
// its diff against the current version. Nothing is stored or audited.
type PolicyDryRun struct {
	DryRun bool `json:"dry_run"`
	// Version is the number the write would get; Hash its content hash.
	Version  int      `json:"version"`
	Hash     string   `json:"hash"`
	Warnings []Detail `json:"warnings,omitempty"`
	// Unchanged is true when the documents equal the current version's.
	Unchanged bool       `json:"unchanged"`
	Diff      PolicyDiff `json:"diff"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// CheckName validates the name of a role, a policy, a service identity or
// an identity provider; field is the request's JSON pointer.
func CheckName(field, name string) error {
	if !nameRE.MatchString(name) {
		return &Error{Code: EINVALID, Message: "invalid name",
			Details: []Detail{{Field: field, Message: fmt.Sprintf("%q is not a valid name: use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", name)}}}
	}
	return nil
}

// Assignment maps groups to policies: the first rule whose group the user
// belongs to wins, and users no rule matches get the default policy (none
// when Default is empty). A policy is a complete profile: nothing is
// merged from later rules.
type Assignment struct {
	Rules []Rule `json:"rules"`
	// Default is the fallback policy's name.
	Default string `json:"default"`
	// Baseline names the policy whose requirements codexgov install
	// writes into each machine's /etc/codex/requirements.toml beside the
	// [config_server] table: the floor that holds below every served
	// policy. Empty for none.
	Baseline string `json:"baseline,omitempty"`
	// IfMatch, when set on a write, is the entity tag (AssignmentETag) of
	// the assignment the writer started from: the write is refused with a
	// conflict when the stored assignment is another.
	IfMatch string `json:"-"`
}

// AssignmentETag is an assignment's entity tag: a hash of its rules,
// default and baseline.
func AssignmentETag(a *Assignment) string {
	b, _ := json.Marshal(struct {
		R []Rule
		D string
		B string
	}{a.Rules, a.Default, a.Baseline})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// Rule assigns a policy to a group's members.
type Rule struct {
	Group  string `json:"group"`
	Policy string `json:"policy"`
}

// Match is the outcome of Select.
type Match struct {
	// Rule is the 1-based position of the matching rule; 0 when the
	// default applied or nothing did.
	Rule int `json:"rule"`
	// Policy is the selected policy's name; empty when no rule matched and
	// there is no default.
	Policy   string `json:"policy"`
	Fallback bool   `json:"fallback"`
	// Skipped explains every rule before the match (all rules when none
	// matched) and why it did not apply.
	Skipped []SkippedRule `json:"skipped"`
	Reason  string        `json:"reason"`
}

// SkippedRule is a rule that did not match, and why.
type SkippedRule struct {
	Rule   int    `json:"rule"`
	Group  string `json:"group"`
	Policy string `json:"policy"`
	Reason string `json:"reason"`
}

// Select applies the assignment to a subject that belongs to the given
// groups. subject names it in the reasons ("user a@b.c", "group eng").
func (a *Assignment) Select(subject string, inGroup func(string) bool) Match {
	var m Match
	for i, r := range a.Rules {
		if inGroup(r.Group) {
			m.Rule, m.Policy = i+1, r.Policy
			m.Reason = fmt.Sprintf("rule %d matched: %s is in group %q", i+1, subject, r.Group)
			return m
		}
		m.Skipped = append(m.Skipped, SkippedRule{Rule: i + 1, Group: r.Group, Policy: r.Policy,
			Reason: fmt.Sprintf("%s is not in group %q", subject, r.Group)})
	}
	if a.Default != "" {
		m.Policy, m.Fallback = a.Default, true
		m.Reason = fmt.Sprintf("no rule matched %s: the default policy applies", subject)
		return m
	}
	m.Reason = fmt.Sprintf("no rule matched %s and there is no default policy: no requirements apply", subject)
	return m
}

// Lookup is which policy a user or group really gets, and why.
type Lookup struct {
	Workspace string `json:"workspace"`
	// User is set for a lookup by email, Group for one by group.
	User   string   `json:"user,omitempty"`
	Group  string   `json:"group,omitempty"`
	Groups []string `json:"groups"`
	Match  Match    `json:"match"`
	// Policy is the selected version; nil when none applies.
	Policy *PolicyVersion `json:"policy"`
	// RequirementsETag is the entity tag /client/requirements serves.
	RequirementsETag string `json:"requirements_etag"`
	DefaultsETag     string `json:"defaults_etag"`
	// For user lookups: the user's permissions and access decisions.
	Active      *bool                `json:"active,omitempty"`
	Permissions []Permission         `json:"permissions,omitempty"`
	Access      map[Surface]Decision `json:"access,omitempty"`
	// SnapshotVersion is the state version the answer was computed from.
	SnapshotVersion int64 `json:"snapshot_version"`
	// BundleETag is the entity tag of the configuration-server bundle the
	// user is served.
	BundleETag string `json:"bundle_etag,omitempty"`
	// Devices are the user's devices with their delivery state (user
	// lookups only).
	Devices []DeviceStatus `json:"devices,omitempty"`
}
