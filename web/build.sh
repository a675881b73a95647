#!/usr/bin/env bash
# Builds the HMI into web/dist (from anywhere): vite from the repo root, then
# a .gz (gzip -9 -n) beside every .js, .css, .svg and index.html for the
# gateway to serve to clients that accept gzip. Prints the gzipped JS size.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
if [ ! -x node_modules/.bin/vite ]; then
  echo "web/build.sh: node_modules lacks vite: run npm ci in $repo first" >&2
  exit 1
fi
VITE_CJS_IGNORE_WARNING=true npx --no-install vite build --config web/vite.config.ts --logLevel warn
dist="$here/dist"
find "$dist" -type f -name '*.gz' -delete
find "$dist" -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name 'index.html' \) \
  -print0 | while IFS= read -r -d '' f; do
    gzip -9 -n -c "$f" > "$f.gz"
    touch -r "$f" "$f.gz"
  done
js_gz=0; js_raw=0; css_gz=0
while IFS= read -r -d '' f; do
  js_raw=$((js_raw + $(stat -c %s "$f")))
  js_gz=$((js_gz + $(stat -c %s "$f.gz")))
done < <(find "$dist" -type f -name '*.js' -print0)
while IFS= read -r -d '' f; do
  css_gz=$((css_gz + $(stat -c %s "$f.gz")))
done < <(find "$dist" -type f -name '*.css' -print0)
echo "web/dist: JavaScript $js_raw bytes, $js_gz bytes gzipped ($(awk "BEGIN{printf \"%.1f\", $js_gz/1024}") kB); CSS $css_gz bytes gzipped"
if [ "$js_gz" -gt $((150 * 1024)) ]; then
  echo "web/build.sh: gzipped JavaScript is over the 150 kB budget" >&2
  exit 1
fi
