#!/usr/bin/env bash
# Key administration over REST against examples/workflow_server (issue 17): a temporary SQLite
# database and audit directory, the first administrator made with the CLI (`keys create --role
# admin --surface rest_api`), then with curl and with the official Python SDK's HTTP stack
# (httpx2 from the venv tests/interop/py.sh makes; the checks are in admin-client.py): create,
# list, rotate (with a grace period), revoke, users; a non-admin gets 403, no credential 401;
# the audit files hold each action with its actor and target; no secret is in the audit files
# or the server's log.
#
# Usage: tests/interop/admin.sh [PATH_TO_workflow_server]
#   default binary: target/debug/examples/workflow_server under the repo root (this script
#   builds nothing: cargo build --example workflow_server).
# Environment: PYTHON, MCP_INTEROP_CACHE, MCP_INTEROP_PY_REQUIREMENTS as for py.sh (the same
# venv, made once and reused). Loopback only; secrets are never printed.
# Prints the checks and "N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:-$ROOT/target/debug/examples/workflow_server}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac

PYTHON=${PYTHON:-python3}
: "${MCP_INTEROP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-interop}"
: "${MCP_INTEROP_PY_REQUIREMENTS:=$ROOT/tests/peers/py/requirements-mcp2.txt}"
VENV=$MCP_INTEROP_CACHE/py-mcp-2.3.0

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
ko() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
die() { ko "$*"; finish; }

[ -x "$BIN" ] || die "workflow_server not found: $BIN (cargo build --example workflow_server)"
command -v curl >/dev/null || die "curl is required"

# The venv of py.sh: made once, reused while the requirements are unchanged.
STAMP=$VENV/.requirements.sha256
WANT=$(sha256sum "$MCP_INTEROP_PY_REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ] || ! [ -x "$VENV/bin/python" ]; then
  echo "[admin] making $VENV ..." >&2
  mkdir -p "$MCP_INTEROP_CACHE"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || die "python3 -m venv $VENV failed"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$MCP_INTEROP_PY_REQUIREMENTS" >&2 \
    || die "pip install -r $MCP_INTEROP_PY_REQUIREMENTS failed"
  echo "$WANT" >"$STAMP"
fi
PY=$VENV/bin/python

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mcp-admin.XXXXXX")
chmod 700 "$DIR"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SECRETS=$DIR/secrets # every secret seen, one a line: for the no-secret check, never printed
: >"$SECRETS"

wf() { (cd "$DIR" && timeout 60 "$BIN" --db "$DIR/auth.db" --audit-dir "$DIR/audit" "$@"); }
# key NAME ROLE SURFACE...: makes a service-account key with the CLI; sets KEY_ID and KEY.
key() {
  local name=$1 role=$2 out args=()
  shift 2
  for s in "$@"; do args+=(--surface "$s"); done
  out=$(wf keys create --name "$name" --role "$role" "${args[@]}" --service-account 2>>"$DIR/cli.log") || return 1
  KEY_ID=$(printf '%s\n' "$out" | head -n 1 | cut -d' ' -f1)
  KEY=$(printf '%s\n' "$out" | tail -n 1)
  printf '%s\n' "$KEY" >>"$SECRETS"
}
key root admin rest_api || die "keys create --role admin (CLI)"
ADMIN=$KEY
ok "CLI: the first administrator (keys create --role admin --surface rest_api), id $KEY_ID"
key ops operator rest_api mcp || die "keys create --role operator (CLI)"
OPERATOR=$KEY

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()') \
  || die "no free port"
BASE=http://127.0.0.1:$PORT
(cd "$DIR" && exec "$BIN" --db "$DIR/auth.db" --audit-dir "$DIR/audit" serve --addr "127.0.0.1:$PORT") \
  >"$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -s -o /dev/null "$BASE/api/keys" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$DIR/server.log"; die "workflow_server exited"; }
  sleep 0.1
done

# --- curl ---------------------------------------------------------------------------------------
# api METHOD PATH KEY [JSON]: the status on stdout, the body in $DIR/body (never printed whole).
api() {
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
  if [ -n "${4:-}" ]; then
    curl -s -o "$DIR/body" -w '%{http_code}' -X "$1" "${auth[@]}" -H 'Content-Type: application/json' \
      --data "$4" "$BASE$2"
  else
    curl -s -o "$DIR/body" -w '%{http_code}' -X "$1" "${auth[@]}" "$BASE$2"
  fi
}
field() { # field a.b: a member of the last body
  "$PY" -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$DIR/body" "$1" 2>/dev/null
}
# expect NAME WANTED GOT
expect() { if [ "$3" = "$2" ]; then ok "curl: $1"; else ko "curl: $1 (got $3, expected $2)"; fi; }
# mcp KEY: the status of tools/call whoami (2026-07-28 framing) with KEY.
mcp() {
  curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/mcp" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami' \
    --data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"admin-sh","version":"0"}}}}'
}

expect "no credential -> 401" 401 "$(api GET /api/keys "")"
grep -qi '^www-authenticate: bearer' <(curl -s -D - -o /dev/null "$BASE/api/keys") \
  && ok "curl: the 401 carries a Bearer challenge" || ko "curl: the 401 carries a Bearer challenge"
