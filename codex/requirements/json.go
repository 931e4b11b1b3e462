package requirements

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/codexgov/codexgov/codex/internal/serdejson"
	"github.com/codexgov/codexgov/codex/toml"
)

// jsonObject is an object whose keys keep the order Codex serializes them in.
type jsonObject struct {
	keys []string
	vals []any
}

func obj(kv ...any) *jsonObject {
	o := &jsonObject{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.add(kv[i].(string), kv[i+1])
	}
	return o
}

func (o *jsonObject) add(k string, v any) *jsonObject {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

// writeJSON serializes v as serde_json's compact writer does: no HTML
// escaping, control characters as \uXXXX except the short escapes.
func writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(toml.RustFloat(x))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, e)
		}
		b.WriteByte(']')
	case *jsonObject:
		writeObject(b, x.keys, func(i int) any { return x.vals[i] })
	case *toml.Object:
		writeObject(b, x.Keys, func(i int) any { return x.Vals[x.Keys[i]] })
	case *toml.Value:
		writeJSON(b, tomlToJSON(x))
	default:
		panic(fmt.Sprintf("requirements: cannot encode %T", v))
	}
}

func writeObject(b *strings.Builder, keys []string, val func(int) any) {
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		writeJSON(b, val(i))
	}
	b.WriteByte('}')
}

func tomlToJSON(v *toml.Value) any {
	switch v.Kind {
	case toml.String, toml.Datetime:
		return v.Str
	case toml.Integer:
		return v.Int
	case toml.Float:
		return v.Float
	case toml.Boolean:
		return v.Bool
	case toml.Array:
		out := make([]any, len(v.Arr))
		for i, e := range v.Arr {
			out[i] = tomlToJSON(e)
		}
		return out
	}
	o := &jsonObject{}
	for _, e := range v.Tbl.Entries() {
		o.add(e.Key, tomlToJSON(e.Value))
	}
	return o
}

func writeJSONString(b *strings.Builder, s string) {
	b.Write(serdejson.AppendString(nil, s))
}
