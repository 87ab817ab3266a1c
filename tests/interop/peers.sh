#!/usr/bin/env bash
# Interop: our client CLI (examples/examples/client.rs), used as a new user would, against MCP
# servers no one here wrote: the official Python SDK (mcp 2.3.0 MCPServer, both eras, with and
# without JWT bearer auth), the official TypeScript SDK (1.32.2, legacy era only; with and
# without bearer auth) and the official Rust SDK (rmcp 3.9.0, both eras, stateful and stateless).
#
# Usage: tests/interop/peers.sh            (from anywhere; loopback only)
# Env:   PEERS_DIR   (default tests/peers)       PY   python with mcp 2.3.0 + PyJWT
#        RMCP_PEER   rmcp-peer binary (default /tmp/rmcp-peer-target/release/rmcp-peer)
#        MCP_INTEROP_SDK_DIR  dir whose node_modules holds @modelcontextprotocol/sdk 1.32.2
# Prints one line per check and "N passed, M failed"; exits 1 on any failure. Logs of every
# peer and client run stay in $WORK (printed at the end).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${PEERS_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)}"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}
: "${MCP_INTEROP_SDK_DIR:=$CACHE/mcp-interop/sdk-1.32.2}"
: "${RMCP_PEER:=/tmp/rmcp-peer-target/release/rmcp-peer}"
if [ -z "${PY:-}" ]; then
  for p in "$CACHE/mcp-peers/venv-mcp2/bin/python" "$CACHE/mcp-interop/py-mcp-2.3.0/bin/python"; do
    [ -x "$p" ] && { PY=$p; break; }
  done
fi
export MCP_INTEROP_SDK_DIR
CLIENT=$ROOT/target/debug/examples/client
WORK=$(mktemp -d /tmp/mcp-peers-interop.XXXXXX)
PIDS=()
PASS=0 FAIL=0

cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT PID
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done; return 1
}
start() { # start NAME PORT CMD... : runs CMD in background, logs to $WORK/NAME.log
  local name=$1 port=$2; shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_port "$port" "$pid" || { echo "[peers] $name did not start (log: $WORK/$name.log)" >&2; tail -5 "$WORK/$name.log" >&2; return 1; }
}
ok()  { PASS=$((PASS+1)); echo "PASS $*"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL $*"; }
N=0
run() { # run URL ARGS... -> $OUT $ERR $RC
  N=$((N+1)); OUT=$WORK/c$N.out; ERR=$WORK/c$N.err
  timeout 30 "$CLIENT" --url "$@" >"$OUT" 2>"$ERR"; RC=$?
}
why() { echo "rc=$RC out=$(head -c 300 "$OUT" | tr '\n' '|') err=$(head -c 400 "$ERR" | tr '\n' '|')"; }

# expect_list LABEL URL [ARGS...]: tools add and echo listed, exit 0
expect_list() {
  local label=$1 url=$2; shift 2; run "$url" "$@" list
  if [ $RC = 0 ] && grep -q '^add' "$OUT" && grep -q '^echo' "$OUT"; then ok "$label list"; else bad "$label list: $(why)"; fi
}
# expect_add LABEL ERA URL [ARGS...]: call add {a:2,b:3} -> 5; with ERA (modern|legacy) the
# negotiated era printed on stderr must match
expect_add() {
  local label=$1 era=$2 url=$3; shift 3; run "$url" "$@" call add '{"a":2,"b":3}'
  if [ $RC = 0 ] && [ "$(tr -d '[:space:]' <"$OUT")" = 5 ] \
     && { [ -z "$era" ] || grep -qi "$era era" "$ERR"; }; then ok "$label call add -> 5"
  else bad "$label call add: $(why)"; fi
}
# expect_unauth LABEL URL [ARGS...]: exit 2, "Unauthorized" and the parsed challenge on stderr
expect_unauth() {
  local label=$1 url=$2; shift 2; run "$url" "$@" call add '{"a":2,"b":3}'
  if [ $RC = 2 ] && grep -qi 'unauthori' "$ERR" && grep -q 'resource_metadata\|oauth-protected-resource' "$ERR"; then
    ok "$label -> Unauthorized (exit 2, challenge shown)"
  else bad "$label -> expected Unauthorized: $(why)"; fi
}
# expect_clean LABEL URL ARGS...: either works (5) or exits 2 with an error line, no panic
expect_clean() {
  local label=$1 url=$2; shift 2; run "$url" "$@" call add '{"a":2,"b":3}'
  if grep -q 'panicked' "$ERR"; then bad "$label: panic: $(why)"
  elif [ $RC = 0 ] && [ "$(tr -d '[:space:]' <"$OUT")" = 5 ]; then ok "$label -> fell back, 5"
  elif [ $RC = 2 ] && grep -q '^error' "$ERR"; then ok "$label -> clean failure (exit 2: $(grep -m1 '^error' "$ERR" | head -c 120))"
  else bad "$label: $(why)"; fi
}

[ -x "$CLIENT" ] || (cd "$ROOT" && cargo build -q --example client) || { echo "0 passed, 1 failed"; exit 1; }

# ---- TypeScript SDK 1.32.2 (legacy era only) ---------------------------------------------
if [ -f "$MCP_INTEROP_SDK_DIR/node_modules/@modelcontextprotocol/sdk/package.json" ] && command -v node >/dev/null; then
  P=$(free_port); U=http://127.0.0.1:$P/mcp
  if PORT=$P start ts "$P" node "$HERE/peers/ts-server.mjs"; then
    expect_list   "ts-sdk"                "$U"
    expect_add    "ts-sdk negotiated"     legacy "$U"
    expect_add    "ts-sdk --era legacy"   legacy "$U" --era legacy
    expect_clean  "ts-sdk --era modern"   "$U" --era modern
  else bad "ts-sdk server start"; fi
  P=$(free_port); U=http://127.0.0.1:$P/mcp; TS_TOKEN=ts-$RANDOM-$RANDOM
  if TOKEN=$TS_TOKEN PORT=$P start ts-auth "$P" node "$HERE/peers/ts-server.mjs"; then
    expect_unauth "ts-sdk+auth no token"         "$U"
    expect_unauth "ts-sdk+auth wrong token"      "$U" --token nope
    expect_list   "ts-sdk+auth token"            "$U" --token "$TS_TOKEN"
    expect_add    "ts-sdk+auth token"            legacy "$U" --token "$TS_TOKEN"
    expect_add    "ts-sdk+auth token --era legacy" legacy "$U" --token "$TS_TOKEN" --era legacy
    expect_clean  "ts-sdk+auth token --era modern" "$U" --token "$TS_TOKEN" --era modern
  else bad "ts-sdk+auth server start"; fi
else bad "ts-sdk: SDK not in $MCP_INTEROP_SDK_DIR (run tests/interop/run.sh once) or no node"; fi

# ---- rmcp 3.9.0 (both eras; no server-side auth) -----------------------------------------
if [ -x "$RMCP_PEER" ]; then
  for mode in stateful stateless; do
    P=$(free_port); U=http://127.0.0.1:$P/mcp
    if MODE=$mode PORT=$P start "rmcp-$mode" "$P" "$RMCP_PEER"; then
      expect_list "rmcp-$mode"                     "$U"
      expect_list "rmcp-$mode --era legacy"        "$U" --era legacy
      expect_add  "rmcp-$mode negotiated"          modern "$U"
      expect_add  "rmcp-$mode --era modern"        modern "$U" --era modern
      expect_add  "rmcp-$mode --era legacy"        legacy "$U" --era legacy
    else bad "rmcp-$mode server start"; fi
  done
else bad "rmcp: no binary at $RMCP_PEER (cd $PEERS_DIR/rmcp-peer && CARGO_TARGET_DIR=/tmp/rmcp-peer-target cargo build --release)"; fi

# ---- official Python SDK mcp 2.3.0 (both eras; JWT auth variant) -------------------------
if [ -n "${PY:-}" ] && "$PY" -c 'import mcp, jwt' 2>/dev/null; then
  SDK=$PEERS_DIR/py/mcp_sdk_server.py KEYS=$PEERS_DIR/py/keys.py
  for variant in "" "--stateless --json"; do
    tag="py-sdk${variant:+ (stateless, json)}"
    P=$(free_port); U=http://127.0.0.1:$P/mcp
    # shellcheck disable=SC2086
    if start "py$N" "$P" "$PY" "$SDK" --port "$P" $variant; then
      expect_list "$tag"                  "$U"
      expect_list "$tag --era legacy"     "$U" --era legacy
      expect_add  "$tag negotiated"       modern "$U"
      expect_add  "$tag --era modern"     modern "$U" --era modern
      expect_add  "$tag --era legacy"     legacy "$U" --era legacy
    else bad "$tag server start"; fi
  done
  # auth: keys in $WORK (never in the shared tree), JWKS on a free port
  JP=$(free_port); ISS=http://127.0.0.1:$JP
  if "$PY" "$KEYS" init --dir "$WORK/keys" >/dev/null && start jwks "$JP" "$PY" "$KEYS" serve --dir "$WORK/keys" --port "$JP"; then
    TOK=$("$PY" "$KEYS" mint --dir "$WORK/keys" --scope read --iss "$ISS")
    for variant in "" "--stateless --json"; do
      tag="py-sdk+auth${variant:+ (stateless, json)}"
      P=$(free_port); U=http://127.0.0.1:$P/mcp
      # shellcheck disable=SC2086
      if JWT_ISS=$ISS JWKS_URI=$ISS/.well-known/jwks.json start "pyauth$N" "$P" "$PY" "$SDK" --port "$P" --auth $variant; then
        expect_unauth "$tag no token"                 "$U"
        expect_unauth "$tag no token --era legacy"    "$U" --era legacy
        expect_list   "$tag token"                    "$U" --token "$TOK"
        expect_add    "$tag token negotiated"         modern "$U" --token "$TOK"
        expect_add    "$tag token --era modern"       modern "$U" --token "$TOK" --era modern
        expect_add    "$tag token --era legacy"       legacy "$U" --token "$TOK" --era legacy
      else bad "$tag server start"; fi
    done
  else bad "py-sdk+auth: JWKS server start"; fi
else bad "py-sdk: no python with mcp 2.3.0 + PyJWT (set PY, or run $PEERS_DIR/py/setup.sh)"; fi

echo "logs: $WORK"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
