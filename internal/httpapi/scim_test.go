package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/scim"
)

// scimRun is a named sequence of conformance checks: each check is
// recorded, so that the test reports a pass count and docs/scim.md lists
// exactly the checks that run.
type scimRun struct {
	t      *testing.T
	f      *fixture
	key    string
	names  []string
	failed int
}

func (r *scimRun) check(name string, fn func() error) {
	r.t.Helper()
	r.names = append(r.names, name)
	if err := fn(); err != nil {
		r.failed++
		r.t.Errorf("SCIM check %d %q: %v", len(r.names), name, err)
	}
}

type scimResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r *scimRun) do(method, path, body string) scimResp {
	return r.doAs(r.key, method, path, body)
}

func (r *scimRun) doAs(key, method, path, body string) scimResp {
	req, _ := http.NewRequest(method, r.f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out scimResp
	out.status, out.header = resp.StatusCode, resp.Header
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	out.raw = b.String()
	json.Unmarshal([]byte(out.raw), &out.body)
	return out
}

func want(resp scimResp, status int) error {
	if resp.status != status {
		return fmt.Errorf("status %d, want %d: %s", resp.status, status, resp.raw)
	}
	if status != http.StatusNoContent && !strings.HasPrefix(resp.header.Get("Content-Type"), "application/scim+json") {
		return fmt.Errorf("Content-Type %q", resp.header.Get("Content-Type"))
	}
	return nil
}

func wantError(resp scimResp, status int, scimType string) error {
	if err := want(resp, status); err != nil {
		return err
	}
	schemas, _ := resp.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.ErrorSchema || resp.body["status"] != fmt.Sprint(status) || resp.body["detail"] == "" {
		return fmt.Errorf("not a SCIM error: %s", resp.raw)
	}
	if got, _ := resp.body["scimType"].(string); got != scimType {
		return fmt.Errorf("scimType %q, want %q: %s", got, scimType, resp.raw)
	}
	return nil
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func resources(resp scimResp) []map[string]any {
	var out []map[string]any
	rs, _ := resp.body["Resources"].([]any)
	for _, r := range rs {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

// lookup asks the admin API which policy and access a user gets.
func (r *scimRun) lookup(email string) codexgov.Lookup {
	r.t.Helper()
	code, body := r.f.do(r.t, "GET", "/api/v1/workspaces/victim/lookup?user="+url.QueryEscape(email), r.f.keys["victim/full"], "")
	var l codexgov.Lookup
	if code != 200 || json.Unmarshal([]byte(body), &l) != nil {
		r.t.Fatalf("lookup %s: %d %s", email, code, body)
	}
	return l
}

func policyOf(l codexgov.Lookup) string {
	if l.Policy == nil {
		return ""
	}
	return l.Policy.Name
}

func okta(userName, given, family string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,
	 "name":{"givenName":%q,"familyName":%q},"emails":[{"primary":true,"value":%q,"type":"work"}],
	 "displayName":"%s %s","locale":"en-US","externalId":"00u-%s","groups":[],"password":"1mz050nq","active":true}`, userName, given, family, userName, given, family, given)
}

func patch(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
}

// TestSCIMConformance follows the request sequences of Okta's SCIM 2.0
// test plan and Microsoft Entra ID's provisioning, checking each step's
// status and body and that the change shows in policy lookup.
func TestSCIMConformance(t *testing.T) {
	f := newFixture(t)
	ctx := actor()
	for _, p := range []string{"base", "admins"} {
		if _, err := f.store.PutPolicy(ctx, "victim", codexgov.PolicyInput{Name: p, Requirements: "allowed_sandbox_modes = [\"read-only\"]\n"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.SetAssignment(ctx, "victim", codexgov.Assignment{Default: "base"}); err != nil {
		t.Fatal(err)
	}
	f.api.Rebuild(ctx)
	r := &scimRun{t: t, f: f, key: f.keys["victim/full"]}
	ids := map[string]string{}

	r.check("ServiceProviderConfig advertises patch and filter", func() error {
		resp := r.do("GET", "/scim/v2/ServiceProviderConfig", "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if fmt.Sprint(resp.body["patch"]) != "map[supported:true]" || !strings.Contains(fmt.Sprint(resp.body["filter"]), "supported:true") {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("ResourceTypes lists User and Group", func() error {
		resp := r.do("GET", "/scim/v2/ResourceTypes", "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if rs := resources(resp); len(rs) != 2 || str(rs[0], "endpoint") != "/Users" || str(rs[1], "endpoint") != "/Groups" {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("Schemas lists the User, Group and enterprise schemas", func() error {
		resp := r.do("GET", "/scim/v2/Schemas", "")
		if err := want(resp, 200); err != nil {
			return err
		}
		var got []string
		for _, s := range resources(resp) {
			got = append(got, str(s, "id"))
		}
		if !slices.Equal(got, []string{scim.UserSchema, scim.GroupSchema, scim.EnterpriseSchema}) {
			return fmt.Errorf("schemas %v", got)
		}
		return nil
	})
	r.check("Okta: list users with count=1 (connection test)", func() error {
		resp := r.do("GET", "/scim/v2/Users?count=1&startIndex=1", "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if s, _ := resp.body["schemas"].([]any); len(s) != 1 || s[0] != scim.ListSchema || resp.body["itemsPerPage"] != 1.0 || resp.body["totalResults"] != 1.0 {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("Okta: filter on a random userName finds nothing", func() error {
		resp := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "random-3f1c@victim.test"`), "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if resp.body["totalResults"] != 0.0 || len(resources(resp)) != 0 {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("create a user (201, Location, no password echoed)", func() error {
		resp := r.do("POST", "/scim/v2/Users", okta("scim-jo@victim.test", "Jo", "Ng"))
		if err := want(resp, 201); err != nil {
			return err
		}
		ids["jo"] = str(resp.body, "id")
		if !strings.HasPrefix(ids["jo"], "usr_") || str(resp.body, "userName") != "scim-jo@victim.test" || resp.body["active"] != true ||
			str(resp.body, "name", "givenName") != "Jo" || str(resp.body, "externalId") != "00u-Jo" || strings.Contains(resp.raw, "1mz050nq") {
			return fmt.Errorf("body %s", resp.raw)
		}
		if loc := resp.header.Get("Location"); loc != r.f.srv.URL+"/scim/v2/Users/"+ids["jo"] || str(resp.body, "meta", "location") != loc {
			return fmt.Errorf("Location %q, meta %v", loc, resp.body["meta"])
		}
		if l := r.lookup("scim-jo@victim.test"); policyOf(l) != "base" || !l.Access[codexgov.SurfaceLocal].Allowed {
			return fmt.Errorf("lookup: policy %q access %+v", policyOf(l), l.Access)
		}
		return nil
	})
	r.check("get the user by id", func() error {
		resp := r.do("GET", "/scim/v2/Users/"+ids["jo"], "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if str(resp.body, "userName") != "scim-jo@victim.test" || str(resp.body, "name", "familyName") != "Ng" || str(resp.body, "locale") != "en-US" {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("get the user by userName eq filter, in another case", func() error {
		resp := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "SCIM-Jo@Victim.test"`), "")
		if err := want(resp, 200); err != nil {
			return err
		}
		if rs := resources(resp); len(rs) != 1 || str(rs[0], "id") != ids["jo"] {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("a duplicate userName is 409 uniqueness", func() error {
		return wantError(r.do("POST", "/scim/v2/Users", okta("scim-jo@victim.test", "Jo", "Again")), 409, "uniqueness")
	})
	r.check("a userName that is not an email is 400 invalidValue", func() error {
		return wantError(r.do("POST", "/scim/v2/Users", okta("jo.ng", "Jo", "Ng")), 400, "invalidValue")
	})
	r.check("list with pagination (startIndex=2, count=2)", func() error {
		for _, n := range []string{"kim", "lee", "max"} {
			resp := r.do("POST", "/scim/v2/Users", okta("scim-"+n+"@victim.test", strings.ToUpper(n[:1])+n[1:], "Test"))
			if err := want(resp, 201); err != nil {
				return err
			}
			ids[n] = str(resp.body, "id")
		}
		resp := r.do("GET", "/scim/v2/Users?startIndex=2&count=2", "")
		if err := want(resp, 200); err != nil {
			return err
		}
		// ann, scim-jo, scim-kim, scim-lee, scim-max in email order.
		rs := resources(resp)
		if resp.body["totalResults"] != 5.0 || resp.body["startIndex"] != 2.0 || resp.body["itemsPerPage"] != 2.0 || len(rs) != 2 ||
			str(rs[0], "userName") != "scim-jo@victim.test" || str(rs[1], "userName") != "scim-kim@victim.test" {
			return fmt.Errorf("body %s", resp.raw)
		}
		resp = r.do("GET", "/scim/v2/Users?startIndex=5&count=10", "")
		if rs := resources(resp); resp.status != 200 || len(rs) != 1 || str(rs[0], "userName") != "scim-max@victim.test" {
			return fmt.Errorf("last page: %s", resp.raw)
		}
		return nil
	})
	r.check("an unknown user id is 404", func() error {
		return wantError(r.do("GET", "/scim/v2/Users/usr_0000000000", ""), 404, "")
	})
	r.check("Okta: PATCH replace {active:false} deactivates", func() error {
		resp := r.do("PATCH", "/scim/v2/Users/"+ids["jo"], patch(`[{"op":"replace","value":{"active":false}}]`))
		if err := want(resp, 200); err != nil {
			return err
		}
		if resp.body["active"] != false {
			return fmt.Errorf("body %s", resp.raw)
		}
		if l := r.lookup("scim-jo@victim.test"); l.Access[codexgov.SurfaceLocal].Allowed || *l.Active {
			return fmt.Errorf("lookup still allows: %+v", l.Access)
		}
		return nil
	})
	r.check("Entra: PATCH Replace active \"True\" reactivates", func() error {
		resp := r.do("PATCH", "/scim/v2/Users/"+ids["jo"], patch(`[{"op":"Replace","path":"active","value":"True"}]`))
		if err := want(resp, 200); err != nil {
			return err
		}
		if l := r.lookup("scim-jo@victim.test"); !l.Access[codexgov.SurfaceLocal].Allowed {
			return fmt.Errorf("lookup: %+v", l.Access)
		}
		return nil
	})
	r.check("Entra: PATCH a filtered sub-attribute and the enterprise extension", func() error {
		resp := r.do("PATCH", "/scim/v2/Users/"+ids["jo"], patch(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"jo.ng@victim.test"},
			{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Platform"}]`))
		if err := want(resp, 200); err != nil {
			return err
		}
		if !strings.Contains(resp.raw, `"jo.ng@victim.test"`) || str(resp.body, scim.EnterpriseSchema, "department") != "Platform" || str(resp.body, "userName") != "scim-jo@victim.test" {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("replace the user with PUT", func() error {
		body := strings.Replace(okta("scim-jo@victim.test", "Joanna", "Ng"), `"externalId":"00u-Joanna"`, `"externalId":"00u-new"`, 1)
		resp := r.do("PUT", "/scim/v2/Users/"+ids["jo"], body)
		if err := want(resp, 200); err != nil {
			return err
		}
		if str(resp.body, "name", "givenName") != "Joanna" || str(resp.body, "externalId") != "00u-new" || resp.body[scim.EnterpriseSchema] != nil {
			return fmt.Errorf("body %s", resp.raw)
		}
		code, admin := r.f.do(r.t, "GET", "/api/v1/workspaces/victim/users/scim-jo@victim.test", r.f.keys["victim/full"], "")
		if code != 200 || !strings.Contains(admin, `"name": "Joanna Ng"`) {
			return fmt.Errorf("admin API: %d %s", code, admin)
		}
		return nil
	})
	r.check("changing userName is 400 mutability", func() error {
		return wantError(r.do("PUT", "/scim/v2/Users/"+ids["jo"], okta("jo2@victim.test", "Jo", "Ng")), 400, "mutability")
	})
	r.check("create a group with a member", func() error {
		resp := r.do("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Codex Admins","externalId":"00g-adm","members":[{"value":"`+ids["jo"]+`","display":"scim-jo@victim.test"}]}`)
		if err := want(resp, 201); err != nil {
			return err
		}
		ids["admins"] = str(resp.body, "id")
		ms, _ := resp.body["members"].([]any)
		if !strings.HasPrefix(ids["admins"], "grp_") || str(resp.body, "displayName") != "Codex Admins" || len(ms) != 1 || str(ms[0].(map[string]any), "value") != ids["jo"] {
			return fmt.Errorf("body %s", resp.raw)
		}
		// The admin maps the IdP group to a policy.
		code, body := r.f.do(r.t, "PUT", "/api/v1/workspaces/victim/assignment", r.f.keys["victim/full"], `{"rules":[{"group":"Codex Admins","policy":"admins"}],"default":"base"}`)
		if code != 200 {
			return fmt.Errorf("assignment: %d %s", code, body)
		}
		if l := r.lookup("scim-jo@victim.test"); policyOf(l) != "admins" || !slices.Contains(l.Groups, "Codex Admins") {
			return fmt.Errorf("lookup: %q %v", policyOf(l), l.Groups)
		}
		return nil
	})
	r.check("a duplicate group displayName is 409 uniqueness", func() error {
		return wantError(r.do("POST", "/scim/v2/Groups", `{"displayName":"Codex Admins"}`), 409, "uniqueness")
	})
	r.check("Entra: find the group by displayName without members", func() error {
		resp := r.do("GET", "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "codex admins"`), "")
		if err := want(resp, 200); err != nil {
			return err
		}
		rs := resources(resp)
		if len(rs) != 1 || str(rs[0], "id") != ids["admins"] || rs[0]["members"] != nil {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("Okta: PATCH add members", func() error {
		resp := r.do("PATCH", "/scim/v2/Groups/"+ids["admins"], patch(`[{"op":"add","path":"members","value":[{"value":"`+ids["kim"]+`"},{"value":"`+ids["lee"]+`"}]}]`))
		if err := want(resp, 204); err != nil {
			return err
		}
		for _, u := range []string{"scim-kim@victim.test", "scim-lee@victim.test"} {
			if l := r.lookup(u); policyOf(l) != "admins" {
				return fmt.Errorf("lookup %s: %q", u, policyOf(l))
			}
		}
		return nil
	})
	r.check("Okta: PATCH remove a member by a filter in the path", func() error {
		resp := r.do("PATCH", "/scim/v2/Groups/"+ids["admins"]+"?attributes=members", patch(`[{"op":"remove","path":"members[value eq \"`+ids["kim"]+`\"]"}]`))
		if err := want(resp, 200); err != nil {
			return err
		}
		if strings.Contains(resp.raw, ids["kim"]) || !strings.Contains(resp.raw, ids["lee"]) {
			return fmt.Errorf("body %s", resp.raw)
		}
		if l := r.lookup("scim-kim@victim.test"); policyOf(l) != "base" {
			return fmt.Errorf("lookup: %q", policyOf(l))
		}
		return nil
	})
	r.check("Entra: PATCH Remove members with a value list", func() error {
		resp := r.do("PATCH", "/scim/v2/Groups/"+ids["admins"], patch(`[{"op":"Remove","path":"members","value":[{"value":"`+ids["lee"]+`"}]}]`))
		if err := want(resp, 204); err != nil {
			return err
		}
		if l := r.lookup("scim-lee@victim.test"); policyOf(l) != "base" {
			return fmt.Errorf("lookup: %q", policyOf(l))
		}
		return nil
	})
	r.check("PATCH replace members", func() error {
		resp := r.do("PATCH", "/scim/v2/Groups/"+ids["admins"], patch(`[{"op":"replace","path":"members","value":[{"value":"`+ids["max"]+`"}]}]`))
		if err := want(resp, 204); err != nil {
			return err
		}
		if l := r.lookup("scim-jo@victim.test"); policyOf(l) != "base" {
			return fmt.Errorf("lookup jo: %q", policyOf(l))
		}
		if l := r.lookup("scim-max@victim.test"); policyOf(l) != "admins" {
			return fmt.Errorf("lookup max: %q", policyOf(l))
		}
		return nil
	})
	r.check("filter groups by members.value", func() error {
		resp := r.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`members.value eq "`+ids["max"]+`"`), "")
		if rs := resources(resp); resp.status != 200 || len(rs) != 1 || str(rs[0], "displayName") != "Codex Admins" {
			return fmt.Errorf("body %s", resp.raw)
		}
		return nil
	})
	r.check("adding an unknown member is 400 invalidValue and changes nothing", func() error {
		if err := wantError(r.do("PATCH", "/scim/v2/Groups/"+ids["admins"], patch(`[{"op":"add","path":"members","value":[{"value":"usr_nobody"}]}]`)), 400, "invalidValue"); err != nil {
			return err
		}
		if l := r.lookup("scim-max@victim.test"); policyOf(l) != "admins" {
			return fmt.Errorf("lookup max: %q", policyOf(l))
		}
		return nil
	})
	r.check("renaming a group is 400 mutability", func() error {
		return wantError(r.do("PATCH", "/scim/v2/Groups/"+ids["admins"], patch(`[{"op":"replace","path":"displayName","value":"Admins"}]`)), 400, "mutability")
	})
	r.check("filters: and/or/pr/co/sw and attributes", func() error {
		for q, n := range map[string]int{
			`userName sw "scim-" and active eq true`:                        4,
			`emails.value co "jo.ng" or userName eq "ann@victim.test"`:      1,
			`emails[type eq "work" and value ew "@victim.test"]`:            4,
			`externalId eq "00u-new"`:                                       1,
			`displayName pr and not (userName sw "scim-k")`:                 3,
			`urn:ietf:params:scim:schemas:core:2.0:User:userName co "scim"`: 4,
		} {
			resp := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(q), "")
			if resp.status != 200 || resp.body["totalResults"] != float64(n) {
				return fmt.Errorf("%s: want %d, got %s", q, n, resp.raw)
			}
		}
		resp := r.do("GET", "/scim/v2/Users/"+ids["jo"]+"?attributes=userName", "")
		if len(resp.body) != 3 || str(resp.body, "userName") == "" || str(resp.body, "id") == "" {
			return fmt.Errorf("attributes=userName: %s", resp.raw)
		}
		return nil
	})
	r.check("an invalid filter is 400 invalidFilter", func() error {
		return wantError(r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq`), ""), 400, "invalidFilter")
	})
	r.check("a group an assignment rule uses cannot be deleted (409)", func() error {
		return wantError(r.do("DELETE", "/scim/v2/Groups/"+ids["admins"], ""), 409, "")
	})
	r.check("delete a group", func() error {
		code, body := r.f.do(r.t, "PUT", "/api/v1/workspaces/victim/assignment", r.f.keys["victim/full"], `{"rules":[],"default":"base"}`)
		if code != 200 {
			return fmt.Errorf("assignment: %d %s", code, body)
		}
		if err := want(r.do("DELETE", "/scim/v2/Groups/"+ids["admins"], ""), 204); err != nil {
			return err
		}
		if err := wantError(r.do("GET", "/scim/v2/Groups/"+ids["admins"], ""), 404, ""); err != nil {
			return err
		}
		if l := r.lookup("scim-max@victim.test"); len(l.Groups) != 0 || policyOf(l) != "base" {
			return fmt.Errorf("lookup max: %q %v", policyOf(l), l.Groups)
		}
		return nil
	})
	r.check("delete a user: gone from every operation, credentials revoked, re-creatable", func() error {
		tok, err := r.f.store.CreateAccessToken(actor(), codexgov.AccessToken{ID: "tok_kim", Workspace: "victim", User: "scim-kim@victim.test", Hash: "kimhash", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			return err
		}
		if err := want(r.do("DELETE", "/scim/v2/Users/"+ids["kim"], ""), 204); err != nil {
			return err
		}
		if err := wantError(r.do("GET", "/scim/v2/Users/"+ids["kim"], ""), 404, ""); err != nil {
			return fmt.Errorf("GET after delete: %v", err)
		}
		if err := wantError(r.do("PATCH", "/scim/v2/Users/"+ids["kim"], patch(`[{"op":"replace","value":{"active":true}}]`)), 404, ""); err != nil {
			return fmt.Errorf("PATCH after delete: %v", err)
		}
		if err := wantError(r.do("DELETE", "/scim/v2/Users/"+ids["kim"], ""), 404, ""); err != nil {
			return fmt.Errorf("second DELETE: %v", err)
		}
		resp := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "scim-kim@victim.test"`), "")
		if err := want(resp, 200); err != nil || len(resources(resp)) != 0 {
			return fmt.Errorf("filter after delete: %v %s", err, resp.raw)
		}
		if _, err := r.f.store.User(ctx, "victim", "scim-kim@victim.test"); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			return fmt.Errorf("the admin API still has the user: %v", err)
		}
		if ts, _ := r.f.store.AccessTokens(ctx, "victim"); slices.ContainsFunc(ts, func(t *codexgov.AccessToken) bool { return t.ID == tok.ID }) {
			return fmt.Errorf("the deleted user's access token is still there")
		}
		created := r.do("POST", "/scim/v2/Users", okta("scim-kim@victim.test", "Kim", "Again"))
		if err := want(created, 201); err != nil {
			return fmt.Errorf("re-create: %v", err)
		}
		if str(created.body, "id") == ids["kim"] {
			return fmt.Errorf("the re-created user has the deleted one's id")
		}
		return nil
	})
	r.check("ResourceTypes/User and /Group answer at the meta.location the list publishes", func() error {
		for _, rt := range resources(r.do("GET", "/scim/v2/ResourceTypes", "")) {
			loc := str(rt, "meta", "location")
			u, err := url.Parse(loc)
			if err != nil {
				return err
			}
			resp := r.do("GET", u.Path, "")
			if err := want(resp, 200); err != nil || str(resp.body, "id") != str(rt, "id") {
				return fmt.Errorf("GET %s: %v %s", u.Path, err, resp.raw)
			}
		}
		return wantError(r.do("GET", "/scim/v2/ResourceTypes/Device", ""), 404, "")
	})
	r.check("PATCH of id is 400 mutability", func() error {
		return wantError(r.do("PATCH", "/scim/v2/Users/"+ids["max"], patch(`[{"op":"replace","path":"id","value":"usr_other"}]`)), 400, "mutability")
	})
	r.check("the SCIM changes are in the audit log, attributed to the SCIM key", func() error {
		evs, err := r.f.store.AuditEvents(ctx, "victim", codexgov.AuditFilter{Limit: 200})
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Actor == "api_key:"+r.f.ids["victim/full"] {
				seen[e.Action] = true
			}
		}
		for _, a := range []string{"user.create", "user.update", "user.delete", "group.create", "group.update", "group.delete"} {
			if !seen[a] {
				return fmt.Errorf("no %s event by the SCIM key (saw %v)", a, seen)
			}
		}
		return nil
	})
	r.check("a wrong bearer token is 401 in the SCIM error schema", func() error {
		return wantError(r.doAs("cgk_wrong", "GET", "/scim/v2/Users", ""), 401, "")
	})
	r.check("a key without the scim scope is 403", func() error {
		return wantError(r.doAs(r.f.keys["victim/read-only"], "GET", "/scim/v2/Users", ""), 403, "")
	})

	t.Logf("SCIM conformance: %d of %d checks passed", len(r.names)-r.failed, len(r.names))
	checkSCIMDoc(t, r.names)
}

// checkSCIMDoc keeps docs/scim.md's list of conformance checks equal to
// the checks the test runs (-update rewrites it).
func checkSCIMDoc(t *testing.T, names []string) {
	const path = "../../docs/scim.md"
	const begin, end = "<!-- conformance checks: generated by TestSCIMConformance -update -->\n", "<!-- end of conformance checks -->\n"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no conformance-check markers", path)
	}
	var list strings.Builder
	for n, name := range names {
		fmt.Fprintf(&list, "%d. %s\n", n+1, name)
	}
	got := string(doc[:i]) + begin + list.String() + end + string(doc[j+len(end):])
	if got == string(doc) {
		return
	}
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
		return
	}
	t.Errorf("%s does not list the checks TestSCIMConformance runs; run go test ./internal/httpapi -run SCIM -update", path)
}
