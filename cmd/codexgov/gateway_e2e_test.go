package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/testenv"
)

// adminCall sends one admin API request with the server's admin key.
func (e *e2e) adminCall(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.https.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// gitRepo makes a repository with a remote and one commit; it returns its
// folder and HEAD.
func gitRepo(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.test", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", "https://github.com/acme/shop.git")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("shop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "README.md")
	git("commit", "-q", "-m", "first")
	return dir, git("rev-parse", "HEAD")
}

// TestGatewayEndToEnd: with the workspace's model traffic routed through
// codexgov, the real Codex 0.169.0 — enrolled through the configuration
// server, its user's own config.toml (and -c) naming another provider —
// sends its turn through codexgov's gateway to the workspace's upstream,
// which sees the central key, never the user's; the records hold the
// repository's remote and HEAD, the prompt, the response, the tool call
// and the tokens.
func TestGatewayEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	ok := must[any](t)
	const ws = "acme"
	ok(e.admin.CreateWorkspace(ctx, ws, "Acme Corp"))
	ok(e.admin.CreateUser(ctx, ws, "ann@acme.test", ""))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"}))
	ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Default: "eng"}))
	upstream := testenv.NewFakeResponses(t, "echo codexgov-gateway-ok")
	direct := testenv.NewFakeResponses(t, "echo direct")
	if code, body := e.adminCall(t, "PUT", "/api/v1/workspaces/acme/gateway", `{"base_url":"`+upstream.URL+`","api_key":"sk-central-1","route_model_traffic":true,"capture":"full"}`); code != 200 {
		t.Fatalf("put gateway: %d %s", code, body)
	}
	tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "ann@acme.test", Name: "ann-laptop"}))
	m := e.machine()
	e.install(m, "--enroll-token", tok.Secret)
	// What Codex enforces: codexgov's provider, whatever the user picks.
	r := startup(t, m)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, `"modelProvider": "codexgov"`) && !strings.Contains(r.Stdout, `"modelProvider":"codexgov"`) {
		t.Fatalf("startup config does not pin codexgov's provider: %d\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	repo, head := gitRepo(t)
	if err := os.WriteFile(filepath.Join(m.Home, "config.toml"), []byte(userOtelOff(direct.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, extra := range [][]string{nil, {"-c", `model_provider="fake"`}} {
		c, cancel := context.WithTimeout(ctx, 3*time.Minute)
		args := append(append([]string{"exec"}, extra...), "-s", "read-only", "list the files")
		cmd := m.Command(c, repo, args...)
		cmd.Env = append(cmd.Env, "FAKE_KEY=user-own-key")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("codex exec %d: %v\n%s", i, err, out)
		}
	}
	if n := direct.Requests.Load(); n != 0 {
		t.Errorf("the user's own provider got %d requests: the policy did not pin codexgov's", n)
	}
	auths := upstream.Authorizations()
	if len(auths) < 4 {
		t.Fatalf("the upstream got %d requests through the gateway, want 2 turns of 2", len(auths))
	}
	for _, a := range auths {
		if a != "Bearer sk-central-1" {
			t.Errorf("the upstream saw %q, not the workspace's key", a)
		}
	}

	// Records are written just after each answer ends.
	var recs []codexgov.GatewayRecord
	var code int
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, body = e.adminCall(t, "GET", "/api/v1/workspaces/acme/gateway/requests?user=ann@acme.test", "")
		if recs = nil; code != 200 || json.Unmarshal(body, &recs) != nil || len(recs) >= len(auths) {
			break
		}
	}
	if code != 200 || len(recs) != len(auths) {
		t.Fatalf("records: %d, %d records for %d requests\n%s", code, len(recs), len(auths), body)
	}
	var prompt, answer, toolCall bool
	var tokens int64
	for _, r := range recs {
		if r.Identity != "user:ann@acme.test" || r.Device != "ann-laptop" || r.Surface != "codex_exec" || r.Status != 200 || r.Session == "" || r.Turn == "" || r.Installation == "" {
			t.Errorf("record %s: %+v", r.ID, r)
		}
		if len(r.Repos) != 1 || r.Repos[0].Remotes["origin"] != "https://github.com/acme/shop.git" || r.Repos[0].Head != head {
			t.Errorf("record %s: repository %+v, want origin https://github.com/acme/shop.git at %s", r.ID, r.Repos, head)
		}
		for _, it := range r.Input {
			prompt = prompt || strings.Contains(string(it), "list the files")
		}
		answer = answer || r.Output == "done"
		for _, tc := range r.ToolCalls {
			toolCall = toolCall || (tc.Name == "exec_command" && strings.Contains(tc.Arguments, "echo codexgov-gateway-ok"))
		}
		tokens += r.InputTokens + r.OutputTokens
	}
	if !prompt || !answer || !toolCall || tokens != int64(len(recs))*(1234+56) {
		t.Errorf("records: prompt %v, answer %v, tool call %v, tokens %d", prompt, answer, toolCall, tokens)
	}
	t.Logf("%d model requests through the gateway; repository %s at %s", len(recs), recs[0].Repos[0].Remotes["origin"], head[:8])
	e.expectPromptResponse(t, ws, head)

	// Models allowed per group: ann (in no listed group) may use only
	// gpt-5.1-codex; Codex shows the gateway's refusal as it is.
	if code, body := e.adminCall(t, "PUT", "/api/v1/workspaces/acme/gateway", `{"base_url":"`+upstream.URL+`","route_model_traffic":true,"capture":"full","allowed_models":{"*":["gpt-5.1-codex"],"vendors":["gpt-5-mini"]}}`); code != 200 {
		t.Fatalf("put gateway: %d %s", code, body)
	}
	n := len(upstream.Authorizations())
	out, err := codexExec(ctx, m, repo, "say hi")
	if err == nil || !strings.Contains(out, `ERROR: {"error":{"code":"model_not_allowed","message":"codexgov: the model gpt-fake is not allowed for you in workspace acme; allowed: gpt-5.1-codex.`) ||
		strings.Contains(out, "Reconnecting") {
		t.Errorf("a model not allowed: %v\n%s", err, out)
	}
	if got := len(upstream.Authorizations()); got != n {
		t.Errorf("a refused model reached the upstream (%d requests)", got-n)
	}
	if out, err := codexExec(ctx, m, repo, "say hi", "-m", "gpt-5.1-codex"); err != nil {
		t.Errorf("an allowed model: %v\n%s", err, out)
	}
	t.Logf("Codex's output for a model not allowed:\n%s", lastLines(out, 6))

	// A budget just below a turn's cost (two requests of 1,290 tokens)
	// stops the next turn, and Codex says why.
	if code, body := e.adminCall(t, "PUT", "/api/v1/workspaces/acme/gateway", `{"base_url":"`+upstream.URL+`","route_model_traffic":true,"capture":"full"}`); code != 200 {
		t.Fatalf("put gateway: %d %s", code, body)
	}
	if code, body := e.adminCall(t, "PUT", "/api/v1/workspaces/acme/gateway/budgets", `{"scope":"user","subject":"ann@acme.test","unit":"tokens","period":"day","limit":2579}`); code != 200 {
		t.Fatalf("put budget: %d %s", code, body)
	}
	n = len(upstream.Authorizations())
	out, err = codexExec(ctx, m, repo, "list the files again")
	if err == nil || !regexp.MustCompile(`ERROR: \{"error":\{"code":"budget_exceeded","message":"codexgov: this request \(about \d+ tokens\) would exceed your daily budget: 0 of 2579 tokens used since \d{4}-\d\d-\d\d`).MatchString(out) ||
		strings.Contains(out, "Reconnecting") {
		t.Errorf("over budget: %v\n%s", err, out)
	}
	if got := len(upstream.Authorizations()); got != n {
		t.Errorf("a request over budget reached the upstream (%d)", got-n)
	}
	var admin strings.Builder
	if code := run(ctx, []string{"admin", "budgets", "--server", e.url, "--token", e.key, "--ca", e.ca, "-w", ws}, strings.NewReader(""), &admin, &admin); code != 0 ||
		!regexp.MustCompile(`user ann@acme\.test\s+day\s+tokens\s+0\s+0\s+2579\s+2579`).MatchString(admin.String()) {
		t.Errorf("codexgov admin budgets: exit %d\n%s", code, admin.String())
	}
	t.Logf("Codex's output over budget:\n%s\ncodexgov admin budgets:\n%s", lastLines(out, 2), admin.String())
}

// codexExec runs one `codex exec` turn in dir with the user's own key set.
func codexExec(ctx context.Context, m *testenv.Machine, dir, prompt string, extra ...string) (string, error) {
	c, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := m.Command(c, dir, append(append([]string{"exec"}, extra...), "-s", "read-only", prompt)...)
	cmd.Env = append(cmd.Env, "FAKE_KEY=user-own-key")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// expectPromptResponse waits for the Compliance API's CODEX_LOG files to
// hold the gateway's PROMPT_RESPONSE_RECEIVED records of the turn: the
// prompt, the response, the repository.
func (e *e2e) expectPromptResponse(t *testing.T, ws, head string) {
	t.Helper()
	ctx := context.Background()
	key := must[*codexgov.APIKey](t)(e.admin.CreateAPIKey(ctx, ws, "siem", codexgov.ScopeComplianceRead))
	follow := &http.Client{Transport: e.https.Transport, Timeout: 30 * time.Second}
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+key.Secret)
		resp, err := follow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var found map[string]any
	for deadline := time.Now().Add(30 * time.Second); found == nil && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		json.Unmarshal(get("/v1/compliance/workspaces/"+ws+"/logs?event_type=CODEX_LOG&after=1970-01-01T00:00:00Z&limit=100"), &page)
		for _, f := range page.Data {
			for _, line := range strings.Split(strings.TrimSpace(string(get("/v1/compliance/workspaces/"+ws+"/logs/"+f.ID))), "\n") {
				var r struct {
					Actor        map[string]any `json:"actor"`
					EventDetails map[string]any `json:"event_details"`
				}
				if json.Unmarshal([]byte(line), &r) == nil && r.EventDetails["detail_type"] == "PROMPT_RESPONSE_RECEIVED" && r.EventDetails["source"] == "gateway" && r.EventDetails["prompt_text"] == "list the files" &&
					r.EventDetails["response_text"] == "done" {
					found = r.EventDetails
					found["actor"] = r.Actor["user_email"]
				}
			}
		}
	}
	if found == nil {
		t.Logf("DEBUG logs: %.2000s", get("/v1/compliance/workspaces/"+ws+"/logs?event_type=CODEX_LOG&after=1970-01-01T00:00:00Z&limit=100"))
		t.Fatal("no PROMPT_RESPONSE_RECEIVED record of the gateway with the prompt in the Compliance API's files")
	}
	repo, _ := found["repository"].(map[string]any)
	remotes, _ := repo["remote_urls"].(map[string]any)
	if found["actor"] != "ann@acme.test" || remotes["origin"] != "https://github.com/acme/shop.git" || repo["head"] != head || found["model"] != "gpt-fake" || found["session_id"] == nil {
		t.Errorf("PROMPT_RESPONSE_RECEIVED: %v", found)
	}
	t.Logf("Compliance API: PROMPT_RESPONSE_RECEIVED %v", found)
}
