package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// The admin console: server-rendered pages, one layout, readable without
// JavaScript; htmx makes forms faster and the policy editor lint as you
// type; uPlot draws the dashboard's charts from the numbers its tables
// show.

//go:embed console/*.html
var consoleFiles embed.FS

var consoleFuncs = template.FuncMap{
	"asset": AssetURL,
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := time.Since(t)
		switch {
		case d < time.Minute:
			return "just now"
		case d < time.Hour:
			return fmt.Sprintf("%d min ago", int(d/time.Minute))
		case d < 48*time.Hour:
			return fmt.Sprintf("%d h ago", int(d/time.Hour))
		}
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	},
	"join":  strings.Join,
	"split": strings.Fields,
	"add":   func(a, b int) int { return a + b },
	"num": func(n int64) string {
		s := fmt.Sprint(n)
		if n < 0 {
			return s
		}
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	},
	"usd": func(f float64) string { return fmt.Sprintf("$%.2f", f) },
	// chart carries a chart's data for console.js as JSON in a script
	// element (html/template escapes it for that context).
	"chart": func(c Chart) (template.JS, error) {
		b, err := json.Marshal(c)
		return template.JS(b), err //nolint:gosec // JSON of our own numbers, escaped by Marshal
	},
}

// consolePages are the console's templates: each page's "content" with
// the shared layout.
var consolePages = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(consoleFuncs).ParseFS(consoleFiles, "console/layout.html"))
	entries, err := consoleFiles.ReadDir("console")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(consoleFiles, "console/"+e.Name()))
	}
	return out
}()

// ConsoleHeaders are the console pages' security headers: scripts and
// styles from this server only, requests to it only, no framing.
func ConsoleHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

// NavItem is one entry of the console's sidebar.
type NavItem struct {
	Href, Label string
	Current     bool
}

// Console is what every console page carries: who is signed in where,
// the sidebar, a notice or error, and the page's own data.
type Console struct {
	Workspace, Email, CSRF string
	// Page is the sidebar entry the page belongs to; Template, when set,
	// the template that draws it (else Page's).
	Page, Template, Title string
	Nav                   []NavItem
	// CanWrite is whether the person may change things (codex_admin);
	// pages show no write controls otherwise.
	CanWrite      bool
	Notice, Error string
	Data          any
}

// RenderConsole writes a console page; fragment writes only its
// "fragment" template (an htmx partial).
func RenderConsole(w http.ResponseWriter, status int, c Console, fragment bool) error {
	name := c.Page
	if c.Template != "" {
		name = c.Template
	}
	t, ok := consolePages[name]
	if !ok {
		return fmt.Errorf("web: no console page %q", name)
	}
	part := "layout"
	if fragment {
		part = "fragment"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, c); err != nil {
		return err
	}
	ConsoleHeaders(w.Header())
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Chart is one chart of the dashboard: times (Unix seconds) and a series
// per label; Target is the element it is drawn in.
type Chart struct {
	Target string        `json:"target"`
	Title  string        `json:"title"`
	X      []int64       `json:"x"`
	Series []ChartSeries `json:"series"`
}

// ChartSeries is one line of a chart.
type ChartSeries struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}
