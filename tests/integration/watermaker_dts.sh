#!/usr/bin/env bash
# watermaker_dts.sh PLCGW SOURCE_DIR - the watermaker's DTS sequences as
# tasks against the simulator in strict mode (watermaker_dts.js).
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup watermaker_dts.sh "$@"
start_demo_gateway "$plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
db=$tmp/serve.db
echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$db" >/dev/null || exit 1
echo "viewer-pass-123" | "$plcgw" user add vi --role viewer --password-stdin --db "$db" >/dev/null || exit 1
OP_TOKEN=$("$plcgw" token create op --db "$db")
VIEWER_TOKEN=$("$plcgw" token create vi --db "$db")
export OP_TOKEN VIEWER_TOKEN
wait_connected "$gw_port" || true
fail=0
PLCGW_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl DB=$db NODE_PATH=$src/node_modules \
  timeout 400 "$node" "$src/tests/integration/watermaker_dts.js" || fail=1
rc=0
stop_pid "$gw_pid" || rc=$?
gw_pid=""
[ $rc -eq 0 ] && echo "ok - it stops cleanly" || { echo "not ok - plcgw serve exited with $rc"; fail=1; }
if [ $fail -ne 0 ]; then echo "serve.err:"; grep -v 'INFO  http' "$tmp/serve.err" | tail -n 40; fi
echo "watermaker_dts: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
