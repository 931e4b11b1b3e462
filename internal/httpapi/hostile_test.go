package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestHostileInputs drives every route of the table with generated
// hostile input — path ids, query values, headers, JSON bodies shaped on
// the route's documented input and mutated, forms — against a real server
// on SQLite and on PostgreSQL, and wants no answer of 500 or more.
// CODEXGOV_HOSTILE_INPUTS sets the number per database (500 by default;
// `make fuzz` runs 100,000), CODEXGOV_HOSTILE_SEED the seed.
func TestHostileInputs(t *testing.T) {
	n := 500
	if v := os.Getenv("CODEXGOV_HOSTILE_INPUTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("CODEXGOV_HOSTILE_INPUTS=%q: %v", v, err)
		}
	}
	seed := uint64(20261203)
	if v := os.Getenv("CODEXGOV_HOSTILE_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CODEXGOV_HOSTILE_SEED=%q: %v", v, err)
		}
		seed = s
	}
	for _, db := range []struct {
		name string
		dsn  func() string
	}{{"sqlite", func() string { return filepath.Join(t.TempDir(), "db") }}, {"postgres", func() string { return testenv.PostgresSchema(t) }}} {
		t.Run(db.name, func(t *testing.T) {
			f := newFixtureWith(t, db.dsn(), Options{Limits: &Limits{}})
			hostileRun(t, f, n, seed)
		})
	}
}

