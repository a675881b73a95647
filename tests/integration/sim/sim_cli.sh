#!/usr/bin/env bash
# sim_cli.sh PLCGW SOURCE_DIR - the real `plcgw sim` process as a user and
# the gateway meet it (docs/sim.md): READY lines, the HTTP control API
# (curl) and its error statuses, `plcgw read` / `plcgw write` against its
# S7 and Modbus front-ends, the `plcgw sim COMMAND --control` subcommands
# and their exit codes, faults set and cleared, the write log, the time
# scale, and a clean stop on SIGTERM.
#
# Every port is chosen by the kernel (127.0.0.1:0); every wait is bounded;
# every process is stopped by its PID (helpers: ../testlib.sh). Needs curl
# and jq.
set -u
plcgw=$1
src=$2
ring="$src/config/s7/ringstiff.json"
wm="$src/config/modbus/watermaker.json"
. "$(dirname "$0")/../testlib.sh"
trap cleanup_started EXIT
require_tools sim_cli curl jq

# http METHOD PATH [BODY] : sets $status, $body, $ctype (control API)
http() {
  local m=$1 p=$2 b=${3-}
  local args=(-s -o "$tmp/body" -w '%{http_code} %{content_type}' --max-time 5 -X "$m")
  [ -n "$b" ] && args+=(-H 'Content-Type: application/json' --data-binary "$b")
  local r
  r=$(curl "${args[@]}" "http://127.0.0.1:$ctl$p")
  status=${r%% *}
  ctype=${r#* }
  body=$(cat "$tmp/body" 2>/dev/null)
}

# status_is NAME WANT METHOD PATH [BODY]
status_is() {
  local name=$1 want=$2
  shift 2
  http "$@"
  if [ "$status" = "$want" ]; then
    ok
  else
    bad "$name: $1 $2 gave $status, want $want: ${body:0:300}"
  fi
  if [ "$want" -ge 400 ]; then
    same "$name content type" "$ctype" "application/problem+json"
    same "$name problem status" "$(printf '%s' "$body" | jq -r .status 2>/dev/null)" "$want"
  fi
}

# start NAME ARGS... : runs plcgw sim ARGS in the background; waits up to
# 5 s for its READY control line; sets $started_pid
start() {
  local name=$1
  shift
  "$plcgw" sim "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 1 50); do
    grep -q '^READY control ' "$tmp/$name.out" && return 0
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.1
  done
  bad "$name: no READY control line within 5 s"
  sed 's/^/  /' "$tmp/$name.err" | head -20
  return 1
}

ready_port() { # NAME WHAT -> the port of "READY WHAT ..."
  grep -E "^READY $2 " "$tmp/$1.out" | grep -oE '[0-9]+$' | head -1
}

# read_value DRIVER_PORT MAP PARAMETER : one value through plcgw read
read_value() {
  timeout 10 "$plcgw" read --host 127.0.0.1 --port "$1" --config "$2" --json --timeout-ms 2000 \
    2>"$tmp/read.err" | jq -c --arg p "$3" '[.[] | select(.parameter == $p) | .value][0]'
}

# eventually NAME WANT CMD... : CMD's output becomes WANT within 3 s
eventually() {
  local name=$1 want=$2 got=""
  shift 2
  for _ in $(seq 1 30); do
    got=$("$@")
    [ "$got" = "$want" ] && break
    sleep 0.1
  done
  same "$name" "$got" "$want"
}

# ---------------------------------------------------------------- time scale
# A watermaker at time scale 100, started first and checked last: System
# Mode 5 runs 180 s of priming and 60 s of init (2.4 s real) to production.
if start fast --device watermaker --modbus 127.0.0.1:0 --control 127.0.0.1:0 --time-scale 100; then
  fast_pid=$started_pid
  fast_mb=$(ready_port fast modbus)
  fast_ctl=$(ready_port fast control)
  fast_t0=$(date +%s%N)
  expect "fast: start priming" 0 "$plcgw" write --host 127.0.0.1 --port "$fast_mb" --config "$wm" \
    --payload '{"System Mode": 5}'
else
  fast_pid=""
fi

# ---------------------------------------------------------------- start
if ! start sim --device ringstiff --device watermaker --s7 127.0.0.1:0 --modbus 127.0.0.1:0 \
  --control 127.0.0.1:0; then
  echo "sim_cli: $pass passed, $fail failed"
  exit 1
fi
sim_pid=$started_pid
s7=$(ready_port sim s7)
mb=$(ready_port sim modbus)
ctl=$(ready_port sim control)
C=(--control "127.0.0.1:$ctl")
check "READY s7" "$(cat "$tmp/sim.out")" '^READY s7 127\.0\.0\.1:[0-9]+$'
check "READY modbus" "$(cat "$tmp/sim.out")" '^READY modbus 127\.0\.0\.1:[0-9]+$'
check "READY control" "$(cat "$tmp/sim.out")" '^READY control http://127\.0\.0\.1:[0-9]+$'
same "three READY lines" "$(grep -c '^READY ' "$tmp/sim.out")" 3

# ---------------------------------------------------------------- GET /sim
status_is "GET /sim" 200 GET /sim
same "devices" "$(printf '%s' "$body" | jq -c '[.devices[].name]')" '["ringstiff","watermaker"]'
same "device types" "$(printf '%s' "$body" | jq -c '[.devices[].type]')" '["ringstiff","watermaker"]'
same "s7 started" "$(printf '%s' "$body" | jq -r .frontends.s7.state)" started
same "modbus started" "$(printf '%s' "$body" | jq -r .frontends.modbus.state)" started
same "s7 port" "$(printf '%s' "$body" | jq -r .frontends.s7.port)" "$s7"
same "modbus port" "$(printf '%s' "$body" | jq -r .frontends.modbus.port)" "$mb"
same "rig properties = map tags" "$(printf '%s' "$body" | jq '.devices[0].properties | length')" \
  "$(jq '.mapping | length' "$ring")"
same "rig binding" "$(printf '%s' "$body" |
  jq -r '.devices[0].properties[] | select(.name == "Actual_Force") | "\(.binding) \(.type) \(.access) \(.unit)"')" \
  "DB2.DBD0 REAL r kN"
