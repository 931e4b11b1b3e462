package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/codexgov/codexgov"
)

// withoutGateways removes the fixture's gateways and budgets: the tests
// below set their own.
func withoutGateways(t *testing.T, f *fixture) {
	t.Helper()
	for _, ws := range []string{"victim", "attacker"} {
		if err := f.store.DeleteGatewayBudget(actor(), ws, f.ids[ws+"/budget"]); err != nil {
			t.Fatal(err)
		}
		if err := f.store.DeleteGateway(actor(), ws); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.api.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fakeUpstream is a loopback Responses provider streaming a turn: text,
// one tool call, usage.
type fakeUpstream struct {
	*httptest.Server
	mu     sync.Mutex
	heads  []http.Header
	bodies [][]byte
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	u := &fakeUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.heads, u.bodies = append(u.heads, r.Header.Clone()), append(u.bodies, b)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, upstreamTurn)
	}))
	t.Cleanup(u.Close)
	return u
}

const upstreamTurn = "event: response.created\ndata: {\"type\":\"response.created\"}\n\n" +
	"event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"item\":{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Done; the key was AKIAABCDEFGHIJKLMNOP\"}]}}\n\n" +
	"event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"item\":{\"type\":\"function_call\",\"name\":\"exec_command\",\"arguments\":\"{\\\"cmd\\\":\\\"git status\\\"}\",\"call_id\":\"call_9\"}}\n\n" +
	"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":900,\"input_tokens_details\":{\"cached_tokens\":100},\"output_tokens\":40,\"output_tokens_details\":{\"reasoning_tokens\":5}}}}\n\n"

