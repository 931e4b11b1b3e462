package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/internal/atomicfile"
	"github.com/codexgov/codexgov/internal/signing"
	"github.com/codexgov/codexgov/internal/sqlstore"
)

// Backup writes dir/codexgov.db (an online, consistent copy of the SQLite
// database) and dir/master.key: both are needed to restore, since the
// database's secrets are sealed with the key. dir must be empty or absent.
func (m *Main) Backup(ctx context.Context, dir string) error {
	if m.Database != "" {
		return errors.New("the database is PostgreSQL: back it up with pg_dump, and keep the master key file with it (docs/operations.md)")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: a backup goes into a new folder", dir)
	}
	key, err := os.ReadFile(m.masterKeyFile())
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	db := filepath.Join(m.DataDir, "codexgov.db")
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("no database to back up: %w", err)
	}
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := store.BackupTo(ctx, filepath.Join(dir, "codexgov.db")); err != nil {
		return err
	}
	_, err = atomicfile.Write(filepath.Join(dir, "master.key"), key, atomicfile.Options{Mode: 0o600})
	return err
}

// Restore copies a backup into an empty data folder and checks that the
// key opens the database's signing keys.
func (m *Main) Restore(ctx context.Context, from string) error {
	for _, f := range []string{"codexgov.db", "master.key"} {
		if _, err := os.Stat(filepath.Join(m.DataDir, f)); err == nil {
			return fmt.Errorf("%s already holds %s: restore into a new, empty data folder", m.DataDir, f)
		}
		if _, err := os.Stat(filepath.Join(from, f)); err != nil {
			return fmt.Errorf("%s is not a backup: %w", from, err)
		}
	}
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return err
	}
	for _, f := range []string{"codexgov.db", "master.key"} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			return err
		}
		if _, err := atomicfile.Write(filepath.Join(m.DataDir, f), b, atomicfile.Options{Mode: 0o600}); err != nil {
			return err
		}
	}
	master, err := signing.LoadMasterKey(filepath.Join(m.DataDir, "master.key"))
	if err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, filepath.Join(m.DataDir, "codexgov.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := master.Open(k.KID, k.PrivateEnc); err != nil {
			return fmt.Errorf("the backup's master key does not open signing key %s: %w", k.KID, err)
		}
	}
	return nil
}

// RotateAdminKey revokes every server admin key and prints a new one: the
// way back in when the key is lost or leaked. It runs on the data folder
// or database directly, audited as "server (rotate-admin-key)".
func (m *Main) RotateAdminKey(ctx context.Context, out io.Writer) error {
	store, err := sqlstore.Open(ctx, m.dsn())
	if err != nil {
		return err
	}
	defer store.Close()
	ctx = codexgov.WithActor(ctx, codexgov.Actor{ID: "server (rotate-admin-key)", RequestID: "rotate-admin-key"})
	ids, err := store.ServerKeyIDs(ctx)
	if err != nil {
		return err
	}
	secret, id, hash := codexgov.NewSecret(codexgov.APIKeyPrefix)
	if _, err := store.CreateAPIKey(ctx, codexgov.APIKey{ID: id, Name: "server admin (rotated)", Scopes: []codexgov.Scope{codexgov.ScopeServerAdmin}, Hash: hash}); err != nil {
		return err
	}
	for _, old := range ids {
		if _, err := store.RevokeAPIKey(ctx, "", old); err != nil && !errors.Is(err, codexgov.ErrNoChange) {
			return fmt.Errorf("revoke %s: %w", old, err)
		}
	}
	fmt.Fprintf(out, "codexgov: revoked %d server admin key(s); the new one is shown only now and stored only as a hash:\n\n    %s\n\n  export CODEXGOV_TOKEN=%s\n\nRunning servers refuse the old keys once they sync (--sync-interval).\n", len(ids), secret, secret)
	return nil
}

