package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// AppServer is a running `codex app-server`, spoken to over stdio JSON-RPC,
// in the oracle's private environment.
type AppServer struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte
	cleanup func()
	nextID  int
	mu      sync.Mutex
	// Notifications holds every message without an id, in arrival order.
	Notifications []Notification
}

// Notification is a server-to-client message.
type Notification struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// RPCError is a JSON-RPC error response.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// StartAppServer runs `codex app-server [r.Args...]` with r's files and
// performs the initialize handshake; Close also removes the files.
func (o *Oracle) StartAppServer(ctx context.Context, r Run) (*AppServer, error) {
	m, err := o.Prepare(r)
	if err != nil {
		return nil, err
	}
	s, err := m.StartAppServer(ctx, "", append([]string{"app-server"}, r.Args...)...)
	if err != nil {
		m.Close()
		return nil, err
	}
	s.cleanup = m.Close
	return s, nil
}

// StartAppServer runs `codex args…` (which must start the app-server: the
// top-level options such as -p come before `app-server`) on the machine,
// starting in dir (Cwd when empty), and performs the initialize handshake.
func (m *Machine) StartAppServer(ctx context.Context, dir string, args ...string) (*AppServer, error) {
	cmd := m.command(ctx, dir, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &AppServer{cmd: cmd, stdin: stdin, lines: make(chan []byte, 64), cleanup: func() {}}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			s.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(s.lines)
	}()
	if _, err := s.Call(ctx, "initialize", map[string]any{"clientInfo": map[string]string{"name": "codexgov-oracle", "version": "0"}}); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Notify("initialized", nil); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Notify sends a notification.
func (s *AppServer) Notify(method string, params any) error {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	return s.send(msg)
}

func (s *AppServer) send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.stdin.Write(append(b, '\n'))
	return err
}

// Call sends a request and waits for its response, keeping notifications.
func (s *AppServer) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	s.nextID++
	id := s.nextID
	if err := s.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, fmt.Errorf("%s: no response within 60s", method)
		case line, ok := <-s.lines:
			if !ok {
				return nil, errors.New(method + ": app-server exited")
			}
			var msg struct {
				ID     *int            `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
				Result json.RawMessage `json:"result"`
				Error  *RPCError       `json:"error"`
			}
			if err := json.Unmarshal(line, &msg); err != nil {
				return nil, fmt.Errorf("%s: bad message %q: %w", method, line, err)
			}
			if msg.ID == nil || *msg.ID != id {
				if msg.Method != "" {
					s.Notifications = append(s.Notifications, Notification{Method: msg.Method, Params: msg.Params})
				}
				continue
			}
			if msg.Error != nil {
				return nil, msg.Error
			}
			return msg.Result, nil
		}
	}
}

// Close stops the server and removes its files.
func (s *AppServer) Close() error {
	s.stdin.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cleanup()
	return nil
}
