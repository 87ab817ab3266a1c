#!/usr/bin/env bash
# Token introspection interop suite (RFC 7662), run by run.sh: a third-party authorization server
# (oidc-provider, as.mjs --opaque: opaque access tokens, `introspection` feature on) issues an
# opaque token to our client (examples/client: client credentials, everything discovered from the
# server's 401), which calls a tool on protected_server validating tokens with
# IntrospectionValidator (MCP_INTROSPECTION_URL = the AS's introspection_endpoint, credentials
# mcp-rs / rs-secret). A made-up token and a genuine token issued for another resource are refused.
#
# Usage: introspection.sh URL ISSUER SERVER_LOG AS_LOG [FOREIGN_RESOURCE [CLIENT_BIN]]
#   URL               the MCP endpoint of a protected_server with MCP_AUTH_ISSUER=ISSUER and
#                     MCP_INTROSPECTION_URL=<ISSUER's introspection_endpoint>
#   ISSUER            the as.mjs --opaque (the client's --issuer, where it is registered; used for the
#                     metadata checks and, with FOREIGN_RESOURCE, to get a token by curl)
#   SERVER_LOG        that server's log (checked to hold no token)
#   AS_LOG            that AS's log (its "[as] introspection by client=... answer=<JSON>" lines are
#                     what the server was told: checked for active, aud, scope, iss, exp, client_id)
#   FOREIGN_RESOURCE  another resource the AS issues tokens for (not URL): a genuine token for it
#                     must be refused by the server (the introspection answer's aud is not URL);
#                     skipped when empty
#   CLIENT_BIN        default: $MCP_INTEROP_CLIENT_BIN, else target/debug/examples/client under the
#                     repo root (build it: cargo build --example client)
# Needs curl and python3 ($PYTHON), loopback only. One line per check (PASS/FAIL ...), then
# "N passed, M failed"; exits 1 on any failure. Tokens are never printed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../../.." && pwd)
PYTHON=${PYTHON:-python3}

