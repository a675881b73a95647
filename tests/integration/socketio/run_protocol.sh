#!/usr/bin/env bash
# run_protocol.sh PLCGW SOURCE_DIR - the Engine.IO v4 and Socket.IO v5
# conformance suites (eio_protocol.js, sio_protocol.js: ported from
# socketio/engine.io-protocol and socketio/socket.io-protocol, test-suite/)
# against `plcgw serve --protocol-test`, in which /socket.io/ behaves as
# the reference test server of those suites and /engine.io/ is a bare
# Engine.IO endpoint echoing every message.
#
# The gateway runs on the demo config with every port moved to a free
# loopback one (start_demo_gateway from ../demo_gateway.sh, through a
# wrapper that adds --protocol-test), on 127.0.0.1 only; it is stopped by
# its PID. Every wait is bounded: 10 s to listen, 45 s per suite, 10 s to
# stop after SIGTERM.
set -u
if [ $# -ne 2 ]; then
  echo "usage: run_protocol.sh PLCGW SOURCE_DIR" >&2
  exit 2
fi
plcgw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
here=$src/tests/integration/socketio
node=${NODE:-node}
tmp=$(mktemp -d)
gw_pid=""
fail=0

# stop_gateway : SIGTERM to the gateway's PID, SIGKILL after 10 s; sets
# gw_status to its exit status
gw_status=""
stop_gateway() {
  [ -n "$gw_pid" ] || return 0
  kill -TERM "$gw_pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$gw_pid" 2>/dev/null; then
    echo "FAIL plcgw serve did not stop within 10 s of SIGTERM (PID $gw_pid), sending SIGKILL"
    fail=$((fail + 1))
    kill -KILL "$gw_pid" 2>/dev/null
  fi
  wait "$gw_pid" 2>/dev/null
  gw_status=$?
  gw_pid=""
}
cleanup() {
  stop_gateway
  rm -rf "$tmp"
}
trap cleanup EXIT

show_serve_err() {
  echo "  plcgw serve stderr (last 30 lines):"
  tail -n 30 "$tmp/serve.err" 2>/dev/null | sed 's/^/    /'
}

if ! command -v "$node" >/dev/null 2>&1; then
  echo "FAIL node not found (run scripts/bootstrap)"
  exit 1
fi
if ! "$node" -e 'process.exit(typeof fetch === "function" ? 0 : 1)' 2>/dev/null; then
  echo "FAIL $("$node" --version 2>&1) has no global fetch (Node.js 18 or later is needed)"
  exit 1
fi
if [ ! -f "$src/node_modules/ws/package.json" ]; then
  echo "FAIL $src/node_modules/ws is missing (run scripts/bootstrap)"
  exit 1
fi

# start_demo_gateway runs "PLCGW serve --config ... --listen ... --db ...";
# the wrapper turns that into "plcgw serve --protocol-test --config ...",
# exec keeping the PID that start_demo_gateway records.
wrapper=$tmp/plcgw-protocol-test
printf '#!/usr/bin/env bash\nshift\nexec %q serve --protocol-test "$@"\n' "$plcgw" >"$wrapper"
chmod +x "$wrapper"

# shellcheck source=../demo_gateway.sh
. "$src/tests/integration/demo_gateway.sh"
start_demo_gateway "$wrapper" "$src" "$tmp"
if [ -z "$gw_port" ]; then
  echo "FAIL plcgw serve --protocol-test did not report 'listening on http://127.0.0.1:PORT' within 10 s"
  show_serve_err
  exit 1
fi
url="http://127.0.0.1:$gw_port"
echo "# plcgw serve --protocol-test: PID $gw_pid, $url"

for suite in eio_protocol sio_protocol; do
  echo "# $suite.js $url"
  PROTOCOL_SUITE_MS=35000 NODE_PATH="$src/node_modules" \
    timeout -k 5 45 "$node" "$here/$suite.js" "$url"
  status=$?
  if [ "$status" -ne 0 ]; then
    [ "$status" -eq 124 ] && echo "FAIL $suite.js did not finish within 45 s"
    echo "FAIL $suite.js (exit status $status)"
    fail=$((fail + 1))
  fi
  if ! kill -0 "$gw_pid" 2>/dev/null; then
    echo "FAIL plcgw serve exited during $suite.js"
    fail=$((fail + 1))
    break
  fi
done

stop_gateway
if [ "$gw_status" != "0" ]; then
  echo "FAIL plcgw serve exit status $gw_status after SIGTERM, want 0"
  fail=$((fail + 1))
fi
[ "$fail" -ne 0 ] && show_serve_err
echo "socketio_protocol: $fail failed"
[ "$fail" -eq 0 ]
