package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestAppServerTrustRule pins each leg of the app-server's own trust rule
// (config.AppServerStart) on the real Codex 0.169.0: for fixed machines it
// starts a thread with no sandbox of its own and, on a fresh copy, one that
// asks for workspace-write, and requires `codexgov explain` (run on the
// files before Codex touched them) to predict whether config.toml gains a
// trust entry and for which folder, and, for the thread with no sandbox of
// its own, the approval policy it runs with or the error it fails with.
func TestAppServerTrustRule(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	const (
		ws      = "sandbox_mode = \"workspace-write\"\n"
		git     = "ref: refs/heads/main\n"
		project = "approval_policy = \"never\"\n" // the project's own layer, to see it apply
	)
	cases := []struct {
		name     string
		user     string // ${ROOT} is the machine's folder
		req      string
		files    map[string]string
		worktree bool // ${ROOT}/main is a repository and ${ROOT}/wt a linked worktree of it
		sub      string
	}{
		{name: "git, writable", user: ws, files: map[string]string{".git/HEAD": git, ".codex/config.toml": project}},
		{name: "git, danger-full-access", user: "sandbox_mode = \"danger-full-access\"\n", files: map[string]string{".git/HEAD": git}},
		{name: "git, read-only", user: "", files: map[string]string{".git/HEAD": git, ".codex/config.toml": project}},
		{name: "git, trust untrusted", user: ws + "[projects.\"${ROOT}\"]\ntrust_level = \"untrusted\"\n", files: map[string]string{".git/HEAD": git}},
		{name: "git, sub folder", user: ws, files: map[string]string{".git/HEAD": git, "pkg/.codex/config.toml": project}, sub: "pkg"},
		{name: "git, requirements allow only read-only", user: ws, req: "allowed_sandbox_modes = [\"read-only\"]\n", files: map[string]string{".git/HEAD": git}},
		{name: "git, requirements refuse never", user: ws, req: "allowed_approval_policies = [\"on-request\"]\n", files: map[string]string{".git/HEAD": git, ".codex/config.toml": project}},
		{name: "git, the trusted reload fails", user: ws, req: "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n",
			files: map[string]string{".git/HEAD": git, ".codex/config.toml": project + "sandbox_mode = \"danger-full-access\"\n"}},
		{name: "no project", user: ws, files: map[string]string{"README": "x\n"}},
		{name: "no git, .codex folder", user: ws, files: map[string]string{".codex/config.toml": project}},
		{name: "no git, .codex file", user: ws, files: map[string]string{".codex": "x\n"}},
		{name: "no git, .codex above the folder", user: ws, files: map[string]string{".codex/config.toml": project, "pkg/README": "x\n"}, sub: "pkg"},
		{name: "marker above the folder", user: ws + "project_root_markers = [\"package.json\"]\n", files: map[string]string{"package.json": "{}", "pkg/README": "x\n"}, sub: "pkg"},
		{name: "git with no markers", user: ws + "project_root_markers = []\n", files: map[string]string{".git/HEAD": git, "pkg/README": "x\n"}, sub: "pkg"},
		{name: "git with no markers, repository trusted", user: "project_root_markers = []\n[projects.\"${ROOT}\"]\ntrust_level = \"trusted\"\n",
			files: map[string]string{".git/HEAD": git, "pkg/.codex/config.toml": project}, sub: "pkg"},
		{name: ".git file leading nowhere", user: ws, files: map[string]string{".git": "gitdir: /nonexistent\n"}},
		{name: "linked worktree", user: ws, worktree: true, files: map[string]string{"wt-codex/config.toml": project}, sub: "wt"},
		{name: "linked worktree, main checkout trusted", user: "[projects.\"${ROOT}/main\"]\ntrust_level = \"trusted\"\n", worktree: true, files: map[string]string{"wt-codex/config.toml": project}, sub: "wt"},
	}
	sem := make(chan struct{}, 4)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, request := range []bool{false, true} {
				m, err := oracle.Prepare(testenv.Run{Etc: map[string]string{"config.toml": "model = \"gpt-base\"\n", "requirements.toml": c.req}})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				root := m.Cwd
				if c.worktree {
					gitRun(t, "", "init", "-q", "-b", "main", filepath.Join(root, "main"))
					gitRun(t, filepath.Join(root, "main"), "commit", "-q", "--allow-empty", "-m", "first")
					gitRun(t, filepath.Join(root, "main"), "worktree", "add", "-q", filepath.Join(root, "wt"))
				}
				for name, body := range c.files {
					name = strings.Replace(name, "wt-codex/", "wt/.codex/", 1)
					if err := testenv.WriteFile(filepath.Join(root, name), body); err != nil {
						t.Fatal(err)
					}
				}
				user := "model_provider = \"mock\"\n" + strings.ReplaceAll(c.user, "${ROOT}", root) +
					"[model_providers.mock]\nname = \"Mock\"\nbase_url = \"http://127.0.0.1:9/v1\"\nwire_api = \"responses\"\nenv_key = \"MOCK_KEY\"\n"
				userConfig := filepath.Join(m.Home, "config.toml")
				if err := testenv.WriteFile(userConfig, user); err != nil {
					t.Fatal(err)
				}
				cwd := filepath.Join(root, c.sub)

				now, app := observeExplain(t, m, machineSetup{}, cwd)
				if now.Error != "" {
					t.Fatalf("explain: %s", now.Error)
				}
				var head struct {
					OnRequest []string `json:"on_request"`
				}
				if app != nil {
					out, _, _ := runCLI(t, "explain", "--json", "--etc", m.Etc, "--codex-home", m.Home, "--cwd", cwd)
					var rep struct {
						App json.RawMessage `json:"app_server_start"`
					}
					if err := json.Unmarshal([]byte(out), &rep); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(rep.App, &head); err != nil {
						t.Fatal(err)
					}
				}

				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				srv, err := m.StartAppServer(ctx, cwd, "app-server")
				if err != nil {
					t.Fatal(err)
				}
				params := map[string]any{"ephemeral": true, "cwd": cwd}
				if request {
					params["sandbox"] = "workspace-write"
				}
				raw, err := srv.Call(ctx, "thread/start", params)
				srv.Close()
				var th struct {
					ApprovalPolicy string `json:"approvalPolicy"`
				}
				rpcErr, failed := err.(*testenv.RPCError)
				switch {
				case failed:
					th.ApprovalPolicy = "error: " + strings.TrimPrefix(rpcErr.Message, "failed to load configuration: ")
				case err != nil:
					t.Fatalf("thread/start: %v", err)
				default:
					if err := json.Unmarshal(raw, &th); err != nil {
						t.Fatal(err)
					}
				}
				after, err := os.ReadFile(userConfig)
				if err != nil {
					t.Fatal(err)
				}
				rewritten := string(after) != user
				predicted := app != nil && (app.Automatic || request && slices.Contains(head.OnRequest, "workspace-write"))
				what := "a thread with no sandbox of its own"
				if request {
					what = "a thread asking for workspace-write"
				}
				if rewritten != predicted {
					t.Fatalf("%s: config.toml rewritten %t, explain predicted %t (%+v)\nconfig.toml now:\n%s", what, rewritten, predicted, app, after)
				}
				want := now
				if want.Error != "" {
					want.Approval = "error: " + want.Error
				}
				if rewritten {
					block := "\n[projects." + strconv.Quote(app.Trusts) + "]\ntrust_level = \"trusted\"\n"
					if strings.Replace(string(after), block, "", 1) != user {
						t.Fatalf("%s: config.toml became\n%s\nexplain predicted %q added", what, after, block)
					}
					want = app.observed
					if want.Error != "" {
						want.Approval = "error: " + want.Error
					}
				}
				// A thread's own sandbox overrides the configured one, so
				// explain's values are those of a thread with none.
				if !request && th.ApprovalPolicy != want.Approval {
					t.Errorf("%s: the thread runs with approval %q, explain says %q", what, th.ApprovalPolicy, want.Approval)
				}
				t.Logf("%s: rewritten %t, approval %s", what, rewritten, th.ApprovalPolicy)
			}
		})
	}
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=codexgov", "-c", "user.email=codexgov@example.invalid"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
