#!/usr/bin/env bash
# cli.sh PLCGW SOURCE_DIR - the command line as a user meets it: exit
# codes, usage on stderr, check-config's table and its file:line:column
# errors, write validation, and serve answering HTTP.
set -u
plcgw=$1
src=$2
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0

# expect NAME WANT_STATUS CMD... : runs CMD, keeps stdout/stderr in $out/$err
expect() {
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ "$got" -eq "$want" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $got, want $want"
    echo "  stdout: ${out:0:400}"
    echo "  stderr: ${err:0:400}"
  fi
}

# check NAME TEXT PATTERN : grep -E PATTERN in TEXT
check() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $1: no match for /$3/ in:"
    printf '%s\n' "$2" | head -20 | sed 's/^/  /'
  fi
}

expect "version" 0 "$plcgw" version
check "version text" "$out" '^plcgw [0-9]+\.[0-9]+\.[0-9]+$'
expect "help" 0 "$plcgw" --help
for sub in serve sim read write browse check-config "user add" "user disable" "user enable" \
           "user list" "token create" "token list" "token revoke" version; do
  check "help lists $sub" "$out" "^  $sub "
done
expect "no command" 2 "$plcgw"
check "no command usage" "$err" 'usage: plcgw <command>'
expect "unknown command" 2 "$plcgw" frobnicate
check "unknown command names it" "$err" "unknown command 'frobnicate'"
expect "help" 0 "$plcgw" --help
for cmd in serve sim read write check-config user token version; do
  expect "$cmd --help" 0 "$plcgw" $cmd --help
  check "$cmd --help usage" "$out" "usage: plcgw $cmd"
done
for cmd in serve sim read write check-config user token; do
  expect "$cmd unknown flag" 2 "$plcgw" $cmd --no-such-flag
  check "$cmd unknown flag message" "$err" "unknown option '--no-such-flag'"
  check "$cmd unknown flag usage" "$err" "usage: plcgw $cmd"
done
expect "read without host" 2 "$plcgw" read --config "$src/config/modbus/example.json"
check "read without host says so" "$err" '--host is required'
# S7CommPlus: argument errors (the end-to-end runs need its server)
expect "browse --help" 0 "$plcgw" browse --help
check "browse --help usage" "$out" 'usage: plcgw browse --host H'
expect "browse unknown flag" 2 "$plcgw" browse --no-such-flag
check "browse unknown flag message" "$err" "unknown option '--no-such-flag'"
expect "browse without host" 2 "$plcgw" browse --driver s7plus
check "browse without host says so" "$err" '--host is required'
expect "browse without driver" 2 "$plcgw" browse --host 127.0.0.1
check "browse without driver says so" "$err" '--driver s7plus is required'
expect "browse other driver" 2 "$plcgw" browse --host 127.0.0.1 --driver s7
check "browse other driver says so" "$err" '--driver must be s7plus'
expect "browse bad port" 2 "$plcgw" browse --host 127.0.0.1 --driver s7plus --port 0
expect "browse extra argument" 2 "$plcgw" browse --host 127.0.0.1 --driver s7plus DB1
expect "read bad driver" 2 "$plcgw" read --host 127.0.0.1 --driver s7comm \
  --config "$src/config/s7/ringstiff.json"
check "read bad driver names s7plus" "$err" 'must be s7, s7plus or modbus'
expect "read s7plus plan" 2 "$plcgw" read --host 127.0.0.1 --driver s7plus --plan \
  --config "$src/config/s7/ringstiff.json"
expect "read s7plus modbus map" 2 "$plcgw" read --host 127.0.0.1 --driver s7plus \
  --config "$src/config/modbus/example.json"
check "read s7plus modbus map says so" "$err" '--driver s7plus does not match'
expect "read s7plus bad forms" 2 "$plcgw" read --host 127.0.0.1 --driver s7plus \
  --config "$src/config/s7/ringstiff.json" --s7plus-forms lid_classic,bogus
