package telemetry

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/codexgov/codexgov"
)

// TokenClaims are what a telemetry token says: whose machine sends with
// it. Events are stamped from them, never from the payload.
type TokenClaims struct {
	Workspace string `json:"w"`
	// Identity is "user:EMAIL" or "service:NAME".
	Identity string `json:"i"`
	// Credential is the ID of the credential the token was minted for (an
	// enrollment token, an OAuth sign-in, an access token): the token
	// stops working when that credential is revoked. Empty for a token an
	// admin minted for a user, which works while the user is active.
	Credential string `json:"c,omitempty"`
	// Device is the machine's name, for a per-device token.
	Device string `json:"d,omitempty"`
}

var b64 = base64.RawURLEncoding

// MintToken makes the telemetry token of the claims: cgo_PAYLOAD.MAC. It
// is deterministic — the same claims give the same token, so the document
// that carries it keeps its ETag — and stored nowhere: the MAC is the
// proof (mac is signing.Sealer.TelemetryMAC).
func MintToken(mac func(string) []byte, c TokenClaims) string {
	return MintTokenAs(codexgov.TelemetryTokenPrefix, mac, c)
}

// MintTokenAs makes a token of the same form with another prefix and MAC
// key (the gateway's: codexgov.GatewayTokenPrefix).
func MintTokenAs(prefix string, mac func(string) []byte, c TokenClaims) string {
	payload, _ := json.Marshal(c)
	p := b64.EncodeToString(payload)
	return prefix + p + "." + b64.EncodeToString(mac(p))
}

// ParseToken verifies a telemetry token and returns its claims.
func ParseToken(mac func(string) []byte, secret string) (TokenClaims, error) {
	return ParseTokenAs(codexgov.TelemetryTokenPrefix, mac, secret)
}

// ParseTokenAs verifies a token MintTokenAs made with prefix.
func ParseTokenAs(prefix string, mac func(string) []byte, secret string) (TokenClaims, error) {
	rest, ok := strings.CutPrefix(secret, prefix)
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || len(rest) > 2048 {
		return TokenClaims{}, errors.New("malformed")
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(p)) {
		return TokenClaims{}, errors.New("not valid")
	}
	raw, err := b64.DecodeString(p)
	var c TokenClaims
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Workspace == "" || c.Identity == "" {
		return TokenClaims{}, errors.New("malformed")
	}
	return c, nil
}
