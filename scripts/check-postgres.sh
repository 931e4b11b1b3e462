#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use (CODEXGOV_TEST_POSTGRES) answers,
# starting the machine's local cluster if it is installed but stopped.
# Outside CI a failure only warns (the PostgreSQL tests then skip loudly);
# with CI=true it fails the run.
set -uo pipefail
url="${CODEXGOV_TEST_POSTGRES:?CODEXGOV_TEST_POSTGRES is not set}"

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "check-postgres: $*" >&2
    exit 1
  fi
  echo "#### WARNING: $* -- the PostgreSQL tests will be skipped" >&2
  exit 0
}

ready() { pg_isready -q -d "$url" 2>/dev/null; }
command -v pg_isready >/dev/null 2>&1 || fail "pg_isready not found; install PostgreSQL (Debian: postgresql) or point CODEXGOV_TEST_POSTGRES at a server"
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 2>&1 || true
  done
  for _ in $(seq 30); do ready && exit 0; sleep 0.5; done
fi
fail "no PostgreSQL answers at $url"
