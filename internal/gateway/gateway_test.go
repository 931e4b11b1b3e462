package gateway

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// upstream is a loopback Responses provider: it records what it got and
// streams a turn (text and one tool call), waiting on step between
// events when the test holds it.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
	// step, when set, is received from before each event after the first.
	step chan struct{}
	// gone is closed when a request's context ends before its stream does.
	gone chan struct{}
}

const metadata = `{"installation_id":"inst-1","session_id":"th-1","thread_id":"th-1","turn_id":"turn-7","workspaces":{"/home/dev/src/repo":{"associated_remote_urls":{"origin":"https://github.com/acme/repo.git"},"latest_git_commit_hash":"08b36e01aa","has_changes":true}},"model":"gpt-5.1-codex"}`

func sse(event string, data any) string {
	b, _ := json.Marshal(data)
	return "event: " + event + "\ndata: " + string(b) + "\n\n"
}

// turnEvents is what the fake streams: text, a tool call, usage.
var turnEvents = []string{
	sse("response.created", map[string]any{"type": "response.created", "response": map[string]any{"id": "resp_1"}}),
	sse("response.output_text.delta", map[string]any{"type": "response.output_text.delta", "delta": "Hello"}),
	sse("response.output_item.done", map[string]any{"type": "response.output_item.done", "item": map[string]any{"type": "message", "role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": "Hello from the model"}}}}),
	sse("response.output_item.done", map[string]any{"type": "response.output_item.done", "item": map[string]any{"type": "function_call", "name": "exec_command", "arguments": `{"cmd":"ls"}`, "call_id": "call_1"}}),
	sse("response.completed", map[string]any{"type": "response.completed", "response": map[string]any{"id": "resp_1", "usage": map[string]any{"input_tokens": 1234, "input_tokens_details": map[string]any{"cached_tokens": 200}, "output_tokens": 56, "output_tokens_details": map[string]any{"reasoning_tokens": 7}, "total_tokens": 1290}}}),
}

func newUpstream(t *testing.T, h2 bool) *upstream {
	u := &upstream{gone: make(chan struct{}, 8)}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got, u.body = append(u.got, r), append(u.body, b)
		step := u.step
		u.mu.Unlock()
		if strings.Contains(string(b), `"rate-limit-me"`) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i, ev := range turnEvents {
			if i > 0 && step != nil {
				select {
				case <-step:
				case <-r.Context().Done():
					u.gone <- struct{}{}
					return
				}
			}
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}))
	if h2 {
		u.srv.EnableHTTP2 = true
		u.srv.StartTLS()
	} else {
		u.srv.Start()
	}
	t.Cleanup(u.srv.Close)
	return u
}

type recorded struct {
	caller Caller
	req    *Request
	res    *Result
}

// newGateway serves a Handler in front of up, over HTTP/2 and TLS when h2.
func newGateway(t *testing.T, up *upstream, h2 bool) (*httptest.Server, chan recorded) {
	recs := make(chan recorded, 8)
	h := &Handler{
		Authenticate: func(r *http.Request) (Caller, Upstream, error) {
			if r.Header.Get("Codexgov-Gateway-Token") != "tok-ann" {
				return Caller{}, Upstream{}, &Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "codexgov: no valid gateway credential"}
			}
			return Caller{Workspace: "acme", Identity: "user:ann@acme.test", Device: "laptop"}, Upstream{BaseURL: up.srv.URL + "/v1", Key: "sk-upstream-secret"}, nil
		},
		Record: func(_ context.Context, c Caller, req *Request, res *Result) {
			recs <- recorded{c, req, res}
		},
		Client:           up.srv.Client(),
		CredentialHeader: "Codexgov-Gateway-Token",
	}
	srv := httptest.NewUnstartedServer(h)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, recs
}

