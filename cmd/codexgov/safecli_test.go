package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/codexgov/codexgov/internal/buildinfo"
	"github.com/codexgov/codexgov/internal/envknob"
	"github.com/codexgov/codexgov/internal/testenv"
)

// walk calls fn for every command under root.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// path is the command's words after "codexgov".
func path(c *cobra.Command) []string { return strings.Fields(c.CommandPath())[1:] }

// TestUnknownSubcommandAtAnyDepth: a mistyped subcommand under any command
// that groups others exits 2 with "did you mean", instead of printing help
// and exiting 0 (a mistyped off-boarding step must not look like success).
func TestUnknownSubcommandAtAnyDepth(t *testing.T) {
	groups := 0
	walk(newRootCmd(), func(c *cobra.Command) {
		if !c.HasSubCommands() {
			return
		}
		groups++
		args := append(path(c), "no-such-subcommand", "x")
		out, errOut, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, `unknown command "no-such-subcommand"`) || out != "" {
			t.Errorf("codexgov %s: exit %d, stdout %q, stderr %q; want exit 2 and unknown command", strings.Join(args, " "), code, out, errOut)
		}
	})
	if groups < 15 {
		t.Errorf("only %d command groups found", groups)
	}
	for _, tc := range []struct{ args, suggestion string }{
		{"admin roles delet dev", "delete"},
		{"admin groups add-memer eng bob@acme.test", "add-member"},
		{"admin users deactivat bob@acme.test", "deactivate"},
		{"admin polices list", "policies"},
	} {
		_, errOut, code := runCLI(t, strings.Fields(tc.args)...)
		if code != 2 || !strings.Contains(errOut, "Did you mean this?\n\t"+tc.suggestion) {
			t.Errorf("codexgov %s: exit %d, stderr %q; want exit 2 suggesting %s", tc.args, code, errOut, tc.suggestion)
		}
	}
	// A group with no argument still prints its help.
	if out, _, code := runCLI(t, "admin", "roles"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("codexgov admin roles: exit %d, %q", code, out)
	}
}

// TestHelpNeverPrintsSecrets: with every secret variable set, no command's
// --help shows its value.
func TestHelpNeverPrintsSecrets(t *testing.T) {
	secrets := map[string]string{
		"CODEXGOV_TOKEN":        "cgk_helpsecretapikey",
		"CODEXGOV_ENROLL_TOKEN": "cge_helpsecretenroll",
		"CODEXGOV_DATABASE":     "postgres://u:helpsecretpassword@127.0.0.1/db",
	}
	for k, v := range secrets {
		if kn, ok := envknob.Lookup(k); !ok || !kn.Secret {
			t.Fatalf("%s is not a secret knob", k)
		}
		t.Setenv(k, v)
	}
	walk(newRootCmd(), func(c *cobra.Command) {
		out, errOut, _ := runCLI(t, append(path(c), "--help")...)
		for _, v := range secrets {
			if strings.Contains(out+errOut, v) || strings.Contains(out+errOut, "helpsecret") {
				t.Errorf("codexgov %s --help prints a secret", c.CommandPath())
			}
		}
	})
	out, _, _ := runCLI(t, "admin", "--help")
	if !strings.Contains(out, "[$CODEXGOV_TOKEN]") {
		t.Errorf("admin --help does not name the variable of --token:\n%s", out)
	}
}

