package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

// TestComplianceFromRealCodex: a server fed by one real Codex 0.169.0 turn
// (exporting with its enrollment token) seals CODEX_LOG,
// CODEX_SECURITY_LOG, AUDIT_LOG and AUTH_LOG files, and a client written
// from OpenAI's published protocol with curl and jq (testdata/compliance/
// pull.sh: list → 307 → download → last_end_time) pulls every file, by the
// workspace's UUID and by its ID; each file matches its sha256 and every
// record has the envelope.
func TestComplianceFromRealCodex(t *testing.T) {
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s is not installed; make test installs it", tool)
		}
	}
	oracle := testenv.CodexOracle(t)
	var skew atomic.Int64
	m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	srvURL, key := startServer(t, m)
	admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
	admin.run(0, "workspaces", "create", "acme")
	admin.run(0, "workspaces", "create", "other")
	admin.run(0, "users", "add", "ann@acme.test")
	dir := t.TempDir()
	admin.run(0, "policies", "put", "eng", "--requirements", writeTemp(t, dir, "eng.toml", enforcedRules))
	admin.run(0, "assignment", "set", "--default", "eng")
	var tok codexgov.EnrollmentToken
	admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "ann-laptop")
	var ck struct {
		Secret string `json:"secret"`
	}
	admin.json(&ck, "api-keys", "create", "siem", "--scope", "compliance:read")
	var ws codexgov.Workspace
	admin.json(&ws, "workspaces", "get")

	provider := testenv.NewFakeResponses(t, "echo codexgov-tool-ok", "rm -rf /tmp/codexgov-e2e-scratch > /dev/null")
	otel := fmt.Sprintf("[otel]\nexporter = { otlp-http = { endpoint = \"%s/v1/logs\", protocol = \"binary\", headers = { authorization = \"Bearer %s\" } } }\n", srvURL, tok.Secret)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := oracle.Run(ctx, testenv.Run{Etc: map[string]string{"requirements.toml": enforcedRules + otel}, Home: map[string]string{"config.toml": userOtelOff(provider.URL)},
		Env: []string{"FAKE_KEY=x"}, Args: []string{"exec", "--skip-git-repo-check", "-s", "read-only", "say hi"}, Timeout: 2 * time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("codex exec: %v %d\n%s", err, res.ExitCode, res.Stderr)
	}

	// Wait until the turn is sealed: max_event_time names both Codex types.
	get := func(path, bearer string) (int, string) {
		req, _ := http.NewRequest("GET", srvURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		return resp.StatusCode, b.String()
	}
	var max struct {
		MaxEventTime map[string]*string `json:"max_event_time"`
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		_, body := get("/v1/compliance/workspaces/"+ws.UUID+"/max_event_time?event_type=CODEX_LOG&event_type=CODEX_SECURITY_LOG&event_type=AUTH_LOG", ck.Secret)
		json.Unmarshal([]byte(body), &max)
		if max.MaxEventTime["CODEX_LOG"] != nil && max.MaxEventTime["CODEX_SECURITY_LOG"] != nil && max.MaxEventTime["AUTH_LOG"] != nil {
			break
		}
	}
	if max.MaxEventTime["CODEX_LOG"] == nil || max.MaxEventTime["CODEX_SECURITY_LOG"] == nil {
		t.Fatalf("the turn was not sealed: %+v", max)
	}

	types := []string{"CODEX_LOG", "CODEX_SECURITY_LOG", "AUDIT_LOG", "AUTH_LOG"}
	for _, ref := range []string{ws.UUID, ws.ID} {
		out := filepath.Join(t.TempDir(), "pull")
		cmd := exec.Command("bash", append([]string{filepath.Join("testdata", "compliance", "pull.sh"), srvURL, ref, ck.Secret, out}, types...)...)
		log, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pull.sh by %s: %v\n%s", ref, err, log)
		}
		details := map[string]int{}
		files := 0
		for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("pull.sh printed %q", line)
			}
			files++
			b, err := os.ReadFile(filepath.Join(out, f[1]))
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var r map[string]any
				if err := json.Unmarshal([]byte(rec), &r); err != nil {
					t.Fatalf("%s: %q: %v", f[1], rec, err)
				}
				for _, k := range []string{"event_id", "type", "timestamp", "principal", "actor", "event_type", "client_id", "workspace_id", "request_metadata", "event_details"} {
					if _, ok := r[k]; !ok {
						t.Errorf("%s: a record without %s: %s", f[1], k, rec)
					}
				}
				// Every record here came over HTTP from this machine.
				if md, _ := r["request_metadata"].(map[string]any); md["client_ip"] != "127.0.0.1" {
					t.Errorf("%s: a record whose request_metadata does not name 127.0.0.1: %s", f[1], rec)
				}
				if r["event_type"] != f[0] || r["workspace_id"] != ws.UUID {
					t.Errorf("%s: a %v record of workspace %v in a %s file", f[1], r["event_type"], r["workspace_id"], f[0])
				}
				details[f[0]+"/"+fmt.Sprint(r["event_details"].(map[string]any)["detail_type"])]++
			}
		}
		for _, want := range []string{"CODEX_LOG/PROMPT_RESPONSE_RECEIVED", "CODEX_LOG/TOOL_CALL_COMPLETED", "CODEX_LOG/TOOL_APPROVAL_DECISION", "CODEX_SECURITY_LOG/COMMAND_BYPASSED_POLICY",
			"AUDIT_LOG/POLICY_PUT", "AUDIT_LOG/WORKSPACE_CREATE", "AUTH_LOG/ENROLLMENT_TOKEN_CREATE", "AUTH_LOG/API_KEY_CREATE"} {
			if details[want] == 0 {
				t.Errorf("by %s: no %s record in %d files (%v)", ref, want, files, details)
			}
		}
		t.Logf("by %s: %d files, records %v", ref, files, details)
	}

	// The turn is a task: prompts are not kept here, so its title is
	// (redacted); it names its user.
	code, body := get("/v1/compliance/workspaces/"+ws.UUID+"/codex_tasks?limit=30", ck.Secret)
	var tasks codexgov.TaskPage
	if json.Unmarshal([]byte(body), &tasks); code != 200 || len(tasks.Data) != 1 || tasks.Data[0].Title != "(redacted)" || !strings.HasPrefix(tasks.Data[0].CreatedByID, "usr_") || tasks.HasMore {
		t.Errorf("codex_tasks: %d %s", code, body)
	} else if code, body := get("/v1/compliance/workspaces/"+ws.ID+"/codex_tasks/"+tasks.Data[0].ID, ck.Secret); code != 200 || !strings.Contains(body, tasks.Data[0].ID) {
		t.Errorf("codex_tasks/{id}: %d %s", code, body)
	}

	// The signed URL needs no bearer token, and expires within a minute;
	// another workspace's key sees no such workspace.
	code, body = get("/v1/compliance/workspaces/"+ws.UUID+"/logs?event_type=AUDIT_LOG&after=1970-01-01T00:00:00Z", ck.Secret)
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(body), &list); code != 200 || len(list.Data) == 0 {
		t.Fatalf("list: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", srvURL+"/v1/compliance/workspaces/"+ws.UUID+"/logs/"+list.Data[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+ck.Secret)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || resp.StatusCode != 307 {
		t.Fatalf("file: %v %v", err, resp)
	}
	resp.Body.Close()
	signed := resp.Header.Get("Location")
	if r, err := http.Get(signed); err != nil || r.StatusCode != 200 {
		t.Errorf("the signed URL without a bearer token: %v %v", err, r)
	} else {
		r.Body.Close()
	}
	skew.Store(int64(2 * time.Minute))
	if r, err := http.Get(signed); err != nil || r.StatusCode != 404 {
		t.Errorf("the signed URL two minutes later: %v %v", err, r)
	} else {
		r.Body.Close()
	}
	skew.Store(0)
	var other struct {
		Secret string `json:"secret"`
	}
	(cli{t: t, server: srvURL, token: key, ws: "other"}).json(&other, "api-keys", "create", "siem", "--scope", "compliance:read")
	for _, ref := range []string{ws.UUID, ws.ID} {
		if code, _ := get("/v1/compliance/workspaces/"+ref+"/logs?event_type=AUDIT_LOG&after=1970-01-01T00:00:00Z", other.Secret); code != 404 {
			t.Errorf("another workspace's key listed acme's files by %s: %d", ref, code)
		}
	}
	if code, body := get("/v1/compliance/workspaces/"+ws.UUID+"/logs?event_type=NOPE&after=1970-01-01T00:00:00Z", ck.Secret); code != 400 || !strings.Contains(body, "?event_type") {
		t.Errorf("a bad event_type: %d %s", code, body)
	}
	if code, body := get("/v1/compliance/workspaces/"+ws.UUID+"/logs?event_type=AUDIT_LOG", ck.Secret); code != 400 || !strings.Contains(body, "?after") {
		t.Errorf("no after: %d %s", code, body)
	}
}
