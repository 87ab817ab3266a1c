#!/usr/bin/env bash
# OTLP export, end to end: protected_server exports its spans and metrics over OTLP
# (HTTP/protobuf, configured by the standard OTEL_* variables only) to a real OTLP receiver
# built on the official OTLP protobuf definitions (receiver.py, the `opentelemetry-proto`
# package from PyPI). Requests: a legacy session (initialize, tools/call), a 2026-07-28 call
# continuing a trace the caller started (traceparent in params._meta), a tool call refused for a
# missing scope, two refused requests (no token, a forged token). check.py then checks the
# exported spans and metrics, and that no secret (tokens, the session id) was exported.
#
# Usage: tests/otel/run.sh [PATH_TO_protected_server]
#   default: target/debug/examples/protected_server under the repo root (this script builds
#   nothing; the binary needs the `otel` feature, which the examples crate enables).
# Environment:
#   PYTHON           interpreter the venv is made from (default python3)
#   MCP_OTEL_CACHE   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-otel); the venv
#                    (tests/otel/requirements.txt) is made there once and reused
# Traffic: PyPI once (pip), loopback otherwise. Exits non-zero on any failed check.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SERVER_BIN=${1:-$ROOT/target/debug/examples/protected_server}
PYTHON=${PYTHON:-python3}
: "${MCP_OTEL_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-otel}"
VENV=$MCP_OTEL_CACHE/venv-$(sha256sum "$HERE/requirements.txt" | cut -c1-12)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[otel] $*" >&2; }

[ -x "$SERVER_BIN" ] || { log "server binary not found: $SERVER_BIN"; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" || {
    rm -rf "$VENV"; log "pip install failed"; exit 1; }
fi

"$VENV/bin/python" "$HERE/receiver.py" "$WORK/otlp.jsonl" "$WORK/otlp.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/otlp.port" ] && break; sleep 0.1; done
OTLP_PORT=$(cat "$WORK/otlp.port")
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT/mcp"
log "receiver on 127.0.0.1:$OTLP_PORT, server on $URL"

OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" \
OTEL_SERVICE_NAME=mcp-otel-ci \
OTEL_BSP_SCHEDULE_DELAY=200 \
OTEL_METRIC_EXPORT_INTERVAL=1000 \
MCP_BIND="127.0.0.1:$PORT" RUST_LOG=info \
  "$SERVER_BIN" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 100); do grep -q "token with \`read files:delete\`" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
# The two tokens the embedded authorization server printed (read; read files:delete).
READ=$(grep -A1 "token with \`read\`:" "$WORK/server.out" | tail -1 | tr -d ' ')
[ -n "$READ" ] || { log "no token printed"; cat "$WORK/server.out" "$WORK/server.err" >&2; exit 1; }

post() { # TOKEN BODY [extra curl args...]
  local token=$1 body=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$URL" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    ${token:+-H "Authorization: Bearer $token"} "$@" -d "$body"
}
fail=0
expect() { [ "$1" = "$2" ] || { log "expected HTTP $2, got $1: $3"; fail=1; }; }

# A legacy session.
code=$(post "$READ" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"otel-ci","version":"1"}}}')
expect "$code" 200 initialize
SID=$(grep -i '^mcp-session-id:' "$WORK/headers" | cut -d' ' -f2 | tr -d '\r')
L=(-H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-11-25")
expect "$(post "$READ" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "${L[@]}")" 202 initialized
expect "$(post "$READ" '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_files","arguments":{"path":"/srv/data"}}}' "${L[@]}")" 200 "legacy tools/call"
# A tool the token lacks the scope of: a tool error.
expect "$(post "$READ" '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/srv/data/old.log"}}}' "${L[@]}")" 200 "delete_file without the scope"
grep -q '"isError":true' "$WORK/body" || { log "delete_file was not refused"; fail=1; }
expect "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL" -H "Authorization: Bearer $READ" "${L[@]}")" 200 "end the session"

# 2026-07-28, continuing a trace the caller started.
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
PARENT=00f067aa0ba902b7
M=(-H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: list_files')
MODERN='{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_files","arguments":{"path":"/srv/data"},"_meta":{"traceparent":"00-'$TRACE-$PARENT'-01","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"otel-ci","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}'
expect "$(post "$READ" "$MODERN" "${M[@]}")" 200 "modern tools/call"

# Refused: no token, a forged one.
expect "$(post "" "$MODERN" "${M[@]}")" 401 "no token"
FORGED="${READ%?????}AAAAA"
expect "$(post "$FORGED" "$MODERN" "${M[@]}")" 401 "forged token"

# Stop the server: dropping the telemetry guard flushes the last spans and metrics.
kill -TERM "$SERVER"
for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER" 2>/dev/null && { log "the server did not stop"; fail=1; }
sleep 0.5

printf '%s\n' "$READ" "$FORGED" "$SID" \
  "$(grep -A1 "token with \`read files:delete\`:" "$WORK/server.out" | tail -1 | tr -d ' ')" >"$WORK/secrets"
"$VENV/bin/python" "$HERE/check.py" "$WORK/otlp.jsonl" "$WORK/secrets" "$TRACE" "$PARENT" || fail=1
if [ "$fail" != 0 ]; then
  log "server stderr (last lines):"; tail -20 "$WORK/server.err" >&2
fi
exit "$fail"
