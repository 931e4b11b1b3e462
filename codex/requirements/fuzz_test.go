package requirements

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEffective feeds arbitrary documents through the decoder and the
// composer, as the system file and as a cloud fragment over a fixed system
// file. It must never panic, and every outcome must be valid JSON.
func FuzzEffective(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "codex", "vectors", "requirements", "*.toml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("allowed_sandbox_modes = [\"read-only\"]\n[[remote_sandbox_config]]\nhostname_patterns = [\"v*\"]\nallowed_sandbox_modes = [\"read-only\"]")
	f.Add("[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }], decision = \"prompt\" }]")
	base := "allowed_approval_policies = [\"on-request\"]\n[features]\na = true\n"
	f.Fuzz(func(t *testing.T, doc string) {
		host := func() string { return "vm" }
		system := &Layer{Source: Source{Kind: SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: doc, BaseDir: "/etc/codex"}
		check(t, Inputs{System: system, Hostname: host})
		check(t, Inputs{
			System:   &Layer{Source: Source{Kind: SystemFile, Path: "/etc/codex/requirements.toml"}, Contents: base, BaseDir: "/etc/codex"},
			Cloud:    []Layer{{Source: Source{Kind: CloudFragment, ID: "req_1", Name: "fuzz"}, Contents: doc}},
			Hostname: host,
		})
	})
}

func check(t *testing.T, in Inputs) {
	res, err := Effective(in)
	var out string
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("error of type %T: %v", err, err)
		}
		out = e.JSON()
	} else {
		out = res.StartupConfigJSON()
	}
	if !json.Valid([]byte(out)) {
		t.Fatalf("invalid JSON: %s", out)
	}
}
