#!/usr/bin/env bash
# watermaker_api.sh PLCGW SOURCE_DIR - the watermaker's data endpoints end
# to end (watermaker_api.js) against the demo gateway and its simulated
# watermaker, twice: with the demo's default machine (the rig: every check
# at /api/machines/watermaker/..., /api/status still the rig's), then with
# "default_machine": "watermaker" (the specification's own paths /api/...,
# /api/machines/rig/status still the rig's).
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup watermaker_api.sh "$@"
fail=0

# run_phase DEFAULT: a gateway whose default machine is DEFAULT, an
# operator and a viewer with tokens, the checks; stopped after.
run_phase() {
  local default=$1 dir=$tmp/$1
  mkdir -p "$dir"
  DEMO_CONFIG_PATCH="{\"default_machine\": \"$default\"}" start_demo_gateway "$plcgw" "$src" "$dir"
  if [ -z "$gw_port" ]; then
    echo "not ok - the gateway (default $default) did not start:"; cat "$dir/serve.err"; fail=1; return
  fi
  local db=$dir/serve.db
  echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$db" >/dev/null &&
    echo "view-pass-123" | "$plcgw" user add viewer --role viewer --password-stdin --db "$db" >/dev/null ||
    { echo "not ok - users for default $default"; fail=1; return; }
  local op viewer
  op=$("$plcgw" token create op --db "$db")
  viewer=$("$plcgw" token create viewer --db "$db")
  wait_connected "$gw_port" || echo "# /api/status did not say connected within 10 s (default $default)"
  PLCGW_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl OP_TOKEN=$op VIEWER_TOKEN=$viewer \
    DEFAULT_MACHINE=$default MB_PORT=$p_mb NODE_PATH=$src/node_modules \
    timeout 240 "$node" "$src/tests/integration/watermaker_api.js" || fail=1
  local rc=0
  stop_pid "$gw_pid" || rc=$?
  gw_pid=""
  if [ $rc -eq 0 ]; then echo "ok - the gateway (default $default) stops cleanly"; else
    echo "not ok - plcgw serve (default $default) exited with $rc"; fail=1; fi
  if [ $fail -ne 0 ]; then echo "# serve.err (default $default):"; tail -n 30 "$dir/serve.err"; fi
}

run_phase rig
run_phase watermaker
echo "watermaker_api: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
