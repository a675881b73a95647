#!/usr/bin/env bash
# live_fanout.sh [BUILD_DIR] [SECONDS] [N...] - live_data to N socket.io
# clients (default 10 100 500 1000, 15 s each) from the demo gateway on
# its default config (simulators in-process, free loopback ports), and,
# in the same run, from node's socket.io 4 server serving the same
# payload (bench/live_node_server.js; NODE_PEER=0 leaves it out). Each
# with the official socket.io-client and with a light client that speaks
# the protocols itself on ws (CLIENTS="socket.io light" by default):
# with 1,000 library clients on a 2-core machine their own decoding is
# most of what is measured. bench/live_fanout.js measures and prints the
# table. Targets (DESIGN.md): at 1,000 clients p99 and CPU at most half of
# node's, RSS under 40 MB. Every server is stopped by its PID.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
secs=${2:-15}
shift $(( $# > 2 ? 2 : $# ))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10 100 500 1000)
tmp=$(mktemp -d)
node_pid=""
. "$src/tests/integration/demo_gateway.sh"
cleanup() {
  stop_pid "${gw_pid:-}" || true
  stop_pid "$node_pid" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ulimit -n 8192 2>/dev/null || true
first=1
for n in "${counts[@]}"; do
for client in ${CLIENTS:-socket.io light}; do
  export CLIENT=$client
  start_demo_gateway "$build/plcgw" "$src" "$tmp"
  [ -n "$gw_port" ] || { echo "live_fanout: the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
  wait_connected "$gw_port" || true
  curl -s --max-time 2 "http://127.0.0.1:$gw_port/api/status" >"$tmp/sample.json"
  echo 5 >"/proc/$gw_pid/clear_refs" # the peak from here on is the round's, not the first start's
  NODE_PATH=$src/node_modules HEADER=$first SERVER=plcgw timeout $(( secs + 120 )) \
    node "$src/bench/live_fanout.js" "http://127.0.0.1:$gw_port" "$gw_pid" "$secs" "$n"
  first=0
  stop_pid "$gw_pid" || true
  gw_pid=""
  rm -f "$tmp/serve.db"*
  [ "${NODE_PEER:-1}" = 1 ] || continue
  NODE_PATH=$src/node_modules node "$src/bench/live_node_server.js" "$tmp/sample.json" >"$tmp/node.out" &
  node_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(grep -oE '^listening [0-9]+' "$tmp/node.out" | grep -oE '[0-9]+' || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "live_fanout: node's socket.io server did not start"; exit 1; }
  NODE_PATH=$src/node_modules HEADER=0 SERVER=node timeout $(( secs + 120 )) \
    node "$src/bench/live_fanout.js" "http://127.0.0.1:$port" "$node_pid" "$secs" "$n"
  stop_pid "$node_pid" || true
  node_pid=""
done
done
