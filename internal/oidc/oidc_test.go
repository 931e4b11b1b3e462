package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/testenv"
)

// signIn runs one sign-in through the fake provider and returns Finish's
// answer; spoilNonce finishes with another nonce than the request's.
func signIn(t *testing.T, idp *testenv.IdP, ip *codexgov.IdentityProvider, spoilNonce bool) (*codexgov.SSOIdentity, error) {
	t.Helper()
	rp := &RelyingParty{}
	redirect := "https://codexgov.example/sso/callback"
	st, err := rp.Begin(context.Background(), ip, idp.ClientSecret, redirect)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != st.State {
		t.Fatalf("the provider answered %s %q", resp.Status, resp.Header.Get("Location"))
	}
	if spoilNonce {
		st.Nonce = "another-nonce"
	}
	return rp.Finish(context.Background(), ip, idp.ClientSecret, redirect, loc.Query().Get("code"), *st)
}

// TestIDTokenChecks: every check of the ID token, one refusal each.
func TestIDTokenChecks(t *testing.T) {
	idp := testenv.NewIdP(t)
	ip := &codexgov.IdentityProvider{Workspace: "acme", Name: "okta", Issuer: idp.URL, ClientID: idp.ClientID, AllowedDomain: "acme.test", GroupsClaim: "groups"}
	no := false
	for _, tc := range []struct {
		name   string
		claims testenv.Claims
		spoil  testenv.Spoil
		nonce  bool
		refuse string
	}{
		{"a good token", testenv.Claims{Subject: "1", Email: "Ann@Acme.test", Groups: []string{"eng", "eng"}}, testenv.Spoil{}, false, ""},
		{"another audience", testenv.Claims{Subject: "1", Email: "ann@acme.test"}, testenv.Spoil{Audience: "someone-else"}, false, "not valid"},
		{"another issuer", testenv.Claims{Subject: "1", Email: "ann@acme.test"}, testenv.Spoil{Issuer: "https://evil.example"}, false, "not valid"},
		{"expired", testenv.Claims{Subject: "1", Email: "ann@acme.test"}, testenv.Spoil{Expired: true}, false, "not valid"},
		{"signed by an unknown key", testenv.Claims{Subject: "1", Email: "ann@acme.test"}, testenv.Spoil{WrongKey: true}, false, "not valid"},
		{"another nonce", testenv.Claims{Subject: "1", Email: "ann@acme.test"}, testenv.Spoil{}, true, "nonce does not match"},
		{"another domain", testenv.Claims{Subject: "1", Email: "ann@evil.test"}, testenv.Spoil{}, false, "not in the allowed domain acme.test"},
		{"unverified email", testenv.Claims{Subject: "1", Email: "ann@acme.test", EmailVerified: &no}, testenv.Spoil{}, false, "is not verified"},
		{"no email", testenv.Claims{Subject: "1"}, testenv.Spoil{}, false, "no email claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp.SignInAs(tc.claims)
			idp.SetSpoil(tc.spoil)
			id, err := signIn(t, idp, ip, tc.nonce)
			if tc.refuse == "" {
				if err != nil || id.Email != "ann@acme.test" || !id.HasGroups || len(id.Groups) != 1 || id.Groups[0] != "eng" {
					t.Fatalf("Finish = %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, codexgov.ErrSSORefused) || !strings.Contains(err.Error(), tc.refuse) {
				t.Errorf("Finish: %v, want a refusal saying %q", err, tc.refuse)
			}
		})
	}
}