same "rig I/Os" "$(printf '%s' "$body" | jq -c '[.devices[0].ios[].name]')" \
  '["load_cell_kN","position_mm","servo_fault","home_switch","servo_enabled","pipe_stiffness_kNm2"]'
status_is "GET /sim/devices" 200 GET /sim/devices
same "GET /sim/devices count" "$(printf '%s' "$body" | jq length)" 2

# ---------------------------------------------------------------- properties and I/Os
status_is "PUT property" 200 PUT /sim/devices/ringstiff/properties/Test_Status '{"value": 3}'
same "read Test_Status" "$(read_value "$s7" "$ring" Test_Status)" 3
status_is "GET property" 200 GET /sim/devices/ringstiff/properties/Test_Status
same "GET property value" "$(printf '%s' "$body" | jq .value)" 3
status_is "PUT I/O" 200 PUT /sim/devices/ringstiff/ios/load_cell_kN '{"value": 12.5}'
eventually "read Actual_Force" 12.5 read_value "$s7" "$ring" Actual_Force
status_is "GET I/O" 200 GET /sim/devices/ringstiff/ios/load_cell_kN
same "GET I/O value" "$(printf '%s' "$body" | jq .value)" 12.5
status_is "PUT modbus I/O" 200 PUT /sim/devices/watermaker/ios/water_temp_F '{"value": 72.5}'
eventually "read Water Temperature" 72.5 read_value "$mb" "$wm" "Water Temperature"
status_is "PUT encoded name" 200 PUT "/sim/devices/watermaker/properties/Product%20TDS%20%232" \
  '{"value": 321}'
same "read Product TDS #2" "$(read_value "$mb" "$wm" "Product TDS #2")" 321

# ---------------------------------------------------------------- faults
for f in drop refuse delay silent error corrupt; do
  status_is "POST fault $f" 200 POST /sim/faults \
    "{\"frontend\": \"all\", \"fault\": \"$f\", \"duration_ms\": 60000, \"delay_ms\": 10}"
  same "fault $f on both" "$(printf '%s' "$body" | jq .frontends)" 2
  status_is "GET faults ($f)" 200 GET /sim/faults
  same "fault $f listed" "$(printf '%s' "$body" |
    jq -r --arg f "$f" '[.s7.faults[$f].left_ms > 50000, .modbus.faults[$f].left_ms > 50000] | all')" true
  status_is "DELETE faults ($f)" 200 DELETE /sim/faults
  status_is "GET faults (cleared $f)" 200 GET /sim/faults
  same "fault $f cleared" "$(printf '%s' "$body" | jq -c '[.s7.faults, .modbus.faults]')" '[{},{}]'
