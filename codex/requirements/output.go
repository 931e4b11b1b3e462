package requirements

import (
	"fmt"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// StartupConfigJSON renders r as the single stdout line of
// `codex app-server --print-startup-config` (without the newline).
func (r *Result) StartupConfigJSON() string {
	var reqs any
	if r != nil && r.Requirements != nil {
		reqs = r.Requirements.output()
	}
	var b strings.Builder
	writeJSON(&b, obj("appServerVersion", CodexVersion, "configRequirements",
		obj("supportsIndependentSpeedModes", true, "requirements", reqs)))
	return b.String()
}

// JSON renders the error as app-server prints it (exit status 1).
func (e *Error) JSON() string {
	var data *jsonObject
	switch e.Kind {
	case CloudInvalidBundle:
		data = obj("reason", "cloudConfigBundle", "errorCode", "InvalidBundle", "detail", e.Detail)
	case CloudRequestFailed:
		data = obj("reason", "cloudConfigBundle", "errorCode", "RequestFailed", "detail", e.Detail)
	default:
		var path, line, col any
		if e.FilePath != "" {
			path, line, col = e.FilePath, int64(e.Line), int64(e.Column)
		}
		data = obj("reason", "configLoad", "filePath", path, "line", line, "column", col, "detail", e.Detail)
	}
	var b strings.Builder
	writeJSON(&b, obj("error", obj("code", int64(-32600), "data", data, "message", "failed to load configuration: "+e.Detail)))
	return b.String()
}

func (r *Requirements) output() *jsonObject {
	t := r.typed
	o := &jsonObject{}
	o.add("modelProvider", t.Get("model_provider"))
	o.add("modelProviders", r.outProviders())
	o.add("allowedLoginMethods", r.login)
	o.add("cliAuthCredentialsStore", t.Get("cli_auth_credentials_store"))
	o.add("chatgptBaseUrl", t.Get("chatgpt_base_url"))
	o.add("additionalDeveloperInstructions", t.Get("additional_developer_instructions"))
	o.add("allowedApprovalPolicies", outApprovals(t.Get("allowed_approval_policies")))
	o.add("allowedApprovalsReviewers", t.Get("allowed_approvals_reviewers"))
	o.add("allowedSandboxModes", outSandboxModes(t.Get("allowed_sandbox_modes")))
	var windowsImpls any
	if w, ok := t.Get("windows").(*toml.Object); ok {
		windowsImpls = w.Get("allowed_sandbox_implementations")
	}
	o.add("allowedWindowsSandboxImplementations", windowsImpls)
	o.add("allowedPermissionProfiles", t.Get("allowed_permission_profiles"))
	o.add("defaultPermissions", t.Get("default_permissions"))
	o.add("allowedWebSearchModes", outWebSearch(t.Get("allowed_web_search_modes")))
	o.add("allowManagedHooksOnly", t.Get("allow_managed_hooks_only"))
	o.add("allowBrowserAndComputerUse", t.Get("allow_browser_and_computer_use"))
	o.add("allowAppshots", t.Get("allow_appshots"))
	o.add("allowRemoteControl", t.Get("allow_remote_control"))
	o.add("computerUse", outComputerUse(t.Get("computer_use")))
	o.add("browserUse", outBrowserUse(t.Get("browser_use")))
	o.add("inAppBrowser", outInAppBrowser(t.Get("in_app_browser")))
	o.add("featureRequirements", outFeatures(t.Get("features")))
	o.add("hooks", outHooks(r.hooks))
	o.add("enforceResidency", t.Get("enforce_residency"))
	o.add("network", outNetwork(r.network()))
	o.add("application", outApplication(t.Get("application")))
	o.add("autoReview", outAutoReview(t.Get("auto_review")))
	o.add("models", outModels(t.Get("models")))
	o.add("sqliteHome", fileURL(t.Get("sqlite_home")))
	o.add("logDir", fileURL(t.Get("log_dir")))
	o.add("modelCatalogJson", fileURL(t.Get("model_catalog_json")))
	o.add("checkForUpdateOnStartup", t.Get("check_for_update_on_startup"))
	o.add("allowLoginShell", t.Get("allow_login_shell"))
	o.add("feedback", outFeedback(t.Get("feedback")))
	o.add("otel", outOtel(t.Get("otel")))
	return o
}

// camel renders a decoded struct with camelCase keys, in the given order.
func camel(x any, fields ...string) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	out := &jsonObject{}
	for _, f := range fields {
		out.add(camelName(f), o.Get(f))
	}
	return out
}

