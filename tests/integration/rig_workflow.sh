#!/usr/bin/env bash
# rig_workflow.sh PLCGW SOURCE_DIR - the ring-stiffness test workflow end
# to end (rig_workflow.js: tests, reports, alarms, filters over HTTP and
# Socket.IO), then what a crash does: plcgw killed with SIGKILL in the
# middle of a test, the database intact, the test marked interrupted with
# its points on the next start; and a PLC connection lost during a test.
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup rig_workflow.sh "$@"
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

start_demo_gateway "$plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
db=$tmp/serve.db
echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$db" >/dev/null || exit 1
OP_TOKEN=$("$plcgw" token create op --db "$db")
export OP_TOKEN
wait_connected "$gw_port" || notok "the rig did not connect"
url=http://127.0.0.1:$gw_port
simurl=http://127.0.0.1:$p_ctl
auth=(-H "Authorization: Bearer $OP_TOKEN")

PLCGW_URL=$url SIM_URL=$simurl TMP=$tmp NODE_PATH=$src/node_modules \
  timeout 300 "$node" "$src/tests/integration/rig_workflow.js" || fail=1

post() { curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$url$1" "${@:2}"; }
status_of() { curl -s "${auth[@]}" "$url/api/tests/$1?points=false" | jq -r "$2"; }
newest() { curl -s "${auth[@]}" "$url/api/tests?per_page=1" | jq -r '.tests[0].id'; }

# --- a PLC connection lost during a test: interrupted, with an alarm
for c in servo/enable clamp/upper/lock clamp/lower/lock; do post "/api/$c" >/dev/null; done
sleep 0.5
before=$(newest)
code=$(post /api/command/start -H 'Content-Type: application/json' -d '{"sample_id":"P-DROP"}')
for _ in $(seq 1 50); do [ "$(newest)" != "$before" ] && break; sleep 0.1; done
id=$(newest)
sleep 1
curl -s -o /dev/null -X POST "$simurl/sim/faults" -H 'Content-Type: application/json' \
  -d "{\"frontend\":\"$rig_frontend\",\"fault\":\"drop\",\"duration_ms\":1500}"
for _ in $(seq 1 60); do [ "$(status_of "$id" .status)" = interrupted ] && break; sleep 0.1; done
if [ "$code" = 200 ] && [ "$(status_of "$id" .status)" = interrupted ] &&
   status_of "$id" .reason | grep -q 'connection lost' &&
   [ "$(status_of "$id" .npoints)" -gt 0 ] &&
   curl -s "${auth[@]}" "$url/api/alarms" | jq -e ".alarms | any(.code == 2 and .test_id == $id)" >/dev/null; then
  ok "a PLC connection lost during test $id: interrupted ($(status_of "$id" .reason)), $(status_of "$id" .npoints) points, alarm 2"
else
  notok "PLC connection lost: start $code, test $id: $(curl -s "${auth[@]}" "$url/api/tests/$id?points=false")"
fi
wait_connected "$gw_port" || notok "the rig did not come back"
post /api/command/stop >/dev/null
sleep 1

# --- kill -9 in the middle of a test (the simulated clock at its own pace)
before=$(newest)
code=$(post /api/command/start -H 'Content-Type: application/json' -d '{"sample_id":"P-KILL"}')
for _ in $(seq 1 50); do [ "$(newest)" != "$before" ] && break; sleep 0.1; done
id=$(newest)
sleep 2.5   # two batches of points committed
kill -KILL "$gw_pid"
wait "$gw_pid" 2>/dev/null
gw_pid=""
integrity=$(sqlite3 "$db" 'PRAGMA integrity_check')
stored=$(sqlite3 "$db" "SELECT count(*) FROM test_data_points WHERE test_id = $id")
st=$(sqlite3 "$db" "SELECT status FROM tests WHERE id = $id")
if [ "$code" = 200 ] && [ "$integrity" = ok ] && [ "$stored" -gt 0 ] && [ "$st" = running ]; then
  ok "killed with SIGKILL during test $id: integrity_check ok, $stored points kept"
else
  notok "after SIGKILL: start $code, integrity '$integrity', $stored points, status '$st'"
fi
# the same database again: the test becomes interrupted with its points
"$plcgw" serve --config "$tmp/serve.json" --listen 127.0.0.1:0 --db "$db" \
  >"$tmp/serve2.out" 2>"$tmp/serve2.err" &
gw_pid=$!
port2=""
for _ in $(seq 1 100); do
  port2=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/serve2.err" | grep -oE '[0-9]+$' || true)
  [ -n "$port2" ] && break
  sleep 0.1
done
url=http://127.0.0.1:$port2
sleep 0.5
t=$(curl -s "${auth[@]}" "$url/api/tests/$id?points=false")
if [ "$(echo "$t" | jq -r .status)" = interrupted ] &&
   echo "$t" | jq -r .reason | grep -q restarted &&
   [ "$(echo "$t" | jq -r .npoints)" = "$stored" ] &&
   [ "$(curl -s "${auth[@]}" "$url/api/tests/$id" | jq '.points | length')" = "$stored" ] &&
   curl -s "${auth[@]}" "$url/api/alarms" | jq -e '.alarms | any(.code == 6)' >/dev/null; then
  ok "restarted: test $id interrupted ($(echo "$t" | jq -r .reason)), its $stored points kept, alarm 6"
else
  notok "after the restart: $t"
fi
post /api/command/stop >/dev/null
rc=0
stop_pid "$gw_pid" || rc=$?
gw_pid=""
[ $rc -eq 0 ] && ok "it stops cleanly" || notok "plcgw serve exited with $rc"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] && ok "the database is intact after the stop" ||
  notok "integrity_check after the stop"
if [ $fail -ne 0 ]; then echo "serve.err:"; tail -n 40 "$tmp/serve.err"; tail -n 20 "$tmp/serve2.err" 2>/dev/null; fi
echo "rig_workflow: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