func hostileRun(t *testing.T, f *fixture, n int, seed uint64) {
	routes := Routes()
	var sent, failures atomic.Int64
	statuses := sync.Map{}
	var mu sync.Mutex
	shown := 0
	work := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var req *http.Request
				var resp *http.Response
				// An input the HTTP client itself refuses to send (a NUL in
				// a header) is drawn again, so that n inputs reach the server.
				for attempt := uint64(0); ; attempt++ {
					r := rand.New(rand.NewPCG(seed, uint64(i)<<8|attempt))
					req = hostileRequest(r, f, routes[r.IntN(len(routes))])
					var err error
					if resp, err = client.Do(req); err == nil {
						break
					}
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				c, _ := statuses.LoadOrStore(resp.StatusCode, new(atomic.Int64))
				c.(*atomic.Int64).Add(1)
				if resp.StatusCode >= 500 {
					failures.Add(1)
					mu.Lock()
					if shown < 10 {
						shown++
						t.Errorf("input %d (seed %d): %s %s → %d\nheaders: %v", i, seed, req.Method, req.URL, resp.StatusCode, req.Header)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	var counts []string
	statuses.Range(func(k, v any) bool {
		counts = append(counts, fmt.Sprintf("%d×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("hostile inputs: %d sent over %d routes, %d answers ≥ 500 (statuses %s)", sent.Load(), len(routes), failures.Load(), strings.Join(counts, " "))
}

// hostileText returns one of the strings that break naive handlers.
func hostileText(r *rand.Rand, f *fixture) string {
	switch r.IntN(16) {
	case 0:
		return ""
	case 1:
		return "a\x00b"
	case 2:
		return "\xff\xfe\xc3\x28"
	case 3:
		return strings.Repeat("x", 1+r.IntN(70000))
	case 4:
		return "../../etc/passwd"
	case 5:
		return `..\/\evil.example`
	case 6:
		return "9223372036854775808"
	case 7:
		return "-1"
	case 8:
		return "2147483648"
	case 9:
		return "ann@victim.test"
	case 10:
		return pick(r, "victim", "attacker", "eng-victim", "role-victim", "policy-victim", f.ids["victim/user"], f.ids["victim/group"], f.ids["kid"])
	case 11:
		return "😀\u202e\u200b"
	case 12:
		return "<script>alert(1)</script>"
	case 13:
		return "' OR 1=1 --"
	case 14:
		return "%00%ff%2e%2e%2f"
	default:
		return strconv.Itoa(r.IntN(1 << 20))
	}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// hostileRequest builds one request for rt.
func hostileRequest(r *rand.Rand, f *fixture, rt Route) *http.Request {
	path := pathParamRE.ReplaceAllStringFunc(rt.Path, func(m string) string {
		if m == "{ws}" && r.IntN(3) > 0 {
			return pick(r, "victim", "attacker")
		}
		return url.PathEscape(hostileText(r, f))
	})
	q := url.Values{}
	for _, p := range rt.Query {
		if r.IntN(2) == 0 {
			q.Set(p.Name, hostileText(r, f))
		}
	}
	if r.IntN(4) == 0 {
		q.Set(hostileText(r, f), hostileText(r, f))
	}
	method := rt.Method
	if r.IntN(20) == 0 {
		method = pick(r, "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
	}
	var body []byte
	ctype := "application/json"
	switch {
	case rt.Errors == Page || rt.Errors == OAuth || strings.Contains(rt.Path, "/device") || strings.HasSuffix(rt.Path, "/token"):
		ctype = "application/x-www-form-urlencoded"
		form := url.Values{}
		for _, k := range []string{"client_id", "grant_type", "device_code", "user_code", "refresh_token", "code", "code_verifier", "redirect_uri", "workspace", "csrf", "decision", "decision_token", "token", "request", "access_token"} {
			if r.IntN(3) == 0 {
				form.Set(k, hostileText(r, f))
			}
		}
		if r.IntN(3) == 0 {
			form.Set("client_id", "codexgov-cli")
		}
		body = []byte(form.Encode())
		if r.IntN(6) == 0 {
			body = []byte(pick(r, "a=%zz", "%", "a=b&&&=", strings.Repeat("a=b&", 40000), "\xff=\x00"))
		}
	case rt.In != nil:
		body = jsonFor(r, f, reflect.TypeOf(rt.In), 0)
	default:
		if r.IntN(3) == 0 {
			body = jsonFor(r, f, reflect.TypeOf(map[string]any{}), 0)
		}
	}
	if r.IntN(8) == 0 {
		body = mutateBytes(r, body)
	}
	if r.IntN(10) == 0 {
		ctype = pick(r, "", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x")
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if req == nil {
		req, _ = http.NewRequest("GET", f.srv.URL+"/healthz", nil)
		return req
	}
	req.URL.RawQuery = q.Encode()
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	switch r.IntN(6) {
	case 0:
	case 1:
		req.Header.Set("Authorization", "Bearer "+hostileText(r, f))
	case 2:
		req.Header.Set("Authorization", pick(r, "Bearer", "Basic x", "bearer  ", "Bearer "+strings.Repeat("A", 8000)))
	default:
		req.Header.Set("Authorization", pick(r, "Bearer ", "bearer ")+pick(r, f.keys["victim/full"], f.keys["victim/token"], f.keys["attacker/full"], f.keys["victim/read-only"]))
	}
	if r.IntN(5) == 0 {
		req.Header.Set(pick(r, "Origin", "X-Request-Id", "Cookie", "If-None-Match", "Accept"), hostileText(r, f))
	}
	if r.IntN(10) == 0 {
		req.Host = pick(r, "evil.example", "127.0.0.1:1", "[::1]", "localhost")
	}
	return req
}

// jsonFor writes a JSON value shaped like t, with hostile values in it.
func jsonFor(r *rand.Rand, f *fixture, t reflect.Type, depth int) []byte {
	if depth > 6 || r.IntN(12) == 0 {
		return []byte(pick(r, `null`, `1e400`, `-0`, `"`+strings.Repeat("\\u0000", 3)+`"`, `{}`, `[]`, `true`, `99999999999999999999`, `"x"`, strings.Repeat("[", 3000)+strings.Repeat("]", 3000)))
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var b bytes.Buffer
	switch t.Kind() {
	case reflect.Struct:
		b.WriteByte('{')
		first := true
		for i := range t.NumField() {
			fl := t.Field(i)
			name, _, _ := strings.Cut(fl.Tag.Get("json"), ",")
			if !fl.IsExported() || name == "-" || r.IntN(4) == 0 {
				continue
			}
			if name == "" {
				name = fl.Name
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&b, "%q:", name)
			b.Write(jsonFor(r, f, fl.Type, depth+1))
		}
		b.WriteByte('}')
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonFor(r, f, t.Elem(), depth+1))
		}
		b.WriteByte(']')
	case reflect.Map:
		b.WriteByte('{')
		for i := range r.IntN(3) {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:", hostileText(r, f))
			b.Write(jsonFor(r, f, t.Elem(), depth+1))
		}
		b.WriteByte('}')
	case reflect.Bool:
		b.WriteString(pick(r, "true", "false", `"true"`, "1"))
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Float64:
		b.WriteString(pick(r, "0", "-1", "2147483648", "9223372036854775808", "1.5", `"7"`, "1e999"))
	case reflect.Interface:
		b.WriteString(pick(r, `{"a":[1,{"b":null}]}`, `"x"`, `1`))
	default:
		s := hostileText(r, f)
		if r.IntN(5) == 0 {
			s = pick(r, "allowed_sandbox_modes = [\"read-only\"]\n", "x = "+strings.Repeat("[", 85)+"1"+strings.Repeat("]", 85)+"\n", strings.Repeat("a.", 90)+"a = 1\n", "[\n", "codex_local", "admin.read", "72h", "never")
		}
		buf, _ := jsonMarshalString(s)
		b.Write(buf)
	}
	return b.Bytes()
}

// jsonMarshalString quotes s as JSON, passing invalid UTF-8 through raw
// (encoding/json would replace it) so that the server sees it.
func jsonMarshalString(s string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.Bytes(), nil
}

// mutateBytes truncates, flips or duplicates part of a body.
func mutateBytes(r *rand.Rand, b []byte) []byte {
	if len(b) == 0 {
		return []byte(pick(r, "{", "\xff", "null", "[]", `{"a":1}{"b":2}`))
	}
	out := append([]byte(nil), b...)
	switch r.IntN(4) {
	case 0:
		return out[:r.IntN(len(out))]
	case 1:
		out[r.IntN(len(out))] = byte(r.IntN(256))
		return out
	case 2:
		return append(out, out...)
	default:
		i := r.IntN(len(out))
		return append(out[:i:i], append([]byte("\x00\xff{[\""), out[i:]...)...)
	}
}
