package teamconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/codex/config"
	"github.com/codexgov/codexgov/codex/internal/didyoumean"
)

func TestClosest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"modle", "model"},
		{"sandbox_mdoe", "sandbox_mode"},
		{"aproval_policy", "approval_policy"},
		{"completely_unrelated", ""},
	} {
		if got := didyoumean.Closest(c.in, config.KnownKeys()); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSkillFrontMatter(t *testing.T) {
	for _, c := range []struct {
		name, body string
		errs       []string // substrings of the expected messages
	}{
		{"ok", "---\nname: review\ndescription: Review a change.\n---\nbody\n", nil},
		{"folded", "---\nname: review\ndescription: >\n  Review a change\n  carefully.\n---\n", nil},
		{"quoted-empty", "---\nname: \"\"\ndescription: x\n---\n", []string{"no name"}},
		{"no-description", "---\nname: review\n---\n", []string{"no description"}},
		{"no-front-matter", "# Review\n", []string{"no front matter"}},
		{"unclosed", "---\nname: review\ndescription: x\n", []string{"not closed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "SKILL.md")
			if err := os.WriteFile(file, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			ds := lintSkill(file)
			if len(ds) != len(c.errs) {
				t.Fatalf("got %v, want %d diagnostics", ds, len(c.errs))
			}
			for i, d := range ds {
				if d.Severity != Error || !strings.Contains(d.Message, c.errs[i]) {
					t.Errorf("diagnostic %d: %v, want an error containing %q", i, d, c.errs[i])
				}
			}
		})
	}
}

func TestConfigErrorsAreLocated(t *testing.T) {
	src := "model = \"a\"\napproval_policy = \"untrusted\"\nsandbox_mode = \"sandboxed\"\n[mcp_servers.x]\ncommand = \"c\"\nurl = \"u\"\n"
	ds := lintConfig("c.toml", src, Options{}, false)
	want := []string{"c.toml:2:19: error: approval_policy = \"untrusted\"", "c.toml:3:16: error: unknown variant `sandboxed`", "c.toml:4:14: error: url is not supported"}
	if len(ds) != len(want) {
		t.Fatalf("got %v", ds)
	}
	for i, d := range ds {
		if !strings.HasPrefix(d.String(), want[i]) {
			t.Errorf("got %q, want prefix %q", d.String(), want[i])
		}
	}
	if ds := lintConfig("c.toml", "model = \n", Options{}, false); len(ds) != 1 || ds[0].Code != "toml" || ds[0].Line != 1 {
		t.Errorf("TOML error: %v", ds)
	}
}
