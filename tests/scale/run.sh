#!/usr/bin/env bash
# Scale run: several instances of the example servers behind a real load balancer (nginx from
# the distribution's packages, round-robin, no stickiness), sharing one Redis and one PostgreSQL,
# driven by the official SDK clients and by raw HTTP. Issue 15.
#
#   nginx :LB_P  -> protected_server x3 (one issuer: oidc-provider, as.mjs --dpop; MCP_PUBLIC_URL =
#                   the balancer's URL; MCP_REDIS_URL; MCP_DPOP=allowed; one MCP_REQUEST_STATE_KEY;
#                   audit trail in PostgreSQL, schema scale_protected)
#   nginx :LB_W  -> workflow_server x3 (API keys, users, audit in PostgreSQL, schema scale_workflow)
#   redis-server and a throwaway PostgreSQL cluster of this run's own, on free loopback ports (the
#   test suite's Redis and PostgreSQL are never touched)
#
# Checks (each line names what failed):
#   1 sdk         official Python SDK (mcp 2.3.0: 2026-07-28 pinned, auto, legacy) and official
#                 TypeScript SDK (legacy) through the balancer: archive_files with progress and
#                 elicitation, tools/list, several calls spread over the three instances
#   2 resume      a legacy POST's SSE stream cut after its first event, resumed with GET +
#                 Last-Event-ID + Mcp-Session-Id through the balancer: each event id once, the result
#   3 workflow    a key made with `workflow_server keys create` works on every instance and through
#                 the balancer; after `keys revoke` every instance answers 401 on the next request
#   4 listchange  an archive made on instance A reaches a legacy GET stream and a 2026-07-28
#                 subscriptions/listen on instance B (notifications/resources/list_changed)
#   5 outage      Redis shut down: DPoP requests and legacy-session requests 503 + Retry-After (never
#                 200, never a hang), a replayed proof refused, the stateless era unaffected, no
#                 panic; Redis back: the same succeed within MCP_SCALE_RECOVERY s. PostgreSQL
#                 stopped: valid and revoked API keys 503 + Retry-After, protected_server unaffected;
#                 back: valid 200, revoked 401
#
# Usage: tests/scale/run.sh [BIN_DIR]
#   BIN_DIR holds protected_server and workflow_server (default target/debug/examples under the
#   repo root; build them first: cargo build --example protected_server --example workflow_server;
#   this script builds nothing).
#
# Needs: nginx (apt-get install nginx; .ci/run installs it), redis-server and redis-cli, the
# PostgreSQL server binaries (initdb, pg_ctl: PATH or /usr/lib/postgresql/*/bin), python3, npm,
# node >= 22 (the one on PATH, else tests/conformance/conformance-lib.sh provides it).
# Packages come from the npm registry and PyPI only, into the same caches as tests/interop:
#   MCP_INTEROP_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop): the
#                          venv py-mcp-2.3.0 (made as tests/interop/py.sh makes it), sdk-<v>/,
#                          oidc-provider-<v>/
#   MCP_INTEROP_SDK_VERSION            @modelcontextprotocol/sdk (default 1.32.2)
#   MCP_INTEROP_OIDC_PROVIDER_VERSION  oidc-provider (default 9.13.3)
#   MCP_INTEROP_PY_REQUIREMENTS        default <repo>/tests/peers/py/requirements-mcp2.txt
#   MCP_SCALE_RECOVERY     seconds a store's return may take to show (default 15)
#   MCP_SCALE_KEEP=1       keep the run's directory (logs, nginx.conf) and print where it is
#   MCP_SCALE_ONLY="1 3"   run only these checks (numbers as above)
#   MCP_SCALE_PROTECTED_BIN, MCP_SCALE_WORKFLOW_BIN  one binary from elsewhere (bench/scale.sh)
#   MCP_SCALE_EXEC=CMD     instead of the checks, run CMD (bash -c) with everything up and its
#                          addresses exported (P_LB, P_URLS, W_LB, W_URLS, ISSUER, SCALE_DIR, PY,
#                          ACCESS_LOG, REDIS_PORT): its exit status is the run's (bench/scale.sh)
# All traffic is on 127.0.0.1. Tokens and API keys go into files of the run's directory (0600),
# never into the output.
# Prints each check and "N passed, M failed" last; exits non-zero on any failure. Everything it
# started is stopped on exit.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../.." && pwd)
INTEROP=$ROOT/tests/interop