done
# a fault as the gateway's client meets it, and after it is cleared
status_is "error fault" 200 POST /sim/faults '{"frontend": "modbus", "fault": "error", "duration_ms": 60000}'
expect "read under the error fault" 1 timeout 10 "$plcgw" read --host 127.0.0.1 --port "$mb" \
  --config "$wm" --timeout-ms 1000
check "exception 4 reported" "$err" 'exception 4, server device failure'
status_is "refuse fault" 200 POST /sim/faults '{"frontend": "s7", "fault": "refuse", "duration_ms": 60000}'
sleep 0.2
expect "read under the refuse fault" 1 "$plcgw" read --host 127.0.0.1 --port "$s7" --config "$ring" \
  --timeout-ms 1000
check "refused reported" "$err" 'refused'
status_is "clear" 200 DELETE /sim/faults
sleep 0.2
same "modbus after clear" "$(read_value "$mb" "$wm" "Product TDS #2")" 321
same "s7 after clear" "$(read_value "$s7" "$ring" Test_Status)" 3
# a fault that ends by itself
status_is "short silent" 200 POST /sim/faults '{"frontend": "s7", "fault": "silent", "duration_ms": 400}'
expect "read during silent" 1 "$plcgw" read --host 127.0.0.1 --port "$s7" --config "$ring" --timeout-ms 200
sleep 0.5
status_is "faults after expiry" 200 GET /sim/faults
same "silent expired" "$(printf '%s' "$body" | jq -c .s7.faults)" '{}'
same "s7 after silent" "$(read_value "$s7" "$ring" Test_Status)" 3

# ---------------------------------------------------------------- errors
status_is "unknown device" 404 GET /sim/devices/nope
status_is "unknown device PUT" 404 PUT /sim/devices/nope/properties/x '{"value": 1}'
status_is "unknown property" 404 GET /sim/devices/ringstiff/properties/Nope
status_is "unknown property PUT" 404 PUT /sim/devices/ringstiff/properties/Nope '{"value": 1}'
status_is "unknown I/O" 404 PUT /sim/devices/ringstiff/ios/nope '{"value": 1}'
status_is "unknown front-end" 404 POST /sim/frontends/profibus/stop
status_is "unknown route" 404 GET /sim/nothing
status_is "bad fault" 422 POST /sim/faults '{"fault": "explode", "duration_ms": 10}'
check "bad fault names the choices" "$body" 'drop, refuse, delay, silent, error, corrupt'
status_is "delay without delay_ms" 422 POST /sim/faults '{"fault": "delay", "duration_ms": 10}'
status_is "value above max" 422 PUT /sim/devices/ringstiff/properties/Deflection_Percent '{"value": 150}'
status_is "value of wrong type" 422 PUT /sim/devices/ringstiff/properties/Pipe_Diameter '{"value": "big"}'
status_is "I/O of wrong type" 422 PUT /sim/devices/ringstiff/ios/load_cell_kN '{"value": "big"}'
status_is "bad time scale" 422 PUT /sim/clock '{"time_scale": 0}'
status_is "malformed JSON property" 400 PUT /sim/devices/ringstiff/properties/Pipe_Diameter '{"value": '
status_is "malformed JSON fault" 400 POST /sim/faults '{fault}'
status_is "not an object" 400 PUT /sim/devices/ringstiff/ios/load_cell_kN '[1]'
status_is "no value" 400 PUT /sim/devices/ringstiff/ios/load_cell_kN '{"v": 1}'
status_is "wrong method" 405 DELETE /sim/devices/ringstiff/properties/Pipe_Diameter

