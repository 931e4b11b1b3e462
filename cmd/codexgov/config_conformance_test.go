package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// machineSetup is one generated machine: its /etc/codex, CODEX_HOME and
// project files, the folder Codex starts in and its command-line flags.
type machineSetup struct {
	Etc     map[string]string
	Home    map[string]string // "${ROOT}" stands for the project root
	Project map[string]string // files under the project root
	Sub     string            // cwd below the project root
	Profile string
	Flags   []string // -c/--enable/--disable, as given to codex
	// Expect lists what the generator meant to exercise (for coverage).
	Expect []string
}

var (
	featurePool = []string{"memories", "undo", "shell_tool", "apps", "js_repl", "unified_exec", "remote_plugin", "tool_suggest"}
	serverPool  = []string{"alpha", "beta", "gamma"}
)

func pickOne[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func someOf(r *rand.Rand, min int, xs ...string) []string {
	var out []string
	for _, i := range r.Perm(len(xs)) {
		if r.IntN(2) == 0 {
			out = append(out, xs[i])
		}
	}
	for len(out) < min {
		out = append(out, xs[r.IntN(len(xs))])
	}
	return out
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// featuresTable sets some of the feature pool, in config or requirements.
func featuresTable(r *rand.Rand) string {
	var fs []string
	for _, f := range someOf(r, 1, featurePool...) {
		fs = append(fs, f+" = "+pickOne(r, "true", "false"))
	}
	return "[features]\n" + strings.Join(fs, "\n")
}

// configDoc is a random config.toml body (top-level keys, then tables).
func configDoc(r *rand.Rand, s *machineSetup, where string, project bool) string {
	var top, tables []string
	if r.IntN(3) == 0 {
		top = append(top, "approval_policy = "+strconv.Quote(pickOne(r, "on-request", "never", "on-failure")))
		s.Expect = append(s.Expect, where+":approval_policy")
	}
	if r.IntN(4) == 0 {
		top = append(top, "approvals_reviewer = "+strconv.Quote(pickOne(r, "user", "auto_review")))
		s.Expect = append(s.Expect, where+":approvals_reviewer")
	}
	if r.IntN(3) == 0 {
		top = append(top, "sandbox_mode = "+strconv.Quote(pickOne(r, "read-only", "workspace-write", "danger-full-access")))
		s.Expect = append(s.Expect, where+":sandbox_mode")
	}
	if r.IntN(3) == 0 {
		top = append(top, "web_search = "+strconv.Quote(pickOne(r, "disabled", "cached", "indexed", "live")))
		s.Expect = append(s.Expect, where+":web_search")
	}
	if r.IntN(4) == 0 {
		top = append(top, "model = "+strconv.Quote(pickOne(r, "gpt-a", "gpt-b")))
	}
	if r.IntN(12) == 0 {
		top = append(top, "modle = \"typo\"")
		s.Expect = append(s.Expect, where+":unknown-key")
	}
	if project && r.IntN(5) == 0 {
		top = append(top, "notify = [\"notify-send\"]")
		s.Expect = append(s.Expect, "project:denied-key")
	}
	if r.IntN(4) == 0 {
		tables = append(tables, featuresTable(r))
		s.Expect = append(s.Expect, where+":features")
	}
	if r.IntN(3) == 0 {
		for _, name := range someOf(r, 1, serverPool...) {
			var t string
			if r.IntN(3) == 0 {
				t = "url = \"http://127.0.0.1:9/" + pickOne(r, name, "other") + "\""
			} else {
				t = "command = \"" + pickOne(r, "cmd-"+name, "cmd-other") + "\"\nargs = [\"--" + pickOne(r, "a", "b") + "\"]"
			}
			if r.IntN(6) == 0 {
				t += "\nenabled = false"
			}
			tables = append(tables, "[mcp_servers."+name+"]\n"+t)
		}
		s.Expect = append(s.Expect, where+":mcp_servers")
	}
	if r.IntN(8) == 0 {
		tables = append(tables, "[otel]\nenvironment = \"dev\"")
		if project {
			s.Expect = append(s.Expect, "project:denied-key")
		} else {
			s.Expect = append(s.Expect, where+":otel")
		}
	}
	return strings.Join(append(top, tables...), "\n") + "\n"
}

func requirementsDoc(r *rand.Rand, s *machineSetup) string {
	var top, tables []string
	if r.IntN(2) == 0 {
		top = append(top, "allowed_approval_policies = "+tomlList(someOf(r, 1, "untrusted", "on-request", "never")))
		s.Expect = append(s.Expect, "req:approval")
	}
	if r.IntN(3) == 0 {
		top = append(top, "allowed_approvals_reviewers = "+tomlList(someOf(r, 1, "user", "auto_review")))
		s.Expect = append(s.Expect, "req:reviewer")
	}
	if r.IntN(2) == 0 {
		top = append(top, "allowed_sandbox_modes = "+tomlList(append([]string{"read-only"}, someOf(r, 0, "workspace-write", "danger-full-access")...)))
		s.Expect = append(s.Expect, "req:sandbox")
	}
	if r.IntN(2) == 0 {
		top = append(top, "allowed_web_search_modes = "+tomlList(someOf(r, 0, "cached", "indexed", "live")))
		s.Expect = append(s.Expect, "req:web_search")
	}
	if r.IntN(3) == 0 {
		tables = append(tables, featuresTable(r))
		s.Expect = append(s.Expect, "req:features")
	}
	if r.IntN(3) == 0 {
		for _, name := range someOf(r, 0, serverPool...) {
			var id string
			switch r.IntN(4) {
			case 0:
				id = "command = \"cmd-" + name + "\""
			case 1:
				id = "url = \"http://127.0.0.1:9/" + name + "\""
			case 2:
				id = "command = { executable = \"cmd-" + name + "\", args = [{ match = \"exact\", value = \"--a\" }] }"
			default:
				id = "url = { match = \"prefix\", value = \"http://127.0.0.1:9/\" }"
			}
			tables = append(tables, "[mcp_servers."+name+".identity]\n"+id)
		}
		if len(tables) == 0 || !strings.Contains(strings.Join(tables, ""), "mcp_servers") {
			tables = append(tables, "[mcp_servers]")
		}
		s.Expect = append(s.Expect, "req:mcp")
	}
	if r.IntN(8) == 0 {
		tables = append(tables, "[otel]\nenvironment = \"prod\"")
		s.Expect = append(s.Expect, "req:otel")
	}
	return strings.Join(append(top, tables...), "\n") + "\n"
}

// generateSetups makes n machine setups from seed.
func generateSetups(seed uint64, n int) []machineSetup {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]machineSetup, n)
	for i := range out {
		s := machineSetup{Etc: map[string]string{}, Home: map[string]string{}, Project: map[string]string{}}
		if r.IntN(10) < 7 {
			s.Etc["requirements.toml"] = requirementsDoc(r, &s)
		}
		// A model Codex has no metadata for keeps the tools, web search
		// included, in the request's tools list.
		system := "model = \"gpt-base\"\n"
		if r.IntN(4) == 0 {
			if doc := configDoc(r, &s, "system", false); strings.Contains(doc, "model = ") {
				system = doc
			} else {
				system += doc
			}
		}
		s.Etc["config.toml"] = system
		if r.IntN(10) == 0 {
			s.Etc["managed_config.toml"] = pickOne(r, "approval_policy = \"never\"\n", "sandbox_mode = \"workspace-write\"\n", "model = \"gpt-managed\"\n")
			s.Expect = append(s.Expect, "legacy-managed")
		}
		user := configDoc(r, &s, "user", false)
		if r.IntN(30) == 0 {
			user = "approval_policy = \"untrusted\"\n" + strings.Replace(user, "approval_policy", "# approval_policy", 1)
			s.Expect = append(s.Expect, "error:untrusted")
		}
		if r.IntN(10) < 7 {
			if r.IntN(10) < 8 {
				s.Project[".git/HEAD"] = "ref: refs/heads/main\n"
			}
			if r.IntN(2) == 0 {
				s.Sub = "pkg"
			}
			if r.IntN(2) == 0 {
				s.Project[".codex/config.toml"] = configDoc(r, &s, "project", true)
			}
			if s.Sub != "" && r.IntN(3) == 0 {
				s.Project["pkg/.codex/config.toml"] = configDoc(r, &s, "project", true)
			}
			if s.Sub != "" {
				s.Project["pkg/README"] = "sub folder\n"
			}
			if r.IntN(2) == 0 {
				user += "[projects.\"${ROOT}\"]\ntrust_level = \"" + pickOne(r, "trusted", "trusted", "untrusted") + "\"\n"
				s.Expect = append(s.Expect, "trust")
			}
		}
		// The loopback model provider: its key goes first and its table
		// last, so no generated key lands in its table or it in another.
		s.Home["config.toml"] = "model_provider = \"mock\"\n" + user + mockProviderTable
		if r.IntN(6) == 0 {
			s.Profile = "work"
			s.Home["work.config.toml"] = configDoc(r, &s, "profile", false)
			s.Expect = append(s.Expect, "profile")
		}
		if r.IntN(10) < 3 {
			for range 1 + r.IntN(2) {
				s.Flags = append(s.Flags, "-c", pickOne(r,
					"approval_policy=never", "approval_policy=\"on-request\"", "sandbox_mode=workspace-write",
					"sandbox_mode=\"danger-full-access\"", "web_search=live", "web_search='indexed'",
					"features."+pickOne(r, featurePool...)+"=true", "model=gpt-flag"))
			}
			s.Expect = append(s.Expect, "flags:-c")
		}
		if r.IntN(8) == 0 {
			s.Flags = append(s.Flags, pickOne(r, "--enable", "--disable"), pickOne(r, featurePool...))
			s.Expect = append(s.Expect, "flags:feature")
		}
		out[i] = s
	}
	return out
}

