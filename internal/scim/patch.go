package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Schema URIs.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ErrorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// PatchRequest is a PATCH body (RFC 7644 §3.5.2).
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// PatchOp is one operation.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Path is a PATCH target: `attrPath`, or `attr[filter]` with an optional
// `.sub` after it.
type Path struct {
	Attr   AttrPath
	Filter Filter
}

// ParsePath parses a PATCH path.
func ParsePath(s string) (Path, error) {
	bad := func(why string) (Path, error) {
		return Path{}, Errorf(400, "invalidPath", "path %q: %s", s, why)
	}
	if len(s) > MaxFilterLength {
		return bad("too long")
	}
	open := strings.IndexByte(s, '[')
	if open < 0 {
		p, err := ParseAttrPath(s)
		if err != nil {
			return bad(err.Error())
		}
		return Path{Attr: p}, nil
	}
	closeAt := strings.LastIndexByte(s, ']')
	if closeAt < open {
		return bad("a [ without its ]")
	}
	attr, err := ParseAttrPath(s[:open])
	if err != nil || attr.Sub != "" {
		return bad("want attribute[filter]")
	}
	f, err := ParseFilter(s[open+1 : closeAt])
	if err != nil {
		return bad(err.Error())
	}
	rest := s[closeAt+1:]
	if rest != "" {
		if rest[0] != '.' || !validName(rest[1:]) {
			return bad("after ] only .subAttribute may follow")
		}
		attr.Sub = rest[1:]
	}
	return Path{Attr: attr, Filter: f}, nil
}

// Apply runs PATCH operations on a resource in order. coreSchema is the
// resource's core schema URI (a path qualified with it addresses the core
// attributes; any other URI addresses an extension object).
func Apply(res map[string]any, ops []PatchOp, coreSchema string) error {
	if len(ops) == 0 {
		return Errorf(400, "invalidSyntax", "the PATCH request has no Operations")
	}
	for i, op := range ops {
		if err := applyOne(res, op, coreSchema); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail = fmt.Sprintf("Operations[%d]: %s", i, e.Detail)
				return e
			}
			return err
		}
	}
	return nil
}

func decodeValue(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, Errorf(400, "invalidValue", "value is not valid JSON: %v", err)
	}
	return v, nil
}

