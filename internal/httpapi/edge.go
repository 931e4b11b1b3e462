package httpapi

// Checks at the edge: what no handler should see, refused before any of
// them runs, alike on both databases (PostgreSQL cannot hold a NUL byte or
// invalid UTF-8 in text, nor an INTEGER above 2^31-1; SQLite would).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/codexgov/codexgov"
)

// pathParams lists the wildcards of a route pattern.
func pathParams(pattern string) []string {
	var out []string
	for _, m := range pathParamRE.FindAllStringSubmatch(pattern, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkText refuses text a database cannot store as sent: invalid UTF-8
// (refused, never replaced with U+FFFD) and NUL bytes.
func checkText(field, v string) *codexgov.Detail {
	if !utf8.ValidString(v) {
		return &codexgov.Detail{Field: field, Message: "not valid UTF-8"}
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return &codexgov.Detail{Field: field, Message: fmt.Sprintf("contains a NUL byte at byte %d", i)}
	}
	return nil
}

// checkPath refuses path and query values that are not text a database
// can store, and a workspace that cannot exist (not a valid name): 404, as
// for any workspace the caller cannot see, before anything is built from
// it.
func checkPath(r *http.Request, params []string) error {
	for _, p := range params {
		if d := checkText("{"+p+"}", r.PathValue(p)); d != nil {
			return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid path", Details: []codexgov.Detail{*d}}
		}
	}
	for k, vs := range r.URL.Query() {
		for _, v := range append([]string{k}, vs...) {
			if d := checkText("?"+k, v); d != nil {
				return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query", Details: []codexgov.Detail{*d}}
			}
		}
	}
	if ws := r.PathValue("ws"); ws != "" && codexgov.CheckName("workspace", ws) != nil {
		return codexgov.Errorf(codexgov.ENOTFOUND, "workspace %q not found", ws)
	}
	return nil
}

// checkForm refuses form fields and values a database cannot store.
func checkForm(r *http.Request) error {
	for k, vs := range r.Form {
		if d := checkText(k, k); d != nil {
			return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid form", Details: []codexgov.Detail{*d}}
		}
		for _, v := range vs {
			if d := checkText(k, v); d != nil {
				return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid form", Details: []codexgov.Detail{*d}}
			}
		}
	}
	return nil
}

// checkDecoded walks a decoded JSON body: strings must hold no NUL byte
// (invalid UTF-8 was refused before decoding), and int fields, which are
// INTEGER columns, must fit in 32 bits. Errors name the JSON pointer.
func checkDecoded(v any) error {
	if d := walkDecoded(reflect.ValueOf(v), ""); d != nil {
		return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid request body", Details: []codexgov.Detail{*d}}
	}
	return nil
}

func walkDecoded(v reflect.Value, ptr string) *codexgov.Detail {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkDecoded(v.Elem(), ptr)
	case reflect.String:
		return checkText(ptrOrRoot(ptr), v.String())
	case reflect.Int:
		if n := v.Int(); n > math.MaxInt32 || n < math.MinInt32 {
			return &codexgov.Detail{Field: ptrOrRoot(ptr), Message: fmt.Sprintf("%d is out of range: at most %d", n, math.MaxInt32)}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if d := walkDecoded(v.Field(i), ptr+"/"+escapePointer(name)); d != nil {
				return d
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if d := walkDecoded(v.Index(i), ptr+"/"+strconv.Itoa(i)); d != nil {
				return d
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if d := checkText(ptr+"/"+escapePointer(k), k); d != nil {
				return d
			}
			if d := walkDecoded(it.Value(), ptr+"/"+escapePointer(k)); d != nil {
				return d
			}
		}
	}
	return nil
}

func ptrOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// escapePointer escapes a JSON pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// bearer returns the credential of an Authorization header using the
// Bearer scheme, whose name is case-insensitive (RFC 7235 §2.1).
func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

// invalidUTF8At is the offset of the first byte that is not valid UTF-8,
// -1 when all is.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// pointerAt is the JSON pointer of the member or element whose text holds
// byte off of a JSON document ("" for the whole document).
func pointerAt(body []byte, off int) string {
	type frame struct {
		obj, wantKey bool
		key          string
		idx          int
	}
	var st []*frame
	pointer := func(extra string) string {
		var b strings.Builder
		for _, f := range st {
			switch {
			case f.obj && !f.wantKey:
				b.WriteString("/" + escapePointer(f.key))
			case !f.obj:
				b.WriteString("/" + strconv.Itoa(f.idx))
			}
		}
		if extra != "" {
			b.WriteString("/" + escapePointer(extra))
		}
		return b.String()
	}
	consumed := func() {
		if len(st) == 0 {
			return
		}
		if top := st[len(st)-1]; top.obj {
			top.wantKey = true
		} else {
			top.idx++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return pointer("")
		}
		var top *frame
		if len(st) > 0 {
			top = st[len(st)-1]
		}
		key, isKey := tok.(string)
		isKey = isKey && top != nil && top.obj && top.wantKey
		if int(dec.InputOffset()) > off {
			if isKey {
				return pointer(key)
			}
			return pointer("")
		}
		switch tok {
		case json.Delim('{'):
			st = append(st, &frame{obj: true, wantKey: true})
		case json.Delim('['):
			st = append(st, &frame{})
		case json.Delim('}'), json.Delim(']'):
			st = st[:len(st)-1]
			consumed()
		default:
			if isKey {
				top.key, top.wantKey = key, false
			} else {
				consumed()
			}
		}
	}
}

// linkSurfaces build links from the server's base URL (single sign-on
// redirect URIs, device verification URIs, SCIM locations, the admin
// pages' Origin check).
var linkSurfaces = map[string]bool{SurfaceSSO: true, SurfaceDevice: true, SurfaceSCIM: true, SurfaceWeb: true, SurfaceConsole: true}

// checkHost keeps the Host header out of links: without --public-url,
// the surfaces that build links answer only requests to a loopback host,
// the one allow list that needs no configuration.
func (s *Server) checkHost(r *http.Request, surface string) error {
	if s.publicURL != "" || !linkSurfaces[surface] || loopbackHost(r.Host) {
		return nil
	}
	return codexgov.Errorf(codexgov.EINVALID, "this server has no public URL, so it builds links (single sign-on, device login, SCIM, the admin pages) only for loopback requests, not for Host %q: start it with --public-url https://<its external name> (CODEXGOV_PUBLIC_URL)", r.Host)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
