// Package reqgen generates random Codex requirements documents, valid and
// invalid, covering every key Codex 0.169.0 reads (SPEC.md §2.4), for
// differential tests against the real binary.
package reqgen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Case is one generated machine: a system file, optionally a legacy
// managed_config.toml and cloud fragments.
type Case struct {
	System  string
	Managed string // "" when absent
	Cloud   []string
	// Keys lists the requirement keys the case exercises.
	Keys []string
}

// frag is a piece of a document: top-level lines, or a [section].
type frag struct {
	top     string
	section string
}

type keyGen struct {
	name    string
	valid   []func(r *rand.Rand) frag
	invalid []func(r *rand.Rand) frag
	// noCloud keys are left out of cloud fragments (local-only keys, and
	// keys whose relative paths would resolve against CODEX_HOME).
	noCloud bool
	// redirectsFetch keys, in a system file, point Codex's cloud fetch away
	// from the test's loopback endpoint (another base URL, a credential
	// store without the test login, an application network policy that
	// denies loopback, a workspace list without the test login's account);
	// they are left out of cases with cloud fragments.
	redirectsFetch bool
}

func top(format string, args ...any) func(*rand.Rand) frag {
	s := fmt.Sprintf(format, args...)
	return func(*rand.Rand) frag { return frag{top: s} }
}

func sec(s string) func(*rand.Rand) frag { return func(*rand.Rand) frag { return frag{section: s} } }

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// subset returns a random non-empty ordered selection (duplicates possible).
func subset(r *rand.Rand, xs ...string) []string {
	n := 1 + r.IntN(len(xs))
	out := make([]string, n)
	for i := range out {
		out[i] = xs[r.IntN(len(xs))]
	}
	return out
}

