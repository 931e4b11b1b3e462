package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// depthDocs are the nesting forms at depths around the limits.
func depthDocs() []struct{ name, doc, managed string } {
	var out []struct{ name, doc, managed string }
	add := func(name, doc, managed string) {
		out = append(out, struct{ name, doc, managed string }{name, doc, managed})
	}
	for _, d := range []int{40, 41, 79, 80, 81, 82, 1000} {
		add(fmt.Sprintf("array-%d", d), "x = "+strings.Repeat("[", d)+"1"+strings.Repeat("]", d)+"\n", "")
		add(fmt.Sprintf("itable-%d", d), "x = "+strings.Repeat("{a=", d)+"1"+strings.Repeat("}", d)+"\n", "")
		add(fmt.Sprintf("dotted-%d", d), strings.Repeat("a.", d-1)+"a = 1\n", "")
		add(fmt.Sprintf("header-%d", d), "["+strings.Repeat("a.", d-1)+"a]\nb = 1\n", "")
		add(fmt.Sprintf("aoit-%d", d), "x = "+strings.Repeat("[{a=", d)+"1"+strings.Repeat("}]", d)+"\n", "")
		add(fmt.Sprintf("managed-itable-%d", d), "", "x = "+strings.Repeat("{a=", d)+"1"+strings.Repeat("}", d)+"\n")
		add(fmt.Sprintf("managed-dotted-%d", d), "", strings.Repeat("a.", d-1)+"a = 1\n")
	}
	{
		add("hdr40-itable41", "["+strings.Repeat("a.", 39)+"a]\nb = "+strings.Repeat("{a=", 41)+"1"+strings.Repeat("}", 41)+"\n", "")
		add("hdr79-dotted2", "["+strings.Repeat("a.", 78)+"a]\nb.c = 1\n", "")
		add("hdr79-dotted1", "["+strings.Repeat("a.", 78)+"a]\nb = 1\n", "")
		add("hdr80-empty", "["+strings.Repeat("a.", 79)+"a]\n", "")
		add("hdr81-empty", "["+strings.Repeat("a.", 80)+"a]\n", "")
		add("itable-dotted81", "x = {"+strings.Repeat("a.", 80)+"a = 1}\n", "")
		add("itable-dotted80", "x = {"+strings.Repeat("a.", 79)+"a = 1}\n", "")
		add("arr80-in-hdr", "[t]\nx = "+strings.Repeat("[", 80)+"1"+strings.Repeat("]", 80)+"\n", "")
		add("arr79-itable", "x = "+strings.Repeat("[", 79)+"{a=1}"+strings.Repeat("]", 79)+"\n", "")
		add("aot-header81", "[["+strings.Repeat("a.", 80)+"a]]\nb = 1\n", "")
		add("aot-header80", "[["+strings.Repeat("a.", 79)+"a]]\nb = 1\n", "")
		add("array-81-multiline", "x = [\n"+strings.Repeat("[", 80)+"1"+strings.Repeat("]", 80)+"\n]\n", "")
		add("known-key-itable81", "allowed_sandbox_modes = "+strings.Repeat("[", 81)+"1"+strings.Repeat("]", 81)+"\n", "")
		add("managed-array81", "", "x = "+strings.Repeat("[", 81)+"1"+strings.Repeat("]", 81)+"\n")
		add("managed-header81", "", "["+strings.Repeat("a.", 80)+"a]\nb = 1\n")
	}
	return out
}

// TestTOMLLimitsMatchCodex: documents nested around the limits of Codex's
// TOML reader (arrays and inline tables 80 deep, keys of 80 parts; see
// toml.MaxValueDepth and toml.MaxKeySegments), in requirements.toml and
// managed_config.toml, read by the real Codex 0.169.0 and by `codexgov
// requirements effective`: byte-identical output and exit codes.
func TestTOMLLimitsMatchCodex(t *testing.T) {
	oracle := testenv.CodexOracle(t)
	for _, c := range depthDocs() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := testenv.Run{Etc: map[string]string{"requirements.toml": c.doc}, Args: []string{"app-server", "--print-startup-config"}, Hostname: "vm"}
			dir := t.TempDir()
			args := []string{"requirements", "effective", "--hostname", "vm", "--system", writeTemp(t, dir, "requirements.toml", c.doc)}
			if c.managed != "" {
				m.Etc["managed_config.toml"] = c.managed
				args = append(args, "--managed-config", writeTemp(t, dir, "managed_config.toml", c.managed))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			want, err := oracle.Run(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(ctx, args, nil, &stdout, &stderr)
			if code != want.ExitCode || stdout.String() != want.Stdout {
				t.Errorf("codex (exit %d):\n%s\ncodexgov (exit %d):\n%s%s", want.ExitCode, want.Stdout, code, stdout.String(), stderr.String())
			}
		})
	}
}