// The provider's base URL is filled in per setup.
const mockProviderTable = "[model_providers.mock]\nname = \"Mock\"\nbase_url = \"${PROVIDER}\"\nwire_api = \"responses\"\nenv_key = \"MOCK_KEY\"\n"

// observed is what Codex or codexgov says about one setup.
type observed struct {
	Error                                                string
	Approval, Reviewer, Sandbox, WebSearch               string
	MCP                                                  map[string]string // name -> "enabled" or the disabled reason
	Features                                             map[string]bool
	Warnings                                             []string
	compareApproval, compareReviewer, compareWebSearch   bool
	compareFeatures, compareWarnings, compareSandbox, ok bool
}

var sandboxNames = map[string]string{"readOnly": "read-only", "workspaceWrite": "workspace-write", "dangerFullAccess": "danger-full-access"}

// bubblewrapWarning is about the test machine, not the configuration.
const bubblewrapWarning = "Codex could not find bubblewrap on PATH."

// provider is the loopback model provider: it records each setup's first
// model request.
type provider struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs map[string]chan []byte
}

func newProvider() *provider {
	p := &provider{reqs: map[string]chan []byte{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if rest == "v1/responses" {
			select {
			case p.channel(id) <- body:
			default:
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"output\":[]}}\n\n")
	}))
	return p
}

