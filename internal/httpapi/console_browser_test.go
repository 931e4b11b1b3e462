package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

// TestConsoleInChromium drives the console in real headless Chromium:
// single sign-on through the fake identity provider; every page
// screenshotted (artifacts/console/) and checked by axe-core for serious
// or critical violations; a policy typed with a typo shows the lint's
// diagnostic at its line and column, and saved once fixed; a rule moved
// down with the keyboard changes the lookup's answer; an API key issued
// (its secret shown once, working) and revoked (refused); the dashboard's
// numbers equal the Analytics API's; and a person with analytics_read
// only reaches the dashboard and no write.
func TestConsoleInChromium(t *testing.T) {
	e := newSSOEnv(t)
	browser := testenv.Chromium(t)
	ctx := actor()
	axe, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "web", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	shots := filepath.Join(testenv.RepoRoot(), "artifacts", "console")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The workspace: alice administers; carol is in eng and ops (rule 1
	// takes her); bob has analytics_read only.
	must(e.store.UpdateSettings(ctx, "acme", codexgov.SettingsUpdate{AllowJITProvisioning: yes()}))
	must(e.store.CreateGroup(ctx, "acme", codexgov.Group{Name: "ops"}))
	must(e.store.PutPolicy(ctx, "acme", codexgov.PolicyInput{Name: "ops", Requirements: "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n"}))
	must(e.store.SetAssignment(ctx, "acme", codexgov.Assignment{Rules: []codexgov.Rule{{Group: "eng", Policy: "eng"}, {Group: "ops", Policy: "ops"}}}))
	must(e.store.CreateUser(ctx, "acme", codexgov.User{Email: "carol@acme.test", Name: "Carol"}))
	must(e.store.AddGroupMember(ctx, "acme", "eng", "carol@acme.test"))
	must(e.store.AddGroupMember(ctx, "acme", "ops", "carol@acme.test"))
	must(e.store.CreateRole(ctx, "acme", codexgov.Role{Name: "analyst", Permissions: []codexgov.Permission{codexgov.PermAnalyticsRead}}))
	must(e.store.CreateGroup(ctx, "acme", codexgov.Group{Name: "Analysts"}))
	must(e.store.GrantGroupRole(ctx, "acme", "Analysts", "analyst"))
	// Telemetry over the last days, for the dashboard.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var evs []codexgov.TelemetryEvent
	for d := range 5 {
		for i, who := range []string{"alice@acme.test", "carol@acme.test"} {
			if (d+i)%3 == 2 {
				continue
			}
			at := today.AddDate(0, 0, -d).Add(time.Hour)
			session := fmt.Sprintf("s-%d-%d", d, i)
			base := codexgov.TelemetryEvent{Workspace: "acme", Identity: "user:" + who, Credential: "et_x", Session: session, Surface: []string{"codex_cli_rs", "codex_vscode"}[i],
				Model: []string{"gpt-5.1-codex", "gpt-5-mini"}[(d+i)%2], ReceivedAt: at}
			for n := range 1 + d%3 {
				p, u := base, base
				p.ID, p.Time, p.Type, p.Name = session+"-p"+strconv.Itoa(n), at.Add(time.Duration(2*n)*time.Second), codexgov.TelemetryPrompt, "codex.user_prompt"
				u.ID, u.Time, u.Type, u.Name = session+"-u"+strconv.Itoa(n), at.Add(time.Duration(2*n+1)*time.Second), codexgov.TelemetryTokenUsage, "codex.sse_event"
				u.Data = map[string]any{"input_tokens": int64(1000 * (d + 1)), "cached_tokens": int64(100 * d), "output_tokens": int64(50 + 10*n)}
				evs = append(evs, p, u)
			}
		}
	}
	if _, err := e.store.AppendTelemetry(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 15*time.Second)
		defer cancel()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string, out any) {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %.60s: %v", js, err)
		}
		if out != nil {
			if err := json.Unmarshal(v, out); err != nil {
				t.Fatalf("evaluate %.60s: %v (%s)", js, err, v)
			}
		}
	}
	location := func() *url.URL {
		t.Helper()
		s, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(s)
		return u
	}
	// check runs axe-core in the page and saves its screenshot.
	check := func(name string) {
		t.Helper()
		eval(string(axe)+";true", nil)
		var violations []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		eval(`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`, &violations)
		for _, v := range violations {
			t.Errorf("%s: axe-core %s violation %s (%s) at %v", name, v.Impact, v.ID, v.Help, v.Nodes)
		}
		c, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(claims testenv.Claims) {
		t.Helper()
		e.idp.SignInAs(claims)
		run("sign in", chromedp.Navigate(e.srv.URL+"/ui/acme/sign-in"), chromedp.Click(chromedp.CSS("a.sso")), chromedp.WaitVisible(chromedp.CSS("#who")))
		if got := text("#who"); got != claims.Email {
			t.Fatalf("signed in as %q, want %s", got, claims.Email)
		}
	}

	signIn(testenv.Claims{Email: "alice@acme.test", Name: "Alice", Groups: []string{"Codex Admins"}})
	check("sign-in-landing")

	// Every page: it renders, passes axe-core, and is saved.
	for _, p := range consolePages {
		run("open "+p.page, chromedp.Navigate(e.srv.URL+"/ui/acme"+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := location().Path; got != "/ui/acme"+p.path {
			t.Fatalf("%s: at %s", p.page, got)
		}
		check(p.page)
	}
	// And the pages behind them: a group opened, a new identity
	// provider's form, one session's events.
	for name, path := range map[string]string{"group-open": "/groups?group=ops", "identity-provider-form": "/settings?idp=new", "session": "/activity/s-0-0"} {
		run("open "+name, chromedp.Navigate(e.srv.URL+"/ui/acme"+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		check(name)
	}

	// policy typo: the diagnostic at its line and column, then saved
	{
		typo := "allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"on-request\", \"nevr\"]\n"
		line, col := 2, strings.Index(strings.Split(typo, "\n")[1], `"nevr"`)+1
		run("type the typo", chromedp.Navigate(e.srv.URL+"/ui/acme/policies/eng"), chromedp.WaitVisible(chromedp.CSS("#requirements")),
			chromedp.Clear(chromedp.CSS("#requirements")), chromedp.SendKeys(chromedp.CSS("#requirements"), typo),
			chromedp.WaitVisible(chromedp.CSS("#diagnostics li")))
		got := text("#diagnostics")
		if want := fmt.Sprintf("requirements.toml:%d:%d:", line, col); !strings.Contains(got, want) || !strings.Contains(got, "nevr") {
			t.Fatalf("diagnostics %q, want one at %s naming nevr", got, want)
		}
		check("policy-editor-diagnostic")
		fixed := "allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"on-request\", \"never\"]\n"
		eval(`document.querySelector("#requirements").value = ""; true`, nil)
		run("fix it", chromedp.SendKeys(chromedp.CSS("#requirements"), fixed),
			chromedp.WaitNotPresent(chromedp.CSS("#diagnostics li")), chromedp.WaitVisible(chromedp.CSS("#diagnostics .clean")),
			chromedp.SendKeys(chromedp.CSS("#comment"), "approvals for the eng group"),
			chromedp.Click(chromedp.CSS("#editor-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if n := text("p.notice"); !strings.Contains(n, "Saved eng version 2") {
			t.Fatalf("after save: %q", n)
		}
		v, err := e.store.Policy(ctx, "acme", "eng", 0)
		if err != nil || v.Version != 2 || v.Requirements != fixed || v.Comment != "approvals for the eng group" || v.CreatedBy != "user:alice@acme.test (console)" {
			t.Fatalf("stored %+v %v", v, err)
		}
	}

	// reorder the assignment with the keyboard; the lookup follows
	{
		run("lookup before", chromedp.Navigate(e.srv.URL+"/ui/acme/lookup?user=carol@acme.test"), chromedp.WaitVisible(chromedp.CSS("#lookup-policy")))
		if got := text("#lookup-policy"); !strings.HasPrefix(got, "eng ") {
			t.Fatalf("carol before: %q", got)
		}
		run("move rule 1 down", chromedp.Navigate(e.srv.URL+"/ui/acme/assignment"), chromedp.WaitVisible(chromedp.CSS("#rules")),
			chromedp.Focus(chromedp.CSS(`button[aria-label^="Move rule 1 "][value=down]`)), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		a, err := e.store.Assignment(ctx, "acme")
		if err != nil || len(a.Rules) != 2 || a.Rules[0].Group != "ops" || a.Rules[1].Group != "eng" {
			t.Fatalf("assignment after the move: %+v %v", a, err)
		}
		run("lookup after", chromedp.Navigate(e.srv.URL+"/ui/acme/lookup?user=carol@acme.test"), chromedp.WaitVisible(chromedp.CSS("#lookup-policy")))
		if got := text("#lookup-policy"); !strings.HasPrefix(got, "ops ") {
			t.Fatalf("carol after: %q", got)
		}
		check("lookup-after-reorder")
	}

	// issue an API key, its secret once; revoke it
	{
		run("create", chromedp.Navigate(e.srv.URL+"/ui/acme/credentials"), chromedp.WaitVisible(chromedp.CSS("#key-name")),
			chromedp.SendKeys(chromedp.CSS("#key-name"), "dashboard-bot"), chromedp.Click(chromedp.CSS(`input[name=scope][value="analytics:read"]`)),
			chromedp.Click(chromedp.CSS(`form[action$="/credentials/api-keys"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#new-secret")))
		secret := text("#new-secret")
		if !strings.HasPrefix(secret, codexgov.APIKeyPrefix) {
			t.Fatalf("secret %q", secret)
		}
		check("credentials-secret-shown")
		usage := "/v1/analytics/codex/workspaces/acme/usage"
		if code, body := e.bearer("GET", usage, secret); code != 200 {
			t.Fatalf("the new key: %d %s", code, body)
		}
		run("reload", chromedp.Navigate(e.srv.URL+"/ui/acme/credentials"), chromedp.WaitVisible(chromedp.CSS("#api-keys")))
		if page := text("main"); strings.Contains(page, secret) {
			t.Fatal("the secret is shown again")
		}
		keys, _ := e.store.APIKeys(ctx, "acme")
		var id string
		for _, k := range keys {
			if k.Name == "dashboard-bot" {
				id = k.ID
			}
		}
		run("revoke", chromedp.Click(chromedp.CSS(`button[aria-label="Revoke API key `+id+`"]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
		if code, _ := e.bearer("GET", usage, secret); code != 401 {
			t.Fatalf("the revoked key: %d", code)
		}
	}

	// the dashboard's numbers are the Analytics API's
	{
		start, end := today.AddDate(0, 0, -6), today
		run("open", chromedp.Navigate(e.srv.URL+"/ui/acme/analytics?"+url.Values{"start": {start.Format(time.DateOnly)}, "end": {end.Format(time.DateOnly)}}.Encode()),
			chromedp.WaitVisible(chromedp.CSS("#usage")))
		var rows []struct {
			Start                  int64
			Threads, Turns, Tokens int64
		}
		eval(`[...document.querySelectorAll("#usage tbody tr[data-start]")].map(r => ({start: +r.dataset.start, threads: +r.querySelector("[data-k=threads]").textContent, turns: +r.querySelector("[data-k=turns]").textContent, tokens: +r.querySelector("[data-k=tokens]").textContent}))`, &rows)
		key, _ := e.createKey(t, codexgov.ScopeAnalyticsRead)
		code, body := e.bearer("GET", "/v1/analytics/codex/workspaces/acme/usage?"+url.Values{"group": {"workspace"}, "start_time": {fmt.Sprint(start.Unix())}, "end_time": {fmt.Sprint(end.AddDate(0, 0, 1).Unix())}}.Encode(), key)
		var page UsagePage
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil {
			t.Fatalf("API: %d %s", code, body)
		}
		if len(rows) == 0 || len(rows) != len(page.Data) {
			t.Fatalf("the dashboard shows %d days, the API %d", len(rows), len(page.Data))
		}
		var threads int64
		for i, r := range page.Data {
			got := rows[i]
			if got.Start != r.StartTime || got.Threads != r.Totals.Threads || got.Turns != r.Totals.Turns || got.Tokens != r.Totals.TextTotalTokens {
				t.Errorf("day %d: dashboard %+v, API %+v", i, got, r.Totals)
			}
			threads += r.Totals.Threads
		}
		// Active people per day, and each person's tokens in the ranking,
		// are the API's per-user rows counted and summed.
		code, body = e.bearer("GET", "/v1/analytics/codex/workspaces/acme/usage?"+url.Values{"start_time": {fmt.Sprint(start.Unix())}, "end_time": {fmt.Sprint(end.AddDate(0, 0, 1).Unix())}}.Encode(), key)
		var perUser UsagePage
		if code != 200 || json.Unmarshal([]byte(body), &perUser) != nil {
			t.Fatalf("API per user: %d %s", code, body)
		}
		activeAPI, tokensAPI := map[int64]int{}, map[string]int64{}
		for _, r := range perUser.Data {
			activeAPI[r.StartTime]++
			tokensAPI[r.Actor.Email] += r.Totals.TextTotalTokens
		}
		var active map[string]int
		eval(`Object.fromEntries([...document.querySelectorAll("#usage tbody tr[data-start]")].map(r => [r.dataset.start, +r.children[1].textContent]))`, &active)
		for day, n := range activeAPI {
			if active[fmt.Sprint(day)] != n {
				t.Errorf("active people on %d: dashboard %d, API %d", day, active[fmt.Sprint(day)], n)
			}
		}
		var ranking map[string]string
		eval(`Object.fromEntries([...document.querySelectorAll("#ranking tbody tr")].map(r => [r.children[0].textContent, r.children[1].textContent]))`, &ranking)
		if len(ranking) != len(tokensAPI) {
			t.Errorf("ranking %v, API %v", ranking, tokensAPI)
		}
		for who, n := range tokensAPI {
			if strings.ReplaceAll(ranking[who], ",", "") != fmt.Sprint(n) {
				t.Errorf("%s's tokens: dashboard %s, API %d", who, ranking[who], n)
			}
		}
		if total := strings.ReplaceAll(text("#total-threads"), ",", ""); total != fmt.Sprint(threads) || threads == 0 {
			t.Errorf("total threads %s, API %d", total, threads)
		}
		// The charts were drawn by uPlot from the same numbers.
		var canvases int
		eval(`document.querySelectorAll(".chart canvas").length`, &canvases)
		if canvases != 3 {
			t.Errorf("%d charts drawn, want 3", canvases)
		}
		check("analytics-dashboard")
	}

	// analytics_read only: the dashboard and no write
	{
		run("sign out", chromedp.Navigate(e.srv.URL+"/ui/acme"), chromedp.Click(chromedp.CSS(`header button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("a.sso")))
		signIn(testenv.Claims{Email: "bob@acme.test", Name: "Bob", Groups: []string{"Analysts"}})
		if got := location().Path; got != "/ui/acme/analytics" {
			t.Fatalf("bob landed on %s", got)
		}
		var nav []string
		eval(`[...document.querySelectorAll("nav a")].map(a => a.textContent)`, &nav)
		if len(nav) != 1 || nav[0] != "Analytics" {
			t.Errorf("bob's pages: %v", nav)
		}
		var posts int
		eval(`document.querySelectorAll("form[method=post]").length`, &posts)
		if posts != 1 { // sign out
			t.Errorf("bob's dashboard has %d forms that post", posts)
		}
		run("policies", chromedp.Navigate(e.srv.URL+"/ui/acme/policies"), chromedp.WaitVisible(chromedp.CSS("h1")))
		if h := text("h1"); h != "Not allowed" {
			t.Errorf("bob on the policies page: %q", h)
		}
		// A write with his own session and form token is refused.
		run("back", chromedp.Navigate(e.srv.URL+"/ui/acme/analytics"), chromedp.WaitVisible(chromedp.CSS("#usage")))
		v0, _ := e.store.Version(ctx)
		var status int
		eval(`fetch("/ui/acme/assignment/move", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "rule=1&move=down&csrf=" + encodeURIComponent(document.querySelector("input[name=csrf]").value)}).then(r => r.status)`, &status)
		if status != 403 {
			t.Errorf("bob's move: %d", status)
		}
		if v, _ := e.store.Version(ctx); v != v0 {
			t.Error("bob's refused write changed the state")
		}
		check("analytics-only")
	}
	if t.Failed() {
		return
	}
	t.Logf("screenshots in %s", shots)
}

// bearer calls the server with a bearer token.
func (e *ssoEnv) bearer(method, path, token string) (int, string) {
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// createKey makes an API key of acme with the scopes.
func (e *ssoEnv) createKey(t *testing.T, scopes ...codexgov.Scope) (string, string) {
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	if _, err := e.store.CreateAPIKey(actor(), codexgov.APIKey{ID: id, Workspace: "acme", Name: "test-" + id[len(id)-6:], Scopes: scopes, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	return secret, id
}
