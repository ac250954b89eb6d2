#!/usr/bin/env bash
# Fetch the front-end libraries from the npm registry and copy only their built files into
# src/autocrm/static/vendor/, which is committed: the app never loads anything from a CDN
# and works offline. Run again to upgrade; pin the versions below.
set -euo pipefail

TABLER_VERSION="${TABLER_VERSION:-^1.0.0}"
HTMX_VERSION="${HTMX_VERSION:-^2.0.0}"
ECHARTS_VERSION="${ECHARTS_VERSION:-^5.5.0}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/autocrm/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

command -v npm >/dev/null || { echo "npm is required (apt-get install npm)" >&2; exit 1; }

cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "@tabler/core@$TABLER_VERSION" "htmx.org@$HTMX_VERSION" "echarts@$ECHARTS_VERSION" >/dev/null

version() { node -p "require('./node_modules/$1/package.json').version"; }

rm -rf "$DEST/tabler" "$DEST/htmx" "$DEST/echarts"
mkdir -p "$DEST/tabler/css" "$DEST/tabler/js" "$DEST/htmx" "$DEST/echarts"
cp node_modules/@tabler/core/dist/css/tabler.min.css "$DEST/tabler/css/"
cp node_modules/@tabler/core/dist/js/tabler.min.js "$DEST/tabler/js/"
cp node_modules/htmx.org/dist/htmx.min.js "$DEST/htmx/"
cp node_modules/echarts/dist/echarts.min.js "$DEST/echarts/"
# The source maps are not vendored: a dangling sourceMappingURL makes `collectstatic` with the
# production storage (whitenoise's manifest) fail, so the references go too.
sed -i '/sourceMappingURL=/d' "$DEST"/tabler/css/*.css "$DEST"/tabler/js/*.js "$DEST"/htmx/*.js "$DEST"/echarts/*.js
for pkg in @tabler/core htmx.org echarts; do
  lic="node_modules/$pkg/LICENSE"
  [ -f "$lic" ] || lic="$(ls node_modules/$pkg/LICENSE* 2>/dev/null | head -1 || true)"
  case "$pkg" in @tabler/core) dir=tabler ;; htmx.org) dir=htmx ;; *) dir=echarts ;; esac
  [ -n "$lic" ] && [ -f "$lic" ] && cp "$lic" "$DEST/$dir/LICENSE"
done

{
  echo "# Vendored by scripts/vendor.sh from the npm registry; do not edit by hand."
  echo "@tabler/core $(version @tabler/core)"
  echo "htmx.org $(version htmx.org)"
  echo "echarts $(version echarts)"
} > "$DEST/VERSIONS.txt"
cat "$DEST/VERSIONS.txt"
