package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, nil, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	return writeTemp(t, t.TempDir(), name, body)
}

func TestLintExitCodesAndJSON(t *testing.T) {
	good := writeFile(t, "good.toml", "allowed_sandbox_modes = [\"read-only\"]\n")
	warn := writeFile(t, "warn.toml", "[mcp_servers]\n")
	bad := writeFile(t, "bad.toml", "allowed_approval_policies = []\n")

	if out, _, code := runCLI(t, "requirements", "lint", good); code != 0 || out != "" {
		t.Errorf("clean file: exit %d, output %q", code, out)
	}
	out, _, code := runCLI(t, "requirements", "lint", warn)
	if code != 0 || !strings.Contains(out, warn+":1:2: warning: ") {
		t.Errorf("warnings only: exit %d (want 0), output %q", code, out)
	}
	out, _, code = runCLI(t, "requirements", "lint", "--json", good, warn, bad)
	if code != 1 {
		t.Errorf("with an error: exit %d, want 1", code)
	}
	var report struct {
		Version     int
		Codex       string
		Errors      int
		Warnings    int
		Diagnostics []struct {
			File, Severity, Code, Message string
			Line, Column                  int
			Codex                         bool
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if report.Version != 1 || report.Codex != "0.169.0" || report.Errors != 1 || report.Warnings != 1 || len(report.Diagnostics) != 2 {
		t.Fatalf("unexpected report: %+v", report)
	}
	e := report.Diagnostics[1]
	if e.File != bad || e.Line != 1 || e.Column != 29 || e.Severity != "error" || !e.Codex ||
		e.Message != "field `allowed_approval_policies` cannot be empty" {
		t.Errorf("error diagnostic: %+v", e)
	}
	if _, errOut, code := runCLI(t, "requirements", "lint", filepath.Join(t.TempDir(), "missing.toml")); code != 2 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestEffectiveCloudBundleAndMDM(t *testing.T) {
	system := writeFile(t, "requirements.toml", "allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n[features]\nc = true\n")
	bundle := writeFile(t, "bundle.json", `{"requirements_toml":{"enterprise_managed":[
		{"id":"req_1","name":"Corp","contents":"allowed_sandbox_modes = [\"read-only\"]\n[features]\na = true\n"},
		{"id":"req_2","name":"Low","contents":"[features]\nb = false\na = false\n"}]}}`)
	out, errOut, code := runCLI(t, "requirements", "effective", "--system", system, "--cloud-bundle", bundle, "--hostname", "vm")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	// The first fragment is the highest cloud layer; cloud beats the system file.
	for _, want := range []string{`"allowedSandboxModes":["read-only"]`, `"featureRequirements":{"a":true,"b":false,"c":true}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// MDM requirements sit above every other layer.
	out, _, code = runCLI(t, "requirements", "effective", "--system", system, "--mdm-requirements-base64", "YWxsb3dlZF9zYW5kYm94X21vZGVzID0gWyJyZWFkLW9ubHkiXQo=")
	if code != 0 || !strings.Contains(out, `"allowedSandboxModes":["read-only"]`) {
		t.Errorf("MDM layer: exit %d\n%s", code, out)
	}
	badBundle := writeFile(t, "bad.json", `{"requirements_toml":{"enterprise_managed":[{"id":"x","name":"y"}]}}`)
	if _, errOut, code := runCLI(t, "requirements", "effective", "--cloud-bundle", badBundle); code != 2 || !strings.Contains(errOut, "/requirements_toml/enterprise_managed/0: missing field `contents`") {
		t.Errorf("fragment without contents: exit %d, stderr %q", code, errOut)
	}
}
