package signing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// Sealer holds the keys derived from the master key for what travels or
// rests outside the server's memory: values sealed for a round trip
// through a browser (bound to their purpose), secrets sealed at rest
// (bound to their record), and MACs (self-contained tokens, CSRF tokens).
// Every replica derives the same keys from the same master key.
type Sealer struct {
	values  cipher.AEAD
	secrets cipher.AEAD
	tokens  [32]byte
	csrf    [32]byte
	otel    [32]byte
	gateway [32]byte
}

// NewSealer derives the keys.
func NewSealer(m MasterKey) *Sealer {
	aead := func(label string) cipher.AEAD {
		k := m.Derive(label)
		block, _ := aes.NewCipher(k[:])
		a, _ := cipher.NewGCM(block)
		return a
	}
	return &Sealer{values: aead("oauth pending request"), secrets: aead("stored secrets"), tokens: m.Derive("oauth access token"), csrf: m.Derive("csrf"), otel: m.Derive("telemetry token"), gateway: m.Derive("gateway token")}
}

var b64 = base64.RawURLEncoding

// SealValue encrypts any value for a round trip through a browser; the
// purpose is bound to it, so a value sealed for one use opens for no
// other.
func (s *Sealer) SealValue(purpose string, v any) string {
	plain, _ := json.Marshal(v)
	nonce := make([]byte, s.values.NonceSize())
	rand.Read(nonce)
	return b64.EncodeToString(s.values.Seal(nonce, nonce, plain, []byte(purpose)))
}

// OpenValue decrypts a value sealed for purpose.
func (s *Sealer) OpenValue(purpose, sealed string, v any) error {
	raw, err := b64.DecodeString(sealed)
	if err != nil || len(raw) < s.values.NonceSize() {
		return errors.New("malformed")
	}
	plain, err := s.values.Open(nil, raw[:s.values.NonceSize()], raw[s.values.NonceSize():], []byte(purpose))
	if err != nil || json.Unmarshal(plain, v) != nil {
		return errors.New("not valid")
	}
	return nil
}

// SealSecret encrypts a stored secret (an identity provider's client
// secret); aad binds it to its record.
func (s *Sealer) SealSecret(aad, secret string) []byte {
	nonce := make([]byte, s.secrets.NonceSize())
	rand.Read(nonce)
	return s.secrets.Seal(nonce, nonce, []byte(secret), []byte(aad))
}

// OpenSecret decrypts a sealed secret.
func (s *Sealer) OpenSecret(aad string, sealed []byte) (string, error) {
	n := s.secrets.NonceSize()
	if len(sealed) < n {
		return "", errors.New("the stored secret is malformed")
	}
	plain, err := s.secrets.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return "", errors.New("the stored secret cannot be decrypted with this master key: every replica needs the same master key")
	}
	return string(plain), nil
}

// TokenMAC is the HMAC-SHA256 of a self-contained token's payload.
func (s *Sealer) TokenMAC(payload string) []byte {
	h := hmac.New(sha256.New, s.tokens[:])
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// MAC is an HMAC-SHA256 of msg under the key derived for CSRF tokens,
// base64url.
func (s *Sealer) MAC(msg string) string {
	h := hmac.New(sha256.New, s.csrf[:])
	h.Write([]byte(msg))
	return b64.EncodeToString(h.Sum(nil))
}

// TelemetryMAC is the HMAC-SHA256 of a telemetry token's payload, under a
// key of its own: no other token verifies as one.
func (s *Sealer) TelemetryMAC(payload string) []byte {
	h := hmac.New(sha256.New, s.otel[:])
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// GatewayMAC is the HMAC-SHA256 of a gateway token's payload, under a key
// of its own: a telemetry token is not a gateway token, nor the reverse.
func (s *Sealer) GatewayMAC(payload string) []byte {
	h := hmac.New(sha256.New, s.gateway[:])
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// KeyWrapper wraps data keys (AES-256-GCM under a key derived from the
// master key, bound to the data key's record).
type KeyWrapper struct{ aead cipher.AEAD }

// NewKeyWrapper derives the data-key wrapping key from the master key.
func NewKeyWrapper(m MasterKey) *KeyWrapper {
	k := m.Derive("data key wrap")
	block, _ := aes.NewCipher(k[:])
	a, _ := cipher.NewGCM(block)
	return &KeyWrapper{aead: a}
}

// WrapKey encrypts a data key.
func (w *KeyWrapper) WrapKey(aad string, key []byte) []byte {
	nonce := make([]byte, w.aead.NonceSize())
	rand.Read(nonce)
	return w.aead.Seal(nonce, nonce, key, []byte(aad))
}

// UnwrapKey decrypts a wrapped data key.
func (w *KeyWrapper) UnwrapKey(aad string, wrapped []byte) ([]byte, error) {
	n := w.aead.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("the wrapped data key is malformed")
	}
	key, err := w.aead.Open(nil, wrapped[:n], wrapped[n:], []byte(aad))
	if err != nil {
		return nil, errors.New("the data key cannot be unwrapped with this master key: every replica needs the same master key")
	}
	return key, nil
}
