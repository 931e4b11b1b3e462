package scim

import (
	"cmp"
	"strings"
)

// Match reports whether a resource matches the filter.
func Match(f Filter, resource map[string]any) bool { return f.match(resource) }

// Get finds an attribute by name, ignoring case (RFC 7643 §2.1).
func Get(m map[string]any, name string) (any, string, bool) {
	if v, ok := m[name]; ok {
		return v, name, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, k, true
		}
	}
	return nil, "", false
}

// caseExact lists the attributes compared exactly (RFC 7643 §4.1, §4.2):
// identifiers; every other string compares without regard to case.
func caseExact(p AttrPath) bool {
	n := strings.ToLower(p.Name)
	return n == "id" || n == "externalid" || (n == "members" && strings.EqualFold(p.Sub, "value")) || (n == "groups" && strings.EqualFold(p.Sub, "value"))
}

// values collects the attribute's values: each element of a multi-valued
// attribute, the sub-attribute of complex ones, and for a complex value
// without a sub-attribute its "value".
func values(m map[string]any, p AttrPath) []any {
	v, _, ok := Get(m, p.Name)
	if !ok || v == nil {
		return nil
	}
	items, multi := v.([]any)
	if !multi {
		items = []any{v}
	}
	var out []any
	for _, it := range items {
		if c, ok := it.(map[string]any); ok {
			sub := p.Sub
			if sub == "" {
				sub = "value"
			}
			if sv, _, ok := Get(c, sub); ok && sv != nil {
				out = append(out, sv)
			}
			continue
		}
		if p.Sub == "" && it != nil {
			out = append(out, it)
		}
	}
	return out
}

func (p *Present) match(m map[string]any) bool {
	for _, v := range values(m, p.Path) {
		if s, ok := v.(string); !ok || s != "" {
			return true
		}
	}
	return false
}

func (l *Logical) match(m map[string]any) bool {
	if l.Op == "and" {
		return l.Left.match(m) && l.Right.match(m)
	}
	return l.Left.match(m) || l.Right.match(m)
}

func (n *Not) match(m map[string]any) bool { return !n.Filter.match(m) }

func (v *ValuePath) match(m map[string]any) bool {
	raw, _, ok := Get(m, v.Path.Name)
	if !ok {
		return false
	}
	items, multi := raw.([]any)
	if !multi {
		items = []any{raw}
	}
	for _, it := range items {
		if c, ok := it.(map[string]any); ok && v.Filter.match(c) {
			return true
		}
	}
	return false
}

func (c *Compare) match(m map[string]any) bool {
	vals := values(m, c.Path)
	if c.Value == nil {
		// "eq null" matches an absent attribute (RFC 7644 §3.4.2.2: null
		// values are treated as absent); "ne null" a present one.
		switch c.Op {
		case "eq":
			return len(vals) == 0
		case "ne":
			return len(vals) > 0
		}
		return false
	}
	if c.Op == "ne" {
		for _, v := range vals {
			if compare(v, "eq", c.Value, caseExact(c.Path)) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if compare(v, c.Op, c.Value, caseExact(c.Path)) {
			return true
		}
	}
	return false
}

func compare(have any, op string, want any, exact bool) bool {
	switch w := want.(type) {
	case string:
		h, ok := have.(string)
		if !ok {
			return false
		}
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case "co":
			return strings.Contains(h, w)
		case "sw":
			return strings.HasPrefix(h, w)
		case "ew":
			return strings.HasSuffix(h, w)
		}
		return ordered(cmp.Compare(h, w), op)
	case float64:
		h, ok := have.(float64)
		return ok && ordered(cmp.Compare(h, w), op)
	case bool:
		h, ok := have.(bool)
		return ok && op == "eq" && h == w
	}
	return false
}

// ordered applies eq, gt, ge, lt or le to a comparison result.
func ordered(c int, op string) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}