// TestGatewayThroughTheServer: an admin sets the workspace's upstream
// (its key sealed, never shown) and mints ann's gateway token; Codex's
// requests (zstd) go through /gateway/v1/responses to the upstream with
// the upstream's key and come back event by event; the records hold the
// repository, the turn, the usage, the output and the tool call, the
// planted secret redacted, and only each request's new input items;
// forged, foreign and revoked credentials are refused. Both databases.
func TestGatewayThroughTheServer(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		withoutGateways(t, f)
		up := newFakeUpstream(t)
		key := f.keys["victim/full"]
		code, body := f.do(t, "POST", "/api/v1/workspaces/victim/gateway/tokens", key, `{"user":"ann@victim.test"}`)
		if code != 409 || !strings.Contains(body, "no model gateway") {
			t.Errorf("a token before the gateway exists: %d %s", code, body)
		}
		code, body = f.do(t, "PUT", "/api/v1/workspaces/victim/gateway", key, `{"base_url":"`+up.URL+`/v1","api_key":"sk-upstream-7f3a","capture":"full","route_model_traffic":true}`)
		if code != 200 || strings.Contains(body, "sk-upstream") || !strings.Contains(body, `"key_set": true`) {
			t.Fatalf("put gateway: %d %s", code, body)
		}
		if g, _ := f.store.Gateway(actor(), "victim"); g == nil || bytes.Contains(g.KeyEnc, []byte("sk-upstream")) {
			t.Error("the upstream key is stored in clear")
		}
		code, body = f.do(t, "POST", "/api/v1/workspaces/victim/gateway/tokens", key, `{"user":"ann@victim.test","device":"ann-laptop"}`)
		var tok codexgov.GatewayToken
		if code != 201 || json.Unmarshal([]byte(body), &tok) != nil || !strings.HasPrefix(tok.Token, codexgov.GatewayTokenPrefix) {
			t.Fatalf("mint: %d %s", code, body)
		}

		item := func(text string) string {
			return `{"type":"message","role":"user","content":[{"type":"input_text","text":` + fmt.Sprintf("%q", text) + `}]}`
		}
		env := item("<environment_context>\n  <cwd>/home/ann/src/shop</cwd>\n</environment_context>")
		send := func(token string, items ...string) (int, string) {
			t.Helper()
			raw := []byte(`{"model":"gpt-5.1-codex","stream":true,"input":[` + strings.Join(items, ",") + `]}`)
			enc, _ := zstd.NewWriter(nil)
			req, _ := http.NewRequest("POST", f.srv.URL+"/gateway/v1/responses", bytes.NewReader(enc.EncodeAll(raw, nil)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "zstd")
			req.Header.Set(GatewayTokenHeader, token)
			req.Header.Set("Session-Id", "th-42")
			req.Header.Set("Originator", "codex_exec")
			req.Header.Set("X-Codex-Turn-Metadata", `{"installation_id":"inst-9","session_id":"th-42","turn_id":"turn-1","workspaces":{"/home/ann/src/shop":{"associated_remote_urls":{"origin":"git@github.com:victim/shop.git"},"latest_git_commit_hash":"c0ffee12","has_changes":false}}}`)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		prompt := item("fix the deploy script; it uses AKIAQWERTYUIOPASDFGH")
		if code, body := send(tok.Token, env, prompt); code != 200 || body != upstreamTurn {
			t.Fatalf("first request: %d %s", code, body)
		}
		fc := `{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"git status\"}","call_id":"call_9"}`
		out := `{"type":"function_call_output","call_id":"call_9","output":"nothing to commit"}`
		if code, _ := send(tok.Token, env, prompt, fc, out); code != 200 {
			t.Fatalf("second request: %d", code)
		}
		if len(up.heads) != 2 || up.heads[0].Get("Authorization") != "Bearer sk-upstream-7f3a" || up.heads[0].Get(GatewayTokenHeader) != "" || up.heads[0].Get("X-Codex-Turn-Metadata") == "" ||
			!bytes.Contains(up.bodies[0], []byte(`"fix the deploy script`)) {
			t.Fatalf("what the upstream got: %v %s", up.heads, up.bodies)
		}

		f.api.WaitGateway()
		code, body = f.do(t, "GET", "/api/v1/workspaces/victim/gateway/requests?session=th-42", f.keys["victim/audit-only"], "")
		var recs []codexgov.GatewayRecord
		if code != 200 || json.Unmarshal([]byte(body), &recs) != nil || len(recs) != 2 {
			t.Fatalf("records: %d %s", code, body)
		}
		if strings.Contains(body, "AKIAQWERTYUIOPASDFGH") || strings.Contains(body, "AKIAABCDEFGHIJKLMNOP") || !strings.Contains(body, "REDACTED") {
			t.Errorf("a planted secret reached the records in clear: %s", body)
		}
		first, second := recs[1], recs[0]
		if first.Identity != "user:ann@victim.test" || first.Device != "ann-laptop" || first.Installation != "inst-9" || first.Session != "th-42" || first.Turn != "turn-1" || first.Surface != "codex_exec" ||
			first.Model != "gpt-5.1-codex" || first.Status != 200 || first.Cwd != "/home/ann/src/shop" || len(first.Repos) != 1 || first.Repos[0].Remotes["origin"] != "git@github.com:victim/shop.git" ||
			first.Repos[0].Head != "c0ffee12" || first.InputTokens != 900 || first.CachedTokens != 100 || first.OutputTokens != 40 || first.ReasoningTokens != 5 ||
			!strings.HasPrefix(first.Output, "Done; the key was") || len(first.ToolCalls) != 1 || first.ToolCalls[0].Name != "exec_command" || first.ToolCalls[0].Arguments != `{"cmd":"git status"}` {
			t.Errorf("first record: %+v", first)
		}
		if first.InputFrom != 0 || len(first.Input) != 2 || second.InputFrom != 2 || len(second.Input) != 2 || !strings.Contains(string(second.Input[1]), "nothing to commit") {
			t.Errorf("input kept: first from %d (%d), second from %d (%d)", first.InputFrom, len(first.Input), second.InputFrom, len(second.Input))
		}

		// The analytics count the gateway's tokens while the workspace's
		// telemetry is off (nothing else counts them), and not once it is
		// on (Codex's own token_usage events count them).
		tokens := func() int64 {
			t.Helper()
			f.api.WaitGateway()
			if err := f.store.DrainAnalytics(actor(), "victim"); err != nil {
				t.Fatal(err)
			}
			today := time.Now().UTC().Format(time.DateOnly)
			rows, _, err := f.store.AnalyticsUsage(actor(), "victim", codexgov.UsageQuery{Period: "day", From: today, To: time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly), Workspace: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var n, turns int64
			for _, r := range rows {
				if r.Client == "*" && r.Model == "*" {
					n, turns = n+r.TextTotalTokens, turns+r.Turns
				}
			}
			if turns != 1 {
				t.Errorf("analytics turns: %d, want 1 (two requests of one turn)", turns)
			}
			return n
		}
		if got := tokens(); got != 2*(900+40) {
			t.Errorf("analytics tokens with telemetry off: %d, want %d", got, 2*(900+40))
		}
		if code, body := f.do(t, "PATCH", "/api/v1/workspaces/victim/settings", key, `{"telemetry":"metadata"}`); code != 200 {
			t.Fatalf("telemetry on: %d %s", code, body)
		}
		send(tok.Token, env, prompt, fc, out, item("and now?"))
		if got := tokens(); got != 2*(900+40) {
			t.Errorf("analytics tokens after a request with telemetry on: %d, want %d (telemetry counts them)", got, 2*(900+40))
		}

		// Per repository (analytics:read).
		code, body = f.do(t, "GET", "/api/v1/workspaces/victim/gateway/repositories", f.keys["victim/full"], "")
		var repos []codexgov.RepositoryUsage
		if code != 200 || json.Unmarshal([]byte(body), &repos) != nil || len(repos) != 1 || repos[0].Repository != "git@github.com:victim/shop.git" || repos[0].Requests != 3 || repos[0].People != 1 ||
			repos[0].InputTokens != 3*900 || repos[0].OutputTokens != 3*40 {
			t.Errorf("repositories: %d %s", code, body)
		}
		if code, body := f.do(t, "GET", "/api/v1/workspaces/victim/gateway/repositories?start=2026-01-01&end=2026-12-31", f.keys["victim/full"], ""); code != 400 || !strings.Contains(body, "lookback") {
			t.Errorf("a window past the lookback: %d %s", code, body)
		}

		// Refusals, none reaching the upstream.
		n := len(up.heads)
		code, body = f.do(t, "POST", "/api/v1/workspaces/attacker/gateway/tokens", f.keys["attacker/full"], `{"user":"ann@attacker.test"}`)
		if code != 409 {
			t.Errorf("attacker's token without a gateway: %d %s", code, body)
		}
		forged := tok.Token[:len(tok.Token)-4] + "AAAA"
		for name, tc := range map[string]struct {
			token string
			want  int
		}{"none": {"", 401}, "forged": {forged, 401}, "a telemetry token": {"cgo_x.y", 401}} {
			if code, body := send(tc.token, env, prompt); code != tc.want || !strings.Contains(body, `"error"`) {
				t.Errorf("%s: %d %s", name, code, body)
			}
		}
		active := false
		if _, err := f.store.UpdateUser(actor(), "victim", "ann@victim.test", codexgov.UserUpdate{Active: &active}); err != nil {
			t.Fatal(err)
		}
		f.api.Rebuild(context.Background())
		if code, body := send(tok.Token, env, prompt); code != 401 && code != 403 {
			t.Errorf("a deactivated user's token: %d %s", code, body)
		}
		if len(up.heads) != n {
			t.Errorf("refused requests reached the upstream: %d", len(up.heads)-n)
		}
		// Codex's other calls to its provider.
		var models struct{ Data, Models []any }
		if code, body := f.do(t, "GET", "/gateway/v1/models?client_version=0.169.0", "", ""); code != 200 || json.Unmarshal([]byte(body), &models) != nil || models.Data == nil || models.Models == nil {
			t.Errorf("models: %d %q", code, body)
		}
		if code, _ := f.do(t, "POST", "/gateway/v1/analytics/codex/turn-costs", "", "{}"); code != 200 {
			t.Errorf("turn costs: %d", code)
		}
	})
}

// TestGatewayBudgetsUnderConcurrency: 64 parallel requests through the
// gateway at a person's token budget: what the upstream is asked for never
// takes the budget past its limit by more than one request's estimate
// (here, as each request uses less than it reserves, not at all), the
// rest are refused in the Responses API's shape naming the budget, and
// the budget's use equals the records'. Both databases.
func TestGatewayBudgetsUnderConcurrency(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		withoutGateways(t, f)
		up := newFakeUpstream(t)
		key := f.keys["victim/full"]
		if code, body := f.do(t, "PUT", "/api/v1/workspaces/victim/gateway", key, `{"base_url":"`+up.URL+`/v1","api_key":"sk-up","capture":"metadata"}`); code != 200 {
			t.Fatalf("put gateway: %d %s", code, body)
		}
		const limit = 20_000
		if code, body := f.do(t, "PUT", "/api/v1/workspaces/victim/gateway/budgets", key, fmt.Sprintf(`{"scope":"user","subject":"ann@victim.test","unit":"tokens","period":"day","limit":%d}`, limit)); code != 200 {
			t.Fatalf("put budget: %d %s", code, body)
		}
		_, body := f.do(t, "POST", "/api/v1/workspaces/victim/gateway/tokens", key, `{"user":"ann@victim.test"}`)
		var tok codexgov.GatewayToken
		json.Unmarshal([]byte(body), &tok)
		raw := `{"model":"gpt-5.1-codex","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}`
		estimate := len(raw)/3 + GatewayOutputAllowance
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		var refusal string
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", f.srv.URL+"/gateway/v1/responses", strings.NewReader(raw))
				req.Header.Set(GatewayTokenHeader, tok.Token)
				req.Header.Set("Session-Id", fmt.Sprintf("s-%d", i))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				defer mu.Unlock()
				codes[resp.StatusCode]++
				if resp.StatusCode == 400 {
					refusal = string(b)
				}
			}()
		}
		wg.Wait()
		f.api.WaitGateway()
		code, body := f.do(t, "GET", "/api/v1/workspaces/victim/gateway/requests?user=ann@victim.test&limit=100", f.keys["victim/audit-only"], "")
		var recs []codexgov.GatewayRecord
		if code != 200 || json.Unmarshal([]byte(body), &recs) != nil {
			t.Fatalf("records: %d %s", code, body)
		}
		var used int64
		for _, r := range recs {
			used += r.InputTokens + r.OutputTokens
			// capture = metadata: the tool calls' names, no content.
			if r.Capture != "metadata" || r.Input != nil || r.Output != "" || len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != "exec_command" || r.ToolCalls[0].Arguments != "" {
				t.Errorf("a metadata record holds content: %+v", r)
			}
		}
		if codes[200]+codes[400] != 64 || codes[200] != len(recs) || codes[200] < limit/estimate || codes[400] == 0 || used > limit {
			t.Errorf("64 at once: %v answers, %d records using %d tokens (limit %d, estimate %d)", codes, len(recs), used, limit, estimate)
		}
		var e struct {
			Error struct{ Message, Type, Code string } `json:"error"`
		}
		if json.Unmarshal([]byte(refusal), &e) != nil || e.Error.Code != "budget_exceeded" || !strings.Contains(e.Error.Message, "would exceed your daily budget") {
			t.Errorf("refusal: %s", refusal)
		}
		var budgets []codexgov.GatewayBudgetUse
		_, body = f.do(t, "GET", "/api/v1/workspaces/victim/gateway/budgets", key, "")
		if json.Unmarshal([]byte(body), &budgets) != nil || len(budgets) != 1 || budgets[0].Used != float64(used) || budgets[0].Reserved != 0 {
			t.Errorf("budget use %s, records %d", body, used)
		}
		t.Logf("64 at once: %d forwarded, %d refused; %d of %d tokens used (estimate %d a request)", codes[200], codes[400], used, limit, estimate)
	})
}

