#!/usr/bin/env bash
# Interop run: the official MCP Python SDK client (`mcp` 2.3.0 from PyPI, `mcp.Client` over
# Streamable HTTP), used as a new user would, against the framework's conformance_server:
# the 2026-07-28 era (server/discover, input_required elicitation) and the legacy era
# (initialize handshake, session, server-to-client elicitation). The checks are in py-client.py.
#
# Usage: tests/interop/py.sh [PATH_TO_conformance_server]
#   default binary: target/debug/examples/conformance_server under the repo root
#   (build it first: cargo build --example conformance_server; this script builds nothing).
#
# Environment:
#   PYTHON                   interpreter the venv is made from (default python3; 3.11 is what the pins were frozen on)
#   MCP_INTEROP_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop);
#                            the venv is $MCP_INTEROP_CACHE/py-mcp-2.3.0, made once and reused
#   MCP_INTEROP_PY_REQUIREMENTS  pinned requirements (default <repo>/tests/peers/py/requirements-mcp2.txt)
#   MCP_INTEROP_DEBUG=1      SDK transport debug logs on stderr; the server runs with RUST_LOG=debug
# Packages come from PyPI only (pip, once). Traffic is loopback only otherwise.
# Prints the checks and "N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../.." && pwd)

PYTHON=${PYTHON:-python3}
: "${MCP_INTEROP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop}"
: "${MCP_INTEROP_PY_REQUIREMENTS:=$ROOT/tests/peers/py/requirements-mcp2.txt}"
MCP_VERSION=2.3.0
VENV=$MCP_INTEROP_CACHE/py-mcp-$MCP_VERSION
SERVER_BIN=${1:-$ROOT/target/debug/examples/conformance_server}

log() { echo "[interop-py] $*" >&2; }
die() {
  log "$*"
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$SERVER_BIN" ] || die "server binary not found: $SERVER_BIN (build it: cargo build --example conformance_server)"
[ -f "$MCP_INTEROP_PY_REQUIREMENTS" ] || die "requirements not found: $MCP_INTEROP_PY_REQUIREMENTS"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH"

# The venv: made once, reused while the requirements file is unchanged (a stamp holding its
# checksum is written only after pip succeeded, so a half-finished install is redone).
STAMP=$VENV/.requirements.sha256
WANT=$(sha256sum "$MCP_INTEROP_PY_REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ] || ! [ -x "$VENV/bin/python" ]; then
  log "making $VENV (pip install -r $MCP_INTEROP_PY_REQUIREMENTS) ..."
  mkdir -p "$MCP_INTEROP_CACHE"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || die "python3 -m venv $VENV failed"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$MCP_INTEROP_PY_REQUIREMENTS" >&2 \
    || die "pip install -r $MCP_INTEROP_PY_REQUIREMENTS failed"
  echo "$WANT" >"$STAMP"
fi
PY=$VENV/bin/python
GOT=$("$PY" -c 'from importlib.metadata import version; print(version("mcp"))' 2>/dev/null)
[ "$GOT" = "$MCP_VERSION" ] || die "expected mcp $MCP_VERSION in $VENV, found '${GOT:-none}'"

# A free loopback port (the kernel's pick; nothing else binds it in the moment before the server does).
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()') \
  || die "could not find a free port"
URL="http://127.0.0.1:$PORT/mcp"

SERVER_LOG=$(mktemp "${TMPDIR:-/tmp}/mcp-interop-py-server.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -f "$SERVER_LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting $SERVER_BIN on $URL"
if [ -n "${MCP_INTEROP_DEBUG:-}" ]; then export RUST_LOG=${RUST_LOG:-debug}; fi
PORT=$PORT "$SERVER_BIN" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

# Wait (at most 30 s) until the server answers HTTP at all (any status).
if ! "$PY" - "$URL" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("server exited")
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=2).close()
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"not reachable: {e}")
        time.sleep(0.1)
EOF
then
  cat "$SERVER_LOG" >&2
  die "server did not come up at $URL"
fi

OUT=$(timeout 150 "$PY" "$HERE/py-client.py" "$URL")
RC=$?
printf '%s\n' "$OUT" | grep -Ev '^[0-9]+ passed, [0-9]+ failed$'

LINE=$(printf '%s\n' "$OUT" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -n "$LINE" ]; then
  PASSED=${LINE%% passed*}
  FAILED=${LINE#*passed, }
  FAILED=${FAILED%% failed*}
else
  echo "FAIL py-client: ended (exit $RC) without a summary line"
  PASSED=0
  FAILED=1
fi
if [ "$RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
  echo "FAIL py-client: exit $RC with no failed check"
  FAILED=$((FAILED + 1))
fi
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "FAIL server: conformance_server exited during the run"
  FAILED=$((FAILED + 1))
fi
if [ "$FAILED" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$SERVER_LOG"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