check "bad forms named" "$err" "'bogus' is not a form"
expect "forms without s7plus" 2 "$plcgw" read --host 127.0.0.1 \
  --config "$src/config/s7/ringstiff.json" --s7plus-forms real
check "forms without s7plus says so" "$err" '--s7plus-forms goes with --driver s7plus'
expect "browse bad forms" 2 "$plcgw" browse --host 127.0.0.1 --driver s7plus --s7plus-forms x
expect "write s7plus without payload" 2 "$plcgw" write --host 127.0.0.1 --driver s7plus \
  --config "$src/config/s7/ringstiff.json"
expect "write s7plus bad payload" 2 "$plcgw" write --host 127.0.0.1 --driver s7plus \
  --config "$src/config/s7/ringstiff.json" --payload '{"No_Such_Tag": 1}'
expect "read s7plus refused" 1 "$plcgw" read --host 127.0.0.1 --port 1 --driver s7plus \
  --config "$src/config/s7/ringstiff.json" --timeout-ms 500
check "read s7plus refused says where" "$err" 'plc 127.0.0.1:1: '
expect "serve bad listen" 2 "$plcgw" serve --listen nowhere
check "serve bad listen says why" "$err" 'expected ADDR:PORT'
expect "sim bad time scale" 2 "$plcgw" sim --time-scale fast
expect "option missing value" 2 "$plcgw" serve --config
check "option missing value says so" "$err" "needs a value"

# check-config: the seed's example map and its table
expect "check example" 0 "$plcgw" check-config "$src/config/modbus/example.json"
check "example header" "$out" 'Modbus tag map, 11 tags, byteorder <, wordorder >'
check "example table head" "$out" '^ADDRESS +PARAMETER +TYPE +UNIT +ACCESS'
check "example byte half row" "$out" '30034/1 +TEST1 +decode_bits'
check "example scaled row" "$out" '40009 +Water_Setpoint.SP_r +decode_16bit_int +DegreesCelsius +rw'
check "example near-miss warning" "$err" 'example.json:109:7: warning: .*"defaultvalue".*'
expect "check ringstiff" 0 "$plcgw" check-config "$src/config/s7/ringstiff.json"
check "ringstiff bit row" "$out" 'DB3.DBX1.3 +Lock_Upper +bool'
expect "check watermaker" 0 "$plcgw" check-config "$src/config/modbus/watermaker.json"
expect "check demo" 0 "$plcgw" check-config "$src/config/demo.json"
check "demo machines" "$out" 'gateway config, listen 127.0.0.1:8000'
check "demo rig" "$out" 'rig +ringstiff +s7'

# broken files: every error as file:line:column, exit 2
printf '{\n  "mapping": {\n    "30011": {"parameter": "a", "function": "decode_32bit_flot"},\n    "29999": {"parameter": "b"}\n  }\n}\n' >"$tmp/bad.json"
expect "check broken map" 2 "$plcgw" check-config "$tmp/bad.json"
check "broken map function error" "$err" "bad.json:3:45: error: .*unknown function \"decode_32bit_flot\""
check "broken map key error" "$err" "bad.json:4:5: error: bad address key \"29999\""
# a rig's "app" settings: checked where they are written
mkdir -p "$tmp/appcfg/s7"
cp "$src/config/s7/ringstiff.json" "$tmp/appcfg/s7/"
cp -r "$src/config/modbus" "$tmp/appcfg/"
python3 - "$src/config/demo.json" "$tmp/appcfg/app.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["machines"][0]["app"] = {"specimen": {"material": "GRP"}, "tolerance_percent": 500,
                           "test_status": {"running": 1, "complete": 1}, "colour": 1}
