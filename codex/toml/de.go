package toml

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file emulates serde deserialization from a toml::Value, the way
// Codex's derived Deserialize impls see it, so that errors carry serde's
// exact text and toml's key path. A Type describes one Rust type; Decode
// returns a normalised Go value:
//
//	nil (None), bool, int64, float64, string, []any, *Object, Variant.
//
// Two modes matter. Values read straight from the toml::Value tree get the
// table key appended to any error below them (toml's MapDeserializer does
// that). Values that serde first buffers into its private Content type
// (flatten, untagged and internally tagged enums) lose that key tracking and
// get Content's slightly different enum errors.

// DeError is a deserialization error: serde's message, the key path that
// toml attached, and the span of the value it concerns (for diagnostics).
type DeError struct {
	Msg  string
	Keys []string
	Span Span
}

// Error renders the error as toml::de::Error displays a span-less error.
func (e *DeError) Error() string {
	s := e.Msg + "\n"
	if len(e.Keys) > 0 {
		s += "in `" + strings.Join(e.Keys, ".") + "`\n"
	}
	return s
}

// Decoder carries the mode and context of one deserialization.
type Decoder struct {
	buffered bool
	// BaseDir resolves relative paths (AbsolutePathBufGuard); empty means
	// relative paths are resolved against "/" as Codex does without a guard.
	BaseDir string
}

func (d *Decoder) inBuffer() *Decoder {
	c := *d
	c.buffered = true
	return &c
}

func (d *Decoder) errAt(v *Value, msg string) *DeError {
	e := &DeError{Msg: msg}
	if v != nil {
		e.Span = v.Span
	}
	return e
}

// withKey prefixes key to err's path unless decoding happens inside a
// serde buffer, where toml no longer sees the keys.
func (d *Decoder) withKey(err error, key string, keySpan Span) error {
	if err == nil || d.buffered {
		return err
	}
	if de, ok := err.(*DeError); ok {
		de.Keys = append([]string{key}, de.Keys...)
		if de.Span == (Span{}) {
			de.Span = keySpan
		}
	}
	return err
}

// Type is one Rust type's Deserialize behaviour.
type Type interface {
	Decode(d *Decoder, v *Value) (any, error)
}

// Unexpected renders v as serde's Unexpected does.
func Unexpected(v *Value) string {
	switch v.Kind {
	case Boolean:
		return "boolean `" + strconv.FormatBool(v.Bool) + "`"
	case Integer:
		return "integer `" + strconv.FormatInt(v.Int, 10) + "`"
	case Float:
		return "floating point `" + floatWithPoint(v.Float) + "`"
	case String, Datetime:
		return "string " + RustDebugString(v.Str)
	case Array:
		return "sequence"
	case Table:
		return "map"
	}
	return "unit"
}

func floatWithPoint(f float64) string {
	s := RustFloat(f)
	if strings.ContainsAny(s, ".e") || strings.Contains(s, "inf") || s == "NaN" {
		return s
	}
	return s + ".0"
}

// InvalidType is serde's invalid_type error text.
func InvalidType(v *Value, expected string) string {
	return "invalid type: " + Unexpected(v) + ", expected " + expected
}

// OneOf renders serde's list of expected names.
func OneOf(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "`" + names[0] + "`"
	case 2:
		return "`" + names[0] + "` or `" + names[1] + "`"
	}
	return "one of `" + strings.Join(names, "`, `") + "`"
}

func unknownVariant(name string, variants []string) string {
	if len(variants) == 0 {
		return "unknown variant `" + name + "`, there are no variants"
	}
	return "unknown variant `" + name + "`, expected " + OneOf(variants)
}

func unknownField(name string, fields []string) string {
	if len(fields) == 0 {
		return "unknown field `" + name + "`, there are no fields"
	}
	return "unknown field `" + name + "`, expected " + OneOf(fields)
}

