package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The server's transport and files: TLS 1.2 without CBC-SHA1 suites, HSTS
// on HTTPS, /metrics behind a token when one is configured, and the SQLite
// files and backups readable by their owner only.
func TestServerHardening(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "metrics.token")
	os.WriteFile(tokenFile, []byte("short\n"), 0o600)
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	m := &Main{Listen: "127.0.0.1:0", DataDir: data, DevTLS: true, Out: &out, MetricsTokenFile: tokenFile}
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "16 or more") {
		t.Fatalf("a 5-character metrics token: %v, want refused", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("a refused start created the data folder: %v", err)
	}
	token := "0123456789abcdef0123"
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	m = &Main{Listen: "127.0.0.1:0", DataDir: data, DevTLS: true, Out: &out, MetricsTokenFile: tokenFile}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	pem, err := os.ReadFile(m.DevCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)

	// TLS 1.2: the CBC suites with SHA-1 MACs are refused, AEAD ones served.
	dial := func(suites ...uint16) error {
		c, err := tls.Dial("tcp", m.Addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12, CipherSuites: suites})
		if err == nil {
			c.Close()
		}
		return err
	}
	for _, cbc := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA} {
		if err := dial(cbc); err == nil {
			t.Errorf("TLS 1.2 with %s: the handshake succeeded", tls.CipherSuiteName(cbc))
		}
	}
	if err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("TLS 1.2 with AES-GCM: %v", err)
	}

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, auth string) *http.Response {
		req, _ := http.NewRequest("GET", m.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/healthz", ""); !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("HTTPS answer without HSTS: %v", resp.Header)
	}
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic " + token} {
		if resp := get("/metrics", auth); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/metrics with %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	if resp := get("/metrics", "bearer "+token); resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics with the token: %d", resp.StatusCode)
	}

	// The SQLite files and a backup are the owner's alone.
	backup := filepath.Join(dir, "backup")
	if o, e, code := runCLI(t, "server", "backup", backup, "--data-dir", data); code != 0 {
		t.Fatalf("backup: %s%s", o, e)
	}
	for _, f := range []string{filepath.Join(data, "codexgov.db"), filepath.Join(data, "codexgov.db-wal"), filepath.Join(data, "codexgov.db-shm"),
		filepath.Join(data, "master.key"), filepath.Join(backup, "codexgov.db"), filepath.Join(backup, "master.key")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}
