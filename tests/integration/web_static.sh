#!/usr/bin/env bash
# web_static.sh PLCGW SOURCE_DIR - the gateway serving the HMI's files
# (config "web": {"root"}): index.html with no-cache at / and at the app's
# own routes, hashed assets for a year, the .gz to a client that accepts
# gzip, 404 for a missing file, the API and /docs untouched, nothing outside
# the folder. A folder made here stands in for web/dist.
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup web_static.sh "$@"
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }
root=$tmp/dist
mkdir -p "$root/assets"
printf '<!doctype html><title>HMI</title><script src="/assets/app-1a2b.js"></script>' >"$root/index.html"
printf 'console.log("the app");\n' >"$root/assets/app-1a2b.js"
gzip -9 -n -c "$root/assets/app-1a2b.js" >"$root/assets/app-1a2b.js.gz"
printf 'secret' >"$tmp/outside.txt"
ln -s "$tmp/outside.txt" "$root/link.txt"
printf 'hidden' >"$root/.env"
DEMO_CONFIG_PATCH="{\"web\": {\"root\": \"$root\"}}" start_demo_gateway "$plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
u=http://127.0.0.1:$gw_port
head_of() { curl -s -o /dev/null -D - "$@" | tr -d '\r'; }

h=$(head_of "$u/")
echo "$h" | grep -q '^HTTP/1.1 200' && echo "$h" | grep -qi '^content-type: text/html' &&
  echo "$h" | grep -qi '^cache-control: no-cache' && echo "$h" | grep -qi '^x-frame-options: DENY' &&
  [ "$(curl -s "$u/")" = "$(cat "$root/index.html")" ] &&
  ok "/ is index.html, no-cache" || notok "/: $h"
h=$(head_of "$u/rig/history")
echo "$h" | grep -q '^HTTP/1.1 200' && [ "$(curl -s "$u/rig/tests/42")" = "$(cat "$root/index.html")" ] &&
  ok "the app's own routes are index.html" || notok "/rig/history: $h"
h=$(head_of "$u/assets/app-1a2b.js")
echo "$h" | grep -qi '^cache-control: public, max-age=31536000, immutable' &&
  echo "$h" | grep -qi '^content-type: text/javascript' && ! echo "$h" | grep -qi '^content-encoding' &&
  ok "a hashed asset for a year" || notok "asset: $h"
h=$(head_of -H 'Accept-Encoding: gzip, deflate' "$u/assets/app-1a2b.js")
body=$(curl -s -H 'Accept-Encoding: gzip' "$u/assets/app-1a2b.js" | gunzip 2>/dev/null)
echo "$h" | grep -qi '^content-encoding: gzip' && echo "$h" | grep -qi '^vary: accept-encoding' &&
  [ "$body" = 'console.log("the app");' ] && ok "gzip to a client that accepts it" || notok "gzip: $h"
h=$(head_of -H 'Accept-Encoding: gzip;q=0' "$u/assets/app-1a2b.js")
! echo "$h" | grep -qi '^content-encoding' && ok "gzip;q=0 gets the plain file" || notok "q=0: $h"
for p in /assets/none.js /link.txt /.env /favicon.ico; do
  c=$(curl -s -o /dev/null -w '%{http_code}' "$u$p")
  [ "$c" = 404 ] && ok "$p is 404" || notok "$p: $c"
done
c=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$u/assets/../../outside.txt")
[ "$c" = 400 ] && ok "a dot segment is 400" || notok "dot segment: $c"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$u/api/health")" = 200 ] &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u/api/nothing")" = 404 ] &&
  curl -s "$u/api/nothing" | grep -q 'no resource at /api/nothing' &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u/docs")" = 200 ] &&
  ok "the API and /docs are as they were" || notok "API paths"
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$u/rig/history")
[ "$c" = 404 ] || [ "$c" = 405 ] && ok "a POST to an app route is not a file ($c)" || notok "POST: $c"
stop_pid "$gw_pid"; gw_pid=""
echo "web_static: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
