package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// FakeResponses is a loopback fake of the Responses API for driving a
// real Codex turn offline: each request of a turn that carries n tool
// outputs gets a call to the shell tool Codex offered running the
// (n+1)th of ToolCommands, and once they are all run a short answer.
// Every stream ends with response.completed and a usage block.
type FakeResponses struct {
	URL          string // base URL, ending in /v1
	ToolCommands []string
	Requests     atomic.Int64
	mu           sync.Mutex
	auth         []string
}

// Authorizations are the Authorization headers of the Responses requests,
// in order.
func (f *FakeResponses) Authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// NewFakeResponses starts the fake until the test ends.
func NewFakeResponses(t testing.TB, toolCommands ...string) *FakeResponses {
	f := &FakeResponses{ToolCommands: toolCommands}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v1"
	return f
}

func (f *FakeResponses) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/responses") {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/models") {
			io.WriteString(w, `{"object":"list","data":[],"models":[]}`)
			return
		}
		io.WriteString(w, `{}`)
		return
	}
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	seq := f.Requests.Add(1)
	var req struct {
		Input []map[string]any `json:"input"`
		Tools []map[string]any `json:"tools"`
	}
	json.Unmarshal(body, &req)
	outputs := 0
	for _, it := range req.Input {
		if t, _ := it["type"].(string); strings.HasSuffix(t, "_call_output") {
			outputs++
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	id := fmt.Sprintf("resp_%d", seq)
	send("response.created", map[string]any{"type": "response.created", "response": map[string]any{"id": id, "status": "in_progress"}})
	tool, args := "", ""
	if outputs < len(f.ToolCommands) {
		command := f.ToolCommands[outputs]
		for _, t := range req.Tools {
			name, _ := t["name"].(string)
			switch {
			case name == "exec_command" && tool == "":
				tool, args = name, mustJSON(map[string]any{"cmd": command})
			case name == "shell_command" && tool == "":
				tool, args = name, mustJSON(map[string]any{"command": command})
			}
		}
	}
	if tool != "" {
		item := map[string]any{"type": "function_call", "id": fmt.Sprintf("fc_%d", seq), "call_id": fmt.Sprintf("call_%d_%d", seq, outputs), "name": tool, "arguments": args, "status": "completed"}
		send("response.output_item.done", map[string]any{"type": "response.output_item.done", "output_index": 0, "item": item})
	} else {
		msg := map[string]any{"type": "message", "id": fmt.Sprintf("msg_%d", seq), "role": "assistant", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": "done", "annotations": []any{}}}}
		send("response.output_item.done", map[string]any{"type": "response.output_item.done", "output_index": 0, "item": msg})
	}
	send("response.completed", map[string]any{"type": "response.completed", "response": map[string]any{"id": id, "status": "completed",
		"usage": map[string]any{"input_tokens": 1234, "input_tokens_details": map[string]any{"cached_tokens": 200}, "output_tokens": 56,
			"output_tokens_details": map[string]any{"reasoning_tokens": 7}, "total_tokens": 1290}}})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