// TestInvalidEnvironmentStops: a value the flag would refuse stops the
// command with the variable, the value and what is accepted, before
// anything is created.
func TestInvalidEnvironmentStops(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"CODEXGOV_DEV_TLS", "yes", `CODEXGOV_DEV_TLS="yes" is not valid: want true or false`},
		{"CODEXGOV_SYNC_INTERVAL", "5sec", `CODEXGOV_SYNC_INTERVAL="5sec" is not valid: want a duration such as 500ms, 30s, 5m or 1h30m`},
		{"CODEXGOV_LOG_FORMAT", "xml", `CODEXGOV_LOG_FORMAT="xml" is not valid: want text or json`},
		{"CODEXGOV_LOG_LEVEL", "verbose", `CODEXGOV_LOG_LEVEL="verbose" is not valid: want debug, info, warn or error`},
		{"CODEXGOV_MAX_BODY_BYTES", "1MB", `CODEXGOV_MAX_BODY_BYTES="1MB" is not valid: want a whole number of bytes`},
		{"CODEXGOV_RECORD_INTERVAL", "soon", `CODEXGOV_RECORD_INTERVAL="soon" is not valid`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			t.Setenv(tc.name, tc.value)
			_, errOut, code := runCLI(t, "server", "--listen", "127.0.0.1:0", "--data-dir", dir)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data folder was created: %v", err)
			}
		})
	}
	// The same parse as the flag: --sync-interval 5sec exits 2 too.
	if _, errOut, code := runCLI(t, "server", "--sync-interval", "5sec"); code != 2 || !strings.Contains(errOut, "5sec") {
		t.Errorf("--sync-interval 5sec: exit %d, %q", code, errOut)
	}
}

// TestEnvironmentTurnsDevTLSOn: CODEXGOV_DEV_TLS=1 is true, as --dev-tls=1
// is (it used to serve plain HTTP).
func TestEnvironmentTurnsDevTLSOn(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CODEXGOV_DEV_TLS", "1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out, errOut lockedBuffer
	go func() {
		done <- run(ctx, []string{"server", "--listen", "127.0.0.1:0", "--data-dir", dir}, nil, &out, &errOut)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Stopped only once it serves: a cancel in the middle of the
		// start is an error exit (the snapshot build is cut short).
		if _, err := os.Stat(filepath.Join(dir, "dev-tls", "ca.pem")); err == nil && strings.Contains(errOut.String(), "codexgov server listening") {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no dev TLS CA after 30 s; stderr: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("server exit %d", code)
	}
}

// TestVersion: codexgov version, --version and version --json agree with
// the build information.
func TestVersion(t *testing.T) {
	want := buildinfo.Read()
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "codexgov "+want.Version+"\n") || !strings.Contains(out, want.GoVersion) {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if out, _, code := runCLI(t, "--version"); code != 0 || out != "codexgov "+want.Version+"\n" {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, "version", "--json")
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got != want {
		t.Errorf("version --json: exit %d, %v, %+v", code, err, got)
	}
}

// TestErrorsAreJSONWithJSONFlag: with --json an error is one JSON object
// on standard error.
func TestErrorsAreJSONWithJSONFlag(t *testing.T) {
	t.Setenv("CODEXGOV_WORKSPACE", "")
	os.Unsetenv("CODEXGOV_WORKSPACE")
	t.Setenv("CODEXGOV_CONFIG_DIR", t.TempDir())
	out, errOut, code := runCLI(t, "admin", "users", "list", "--json")
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(errOut), &body); code != 2 || out != "" || err != nil || !strings.Contains(body.Error.Message, "no workspace") {
		t.Errorf("exit %d, stdout %q, stderr %q (%v)", code, out, errOut, err)
	}
	if _, errOut, _ := runCLI(t, "admin", "users", "list"); strings.HasPrefix(errOut, "{") {
		t.Errorf("without --json the error is JSON: %q", errOut)
	}
}

