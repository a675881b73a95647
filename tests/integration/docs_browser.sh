#!/usr/bin/env bash
# docs_browser.sh PLCGW SOURCE_DIR - a newcomer in a real browser (Debian's
# chromium, headless, driven by playwright-core) opens /docs on the demo
# gateway, calls a command with "Try it out" signed in by the session
# cookie, then with a token given to "Authorize" (docs_browser.js). Every
# process is stopped by its PID.
set -u
. "$(dirname "$0")/demo_gateway.sh"
gateway_test_setup docs_browser.sh "$@"
command -v chromium >/dev/null || { echo "FAIL chromium is not installed (scripts/bootstrap)"; exit 1; }
start_demo_gateway "$plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "FAIL the gateway did not start:"; cat "$tmp/serve.err"; exit 1; }
echo "op-pass-123" | "$plcgw" user add op --role operator --password-stdin --db "$tmp/serve.db" >/dev/null || exit 1
export OP_TOKEN
OP_TOKEN=$("$plcgw" token create op --db "$tmp/serve.db")
wait_connected "$gw_port" || true
fail=0
PLCGW_URL=http://127.0.0.1:$gw_port SIM_URL=http://127.0.0.1:$p_ctl PROFILE_DIR=$tmp/chromium \
  NODE_PATH=$src/node_modules timeout 120 "$node" "$src/tests/integration/docs_browser.js" || fail=1
# what the browser did is in the audit log, with who did it
audit=$(sqlite3 "$tmp/serve.db" "SELECT user_name || ' ' || action || ' ' || result FROM audit_log WHERE action LIKE '/api/%' ORDER BY id")
for want in 'op /api/command/home ok' 'op /api/servo/enable ok'; do
  if printf '%s\n' "$audit" | grep -qx "$want"; then echo "ok - audit: $want"; else
    echo "not ok - audit: $want"; fail=1; fi
done
[ $fail -eq 0 ] || { echo "audit_log:"; printf '%s\n' "$audit"; tail -n 20 "$tmp/serve.err"; }
echo "docs_browser: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