func codexRequest(t *testing.T, url, encoding string, body []byte) *http.Request {
	t.Helper()
	switch encoding {
	case "zstd":
		enc, _ := zstd.NewWriter(nil)
		body = enc.EncodeAll(body, nil)
	case "gzip":
		var b bytes.Buffer
		g := gzip.NewWriter(&b)
		g.Write(body)
		g.Close()
		body = b.Bytes()
	}
	req, err := http.NewRequest("POST", url+"/gateway/v1/responses", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	req.Header.Set("Codexgov-Gateway-Token", "tok-ann")
	req.Header.Set("Authorization", "Bearer codex-own-key")
	req.Header.Set("Session-Id", "th-1")
	req.Header.Set("Originator", "codex_exec")
	req.Header.Set("User-Agent", "codex_exec/0.169.0")
	req.Header.Set("X-Codex-Turn-Metadata", metadata)
	req.Header.Set("X-Codex-Window-Id", "th-1:0")
	return req
}

var turnBody = []byte(`{"model":"gpt-5.1-codex","stream":true,"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n  <cwd>/home/dev/src/repo/sub</cwd>\n</environment_context>"}]},{"type":"message","role":"user","content":[{"type":"input_text","text":"list the files"}]}],"store":false}`)

// TestRelayAndRecord: for each body encoding and protocol, the upstream
// gets the decoded body, its own key instead of Codex's credential and
// the gateway token, and Codex's headers untouched; Codex gets every event
// byte for byte; the record holds the repository, cwd, output, tool call
// and usage.
func TestRelayAndRecord(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		for _, enc := range []string{"", "gzip", "zstd"} {
			t.Run(fmt.Sprintf("h2=%v/%s", h2, enc), func(t *testing.T) {
				up := newUpstream(t, h2)
				gw, recs := newGateway(t, up, h2)
				resp, err := gw.Client().Do(codexRequest(t, gw.URL, enc, turnBody))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := 1; h2 && resp.ProtoMajor != 2 {
					t.Errorf("Codex side spoke HTTP/%d, want %d", resp.ProtoMajor, want+1)
				}
				if resp.StatusCode != 200 || string(got) != strings.Join(turnEvents, "") {
					t.Fatalf("%d, stream differs:\n%s", resp.StatusCode, got)
				}
				r, b := up.got[0], up.body[0]
				if h2 && r.ProtoMajor != 2 {
					t.Errorf("upstream side spoke HTTP/%d", r.ProtoMajor)
				}
				if !bytes.Equal(b, turnBody) || r.Header.Get("Content-Encoding") != "" {
					t.Errorf("upstream body (encoding %q): %s", r.Header.Get("Content-Encoding"), b)
				}
				if r.Header.Get("Authorization") != "Bearer sk-upstream-secret" || r.Header.Get("Codexgov-Gateway-Token") != "" {
					t.Errorf("credentials forwarded: %v", r.Header)
				}
				for _, k := range []string{"Session-Id", "Originator", "User-Agent", "X-Codex-Turn-Metadata", "X-Codex-Window-Id", "Accept"} {
					if r.Header.Get(k) == "" {
						t.Errorf("%s not passed to the upstream", k)
					}
				}
				if r.URL.Path != "/v1/responses" {
					t.Errorf("upstream path %s", r.URL.Path)
				}
				rec := <-recs
				req, res := rec.req, rec.res
				if rec.caller.Identity != "user:ann@acme.test" || req.Model != "gpt-5.1-codex" || req.Session != "th-1" || req.Turn != "turn-7" || req.Installation != "inst-1" || req.Surface != "codex_exec" || len(req.Input) != 2 {
					t.Errorf("request: %+v", req)
				}
				if len(req.Repos) != 1 || req.Repos[0].Root != "/home/dev/src/repo" || req.Repos[0].Remotes["origin"] != "https://github.com/acme/repo.git" || req.Repos[0].Head != "08b36e01aa" || !req.Repos[0].Dirty {
					t.Errorf("repos: %+v", req.Repos)
				}
				if req.Cwd != "/home/dev/src/repo/sub" {
					t.Errorf("cwd %q", req.Cwd)
				}
				if res.Status != 200 || !res.Completed || res.Output != "Hello from the model" || len(res.ToolCalls) != 1 || res.ToolCalls[0] != (ToolCall{"call_1", "exec_command", `{"cmd":"ls"}`}) ||
					res.Usage != (Usage{1234, 200, 56, 7}) || res.FirstByte <= 0 || res.Latency < res.FirstByte {
					t.Errorf("result: %+v", res)
				}
			})
		}
	}
}

