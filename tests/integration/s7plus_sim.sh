#!/usr/bin/env bash
# s7plus_sim.sh PLCGW SOURCE_DIR - the simulator's S7CommPlus front-end as
# a client meets it: raw S7CommPlus V1 requests (s7plus_raw.py: stdlib
# sockets, no client library of ours) against `plcgw sim --s7plus`, the
# control API watching. The S5 session (CreateObject, the attribute-306
# echo, absolute read and write, Explore listing DB1-DB3 with the tag map's
# parameter names), the write seen by the control API and the write log,
# --s7 and --s7plus serving one memory (a write over one read over the
# other, `plcgw read` for S7comm), the front-end stopped and started, and
# a fault. Ports chosen by the kernel, bounded waits, processes stopped by
# their PIDs (testlib.sh), only 127.0.0.1. Needs python3, curl and jq.
set -u
plcgw=$(realpath "$1")
src=$(realpath "$2")
. "$(dirname "$0")/testlib.sh"
trap cleanup_started EXIT
require_tools s7plus_sim curl jq /usr/bin/python3
raw() { timeout 15 /usr/bin/python3 "$src/tests/integration/s7plus_raw.py" "$@"; }
map="$src/config/s7/ringstiff.json"

# start_sim NAME ARGS... : sets $sp (S7CommPlus port), $s7 (S7 port or
# ""), $ctl (control API URL)
start_sim() {
  local name=$1
  shift
  (cd "$src" && exec "$plcgw" sim "$@") >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  sp="" ctl=""
  for _ in $(seq 1 100); do
    sp=$(grep -oE '^READY s7plus 127\.0\.0\.1:[0-9]+' "$tmp/$name.out" | grep -oE '[0-9]+$' || true)
    ctl=$(grep -oE '^READY control http://127\.0\.0\.1:[0-9]+' "$tmp/$name.out" | cut -d' ' -f3 || true)
    [ -n "$sp" ] && [ -n "$ctl" ] && break
    sleep 0.1
  done
  s7=$(grep -oE '^READY s7 127\.0\.0\.1:[0-9]+' "$tmp/$name.out" | grep -oE '[0-9]+$' || true)
  if [ -z "$sp" ] || [ -z "$ctl" ]; then
    bad "$name: no READY within 10 s: $(cat "$tmp/$name.err")"
    echo "s7plus_sim: $pass passed, $fail failed"
    exit 1
  fi
}
# f32 HEX : the big-endian float as a number
f32() { /usr/bin/python3 -c "import struct,sys; print(struct.unpack('>f', bytes.fromhex(sys.argv[1]))[0])" "$1"; }
hexf() { /usr/bin/python3 -c "import struct,sys; print(struct.pack('>f', float(sys.argv[1])).hex())" "$1"; }

# ---------------------------------------------------------------- a map as memory, S7CommPlus alone
start_sim map --config "$map" --s7plus 127.0.0.1:0 --control 127.0.0.1:0
same "no S7comm listener with --s7plus alone" "$s7" ""
sim=$(curl -s --max-time 5 "$ctl/sim")
same "GET /sim: s7plus started" "$(jq -r .frontends.s7plus.state <<<"$sim")" "started"
same "GET /sim: s7plus port" "$(jq -r .frontends.s7plus.port <<<"$sim")" "$sp"
same "GET /sim: s7 not served" "$(jq -r .frontends.s7 <<<"$sim")" "null"

out=$(raw "$sp" session)
check "session: CreateObject gives a session id" "$out" '"session": [1-9]'
same "session: the setup answer (S5.4)" "$(jq -r .setup <<<"$out")" "000000"

# write Pipe_Diameter (DB1.DBD0) = 250.5 over S7CommPlus
out=$(raw "$sp" write 1 0 "$(hexf 250.5)")
same "write DB1.0: no item error" "$(jq -c .errors <<<"$out")" "[]"
same "control API shows the write" \
  "$(curl -s --max-time 5 "$ctl/sim/devices/memory/properties/Pipe_Diameter" | jq -r .value)" "250.5"
w=$(curl -s --max-time 5 "$ctl/sim/writes")
same "write log: parameter" "$(jq -r '.[-1].parameter' <<<"$w")" "Pipe_Diameter"
same "write log: after" "$(jq -r '.[-1].after' <<<"$w")" "250.5"
check "write log: an S7CommPlus client" "$(jq -r '.[-1].client' <<<"$w")" '^127\.0\.0\.1:[0-9]+$'

# read it back, and a value the control API sets
out=$(raw "$sp" read 1 0 4)
same "read DB1.0" "$(f32 "$(jq -r .hex <<<"$out")")" "250.5"
curl -s --max-time 5 -X PUT -d '{"value": 42.25}' "$ctl/sim/devices/memory/properties/Max_Force" >/dev/null
out=$(raw "$sp" read 1 20 4)
same "read DB1.20 (Max_Force set by the control API)" "$(f32 "$(jq -r .hex <<<"$out")")" "42.25"
out=$(raw "$sp" read 9 0 4)
same "read DB9: py7's missing-DB error 0x8104" "$(jq -c .errors <<<"$out")" '[{"item":1,"code":33028}]'
out=$(raw "$sp" read 3 8 4)
same "read past the end of DB3: an error" "$(jq -r '.errors[0].code' <<<"$out")" "33029"

# Explore: DB1-DB3 with the map's parameter names, in map order
out=$(raw "$sp" explore)
same "explore: DBs" "$(jq -c '[.[].name]' <<<"$out")" '["DB1","DB2","DB3"]'
for n in 1 2 3; do
  want=$(jq -c --arg p "DB$n." '[.mapping | to_entries[] | select(.key | startswith($p)) | .value.parameter]' "$map")
  same "explore: DB$n names" "$(jq -c ".[$((n - 1))].vars" <<<"$out")" "$want"