: "${MCP_INTEROP_SDK_VERSION:=1.32.2}"
: "${MCP_INTEROP_OIDC_PROVIDER_VERSION:=9.13.3}"
: "${MCP_INTEROP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop}"
: "${MCP_INTEROP_PY_REQUIREMENTS:=$ROOT/tests/peers/py/requirements-mcp2.txt}"
: "${MCP_SCALE_RECOVERY:=15}"
: "${MCP_SCALE_ONLY:=1 2 3 4 5}"
export MCP_SCALE_RECOVERY
PYTHON=${PYTHON:-python3}
MCP_PY_VERSION=2.3.0

BIN_DIR=${1:-$ROOT/target/debug/examples}
# The instances run in directories of their own: make the path absolute.
BIN_DIR=$(cd "$BIN_DIR" 2>/dev/null && pwd) || BIN_DIR=${1:-$ROOT/target/debug/examples}
PROTECTED=${MCP_SCALE_PROTECTED_BIN:-$BIN_DIR/protected_server}
WORKFLOW=${MCP_SCALE_WORKFLOW_BIN:-$BIN_DIR/workflow_server}
CONFORMANCE_LIB=${MCP_INTEROP_CONFORMANCE_LIB:-$ROOT/tests/conformance/conformance-lib.sh}

log() { echo "[scale] $*" >&2; }
die() {
  log "$*"
  echo "0 passed, 1 failed"
  exit 1
}
wanted() { [[ " $MCP_SCALE_ONLY " == *" $1 "* ]]; }

for b in "$PROTECTED" "$WORKFLOW"; do
  [ -x "$b" ] || die "not found: $b (cargo build --example protected_server --example workflow_server)"
done
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; }
[ -n "$NGINX" ] || die "nginx not found (apt-get install -y nginx)"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "redis-server/redis-cli not found (apt-get install -y redis-server)"
pg_bin() {
  command -v "$1" 2>/dev/null && return
  ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1
}
INITDB=$(pg_bin initdb)
PG_CTL=$(pg_bin pg_ctl)
[ -n "$INITDB" ] && [ -n "$PG_CTL" ] || die "initdb/pg_ctl not found (apt-get install -y postgresql)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH"

