package config

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov/codex/requirements"
	"github.com/codexgov/codexgov/codex/toml"
)

// Machine is what Codex reads on one machine, for one user and folder.
type Machine struct {
	// Etc is the folder read in place of /etc/codex ("" reads /etc/codex).
	// Files are still named /etc/codex/… in layers and warnings, as Codex
	// would name them once installed there.
	Etc string
	// CodexHome is $CODEX_HOME (the user's config folder).
	CodexHome string
	// Cwd is the folder Codex starts in (absolute).
	Cwd string
	// Profile is -p NAME: $CODEX_HOME/NAME.config.toml above the user layer.
	Profile string
	// Overrides are the -c key=value flags, in order.
	Overrides []string
	// Enable and Disable are --enable/--disable FEATURE.
	Enable, Disable []string
	// Hostname is used by remote_sandbox_config (os.Hostname when nil).
	Hostname func() string
	// CloudRequirements and CloudConfig are cloud bundle fragments, in
	// delivery order (the first has the highest precedence).
	CloudRequirements []requirements.Layer
	CloudConfig       []CloudFragment
	// FS reads the machine's files (OS when nil).
	FS FS
	// TrustProject, when set, is a folder recorded as trusted in the
	// user's config.toml before anything is read, as Codex's app-server
	// records it (see AppServerStart).
	TrustProject string
}

// CloudFragment is one config_toml fragment of a cloud bundle.
type CloudFragment struct {
	ID, Name, Contents string
}

// LoadError is Codex refusing to start with this configuration.
type LoadError struct {
	Message string
}

func (e *LoadError) Error() string { return e.Message }

// Setting is one effective value and where it came from.
type Setting struct {
	// Value is Codex's config spelling ("on-request", "workspace-write",
	// "cached"…); "" when unset (model).
	Value string
	// Layer set the configured value; nil for a built-in default.
	Layer *Layer
	// Configured is the value the config asked for ("" when it is the
	// built-in default).
	Configured string
	// RequiredBy names the requirement that replaced the configured value
	// ("" when none did).
	RequiredBy string
	// Default is true when no layer set the value.
	Default bool
	// Note explains a default that depends on the machine ("default for a
	// trusted project"), "" otherwise.
	Note string
}

// FeatureState is one feature's effective value.
type FeatureState struct {
	Feature
	Value bool
	// Layer set the value (nil: the built-in default or a requirement).
	Layer *Layer
	// PinnedBy names the requirement pinning the feature ("" when none).
	PinnedBy string
}

// MCPState is one configured MCP server.
type MCPState struct {
	Name    string
	Enabled bool
	// DisabledReason is Codex's reason, nil when enabled or when the
	// config disabled it.
	DisabledReason *string
	Layer          *Layer
	Transport      requirements.MCPServer
}

// Warning is one startup warning: Codex's text and a plain version.
type Warning struct {
	Codex string
	Plain string
}

// Resolution is what Codex runs with on the machine, and why.
type Resolution struct {
	// Layers are the config layers, lowest precedence first.
	Layers []*Layer
	// Merged is the merged config before requirements apply.
	Merged *toml.Value
	// Origins maps each dotted leaf key of Merged to its layer.
	Origins map[string]*Layer

	ApprovalPolicy    Setting
	ApprovalsReviewer Setting
	SandboxMode       Setting
	WebSearchMode     Setting
	Model             Setting
	// WindowsSandbox is windows.sandbox ("elevated" or "unelevated"; ""
	// when unset and unconstrained). It only matters on Windows.
	WindowsSandbox Setting
	Features       []FeatureState
	MCPServers     []MCPState
	// Exact lists the "exact" requirements that replace config values.
	Exact []ExactOverride
	// Telemetry is the OpenTelemetry export Codex runs with: the logs,
	// metrics and traces exporters and log_user_prompt.
	Telemetry []OtelSetting
	Warnings  []Warning

	Requirements *requirements.Requirements
	// ProjectRoot is the project Cwd belongs to; TrustLevel is its
	// [projects."…"] trust_level ("trusted", "untrusted", or "" when unset).
	ProjectRoot string
	TrustLevel  string
	// GitRoot is the repository Codex keys trust on (the main checkout for
	// a linked worktree); "" outside a git repository or when a .git file
	// does not lead to one.
	GitRoot string

	// inGit: a .git entry (folder or file) sits in Cwd or above it;
	// markerFound: a project_root_markers entry does.
	inGit, markerFound bool
}

