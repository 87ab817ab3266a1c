#!/usr/bin/env bash
# OAuth interop run: protected_server behind a third-party authorization server that no one here
# wrote (the `oidc-provider` npm package, configured in as.mjs: client_credentials, RFC 8707
# resource indicators, JWT access tokens), used by the official MCP SDK clients as
# machine-to-machine clients that find everything by OAuth discovery from the server's 401:
#   ts-oauth.mjs  @modelcontextprotocol/sdk ClientCredentialsProvider
#   py-oauth.py   mcp (Python) ClientCredentialsOAuthProvider
# and our own client (examples/client) getting a DPoP-bound token (RFC 9449) from the same
# package with its dPoP feature on, for a protected_server that requires DPoP:
#   dpop.sh       client --client-id --dpop-key generate; the same token as Bearer is refused
# and opaque access tokens from the same package (as.mjs --opaque, its introspection feature on)
# for a protected_server that validates them by RFC 7662 introspection (MCP_INTROSPECTION_URL):
#   ts-oauth.mjs     again, MCP_INTEROP_TOKEN_FORMAT=opaque (the token is checked to be opaque)
#   introspection.sh our client by discovery; what the AS answered; a made-up token and a token for
#                    another resource refused; no token in the server log
# and roles and workspaces from the identity provider: the same AS (as.mjs, extraTokenClaims)
# issues tokens shaped as Keycloak, Entra ID, Okta and Auth0 send them, for a protected_server
# that maps them (MCP_ROLE_CLAIM, MCP_ROLE_MAP, MCP_WORKSPACE_CLAIM):
#   roles.sh         curl: the mapped role in whoami, rotate_logs (min_role operator) allowed or
#                    refused, ?workspace= grants and 404s, the lowest role without claims
#
# Usage: tests/interop/oauth/run.sh [PATH_TO_protected_server]
#   default binary: target/debug/examples/protected_server under the repo root; the client is
#   $MCP_INTEROP_CLIENT_BIN, default target/debug/examples/client under the repo root
#   (build them first: cargo build --example protected_server --example client; this script
#   builds nothing).
#
# Processes (all on 127.0.0.1, free ports picked by the kernel):
#   as.mjs             issuer http://127.0.0.1:<AS>, resources <URL>, <URL_ALL> and <URL_ROLES>
#   protected_server   <URL>     = http://127.0.0.1:<P1>/mcp, MCP_AUTH_ISSUER=<issuer> (JWKS by
#                                  discovery), default MCP_REQUIRED_SCOPES (read)
#   protected_server   <URL_ALL> = http://127.0.0.1:<P2>/mcp, same with MCP_REQUIRED_SCOPES="read
#                                  files:delete" (for the Python SDK, which requests the scope the
#                                  401 challenge names: see py-oauth.py)
#   as.mjs --dpop=nonce  issuer http://127.0.0.1:<AS_DPOP>, resource <URL_DPOP>: dPoP feature on,
#                        DPoP nonces required
#   protected_server   <URL_DPOP> = http://127.0.0.1:<P3>/mcp, MCP_AUTH_ISSUER=<the DPoP issuer>,
#                                  MCP_DPOP=required
#   as.mjs --opaque    issuer http://127.0.0.1:<AS_OPAQUE>, resources <URL_OPAQUE> and <URL> (the
#                      latter only to mint a token for another resource): opaque access tokens,
#                      introspection for the client mcp-rs / rs-secret
#   protected_server   <URL_OPAQUE> = http://127.0.0.1:<P4>/mcp, MCP_AUTH_ISSUER=<the opaque issuer>,
#                                  MCP_INTROSPECTION_URL=<its introspection_endpoint, from its
#                                  metadata>, MCP_INTROSPECTION_CLIENT_ID/SECRET=mcp-rs/rs-secret
#   protected_server   <URL_ROLES> = http://127.0.0.1:<P5>/mcp, MCP_AUTH_ISSUER=<issuer>,
#                                  MCP_ROLE_CLAIM/MCP_ROLE_MAP/MCP_WORKSPACE_CLAIM (see roles.sh)
#
# Environment:
#   MCP_INTEROP_SDK_VERSION            @modelcontextprotocol/sdk version (default 1.32.2, as ../run.sh)
#   MCP_INTEROP_OIDC_PROVIDER_VERSION  oidc-provider version             (default 9.13.3)
#   MCP_INTEROP_CACHE                  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop);
#                                      npm packages in sdk-<v>/ and oidc-provider-<v>/, the Python venv
#                                      (mcp 2.3.0, as ../py.sh makes it) in py-mcp-2.3.0/
#   MCP_INTEROP_PY_REQUIREMENTS        pinned Python requirements (default <repo>/tests/peers/py/requirements-mcp2.txt)
#   PYTHON                             interpreter the venv is made from (default python3)
#   MCP_INTEROP_CLIENT_BIN             our client for dpop.sh, introspection.sh (default <repo>/target/debug/examples/client)
#   MCP_INTEROP_DEBUG=1                SDK debug logs on stderr; servers with RUST_LOG=debug
# Node >= 22 (oidc-provider 9 and the SDK run on it): the node on PATH if new enough, else the one
# tests/conformance/conformance-lib.sh (mc_setup) provides.
# Packages come from the npm registry and PyPI only, installed once into the cache; all other
# traffic is loopback.
# Prints each suite's checks and "N passed, M failed" (all suites) last; exits 1 on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../../.." && pwd)

