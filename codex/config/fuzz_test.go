package config

import (
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// memFS serves absolute paths from a fstest.MapFS.
type memFS fstest.MapFS

func (m memFS) ReadFile(name string) ([]byte, error) {
	return fs.ReadFile(fstest.MapFS(m), strings.TrimPrefix(path.Clean(name), "/"))
}

func (m memFS) Stat(name string) (fs.FileInfo, error) {
	return fs.Stat(fstest.MapFS(m), strings.TrimPrefix(path.Clean(name), "/"))
}

// FuzzResolve layers arbitrary system, user, profile and project config,
// requirements and -c flags: Resolve must return a result or an error, and
// never panic; nor may AppServerStart.
func FuzzResolve(f *testing.F) {
	f.Add("model = \"a\"\n", "approval_policy = \"never\"\n[projects.\"/repo\"]\ntrust_level = \"trusted\"\n", "sandbox_mode = \"danger-full-access\"\nnotify = [\"x\"]\n",
		"allowed_sandbox_modes = [\"read-only\"]\nallowed_approval_policies = [\"untrusted\"]\n", "approval_policy=never", "web_search = \"live\"\n")
	f.Add("[features]\nmemories = true\n", "[mcp_servers.a]\ncommand = \"x\"\n", "[mcp_servers.a]\nurl = \"u\"\n", "[mcp_servers.b.identity]\ncommand = \"x\"\n[features]\nmemories = false\n", "features.memories=true", "")
	f.Add("[otel]\nenvironment = \"x\"\n", "web_search = \"indexed\"\n[projects.\"/repo\"]\ntrust_level = \"untrusted\"\n", "", "allowed_web_search_modes = []\n[otel]\nenvironment = \"y\"\n", "sandbox_mode=\"danger-full-access\"", "profile = \"p\"\n")
	f.Fuzz(func(t *testing.T, system, user, project, reqs, override, profile string) {
		fsys := memFS{
			"etc/config.toml":               {Data: []byte(system)},
			"etc/requirements.toml":         {Data: []byte(reqs)},
			"home/config.toml":              {Data: []byte(user)},
			"home/p.config.toml":            {Data: []byte(profile)},
			"repo/.git/HEAD":                {Data: []byte("ref: x\n")},
			"repo/.codex/config.toml":       {Data: []byte(project)},
			"repo/sub/.codex/config.toml":   {Data: []byte(profile)},
			"repo/sub/.codex/rules/a.rules": {Data: []byte("")},
		}
		m := Machine{Etc: "/etc", CodexHome: "/home", Cwd: "/repo/sub", Profile: "p", FS: fsys,
			Hostname: func() string { return "vm" }}
		if override != "" {
			m.Overrides = []string{override}
		}
		res, err := Resolve(m)
		if err == nil && res == nil {
			t.Fatal("no result and no error")
		}
		if err == nil {
			for _, w := range res.Warnings {
				if w.Codex == "" || w.Plain == "" {
					t.Fatalf("warning without text: %+v", w)
				}
			}
			if res.SandboxMode.Value == "" || res.ApprovalPolicy.Value == "" || res.WebSearchMode.Value == "" {
				t.Fatalf("empty effective value: %+v", res)
			}
			// The app-server's own trust: a prediction either runs with a
			// trusted configuration or says why it fails.
			if a := AppServerStart(m, res); a != nil && (a.Trusted == nil) == (a.Error == "") {
				t.Fatalf("app-server prediction with neither or both of a configuration and an error: %+v", a)
			}
			if a := AppServerStart(m, res); a != nil && a.Trusted != nil && !a.Trusted.Trusted() {
				t.Fatalf("app-server prediction: %s is not trusted after the rewrite", a.Target)
			}
		}
	})
}