// ExactOverride is a requirement that replaces a same-named config key.
type ExactOverride struct {
	Key        string
	Configured *toml.Value
	Required   any
	Source     string
}

// Resolve computes the effective configuration the way Codex 0.169.0 does
// at startup. A *LoadError (or a *requirements.Error) means Codex would
// refuse to start.
func Resolve(m Machine) (*Resolution, error) {
	fsys := m.FS
	if fsys == nil {
		fsys = OS
	}
	etc := m.Etc
	if etc == "" {
		etc = SystemDir
	}
	res := &Resolution{Origins: map[string]*Layer{}}

	reqs, err := loadRequirements(m, fsys, etc)
	if err != nil {
		return nil, err
	}
	res.Requirements = reqs

	load := func(kind LayerKind, display, real string) (*Layer, error) {
		text, _, err := readOptional(fsys, real)
		if err != nil {
			return nil, &LoadError{Message: "failed to read " + display + ": " + err.Error()}
		}
		return parseLayer(&Layer{Kind: kind, File: display, Contents: text})
	}

	system, err := load(System, SystemDir+"/config.toml", filepath.Join(etc, "config.toml"))
	if err != nil {
		return nil, err
	}
	layers := []*Layer{system}
	for i := len(m.CloudConfig) - 1; i >= 0; i-- {
		f := m.CloudConfig[i]
		l, err := parseLayer(&Layer{Kind: EnterpriseManaged, ID: f.ID, Name: f.Name, File: "enterprise-managed config " + f.Name, Contents: f.Contents})
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	userFile := filepath.Join(m.CodexHome, "config.toml")
	user, err := load(User, userFile, userFile)
	if err != nil {
		return nil, err
	}
	if m.TrustProject != "" {
		setPath(user.Doc, []string{"projects", m.TrustProject, "trust_level"}, toml.NewString("trusted"))
	}
	layers = append(layers, user)
	if m.Profile != "" {
		pf := filepath.Join(m.CodexHome, m.Profile+".config.toml")
		text, ok, err := readOptional(fsys, pf)
		if err != nil {
			return nil, &LoadError{Message: "failed to read " + pf + ": " + err.Error()}
		}
		if !ok {
			return nil, &LoadError{Message: "profile `" + m.Profile + "` not found: " + pf + " does not exist"}
		}
		l, err := parseLayer(&Layer{Kind: User, File: pf, Profile: m.Profile, Contents: text})
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}

	// Session flags and the legacy managed file are read now: their
	// project_root_markers and trust entries count too.
	flags := &Layer{Kind: SessionFlags, Doc: toml.NewTableValue(toml.NewTable())}
	for _, o := range m.Overrides {
		path, v, err := parseOverride(o)
		if err != nil {
			return nil, err
		}
		setPath(flags.Doc, path, v)
	}
	for _, f := range m.Enable {
		setPath(flags.Doc, []string{"features", f}, toml.NewBool(true))
	}
	for _, f := range m.Disable {
		setPath(flags.Doc, []string{"features", f}, toml.NewBool(false))
	}
	legacy, err := load(LegacyManaged, SystemDir+"/managed_config.toml", filepath.Join(etc, "managed_config.toml"))
	if err != nil {
		return nil, err
	}

	lower := toml.NewTableValue(toml.NewTable())
	for _, l := range append(append(append([]*Layer{}, layers...), flags), legacy) {
		merge(lower, l.Doc, l, nil, map[string]*Layer{})
	}
	markers, ok := stringsAt(lower, "project_root_markers")
	if !ok {
		markers = []string{".git"}
	}
	cwd := filepath.Clean(m.Cwd)
	root, found := projectRoot(fsys, cwd, markers)
	res.ProjectRoot, res.markerFound = root, found
	res.GitRoot, res.inGit = gitTrustRoot(fsys, cwd)
	trust := trustLevel(lower, cwd, root, res.GitRoot)
	res.TrustLevel = trust
	var untrusted []*Layer
	for _, dir := range foldersFrom(root, cwd) {
		dot := filepath.Join(dir, ".codex")
		if !isDir(fsys, dot) {
			continue
		}
		file := filepath.Join(dot, "config.toml")
		text, _, err := readOptional(fsys, file)
		if err != nil {
			return nil, &LoadError{Message: "failed to read " + file + ": " + err.Error()}
		}
		l := &Layer{Kind: Project, File: file, DotCodexFolder: dot, Contents: text}
		if trust != "trusted" {
			l.Disabled = "To load project-local config, hooks, and exec policies, add " + root + " as a trusted project in " + userFile + "."
			if trust == "untrusted" {
				l.Disabled = root + " is marked as untrusted in the effective configuration. To load project-local config, hooks, and exec policies, update its trust setting. If that setting is managed by your organization, contact your administrator."
			}
			if doc, err := toml.Parse(text); err == nil {
				l.Doc = doc
			} else {
				l.Doc = toml.NewTableValue(toml.NewTable())
			}
			untrusted = append(untrusted, l)
		} else {
			if _, err := parseLayer(l); err != nil {
				return nil, err
			}
			l.Dropped = dropDenied(l.Doc)
		}
		layers = append(layers, l)
	}
	layers = append(layers, flags, legacy)
	res.Layers = layers

	merged := toml.NewTableValue(toml.NewTable())
	for _, l := range layers {
		if l.Disabled == "" {
			merge(merged, l.Doc, l, nil, res.Origins)
		}
	}
	res.Merged = merged

	if err := checkMerged(merged); err != nil {
		return nil, err
	}

	// Warnings, in the order Codex reports them.
	if len(untrusted) > 0 {
		var b strings.Builder
		b.WriteString("Project-local config, hooks, and exec policies are disabled in the following folders until the project is trusted, but skills still load.\n")
		for i, l := range untrusted {
			b.WriteString("    " + strconv.Itoa(i+1) + ". " + l.DotCodexFolder + "\n       " + l.Disabled + "\n")
		}
		res.warn(b.String(), "This folder's project settings (.codex) are ignored because the project "+root+" is not trusted. Trust it in "+userFile+" ([projects.\""+root+"\"] trust_level = \"trusted\") to apply them.")
	}
	for _, l := range layers {
		if len(l.Dropped) > 0 {
			res.warn("Ignored unsupported project-local config keys in "+l.File+": "+strings.Join(l.Dropped, ", ")+". If you want these settings to apply, manually set them in your user-level config.toml.",
				"A project may not set "+strings.Join(l.Dropped, ", ")+", so Codex ignores "+pronoun(len(l.Dropped))+" in "+l.File+". Set "+pronoun(len(l.Dropped))+" in your own config.toml instead.")
		}
	}
	res.unknownKeys()

	if err := res.applyRequirements(reqs); err != nil {
		return nil, err
	}
	return res, nil
}

func (r *Resolution) warn(codex, plain string) {
	r.Warnings = append(r.Warnings, Warning{Codex: codex, Plain: plain})
}

// parseLayer parses l.Contents into l.Doc, with Codex's load errors.
func parseLayer(l *Layer) (*Layer, error) {
	doc, err := toml.Parse(l.Contents)
	if err != nil {
		se := err.(*toml.SyntaxError)
		line, col := toml.LineCol(l.Contents, se.Span.Start)
		return nil, &LoadError{Message: l.File + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": " + se.Msg}
	}
	l.Doc = doc
	return l, nil
}

// checkMerged applies the load errors Codex raises on the merged config.
func checkMerged(merged *toml.Value) error {
	if p := merged.Tbl.Value("profile"); p != nil && p.Kind == toml.String {
		return &LoadError{Message: "legacy `profile = \"" + p.Str + "\"` config is no longer supported; use `--profile " + p.Str + "` with `" + p.Str + ".config.toml` instead"}
	}
	if ps := Problems(merged); len(ps) > 0 {
		return &LoadError{Message: ps[0].Message}
	}
	return nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	return strings.Join(q, ", ")
}

// unknownKeys reproduces Codex's warning about settings it does not know
// (one line per key, sorted):
// unknown top-level keys, and keys of a [projects."…"] entry other than
// trust_level.
func (r *Resolution) unknownKeys() {
	var lines, keys []string
	for _, l := range r.Layers {
		if l.Disabled != "" || l.Kind == SessionFlags {
			continue
		}
		for _, e := range l.Doc.Tbl.Entries() {
			if !topLevelKeys[e.Key] {
				lines = append(lines, "  "+string(l.Kind)+" ("+l.File+"): `"+e.Key+"` is ignored.")
				keys = append(keys, e.Key)
				continue
			}
			if e.Key == "projects" && e.Value.Kind == toml.Table {
				for _, p := range e.Value.Tbl.Entries() {
					if p.Value.Kind != toml.Table {
						continue
					}
					for _, k := range p.Value.Tbl.Entries() {
						if k.Key != "trust_level" {
							key := "projects." + p.Key + "." + k.Key
							lines = append(lines, "  "+string(l.Kind)+" ("+l.File+"): `"+key+"` is ignored.")
							keys = append(keys, key)
						}
					}
				}
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	// Codex lists them sorted ("project (…)" < "system (…)" < "user (…)").
	sort.Strings(lines)
	noun := "setting"
	if len(lines) > 1 {
		noun = "settings"
	}
	r.warn("Codex is ignoring "+strconv.Itoa(len(lines))+" unrecognized configuration "+noun+". Check for typos or deprecated settings.\n"+strings.Join(lines, "\n"),
		"Codex does not know "+strings.Join(keys, ", ")+" and ignores "+pronoun(len(keys))+"; check the spelling.")
}

// sortedServers returns the merged mcp_servers in name order.
func sortedServers(merged *toml.Value) []*toml.Entry {
	t := tableAt(merged, "mcp_servers")
	if t == nil {
		return nil
	}
	es := append([]*toml.Entry{}, t.Tbl.Entries()...)
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	return es
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// Trusted reports whether the project's config layers apply.
func (r *Resolution) Trusted() bool { return r.TrustLevel == "trusted" }

// OtelSetting is one [otel] leaf as Codex runs with it.
type OtelSetting struct {
	// Key is exporter, metrics_exporter, trace_exporter or
	// log_user_prompt.
	Key string `json:"key"`
	// Value describes it: "none", "statsig" (OpenAI's own),
	// "otlp-http ENDPOINT (PROTOCOL), headers NAMES" (header values are
	// never shown), or true/false.
	Value string `json:"value"`
	// Enforced: a requirement sets it, over config.toml and -c.
	Enforced bool `json:"enforced"`
	// Source names the requirements layer, or the config layer, or
	// "default".
	Source string `json:"source"`
}

// otelDefaults are Codex 0.169.0's defaults (TELEMETRY.md §3.1).
var otelDefaults = []struct{ key, value string }{{"exporter", "none"}, {"metrics_exporter", "statsig"}, {"trace_exporter", "none"}, {"log_user_prompt", "false"}}

func (r *Resolution) resolveOtel(reqs *requirements.Requirements) {
	r.Telemetry = nil
	for _, d := range otelDefaults {
		s := OtelSetting{Key: d.key, Value: d.value, Source: "default"}
		if desc, src, ok := reqs.OtelLeaf(d.key); ok {
			s.Value, s.Enforced, s.Source = desc, true, src.String()
		} else if o := tableAt(r.Merged, "otel"); o != nil && o.Tbl.Value(d.key) != nil {
			s.Value = requirements.DescribeExporter(o.Tbl.Value(d.key))
			if l := originPrefix(r.Origins, "otel."+d.key); l != nil {
				s.Source = l.String()
			}
		}
		r.Telemetry = append(r.Telemetry, s)
	}
}

// originPrefix is the layer of key or of the first leaf under it.
func originPrefix(origins map[string]*Layer, key string) *Layer {
	if l := origins[key]; l != nil {
		return l
	}
	for k, l := range origins {
		if strings.HasPrefix(k, key+".") {
			return l
		}
	}
	return nil
}
