package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// PostgresURL returns the URL of the test PostgreSQL server from
// CODEXGOV_TEST_POSTGRES, after checking that it answers. Without one the
// test is skipped loudly, or fails in CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CODEXGOV_TEST_POSTGRES")
	if u == "" {
		Missing(t, "CODEXGOV_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); the PostgreSQL tests need it")
		return ""
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatalf("CODEXGOV_TEST_POSTGRES: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		Missing(t, "PostgreSQL at CODEXGOV_TEST_POSTGRES does not answer: %v", err)
	}
	return u
}

// PostgresSchema creates a schema of the test's own and returns a URL whose
// connections use it; the schema is dropped when the test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