c["machines"][1]["app"] = {"x": 1}
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
expect "check bad app settings" 2 "$plcgw" check-config "$tmp/appcfg/app.json"
check "app: GRP needs a wall" "$err" 'app.json:[0-9]+:[0-9]+: error: .*a GRP specimen needs "wall_thickness"'
check "app: range" "$err" 'app.json:[0-9]+:[0-9]+: error: .*tolerance_percent'
check "app: two codes" "$err" 'app.json:[0-9]+:[0-9]+: error: .*two states have the code 1'
check "app: unknown member" "$err" 'app.json:[0-9]+:[0-9]+: error: .*colour'
check "app: the watermaker's settings" "$err" 'app.json:[0-9]+:[0-9]+: error: .*machine "watermaker" app.*"x"'
printf '{"mapping": {"30011": {"parameter": "a",}}}' >"$tmp/syntax.json"
expect "check syntax error" 2 "$plcgw" check-config "$tmp/syntax.json"
check "syntax error position" "$err" "syntax.json:1:41: error: trailing comma"
expect "check missing file" 2 "$plcgw" check-config "$tmp/none.json"
check "missing file message" "$err" "none.json:1:1: error: cannot open"
printf '{"something": 1}' >"$tmp/neither.json"
expect "check neither" 2 "$plcgw" check-config "$tmp/neither.json"
check "neither message" "$err" "neither a tag map"
sed -e "s|\"s7/ringstiff.json\"|\"$src/config/s7/missing.json\"|" \
    -e "s|\"modbus/watermaker.json\"|\"$src/config/modbus/watermaker.json\"|" \
    "$src/config/demo.json" >"$tmp/demo.json"
expect "check config with bad map" 2 "$plcgw" check-config "$tmp/demo.json"
check "bad map named at tags" "$err" 'demo.json:[0-9]+:[0-9]+: error: machine "rig": tag map does not load'

# write: every value is checked before anything is sent
ex="$src/config/modbus/example.json"
expect "write bad payload json" 2 "$plcgw" write --host 127.0.0.1 --config "$ex" --payload '{"a":'
check "payload syntax position" "$err" '^--payload:1:[0-9]+: error:'
expect "write unknown parameter" 2 "$plcgw" write --host 127.0.0.1 --config "$ex" \
  --payload '{"Water_Setpoint.SP_r": 20, "nope": 1}'
check "unknown parameter named" "$err" 'unknown parameter "nope"'
check "nothing written" "$err" 'nothing was written'
expect "write read-only class" 2 "$plcgw" write --host 127.0.0.1 --config "$ex" \
  --payload '{"Oil Temp": 1.5}'
check "read-only class named" "$err" 'input register \(3xxxx\) and cannot be written'
expect "write above max" 2 "$plcgw" write --host 127.0.0.1 --config "$ex" \
  --payload '{"Water_Setpoint.SP_r": 60}'
check "max named" "$err" 'above its maximum 50'
expect "write wrong type" 2 "$plcgw" write --host 127.0.0.1 --config "$ex" \
  --payload '{"Water_Setpoint.SP_r": "warm"}'
check "type named" "$err" 'expects a number, got a string'

