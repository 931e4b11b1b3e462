package codexgov

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is one thing a role allows.
type Permission string

// The permissions a role can hold.
const (
	PermCodexLocal       Permission = "codex_local"       // use Codex CLI, IDE and app
	PermCodexCloud       Permission = "codex_cloud"       // use Codex cloud tasks
	PermCodexAdmin       Permission = "codex_admin"       // analytics, policies, environments
	PermAccessTokens     Permission = "access_tokens"     // hold access tokens
	PermAnalyticsRead    Permission = "analytics_read"    // read the Analytics API
	PermComplianceRead   Permission = "compliance_read"   // read the Compliance API
	PermComplianceDelete Permission = "compliance_delete" // delete compliance records
	PermEnvironmentsEdit Permission = "environments_edit" // edit cloud environments
)

// Permissions lists every permission, in a fixed order.
func Permissions() []Permission {
	return []Permission{PermCodexLocal, PermCodexCloud, PermCodexAdmin, PermAccessTokens,
		PermAnalyticsRead, PermComplianceRead, PermComplianceDelete, PermEnvironmentsEdit}
}

// ParsePermissions checks a list of permission names; it returns them
// deduplicated and sorted, or an EINVALID error naming the bad entry by
// its JSON pointer under field.
func ParsePermissions(field string, in []Permission) ([]Permission, error) {
	out := make([]Permission, 0, len(in))
	for i, p := range in {
		if !slices.Contains(Permissions(), p) {
			names := make([]string, 0, 8)
			for _, k := range Permissions() {
				names = append(names, string(k))
			}
			return nil, &Error{Code: EINVALID, Message: "unknown permission",
				Details: []Detail{{Field: fmt.Sprintf("%s/%d", field, i), Message: fmt.Sprintf("unknown permission %q; valid: %s", p, strings.Join(names, ", "))}}}
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Surface is a way of using Codex.
type Surface string

// The surfaces the access decision covers.
const (
	SurfaceLocal Surface = "local" // CLI, IDE extension, desktop app, codex exec
	SurfaceCloud Surface = "cloud" // cloud tasks
)

// Decision is the outcome of the access decision for one surface.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// UserPermissions is the union of the permissions of every role granted to
// the user's groups; a user with no role through a group has the default
// role's. Roles unknown to roles are ignored.
func UserPermissions(groups []*Group, member func(*Group) bool, roles map[string]*Role, defaultRole string) []Permission {
	var names []string
	for _, g := range groups {
		if member(g) {
			names = append(names, g.Roles...)
		}
	}
	if len(names) == 0 && defaultRole != "" {
		names = []string{defaultRole}
	}
	var out []Permission
	for _, n := range names {
		if r, ok := roles[n]; ok {
			for _, p := range r.Permissions {
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Decide combines the workspace settings, the user's state and permissions
// into the access decision for a surface.
func Decide(s Settings, u *User, perms []Permission, surface Surface) Decision {
	if u == nil {
		return Decision{Reason: "the user is not in the workspace"}
	}
	if !u.Active {
		return Decision{Reason: "the user is deactivated"}
	}
	var on bool
	var perm Permission
	switch surface {
	case SurfaceLocal:
		on, perm = s.AllowCodexLocal, PermCodexLocal
	case SurfaceCloud:
		on, perm = s.AllowCodexCloud, PermCodexCloud
	default:
		return Decision{Reason: fmt.Sprintf("unknown surface %q", surface)}
	}
	if !on {
		return Decision{Reason: fmt.Sprintf("Codex %s is turned off for the workspace", surface)}
	}
	if !slices.Contains(perms, perm) {
		return Decision{Reason: fmt.Sprintf("none of the user's roles has the %s permission", perm)}
	}
	return Decision{Allowed: true, Reason: fmt.Sprintf("Codex %s is on and the user's roles have %s", surface, perm)}
}

// CanHoldAccessToken reports whether a user may be issued, and may use, an
// access token: the workspace allows them and the user's roles have
// access_tokens.
func CanHoldAccessToken(s Settings, u *User, perms []Permission) Decision {
	switch {
	case u == nil:
		return Decision{Reason: "the user is not in the workspace"}
	case !u.Active:
		return Decision{Reason: "the user is deactivated"}
	case !s.AllowAccessTokens:
		return Decision{Reason: "access tokens are turned off for the workspace (setting allow_access_tokens)"}
	case !slices.Contains(perms, PermAccessTokens):
		return Decision{Reason: "none of the user's roles has the access_tokens permission"}
	}
	return Decision{Allowed: true, Reason: "access tokens are on and the user's roles have access_tokens"}
}
