#!/usr/bin/env bash
# Throughput behind the load balancer: the setup of tests/scale/run.sh (nginx round-robin over
# three protected_server, one Redis, one PostgreSQL, oidc-provider as the issuer), driven by wrk
# with a bearer token.
#
#   1. tools/call add, 2026-07-28 (stateless): one instance direct vs three behind the balancer
#   2. tools/call add in a legacy (2025-11-25) session: in-memory sessions (an extra instance
#      without MCP_REDIS_URL, direct) vs Redis-backed sessions through the balancer. The second
#      needs legacy sessions shared through Redis (MCP_REDIS_URL -> sessions in the examples):
#      until a session made through the balancer answers there, the round says so and is skipped.
#
# Usage: bench/scale.sh [SECONDS] [CONNECTIONS]     (default 10 s, 32 connections; each round
#   runs twice, alternating, on an otherwise idle machine: it shares the cores with wrk and nginx)
#   cargo build --release --example protected_server    (the binary measured)
#   cargo build --example workflow_server               (tests/scale starts it; unused here)
# Environment: MCP_SCALE_PROTECTED_BIN (default target/release/examples/protected_server),
# MCP_SCALE_WORKFLOW_BIN (default target/debug/examples/workflow_server); the rest as
# tests/scale/run.sh. Needs wrk (apt-get install wrk). Loopback only; the token stays in a file.
# Numbers go into notes, never into tests.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

if [ "${1:-}" != "--inner" ]; then
  command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }
  export MCP_SCALE_BENCH_SECONDS=${1:-10} MCP_SCALE_BENCH_CONNECTIONS=${2:-32}
  export MCP_SCALE_PROTECTED_BIN=${MCP_SCALE_PROTECTED_BIN:-$ROOT/target/release/examples/protected_server}
  export MCP_SCALE_WORKFLOW_BIN=${MCP_SCALE_WORKFLOW_BIN:-$ROOT/target/debug/examples/workflow_server}
  [ -x "$MCP_SCALE_PROTECTED_BIN" ] || { echo "not found: $MCP_SCALE_PROTECTED_BIN (cargo build --release --example protected_server)" >&2; exit 1; }
  MCP_SCALE_EXEC="bash '$HERE/scale.sh' --inner" exec bash "$ROOT/tests/scale/run.sh"
fi

# --- inside tests/scale/run.sh: P_LB, P_URLS, ISSUER, SCALE_DIR, PY exported ------------------
S=$MCP_SCALE_BENCH_SECONDS
C=$MCP_SCALE_BENCH_CONNECTIONS
"$PY" "$ROOT/tests/scale/checks.py" token >/dev/null || { echo "no token from the issuer" >&2; exit 1; }
EXTRA_PID=
trap '[ -n "$EXTRA_PID" ] && kill "$EXTRA_PID" 2>/dev/null; wait 2>/dev/null' EXIT

# lua SESSION_FILE|"" VERSION BODY: a wrk script with the token (read from its file) and, for a
# legacy session, the session id.
lua() {
  local f
  f=$(mktemp "$SCALE_DIR/wrk.XXXXXX.lua")
  cat >"$f" <<EOF
local function first_line(path)
  local h = assert(io.open(path))
  local line = h:read("*l")
  h:close()
  return line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "$2"
wrk.headers["Authorization"] = "Bearer " .. first_line("$SCALE_DIR/token")
if "$1" ~= "" then wrk.headers["Mcp-Session-Id"] = first_line("$1") end
if "$2" == "2026-07-28" then
  wrk.headers["Mcp-Method"] = "tools/call"
  wrk.headers["Mcp-Name"] = "add"
end
wrk.body = '$3'
EOF
  echo "$f"
}
MODERN_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
LEGACY_BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'

# round LABEL URL SCRIPT: one wrk run, one line: requests/s and non-2xx answers.
round() {
  local out rps bad
  out=$(wrk -t2 -c"$C" -d"${S}s" -s "$3" "$2" 2>&1)
  rps=$(sed -n 's/^Requests\/sec:[[:space:]]*//p' <<<"$out")
  bad=$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*//p' <<<"$out")
  printf '%-58s %10s req/s   non-2xx %s\n' "$1" "${rps:-?}" "${bad:-0}"
}

# session URL FILE: a legacy session made at URL, its id into FILE; fails unless three calls
# in it (at URL) answer 200.
session() {
  "$PY" - "$1" "$2" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SCALE_ROOT"], "tests", "scale"))
import checks
with open(os.path.join(os.environ["SCALE_DIR"], "token")) as f:
    auth = {"authorization": "Bearer " + f.read().strip()}
try:
    s = checks.Legacy(sys.argv[1], auth, caps={})
    for _ in range(3):
        r = s.call("add", {"a": 2, "b": 3})
        if r.status_code != 200:
            sys.exit(f"tools/call in the session: HTTP {r.status_code}")
except RuntimeError as e:
    sys.exit(str(e))
with open(sys.argv[2], "w") as f:
    f.write(s.session)
EOF
}
export SCALE_ROOT=$ROOT

echo "# ${S} s per round, $C connections, wrk -t2; protected_server $MCP_SCALE_PROTECTED_BIN"
ONE=${P_URLS%% *}
MODERN=$(lua "" 2026-07-28 "$MODERN_BODY")
echo "== tools/call add, 2026-07-28 (stateless)"
for _ in 1 2; do
  round "one instance, direct ($ONE)" "$ONE" "$MODERN"
  round "three instances behind nginx ($P_LB)" "$P_LB" "$MODERN"
done

echo "== tools/call add in a legacy session"
EXTRA_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EXTRA="http://127.0.0.1:$EXTRA_PORT/mcp"
MCP_REDIS_URL= MCP_BIND=127.0.0.1:$EXTRA_PORT MCP_PUBLIC_URL=$P_LB MCP_AUTH_ISSUER=$ISSUER \
  MCP_DATABASE_URL= "$MCP_SCALE_PROTECTED_BIN" >"$SCALE_DIR/bench-extra.log" 2>&1 &
EXTRA_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$EXTRA" && break; sleep 0.1; done
if session "$EXTRA" "$SCALE_DIR/session-memory"; then
  MEMORY=$(lua "$SCALE_DIR/session-memory" 2025-11-25 "$LEGACY_BODY")
else
  MEMORY=
  echo "could not make a session on the in-memory instance $EXTRA"
fi
if session "$P_LB" "$SCALE_DIR/session-redis" 2>"$SCALE_DIR/bench-session.err"; then
  REDIS=$(lua "$SCALE_DIR/session-redis" 2025-11-25 "$LEGACY_BODY")
else
  REDIS=
  # TODO(redis sessions): this round runs once MCP_REDIS_URL puts the examples' legacy sessions
  # in Redis (another branch); until then a session made through the balancer is unknown to the
  # other instances.
  echo "Redis-backed sessions: skipped, a session made through the balancer does not work there yet ($(tail -n1 "$SCALE_DIR/bench-session.err"))"
fi
for _ in 1 2; do
  [ -n "$MEMORY" ] && round "in-memory sessions, one instance direct" "$EXTRA" "$MEMORY"
  [ -n "$REDIS" ] && round "Redis-backed sessions, three instances behind nginx" "$P_LB" "$REDIS"
done
exit 0
