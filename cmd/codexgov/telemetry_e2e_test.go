package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

// TestTelemetryFromRealCodex: the real Codex 0.169.0 runs one `codex exec`
// turn against a loopback fake provider that makes one tool call, with
// `[otel]` in /etc/codex/requirements.toml exporting to codexgov with a
// machine's enrollment token (an API-key Codex: the payload names no
// user) — while the user's own config says
// `otel.exporter = "none"`. The receiver stores a session, a prompt, token
// usage, a tool decision and tool results, every one stamped with the
// token's user and machine; the second tool call ran `rm -rf` behind a
// redirect, which Codex does not split, and the policy's forbidden rule
// names it as a bypass. Ann's machine exports JSON and Bo's protobuf; each
// sees only their own events.
func TestTelemetryFromRealCodex(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	srvURL, key := startServer(t, &Main{DataDir: t.TempDir()})
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "users", "add", "ann@acme.test")
	admin.run(0, "users", "add", "bo@acme.test")
	admin.run(0, "users", "add", "cy@acme.test")
	const rules = `[rules]
prefix_rules = [{ pattern = [{ token = "rm" }, { token = "-rf" }], decision = "forbidden", justification = "no recursive deletes" }]
`
	dir := t.TempDir()
	admin.run(0, "policies", "put", "eng", "--requirements", writeTemp(t, dir, "eng.toml", rules))
	admin.run(0, "assignment", "set", "--default", "eng")
	// The first call is one Codex approves from its config (a tool
	// decision); the second runs a forbidden command behind a redirect.
	provider := testenv.NewFakeResponses(t, "echo codexgov-tool-ok", "rm -rf /tmp/codexgov-e2e-scratch > /dev/null")

	// Ann's machine exports JSON, Bo's protobuf: two users kept apart.
	// Cy's [otel] is in the legacy managed_config.toml instead: Codex
	// honours it there too, over the user's own.
	for _, c := range []struct{ protocol, user, file string }{{"json", "ann@acme.test", "requirements.toml"}, {"binary", "bo@acme.test", "requirements.toml"}, {"json", "cy@acme.test", "managed_config.toml"}} {
		protocol := c.protocol
		if c.file != "requirements.toml" {
			protocol = "managed"
		}
		t.Run(protocol, func(t *testing.T) {
			var tok codexgov.EnrollmentToken
			admin.json(&tok, "enrollment-tokens", "issue", "--user", c.user, "--name", "laptop-"+protocol)
			otel := fmt.Sprintf(`[otel]
environment = "e2e"
exporter = { otlp-http = { endpoint = "%s/v1/logs", protocol = "%s", headers = { authorization = "Bearer %s" } } }
`, srvURL, c.protocol, tok.Secret)
			etc := map[string]string{"requirements.toml": rules + otel}
			if c.file != "requirements.toml" {
				etc = map[string]string{"requirements.toml": rules, c.file: otel}
			}
			user := userOtelOff(provider.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := oracle.Run(ctx, testenv.Run{Etc: etc, Home: map[string]string{"config.toml": user},
				Env: []string{"FAKE_KEY=x"}, Args: []string{"exec", "--skip-git-repo-check", "-s", "read-only", "say hi"}, Timeout: 2 * time.Minute})
			if err != nil {
				t.Fatalf("codex exec: %v\n%s", err, res.Stderr)
			}
			if res.ExitCode != 0 {
				t.Fatalf("codex exec: exit %d\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
			}
			var evs []codexgov.TelemetryEvent
			types := map[string]int{}
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
				evs = nil
				admin.json(&evs, "events", "--user", c.user)
				types = map[string]int{}
				for _, e := range evs {
					if e.Device == "laptop-"+protocol {
						types[e.Type]++
					}
				}
				if types[codexgov.TelemetryBypass] > 0 && types[codexgov.TelemetryTokenUsage] > 0 {
					break
				}
			}
			for _, typ := range []string{codexgov.TelemetrySessionStart, codexgov.TelemetryPrompt, codexgov.TelemetryTokenUsage, codexgov.TelemetryToolDecision, codexgov.TelemetryToolResult, codexgov.TelemetryBypass} {
				if types[typ] == 0 {
					t.Errorf("no %s event from the real Codex (%v)", typ, types)
				}
			}
			for _, e := range evs {
				if e.Device != "laptop-"+protocol {
					t.Errorf("%s's events hold one from %q", c.user, e.Device)
					continue
				}
				if e.Identity != "user:"+c.user || e.Credential != tok.ID || e.Workspace != "acme" {
					t.Errorf("%s stamped %s %s %s", e.Name, e.Workspace, e.Identity, e.Credential)
				}
				if e.Type == codexgov.TelemetryBypass && (!strings.Contains(fmt.Sprint(e.Data["rule"]), "no recursive deletes") || !strings.Contains(fmt.Sprint(e.Data["command"]), "rm -rf")) {
					t.Errorf("bypass %+v", e.Data)
				}
				if e.Type == codexgov.TelemetryTokenUsage && fmt.Sprint(e.Data["total_tokens"]) != "1290" {
					t.Errorf("token usage %+v, want the provider's 1290 total", e.Data)
				}
			}
			t.Logf("%s: %d events from the real Codex stamped laptop-%s (%v)", protocol, len(evs), protocol, types)
		})
	}
}
