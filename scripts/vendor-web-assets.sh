#!/bin/sh
# The console's browser assets, vendored from npm at pinned versions and
# committed, so that building needs no Node and nothing is fetched at run
# time. Each file's SHA-256 is in SHA256SUMS beside it.
#
#   scripts/vendor-web-assets.sh            check the committed files against SHA256SUMS
#   scripts/vendor-web-assets.sh --update   fetch the pinned packages (npm checks their
#                                           integrity), copy the files and licences,
#                                           write VERSIONS and SHA256SUMS
#
# htmx is pinned to the 2.0 line: 4.x is a rewrite with other semantics.
set -eu
cd "$(dirname "$0")/.."

assets=internal/web/assets
axe=internal/web/axe
pkgs="htmx.org@2.0.11 uplot@1.6.32 axe-core@4.14.1"

check() {
	for d in "$assets" "$axe"; do
		(cd "$d" && sha256sum --quiet -c SHA256SUMS) || {
			echo "vendor-web-assets: $d differs from its SHA256SUMS; run scripts/vendor-web-assets.sh --update and review the diff" >&2
			exit 1
		}
	done
	echo "vendor-web-assets: $assets and $axe match their SHA256SUMS"
}

if [ "${1:-}" != "--update" ]; then
	check
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in $pkgs; do
	name=${p%@*}
	mkdir -p "$tmp/$name"
	(cd "$tmp/$name" && npm pack --silent "$p" >/dev/null && tar xzf ./*.tgz)
done
mkdir -p "$assets" "$axe"
cp "$tmp/htmx.org/package/dist/htmx.min.js" "$assets/htmx.min.js"
cp "$tmp/htmx.org/package/LICENSE" "$assets/htmx.LICENSE"
cp "$tmp/uplot/package/dist/uPlot.iife.min.js" "$assets/uPlot.iife.min.js"
cp "$tmp/uplot/package/dist/uPlot.min.css" "$assets/uPlot.min.css"
cp "$tmp/uplot/package/LICENSE" "$assets/uPlot.LICENSE"
cp "$tmp/axe-core/package/axe.min.js" "$axe/axe.min.js"
cp "$tmp/axe-core/package/LICENSE" "$axe/axe-core.LICENSE"
{
	echo "# The console's vendored browser assets (scripts/vendor-web-assets.sh)."
	for p in htmx.org@2.0.11 uplot@1.6.32; do echo "$p"; done
} >"$assets/VERSIONS"
echo "axe-core@4.14.1 (tests only: the console's accessibility check)" >"$axe/VERSIONS"
(cd "$assets" && sha256sum htmx.min.js htmx.LICENSE uPlot.iife.min.js uPlot.min.css uPlot.LICENSE VERSIONS >SHA256SUMS)
(cd "$axe" && sha256sum axe.min.js axe-core.LICENSE VERSIONS >SHA256SUMS)
check