func list(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func boolLit(r *rand.Rand) string { return pick(r, "true", "false") }

var featureNames = []string{"browser_use", "computer_use", "memories", "web_search", "guardianv2", "not_a_real_feature", "apps"}

var keys = []keyGen{
	{name: "allowed_approval_policies",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{top: "allowed_approval_policies = " + list(subset(r, "untrusted", "on-failure", "on-request", "never"))}
			},
			func(r *rand.Rand) frag {
				return frag{top: fmt.Sprintf("allowed_approval_policies = [\"on-request\", { granular = { sandbox_approval = %s, rules = %s, skill_approval = %s, request_permissions = %s, mcp_elicitations = %s } }]",
					boolLit(r), boolLit(r), boolLit(r), boolLit(r), boolLit(r))}
			},
		},
		invalid: []func(*rand.Rand) frag{
			top("allowed_approval_policies = []"), top(`allowed_approval_policies = ["sometimes"]`), top(`allowed_approval_policies = "never"`),
			top(`allowed_approval_policies = [1]`), top(`allowed_approval_policies = ["granular"]`),
			top(`allowed_approval_policies = [{ granular = { rules = true } }]`), top(`allowed_approval_policies = [{}]`),
		}},
	{name: "allowed_approvals_reviewers",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			return frag{top: "allowed_approvals_reviewers = " + list(subset(r, "user", "auto_review", "guardian_subagent"))}
		}},
		invalid: []func(*rand.Rand) frag{top("allowed_approvals_reviewers = []"), top(`allowed_approvals_reviewers = ["robot"]`), top(`allowed_approvals_reviewers = "user"`)}},
	{name: "allowed_sandbox_modes",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			modes := append([]string{"read-only"}, subset(r, "workspace-write", "danger-full-access", "external-sandbox", "read-only")...)
			r.Shuffle(len(modes), func(i, j int) { modes[i], modes[j] = modes[j], modes[i] })
			return frag{top: "allowed_sandbox_modes = " + list(modes)}
		}},
		invalid: []func(*rand.Rand) frag{
			top(`allowed_sandbox_modes = ["workspace-write"]`), top(`allowed_sandbox_modes = []`), top(`allowed_sandbox_modes = ["read-only", "full"]`),
			top(`allowed_sandbox_modes = "read-only"`), top(`allowed_sandbox_modes = ["danger-full-access", "external-sandbox"]`),
		}},
	{name: "remote_sandbox_config",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			var b strings.Builder
			for i := 0; i < 1+r.IntN(2); i++ {
				pats := subset(r, "vm", "VM", "v*", "v?", "build-*", "*.corp.example", "vm.", "other")
				modes := append([]string{"read-only"}, subset(r, "workspace-write", "danger-full-access")...)
				fmt.Fprintf(&b, "[[remote_sandbox_config]]\nhostname_patterns = %s\nallowed_sandbox_modes = %s\n", list(pats), list(modes))
			}
			return frag{section: b.String()}
		}},
		invalid: []func(*rand.Rand) frag{
			sec("[remote_sandbox_config]\nhostname_patterns = [\"vm\"]\nallowed_sandbox_modes = [\"read-only\"]\n"),
			sec("[[remote_sandbox_config]]\nallowed_sandbox_modes = [\"read-only\"]\n"),
			sec("[[remote_sandbox_config]]\nhostname_patterns = [\"v*\"]\nallowed_sandbox_modes = [\"workspace-write\"]\n"),
		}},
	{name: "allowed_web_search_modes",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{top: "allowed_web_search_modes = " + list(subset(r, "disabled", "cached", "indexed", "live"))}
			},
			top("allowed_web_search_modes = []"),
		},
		invalid: []func(*rand.Rand) frag{top(`allowed_web_search_modes = ["google"]`), top(`allowed_web_search_modes = "live"`)}},
	{name: "allowed_login_methods", noCloud: true,
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			return frag{top: "allowed_login_methods = " + list(subset(r, "chatgpt", "api"))}
		}},
		invalid: []func(*rand.Rand) frag{top("allowed_login_methods = []"), top(`allowed_login_methods = ["sso"]`)}},
	{name: "allowed_chatgpt_workspaces", noCloud: true, redirectsFetch: true,
		valid:   []func(*rand.Rand) frag{top(`allowed_chatgpt_workspaces = ["ws-123"]`), top(`allowed_chatgpt_workspaces = [" a ", ""]`), top(`allowed_chatgpt_workspaces = []`)},
		invalid: []func(*rand.Rand) frag{top(`allowed_chatgpt_workspaces = 1`)}},
	{name: "cli_auth_credentials_store", noCloud: true, redirectsFetch: true,
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			return frag{top: fmt.Sprintf("cli_auth_credentials_store = %q", pick(r, "file", "keyring", "auto", "ephemeral"))}
		}},
		invalid: []func(*rand.Rand) frag{top(`cli_auth_credentials_store = "vault"`)}},
	{name: "chatgpt_base_url", noCloud: true, redirectsFetch: true,
		valid:   []func(*rand.Rand) frag{top(`chatgpt_base_url = "https://chatgpt.example/backend-api/"`)},
		invalid: []func(*rand.Rand) frag{top(`chatgpt_base_url = true`)}},
	{name: "sqlite_home", noCloud: true,
		valid:   []func(*rand.Rand) frag{top(`sqlite_home = "/var/lib/codex/state"`), top(`sqlite_home = "state/sqlite"`), top(`sqlite_home = "/a/../b/./c/"`), top(`sqlite_home = "dir with space/é"`)},
		invalid: []func(*rand.Rand) frag{top(`sqlite_home = 5`)}},
	{name: "log_dir", noCloud: true,
		valid:   []func(*rand.Rand) frag{top(`log_dir = "/var/log/codex"`), top(`log_dir = "logs"`)},
		invalid: []func(*rand.Rand) frag{top(`log_dir = ["x"]`)}},
	{name: "model_catalog_json",
		valid:   []func(*rand.Rand) frag{top(`model_catalog_json = "/nonexistent/models.json"`), top(`model_catalog_json = "/etc/codex/requirements.toml"`)},
		invalid: []func(*rand.Rand) frag{top(`model_catalog_json = 1`)}},
	{name: "check_for_update_on_startup",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "check_for_update_on_startup = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`check_for_update_on_startup = "yes"`), top(`check_for_update_on_startup = 2`)}},
	{name: "allow_login_shell",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "allow_login_shell = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`allow_login_shell = 2.0`)}},
	{name: "feedback",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{section: "[feedback]\nenabled = " + boolLit(r) + "\n"} }, top("feedback = {}"), top("feedback = [true]")},
		invalid: []func(*rand.Rand) frag{top(`feedback = 1`), top(`feedback = { enabled = "x" }`), top(`feedback = []`)}},
	{name: "additional_developer_instructions",
		valid:   []func(*rand.Rand) frag{top(`additional_developer_instructions = "Follow the \"corp\" policy.\nAlways."`), top(`additional_developer_instructions = 1979-05-27T07:32:00Z`)},
		invalid: []func(*rand.Rand) frag{top(`additional_developer_instructions = [1]`)}},
	{name: "allowed_permission_profiles",
		valid: []func(*rand.Rand) frag{
			top(`allowed_permission_profiles = { ":read-only" = true, ":workspace" = true }`),
			top(`allowed_permission_profiles = { ":read-only" = true, ":workspace" = true, ":danger-full-access" = false }`),
			func(r *rand.Rand) frag {
				return frag{top: `default_permissions = "managed-standard"`,
					section: fmt.Sprintf("[allowed_permission_profiles]\nmanaged-standard = true\n\":read-only\" = %s\n[permissions.managed-standard]\nextends = \":workspace\"\n", boolLit(r))}
			},
		},
		invalid: []func(*rand.Rand) frag{
			sec("[allowed_permission_profiles]\nmystery = true\n"), top(`default_permissions = "x"`), sec("[allowed_permission_profiles]\n"),
			top(`allowed_permission_profiles = { ":read-only" = 1 }`), top(`default_permissions = 1`),
		}},
	{name: "permissions",
		valid: []func(*rand.Rand) frag{
			sec("[permissions.filesystem]\ndeny_read = [\"/etc/shadow\", \"/home/*/.ssh/**\", \"relative/secret\", \"*.pem\"]\n"),
			sec("[permissions.filesystem]\ndeny_read = []\n"),
		},
		invalid: []func(*rand.Rand) frag{
			sec("[permissions.filesystem]\nextends = \":workspace\"\n"), sec("[permissions.filesystem]\ndeny_read = [1]\n"),
			sec("[permissions.p1]\nextends = 1\n"), sec("[permissions.p1]\nextends = \":workspace\"\n"),
		}},
	{name: "allowed_permissions",
		valid: []func(*rand.Rand) frag{top(`allowed_permissions = ["a"]`), top(`allowed_permissions = 1`)}},
	{name: "allow_managed_hooks_only",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "allow_managed_hooks_only = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`allow_managed_hooks_only = 1`)}},
	{name: "allow_browser_and_computer_use",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "allow_browser_and_computer_use = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`allow_browser_and_computer_use = "no"`)}},
	{name: "allow_appshots",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "allow_appshots = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`allow_appshots = {}`)}},
	{name: "allow_remote_control",
		valid:   []func(*rand.Rand) frag{func(r *rand.Rand) frag { return frag{top: "allow_remote_control = " + boolLit(r)} }},
		invalid: []func(*rand.Rand) frag{top(`allow_remote_control = []`)}},
	{name: "computer_use",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: fmt.Sprintf("[computer_use]\nallow_locked_computer_use = %s\ndefault_app_access = %q\n", boolLit(r), pick(r, "allow", "deny"))}
			},
			sec("[computer_use.windows]\naumids = { \"A.B\" = \"allow\" }\nexes = [{ publisher_name = \"P\", product_name = \"X\", binary_name = \"x.exe\", access = \"deny\" }]\n[computer_use.macos]\nbundle_ids = { \"com.a\" = \"allow\", \"com.b\" = \"deny\" }\n"),
			sec("[computer_use]\n"),
		},
		invalid: []func(*rand.Rand) frag{sec("[computer_use]\ndefault_app_access = \"maybe\"\n"), sec("[computer_use.windows]\nexes = [{ publisher_name = \"P\" }]\n"), top("computer_use = 1")}},
	{name: "browser_use",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: fmt.Sprintf("[browser_use]\nallow_history_access = %s\nallow_webmcp = %s\n[browser_use.default_origin_policy]\naccess = %q\npersistent_approval = %s\naccess_approval_lifetime = %q\n[browser_use.origins.\"https://a.example\"]\ndownloads = \"deny\"\n",
					boolLit(r), boolLit(r), pick(r, "allow", "deny"), boolLit(r), pick(r, "turn", "thread"))}
			},
			sec("[browser_use.extension]\nrequest_headers = [{ name = \"x-corp\", value = \"1\" }]\n"),
		},
		invalid: []func(*rand.Rand) frag{sec("[browser_use.default_origin_policy]\naccess = \"ask\"\n"), top("browser_use = { extension = 1 }")}},
	{name: "in_app_browser",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: "[in_app_browser]\nallow_external_browser_settings_import = " + boolLit(r) + "\nenabled = true\n"}
			},
		},
		invalid: []func(*rand.Rand) frag{top("in_app_browser = { allow_external_browser_settings_import = 1 }")}},
	{name: "windows",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			return frag{section: "[windows]\nallowed_sandbox_implementations = " + list(subset(r, "elevated", "unelevated")) + "\nsandbox_private_desktop = " + boolLit(r) + "\n"}
		}},
		invalid: []func(*rand.Rand) frag{sec("[windows]\nallowed_sandbox_implementations = []\n"), sec("[windows]\nallowed_sandbox_implementations = [\"x\"]\n")}},
	{name: "application", redirectsFetch: true,
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: "[application.network]\nenabled = " + boolLit(r) + "\ndomains = { \"a.example\" = \"allow\", \"b.example\" = \"deny\" }\n"}
			},
			sec("[application.storage]\ndefault_project_parent = \"/srv/projects\"\n"),
		},
		invalid: []func(*rand.Rand) frag{sec("[application.storage]\ndefault_project_parent = \"rel\"\n"), sec("[application.network]\ndomains = { \"a\" = \"x\" }\n")}},
	{name: "features",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			var b strings.Builder
			b.WriteString(pick(r, "[features]\n", "[feature_requirements]\n"))
			seen := map[string]bool{}
			for i := 0; i < 1+r.IntN(3); i++ {
				n := pick(r, featureNames...)
				if !seen[n] {
					seen[n] = true
					fmt.Fprintf(&b, "%s = %s\n", n, boolLit(r))
				}
			}
			return frag{section: b.String()}
		}, sec("[features]\n")},
		invalid: []func(*rand.Rand) frag{sec("[features]\nweb_search = \"on\"\n"), sec("[features]\na = true\n[feature_requirements]\nb = false\n")}},
	{name: "hooks",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: fmt.Sprintf("[hooks]\nmanaged_dir = \"/etc/codex/hooks\"\n[[hooks.PreToolUse]]\nmatcher = \"Bash\"\nhooks = [{ type = \"command\", command = \"/etc/codex/hooks/check.sh\", timeout = %d, statusMessage = \"checking\" }]\n[[hooks.Stop]]\nhooks = [{ type = \"command\", command = \"/x.sh\", async = %s }, { type = \"mcp_tool\", server = \"s\", tool = \"t\" }]\n", 1+r.IntN(60), boolLit(r))}
			},
			sec("[hooks]\nmanaged_dir = \"/etc/codex/hooks\"\n[[hooks.pre_tool_use]]\nhooks = [{ type = \"command\", command = \"/x.sh\" }]\n"),
			sec("[hooks]\nmanaged_dir = \"/opt/corp/hooks\"\n[[hooks.SessionStart]]\nhooks = [{ type = \"command\", command = \"/opt/corp/hooks/start.sh\" }]\n"),
			sec("[[hooks.UserPromptSubmit]]\nhooks = [{ type = \"command\", command = \"/usr/local/bin/audit\", timeout = 3 }]\n"),
		},
		invalid: []func(*rand.Rand) frag{sec("[[hooks.SessionStart]]\nhooks = [{ type = \"webhook\", command = \"/x.sh\" }]\n"), sec("[hooks]\nmanaged_dir = 1\n")}},
	{name: "mcp_servers",
		valid: []func(*rand.Rand) frag{
			sec("[mcp_servers.linear]\nidentity = { url = \"https://mcp.linear.app/mcp\" }\n[mcp_servers.docs]\nidentity = { command = \"npx\", args = [\"-y\"] }\n"),
			sec("[mcp_servers.local]\nidentity = { command = { executable = \"npx\", args = [{ match = \"exact\", value = \"-y\" }, { match = \"regex\", expression = \"v[0-9]+\" }] } }\n[mcp_servers.b]\nidentity = { url = { match = \"prefix\", value = \"https://b.example/\" } }\n"),
			sec("[mcp_servers]\n"),
		},
		invalid: []func(*rand.Rand) frag{
			sec("[mcp_servers.a]\nurl = \"https://x\"\n"), sec("[mcp_servers.a]\nidentity = { cmd = \"npx\" }\n"),
			sec("[mcp_servers.a]\nidentity = { url = { match = \"regex\", expression = \"(\" } }\n"),
			sec("[mcp_servers.a]\nidentity = { command = { executable = \"npx\", args = [{ match = \"regex\", expression = \"[\" }] } }\n"),
			sec("[mcp_servers.a]\nidentity = { url = { match = \"glob\", value = \"https://*\" } }\n"),
		}},
	{name: "plugins",
		valid:   []func(*rand.Rand) frag{sec("[plugins.myplug.mcp_servers.srv]\nidentity = { url = \"https://plug.example/mcp\" }\n"), sec("[plugins.p]\nother = 1\n")},
		invalid: []func(*rand.Rand) frag{sec("[plugins.p.mcp_servers.s]\nidentity = { url = { match = \"regex\", expression = \"(\" } }\n"), sec("[plugins.p]\nmcp_servers = 1\n")}},
	{name: "marketplaces",
		valid:   []func(*rand.Rand) frag{sec("[marketplaces]\nrestrict_to_allowed_sources = true\n[marketplaces.allowed_sources.corp]\nsource = \"git\"\nurl = \"https://git.example/corp/plugins\"\n")},
		invalid: []func(*rand.Rand) frag{sec("[marketplaces]\nbogus = 1\n"), sec("[marketplaces.allowed_sources.a]\nsource = \"svn\"\n")}},
	{name: "apps",
		valid:   []func(*rand.Rand) frag{sec("[apps.slack]\nenabled = false\n[apps.slack.tools.post]\napproval_mode = \"prompt\"\n")},
		invalid: []func(*rand.Rand) frag{sec("[apps.slack]\nenabled = 1\n"), sec("[apps.slack.tools.t]\napproval_mode = \"x\"\n")}},
	{name: "rules",
		valid: []func(*rand.Rand) frag{func(r *rand.Rand) frag {
			return frag{section: fmt.Sprintf("[rules]\nprefix_rules = [\n  { pattern = [{ token = \"git\" }, { any_of = [\"push\", \"commit\"] }], decision = %q, justification = \"Require review\" },\n  { pattern = [{ token = \"rm\" }, { token = \"-rf\" }], decision = \"forbidden\", reviewer = \"x\" },\n]\n", pick(r, "prompt", "prompt-user", "forbidden"))}
		}},
		invalid: []func(*rand.Rand) frag{
			sec("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }], decision = \"allow\" }]\n"),
			sec("[rules]\nprefix_rules = []\n"), sec("[rules]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [], decision = \"prompt\" }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\", any_of = [\"a\"] }], decision = \"prompt\" }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [{ any_of = [] }], decision = \"prompt\" }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }] }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }], decision = \"deny\" }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [\"git\"], decision = \"prompt\" }]\n"),
			sec("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }], decision = \"forbidden\", justification = \" \" }]\n"),
		}},
	{name: "enforce_residency",
		valid:   []func(*rand.Rand) frag{top(`enforce_residency = "us"`)},
		invalid: []func(*rand.Rand) frag{top(`enforce_residency = "eu"`), top(`enforce_residency = 1`)}},
	{name: "experimental_network",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: fmt.Sprintf("[%s]\nenabled = %s\nhttp_port = %d\nallowed_domains = [\"*.openai.com\", \"github.com\"]\ndenied_domains = [\"evil.example\"]\nallow_unix_sockets = [\"/var/run/docker.sock\"]\nmanaged_allowed_domains_only = %s\n",
					pick(r, "experimental_network", "network_proxy", "permissions.network"), boolLit(r), 1024+r.IntN(60000), boolLit(r))}
			},
			sec("[experimental_network.domains]\n\"x.example\" = \"allow\"\n\"y.example\" = \"deny\"\n[experimental_network.unix_sockets]\n\"/tmp/a.sock\" = \"allow\"\n"),
			sec("[experimental_network]\nreview_domains = [\"r.example\"]\nbogus = 1\n"),
			sec("[experimental_network]\nallowed_domains = []\n"),
		},
		invalid: []func(*rand.Rand) frag{
			sec("[experimental_network]\nallowed_domains = [\"a.example\"]\n[experimental_network.domains]\n\"b.example\" = \"allow\"\n"),
			sec("[experimental_network]\nhttp_port = 70000\n"),
			sec("[network_proxy]\nenabled = true\n[experimental_network]\nenabled = false\n"),
			sec("[experimental_network.domains]\n\"x.example\" = \"review\"\n"),
			sec("[experimental_network]\nenabled = true\n[permissions.network]\nenabled = false\n"),
		}},
	{name: "auto_review",
		valid:   []func(*rand.Rand) frag{sec("[auto_review]\nrequired_on_models = [\"gpt-5\"]\nignore_rules = [\"x\"]\n")},
		invalid: []func(*rand.Rand) frag{sec("[auto_review]\nrequired_on_models = [\"gpt-5\", \"openai/gpt-6\"]\n"), sec("[auto_review]\nrequired_on_models = [\" x\"]\n"), sec("[auto_review]\nignore_rules = [1]\n")}},
	{name: "models",
		valid:   []func(*rand.Rand) frag{sec("[models.new_thread]\nmodel = \"gpt-5\"\nmodel_reasoning_effort = \"high\"\nservice_tier = \"flex\"\n"), sec("[models.new_thread]\nmodel = \"m\"\n")},
		invalid: []func(*rand.Rand) frag{top("models = { new_thread = 1 }")}},
	{name: "guardian_policy_config",
		valid:   []func(*rand.Rand) frag{top(`guardian_policy_config = "be strict"`), top(`guardian_policy_config = "   "`)},
		invalid: []func(*rand.Rand) frag{top(`guardian_policy_config = 1`)}},
	{name: "otel",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{section: fmt.Sprintf("[otel]\nlog_user_prompt = %s\nenvironment = \"prod\"\nexporter = { otlp-http = { endpoint = \"https://otel.example.com/v1/logs\", protocol = %q, headers = { \"x-api-key\" = \"secret\" } } }\ntrace_exporter = \"none\"\nmetrics_exporter = \"statsig\"\n[otel.span_attributes]\nteam = \"core\"\n", boolLit(r), pick(r, "binary", "json"))}
			},
			sec("[otel]\nexporter = { otlp-grpc = { endpoint = \"https://otel.example.com:4317\" } }\ntool_result = { max_bytes = 10 }\n"),
		},
		invalid: []func(*rand.Rand) frag{sec("[otel]\nbogus = 1\n"), sec("[otel]\nexporter = \"otlp-http\"\n"), sec("[otel]\nexporter = { otlp-http = { endpoint = \"https://x\", protocol = \"xml\" } }\n")}},
	{name: "model_providers",
		valid: []func(*rand.Rand) frag{
			func(r *rand.Rand) frag {
				return frag{top: fmt.Sprintf("model_provider = %q", pick(r, "corp", "openai", "ollama")),
					section: fmt.Sprintf("[model_providers.corp]\nname = \"Corp\"\nbase_url = \"https://llm.corp.example/v1\"\nwire_api = \"responses\"\nrequest_max_retries = %d\nhttp_headers = { \"x-team\" = \"a\" }\n", r.IntN(5))}
			},
			top(`model_provider = "lmstudio"`),
		},
		invalid: []func(*rand.Rand) frag{
			top(`model_provider = "zzz"`), sec("[model_providers.corp]\nbase_url = \"https://x\"\n"), sec("[model_providers.ollama]\nname = \"x\"\n"),
			sec("[model_providers.corp]\nname = \"C\"\nwire_api = \"chat\"\n"), top(`model_providers = 1`),
		}},
	{name: "config_server", noCloud: true,
		invalid: []func(*rand.Rand) frag{top(`config_server = 1`)}},
	{name: "unknown",
		valid: []func(*rand.Rand) frag{top(`totally_unknown_key = 1`), sec("[unknown_table]\nx = \"y\"\n"), top(`allowed_sandbox_mode = ["read-only"]`)}},
}

