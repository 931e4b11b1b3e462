package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// SCIM values the schema forbids are refused with 400 invalidValue, and a
// write to a read-only attribute with 400 mutability; nothing is stored.
func TestSCIMRefusesWhatItsSchemaForbids(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, f *fixture) {
		key := f.keys["victim/full"]
		user := func(extra string) string {
			return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"lee@victim.test"` + extra + `}`
		}
		for _, c := range []struct{ body, scimType, mentions string }{
			{user(`,"emails":[1,2,null,"x"]`), "invalidValue", "emails[0]"},
			{user(`,"emails":[{"value":"lee@victim.test"},null]`), "invalidValue", "emails[1]"},
			{user(`,"emails":{"value":"lee@victim.test"}`), "invalidValue", "emails"},
			{user(`,"emails":[{"value":7}]`), "invalidValue", "emails[0].value"},
			{user(`,"emails":[{"value":"a@b.c","primary":"yes"}]`), "invalidValue", "emails[0].primary"},
			{user(`,"name":{"givenName":[1]}`), "invalidValue", "name.givenName"},
			{user(`,"name":"Lee"`), "invalidValue", "name"},
			{user(`,"name":{"nickname":"L"}`), "invalidValue", "nickname"},
			{user(`,"displayName":{"x":1}`), "invalidValue", "displayName"},
			{user(`,"active":"maybe"`), "invalidValue", "active"},
			{user(`,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":["a"]}`), "invalidValue", "department"},
			{user(`,"id":"usr_mine"`), "mutability", "id"},
			{user(`,"meta":{"resourceType":"User"}`), "mutability", "meta"},
			{user(`,"groups":[{"value":"grp_x"}]`), "mutability", "groups"},
		} {
			code, body := f.do(t, "POST", "/scim/v2/Users", key, c.body)
			if code != 400 || !strings.Contains(body, `"scimType": "`+c.scimType+`"`) || !strings.Contains(body, c.mentions) {
				t.Errorf("POST %s: %d %s, want 400 %s naming %s", c.body, code, body, c.scimType, c.mentions)
			}
		}
		if _, body := f.do(t, "GET", "/scim/v2/Users?filter=userName%20eq%20%22lee@victim.test%22", key, ""); !strings.Contains(body, `"totalResults": 0`) {
			t.Fatalf("a refused user was stored: %s", body)
		}

		// A valid user; Okta's "groups": [] on create is accepted.
		code, body := f.do(t, "POST", "/scim/v2/Users", key, user(`,"groups":[],"emails":[{"value":"lee@victim.test","primary":true}],"name":{"givenName":"Lee"}`))
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var created map[string]any
		json.Unmarshal([]byte(body), &created)
		id := created["id"].(string)
		path := "/scim/v2/Users/" + id

		for _, c := range []struct{ method, body, scimType string }{
			{"PATCH", patch(`[{"op":"replace","path":"groups","value":[{"value":"grp_x"}]}]`), "mutability"},
			{"PATCH", patch(`[{"op":"add","value":{"groups":[{"value":"grp_x"}]}}]`), "mutability"},
			{"PATCH", patch(`[{"op":"replace","path":"meta.created","value":"2000-01-01T00:00:00Z"}]`), "mutability"},
			{"PATCH", patch(`[{"op":"replace","path":"emails","value":[1]}]`), "invalidValue"},
			{"PATCH", patch(`[{"op":"replace","path":"name.givenName","value":[1]}]`), "invalidValue"},
			{"PUT", strings.Replace(body, `"id": "`+id+`"`, `"id": "usr_other"`, 1), "mutability"},
			{"PUT", user(`,"groups":[{"value":"grp_x"}]`), "mutability"},
			{"PUT", user(`,"emails":[null]`), "invalidValue"},
		} {
			code, out := f.do(t, c.method, path, key, c.body)
			if code != 400 || !strings.Contains(out, `"scimType": "`+c.scimType+`"`) {
				t.Errorf("%s %s: %d %s, want 400 %s", c.method, c.body, code, out, c.scimType)
			}
		}
		// The user is as created; echoing it back with PUT is accepted.
		code, now := f.do(t, "GET", path, key, "")
		if code != 200 || now != body {
			t.Errorf("after refused writes the user changed:\n%s\nwas\n%s", now, body)
		}
		req, _ := http.NewRequest("PUT", f.srv.URL+path, strings.NewReader(now))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("PUT of the resource as GET returned it: %d", resp.StatusCode)
		}
	})
}
