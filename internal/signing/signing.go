// Package signing holds the server's keys and what they protect: the
// master key and the keys derived from it, the sealing of secrets at rest
// (AES-256-GCM), and the detached Ed25519 JWS (RFC 7515 appendix F) over
// every distributed document with the JWKS that publishes its keys.
package signing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/codexgov/codexgov"
)

// SignatureHeader is the response header carrying the detached JWS.
const SignatureHeader = "Codexgov-Signature"

// MasterKey encrypts signing keys at rest.
type MasterKey [32]byte

// LoadMasterKey reads the master key; an error wrapping os.ErrNotExist
// means there is none.
func LoadMasterKey(path string) (MasterKey, error) {
	var k MasterKey
	b, err := os.ReadFile(path)
	if err != nil {
		return k, err
	}
	if len(b) != len(k) {
		return k, fmt.Errorf("master key %s: %d bytes, want %d", path, len(b), len(k))
	}
	copy(k[:], b)
	return k, nil
}

// CreateMasterKey makes a new random key in a new file (mode 0600); it
// never replaces an existing one.
func CreateMasterKey(path string) (MasterKey, error) {
	var k MasterKey
	rand.Read(k[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return k, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return k, err
	}
	if _, err := f.Write(k[:]); err != nil {
		f.Close()
		os.Remove(path)
		return k, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return k, err
	}
	return k, f.Close()
}

func (m MasterKey) aead() cipher.AEAD {
	block, _ := aes.NewCipher(m[:])
	aead, _ := cipher.NewGCM(block)
	return aead
}

// Seal encrypts a private key; the KID is bound as additional data.
func (m MasterKey) Seal(kid string, priv ed25519.PrivateKey) []byte {
	a := m.aead()
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, priv.Seed(), []byte(kid))
}

// Open decrypts a sealed private key.
func (m MasterKey) Open(kid string, sealed []byte) (ed25519.PrivateKey, error) {
	a := m.aead()
	if len(sealed) < a.NonceSize() {
		return nil, fmt.Errorf("signing key %s: sealed key too short", kid)
	}
	seed, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s cannot be decrypted with this master key: every replica needs the same master key", kid)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// NewSigningKey makes a new key record, sealed with the master key.
func NewSigningKey(m MasterKey, now time.Time) codexgov.SigningKey {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	kid := "sig_" + now.UTC().Format("20060102") + "_" + codexgov.NewID("k")[2:10]
	return codexgov.SigningKey{KID: kid, PublicKey: pub, PrivateEnc: m.Seal(kid, priv), Active: true, CreatedAt: now}
}

// Signer signs with the active key and publishes every unretired key.
type Signer struct {
	kid    string
	signer jose.Signer
	jwks   []byte
	// jwksSigs are detached signatures of the JWKS by every published
	// key: a client that pinned an older key accepts the new set because
	// a key it trusts signed it (rotation without re-pinning).
	jwksSigs []string
}

// NewSigner builds a signer from the unretired keys. With no active key it
// cannot sign (Sign returns "").
func NewSigner(m MasterKey, keys []*codexgov.SigningKey) (*Signer, error) {
	s := &Signer{}
	var set jose.JSONWebKeySet
	var all []jose.Signer
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: ed25519.PublicKey(k.PublicKey), KeyID: k.KID, Algorithm: string(jose.EdDSA), Use: "sig"})
		priv, err := m.Open(k.KID, k.PrivateEnc)
		if err != nil {
			return nil, err
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: k.KID}},
			(&jose.SignerOptions{}).WithType("codexgov-policy+jws"))
		if err != nil {
			return nil, err
		}
		all = append(all, sig)
		if k.Active {
			s.kid, s.signer = k.KID, sig
		}
	}
	if set.Keys == nil {
		set.Keys = []jose.JSONWebKey{}
	}
	var err error
	if s.jwks, err = json.Marshal(set); err != nil {
		return nil, err
	}
	for _, sig := range all {
		obj, err := sig.Sign(s.jwks)
		if err != nil {
			return nil, err
		}
		d, err := obj.DetachedCompactSerialize()
		if err != nil {
			return nil, err
		}
		s.jwksSigs = append(s.jwksSigs, d)
	}
	return s, nil
}

// JWKSSignatures are the detached signatures of JWKS(), one per published
// key, sent comma-separated in the SignatureHeader of the JWKS.
func (s *Signer) JWKSSignatures() []string { return s.jwksSigs }

// KID is the active key's ID.
func (s *Signer) KID() string { return s.kid }

// JWKS is the JSON Web Key Set document.
func (s *Signer) JWKS() []byte { return s.jwks }

// Sign returns the detached compact JWS over body ("header..signature").
func (s *Signer) Sign(body []byte) (string, error) {
	if s.signer == nil {
		return "", errors.New("no active signing key")
	}
	obj, err := s.signer.Sign(body)
	if err != nil {
		return "", err
	}
	return obj.DetachedCompactSerialize()
}

// ErrUnknownKey is Verify's error when the signing key is not in the
// JWKS: for a client that pinned keys, a sign the server rotated them.
var ErrUnknownKey = errors.New("the signing key is not in the JWKS")

// Verify checks a detached JWS over body against a JWKS document and
// returns the key ID that signed it.
func Verify(jwks []byte, body []byte, jws string) (string, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return "", fmt.Errorf("jwks: %w", err)
	}
	obj, err := jose.ParseDetached(jws, body, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return "", err
	}
	if len(obj.Signatures) != 1 {
		return "", errors.New("want exactly one signature")
	}
	kid := obj.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) == 0 {
		return "", fmt.Errorf("key %q: %w", kid, ErrUnknownKey)
	}
	if err := obj.DetachedVerify(body, keys[0].Key); err != nil {
		return "", err
	}
	return kid, nil
}

// VerifyAny checks a body against a SignatureHeader value holding one or
// more comma-separated detached JWS, and returns the ID of the first key
// of jwks that verifies one of them.
func VerifyAny(jwks, body []byte, header string) (string, error) {
	var last error = errors.New("no signature")
	for _, sig := range strings.Split(header, ",") {
		if sig = strings.TrimSpace(sig); sig == "" {
			continue
		}
		kid, err := Verify(jwks, body, sig)
		if err == nil {
			return kid, nil
		}
		last = err
	}
	return "", last
}

// Derive returns a key for one purpose, derived from the master key
// (HMAC-SHA256 of the label), so that every replica with the master key
// derives the same one and no purpose reuses another's key.
func (m MasterKey) Derive(label string) [32]byte {
	h := hmac.New(sha256.New, m[:])
	h.Write([]byte("codexgov derive v1\x00" + label))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
