package requirements

import (
	"encoding/json"
	"errors"
	"io/fs"
	"regexp/syntax"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

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