// KeyNames lists every key the generator covers.
func KeyNames() []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.name)
	}
	sort.Strings(out)
	return out
}

// syntaxErrors are mutations that break a document's TOML.
var syntaxErrors = []string{
	"allowed_approval_policies = [\"never\"\n", "a = \n", "[unclosed\n", "x = [1,,2]\n", "x = 01\n", "x = tru\n",
	"x = \"unterminated\n", "x = 1 y = 2\n", "x = {a = 1\n", "[[arr]\n", "x = \"\\q\"\n", "x = 1979-13-01\n",
}

// nesting draws one of the deep forms whose limits Codex's TOML reader
// keeps (toml.MaxValueDepth, toml.MaxKeySegments), at a depth around the
// limit; header forms go at the end of a document, the others at its top.
func nesting(r *rand.Rand) (form string, header bool) {
	d := 78 + r.IntN(5) // 78..82
	open := func(s string, n int) string { return strings.Repeat(s, n) }
	switch r.IntN(8) {
	case 0:
		return "deep_array = " + open("[", d) + "1" + open("]", d) + "\n", false
	case 1:
		return "deep_table = " + open("{a = ", d) + "1" + open("}", d) + "\n", false
	case 2:
		h := 38 + r.IntN(5) // 38..42 pairs: 76..84 levels
		return "deep_mixed = " + open("[{a = ", h) + "1" + open("}]", h) + "\n", false
	case 3:
		return open("deep.", d-1) + "key = 1\n", false
	case 4:
		return "deep_inline = { " + open("k.", d-1) + "k = 1 }\n", false
	case 5:
		return "[" + open("deep.", d-1) + "table]\nx = 1\n", true
	case 6:
		return "[[" + open("deep.", d-1) + "array]]\nx = 1\n", true
	default:
		return "deep_multiline = [\n" + open("[", d-1) + "1" + open("]", d-1) + ",\n]\n", false
	}
}

