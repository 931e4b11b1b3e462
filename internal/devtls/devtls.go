// Package devtls makes a local certificate authority and a server
// certificate for 127.0.0.1, ::1 and localhost, so that Codex (which only
// speaks HTTPS to a configuration server) can be pointed at a development
// or test server with CODEX_CA_CERTIFICATE. It is for development and
// tests only: the CA key sits next to the certificates it signs.
package devtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Files are the paths of a development TLS setup.
type Files struct {
	CA, CAKey, Cert, Key string
}

// In names the files in dir.
func In(dir string) Files {
	return Files{CA: filepath.Join(dir, "ca.pem"), CAKey: filepath.Join(dir, "ca-key.pem"), Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")}
}

// Hosts the server certificate names.
var Hosts = []string{"127.0.0.1", "::1", "localhost"}

// Ensure makes the CA (once; kept for a year) and a server certificate
// (renewed when it is missing, expires within 30 days, or was signed by
// another CA). created reports whether anything was written.
func Ensure(dir string, now time.Time) (f Files, created bool, err error) {
	f = In(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, false, err
	}
	ca, caKey, err := load(f.CA, f.CAKey)
	if err != nil || now.After(ca.NotAfter.Add(-30*24*time.Hour)) {
		if ca, caKey, err = newCA(f, now); err != nil {
			return f, false, err
		}
		created = true
	}
	cert, _, err := load(f.Cert, f.Key)
	if err == nil && cert.CheckSignatureFrom(ca) == nil && now.Before(cert.NotAfter.Add(-30*24*time.Hour)) && slices.Contains(cert.DNSNames, "localhost") {
		return f, created, nil
	}
	return f, true, newServer(f, ca, caKey, now)
}

func load(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	return cert, key, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func write(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func newCA(f Files, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "codexgov development CA (" + host + ")", Organization: []string{"codexgov --dev-tls: not for production"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := write(f.CA, f.CAKey, der, key); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newServer(f Files, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "codexgov development server"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(180 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign the development server certificate: %w", err)
	}
	return write(f.Cert, f.Key, der, key)
}