// TestSyncRefusesABadMachineID: an ID the server would refuse stops the
// command before it talks to the server.
func TestSyncRefusesABadMachineID(t *testing.T) {
	_, errOut, code := runCLI(t, "sync", "--once", "--machine-id", "laptop7", "--server", "http://127.0.0.1:1", "--enroll-token", "cge_x")
	if code != 2 || !strings.Contains(errOut, `--machine-id "laptop7": want 8 to 128 characters`) {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestInstallModeFromEnvironment: the quickstart exports CODEXGOV_TOKEN and
// CODEXGOV_WORKSPACE; --enroll-token on the command line still selects
// enrollment mode, and both modes on the command line stay an error.
func TestInstallModeFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name        string
		env         map[string]string
		args        []string
		wantEnroll  bool
		wantOAuth   bool
		wantRefused bool
	}{
		{"enroll flag, api key in env", map[string]string{"CODEXGOV_TOKEN": "cgk_a", "CODEXGOV_WORKSPACE": "acme"}, []string{"--enroll-token", "cge_a"}, true, false, false},
		{"all from env", map[string]string{"CODEXGOV_TOKEN": "cgk_a", "CODEXGOV_WORKSPACE": "acme", "CODEXGOV_ENROLL_TOKEN": "cge_a"}, nil, true, false, false},
		{"oauth flags, enroll in env", map[string]string{"CODEXGOV_ENROLL_TOKEN": "cge_a"}, []string{"--token", "cgk_a", "-w", "acme"}, false, true, false},
		{"both on the command line", nil, []string{"--enroll-token", "cge_a", "--token", "cgk_a"}, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newInstallCmd()
			fs := cmd.Flags()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := envknob.Apply(fs, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }); err != nil {
				t.Fatal(err)
			}
			in := installerOf(t, fs)
			in.pickMode(fs)
			if (in.enrollToken != "") != tc.wantEnroll || (in.token != "") != tc.wantOAuth {
				t.Errorf("enroll %q, token %q", in.enrollToken, in.token)
			}
			err := in.run(context.Background())
			refused := err != nil && strings.Contains(err.Error(), "--enroll-token excludes")
			if refused != tc.wantRefused {
				t.Errorf("run: %v", err)
			}
		})
	}
}

// installerOf reads the flag values back into an installer.
func installerOf(t *testing.T, fs *pflag.FlagSet) *installer {
	t.Helper()
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	return &installer{server: "https://127.0.0.1:1", workspace: get("workspace"), token: get("token"), enrollToken: get("enroll-token"), now: time.Now}
}

// TestEnvironmentTable: every CODEXGOV_* variable the binary reads is in
// envknob's table, every flag variable is bound to a flag, and
// docs/configuration.md lists each with what it accepts.
func TestEnvironmentTable(t *testing.T) {
	root := testenv.RepoRoot()
	used := map[string]string{}
	re := regexp.MustCompile(`"(CODEXGOV_[A-Z_]+)"`)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			if d != nil && d.IsDir() && p != root {
				return filepath.SkipDir
			}
			return err
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "internal/testenv") || strings.Contains(p, "internal/envknob") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return nil
	})
	if len(used) < 10 {
		t.Fatalf("found only %d variables: %v", len(used), used)
	}
	for name, file := range used {
		if _, ok := envknob.Lookup(name); !ok {
			t.Errorf("%s (read in %s) is not in envknob's table", name, file)
		}
	}
	bound := map[string]bool{}
	walk(newRootCmd(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if n := f.Annotations["codexgov/envknob"]; len(n) > 0 {
				bound[n[0]] = true
			}
		})
	})
	docs, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range envknob.Knobs {
		if k.Flag != "" && !bound[k.Name] {
			t.Errorf("%s names flag --%s, but no command binds it", k.Name, k.Flag)
		}
		row := "| `" + k.Name + "` |"
		i := strings.Index(string(docs), row)
		if i < 0 {
			t.Errorf("docs/configuration.md has no row for %s", k.Name)
			continue
		}
		line, _, _ := strings.Cut(string(docs)[i:], "\n")
		if !strings.Contains(line, k.Accepts) {
			t.Errorf("docs/configuration.md's row for %s does not say it accepts %q: %s", k.Name, k.Accepts, line)
		}
	}
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(CODEXGOV_[A-Z_]+)` \\|").FindAllStringSubmatch(string(docs), -1) {
		listed = append(listed, m[1])
	}
	for _, name := range listed {
		if _, ok := envknob.Lookup(name); !ok && !slices.Contains(testKnobs, name) {
			t.Errorf("docs/configuration.md lists %s, which nothing reads", name)
		}
	}
}

// testKnobs are read by the test suite only; docs/configuration.md lists
// them in their own table.
var testKnobs = []string{"CODEXGOV_TEST_POSTGRES", "CODEXGOV_DIFF_SEED", "CODEXGOV_DIFF_CASES", "CODEXGOV_DIFF_REPORT",
	"CODEXGOV_RULES_SEED", "CODEXGOV_RULES_CASES", "CODEXGOV_CONFIG_SEED", "CODEXGOV_CONFIG_CASES", "CODEXGOV_CONFIG_ONLY", "CODEXGOV_CONFIG_REPORT", "CODEXGOV_TEST_AS_CLI"}
