package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// SystemDir is where Codex reads its system files on Linux and macOS.
const SystemDir = "/etc/codex"

// LayerKind names a config layer the way Codex's config/read does.
type LayerKind string

// The config layers, lowest precedence first.
const (
	System            LayerKind = "system"
	EnterpriseManaged LayerKind = "enterpriseManaged"
	User              LayerKind = "user"
	Project           LayerKind = "project"
	SessionFlags      LayerKind = "sessionFlags"
	LegacyManaged     LayerKind = "legacyManagedConfigTomlFromFile"
)

// Layer is one config.toml layer.
type Layer struct {
	Kind LayerKind
	// File is the layer's file as Codex names it (system files under
	// /etc/codex even when read from elsewhere); for a project layer it is
	// the folder's config.toml.
	File string
	// Profile is set on the user layer a -p NAME profile adds.
	Profile string
	// DotCodexFolder is a project layer's .codex folder.
	DotCodexFolder string
	// ID and Name identify a cloud config fragment.
	ID, Name string
	// Disabled is Codex's reason for not applying the layer ("" when the
	// layer applies).
	Disabled string
	// Doc is the layer's parsed TOML (an empty table when the file is
	// missing), after keys a project may not set are dropped.
	Doc *toml.Value
	// Contents is the layer's text.
	Contents string
	// Dropped lists the keys removed from a project layer, in Codex's order.
	Dropped []string
}

// String names the layer for people: "user (/home/a/.codex/config.toml)".
func (l *Layer) String() string {
	switch l.Kind {
	case Project:
		return "project (" + l.DotCodexFolder + ")"
	case SessionFlags:
		return "session flags (-c, --enable, --disable)"
	case EnterpriseManaged:
		return "enterprise-managed config " + l.Name + " (" + l.ID + ")"
	case User:
		if l.Profile != "" {
			return "profile " + l.Profile + " (" + l.File + ")"
		}
	}
	return string(l.Kind) + " (" + l.File + ")"
}

// Label is the layer kind as the explain JSON reports it: the Codex layer
// name, with "profile" for a -p layer.
func (l *Layer) Label() string {
	if l.Kind == User && l.Profile != "" {
		return "profile"
	}
	if l.Kind == LegacyManaged {
		return "legacyManagedConfig"
	}
	return string(l.Kind)
}

// Path is the file or folder the layer came from.
func (l *Layer) Path() string {
	switch l.Kind {
	case Project:
		return l.DotCodexFolder
	case SessionFlags, EnterpriseManaged:
		return ""
	}
	return l.File
}

