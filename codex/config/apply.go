package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/toml"
)

// Feature is one entry of Codex's feature catalog.
type Feature struct {
	Name string
	// Stage is "stable", "experimental", "under development", "deprecated"
	// or "removed".
	Stage   string
	Default bool
}

// Catalog returns Codex 0.169.0's features in `codex features list` order.
func Catalog() []Feature { return append([]Feature(nil), catalog...) }

// loadRequirements composes the machine's requirements layers.
func loadRequirements(m Machine, fsys FS, etc string) (*requirements.Requirements, error) {
	in := requirements.Inputs{Hostname: m.Hostname, Cloud: m.CloudRequirements, ReadFile: fsys.ReadFile}
	read := func(name string, kind requirements.SourceKind) (*requirements.Layer, error) {
		b, err := fsys.ReadFile(filepath.Join(etc, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, &LoadError{Message: "failed to read " + SystemDir + "/" + name + ": " + err.Error()}
		}
		return &requirements.Layer{Source: requirements.Source{Kind: kind, Path: SystemDir + "/" + name}, Contents: string(b), BaseDir: SystemDir}, nil
	}
	var err error
	if in.System, err = read("requirements.toml", requirements.SystemFile); err != nil {
		return nil, err
	}
	if in.LegacyManaged, err = read("managed_config.toml", requirements.LegacyManagedFile); err != nil {
		return nil, err
	}
	res, err := requirements.Effective(in)
	if err != nil {
		return nil, err
	}
	return res.Requirements, nil
}

const readOnlyProfile = "Managed { file_system: Restricted { entries: [FileSystemSandboxEntry { path: Special { value: Root }, access: Read, missing_path_behavior: None }], glob_scan_max_depth: None }, network: Restricted }"

// webSearchOrder is the order Codex prints web search allowed sets in, and
// its fallback preference after disabled.
var webSearchOrder = []string{"disabled", "cached", "indexed", "live"}

func (r *Resolution) stringSetting(key string) Setting {
	v := r.Merged.Tbl.Value(key)
	if v == nil {
		return Setting{Default: true}
	}
	s := Setting{Layer: origin(r.Origins, key)}
	if v.Kind == toml.String {
		s.Value = v.Str
	} else if v.Kind == toml.Table {
		s.Value = "granular"
	}
	s.Configured = s.Value
	return s
}

// applyRequirements resolves the constrained settings, features and MCP
// servers, as Codex does once the config has loaded.
func (r *Resolution) applyRequirements(reqs *requirements.Requirements) error {
	r.resolveOtel(reqs)
	if src, ok := reqs.Otel(); ok {
		if o := tableAt(r.Merged, "otel"); o != nil && o.Tbl.Len() > 0 {
			r.warn("Configured values under `otel` are overridden by requirements from "+src.String()+".",
				"Your [otel] settings are replaced, value by value, by the telemetry settings your administrator requires ("+src.String()+").")
		}
	}
	// approval_policy: a disallowed configured value falls back to the
	// first allowed one with a warning; a disallowed built-in default
	// falls back silently.
	ap := r.stringSetting("approval_policy")
	apDebug := requirements.ApprovalDebug(ap.Value)
	if ap.Value == "granular" {
		apDebug = requirements.GranularDebug(granularObject(r.Merged.Tbl.Value("approval_policy")))
	}
	if ap.Default {
		ap.Value = "on-request"
		if r.TrustLevel == "untrusted" {
			// A project marked untrusted asks before running anything.
			ap.Value, ap.Configured, ap.Note = "untrusted", "untrusted", "default for a project marked untrusted"
		}
	} else {
		ap.Value = Canonical("approval_policy", ap.Value)
	}
	if a := reqs.AllowedApprovalPolicies(); a != nil && !a.Has(ap.Value) {
		r.constrain(&ap, a, "approval_policy", "approval_policy", a.Values[0], a.Debug[0], apDebug, a.Debug, !ap.Default,
			"approval policy")
	}
	r.ApprovalPolicy = ap

	rv := r.stringSetting("approvals_reviewer")
	if rv.Default {
		rv.Value = "user"
	} else {
		rv.Value = Canonical("approvals_reviewer", rv.Value)
	}
	if a := reqs.AllowedApprovalsReviewers(); a != nil && !a.Has(rv.Value) {
		r.constrain(&rv, a, "approvals_reviewer", "approvals_reviewer", a.Values[0], a.Debug[0], requirements.ReviewerDebug(rv.Value), a.Debug, !rv.Default,
			"approvals reviewer")
	}
	r.ApprovalsReviewer = rv

	// sandbox_mode: a trusted project defaults to workspace-write, which
	// counts as configured; the fallback is always the read-only profile.
	sb := r.stringSetting("sandbox_mode")
	if sb.Default {
		sb.Value = "read-only"
		switch {
		case r.TrustLevel == "trusted":
			sb.Value, sb.Configured, sb.Note = "workspace-write", "workspace-write", "default for a trusted project"
		case r.TrustLevel == "untrusted":
			sb.Value, sb.Configured, sb.Note = "workspace-write", "workspace-write", "default for a project marked untrusted"
		}
	}
	if a := reqs.AllowedSandboxModes(); a != nil && !a.Has(sb.Value) {
		r.constrain(&sb, a, "permission_profile", "sandbox_mode", "read-only", readOnlyProfile, requirements.SandboxDebug(sb.Value), a.Debug, true,
			"sandbox mode")
	}
	r.SandboxMode = sb
	if sb.RequiredBy != "" && sb.Configured == "danger-full-access" && ap.Value == "never" {
		// Full access with no approvals, where full access is not allowed,
		// would leave a read-only agent that can never ask: Codex refuses.
		return &LoadError{Message: "`approval_policy = \"never\"` cannot be used because requirements do not allow `sandbox_mode = \"" + sb.Configured +
			"\"`; Codex would fall back to read-only permissions with approvals disabled. Choose an `approval_policy` based on what you need, such as `on-request`, or choose an allowed sandbox mode."}
	}

	// web_search: the built-in default (cached) counts as configured.
	ws := r.stringSetting("web_search")
	if ws.Default {
		ws.Value, ws.Configured = "cached", "cached"
	}
	if a := reqs.AllowedWebSearchModes(); a != nil && !a.Has(ws.Value) {
		fallback := "disabled"
		for _, m := range []string{"cached", "indexed", "live"} {
			if a.Has(m) {
				fallback = m
				break
			}
		}
		var set []string
		for _, m := range webSearchOrder {
			if a.Has(m) {
				set = append(set, requirements.WebSearchDebug(m))
			}
		}
		r.constrain(&ws, a, "web_search_mode", "web_search_mode", fallback, requirements.WebSearchDebug(fallback), requirements.WebSearchDebug(ws.Value), set, true,
			"web search mode")
	}
	if sb.Value == "danger-full-access" && ws.Value == "cached" {
		// Each turn with full access upgrades the cache to live search,
		// when the requirements allow it.
		if a := reqs.AllowedWebSearchModes(); a == nil || a.Has("live") {
			ws.Value = "live"
			ws.Note = "the danger-full-access sandbox turns cached search into live search"
		}
	}
	r.WebSearchMode = ws

	r.Model = r.stringSetting("model")

	// windows.sandbox (Windows only; from Codex's sources, not observable
	// on Linux): elevated when allowed, else unelevated.
	wsb := Setting{Default: true}
	if w := tableAt(r.Merged, "windows"); w != nil {
		if v := w.Tbl.Value("sandbox"); v != nil && v.Kind == toml.String {
			wsb = Setting{Value: v.Str, Configured: v.Str, Layer: origin(r.Origins, "windows", "sandbox")}
		}
	}
	if a := reqs.AllowedWindowsSandboxImplementations(); a != nil && (wsb.Default || !a.Has(wsb.Value)) {
		fallback := "unelevated"
		if a.Has("elevated") {
			fallback = "elevated"
		}
		if wsb.Value != fallback {
			wsb.RequiredBy = a.Source.String()
			wsb.Value = fallback
		}
	}
	r.WindowsSandbox = wsb

	r.resolveFeatures(reqs)
	r.resolveMCP(reqs)

	for _, key := range []string{"cli_auth_credentials_store", "chatgpt_base_url", "sqlite_home", "log_dir", "model_catalog_json", "check_for_update_on_startup", "allow_login_shell"} {
		if v, src, ok := reqs.Exact(key); ok {
			r.Exact = append(r.Exact, ExactOverride{Key: key, Configured: r.Merged.Tbl.Value(key), Required: v, Source: src.String()})
		}
	}
	return nil
}

func granularObject(v *toml.Value) *toml.Object {
	o := toml.NewObject()
	if v == nil || v.Kind != toml.Table {
		return o
	}
	for _, e := range v.Tbl.Entries() {
		if e.Value.Kind == toml.Boolean {
			o.Set(e.Key, e.Value.Bool)
		}
	}
	return o
}

// constrain replaces s with the requirement's fallback, warning in Codex's
// words when warn is set.
func (r *Resolution) constrain(s *Setting, a *requirements.Allowed, field, detailField, fallback, fallbackDebug, valueDebug string, set []string, warn bool, what string) {
	s.RequiredBy = a.Source.String()
	if s.Configured == "" {
		s.Configured = s.Value
	}
	s.Value = fallback
	if !warn {
		return
	}
	r.warn("Configured value for `"+field+"` is disallowed by requirements; falling back to required value "+fallbackDebug+
		". Details: invalid value for `"+detailField+"`: `"+valueDebug+"` is not in the allowed set ["+strings.Join(set, ", ")+"] (set by "+a.Source.String()+")",
		"The "+what+" "+s.Configured+" is not allowed by "+a.Source.String()+" (allowed: "+strings.Join(a.Values, ", ")+"), so Codex uses "+fallback+".")
}

// fixedFeatures ignore config.toml on Linux in 0.169.0: `[features]
// unified_exec = false`, -c and --disable all leave it on.
var fixedFeatures = map[string]bool{"unified_exec": true}

func (r *Resolution) resolveFeatures(reqs *requirements.Requirements) {
	pins, src := reqs.FeaturePins()
	pinned := map[string]bool{}
	for _, p := range pins {
		pinned[p.Name] = p.Value
	}
	configured := tableAt(r.Merged, "features")
	for _, f := range catalog {
		st := FeatureState{Feature: f, Value: f.Default}
		if configured != nil && f.Stage != "removed" {
			if v := configured.Tbl.Value(f.Name); v != nil && v.Kind == toml.Boolean {
				st.Value = v.Bool
				st.Layer = origin(r.Origins, "features", f.Name)
			}
		}
		if v, ok := fixedFeatures[f.Name]; ok {
			st.Value, st.Layer = v, nil
		}
		if v, ok := pinned[f.Name]; ok {
			st.Value, st.Layer, st.PinnedBy = v, nil, src.String()
		}
		r.Features = append(r.Features, st)
	}
}

func (r *Resolution) resolveMCP(reqs *requirements.Requirements) {
	src, constrained := reqs.MCPAllowlist()
	rank := map[*Layer]int{}
	for i, l := range r.Layers {
		rank[l] = i + 1
	}
	for _, e := range sortedServers(r.Merged) {
		if e.Value.Kind != toml.Table {
			continue
		}
		t := e.Value.Tbl
		s := MCPTransport(e.Value)
		st := MCPState{Name: e.Key, Enabled: true, Transport: s, Layer: originUnder(r.Origins, rank, "mcp_servers."+e.Key)}
		if v := t.Value("enabled"); v != nil && v.Kind == toml.Boolean && !v.Bool {
			st.Enabled = false
		}
		if constrained && !reqs.MCPAllows(e.Key, s) {
			st.Enabled = false
			reason := "requirements (" + src.String() + ")"
			st.DisabledReason = &reason
		}
		r.MCPServers = append(r.MCPServers, st)
	}
}
