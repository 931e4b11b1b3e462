package scim

import (
	"encoding/json"
	"strings"
	"testing"
)

func resource(t testing.TB, s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const ann = `{"id":"usr_1","externalId":"00uA","userName":"Ann@Example.com","displayName":"Ann Lee","active":true,
 "name":{"givenName":"Ann","familyName":"Lee"},
 "emails":[{"value":"ann@example.com","type":"work","primary":true},{"value":"ann@home.example","type":"home"}],
 "meta":{"lastModified":"2026-11-01T00:00:00Z"},
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`

func TestFilterMatch(t *testing.T) {
	u := resource(t, ann)
	g := resource(t, `{"id":"grp_1","displayName":"Codex Admins","members":[{"value":"usr_1"},{"value":"usr_2"}]}`)
	for _, tc := range []struct {
		filter string
		res    map[string]any
		want   bool
	}{
		{`userName eq "ann@example.com"`, u, true},      // case-insensitive
		{`USERNAME EQ "ANN@EXAMPLE.COM"`, u, true},      // names and operators too
		{`userName eq "bob@example.com"`, u, false},     //
		{`externalId eq "00ua"`, u, false},              // caseExact
		{`externalId eq "00uA"`, u, true},               //
		{`id eq "USR_1"`, u, false},                     // caseExact
		{`userName co "example"`, u, true},              //
		{`userName sw "ann@"`, u, true},                 //
		{`userName ew ".com"`, u, true},                 //
		{`userName sw "bob"`, u, false},                 //
		{`emails.value eq "ann@home.example"`, u, true}, // any value of a multi-valued attribute
		{`emails eq "ann@example.com"`, u, true},        // complex without sub-attribute: its value
		{`emails[type eq "work" and value co "@example.com"]`, u, true},
		{`emails[type eq "home" and primary eq true]`, u, false},
		{`name.givenName eq "Ann" and name.familyName eq "Lee"`, u, true},
		{`title pr`, u, false},
		{`displayName pr`, u, true},
		{`title eq null`, u, true},
		{`active eq true`, u, true},
		{`active eq false`, u, false},
		{`not (active eq false)`, u, true},
		{`userName eq "x" or displayName sw "ann"`, u, true},
		{`userName eq "x" or displayName eq "y" and active eq true`, u, false}, // and binds tighter
		{`(userName eq "x" or displayName sw "ann") and active eq true`, u, true},
		{`meta.lastModified gt "2026-10-01T00:00:00Z"`, u, true},
		{`meta.lastModified lt "2026-10-01T00:00:00Z"`, u, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann@example.com"`, u, true},
		{`userName ne "ann@example.com"`, u, false},
		{`members.value eq "usr_2"`, g, true},
		{`members[value eq "usr_3"]`, g, false},
		{`displayName eq "codex admins"`, g, true},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := Match(f, tc.res); got != tc.want {
			t.Errorf("%s (parsed %s) = %v, want %v", tc.filter, f, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{``, "want an attribute name at the end"},
		{`userName`, "want an operator"},
		{`userName eq`, "want a value"},
		{`userName eq "x`, "unterminated string starting at offset 12"},
		{`userName like "x"`, `unknown operator "like"`},
		{`userName eq "x" and`, "want an attribute name at the end"},
		{`(userName eq "x"`, "want ) at the end"},
		{`emails[type eq "work"`, "want ] at the end"},
		{`userName eq "x" extra`, `unexpected "extra" at offset 16`},
		{`user%Name eq "x"`, "unexpected character '%' at offset 4"},
		{strings.Repeat("(", 40) + `a pr` + strings.Repeat(")", 40), "nests deeper than 32"},
	} {
		_, err := ParseFilter(tc.filter)
		e, ok := err.(*Error)
		if !ok || e.SCIMType != "invalidFilter" || e.Status != 400 || !strings.Contains(e.Detail, tc.want) {
			t.Errorf("%q: got %v, want invalidFilter containing %q", tc.filter, err, tc.want)
		}
	}
}

func TestPatch(t *testing.T) {
	op := func(o, path, value string) PatchOp { return PatchOp{Op: o, Path: path, Value: json.RawMessage(value)} }
	for _, tc := range []struct {
		name string
		ops  []PatchOp
		want string // a filter the result must match
	}{
		{"okta deactivate", []PatchOp{op("replace", "", `{"active":false}`)}, `active eq false`},
		{"entra replace with capitalised op", []PatchOp{op("Replace", "displayName", `"Ann L."`)}, `displayName eq "Ann L."`},
		{"sub-attribute", []PatchOp{op("replace", "name.familyName", `"Li"`)}, `name.familyName eq "Li" and name.givenName eq "Ann"`},
		{"filtered sub-attribute", []PatchOp{op("replace", `emails[type eq "work"].value`, `"a@example.com"`)}, `emails[type eq "work" and value eq "a@example.com"] and emails[type eq "home"]`},
		{"remove filtered", []PatchOp{op("remove", `emails[type eq "home"]`, ``)}, `not (emails[type eq "home"]) and emails[type eq "work"]`},
		{"add appends", []PatchOp{op("add", "emails", `[{"value":"x@example.com","type":"other"}]`)}, `emails[type eq "other"] and emails[type eq "work"]`},
		{"path-less dotted key", []PatchOp{op("replace", "", `{"name.givenName":"Annie"}`)}, `name.givenName eq "Annie"`},
		{"extension by URI path", []PatchOp{op("replace", EnterpriseSchema+":department", `"Sales"`)}, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`},
		{"remove attribute", []PatchOp{op("remove", "displayName", ``)}, `not (displayName pr)`},
	} {
		u := resource(t, ann)
		if err := Apply(u, tc.ops, UserSchema); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		f, err := ParseFilter(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		// The extension lives in its own object: match it there.
		target := u
		if ff, ok := f.(*Compare); ok && ff.Path.URI == EnterpriseSchema {
			target = u[EnterpriseSchema].(map[string]any)
			ff.Path.URI = ""
		}
		if !Match(f, target) {
			b, _ := json.Marshal(u)
			t.Errorf("%s: result %s does not match %s", tc.name, b, tc.want)
		}
	}

	g := resource(t, `{"id":"grp_1","displayName":"eng","members":[{"value":"usr_1"},{"value":"usr_2"}]}`)
	if err := Apply(g, []PatchOp{
		op("add", "members", `[{"value":"usr_3"},{"value":"usr_1"}]`),
		op("remove", `members[value eq "usr_2"]`, ``),
		op("Remove", "members", `[{"value":"usr_1"}]`), // Entra's form
	}, GroupSchema); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(g["members"]); string(b) != `[{"value":"usr_3"}]` {
		t.Errorf("members after add/remove/remove = %s", b)
	}
	if err := Apply(g, []PatchOp{op("replace", "members", `[{"value":"usr_9"}]`)}, GroupSchema); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(g["members"]); string(b) != `[{"value":"usr_9"}]` {
		t.Errorf("members after replace = %s", b)
	}

	for _, tc := range []struct {
		op       PatchOp
		scimType string
	}{
		{op("move", "x", `1`), "invalidSyntax"},
		{op("remove", "", ``), "noTarget"},
		{op("replace", `emails[type eq "fax"].value`, `"x"`), "noTarget"},
		{op("replace", `emails[type eq ]`, `"x"`), "invalidPath"},
		{op("replace", "", `"not an object"`), "invalidValue"},
		{op("replace", "title", `{bad json`), "invalidValue"},
	} {
		err := Apply(resource(t, ann), []PatchOp{tc.op}, UserSchema)
		if e, ok := err.(*Error); !ok || e.SCIMType != tc.scimType || !strings.HasPrefix(e.Detail, "Operations[0]: ") {
			t.Errorf("%+v: got %v, want %s", tc.op, err, tc.scimType)
		}
	}
}

func TestProject(t *testing.T) {
	u := resource(t, ann)
	got := Project(u, SplitList("userName, name.givenName"), nil)
	b, _ := json.Marshal(got)
	if string(b) != `{"id":"usr_1","name":{"givenName":"Ann"},"userName":"Ann@Example.com"}` {
		t.Errorf("attributes: %s", b)
	}
	got = Project(u, nil, SplitList("emails,name.familyName,id,meta,"+EnterpriseSchema))
	b, _ = json.Marshal(got)
	if string(b) != `{"active":true,"displayName":"Ann Lee","externalId":"00uA","id":"usr_1","name":{"givenName":"Ann"},"userName":"Ann@Example.com"}` {
		t.Errorf("excludedAttributes: %s", b)
	}
	if _, ok := u["emails"]; !ok {
		t.Error("Project changed its input")
	}
}

// FuzzFilter: the parser never panics, and a parsed filter's canonical
// form parses to the same canonical form.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `userName sw "J"`, `title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`, `title pr and userType eq "Employee"`,
		`title pr or userType eq "Intern"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`members[value eq "2819c223"]`, `age ge -1.5e3`, `x eq null`, `a eq "\u00e9\"\\"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ft, err := ParseFilter(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		canon := ft.String()
		if len(canon) > MaxFilterLength {
			return // canonical numbers and parentheses can be longer than the input
		}
		again, err := ParseFilter(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, again.String())
		}
		Match(ft, map[string]any{"userName": "x", "emails": []any{map[string]any{"value": "x"}}})
	})
}