func camelName(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func outApprovals(x any) any {
	list, ok := x.([]any)
	if !ok {
		return nil
	}
	out := make([]any, len(list))
	for i, a := range list {
		if vv, ok := a.(toml.VariantValue); ok {
			g := vv.Value.(*toml.Object)
			out[i] = obj("granular", obj(
				"sandbox_approval", g.Get("sandbox_approval"),
				"rules", g.Get("rules"),
				"skill_approval", g.Get("skill_approval"),
				"request_permissions", g.Get("request_permissions"),
				"mcp_elicitations", g.Get("mcp_elicitations")))
			continue
		}
		out[i] = a
	}
	return out
}

func outSandboxModes(x any) any {
	list, ok := x.([]any)
	if !ok {
		return nil
	}
	out := []any{}
	for _, m := range list {
		if m != "external-sandbox" {
			out = append(out, m)
		}
	}
	return out
}

func outWebSearch(x any) any {
	list, ok := x.([]any)
	if !ok {
		return nil
	}
	out := append([]any{}, list...)
	for _, m := range list {
		if m == "disabled" {
			return out
		}
	}
	return append(out, "disabled")
}

func outComputerUse(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	out := camel(o, "allow_locked_computer_use", "allow_persistent_approval", "default_app_access").(*jsonObject)
	out.add("macos", camel(o.Get("macos"), "bundle_ids"))
	var windows any
	if w, ok := o.Get("windows").(*toml.Object); ok {
		var exes any
		if list, ok := w.Get("exes").([]any); ok {
			items := make([]any, len(list))
			for i, e := range list {
				items[i] = camel(e, "publisher_name", "product_name", "binary_name", "access")
			}
			exes = items
		}
		windows = obj("aumids", w.Get("aumids"), "exes", exes)
	}
	out.add("windows", windows)
	return out
}

var originPolicyFields = []string{"access", "downloads", "uploads", "full_cdp_access", "auto_review", "persistent_approval", "access_approval_lifetime"}

func outBrowserUse(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	var ext any
	if e, ok := o.Get("extension").(*toml.Object); ok {
		var headers any
		if list, ok := e.Get("request_headers").([]any); ok {
			items := make([]any, len(list))
			for i, h := range list {
				items[i] = camel(h, "name", "value")
			}
			headers = items
		}
		ext = obj("requestHeaders", headers)
	}
	var origins any
	if m, ok := o.Get("origins").(*toml.Object); ok {
		out := &jsonObject{}
		for _, k := range m.Keys {
			out.add(k, camel(m.Vals[k], originPolicyFields...))
		}
		origins = out
	}
	return obj(
		"extension", ext,
		"allowWebmcp", o.Get("allow_webmcp"),
		"allowHistoryAccess", o.Get("allow_history_access"),
		"disableAutoReview", o.Get("disable_auto_review"),
		"allowGlobalPersistentApproval", o.Get("allow_global_persistent_approval"),
		"defaultOriginPolicy", camel(o.Get("default_origin_policy"), originPolicyFields...),
		"origins", origins)
}

func outInAppBrowser(x any) any {
	return camel(x, "allow_external_browser_settings_import")
}

func outFeatures(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	return o.Get("entries")
}

func outHooks(h *toml.Object) any {
	if h == nil || (hookGroups(h) == 0 && !h.Has("managed_dir") && !h.Has("windows_managed_dir")) {
		return nil
	}
	ev := h.Get("events").(*toml.Object)
	out := &jsonObject{}
	group := func(k string) {
		groups := ev.Get(k).([]any)
		items := make([]any, len(groups))
		for i, g := range groups {
			gg := g.(*toml.Object)
			handlers := gg.Get("hooks").([]any)
			hs := make([]any, len(handlers))
			for j, hx := range handlers {
				hs[j] = outHookHandler(hx.(toml.VariantValue))
			}
			items[i] = obj("matcher", gg.Get("matcher"), "hooks", hs)
		}
		out.add(k, items)
	}
	group("PreModelRequest")
	group("PostModelRequest")
	out.add("managedDir", h.Get("managed_dir"))
	out.add("windowsManagedDir", h.Get("windows_managed_dir"))
	for _, k := range hookEvents[2:] {
		group(k)
	}
	return out
}

func outHookHandler(v toml.VariantValue) any {
	o := v.Value.(*toml.Object)
	switch v.Name {
	case "command":
		return obj("type", "command",
			"command", o.Get("command"),
			"commandWindows", o.Get("command_windows"),
			"timeoutSec", o.Get("timeout"),
			"async", o.Get("async"),
			"statusMessage", o.Get("statusMessage"),
			"additionalContextLimit", o.Get("additionalContextLimit"))
	case "mcp_tool":
		return obj("type", "mcp_tool",
			"server", o.Get("server"),
			"tool", o.Get("tool"),
			"input", o.Get("input"),
			"timeoutSec", o.Get("timeout"),
			"statusMessage", o.Get("statusMessage"))
	}
	return obj("type", v.Name)
}

// network returns the composed managed network requirements, from whichever
// surface set them.
func (r *Requirements) network() *toml.Object {
	if n, ok := r.typed.Get("network_proxy").(*toml.Object); ok {
		return n
	}
	if p, ok := r.typed.Get("permissions").(*toml.Object); ok {
		if n, ok := p.Get("network").(*toml.Object); ok {
			return n
		}
	}
	return nil
}

func outNetwork(n *toml.Object) any {
	if n == nil {
		return nil
	}
	domains := permissionEntries(n.Get("domains"))
	if domains == nil {
		domains = legacyEntries(map[string][]any{"allow": listOrNil(n.Get("allowed_domains")), "deny": listOrNil(n.Get("denied_domains"))})
	}
	sockets := permissionEntries(n.Get("unix_sockets"))
	if sockets == nil {
		sockets = legacyEntries(map[string][]any{"allow": listOrNil(n.Get("allow_unix_sockets"))})
	}
	var domainsOut, socketsOut any
	if domains != nil {
		domainsOut = domains
	}
	if sockets != nil {
		socketsOut = sockets
	}
	var review any
	if list, ok := n.Get("review_domains").([]any); ok && len(list) > 0 {
		review = list
	}
	allowedSockets := filterEntries(sockets, "allow")
	return obj(
		"enabled", n.Get("enabled"),
		"httpPort", n.Get("http_port"),
		"socksPort", n.Get("socks_port"),
		"allowUpstreamProxy", n.Get("allow_upstream_proxy"),
		"dangerouslyAllowNonLoopbackProxy", n.Get("dangerously_allow_non_loopback_proxy"),
		"dangerouslyAllowAllUnixSockets", n.Get("dangerously_allow_all_unix_sockets"),
		"domains", domainsOut,
		"reviewDomains", review,
		"managedAllowedDomainsOnly", n.Get("managed_allowed_domains_only"),
		"allowedDomains", filterEntries(domains, "allow"),
		"deniedDomains", filterEntries(domains, "deny"),
		"unixSockets", socketsOut,
		"allowUnixSockets", allowedSockets,
		"allowLocalBinding", n.Get("allow_local_binding"))
}

func listOrNil(x any) []any {
	l, _ := x.([]any)
	return l
}

func permissionEntries(x any) *toml.Object {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	e := o.Get("entries").(*toml.Object)
	return e
}

// legacyEntries converts legacy lists to the map form; later kinds win on a
// repeated pattern (deny after allow), and empty lists count as unset.
func legacyEntries(lists map[string][]any) *toml.Object {
	out := toml.NewObject()
	for _, kind := range []string{"allow", "deny"} {
		for _, p := range lists[kind] {
			out.Set(p.(string), kind)
		}
	}
	if len(out.Keys) == 0 {
		return nil
	}
	out.Sort()
	return out
}

func filterEntries(o *toml.Object, kind string) any {
	if o == nil {
		return nil
	}
	var out []any
	for _, k := range o.Keys {
		if o.Vals[k] == kind {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func outApplication(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	var network any
	if n, ok := o.Get("network").(*toml.Object); ok {
		enabled := n.Get("enabled")
		if enabled == nil {
			enabled = true
		}
		domains := n.Get("domains")
		if domains == nil {
			domains = toml.NewObject()
		}
		network = obj("enabled", enabled, "domains", domains)
	}
	return obj("network", network, "storage", camel(o.Get("storage"), "default_project_parent", "projectless_workspace_root"))
}

func outAutoReview(x any) any {
	return camel(x, "required_on_models", "ignore_rules")
}

func outModels(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	return obj("newThread", camel(o.Get("new_thread"), "model", "model_reasoning_effort", "service_tier"))
}

func outFeedback(x any) any {
	return camel(x, "enabled")
}

func outOtel(x any) any {
	o, ok := x.(*toml.Object)
	if !ok {
		return nil
	}
	out := &jsonObject{}
	for _, f := range otel.Fields {
		v := o.Get(f.Name)
		switch f.Name {
		case "tool_result":
			if tr, ok := v.(*toml.Object); ok {
				v = obj("max_bytes", tr.Get("max_bytes"))
			}
		case "exporter", "trace_exporter", "metrics_exporter":
			v = outExporter(v)
		}
		out.add(f.Name, v)
	}
	return out
}

func outExporter(x any) any {
	vv, ok := x.(toml.VariantValue)
	if !ok {
		return x
	}
	o := vv.Value.(*toml.Object)
	headers := toml.NewObject()
	if h, ok := o.Get("headers").(*toml.Object); ok {
		for _, k := range h.Keys {
			headers.Set(k, "[redacted]")
		}
	}
	var tls any
	if t, ok := o.Get("tls").(*toml.Object); ok {
		tls = obj("ca-certificate", t.Get("ca-certificate"), "client-certificate", t.Get("client-certificate"), "client-private-key", t.Get("client-private-key"))
	}
	inner := obj("endpoint", o.Get("endpoint"), "headers", headers)
	if vv.Name == "otlp-http" {
		inner.add("protocol", o.Get("protocol"))
	}
	inner.add("tls", tls)
	return obj(vv.Name, inner)
}

func (r *Requirements) outProviders() any {
	providers, ok := r.typed.Get("model_providers").(*toml.Object)
	if !ok {
		return nil
	}
	out := &jsonObject{}
	for _, id := range providers.Keys {
		p := providers.Vals[id].(*toml.Object)
		po := &jsonObject{}
		for _, f := range modelProviderInfo.Fields {
			v := p.Get(f.Name)
			switch f.Name {
			case "auth":
				if a, ok := v.(*toml.Object); ok {
					v = obj("command", a.Get("command"), "args", a.Get("args"), "timeout_ms", a.Get("timeout_ms"), "refresh_interval_ms", a.Get("refresh_interval_ms"), "cwd", a.Get("cwd"))
				}
			case "capabilities":
				if c, ok := v.(*toml.Object); ok {
					v = obj("cyber_access_programs", c.Get("cyber_access_programs"), "external_web_access", c.Get("external_web_access"), "remote_compaction", c.Get("remote_compaction"))
				}
			}
			po.add(f.Name, v)
		}
		out.add(id, po)
	}
	return out
}

// fileURL renders an absolute path as the file:// URL Codex prints.
func fileURL(x any) any {
	p, ok := x.(string)
	if !ok {
		return nil
	}
	var b strings.Builder
	b.WriteString("file://")
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		b.WriteByte('/')
		b.WriteString(escapePathSegment(seg))
	}
	return b.String()
}

// escapePathSegment applies the url crate's PATH_SEGMENT percent-encode set.
func escapePathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || strings.IndexByte(" \"#<>?`{}/%", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
