package config

import (
	"strings"

	"github.com/codexgov/codexgov/codex/toml"
)

// merge folds src into dst as Codex merges config layers: tables merge key
// by key, anything else replaces the lower value whole. origins records,
// for each leaf's dotted path, the layer that set it.
func merge(dst, src *toml.Value, l *Layer, path []string, origins map[string]*Layer) {
	for _, e := range src.Tbl.Entries() {
		p := append(path[:len(path):len(path)], e.Key)
		cur := dst.Tbl.Value(e.Key)
		if cur != nil && cur.Kind == toml.Table && e.Value.Kind == toml.Table {
			merge(cur, e.Value, l, p, origins)
			continue
		}
		if cur != nil {
			clearOrigins(origins, p)
		}
		v := e.Value.Clone()
		dst.Tbl.Set(e.Key, v)
		recordOrigins(v, l, p, origins)
	}
}

func recordOrigins(v *toml.Value, l *Layer, path []string, origins map[string]*Layer) {
	if v.Kind == toml.Table && v.Tbl.Len() > 0 {
		for _, e := range v.Tbl.Entries() {
			recordOrigins(e.Value, l, append(path[:len(path):len(path)], e.Key), origins)
		}
		return
	}
	origins[dottedKey(path)] = l
}

func clearOrigins(origins map[string]*Layer, path []string) {
	k := dottedKey(path)
	delete(origins, k)
	for o := range origins {
		if strings.HasPrefix(o, k+".") {
			delete(origins, o)
		}
	}
}

// origin is the layer that set path, or that set the closest table
// holding it.
func origin(origins map[string]*Layer, path ...string) *Layer {
	for i := len(path); i > 0; i-- {
		if l := origins[dottedKey(path[:i])]; l != nil {
			return l
		}
	}
	return nil
}

// setPath writes v at a dotted path in doc, creating tables on the way and
// replacing a non-table in the way, as Codex applies -c overrides.
func setPath(doc *toml.Value, path []string, v *toml.Value) {
	t := doc
	for _, k := range path[:len(path)-1] {
		next := t.Tbl.Value(k)
		if next == nil || next.Kind != toml.Table {
			next = toml.NewTableValue(toml.NewTable())
			t.Tbl.Set(k, next)
		}
		t = next
	}
	t.Tbl.Set(path[len(path)-1], v)
}

// parseOverride parses one -c key=value as Codex does: the value is TOML
// when it parses as a TOML value, else the trimmed text without surrounding
// quotes is a string.
func parseOverride(s string) ([]string, *toml.Value, error) {
	key, raw, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok {
		return nil, nil, &LoadError{Message: "Invalid override (missing '='): " + s}
	}
	if key == "" {
		return nil, nil, &LoadError{Message: "Empty key in override: " + s}
	}
	raw = strings.TrimSpace(raw)
	var v *toml.Value
	if doc, err := toml.Parse("_x_ = " + raw); err == nil && doc.Tbl.Len() == 1 && doc.Tbl.Value("_x_") != nil {
		v = doc.Tbl.Value("_x_")
	} else {
		v = toml.NewString(strings.Trim(raw, `"'`))
	}
	return strings.Split(key, "."), v, nil
}

// originUnder is the highest layer (by rank, its index in the layer list
// plus one) that set any key under prefix.
func originUnder(origins map[string]*Layer, rank map[*Layer]int, prefix string) *Layer {
	var best *Layer
	for k, l := range origins {
		if (k == prefix || strings.HasPrefix(k, prefix+".")) && rank[l] > rank[best] {
			best = l
		}
	}
	return best
}
