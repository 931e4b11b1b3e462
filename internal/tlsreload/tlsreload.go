// Package tlsreload serves a TLS certificate that is read again from its
// files when they change or on demand (SIGHUP), so that a renewed
// certificate takes effect without a restart. A renewal that cannot be
// loaded leaves the previous certificate in service.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Reloader holds the certificate of a certificate and key file pair.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	// checkEvery bounds how often a handshake looks at the files.
	checkEvery time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // the files' sizes and modification times when loaded
	checked time.Time
}

// New loads the pair; an error names the files.
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, checkEvery: time.Second}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reloader) fileStamp() string {
	var s string
	for _, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d:%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s
}

// Reload reads the files now. On error the current certificate stays.
func (r *Reloader) Reload() error {
	stamp := r.fileStamp()
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s, key %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert, r.stamp, r.checked = &cert, stamp, time.Now()
	r.mu.Unlock()
	return nil
}

// GetCertificate is tls.Config.GetCertificate: it reloads first when the
// files changed since the last load (looked at once a second at most).
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	due := time.Since(r.checked) >= r.checkEvery
	if due {
		r.checked = time.Now()
	}
	cert, stamp := r.cert, r.stamp
	r.mu.Unlock()
	if due && r.fileStamp() != stamp {
		if err := r.Reload(); err != nil {
			r.log.Warn("the TLS certificate files changed but do not load; serving the previous certificate", "err", err)
		} else {
			r.log.Info("reloaded the TLS certificate", "file", r.certFile)
			r.mu.Lock()
			cert = r.cert
			r.mu.Unlock()
		}
	}
	return cert, nil
}
