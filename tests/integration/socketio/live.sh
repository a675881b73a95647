#!/usr/bin/env bash
# live.sh PLCGW SOURCE_DIR - the live channel against `plcgw serve` on the
# demo config (simulators in-process, every port a free loopback one):
# live.js with the official socket.io-client, then the jog's audit rows.
# The gateway is stopped by its PID; every wait is bounded.
set -u
. "$(dirname "$0")/../demo_gateway.sh"
gateway_test_setup live.sh "$@"

start_demo_gateway "$plcgw" "$src" "$tmp"
if [ -z "$gw_port" ]; then
  echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1
fi
db=$tmp/serve.db
for u in op:operator op2:operator viewer:viewer; do
  echo "${u%%:*}-pass-123" |
    "$plcgw" user add "${u%%:*}" --role "${u##*:}" --password-stdin --db "$db" >/dev/null || exit 1
done
export OP_TOKEN VIEWER_TOKEN OP2_TOKEN
OP_TOKEN=$("$plcgw" token create op --db "$db")
OP2_TOKEN=$("$plcgw" token create op2 --db "$db")
VIEWER_TOKEN=$("$plcgw" token create viewer --db "$db")
wait_connected "$gw_port" || true

fail=0
PLCGW_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl RIG_FRONTEND=$rig_frontend \
  NODE_PATH=$src/node_modules timeout 180 "$node" "$src/tests/integration/socketio/live.js" || fail=1

# every jog start and release is audited, with its reason
audit=$(sqlite3 "$db" "SELECT user_name || ' ' || action || ' ' || \"values\" || ' ' || result FROM audit_log WHERE action LIKE 'jog%' ORDER BY id")
for want in 'op jog_forward start \{"reason":"pressed"\} ok' \
            'op jog_forward release \{"reason":"no renewal in time"\} ok' \
            'op jog_backward release \{"reason":"released by the operator"\} ok' \
            'op jog_forward release \{"reason":"the client went: transport close"\} ok' \
            'op jog_forward release \{"reason":"a second client tried to jog"\} ok' \
            'op jog_forward release \{"reason":"both directions at once"\} ok' \
            'op jog_forward release \{"reason":"the PLC connection changed"\} .*'; do
  if printf '%s\n' "$audit" | grep -Eq "^$want$"; then
    echo "ok - audit: $want"
  else
    echo "not ok - audit: $want"; fail=1
  fi
done
[ $fail -eq 0 ] || { echo "audit_log jog rows:"; printf '%s\n' "$audit"; echo "serve.err:"; tail -n 40 "$tmp/serve.err"; }

# a long-poll waiting when the gateway stops does not hold it up
sid=$(curl -s --max-time 5 "http://127.0.0.1:$gw_port/socket.io/?EIO=4&transport=polling" |
      grep -o '"sid":"[^"]*"' | cut -d'"' -f4)
curl -s --max-time 30 -o /dev/null "http://127.0.0.1:$gw_port/socket.io/?EIO=4&transport=polling&sid=$sid" &
poll_pid=$!
sleep 0.3
t0=$(date +%s)
rc=0
stop_pid "$gw_pid" || rc=$?
took=$(( $(date +%s) - t0 ))
stop_pid "$poll_pid" >/dev/null 2>&1 || true
if [ $took -le 8 ]; then echo "ok - stopped in ${took} s with a poll waiting"; else
  echo "not ok - stopping took ${took} s with a poll waiting"; fail=1; fi
gw_pid=""
[ $rc -eq 0 ] || { echo "not ok - plcgw serve exited with $rc"; fail=1; }
echo "live: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
