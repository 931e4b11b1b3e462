// Package oidc is codexgov's side of single sign-on: an OpenID Connect
// relying party for each workspace's upstream identity providers
// (coreos/go-oidc + x/oauth2), with PKCE, a nonce, and every ID token
// check (issuer, audience, expiry, signature, email domain) before a
// person is taken to be who the provider says.
package oidc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/codexgov/codexgov"
)

// RelyingParty talks to upstream providers. Discovery documents and keys
// are cached per issuer for CacheTTL; go-oidc refreshes the keys itself
// when a token names an unknown key id.
type RelyingParty struct {
	// Client is the HTTP client for the provider (nil: a default with a
	// timeout).
	Client *http.Client
	// Now is the clock ID tokens are checked against.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedProvider
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// CacheTTL is how long a discovery document is reused.
const CacheTTL = time.Hour

func (rp *RelyingParty) ctx(ctx context.Context) context.Context {
	c := rp.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	return oidc.ClientContext(ctx, c)
}

func (rp *RelyingParty) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if c, ok := rp.cache[issuer]; ok && time.Since(c.fetched) < CacheTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(rp.ctx(ctx), issuer)
	if err != nil {
		return nil, fmt.Errorf("the identity provider %s cannot be reached or its discovery document is wrong: %w", issuer, err)
	}
	if rp.cache == nil {
		rp.cache = map[string]cachedProvider{}
	}
	rp.cache[issuer] = cachedProvider{p: p, fetched: time.Now()}
	return p, nil
}

func (rp *RelyingParty) config(ctx context.Context, ip *codexgov.IdentityProvider, secret, redirect string) (*oauth2.Config, *oidc.Provider, error) {
	p, err := rp.provider(ctx, ip.Issuer)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{ClientID: ip.ClientID, ClientSecret: secret, RedirectURL: redirect, Endpoint: p.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, p, nil
}

// Begin makes the authorization request: a random state, a nonce and a
// PKCE verifier, which the caller keeps (sealed in a cookie) for Finish.
func (rp *RelyingParty) Begin(ctx context.Context, ip *codexgov.IdentityProvider, secret, redirect string) (*codexgov.SSOStart, error) {
	conf, _, err := rp.config(ctx, ip, secret, redirect)
	if err != nil {
		return nil, err
	}
	st := &codexgov.SSOStart{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
	st.URL = conf.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return st, nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", codexgov.ErrSSORefused, fmt.Sprintf(format, args...))
}

// Finish redeems the code and checks the ID token: signature, issuer,
// audience, expiry, nonce, a verified email in the allowed domain.
func (rp *RelyingParty) Finish(ctx context.Context, ip *codexgov.IdentityProvider, secret, redirect, code string, st codexgov.SSOStart) (*codexgov.SSOIdentity, error) {
	conf, p, err := rp.config(ctx, ip, secret, redirect)
	if err != nil {
		return nil, err
	}
	tok, err := conf.Exchange(rp.ctx(ctx), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, fmt.Errorf("the identity provider did not redeem the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refused("the identity provider returned no ID token")
	}
	now := rp.Now
	if now == nil {
		now = time.Now
	}
	v := p.Verifier(&oidc.Config{ClientID: ip.ClientID, Now: now})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, refused("the ID token is not valid: %v", err)
	}
	if idt.Nonce != st.Nonce {
		return nil, refused("the ID token's nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, refused("the ID token's claims cannot be read: %v", err)
	}
	id := &codexgov.SSOIdentity{Subject: idt.Subject}
	id.Email, _ = claims["email"].(string)
	id.Email = strings.ToLower(strings.TrimSpace(id.Email))
	if id.Email == "" {
		return nil, refused("the ID token has no email claim; ask for the email scope in the provider's app")
	}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return nil, refused("the provider says %s is not verified", id.Email)
	}
	if _, domain, _ := strings.Cut(id.Email, "@"); !strings.EqualFold(domain, ip.AllowedDomain) {
		return nil, refused("%s is not in the allowed domain %s", id.Email, ip.AllowedDomain)
	}
	id.Name, _ = claims["name"].(string)
	if ip.GroupsClaim != "" {
		id.HasGroups = true
		switch g := claims[ip.GroupsClaim].(type) {
		case []any:
			for _, x := range g {
				if s, ok := x.(string); ok && !slices.Contains(id.Groups, s) {
					id.Groups = append(id.Groups, s)
				}
			}
		case string:
			id.Groups = []string{g}
		}
	}
	return id, nil
}

// The relying party is codexgov's single sign-on.
var _ codexgov.SingleSignOn = (*RelyingParty)(nil)
