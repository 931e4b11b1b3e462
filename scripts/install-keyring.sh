#!/usr/bin/env bash
# Installs what Codex's OAuth sign-in to a configuration server needs on
# Linux: a Secret Service on a D-Bus session bus (gnome-keyring and
# dbus-daemon, from Debian's packages). The end-to-end tests start a
# private bus and keyring of their own. Outside CI a failure only warns
# (the OAuth tests then skip loudly); with CI=true it fails the run.
set -uo pipefail

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "install-keyring: $*" >&2
    exit 1
  fi
  echo "#### WARNING: $* -- the Codex OAuth sign-in tests will be skipped" >&2
  exit 0
}

have() { command -v gnome-keyring-daemon >/dev/null 2>&1 && command -v dbus-daemon >/dev/null 2>&1; }
have && exit 0
command -v apt-get >/dev/null 2>&1 || fail "gnome-keyring-daemon or dbus-daemon missing and apt-get not available"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || fail "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends gnome-keyring dbus >&2 || fail "apt-get install gnome-keyring dbus failed"
have || fail "gnome-keyring-daemon or dbus-daemon still missing after installing"
