package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"howett.net/plist"
)

// TestMDMProfile makes profiles from a real server's policies and checks
// them with a plist parser, with `codexgov requirements effective` and
// with `codexgov mdm inspect`.
func TestMDMProfile(t *testing.T) {
	m := &Main{DataDir: t.TempDir()}
	srv, key := startServer(t, m)
	c := cli{t: t, server: srv, token: key, ws: "acme"}
	c.run(0, "workspaces", "create", "acme", "--name", "Acme Corp")
	c.run(0, "users", "add", "alice@acme.test")
	c.run(0, "groups", "create", "eng")
	c.run(0, "groups", "add-member", "eng", "alice@acme.test")
	dir := t.TempDir()
	req := writeFile(t, "eng.toml", engTOML)
	def := writeFile(t, "eng-defaults.toml", engDefaults)
	c.run(0, "policies", "put", "eng", "--requirements", req, "--defaults", def)
	c.run(0, "policies", "put", "floor", "--requirements", writeFile(t, "floor.toml", floorTOML))
	c.run(0, "assignment", "set", "--rule", "eng=eng", "--baseline", "floor")
	admin := []string{"--server", srv, "--token", key, "-w", "acme"}

	profile := func(want int, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := runCLI(t, append(append([]string{"mdm", "profile"}, admin...), args...)...)
		if code != want {
			t.Fatalf("mdm profile %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out, errOut
	}
	type payload struct {
		PayloadType  string `plist:"PayloadType"`
		Requirements string `plist:"requirements_toml_base64"`
		Config       string `plist:"config_toml_base64"`
	}
	type top struct {
		PayloadIdentifier string    `plist:"PayloadIdentifier"`
		PayloadScope      string    `plist:"PayloadScope"`
		PayloadContent    []payload `plist:"PayloadContent"`
	}
	decode := func(file string) (top, string, string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var p top
		if _, err := plist.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s does not parse as a plist: %v", file, err)
		}
		if len(p.PayloadContent) != 1 || p.PayloadContent[0].PayloadType != "com.openai.codex" || p.PayloadScope != "System" {
			t.Fatalf("%s: %+v", file, p)
		}
		r, _ := base64.StdEncoding.DecodeString(p.PayloadContent[0].Requirements)
		d, _ := base64.StdEncoding.DecodeString(p.PayloadContent[0].Config)
		return p, string(r), string(d)
	}
	// effective is `codexgov requirements effective` on the decoded
	// payloads as MDM layers: it must accept them.
	effective := func(p top) string {
		t.Helper()
		args := []string{"requirements", "effective", "--codex-dir", dir}
		if v := p.PayloadContent[0].Requirements; v != "" {
			args = append(args, "--mdm-requirements-base64", v)
		}
		if v := p.PayloadContent[0].Config; v != "" {
			args = append(args, "--mdm-config-base64", v)
		}
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("requirements effective refused the profile's TOML: %d %s %s", code, out, errOut)
		}
		return out
	}

	t.Run("group", func(t *testing.T) {
		f := filepath.Join(dir, "eng.mobileconfig")
		if _, errOut := profile(0, "--group", "eng", "-o", f, "--organization", "Acme Corp"); !strings.Contains(errOut, "Codex policy eng v1") {
			t.Errorf("stderr: %s", errOut)
		}
		p, r, d := decode(f)
		if r != engTOML || d != engDefaults || p.PayloadIdentifier != "com.codexgov.acme.eng" {
			t.Errorf("payloads: %q %q %s", r, d, p.PayloadIdentifier)
		}
		eff := effective(p)
		if !strings.Contains(eff, `"allowedSandboxModes":["read-only","workspace-write"]`) {
			t.Errorf("effective: %s", eff)
		}
		out, errOut, code := runCLI(t, "mdm", "inspect", f)
		if code != 0 || !strings.Contains(out, "# requirements_toml_base64\n"+engTOML) || !strings.Contains(out, "# config_toml_base64\n"+engDefaults) ||
			!strings.Contains(out, strings.TrimSpace(eff)) || !strings.Contains(out, "(not signed)") {
			t.Errorf("inspect: %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("user, to standard output", func(t *testing.T) {
		out, _ := profile(0, "--email", "alice@acme.test")
		f := writeFile(t, "alice.mobileconfig", out)
		p, r, _ := decode(f)
		if r != engTOML || p.PayloadIdentifier != "com.codexgov.acme.alice-acme-test" {
			t.Errorf("alice: %q %s", r, p.PayloadIdentifier)
		}
	})

	t.Run("baseline, and the native bootstrap", func(t *testing.T) {
		f := filepath.Join(dir, "floor.mobileconfig")
		profile(0, "--baseline", "-o", f)
		p, r, d := decode(f)
		if r != floorTOML || d != "" || p.PayloadContent[0].Config != "" {
			t.Errorf("baseline: %q %q", r, d)
		}
		effective(p)
		n := filepath.Join(dir, "native.mobileconfig")
		profile(0, "--baseline", "--native", "https://codexgov.acme.test", "-o", n)
		p, r, _ = decode(n)
		if !strings.Contains(r, floorTOML) || !strings.Contains(r, "[config_server]\nbase_url = \"https://codexgov.acme.test/codex-config/acme\"") {
			t.Errorf("native bootstrap:\n%s", r)
		}
		var inspected map[string]any
		out, _, code := runCLI(t, "mdm", "inspect", "--json", n)
		if err := json.Unmarshal([]byte(out), &inspected); err != nil || code != 0 || inspected["valid"] != true {
			t.Errorf("inspect --json: %d %v %s", code, err, out)
		}
	})

	t.Run("signed", func(t *testing.T) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Acme MDM Signing"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		kder, _ := x509.MarshalECPrivateKey(key)
		certFile := writeFile(t, "sign.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
		keyFile := writeFile(t, "sign.key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
		f := filepath.Join(dir, "signed.mobileconfig")
		// Both spellings: --sign CERT KEY (as the issue names it) and
		// --sign CERT,KEY.
		for _, args := range [][]string{{"--sign", certFile, keyFile}, {"--sign", certFile + "," + keyFile}} {
			os.Remove(f)
			profile(0, append([]string{"--group", "eng", "-o", f}, args...)...)
			out, errOut, code := runCLI(t, "mdm", "inspect", f)
			if code != 0 || !strings.Contains(out, "signed by:    CN=Acme MDM Signing") || !strings.Contains(out, engTOML) {
				t.Errorf("inspect signed (%v): %d\n%s%s", args, code, out, errOut)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--group", "eng", "--baseline"}, "exactly one of"},
			{[]string{"--group", "eng", "--native", "https://x.test"}, "use it with --baseline"},
			{[]string{"--group", "nobody"}, "not found"},
			{[]string{"--requirements", writeFile(t, "bad.toml", "allowed_sandbox_modes = [\"workspace-write\"]\n"), "-o", filepath.Join(dir, "bad.mobileconfig")}, "refuse to start"},
		} {
			out, errOut, code := runCLI(t, append(append([]string{"mdm", "profile"}, admin...), c.args...)...)
			if code == 0 || !strings.Contains(out+errOut, c.want) {
				t.Errorf("%v: %d %s%s", c.args, code, out, errOut)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "bad.mobileconfig")); err == nil {
			t.Errorf("a refused profile was written")
		}
		// A profile whose TOML Codex refuses is reported by inspect.
		bad := strings.Replace(string(must[[]byte](t)(os.ReadFile(filepath.Join(dir, "eng.mobileconfig")))),
			base64.StdEncoding.EncodeToString([]byte(engTOML)), base64.StdEncoding.EncodeToString([]byte("allowed_sandbox_modes = [\"workspace-write\"]\n")), 1)
		_, errOut, code := runCLI(t, "mdm", "inspect", writeFile(t, "bad.mobileconfig", bad))
		if code != 1 || !strings.Contains(errOut, "refuse to start") || !strings.Contains(errOut, "read-only") {
			t.Errorf("inspect of an invalid profile: %d %s", code, errOut)
		}
	})

	// With the workspace's telemetry on, a user's profile carries the
	// enforced [otel] block with that user's own telemetry token, which
	// the receiver accepts and stamps with the user and the named machine;
	// a group's or the baseline's profile is refused.
	t.Run("telemetry on", func(t *testing.T) {
		c.run(0, "settings", "set", "--telemetry", "metadata")
		for _, args := range [][]string{{"--group", "eng"}, {"--baseline"}} {
			_, errOut := profile(1, args...)
			if !strings.Contains(errOut, "cannot carry each user's own telemetry token") {
				t.Errorf("%v: %s", args, errOut)
			}
		}
		out, _ := profile(0, "--email", "alice@acme.test", "--device", "alice-mac")
		p, r, _ := decode(writeFile(t, "alice-otel.mobileconfig", out))
		tok := regexp.MustCompile(`Bearer (cgo_[A-Za-z0-9_\-.]+)`).FindStringSubmatch(r)
		if !strings.HasPrefix(r, strings.TrimRight(engTOML, "\n")+"\n\n") || !strings.Contains(r, "[otel]") || tok == nil || !strings.Contains(r, srv+"/v1/logs") {
			t.Fatalf("alice's profile requirements:\n%s", r)
		}
		effective(p)
		batch := []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"observedTimeUnixNano":"` + fmt.Sprint(time.Now().UnixNano()) + `","attributes":[{"key":"event.name","value":{"stringValue":"codex.user_prompt"}}]}]}]}]}`)
		send := func(secret string) int { return postLogs(t, srv, secret, batch) }
		if code := send(tok[1]); code != 200 {
			t.Fatalf("the profile's telemetry token: %d", code)
		}
		var evs []codexgov.TelemetryEvent
		c.json(&evs, "events", "--user", "alice@acme.test")
		if len(evs) != 1 || evs[0].Device != "alice-mac" || evs[0].Identity != "user:alice@acme.test" {
			t.Errorf("events: %+v", evs)
		}
		// The token sends telemetry and nothing else; a forged one, or one
		// of a deactivated user, is refused.
		req, _ := http.NewRequest("GET", srv+"/api/v1/client/requirements", nil)
		req.Header.Set("Authorization", "Bearer "+tok[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("a telemetry token read the client requirements: %d", resp.StatusCode)
		}
		if code := send(tok[1][:len(tok[1])-2] + "xx"); code != 401 {
			t.Errorf("a forged telemetry token: %d", code)
		}
		c.run(0, "users", "deactivate", "alice@acme.test")
		if code := send(tok[1]); code != 401 {
			t.Errorf("a deactivated user's telemetry token: %d", code)
		}
		var audit codexgov.AuditPage
		c.json(&audit, "audit", "--limit", "20")
		minted := false
		for _, ev := range audit.Events {
			minted = minted || ev.Action == "telemetry_token.mint"
			if strings.Contains(string(ev.After), "cgo_") {
				t.Errorf("the audit log holds a telemetry token: %s", ev.After)
			}
		}
		if !minted {
			t.Errorf("minting the token was not audited")
		}
	})
}