// withNesting puts a nesting form into doc.
func withNesting(r *rand.Rand, doc string) string {
	form, header := nesting(r)
	if header {
		return doc + form
	}
	return form + doc
}

// document builds one document from n random keys. A cloud document is a
// fragment; a system document of a cloud case avoids redirectsFetch keys.
func document(r *rand.Rand, n int, cloud, cloudCase bool, invalidRate float64) (string, []string) {
	var tops, sections, names []string
	used := map[string]bool{}
	for len(names) < n {
		k := keys[r.IntN(len(keys))]
		if used[k.name] || (cloud && k.noCloud) || (cloudCase && k.redirectsFetch) {
			if len(used) >= len(keys)-8 {
				break
			}
			continue
		}
		used[k.name] = true
		var g func(*rand.Rand) frag
		switch {
		case len(k.invalid) > 0 && (len(k.valid) == 0 || r.Float64() < invalidRate):
			g = k.invalid[r.IntN(len(k.invalid))]
		default:
			g = k.valid[r.IntN(len(k.valid))]
		}
		f := g(r)
		if f.top != "" {
			tops = append(tops, f.top)
		}
		if f.section != "" {
			sections = append(sections, f.section)
		}
		names = append(names, k.name)
	}
	doc := strings.Join(tops, "\n")
	if doc != "" {
		doc += "\n"
	}
	doc += strings.Join(sections, "")
	return doc, names
}

