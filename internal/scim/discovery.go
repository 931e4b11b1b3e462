package scim

// The discovery documents (RFC 7643 §5–§7, RFC 7644 §4). base is the SCIM
// base URL ("https://host/scim/v2") for the meta.location fields.

// ServiceProviderConfig says what this service provider supports.
func ServiceProviderConfig(base string) map[string]any {
	off := map[string]any{"supported": false}
	return map[string]any{
		"schemas":          []any{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/codexgov/codexgov/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxPageSize},
		"changePassword":   off,
		"sort":             off,
		"etag":             off,
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "A codexgov API key with the scim scope, sent as Authorization: Bearer <key>.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

// MaxPageSize bounds a list response's count.
const MaxPageSize = 1000

// ResourceTypes lists the resource types.
func ResourceTypes(base string) []any {
	rt := func(name, endpoint, schema string, ext []any) map[string]any {
		m := map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":          name,
			"name":        name,
			"endpoint":    endpoint,
			"description": name,
			"schema":      schema,
			"meta":        map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + name},
		}
		if ext != nil {
			m["schemaExtensions"] = ext
		}
		return m
	}
	return []any{
		rt("User", "/Users", UserSchema, []any{map[string]any{"schema": EnterpriseSchema, "required": false}}),
		rt("Group", "/Groups", GroupSchema, nil),
	}
}

func attr(name, typ string, multi, required, caseExact bool, mutability, returned, uniqueness string, sub ...map[string]any) map[string]any {
	m := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": caseExact,
		"mutability": mutability, "returned": returned, "uniqueness": uniqueness, "description": name}
	if len(sub) > 0 {
		s := make([]any, len(sub))
		for i, a := range sub {
			s[i] = a
		}
		m["subAttributes"] = s
	}
	return m
}

func str(name string) map[string]any {
	return attr(name, "string", false, false, false, "readWrite", "default", "none")
}

// Schemas lists the schemas this service provider understands. userName
// is immutable here (it is the user's email, codexgov's key), and so is a
// group's displayName (assignment rules refer to it).
func Schemas(base string) []any {
	schema := func(id, name string, attrs ...map[string]any) map[string]any {
		a := make([]any, len(attrs))
		for i, x := range attrs {
			a[i] = x
		}
		return map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": id, "name": name, "description": name,
			"attributes": a, "meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id}}
	}
	multi := func(name string, subs ...map[string]any) map[string]any {
		return attr(name, "complex", true, false, false, "readWrite", "default", "none", subs...)
	}
	ref := func(name, mut string) map[string]any {
		return attr(name, "complex", true, false, false, mut, "default", "none",
			attr("value", "string", false, false, true, "immutable", "default", "none"),
			attr("$ref", "reference", false, false, false, "immutable", "default", "none"),
			attr("display", "string", false, false, false, "readOnly", "default", "none"))
	}
	return []any{
		schema(UserSchema, "User",
			attr("userName", "string", false, true, false, "immutable", "always", "server"),
			attr("name", "complex", false, false, false, "readWrite", "default", "none", str("formatted"), str("familyName"), str("givenName"), str("middleName"), str("honorificPrefix"), str("honorificSuffix")),
			str("displayName"), str("nickName"), str("title"), str("userType"), str("preferredLanguage"), str("locale"), str("timezone"),
			attr("active", "boolean", false, false, false, "readWrite", "default", "none"),
			multi("emails", str("value"), str("display"), str("type"), attr("primary", "boolean", false, false, false, "readWrite", "default", "none")),
			multi("phoneNumbers", str("value"), str("type"), attr("primary", "boolean", false, false, false, "readWrite", "default", "none")),
			ref("groups", "readOnly"),
		),
		schema(GroupSchema, "Group",
			attr("displayName", "string", false, true, false, "immutable", "always", "server"),
			ref("members", "readWrite"),
		),
		schema(EnterpriseSchema, "EnterpriseUser",
			str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
			attr("manager", "complex", false, false, false, "readWrite", "default", "none", str("value"), str("displayName")),
		),
	}
}