# --- node >= 22, npm packages, Python venv (as tests/interop/oauth/run.sh) ----------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE_BIN=$(command -v node || true)
if [ -z "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 22 ]; then
  [ -f "$CONFORMANCE_LIB" ] || die "need node >= 22 (PATH has ${NODE_BIN:-none}) and $CONFORMANCE_LIB is missing"
  # shellcheck source=/dev/null
  source "$CONFORMANCE_LIB"
  mc_setup >&2 || die "mc_setup could not provide node >= 22"
  NODE_BIN=$NODE
fi
[ "$(node_major "$NODE_BIN")" -ge 22 ] || die "node $("$NODE_BIN" --version) is older than 22"

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

# --- the run's directory, ports, cleanup -------------------------------------------------------
umask 077
DIR=$(mktemp -d /tmp/mcp-scale.XXXXXX)
# nginx's workers (user nobody when started as root) read nothing here but must traverse it.
chmod 755 "$DIR"
export SCALE_DIR=$DIR

read -r AS_PORT LBP LBW P1 P2 P3 W1 W2 W3 REDIS_PORT PG_PORT < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(11)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()') || die "could not find free ports"

PIDS=()
NGINX_PID=
REDIS_PID=
PG_STARTED=
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_pg() {
  [ -n "$PG_STARTED" ] || return 0
  as_pg "$PG_CTL" -D "$DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  PG_STARTED=
}
cleanup() {
  local pid
  [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null
  for pid in "${PIDS[@]}" $REDIS_PID; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}" $REDIS_PID $NGINX_PID; do wait "$pid" 2>/dev/null; done
  stop_pg
  if [ -n "${MCP_SCALE_KEEP:-}" ]; then
    rm -f "$DIR"/token "$DIR"/wf-key* "$DIR"/dpop.json
    log "kept $DIR (tokens and keys removed)"
  else
    rm -rf "$DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # wait_http URL PID: until URL answers HTTP at all (30 s)
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

# --- Redis and PostgreSQL of this run ----------------------------------------------------------
start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
    >>"$DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  return 1
}
start_pg() {
  as_pg "$PG_CTL" -D "$DIR/pg/data" -w -l "$DIR/pg/server.log" \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DIR/pg -c max_connections=100 -c fsync=off" start >/dev/null \
    || return 1
  PG_STARTED=1
}
log "redis-server on 127.0.0.1:$REDIS_PORT"
start_redis || die "redis-server did not start: $(tail -n 5 "$DIR/redis.log")"
log "PostgreSQL (throwaway cluster) on 127.0.0.1:$PG_PORT"
mkdir -p "$DIR/pg"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  chown postgres "$DIR/pg"
fi
as_pg "$INITDB" -D "$DIR/pg/data" -U postgres --auth=trust -E UTF8 >"$DIR/pg/initdb.log" 2>&1 \
  || die "initdb failed: $(tail -n 5 "$DIR/pg/initdb.log")"
start_pg || die "PostgreSQL did not start: $(tail -n 5 "$DIR/pg/server.log" 2>/dev/null)"

export MCP_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export MCP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"
export NO_COLOR=1
ISSUER="http://127.0.0.1:$AS_PORT"
P_LB="http://127.0.0.1:$LBP/mcp"
W_LB="http://127.0.0.1:$LBW/mcp"
P_URLS="http://127.0.0.1:$P1/mcp http://127.0.0.1:$P2/mcp http://127.0.0.1:$P3/mcp"
W_URLS="http://127.0.0.1:$W1/mcp http://127.0.0.1:$W2/mcp http://127.0.0.1:$W3/mcp"
export ISSUER P_LB W_LB P_URLS W_URLS ACCESS_LOG="$DIR/access.log"

# --- the authorization server and the instances ------------------------------------------------
log "oidc-provider (dPoP on, no nonces) at $ISSUER, resource $P_LB"
MCP_INTEROP_OIDC_DIR=$OIDC_DIR "$NODE_BIN" "$INTEROP/oauth/as.mjs" --dpop "$AS_PORT" "$P_LB" >"$DIR/as.log" 2>&1 &
AS_PID=$!
PIDS+=("$AS_PID")
wait_http "$ISSUER/.well-known/openid-configuration" "$AS_PID" \
  || { tail -n 20 "$DIR/as.log" >&2; die "oidc-provider did not come up at $ISSUER"; }

# Only what is set here: the other knobs of protected_server are cleared.
export MCP_AUTH_AUDIENCE= MCP_FAIL_OPEN= MCP_INTROSPECTION_URL= MCP_INTROSPECTION_CLIENT_ID= \
  MCP_INTROSPECTION_CLIENT_SECRET= MCP_STEP_UP= MCP_REQUIRED_SCOPES= OTEL_EXPORTER_OTLP_ENDPOINT=
STATE_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')
SERVER_PIDS=()
SERVER_LOGS=()
i=0
for port in "$P1" "$P2" "$P3"; do
  i=$((i + 1))
  MCP_BIND=127.0.0.1:$port MCP_PUBLIC_URL=$P_LB MCP_AUTH_ISSUER=$ISSUER MCP_DPOP=allowed \
    MCP_REQUEST_STATE_KEY=$STATE_KEY MCP_DATABASE_SCHEMA=scale_protected \
    "$PROTECTED" >"$DIR/protected-$i.log" 2>&1 &
  SERVER_PIDS+=($!)
  SERVER_LOGS+=("$DIR/protected-$i.log")
  PIDS+=($!)
done
i=0
for port in "$W1" "$W2" "$W3"; do
  i=$((i + 1))
  mkdir -p "$DIR/workflow-$i"
  (cd "$DIR/workflow-$i" && MCP_DATABASE_SCHEMA=scale_workflow exec "$WORKFLOW" serve --addr "127.0.0.1:$port") \
    >"$DIR/workflow-$i.log" 2>&1 &
  SERVER_PIDS+=($!)
  SERVER_LOGS+=("$DIR/workflow-$i.log")
  PIDS+=($!)
done
i=0
for url in $P_URLS $W_URLS; do
  wait_http "$url" "${SERVER_PIDS[$i]}" || { tail -n 20 "${SERVER_LOGS[$i]}" >&2; die "no server at $url"; }
  i=$((i + 1))
done

# --- nginx -------------------------------------------------------------------------------------
mkdir -p "$DIR/nginx-temp" && chmod 755 "$DIR/nginx-temp" # workers (nobody) create files below
proxy_settings='
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The servers check Host (loopback names are accepted): pass the client'"'"'s through.
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # SSE: nothing buffered either way, streams may idle for long.
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      # Which instance answered (the checks report it).
      add_header X-Upstream $upstream_addr always;'
cat >"$DIR/nginx.conf" <<EOF
# Generated by tests/scale/run.sh: round-robin, no stickiness.
daemon off;
master_process on;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  log_format scale '\$upstream_addr \$status \$request_method \$request_time';
  access_log $DIR/access.log scale;
  client_body_temp_path $DIR/nginx-temp/body;
  proxy_temp_path $DIR/nginx-temp/proxy;
  fastcgi_temp_path $DIR/nginx-temp/fastcgi;
  uwsgi_temp_path $DIR/nginx-temp/uwsgi;
  scgi_temp_path $DIR/nginx-temp/scgi;
  upstream protected {
    server 127.0.0.1:$P1;
    server 127.0.0.1:$P2;
    server 127.0.0.1:$P3;
    keepalive 16;
  }
  upstream workflow {
    server 127.0.0.1:$W1;
    server 127.0.0.1:$W2;
    server 127.0.0.1:$W3;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$LBP;
    location / {
      proxy_pass http://protected;$proxy_settings
    }
  }
  server {
    listen 127.0.0.1:$LBW;
    location / {
      proxy_pass http://workflow;$proxy_settings
    }
  }
}
EOF
"$NGINX" -t -q -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" 2>"$DIR/nginx-t.log" \
  || { cat "$DIR/nginx-t.log" >&2; die "nginx refused the generated configuration"; }