: "${MCP_INTEROP_SDK_VERSION:=1.32.2}"
: "${MCP_INTEROP_OIDC_PROVIDER_VERSION:=9.13.3}"
: "${MCP_INTEROP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop}"
: "${MCP_INTEROP_PY_REQUIREMENTS:=$ROOT/tests/peers/py/requirements-mcp2.txt}"
PYTHON=${PYTHON:-python3}
MCP_PY_VERSION=2.3.0

SERVER_BIN=${1:-$ROOT/target/debug/examples/protected_server}
# A missing client fails dpop.sh's checks, not the whole run.
CLIENT_BIN=${MCP_INTEROP_CLIENT_BIN:-$ROOT/target/debug/examples/client}
CONFORMANCE_LIB=${MCP_INTEROP_CONFORMANCE_LIB:-$ROOT/tests/conformance/conformance-lib.sh}

log() { echo "[interop-oauth] $*" >&2; }
die() {
  log "$*"
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$SERVER_BIN" ] || die "server binary not found: $SERVER_BIN (build it: cargo build --example protected_server)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH"
[ -f "$MCP_INTEROP_PY_REQUIREMENTS" ] || die "requirements not found: $MCP_INTEROP_PY_REQUIREMENTS"

# --- Node >= 22 --------------------------------------------------------------------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE_BIN=$(command -v node || true)
if [ -z "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 22 ]; then
  [ -f "$CONFORMANCE_LIB" ] || die "need node >= 22 (PATH has ${NODE_BIN:-none}) and $CONFORMANCE_LIB is missing"
  # shellcheck source=/dev/null
  source "$CONFORMANCE_LIB"
  mc_setup || die "mc_setup could not provide node >= 22"
  NODE_BIN=$NODE
fi
[ "$(node_major "$NODE_BIN")" -ge 22 ] || die "node $("$NODE_BIN" --version) is older than 22"

# --- npm packages (same pattern as ../run.sh) --------------------------------------------------
# npm_install_once DEST PACKAGE VERSION: installs PACKAGE@VERSION into DEST (a temp dir renamed
# into place, so a half-finished install never looks complete), unless done already.
npm_install_once() {
  local dest=$1 pkg=$2 ver=$3 tmp got
  got=$("$NODE_BIN" -p "require('$dest/node_modules/$pkg/package.json').version" 2>/dev/null || true)
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
  got=$("$NODE_BIN" -p "require('$dest/node_modules/$pkg/package.json').version" 2>/dev/null || true)
  [ "$got" = "$ver" ] || { log "expected $pkg $ver in $dest, found '$got'"; return 1; }
}

SDK_DIR="$MCP_INTEROP_CACHE/sdk-$MCP_INTEROP_SDK_VERSION"
OIDC_DIR="$MCP_INTEROP_CACHE/oidc-provider-$MCP_INTEROP_OIDC_PROVIDER_VERSION"
npm_install_once "$SDK_DIR" @modelcontextprotocol/sdk "$MCP_INTEROP_SDK_VERSION" \
  || die "could not install @modelcontextprotocol/sdk@$MCP_INTEROP_SDK_VERSION"
npm_install_once "$OIDC_DIR" oidc-provider "$MCP_INTEROP_OIDC_PROVIDER_VERSION" \
  || die "could not install oidc-provider@$MCP_INTEROP_OIDC_PROVIDER_VERSION"

# --- Python venv (same as ../py.sh: made once, reused while the requirements are unchanged) ------
VENV=$MCP_INTEROP_CACHE/py-mcp-$MCP_PY_VERSION
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
[ "$GOT" = "$MCP_PY_VERSION" ] || die "expected mcp $MCP_PY_VERSION in $VENV, found '${GOT:-none}'"

# --- Processes ---------------------------------------------------------------------------------
# Eight free loopback ports, held open together so that they differ.
read -r AS_PORT PORT PORT_ALL AS_DPOP_PORT PORT_DPOP AS_OPAQUE_PORT PORT_OPAQUE PORT_ROLES < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(8)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()') || die "could not find free ports"
ISSUER="http://127.0.0.1:$AS_PORT"
URL="http://127.0.0.1:$PORT/mcp"
URL_ALL="http://127.0.0.1:$PORT_ALL/mcp"
ISSUER_DPOP="http://127.0.0.1:$AS_DPOP_PORT"
URL_DPOP="http://127.0.0.1:$PORT_DPOP/mcp"
ISSUER_OPAQUE="http://127.0.0.1:$AS_OPAQUE_PORT"
URL_OPAQUE="http://127.0.0.1:$PORT_OPAQUE/mcp"
URL_ROLES="http://127.0.0.1:$PORT_ROLES/mcp"

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/mcp-interop-oauth.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  rm -rf "$LOGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_http URL PID WHAT: waits (at most 30 s) until URL answers HTTP at all (any status).
wait_http() {
  "$PY" - "$1" "$2" <<'EOF'
import os, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("process exited")
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
}

if [ -n "${MCP_INTEROP_DEBUG:-}" ]; then export RUST_LOG=${RUST_LOG:-debug}; fi
export NO_COLOR=1 # plain server logs

log "starting oidc-provider $MCP_INTEROP_OIDC_PROVIDER_VERSION at $ISSUER (node $("$NODE_BIN" --version))"
MCP_INTEROP_OIDC_DIR=$OIDC_DIR "$NODE_BIN" "$HERE/as.mjs" "$AS_PORT" "$URL" "$URL_ALL" "$URL_ROLES" >"$LOGDIR/as.log" 2>&1 &
AS_PID=$!
PIDS+=("$AS_PID")
wait_http "$ISSUER/.well-known/openid-configuration" "$AS_PID" \
  || { cat "$LOGDIR/as.log" >&2; die "oidc-provider did not come up at $ISSUER"; }
log "starting oidc-provider (dPoP, nonces required) at $ISSUER_DPOP"
MCP_INTEROP_OIDC_DIR=$OIDC_DIR "$NODE_BIN" "$HERE/as.mjs" --dpop=nonce "$AS_DPOP_PORT" "$URL_DPOP" \
  >"$LOGDIR/as-dpop.log" 2>&1 &
AS_DPOP_PID=$!
PIDS+=("$AS_DPOP_PID")
wait_http "$ISSUER_DPOP/.well-known/openid-configuration" "$AS_DPOP_PID" \
  || { cat "$LOGDIR/as-dpop.log" >&2; die "oidc-provider (dPoP) did not come up at $ISSUER_DPOP"; }
log "starting oidc-provider (opaque access tokens, introspection) at $ISSUER_OPAQUE"
# <URL> as a second resource: introspection.sh gets a token for it that <URL_OPAQUE> must refuse.
MCP_INTEROP_OIDC_DIR=$OIDC_DIR "$NODE_BIN" "$HERE/as.mjs" --opaque "$AS_OPAQUE_PORT" "$URL_OPAQUE" "$URL" \
  >"$LOGDIR/as-opaque.log" 2>&1 &
AS_OPAQUE_PID=$!
PIDS+=("$AS_OPAQUE_PID")
wait_http "$ISSUER_OPAQUE/.well-known/openid-configuration" "$AS_OPAQUE_PID" \
  || { cat "$LOGDIR/as-opaque.log" >&2; die "oidc-provider (opaque) did not come up at $ISSUER_OPAQUE"; }
# Where oidc-provider serves introspection: its metadata says.
INTROSPECTION_URL=$("$PY" - "$ISSUER_OPAQUE/.well-known/openid-configuration" <<'EOF'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    print(json.load(r).get("introspection_endpoint") or "")
EOF
) || INTROSPECTION_URL=
[ -n "$INTROSPECTION_URL" ] || die "oidc-provider (opaque) at $ISSUER_OPAQUE advertises no introspection_endpoint"

log "starting $SERVER_BIN at $URL and (MCP_REQUIRED_SCOPES='read files:delete') at $URL_ALL"
# Only what is set here: the other knobs of protected_server (MCP_PUBLIC_URL, MCP_AUTH_AUDIENCE,
# MCP_FAIL_OPEN, MCP_DPOP, MCP_INTROSPECTION_*) are cleared, whatever the caller's environment holds.
export MCP_PUBLIC_URL= MCP_AUTH_AUDIENCE= MCP_FAIL_OPEN= MCP_DPOP= \
  MCP_INTROSPECTION_URL= MCP_INTROSPECTION_CLIENT_ID= MCP_INTROSPECTION_CLIENT_SECRET= \
  MCP_ROLE_CLAIM= MCP_ROLE_MAP= MCP_WORKSPACE_CLAIM= MCP_WORKSPACE_PATTERN=
MCP_BIND=127.0.0.1:$PORT MCP_AUTH_ISSUER=$ISSUER MCP_REQUIRED_SCOPES= \
  "$SERVER_BIN" >"$LOGDIR/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
MCP_BIND=127.0.0.1:$PORT_ALL MCP_AUTH_ISSUER=$ISSUER MCP_REQUIRED_SCOPES="read files:delete" \
  "$SERVER_BIN" >"$LOGDIR/server-all.log" 2>&1 &
SERVER_ALL_PID=$!
PIDS+=("$SERVER_ALL_PID")
log "starting $SERVER_BIN (MCP_DPOP=required, issuer $ISSUER_DPOP) at $URL_DPOP"
MCP_BIND=127.0.0.1:$PORT_DPOP MCP_AUTH_ISSUER=$ISSUER_DPOP MCP_REQUIRED_SCOPES= MCP_DPOP=required \
  "$SERVER_BIN" >"$LOGDIR/server-dpop.log" 2>&1 &
SERVER_DPOP_PID=$!
PIDS+=("$SERVER_DPOP_PID")
log "starting $SERVER_BIN (MCP_INTROSPECTION_URL=$INTROSPECTION_URL, issuer $ISSUER_OPAQUE) at $URL_OPAQUE"
MCP_BIND=127.0.0.1:$PORT_OPAQUE MCP_AUTH_ISSUER=$ISSUER_OPAQUE MCP_REQUIRED_SCOPES= \
  MCP_INTROSPECTION_URL=$INTROSPECTION_URL MCP_INTROSPECTION_CLIENT_ID=mcp-rs MCP_INTROSPECTION_CLIENT_SECRET=rs-secret \
  "$SERVER_BIN" >"$LOGDIR/server-opaque.log" 2>&1 &
SERVER_OPAQUE_PID=$!
PIDS+=("$SERVER_OPAQUE_PID")
log "starting $SERVER_BIN (MCP_ROLE_CLAIM, MCP_WORKSPACE_CLAIM, issuer $ISSUER) at $URL_ROLES"
MCP_BIND=127.0.0.1:$PORT_ROLES MCP_AUTH_ISSUER=$ISSUER MCP_REQUIRED_SCOPES=read \
  MCP_ROLE_CLAIM='[["realm_access","roles"],["resource_access","mcp-server","roles"],"roles","groups","https://example.com/roles"]' \
  MCP_ROLE_MAP='{"mcp-operator":"operator","mcp-developer":"developer","MCP.Manager":"manager","mcp-operators":"operator","mcp-admin":"admin"}' \
  MCP_WORKSPACE_CLAIM=groups \
  "$SERVER_BIN" >"$LOGDIR/server-roles.log" 2>&1 &
SERVER_ROLES_PID=$!
PIDS+=("$SERVER_ROLES_PID")
wait_http "$URL" "$SERVER_PID" || { cat "$LOGDIR/server.log" >&2; die "protected_server did not come up at $URL"; }
wait_http "$URL_ALL" "$SERVER_ALL_PID" \
  || { cat "$LOGDIR/server-all.log" >&2; die "protected_server did not come up at $URL_ALL"; }
wait_http "$URL_DPOP" "$SERVER_DPOP_PID" \
  || { cat "$LOGDIR/server-dpop.log" >&2; die "protected_server (MCP_DPOP=required) did not come up at $URL_DPOP"; }
wait_http "$URL_OPAQUE" "$SERVER_OPAQUE_PID" \
  || { cat "$LOGDIR/server-opaque.log" >&2; die "protected_server (MCP_INTROSPECTION_URL) did not come up at $URL_OPAQUE"; }
wait_http "$URL_ROLES" "$SERVER_ROLES_PID" \
  || { cat "$LOGDIR/server-roles.log" >&2; die "protected_server (MCP_ROLE_CLAIM) did not come up at $URL_ROLES"; }

# --- Suites ------------------------------------------------------------------------------------
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

MCP_INTEROP_SDK_DIR=$SDK_DIR run_suite "ts-oauth (@modelcontextprotocol/sdk $MCP_INTEROP_SDK_VERSION, node $("$NODE_BIN" --version))" \
  timeout 120 "$NODE_BIN" "$HERE/ts-oauth.mjs" "$URL" "$ISSUER"
run_suite "py-oauth (mcp $MCP_PY_VERSION, $("$PY" --version))" \
  timeout 150 "$PY" "$HERE/py-oauth.py" "$URL" "$ISSUER" "$URL_ALL"
PYTHON=$PY run_suite "dpop (examples/client, oidc-provider $MCP_INTEROP_OIDC_PROVIDER_VERSION dPoP, MCP_DPOP=required)" \
  timeout 180 bash "$HERE/dpop.sh" "$URL_DPOP" "$ISSUER_DPOP" "$LOGDIR/server-dpop.log" "$CLIENT_BIN"
MCP_INTEROP_TOKEN_FORMAT=opaque MCP_INTEROP_SDK_DIR=$SDK_DIR run_suite "ts-oauth opaque (@modelcontextprotocol/sdk $MCP_INTEROP_SDK_VERSION, oidc-provider opaque tokens, MCP_INTROSPECTION_URL)" \
  timeout 120 "$NODE_BIN" "$HERE/ts-oauth.mjs" "$URL_OPAQUE" "$ISSUER_OPAQUE"
# After ts-oauth opaque, so that its tokens are in the server log that introspection.sh checks.
PYTHON=$PY run_suite "introspection (examples/client, oidc-provider $MCP_INTEROP_OIDC_PROVIDER_VERSION opaque tokens, MCP_INTROSPECTION_URL)" \
  timeout 180 bash "$HERE/introspection.sh" "$URL_OPAQUE" "$ISSUER_OPAQUE" "$LOGDIR/server-opaque.log" \
  "$LOGDIR/as-opaque.log" "$URL" "$CLIENT_BIN"
PYTHON=$PY run_suite "roles (curl, oidc-provider $MCP_INTEROP_OIDC_PROVIDER_VERSION extraTokenClaims, MCP_ROLE_CLAIM/MCP_WORKSPACE_CLAIM)" \
  timeout 180 bash "$HERE/roles.sh" "$URL_ROLES" "$ISSUER" "$LOGDIR/server-roles.log"

for p in "as.log:$AS_PID:oidc-provider" "server.log:$SERVER_PID:protected_server" \
  "server-all.log:$SERVER_ALL_PID:protected_server (all scopes)" "as-dpop.log:$AS_DPOP_PID:oidc-provider (dPoP)" \
  "server-dpop.log:$SERVER_DPOP_PID:protected_server (MCP_DPOP=required)" \
  "as-opaque.log:$AS_OPAQUE_PID:oidc-provider (opaque)" \
  "server-opaque.log:$SERVER_OPAQUE_PID:protected_server (MCP_INTROSPECTION_URL)" \
  "server-roles.log:$SERVER_ROLES_PID:protected_server (MCP_ROLE_CLAIM)"; do
  IFS=: read -r _ pid what <<<"$p"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL $what exited during the run"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
done
if [ "$TOTAL_FAILED" -ne 0 ] || [ -n "${MCP_INTEROP_DEBUG:-}" ]; then
  for f in as.log server.log server-all.log as-dpop.log server-dpop.log as-opaque.log server-opaque.log server-roles.log; do
    echo "== $f (last 25 lines)"
    tail -n 25 "$LOGDIR/$f"
  done
fi

echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
