#!/usr/bin/env bash
# Builds every fuzz target once, replays the inputs of fuzz/regressions/<target>, then runs each
# target for SECONDS seconds, from its seeds
# (fuzz/seeds/<target>) into its corpus (fuzz/corpus/<target>), and prints per target the
# executions, executions per second, corpus size and findings. Exits non-zero if a regression
# input fails or any target crashed, hung (-timeout), ran out of memory (-rss_limit_mb) or failed
# to run.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Environment:
#   FUZZ_PARALLEL    targets run at once (default 1)
#   FUZZ_SANITIZER   cargo fuzz sanitizer (default none: the crates forbid unsafe code; `address`
#                    also checks the dependencies' unsafe code, at about half the speed)
#   FUZZ_TARGET_DIR  cargo target directory (default fuzz/target)
#   FUZZ_ARGS        extra libFuzzer arguments
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SECS="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
cd "$ROOT"

# cargo-fuzz passes nightly-only flags (-Z, sanitizer coverage): a stable toolchain accepts them
# with RUSTC_BOOTSTRAP.
if ! rustc --version | grep -q -- '-nightly'; then
  export RUSTC_BOOTSTRAP=1
fi
SANITIZER="${FUZZ_SANITIZER:-none}"
TARGET_DIR="${FUZZ_TARGET_DIR:-$HERE/target}"
PARALLEL="${FUZZ_PARALLEL:-1}"
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked"; exit 1; }

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cargo fuzz list --fuzz-dir "$HERE")
fi

echo "==> building ${#TARGETS[@]} fuzz targets (sanitizer: $SANITIZER)"
build_start=$(date +%s)
if [ "$#" -gt 0 ]; then
  for t in "${TARGETS[@]}"; do
    cargo fuzz build --fuzz-dir "$HERE" -s "$SANITIZER" --target-dir "$TARGET_DIR" "$t"
  done
else
  cargo fuzz build --fuzz-dir "$HERE" -s "$SANITIZER" --target-dir "$TARGET_DIR"
fi
echo "    built in $(( $(date +%s) - build_start )) s"
BIN="$TARGET_DIR/x86_64-unknown-linux-gnu/release"

# The dictionary of each target.
dict_of() {
  case "$1" in
    jsonrpc_modern|jsonrpc_legacy|tool_arguments) echo "$HERE/dicts/jsonrpc.dict" ;;
    jwt|dpop_proof) echo "$HERE/dicts/tokens.dict" ;;
    headers|api_key) echo "$HERE/dicts/headers.dict" ;;
    sse_decoder) echo "$HERE/dicts/sse.dict" ;;
    www_authenticate) echo "$HERE/dicts/www_authenticate.dict" ;;
    uri_template) echo "$HERE/dicts/uri_template.dict" ;;
    *) echo "" ;;
  esac
}

mkdir -p "$HERE/logs"

# Inputs that once crashed a target (fuzz/regressions/<target>/) must keep passing.
replay_status=0
for t in "${TARGETS[@]}"; do
  inputs=("$HERE/regressions/$t"/*)
  [ -e "${inputs[0]}" ] || continue
  if "$BIN/$t" "${inputs[@]}" >"$HERE/logs/$t.regressions.log" 2>&1; then
    echo "    regressions of $t: ${#inputs[@]} input(s) pass"
  else
    echo "    regressions of $t FAIL: see fuzz/logs/$t.regressions.log"
    tail -30 "$HERE/logs/$t.regressions.log"
    replay_status=1
  fi
done

run_target() {
  local t="$1" corpus="$HERE/corpus/$1" seeds="$HERE/seeds/$1" artifacts="$HERE/artifacts/$1"
  local dict rc=0 args=()
  mkdir -p "$corpus" "$seeds" "$artifacts"
  dict="$(dict_of "$t")"
  if [ -n "$dict" ]; then args+=("-dict=$dict"); fi
  # shellcheck disable=SC2086
  "$BIN/$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${args[@]}" ${FUZZ_ARGS:-} "$corpus" "$seeds" \
    >"$HERE/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$HERE/logs/$t.rc"
}

echo "==> running each target for $SECS s ($PARALLEL at once); logs in fuzz/logs/"
for t in "${TARGETS[@]}"; do
  rm -f "$HERE/logs/$t.rc"
  find "$HERE/artifacts/$t" -type f -delete 2>/dev/null || true
  run_target "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
done
wait || true

status=0
printf '\n%-18s %12s %9s %9s %10s %s\n' target execs execs/s corpus bytes result
for t in "${TARGETS[@]}"; do
  log="$HERE/logs/$t.log"
  rc="$(cat "$HERE/logs/$t.rc" 2>/dev/null || echo missing)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  files="$(find "$HERE/corpus/$t" -type f | wc -l)"
  bytes="$(find "$HERE/corpus/$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
  found="$(find "$HERE/artifacts/$t" -type f | wc -l)"
  result=ok
  if [ "$rc" != 0 ] || [ "$found" -gt 0 ]; then
    result="FAILED (exit $rc, $found artifact(s) in fuzz/artifacts/$t)"
    status=1
  fi
  printf '%-18s %12s %9s %9s %10s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$files" "$bytes" "$result"
done
if [ "$status" != 0 ]; then
  echo
  echo "==> failures (the end of each failing log):"
  for t in "${TARGETS[@]}"; do
    if [ "$(cat "$HERE/logs/$t.rc" 2>/dev/null)" != 0 ] || [ -n "$(find "$HERE/artifacts/$t" -type f)" ]; then
      echo "--- $t"
      tail -40 "$HERE/logs/$t.log"
    fi
  done
fi
[ "$replay_status" = 0 ] || status=1
exit "$status"
