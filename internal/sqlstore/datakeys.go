package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// KeyWrapper wraps the per-workspace data keys that encrypt content at
// rest (prompt and tool texts in raw events, sealed compliance files):
// the server wires in one derived from the master key, so rotating the
// master key re-wraps the data keys and never rewrites the data.
type KeyWrapper interface {
	WrapKey(aad string, key []byte) []byte
	UnwrapKey(aad string, wrapped []byte) ([]byte, error)
}

// SetKeyWrapper turns encryption at rest on: content written after it is
// encrypted; content written before (or by a store without one) is read
// as it was stored.
func (s *DB) SetKeyWrapper(w KeyWrapper) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	s.keys.wrapper = w
	s.keys.active = map[string]*dataKey{}
	s.keys.byID = map[string]*dataKey{}
}

type dataKey struct {
	id   string
	aead cipher.AEAD
}

type dataKeys struct {
	mu      sync.Mutex
	wrapper KeyWrapper
	active  map[string]*dataKey // by workspace
	byID    map[string]*dataKey
}

// encPrefix marks an encrypted text column: "enc1:KEYID:BASE64(nonce|ciphertext)".
const encPrefix = "enc1:"

// chunkMagic starts an encrypted chunk: magic, key ID length, key ID,
// nonce, ciphertext. A plain chunk is JSON Lines and starts with '{'.
var chunkMagic = []byte("\x00cgk1")

func dataKeyAAD(ws, id string) string { return "data key:" + ws + "/" + id }

