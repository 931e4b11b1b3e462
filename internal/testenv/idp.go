package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// IdP is a fake OpenID Connect provider on loopback: discovery, JWKS, an
// authorization endpoint that signs the next person in at once, and a
// token endpoint that checks the client, the code and PKCE and returns an
// RS256 ID token. Tests choose the person and can spoil the token
// (audience, issuer, expiry, signature).
type IdP struct {
	URL          string
	ClientID     string
	ClientSecret string

	mu    sync.Mutex
	key   *rsa.PrivateKey
	other *rsa.PrivateKey
	next  Claims
	codes map[string]issued
	spoil Spoil
}

// Claims are the ID token claims of the next sign-in.
type Claims struct {
	Subject, Email, Name string
	EmailVerified        *bool
	Groups               []string
}

// Spoil makes the ID token wrong in one way.
type Spoil struct {
	Audience, Issuer string // replace the claim
	Expired          bool   // expired an hour ago
	WrongKey         bool   // signed by a key the JWKS does not hold
}

type issued struct {
	claims                         Claims
	nonce, challenge, redirect, ci string
}

// NewIdP starts a fake provider for one client.
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	k1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	p := &IdP{ClientID: "codexgov-test-client", ClientSecret: "s3cret-" + rand.Text(), key: k1, other: k2, codes: map[string]issued{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token", "jwks_uri": p.URL + "/jwks",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		code := rand.Text()
		p.codes[code] = issued{claims: p.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), ci: q.Get("client_id")}
		p.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		v := u.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		is, found := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case id != p.ClientID || secret != p.ClientSecret:
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		case !found || is.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != is.challenge:
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 3600, "id_token": p.idToken(is)})
	})
	return p
}

// SetSpoil changes the ID token's claims or signature for the next
// sign-ins (the zero Spoil makes them right again).
func (p *IdP) SetSpoil(s Spoil) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spoil = s
}

// SignInAs sets who the next sign-ins are.
func (p *IdP) SignInAs(c Claims) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = c
}

func (p *IdP) idToken(is issued) string {
	now := time.Now()
	claims := map[string]any{"iss": p.URL, "aud": p.ClientID, "sub": is.claims.Subject, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": is.nonce, "email": is.claims.Email, "name": is.claims.Name}
	if is.claims.Subject == "" {
		claims["sub"] = is.claims.Email
	}
	if is.claims.EmailVerified != nil {
		claims["email_verified"] = *is.claims.EmailVerified
	}
	if is.claims.Groups != nil {
		claims["groups"] = is.claims.Groups
	}
	key := p.key
	if p.spoil.Audience != "" {
		claims["aud"] = p.spoil.Audience
	}
	if p.spoil.Issuer != "" {
		claims["iss"] = p.spoil.Issuer
	}
	if p.spoil.Expired {
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	if p.spoil.WrongKey {
		key = p.other
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}
