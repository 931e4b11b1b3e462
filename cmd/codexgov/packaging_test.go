package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/envknob"
	"github.com/codexgov/codexgov/internal/testenv"
)

// dockerfileStage is one FROM … section of the Dockerfile.
type dockerfileStage struct {
	from, name string
	lines      []string
}

func readDockerfile(t *testing.T) []dockerfileStage {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerfileStage
	var cont string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cont = cont+line, ""
		if f := strings.Fields(line); strings.EqualFold(f[0], "FROM") {
			st := dockerfileStage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %q before the first FROM", line)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	return stages
}

// TestDockerfile checks the image without a Docker engine (none runs on
// the CI machines): two stages, an empty non-root runtime with a health
// check the binary answers, and the build stage's exact go build run here,
// which must give a static binary that starts.
func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	if len(stages) != 2 || stages[0].name != "build" || !strings.HasPrefix(stages[0].from, "golang:1.26") || stages[1].from != "scratch" {
		t.Fatalf("stages: %+v; want golang:1.26… AS build, then scratch", stages)
	}
	run := stages[1]
	has := func(prefix string) string {
		for _, l := range run.lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Errorf("the runtime stage has no %s", prefix)
		return ""
	}
	if u := has("USER "); u != "USER 65532:65532" {
		t.Errorf("runtime user %q, want a non-root one", u)
	}
	hc := has("HEALTHCHECK ")
	m := regexp.MustCompile(`CMD \["/codexgov", "server", "healthcheck"\]`).FindString(hc)
	if m == "" {
		t.Errorf("HEALTHCHECK %q does not run codexgov server healthcheck", hc)
	}
	if cmd, _, _ := newRootCmd().Find([]string{"server", "healthcheck"}); cmd.Name() != "healthcheck" {
		t.Error("codexgov has no server healthcheck")
	}
	// Every ENV the image sets is a valid configuration.
	env := has("ENV ")
	vars := map[string]string{}
	for _, kv := range strings.Fields(strings.TrimPrefix(env, "ENV ")) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := envknob.Lookup(k); !ok {
			t.Errorf("the image sets %s, which codexgov does not read", k)
		}
		vars[k] = v
	}
	srv := newServerCmd()
	if err := envknob.Apply(srv.Flags(), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Errorf("the image's environment: %v", err)
	}

	// The build stage's go build, as written, run here.
	var build string
	for _, l := range stages[0].lines {
		if strings.Contains(l, "go build") {
			build = strings.TrimPrefix(l, "RUN ")
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-trimpath") {
		t.Fatalf("build command %q", build)
	}
	if testing.Short() {
		return
	}
	out := t.TempDir()
	build = strings.ReplaceAll(build, "${VERSION}", "1.2.3-test")
	build = strings.ReplaceAll(build, "/out/codexgov", filepath.Join(out, "codexgov"))
	c := exec.Command("sh", "-c", build)
	c.Dir = testenv.RepoRoot()
	c.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	f, err := elf.Open(filepath.Join(out, "codexgov"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the image's binary is dynamically linked; scratch has no loader")
		}
	}
	got, err := exec.Command(filepath.Join(out, "codexgov"), "--version").Output()
	if err != nil || string(got) != "codexgov 1.2.3-test\n" {
		t.Errorf("the built binary's --version: %q %v", got, err)
	}
}

// TestSystemdUnit: the unit's command line is one codexgov server accepts,
// and the example environment file holds only valid variables.
func TestSystemdUnit(t *testing.T) {
	root := testenv.RepoRoot()
	unit, err := os.ReadFile(filepath.Join(root, "packaging", "codexgov.service"))
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = v
		}
	}
	args := strings.Fields(exec)
	if len(args) < 2 || filepath.Base(args[0]) != "codexgov" || args[1] != "server" {
		t.Fatalf("ExecStart %q", exec)
	}
	cmd := newServerCmd()
	if err := cmd.ParseFlags(args[2:]); err != nil {
		t.Errorf("ExecStart flags: %v", err)
	}
	for _, want := range []string{"ExecReload=/bin/kill -HUP $MAINPID", "User=codexgov", "NoNewPrivileges=yes", "EnvironmentFile=/etc/codexgov/codexgov.env"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	envFile, err := os.ReadFile(filepath.Join(root, "packaging", "codexgov.env"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(string(envFile), "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), "#")
		k, v, ok := strings.Cut(l, "=")
		if !ok || !strings.HasPrefix(k, "CODEXGOV_") {
			continue
		}
		if _, known := envknob.Lookup(k); !known {
			t.Errorf("codexgov.env sets %s, which codexgov does not read", k)
		}
		vars[k] = v
	}
	if _, ok := vars["CODEXGOV_TLS_CERT"]; len(vars) < 5 || !ok {
		t.Errorf("codexgov.env: %v", vars)
	}
	if err := envknob.Apply(newServerCmd().Flags(), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Errorf("codexgov.env: %v", err)
	}
}

// TestHealthcheck: codexgov server healthcheck exits 0 against a running
// server on the same --listen, 1 when nothing answers.
func TestHealthcheck(t *testing.T) {
	m := &Main{DataDir: filepath.Join(t.TempDir(), "data")}
	startServer(t, m)
	if out, errOut, code := runCLI(t, "server", "healthcheck", "--listen", m.Addr); code != 0 {
		t.Errorf("healthy server: exit %d %s%s", code, out, errOut)
	}
	m.API.Drain()
	if _, errOut, code := runCLI(t, "server", "healthcheck", "--listen", m.Addr); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("draining server: exit %d %s", code, errOut)
	}
	m.Close()
	if _, _, code := runCLI(t, "server", "healthcheck", "--listen", m.Addr); code != 1 {
		t.Errorf("no server: exit %d", code)
	}
}
