package configserver

import (
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/signing"
)

func keys(b byte) *Keys {
	var m signing.MasterKey
	m[0] = b
	return NewKeys(m)
}

func TestAccessTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := keys(1)
	tok := k.Mint(AccessClaims{Grant: "grant_1", Workspace: "acme", User: "ann@acme.test", Expires: now.Add(time.Hour).Unix()})
	c, err := k.Verify(tok, now)
	if err != nil || c.Grant != "grant_1" || c.Workspace != "acme" || c.User != "ann@acme.test" || c.Client != "" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	p, sig, _ := strings.Cut(tok, ".")
	for _, tc := range []struct {
		name, token string
		at          time.Time
		want        string
	}{
		{"expired", tok, now.Add(time.Hour), "expired at"},
		{"another master key", keys(2).Mint(AccessClaims{Expires: now.Add(time.Hour).Unix()}), now, "signature does not verify"},
		{"payload edited", p[:len(p)-2] + "AA." + sig, now, "signature does not verify"},
		{"no signature", p, now, "malformed"},
		{"wrong prefix", "cgt_" + strings.TrimPrefix(tok, AccessTokenPrefix), now, "malformed"},
		{"garbage signature", p + ".!!!", now, "signature does not verify"},
	} {
		if _, err := k.Verify(tc.token, tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSealedValues(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	k := keys(1)
	r := AuthRequest{Workspace: "acme", ClientID: "codex", RedirectURI: "http://127.0.0.1:1455/callback", Expires: now.Add(RequestTTL).Unix()}
	sealed := k.Seal(r)
	if got, err := k.Open(sealed, now); err != nil || got != r {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	if _, err := k.Open(sealed, now.Add(RequestTTL)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired request: %v", err)
	}
	if _, err := keys(2).Open(sealed, now); err == nil {
		t.Error("another master key opened the request")
	}
	// A value sealed for one purpose opens for no other.
	var v AuthRequest
	if err := k.OpenValue("sso-state", sealed, &v); err == nil {
		t.Error("a sign-in request opened as another purpose")
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	if _, err := k.Open(string(tampered), now); err == nil {
		t.Error("a tampered request opened")
	}
	// Secrets at rest are bound to their additional data.
	blob := k.SealSecret("idp:acme/okta", "s3cret")
	if s, err := k.OpenSecret("idp:acme/okta", blob); err != nil || s != "s3cret" {
		t.Errorf("OpenSecret = %q, %v", s, err)
	}
	if _, err := k.OpenSecret("idp:other/okta", blob); err == nil {
		t.Error("a secret opened under another workspace's additional data")
	}
}

func TestPKCE(t *testing.T) {
	verifier := strings.Repeat("a", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := b64.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, verifier, challenge string
		ok                        bool
	}{
		{"matches", verifier, challenge, true},
		{"wrong verifier", strings.Repeat("b", 43), challenge, false},
		{"too short (42)", verifier[:42], challenge, false},
		{"too long (129)", strings.Repeat("a", 129), challenge, false},
		{"plain method (challenge = verifier)", verifier, verifier, false},
		{"empty", "", "", false},
	} {
		if got := VerifyPKCE(tc.verifier, tc.challenge); got != tc.ok {
			t.Errorf("%s: VerifyPKCE = %v", tc.name, got)
		}
	}
}

func TestParseAuthorize(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := url.Values{"client_id": {"codex"}, "redirect_uri": {"http://127.0.0.1:1455/callback"}, "response_type": {"code"},
		"code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}, "state": {"xyz"}}
	r, err := ParseAuthorize("acme", good, "codex", now)
	if err != nil || r.Scope != strings.Join(DefaultScopes, " ") || r.Expires != now.Add(RequestTTL).Unix() {
		t.Fatalf("good request: %+v, %v", r, err)
	}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	for _, tc := range []struct {
		name     string
		q        url.Values
		code     string
		redirect bool
	}{
		{"unknown client", with("client_id", "evil"), "invalid_client", false},
		{"https redirect", with("redirect_uri", "https://127.0.0.1:1455/callback"), "invalid_request", false},
		{"remote redirect", with("redirect_uri", "http://evil.example:1455/callback"), "invalid_request", false},
		{"redirect without port", with("redirect_uri", "http://127.0.0.1/callback"), "invalid_request", false},
		{"redirect elsewhere", with("redirect_uri", "http://127.0.0.1:1455/other"), "invalid_request", false},
		{"token flow", with("response_type", "token"), "unsupported_response_type", true},
		{"no PKCE", with("code_challenge", ""), "invalid_request", true},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request", true},
		{"unknown scope", with("scope", "admin"), "invalid_scope", true},
		{"another workspace's resource", with("resource", "https://codexgov.example/codex-config/other"), "invalid_target", true},
	} {
		_, err := ParseAuthorize("acme", tc.q, "codex", now)
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Redirect != tc.redirect {
			t.Errorf("%s: %v, want %s (redirect %v)", tc.name, err, tc.code, tc.redirect)
		}
	}
	if _, err := ParseAuthorize("acme", with("redirect_uri", "http://[::1]:8080/callback"), "codex", now); err != nil {
		t.Errorf("IPv6 loopback redirect: %v", err)
	}
	if _, err := ParseAuthorize("acme", with("resource", "https://codexgov.example/codex-config/acme/"), "codex", now); err != nil {
		t.Errorf("this workspace's resource: %v", err)
	}
}
