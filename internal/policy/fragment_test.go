package policy

import (
	"testing"

	"github.com/codexgov/codexgov"
)

func TestFragmentRules(t *testing.T) {
	for _, tc := range []struct {
		req       string
		errKey    string
		warnKey   string
		line, col int
	}{
		{req: "allowed_sandbox_modes = [\"read-only\"]\n\n[config_server]\nbase_url = \"https://x/y\"\n", errKey: "config_server", line: 3, col: 2},
		{req: "config_server.base_url = \"https://x/y\"\n", errKey: "config_server", line: 1, col: 1},
		{req: "allowed_login_methods = [\"chatgpt\"]\n", warnKey: "allowed_login_methods", line: 1, col: 1},
		// Inside another table the key is not top-level.
		{req: "[features]\nconfig_server = true\n"},
	} {
		warns, err := Validate(codexgov.PolicyInput{Name: "p", Requirements: tc.req})
		var e *codexgov.Error
		if tc.errKey != "" {
			if !asError(err, &e) {
				t.Fatalf("%q: want an error, got %v", tc.req, err)
			}
			found := false
			for _, d := range e.Details {
				if d.Key == tc.errKey && d.Line == tc.line && d.Column == tc.col {
					found = true
				}
			}
			if !found {
				t.Errorf("%q: no %s detail at %d:%d in %+v", tc.req, tc.errKey, tc.line, tc.col, e.Details)
			}
			continue
		}
		if err != nil && tc.warnKey != "" {
			t.Fatalf("%q: %v", tc.req, err)
		}
		found := false
		for _, d := range warns {
			if d.Key == tc.warnKey && d.Code == "dropped-in-fragment" {
				found = d.Line == tc.line && d.Column == tc.col
			}
		}
		if (tc.warnKey != "") != found {
			t.Errorf("%q: dropped-in-fragment warning found=%v, want %v (%+v)", tc.req, found, tc.warnKey != "", warns)
		}
	}
}

func asError(err error, e **codexgov.Error) bool {
	x, ok := err.(*codexgov.Error)
	*e = x
	return ok
}
