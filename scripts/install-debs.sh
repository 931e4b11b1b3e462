#!/usr/bin/env bash
# Installs Debian packages the tests need when their commands are missing.
# Usage: install-debs.sh "WHAT NEEDS THEM" "COMMAND-OR-PATH..." PACKAGE...
# Outside CI a failure only warns (the tests that need them then skip
# loudly); with CI=true it fails the run.
set -uo pipefail
what=$1 commands=$2
shift 2

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "install-debs: $*" >&2
    exit 1
  fi
  echo "#### WARNING: $* -- $what will be skipped" >&2
  exit 0
}

# A command, or a path (holding a /) that must exist.
have() {
  for c in $commands; do
    case $c in
      */*) [ -e "$c" ] || return 1 ;;
      *) command -v "$c" >/dev/null 2>&1 || return 1 ;;
    esac
  done
}
have && exit 0
command -v apt-get >/dev/null 2>&1 || fail "one of $commands is missing and apt-get is not available"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || fail "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends "$@" >&2 || fail "apt-get install $* failed"
have || fail "one of $commands is still missing after installing $*"
