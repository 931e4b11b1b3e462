package requirements

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp/syntax"
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

// validateFragment is the check Codex runs on each fetched fragment: it
// must decode, and its model providers must be valid on their own.
func validateFragment(l Layer, hostname func() string) error {
	invalid := func(what string, cause error) error {
		return &Error{Detail: "invalid cloud config bundle: " + what, Kind: CloudInvalidBundle, Source: l.Source, cause: cause}
	}
	c, err := prepareLayer(l, hostname)
	if err != nil {
		return invalid("invalid requirements", err)
	}
	if perms, ok := c.typed.Get("permissions").(*toml.Object); ok && perms.Has("network") && c.typed.Has("network_proxy") {
		return invalid("invalid requirements", nil)
	}
	providers := c.regular.Tbl.Value("model_providers")
	if providers == nil {
		return nil
	}
	x, err := toml.Map{Elem: modelProviderInfo}.Decode(&toml.Decoder{BaseDir: l.BaseDir}, providers)
	if err != nil {
		return invalid("invalid requirements", err)
	}
	typed := toml.NewObject()
	typed.Set("model_providers", x)
	r := &Requirements{typed: typed, sources: map[string]Source{"model_providers": l.Source}}
	if err := r.validateProviders(); err != nil {
		return invalid("invalid model provider configuration", err)
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

// validate applies Codex's constraint checks, in Codex's order.
func (r *Requirements) validate() error {
	t := r.typed
	src := func(k string) string { return r.sources[k].String() }
	constraint := func(field, detail string, path ...string) error {
		if path == nil {
			path = []string{field}
		}
		return &Error{Detail: detail, Source: r.sources[field], Path: path}
	}

	if err := r.validateMCP(); err != nil {
		return err
	}
	if v, ok := t.Get("allowed_approval_policies").([]any); ok && len(v) == 0 {
		return constraint("allowed_approval_policies", "field `allowed_approval_policies` cannot be empty")
	}
	if v, ok := t.Get("allowed_approvals_reviewers").([]any); ok && len(v) == 0 {
		return constraint("allowed_approvals_reviewers", "field `allowed_approvals_reviewers` cannot be empty")
	}
	if modes, ok := t.Get("allowed_sandbox_modes").([]any); ok {
		hasReadOnly := false
		names := make([]string, len(modes))
		for i, m := range modes {
			hasReadOnly = hasReadOnly || m == "read-only"
			names[i] = rustSandboxName(m.(string))
		}
		if !hasReadOnly {
			return constraint("allowed_sandbox_modes", "invalid value for `allowed_sandbox_modes`: `["+strings.Join(names, ", ")+
				"]` is not in the allowed set must include 'read-only' to allow any PermissionProfile (set by "+src("allowed_sandbox_modes")+")", r.sandboxPath...)
		}
	}
	if w, ok := t.Get("windows").(*toml.Object); ok {
		if v, ok := w.Get("allowed_sandbox_implementations").([]any); ok && len(v) == 0 {
			return constraint("windows", "field `windows.allowed_sandbox_implementations` cannot be empty", "windows", "allowed_sandbox_implementations")
		}
	}
	if r.hasSource("rules") {
		if reason, path := validateRules(r.rules); reason != "" {
			return constraint("rules", "invalid rules in requirements (set by "+src("rules")+"): "+reason, path...)
		}
	}
	if err := r.validateProviders(); err != nil {
		return err
	}
	if err := r.validatePermissions(); err != nil {
		return err
	}
	if mp, ok := t.Get("model_provider").(string); ok {
		providers, _ := t.Get("model_providers").(*toml.Object)
		if !contains(builtinProviders, mp) && !providers.Has(mp) {
			return constraint("model_provider", "Model provider `"+mp+"` not found")
		}
	}
	login, err := r.loginMethods()
	if err != nil {
		r.loginErr = err
	}
	r.login = login
	if t.Has("config_server") {
		return constraint("config_server", "Failed to load cloud config bundle (workspace-managed policies).")
	}
	return nil
}

func rustSandboxName(m string) string {
	switch m {
	case "read-only":
		return "ReadOnly"
	case "workspace-write":
		return "WorkspaceWrite"
	case "danger-full-access":
		return "DangerFullAccess"
	}
	return "ExternalSandbox"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *Requirements) validateMCP() error {
	check := func(name string, identity any, source Source, path []string) error {
		vv := identity.(toml.VariantValue)
		o := vv.Value.(*toml.Object)
		fail := func(reason string) error {
			return &Error{Detail: "invalid requirement for MCP server `" + name + "` (set by " + source.String() + "): " + reason, Source: source, Path: path}
		}
		switch vv.Name {
		case "url":
			if reason := matcherError(o.Get("url")); reason != "" {
				return fail(reason)
			}
		case "command":
			cmd := o.Get("command").(*toml.Object)
			for i, a := range cmd.Get("args").([]any) {
				if reason := matcherError(a); reason != "" {
					return fail("invalid argument matcher at index " + itoa(i) + ": " + reason)
				}
			}
		}
		return nil
	}
	if servers, ok := r.typed.Get("mcp_servers").(*toml.Object); ok {
		for _, name := range servers.Keys {
			if err := check(name, servers.Vals[name].(*toml.Object).Get("identity"), r.sources["mcp_servers"], []string{"mcp_servers", name, "identity"}); err != nil {
				return err
			}
		}
	}
	if plugins, ok := r.typed.Get("plugins").(*toml.Object); ok {
		for _, p := range plugins.Keys {
			servers, ok := plugins.Vals[p].(*toml.Object).Get("mcp_servers").(*toml.Object)
			if !ok {
				continue
			}
			for _, name := range servers.Keys {
				if err := check(p+"/"+name, servers.Vals[name].(*toml.Object).Get("identity"), r.sources["plugins"], []string{"plugins", p, "mcp_servers", name, "identity"}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// matcherError compiles a regex matcher and words the failure as Codex does.
func matcherError(m any) string {
	vv, ok := m.(toml.VariantValue)
	if !ok || vv.Name != "regex" {
		return ""
	}
	expr := vv.Value.(*toml.Object).Get("expression").(string)
	_, err := syntax.Parse(expr, syntax.Perl)
	if err == nil {
		return ""
	}
	var se *syntax.Error
	reason := err.Error()
	if errors.As(err, &se) {
		switch se.Code {
		case syntax.ErrMissingParen:
			reason = "found open group without closing ')'"
		case syntax.ErrMissingBracket:
			reason = "found unclosed character class"
		case syntax.ErrUnexpectedParen:
			reason = "found closing ')' without matching '('"
		case syntax.ErrMissingRepeatArgument:
			reason = "repetition operator missing expression"
		}
	}
	return "invalid regex `" + expr + "`: " + reason
}

// validateRules checks the composed prefix rules; the first failing rule
// and check wins. It returns the reason and the key path it concerns.
func validateRules(rules []any) (string, []string) {
	if len(rules) == 0 {
		return "rules prefix_rules cannot be empty", []string{"rules", "prefix_rules"}
	}
	for i, x := range rules {
		rule := x.(*toml.Object)
		at := "rules prefix_rule at index " + itoa(i) + " "
		rulePath := []string{"rules", "prefix_rules", itoa(i)}
		sub := func(s ...string) []string { return append(append([]string{}, rulePath...), s...) }
		if j, ok := rule.Get("justification").(string); ok && strings.TrimSpace(j) == "" {
			return at + "has an empty justification", sub("justification")
		}
		pattern := rule.Get("pattern").([]any)
		if len(pattern) == 0 {
			return at + "has an empty pattern", sub("pattern")
		}
		for j, tx := range pattern {
			tok := tx.(*toml.Object)
			bad := at + "has an invalid pattern token at index " + itoa(j) + ": "
			tokPath := sub("pattern", itoa(j))
			token, hasToken := tok.Get("token").(string)
			anyOf, hasAny := tok.Get("any_of").([]any)
			switch {
			case hasToken && hasAny:
				return bad + "set either token or any_of, not both", tokPath
			case hasToken:
				if strings.TrimSpace(token) == "" {
					return bad + "token cannot be empty", append(tokPath, "token")
				}
			case hasAny:
				if len(anyOf) == 0 {
					return bad + "any_of cannot be empty", append(tokPath, "any_of")
				}
				for k, a := range anyOf {
					if strings.TrimSpace(a.(string)) == "" {
						return bad + "any_of cannot include empty tokens", append(tokPath, "any_of", itoa(k))
					}
				}
			default:
				return bad + "set either token or any_of", tokPath
			}
		}
		switch rule.Get("decision") {
		case nil:
			return at + "is missing a decision", rulePath
		case "allow":
			return at + "has decision 'allow', which is not permitted in requirements.toml: Codex merges these rules with other config and uses the most restrictive result (use 'prompt', 'prompt-user', or 'forbidden')", sub("decision")
		}
	}
	return "", nil
}

var bedrockAllowed = map[string]bool{"base_url": true, "auth": true, "http_headers": true, "aws": true}

func (r *Requirements) validateProviders() error {
	providers, ok := r.typed.Get("model_providers").(*toml.Object)
	if !ok {
		return nil
	}
	fail := func(detail string, path ...string) error {
		return &Error{Detail: detail, Source: r.sources["model_providers"], Path: append([]string{"model_providers"}, path...)}
	}
	var reserved []string
	for _, id := range providers.Keys {
		if id != "amazon-bedrock" && contains(builtinProviders, id) {
			reserved = append(reserved, "`"+id+"`")
		}
	}
	if len(reserved) > 0 {
		return fail("model_providers contains reserved built-in provider IDs: "+strings.Join(reserved, ", ")+
			". Built-in providers cannot be overridden. Rename your custom provider (for example, `openai-custom`).", strings.Trim(reserved[0], "`"))
	}
	for _, id := range providers.Keys {
		p := providers.Vals[id].(*toml.Object)
		if id == "amazon-bedrock" {
			for _, f := range modelProviderInfo.Fields {
				if !bedrockAllowed[f.Name] && !providerFieldIsDefault(p, f) {
					return fail("model_providers.amazon-bedrock only supports changing `base_url`, `auth`, `http_headers`, `aws.profile`, `aws.region`, `aws.credential_export`, and `aws.auth_refresh`; other non-default provider fields are not supported", id, f.Name)
				}
			}
			continue
		}
		if strings.TrimSpace(p.Get("name").(string)) == "" {
			return fail("model_providers."+id+": provider name must not be empty", id, "name")
		}
		if p.Has("aws") {
			return fail("model_providers."+id+": provider aws is only supported for `amazon-bedrock` or `amazon-bedrock-runtime`", id, "aws")
		}
	}
	return nil
}

func providerFieldIsDefault(p *toml.Object, f toml.Field) bool {
	v := p.Get(f.Name)
	switch d := f.Default.(type) {
	case nil:
		return v == nil
	case string, bool, int64:
		return v == d
	}
	return false
}

var builtinProfiles = []string{":read-only", ":workspace", ":danger-full-access"}

func (r *Requirements) validatePermissions() error {
	t := r.typed
	allowed, hasAllowed := t.Get("allowed_permission_profiles").(*toml.Object)
	var profiles *toml.Object
	if p, ok := t.Get("permissions").(*toml.Object); ok {
		profiles = p.Get("profiles").(*toml.Object)
	}
	fail := func(field, detail string, path ...string) error {
		return &Error{Detail: detail, Source: r.sources[field], Path: append([]string{field}, path...)}
	}
	if hasAllowed {
		for _, name := range allowed.Keys {
			if !contains(builtinProfiles, name) && !profiles.Has(name) {
				return fail("allowed_permission_profiles", "requirements.toml allowed_permission_profiles refers to undefined profile `"+name+"`", name)
			}
		}
	}
	_, hasDefault := t.Get("default_permissions").(string)
	if hasDefault && !hasAllowed {
		return fail("default_permissions", "requirements.toml default_permissions requires allowed_permission_profiles")
	}
	switch {
	case hasDefault:
	case hasAllowed && !(allowed.Get(":workspace") == true && allowed.Get(":read-only") == true):
		return fail("allowed_permission_profiles", "requirements.toml default_permissions must be set unless allowed_permission_profiles allows both `:workspace` and `:read-only`")
	case !hasAllowed && profiles != nil && len(profiles.Keys) > 0:
		return fail("permissions", "config defines `[permissions]` profiles but does not set `default_permissions`")
	}
	return nil
}

// checkModelCatalog reads the catalog file as Codex does at load.
func checkModelCatalog(readFile func(string) ([]byte, error), p string) string {
	data, err := readFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "No such file or directory (os error 2)"
		}
		if errors.Is(err, fs.ErrPermission) {
			return "Permission denied (os error 13)"
		}
		return err.Error()
	}
	if !json.Valid(data) {
		return "failed to parse model_catalog_json path `" + p + "` as JSON: " + serdeJSONError(data)
	}
	return ""
}

// serdeJSONError reports the first syntax error in data as serde_json
// words it ("expected value at line 1 column 2").
func serdeJSONError(data []byte) string {
	s := &jsonScan{data: data, line: 1}
	if msg := s.value(); msg != "" {
		return msg
	}
	s.ws()
	if s.pos < len(s.data) {
		s.next()
		return s.at("trailing characters")
	}
	return "invalid JSON"
}

type jsonScan struct {
	data      []byte
	pos, line int
	col       int
}

func (s *jsonScan) next() byte {
	c := s.data[s.pos]
	s.pos++
	if c == '\n' {
		s.line++
		s.col = 0
	} else {
		s.col++
	}
	return c
}

func (s *jsonScan) at(msg string) string {
	return msg + " at line " + itoa(s.line) + " column " + itoa(s.col)
}

// peekAt reports an error at the next, unconsumed byte.
func (s *jsonScan) peekAt(msg string) string {
	col := s.col + 1
	return msg + " at line " + itoa(s.line) + " column " + itoa(col)
}

func (s *jsonScan) ws() {
	for s.pos < len(s.data) && strings.IndexByte(" \t\r\n", s.data[s.pos]) >= 0 {
		s.next()
	}
}

func (s *jsonScan) value() string {
	s.ws()
	if s.pos >= len(s.data) {
		return s.at("EOF while parsing a value")
	}
	switch c := s.data[s.pos]; {
	case c == 't' || c == 'f' || c == 'n':
		word := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
		for i := 0; i < len(word); i++ {
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a value")
			}
			if s.next() != word[i] {
				return s.at("expected ident")
			}
		}
		return ""
	case c == '[':
		s.next()
		for first := true; ; first = false {
			s.ws()
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a list")
			}
			if s.data[s.pos] == ']' {
				if !first {
					s.next()
					return s.at("trailing comma")
				}
				s.next()
				return ""
			}
			if msg := s.value(); msg != "" {
				return msg
			}
			s.ws()
			if s.pos >= len(s.data) {
				return s.at("EOF while parsing a list")
			}
			switch s.next() {
			case ',':
			case ']':
				return ""
			default:
				return s.at("expected `,` or `]`")
			}
		}
	case c == '{':
		s.next()
		s.ws()
		if s.pos >= len(s.data) {
			return s.at("EOF while parsing an object")
		}
		if s.data[s.pos] == '}' {
			s.next()
			return ""
		}
		if s.data[s.pos] != '"' {
			return s.peekAt("key must be a string")
		}
		if !json.Valid(s.data) {
			return s.peekAt("expected value")
		}
		s.pos = len(s.data)
		return ""
	case c == '"' || c == '-' || c >= '0' && c <= '9':
		// Scalars: defer to the standard decoder for the rest.
		var v any
		dec := json.NewDecoder(strings.NewReader(string(s.data[s.pos:])))
		if err := dec.Decode(&v); err != nil {
			return s.peekAt("expected value")
		}
		for i := int64(0); i < dec.InputOffset(); i++ {
			s.next()
		}
		return ""
	}
	return s.peekAt("expected value")
}

// loginMethods resolves the usable login methods in output order.
func (r *Requirements) loginMethods() ([]string, error) {
	t := r.typed
	api, chatgpt := true, true
	if methods, ok := t.Get("allowed_login_methods").([]any); ok {
		api, chatgpt = false, false
		for _, m := range methods {
			api = api || m == "api"
			chatgpt = chatgpt || m == "chatgpt"
		}
	}
	if ws, ok := t.Get("allowed_chatgpt_workspaces").([]any); ok {
		usable := 0
		for _, w := range ws {
			if strings.TrimSpace(w.(string)) != "" {
				usable++
			}
		}
		if usable == 0 {
			chatgpt = false
		}
	}
	var out []string
	if api {
		out = append(out, "api")
	}
	if chatgpt {
		out = append(out, "chatgpt")
	}
	if len(out) == 0 {
		return nil, &Error{Detail: "authentication requirements do not permit any usable login method", Source: r.sources["allowed_login_methods"], Path: []string{"allowed_login_methods"}}
	}
	return out, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func (r *Requirements) hasSource(field string) bool {
	_, ok := r.sources[field]
	return ok
}
