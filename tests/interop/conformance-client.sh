#!/usr/bin/env bash
# Runs the official MCP conformance CLIENT suites against the built conformance client example.
# Builds nothing. Usage: tests/interop/conformance-client.sh PATH/TO/conformance_client
#   1. 0.1.16       --suite all
#   2. 0.2.0-alpha.12 --requirements 2026-07-28
#   3. 0.2.0-alpha.12 --requirements 2025-11-25
# Prints each suite's "N passed, M failed" and a combined last line; exits non-zero on any failure.
set -uo pipefail
BIN=${1:?usage: conformance-client.sh PATH/TO/conformance_client}
[ -x "$BIN" ] || { echo "not an executable: $BIN" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF=${MCP_CONFORMANCE_DIR:-$(cd "$HERE/../conformance" && pwd)}
total_p=0 total_f=0 rc=0
run() {
  local label=$1; shift
  local out line p f
  out=$("$@" 2>&1); [ $? -eq 0 ] || rc=1
  printf '%s\n' "$out" | grep -E '^(FAIL|INFO|SKIP) |^     ' || true
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
  [ -n "$line" ] || { line="0 passed, 1 failed"; rc=1; }
  echo "$label: $line"
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  total_p=$((total_p + p)); total_f=$((total_f + f))
}
run "0.1.16 --suite all" "$CONF/run-client-suite.sh" "$BIN" --suite all
run "0.2 --requirements 2026-07-28" "$CONF/run-client-suite-0.2.sh" "$BIN" --requirements 2026-07-28
run "0.2 --requirements 2025-11-25" "$CONF/run-client-suite-0.2.sh" "$BIN" --requirements 2025-11-25
echo "all suites: ${total_p} passed, ${total_f} failed"
[ "$rc" -eq 0 ] && [ "$total_f" -eq 0 ]