# ---------------------------------------------------------------- plcgw sim COMMAND
expect "sim status" 0 "$plcgw" sim status "${C[@]}"
check "status clock" "$out" '"clock_ms": [0-9]+'
check "status front-end" "$out" '"state": "started"'
expect "sim devices" 0 "$plcgw" sim devices "${C[@]}"
check "devices ringstiff" "$out" '"name": "ringstiff"'
check "devices watermaker" "$out" '"name": "watermaker"'
expect "sim get" 0 "$plcgw" sim get ringstiff Test_Status "${C[@]}"
same "sim get value" "$(printf '%s' "$out" | jq .value)" 3
expect "sim set" 0 "$plcgw" sim set ringstiff Pipe_Diameter 250 "${C[@]}"
expect "sim get after set" 0 "$plcgw" sim get ringstiff Pipe_Diameter "${C[@]}"
same "sim set value" "$(printf '%s' "$out" | jq .value)" 250
same "sim set read by a client" "$(read_value "$s7" "$ring" Pipe_Diameter)" 250
expect "sim set spaced name" 0 "$plcgw" sim set watermaker "Product TDS #1" 17 "${C[@]}"
expect "sim io set" 0 "$plcgw" sim io ringstiff home_switch true "${C[@]}"
expect "sim io get" 0 "$plcgw" sim io ringstiff home_switch "${C[@]}"
same "sim io value" "$(printf '%s' "$out" | jq .value)" 1
eventually "At_Home read by a client" true read_value "$s7" "$ring" At_Home
expect "sim fault" 0 "$plcgw" sim fault delay --frontend modbus --duration-ms 60000 --delay-ms 20 "${C[@]}"
check "sim fault answer" "$out" '"fault": "delay"'
http GET /sim/faults
same "sim fault listed" "$(printf '%s' "$body" | jq -c '[.modbus.faults.delay.delay_ms, .s7.faults]')" '[20,{}]'
expect "sim clear-faults" 0 "$plcgw" sim clear-faults "${C[@]}"
check "sim clear-faults answer" "$out" '"cleared": true'
http GET /sim/faults
same "sim clear-faults cleared" "$(printf '%s' "$body" | jq -c .modbus.faults)" '{}'
expect "sim clock" 0 "$plcgw" sim clock "${C[@]}"
same "sim clock scale" "$(printf '%s' "$out" | jq .time_scale)" 1
expect "sim clock set" 0 "$plcgw" sim clock --time-scale 2 "${C[@]}"
same "sim clock set scale" "$(printf '%s' "$out" | jq .time_scale)" 2
expect "sim clock reset" 0 "$plcgw" sim clock --time-scale 1 "${C[@]}"
expect "sim frontend stop" 0 "$plcgw" sim frontend s7 stop "${C[@]}"
check "sim frontend stopped" "$out" '"state": "stopped"'
expect "read with s7 stopped" 1 "$plcgw" read --host 127.0.0.1 --port "$s7" --config "$ring" --timeout-ms 1000
check "read refused" "$err" 'refused'
expect "sim frontend start" 0 "$plcgw" sim frontend s7 start "${C[@]}"
check "sim frontend started" "$out" '"state": "started"'
same "read with s7 started again" "$(read_value "$s7" "$ring" Pipe_Diameter)" 250
# errors: exit 1 and the API's message
expect "sim get unknown device" 1 "$plcgw" sim get nope X "${C[@]}"
check "unknown device message" "$err" 'plcgw sim: no device "nope"'
expect "sim get unknown property" 1 "$plcgw" sim get ringstiff Nope "${C[@]}"
check "unknown property message" "$err" 'no property "Nope"'
expect "sim set above max" 1 "$plcgw" sim set ringstiff Deflection_Percent 150 "${C[@]}"
check "above max message" "$err" '100'
expect "sim io unknown" 1 "$plcgw" sim io ringstiff nope 1 "${C[@]}"
check "unknown I/O message" "$err" 'no I/O "nope"'
expect "sim fault unknown" 1 "$plcgw" sim fault explode "${C[@]}"
check "unknown fault message" "$err" '"fault" must be one of'
expect "sim fault delay without delay" 1 "$plcgw" sim fault delay --duration-ms 100 "${C[@]}"
check "delay without delay message" "$err" 'delay_ms'
expect "sim clock bad" 1 "$plcgw" sim clock --time-scale 0 "${C[@]}"
check "bad clock message" "$err" 'time_scale'
expect "sim frontend unknown" 1 "$plcgw" sim frontend profibus stop "${C[@]}"
expect "sim no simulator" 1 "$plcgw" sim status --control 127.0.0.1:1
check "no simulator message" "$err" 'control API 127\.0\.0\.1:1'
expect "sim without --control" 2 "$plcgw" sim status
check "without --control message" "$err" 'needs --control'
expect "sim get missing argument" 2 "$plcgw" sim get ringstiff "${C[@]}"

# ---------------------------------------------------------------- the write log
http GET /sim/writes
since=$(printf '%s' "$body" | jq 'length')
expect "plcgw write s7" 0 "$plcgw" write --host 127.0.0.1 --port "$s7" --config "$ring" \
  --payload '{"Pipe_Diameter": 321.5}'
expect "plcgw write modbus" 0 "$plcgw" write --host 127.0.0.1 --port "$mb" --config "$wm" \
  --payload '{"Control Command": 256}'
