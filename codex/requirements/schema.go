package requirements

import (
	"path"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// The Rust types of Codex 0.169.0's requirements, as serde deserializes them.
// Names, field order and expectation texts are what the binary reports.

func unitEnum(name string, variants ...string) *toml.Enum {
	e := &toml.Enum{Name: name}
	for _, v := range variants {
		e.Variants = append(e.Variants, toml.Variant{Name: v})
	}
	return e
}

func opt(name string, t toml.Type) toml.Field { return toml.Field{Name: name, Type: t} }

func req(name string, t toml.Type) toml.Field { return toml.Field{Name: name, Type: t, Required: true} }

var (
	granularApproval = &toml.Struct{Name: "GranularApprovalConfig", Fields: []toml.Field{
		req("sandbox_approval", toml.Bool),
		req("rules", toml.Bool),
		req("skill_approval", toml.Bool),
		req("request_permissions", toml.Bool),
		req("mcp_elicitations", toml.Bool),
	}}

	askForApproval = &toml.Enum{Name: "AskForApproval", Variants: []toml.Variant{
		{Name: "untrusted"},
		{Name: "on-failure", Out: "on-request"},
		{Name: "on-request"},
		{Name: "granular", Kind: toml.Newtype, Type: granularApproval},
		{Name: "never"},
	}}

	approvalsReviewer = &toml.Enum{Name: "ApprovalsReviewer", Variants: []toml.Variant{
		{Name: "user"}, {Name: "auto_review"}, {Name: "guardian_subagent", Out: "auto_review"},
	}}

	sandboxModeRequirement = unitEnum("SandboxModeRequirement", "read-only", "workspace-write", "danger-full-access", "external-sandbox")
	webSearchMode          = unitEnum("WebSearchModeRequirement", "disabled", "cached", "indexed", "live")
	loginMethod            = unitEnum("ForcedLoginMethod", "chatgpt", "api")
	credentialsStore       = unitEnum("AuthCredentialsStoreMode", "file", "keyring", "auto", "ephemeral")
	residency              = unitEnum("ResidencyRequirement", "us")
	windowsSandboxImpl     = unitEnum("WindowsSandboxImplementation", "elevated", "unelevated")
	allowDeny              = unitEnum("AccessDecision", "allow", "deny")
	approvalLifetime       = unitEnum("ApprovalLifetime", "turn", "thread")
	appToolApproval        = unitEnum("AppToolApproval", "auto", "prompt", "writes", "approve")
	marketplaceSource      = unitEnum("MarketplaceSourceKind", "git", "host_pattern", "local")
	otlpProtocol           = unitEnum("OtelHttpProtocol", "binary", "json")
	ruleDecision           = unitEnum("RequirementsExecPolicyDecisionToml", "allow", "prompt", "prompt-user", "forbidden")

	// Config's sandbox mode has no external-sandbox (legacy managed_config.toml).
	configSandboxMode = unitEnum("SandboxMode", "read-only", "workspace-write", "danger-full-access")
)

// pathType is AbsolutePathBuf: a path string resolved against the layer's
// folder and normalised lexically.
func pathType() toml.Type {
	return toml.StringType{Expecting: "path string", Check: func(d *toml.Decoder, s string) (any, string) {
		return resolvePath(d.BaseDir, s), ""
	}}
}

// absolutePathType is an AbsolutePathBuf that must already be absolute.
func absolutePathType() toml.Type {
	return toml.StringType{Expecting: "path string", Check: func(d *toml.Decoder, s string) (any, string) {
		if !strings.HasPrefix(s, "/") {
			return nil, "path is not absolute: " + s
		}
		return resolvePath("/", s), ""
	}}
}

func resolvePath(base, p string) string {
	if base == "" {
		base = "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = base + "/" + p
	}
	return path.Clean(p)
}

var (
	remoteSandboxConfig = &toml.Struct{Name: "RemoteSandboxConfigToml", Fields: []toml.Field{
		req("hostname_patterns", toml.Seq{Elem: toml.Str}),
		req("allowed_sandbox_modes", toml.Seq{Elem: sandboxModeRequirement}),
	}}

	computerUse = &toml.Struct{Name: "ComputerUseRequirementsToml", Fields: []toml.Field{
		opt("allow_locked_computer_use", toml.Bool),
		opt("allow_persistent_approval", toml.Bool),
		opt("default_app_access", allowDeny),
		opt("macos", &toml.Struct{Name: "ComputerUseMacosRequirementsToml", Fields: []toml.Field{
			opt("bundle_ids", toml.Map{Elem: allowDeny}),
		}}),
		opt("windows", &toml.Struct{Name: "ComputerUseWindowsRequirementsToml", Fields: []toml.Field{
			opt("aumids", toml.Map{Elem: allowDeny}),
			opt("exes", toml.Seq{Elem: &toml.Struct{Name: "ComputerUseWindowsExeRequirementToml", Fields: []toml.Field{
				req("publisher_name", toml.Str),
				req("product_name", toml.Str),
				req("binary_name", toml.Str),
				req("access", allowDeny),
			}}}),
		}}),
	}}

	browserOriginPolicy = &toml.Struct{Name: "BrowserUseOriginPolicyToml", Fields: []toml.Field{
		opt("access", allowDeny),
		opt("downloads", allowDeny),
		opt("uploads", allowDeny),
		opt("full_cdp_access", allowDeny),
		opt("auto_review", allowDeny),
		opt("persistent_approval", toml.Bool),
		opt("access_approval_lifetime", approvalLifetime),
	}}

	browserUse = &toml.Struct{Name: "BrowserUseRequirementsToml", Fields: []toml.Field{
		opt("allow_history_access", toml.Bool),
		opt("disable_auto_review", toml.Bool),
		opt("allow_global_persistent_approval", toml.Bool),
		opt("allow_webmcp", toml.Bool),
		opt("extension", &toml.Struct{Name: "BrowserUseExtensionRequirementsToml", Fields: []toml.Field{
			opt("request_headers", toml.Seq{Elem: &toml.Struct{Name: "RequestHeaderToml", Fields: []toml.Field{
				req("name", toml.Str), req("value", toml.Str),
			}}}),
		}}),
		opt("default_origin_policy", browserOriginPolicy),
		opt("origins", toml.Map{Elem: browserOriginPolicy}),
	}}

	inAppBrowser = &toml.Struct{Name: "InAppBrowserRequirementsToml", Fields: []toml.Field{
		opt("allow_external_browser_settings_import", toml.Bool),
	}}

	windowsRequirements = &toml.Struct{Name: "WindowsRequirementsToml", Fields: []toml.Field{
		opt("allowed_sandbox_implementations", toml.Seq{Elem: windowsSandboxImpl}),
		opt("require_mxc", toml.Bool),
	}}

	applicationRequirements = &toml.Struct{Name: "ApplicationRequirementsToml", Fields: []toml.Field{
		opt("network", &toml.Struct{Name: "ApplicationNetworkRequirementsToml", Fields: []toml.Field{
			opt("enabled", toml.Bool),
			opt("domains", toml.Map{Elem: allowDeny}),
		}}),
		opt("storage", &toml.Struct{Name: "ApplicationStorageRequirementsToml", DenyUnknown: true, Fields: []toml.Field{
			opt("default_project_parent", absolutePathType()),
			opt("projectless_workspace_root", absolutePathType()),
		}}),
	}}

	featureRequirements = &toml.Struct{Name: "FeatureRequirementsInput", Flatten: toml.Map{Elem: toml.Bool}, FlattenName: "entries"}

	mcpMatcher = &toml.Tagged{Name: "McpMatcher", Tag: "match", Variants: []toml.Variant{
		{Name: "exact", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Exact", DenyUnknown: true, Fields: []toml.Field{req("value", toml.Str)}}},
		{Name: "prefix", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Prefix", DenyUnknown: true, Fields: []toml.Field{req("value", toml.Str)}}},
		{Name: "regex", Kind: toml.StructVariant, Type: &toml.Struct{Name: "Regex", DenyUnknown: true, Fields: []toml.Field{req("expression", toml.Str)}}},
	}}

	// Identity forms, tried in order: legacy exact command, legacy exact
	// URL, command matcher, URL matcher.
	mcpIdentity = &toml.Untagged{Name: "RawMcpServerIdentity", Variants: []toml.Type{
		tagIdentity("legacy-command", &toml.Struct{Name: "LegacyCommand", Fields: []toml.Field{req("command", toml.Str)}}),
		tagIdentity("legacy-url", &toml.Struct{Name: "LegacyUrl", Fields: []toml.Field{req("url", toml.Str)}}),
		tagIdentity("command", &toml.Struct{Name: "CommandIdentity", DenyUnknown: true, Fields: []toml.Field{
			req("command", &toml.Struct{Name: "CommandMatcher", DenyUnknown: true, Fields: []toml.Field{
				req("executable", toml.Str),
				toml.Field{Name: "args", Type: toml.Seq{Elem: mcpMatcher}, Default: []any{}},
			}}),
		}}),
		tagIdentity("url", &toml.Struct{Name: "UrlIdentity", DenyUnknown: true, Fields: []toml.Field{req("url", mcpMatcher)}}),
	}}

	mcpServerRequirement = &toml.Struct{Name: "RawMcpServerRequirement", Fields: []toml.Field{req("identity", mcpIdentity)}}

	pluginRequirements = &toml.Struct{Name: "PluginMcpRequirements", Fields: []toml.Field{
		opt("mcp_servers", toml.Map{Elem: mcpServerRequirement}),
	}}

	marketplaces = &toml.Struct{Name: "MarketplaceRequirementsToml", DenyUnknown: true, Fields: []toml.Field{
		opt("restrict_to_allowed_sources", toml.Bool),
		opt("allowed_sources", toml.Map{Elem: &toml.Struct{Name: "MarketplaceAllowedSourceToml", Fields: []toml.Field{
			opt("source", marketplaceSource),
			opt("url", toml.Str),
			opt("ref", toml.Str),
			opt("host_pattern", toml.Str),
			opt("path", toml.Str),
		}}}),
	}}

	appTool = &toml.Struct{Name: "AppToolRequirementToml", Fields: []toml.Field{
		opt("approval_mode", appToolApproval),
		opt("analytics_result_source", &toml.Struct{Name: "AppToolResultSourceRequirementToml", Fields: []toml.Field{
			opt("format", toml.Str), opt("type", toml.Str),
		}}),
	}}

	apps = &toml.Struct{Name: "AppsRequirementsToml", FlattenName: "apps", Flatten: toml.Map{Elem: &toml.Struct{Name: "AppRequirementToml", Fields: []toml.Field{
		opt("enabled", toml.Bool),
		opt("tools", &toml.Struct{Name: "AppToolsRequirementsToml", FlattenName: "tools", Flatten: toml.Map{Elem: appTool}}),
	}}}}

	patternToken = &toml.Struct{Name: "RequirementsExecPolicyPatternTokenToml", Fields: []toml.Field{
		opt("token", toml.Str),
		opt("any_of", toml.Seq{Elem: toml.Str}),
	}}

	prefixRule = &toml.Struct{Name: "RequirementsExecPolicyPrefixRuleToml", Fields: []toml.Field{
		req("pattern", toml.Seq{Elem: patternToken}),
		opt("decision", ruleDecision),
		opt("justification", toml.Str),
		opt("canonical_matching", toml.Bool),
	}}

	rulesRequirements = &toml.Struct{Name: "RequirementsExecPolicyToml", Fields: []toml.Field{
		req("prefix_rules", toml.Seq{Elem: prefixRule}),
	}}

	autoReview = &toml.Struct{Name: "AutoReviewRequirementsToml", Fields: []toml.Field{
		opt("required_on_models", toml.Seq{Elem: toml.Str}),
		opt("ignore_rules", toml.Seq{Elem: toml.Str}),
	}}

	models = &toml.Struct{Name: "ModelsRequirementsToml", Fields: []toml.Field{
		opt("new_thread", &toml.Struct{Name: "NewThreadModelDefaultsToml", Fields: []toml.Field{
			opt("model", toml.Str),
			opt("model_reasoning_effort", toml.Str),
			opt("service_tier", toml.Str),
		}}),
	}}

	feedback = &toml.Struct{Name: "FeedbackConfigToml", Fields: []toml.Field{opt("enabled", toml.Bool)}}

	otlpTLS = &toml.Struct{Name: "OtelTlsConfig", Fields: []toml.Field{
		opt("ca-certificate", pathType()),
		opt("client-certificate", pathType()),
		opt("client-private-key", pathType()),
	}}

	otelExporter = &toml.Enum{Name: "OtelExporterKind", Variants: []toml.Variant{
		{Name: "none"},
		{Name: "statsig"},
		{Name: "otlp-http", Kind: toml.StructVariant, Type: &toml.Struct{Name: "OtlpHttp", Fields: []toml.Field{
			req("endpoint", toml.Str),
			toml.Field{Name: "headers", Type: toml.Map{Elem: toml.Str}, Default: toml.NewObject()},
			req("protocol", otlpProtocol),
			opt("tls", otlpTLS),
		}}},
		{Name: "otlp-grpc", Kind: toml.StructVariant, Type: &toml.Struct{Name: "OtlpGrpc", Fields: []toml.Field{
			req("endpoint", toml.Str),
			toml.Field{Name: "headers", Type: toml.Map{Elem: toml.Str}, Default: toml.NewObject()},
			opt("tls", otlpTLS),
		}}},
	}}

	otel = &toml.Struct{Name: "OtelRequirementsToml", DenyUnknown: true, Fields: []toml.Field{
		opt("tool_result", &toml.Struct{Name: "OtelToolResultToml", Fields: []toml.Field{
			toml.Field{Name: "max_bytes", Type: toml.Usz, Default: int64(2048), SeqDefault: true},
		}}),
		opt("log_sse_deltas", toml.Bool),
		opt("log_user_prompt", toml.Bool),
		opt("log_agent_responses", toml.Bool),
		opt("log_guardian_assessments", toml.Bool),
		opt("environment", toml.Str),
		opt("exporter", otelExporter),
		opt("trace_exporter", otelExporter),
		opt("metrics_exporter", otelExporter),
		opt("span_attributes", toml.Map{Elem: toml.Str}),
		opt("tracestate", toml.Map{Elem: toml.Map{Elem: toml.Str}}),
	}}

	configServer = &toml.Struct{Name: "ConfigServerInput", DenyUnknown: true, Fields: []toml.Field{
		req("base_url", toml.Str),
		opt("oauth", toml.AnyValue),
	}}
)

// tagIdentity marks which identity form an untagged variant decoded as.
func tagIdentity(form string, s *toml.Struct) toml.Type {
	return toml.Func(func(d *toml.Decoder, v *toml.Value) (any, error) {
		x, err := s.Decode(d, v)
		if err != nil {
			return nil, err
		}
		return toml.VariantValue{Name: form, Value: x}, nil
	})
}
