#!/usr/bin/env bash
# s7_cli.sh PLCGW SOURCE_DIR - the simulated S7 CPU's services as a user
# meets them: `plcgw s7` (our own client) against `plcgw sim` running the
# rig's PLC program, the simulator's control API watching. Identity from
# the config, run/stop stopping the rig's program (its crosshead stands
# still in STOP and moves again after a warm start; a cold start restores
# DB1's start values), the CPU clock on the simulation clock (time factor
# 20), blocks (list, info, upload, download as another number, delete),
# timers and counters, and a password that protects writes and control.
#
# Every port is chosen by the kernel; every wait is bounded; every process
# is stopped by its PID (helpers: testlib.sh). Needs curl and jq.
set -u
plcgw=$(realpath "$1")
src=$(realpath "$2")
. "$(dirname "$0")/testlib.sh"
trap cleanup_started EXIT
require_tools s7_cli curl jq

# start_sim NAME ARGS... : plcgw sim with the rig on 127.0.0.1:0; sets
# $s7 (port) and $ctl (control API base URL)
start_sim() {
  local name=$1
  shift
  "$plcgw" sim "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  s7="" ctl=""
  for _ in $(seq 1 100); do
    s7=$(grep -oE '^READY s7 127\.0\.0\.1:[0-9]+' "$tmp/$name.out" | grep -oE '[0-9]+$' || true)
    ctl=$(grep -oE '^READY control http://127\.0\.0\.1:[0-9]+' "$tmp/$name.out" | cut -d' ' -f3 || true)
    [ -n "$s7" ] && [ -n "$ctl" ] && return 0
    sleep 0.1
  done
  bad "$name: no READY within 10 s: $(cat "$tmp/$name.err")"
  echo "s7_cli: $pass passed, $fail failed"
  exit 1
}
prop() { curl -s --max-time 5 "$ctl/sim/devices/rig/properties/$1" | jq -r .value; }
cpu() { curl -s --max-time 5 "$ctl/sim" | jq -r .frontends.s7.cpu; }

# a gateway config: the rig simulated, the CPU's identity and blocks as config
cat >"$tmp/gw.json" <<JSON
{"machines": [{"id": "rig", "profile": "ringstiff", "driver": "s7",
               "simulate": true, "tags": "$src/config/s7/ringstiff.json"}],
 "simulator": {"time_scale": 20,
   "s7": {"order_code": "6ES7 215-1AG40-0XB0", "firmware": "V4.5.2",
          "module_name": "CPU 1215C DC/DC/DC", "serial": "S C-TEST0000042",
          "blocks": [{"type": "OB", "number": 1, "size": 512, "name": "Main", "author": "PLANT"},
                     {"type": "FB", "number": 10, "size": 2048, "name": "RigCtl", "family": "RIG"}]}}}
JSON
start_sim rig --config "$tmp/gw.json" --s7 127.0.0.1:0 --control 127.0.0.1:0
c=(--host 127.0.0.1 --port "$s7")

# ---------------------------------------------------------------- identity
expect "s7 info" 0 "$plcgw" s7 info "${c[@]}"
same "order code from the config" "$(jq -r .order_code <<<"$out")" "6ES7 215-1AG40-0XB0"
same "firmware from the config" "$(jq -r .firmware <<<"$out")" "V4.5.2"
same "module name from the config" "$(jq -r .module_name <<<"$out")" "CPU 1215C DC/DC/DC"
same "serial from the config" "$(jq -r .serial <<<"$out")" "S C-TEST0000042"
same "mode" "$(jq -r .state <<<"$out")" "run"
same "no password: protection level 1" "$(jq -r .protection.level <<<"$out")" "1"
expect "SZL 0x001C at PDU 240 (two parts)" 0 "$plcgw" s7 szl 0x001C "${c[@]}" --pdu 240
same "all 10 records" "$(jq -r '.records | length' <<<"$out")" "10"

# ---------------------------------------------------------------- run / stop
expect "prepare a test: enable, clamps" 0 "$plcgw" write --host 127.0.0.1 --port "$s7" \
  --config "$src/config/s7/ringstiff.json" \
  --payload '{"Enable": true, "Lock_Upper": true, "Lock_Lower": true, "Deflection_Percent": 30}'
