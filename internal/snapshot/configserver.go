package snapshot

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// Fragment is one entry of a configuration-server bundle's
// enterprise_managed list.
type Fragment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Contents string `json:"contents"`
}

// FragmentList is a bundle member: {"enterprise_managed": [...]}.
type FragmentList struct {
	EnterpriseManaged []Fragment `json:"enterprise_managed"`
}

// BundleResponse is the body Codex 0.169.0 fetches from
// {base_url}/codex/config/bundle (CONFIG_SERVER.md §4.2).
type BundleResponse struct {
	Requirements FragmentList `json:"requirements_toml"`
	Config       FragmentList `json:"config_toml"`
}

// FragmentID is the id a policy version's fragments carry: Codex names it
// in its messages ("enterprise-managed requirements strict (strict@v3)").
func FragmentID(p *codexgov.PolicyVersion) string {
	return fmt.Sprintf("%s@v%d", p.Name, p.Version)
}

// BundleBody is the bundle serving p: one requirements fragment with its
// requirements and, when it has managed defaults, one config fragment.
// No policy gives empty lists, which Codex accepts as no layers.
func BundleBody(p *codexgov.PolicyVersion) []byte {
	b := BundleResponse{Requirements: FragmentList{EnterpriseManaged: []Fragment{}}, Config: FragmentList{EnterpriseManaged: []Fragment{}}}
	if p != nil {
		id := FragmentID(p)
		b.Requirements.EnterpriseManaged = append(b.Requirements.EnterpriseManaged, Fragment{ID: id, Name: p.Name, Contents: p.Requirements})
		if strings.TrimSpace(p.Defaults) != "" {
			b.Config.EnterpriseManaged = append(b.Config.EnterpriseManaged, Fragment{ID: id, Name: p.Name, Contents: p.Defaults})
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		panic(err) // strings only
	}
	return out
}

func denied(d codexgov.Decision) error {
	return &codexgov.Error{Code: codexgov.EACCESSDENIED, Message: codexgov.AccessDeniedMessage, Details: []codexgov.Detail{{Message: d.Reason}}}
}

// UserBundle is the bundle an OAuth sign-in's user is served. A user who
// may not use Codex locally gets EACCESSDENIED.
func (s *Snapshot) UserBundle(ws, email string) (*Document, error) {
	sp, ok := s.spaces[ws]
	if !ok {
		return nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the access token is not valid")
	}
	v := sp.users[email]
	if v == nil {
		return nil, denied(codexgov.Decide(sp.ws.Settings, nil, nil, codexgov.SurfaceLocal))
	}
	if d := v.access[codexgov.SurfaceLocal]; !d.Allowed {
		return nil, denied(d)
	}
	return s.bundleOf(v.policy), nil
}

func (s *Snapshot) bundleOf(c *compiled) *Document {
	if c == nil {
		return s.emptyBundle
	}
	return c.bundle
}

// EnrollmentBundle authenticates an enrollment token and returns it with
// its identity's bundle. Unknown, revoked and expired tokens give
// EUNAUTHORIZED; an identity that may not use Codex locally gets
// EACCESSDENIED (with the token, for the delivery record).
func (s *Snapshot) EnrollmentBundle(secret string, now time.Time) (*codexgov.EnrollmentToken, *Document, error) {
	if !strings.HasPrefix(secret, codexgov.EnrollmentTokenPrefix) {
		return nil, nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the enrollment token is not valid")
	}
	ev, _ := s.enroll.get(codexgov.HashSecret(secret))
	if ev == nil {
		return nil, nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the enrollment token is not valid (unknown or revoked)")
	}
	if !ev.token.ExpiresAt.IsZero() && !now.Before(ev.token.ExpiresAt) {
		return nil, nil, codexgov.Errorf(codexgov.EUNAUTHORIZED, "the enrollment token expired at %s", ev.token.ExpiresAt.Format(time.RFC3339))
	}
	if !ev.access.Allowed {
		return ev.token, nil, denied(ev.access)
	}
	return ev.token, s.bundleOf(ev.policy), nil
}

// GrantRevoked reports whether an OAuth sign-in was revoked.
func (s *Snapshot) GrantRevoked(id string) bool { r, _ := s.revoked.get(id); return r }

// Baseline returns the workspace's baseline policy, if it has one.
func (s *Snapshot) Baseline(ws string) (*codexgov.PolicyVersion, bool) {
	sp, ok := s.spaces[ws]
	if !ok || sp.assignment.Baseline == "" {
		return nil, ok
	}
	c := sp.policies[sp.assignment.Baseline]
	if c == nil {
		return nil, true
	}
	return c.version, true
}

// Target is what a device should receive now. ok is false when the device
// no longer exists (a revoked enrollment token).
func (s *Snapshot) Target(d *codexgov.Delivery) (codexgov.DeliveryTarget, bool) {
	of := func(allowed bool, c *compiled) codexgov.DeliveryTarget {
		if !allowed {
			return codexgov.DeliveryTarget{BundleHash: codexgov.DeliveryDenied}
		}
		doc := s.bundleOf(c)
		return codexgov.DeliveryTarget{Policy: doc.Policy, PolicyVersion: doc.Version, BundleHash: doc.Hash}
	}
	if d.Kind == codexgov.DeliveryEnrollment {
		ev, _ := s.enrollByID.get(d.Device)
		if ev == nil {
			return codexgov.DeliveryTarget{}, false
		}
		return of(ev.access.Allowed, ev.policy), true
	}
	if _, ok := s.spaces[d.Workspace]; !ok || s.GrantRevoked(d.Device) {
		return codexgov.DeliveryTarget{}, false
	}
	return of(s.userAssigned(d.Workspace, d.Identity)), true
}

// userAssigned is whether a "user:<email>" identity may use Codex locally
// and the policy it is assigned; false for an unknown user.
func (s *Snapshot) userAssigned(ws, identity string) (allowed bool, c *compiled) {
	email, ok := strings.CutPrefix(identity, "user:")
	sp := s.spaces[ws]
	if !ok || sp == nil {
		return false, nil
	}
	if v := sp.users[email]; v != nil {
		return v.access[codexgov.SurfaceLocal].Allowed, v.policy
	}
	return false, nil
}

// SyncTarget is what a codexgov sync machine should hold now: the policy
// its identity is assigned, by content hash (PolicyVersion.Hash), or
// "denied" when the identity may not use Codex locally (a service
// identity whose enrollment token was revoked has none).
func (s *Snapshot) SyncTarget(m *codexgov.SyncMachine) codexgov.DeliveryTarget {
	allowed, c := s.userAssigned(m.Workspace, m.Identity)
	who := TelemetrySender{Workspace: m.Workspace, Identity: m.Identity, Credential: m.Credential}
	if ev, _ := s.enrollByID.get(m.Credential); ev != nil {
		allowed, c = ev.access.Allowed, ev.policy
		who.Device = ev.token.Name
	}
	if !allowed {
		return codexgov.DeliveryTarget{BundleHash: codexgov.DeliveryDenied}
	}
	// With telemetry on, the machine holds the policy and its own [otel]
	// block (Decorate).
	if c == nil {
		body, _ := s.decorate(nil, who)
		return codexgov.DeliveryTarget{BundleHash: codexgov.ContentHash(string(body), "")}
	}
	t := codexgov.DeliveryTarget{Policy: c.version.Name, PolicyVersion: c.version.Version, BundleHash: c.version.Hash}
	if body, enforced := s.decorate([]byte(c.version.Requirements), who); enforced {
		t.BundleHash = codexgov.ContentHash(string(body), c.version.Defaults)
	}
	return t
}

// EnrollmentTokens returns the workspace's live enrollment tokens, in
// creation order.
func (s *Snapshot) EnrollmentTokens(ws string) []*codexgov.EnrollmentToken {
	if sp, ok := s.spaces[ws]; ok {
		return sp.enrollment
	}
	return nil
}