# accounts: users and API tokens in the database
db="$tmp/accounts.db"
expect "user add" 0 "$plcgw" user add ada --role admin --db "$db"
check "user add prints the password once" "$out" '^password \(shown once\): [A-Za-z0-9_-]{20}$'
expect "user add from stdin" 0 sh -c "echo 'op-pass-123' | '$plcgw' user add bob --role operator --password-stdin --db '$db'"
check "user add says the role" "$out" 'user bob added with role operator'
expect "user add twice" 2 "$plcgw" user add bob --role viewer --db "$db"
check "user exists named" "$err" 'user "bob" exists already'
expect "user add bad role" 2 "$plcgw" user add carl --role root --db "$db"
check "bad role named" "$err" "--role must be viewer, operator or admin, got 'root'"
expect "user add short password" 2 sh -c "echo short | '$plcgw' user add dora --role viewer --password-stdin --db '$db'"
check "short password named" "$err" 'at least 8 characters'
expect "token create" 0 "$plcgw" token create bob --label ci --db "$db"
check "token printed" "$out" '^plcgw_[A-Za-z0-9_-]{43}$'
token=$out
expect "token for nobody" 2 "$plcgw" token create nobody --db "$db"
check "token for nobody named" "$err" 'no user "nobody"'
# neither the token nor the password is anywhere in the database files
stored=$(cat "$db"* | grep -a -c -e "$token" -e 'op-pass-123' || true)
check "secrets not stored in the clear" "$stored" '^0$'
expect "token list" 0 "$plcgw" token list --db "$db"
check "token list shows id, user, state, label" "$out" '^1 +bob +valid +[0-9T:.Z-]+ +ci$'
check "token list never shows a token" "$(printf '%s' "$out" | grep -c plcgw_ || true)" '^0$'
expect "token revoke unknown" 2 "$plcgw" token revoke 99 --db "$db"
check "token revoke unknown named" "$err" 'no token 99'
expect "token revoke bad id" 2 "$plcgw" token revoke one --db "$db"
expect "user list" 0 "$plcgw" user list --db "$db"
check "user list" "$out" 'bob +operator +enabled'
expect "last admin stays" 2 "$plcgw" user disable ada --db "$db"
check "last admin named" "$err" '"ada" is the last admin'
expect "user disable unknown" 2 "$plcgw" user disable nobody --db "$db"
audit=$(sqlite3 "$db" "SELECT action || ' ' || \"values\" FROM audit_log ORDER BY id")
check "accounts audited" "$audit" 'user add \{"user": "ada", "role": "admin"\}'
check "tokens audited" "$audit" 'token create \{"user": "bob"\}'

# serve: answers HTTP on a free port, runs the simulated machines in-process
# (on free ports too: a copy of the demo config), stops on SIGTERM
# poll_for URL REGEX TRIES: GETs URL every 0.1 s until the answer matches
# (at most TRIES times); prints the last answer.
poll_for() {
  local out=""
  for _ in $(seq 1 "$3"); do
    out=$(curl -s --max-time 5 "$1")
    printf '%s' "$out" | grep -qE "$2" && break
    sleep 0.1
  done
  printf '%s' "$out"
}

# the gateway's database gets an operator and a viewer with tokens first
# (so no first-start admin); the demo config lets loopback read anonymously
echo 'op-pass-123' | "$plcgw" user add op --role operator --password-stdin --db "$tmp/serve.db" >/dev/null
echo 'view-pass-123' | "$plcgw" user add viewer --role viewer --password-stdin --db "$tmp/serve.db" >/dev/null
op_token=$("$plcgw" token create op --db "$tmp/serve.db")
viewer_token=$("$plcgw" token create viewer --db "$tmp/serve.db")
auth=(-H "Authorization: Bearer $op_token")
. "$src/tests/integration/demo_gateway.sh"
start_demo_gateway "$plcgw" "$src" "$tmp"
pid=$gw_pid
port=$gw_port
if [ -z "$port" ]; then
  fail=$((fail + 1))
  echo "FAIL serve did not start:"
  cat "$tmp/serve.err"
