package codexgov_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// goPackages returns the folder of every Go package in the module, relative
// to its root ("." for the root package), skipping testdata.
func goPackages(t *testing.T) []string {
	t.Helper()
	var pkgs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "tools" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dir := filepath.ToSlash(filepath.Dir(path))
			if !slices.Contains(pkgs, dir) {
				pkgs = append(pkgs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// readmeLayout returns the entries of the README's "Layout" section: the
// first word of each indented line.
func readmeLayout(t *testing.T, readme string) []string {
	t.Helper()
	start := strings.Index(readme, "\n## Layout\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	section := readme[start+len("\n## Layout\n"):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var entries []string
	for _, line := range strings.Split(section, "\n") {
		if m := regexp.MustCompile(`^    (\S+)\s`).FindStringSubmatch(line); m != nil {
			entries = append(entries, m[1])
		}
	}
	return entries
}

// layoutProblems compares the README's entries with the module's packages.
// The root package is listed as "codexgov.go"; other packages as "dir/".
func layoutProblems(entries, pkgs []string) []string {
	var problems []string
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e] = true
	}
	known := map[string]bool{}
	for _, p := range pkgs {
		entry := p + "/"
		if p == "." {
			entry = "codexgov.go"
		}
		known[entry] = true
		if !listed[entry] {
			problems = append(problems, "package "+p+" is not listed in the README's Layout section (add a line \""+entry+"  what it holds\")")
		}
	}
	for _, e := range entries {
		if strings.HasSuffix(e, "/") && !known[e] {
			if _, err := os.Stat(strings.TrimSuffix(e, "/")); err != nil {
				problems = append(problems, "the README's Layout section lists "+e+", which does not exist")
			}
		}
	}
	return problems
}

// TestREADMELayout fails when a package is missing from the README's
// Layout section, or the section lists a folder that is gone.
func TestREADMELayout(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := goPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages: %v", len(pkgs), pkgs)
	}
	for _, p := range layoutProblems(readmeLayout(t, string(readme)), pkgs) {
		t.Error(p)
	}
}

// TestREADMELayoutCatchesAMissingPackage shows the check failing on a README
// that leaves a package out and lists one that does not exist.
func TestREADMELayoutCatchesAMissingPackage(t *testing.T) {
	readme := "# x\n\n## Layout\n\n    codexgov.go   root\n    client/   the client\n    internal/gone/   removed\n\n## Next\n"
	got := layoutProblems(readmeLayout(t, readme), []string{".", "client", "internal/web"})
	want := []string{
		`package internal/web is not listed in the README's Layout section (add a line "internal/web/  what it holds")`,
		"the README's Layout section lists internal/gone/, which does not exist",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestREADMELinksStayInside fails when the README links outside the
// repository: a clone must stand alone.
func TestREADMELinksStayInside(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#]+)`).FindAllStringSubmatch(string(readme), -1) {
		target := m[1]
		if strings.Contains(target, "://") {
			t.Errorf("README links off the repository: %s", target)
			continue
		}
		if _, err := os.Stat(target); err != nil {
			t.Errorf("README links to %s, which is not in the repository", target)
		}
	}
	if strings.Contains(string(readme), "../") {
		t.Error("README refers to a path outside the repository (../)")
	}
}