// plantedSecrets are twenty secrets of the kinds the built-in detectors
// know, as a person might paste them into a prompt.
func plantedSecrets() []string {
	r := strings.Repeat
	return []string{
		"AKIA" + r("Q", 16), "AKIA" + r("W", 16), "ASIA" + r("E", 16), "AKIA" + r("R7", 8),
		"ghp_" + r("a1", 18), "ghp_" + r("b2", 18), "gho_" + r("c3", 18), "github_pat_" + r("d4", 11),
		"glpat-" + r("e5", 10), "glpat-" + r("f6", 10),
		"xoxb-" + r("1", 12) + "-abcdef", "xoxp-" + r("2", 12) + "-ghijkl",
		"AIza" + r("S", 35), "AIza" + r("T", 35),
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ", "eyJ0eXAiOiJKV1QifQ.eyJ1c2VyIjoiYW5uQGFjbWUudGVzdCJ9.b3RoZXItc2lnbmF0dXJl",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + r("x", 40) + "\n-----END RSA PRIVATE KEY-----",
		"https://deploy:hunter2-" + r("p", 12) + "@git.acme.test/shop.git", "postgres://app:s3cr3t-" + r("q", 10) + "@db.acme.test/shop",
		"https://hooks.slack.com/services/T000/B000/" + r("z", 24),
	}
}

