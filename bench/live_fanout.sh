#!/usr/bin/env bash
# live_fanout.sh [BUILD_DIR] [SECONDS] [N...] - live_data to N socket.io
# clients (default 10 100 500 1000, 15 s each) from the demo gateway with
# its simulators in-process, on free loopback ports; bench/live_fanout.js
# measures and prints the table. The gateway is stopped by its PID.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
secs=${2:-15}
shift $(( $# > 2 ? 2 : $# ))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10 100 500 1000)
tmp=$(mktemp -d)
. "$src/tests/integration/demo_gateway.sh"
cleanup() {
  stop_pid "${gw_pid:-}" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ulimit -n 8192 2>/dev/null || true
first=1
for n in "${counts[@]}"; do
  # a gateway sized for the round: each WebSocket holds one of civetweb's
  # workers (live.max_clients; the demo's default is 200)
  max=$(( n + 50 > 200 ? n + 50 : 200 ))
  DEMO_CONFIG_PATCH="{\"live\": {\"max_clients\": $max}}" start_demo_gateway "$build/plcgw" "$src" "$tmp"
  [ -n "$gw_port" ] || { echo "live_fanout: the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
  for _ in $(seq 1 100); do
    curl -s --max-time 2 "http://127.0.0.1:$gw_port/api/status" | grep -q '"connected":true' && break
    sleep 0.1
  done
  echo 5 >"/proc/$gw_pid/clear_refs" # the peak from here on is the round's, not the first start's
  NODE_PATH=$src/node_modules HEADER=$first timeout $(( secs + 120 )) \
    node "$src/bench/live_fanout.js" "http://127.0.0.1:$gw_port" "$gw_pid" "$secs" "$n"
  first=0
  stop_pid "$gw_pid" || true
  gw_pid=""
  rm -f "$tmp/serve.db"*
done