// dataKeyFor returns the workspace's active data key, creating it on first
// use; nil when encryption at rest is off. It must not run inside a
// transaction on SQLite (its single writer would wait for itself).
func (s *DB) dataKeyFor(ctx context.Context, ws string) (*dataKey, error) {
	s.keys.mu.Lock()
	w := s.keys.wrapper
	if w == nil {
		s.keys.mu.Unlock()
		return nil, nil
	}
	if k := s.keys.active[ws]; k != nil {
		s.keys.mu.Unlock()
		return k, nil
	}
	s.keys.mu.Unlock()
	var id string
	var wrapped []byte
	err := s.db.QueryRowContext(ctx, `SELECT id, wrapped FROM data_keys WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, ws).Scan(&id, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		raw := make([]byte, 32)
		rand.Read(raw)
		idb := make([]byte, 12)
		rand.Read(idb)
		id = "dk_" + hex.EncodeToString(idb)
		wrapped = w.WrapKey(dataKeyAAD(ws, id), raw)
		if _, err := s.db.ExecContext(ctx, `INSERT INTO data_keys (id, workspace_id, wrapped, created_at) VALUES ($1, $2, $3, $4)`, id, ws, wrapped, s.Now().UnixMicro()); err != nil {
			return nil, dbError("data keys", err)
		}
		// Two replicas may create one each at once: the newest is used,
		// and each record names its own key, so both stay readable.
		return s.dataKeyFor(ctx, ws)
	}
	if err != nil {
		return nil, dbError("data keys", err)
	}
	k, err := s.openDataKey(ws, id, wrapped)
	if err != nil {
		return nil, err
	}
	s.keys.mu.Lock()
	s.keys.active[ws] = k
	s.keys.mu.Unlock()
	return k, nil
}

func (s *DB) openDataKey(ws, id string, wrapped []byte) (*dataKey, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if k := s.keys.byID[id]; k != nil {
		return k, nil
	}
	raw, err := s.keys.wrapper.UnwrapKey(dataKeyAAD(ws, id), wrapped)
	if err != nil {
		return nil, fmt.Errorf("data key %s of workspace %s: %w", id, ws, err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &dataKey{id: id, aead: aead}
	s.keys.byID[id] = k
	return k, nil
}

// dataKeyByID finds a data key by its ID (cached after first use).
func (s *DB) dataKeyByID(ctx context.Context, id string) (*dataKey, error) {
	s.keys.mu.Lock()
	w := s.keys.wrapper
	k := s.keys.byID[id]
	s.keys.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if w == nil {
		return nil, fmt.Errorf("data key %s: the content is encrypted and this store has no master key", id)
	}
	var ws string
	var wrapped []byte
	if err := s.db.QueryRowContext(ctx, `SELECT workspace_id, wrapped FROM data_keys WHERE id = $1`, id).Scan(&ws, &wrapped); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("data key %s is not in the database", id)
		}
		return nil, dbError("data keys", err)
	}
	return s.openDataKey(ws, id, wrapped)
}

func (k *dataKey) seal(plain []byte, aad string) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plain, []byte(aad))
}

func (k *dataKey) open(sealed []byte, aad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("encrypted content is truncated")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("encrypted content does not open with data key %s: altered, or moved from another record", k.id)
	}
	return plain, nil
}

// sealText encrypts a text column's value (k nil: stored as is).
func sealText(k *dataKey, plain, aad string) string {
	if k == nil {
		return plain
	}
	return encPrefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(k.seal([]byte(plain), aad))
}

// openText decrypts a value sealText wrote; a plain value is returned as
// it is.
func (s *DB) openText(ctx context.Context, stored, aad string) (string, error) {
	rest, ok := strings.CutPrefix(stored, encPrefix)
	if !ok {
		return stored, nil
	}
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("encrypted content is malformed")
	}
	sealed, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", errors.New("encrypted content is malformed")
	}
	k, err := s.dataKeyByID(ctx, id)
	if err != nil {
		return "", err
	}
	plain, err := k.open(sealed, aad)
	return string(plain), err
}

// sealChunk encrypts a file chunk (k nil: stored as is).
func sealChunk(k *dataKey, plain []byte, aad string) []byte {
	if k == nil {
		return plain
	}
	out := append([]byte{}, chunkMagic...)
	out = append(out, byte(len(k.id)))
	out = append(out, k.id...)
	return append(out, k.seal(plain, aad)...)
}

// openChunk decrypts a chunk sealChunk wrote.
func (s *DB) openChunk(ctx context.Context, stored []byte, aad string) ([]byte, error) {
	if len(stored) < len(chunkMagic)+1 || string(stored[:len(chunkMagic)]) != string(chunkMagic) {
		return stored, nil
	}
	rest := stored[len(chunkMagic):]
	n := int(rest[0])
	if len(rest) < 1+n {
		return nil, errors.New("encrypted chunk is malformed")
	}
	k, err := s.dataKeyByID(ctx, string(rest[1:1+n]))
	if err != nil {
		return nil, err
	}
	return k.open(rest[1+n:], aad)
}

// RewrapDataKeys re-wraps every data key from one wrapper to another in one
// transaction (a master key rotation): the data they encrypt is not
// touched. It returns how many keys it re-wrapped.
func (s *DB) RewrapDataKeys(ctx context.Context, from, to KeyWrapper) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError("data keys", err)
	}
	defer tx.Rollback()
	n, err := rewrapDataKeys(ctx, tx, from, to)
	if err != nil {
		return 0, err
	}
	return n, commitError("data keys", tx.Commit())
}

func rewrapDataKeys(ctx context.Context, tx *sql.Tx, from, to KeyWrapper) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, workspace_id, wrapped FROM data_keys ORDER BY id`)
	if err != nil {
		return 0, dbError("data keys", err)
	}
	type row struct {
		id, ws  string
		wrapped []byte
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.ws, &r.wrapped); err != nil {
			rows.Close()
			return 0, dbError("data keys", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, dbError("data keys", err)
	}
	for _, r := range all {
		raw, err := from.UnwrapKey(dataKeyAAD(r.ws, r.id), r.wrapped)
		if err != nil {
			return 0, fmt.Errorf("data key %s of workspace %s does not open with the current master key: %w", r.id, r.ws, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE data_keys SET wrapped = $1 WHERE id = $2`, to.WrapKey(dataKeyAAD(r.ws, r.id), raw), r.id); err != nil {
			return 0, dbError("data keys", err)
		}
	}
	return len(all), nil
}

// MasterKeyRotation says how to move what the master key seals to a new
// one: the data-key wrappers, and the re-sealing of signing keys and
// identity-provider secrets (aad as each was sealed with).
type MasterKeyRotation struct {
	From, To   KeyWrapper
	SigningKey func(kid string, sealed []byte) ([]byte, error)
	Secret     func(aad string, sealed []byte) ([]byte, error)
}

// MasterKeyRotated counts what a rotation re-sealed.
type MasterKeyRotated struct {
	DataKeys    int `json:"data_keys"`
	SigningKeys int `json:"signing_keys"`
	Secrets     int `json:"secrets"`
}

// RotateMasterKey re-wraps every data key and re-seals every signing key
// and identity-provider secret in one audited transaction: all or none.
// The content the data keys encrypt is not rewritten.
func (s *DB) RotateMasterKey(ctx context.Context, r MasterKeyRotation) (MasterKeyRotated, error) {
	var done MasterKeyRotated
	err := s.audited(ctx, "", "master_key.rotate", "master key", false, func(tx *sql.Tx) (any, any, error) {
		var err error
		if done.DataKeys, err = rewrapDataKeys(ctx, tx, r.From, r.To); err != nil {
			return nil, nil, err
		}
		type sealed struct {
			id, aad string
			enc     []byte
		}
		var keys []sealed
		rows, err := tx.QueryContext(ctx, `SELECT kid, private_enc FROM signing_keys ORDER BY kid`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var k sealed
			var b64 string
			if err := rows.Scan(&k.id, &b64); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if k.enc, err = base64.StdEncoding.DecodeString(b64); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("signing key %s: the stored key is malformed", k.id)
			}
			keys = append(keys, k)
		}
		rows.Close()
		for _, k := range keys {
			enc, err := r.SigningKey(k.id, k.enc)
			if err != nil {
				return nil, nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private_enc = $1 WHERE kid = $2`, base64.StdEncoding.EncodeToString(enc), k.id); err != nil {
				return nil, nil, err
			}
		}
		done.SigningKeys = len(keys)
		var secrets []sealed
		rows, err = tx.QueryContext(ctx, `SELECT workspace_id, name, client_secret_enc FROM identity_providers ORDER BY workspace_id, name`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var ws, name, b64 string
			if err := rows.Scan(&ws, &name, &b64); err != nil {
				rows.Close()
				return nil, nil, err
			}
			enc, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("identity provider %s/%s: the stored secret is malformed", ws, name)
			}
			secrets = append(secrets, sealed{id: ws + "\x00" + name, aad: "idp:" + ws + "/" + name, enc: enc})
		}
		rows.Close()
		for _, sc := range secrets {
			enc, err := r.Secret(sc.aad, sc.enc)
			if err != nil {
				return nil, nil, err
			}
			ws, name, _ := strings.Cut(sc.id, "\x00")
			if _, err := tx.ExecContext(ctx, `UPDATE identity_providers SET client_secret_enc = $1 WHERE workspace_id = $2 AND name = $3`, base64.StdEncoding.EncodeToString(enc), ws, name); err != nil {
				return nil, nil, err
			}
		}
		done.Secrets = len(secrets)
		// GitHub webhook secrets.
		var gh []sealed
		rows, err = tx.QueryContext(ctx, `SELECT workspace_id, secret_enc, token_enc FROM github_integrations ORDER BY workspace_id`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var ws, b64, tok string
			if err := rows.Scan(&ws, &b64, &tok); err != nil {
				rows.Close()
				return nil, nil, err
			}
			for col, v := range map[string]string{"secret_enc": b64, "token_enc": tok} {
				if v == "" {
					continue
				}
				enc, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					rows.Close()
					return nil, nil, fmt.Errorf("GitHub integration of %s: the stored %s is malformed", ws, col)
				}
				aad := "github:" + ws
				if col == "token_enc" {
					aad = "github-token:" + ws
				}
				gh = append(gh, sealed{id: ws + "\x00" + col, aad: aad, enc: enc})
			}
		}
		rows.Close()
		for _, g := range gh {
			enc, err := r.Secret(g.aad, g.enc)
			if err != nil {
				return nil, nil, err
			}
			ws, col, _ := strings.Cut(g.id, "\x00")
			if _, err := tx.ExecContext(ctx, `UPDATE github_integrations SET `+col+` = $1 WHERE workspace_id = $2`, base64.StdEncoding.EncodeToString(enc), ws); err != nil {
				return nil, nil, err
			}
			done.Secrets++
		}
		secrets = secrets[:0]
		rows, err = tx.QueryContext(ctx, `SELECT id, workspace_id, name, secret_enc FROM compliance_sinks WHERE secret_enc <> '' ORDER BY id`)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, ws, name, b64 string
			if err := rows.Scan(&id, &ws, &name, &b64); err != nil {
				rows.Close()
				return nil, nil, err
			}
			enc, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("sink %s/%s: the stored secret is malformed", ws, name)
			}
			secrets = append(secrets, sealed{id: id, aad: "sink:" + ws + "/" + name, enc: enc})
		}
		rows.Close()
		for _, sc := range secrets {
			enc, err := r.Secret(sc.aad, sc.enc)
			if err != nil {
				return nil, nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE compliance_sinks SET secret_enc = $1 WHERE id = $2`, base64.StdEncoding.EncodeToString(enc), sc.id); err != nil {
				return nil, nil, err
			}
			done.Secrets++
		}
		return nil, done, nil
	})
	if err != nil {
		return MasterKeyRotated{}, err
	}
	s.keys.mu.Lock()
	s.keys.wrapper = r.To
	s.keys.active, s.keys.byID = map[string]*dataKey{}, map[string]*dataKey{}
	s.keys.mu.Unlock()
	return done, nil
}
