package config

// AppServerTrust is what Codex 0.169.0's app-server does when it starts a
// thread in a folder whose trust is not set. The app-server is what the
// IDE extension and the desktop app run; the terminal CLI (`codex`,
// `codex exec`) does not do this.
//
// Observed on the binary (thread/start with a cwd): when
//   - no [projects."…"] trust_level applies to the folder (looked up for
//     the folder, its project root and its git repository),
//   - the folder is in a project: a .git entry or a project_root_markers
//     entry sits in it or above it, or a .codex folder sits between the
//     project root and it,
//   - and the thread's sandbox is writable: the configured sandbox after
//     requirements, or the one the client asks for when requirements allow
//     it,
//
// the app-server writes [projects."<target>"] trust_level = "trusted" into
// the user's config.toml (target: the git repository's trust root, else
// the folder itself), loads the configuration again, and runs the thread
// with the project's .codex layers applied. Every later Codex start on the
// machine, the CLI's included, then sees the project as trusted.
type AppServerTrust struct {
	// Target is the folder written into config.toml as trusted.
	Target string
	// Automatic is true when a thread started with no sandbox of its own
	// does it: the configured sandbox is already writable.
	Automatic bool
	// OnRequest lists the writable sandboxes (workspace-write,
	// danger-full-access) the requirements allow: a thread that asks for
	// one of them does it. The IDE extension and the desktop app ask for
	// one when the user picks a writable mode.
	OnRequest []string
	// Trusted is the configuration the thread runs with (nil when Error is
	// set): the same files with the project trusted.
	Trusted *Resolution
	// Error is the load error the thread start then fails with ("" when it
	// starts). The trust entry is written before the reload, so it stays.
	Error string
	// Warnings are the configuration warnings the app-server reports for
	// that thread: its startup warnings (from before the rewrite), then the
	// ones only the trusted configuration has.
	Warnings []Warning
}

// writable sandbox modes, in Codex's config spelling.
var writableModes = []string{"workspace-write", "danger-full-access"}

// AppServerStart predicts what an app-server thread start makes of the
// machine resolved as r (by Resolve(m)); nil when it leaves the trust as it
// is: the trust is set, the folder is in no project, or no writable
// sandbox is possible.
func AppServerStart(m Machine, r *Resolution) *AppServerTrust {
	if r.TrustLevel != "" || m.TrustProject != "" {
		return nil
	}
	inProject := r.inGit || r.markerFound
	for _, l := range r.Layers {
		if l.Kind == Project {
			inProject = true
		}
	}
	if !inProject {
		return nil
	}
	t := &AppServerTrust{Target: r.GitRoot}
	if t.Target == "" {
		t.Target = m.Cwd
	}
	for _, mode := range writableModes {
		if r.SandboxMode.Value == mode {
			t.Automatic = true
		}
		if a := r.Requirements.AllowedSandboxModes(); a == nil || a.Has(mode) {
			t.OnRequest = append(t.OnRequest, mode)
		}
	}
	if !t.Automatic && len(t.OnRequest) == 0 {
		return nil
	}
	trusted := m
	trusted.TrustProject = t.Target
	res, err := Resolve(trusted)
	if err != nil {
		t.Error = err.Error()
		return t
	}
	t.Trusted = res
	seen := map[string]bool{}
	for _, w := range r.Warnings {
		seen[w.Codex] = true
		t.Warnings = append(t.Warnings, w)
	}
	for _, w := range res.Warnings {
		if !seen[w.Codex] {
			t.Warnings = append(t.Warnings, w)
		}
	}
	return t
}
