package requirements

import (
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// hookEvents lists the managed hook events in the order Codex prints them.
var hookEvents = []string{
	"PreModelRequest", "PostModelRequest", "PreToolUse", "PermissionRequest", "PostToolUse",
	"PreCompact", "PostCompact", "SessionStart", "SessionEnd", "UserPromptSubmit",
	"SubagentStart", "SubagentStop", "Stop", "Interrupt",
}

var (
	hookHandler = &toml.Tagged{Name: "HookHandlerConfig", Tag: "type", Variants: []toml.Variant{
		{Name: "command", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Command", Fields: []toml.Field{
			req("command", toml.Str),
			{Name: "command_windows", Aliases: []string{"commandWindows"}, Type: toml.Str},
			opt("timeout", toml.U64),
			{Name: "async", Type: toml.Bool, Default: false},
			{Name: "statusMessage", Aliases: []string{"status_message"}, Type: toml.Str},
			{Name: "additionalContextLimit", Aliases: []string{"additional_context_limit"}, Type: toml.Usz},
		}}},
		{Name: "mcp_tool", Kind: toml.StructVariant, Type: &toml.Struct{Name: "McpTool", Fields: []toml.Field{
			req("server", toml.Str),
			req("tool", toml.Str),
			{Name: "input", Type: toml.Map{Elem: toml.AnyValue, Ordered: true}, Default: toml.NewObject()},
			opt("timeout", toml.U64),
			{Name: "statusMessage", Aliases: []string{"status_message"}, Type: toml.Str},
		}}},
		{Name: "prompt", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Prompt"}},
		{Name: "agent", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Agent"}},
	}}

	hookMatcherGroup = &toml.Struct{Name: "MatcherGroup", Fields: []toml.Field{
		opt("matcher", toml.Str),
		{Name: "hooks", Type: toml.Seq{Elem: hookHandler}, Default: []any{}, SeqDefault: true},
	}}

	hookEventsStruct = func() *toml.Struct {
		s := &toml.Struct{Name: "HookEventsToml"}
		for _, e := range hookEvents {
			s.Fields = append(s.Fields, toml.Field{Name: e, Type: toml.Seq{Elem: hookMatcherGroup}, Default: []any{}})
		}
		return s
	}()

	managedHooks = &toml.Struct{Name: "ManagedHooksRequirementsToml", Fields: []toml.Field{
		opt("managed_dir", pathAsGiven()),
		opt("windows_managed_dir", pathAsGiven()),
	}, Flatten: hookEventsStruct, FlattenName: "events"}
)

// pathAsGiven is a PathBuf: any string, kept as written.
func pathAsGiven() toml.Type { return toml.StringType{Expecting: "path string"} }

// Managed network requirements (experimental_network, network_proxy and
// permissions.network all deserialize this).
var (
	domainPermissions = &toml.Struct{Name: "NetworkDomainPermissionsToml", Flatten: toml.Map{Elem: allowDeny}, FlattenName: "entries"}
	unixPermissions   = &toml.Struct{Name: "NetworkUnixSocketPermissionsToml", Flatten: toml.Map{Elem: allowDeny}, FlattenName: "entries"}

	networkRequirements = &toml.Struct{Name: "RawNetworkRequirementsToml", Fields: []toml.Field{
		opt("enabled", toml.Bool),
		opt("http_port", toml.U16),
		opt("socks_port", toml.U16),
		opt("allow_upstream_proxy", toml.Bool),
		opt("dangerously_allow_non_loopback_proxy", toml.Bool),
		opt("dangerously_allow_all_unix_sockets", toml.Bool),
		opt("domains", domainPermissions),
		opt("allowed_domains", toml.Seq{Elem: toml.Str}),
		opt("managed_allowed_domains_only", toml.Bool),
		opt("denied_domains", toml.Seq{Elem: toml.Str}),
		opt("review_domains", toml.Seq{Elem: toml.Str}),
		opt("unix_sockets", unixPermissions),
		opt("allow_unix_sockets", toml.Seq{Elem: toml.Str}),
		opt("allow_local_binding", toml.Bool),
		opt("header_injections", toml.Seq{Elem: &toml.Struct{Name: "NetworkHeaderInjectionToml", Fields: []toml.Field{
			req("host", toml.Str),
			opt("methods", toml.Seq{Elem: toml.Str}),
			opt("path_prefixes", toml.Seq{Elem: toml.Str}),
			opt("headers", toml.Map{Elem: toml.Str}),
		}}}),
	}, After: func(d *toml.Decoder, v *toml.Value, o *toml.Object) error {
		if o.Has("domains") && (o.Has("allowed_domains") || o.Has("denied_domains")) {
			return d.Errorf(v, "`domains` cannot be combined with legacy `allowed_domains` or `denied_domains` in managed network requirements")
		}
		if o.Has("unix_sockets") && o.Has("allow_unix_sockets") {
			return d.Errorf(v, "`unix_sockets` cannot be combined with legacy `allow_unix_sockets` in managed network requirements")
		}
		return nil
	}}
)

// Permission profiles and the requirements-only filesystem table.
var (
	// profileKeys are keys that define a permission profile; they may not
	// appear under [permissions.filesystem].
	profileKeys = []string{"extends", "filesystem", "network", "description", "workspace_roots"}

	filesystemRequirements = &toml.Struct{Name: "RawFilesystemRequirementsToml", Fields: []toml.Field{
		opt("deny_read", toml.Seq{Elem: denyReadPattern()}),
		opt("extends", toml.AnyValue),
		opt("filesystem", toml.AnyValue),
		opt("network", toml.AnyValue),
		opt("description", toml.AnyValue),
		opt("workspace_roots", toml.AnyValue),
	}, After: func(d *toml.Decoder, v *toml.Value, o *toml.Object) error {
		for _, k := range profileKeys {
			if o.Has(k) {
				return d.Errorf(v, "`permissions.filesystem` is reserved for requirements-level filesystem constraints and cannot define a profile")
			}
		}
		return nil
	}}

	permissionProfile = &toml.Struct{Name: "PermissionProfileToml", Fields: []toml.Field{
		opt("extends", toml.Str),
	}}

	permissionsRequirements = &toml.Struct{Name: "PermissionsRequirementsToml", Fields: []toml.Field{
		opt("filesystem", filesystemRequirements),
		opt("network", networkRequirements),
	}, Flatten: toml.Map{Elem: permissionProfile}, FlattenName: "profiles"}
)

// denyReadPattern is FilesystemDenyReadPattern: an absolute path, or a glob
// whose literal directory prefix is made absolute.
func denyReadPattern() toml.Type {
	return toml.StringType{Expecting: "a string", Check: func(d *toml.Decoder, s string) (any, string) {
		i := strings.IndexAny(s, "*?[")
		if i < 0 {
			return resolvePath(d.BaseDir, s), ""
		}
		sep := strings.LastIndexByte(s[:i], '/')
		var prefix, suffix string
		switch {
		case sep == 0:
			prefix, suffix = "/", s[1:]
		case sep > 0:
			prefix, suffix = s[:sep], s[sep+1:]
		default:
			prefix, suffix = ".", s
		}
		abs := resolvePath(d.BaseDir, prefix)
		switch {
		case suffix == "":
			return abs, ""
		case abs == "/":
			return "/" + suffix, ""
		}
		return abs + "/" + suffix, ""
	}}
}

// Model providers (the same schema as config.toml's [model_providers]).
var (
	wireAPI = toml.Func(func(d *toml.Decoder, v *toml.Value) (any, error) {
		if (v.Kind == toml.String || v.Kind == toml.Datetime) && v.Str == "chat" {
			return nil, d.Errorf(v, "`wire_api = \"chat\"` is no longer supported.\nHow to fix: set `wire_api = \"responses\"` in your provider config.\nMore info: https://github.com/openai/codex/discussions/7782")
		}
		return unitEnum("WireApi", "responses").Decode(d, v)
	})

	modelProviderInfo = &toml.Struct{Name: "ModelProviderInfo", Fields: []toml.Field{
		{Name: "name", Type: toml.Str, Default: ""},
		opt("base_url", toml.Str),
		opt("model_catalog_url", toml.Str),
		opt("env_key", toml.Str),
		opt("env_key_instructions", toml.Str),
		opt("experimental_bearer_token", toml.Str),
		opt("auth", &toml.Struct{Name: "ModelProviderAuthInfo", Fields: []toml.Field{
			req("command", toml.Str),
			{Name: "args", Type: toml.Seq{Elem: toml.Str}, Default: []any{}},
			{Name: "timeout_ms", Type: toml.U64, Default: int64(5000)},
			{Name: "refresh_interval_ms", Type: toml.U64, Default: int64(300000)},
			{Name: "cwd", Type: pathType(), Default: nil},
		}}),
		opt("gateway_oauth", toml.AnyValue),
		opt("aws", toml.AnyValue),
		opt("project_id", toml.Str),
		opt("location", toml.Str),
		opt("credential_file", toml.Str),
		{Name: "wire_api", Type: wireAPI, Default: "responses"},
		opt("capabilities", &toml.Struct{Name: "ModelProviderCapabilities", Fields: []toml.Field{
			opt("cyber_access_programs", toml.AnyValue),
			opt("external_web_access", toml.Bool),
			opt("remote_compaction", toml.Bool),
		}}),
		opt("query_params", toml.Map{Elem: toml.Str}),
		opt("http_headers", toml.Map{Elem: toml.Str}),
		opt("env_http_headers", toml.Map{Elem: toml.Str}),
		opt("request_max_retries", toml.U64),
		opt("stream_max_retries", toml.U64),
		opt("stream_idle_timeout_ms", toml.U64),
		opt("websocket_connect_timeout_ms", toml.U64),
		{Name: "requires_openai_auth", Type: toml.Bool, Default: false},
		{Name: "supports_websockets", Type: toml.Bool, Default: false},
		{Name: "supports_standalone_web_search", Type: toml.Bool, Default: false},
	}}

	// builtinProviders are the provider ids Codex defines itself.
	builtinProviders = []string{"amazon-bedrock", "lmstudio", "ollama", "openai"}
)

// configRequirements is ConfigRequirementsToml. model_providers is only
// decoded for the merged document; each layer is checked without it.
func configRequirements(withProviders bool) *toml.Struct {
	s := &toml.Struct{Name: "ConfigRequirementsToml", Fields: []toml.Field{
		opt("config_server", configServer),
		opt("allowed_login_methods", toml.Seq{Elem: loginMethod}),
		opt("allowed_chatgpt_workspaces", toml.Seq{Elem: toml.Str}),
		opt("unsafe_enforce_sqlite_journal_mode", toml.Bool),
		opt("allowed_approval_policies", toml.Seq{Elem: askForApproval}),
		opt("allowed_approvals_reviewers", toml.Seq{Elem: approvalsReviewer}),
		opt("allowed_sandbox_modes", toml.Seq{Elem: sandboxModeRequirement}),
		opt("allowed_permission_profiles", toml.Map{Elem: toml.Bool}),
		opt("default_permissions", toml.Str),
		opt("remote_sandbox_config", toml.Seq{Elem: remoteSandboxConfig}),
		opt("allowed_web_search_modes", toml.Seq{Elem: webSearchMode}),
		opt("allow_managed_hooks_only", toml.Bool),
		opt("allow_browser_and_computer_use", toml.Bool),
		opt("allow_appshots", toml.Bool),
		opt("allow_remote_control", toml.Bool),
		opt("computer_use", computerUse),
		opt("browser_use", browserUse),
		opt("in_app_browser", inAppBrowser),
		opt("windows", windowsRequirements),
		opt("application", applicationRequirements),
		{Name: "features", Aliases: []string{"feature_requirements"}, Type: featureRequirements},
		opt("hooks", managedHooks),
		opt("mcp_servers", toml.Map{Elem: mcpServerRequirement}),
		opt("plugins", toml.Map{Elem: pluginRequirements}),
		opt("marketplaces", marketplaces),
		opt("apps", apps),
		opt("rules", rulesRequirements),
		opt("enforce_residency", residency),
		{Name: "network_proxy", Aliases: []string{"experimental_network"}, Type: networkRequirements},
		opt("permissions", permissionsRequirements),
		opt("guardian_policy_config", toml.Str),
		opt("guardian_extra_policy", toml.Str),
		opt("auto_review", autoReview),
		opt("models", models),
		opt("sqlite_home", pathType()),
		opt("log_dir", pathType()),
		opt("model_catalog_json", pathType()),
		opt("check_for_update_on_startup", toml.Bool),
		opt("allow_login_shell", toml.Bool),
		opt("feedback", feedback),
		opt("additional_developer_instructions", toml.Str),
		opt("otel", otel),
		opt("model_provider", toml.Str),
		opt("cli_auth_credentials_store", credentialsStore),
		opt("chatgpt_base_url", toml.Str),
	}}
	if withProviders {
		s.Fields = append(s.Fields, opt("model_providers", toml.Map{Elem: modelProviderInfo}))
	}
	return s
}

var (
	layerSchema  = configRequirements(false)
	mergedSchema = configRequirements(true)

	// bootstrapSchema is what Codex reads from the system file before the
	// rest: the application network policy that governs its own requests.
	bootstrapSchema = &toml.Struct{Name: "ConfigRequirementsToml", Fields: []toml.Field{opt("application", applicationRequirements)}}

	legacyManagedConfig = &toml.Struct{Name: "LegacyManagedConfigToml", Fields: []toml.Field{
		opt("approval_policy", askForApproval),
		opt("sandbox_mode", configSandboxMode),
	}}
)
