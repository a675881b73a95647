#!/usr/bin/env bash
# idle_conns.sh [BUILD_DIR] [SECONDS] - GET /api/status at 1,000 req/s on
# the demo gateway (default config, simulators in-process), with nothing
# else, then while 1,000 idle connections are held open, while 300 slow
# clients trickle their requests, and with both: latency from when each
# request was due (bench_http_rate), and the gateway's RSS. The slow
# clients are closed by the header and body timeouts and opened again at
# once, so that 300 are always held. Targets (DESIGN.md): p99 < 10 ms.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
secs=${2:-10}
tmp=$(mktemp -d)
hold=""
. "$src/tests/integration/demo_gateway.sh"
cleanup() {
  stop_pid "$hold" || true
  stop_pid "${gw_pid:-}" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ulimit -n 8192 2>/dev/null || true
start_demo_gateway "$build/plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "idle_conns: the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
wait_connected "$gw_port" || true
rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$gw_pid/status"; }
echo "idle_conns: GET /api/status at 1000 req/s for $secs s over 8 connections, from when each was due"
printf '%-34s | %s\n' "held open meanwhile" "latency, gateway RSS"
round() { # IDLE SLOW
  local label=$1 idle=$2 slow=$3
  if [ "$idle" -gt 0 ] || [ "$slow" -gt 0 ]; then
    python3 "$src/bench/hold_conns.py" 127.0.0.1 "$gw_port" "$idle" "$slow" $(( secs + 6 )) \
      >"$tmp/hold.out" 2>"$tmp/hold.err" &
    hold=$!
    sleep 3 # all open
  fi
  out=$("$build/bench_http_rate" 127.0.0.1 "$gw_port" /api/status 1000 "$secs" 8 | tr '\n' ' ')
  printf '%-34s | %s| RSS %s MB\n' "$label" "$(printf '%s' "$out" | grep -o 'latency us:.*' )" "$(rss)"
  printf '%-34s | %s\n' "" "$(printf '%s' "$out" | grep -oE 'answered [0-9]+, non-200 [0-9]+, errors [0-9]+')"
  if [ -n "$hold" ]; then
    wait "$hold" || true
    printf '%-34s | %s\n' "" "$(cat "$tmp/hold.out")"
    hold=""
  fi
}
round "nothing" 0 0
round "1000 idle connections" 1000 0
round "300 slow clients" 0 300
round "1000 idle and 300 slow" 1000 300
