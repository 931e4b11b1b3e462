package scim

import (
	"fmt"
	"strings"
)

// schemaAttr is one attribute of a published schema (Schemas).
type schemaAttr struct {
	name, typ  string
	multi      bool
	mutability string
	sub        []schemaAttr
}

// attrsOf reads a schema's attributes from the published schema documents,
// so that what is checked is what /Schemas announces.
func attrsOf(id string) []schemaAttr {
	for _, s := range Schemas("") {
		m := s.(map[string]any)
		if m["id"] == id {
			return readAttrs(m["attributes"].([]any))
		}
	}
	return nil
}

func readAttrs(list []any) []schemaAttr {
	out := make([]schemaAttr, 0, len(list))
	for _, x := range list {
		m := x.(map[string]any)
		a := schemaAttr{name: m["name"].(string), typ: m["type"].(string), multi: m["multiValued"].(bool), mutability: m["mutability"].(string)}
		if sub, ok := m["subAttributes"].([]any); ok {
			a.sub = readAttrs(sub)
		}
		out = append(out, a)
	}
	return out
}

func findAttr(attrs []schemaAttr, name string) *schemaAttr {
	for i := range attrs {
		if strings.EqualFold(attrs[i].name, name) {
			return &attrs[i]
		}
	}
	return nil
}

// ValidateResource checks the attributes a resource sets against the
// schema (and, for a user, the enterprise extension): each known attribute
// has its type (RFC 7643 §2.3), a multi-valued one is an array whose
// elements are not null, and a complex one holds only its sub-attributes.
// null stands for unassigned (§2.5). Attributes the schemas do not name
// are left to the caller. The error is 400 invalidValue naming the path.
func ValidateResource(res map[string]any, schema string) error {
	if err := validateAttrs(res, attrsOf(schema), ""); err != nil {
		return err
	}
	if schema == UserSchema {
		if ext, _, ok := Get(res, EnterpriseSchema); ok && ext != nil {
			m, ok := ext.(map[string]any)
			if !ok {
				return Errorf(400, "invalidValue", "%s must be an object", EnterpriseSchema)
			}
			return validateAttrs(m, attrsOf(EnterpriseSchema), EnterpriseSchema+":")
		}
	}
	return nil
}

func validateAttrs(m map[string]any, attrs []schemaAttr, prefix string) error {
	for k, v := range m {
		a := findAttr(attrs, k)
		if a == nil || v == nil {
			continue
		}
		if err := validateValue(*a, v, prefix+a.name); err != nil {
			return err
		}
	}
	return nil
}

func validateValue(a schemaAttr, v any, path string) error {
	if a.multi {
		list, ok := v.([]any)
		if !ok {
			return Errorf(400, "invalidValue", "%s must be an array of %s values", path, kindName(a.typ))
		}
		one := a
		one.multi = false
		for i, x := range list {
			if x == nil {
				return Errorf(400, "invalidValue", "%s[%d] is null: a multi-valued attribute lists values, not nulls", path, i)
			}
			if err := validateValue(one, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	switch a.typ {
	case "string", "reference", "dateTime", "binary":
		if _, ok := v.(string); !ok {
			return Errorf(400, "invalidValue", "%s must be a string, not %s", path, jsonKind(v))
		}
	case "boolean":
		if s, ok := v.(string); ok && (strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
			return nil // Entra ID sends booleans as "True" and "False"
		}
		if _, ok := v.(bool); !ok {
			return Errorf(400, "invalidValue", "%s must be a boolean, not %s", path, jsonKind(v))
		}
	case "complex":
		if _, ok := v.(string); ok && a.name == "manager" {
			return nil // Entra ID sends the manager's id as a plain string
		}
		sub, ok := v.(map[string]any)
		if !ok {
			return Errorf(400, "invalidValue", "%s must be an object with %s, not %s", path, subNames(a.sub), jsonKind(v))
		}
		for k, x := range sub {
			s := findAttr(a.sub, k)
			if s == nil {
				return Errorf(400, "invalidValue", "%s has no sub-attribute %q (it has %s)", path, k, subNames(a.sub))
			}
			if x == nil {
				continue
			}
			if err := validateValue(*s, x, path+"."+s.name); err != nil {
				return err
			}
		}
	}
	return nil
}

func subNames(attrs []schemaAttr) string {
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

func kindName(typ string) string {
	if typ == "complex" {
		return "object"
	}
	return typ
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// ReadOnly lists the attributes of a schema a client may not set: the
// common id and meta (RFC 7643 §3.1) and the schema's own readOnly ones.
func ReadOnly(schema string) []string {
	out := []string{"id", "meta"}
	for _, a := range attrsOf(schema) {
		if a.mutability == "readOnly" {
			out = append(out, a.name)
		}
	}
	return out
}
