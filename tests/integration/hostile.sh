#!/usr/bin/env bash
# hostile.sh PLCGW SOURCE_DIR - the gateway attacked from loopback as a
# hostile or broken client would (hostile.js): deep nesting, bad bytes,
# partial and ambiguous requests, handshake floods, oversized and illegal
# WebSocket frames, idle connections. Every attack must get a clear 4xx
# (or a protocol close), change nothing, and leave the gateway serving;
# at the end it must stop cleanly (exit 0: no crash, and under ASan no
# finding). Small limits keep it quick; the defaults are measured by the
# benchmarks.
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup hostile.sh "$@"
fail=0

# a config nested 1,000 deep: a located error, not a crash
python3 -c "print('{\"machines\": ' + '[' * 1000)" >"$tmp/deep.json"
out=$("$plcgw" check-config "$tmp/deep.json" 2>&1); rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q 'deep.json:1:.*nesting deeper than 64'; then
  echo "ok - a config nested 1,000 deep: exit 2, $(printf '%s' "$out" | head -n 1)"
else
  echo "not ok - a config nested 1,000 deep: exit $rc: $out"; fail=1
fi

DEMO_CONFIG_PATCH='{"live": {"max_clients": 40, "connect_timeout_ms": 1500,
  "max_unconnected_per_address": 8},
  "http": {"header_timeout_ms": 1000, "body_timeout_ms": 1000, "idle_timeout_ms": 20000,
  "max_connections_per_address": 50, "limit_loopback": true}}' \
  start_demo_gateway "$plcgw" "$src" "$tmp"
if [ -z "$gw_port" ]; then
  echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1
fi
db=$tmp/serve.db
echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$db" >/dev/null || exit 1
export OP_TOKEN
OP_TOKEN=$("$plcgw" token create op --db "$db")
wait_connected "$gw_port" || true

PLCGW_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl GW_PID=$gw_pid \
  NODE_PATH=$src/node_modules timeout 240 "$node" "$src/tests/integration/hostile.js" || fail=1

if kill -0 "$gw_pid" 2>/dev/null; then echo "ok - the same gateway process serves on"; else
  echo "not ok - the gateway died"; fail=1; fi
rc=0
stop_pid "$gw_pid" || rc=$?
gw_pid=""
if [ $rc -eq 0 ]; then echo "ok - it stops cleanly (exit 0)"; else
  echo "not ok - plcgw serve exited with $rc"; fail=1; fi
if [ $fail -ne 0 ]; then echo "serve.err:"; tail -n 40 "$tmp/serve.err"; fi
echo "hostile: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
