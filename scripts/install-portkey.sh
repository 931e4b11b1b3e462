#!/usr/bin/env bash
# Installs the pinned peer gateway of make bench-gateway (Portkey's
# open-source AI gateway, from npm) into a cache folder outside the
# repository, and prints the path of its server script.
set -euo pipefail
version="$1"
prefix="$2"
script="$prefix/node_modules/@portkey-ai/gateway/build/start-server.js"
if [ ! -f "$script" ] || ! grep -q "\"version\": \"$version\"" "$prefix/node_modules/@portkey-ai/gateway/package.json"; then
  command -v npm >/dev/null 2>&1 || { echo "install-portkey: npm not found" >&2; exit 1; }
  mkdir -p "$prefix"
  npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "@portkey-ai/gateway@$version" >&2
fi
echo "$script"