sleep 0.3
expect "start the test" 0 "$plcgw" write --host 127.0.0.1 --port "$s7" \
  --config "$src/config/s7/ringstiff.json" --payload '{"Start_Test": true}'
running=""
for _ in $(seq 1 50); do [ "$(prop Test_Status)" = "1" ] && { running=1; break; }; sleep 0.1; done
same "the rig's program runs the test" "$running" "1"
expect "s7 stop" 0 "$plcgw" s7 stop "${c[@]}"
same "the simulator shows STOP" "$(cpu)" "stop"
expect "s7 state" 0 "$plcgw" s7 state "${c[@]}"
same "the CPU reports STOP" "$(jq -r .state <<<"$out")" "stop"
p1=$(prop Actual_Position)
sleep 0.5
p2=$(prop Actual_Position)
same "in STOP the crosshead stands (program not running)" "$p2" "$p1"
expect "a DB write in STOP" 0 "$plcgw" write --host 127.0.0.1 --port "$s7" \
  --config "$src/config/s7/ringstiff.json" --payload '{"Jog_Velocity": 33}'
same "DB writes work in STOP" "$(prop Jog_Velocity)" "33"
expect "s7 stop again" 1 "$plcgw" s7 stop "${c[@]}"
check "a second stop: the CPU says it is stopped" "$err" "stop|STOP"
expect "s7 hot-start" 0 "$plcgw" s7 hot-start "${c[@]}"
same "RUN again" "$(cpu)" "run"
moved=""
for _ in $(seq 1 50); do [ "$(prop Actual_Position)" != "$p2" ] && { moved=1; break; }; sleep 0.1; done
same "after the warm start the test goes on" "$moved" "1"
expect "s7 stop for a cold start" 0 "$plcgw" s7 stop "${c[@]}"
expect "set DB1 Pipe_Diameter in STOP" 0 "$plcgw" write --host 127.0.0.1 --port "$s7" \
  --config "$src/config/s7/ringstiff.json" --payload '{"Pipe_Diameter": 110}'
expect "s7 cold-start" 0 "$plcgw" s7 cold-start "${c[@]}"
restored=""
for _ in $(seq 1 50); do [ "$(prop Pipe_Diameter)" = "315" ] && { restored=1; break; }; sleep 0.1; done
same "a cold start restores DB1's start values" "$restored" "1"

# ---------------------------------------------------------------- clock
expect "s7 clock" 0 "$plcgw" s7 clock "${c[@]}"
t1=$(jq -r .epoch_ms <<<"$out")
sleep 1
expect "s7 clock a second later" 0 "$plcgw" s7 clock "${c[@]}"
t2=$(jq -r .epoch_ms <<<"$out")
d=$(( t2 - t1 ))
if [ "$d" -ge 15000 ] && [ "$d" -le 40000 ]; then ok; else bad "the CPU clock runs 20x (1 s real: $d ms)"; fi
expect "s7 clock --set" 0 "$plcgw" s7 clock --set 2030-01-02T03:04:05 "${c[@]}"
check "the clock was set" "$(jq -r .clock <<<"$out")" '^2030-01-02T03:0[4-5]'
expect "s7 clock --set of a date that does not exist" 2 "$plcgw" s7 clock --set 2030-02-30T00:00:00 "${c[@]}"

