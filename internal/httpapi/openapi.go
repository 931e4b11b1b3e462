package httpapi

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	openapiOnce sync.Once
	openapiDoc  []byte
)

// OpenAPI is the OpenAPI 3.1 document, generated from the route table so
// that the two cannot drift apart.
func OpenAPI() []byte {
	openapiOnce.Do(func() {
		openapiDoc, _ = json.MarshalIndent(buildOpenAPI(), "", "  ")
	})
	return openapiDoc
}

var pathParamRE = regexp.MustCompile(`\{([a-z]+)\}`)

func buildOpenAPI() map[string]any {
	schemas := map[string]any{}
	paths := map[string]map[string]any{}
	errRef := schemaOf(reflect.TypeOf(ErrorBody{}), schemas)
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
	}
	for _, rt := range Routes() {
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt)}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.In != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.In), schemas)}}}
		}
		status := rt.Status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": "success"}
		switch {
		case rt.Out != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.Out), schemas)}}
		case rt.Auth == Client:
			ok["content"] = map[string]any{"application/toml": map[string]any{"schema": map[string]any{"type": "string"}}}
			ok["headers"] = map[string]any{
				"ETag":               map[string]any{"schema": map[string]any{"type": "string"}, "description": "strong entity tag: the body's SHA-256"},
				"Codexgov-Signature": map[string]any{"schema": map[string]any{"type": "string"}, "description": "detached Ed25519 JWS over the body; keys at /.well-known/jwks.json"},
			}
		}
		responses := map[string]any{strconv.Itoa(status): ok}
		if rt.Auth == Client {
			responses["304"] = map[string]any{"description": "If-None-Match matched the ETag"}
		}
		if rt.Auth.Authenticates() {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			responses["401"] = errResp("no valid credential")
			responses["403"] = errResp("the credential may not call this route")
		}
		if strings.Contains(rt.Path, "{") {
			responses["404"] = errResp("not found, or another workspace's")
		}
		if rt.In != nil {
			responses["400"] = errResp("invalid input; details locate each problem")
		}
		responses["default"] = errResp("error")
		op["responses"] = responses
		if rt.Auth == Key {
			op["x-codexgov-scope"] = string(rt.Scope)
		}
		op["x-codexgov-surface"] = rt.Surface
		op["x-codexgov-auth"] = rt.Auth.String()
		op["x-codexgov-errors"] = rt.Errors.String()
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "codexgov control plane API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "an API key (cgk_…) or, on /api/v1/client routes, a user's access token (cgt_…)"}},
		},
	}
}

func operationID(rt Route) string {
	parts := []string{strings.ToLower(rt.Method)}
	for _, seg := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1"), "/") {
		seg = strings.Trim(seg, "{}.")
		if seg != "" && seg != "workspaces" && seg != "ws" {
			parts = append(parts, strings.NewReplacer("-", "_", ".", "_").Replace(seg))
		}
	}
	return strings.Join(parts, "_")
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// schemaOf returns the JSON schema of t, registering named structs in
// schemas and referring to them.
// properties adds a struct's JSON properties to props. An embedded struct
// without a JSON name contributes its own fields, as encoding/json
// flattens them.
func properties(t reflect.Type, props, schemas map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		n, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && n == "" && f.Type.Kind() == reflect.Struct {
			properties(f.Type, props, schemas)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if n == "" {
			n = f.Name
		}
		props[n] = schemaOf(f.Type, schemas)
	}
}

func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), schemas)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case reflect.Struct:
		name := t.Name()
		if _, ok := schemas[name]; !ok {
			schemas[name] = nil // break cycles
			props := map[string]any{}
			properties(t, props, schemas)
			schemas[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}