func (p *provider) channel(id string) chan []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.reqs[id]
	if !ok {
		c = make(chan []byte, 1)
		p.reqs[id] = c
	}
	return c
}

// webSearchFromTools reads the web search mode from a model request: the
// web_search tool, in the tools list or (for models that take tools through
// an additional_tools input item) nested in the input.
func webSearchFromTools(body []byte) (string, error) {
	var req any
	if err := json.Unmarshal(body, &req); err != nil {
		return "", err
	}
	var tool map[string]any
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if v["type"] == "web_search" && tool == nil {
				tool = v
				return
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(req)
	switch {
	case tool == nil:
		return "disabled", nil
	case tool["indexed_web_access"] == true:
		return "indexed", nil
	case tool["external_web_access"] == true:
		return "live", nil
	}
	return "cached", nil
}

// observeCodex asks the real Codex about the setup.
func observeCodex(ctx context.Context, m *testenv.Machine, s machineSetup, cwd string, p *provider, id string) (observed, error) {
	var o observed
	mcp := func(res testenv.Result) error {
		if res.ExitCode != 0 {
			return fmt.Errorf("mcp list: exit %d: %s", res.ExitCode, res.Stderr)
		}
		var servers []struct {
			Name           string  `json:"name"`
			Enabled        bool    `json:"enabled"`
			DisabledReason *string `json:"disabled_reason"`
		}
		if err := json.Unmarshal([]byte(res.Stdout), &servers); err != nil {
			return fmt.Errorf("mcp list: %w: %s", err, res.Stdout)
		}
		o.MCP = map[string]string{}
		for _, sv := range servers {
			o.MCP[sv.Name] = mcpState(sv.Enabled, sv.DisabledReason)
		}
		return nil
	}
	if s.Profile != "" {
		// The app-server has no --profile: a profile is observed through
		// the prompt Codex would send and `codex -p NAME mcp list`.
		res, err := m.Run(ctx, cwd, "", append(append([]string{"-p", s.Profile}, s.Flags...), "debug", "prompt-input", "hi")...)
		if err != nil {
			return o, err
		}
		if res.ExitCode != 0 {
			o.Error = strings.TrimSpace(res.Stderr)
			o.ok = true
			return o, nil
		}
		mm := regexp.MustCompile("`sandbox_mode` is `([a-z-]+)`").FindStringSubmatch(res.Stdout)
		if mm == nil {
			return o, fmt.Errorf("prompt-input: no sandbox_mode line")
		}
		o.Sandbox, o.compareSandbox = mm[1], true
		res, err = m.Run(ctx, cwd, "", append(append([]string{"-p", s.Profile}, s.Flags...), "mcp", "list", "--json")...)
		if err != nil {
			return o, err
		}
		o.ok = true
		return o, mcp(res)
	}

	srv, err := m.StartAppServer(ctx, cwd, append([]string{"app-server"}, s.Flags...)...)
	if err != nil {
		// Codex refused to start: another command shows why.
		res, rerr := m.Run(ctx, cwd, "", append(append([]string{}, s.Flags...), "mcp", "list", "--json")...)
		if rerr == nil && res.ExitCode != 0 {
			o.Error, o.ok = strings.TrimSpace(res.Stderr), true
			return o, nil
		}
		return o, err
	}
	defer srv.Close()
	raw, err := srv.Call(ctx, "thread/start", map[string]any{"ephemeral": true, "cwd": cwd})
	if rpcErr, ok := err.(*testenv.RPCError); ok {
		o.Error, o.ok = rpcErr.Message, true
		return o, nil
	}
	if err != nil {
		return o, err
	}
	var th struct {
		Thread         struct{ ID string }   `json:"thread"`
		ApprovalPolicy string                `json:"approvalPolicy"`
		Reviewer       string                `json:"approvalsReviewer"`
		Sandbox        struct{ Type string } `json:"sandbox"`
	}
	if err := json.Unmarshal(raw, &th); err != nil {
		return o, err
	}
	o.Approval, o.Reviewer, o.Sandbox = th.ApprovalPolicy, th.Reviewer, sandboxNames[th.Sandbox.Type]
	o.compareApproval, o.compareReviewer, o.compareSandbox = true, true, true
	if _, err := srv.Call(ctx, "turn/start", map[string]any{"threadId": th.Thread.ID, "input": []any{map[string]any{"type": "text", "text": "hi"}}}); err != nil {
		return o, fmt.Errorf("turn/start: %w", err)
	}
	select {
	case body := <-p.channel(id):
		if o.WebSearch, err = webSearchFromTools(body); err != nil {
			return o, err
		}
		o.compareWebSearch = true
	case <-time.After(30 * time.Second):
		return o, fmt.Errorf("no model request within 30s")
	}
	for _, n := range srv.Notifications {
		if n.Method != "configWarning" {
			continue
		}
		var w struct{ Summary string }
		if err := json.Unmarshal(n.Params, &w); err != nil {
			return o, err
		}
		if !strings.HasPrefix(w.Summary, bubblewrapWarning) {
			o.Warnings = append(o.Warnings, w.Summary)
		}
	}
	o.compareWarnings = true

	res, err := m.Run(ctx, cwd, "", append(append([]string{}, s.Flags...), "mcp", "list", "--json")...)
	if err != nil {
		return o, err
	}
	if err := mcp(res); err != nil {
		return o, err
	}
	res, err = m.Run(ctx, cwd, "", append([]string{"features", "list"}, s.Flags...)...)
	if err != nil {
		return o, err
	}
	if res.ExitCode != 0 {
		return o, fmt.Errorf("features list: exit %d: %s", res.ExitCode, res.Stderr)
	}
	o.Features = map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		o.Features[f[0]] = f[len(f)-1] == "true"
	}
	o.compareFeatures = true
	o.ok = true
	return o, nil
}

