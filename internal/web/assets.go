package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
)

// The console's browser assets: htmx and uPlot, vendored from npm at
// pinned versions with their licences (assets/VERSIONS, SHA256SUMS;
// scripts/vendor-web-assets.sh), and the console's own script and
// stylesheet. All are embedded: nothing is fetched from elsewhere, at
// build or at run time.
//
//go:embed assets/htmx.min.js assets/uPlot.iife.min.js assets/uPlot.min.css assets/console.js assets/style.css
var assetFS embed.FS

type asset struct {
	body        []byte
	contentType string
	version     string
}

var assets = func() map[string]asset {
	out := map[string]asset{}
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		ct := "application/javascript; charset=utf-8"
		if strings.HasSuffix(e.Name(), ".css") {
			ct = "text/css; charset=utf-8"
		}
		out[e.Name()] = asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return out
}()

// AssetURL is an asset's address, versioned by its content so that it may
// be cached for ever.
func AssetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("web: no asset " + name)
	}
	return "/assets/" + name + "?v=" + a.version
}

// ServeAsset writes the asset named by the request's last path element,
// or reports false when there is none.
func ServeAsset(w http.ResponseWriter, r *http.Request) bool {
	a, ok := assets[path.Base(r.URL.Path)]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+a.version+`"`)
	if r.Header.Get("If-None-Match") == `"`+a.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	w.Write(a.body)
	return true
}