func applyOne(res map[string]any, op PatchOp, core string) error {
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "remove" && kind != "replace" {
		return Errorf(400, "invalidSyntax", "op %q is not add, remove or replace", op.Op)
	}
	val, err := decodeValue(op.Value)
	if err != nil {
		return err
	}
	if op.Path == "" {
		if kind == "remove" {
			return Errorf(400, "noTarget", "remove needs a path")
		}
		obj, ok := val.(map[string]any)
		if !ok {
			return Errorf(400, "invalidValue", "an %s without a path needs an object value", kind)
		}
		for k, v := range obj {
			raw, _ := json.Marshal(v)
			// A key can itself be a path ("name.givenName") or an
			// extension's URI with an object of its attributes.
			if strings.HasPrefix(strings.ToLower(k), "urn:") && !strings.EqualFold(k, core) {
				if sub, ok := v.(map[string]any); ok && isSchemaURI(k) {
					ext := container(res, k, true)
					for sk, sv := range sub {
						setKey(ext, sk, mergeValue(kind, ext, sk, sv))
					}
					continue
				}
			}
			if err := applyOne(res, PatchOp{Op: kind, Path: k, Value: raw}, core); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := ParsePath(op.Path)
	if err != nil {
		return err
	}
	target := res
	if p.Attr.URI != "" && !strings.EqualFold(p.Attr.URI, core) {
		target = container(res, p.Attr.URI, kind != "remove")
		if target == nil {
			return nil
		}
	}
	name := p.Attr.Name
	// id and meta are readOnly (RFC 7643 §3.1): no operation may target
	// them, not even one that would leave them as they are.
	if (strings.EqualFold(name, "id") || strings.EqualFold(name, "meta")) && (p.Attr.URI == "" || strings.EqualFold(p.Attr.URI, core)) {
		return Errorf(400, "mutability", "%s is read-only: a PATCH cannot %s it", strings.ToLower(name), kind)
	}
	if p.Filter != nil {
		return applyFiltered(target, kind, name, p, val)
	}
	if p.Attr.Sub != "" {
		c := container(target, name, kind != "remove")
		if c == nil {
			return nil
		}
		if kind == "remove" {
			deleteKey(c, p.Attr.Sub)
			return nil
		}
		setKey(c, p.Attr.Sub, val)
		return nil
	}
	switch kind {
	case "remove":
		cur, key, ok := Get(target, name)
		list, multi := cur.([]any)
		if ok && multi && val != nil {
			// Entra: {"op":"remove","path":"members","value":[{"value":"id"}]}
			drop, _ := val.([]any)
			if drop == nil {
				drop = []any{val}
			}
			var keep []any
			for _, it := range list {
				if !containsValue(drop, it) {
					keep = append(keep, it)
				}
			}
			target[key] = orEmpty(keep)
			return nil
		}
		deleteKey(target, name)
	case "add", "replace":
		setKey(target, name, mergeValue(kind, target, name, val))
	}
	return nil
}

func applyFiltered(target map[string]any, kind, name string, p Path, val any) error {
	cur, key, ok := Get(target, name)
	list, _ := cur.([]any)
	if !ok || list == nil {
		if kind == "remove" {
			return nil
		}
		return Errorf(400, "noTarget", "%s has no values matching %s", name, p.Filter)
	}
	var out []any
	matched := false
	for _, it := range list {
		c, isObj := it.(map[string]any)
		if !isObj || !p.Filter.match(c) {
			out = append(out, it)
			continue
		}
		matched = true
		switch {
		case kind == "remove" && p.Attr.Sub == "":
			continue
		case kind == "remove":
			deleteKey(c, p.Attr.Sub)
		case p.Attr.Sub != "":
			setKey(c, p.Attr.Sub, val)
		default:
			obj, ok := val.(map[string]any)
			if !ok {
				return Errorf(400, "invalidValue", "replacing %s[%s] needs an object value", name, p.Filter)
			}
			for k, v := range obj {
				setKey(c, k, v)
			}
		}
		out = append(out, c)
	}
	if !matched && kind != "remove" {
		return Errorf(400, "noTarget", "no value of %s matches %s", name, p.Filter)
	}
	target[key] = orEmpty(out)
	return nil
}

// mergeValue is what add or replace writes: add appends to a multi-valued
// attribute (skipping values already there), replace overwrites.
func mergeValue(kind string, target map[string]any, name string, val any) any {
	cur, _, ok := Get(target, name)
	list, multi := cur.([]any)
	if kind != "add" || !ok || !multi {
		return val
	}
	more, isList := val.([]any)
	if !isList {
		more = []any{val}
	}
	out := append([]any(nil), list...)
	for _, v := range more {
		if !containsValue(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// containsValue compares values the way members and emails are matched:
// complex values by their "value" sub-attribute when both have one.
func containsValue(list []any, v any) bool {
	vv := valueOf(v)
	for _, it := range list {
		if iv := valueOf(it); iv != nil && vv != nil {
			if iv == vv {
				return true
			}
			continue
		}
		if reflect.DeepEqual(it, v) {
			return true
		}
	}
	return false
}

func valueOf(v any) any {
	if c, ok := v.(map[string]any); ok {
		if x, _, ok := Get(c, "value"); ok {
			if s, ok := x.(string); ok {
				return s
			}
		}
	}
	return nil
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func isSchemaURI(s string) bool { return strings.Count(s, ":") >= 4 }

// container returns the object under name, creating it when create is set.
func container(m map[string]any, name string, create bool) map[string]any {
	if v, _, ok := Get(m, name); ok {
		if c, ok := v.(map[string]any); ok {
			return c
		}
	}
	if !create {
		return nil
	}
	c := map[string]any{}
	setKey(m, name, c)
	return c
}

// setKey sets an attribute, keeping the spelling already in the map.
func setKey(m map[string]any, name string, v any) {
	if _, k, ok := Get(m, name); ok {
		m[k] = v
		return
	}
	m[name] = v
}

func deleteKey(m map[string]any, name string) {
	if _, k, ok := Get(m, name); ok {
		delete(m, k)
	}
}

// Project applies attributes / excludedAttributes (RFC 7644 §3.4.2.5):
// "schemas" and "id" are always returned.
func Project(res map[string]any, attributes, excluded []string) map[string]any {
	if len(attributes) == 0 && len(excluded) == 0 {
		return res
	}
	always := func(k string) bool { return strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") }
	if len(attributes) > 0 {
		out := map[string]any{}
		for k, v := range res {
			if always(k) {
				out[k] = v
			}
		}
		for _, a := range attributes {
			if v, key, ok := Get(res, a); ok {
				out[key] = v
				continue
			}
			p, err := ParseAttrPath(a)
			if err != nil {
				continue
			}
			src := res
			if p.URI != "" && isSchemaURI(p.URI) && !strings.HasPrefix(p.URI, "urn:ietf:params:scim:schemas:core:") {
				ext := container(res, p.URI, false)
				if ext == nil {
					continue
				}
				v, _, ok := Get(ext, p.Name)
				if ok {
					setKey(container(out, p.URI, true), p.Name, v)
				}
				continue
			}
			v, key, ok := Get(src, p.Name)
			if !ok {
				continue
			}
			if p.Sub == "" {
				out[key] = v
				continue
			}
			if c, ok := v.(map[string]any); ok {
				if sv, sk, ok := Get(c, p.Sub); ok {
					container(out, key, true)[sk] = sv
				}
			}
		}
		return out
	}
	out := map[string]any{}
	for k, v := range res {
		out[k] = v
	}
	for _, a := range excluded {
		if _, _, ok := Get(out, a); ok && !always(a) {
			deleteKey(out, a)
			continue
		}
		p, err := ParseAttrPath(a)
		if err != nil || always(p.Name) {
			continue
		}
		if p.Sub == "" {
			deleteKey(out, p.Name)
			continue
		}
		if v, key, ok := Get(out, p.Name); ok {
			if c, ok := v.(map[string]any); ok {
				cc := map[string]any{}
				for k, v := range c {
					cc[k] = v
				}
				deleteKey(cc, p.Sub)
				out[key] = cc
			}
		}
	}
	return out
}

// SplitList splits a comma-separated attributes parameter.
func SplitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