if [ $# -lt 4 ]; then
  echo "usage: introspection.sh URL ISSUER SERVER_LOG AS_LOG [FOREIGN_RESOURCE [CLIENT_BIN]]" >&2
  exit 2
fi
URL=$1 ISSUER=$2 SERVER_LOG=$3 AS_LOG=$4
FOREIGN=${5:-}
CLIENT_BIN=${6:-${MCP_INTEROP_CLIENT_BIN:-$ROOT/target/debug/examples/client}}

# shellcheck source=checks.sh
. "$HERE/checks.sh"

command -v curl >/dev/null 2>&1 || { fail "curl not found on PATH"; finish; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-interop-introspection.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
echo "server $URL (MCP_INTROSPECTION_URL), authorization server $ISSUER (oidc-provider, opaque tokens, introspection)"

# json_get FILE EXPR: evaluates a Python expression over the JSON document `d` in FILE.
json_get() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    v = eval(sys.argv[2], {"d": d})
except Exception as e:
    v = f"<unreadable: {e}>"
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# --- 1. discovery: the AS advertises its introspection endpoint; the server names the AS --------
curl -s --max-time 10 -o "$TMP/asm" "$ISSUER/.well-known/openid-configuration"
INTROSPECTION=$(json_get "$TMP/asm" 'd.get("introspection_endpoint") or ""')
if [ -n "$INTROSPECTION" ] && [[ "$INTROSPECTION" == "$ISSUER"/* ]]; then
  pass "oidc-provider metadata: introspection_endpoint $INTROSPECTION"
else
  fail "oidc-provider metadata: no introspection_endpoint under $ISSUER: '$INTROSPECTION'"
fi
PRM_URL="${URL%%/mcp*}/.well-known/oauth-protected-resource/mcp"
curl -s --max-time 10 -o "$TMP/prm" "$PRM_URL"
PRM=$(json_get "$TMP/prm" '" ".join(d.get("authorization_servers") or []) + " | " + str(d.get("resource"))')
if [ "$PRM" = "$ISSUER | $URL" ]; then
  pass "protected resource metadata: authorization_servers [$ISSUER], resource $URL"
else
  fail "protected resource metadata at $PRM_URL: authorization_servers | resource = '$PRM' (want '$ISSUER | $URL')"
fi

# --- 2. our client, client credentials by discovery: tools/call add ------------------------------
TOKEN=
if ! [ -x "$CLIENT_BIN" ]; then
  fail "client binary not found: $CLIENT_BIN (build it: cargo build --example client)"
else
  timeout 60 "$CLIENT_BIN" --url "$URL" --issuer "$ISSUER" --client-id mcp-reader --client-secret reader-secret \
    --print-token call add '{"a":2,"b":3}' >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "5" ]; then
    pass "client (client credentials, discovery from the 401) call add {a:2,b:3} -> 5"
  else
    fail "client (client credentials) call add {a:2,b:3}: exit $rc, stdout '$(head -c 200 "$TMP/out")'"
    show "$TMP/err"
  fi
  SCHEME=$(sed -n 's/^access token (\([^)]*\)): .*/\1/p' "$TMP/err" | tail -n 1)
  TOKEN=$(sed -n 's/^access token ([^)]*): //p' "$TMP/err" | tail -n 1)

  # --- 3. the token is opaque ------------------------------------------------------------------
  if [ -z "$TOKEN" ]; then
    fail "no access token printed by --print-token"
    show "$TMP/err"
  else
    dots=$(tr -cd '.' <<<"$TOKEN" | wc -c)
    if [ "$dots" -ne 2 ] && [ "$SCHEME" = "Bearer" ]; then
      pass "the token sent is opaque (${#TOKEN} characters, $dots dots: not a JWT), as Authorization: Bearer"
    else
      fail "the token sent is not an opaque Bearer token: scheme '$SCHEME', $dots dots (a JWT has two)"
    fi
  fi
fi

# --- 4. what the AS told the server about it ----------------------------------------------------
# The last active answer to mcp-rs in the AS log (no token in it: oidc-provider omits a jti equal
# to the token). RFC 7662 §2.2 members the validator relies on: active, aud (RFC 8707 resource),
# scope, iss, exp, client_id.
answer=$(grep -F '[as] introspection by client=mcp-rs status=200 answer={"active":true' "$AS_LOG" 2>/dev/null \
  | grep -F "\"client_id\":\"mcp-reader\"" | tail -n 1 | sed 's/.* answer=//')
if [ -z "$answer" ]; then
  fail "no active introspection answer for mcp-reader's token to mcp-rs in the AS log"
  grep -F '[as] introspection' "$AS_LOG" 2>/dev/null | tail -n 5 | sed 's/^/    /'
else
  printf '%s\n' "$answer" >"$TMP/answer"
  got=$(json_get "$TMP/answer" '"%s|%s|%s|%s|%s" % (d.get("aud"), d.get("scope"), d.get("iss"), type(d.get("exp")).__name__, d.get("client_id"))')
  if [ "$got" = "$URL|read|$ISSUER|int|mcp-reader" ]; then
    pass "introspection answer to the server: active, aud=$URL, scope=read, iss=$ISSUER, exp, client_id=mcp-reader"
  else
    fail "introspection answer to the server lacks a member: aud|scope|iss|exp type|client_id = '$got' in $answer"
  fi
fi

# --- 5. refused tokens -----------------------------------------------------------------------
# refused NAME TOKEN: POSTs tools/call add with `Authorization: Bearer TOKEN`; wants 401 with a
# Bearer challenge carrying error="invalid_token".
refused() {
  local name=$1 token=$2 status challenge
  status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 20 \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}' \
    "$URL")
  challenge=$(tr -d '\r' <"$TMP/headers" | grep -i '^www-authenticate:' | grep -iE ':[[:space:]]*bearer([[:space:]]|$)' | head -n 1)
  if [ "$status" != 401 ]; then
    fail "$name: HTTP $status, expected 401"
    sed 's/^/    /' "$TMP/body" | head -c 600
    echo
  elif ! grep -qiE 'error="?invalid_token"?' <<<"$challenge"; then
    fail "$name: 401 without a Bearer challenge carrying error=\"invalid_token\": $(tr -d '\r' <"$TMP/headers" | grep -i '^www-authenticate:' | tr '\n' ' ')"
  else
    pass "$name: 401, ${challenge#*: }"
  fi
}
# Shaped like oidc-provider's (43 base64url characters), known to no one.
MADE_UP=$("$PYTHON" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')
refused "a made-up opaque token" "$MADE_UP"

if [ -n "$FOREIGN" ]; then
  # A genuine, active token from the same AS for another resource (RFC 8707): its introspection
  # answer says aud=FOREIGN, which this server must not accept.
  curl -s --max-time 10 -o "$TMP/foreign" -u mcp-reader:reader-secret -d grant_type=client_credentials \
    -d scope=read --data-urlencode "resource=$FOREIGN" "$ISSUER/token"
  FOREIGN_TOKEN=$(json_get "$TMP/foreign" 'd.get("access_token") or ""')
  if [ -z "$FOREIGN_TOKEN" ] || [[ "$FOREIGN_TOKEN" == "<unreadable"* ]]; then
    fail "no token from $ISSUER/token for resource $FOREIGN: $(json_get "$TMP/foreign" '{k: v for k, v in d.items() if k != "access_token"}')"
  else
    refused "an active token of the same AS issued for $FOREIGN (aud is not this server)" "$FOREIGN_TOKEN"
  fi
fi

# --- 6. the server log shows no token ----------------------------------------------------------
if [ -f "$SERVER_LOG" ]; then
  leaked=
  # The tokens of this suite, and the server's own introspection secret (as.mjs's mcp-rs).
  for t in "$TOKEN" "$MADE_UP" "${FOREIGN_TOKEN:-}" rs-secret; do
    [ -n "$t" ] && grep -qF -- "$t" "$SERVER_LOG" && leaked=1
  done
  # Anything shaped like an opaque token (40+ base64url characters), whoever's it was (the SDK
  # clients of run.sh use this server too).
  shaped=$(grep -oE '[A-Za-z0-9_-]{40,}' "$SERVER_LOG" | head -n 1)
  if [ -n "$leaked" ]; then
    fail "the server log contains a token sent in this suite (or the introspection secret)"
  elif [ -n "$shaped" ]; then
    fail "the server log contains a token-shaped string (${#shaped} base64url characters)"
  elif ! grep -q 'tool_call.succeeded' "$SERVER_LOG"; then
    fail "the server log has no tool_call.succeeded line: is $SERVER_LOG this server's log?"
  else
    pass "the server log ($(wc -l <"$SERVER_LOG") lines, audit lines included) shows no token and no secret"
  fi
else
  fail "server log not found: $SERVER_LOG"
fi

finish
