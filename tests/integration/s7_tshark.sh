#!/usr/bin/env bash
# s7_tshark.sh PLCGW SOURCE_DIR - Wireshark's S7comm dissector as an
# independent judge of our frames: capture the loopback traffic of one
# `plcgw sim` while plcgw write / read / s7, node-snap7 and nodes7 talk to
# it, then require the S7COMM Setup, Read Var and Write Var jobs and their
# Ack_Data, the CPU's other services (SZL in parts, blocks, upload,
# download, PI services, stop, clock, timers), and no malformed packet or
# expert warning.
# Capturing needs root (or dumpcap's capabilities); a capture that cannot
# be made is a failure, with the reason printed. Helpers: testlib.sh (its
# own check and run).
set -u
plcgw=$(realpath "$1")
src=$(realpath "$2")
. "$(dirname "$0")/testlib.sh"
sim_pid=""
ts_pid=""
start_s=$SECONDS

cleanup() {
  stop_pid "$ts_pid" INT
  stop_pid "$sim_pid" TERM
  rm -rf "$tmp"
}
trap cleanup EXIT

finish() {
  echo "s7_tshark: $pass passed, $fail failed ($((SECONDS - start_s)) s)"
  [ "$fail" -eq 0 ]
  exit $?
}

# check NAME TEXT PATTERN : grep -E PATTERN in TEXT; its own (not
# testlib.sh's): the text goes under the FAIL line, 30 lines
check() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then ok; else bad "$1: no match for /$3/ in:" "$2"; fi
}
# check_count NAME TEXT OP N : number of non-empty lines of TEXT OP N (-eq, -ge)
check_count() {
  local n
  n=$(printf '%s' "$2" | grep -c . || true)
  if [ "$n" "$3" "$4" ]; then ok; else bad "$1: $n lines, want $3 $4" "$2"; fi
}
# run NAME WANT_STATUS CMD... : keeps stdout/stderr in $out/$err
run() {
  local name=$1 want=$2
  shift 2
  timeout 10 "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, want $want" "stdout: ${out:0:600}" "stderr: ${err:0:600}"; fi
}

if ! command -v tshark >/dev/null 2>&1; then
  bad "tshark is not installed (scripts/bootstrap installs it): cannot capture"
  finish
fi

# ---------------------------------------------------------------- our sim
"$plcgw" sim --config "$src/config/s7/ringstiff.json" --s7 127.0.0.1:0 >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -oE '^READY s7 127\.0\.0\.1:[0-9]+' "$tmp/sim.out" | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  bad "plcgw sim printed no READY within 10 s" "$(cat "$tmp/sim.err")"
  finish
fi

# ---------------------------------------------------------------- capture
cap="$tmp/s7.pcapng"
tshark -i lo -f "tcp port $port" -w "$cap" >"$tmp/ts.out" 2>"$tmp/ts.err" &
ts_pid=$!
for _ in $(seq 1 100); do
  grep -q "Capturing on" "$tmp/ts.err" && break
  kill -0 "$ts_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "Capturing on" "$tmp/ts.err"; then
  kill -0 "$ts_pid" 2>/dev/null || { wait "$ts_pid"; ts_pid=""; }
  bad "tshark could not capture on lo (user $(id -un), uid $(id -u); capturing needs root or dumpcap's capabilities)" \
      "$(cat "$tmp/ts.err")"
  finish
fi
# it is capturing once a probe connection to the sim shows in the file
size0=$(stat -c %s "$cap" 2>/dev/null || echo 0)
captured=""
for _ in $(seq 1 20); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  sleep 0.5
  size=$(stat -c %s "$cap" 2>/dev/null || echo 0)
  if [ "$size" -gt "$size0" ]; then captured=1; break; fi
done
if [ -z "$captured" ]; then
  bad "tshark started but wrote no packet of a probe connection within 10 s" "$(cat "$tmp/ts.err")"
  finish
fi
ok

# ---------------------------------------------------------------- traffic
map="$src/config/s7/ringstiff.json"
io=(--host 127.0.0.1 --port "$port" --config "$map")
run "plcgw write of 5 values (reals, a bit)" 0 "$plcgw" write "${io[@]}" \
  --payload '{"Pipe_Diameter": 110.5, "Pipe_Length": 300, "Max_Force": 25.25, "Enable": true, "Jog_Velocity": 12.5}'
run "plcgw write of one bit" 0 "$plcgw" write "${io[@]}" --payload '{"Lock_Upper": true}'
run "plcgw write of two bits of one byte" 0 "$plcgw" write "${io[@]}" \
  --payload '{"Jog_Forward": true, "Home": true}'
