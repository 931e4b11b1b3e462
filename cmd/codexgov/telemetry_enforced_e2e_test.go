package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
	"github.com/codexgov/codexgov/internal/testenv"
)

// enforcedRules is the policy of the enforced-export test: Codex forbids
// `rm -rf` when it sees it as a command of its own.
const enforcedRules = `[rules]
prefix_rules = [{ pattern = [{ token = "rm" }, { token = "-rf" }], decision = "forbidden", justification = "no recursive deletes" }]
`

// userOtelOff is the developer's own config.toml: an API-key provider
// (no ChatGPT sign-in, so no user identity in the events) and
// otel.exporter = "none", which the delivered [otel] overrides.
func userOtelOff(provider string) string {
	return fmt.Sprintf(`model_provider = "fake"
model = "gpt-fake"
[model_providers.fake]
name = "fake"
base_url = "%s"
wire_api = "responses"
env_key = "FAKE_KEY"
[otel]
exporter = "none"
metrics_exporter = "none"
trace_exporter = "none"
`, provider)
}

// execTurn runs one `codex exec` turn on the machine, with the user's
// config.toml, against the fake provider.
func execTurn(t *testing.T, m *testenv.Machine, provider, prompt string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(m.Home, "config.toml"), []byte(userOtelOff(provider)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := m.Command(ctx, "", "exec", "--skip-git-repo-check", "-s", "read-only", prompt)
	cmd.Env = append(cmd.Env, "FAKE_KEY=x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("codex exec: %v\n%s", err, out)
	}
}

// eventsOf waits for a user's events from one device until they hold a
// token usage and a bypass (Codex exports logs about once a second and
// the rest at exit).
func (e *e2e) eventsOf(t *testing.T, ws, user, device string) ([]codexgov.TelemetryEvent, map[string]int) {
	t.Helper()
	var evs []codexgov.TelemetryEvent
	types := map[string]int{}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		evs = must[[]codexgov.TelemetryEvent](t)(e.admin.TelemetryEvents(context.Background(), ws, url.Values{"user": {user}}))
		types = map[string]int{}
		for _, ev := range evs {
			if ev.Device == device {
				types[ev.Type]++
			}
		}
		if types[codexgov.TelemetryBypass] > 0 && types[codexgov.TelemetryTokenUsage] > 0 && types[codexgov.TelemetryToolResult] > 0 {
			break
		}
	}
	return evs, types
}

// checkTurn asserts what one turn produced: every event type, every event
// stamped with the token's user and machine, and the bypass naming the
// rule.
func checkTurn(t *testing.T, evs []codexgov.TelemetryEvent, types map[string]int, ws, user, device, credential string) {
	t.Helper()
	for _, typ := range []string{codexgov.TelemetrySessionStart, codexgov.TelemetryPrompt, codexgov.TelemetryTokenUsage, codexgov.TelemetryToolDecision, codexgov.TelemetryToolResult, codexgov.TelemetryBypass} {
		if types[typ] == 0 {
			t.Errorf("%s: no %s event from the real Codex (%v)", user, typ, types)
		}
	}
	for _, ev := range evs {
		if ev.Device != device || ev.Identity != "user:"+user || ev.Credential != credential || ev.Workspace != ws {
			t.Errorf("%s's events hold %s stamped %s %s %s %s", user, ev.Name, ev.Workspace, ev.Identity, ev.Credential, ev.Device)
		}
		if ev.Type == codexgov.TelemetryBypass && (!strings.Contains(fmt.Sprint(ev.Data["rule"]), "no recursive deletes") || !strings.Contains(fmt.Sprint(ev.Data["command"]), "rm -rf")) {
			t.Errorf("bypass %+v", ev.Data)
		}
	}
}