sleep 0.2
expect "sim writes" 0 "$plcgw" sim writes --since "$since" "${C[@]}"
same "writes count" "$(printf '%s' "$out" | jq length)" 2
same "write s7" "$(printf '%s' "$out" | jq -c '.[0] | [.device, .parameter, .address, .before, .after]')" \
  '["ringstiff","Pipe_Diameter","DB1.DBD0",250,321.5]'
same "write modbus" "$(printf '%s' "$out" | jq -c '.[1] | [.device, .parameter, .address, .before, .after]')" \
  '["watermaker","Control Command","40071",0,256]'
check "write client" "$(printf '%s' "$out" | jq -r '.[0].client')" '^127\.0\.0\.1:[0-9]+$'
same "write seq" "$(printf '%s' "$out" | jq -c '[.[].seq]')" "[$since,$((since + 1))]"
check "write times" "$(printf '%s' "$out" | jq -r '.[1].wall_ms >= .[0].wall_ms and .[0].sim_ms > 0')" true
expect "sim writes since" 0 "$plcgw" sim writes --since "$((since + 1))" "${C[@]}"
same "writes since count" "$(printf '%s' "$out" | jq length)" 1
status_is "GET writes" 200 GET "/sim/writes?since=$since"
same "GET writes count" "$(printf '%s' "$body" | jq length)" 2

# ---------------------------------------------------------------- a tag map as memory
if start mem --config "$ring" --s7 127.0.0.1:0 --control 127.0.0.1:0; then
  mem_s7=$(ready_port mem s7)
  same "map: no modbus READY" "$(grep -c '^READY modbus' "$tmp/mem.out")" 0
  saved_ctl=$ctl
  ctl=$(ready_port mem control)
  status_is "map: GET /sim" 200 GET /sim
  same "map: memory device" "$(printf '%s' "$body" | jq -c '[.devices[] | [.name, .type, .driver]]')" \
    '[["memory","memory","s7"]]'
  same "map: no modbus front-end" "$(printf '%s' "$body" | jq -c .frontends.modbus)" null
  expect "map: write" 0 "$plcgw" write --host 127.0.0.1 --port "$mem_s7" --config "$ring" \
    --payload '{"Jog_Velocity": 42.5, "Lock_Lower": true}'
  same "map: memory keeps it" "$(read_value "$mem_s7" "$ring" Jog_Velocity)" 42.5
  same "map: bit kept" "$(read_value "$mem_s7" "$ring" Lock_Lower)" true
  ctl=$saved_ctl
  stop_pid "$started_pid"
fi

# ---------------------------------------------------------------- start-up errors
expect "map without front-end" 2 "$plcgw" sim --config "$ring" --control 127.0.0.1:0
check "map without front-end message" "$err" 'needs --s7 or --modbus'
expect "unknown device type" 2 "$plcgw" sim --device robot --control 127.0.0.1:0
check "unknown device type message" "$err" "unknown device type 'robot'"
expect "port in use" 1 "$plcgw" sim --device ringstiff --s7 "127.0.0.1:$s7" --control 127.0.0.1:0
check "port in use message" "$err" "127\.0\.0\.1:$s7"

# ---------------------------------------------------------------- the fast one
if [ -n "$fast_pid" ]; then
  # 180 s + 60 s of simulated time are 2.4 s of real time at scale 100
  elapsed=$((($(date +%s%N) - fast_t0) / 1000000))
  [ "$elapsed" -lt 2800 ] && sleep "$(awk -v ms=$((2800 - elapsed)) 'BEGIN { print ms / 1000 }')"
  mode=$(timeout 10 "$plcgw" read --host 127.0.0.1 --port "$fast_mb" --config "$wm" --json 2>/dev/null |
    jq -c '[.[] | select(.parameter == "System Mode" or .parameter == "DTS Priming Timer" or
            .parameter == "DTS Initialize Timer") | .value]')
  same "fast: production after priming and init" "$mode" '[6553.5,6553.5,7]'
  clock=$(curl -s --max-time 5 "http://127.0.0.1:$fast_ctl/sim/clock")
  check "fast: simulated clock past 240 s" "$(printf '%s' "$clock" | jq '.clock_ms >= 240000 and .time_scale == 100')" true
  stop_pid "$fast_pid"
fi

# ---------------------------------------------------------------- SIGTERM
kill -TERM "$sim_pid"
for _ in $(seq 1 100); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sim_pid" 2>/dev/null; then
  bad "sim did not stop within 10 s of SIGTERM"
else
  wait "$sim_pid"
  same "sim exit status" "$?" 0
  check "sim stopping logged" "$(cat "$tmp/sim.err")" 'sim: stopping'
fi

echo "sim_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