run "plcgw read of the ringstiff map" 0 "$plcgw" read "${io[@]}" --json
check "read values" "$(printf '%s' "$out" | tr -d ' \n')" \
  '"parameter":"Pipe_Diameter","value":110.5.*"parameter":"Max_Force","value":25.25.*"parameter":"Enable","value":true.*"parameter":"Jog_Forward","value":true.*"parameter":"Home","value":true.*"parameter":"Lock_Upper","value":true'
# a read with an item that fails (no DB9): error items on the wire
printf '{"mapping": {"DB1.DBD0": {"parameter": "a", "function": "real"}, "DB9.DBW0": {"parameter": "nodb", "function": "int"}, "DB3.DBX0.0": {"parameter": "en", "function": "bool"}}}' >"$tmp/err.json"
run "plcgw read with a tag in DB9 (absent)" 1 "$plcgw" read --host 127.0.0.1 --port "$port" \
  --config "$tmp/err.json" --json
check "DB9 tag named" "$err" 'nodb \(DB9\.DBW0\): object does not exist'
check "other tags printed" "$(printf '%s' "$out" | tr -d ' \n')" '"parameter":"a","value":110.5.*"parameter":"en","value":true'

# independent clients, if the npm peers are installed (scripts/bootstrap)
peers=0
if [ -d "$src/node_modules/node-snap7" ] && [ -d "$src/node_modules/nodes7" ] && command -v node >/dev/null; then
  peers=1
  cat >"$tmp/peers.js" <<'EOF'
const [src, port] = [process.argv[2], Number(process.argv[3])];
const snap7 = require(src + '/node_modules/node-snap7');
const nodes7 = require(src + '/node_modules/nodes7');
setTimeout(() => { console.log('peers: timed out'); process.exit(1); }, 9000).unref();
const c = new snap7.S7Client();
c.SetParam(c.RemotePort, port);
const P = (m, ...a) => new Promise((r) => c[m](...a, (e, d) => r([e, d])));
(async () => {
  let [e] = await P('ConnectTo', '127.0.0.1', 0, 1);
  if (e) throw new Error('snap7 connect: ' + c.ErrorText(e));
  [e] = await P('WriteArea', c.S7AreaDB, 3, 1 * 8 + 4, 1, c.S7WLBit, Buffer.from([1]));
  if (e) throw new Error('snap7 bit write: ' + c.ErrorText(e));
  const [e2, mv] = await P('ReadMultiVars', [
    { Area: c.S7AreaDB, WordLen: c.S7WLReal, DBNumber: 1, Start: 0, Amount: 2 },
    { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 9, Start: 0, Amount: 2 },
    { Area: c.S7AreaDB, WordLen: c.S7WLBit, DBNumber: 3, Start: 12, Amount: 1 },
    { Area: c.S7AreaDB, WordLen: c.S7WLByte, DBNumber: 3, Start: 0, Amount: 3 }]);
  if (e2) throw new Error('snap7 multi read: ' + c.ErrorText(e2));
  const [e3, st] = await P('PlcStatus');
  const [e4, oc] = await P('GetOrderCode');
  console.log(`snap7: ${mv.map((x) => x.Result).join(',')} status ${st} order ${oc && oc.Code.trim()} ${e3 || e4 || ''}`);
  c.Disconnect();
  const conn = new nodes7({ silent: true });
  await new Promise((res, rej) => conn.initiateConnection({ port, host: '127.0.0.1', rack: 0, slot: 1, timeout: 3000 },
    (err) => (err ? rej(err) : res())));
  const tags = { A: 'DB1,REAL0', B: 'DB2,INT20', X: 'DB3,X1.4', R: 'DB3,REAL2' };
  conn.setTranslationCB((t) => tags[t]);
  await new Promise((res) => conn.writeItems(['B', 'X'], [-77, false], res));
  conn.addItems(Object.keys(tags));
  const v = await new Promise((res) => conn.readAllItems((bad, vals) => res(vals)));
  console.log(`nodes7: ${JSON.stringify(v)}`);
  conn.dropConnection(() => process.exit(0));
})().catch((err) => { console.log('peers: ' + err.message); process.exit(1); });
EOF
  run "node-snap7 and nodes7 traffic" 0 node "$tmp/peers.js" "$src" "$port"
  check "snap7 answers" "$out" 'snap7: 0,[0-9]+,0,0 status 8 order 6ES7 214-1AG40-0XB0'
  check "nodes7 answers" "$out" 'nodes7: \{"A":110.5,"B":-77,"X":false,"R":12.5\}'
