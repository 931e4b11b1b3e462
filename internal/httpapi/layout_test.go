package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// handlerFiles maps each Server method to the file that declares it.
func handlerFiles(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
				out[fd.Name.Name] = f
			}
		}
	}
	return out
}

// routeProblems checks the route table's promises: every route names its
// surface and its error format, and its handler is declared in
// SURFACE_handlers.go.
func routeProblems(routes []Route, declared map[string]string) []string {
	surfaces := map[string]bool{SurfaceOps: true, SurfaceClient: true, SurfaceAdmin: true, SurfaceConfigServer: true, SurfaceTelemetry: true, SurfaceCompliance: true, SurfaceAnalytics: true,
		SurfaceDevice: true, SurfaceSSO: true, SurfaceWeb: true, SurfaceConsole: true, SurfaceSCIM: true, SurfaceGateway: true}
	var problems []string
	for _, rt := range routes {
		name := rt.Method + " " + rt.Path
		if !surfaces[rt.Surface] {
			problems = append(problems, name+": no known surface")
			continue
		}
		if rt.Errors == errorsUnset {
			problems = append(problems, name+": no error format")
		}
		if _, ok := authNames[rt.Auth]; !ok {
			problems = append(problems, name+": unknown authentication kind")
		}
		var fn any = rt.handle
		if rt.handle == nil {
			fn = rt.raw
		}
		full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		method := strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
		if want := rt.Surface + "_handlers.go"; declared[method] != want {
			problems = append(problems, name+": handler "+method+" is in "+declared[method]+", want "+want)
		}
	}
	return problems
}

// TestHandlersLiveWithTheirSurface fails when a route's handler is not in
// its surface's file, or a route does not say its surface, authentication
// and error format.
func TestHandlersLiveWithTheirSurface(t *testing.T) {
	declared := handlerFiles(t)
	for _, p := range routeProblems(Routes(), declared) {
		t.Error(p)
	}
}

// TestRouteLayoutCatchesAMisplacedHandler shows the check failing.
func TestRouteLayoutCatchesAMisplacedHandler(t *testing.T) {
	declared := handlerFiles(t)
	declared["health"] = "admin_handlers.go"
	bad := []Route{
		{Method: "GET", Path: "/healthz", Auth: Public, Surface: SurfaceOps, Errors: JSON, handle: (*Server).health},
		{Method: "GET", Path: "/x", Auth: Public, Surface: SurfaceOps, handle: (*Server).health},
		{Method: "GET", Path: "/y", Auth: Public, Surface: "misc", handle: (*Server).health},
	}
	got := routeProblems(bad, declared)
	want := []string{
		"GET /healthz: handler health is in admin_handlers.go, want ops_handlers.go",
		"GET /x: no error format",
		"GET /x: handler health is in admin_handlers.go, want ops_handlers.go",
		"GET /y: no known surface",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