expect "operator GET /api/keys -> 403" 403 "$(api GET /api/keys "$OPERATOR")"
expect "operator POST /api/keys -> 403" 403 \
  "$(api POST /api/keys "$OPERATOR" '{"name":"sneaky","role":"admin","surfaces":["rest_api"]}')"
expect "operator POST /api/keys/ID/revoke -> 403" 403 "$(api POST "/api/keys/$KEY_ID/revoke" "$OPERATOR")"

expect "POST /api/keys -> 201" 201 \
  "$(api POST /api/keys "$ADMIN" '{"name":"curl-ci","role":"operator","surfaces":["mcp"],"expires_in":"90d"}')"
CI_ID=$(field key.id)
CI=$(field secret)
printf '%s\n' "$CI" >>"$SECRETS"
expect "the new key works on /mcp" 200 "$(mcp "$CI")"
expect "GET /api/keys -> 200" 200 "$(api GET /api/keys "$ADMIN")"
grep -q "\"$CI_ID\"" "$DIR/body" && ok "curl: the list shows the new key" || ko "curl: the list shows the new key"
grep -qF -- "${CI: -40}" "$DIR/body" && ko "curl: a secret in the list" || ok "curl: no secret in the list"

expect "POST /api/keys/ID/rotate {grace_seconds: 3} -> 200" 200 \
  "$(api POST "/api/keys/$CI_ID/rotate" "$ADMIN" '{"grace_seconds":3}')"
CI2=$(field secret)
printf '%s\n' "$CI2" >>"$SECRETS"
expect "the old secret works during the grace" 200 "$(mcp "$CI")"
expect "the new secret works" 200 "$(mcp "$CI2")"
STATUS=200
for _ in $(seq 120); do # bounded: 30 s at most
  STATUS=$(mcp "$CI")
  [ "$STATUS" = 200 ] || break
  sleep 0.25
done
expect "after the grace the old secret gets 401" 401 "$STATUS"
expect "the new secret still works" 200 "$(mcp "$CI2")"
expect "POST /api/keys/ID/revoke -> 200" 200 "$(api POST "/api/keys/$CI_ID/revoke" "$ADMIN")"
expect "the revoked key is refused" 401 "$(mcp "$CI2")"
expect "malformed JSON -> 400" 400 "$(api POST /api/keys "$ADMIN" '{"name":')"
expect "unknown id -> 404" 404 "$(api DELETE /api/keys/no-such-id "$ADMIN")"

# --- the Python SDK's HTTP stack ----------------------------------------------------------------
OUT=$(ADMIN_URL=$BASE ADMIN_KEY=$ADMIN OPERATOR_KEY=$OPERATOR SECRETS_FILE=$SECRETS \
  timeout 180 "$PY" "$HERE/admin-client.py")
RC=$?
printf '%s\n' "$OUT" | grep -Ev '^[0-9]+ passed, [0-9]+ failed$'
LINE=$(printf '%s\n' "$OUT" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -n "$LINE" ]; then
  PASSED=$((PASSED + ${LINE%% passed*}))
  N=${LINE#*passed, }
  FAILED=$((FAILED + ${N%% failed*}))
  [ "$RC" -ne 0 ] && [ "${N%% failed*}" -eq 0 ] && ko "py: exit $RC with no failed check"
else
  ko "py: admin-client.py ended (exit $RC) without a summary line"
fi

# --- the audit trail ----------------------------------------------------------------------------
# Each action with its actor (the credential id) and target, from the JSON-lines files (written
# off the request path: polled, bounded).
audit_has() { # audit_has ACTION OUTCOME [TARGET]
  cat "$DIR"/audit/* 2>/dev/null | "$PY" -c '
import json, sys
action, outcome, target = sys.argv[1], sys.argv[2], sys.argv[3]
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("action") == action and e.get("outcome") == outcome and e.get("credential_id") \
            and e.get("subject") and (not target or e.get("target") == target):
        sys.exit(0)
sys.exit(1)' "$1" "$2" "${3:-}"
}
for spec in "key.create succeeded $CI_ID" "key.rotate succeeded $CI_ID" "key.revoke succeeded $CI_ID" \
  "key.list succeeded" "key.create denied" "key.revoke denied $KEY_ID" "key.create failed" \
  "user.create succeeded py-user" "user.disable succeeded py-user"; do
  set -- $spec
  found=
  for _ in $(seq 50); do audit_has "$@" && { found=1; break; }; sleep 0.2; done
  [ -n "$found" ] && ok "audit: $1 $2 ${3:-} (with actor)" || ko "audit: $1 $2 ${3:-} (with actor)"
done

kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
LEAKED=0
while IFS= read -r s; do
  [ -n "$s" ] || continue
  grep -rqF -- "${s: -40}" "$DIR/audit" "$DIR/server.log" "$DIR/cli.log" 2>/dev/null && LEAKED=$((LEAKED + 1))
done <"$SECRETS"
[ "$(grep -c . "$SECRETS")" -ge 5 ] && [ "$LEAKED" -eq 0 ] \
  && ok "no secret in the audit files, the server log or the CLI's stderr ($(grep -c . "$SECRETS") secrets checked)" \
  || ko "no secret in the audit files or logs ($LEAKED found)"
if [ "$FAILED" -ne 0 ]; then
  echo "== server log (last 30 lines)"
  tail -n 30 "$DIR/server.log"
fi
finish
