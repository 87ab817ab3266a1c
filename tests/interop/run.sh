#!/usr/bin/env bash
# Interop run: the official TypeScript SDK client and the MCP Inspector CLI, used as a new
# user would, against the framework's conformance_server over Streamable HTTP (legacy
# protocol era, with sessions): connect, list tools, call them.
#
# Usage: tests/interop/run.sh [PATH_TO_conformance_server]
#   default binary: target/debug/examples/conformance_server under the repo root
#   (build it first: cargo build --example conformance_server; this script builds nothing).
#
# Environment:
#   MCP_INTEROP_SDK_VERSION        @modelcontextprotocol/sdk version       (default 1.32.2)
#   MCP_INTEROP_INSPECTOR_VERSION  @modelcontextprotocol/inspector version (default 2.12.0)
#   MCP_INTEROP_PORT               first port tried for the server         (default 3107)
#   MCP_INTEROP_CACHE              cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop)
# Packages come from the npm registry only, installed once into the cache. The SDK client
# runs on the node on PATH (>= 18); the Inspector needs node >= 22.19, taken from PATH if
# it is new enough, else from tests/conformance/conformance-lib.sh (mc_setup).
# Prints each suite's checks and "N passed, M failed" (all suites) last; exits 1 on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

: "${MCP_INTEROP_SDK_VERSION:=1.32.2}"
: "${MCP_INTEROP_INSPECTOR_VERSION:=2.12.0}"
: "${MCP_INTEROP_PORT:=3107}"
: "${MCP_INTEROP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop}"
export MCP_INTEROP_INSPECTOR_VERSION

SERVER_BIN=${1:-$ROOT/target/debug/examples/conformance_server}
CONFORMANCE_LIB=${MCP_INTEROP_CONFORMANCE_LIB:-$ROOT/tests/conformance/conformance-lib.sh}

log() { echo "[interop] $*" >&2; }
die() {
  log "$*"
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$SERVER_BIN" ] || die "server binary not found: $SERVER_BIN (build it: cargo build --example conformance_server)"
command -v node >/dev/null 2>&1 || die "node not found on PATH"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"

node_at_least() { # node_at_least NODE MAJOR MINOR
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > +process.argv[1] || (a == +process.argv[1] && b >= +process.argv[2]) ? 0 : 1)' "$2" "$3" 2>/dev/null
}

# npm_install_once DEST PACKAGE VERSION: installs PACKAGE@VERSION into DEST (a temp dir
# renamed into place, so a half-finished install never looks complete), unless done already.
npm_install_once() {
  local dest=$1 pkg=$2 ver=$3 tmp got
  got=$(node -p "require('$dest/node_modules/$pkg/package.json').version" 2>/dev/null || true)
  [ "$got" = "$ver" ] && return 0
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp -d "$dest.tmp.XXXXXX")
  printf '{"private":true,"dependencies":{"%s":"%s"}}\n' "$pkg" "$ver" >"$tmp/package.json"
  log "npm install $pkg@$ver into $dest ..."
  if ! (cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
        >"$tmp/npm-install.log" 2>&1); then
    cat "$tmp/npm-install.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dest" 2>/dev/null
  # Another run may have finished the same install first: keep theirs.
  mv -T "$tmp" "$dest" 2>/dev/null || rm -rf "$tmp"
  got=$(node -p "require('$dest/node_modules/$pkg/package.json').version" 2>/dev/null || true)
  [ "$got" = "$ver" ] || { log "expected $pkg $ver in $dest, found '$got'"; return 1; }
}

SDK_DIR="$MCP_INTEROP_CACHE/sdk-$MCP_INTEROP_SDK_VERSION"
INSPECTOR_DIR="$MCP_INTEROP_CACHE/inspector-$MCP_INTEROP_INSPECTOR_VERSION"
npm_install_once "$SDK_DIR" @modelcontextprotocol/sdk "$MCP_INTEROP_SDK_VERSION" \
  || die "could not install @modelcontextprotocol/sdk@$MCP_INTEROP_SDK_VERSION"
