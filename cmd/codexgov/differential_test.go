package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
	"github.com/codexgov/codexgov/internal/testenv/reqgen"
)

// TestDifferentialRequirements generates requirements documents (valid and
// invalid, every key of SPEC.md §2.4, some with a legacy managed_config.toml
// or cloud fragments), runs each through the real Codex binary and through
// `codexgov requirements effective`, and wants identical stdout and exit
// codes. CODEXGOV_DIFF_SEED and CODEXGOV_DIFF_CASES change the sample.
func TestDifferentialRequirements(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	seed := envInt(t, "CODEXGOV_DIFF_SEED", 20261121)
	count := envInt(t, "CODEXGOV_DIFF_CASES", 540)
	cases := reqgen.Generate(uint64(seed), count)

	bundles := sync.Map{} // case index -> bundle JSON
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idx, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/case-"), "/")
		body, ok := bundles.Load(idx)
		if !ok || rest != "backend-api/wham/config/bundle" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body.([]byte))
	}))
	defer srv.Close()
	authJSON := fakeEnterpriseAuth(t)

	var agree, total, withCloud, withManaged atomic.Int64
	covered := map[string]bool{}
	for _, c := range cases {
		for _, k := range c.Keys {
			covered[k] = true
		}
	}
	for _, k := range append(reqgen.KeyNames(), "nesting") {
		if !covered[k] {
			t.Errorf("generator never produced key %q", k)
		}
	}
	work := t.TempDir()
	t.Run("cases", func(t *testing.T) {
		for i, c := range cases {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				total.Add(1)
				caseDir := filepath.Join(work, strconv.Itoa(i))
				if err := os.MkdirAll(caseDir, 0o755); err != nil {
					t.Fatal(err)
				}
				machine := testenv.Run{Etc: map[string]string{"requirements.toml": c.System}, Args: []string{"app-server", "--print-startup-config"}, Hostname: "vm"}
				args := []string{"requirements", "effective", "--hostname", "vm", "--system", writeTemp(t, caseDir, "requirements.toml", c.System)}
				if c.Managed != "" {
					withManaged.Add(1)
					machine.Etc["managed_config.toml"] = c.Managed
					args = append(args, "--managed-config", writeTemp(t, caseDir, "managed_config.toml", c.Managed))
				}
				if len(c.Cloud) > 0 {
					withCloud.Add(1)
					body := bundleJSON(c.Cloud)
					bundles.Store(strconv.Itoa(i), body)
					machine.Home = map[string]string{
						"auth.json":   authJSON,
						"config.toml": fmt.Sprintf("chatgpt_base_url = %q\ncli_auth_credentials_store = \"file\"\n", srv.URL+"/case-"+strconv.Itoa(i)+"/backend-api/"),
					}
					args = append(args, "--cloud-bundle", writeTemp(t, caseDir, "bundle.json", string(body)))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
				defer cancel()
				want, err := oracle.Run(ctx, machine)
				if err != nil {
					t.Fatalf("oracle: %v\nstderr: %s", err, want.Stderr)
				}
				var stdout, stderr bytes.Buffer
				code := run(ctx, args, nil, &stdout, &stderr)
				if code == want.ExitCode && stdout.String() == want.Stdout {
					agree.Add(1)
					return
				}
				reportDisagreement(t, map[string]any{"case": i, "system": c.System, "managed": c.Managed, "cloud": c.Cloud,
					"codex_exit": want.ExitCode, "codex": want.Stdout, "codexgov_exit": code, "codexgov": stdout.String()})
				t.Errorf("disagreement (saved in %s)\nsystem:\n%s\nmanaged:\n%s\ncloud: %q\ncodex (exit %d):    %s\ncodexgov (exit %d): %s%s",
					caseDir, c.System, c.Managed, c.Cloud, want.ExitCode, want.Stdout, code, stdout.String(), stderr.String())
			})
		}
	})
	t.Logf("differential agreement: %d/%d cases byte-identical (seed %d; %d with cloud fragments, %d with managed_config.toml)",
		agree.Load(), total.Load(), seed, withCloud.Load(), withManaged.Load())
}

var reportMu sync.Mutex

// reportDisagreement appends a case to $CODEXGOV_DIFF_REPORT (JSON lines).
func reportDisagreement(t *testing.T, rec map[string]any) {
	path := os.Getenv("CODEXGOV_DIFF_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	line, _ := json.Marshal(rec)
	f.Write(append(line, '\n'))
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func bundleJSON(fragments []string) []byte {
	type frag struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Contents string `json:"contents"`
	}
	var fs []frag
	for i, c := range fragments {
		fs = append(fs, frag{ID: fmt.Sprintf("req_%d", i+1), Name: fmt.Sprintf("Policy %d", i+1), Contents: c})
	}
	body, _ := json.Marshal(map[string]any{"requirements_toml": map[string]any{"enterprise_managed": fs}})
	return body
}

// fakeEnterpriseAuth is a ChatGPT login on an Enterprise plan, which makes
// Codex fetch cloud requirements. Codex does not verify the token signature.
func fakeEnterpriseAuth(t *testing.T) string {
	seg := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	claims := map[string]any{
		"email": "dev@example.com",
		"exp":   time.Now().Add(30 * 24 * time.Hour).Unix(),
		"https://api.openai.com/auth": map[string]any{
			"chatgpt_plan_type": "enterprise", "chatgpt_account_id": "acc-1", "chatgpt_user_id": "user-1", "user_id": "user-1",
		},
	}
	jwt := seg(map[string]string{"alg": "none", "typ": "JWT"}) + "." + seg(claims) + ".sig"
	auth, _ := json.Marshal(map[string]any{
		"OPENAI_API_KEY": nil,
		"tokens":         map[string]any{"id_token": jwt, "access_token": jwt, "refresh_token": "rt", "account_id": "acc-1"},
		"last_refresh":   time.Now().UTC().Format(time.RFC3339),
	})
	return string(auth)
}