// FS is the file access the engine needs; OS is the real file system.
type FS interface {
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// OS reads the machine's own files.
var OS FS = osFS{}

// readOptional returns a file's text, "" and false when it does not exist.
func readOptional(fsys FS, path string) (string, bool, error) {
	b, err := fsys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

func isDir(fsys FS, path string) bool {
	fi, err := fsys.Stat(path)
	return err == nil && fi.IsDir()
}

func exists(fsys FS, path string) bool {
	_, err := fsys.Stat(path)
	return err == nil
}

// projectDenylist are the keys a project layer may not set, in the order
// Codex lists them when it drops them.
var projectDenylist = []string{
	"openai_base_url",
	"chatgpt_base_url",
	"apps_mcp_product_sku",
	"model_provider",
	"model_providers",
	"notify",
	"profile",
	"profiles",
	"experimental_realtime_ws_base_url",
	"otel",
}

// dropDenied removes the denylisted keys from a project layer's document.
func dropDenied(doc *toml.Value) []string {
	var dropped []string
	for _, k := range projectDenylist {
		if doc.Tbl.Get(k) != nil {
			doc.Tbl.Remove(k)
			dropped = append(dropped, k)
		}
	}
	return dropped
}

// projectRoot is the nearest folder from cwd upwards that holds one of the
// markers, and true; cwd and false when none does (or when markers is
// empty).
func projectRoot(fsys FS, cwd string, markers []string) (string, bool) {
	if len(markers) == 0 {
		return cwd, false
	}
	for dir := cwd; ; dir = filepath.Dir(dir) {
		for _, m := range markers {
			if exists(fsys, filepath.Join(dir, m)) {
				return dir, true
			}
		}
		if dir == filepath.Dir(dir) {
			return cwd, false
		}
	}
}

// gitTrustRoot is the folder Codex keys a repository's trust on
// (resolve_root_git_project_for_trust): the nearest folder from cwd upwards
// with a .git entry when that entry is a folder; for a .git file
// ("gitdir: <repo>/.git/worktrees/<name>", a linked worktree) the main
// checkout. in reports whether any .git entry was found; root is "" when
// a .git file leads nowhere Codex recognises.
func gitTrustRoot(fsys FS, cwd string) (root string, in bool) {
	for dir := cwd; ; dir = filepath.Dir(dir) {
		dotGit := filepath.Join(dir, ".git")
		if fi, err := fsys.Stat(dotGit); err == nil {
			if fi.IsDir() {
				return dir, true
			}
			b, err := fsys.ReadFile(dotGit)
			if err != nil {
				return "", true
			}
			gitDir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
			gitDir = strings.TrimSpace(gitDir)
			if !ok || gitDir == "" {
				return "", true
			}
			if !filepath.IsAbs(gitDir) {
				gitDir = filepath.Join(dir, gitDir)
			}
			worktrees := filepath.Dir(filepath.Clean(gitDir))
			if filepath.Base(worktrees) != "worktrees" {
				return "", true
			}
			return filepath.Dir(filepath.Dir(worktrees)), true
		}
		if dir == filepath.Dir(dir) {
			return "", false
		}
	}
}

// foldersFrom lists root and each folder below it down to cwd.
func foldersFrom(root, cwd string) []string {
	dirs := []string{cwd}
	for d := cwd; d != root && d != filepath.Dir(d); {
		d = filepath.Dir(d)
		dirs = append(dirs, d)
	}
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	return dirs
}

// trustLevel looks up [projects."<dir>"] trust_level for cwd, then for the
// project root, then for the git repository's trust root, in the merged
// lower layers.
func trustLevel(merged *toml.Value, cwd, root, gitRoot string) string {
	projects := tableAt(merged, "projects")
	if projects == nil {
		return ""
	}
	for _, dir := range []string{cwd, root, gitRoot} {
		if dir == "" {
			continue
		}
		p := projects.Tbl.Value(dir)
		if p == nil || p.Kind != toml.Table {
			continue
		}
		if tl := p.Tbl.Value("trust_level"); tl != nil && tl.Kind == toml.String {
			return tl.Str
		}
	}
	return ""
}

func tableAt(doc *toml.Value, path ...string) *toml.Value {
	v := doc
	for _, k := range path {
		if v == nil || v.Kind != toml.Table {
			return nil
		}
		v = v.Tbl.Value(k)
	}
	if v == nil || v.Kind != toml.Table {
		return nil
	}
	return v
}

func stringsAt(doc *toml.Value, key string) ([]string, bool) {
	if doc == nil || doc.Kind != toml.Table {
		return nil, false
	}
	v := doc.Tbl.Value(key)
	if v == nil || v.Kind != toml.Array {
		return nil, false
	}
	var out []string
	for _, x := range v.Arr {
		if x.Kind == toml.String {
			out = append(out, x.Str)
		}
	}
	return out, true
}

// dottedKey joins a key path the way Codex prints it in warnings.
func dottedKey(path []string) string { return strings.Join(path, ".") }

// ProjectDenied reports whether a project's .codex/config.toml may not set
// the top-level key (Codex drops it with a warning).
func ProjectDenied(key string) bool {
	for _, k := range projectDenylist {
		if k == key {
			return true
		}
	}
	return false
}

// KnownKey reports whether Codex 0.169.0 knows a top-level config key.
func KnownKey(key string) bool { return topLevelKeys[key] }

// KnownKeys lists the top-level config keys Codex 0.169.0 knows, sorted.
func KnownKeys() []string {
	ks := make([]string, 0, len(topLevelKeys))
	for k := range topLevelKeys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
