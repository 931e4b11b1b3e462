#!/usr/bin/env bash
# Installs the pinned Codex CLI (the conformance oracle) into a cache folder
# outside the repository. Outside CI a failure only warns (the oracle tests
# then skip loudly); with CI=true it fails the run.
set -uo pipefail
version="$1"
prefix="$2"
bin="$prefix/node_modules/.bin/codex"

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "install-codex: $*" >&2
    exit 1
  fi
  echo "#### WARNING: $* -- the Codex oracle tests will be skipped" >&2
  exit 0
}

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "codex-cli $version"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || fail "npm not found; install Node.js and npm to get @openai/codex@$version"
mkdir -p "$prefix"
npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "@openai/codex@$version" >&2 ||
  fail "npm could not install @openai/codex@$version"
got=$("$bin" --version 2>/dev/null)
[ "$got" = "codex-cli $version" ] || fail "installed Codex reports '$got', want 'codex-cli $version'"
echo "installed $got at $bin" >&2
