# testlib.sh - what the shell tests share, sourced by s7_cli.sh,
# sim/sim_cli.sh and s7_tshark.sh: counting results (ok, bad, check, same,
# expect), stopping the processes a test started by their PIDs (stop_pid,
# cleanup_started), and the check for the tools a test needs.
#
# Sourcing it sets pass=0 fail=0 (the counts), tmp (a new temporary
# directory, the script removes it) and pids=() (the PIDs the script
# starts, for cleanup_started).

pass=0
fail=0
tmp=$(mktemp -d)
pids=()

# stop_pid PID [SIGNAL] : signal (TERM) a process we started and wait for
# it; SIGKILL when it is still there after 10 s
stop_pid() {
  local pid=$1 sig=${2:-TERM}
  [ -n "$pid" ] || return 0
  kill -s "$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "note: PID $pid did not stop within 10 s of SIG$sig, sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}

# cleanup_started : stops every PID in $pids, removes $tmp (trap ... EXIT)
cleanup_started() {
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$tmp"
}

# require_tools NAME TOOL... : one failure and exit 1 when a TOOL is missing
require_tools() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "$name: $tool not found"
      echo "$name: 0 passed, 1 failed"
      exit 1
    fi
  done
}

ok() { pass=$((pass + 1)); }

# bad MESSAGE [DETAIL...] : a failure; each DETAIL indented below (30 lines)
bad() {
  fail=$((fail + 1))
  echo "FAIL $1"
  shift
  for line in "$@"; do printf '%s\n' "$line" | head -30 | sed 's/^/    /'; done
}

# check NAME TEXT PATTERN : grep -E PATTERN in TEXT
check() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then
    ok
  else
    bad "$1: no match for /$3/ in:"
    printf '%s\n' "$2" | head -20 | sed 's/^/  /'
  fi
}

# same NAME GOT WANT
same() {
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

# expect NAME WANT_STATUS CMD... : runs CMD (15 s at most), keeps $out/$err
expect() {
  local name=$1 want=$2
  shift 2
  timeout 15 "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ "$got" -eq "$want" ]; then
    ok
  else
    bad "$name: exit $got, want $want"
    echo "  stdout: ${out:0:400}"
    echo "  stderr: ${err:0:400}"
  fi
}