done

# stop and start through the control API
r=$(curl -s --max-time 5 -X POST "$ctl/sim/frontends/s7plus/stop")
same "stop: state" "$(jq -r .state <<<"$r")" "stopped"
if raw "$sp" cr >/dev/null 2>&1; then bad "stopped front-end still answers"; else ok; fi
r=$(curl -s --max-time 5 -X POST "$ctl/sim/frontends/s7plus/start")
same "start: state" "$(jq -r .state <<<"$r")" "started"
check "started again: a session" "$(raw "$sp" session)" '"session": [1-9]'

# a fault, as for the other front-ends: ERROR answers a CR with a DR
r=$(curl -s --max-time 5 -X POST -d '{"frontend": "s7plus", "fault": "error", "duration_ms": 3000}' "$ctl/sim/faults")
same "fault applied" "$(jq -r .frontends <<<"$r")" "1"
same "ERROR fault: CR answered by a DR" "$(raw "$sp" cr | jq -r .tpdu)" "80"
curl -s --max-time 5 -X DELETE "$ctl/sim/faults" >/dev/null
same "fault cleared: CC" "$(raw "$sp" cr | jq -r .tpdu)" "d0"
stop_pid "${pids[0]}"

# ---------------------------------------------------------------- S7comm and S7CommPlus on one memory
start_sim both --device ringstiff --s7 127.0.0.1:0 --s7plus 127.0.0.1:0 --control 127.0.0.1:0
check "both: READY s7" "$s7" '^[0-9]+$'
out=$(raw "$sp" read 1 0 4)
same "the rig's Pipe_Diameter over S7CommPlus" "$(f32 "$(jq -r .hex <<<"$out")")" "315.0"
out=$(raw "$sp" write 1 4 "$(hexf 1234.5)")
same "write Pipe_Length over S7CommPlus" "$(jq -c .errors <<<"$out")" "[]"
expect "plcgw read over S7comm" 0 "$plcgw" read --config "$map" --host 127.0.0.1 --port "$s7" --json
same "S7comm reads the S7CommPlus write" \
  "$(jq -r '.[] | select(.parameter == "Pipe_Length") | .value' <<<"$out")" "1234.5"
expect "plcgw write over S7comm" 0 "$plcgw" write --config "$map" --host 127.0.0.1 --port "$s7" \
  --payload '{"Max_Stroke": 77.5}'
out=$(raw "$sp" read 1 16 4)
same "S7CommPlus reads the S7comm write" "$(f32 "$(jq -r .hex <<<"$out")")" "77.5"

# our own client as a user runs it: browse, read and write the rig's map
# over S7CommPlus (the engine's s7plus driver uses the same client)
sp_c=(--host 127.0.0.1 --port "$sp" --driver s7plus)
expect "plcgw browse" 0 "$plcgw" browse "${sp_c[@]}"
check "browse lists DB1 with its variables" "$out" 'DB1 +DB1 +24 bytes +6 variables'
check "browse names DB3's Lock_Upper" "$out" 'Lock_Upper'
expect "plcgw browse --json" 0 "$plcgw" browse "${sp_c[@]}" --json
same "browse --json: the DB numbers" "$(jq -c '[.[].number]' <<<"$out")" "[1,2,3]"
same "browse --json: DB2's variables" "$(jq -c '[.[1].variables[].name][0:3]' <<<"$out")" \
  '["Actual_Force","Actual_Deflection","Target_Deflection"]'
same "browse --json: DB3's size" "$(jq -r '.[2].size' <<<"$out")" "10"
expect "plcgw read --driver s7plus" 0 "$plcgw" read "${sp_c[@]}" --config "$map" --json
same "read: Max_Stroke (written over S7comm)" \
  "$(jq -r '.[] | select(.parameter == "Max_Stroke") | .value' <<<"$out")" "77.5"
expect "plcgw write --driver s7plus (a real, two bits of one byte)" 0 "$plcgw" write "${sp_c[@]}" \
  --config "$map" --payload '{"Max_Force": 21.25, "Lock_Upper": true, "Lock_Lower": true}'
expect "plcgw read over S7comm after it" 0 "$plcgw" read --config "$map" --host 127.0.0.1 --port "$s7" --json
same "S7comm reads the S7CommPlus client's writes" \
  "$(jq -c '[.[] | select(.parameter == "Max_Force" or .parameter == "Lock_Upper" or .parameter == "Lock_Lower") | .value]' <<<"$out")" \
  '[21.25,true,true]'
stop_pid "${pids[1]}"

# the real CPUs' forms on both sides; a client in the other forms is refused
start_sim real --device ringstiff --s7plus 127.0.0.1:0 --s7plus-forms real --control 127.0.0.1:0
sp_r=(--host 127.0.0.1 --port "$sp" --driver s7plus --s7plus-forms real)
expect "real forms: browse" 0 "$plcgw" browse "${sp_r[@]}" --json
same "real forms: the DB numbers" "$(jq -c '[.[].number]' <<<"$out")" "[1,2,3]"
expect "real forms: write" 0 "$plcgw" write "${sp_r[@]}" --config "$map" --payload '{"Pipe_Length": 450}'
expect "real forms: read" 0 "$plcgw" read "${sp_r[@]}" --config "$map" --json
same "real forms: Pipe_Length" "$(jq -r '.[] | select(.parameter == "Pipe_Length") | .value' <<<"$out")" "450"
expect "python-snap7's forms against a real-form server: refused" 1 "$plcgw" read \
  --host 127.0.0.1 --port "$sp" --driver s7plus --config "$map"
check "it says what did not parse" "$err" 'malformed'
stop_pid "${pids[2]}"

echo "s7plus_sim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
