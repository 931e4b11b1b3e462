// Package toml reads TOML documents the way Codex 0.169.0 reads them.
//
// Codex parses every managed layer with the Rust toml crate (0.9, with
// preserve_order) into a toml::Value and then deserializes typed structures
// from that value with serde. This package reproduces both halves: Parse
// builds a Value tree that keeps document order and the byte span of every
// key and value, and the decoding helpers in de.go produce serde's error
// texts together with the key path toml attaches to them. Syntax errors are
// rendered exactly as toml renders them (line, column, excerpt and caret).
package toml

import (
	"fmt"
	"strings"
)

// Kind is the type of a TOML value.
type Kind uint8

// The TOML value kinds. A Datetime keeps its normalised text form, which is
// what toml::Value hands to serde (Codex sees datetimes as strings).
const (
	String Kind = iota + 1
	Integer
	Float
	Boolean
	Datetime
	Array
	Table
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Integer:
		return "integer"
	case Float:
		return "float"
	case Boolean:
		return "boolean"
	case Datetime:
		return "datetime"
	case Array:
		return "array"
	case Table:
		return "table"
	}
	return "invalid"
}

// Span is a half-open byte range in the source document.
type Span struct{ Start, End int }

// Value is one TOML value. Only the field matching Kind is meaningful.
type Value struct {
	Kind  Kind
	Str   string // String, and the normalised text of a Datetime
	Int   int64
	Float float64
	Bool  bool
	Arr   []*Value
	Tbl   *TableValue
	// Span covers the value in the source; zero for synthesised values.
	Span Span

	// Parser bookkeeping for TOML's table-definition rules.
	inline     bool // inline table or array literal: closed to extension
	explicit   bool // defined by a [header]
	dotted     bool // created implicitly by a dotted key
	arrayOfTbl bool // created by [[header]]
}

// Entry is one key of a table with where it was written.
type Entry struct {
	Key     string
	KeySpan Span
	Value   *Value
}

// TableValue is an ordered table: iteration follows document order, as
// toml's preserve_order IndexMap does. Small tables (most of them) are
// searched in order; an index is built once a table grows past
// indexFrom keys, so a table costs little memory.
type TableValue struct {
	entries []*Entry
	index   map[string]int
}

// indexFrom is the size at which a table gets an index.
const indexFrom = 8

// NewTable returns an empty table.
func NewTable() *TableValue { return &TableValue{} }

// Len reports the number of keys.
func (t *TableValue) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Entries returns the entries in document order. The slice must not be modified.
func (t *TableValue) Entries() []*Entry {
	if t == nil {
		return nil
	}
	return t.entries
}

// find returns key's position, -1 when absent.
func (t *TableValue) find(key string) int {
	if t.index != nil {
		if i, ok := t.index[key]; ok {
			return i
		}
		return -1
	}
	for i, e := range t.entries {
		if e.Key == key {
			return i
		}
	}
	return -1
}

// appendEntry adds a new key at the end.
func (t *TableValue) appendEntry(e *Entry) {
	t.entries = append(t.entries, e)
	switch {
	case t.index != nil:
		t.index[e.Key] = len(t.entries) - 1
	case len(t.entries) > indexFrom:
		t.index = make(map[string]int, len(t.entries)*2)
		for i, x := range t.entries {
			t.index[x.Key] = i
		}
	}
}

// Get returns the entry for key, or nil.
func (t *TableValue) Get(key string) *Entry {
	if t == nil {
		return nil
	}
	if i := t.find(key); i >= 0 {
		return t.entries[i]
	}
	return nil
}

// Value returns the value for key, or nil.
func (t *TableValue) Value(key string) *Value {
	if e := t.Get(key); e != nil {
		return e.Value
	}
	return nil
}

// Set replaces the value of key in place, or appends the key.
func (t *TableValue) Set(key string, v *Value) {
	if i := t.find(key); i >= 0 {
		t.entries[i].Value = v
		return
	}
	t.appendEntry(&Entry{Key: key, Value: v})
}

// Insert sets key like IndexMap::insert: an existing key keeps its position.
func (t *TableValue) Insert(e *Entry) {
	if i := t.find(e.Key); i >= 0 {
		t.entries[i] = e
		return
	}
	t.appendEntry(e)
}

// Remove deletes key like IndexMap::shift_remove (toml's Map::remove keeps
// the order of the remaining keys) and returns the removed entry.
func (t *TableValue) Remove(key string) *Entry {
	i := t.find(key)
	if i < 0 {
		return nil
	}
	e := t.entries[i]
	t.entries = append(t.entries[:i:i], t.entries[i+1:]...)
	if t.index != nil {
		delete(t.index, key)
		for j := i; j < len(t.entries); j++ {
			t.index[t.entries[j].Key] = j
		}
	}
	return e
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	if v == nil {
		return nil
	}
	c := *v
	switch v.Kind {
	case Array:
		c.Arr = make([]*Value, len(v.Arr))
		for i, e := range v.Arr {
			c.Arr[i] = e.Clone()
		}
	case Table:
		c.Tbl = &TableValue{entries: make([]*Entry, 0, len(v.Tbl.entries))}
		for _, e := range v.Tbl.entries {
			c.Tbl.appendEntry(&Entry{Key: e.Key, KeySpan: e.KeySpan, Value: e.Value.Clone()})
		}
	}
	return &c
}

// NewString, NewBool and NewTableValue build synthesised values.
func NewString(s string) *Value { return &Value{Kind: String, Str: s} }

// NewBool returns a boolean value.
func NewBool(b bool) *Value { return &Value{Kind: Boolean, Bool: b} }

// NewTableValue returns a table value wrapping t.
func NewTableValue(t *TableValue) *Value { return &Value{Kind: Table, Tbl: t} }

// NewArray returns an array value.
func NewArray(vs ...*Value) *Value { return &Value{Kind: Array, Arr: vs} }

// GoString renders v as TOML-ish text, for test failure messages.
func (v *Value) GoString() string {
	var b strings.Builder
	v.debug(&b)
	return b.String()
}

func (v *Value) debug(b *strings.Builder) {
	if v == nil {
		b.WriteString("<nil>")
		return
	}
	switch v.Kind {
	case String, Datetime:
		fmt.Fprintf(b, "%q", v.Str)
	case Integer:
		fmt.Fprintf(b, "%d", v.Int)
	case Float:
		b.WriteString(RustFloat(v.Float))
	case Boolean:
		fmt.Fprintf(b, "%t", v.Bool)
	case Array:
		b.WriteByte('[')
		for i, e := range v.Arr {
			if i > 0 {
				b.WriteString(", ")
			}
			e.debug(b)
		}
		b.WriteByte(']')
	case Table:
		b.WriteByte('{')
		for i, e := range v.Tbl.entries {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%q = ", e.Key)
			e.Value.debug(b)
		}
		b.WriteByte('}')
	}
}
