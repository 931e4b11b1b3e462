#!/usr/bin/env bash
# Installs the pinned peer gateway of make bench-gateway (Portkey's
# open-source AI gateway, from npm) into a cache folder outside the
# repository, and a copy of it with the one-line fix of its pull request
# #1390 (its issue #1550: 1.15.2 answers every streamed /v1/responses
# request 500, adding headers to the upstream's immutable response).
# Prints the two server scripts: as released, and fixed.
set -euo pipefail
version="$1"
prefix="$2"
rel=node_modules/@portkey-ai/gateway/build/start-server.js
if [ ! -f "$prefix/$rel" ] || ! grep -q "\"version\": \"$version\"" "$prefix/node_modules/@portkey-ai/gateway/package.json"; then
  command -v npm >/dev/null 2>&1 || { echo "install-portkey: npm not found" >&2; exit 1; }
  mkdir -p "$prefix"
  npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "@portkey-ai/gateway@$version" >&2
fi
fixed="$prefix-pr1390"
if [ ! -f "$fixed/$rel" ] || ! grep -q "x-codexgov-probe" "$fixed/$rel"; then
  rm -rf "$fixed"
  cp -r "$prefix" "$fixed"
  old='updateHeaders(e,t,a){return e.headers.append'
  new='updateHeaders(e,t,a){try{e.headers.append("x-codexgov-probe","1"),e.headers.delete("x-codexgov-probe")}catch(_){e=new Response(e.body,e)}return e.headers.append'
  [ "$(grep -c "$old" "$fixed/$rel")" = 1 ] || { echo "install-portkey: the code PR #1390 fixes is not where expected" >&2; exit 1; }
  sed -i "s/$old/$new/" "$fixed/$rel"
fi
echo "$prefix/$rel $fixed/$rel"
