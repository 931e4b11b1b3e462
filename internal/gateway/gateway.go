// Package gateway relays Codex's model requests (the Responses API) to a
// workspace's upstream provider: the request body decompressed (Codex
// sends zstd to the built-in provider), the caller's credential replaced
// by the upstream's key, everything else Codex sends passed untouched, and
// the answer streamed back event by event as it arrives. On the way it
// learns what a record of the request needs: who and which device, the
// session and turn, the repository from x-codex-turn-metadata, the cwd,
// the model, the input items, the output text, the tool calls and the
// token usage of response.completed (docs/gateway.md).
package gateway

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/zstd"
)

// MaxBody is the largest request body accepted, decompressed: Codex
// re-sends the whole conversation on every request.
const MaxBody = 64 << 20

// Caller is who sent a request, from its gateway credential, and what
// its workspace's records capture.
type Caller struct {
	Workspace, Identity, Device, Credential string
	Capture                                 string
}

// Upstream is where a workspace's model traffic goes: a Responses-
// compatible base URL ("https://api.openai.com/v1") and its key.
type Upstream struct {
	BaseURL, Key string
}

// Repo is one repository of the turn's workspace roots.
type Repo struct {
	Root    string            `json:"root"`
	Remotes map[string]string `json:"remotes,omitempty"`
	Head    string            `json:"head,omitempty"`
	Dirty   bool              `json:"dirty"`
}

// Request is what the gateway read of a model request.
type Request struct {
	Model string
	// Input are the request's input items (the whole history).
	Input []json.RawMessage
	// Session, Turn and Installation come from Codex's headers and its
	// x-codex-turn-metadata; Surface is its originator.
	Session, Turn, Installation, Surface, UserAgent string
	Repos                                           []Repo
	Cwd                                             string
	// Size is the decoded body's length in bytes.
	Size int
}

