#!/usr/bin/env bash
# rig_record.sh BUILD_DIR [SECONDS] - the gateway's memory while the rig
# records a test at 50 Hz (record_interval_ms 20, the demo config): plcgw
# serve with the simulated rig, a test started over the API, RSS sampled
# every 0.5 s before, during and after; then the recorded rate. Figures,
# not pass/fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=$(cd "$1" && pwd)
secs=${2:-20}
. "$src/tests/integration/demo_gateway.sh"
tmp=$(mktemp -d)
gw_pid=""
trap 'stop_pid "$gw_pid"; rm -rf "$tmp"' EXIT

start_demo_gateway "$build/plcgw" "$src" "$tmp"
[ -n "$gw_port" ] || { echo "the gateway did not start"; cat "$tmp/serve.err"; exit 1; }
db=$tmp/serve.db
echo "op-pass-123" | "$build/plcgw" user add op --role operator --password-stdin --db "$db" >/dev/null
tok=$("$build/plcgw" token create op --db "$db")
url=http://127.0.0.1:$gw_port
wait_connected "$gw_port" || { echo "the rig did not connect"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status"; }
post() { curl -s -o /dev/null -H "Authorization: Bearer $tok" -X POST "$url$1" "${@:2}"; }
for c in servo/enable clamp/upper/lock clamp/lower/lock; do post "/api/$c"; done
sleep 2
idle=$(rss)
post /api/command/start -H 'Content-Type: application/json' -d '{"sample_id":"BENCH"}'
start=$(date +%s.%N)
peak=0
n=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  n=$((n + 1)); sleep 0.5
done
during=$(rss)
post /api/command/stop
stop=$(date +%s.%N)
sleep 1.5
after=$(rss)
t=$(curl -s -H "Authorization: Bearer $tok" "$url/api/tests?per_page=1" | jq '.tests[0]')
pts=$(echo "$t" | jq .npoints)
echo "rig_record: a test recorded for $secs s (record_interval_ms 20), $n RSS samples"
printf '  RSS before %d KiB, peak while recording %d KiB, at the end %d KiB, after %d KiB\n' \
  "$idle" "$peak" "$during" "$after"
awk -v p="$pts" -v a="$start" -v b="$stop" \
  'BEGIN { printf "  %d points in %.1f s: %.1f points/s (status %s)\n", p, b - a, p / (b - a), "'"$(echo "$t" | jq -r .status)"'" }'