else
  echo "note: npm peers not installed; capturing plcgw traffic only"
fi

# the CPU's services beyond data access (docs/s7comm.md 11, 14-17), with
# our own client: SZL in parts at PDU 240, block functions, upload and
# download (the CPU's own Download Block jobs), PI services, stop/start,
# clock, timers
s7c=(--host 127.0.0.1 --port "$port")
run "plcgw s7 info" 0 "$plcgw" s7 info "${s7c[@]}"
run "plcgw s7 szl 0x001C at PDU 240 (in parts)" 0 "$plcgw" s7 szl 0x001C "${s7c[@]}" --pdu 240
run "plcgw s7 blocks" 0 "$plcgw" s7 blocks "${s7c[@]}"
run "plcgw s7 blocks DB" 0 "$plcgw" s7 blocks DB "${s7c[@]}"
run "plcgw s7 block-info DB 2" 0 "$plcgw" s7 block-info DB 2 "${s7c[@]}"
run "plcgw s7 upload DB 2 at PDU 240" 0 "$plcgw" s7 upload DB 2 "$tmp/db2.blk" "${s7c[@]}" --pdu 240
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[6:8] = (12).to_bytes(2, "big"); open(sys.argv[2], "wb").write(b)' \
  "$tmp/db2.blk" "$tmp/db12.blk"
run "plcgw s7 download as DB 12" 0 "$plcgw" s7 download "$tmp/db12.blk" "${s7c[@]}"
run "plcgw s7 delete DB 12" 0 "$plcgw" s7 delete DB 12 "${s7c[@]}"
run "plcgw s7 block-info DB 12 (deleted)" 1 "$plcgw" s7 block-info DB 12 "${s7c[@]}"
run "plcgw s7 clock" 0 "$plcgw" s7 clock "${s7c[@]}"
run "plcgw s7 clock --set" 0 "$plcgw" s7 clock --set 2031-05-06T07:08:09 "${s7c[@]}"
run "plcgw s7 timers" 0 "$plcgw" s7 timers 3 2 0x1234 0x0042 "${s7c[@]}"
run "plcgw s7 stop" 0 "$plcgw" s7 stop "${s7c[@]}"
run "plcgw s7 stop when stopped" 1 "$plcgw" s7 stop "${s7c[@]}"
run "plcgw s7 copy-ram-to-rom" 0 "$plcgw" s7 copy-ram-to-rom "${s7c[@]}"
run "plcgw s7 cold-start" 0 "$plcgw" s7 cold-start "${s7c[@]}"
run "plcgw s7 compress" 0 "$plcgw" s7 compress "${s7c[@]}"

# let the last packets reach the file, then stop tshark with SIGINT
sleep 0.5
stop_pid "$ts_pid" INT
ts_pid=""
if [ ! -s "$cap" ]; then
  bad "no capture file" "$(cat "$tmp/ts.err")"
  finish
fi

# S7_TSHARK_KEEP=FILE keeps the capture for a look with Wireshark
[ -n "${S7_TSHARK_KEEP:-}" ] && cp "$cap" "$S7_TSHARK_KEEP" && echo "note: capture kept in $S7_TSHARK_KEEP (TPKT on tcp port $port)"

# ---------------------------------------------------------------- verdict
ts() { tshark -r "$cap" -d "tcp.port==$port,tpkt" "$@" 2>/dev/null; }
summary=$(ts -Y s7comm)
check "Setup communication job" "$summary" 'ROSCTR:\[Job +\] Function:\[Setup communication\]'
check "Setup communication ack_data" "$summary" 'ROSCTR:\[Ack_Data\] Function:\[Setup communication\]'
check "Read Var job" "$summary" 'ROSCTR:\[Job +\] Function:\[Read Var\]'
check "Read Var ack_data" "$summary" 'ROSCTR:\[Ack_Data\] Function:\[Read Var\]'
check "Write Var job" "$summary" 'ROSCTR:\[Job +\] Function:\[Write Var\]'
check "Write Var ack_data" "$summary" 'ROSCTR:\[Ack_Data\] Function:\[Write Var\]'
check_count "COTP connection requests" "$(ts -Y 'cotp.type == 0x0e')" -ge 5
check_count "COTP connection confirms with TPDU size and both TSAPs" \
  "$(ts -Y 'cotp.type == 0x0d && cotp.tpdu_size && cotp.src-tsap && cotp.dst-tsap')" -ge 5
