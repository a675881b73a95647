# demo_gateway.sh - sourced: start_demo_gateway PLCGW SRC TMP starts
# `plcgw serve` on the demo config with every port moved to a free loopback
# one (a copy in TMP), and waits up to 10 s for it to listen. Sets gw_pid,
# gw_port (empty when it did not start: see TMP/serve.err), p_s7, p_mb and
# p_ctl (the simulator's control API). The caller stops gw_pid (stop_pid).
# DEMO_CONFIG_PATCH='{"live": {...}}' changes top-level members of the copy;
# DEMO_RIG_DRIVER=s7plus switches the rig to S7CommPlus (its simulator
# serves it on the S7CommPlus front-end; rig_frontend names it for faults).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_demo_gateway() {
  local plcgw=$1 src=$2 tmp=$3
  p_s7=$(free_port); p_mb=$(free_port); p_ctl=$(free_port)
  sed -e "s|\"s7/ringstiff.json\"|\"$src/config/s7/ringstiff.json\"|" \
      -e "s|\"modbus/watermaker.json\"|\"$src/config/modbus/watermaker.json\"|" \
      -e "s|\"port\": 11102|\"port\": $p_s7|" -e "s|\"port\": 11502|\"port\": $p_mb|" \
      -e "s|127.0.0.1:11180|127.0.0.1:$p_ctl|" \
      -e "s|\"driver\": \"s7\"|\"driver\": \"${DEMO_RIG_DRIVER:-s7}\"|" \
      "$src/config/demo.json" >"$tmp/serve.json"
  rig_frontend=${DEMO_RIG_DRIVER:-s7}
  if [ -n "${DEMO_CONFIG_PATCH:-}" ]; then # a JSON object merged into the top level
    python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c.update(json.loads(sys.argv[2]))
json.dump(c, open(sys.argv[1], "w"), indent=2)' "$tmp/serve.json" "$DEMO_CONFIG_PATCH"
  fi
  "$plcgw" serve --config "$tmp/serve.json" --listen 127.0.0.1:0 --db "$tmp/serve.db" \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
  gw_pid=$!
  gw_port=""
  for _ in $(seq 1 100); do
    gw_port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/serve.err" |
              grep -oE '[0-9]+$' || true)
    [ -n "$gw_port" ] && break
    kill -0 "$gw_pid" 2>/dev/null || break
    sleep 0.1
  done
}

# stop_pid PID: SIGTERM, up to 10 s to go, then SIGKILL; returns its exit
# status when it is our child (wait), else 0.
stop_pid() {
  local pid=$1 rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

# wait_connected PORT: up to 10 s for the gateway's default machine to be
# connected (GET /api/status says so).
wait_connected() {
  for _ in $(seq 1 100); do
    curl -s --max-time 2 "http://127.0.0.1:$1/api/status" | grep -q '"connected":true' && return 0
    sleep 0.1
  done
  return 1
}

# gateway_test_setup NAME PLCGW SOURCE_DIR: the prologue of a script that
# tests a gateway: absolute plcgw and src, node, a tmp folder, and a trap
# that stops gw_pid and removes tmp on exit.
gateway_test_setup() {
  local name=$1
  shift
  [ $# -eq 2 ] || { echo "usage: $name PLCGW SOURCE_DIR" >&2; exit 2; }
  plcgw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  src=$(cd "$2" && pwd)
  node=${NODE:-node}
  tmp=$(mktemp -d)
  gw_pid=""
  trap 'stop_pid "$gw_pid"; rm -rf "$tmp"' EXIT
}