log "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'): $P_LB -> :$P1 :$P2 :$P3, $W_LB -> :$W1 :$W2 :$W3"
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" 2>>"$DIR/nginx-error.log" &
NGINX_PID=$!
wait_http "$P_LB" "$NGINX_PID" || { cat "$DIR/nginx-error.log" >&2; die "nginx did not come up at $P_LB"; }
wait_http "$W_LB" "$NGINX_PID" || die "nginx did not come up at $W_LB"

# --- suites ------------------------------------------------------------------------------------
TOTAL_PASSED=0
TOTAL_FAILED=0
run_suite() { # run_suite NAME CMD...: runs a suite, echoes its output, adds its final counts
  local name=$1 out rc line
  shift
  echo "== $name"
  out=$("$@" 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -Ev '^[0-9]+ passed, [0-9]+ failed$'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $name: ended (exit $rc) without a summary line"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    return
  fi
  local p=${line%% passed*} f=${line#*passed, }
  f=${f%% failed*}
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exit $rc with no failed check"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}
check() { # check NAME COMMAND...: one check of the harness itself (its output goes to a log)
  if "${@:2}" >>"$DIR/harness.log" 2>&1; then
    echo "ok   $1"
    TOTAL_PASSED=$((TOTAL_PASSED + 1))
  else
    echo "FAIL $1"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}
no_panic() { # no_panic WHEN: no server log says "panicked"
  local f bad=
  for f in "${SERVER_LOGS[@]}"; do
    if grep -q 'panicked' "$f"; then
      bad="$bad $(basename "$f"): $(grep -m1 'panicked' "$f" | cut -c1-200)"
    fi
  done
  if [ -z "$bad" ]; then
    echo "ok   no server panicked ($1)"
    TOTAL_PASSED=$((TOTAL_PASSED + 1))
  else
    echo "FAIL a server panicked ($1):$bad"
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}
checks() { timeout 120 "$PY" "$HERE/checks.py" "$@"; }
pyx() { timeout 240 "$PY" "$@"; }

if [ -n "${MCP_SCALE_EXEC:-}" ]; then
  export PY REDIS_PORT
  bash -c "$MCP_SCALE_EXEC"
  exit
fi

if wanted 1; then
  run_suite "1 sdk: a token for $P_LB" checks token
  run_suite "1 sdk: official Python SDK (mcp $MCP_PY_VERSION) through the balancer" pyx "$HERE/sdk-py.py"
  MCP_INTEROP_SDK_DIR=$SDK_DIR run_suite \
    "1 sdk: official TypeScript SDK ($MCP_INTEROP_SDK_VERSION, legacy era only) through the balancer" \
    timeout 120 "$NODE_BIN" "$HERE/sdk-ts.mjs"
fi

if wanted 1; then
  # protected_server's audit trail (MCP_DATABASE_URL): the three instances' events in one table.
  audit_rows() { "$(pg_bin psql)" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "select count(*) from scale_protected.audit_events" 2>>"$DIR/harness.log"; }
  ROWS=$(audit_rows)
  check "protected_server audit events in PostgreSQL (schema scale_protected): ${ROWS:-none}" [ "${ROWS:-0}" -gt 0 ]
fi

if wanted 2; then
  run_suite "2 resume: a cut legacy SSE stream resumed through the balancer" checks resume
fi

# workflow_server keys, made and revoked with its CLI on the same database.
wf_cli() { (cd "$DIR" && MCP_DATABASE_SCHEMA=scale_workflow timeout 60 "$WORKFLOW" "$@"); }
make_key() { # make_key NAME FILE: the key's id on stdout, its secret into FILE (never printed)
  local out
  out=$(wf_cli keys create --name "$1" --role operator --surface mcp --service-account 2>>"$DIR/keys.log") || return 1
  printf '%s' "$(printf '%s\n' "$out" | tail -n 1)" >"$2"
  printf '%s\n' "$out" | head -n 1 | cut -d' ' -f1
}
REVOKED_ID=
if wanted 3 || wanted 5; then
  echo "== 3 workflow: API keys in PostgreSQL, revocation on the next request"
  REVOKED_ID=$(make_key scale-revoked "$DIR/wf-key") && [ -n "$REVOKED_ID" ]
  check "workflow_server keys create (the key to revoke, id $REVOKED_ID) on the shared database" [ -s "$DIR/wf-key" ]
  VALID_ID=$(make_key scale-valid "$DIR/wf-key-valid")
  check "workflow_server keys create (a key that stays valid, id $VALID_ID)" [ -s "$DIR/wf-key-valid" ]
  export WF_KEY_FILE=$DIR/wf-key WF_VALID_KEY_FILE=$DIR/wf-key-valid
  run_suite "3 workflow: the new key on every instance and through the balancer" checks workflow-ok
  check "workflow_server keys revoke $REVOKED_ID" wf_cli keys revoke "$REVOKED_ID"
  run_suite "3 workflow: the revoked key on every instance and through the balancer" checks workflow-revoked
fi

if wanted 4; then
  run_suite "4 listchange: a change on instance A heard on instance B" checks listchange
fi

if wanted 5; then
  run_suite "5 outage: Redis up (baseline)" checks redis-before
  echo "== 5 outage: Redis stops answering (SIGSTOP): bounded waits, not hangs"
  kill -STOP "$REDIS_PID"
  OUTAGE="not answering" run_suite "5 outage: Redis not answering" checks redis-down
  kill -CONT "$REDIS_PID"
  run_suite "5 outage: Redis answering again (SIGCONT)" checks redis-up
  no_panic "Redis not answering"
  echo "== 5 outage: redis-cli shutdown nosave"
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
  wait "$REDIS_PID" 2>/dev/null
  REDIS_PID=
  check "Redis is down" bash -c "! redis-cli -p $REDIS_PORT ping >/dev/null 2>&1"
  run_suite "5 outage: Redis down" checks redis-down
  no_panic "Redis down"
  start_redis
  check "Redis restarted on 127.0.0.1:$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
  run_suite "5 outage: Redis back" checks redis-up
  no_panic "Redis back"

  echo "== 5 outage: PostgreSQL stopped (pg_ctl stop -m immediate)"
  stop_pg
  run_suite "5 outage: PostgreSQL down" checks pg-down
  no_panic "PostgreSQL down"
  check "PostgreSQL restarted" start_pg
  run_suite "5 outage: PostgreSQL back" checks pg-up
  no_panic "PostgreSQL back"
fi

echo "== processes"
i=0
for pid in "${SERVER_PIDS[@]}"; do
  check "$(basename "${SERVER_LOGS[$i]}" .log) still running" kill -0 "$pid"
  i=$((i + 1))
done
check "nginx still running" kill -0 "$NGINX_PID"
no_panic "end of the run"
if [ "$TOTAL_FAILED" -ne 0 ]; then
  for f in "${SERVER_LOGS[@]}" "$DIR/nginx-error.log"; do
    echo "== $(basename "$f"): last warnings and errors"
    grep -E 'WARN|ERROR|panicked|\[(error|crit|alert|emerg)\]' "$f" | tail -n 6 | cut -c1-300
  done
fi

echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
