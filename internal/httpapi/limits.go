package httpapi

// Rate limits: token buckets per client address and per workspace on the
// routes anyone can call, and per credential on the others, so that no
// caller can make the server write without bound or starve other callers.

import (
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/codexgov/codexgov"
)

// Limits are requests per second, each with a burst of three seconds'
// worth; 0 turns a limit off.
type Limits struct {
	// PerAddress applies to unauthenticated requests from one client IP
	// (the connection's peer: behind a proxy, its address).
	PerAddress float64
	// PerWorkspace applies to unauthenticated requests naming one
	// workspace, whoever sends them.
	PerWorkspace float64
	// PerCredential applies to authenticated requests of one credential
	// (API key, access token, enrollment token, sign-in).
	PerCredential float64
}

// DefaultLimits are generous for people and machines (a machine fetches
// its policy a few times an hour) and stop floods.
var DefaultLimits = Limits{PerAddress: 20, PerWorkspace: 100, PerCredential: 200}

// maxLimitKeys bounds the buckets kept: the least recently used go first
// (a forgotten bucket starts full again).
const maxLimitKeys = 100_000

type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	keys  *lru.Cache[string, *rate.Limiter]
}

func newLimiter(perSecond float64) *limiter {
	if perSecond <= 0 {
		return nil
	}
	c, _ := lru.New[string, *rate.Limiter](maxLimitKeys)
	return &limiter{rate: rate.Limit(perSecond), burst: max(1, int(math.Ceil(3*perSecond))), keys: c}
}

// allow takes a token for key; when none is left it says how long until
// one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	b, ok := l.keys.Get(key)
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.keys.Add(key, b)
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

type limiters struct{ address, workspace, credential, compliance *limiter }

// ComplianceRate is the Compliance API's limit, as OpenAI's: 100 requests
// a minute per workspace and route, in a bucket of 100.
const ComplianceRate = 100.0 / 60

func newLimiters(l Limits) limiters {
	ls := limiters{address: newLimiter(l.PerAddress), workspace: newLimiter(l.PerWorkspace), credential: newLimiter(l.PerCredential)}
	if l.PerCredential > 0 {
		ls.compliance = newLimiter(ComplianceRate)
		ls.compliance.burst = 100
	}
	return ls
}

// unauthenticatedLimited reports whether the route is one anyone can call
// that does work or writes: the ops routes (health, metrics, JWKS, the API
// description) are served from memory and stay unlimited, so that load
// balancers and fleets behind one address are never refused.
// An enrollment token in the path is limited per token instead (fleets
// behind one address fetch with many tokens).
// The console's pages authenticate with the session cookie (a sealed
// value opened in memory; without one they only redirect), so an office
// of admins behind one address is not limited either. Nor is the model
// gateway: every request carries a gateway token checked in memory (an
// HMAC) before any work, a fleet's Codex sessions share the office's
// address, and budgets bound what each person spends.
func unauthenticatedLimited(rt *Route) bool {
	return !rt.Auth.Authenticates() && rt.Surface != SurfaceOps && rt.Auth != PathToken && rt.Auth != Session && rt.Surface != SurfaceGateway
}

// limitUnauthenticated applies the address and workspace limits.
func (s *Server) limitUnauthenticated(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	if ok, d := s.limits.address.allow(clientIP(r), now); !ok {
		return tooMany(w, d, "too many requests from your address")
	}
	ws := r.PathValue("ws")
	if ws == "" && r.URL.Query().Has("workspace") {
		ws = r.URL.Query().Get("workspace")
	}
	if ws != "" {
		if ok, d := s.limits.workspace.allow(ws, now); !ok {
			return tooMany(w, d, "too many requests for workspace "+ws)
		}
	}
	return nil
}

// limitCredential applies the per-credential limit.
func (s *Server) limitCredential(w http.ResponseWriter, id string) error {
	if ok, d := s.limits.credential.allow(id, s.now()); !ok {
		return tooMany(w, d, "too many requests with this credential")
	}
	return nil
}

func tooMany(w http.ResponseWriter, wait time.Duration, msg string) error {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return codexgov.Errorf(codexgov.ETOOMANY, "%s; try again in %d s", msg, max(secs, 1))
}

// clientIP is the connection's peer address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxPage is the largest (and the default) page of a list.
const maxPage = 1000

// NextCursorHeader carries the cursor of a list's next page; a Link
// header (rel="next") carries its URL. No header: the last page.
const NextCursorHeader = "Codexgov-Next-Cursor"

// paginate serves one page of a list: ?limit (1 to maxPage, default
// maxPage) items after ?after, an opaque cursor from the previous page.
func paginate(c *call, out any) (any, error) {
	q := c.r.URL.Query()
	limit := maxPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
				Details: []codexgov.Detail{{Field: "?limit", Message: fmt.Sprintf("want 1 to %d, got %q", maxPage, v)}}}
		}
		limit = n
	}
	start := 0
	if v := q.Get("after"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, perr := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || perr != nil || !strings.HasPrefix(string(b), "o:") || n < 0 {
			return nil, &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter",
				Details: []codexgov.Detail{{Field: "?after", Message: "not a cursor this server gave: pass the " + NextCursorHeader + " header of the previous page"}}}
		}
		start = n
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Slice {
		return out, nil
	}
	total := v.Len()
	start = min(start, total)
	end := min(start+limit, total)
	page := v.Slice(start, end)
	if end < total {
		cursor := base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(end)))
		c.w.Header().Set(NextCursorHeader, cursor)
		next := *c.r.URL
		nq := next.Query()
		nq.Set("after", cursor)
		nq.Set("limit", strconv.Itoa(limit))
		next.RawQuery = nq.Encode()
		c.w.Header().Set("Link", "<"+next.RequestURI()+`>; rel="next"`)
	}
	if page.IsNil() {
		return reflect.MakeSlice(v.Type(), 0, 0).Interface(), nil
	}
	return page.Interface(), nil
}