# every setup request answered; every job answered with the same PDU reference
jobs=$(ts -Y 's7comm.header.rosctr == 1' -T fields -e s7comm.header.pduref -e s7comm.param.func | sort)
check_count "S7 jobs captured" "$jobs" -ge 10
acks=$(ts -Y 's7comm.header.rosctr == 3' -T fields -e s7comm.header.pduref -e s7comm.param.func | sort)
if [ "$(printf '%s' "$jobs" | wc -l)" -eq "$(printf '%s' "$acks" | wc -l)" ]; then ok; else
  bad "every job has an ack_data" "jobs:" "$jobs" "acks:" "$acks"; fi
# a bit written with transport size BIT (0x01) and data transport size BIT (0x03)
check_count "Write Var items with transport size BIT" \
  "$(ts -Y 's7comm.param.func == 0x05 && s7comm.header.rosctr == 1 && s7comm.param.item.transp_size == 1')" -ge 3
check_count "Read Var ack_data with item error 0x0a (DB9)" \
  "$(ts -Y 's7comm.header.rosctr == 3 && s7comm.param.func == 0x04 && s7comm.data.returncode == 0x0a')" -ge 1
check_count "Read Var ack_data with successful items" \
  "$(ts -Y 's7comm.header.rosctr == 3 && s7comm.param.func == 0x04 && s7comm.data.returncode == 0xff')" -ge 3
if [ "$peers" -eq 1 ]; then
  check_count "SZL reads (userdata) answered" "$(ts -Y 's7comm.header.rosctr == 7 && s7comm.param.userdata.type == 8 && s7comm.param.userdata.funcgroup == 4')" -ge 2
fi
for fn in "PI-Service" "PLC Stop" "Start upload" "Upload" "End upload" "Request download" \
          "Download block" "Download ended"; do
  check "$fn job and its ack_data" "$summary" "ROSCTR:\[Job +\] Function:\[$fn\]"
  check "$fn ack_data" "$summary" "ROSCTR:\[Ack_Data\] Function:\[$fn\]"
done
ud='s7comm.header.rosctr == 7 && s7comm.param.userdata.type == 8'
check_count "block functions (userdata group 3) answered" "$(ts -Y "$ud && s7comm.param.userdata.funcgroup == 3")" -ge 3
check_count "time functions (userdata group 7) answered" "$(ts -Y "$ud && s7comm.param.userdata.funcgroup == 7")" -ge 2
check_count "an SZL answer in parts (last data unit: no)" \
  "$(ts -Y "$ud && s7comm.param.userdata.funcgroup == 4 && s7comm.param.userdata.lastdataunit == 0x01")" -ge 1
check_count "Read Var of timers (transport size TIMER)" \
  "$(ts -Y 's7comm.header.rosctr == 1 && s7comm.param.item.transp_size == 0x1d')" -ge 1
# every TCP payload is TPKT, nothing malformed, no expert warning or error
check_count "TCP payloads that are not TPKT" "$(ts -Y 'tcp.len > 0 && !tpkt')" -eq 0
# (TCP resets are looked at separately below)
filter='_ws.malformed || (_ws.expert.severity >= warning && !tcp.flags.reset)'
problems=$(ts -Y "$filter")
if [ -z "$problems" ]; then ok; else
  bad "malformed packets or expert warnings/errors in the capture" "$problems" \
      "$(ts -Y "$filter" -T fields -e frame.number -e _ws.expert.message | head -30)"
fi
check_count "malformed TPKT/COTP/S7COMM packets" "$(ts -Y '_ws.malformed')" -eq 0
# every connection ends in order (FIN), none with a reset: Wireshark flags a
# RST as an expert warning
resets=$(ts -Y 'tcp.flags.reset == 1')
if [ -z "$resets" ]; then ok; else
  bad "TCP connections closed with a reset (Wireshark: expert warning \"Connection reset (RST)\"); the end of each:" \
      "$(ts -Y "cotp.type == 0x08 || cotp.type == 0x0c || tcp.flags.fin == 1 || tcp.flags.reset == 1" | \
         sed -E 's/ +/ /g' | cut -c1-110 | head -12)"
fi
notes=$(ts -Y '_ws.expert' -T fields -e _ws.expert.message | sort | uniq -c)
[ -n "$notes" ] && printf 'note: expert notes/chats in the capture:\n%s\n' "$notes"
total=$(ts -Y s7comm | wc -l)
echo "note: $total S7COMM packets captured on port $port"

finish
