package tlsreload

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a self-signed certificate with the given serial.
func writePair(t *testing.T, dir string, serial int64, stamp time.Time) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "codexgov"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	os.Chtimes(cert, stamp, stamp)
	os.Chtimes(keyFile, stamp, stamp)
	return cert, keyFile
}

func serialOf(t *testing.T, r *Reloader) int64 {
	t.Helper()
	c, err := r.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.Int64()
}

func TestReloadsChangedFilesAndKeepsTheLastGoodOne(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Minute)
	cert, key := writePair(t, dir, 1, t0)
	r, err := New(cert, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.checkEvery = 0
	if s := serialOf(t, r); s != 1 {
		t.Fatalf("serial %d, want 1", s)
	}
	writePair(t, dir, 2, t0.Add(time.Second))
	if s := serialOf(t, r); s != 2 {
		t.Errorf("after the files changed: serial %d, want 2", s)
	}
	// A broken renewal: the handshake keeps the last good certificate,
	// and an explicit reload (SIGHUP) says why.
	os.WriteFile(cert, []byte("not a certificate"), 0o600)
	if s := serialOf(t, r); s != 2 {
		t.Errorf("after a broken renewal: serial %d, want 2", s)
	}
	if err := r.Reload(); err == nil {
		t.Error("Reload of a broken certificate succeeded")
	}
	writePair(t, dir, 3, t0.Add(2*time.Second))
	if err := r.Reload(); err != nil || serialOf(t, r) != 3 {
		t.Errorf("Reload after the fix: %v, serial %d", err, serialOf(t, r))
	}
	if _, err := New(filepath.Join(dir, "missing.pem"), key, nil); err == nil {
		t.Error("New with a missing file succeeded")
	}
}