npm_install_once "$INSPECTOR_DIR" @modelcontextprotocol/inspector "$MCP_INTEROP_INSPECTOR_VERSION" \
  || die "could not install @modelcontextprotocol/inspector@$MCP_INTEROP_INSPECTOR_VERSION"

# Node for the Inspector (its engines field says >= 22.19.0).
INSPECTOR_NODE=$(command -v node)
if ! node_at_least "$INSPECTOR_NODE" 22 19; then
  [ -f "$CONFORMANCE_LIB" ] || die "node on PATH is $(node --version), the Inspector needs >= 22.19, and $CONFORMANCE_LIB is missing"
  # shellcheck source=/dev/null
  source "$CONFORMANCE_LIB"
  mc_setup || die "mc_setup could not provide node >= 22"
  INSPECTOR_NODE=$NODE
  node_at_least "$INSPECTOR_NODE" 22 19 || die "node $("$INSPECTOR_NODE" --version) from mc_setup is older than 22.19"
fi

# A free loopback port, starting at MCP_INTEROP_PORT.
port_free() {
  node -e 'const s = require("net").createServer();
    s.once("error", () => process.exit(1));
    s.listen(+process.argv[1], "127.0.0.1", () => s.close(() => process.exit(0)));' "$1"
}
PORT=
for p in $(seq "$MCP_INTEROP_PORT" $((MCP_INTEROP_PORT + 49))); do
  if port_free "$p"; then PORT=$p; break; fi
done
[ -n "$PORT" ] || die "no free port in $MCP_INTEROP_PORT..$((MCP_INTEROP_PORT + 49))"
URL="http://127.0.0.1:$PORT/mcp"

SERVER_LOG=$(mktemp "${TMPDIR:-/tmp}/mcp-interop-server.XXXXXX")
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
PORT=$PORT "$SERVER_BIN" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

# Wait (at most 30 s) until the server answers HTTP at all.
if ! node -e '
  const [url, pid] = [process.argv[1], +process.argv[2]];
  const deadline = Date.now() + 30000;
  (async () => {
    for (;;) {
      try { process.kill(pid, 0); } catch { console.error("server exited"); process.exit(1); }
      try {
        const r = await fetch(url, { method: "GET", signal: AbortSignal.timeout(2000) });
        await r.body?.cancel().catch(() => {});
        process.exit(0);
      } catch (e) {
        if (Date.now() > deadline) { console.error(`not reachable: ${e.cause?.code ?? e.message}`); process.exit(1); }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();' "$URL" "$SERVER_PID"; then
  cat "$SERVER_LOG" >&2
  die "server did not come up at $URL"
fi

TOTAL_PASSED=0
TOTAL_FAILED=0
# run_suite NAME CMD...: runs a suite, echoes its output, adds its final counts.
run_suite() {
  local name=$1 out rc line
  shift
  echo "== $name"
  out=$("$@" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $name: ended (exit $rc) without a summary line"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    return
  fi
  line=${line#*: }
  local p=${line%% passed*} f=${line#*passed, }
  f=${f%% failed*}
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exit $rc with no failed check"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}

MCP_INTEROP_SDK_DIR=$SDK_DIR run_suite "ts-client (node $(node --version))" \
  timeout 120 node "$HERE/ts-client.mjs" "$URL"
NODE=$INSPECTOR_NODE MCP_INTEROP_INSPECTOR_DIR=$INSPECTOR_DIR run_suite "inspector" \
  timeout 600 bash "$HERE/inspector.sh" "$URL"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "FAIL server: conformance_server exited during the run"
  TOTAL_FAILED=$((TOTAL_FAILED + 1))
fi
if [ "$TOTAL_FAILED" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$SERVER_LOG"
fi

echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
