package shellsplit

import (
	"reflect"
	"testing"
)

// TestPlainScripts: scripts Codex splits (SPEC.md §4.5), in source order,
// quotes removed.
func TestPlainScripts(t *testing.T) {
	cases := map[string][][]string{
		"echo ok && deploy-prod":    {{"echo", "ok"}, {"deploy-prod"}},
		"echo a | deploy-prod":      {{"echo", "a"}, {"deploy-prod"}},
		"echo ok; deploy-prod":      {{"echo", "ok"}, {"deploy-prod"}},
		"false || deploy-prod":      {{"false"}, {"deploy-prod"}},
		`rg -g"*.py" 'two words' x`: {{"rg", "-g*.py", "two words", "x"}},
		"git status && git push -f": {{"git", "status"}, {"git", "push", "-f"}},
		"sh -c 'deploy-prod'":       {{"sh", "-c", "deploy-prod"}},
		"a && b || c | d; e":        {{"a"}, {"b"}, {"c"}, {"d"}, {"e"}},
	}
	for script, want := range cases {
		r := Analyze([]string{"bash", "-lc", script})
		if !r.Shell || !r.Plain {
			t.Errorf("%q: plain=%v (%s), want plain", script, r.Plain, r.NotPlain)
			continue
		}
		var got [][]string
		for _, c := range r.Commands {
			got = append(got, c.Argv)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: commands %q, want %q", script, got, want)
		}
	}
}

// TestOpaqueScripts: scripts Codex evaluates as one argv.
func TestOpaqueScripts(t *testing.T) {
	for _, script := range []string{
		"(deploy-prod)", "$(deploy-prod)", "`deploy-prod`", "deploy-prod $HOME", `deploy-prod "$x"`,
		"deploy-prod > /tmp/x", "deploy-prod < in", "deploy-prod >> log", "deploy-prod &", "FOO=1 deploy-prod",
		"if true; then deploy-prod; fi", "deploy-prod <<EOF\nx\nEOF", "ls &&", "&& ls", "ls ;; pwd", "ls | | wc",
	} {
		argv := []string{"/bin/bash", "-lc", script}
		r := Analyze(argv)
		if r.Plain || len(r.Commands) != 1 || !reflect.DeepEqual(r.Commands[0].Argv, argv) {
			t.Errorf("%q: plain=%v commands=%+v, want the tool call as one opaque command", script, r.Plain, r.Commands)
		}
	}
	if r := Analyze([]string{"fish", "-c", "ls && pwd"}); r.Shell || len(r.Commands) != 1 {
		t.Errorf("fish is not a shell Codex splits: %+v", r)
	}
}

// TestHiddenCommands: the strict analysis finds each command Codex does not
// evaluate, with its byte offset in the script.
func TestHiddenCommands(t *testing.T) {
	cases := []struct {
		script string
		argv   []string
		offset int
		reason string
	}{
		{"(deploy-prod)", []string{"deploy-prod"}, 1, "a subshell"},
		{"deploy-prod > /tmp/x", []string{"deploy-prod"}, 0, "a redirection"},
		{"deploy-prod $HOME", []string{"deploy-prod", "$HOME"}, 0, "a variable expansion"},
		{"FOO=1 deploy-prod", []string{"deploy-prod"}, 6, "a variable assignment"},
		{"deploy-prod <<EOF\nnow\nEOF", []string{"deploy-prod"}, 0, "a heredoc"},
		{"sh -c 'deploy-prod'", []string{"deploy-prod"}, 7, "a nested sh -c script"},
		{"echo $(deploy-prod --now)", []string{"deploy-prod", "--now"}, 7, "a command substitution"},
		{"ls `deploy-prod`", []string{"deploy-prod"}, 4, "a command substitution"},
		{"bash <<EOF\ndeploy-prod\nEOF", []string{"deploy-prod"}, 11, "a script fed to bash by a heredoc"},
		{"sudo -u root deploy-prod --now", []string{"deploy-prod", "--now"}, 0, "run by sudo"},
		{"env FOO=1 nice -n 5 deploy-prod", []string{"deploy-prod"}, 0, "run by nice"},
		{"echo x | xargs -n 1 deploy-prod", []string{"deploy-prod"}, 9, "run by xargs"},
		{"timeout 5 deploy-prod", []string{"deploy-prod"}, 0, "run by timeout"},
		{"nohup deploy-prod &", []string{"deploy-prod"}, 0, "run by nohup"},
	}
	for _, c := range cases {
		r := Analyze([]string{"bash", "-lc", c.script})
		found := false
		for _, h := range r.Hidden {
			if reflect.DeepEqual(h.Argv, c.argv) && h.Offset == c.offset && h.Reason == c.reason {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no hidden %q at %d (%s); got %+v", c.script, c.argv, c.offset, c.reason, r.Hidden)
		}
	}
	if r := Analyze([]string{"bash", "-lc", "echo ok && git status"}); len(r.Hidden) != 0 {
		t.Errorf("a plain script without wrappers hides nothing, got %+v", r.Hidden)
	}
	if r := Analyze([]string{"sudo", "deploy-prod"}); len(r.Hidden) != 1 || r.Hidden[0].Offset != -1 {
		t.Errorf("wrapper outside a script: %+v", r.Hidden)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"echo ok && deploy-prod", "(a)", "FOO=1 b > c", "sh -c 'sudo -u x env A=1 bash -c \"d $(e)\"'", "a <<EOF\nb\nEOF", "xargs -I{} sh -c '{}'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		r := Analyze([]string{"bash", "-lc", script})
		if len(r.Commands) == 0 {
			t.Fatalf("no command for %q", script)
		}
		for _, h := range r.Hidden {
			if h.Offset > len(script) {
				t.Fatalf("offset %d beyond the script (%d bytes)", h.Offset, len(script))
			}
		}
	})
}
