// Package buildinfo says which codexgov this is: the version stamped at
// build time, else the module version or the VCS revision Go recorded.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// version is stamped by release builds:
//
//	go build -ldflags "-X github.com/codexgov/codexgov/internal/buildinfo.version=1.4.0" ./cmd/codexgov
var version string

// Info is what `codexgov version --json` prints and /metrics exports as
// codexgov_build_info.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Read returns this binary's build information.
func Read() Info {
	in := Info{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Revision = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
	}
	if in.Version == "" {
		in.Version = "devel"
		if in.Revision != "" {
			in.Version += "+" + short(in.Revision)
			if in.Modified {
				in.Version += "-dirty"
			}
		}
	}
	return in
}

// Version is Read().Version.
func Version() string { return Read().Version }

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