// TestGatewayRedactsPlantedSecrets: twenty secrets pasted into prompts
// (and echoed back by the model) reach the upstream — the person sent
// them — but never codexgov's storage in clear: not the records, not the
// compliance events, not the database file.
func TestGatewayRedactsPlantedSecrets(t *testing.T) {
	dir := t.TempDir()
	f := newFixtureOn(t, filepath.Join(dir, "db"))
	withoutGateways(t, f)
	secrets := plantedSecrets()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"type": "response.output_item.done", "item": map[string]any{"type": "message", "content": []any{map[string]any{"type": "output_text", "text": "You pasted " + strings.Join(secrets, " and ")}}}})
		fmt.Fprintf(w, "event: response.output_item.done\ndata: %s\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}}\n\n", b)
	}))
	t.Cleanup(echo.Close)
	key := f.keys["victim/full"]
	if code, body := f.do(t, "PUT", "/api/v1/workspaces/victim/gateway", key, `{"base_url":"`+echo.URL+`/v1","api_key":"sk-up","capture":"full"}`); code != 200 {
		t.Fatalf("put gateway: %d %s", code, body)
	}
	_, body := f.do(t, "POST", "/api/v1/workspaces/victim/gateway/tokens", key, `{"user":"ann@victim.test"}`)
	var tok codexgov.GatewayToken
	json.Unmarshal([]byte(body), &tok)
	for i, s := range secrets {
		text, _ := json.Marshal("deploy with " + s + " please")
		raw := `{"model":"gpt-5.1-codex","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":` + string(text) + `}]}]}`
		req, _ := http.NewRequest("POST", f.srv.URL+"/gateway/v1/responses", strings.NewReader(raw))
		req.Header.Set(GatewayTokenHeader, tok.Token)
		req.Header.Set("Session-Id", fmt.Sprintf("s-%d", i))
		req.Header.Set("X-Codex-Turn-Metadata", `{"workspaces":{"/src/shop":{"associated_remote_urls":{"origin":"https://deploy:hunter2-`+strings.Repeat("p", 12)+`@git.acme.test/shop.git"}}}}`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	f.api.WaitGateway()
	_, records := f.do(t, "GET", "/api/v1/workspaces/victim/gateway/requests?limit=100", key, "")
	_, events := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-events?type=model_response&limit=100", key, "")
	if strings.Count(records, `"id": "gwr_`) != 20 || strings.Count(events, "codexgov.gateway.response") != 20 || !strings.Contains(records, "[REDACTED") {
		t.Fatalf("records or events missing: %.500s", records)
	}
	f.store.Close() // the WAL into the file
	var stored []byte
	for _, name := range []string{"db", "db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		stored = append(stored, b...)
	}
	leaked := 0
	for _, s := range secrets {
		for what, in := range map[string]string{"the records": records, "the compliance events": events, "the database file": string(stored)} {
			if strings.Contains(in, s) || strings.Contains(in, strings.ReplaceAll(s, "\n", `\n`)) {
				leaked++
				t.Errorf("%s holds %q in clear", what, s)
			}
		}
	}
	t.Logf("20 planted secrets, %d found in clear in records, compliance events or the database file", leaked)
}

// TestGatewayUSDBudgetAndCaptureOff: a group's USD budget is reserved at
// the model's prices (and refuses a model without one); with capture off
// the records keep no content and no compliance event is made.
func TestGatewayUSDBudgetAndCaptureOff(t *testing.T) {
	f := newFixture(t)
	withoutGateways(t, f)
	up := newFakeUpstream(t)
	key := f.keys["victim/full"]
	if code, body := f.do(t, "PUT", "/api/v1/workspaces/victim/gateway", key, `{"base_url":"`+up.URL+`/v1","api_key":"sk-up","capture":"off"}`); code != 200 {
		t.Fatalf("put gateway: %d %s", code, body)
	}
	// $1 per million input tokens, $10 per million output: a request's
	// estimate is about (size/3)·1e-6 + 4096·1e-5 = $0.041.
	if code, body := f.do(t, "PATCH", "/api/v1/workspaces/victim/settings", key, `{"model_prices":{"gpt-5.1-codex":{"input":1,"cached_input":0.1,"output":10}}}`); code != 200 {
		t.Fatalf("prices: %d %s", code, body)
	}
	if code, body := f.do(t, "PUT", "/api/v1/workspaces/victim/gateway/budgets", key, `{"scope":"group","subject":"eng-victim","unit":"usd","period":"month","limit":0.1}`); code != 200 {
		t.Fatalf("put budget: %d %s", code, body)
	}
	_, body := f.do(t, "POST", "/api/v1/workspaces/victim/gateway/tokens", key, `{"user":"ann@victim.test"}`)
	var tok codexgov.GatewayToken
	json.Unmarshal([]byte(body), &tok)
	send := func(model string) (int, string) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/gateway/v1/responses", strings.NewReader(`{"model":"`+model+`","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}`))
		req.Header.Set(GatewayTokenHeader, tok.Token)
		req.Header.Set("Session-Id", "s-usd")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		f.api.WaitGateway()
		return resp.StatusCode, string(b)
	}
	// Each request costs (900-100)·1e-6 + 100·1e-7 + 40·1e-5 = $0.00121;
	// the $0.041 estimates fit twice in $0.1, a third request then does not.
	for i := range 2 {
		if code, body := send("gpt-5.1-codex"); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	var budgets []codexgov.GatewayBudgetUse
	_, body = f.do(t, "GET", "/api/v1/workspaces/victim/gateway/budgets", key, "")
	if json.Unmarshal([]byte(body), &budgets) != nil || len(budgets) != 1 || math.Abs(budgets[0].Used-2*0.00121) > 1e-9 || budgets[0].Reserved != 0 {
		t.Errorf("USD use after two requests: %s", body)
	}
	if code, body := send("gpt-5.1-codex"); code != 200 {
		t.Errorf("a third request within the budget's remaining $0.0976: %d %s", code, body)
	}
	if code, body := send("unpriced-model"); code != 400 || !strings.Contains(body, "not known") {
		t.Errorf("a model without a price under a USD budget: %d %s", code, body)
	}
	_, records := f.do(t, "GET", "/api/v1/workspaces/victim/gateway/requests?limit=10", key, "")
	var recs []codexgov.GatewayRecord
	json.Unmarshal([]byte(records), &recs)
	for _, r := range recs {
		if r.Capture != "off" || r.Input != nil || r.Output != "" || len(r.ToolCalls) != 0 {
			t.Errorf("capture off kept content: %+v", r)
		}
	}
	if _, events := f.do(t, "GET", "/api/v1/workspaces/victim/telemetry-events?type=model_response", key, ""); strings.Contains(events, "codexgov.gateway.response") || len(recs) != 3 {
		t.Errorf("capture off: %d records, events %s", len(recs), events)
	}
}
