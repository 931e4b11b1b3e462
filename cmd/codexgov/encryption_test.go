package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestContentEncryptedAtRest: prompt and tool texts planted through OTLP
// are stored, sealed and served back in clear through the Compliance API,
// yet appear nowhere in clear in the database's files (SQLite: the whole
// data folder; PostgreSQL: its whole data directory after a CHECKPOINT).
// Rotating the master key re-wraps the data keys, leaves every encrypted
// row byte for byte as it was, and the restarted server serves the same
// records.
func TestContentEncryptedAtRest(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			m := &Main{DataDir: t.TempDir(), ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1}
			driver, dsn := "sqlite", filepath.Join(m.DataDir, "codexgov.db")
			if backend == "postgres" {
				m.Database = testenv.PostgresSchema(t)
				driver, dsn = "pgx", m.Database
			}
			srvURL, key := startServer(t, m)
			admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
			admin.run(0, "workspaces", "create", "acme")
			admin.run(0, "users", "add", "ann@acme.test")
			admin.run(0, "settings", "set", "--telemetry", "prompts")
			var tok, ck struct {
				Secret string `json:"secret"`
			}
			admin.json(&tok, "enrollment-tokens", "issue", "--user", "ann@acme.test", "--name", "laptop-7")
			admin.json(&ck, "api-keys", "create", "siem", "--scope", "compliance:read")

			nonce := make([]byte, 12)
			rand.Read(nonce)
			planted := "planted-" + hex.EncodeToString(nonce)
			now := fmt.Sprint(time.Now().UnixNano())
			str := func(k, v string) map[string]any {
				return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
			}
			records := []any{
				map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.user_prompt"), str("conversation.id", "sess-enc"), str("prompt", "ship "+planted+" today")}},
				map[string]any{"observedTimeUnixNano": now, "attributes": []any{str("event.name", "codex.tool_result"), str("conversation.id", "sess-enc"), str("tool_name", "exec_command"),
					str("call_id", "c1"), str("arguments", `{"cmd":"echo `+planted+`"}`), str("output", planted+" done"), str("success", "true")}},
			}
			body, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": records}}}}})
			if code := postLogs(t, srvURL, tok.Secret, body); code != 200 {
				t.Fatalf("OTLP export: %d", code)
			}

			// Served back in clear, from the sealed file and the raw events.
			events := pullUntil(t, srvURL, ck.Secret, planted)
			if n := strings.Count(events, planted); n < 3 {
				t.Fatalf("the pulled CODEX_LOG records carry the planted text %d times, want the prompt, the tool input and its output:\n%s", n, events)
			}
			title := taskTitle(t, srvURL, ck.Secret, "sess-enc")
			if !strings.Contains(title, planted) {
				t.Fatalf("the task's title is %q, want the planted prompt", title)
			}

			// Nowhere in clear in the database's files.
			root := m.DataDir
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if backend == "postgres" {
				if _, err := db.Exec(`CHECKPOINT`); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRow(`SHOW data_directory`).Scan(&root); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(root, "PG_VERSION")); err != nil {
					testenv.Missing(t, "PostgreSQL's data directory %s is not readable here (%v): the at-rest grep needs a local cluster", root, err)
				}
			}
			scanned := grepTree(t, root, planted)
			t.Logf("%s: scanned %d KB of database files for the planted text", backend, scanned>>10)

			// Rotation re-wraps the data keys only.
			before := digestRows(t, db, `SELECT data FROM compliance_chunks ORDER BY file_id, n`) + digestRows(t, db, `SELECT attributes FROM telemetry_events ORDER BY event_id`)
			wrappedBefore := digestRows(t, db, `SELECT wrapped FROM data_keys ORDER BY id`)
			m.Close()
			newKey := filepath.Join(t.TempDir(), "new.key")
			k := make([]byte, 32)
			rand.Read(k)
			os.WriteFile(newKey, k, 0o600)
			args := []string{"server", "rotate-master-key", "--data-dir", m.DataDir, "--new-master-key-file", newKey}
			if m.Database != "" {
				args = append(args, "--database", m.Database)
			}
			out, errOut, code := runCLI(t, args...)
			if code != 0 || !strings.Contains(out, "re-wrapped 1 data key(s)") {
				t.Fatalf("rotate-master-key: %d %s%s", code, out, errOut)
			}
			if after := digestRows(t, db, `SELECT data FROM compliance_chunks ORDER BY file_id, n`) + digestRows(t, db, `SELECT attributes FROM telemetry_events ORDER BY event_id`); after != before {
				t.Fatal("the rotation rewrote encrypted content; it should re-wrap the data keys only")
			}
			if digestRows(t, db, `SELECT wrapped FROM data_keys ORDER BY id`) == wrappedBefore {
				t.Fatal("the rotation left the data keys wrapped as they were")
			}
			if got, _ := os.ReadFile(filepath.Join(m.DataDir, "master.key")); !bytes.Equal(got, k) {
				t.Fatal("master.key does not hold the new key after the rotation")
			}
			m2 := &Main{DataDir: m.DataDir, Database: m.Database, ComplianceSealInterval: 100 * time.Millisecond, ComplianceGrace: -1}
			srv2, _ := startServer(t, m2)
			if again := pullUntil(t, srv2, ck.Secret, planted); again != events {
				t.Fatalf("after the rotation the pulled records differ:\n%s\nwant\n%s", again, events)
			}
			if got := taskTitle(t, srv2, ck.Secret, "sess-enc"); got != title {
				t.Fatalf("after the rotation the task's title is %q, want %q", got, title)
			}
		})
	}
}

// pullUntil pulls the workspace's CODEX_LOG records into a new folder
// until they hold want (sealing runs every 100 ms), and returns them.
func pullUntil(t *testing.T, srvURL, key, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		dir := t.TempDir()
		out, errOut, code := runCLI(t, "compliance", "pull", "--server", srvURL, "--token", key, "-w", "acme", "--out", dir, "--event-type", "CODEX_LOG")
		if code != 0 {
			t.Fatalf("pull: %d %s%s", code, out, errOut)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "CODEX_LOG.events.jsonl"))
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sealed CODEX_LOG file holds %q after 15 s; pulled:\n%s", want, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func taskTitle(t *testing.T, srvURL, key, id string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", srvURL+"/v1/compliance/workspaces/acme/codex_tasks/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var task struct {
		Title string `json:"title"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&task) != nil {
		t.Fatalf("GET codex_tasks/%s: %s", id, resp.Status)
	}
	return task.Title
}

// grepTree fails the test if any file under root holds needle, and
// returns how many bytes it read.
func grepTree(t *testing.T, root, needle string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		total += int64(len(b))
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s holds the planted content in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 {
		t.Fatalf("no file read under %s", root)
	}
	return total
}

func digestRows(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		h.Write(b)
		h.Write([]byte{0})
		n++
	}
	if n == 0 {
		t.Fatalf("%s: no rows", q)
	}
	return hex.EncodeToString(h.Sum(nil))
}