// Usage is response.completed's token usage.
type Usage struct {
	InputTokens     int64 `json:"input_tokens"`
	CachedTokens    int64 `json:"cached_tokens"`
	OutputTokens    int64 `json:"output_tokens"`
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// ToolCall is a function call the model asked for.
type ToolCall struct {
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Result is what the gateway saw of the answer.
type Result struct {
	Status int
	// Latency is the whole exchange; FirstByte the time to the first
	// event forwarded to Codex.
	Latency, FirstByte time.Duration
	Usage              Usage
	Completed          bool
	Output             string
	ToolCalls          []ToolCall
	// Error is the upstream's error, or why the relay stopped (the
	// client went away: context.Canceled).
	Error string
}

// Error is an answer in the Responses API's error shape, which Codex
// shows to the person.
type Error struct {
	Status  int
	Type    string
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Handler relays /responses. Authenticate resolves the caller and its
// upstream; Admit, when set, sees the parsed request before it is
// forwarded (allowed models, budgets) and returns what to call when it
// completes; Record gets every relayed request.
type Handler struct {
	Authenticate func(r *http.Request) (Caller, Upstream, error)
	Admit        func(ctx context.Context, c Caller, req *Request) (done func(Result), err error)
	Record       func(ctx context.Context, c Caller, req *Request, res *Result)
	// Client reaches the upstreams (its transport: HTTP/1.1 or HTTP/2).
	Client *http.Client
	// CredentialHeader is the header carrying the caller's gateway
	// credential, removed before forwarding.
	CredentialHeader string
	// StreamIdle bounds the wait for each write to Codex (the server's own
	// write timeout does not apply to a stream): DefaultStreamIdle when 0.
	StreamIdle time.Duration

	bg    sync.WaitGroup
	once  sync.Once
	sem   chan struct{}
	mu    sync.Mutex
	tails map[string]chan struct{} // each session's last pending record
}

// DefaultStreamIdle is Codex's own stream idle timeout (300 s).
const DefaultStreamIdle = 5 * time.Minute

// hopHeaders are not forwarded (RFC 9110 §7.6.1), nor are the caller's
// credentials and the body's encoding (the body is sent decoded).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Authorization", "Content-Encoding", "Content-Length", "Host", "Accept-Encoding", "Cookie"}

// ServeHTTP relays one POST …/responses.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	caller, up, err := h.Authenticate(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := DecodeBody(r.Header.Get("Content-Encoding"), http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, err)
		return
	}
	// Only the model is read before forwarding (the checks need it); the
	// rest of the body is read for the record after the answer.
	model, err := ParseModel(body)
	if err != nil {
		writeError(w, err)
		return
	}
	req := &Request{Model: model, Size: len(body)}
	var done func(Result)
	if h.Admit != nil {
		if done, err = h.Admit(r.Context(), caller, req); err != nil {
			writeError(w, err)
			return
		}
	}
	res := h.relay(w, r, up, body, start)
	// Settling and recording come after the answer has ended (Codex's turn
	// does not wait on a database write): in the background, at most
	// maxBackground at a time, beyond which the request waits for them
	// (backpressure, not unbounded memory). Wait drains them.
	after := func() {
		if done != nil {
			done(*res)
		}
		if full, err := ParseRequest(r.Header, body); err == nil {
			*req = *full
		}
		if h.Record != nil {
			h.Record(context.WithoutCancel(r.Context()), caller, req, res)
		}
	}
	// A session's records are written in the order of its requests (each
	// keeps only the items its previous one did not): the order is taken
	// here, before the answer ends and Codex sends the next request.
	key := caller.Workspace + "\x00" + req.Session
	h.mu.Lock()
	if h.tails == nil {
		h.tails = map[string]chan struct{}{}
	}
	prev, mine := h.tails[key], make(chan struct{})
	h.tails[key] = mine
	h.mu.Unlock()
	ordered := func() {
		if prev != nil {
			<-prev
		}
		after()
		close(mine)
		h.mu.Lock()
		if h.tails[key] == mine {
			delete(h.tails, key)
		}
		h.mu.Unlock()
	}
	h.bg.Add(1)
	select {
	case h.slots() <- struct{}{}:
		go func() {
			defer func() { <-h.slots(); h.bg.Done() }()
			ordered()
		}()
	default:
		defer h.bg.Done()
		ordered()
	}
}

// maxBackground bounds the requests being settled and recorded at once.
const maxBackground = 256

func (h *Handler) slots() chan struct{} {
	h.once.Do(func() { h.sem = make(chan struct{}, maxBackground) })
	return h.sem
}

// Wait returns when every relayed request has been settled and recorded.
func (h *Handler) Wait() { h.bg.Wait() }

// relay forwards the request and streams the answer back.
func (h *Handler) relay(w http.ResponseWriter, r *http.Request, up Upstream, body []byte, start time.Time) *Result {
	res := &Result{}
	defer func() { res.Latency = time.Since(start) }()
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimSuffix(up.BaseURL, "/")+"/responses", bytes.NewReader(body))
	if err != nil {
		res.Status, res.Error = http.StatusBadGateway, err.Error()
		writeError(w, &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_unreachable", Message: "codexgov's model gateway has no valid upstream: ask your administrator"})
		return res
	}
	for k, vs := range r.Header {
		out.Header[k] = vs
	}
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
	if h.CredentialHeader != "" {
		out.Header.Del(h.CredentialHeader)
	}
	out.Header.Set("Authorization", "Bearer "+up.Key)
	out.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(out)
	if err != nil {
		res.Status, res.Error = http.StatusBadGateway, err.Error()
		if r.Context().Err() != nil {
			res.Status, res.Error = 499, context.Canceled.Error()
			return res
		}
		writeError(w, &Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_unreachable", Message: "codexgov's model gateway could not reach the model provider: " + err.Error()})
		return res
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	for _, k := range []string{"Content-Type", "Openai-Processing-Ms", "X-Request-Id", "Retry-After"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	for k, vs := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-ratelimit-") {
			w.Header()[k] = vs
		}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
		res.FirstByte = time.Since(start)
		if resp.StatusCode != http.StatusOK {
			res.Error = string(b)
		}
		return res
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	idle := cmp.Or(h.StreamIdle, DefaultStreamIdle)
	rc.SetWriteDeadline(time.Now().Add(idle)) // not every writer has deadlines
	rc.Flush()
	var p streamParser
	err = Relay(resp.Body, func(event []byte, more bool) error {
		if res.FirstByte == 0 {
			res.FirstByte = time.Since(start)
		}
		rc.SetWriteDeadline(time.Now().Add(idle))
		if _, err := w.Write(event); err != nil {
			return err
		}
		// Flushed unless more has arrived already (a burst goes out in
		// one write, as a proxy's read-then-write does): nothing that has
		// arrived waits on what has not.
		if !more {
			if err := rc.Flush(); err != nil {
				return err
			}
		}
		p.event(event, res)
		return nil
	})
	if err != nil {
		res.Error = err.Error()
		if r.Context().Err() != nil {
			res.Status, res.Error = 499, context.Canceled.Error()
		}
	}
	return res
}

// Relay reads an SSE stream and hands each whole event (its lines and
// the blank line ending it) to emit as soon as it is complete, saying
// whether more of the stream has arrived already (more).
func Relay(body io.Reader, emit func(event []byte, more bool) error) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var ev []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			ev = append(ev, line...)
			continue
		}
		ev = append(ev, line...)
		if err == nil && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
			if e := emit(ev, br.Buffered() > 0); e != nil {
				return e
			}
			ev = ev[:0]
			continue
		}
		if err != nil {
			if len(bytes.TrimSpace(ev)) > 0 {
				if e := emit(ev, false); e != nil {
					return e
				}
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// streamParser reads the events Codex needs, as they pass.
type streamParser struct{}

func (streamParser) event(ev []byte, res *Result) {
	var data []byte
	for line := range bytes.Lines(ev) {
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = append(data, bytes.TrimSpace(d)...)
		}
	}
	if len(data) == 0 || data[0] != '{' {
		return
	}
	// Most events are deltas: only the few that carry what a record needs
	// are decoded.
	if !bytes.Contains(data, []byte(`"response.output_item.done"`)) && !bytes.Contains(data, []byte(`"response.completed"`)) &&
		!bytes.Contains(data, []byte(`"response.failed"`)) && !bytes.Contains(data, []byte(`"response.incomplete"`)) {
		return
	}
	var e struct {
		Type string `json:"type"`
		Item struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
			CallID    string `json:"call_id"`
			Content   []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"item"`
		Response struct {
			Usage *struct {
				InputTokens        int64 `json:"input_tokens"`
				InputTokensDetails struct {
					CachedTokens int64 `json:"cached_tokens"`
				} `json:"input_tokens_details"`
				OutputTokens        int64 `json:"output_tokens"`
				OutputTokensDetails struct {
					ReasoningTokens int64 `json:"reasoning_tokens"`
				} `json:"output_tokens_details"`
			} `json:"usage"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"response"`
	}
	if json.Unmarshal(data, &e) != nil {
		return
	}
	switch e.Type {
	case "response.output_item.done":
		switch e.Item.Type {
		case "message":
			for _, c := range e.Item.Content {
				if c.Type == "output_text" {
					res.Output += c.Text
				}
			}
		case "function_call", "custom_tool_call":
			res.ToolCalls = append(res.ToolCalls, ToolCall{CallID: e.Item.CallID, Name: e.Item.Name, Arguments: e.Item.Arguments})
		}
	case "response.completed":
		res.Completed = true
		if u := e.Response.Usage; u != nil {
			res.Usage = Usage{InputTokens: u.InputTokens, CachedTokens: u.InputTokensDetails.CachedTokens, OutputTokens: u.OutputTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
		}
	case "response.failed", "response.incomplete":
		if e.Response.Error != nil {
			res.Error = e.Response.Error.Message
		}
	}
}

// DecodeBody reads a request body in its Content-Encoding: zstd (what
// Codex's built-in provider sends), gzip, or none; decoded, it may be at
// most MaxBody bytes.
func DecodeBody(encoding string, body io.Reader) ([]byte, error) {
	var r io.Reader
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		r = body
	case "zstd":
		d, err := zstd.NewReader(body, zstd.WithDecoderMaxMemory(MaxBody), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, badRequest("the request body is not zstd: %v", err)
		}
		defer d.Close()
		r = d
	case "gzip":
		g, err := gzip.NewReader(body)
		if err != nil {
			return nil, badRequest("the request body is not gzip: %v", err)
		}
		r = g
	default:
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Type: "invalid_request_error", Code: "unsupported_encoding", Message: fmt.Sprintf("Content-Encoding %q: want zstd, gzip or none", encoding)}
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: "request_too_large", Message: fmt.Sprintf("the request body is over %d bytes", MaxBody)}
		}
		return nil, badRequest("the request body (Content-Encoding %q) could not be read: %v", cmp.Or(encoding, "none"), err)
	}
	if len(b) > MaxBody {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: "request_too_large", Message: fmt.Sprintf("the request body is over %d bytes decoded", MaxBody)}
	}
	return b, nil
}

func badRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "invalid_request", Message: fmt.Sprintf(format, a...)}
}

var cwdRE = regexp.MustCompile(`<cwd>([^<]*)</cwd>`)

// ParseModel reads a request body's top-level "model", skipping the other
// values without decoding them (the history can be megabytes).
func ParseModel(body []byte) (string, error) {
	d := jsontext.NewDecoder(bytes.NewReader(body))
	if t, err := d.ReadToken(); err != nil || t.Kind() != '{' {
		return "", badRequest("the request body is not a Responses API request: want a JSON object")
	}
	model := ""
	for d.PeekKind() != '}' {
		k, err := d.ReadToken()
		if err != nil {
			return "", badRequest("the request body is not a Responses API request: %v", err)
		}
		if k.String() == "model" {
			v, err := d.ReadToken()
			if err != nil || v.Kind() != '"' {
				return "", badRequest("the request's model is not a string")
			}
			model = v.String()
			continue
		}
		if err := d.SkipValue(); err != nil {
			return "", badRequest("the request body is not a Responses API request: %v", err)
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return "", badRequest("the request body is not a Responses API request: %v", err)
	}
	if model == "" {
		return "", badRequest("the request names no model")
	}
	return model, nil
}

// ParseRequest reads the request body and Codex's headers.
func ParseRequest(h http.Header, body []byte) (*Request, error) {
	var b struct {
		Model string            `json:"model"`
		Input []json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, badRequest("the request body is not a Responses API request: %v", err)
	}
	if b.Model == "" {
		return nil, badRequest("the request names no model")
	}
	req := &Request{Model: b.Model, Input: b.Input, Session: h.Get("Session-Id"), Surface: h.Get("Originator"), UserAgent: h.Get("User-Agent"), Size: len(body)}
	var meta struct {
		InstallationID string `json:"installation_id"`
		SessionID      string `json:"session_id"`
		TurnID         string `json:"turn_id"`
		Workspaces     map[string]struct {
			Remotes map[string]string `json:"associated_remote_urls"`
			Head    string            `json:"latest_git_commit_hash"`
			Dirty   bool              `json:"has_changes"`
		} `json:"workspaces"`
	}
	if m := h.Get("X-Codex-Turn-Metadata"); m != "" && json.Unmarshal([]byte(m), &meta) == nil {
		req.Installation, req.Turn = meta.InstallationID, meta.TurnID
		if req.Session == "" {
			req.Session = meta.SessionID
		}
		for _, root := range slices.Sorted(maps.Keys(meta.Workspaces)) {
			w := meta.Workspaces[root]
			req.Repos = append(req.Repos, Repo{Root: root, Remotes: w.Remotes, Head: w.Head, Dirty: w.Dirty})
		}
	}
	// The cwd is in the environment context Codex puts in a user message.
	for _, it := range b.Input {
		if m := cwdRE.FindSubmatch(it); m != nil {
			var s string
			if json.Unmarshal([]byte(`"`+string(m[1])+`"`), &s) == nil {
				req.Cwd = s
			}
		}
	}
	return req, nil
}

// writeError answers in the Responses API's error shape.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Type: "server_error", Code: "internal_error", Message: "codexgov's model gateway failed: " + err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "code": e.Code, "param": nil}})
}

// PromptText is the text of the last user message among items that is
// not Codex's own context (<environment_context>, instructions): what the
// person typed.
func PromptText(items []json.RawMessage) string {
	for i := len(items) - 1; i >= 0; i-- {
		var m struct {
			Type    string `json:"type"`
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		}
		if json.Unmarshal(items[i], &m) != nil || m.Type != "message" || m.Role != "user" {
			continue
		}
		var parts []string
		for _, c := range m.Content {
			t := strings.TrimSpace(c.Text)
			if c.Type == "input_text" && t != "" && !strings.HasPrefix(t, "<environment_context>") && !strings.HasPrefix(t, "<user_instructions>") && !strings.HasPrefix(t, "# AGENTS.md") {
				parts = append(parts, c.Text)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "\n")
		}
	}
	return ""
}