func mcpState(enabled bool, reason *string) string {
	if enabled {
		return "enabled"
	}
	if reason == nil {
		return "disabled"
	}
	return "disabled: " + *reason
}

// appStart is explain's prediction for an app-server thread start.
type appStart struct {
	Automatic bool
	Trusts    string
	observed
}

// observeExplain runs `codexgov explain --json` on the same files: the
// state now, and the state an app-server thread start makes of it (nil
// when it leaves the trust as it is).
func observeExplain(t *testing.T, m *testenv.Machine, s machineSetup, cwd string) (observed, *appStart) {
	args := []string{"explain", "--json", "--etc", m.Etc, "--codex-home", m.Home, "--cwd", cwd, "--hostname", "vm"}
	if s.Profile != "" {
		args = append(args, "-p", s.Profile)
	}
	args = append(args, s.Flags...)
	out, stderr, code := runCLI(t, args...)
	if os.Getenv("CODEXGOV_CONFIG_ONLY") != "" {
		t.Logf("codexgov %q:\n%s", args, out)
	}
	var rep struct {
		AppServerStart json.RawMessage `json:"app_server_start"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("explain --json: exit %d, %v: %s %s", code, err, out, stderr)
	}
	now := explainObserved(t, []byte(out))
	if len(rep.AppServerStart) == 0 || string(rep.AppServerStart) == "null" {
		return now, nil
	}
	var head struct {
		Automatic bool   `json:"automatic"`
		Trusts    string `json:"trusts"`
	}
	if err := json.Unmarshal(rep.AppServerStart, &head); err != nil {
		t.Fatal(err)
	}
	app := &appStart{Automatic: head.Automatic, Trusts: head.Trusts, observed: explainObserved(t, rep.AppServerStart)}
	return now, app
}

// explainObserved reads the values of one explain report (or of its
// app_server_start).
func explainObserved(t *testing.T, raw []byte) observed {
	var full struct {
		Error             string                 `json:"error"`
		ApprovalPolicy    struct{ Value string } `json:"approval_policy"`
		ApprovalsReviewer struct{ Value string } `json:"approvals_reviewer"`
		SandboxMode       struct{ Value string } `json:"sandbox_mode"`
		WebSearchMode     struct{ Value string } `json:"web_search_mode"`
		Features          map[string]struct{ Value bool }
		MCPServers        map[string]struct {
			Enabled        bool    `json:"enabled"`
			DisabledReason *string `json:"disabled_reason"`
		} `json:"mcp_servers"`
		Warnings []struct{ Codex string }
	}
	if err := json.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	var o observed
	if full.Error != "" {
		o.Error = full.Error
		return o
	}
	o.Approval, o.Reviewer, o.Sandbox, o.WebSearch = full.ApprovalPolicy.Value, full.ApprovalsReviewer.Value, full.SandboxMode.Value, full.WebSearchMode.Value
	o.Features = map[string]bool{}
	for k, v := range full.Features {
		o.Features[k] = v.Value
	}
	o.MCP = map[string]string{}
	for k, v := range full.MCPServers {
		o.MCP[k] = mcpState(v.Enabled, v.DisabledReason)
	}
	for _, w := range full.Warnings {
		o.Warnings = append(o.Warnings, w.Codex)
	}
	return o
}

// compare lists the disagreements between Codex (want) and codexgov (got).
func compare(want, got observed) []string {
	var diffs []string
	if (want.Error != "") != (got.Error != "") {
		return []string{fmt.Sprintf("load error: codex %q, codexgov %q", want.Error, got.Error)}
	}
	if want.Error != "" {
		return nil
	}
	check := func(on bool, what, w, g string) {
		if on && w != g {
			diffs = append(diffs, fmt.Sprintf("%s: codex %q, codexgov %q", what, w, g))
		}
	}
	check(want.compareApproval, "approval_policy", want.Approval, got.Approval)
	check(want.compareReviewer, "approvals_reviewer", want.Reviewer, got.Reviewer)
	check(want.compareSandbox, "sandbox_mode", want.Sandbox, got.Sandbox)
	check(want.compareWebSearch, "web_search_mode", want.WebSearch, got.WebSearch)
	if want.MCP != nil {
		for name, st := range want.MCP {
			check(true, "mcp_servers."+name, st, got.MCP[name])
		}
		for name := range got.MCP {
			if _, ok := want.MCP[name]; !ok {
				diffs = append(diffs, "mcp_servers."+name+": only codexgov lists it")
			}
		}
	}
	if want.compareFeatures {
		for name, v := range want.Features {
			g, ok := got.Features[name]
			if !ok || g != v {
				diffs = append(diffs, fmt.Sprintf("features.%s: codex %t, codexgov %t (known %t)", name, v, g, ok))
			}
		}
	}
	if want.compareWarnings && strings.Join(want.Warnings, "\n--\n") != strings.Join(got.Warnings, "\n--\n") {
		diffs = append(diffs, fmt.Sprintf("warnings:\n codex    %q\n codexgov %q", want.Warnings, got.Warnings))
	}
	return diffs
}

// TestConfigConformance drives the real Codex 0.169.0 over app-server
// JSON-RPC, `codex mcp list --json`, `codex features list` and, for
// profiles, `codex -p NAME debug prompt-input`, on generated machines, and
// requires `codexgov explain --json` to agree on every observed value.
// CODEXGOV_CONFIG_SEED and CODEXGOV_CONFIG_CASES change the run.
func TestConfigConformance(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	seed := envInt(t, "CODEXGOV_CONFIG_SEED", 20261121)
	count := envInt(t, "CODEXGOV_CONFIG_CASES", 220)
	setups := generateSetups(uint64(seed), count)
	p := newProvider()
	defer p.srv.Close()

	covered := map[string]int{}
	for _, s := range setups {
		for _, e := range s.Expect {
			covered[e]++
		}
	}
	for _, k := range []string{"req:approval", "req:reviewer", "req:sandbox", "req:web_search", "req:features", "req:mcp", "req:otel",
		"user:approval_policy", "user:sandbox_mode", "user:web_search", "user:features", "user:mcp_servers", "user:otel", "user:unknown-key",
		"system:approval_policy", "project:sandbox_mode", "project:denied-key", "trust", "profile", "flags:-c", "flags:feature",
		"legacy-managed", "error:untrusted"} {
		if covered[k] == 0 {
			t.Errorf("the generator never produced %q", k)
		}
	}

	only := os.Getenv("CODEXGOV_CONFIG_ONLY") // one setup's index, to debug it
	var agree, total, profiles, autoTrusted atomic.Int64
	sem := make(chan struct{}, 4)
	t.Run("setups", func(t *testing.T) {
		for i, s := range setups {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				if only != "" && only != strconv.Itoa(i) {
					t.SkipNow()
				}
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				total.Add(1)
				if s.Profile != "" {
					profiles.Add(1)
				}
				m, err := oracle.Prepare(testenv.Run{Etc: s.Etc, Env: []string{"MOCK_KEY=x"}})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				root := m.Cwd
				id := "s" + strconv.Itoa(i)
				for name, body := range s.Home {
					body = strings.ReplaceAll(body, "${ROOT}", root)
					body = strings.ReplaceAll(body, "${PROVIDER}", p.srv.URL+"/"+id+"/v1")
					if err := testenv.WriteFile(filepath.Join(m.Home, name), body); err != nil {
						t.Fatal(err)
					}
				}
				for name, body := range s.Project {
					if err := testenv.WriteFile(filepath.Join(root, name), body); err != nil {
						t.Fatal(err)
					}
				}
				cwd := filepath.Join(root, s.Sub)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				// codexgov reads the files first: the app-server may record
				// the project as trusted in config.toml (AppServerStart).
				got, app := observeExplain(t, m, s, cwd)
				userConfig := filepath.Join(m.Home, "config.toml")
				before, err := os.ReadFile(userConfig)
				if err != nil {
					t.Fatal(err)
				}
				want, err := observeCodex(ctx, m, s, cwd, p, id)
				if err != nil {
					t.Fatalf("oracle: %v", err)
				}
				after, _ := os.ReadFile(userConfig)
				rewritten := string(after) != string(before)
				predicted := app != nil && app.Automatic && s.Profile == ""
				switch {
				case rewritten && !predicted:
					t.Errorf("setup %d: the app-server trusted the project (config.toml gained %q); explain predicted no app-server trust (%+v)\n\nsetup: %s",
						i, strings.TrimPrefix(string(after), string(before)), app, dumpSetup(s))
					return
				case predicted && !rewritten:
					t.Errorf("setup %d: explain predicted the app-server would trust %s; it did not\n\nsetup: %s", i, app.Trusts, dumpSetup(s))
					return
				case rewritten:
					// Codex adds the table after the file's other projects.
					block := "\n[projects." + strconv.Quote(app.Trusts) + "]\ntrust_level = \"trusted\"\n"
					if !strings.Contains(string(after), block) || strings.Replace(string(after), block, "", 1) != string(before) {
						t.Errorf("setup %d: config.toml became %q, explain predicted %q added to %q", i, after, block, before)
						return
					}
					autoTrusted.Add(1)
					got = app.observed
				}
				if diffs := compare(want, got); len(diffs) > 0 {
					t.Errorf("setup %d disagrees:\n%s\n\nsetup: %s", i, strings.Join(diffs, "\n"), dumpSetup(s))
					return
				}
				agree.Add(1)
			})
		}
	})
	t.Logf("config conformance: %d/%d setups agree (%d with a profile, seen through prompt-input and mcp list; %d where the app-server trusted the project itself), seed %d",
		agree.Load(), total.Load(), profiles.Load(), autoTrusted.Load(), seed)
	if r := os.Getenv("CODEXGOV_CONFIG_REPORT"); r != "" {
		os.WriteFile(r, []byte(fmt.Sprintf("%d/%d\n", agree.Load(), total.Load())), 0o644)
	}
}

func dumpSetup(s machineSetup) string {
	b, _ := json.MarshalIndent(s, "", "  ")
	return string(b)
}
