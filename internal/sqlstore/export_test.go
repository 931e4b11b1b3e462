package sqlstore

import "database/sql"

// SQL exposes the database to this package's external tests (bulk seeding
// for benchmarks).
func (s *DB) SQL() *sql.DB { return s.db }