// Generate returns count cases from seed. Some 20% carry cloud fragments,
// 10% a legacy managed_config.toml, 5% a syntax error and 8% a form
// nested near the reader's limits (in the requirements or the managed
// config).
func Generate(seed uint64, count int) []Case {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cases := make([]Case, count)
	for i := range cases {
		c := &cases[i]
		// Sweep every key once as the only key, valid then invalid, before
		// drawing random combinations.
		if i < 2*len(keys) {
			k := keys[i/2]
			gens := k.valid
			if i%2 == 1 && len(k.invalid) > 0 {
				gens = k.invalid
			}
			if len(gens) == 0 {
				gens = k.invalid
			}
			f := gens[r.IntN(len(gens))](r)
			c.System = f.top
			if c.System != "" {
				c.System += "\n"
			}
			c.System += f.section
			c.Keys = []string{k.name}
			continue
		}
		withCloud := r.Float64() < 0.20
		c.System, c.Keys = document(r, 1+r.IntN(6), false, withCloud, 0.2)
		if r.Float64() < 0.05 {
			m := syntaxErrors[r.IntN(len(syntaxErrors))]
			lines := strings.SplitAfter(c.System, "\n")
			at := r.IntN(len(lines) + 1)
			c.System = strings.Join(lines[:at], "") + m + strings.Join(lines[at:], "")
		}
		if r.Float64() < 0.10 {
			c.Managed = pick(r,
				"approval_policy = \"never\"\nsandbox_mode = \"workspace-write\"\n",
				"sandbox_mode = \"danger-full-access\"\n",
				"sandbox_mode = \"read-only\"\napproval_policy = \"on-request\"\n",
				"approval_policy = \"on-failure\"\n",
				"model = \"gpt-x\"\n[features]\nmemories = true\n",
				"approval_policy = \"sometimes\"\n",
				"approval_policy = \"untrusted\"\n",
				"sandbox_mode = \"external-sandbox\"\n",
				"approval_policy = { granular = { sandbox_approval = true, rules = false, skill_approval = true, request_permissions = true, mcp_elicitations = false } }\n",
			)
		}
		if r.Float64() < 0.08 {
			if c.Managed != "" && r.IntN(3) == 0 {
				c.Managed = withNesting(r, c.Managed)
			} else {
				c.System = withNesting(r, c.System)
			}
			c.Keys = append(c.Keys, "nesting")
		}
		if withCloud {
			for j := 0; j < 1+r.IntN(2); j++ {
				doc, names := document(r, 1+r.IntN(3), true, false, 0.15)
				c.Cloud = append(c.Cloud, doc)
				c.Keys = append(c.Keys, names...)
			}
		}
	}
	return cases
}
