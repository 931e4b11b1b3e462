package requirements

import (
	"strings"
	"testing"
)

func system(contents string) *Layer {
	return &Layer{Source: Source{Kind: SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: contents, BaseDir: "/etc/codex"}
}

func fragment(id, name, contents string) Layer {
	return Layer{Source: Source{Kind: CloudFragment, ID: id, Name: name}, Contents: contents, BaseDir: "/root/.codex"}
}

// TestComposition checks layer precedence and the special merges on cases
// observed on the real Codex 0.169.0 binary; each want is that binary's
// output (or the fragment of it that matters), copied from a run.
func TestComposition(t *testing.T) {
	cases := []struct {
		name  string
		in    Inputs
		want  []string // substrings of the startup-config JSON
		error string   // exact Codex error detail
	}{{
		name: "tables merge by key; the first cloud fragment is the highest; cloud beats the system file",
		in: Inputs{
			System: system("allowed_sandbox_modes = [\"read-only\",\"workspace-write\"]\n[features]\nc = true\n"),
			Cloud: []Layer{
				fragment("req_1", "Corp", "allowed_sandbox_modes = [\"read-only\"]\n[features]\na = true\n"),
				fragment("req_2", "Low", "[features]\nb = false\n"),
			},
		},
		want: []string{`"allowedSandboxModes":["read-only"]`, `"featureRequirements":{"a":true,"b":false,"c":true}`},
	}, {
		name: "hook groups concatenate, highest layer first",
		in: Inputs{
			System: system("[hooks]\nmanaged_dir = \"/a\"\n[[hooks.Stop]]\nhooks = [{ type = \"command\", command = \"/a/x.sh\" }]\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "[[hooks.Stop]]\nhooks = [{ type = \"command\", command = \"/b/y.sh\" }]\n")},
		},
		want: []string{`"managedDir":"/a"`, `"Stop":[{"matcher":null,"hooks":[{"type":"command","command":"/b/y.sh",` + `"commandWindows":null,"timeoutSec":null,"async":false,"statusMessage":null,"additionalContextLimit":null}]},{"matcher":null,"hooks":[{"type":"command","command":"/a/x.sh",`},
	}, {
		name: "a managed_dir conflict fails composition",
		in: Inputs{
			System: system("[hooks]\nmanaged_dir = \"/a\"\n[[hooks.Stop]]\nhooks = [{ type = \"command\", command = \"/a/x.sh\" }]\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "[hooks]\nmanaged_dir = \"/b\"\n[[hooks.Stop]]\nhooks = [{ type = \"command\", command = \"/b/y.sh\" }]\n")},
		},
		error: "failed to compose requirements field `hooks.managed_dir` between enterprise-managed requirements F1 (req_1) and /etc/codex/requirements.toml: `/b` conflicts with `/a`",
	}, {
		name: "the legacy managed config beats cloud",
		in: Inputs{
			System:        system("allowed_web_search_modes = [\"cached\"]\n"),
			Cloud:         []Layer{fragment("req_1", "F1", "allowed_approval_policies = [\"untrusted\"]\n")},
			LegacyManaged: &Layer{Source: Source{Kind: LegacyManagedFile, Path: "/etc/codex/managed_config.toml"}, Contents: "approval_policy = \"never\"\n", BaseDir: "/etc/codex"},
		},
		want: []string{`"allowedApprovalPolicies":["never"]`, `"allowedWebSearchModes":["cached","disabled"]`},
	}, {
		name: "local layers are validated before the cloud fetch",
		in: Inputs{
			System: system("allowed_approval_policies = []\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "allowed_approval_policies = [\"never\"]\n")},
		},
		error: "field `allowed_approval_policies` cannot be empty",
	}, {
		name: "constraint errors name the fragment",
		in: Inputs{
			System: system("allowed_approval_policies = [\"never\"]\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "allowed_sandbox_modes = [\"workspace-write\"]\n")},
		},
		error: "invalid value for `allowed_sandbox_modes`: `[WorkspaceWrite]` is not in the allowed set must include 'read-only' to allow any PermissionProfile (set by enterprise-managed requirements F1 (req_1))",
	}, {
		name: "relative paths in fragments resolve against CODEX_HOME",
		in: Inputs{
			System: system("sqlite_home = \"rel\"\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "log_dir = \"rel\"\n")},
		},
		want: []string{`"sqliteHome":"file:///etc/codex/rel"`, `"logDir":"file:///root/.codex/rel"`},
	}, {
		name: "local-only keys are dropped from fragments",
		in: Inputs{
			System: system("allowed_approval_policies = [\"never\"]\n"),
			Cloud:  []Layer{fragment("req_1", "F1", "allowed_login_methods = []\nchatgpt_base_url = 1\n")},
		},
		want: []string{`"allowedLoginMethods":["api","chatgpt"]`, `"allowedApprovalPolicies":["never"]`},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Hostname = func() string { return "vm" }
			res, err := Effective(c.in)
			if c.error != "" {
				if err == nil || err.Error() != c.error {
					t.Fatalf("error %v\nwant %s", err, c.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := res.StartupConfigJSON()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s\n%s", w, out)
				}
			}
		})
	}
}