# ---------------------------------------------------------------- blocks
expect "s7 blocks" 0 "$plcgw" s7 blocks "${c[@]}"
same "OB, FB from the config; the rig's three DBs" "$(jq -c '[.OB, .FB, .FC, .DB]' <<<"$out")" "[1,1,0,3]"
expect "s7 blocks DB" 0 "$plcgw" s7 blocks DB "${c[@]}"
same "DB numbers" "$(jq -c . <<<"$out")" "[1,2,3]"
expect "s7 block-info FB 10" 0 "$plcgw" s7 block-info FB 10 "${c[@]}"
same "FB10's name" "$(jq -r .name <<<"$out")" "RigCtl"
same "FB10's family" "$(jq -r .family <<<"$out")" "RIG"
expect "s7 block-info DB 2" 0 "$plcgw" s7 block-info DB 2 "${c[@]}"
same "DB2's data size" "$(jq -r .mc7_size <<<"$out")" "26"
expect "s7 block-info DB 99 (no such block)" 1 "$plcgw" s7 block-info DB 99 "${c[@]}"
expect "s7 upload DB 1" 0 "$plcgw" s7 upload DB 1 "$tmp/db1.blk" "${c[@]}"
expect "s7 upload FB 10" 0 "$plcgw" s7 upload FB 10 "$tmp/fb10.blk" "${c[@]}"
# the same block as DB 7: the block number is bytes 6-7 of the MC7 header
python3 - "$tmp/db1.blk" "$tmp/db7.blk" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[6:8] = (7).to_bytes(2, 'big')
open(sys.argv[2], 'wb').write(b)
PY
expect "s7 download as DB 7" 0 "$plcgw" s7 download "$tmp/db7.blk" "${c[@]}"
expect "s7 blocks DB after the download" 0 "$plcgw" s7 blocks DB "${c[@]}"
same "DB7 is there" "$(jq -c . <<<"$out")" "[1,2,3,7]"
expect "read DB7 as DB1's map" 0 "$plcgw" read --host 127.0.0.1 --port "$s7" --json \
  --config <(sed 's/"DB1\./"DB7./g' "$src/config/s7/ringstiff.json" | jq '.mapping |= with_entries(select(.key | startswith("DB7")))')
check "DB7 holds DB1's bytes" "$(tr -d ' \n' <<<"$out")" '"parameter":"Pipe_Diameter","value":315'
expect "s7 delete DB 7" 0 "$plcgw" s7 delete DB 7 "${c[@]}"
expect "s7 block-info DB 7 after the delete" 1 "$plcgw" s7 block-info DB 7 "${c[@]}"
expect "s7 compress" 0 "$plcgw" s7 compress "${c[@]}"
expect "s7 copy-ram-to-rom in RUN is refused" 1 "$plcgw" s7 copy-ram-to-rom "${c[@]}"
check "the CPU's words" "$err" "0xD081"
expect "s7 stop for the copy" 0 "$plcgw" s7 stop "${c[@]}"
expect "s7 copy-ram-to-rom in STOP" 0 "$plcgw" s7 copy-ram-to-rom "${c[@]}"
expect "s7 hot-start after the copy" 0 "$plcgw" s7 hot-start "${c[@]}"

# ---------------------------------------------------------------- timers, counters
expect "s7 timers write" 0 "$plcgw" s7 timers 10 2 0x2123 0x1005 "${c[@]}"
expect "s7 timers read" 0 "$plcgw" s7 timers 9 3 "${c[@]}"
same "timers 9..11" "$(jq -c .values <<<"$out")" '["0x0000","0x2123","0x1005"]'
expect "s7 counters past the last" 1 "$plcgw" s7 counters 255 2 "${c[@]}"

# ---------------------------------------------------------------- password
start_sim pw --config "$src/config/s7/ringstiff.json" --s7 127.0.0.1:0 --control 127.0.0.1:0 \
  --s7-password s3cret
cp=(--host 127.0.0.1 --port "$s7")
expect "info without the password" 0 "$plcgw" s7 info "${cp[@]}"
same "protected: level 2" "$(jq -r .protection.level <<<"$out")" "2"
expect "a write without the password is refused" 1 "$plcgw" write --host 127.0.0.1 --port "$s7" \
  --config "$src/config/s7/ringstiff.json" --payload '{"Jog_Velocity": 44}'
expect "stop without the password is refused" 1 "$plcgw" s7 stop "${cp[@]}"
expect "a wrong password is refused" 1 "$plcgw" s7 state "${cp[@]}" --password nope
expect "stop with the password" 0 "$plcgw" s7 stop "${cp[@]}" --password s3cret
expect "info with the password" 0 "$plcgw" s7 info "${cp[@]}" --password s3cret
same "this session: level 1" "$(jq -r .protection.level <<<"$out")" "1"
expect "hot-start with the password" 0 "$plcgw" s7 hot-start "${cp[@]}" --password s3cret

echo "s7_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
