package requirements

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// CodexVersion is the Codex release whose behaviour this package reproduces.
const CodexVersion = "0.169.0"

// ErrorKind selects the error envelope Codex prints.
type ErrorKind uint8

// Error envelopes: a configuration load error, or a cloud bundle error.
const (
	ConfigLoad ErrorKind = iota
	CloudInvalidBundle
	CloudRequestFailed
)

// Error is a requirements error: Detail is the exact text Codex reports.
type Error struct {
	Detail string
	Kind   ErrorKind
	// FilePath, Line and Column locate errors Codex reports with a position
	// (config-layer errors in managed_config.toml).
	FilePath     string
	Line, Column int
	// Source is the layer the error is attributed to, when known.
	Source Source
	// Path is the key path (table keys and array indexes) of the value a
	// constraint error concerns, for positions in diagnostics. A segment
	// "=v" selects the array element whose string value is v.
	Path  []string
	cause error
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns the underlying TOML error, if any.
func (e *Error) Unwrap() error { return e.cause }

// Inputs are the layers of one machine, each optional.
type Inputs struct {
	// System is /etc/codex/requirements.toml.
	System *Layer
	// Cloud holds the cloud bundle fragments in delivery order (the first
	// fragment has the highest precedence).
	Cloud []Layer
	// LegacyManaged is /etc/codex/managed_config.toml.
	LegacyManaged *Layer
	// MDM is the macOS requirements_toml_base64 document.
	MDM *Layer
	// Hostname returns the machine's hostname; it is only called when a
	// layer has remote_sandbox_config.
	Hostname func() string
	// ReadFile reads files the requirements refer to (model_catalog_json);
	// os.ReadFile when nil.
	ReadFile func(path string) ([]byte, error)
}

// Result is the composed, validated requirements.
type Result struct {
	// Requirements is nil when the composed requirements are empty.
	Requirements *Requirements
}

// Requirements is the composed requirements with the source of each field.
type Requirements struct {
	readFile    func(string) ([]byte, error)
	sandboxPath []string
	loginErr    error
	typed       *toml.Object
	sources     map[string]Source
	rules       []any
	hooks       *toml.Object
	login       []string
}

// Effective composes and validates inputs as Codex does at startup.
func Effective(in Inputs) (*Result, error) {
	host := in.Hostname
	if host == nil {
		host = func() string { h, _ := os.Hostname(); return h }
	}
	var cached *string
	hostname := func() string {
		if cached == nil {
			h := host()
			cached = &h
		}
		return *cached
	}
	readFile := in.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	st := &stack{hostname: hostname, readFile: readFile}

	// managed_config.toml is first read as a config layer: its TOML errors
	// are reported with their position, before anything else.
	var legacyDoc *toml.Value
	if in.LegacyManaged != nil {
		doc, err := toml.Parse(in.LegacyManaged.Contents)
		if err != nil {
			return nil, positionalError(in.LegacyManaged, err.(*toml.SyntaxError).Msg, err.(*toml.SyntaxError).Span.Start, err)
		}
		legacyDoc = doc
	}
	// Codex bootstraps from the system file first (its TOML, then the
	// application network policy). When that fails it loads the config
	// layers on their own, so their errors (managed_config.toml types) win.
	if in.System != nil {
		if err := bootstrap(*in.System); err != nil {
			if legacyDoc != nil {
				if cerr := legacyConfigError(in.LegacyManaged, legacyDoc); cerr != nil {
					return nil, cerr
				}
			}
			return nil, err
		}
	}

	cloud := in.Cloud
	if len(cloud) > 0 {
		// Codex first loads the local layers on their own (they may
		// configure the cloud endpoint or forbid ChatGPT sign-in), so their
		// errors win; then it validates each fetched fragment.
		local, err := st.compose(in.System, nil, in.LegacyManaged, nil)
		if err != nil {
			return nil, err
		}
		if err := untrustedError(in.LegacyManaged, legacyDoc); err != nil {
			return nil, err
		}
		if err := local.Requirements.lateChecks(); err != nil {
			return nil, err
		}
		if local.Requirements != nil && !contains(local.Requirements.login, "chatgpt") {
			cloud = nil // no ChatGPT sign-in, no cloud requirements
		}
		for _, l := range cloud {
			if err := validateFragment(l, hostname); err != nil {
				return nil, err
			}
		}
	}
	res, err := st.compose(in.System, cloud, in.LegacyManaged, in.MDM)
	if err != nil {
		return nil, err
	}
	if err := untrustedError(in.LegacyManaged, legacyDoc); err != nil {
		return nil, err
	}
	if err := res.Requirements.lateChecks(); err != nil {
		return nil, err
	}
	return res, nil
}

// lateChecks run after the config has loaded: the model catalog is read,
// then sign-in methods are resolved.
func (r *Requirements) lateChecks() error {
	if r == nil {
		return nil
	}
	if p, ok := r.typed.Get("model_catalog_json").(string); ok {
		if err := checkModelCatalog(r.readFile, p); err != "" {
			return &Error{Detail: err, Source: r.sources["model_catalog_json"], Path: []string{"model_catalog_json"}}
		}
	}
	return r.loginErr
}

// bootstrap parses the system file and its application network policy.
func bootstrap(l Layer) error {
	doc, err := l.parse()
	if err == nil {
		_, err = bootstrapSchema.Decode(&toml.Decoder{BaseDir: l.BaseDir}, doc)
	}
	if err != nil {
		return &Error{Detail: "failed to parse requirements layer " + l.Source.String() + ": " + err.Error(), Source: l.Source, cause: err}
	}
	return nil
}

// untrustedError is the config-load error for the legacy "untrusted"
// approval policy, which 0.169 no longer accepts in config.
func untrustedError(l *Layer, doc *toml.Value) error {
	if doc == nil {
		return nil
	}
	if ap := doc.Tbl.Value("approval_policy"); ap != nil && ap.Kind == toml.String && ap.Str == "untrusted" {
		return &Error{Detail: `approval_policy = "untrusted" is no longer supported; remove this setting`, Source: l.Source}
	}
	return nil
}

// positionalError is a config-layer error: "<path>:<line>:<col>: <msg>".
func positionalError(l *Layer, msg string, offset int, cause error) *Error {
	line, col := toml.LineCol(l.Contents, offset)
	return &Error{
		Detail:   fmt.Sprintf("%s:%d:%d: %s", l.Source.Path, line, col, msg),
		FilePath: l.Source.Path, Line: line, Column: col,
		Source: l.Source, cause: cause,
	}
}

// legacyConfigError checks managed_config.toml as a config layer (the
// span-aware deserializer, whose enum errors differ from toml::Value's).
func legacyConfigError(l *Layer, doc *toml.Value) error {
	check := func(key string, enum *toml.Enum) error {
		v := doc.Tbl.Value(key)
		if v == nil {
			return nil
		}
		if v.Kind != toml.String && v.Kind != toml.Table {
			return positionalError(l, "wanted string or table", v.Span.Start, nil)
		}
		if _, err := enum.Decode(&toml.Decoder{}, v); err != nil {
			de := err.(*toml.DeError)
			return positionalError(l, de.Msg, v.Span.Start, err)
		}
		return nil
	}
	if err := check("approval_policy", askForApproval); err != nil {
		return err
	}
	if err := check("sandbox_mode", configSandboxMode); err != nil {
		return err
	}
	return untrustedError(l, doc)
}

// stack composes one set of layers.
type stack struct {
	hostname func() string
	readFile func(string) ([]byte, error)
}

// compose prepares every layer (the legacy managed config first, as Codex
// reads it first), merges them lowest first and validates the result.
func (st *stack) compose(system *Layer, cloud []Layer, legacy, mdm *Layer) (*Result, error) {
	hostname := st.hostname
	var legacyComp *composable
	if legacy != nil {
		c, err := prepareLegacy(*legacy, hostname)
		if err != nil {
			return nil, err
		}
		legacyComp = c
	}
	var comps []*composable
	var layers []Layer
	add := func(l *Layer) error {
		c, err := prepareLayer(*l, hostname)
		if err != nil {
			return err
		}
		comps = append(comps, c)
		layers = append(layers, *l)
		return nil
	}
	if system != nil {
		if err := add(system); err != nil {
			return nil, err
		}
	}
	for i := len(cloud) - 1; i >= 0; i-- {
		if err := add(&cloud[i]); err != nil {
			return nil, err
		}
	}
	if legacyComp != nil {
		comps = append(comps, legacyComp)
	}
	if mdm != nil {
		if err := add(mdm); err != nil {
			return nil, err
		}
	}

	merged := toml.NewTableValue(toml.NewTable())
	for _, c := range comps {
		mergeInto(merged, c.regular)
	}
	baseDir := ""
	for _, l := range layers {
		if l.BaseDir != "" {
			baseDir = l.BaseDir
			break
		}
	}
	x, err := mergedSchema.Decode(&toml.Decoder{BaseDir: baseDir}, merged)
	if err != nil {
		return nil, &Error{Detail: "failed to parse merged requirements: " + err.Error(), cause: err}
	}
	typed := x.(*toml.Object)
	r := &Requirements{typed: typed, sources: map[string]Source{}, readFile: st.readFile}
	for _, c := range comps {
		if c.typed.Has("allowed_sandbox_modes") {
			r.sandboxPath = c.sandboxPath
		}
	}
	for _, k := range typed.Keys {
		if typed.Has(k) {
			r.sources[k] = sourceForKey(comps, k)
		}
	}
	if perms, ok := typed.Get("permissions").(*toml.Object); ok && perms.Has("network") && typed.Has("network_proxy") {
		return nil, &Error{Detail: "failed to parse merged requirements: invalid value for `permissions.network`: `configured together with top-level network requirements from " +
			r.sources["network_proxy"].String() + "` is not in the allowed set specify managed network requirements through exactly one surface (set by " + r.sources["permissions"].String() + ")", Path: []string{"permissions", "network"}}
	}

	// Special fields, highest layer first.
	var rulesSource, autoSource *Source
	var denyRead []any
	var autoModels []any
	var hooks *toml.Object
	var hooksSource *Source
	for i := len(comps) - 1; i >= 0; i-- {
		c := comps[i]
		if c.rules != nil {
			r.rules = append(r.rules, c.rules.Get("prefix_rules").([]any)...)
			rulesSource = mergeSource(rulesSource, c.source)
		}
		if c.hooks != nil {
			if hooks == nil {
				hooks = cloneHooks(c.hooks)
			} else {
				if cur, in := hooks.Get("managed_dir"), c.hooks.Get("managed_dir"); cur != nil && in != nil && cur != in {
					return nil, &Error{Detail: fmt.Sprintf("failed to compose requirements field `hooks.managed_dir` between %s and %s: `%s` conflicts with `%s`", hooksSource, c.source, cur, in),
						Source: c.source, Path: []string{"hooks", "managed_dir"}}
				}
				appendHooks(hooks, c.hooks)
			}
			hooksSource = mergeSource(hooksSource, c.source)
		}
		denyRead = unionStrings(denyRead, c.denyRead)
	}
	// required_on_models is a union folded lowest layer first, then checked.
	for _, c := range comps {
		if c.autoReview != nil {
			autoModels = unionStrings(autoModels, c.autoReview)
			autoSource = mergeSource(autoSource, c.source)
		}
	}
	for _, m := range autoModels {
		if s := m.(string); s == "" || strings.TrimSpace(s) != s || strings.Contains(s, "/") {
			return nil, &Error{Detail: "invalid value for `auto_review.required_on_models`: `" + toml.RustDebugString(s) +
				"` is not in the allowed set non-empty model slugs without surrounding whitespace or provider namespaces (set by " + autoSource.String() + ")", Source: *autoSource, Path: []string{"auto_review", "required_on_models", "=" + s}}
		}
	}
	if rulesSource != nil {
		r.sources["rules"] = *rulesSource
	}
	if hooksSource != nil {
		r.sources["hooks"] = *hooksSource
	}
	r.hooks = hooks
	if autoModels != nil {
		ar, _ := typed.Get("auto_review").(*toml.Object)
		if ar == nil {
			ar = toml.NewObject()
			ar.Set("required_on_models", nil)
			ar.Set("ignore_rules", nil)
			typed.Set("auto_review", ar)
		}
		ar.Set("required_on_models", autoModels)
		if _, ok := r.sources["auto_review"]; !ok && autoSource != nil {
			r.sources["auto_review"] = *autoSource
		}
	}
	if r.isEmpty(denyRead) {
		return &Result{}, nil
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &Result{Requirements: r}, nil
}

func prepareLegacy(l Layer, hostname func() string) (*composable, error) {
	v, err := legacyManagedLayer(l)
	if err != nil {
		return nil, err
	}
	return prepareValue(l, v, hostname)
}

func mergeSource(cur *Source, s Source) *Source {
	if cur == nil {
		return &s
	}
	c := composite(*cur, s)
	return &c
}

func unionStrings(dst, src []any) []any {
	for _, s := range src {
		found := false
		for _, d := range dst {
			if d == s {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// sourceForKey attributes a composed top-level field to the highest layer
// that set it, or to all layers when tables from several layers merged.
func sourceForKey(comps []*composable, key string) Source {
	keys := []string{key}
	switch key {
	case "features":
		keys = []string{"features", "feature_requirements"}
	case "network_proxy":
		keys = []string{"network_proxy", "experimental_network"}
	}
	type hit struct {
		src   Source
		table bool
	}
	var hits []hit
	for _, c := range comps {
		for _, k := range keys {
			if v := c.regular.Tbl.Value(k); v != nil {
				hits = append(hits, hit{c.source, v.Kind == toml.Table})
				break
			}
		}
	}
	if len(hits) == 0 {
		return Source{}
	}
	win := hits[len(hits)-1]
	if !win.table {
		return win.src
	}
	var tables []Source
	for i := len(hits) - 1; i >= 0; i-- {
		if hits[i].table {
			tables = append(tables, hits[i].src)
		}
	}
	return composite(tables...)
}

func cloneHooks(h *toml.Object) *toml.Object {
	out := toml.NewObject()
	out.Set("managed_dir", h.Get("managed_dir"))
	out.Set("windows_managed_dir", h.Get("windows_managed_dir"))
	ev := toml.NewObject()
	src := h.Get("events").(*toml.Object)
	for _, k := range hookEvents {
		ev.Set(k, append([]any{}, src.Get(k).([]any)...))
	}
	out.Set("events", ev)
	return out
}

func appendHooks(dst, src *toml.Object) {
	if !dst.Has("managed_dir") {
		dst.Set("managed_dir", src.Get("managed_dir"))
	}
	if !dst.Has("windows_managed_dir") {
		dst.Set("windows_managed_dir", src.Get("windows_managed_dir"))
	}
	de := dst.Get("events").(*toml.Object)
	se := src.Get("events").(*toml.Object)
	for _, k := range hookEvents {
		de.Set(k, append(de.Get(k).([]any), se.Get(k).([]any)...))
	}
}

func hookGroups(h *toml.Object) int {
	if h == nil {
		return 0
	}
	n := 0
	ev := h.Get("events").(*toml.Object)
	for _, k := range hookEvents {
		n += len(ev.Get(k).([]any))
	}
	return n
}

// isEmpty mirrors ConfigRequirementsToml::is_empty: tables that set nothing
// count as unset, a few (mcp_servers, experimental_network) count as soon as
// they exist.
func (r *Requirements) isEmpty(denyRead []any) bool {
	t := r.typed
	objEmpty := func(k string) bool {
		o, ok := t.Get(k).(*toml.Object)
		if !ok {
			return true
		}
		for _, kk := range o.Keys {
			if v := o.Vals[kk]; v != nil {
				if sub, ok := v.(*toml.Object); ok && len(sub.Keys) == 0 {
					continue
				}
				return false
			}
		}
		return true
	}
	for _, k := range []string{
		"allowed_login_methods", "allowed_chatgpt_workspaces", "unsafe_enforce_sqlite_journal_mode",
		"allowed_approval_policies", "allowed_approvals_reviewers", "allowed_sandbox_modes",
		"allowed_permission_profiles", "default_permissions", "allowed_web_search_modes",
		"allow_managed_hooks_only", "allow_browser_and_computer_use", "allow_appshots", "allow_remote_control",
		"mcp_servers", "enforce_residency", "network_proxy", "guardian_extra_policy",
		"sqlite_home", "log_dir", "model_catalog_json", "check_for_update_on_startup", "allow_login_shell",
		"additional_developer_instructions", "model_provider", "cli_auth_credentials_store", "chatgpt_base_url",
		"config_server", "model_providers",
	} {
		if t.Has(k) {
			return false
		}
	}
	if g, ok := t.Get("guardian_policy_config").(string); ok && strings.TrimSpace(g) != "" {
		return false
	}
	for _, k := range []string{"computer_use", "browser_use", "in_app_browser", "models", "feedback", "otel", "marketplaces", "auto_review"} {
		if !objEmpty(k) {
			return false
		}
	}
	if w, ok := t.Get("windows").(*toml.Object); ok && (w.Has("allowed_sandbox_implementations") || w.Has("require_mxc")) {
		return false
	}
	if a, ok := t.Get("application").(*toml.Object); ok && (a.Has("network") || a.Has("storage") && !objEmptyObj(a.Get("storage").(*toml.Object))) {
		return false
	}
	if f, ok := t.Get("features").(*toml.Object); ok && len(f.Get("entries").(*toml.Object).Keys) > 0 {
		return false
	}
	if r.hooks != nil && (hookGroups(r.hooks) > 0 || r.hooks.Has("managed_dir") || r.hooks.Has("windows_managed_dir")) {
		return false
	}
	if p, ok := t.Get("plugins").(*toml.Object); ok {
		for _, k := range p.Keys {
			if servers, ok := p.Vals[k].(*toml.Object).Get("mcp_servers").(*toml.Object); ok && len(servers.Keys) > 0 {
				return false
			}
		}
	}
	if a, ok := t.Get("apps").(*toml.Object); ok {
		for _, k := range a.Get("apps").(*toml.Object).Keys {
			app := a.Get("apps").(*toml.Object).Vals[k].(*toml.Object)
			if app.Has("enabled") {
				return false
			}
			if tools, ok := app.Get("tools").(*toml.Object); ok {
				for _, tk := range tools.Get("tools").(*toml.Object).Keys {
					tool := tools.Get("tools").(*toml.Object).Vals[tk].(*toml.Object)
					if tool.Has("approval_mode") || tool.Has("analytics_result_source") {
						return false
					}
				}
			}
		}
	}
	if len(denyRead) > 0 {
		return false
	}
	if p, ok := t.Get("permissions").(*toml.Object); ok {
		if p.Has("network") || len(p.Get("profiles").(*toml.Object).Keys) > 0 {
			return false
		}
	}
	return len(r.rules) == 0 && !r.hasSource("rules")
}

func objEmptyObj(o *toml.Object) bool {
	for _, k := range o.Keys {
		if o.Vals[k] != nil {
			return false
		}
	}
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }

func (r *Requirements) hasSource(field string) bool {
	_, ok := r.sources[field]
	return ok
}

// PrefixRule is one composed requirements [rules] prefix rule.
type PrefixRule struct {
	// Pattern holds each position's alternatives (a token is one).
	Pattern [][]string
	// Decision is "prompt", "prompt-user" or "forbidden" (validation
	// rejects "allow").
	Decision      string
	Justification string
}

// PrefixRules returns the composed [rules] prefix rules, highest layer's
// first, as the agent appends them after the .rules files.
func (r *Requirements) PrefixRules() []PrefixRule {
	var out []PrefixRule
	for _, x := range r.rules {
		rule := x.(*toml.Object)
		var pr PrefixRule
		for _, tx := range rule.Get("pattern").([]any) {
			tok := tx.(*toml.Object)
			if s, ok := tok.Get("token").(string); ok {
				pr.Pattern = append(pr.Pattern, []string{s})
				continue
			}
			var alts []string
			for _, a := range tok.Get("any_of").([]any) {
				alts = append(alts, a.(string))
			}
			pr.Pattern = append(pr.Pattern, alts)
		}
		pr.Decision, _ = rule.Get("decision").(string)
		pr.Justification, _ = rule.Get("justification").(string)
		out = append(out, pr)
	}
	return out
}