// RustDebugString quotes s as Rust's Debug for str does.
func RustDebugString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xad || r == 0x200b || r == 0xfeff || r == 0x2028 || r == 0x2029 {
				fmt.Fprintf(&b, `\u{%x}`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ---- primitive types ----

type boolType struct{}

// Bool is Rust's bool.
var Bool Type = boolType{}

func (boolType) Decode(d *Decoder, v *Value) (any, error) {
	if v.Kind == Boolean {
		return v.Bool, nil
	}
	return nil, d.errAt(v, InvalidType(v, "a boolean"))
}

// StringType is a String, or any type that deserializes through a string
// visitor with the given expectation text.
type StringType struct {
	Expecting string
	// Check, if set, validates the string and returns a custom error text.
	Check func(d *Decoder, s string) (any, string)
}

// Str is Rust's String.
var Str Type = StringType{Expecting: "a string"}

// Decode implements Type.
func (t StringType) Decode(d *Decoder, v *Value) (any, error) {
	if v.Kind != String && v.Kind != Datetime {
		return nil, d.errAt(v, InvalidType(v, t.Expecting))
	}
	if t.Check != nil {
		out, msg := t.Check(d, v.Str)
		if msg != "" {
			return nil, d.errAt(v, msg)
		}
		return out, nil
	}
	return v.Str, nil
}

// IntType is a Rust integer type such as u16.
type IntType struct {
	Name     string
	Min, Max int64
}

// Integer types used by Codex's requirements.
var (
	U16 Type = IntType{"u16", 0, 65535}
	U32 Type = IntType{"u32", 0, 1<<32 - 1}
	U64 Type = IntType{"u64", 0, 1<<63 - 1}
	I64 Type = IntType{"i64", -1 << 63, 1<<63 - 1}
	U8  Type = IntType{"u8", 0, 255}
	Usz Type = IntType{"usize", 0, 1<<63 - 1}
)

// Decode implements Type.
func (t IntType) Decode(d *Decoder, v *Value) (any, error) {
	if v.Kind != Integer {
		return nil, d.errAt(v, InvalidType(v, t.Name))
	}
	if v.Int < t.Min || v.Int > t.Max {
		return nil, d.errAt(v, "invalid value: integer `"+strconv.FormatInt(v.Int, 10)+"`, expected "+t.Name)
	}
	return v.Int, nil
}

type floatType struct{}

// F64 is Rust's f64.
var F64 Type = floatType{}

func (floatType) Decode(d *Decoder, v *Value) (any, error) {
	switch v.Kind {
	case Float:
		return v.Float, nil
	case Integer:
		return float64(v.Int), nil
	}
	return nil, d.errAt(v, InvalidType(v, "f64"))
}

// Any accepts every value (serde's IgnoredAny or toml::Value) and returns it.
type anyType struct{}

// AnyValue accepts any TOML value and returns the *Value itself.
var AnyValue Type = anyType{}

func (anyType) Decode(_ *Decoder, v *Value) (any, error) { return v, nil }

// ---- containers ----

// Seq is Vec<Elem>.
type Seq struct{ Elem Type }

// Decode implements Type.
func (t Seq) Decode(d *Decoder, v *Value) (any, error) {
	if v.Kind != Array {
		return nil, d.errAt(v, InvalidType(v, "a sequence"))
	}
	out := make([]any, 0, len(v.Arr))
	for _, e := range v.Arr {
		x, err := t.Elem.Decode(d, e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Map is BTreeMap<String, Elem>; the result is an *Object sorted by key.
type Map struct {
	Elem Type
	// Ordered keeps document order (IndexMap/HashMap targets) instead of sorting.
	Ordered bool
}

// Decode implements Type.
func (t Map) Decode(d *Decoder, v *Value) (any, error) {
	if v.Kind != Table {
		return nil, d.errAt(v, InvalidType(v, "a map"))
	}
	obj := NewObject()
	for _, e := range v.Tbl.Entries() {
		x, err := t.Elem.Decode(d, e.Value)
		if err != nil {
			return nil, d.withKey(err, e.Key, e.KeySpan)
		}
		obj.Set(e.Key, x)
	}
	if !t.Ordered {
		obj.Sort()
	}
	return obj, nil
}

// Object is an ordered map of decoded values.
type Object struct {
	Keys []string
	Vals map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{Vals: map[string]any{}} }

// Set stores a value, keeping first-insertion order.
func (o *Object) Set(k string, v any) {
	if _, ok := o.Vals[k]; !ok {
		o.Keys = append(o.Keys, k)
	}
	o.Vals[k] = v
}

// Get returns the value for k (nil when absent).
func (o *Object) Get(k string) any {
	if o == nil {
		return nil
	}
	return o.Vals[k]
}

// Has reports whether k is set to a non-nil value.
func (o *Object) Has(k string) bool { return o != nil && o.Vals[k] != nil }

// Sort orders the keys as a BTreeMap<String, _> does (byte order).
func (o *Object) Sort() { sort.Strings(o.Keys) }

// Field is one field of a derived struct.
type Field struct {
	Name    string
	Aliases []string
	Type    Type
	// Required fields report "missing field" when absent (non-Option
	// fields without #[serde(default)]).
	Required bool
	// Default is used when an absent field has #[serde(default)].
	Default any
	// SeqDefault marks fields that a positional (array) form may omit.
	SeqDefault bool
}

// Struct is a #[derive(Deserialize)] struct.
type Struct struct {
	Name        string
	Fields      []Field
	DenyUnknown bool
	// Flatten, if set, is a #[serde(flatten)] map field that receives all
	// keys that are not fields; its errors lose their key path.
	Flatten     Type
	FlattenName string
	// Expected lists the names serde reports for unknown fields when it
	// differs from the field names (aliases included).
	Expected []string
	// After validates the decoded struct (custom Deserialize wrappers).
	After func(d *Decoder, v *Value, o *Object) error
}

func (t *Struct) expecting() string { return "struct " + t.Name }

func (t *Struct) lookup(key string) (int, bool) {
	for i, f := range t.Fields {
		if f.Name == key {
			return i, true
		}
		for _, a := range f.Aliases {
			if a == key {
				return i, true
			}
		}
	}
	return 0, false
}

// Decode implements Type.
func (t *Struct) Decode(d *Decoder, v *Value) (any, error) {
	switch {
	case v.Kind == Table:
		return t.decodeMap(d, v)
	case v.Kind == Array && t.Flatten == nil:
		return t.decodeSeq(d, v)
	}
	return nil, d.errAt(v, InvalidType(v, t.expecting()))
}

func (t *Struct) decodeMap(d *Decoder, v *Value) (any, error) {
	obj := NewObject()
	seen := make([]bool, len(t.Fields))
	var rest *Value
	if t.Flatten != nil {
		rest = &Value{Kind: Table, Tbl: NewTable(), Span: v.Span}
	}
	for _, e := range v.Tbl.Entries() {
		i, ok := t.lookup(e.Key)
		if !ok {
			switch {
			case t.Flatten != nil:
				rest.Tbl.Insert(e)
			case t.DenyUnknown:
				names := t.Expected
				if names == nil {
					for _, f := range t.Fields {
						names = append(names, f.Name)
					}
				}
				return nil, &DeError{Msg: unknownField(e.Key, names), Span: e.KeySpan}
			}
			continue
		}
		f := t.Fields[i]
		if seen[i] {
			return nil, &DeError{Msg: "duplicate field `" + f.Name + "`", Span: e.KeySpan}
		}
		seen[i] = true
		x, err := f.Type.Decode(d, e.Value)
		if err != nil {
			return nil, d.withKey(err, e.Key, e.KeySpan)
		}
		obj.Set(f.Name, x)
	}
	for i, f := range t.Fields {
		if seen[i] {
			continue
		}
		if f.Required {
			return nil, &DeError{Msg: "missing field `" + f.Name + "`", Span: v.Span}
		}
		obj.Set(f.Name, f.Default)
	}
	if t.Flatten != nil {
		x, err := t.Flatten.Decode(d.inBuffer(), rest)
		if err != nil {
			return nil, err
		}
		obj.Set(t.FlattenName, x)
	}
	if t.After != nil {
		if err := t.After(d, v, obj); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

func (t *Struct) decodeSeq(d *Decoder, v *Value) (any, error) {
	obj := NewObject()
	n := len(t.Fields)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	for i, f := range t.Fields {
		if i >= len(v.Arr) {
			if f.SeqDefault {
				obj.Set(f.Name, f.Default)
				continue
			}
			return nil, d.errAt(v, fmt.Sprintf("invalid length %d, expected struct %s with %d element%s", i, t.Name, n, plural))
		}
		x, err := f.Type.Decode(d, v.Arr[i])
		if err != nil {
			return nil, err
		}
		obj.Set(f.Name, x)
	}
	if len(v.Arr) > n && !d.buffered {
		return nil, d.errAt(v, fmt.Sprintf("invalid length %d, expected fewer elements in array", len(v.Arr)))
	}
	if t.After != nil {
		if err := t.After(d, v, obj); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// VariantKind is the shape of an enum variant.
type VariantKind uint8

// Variant shapes.
const (
	Unit VariantKind = iota
	Newtype
	StructVariant
)

// Variant is one variant of an externally tagged enum.
type Variant struct {
	Name    string
	Aliases []string
	Kind    VariantKind
	Type    Type // Newtype: the inner type; StructVariant: a *Struct
	// Out is the decoded value for a unit variant (defaults to Name).
	Out any
}

// Variant values are what Decode returns for newtype and struct variants.
type VariantValue struct {
	Name  string
	Value any
}

// Enum is an externally tagged #[derive(Deserialize)] enum.
type Enum struct {
	Name     string
	Variants []Variant
	// Expected overrides the variant list in "unknown variant" errors.
	Expected []string
}

func (t *Enum) names() []string {
	if t.Expected != nil {
		return t.Expected
	}
	var n []string
	for _, v := range t.Variants {
		n = append(n, v.Name)
	}
	return n
}

func (t *Enum) find(name string) *Variant {
	for i := range t.Variants {
		if t.Variants[i].Name == name {
			return &t.Variants[i]
		}
		for _, a := range t.Variants[i].Aliases {
			if a == name {
				return &t.Variants[i]
			}
		}
	}
	return nil
}

// Decode implements Type.
func (t *Enum) Decode(d *Decoder, v *Value) (any, error) {
	switch v.Kind {
	case String, Datetime:
		vr := t.find(v.Str)
		if vr == nil {
			return nil, d.errAt(v, unknownVariant(v.Str, t.names()))
		}
		switch vr.Kind {
		case Newtype:
			return nil, d.errAt(v, "invalid type: unit variant, expected newtype variant")
		case StructVariant:
			return nil, d.errAt(v, "invalid type: unit variant, expected struct variant")
		}
		return vr.unitOut(), nil
	case Table:
		n := v.Tbl.Len()
		if d.buffered && n != 1 {
			return nil, d.errAt(v, "invalid value: map, expected map with a single key")
		}
		if n == 0 {
			return nil, d.errAt(v, "wanted exactly 1 element, found 0 elements")
		}
		if n > 1 {
			return nil, d.errAt(v, "wanted exactly 1 element, more than 1 element")
		}
		e := v.Tbl.Entries()[0]
		vr := t.find(e.Key)
		if vr == nil {
			return nil, d.errAt(v, unknownVariant(e.Key, t.names()))
		}
		switch vr.Kind {
		case Unit:
			if d.buffered {
				return vr.unitOut(), nil
			}
			if e.Value.Kind != Table {
				return nil, d.errAt(e.Value, "expected table, found "+tomlTypeName(e.Value))
			}
			return vr.unitOut(), nil
		case Newtype:
			x, err := vr.Type.Decode(d, e.Value)
			if err != nil {
				return nil, err
			}
			return VariantValue{vr.Name, x}, nil
		default:
			x, err := vr.Type.Decode(d, e.Value)
			if err != nil {
				return nil, err
			}
			return VariantValue{vr.Name, x}, nil
		}
	}
	if d.buffered {
		return nil, d.errAt(v, InvalidType(v, "string or map"))
	}
	return nil, d.errAt(v, "invalid type: unit variant, expected string only")
}

func (vr *Variant) unitOut() any {
	if vr.Out != nil {
		return vr.Out
	}
	return vr.Name
}

// tomlTypeName names v's type as toml's VariantAccess does (datetimes
// arrive as strings).
func tomlTypeName(v *Value) string {
	if v.Kind == Datetime {
		return "string"
	}
	return v.Kind.String()
}

// Untagged is a #[serde(untagged)] enum: the first variant that decodes wins.
type Untagged struct {
	Name     string
	Variants []Type
}

// Decode implements Type.
func (t *Untagged) Decode(d *Decoder, v *Value) (any, error) {
	bd := d.inBuffer()
	for _, vt := range t.Variants {
		if x, err := vt.Decode(bd, v); err == nil {
			return x, nil
		}
	}
	return nil, d.errAt(v, "data did not match any variant of untagged enum "+t.Name)
}

// Tagged is an internally tagged enum (#[serde(tag = "...")]).
type Tagged struct {
	Name     string
	Tag      string
	Variants []Variant // StructVariant with *Struct types
}

// Decode implements Type.
func (t *Tagged) Decode(d *Decoder, v *Value) (any, error) {
	bd := d.inBuffer()
	if v.Kind != Table {
		return nil, d.errAt(v, InvalidType(v, "internally tagged enum "+t.Name))
	}
	tag := v.Tbl.Get(t.Tag)
	if tag == nil {
		return nil, d.errAt(v, "missing field `"+t.Tag+"`")
	}
	var names []string
	for _, vr := range t.Variants {
		names = append(names, vr.Name)
	}
	if tag.Value.Kind != String {
		return nil, d.errAt(tag.Value, InvalidType(tag.Value, "variant identifier"))
	}
	for _, vr := range t.Variants {
		if vr.Name != tag.Value.Str {
			continue
		}
		rest := &Value{Kind: Table, Tbl: NewTable(), Span: v.Span}
		for _, e := range v.Tbl.Entries() {
			if e.Key != t.Tag {
				rest.Tbl.Insert(e)
			}
		}
		x, err := vr.Type.Decode(bd, rest)
		if err != nil {
			return nil, err
		}
		return VariantValue{vr.Name, x}, nil
	}
	return nil, d.errAt(tag.Value, unknownVariant(tag.Value.Str, names))
}

// Func adapts a function to Type.
type Func func(d *Decoder, v *Value) (any, error)

// Decode implements Type.
func (f Func) Decode(d *Decoder, v *Value) (any, error) { return f(d, v) }

// Errorf returns a custom serde error (D::Error::custom) for v.
func (d *Decoder) Errorf(v *Value, format string, args ...any) error {
	return d.errAt(v, fmt.Sprintf(format, args...))
}