else
  health=$(curl -s --max-time 5 "http://127.0.0.1:$port/api/health")
  check "serve health" "$health" '"status":"ok"'
  machines=$(curl -s --max-time 5 "http://127.0.0.1:$port/api/machines")
  check "serve machines" "$machines" '"id":"rig".*"id":"watermaker"'
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/api/nothing")
  check "serve 404" "$code" '^404$'
  sim=$(curl -s --max-time 5 "http://127.0.0.1:$p_ctl/sim")
  check "serve runs the simulator" "$sim" '"name":"rig","type":"ringstiff".*"name":"watermaker"'
  mode=$("$plcgw" read --host 127.0.0.1 --port "$p_mb" --config "$src/config/modbus/watermaker.json" 2>&1)
  check "simulated watermaker answers" "$mode" 'System Mode +2 +Home/Standby'
  # the engine reads the simulated machines: live values, no PLC read per request
  tags=""
  tags=$(poll_for "http://127.0.0.1:$port/api/machines/watermaker/tags" '"connected":true' 50)
  check "engine: watermaker connected" "$tags" '"connected":true'
  check "engine: live value with quality" "$tags" '"parameter":"System Mode","value":2,"value_alt":"Home/Standby".*"quality":"good"'
  # a write through the engine: answered after the PLC confirmed it
  put=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X PUT "http://127.0.0.1:$port/api/machines/watermaker/tags" \
        -H 'Content-Type: application/json' -d '{"System Mode": 34}')
  check "PUT tags written" "$put" '"written":\["System Mode"\]\} 200$'
  tags=$(curl -s --max-time 5 "http://127.0.0.1:$port/api/machines/watermaker/tags")
  check "PUT tags visible at once" "$tags" '"parameter":"System Mode","value":34,"value_alt":"DTS Request"'
  bad=$(curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -X PUT "http://127.0.0.1:$port/api/machines/watermaker/tags" \
        -H 'Content-Type: application/json' -d '{"Feed Pressure": 3}')
  check "PUT read-only tag is 422" "$bad" 'read-only.* 422$'
  bad=$(curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -X PUT "http://127.0.0.1:$port/api/machines/watermaker/tags" \
        -H 'Content-Type: application/json' -d '{"System Mode": ')
  check "PUT malformed JSON is 400" "$bad" 'malformed JSON.* 400$'
  # who may do what: loopback reads anonymously (demo config), commands
  # need an operator's token
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/api/machines/rig/tags")
  check "auth: anonymous loopback read" "$code" '^200$'
  no=$(curl -s -D - --max-time 5 -X POST "http://127.0.0.1:$port/api/command/home" | tr -d '\r')
  check "auth: command without token is 401" "$no" '^HTTP/1.1 401'
  check "auth: 401 challenges" "$no" '^WWW-Authenticate: Bearer'
  check "auth: 401 says what to send" "$no" 'needs the operator role: send .*Authorization: Bearer TOKEN'
  no=$(curl -s -w ' %{http_code}' --max-time 5 -H "Authorization: Bearer $viewer_token" -X POST "http://127.0.0.1:$port/api/command/home")
  check "auth: viewer on a command is 403" "$no" 'needs the operator role; viewer is viewer.* 403$'
  no=$(curl -s -w ' %{http_code}' --max-time 5 -H "Authorization: Bearer plcgw_${op_token:6:10}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" -X POST "http://127.0.0.1:$port/api/command/home")
  check "auth: a wrong token is 401" "$no" 'unknown or revoked API token.* 401$'
  no=$(curl -s -w ' %{http_code}' --max-time 5 -H "Authorization: Basic b3A6b3A=" "http://127.0.0.1:$port/api/status")
  check "auth: other schemes are 401" "$no" 'only .*Bearer.* 401$'
  # a revoked token and a disabled user stop at once, on the running gateway
  spare=$("$plcgw" token create viewer --label spare --db "$tmp/serve.db")
  spare_id=$("$plcgw" token list viewer --db "$tmp/serve.db" | awk '$NF == "spare" {print $1}')
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $spare" "http://127.0.0.1:$port/api/status")
  check "auth: a new token works" "$code" '^200$'
  "$plcgw" token revoke "$spare_id" --db "$tmp/serve.db" >/dev/null
  no=$(curl -s -w ' %{http_code}' --max-time 5 -H "Authorization: Bearer $spare" "http://127.0.0.1:$port/api/status")
  check "auth: a revoked token is 401" "$no" 'unknown or revoked API token.* 401$'
  "$plcgw" user disable viewer --db "$tmp/serve.db" >/dev/null
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $viewer_token" "http://127.0.0.1:$port/api/status")
  check "auth: a disabled user's token is 401" "$code" '^401$'
  "$plcgw" user enable viewer --db "$tmp/serve.db" >/dev/null
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $viewer_token" "http://127.0.0.1:$port/api/status")
  check "auth: enabled again" "$code" '^200$'
  # browser login: a session cookie, then logout ends it; failures are
  # rate-limited per address
  login=$(curl -s -D - --max-time 10 -X POST "http://127.0.0.1:$port/api/auth/login" \
          -H 'Content-Type: application/json' -d '{"username": "op", "password": "op-pass-123"}' | tr -d '\r')
  check "login sets the cookie" "$login" '^Set-Cookie: plcgw_session=plcgw_[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$'
  check "login answers who" "$login" '"user":"op","role":"operator"'
  sid=$(printf '%s' "$login" | grep -oE 'plcgw_session=plcgw_[A-Za-z0-9_-]{43}' | cut -d= -f2)
  ok=$(curl -s -w ' %{http_code}' --max-time 10 -b "plcgw_session=$sid" -X POST "http://127.0.0.1:$port/api/command/home")
  check "session cookie commands" "$ok" '"written":\["Home"\]\} 200$'
  curl -s --max-time 5 -b "plcgw_session=$sid" -X POST "http://127.0.0.1:$port/api/auth/logout" >/dev/null
  no=$(curl -s -w ' %{http_code}' --max-time 5 -b "plcgw_session=$sid" -X POST "http://127.0.0.1:$port/api/command/home")
  check "logout ends the session" "$no" 'session ended or expired.* 401$'
  codes=""
  for _ in 1 2 3 4 5 6; do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$port/api/auth/login" -H 'Content-Type: application/json' -d '{"username": "op", "password": "wrong-pass"}')"
  done
  check "logins rate-limited" "$codes" '^ 401 401 401 401 401 429$'
  # the specifications' endpoints on the default machine (the rig)
  status=""
  status=$(poll_for "http://127.0.0.1:$port/api/status" '"connected":true' 50)
  check "seed status" "$status" '"actual_force":[-0-9.]+,.*"connected":true'
  stop=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/command/stop")
  check "seed stop" "$stop" '"written":\["Stop"\]\} 200$'
  # Stop is set, then released no sooner than 100 ms later, as bit writes
  pulse=""
  for _ in $(seq 1 30); do
    pulse=$(curl -s --max-time 5 "http://127.0.0.1:$p_ctl/sim/writes" | python3 -c '
import json, sys
w = [x for x in json.load(sys.stdin) if x["parameter"] == "Stop"]
if len(w) >= 2:
    print(w[0]["address"], w[0]["after"], w[1]["after"], w[1]["wall_ms"] - w[0]["wall_ms"] >= 100)')
    [ -n "$pulse" ] && break
    sleep 0.1
  done
  check "seed stop pulse" "$pulse" '^DB3.DBX0.4 True False True$'
  bad=$(curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/jog/speed" -H 'Content-Type: application/json' -d '{"velocity": "x"}')
  check "seed jog speed not a number" "$bad" 'must be a number.* 422$'
  ok=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/jog/speed" -H 'Content-Type: application/json' -d '{"velocity": 12.5}')
  check "seed jog speed" "$ok" '"written":\["Jog_Velocity"\]\} 200$'
  ok=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/parameters" \
       -H 'Content-Type: application/json' -d '{"diameter": 315, "pipe_length": 300}')
  check "seed set parameters" "$ok" '"written":\["Pipe_Diameter","Pipe_Length"\]\} 200$'
  params=$(curl -s --max-time 5 "http://127.0.0.1:$port/api/machines/rig/parameters")
  check "seed parameters read back" "$params" '"pipe_diameter":315(\.0)?,"pipe_length":300(\.0)?'
  bad=$(curl -s -w ' %{http_code}' --max-time 5 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/parameters" -H 'Content-Type: application/json' -d '{"colour": 1}')
  check "seed unknown parameter" "$bad" 'unknown parameter \\"colour\\".* 422$'
  bad=$(curl -s -w ' %{http_code}' --max-time 5 "http://127.0.0.1:$port/api/machines/watermaker/parameters")
  check "seed rig endpoint on the watermaker" "$bad" 'not a ring-stiffness rig.* 404$'
  mb=$(curl -s --max-time 5 "http://127.0.0.1:$port/modbus/read/watermaker")
  check "seed modbus read" "$mb" '"parameter":"System Mode","value":34'
  ok=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X PUT "http://127.0.0.1:$port/modbus/write/watermaker" -H 'Content-Type: application/json' -d '{"System Mode": 2}')
  check "seed modbus write" "$ok" '"written":\["System Mode"\]\} 200$'
  api=$(curl -s --max-time 5 "http://127.0.0.1:$port/openapi.json")
  check "seed routes documented" "$api" '"/api/command/stop":\{"post"'
  ready=$(curl -s -w ' %{http_code}' --max-time 5 "http://127.0.0.1:$port/api/ready")
  check "ready while both PLCs answer" "$ready" '^\{"ready":true,"machines":\[\{"id":"rig","connected":true\},\{"id":"watermaker","connected":true\}\]\} 200$'
  # the PLC drops off: reads say so, commands get 503 and change nothing,
  # and the gateway reconnects by itself once the PLC is back
  writes_before=$(curl -s --max-time 5 "http://127.0.0.1:$p_ctl/sim/writes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  curl -s --max-time 5 -X POST "http://127.0.0.1:$p_ctl/sim/faults" \
       -H 'Content-Type: application/json' -d '{"frontend": "s7", "fault": "drop", "duration_ms": 1500}' >/dev/null
  conn=""
  conn=$(poll_for "http://127.0.0.1:$port/api/status/connection" '"connected":false' 30)
  check "fault: connection lost" "$conn" '"connected":false.*"error":"plc 127.0.0.1:[0-9]+: '
  ready=$(curl -s -w ' %{http_code}' --max-time 5 "http://127.0.0.1:$port/api/ready")
  check "not ready: which PLC, and why for a viewer" "$ready" '"ready":false.*\{"id":"rig","connected":false,"error":"plc 127.0.0.1.* 503$'
  down=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/command/home")
  check "fault: command is 503" "$down" 'machine rig is not connected: plc .* 503$'
  down=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/command/start")
  check "fault: start is 409, the PLC disconnected" "$down" 'the test cannot start: the PLC is disconnected .* 409$'
  status=$(curl -s -w ' %{http_code}' --max-time 5 "http://127.0.0.1:$port/api/status")
  check "fault: status still answers" "$status" '"connected":false.* 200$'
  conn=$(poll_for "http://127.0.0.1:$port/api/status/connection" '"connected":true' 100)
  check "fault: reconnected" "$conn" '"connected":true.*"connects":[2-9]'
  writes_after=$(curl -s --max-time 5 "http://127.0.0.1:$p_ctl/sim/writes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  check "fault: the refused command wrote nothing" "$writes_after" "^$writes_before\$"
  up=$(curl -s -w ' %{http_code}' --max-time 10 "${auth[@]}" -X POST "http://127.0.0.1:$port/api/command/home")
  check "fault: commands work again" "$up" '"written":\["Home"\]\} 200$'
  audit=$(sqlite3 "$tmp/serve.db" "SELECT user_name || ' ' || role || ' ' || machine_id || ' ' || action || ' ' || \"values\" || ' ' || result FROM audit_log WHERE action LIKE '/%' ORDER BY id")
  check "audit: a command with who and values" "$audit" 'op operator rig /api/command/stop \{"Stop":true\} ok'
  check "audit: a refused command with why" "$audit" 'op operator rig /api/command/home \{"Home":true\} machine rig is not connected'
  check "audit: a refused start with why" "$audit" 'op operator rig /api/command/start \{"Start_Test":true\} the test cannot start: the PLC is disconnected'
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    fail=$((fail + 1))
    echo "FAIL serve did not stop within 10 s of SIGTERM"
  else
    wait "$pid"
    check "serve exit 0" "$?" '^0$'
    check "serve stopped" "$(cat "$tmp/serve.err")" 'main: stopped'
  fi
  pid=""
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
