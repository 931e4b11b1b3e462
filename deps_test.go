package codexgov_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/codexgov/codexgov"

// adapters connect codexgov to something outside it: a database, HTTP
// callers, identity providers, the REST API from the outside. None may
// import another; internal/server wires them together.
var adapters = []string{"internal/sqlstore", "internal/httpapi", "internal/oidc", "client"}

// serverInternals are what only internal/server may put together: the CLI
// reaches a server through client, or runs one through internal/server.
var serverInternals = []string{"internal/sqlstore", "internal/httpapi", "internal/snapshot", "internal/oidc", "internal/scim", "internal/web"}

type goPackage struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// depProblems applies the layering rules to packages (import paths
// relative to the module, "." for the root).
func depProblems(imports map[string][]string, std func(string) bool) []string {
	var problems []string
	local := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		rel, ok := strings.CutPrefix(p, module+"/")
		return rel, ok
	}
	for pkg, imps := range imports {
		for _, imp := range imps {
			rel, isLocal := local(imp)
			switch {
			case pkg == "." && !std(imp):
				problems = append(problems, fmt.Sprintf("the root package imports %s: it may import only the standard library", imp))
			case isLocal && slices.Contains(adapters, pkg) && slices.Contains(adapters, rel):
				problems = append(problems, fmt.Sprintf("adapter %s imports adapter %s: wire them in internal/server", pkg, rel))
			case isLocal && pkg == "cmd/codexgov" && slices.Contains(serverInternals, rel):
				problems = append(problems, fmt.Sprintf("cmd/codexgov imports %s: reach the server through client, or run it through internal/server", rel))
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// TestDependencies keeps the layering (tailscale's deptest, wtf's
// standard package layout): the root package imports only the standard
// library, no adapter imports another, and cmd reaches the server only
// through client (or runs it through internal/server).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "" {
			rel = "."
		}
		imports[rel] = p.Imports
	}
	if len(imports) < 20 || imports["."] == nil && imports["client"] == nil {
		t.Fatalf("go list found %d packages", len(imports))
	}
	std := func(p string) bool { return !strings.Contains(strings.Split(p, "/")[0], ".") }
	for _, p := range depProblems(imports, std) {
		t.Error(p)
	}
}

// TestDependenciesCatchesAViolation shows each rule failing.
func TestDependenciesCatchesAViolation(t *testing.T) {
	std := func(p string) bool { return !strings.Contains(strings.Split(p, "/")[0], ".") }
	got := depProblems(map[string][]string{
		".":                {"fmt", "github.com/google/uuid"},
		"internal/httpapi": {"net/http", module + "/internal/sqlstore", module + "/internal/snapshot"},
		"cmd/codexgov":     {module + "/client", module + "/internal/httpapi", module + "/internal/server"},
		"internal/server":  {module + "/internal/httpapi", module + "/internal/sqlstore"},
	}, std)
	want := []string{
		"adapter internal/httpapi imports adapter internal/sqlstore: wire them in internal/server",
		"cmd/codexgov imports internal/httpapi: reach the server through client, or run it through internal/server",
		"the root package imports github.com/google/uuid: it may import only the standard library",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