// Healthcheck asks the server on m.Listen for /readyz. It talks to
// itself over loopback, so with TLS it does not check the certificate.
func (m *Main) Healthcheck(ctx context.Context) error {
	host, port, err := net.SplitHostPort(m.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", m.Listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	scheme := "http"
	tr := &http.Transport{}
	if m.TLSCert != "" || m.DevTLS {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback to this server
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz answered %s", resp.Status)
	}
	return nil
}

func (m *Main) dsn() string {
	if m.Database != "" {
		return m.Database
	}
	return filepath.Join(m.DataDir, "codexgov.db")
}

func (m *Main) masterKeyFile() string {
	if m.MasterKeyFile != "" {
		return m.MasterKeyFile
	}
	return filepath.Join(m.DataDir, "master.key")
}

// RotateMasterKey moves everything the master key seals to the key in
// newKeyFile (32 bytes, made with `head -c 32 /dev/urandom`): the data keys
// are re-wrapped (the content they encrypt is not rewritten), the signing
// keys and identity-provider secrets re-sealed, all in one audited
// transaction. Then the master key file becomes the new key, and the old
// one is kept beside it as master.key.previous. Run it with every server
// stopped.
func (m *Main) RotateMasterKey(ctx context.Context, newKeyFile string, out io.Writer) error {
	keyFile := m.masterKeyFile()
	old, err := signing.LoadMasterKey(keyFile)
	if err != nil {
		return fmt.Errorf("the current master key: %w", err)
	}
	next, err := signing.LoadMasterKey(newKeyFile)
	if err != nil {
		return fmt.Errorf("--new-master-key-file: %w (make one with: head -c 32 /dev/urandom > FILE; chmod 600 FILE)", err)
	}
	if next == old {
		return errors.New("--new-master-key-file holds the current master key: make a new one with head -c 32 /dev/urandom")
	}
	store, err := sqlstore.Open(ctx, m.dsn())
	if err != nil {
		return err
	}
	defer store.Close()
	ctx = codexgov.WithActor(ctx, codexgov.Actor{ID: "server (rotate-master-key)", RequestID: "rotate-master-key"})
	oldSealer, nextSealer := signing.NewSealer(old), signing.NewSealer(next)
	done, err := store.RotateMasterKey(ctx, sqlstore.MasterKeyRotation{
		From: signing.NewKeyWrapper(old), To: signing.NewKeyWrapper(next),
		SigningKey: func(kid string, sealed []byte) ([]byte, error) {
			priv, err := old.Open(kid, sealed)
			if err != nil {
				return nil, err
			}
			return next.Seal(kid, priv), nil
		},
		Secret: func(aad string, sealed []byte) ([]byte, error) {
			secret, err := oldSealer.OpenSecret(aad, sealed)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", aad, err)
			}
			return nextSealer.SealSecret(aad, secret), nil
		},
	})
	if err != nil {
		return fmt.Errorf("nothing was changed: %w", err)
	}
	if _, err := atomicfile.Write(keyFile+".previous", old[:], atomicfile.Options{Mode: 0o600}); err != nil {
		return fmt.Errorf("the database now needs the new key, but keeping the old one failed (%w): copy %s over %s before starting the server", err, newKeyFile, keyFile)
	}
	if _, err := atomicfile.Write(keyFile, next[:], atomicfile.Options{Mode: 0o600}); err != nil {
		return fmt.Errorf("the database now needs the new key, but writing it failed (%w): copy %s over %s before starting the server", err, newKeyFile, keyFile)
	}
	fmt.Fprintf(out, "codexgov: the master key is rotated: re-wrapped %d data key(s), re-sealed %d signing key(s) and %d identity-provider secret(s); %s holds the new key, %s.previous the old one.\n"+
		"Give every replica the new key before it starts. Self-contained tokens minted under the old key (OAuth access tokens, telemetry tokens) stop verifying: Codex gets new ones on its next refresh or bundle fetch.\n",
		done.DataKeys, done.SigningKeys, done.Secrets, keyFile, keyFile)
	return nil
}