// TestStreamsEventByEvent: Codex reads the first event while the
// upstream still holds the second, on HTTP/1.1 and HTTP/2: nothing is
// buffered. A buffering relay would never answer (bounded by a deadline).
func TestStreamsEventByEvent(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			up := newUpstream(t, h2)
			up.step = make(chan struct{})
			gw, recs := newGateway(t, up, h2)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := gw.Client().Do(codexRequest(t, gw.URL, "", turnBody).WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for i, want := range turnEvents {
				var got strings.Builder
				for !strings.HasSuffix(got.String(), "\n\n") {
					line, err := br.ReadString('\n')
					if err != nil {
						t.Fatalf("event %d: %v (a relay that buffers does not pass it before the next)", i, err)
					}
					got.WriteString(line)
				}
				if got.String() != want {
					t.Fatalf("event %d: %q", i, got.String())
				}
				if i < len(turnEvents)-1 {
					up.step <- struct{}{} // the upstream sends the next only now
				}
			}
			if rec := <-recs; !rec.res.Completed {
				t.Errorf("result: %+v", rec.res)
			}
		})
	}
}

// TestClientGoneCancelsUpstream: Codex closing the stream mid-turn ends
// the upstream request too, and the record says so.
func TestClientGoneCancelsUpstream(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			up := newUpstream(t, h2)
			up.step = make(chan struct{})
			gw, recs := newGateway(t, up, h2)
			ctx, cancel := context.WithCancel(context.Background())
			resp, err := gw.Client().Do(codexRequest(t, gw.URL, "", turnBody).WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(resp.Body).ReadString('\n')
			if !strings.HasPrefix(line, "event: response.created") {
				t.Fatalf("first line %q", line)
			}
			cancel()
			resp.Body.Close()
			select {
			case <-up.gone:
			case <-time.After(20 * time.Second):
				t.Fatal("the upstream request was not cancelled")
			}
			if rec := <-recs; rec.res.Status != 499 || rec.res.Completed {
				t.Errorf("result after the client left: %+v", rec.res)
			}
		})
	}
}

// TestRefusals: bad credentials, encodings and bodies are answered in the
// Responses API's error shape without reaching the upstream; an upstream
// error passes through with its status.
func TestRefusals(t *testing.T) {
	up := newUpstream(t, false)
	gw, recs := newGateway(t, up, false)
	for _, tc := range []struct {
		name   string
		mutate func(*http.Request)
		body   string
		status int
		want   string
	}{
		{"no credential", func(r *http.Request) { r.Header.Del("Codexgov-Gateway-Token") }, string(turnBody), 401, "no valid gateway credential"},
		{"unknown encoding", func(r *http.Request) { r.Header.Set("Content-Encoding", "br") }, string(turnBody), 415, `want zstd, gzip or none`},
		{"bad zstd", func(r *http.Request) { r.Header.Set("Content-Encoding", "zstd") }, "not zstd at all", 400, "zstd"},
		{"not JSON", nil, "{", 400, "not a Responses API request"},
		{"no model", nil, `{"input":[]}`, 400, "names no model"},
	} {
		req := codexRequest(t, gw.URL, "", []byte(tc.body))
		if tc.mutate != nil {
			tc.mutate(req)
		}
		resp, err := gw.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Message, Type, Code string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.want) || e.Error.Type == "" {
			t.Errorf("%s: %d %+v", tc.name, resp.StatusCode, e)
		}
	}
	if len(up.got) != 0 {
		t.Errorf("refused requests reached the upstream: %d", len(up.got))
	}
	resp, err := gw.Client().Do(codexRequest(t, gw.URL, "", []byte(`{"model":"rate-limit-me","input":[]}`)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(string(b), "Rate limit reached") {
		t.Errorf("upstream error: %d %s", resp.StatusCode, b)
	}
	if rec := <-recs; rec.res.Status != 429 || !strings.Contains(rec.res.Error, "Rate limit") {
		t.Errorf("record of the upstream error: %+v", rec.res)
	}
}
