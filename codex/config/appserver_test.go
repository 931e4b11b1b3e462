package config

import (
	"testing"
	"testing/fstest"
)

// The rule itself is pinned on the binary by cmd/codexgov's
// TestAppServerTrustRule and TestConfigConformance; these are its edges
// that need no Codex: the trust target, the repository-root lookup and the
// load error a trusted reload can hit.
func TestAppServerStart(t *testing.T) {
	const ws = "sandbox_mode = \"workspace-write\"\n"
	for _, c := range []struct {
		name  string
		cwd   string
		files map[string]string
		// want: "" for no prediction, else "target automatic|on-request".
		want     string
		approval string // the trusted resolution's approval policy
		err      string
	}{
		{"no project", "/repo", map[string]string{"home/config.toml": ws, "repo/README": ""}, "", "", ""},
		{"git, writable", "/repo/pkg", map[string]string{"home/config.toml": ws, "repo/.git/HEAD": "", "repo/pkg/.codex/config.toml": "approval_policy = \"never\"\n"}, "/repo automatic", "never", ""},
		{"git, read-only", "/repo", map[string]string{"home/config.toml": "", "repo/.git/HEAD": ""}, "/repo on-request", "on-request", ""},
		{"requirements allow only read-only", "/repo", map[string]string{"home/config.toml": ws, "repo/.git/HEAD": "", "etc/requirements.toml": "allowed_sandbox_modes = [\"read-only\"]\n"}, "", "", ""},
		{"trust set", "/repo", map[string]string{"home/config.toml": ws + "[projects.\"/repo\"]\ntrust_level = \"untrusted\"\n", "repo/.git/HEAD": ""}, "", "", ""},
		{"linked worktree", "/wt", map[string]string{"home/config.toml": ws, "wt/.git": "gitdir: /main/.git/worktrees/wt\n", "main/.git/HEAD": ""}, "/main automatic", "on-request", ""},
		{"relative gitdir", "/work/wt", map[string]string{"home/config.toml": ws, "work/wt/.git": "gitdir: ../main/.git/worktrees/wt\n"}, "/work/main automatic", "on-request", ""},
		{".git file leading nowhere", "/wt", map[string]string{"home/config.toml": ws, "wt/.git": "gitdir: /elsewhere\n"}, "/wt automatic", "on-request", ""},
		{"trusted reload fails", "/repo", map[string]string{"home/config.toml": ws, "repo/.git/HEAD": "", "repo/.codex/config.toml": "approval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\n",
			"etc/requirements.toml": "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"}, "/repo automatic", "", "`approval_policy = \"never\"` cannot be used"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range c.files {
				fsys[k] = &fstest.MapFile{Data: []byte(v)}
			}
			m := Machine{Etc: "/etc", CodexHome: "/home", Cwd: c.cwd, FS: memFS(fsys), Hostname: func() string { return "vm" }}
			res, err := Resolve(m)
			if err != nil {
				t.Fatal(err)
			}
			a := AppServerStart(m, res)
			got := ""
			if a != nil {
				got = a.Target + " on-request"
				if a.Automatic {
					got = a.Target + " automatic"
				}
			}
			if got != c.want {
				t.Fatalf("prediction %q, want %q (%+v)", got, c.want, a)
			}
			if a == nil {
				return
			}
			if c.err != "" {
				if a.Trusted != nil || len(a.Error) < len(c.err) || a.Error[:len(c.err)] != c.err {
					t.Fatalf("error %q, want it to start with %q", a.Error, c.err)
				}
				return
			}
			if a.Error != "" || !a.Trusted.Trusted() || a.Trusted.ApprovalPolicy.Value != c.approval {
				t.Fatalf("trusted resolution: error %q, trusted %t, approval %q; want trusted with %q", a.Error, a.Trusted.Trusted(), a.Trusted.ApprovalPolicy.Value, c.approval)
			}
		})
	}
}

// Trust is looked up for the folder, its project root, then the git
// repository Codex keys trust on (the main checkout of a linked worktree).
func TestTrustFromRepositoryRoot(t *testing.T) {
	fsys := fstest.MapFS{
		"home/config.toml":          {Data: []byte("project_root_markers = []\n[projects.\"/main\"]\ntrust_level = \"trusted\"\n")},
		"wt/.git":                   {Data: []byte("gitdir: /main/.git/worktrees/wt\n")},
		"wt/pkg/.codex/config.toml": {Data: []byte("approval_policy = \"never\"\n")},
	}
	res, err := Resolve(Machine{Etc: "/etc", CodexHome: "/home", Cwd: "/wt/pkg", FS: memFS(fsys)})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProjectRoot != "/wt/pkg" || res.GitRoot != "/main" || !res.Trusted() || res.ApprovalPolicy.Value != "never" {
		t.Fatalf("project root %q, git root %q, trusted %t, approval %q", res.ProjectRoot, res.GitRoot, res.Trusted(), res.ApprovalPolicy.Value)
	}
}
