package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

func master(b byte) MasterKey {
	var m MasterKey
	m[0] = b
	return m
}

func TestSealing(t *testing.T) {
	m := master(1)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	sealed := m.Seal("kid-1", priv)
	got, err := m.Open("kid-1", sealed)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("Open = %v", err)
	}
	if _, err := m.Open("kid-2", sealed); err == nil {
		t.Error("a key sealed for kid-1 opened as kid-2")
	}
	if _, err := master(2).Open("kid-1", sealed); err == nil {
		t.Error("another master key opened the seal")
	}
	if _, err := m.Open("kid-1", sealed[:10]); err == nil {
		t.Error("a truncated seal opened")
	}
	if a, b := m.Derive("csrf"), m.Derive("oauth access token"); a == b || a != m.Derive("csrf") {
		t.Error("derived keys are not distinct per label and stable")
	}
}

func TestSignAndVerify(t *testing.T) {
	m := master(1)
	old := NewSigningKey(m, time.Now())
	s, err := NewSigner(m, []*codexgov.SigningKey{&old})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("allowed_sandbox_modes = [\"read-only\"]\n")
	jws, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	if kid, err := Verify(s.JWKS(), body, jws); err != nil || kid != s.KID() {
		t.Fatalf("Verify = %q, %v", kid, err)
	}
	for name, tc := range map[string]struct {
		body []byte
		jws  string
	}{
		"a changed body":      {[]byte("allowed_sandbox_modes = []\n"), jws},
		"a changed signature": {body, flipChar(jws, len(jws)-5)},
		"not detached":        {body, strings.Replace(jws, "..", ".e30.", 1)},
		"empty":               {body, ""},
	} {
		if _, err := Verify(s.JWKS(), tc.body, tc.jws); err == nil {
			t.Errorf("%s verified", name)
		}
	}
	// A key set that does not hold the signing key refuses it.
	other := NewSigningKey(master(2), time.Now())
	s2, _ := NewSigner(master(2), []*codexgov.SigningKey{&other})
	if _, err := Verify(s2.JWKS(), body, jws); err == nil {
		t.Error("verified against a key set without the signing key")
	}
	// Rotation: the new set is signed by every published key, so a client
	// that pinned the old key can accept it.
	old.Active = false
	next := NewSigningKey(m, time.Now())
	rotated, err := NewSigner(m, []*codexgov.SigningKey{&old, &next})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.KID() != next.KID {
		t.Errorf("the active key is %s, want the new one %s", rotated.KID(), next.KID)
	}
	if kid, err := VerifyAny(s.JWKS(), rotated.JWKS(), strings.Join(rotated.JWKSSignatures(), ", ")); err != nil || kid != old.KID {
		t.Errorf("the rotated set does not verify with the pinned old key: %q, %v", kid, err)
	}
}

func TestMasterKeyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k", "master.key")
	if _, err := LoadMasterKey(path); !os.IsNotExist(err) {
		t.Fatalf("a missing key: %v", err)
	}
	k, err := CreateMasterKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if again, err := LoadMasterKey(path); err != nil || again != k {
		t.Errorf("reload: %v", err)
	}
	if _, err := CreateMasterKey(path); err == nil {
		t.Error("CreateMasterKey replaced an existing key")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadMasterKey(path); err == nil || !strings.Contains(err.Error(), "5 bytes, want 32") {
		t.Errorf("a short key: %v", err)
	}
}

// flipChar changes the base64url character at i to another one. (Not the
// last: its low bits are padding, which a decoder may ignore.)
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
