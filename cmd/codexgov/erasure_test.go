package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// otlpPrompt is an OTLP/JSON logs export of one prompt and one tool call
// in a session.
func otlpPrompt(session, prompt string) []byte {
	now := fmt.Sprint(time.Now().UnixNano())
	str := func(k, v string) map[string]any {
		return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
	}
	records := []any{
		map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.user_prompt"), str("conversation.id", session), str("prompt", prompt)}},
		map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.tool_result"), str("conversation.id", session), str("tool_name", "exec_command"),
			str("call_id", "c-"+session), str("arguments", `{"cmd":"ls"}`), str("output", "ok"), str("success", "true")}},
	}
	b, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": records}}}}})
	return b
}

// TestComplianceErasure, on both databases: deleting a Codex task and
// erasing a person remove their records from the raw events and from the
// sealed files, which are re-sealed as new links of their chains; a
// folder pulled before and one pulled after both verify, neither holds
// the removed records, and everyone else's records stay. A legal hold
// refuses the deletion and nothing changes.
func TestComplianceErasure(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1}
			if backend == "postgres" {
				m.Database = testenv.PostgresSchema(t)
			}
			srvURL, key := startServer(t, m)
			admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
			admin.run(0, "workspaces", "create", "acme")
			admin.run(0, "settings", "set", "--telemetry", "prompts")
			tokens := map[string]string{}
			for _, u := range []string{"ann@acme.test", "bob@acme.test"} {
				admin.run(0, "users", "add", u)
				var tok struct {
					Secret string `json:"secret"`
				}
				admin.json(&tok, "enrollment-tokens", "issue", "--user", u, "--name", "laptop-"+u[:3])
				tokens[u] = tok.Secret
			}
			var ck struct {
				Secret string `json:"secret"`
			}
			admin.json(&ck, "api-keys", "create", "legal", "--scope", "compliance:read", "--scope", "compliance:delete")
			for _, s := range []struct{ user, session, prompt string }{
				{"ann@acme.test", "s-ann-1", "ann first secret-A1"}, {"ann@acme.test", "s-ann-2", "ann second secret-A2"}, {"bob@acme.test", "s-bob-1", "bob only secret-B1"},
			} {
				if code := postLogs(t, srvURL, tokens[s.user], otlpPrompt(s.session, s.prompt)); code != 200 {
					t.Fatalf("OTLP export: %d", code)
				}
				time.Sleep(250 * time.Millisecond) // a file each
			}
			before := t.TempDir()
			events := pullInto(t, srvURL, ck.Secret, before, "secret-B1")
			for _, want := range []string{"secret-A1", "secret-A2", "secret-B1"} {
				if !strings.Contains(events, want) {
					t.Fatalf("the first pull lacks %s:\n%s", want, events)
				}
			}
			del := func(path string) (int, string) {
				req, _ := http.NewRequest("DELETE", srvURL+"/v1/compliance/workspaces/acme/"+path, nil)
				req.Header.Set("Authorization", "Bearer "+ck.Secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, readAll(resp)
			}

			// A hold on ann refuses deleting her task; nothing changes.
			var hold struct {
				ID string `json:"id"`
			}
			admin.json(&hold, "legal-holds", "set", "--user", "ann@acme.test", "--reason", "matter 42")
			if code, body := del("codex_tasks/s-ann-1"); code != 409 || !strings.Contains(body, hold.ID) || !strings.Contains(body, "matter 42") {
				t.Fatalf("DELETE under a hold: %d %s", code, body)
			}
			// (The hold itself is an AUDIT_LOG record, sealed into a new
			// file at any moment: the Codex records are what must not move.)
			if out, _, _ := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", ck.Secret, "-w", "acme", "--out", before, "--event-type", "CODEX_LOG"); !strings.Contains(out, "pulled 0 files") {
				t.Fatalf("a refused deletion changed the CODEX_LOG files: %s", out)
			}
			admin.run(0, "legal-holds", "release", hold.ID)

			// Delete ann's first task.
			code, body := del("codex_tasks/s-ann-1")
			var res struct {
				DeletedEvents int `json:"deleted_events"`
				Files         []struct {
					ID         string `json:"id"`
					ReplacedBy string `json:"replaced_by"`
				} `json:"replaced_files"`
			}
			if code != 200 || json.Unmarshal([]byte(body), &res) != nil || res.DeletedEvents != 2 || len(res.Files) == 0 {
				t.Fatalf("DELETE codex_tasks/s-ann-1: %d %s", code, body)
			}
			if code, _ := del("codex_tasks/s-ann-1"); code != 404 {
				t.Fatalf("a deleted task deleted again: %d, want 404", code)
			}
			checkPulls(t, srvURL, ck.Secret, before, []string{"secret-A1"}, []string{"secret-A2", "secret-B1"})

			// Erase ann.
			out, _ := admin.run(0, "compliance", "erase-user", "ann@acme.test")
			if !strings.Contains(out, "re-sealed") {
				t.Fatalf("erase-user: %s", out)
			}
			checkPulls(t, srvURL, ck.Secret, before, []string{"secret-A1", "secret-A2", "ann@acme.test\",\"user_id"}, []string{"secret-B1"})

			// OpenAI's list (no include_replaced) shows no replaced file.
			req, _ := http.NewRequest("GET", srvURL+"/v1/compliance/workspaces/acme/logs?event_type=CODEX_LOG&after=1970-01-01T00:00:00Z", nil)
			req.Header.Set("Authorization", "Bearer "+ck.Secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			list := readAll(resp)
			if strings.Contains(list, "replaced_by") || !strings.Contains(list, `"file_sha256"`) {
				t.Fatalf("the list shows replaced files:\n%s", list)
			}
		})
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// pullInto pulls CODEX_LOG into dir until its records hold want, and
// returns them.
func pullInto(t *testing.T, srvURL, key, dir, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir)
		if code != 0 {
			t.Fatalf("pull: %d %s%s", code, out, errOut)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "CODEX_LOG.events.jsonl"))
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CODEX_LOG record holds %q after 15 s:\n%s", want, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkPulls pulls into the folder pulled before the deletion and into a
// new one: both verify, neither holds a gone text (in any file), both
// hold every kept one.
func checkPulls(t *testing.T, srvURL, key, before string, gone, kept []string) {
	t.Helper()
	fresh := t.TempDir()
	for _, dir := range []string{before, fresh} {
		out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir)
		if code != 0 {
			t.Fatalf("pull: %d %s%s", code, out, errOut)
		}
		if out, errOut, code := runCLI(t, "compliance", "verify", dir); code != 0 {
			t.Fatalf("verify %s after the deletion: %d %s%s", dir, code, out, errOut)
		}
		entries, _ := os.ReadDir(dir)
		var all strings.Builder
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && !strings.HasSuffix(e.Name(), ".manifest.json") {
				all.Write(b)
			}
		}
		for _, g := range gone {
			if strings.Contains(all.String(), g) {
				t.Errorf("%s still holds %q after the deletion", dir, g)
			}
		}
		for _, k := range kept {
			if !strings.Contains(all.String(), k) {
				t.Errorf("%s lost %q, which no deletion named", dir, k)
			}
		}
	}
}
