#!/usr/bin/env bash
# hmi_browser.sh PLCGW SOURCE_DIR SHOT_DIR - the HMI (web/dist, built by
# `make build`) served by the gateway and driven in Debian's chromium
# (web/test/hmi_browser.js) by an operator and a viewer; a screenshot of each
# screen goes to SHOT_DIR.
set -u
. "$(dirname "$0")/demo_gateway.sh"
shots=${3:-}
gateway_test_setup hmi_browser.sh "$1" "$2"
if [ ! -f "$src/web/dist/index.html" ]; then
  echo "FAIL web/dist is not built: run make build (web/build.sh)"; exit 1
fi
if [ ! -f "$src/node_modules/axe-core/axe.min.js" ]; then
  echo "FAIL node_modules/axe-core is missing: run npm ci at the top of the repo"; exit 1
fi
DEMO_CONFIG_PATCH="{\"web\": {\"root\": \"$src/web/dist\"}}" start_demo_gateway "$plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$tmp/serve.db" >/dev/null || exit 1
echo "vi-pass-123" | "$plcgw" user add vi --role viewer --password-stdin --db "$tmp/serve.db" >/dev/null || exit 1
wait_connected "$gw_port" || true
fail=0
HMI_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl OP_USER=op OP_PASS=op-pass-123 \
  VI_USER=vi VI_PASS=vi-pass-123 GW_DB=$tmp/serve.db SHOT_DIR=$shots NODE_PATH=$src/node_modules \
  timeout 240 "$node" "$src/web/test/hmi_browser.js" || fail=1
stop_pid "$gw_pid"; gw_pid=""
[ $fail -ne 0 ] && { echo "serve.err:"; grep -v 'INFO  http' "$tmp/serve.err" | tail -n 30; }
echo "hmi_browser: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
