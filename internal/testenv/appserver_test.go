package testenv

import (
	"context"
	"encoding/json"
	"testing"
)

// loopbackProvider keeps Codex's model traffic on 127.0.0.1 (nothing listens
// on port 9; thread/start does not contact the provider).
const loopbackProvider = `model_provider = "mock"
model = "gpt-test"
[model_providers.mock]
name = "Mock"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"
env_key = "MOCK_KEY"
`

// TestAppServerDriver drives the real app-server through the namespace:
// thread/start reports the effective approval policy and sandbox, and
// requirements turn a disallowed configured value into their fallback.
func TestAppServerDriver(t *testing.T) {
	o := CodexOracle(t)
	ctx := context.Background()
	s, err := o.StartAppServer(ctx, Run{
		Etc:  map[string]string{"requirements.toml": "allowed_approval_policies = [\"untrusted\", \"on-request\"]\n"},
		Home: map[string]string{"config.toml": "approval_policy = \"never\"\n" + loopbackProvider},
		Env:  []string{"MOCK_KEY=x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Call(ctx, "thread/start", map[string]any{"ephemeral": true})
	if err != nil {
		t.Fatal(err)
	}
	var thread struct {
		ApprovalPolicy string `json:"approvalPolicy"`
		Sandbox        struct {
			Type string `json:"type"`
		} `json:"sandbox"`
	}
	if err := json.Unmarshal(res, &thread); err != nil {
		t.Fatal(err)
	}
	if thread.ApprovalPolicy != "untrusted" || thread.Sandbox.Type != "readOnly" {
		t.Errorf("thread/start: approval %q sandbox %q, want the requirements' fallback untrusted and readOnly", thread.ApprovalPolicy, thread.Sandbox.Type)
	}
	want := "Configured value for `approval_policy` is disallowed by requirements; falling back to required value UnlessTrusted. Details: invalid value for `approval_policy`: `Never` is not in the allowed set [UnlessTrusted, OnRequest] (set by /etc/codex/requirements.toml)"
	found := false
	for _, n := range s.Notifications {
		var p struct{ Summary string }
		if n.Method == "configWarning" && json.Unmarshal(n.Params, &p) == nil && p.Summary == want {
			found = true
		}
	}
	if !found {
		t.Errorf("no configWarning %q among %d notifications", want, len(s.Notifications))
	}
}