// TestTelemetryEnforcedEndToEnd: with the workspace's telemetry on, the
// real Codex 0.169.0 exports to codexgov because codexgov's delivered
// policy says so — through the configuration server (enrollment mode)
// for Ann, and through codexgov sync for Bo — although each user's own
// config.toml says otel.exporter = "none" and signs in with an API key.
func TestTelemetryEnforcedEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	ok := must[any](t)
	const ws = "acme"
	ok(e.admin.CreateWorkspace(ctx, ws, "Acme Corp"))
	ok(e.admin.CreateUser(ctx, ws, "ann@acme.test", ""))
	ok(e.admin.CreateUser(ctx, ws, "bo@acme.test", ""))
	ok(e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: enforcedRules}))
	ok(e.admin.SetAssignment(ctx, ws, codexgov.Assignment{Default: "eng"}))
	metadata, prompts := codexgov.TelemetryMetadata, codexgov.TelemetryPrompts
	ok(e.admin.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{Telemetry: &metadata}))

	t.Run("a policy's own [otel] is refused while telemetry is on", func(t *testing.T) {
		_, err := e.admin.PutPolicy(ctx, ws, codexgov.PolicyInput{Name: "eng", Requirements: enforcedRules + "[otel]\nexporter = \"none\"\n"})
		if codexgov.ErrorCode(err) != codexgov.EINVALID || !strings.Contains(err.Error(), "requirements.toml:3:2") || !strings.Contains(err.Error(), "codexgov delivers the [otel] block itself") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("configuration server", func(t *testing.T) {
		tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "ann@acme.test", Name: "ann-laptop"}))
		m := e.machine()
		e.install(m, "--enroll-token", tok.Secret)
		provider := testenv.NewFakeResponses(t, "echo codexgov-tool-ok", "rm -rf /tmp/codexgov-e2e-scratch > /dev/null")
		execTurn(t, m, provider.URL, "say hi")
		evs, types := e.eventsOf(t, ws, "ann@acme.test", "ann-laptop")
		checkTurn(t, evs, types, ws, "ann@acme.test", "ann-laptop", tok.ID)
		for _, ev := range evs {
			if ev.Type == codexgov.TelemetryPrompt && ev.Attributes["prompt"] != nil {
				t.Errorf("telemetry = metadata, yet the prompt text was kept: %v", ev.Attributes["prompt"])
			}
		}
		// The session as admin activity shows it.
		acts := must[[]codexgov.SessionActivity](t)(e.admin.TelemetryActivity(ctx, ws, url.Values{"user": {"ann@acme.test"}}))
		if len(acts) != 1 || acts[0].Device != "ann-laptop" || acts[0].Surface != "codex_exec" || acts[0].Model != "gpt-fake" || acts[0].Prompts != 1 ||
			acts[0].Tokens != int64(types[codexgov.TelemetryTokenUsage])*1290 || acts[0].ToolCalls != 2 || fmt.Sprint(acts[0].Tools) != "[exec_command]" || acts[0].Bypasses != 1 || acts[0].Approvals < 1 {
			t.Errorf("activity: %+v", acts)
		}
		t.Logf("configuration server: %d events from the real Codex (%v); activity %+v", len(evs), types, acts[0])
	})

	t.Run("codexgov sync", func(t *testing.T) {
		ok(e.admin.UpdateSettings(ctx, ws, codexgov.SettingsUpdate{Telemetry: &prompts}))
		tok := must[*codexgov.EnrollmentToken](t)(e.admin.CreateEnrollmentToken(ctx, ws, client.EnrollmentTokenRequest{User: "bo@acme.test", Name: "bo-devbox"}))
		s := e.syncMachine("bo-devbox", tok.Secret)
		s.sync(t, 0)
		req, _ := s.files(t)
		if !strings.Contains(req, "[otel]") || !strings.Contains(req, "log_user_prompt = true") || !strings.Contains(req, "Bearer cgo_") {
			t.Fatalf("the synced requirements.toml has no enforced [otel]:\n%s", req)
		}
		s.expectDevice(t, codexgov.DeviceCurrent, "eng", 1, codexgov.SyncApplied)
		// explain, reading the synced files, shows the enforced export.
		var out strings.Builder
		if code := run(ctx, []string{"explain", "--etc", s.m.Etc, "--codex-home", t.TempDir(), "--cwd", t.TempDir()}, strings.NewReader(""), &out, &out); code != 0 {
			t.Fatalf("explain: exit %d\n%s", code, out.String())
		}
		for _, want := range []string{`logs +otlp-http ` + regexp.QuoteMeta(e.url) + `/v1/logs \(binary\), headers authorization +enforced by`, `prompt text +true +enforced by`} {
			if !regexp.MustCompile(want).MatchString(out.String()) {
				t.Errorf("explain does not show %q:\n%s", want, out.String())
			}
		}
		provider := testenv.NewFakeResponses(t, "echo codexgov-tool-ok", "rm -rf /tmp/codexgov-e2e-scratch > /dev/null")
		planted := "ghp_" + strings.Repeat("Z9", 18)
		execTurn(t, s.m, provider.URL, "say hi, my token is "+planted)
		evs, types := e.eventsOf(t, ws, "bo@acme.test", "bo-devbox")
		checkTurn(t, evs, types, ws, "bo@acme.test", "bo-devbox", tok.ID)
		kept := false
		for _, ev := range evs {
			if ev.Type == codexgov.TelemetryPrompt {
				p := fmt.Sprint(ev.Attributes["prompt"])
				kept = kept || strings.Contains(p, "say hi, my token is [REDACTED")
				if strings.Contains(p, planted) {
					t.Errorf("the planted token reached the store: %s", p)
				}
			}
		}
		if !kept {
			t.Errorf("telemetry = prompts, yet no redacted prompt text was kept")
		}
		// Ann's events stay Ann's.
		for _, ev := range must[[]codexgov.TelemetryEvent](t)(e.admin.TelemetryEvents(ctx, ws, url.Values{"user": {"ann@acme.test"}})) {
			if ev.Device != "ann-laptop" {
				t.Errorf("ann's events hold one of %s", ev.Device)
			}
		}
		t.Logf("codexgov sync: %d events from the real Codex (%v)", len(evs), types)
	})
}
