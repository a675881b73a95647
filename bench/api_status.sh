#!/usr/bin/env bash
# api_status.sh - GET /api/status on the demo gateway (built-in simulators,
# on free loopback ports): latency at a fixed 1,000 req/s (bench_http_rate,
# counted from when each request was due), the most it answers (wrk), and
# the gateway's resident memory idle, under that load, and its peak. Every
# request carries a viewer's API token, as a script's would.
#
#   bench/api_status.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
secs=${2:-10}
tmp=$(mktemp -d)
pid=""
. "$src/tests/integration/demo_gateway.sh"
cleanup() {
  stop_pid "$pid" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$pid/status"; }

start_demo_gateway "$build/plcgw" "$src" "$tmp"
pid=$gw_pid
port=$gw_port
[ -n "$port" ] || { echo "api_status: the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
wait_connected "$port" || true
sleep 2 # settle: both machines scanning
# a viewer's API token, checked on every request as a script's would be
"$build/plcgw" user add bench --role viewer --db "$tmp/serve.db" >/dev/null
token=$("$build/plcgw" token create bench --label bench --db "$tmp/serve.db")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token}x" \
       "http://127.0.0.1:$port/api/status")
[ "$code" = 401 ] || { echo "api_status: a wrong token got $code, not 401"; exit 1; }
echo "api_status: gateway pid $pid on 127.0.0.1:$port, demo machines simulated in-process;"
echo "every request carries a viewer's API token (Authorization: Bearer)"
echo "RSS idle: $(( $(rss_kb) / 1024 )) MB ($(rss_kb) kB); peak so far $(( $(hwm_kb) / 1024 )) MB" \
     "(the first start hashes the new admin's password: Argon2id, 64 MB, freed)"
echo 5 >"/proc/$pid/clear_refs" # the peak from here on is the load's

# fixed rate, sampled RSS while it runs
BENCH_TOKEN=$token "$build/bench_http_rate" 127.0.0.1 "$port" /api/status 1000 "$secs" 8 >"$tmp/rate" &
lp=$!
max=0
while kill -0 "$lp" 2>/dev/null; do
  r=$(rss_kb); [ "$r" -gt "$max" ] && max=$r
  sleep 0.5
done
rc=0; wait "$lp" || rc=$?
cat "$tmp/rate"
echo "RSS under 1000 req/s: $(( max / 1024 )) MB ($max kB, highest sample)"
if command -v wrk >/dev/null; then
  wrk -t2 -c16 -d"${secs}s" --latency -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/api/status" 2>&1 |
    grep -E 'Requests/sec|Latency|^ +(50|90|99)%' | sed 's/^/wrk -t2 -c16: /'
else
  echo "wrk: not installed (scripts/bootstrap installs it)"
fi
echo "RSS after wrk: $(( $(rss_kb) / 1024 )) MB; peak under load (VmHWM): $(( $(hwm_kb) / 1024 )) MB"
exit "$rc"
