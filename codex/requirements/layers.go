// Package requirements decodes, validates and composes Codex
// requirements.toml layers exactly as Codex 0.169.0 does, and renders the
// effective result as `codex app-server --print-startup-config` prints it.
package requirements

import (
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// SourceKind says where a requirements layer comes from.
type SourceKind uint8

// The layer kinds, lowest precedence first.
const (
	SystemFile SourceKind = iota + 1
	CloudFragment
	LegacyManagedFile
	LegacyManagedMDM
	MDMRequirements
)

// Source identifies a layer the way Codex names it in error messages.
type Source struct {
	Kind SourceKind
	Path string // SystemFile, LegacyManagedFile
	ID   string // CloudFragment
	Name string // CloudFragment
	// parts lists the base sources of a composite ("requirements layers: …").
	parts []Source
}

func (s Source) String() string {
	switch {
	case len(s.parts) > 0:
		names := make([]string, len(s.parts))
		for i, p := range s.parts {
			names[i] = p.String()
		}
		return "requirements layers: " + strings.Join(names, ", ")
	case s.Kind == SystemFile || s.Kind == LegacyManagedFile:
		return s.Path
	case s.Kind == CloudFragment:
		return "enterprise-managed requirements " + s.Name + " (" + s.ID + ")"
	case s.Kind == LegacyManagedMDM:
		return "MDM managed_config.toml (legacy)"
	case s.Kind == MDMRequirements:
		return "MDM com.openai.codex:requirements_toml_base64"
	}
	return "<unspecified>"
}

func (s Source) equal(o Source) bool { return s.String() == o.String() }

// composite joins sources highest first, flattening and de-duplicating.
func composite(sources ...Source) Source {
	var flat []Source
	for _, s := range sources {
		if len(s.parts) > 0 {
			flat = append(flat, s.parts...)
		} else {
			flat = append(flat, s)
		}
	}
	var out []Source
	for _, s := range flat {
		dup := false
		for _, o := range out {
			if o.equal(s) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return Source{parts: out}
}

// Layer is one requirements document.
type Layer struct {
	Source   Source
	Contents string
	// BaseDir resolves relative paths inside the layer ("" for layers that
	// have no folder, such as cloud fragments).
	BaseDir string
	// Doc, when set, is the parsed Contents (possibly edited); it is used
	// instead of parsing Contents again. Spans still refer to Contents.
	Doc *toml.Value
}

// parse returns the layer's document.
func (l Layer) parse() (*toml.Value, error) {
	if l.Doc != nil {
		return l.Doc.Clone(), nil
	}
	return toml.Parse(l.Contents)
}

// composable is a layer after its own parsing, ready to merge.
type composable struct {
	source  Source
	regular *toml.Value // the keys merged like config
	typed   *toml.Object
	doc     *toml.Value // the parsed document, for positions
	// special fields merged by their own rules
	rules      *toml.Object
	hooks      *toml.Object
	denyRead   []any
	autoReview []any
	// sandboxPath is where this layer's allowed_sandbox_modes came from
	// (a remote_sandbox_config entry when one matched the host).
	sandboxPath []string
}

// localOnlyKeys are authentication requirements a cloud fragment cannot set.
var localOnlyKeys = []string{"allowed_login_methods", "allowed_chatgpt_workspaces", "cli_auth_credentials_store", "chatgpt_base_url"}

func prepareLayer(l Layer, hostname func() string) (*composable, error) {
	doc, err := l.parse()
	if err != nil {
		return nil, &Error{Detail: "failed to parse requirements layer " + l.Source.String() + ": " + err.Error(), Source: l.Source, cause: err}
	}
	return prepareValue(l, doc, hostname)
}

func prepareValue(l Layer, doc *toml.Value, hostname func() string) (*composable, error) {
	regular := doc.Clone()
	if l.Source.Kind == CloudFragment {
		for _, k := range localOnlyKeys {
			regular.Tbl.Remove(k)
		}
	}
	d := &toml.Decoder{BaseDir: l.BaseDir}
	parseErr := func(err error) error {
		return &Error{Detail: "failed to parse requirements layer " + l.Source.String() + ": " + err.Error(), Source: l.Source, cause: err}
	}
	// Provider fragments may be incomplete until merged; only auth.cwd is
	// resolved here, while the layer's folder is known.
	if providers := regular.Tbl.Value("model_providers"); providers != nil && providers.Kind == toml.Table {
		for _, e := range providers.Tbl.Entries() {
			if e.Value.Kind != toml.Table {
				continue
			}
			auth := e.Value.Tbl.Value("auth")
			if auth == nil || auth.Kind != toml.Table {
				continue
			}
			if cwd := auth.Tbl.Get("cwd"); cwd != nil {
				x, err := pathType().Decode(d, cwd.Value)
				if err != nil {
					return nil, &Error{Detail: "failed to parse requirements layer " + l.Source.String() + ": model_providers." + e.Key + ".auth.cwd: " + err.Error(), Source: l.Source, cause: err}
				}
				auth.Tbl.Set("cwd", toml.NewString(x.(string)))
			}
		}
	}
	withoutProviders := regular.Clone()
	withoutProviders.Tbl.Remove("model_providers")
	x, err := layerSchema.Decode(d, withoutProviders)
	if err != nil {
		return nil, parseErr(err)
	}
	typed := x.(*toml.Object)
	// Aliases are merged under one key after each layer is validated.
	if e := regular.Tbl.Remove("feature_requirements"); e != nil {
		regular.Tbl.Set("features", e.Value)
	}
	if e := regular.Tbl.Remove("experimental_network"); e != nil {
		regular.Tbl.Set("network_proxy", e.Value)
	}

	sandboxModes, _ := typed.Get("allowed_sandbox_modes").([]any)
	sandboxPath := []string{"allowed_sandbox_modes"}
	if rsc, ok := typed.Get("remote_sandbox_config").([]any); ok {
		if host := normalizeHostname(hostname()); host != "" {
			for i, entry := range rsc {
				o := entry.(*toml.Object)
				if hostnameMatches(host, o.Get("hostname_patterns").([]any)) {
					sandboxModes = o.Get("allowed_sandbox_modes").([]any)
					typed.Set("allowed_sandbox_modes", sandboxModes)
					sandboxPath = []string{"remote_sandbox_config", itoa(i), "allowed_sandbox_modes"}
					break
				}
			}
		}
	}
	for _, k := range []string{"sqlite_home", "log_dir", "model_catalog_json"} {
		if s, ok := typed.Get(k).(string); ok {
			regular.Tbl.Set(k, toml.NewString(s))
		}
	}
	regular.Tbl.Remove("remote_sandbox_config")
	if typed.Has("allowed_sandbox_modes") {
		arr := toml.NewArray()
		for _, m := range sandboxModes {
			arr.Arr = append(arr.Arr, toml.NewString(m.(string)))
		}
		regular.Tbl.Set("allowed_sandbox_modes", arr)
	}
	regular.Tbl.Remove("rules")
	regular.Tbl.Remove("hooks")
	removeNested(regular, "permissions", "filesystem", "deny_read")
	removeNested(regular, "auto_review", "required_on_models")

	c := &composable{source: l.Source, regular: regular, typed: typed, doc: doc, sandboxPath: sandboxPath}
	c.rules, _ = typed.Get("rules").(*toml.Object)
	c.hooks, _ = typed.Get("hooks").(*toml.Object)
	if perms, ok := typed.Get("permissions").(*toml.Object); ok {
		if fs, ok := perms.Get("filesystem").(*toml.Object); ok {
			c.denyRead, _ = fs.Get("deny_read").([]any)
		}
	}
	if ar, ok := typed.Get("auto_review").(*toml.Object); ok {
		c.autoReview, _ = ar.Get("required_on_models").([]any)
	}
	return c, nil
}

// removeNested removes a nested key and prunes tables left empty on the way.
func removeNested(v *toml.Value, path ...string) {
	if v == nil || v.Kind != toml.Table {
		return
	}
	if len(path) == 1 {
		v.Tbl.Remove(path[0])
		return
	}
	child := v.Tbl.Value(path[0])
	removeNested(child, path[1:]...)
	if child != nil && child.Kind == toml.Table && child.Tbl.Len() == 0 {
		v.Tbl.Remove(path[0])
	}
}

func normalizeHostname(h string) string {
	h = strings.TrimRight(strings.TrimSpace(h), ".")
	return strings.ToLower(h)
}

func hostnameMatches(host string, patterns []any) bool {
	for _, p := range patterns {
		if np := normalizeHostname(p.(string)); np != "" && wildmatch(np, host) {
			return true
		}
	}
	return false
}

// wildmatch matches `*` (any run) and `?` (one character), case-insensitively
// (both sides are already lower-cased).
func wildmatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// wholeLeaves are tables the merge replaces whole instead of key by key
// (an OTel exporter is one choice, not a set of settings).
var wholeLeaves = map[string]bool{"otel.exporter": true, "otel.trace_exporter": true, "otel.metrics_exporter": true}

// mergeInto merges src into dst as Codex merges config layers: tables key by
// key, everything else replaced by the higher layer.
func mergeInto(dst, src *toml.Value) { mergeAt(dst, src, "") }

func mergeAt(dst, src *toml.Value, path string) {
	for _, e := range src.Tbl.Entries() {
		key := e.Key
		if path != "" {
			key = path + "." + e.Key
		}
		cur := dst.Tbl.Value(e.Key)
		if cur != nil && cur.Kind == toml.Table && e.Value.Kind == toml.Table && !wholeLeaves[key] {
			mergeAt(cur, e.Value, key)
			continue
		}
		dst.Tbl.Set(e.Key, e.Value.Clone())
	}
}

// legacyManagedLayer turns a legacy managed_config.toml into requirements:
// approval_policy pins the allowed policies, sandbox_mode adds read-only.
func legacyManagedLayer(l Layer) (*toml.Value, error) {
	fail := func(detail string, cause error) error {
		return &Error{Detail: detail, Source: l.Source, cause: cause}
	}
	doc, err := toml.Parse(l.Contents)
	if err != nil {
		return nil, fail("Failed to parse config requirements as TOML: "+err.Error(), err)
	}
	x, err := legacyManagedConfig.Decode(&toml.Decoder{BaseDir: l.BaseDir}, doc)
	if err != nil {
		return nil, fail("Failed to parse config requirements as TOML: "+err.Error(), err)
	}
	o := x.(*toml.Object)
	out := toml.NewTableValue(toml.NewTable())
	if ap := doc.Tbl.Value("approval_policy"); o.Has("approval_policy") {
		out.Tbl.Set("allowed_approval_policies", toml.NewArray(ap.Clone()))
	}
	if sm, ok := o.Get("sandbox_mode").(string); ok {
		arr := toml.NewArray(toml.NewString("read-only"))
		if sm != "read-only" {
			arr.Arr = append(arr.Arr, toml.NewString(sm))
		}
		out.Tbl.Set("allowed_sandbox_modes", arr)
	}
	return out, nil
}
