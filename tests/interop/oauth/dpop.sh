#!/usr/bin/env bash
# DPoP interop suite (RFC 9449), run by run.sh: a third-party authorization server (oidc-provider,
# as.mjs --dpop=nonce: dPoP feature on, server nonces required) issues a DPoP-bound token to our
# client (examples/client: ClientCredentialsAuth + .dpop(key), everything discovered from the
# server's 401), which calls a tool on protected_server with MCP_DPOP=required; the same token
# sent as a Bearer token is refused.
#
# Usage: dpop.sh URL ISSUER SERVER_LOG [CLIENT_BIN]
#   URL         the MCP endpoint of a protected_server with MCP_DPOP=required whose
#               MCP_AUTH_ISSUER is ISSUER
#   ISSUER      the DPoP-enabled as.mjs (the client is registered there: --issuer; the rest
#               it finds by discovery)
#   SERVER_LOG  that server's log (its audit lines name the credential kind of each call)
#   CLIENT_BIN  default: $MCP_INTEROP_CLIENT_BIN, else target/debug/examples/client under the
#               repo root (build it: cargo build --example client)
# Needs curl and python3 ($PYTHON), loopback only. One line per check (PASS/FAIL ...), then
# "N passed, M failed"; exits 1 on any failure. Tokens are never printed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null) || ROOT=$(cd "$HERE/../../.." && pwd)
PYTHON=${PYTHON:-python3}

if [ $# -lt 3 ]; then
  echo "usage: dpop.sh URL ISSUER SERVER_LOG [CLIENT_BIN]" >&2
  exit 2
fi
URL=$1 ISSUER=$2 SERVER_LOG=$3
CLIENT_BIN=${4:-${MCP_INTEROP_CLIENT_BIN:-$ROOT/target/debug/examples/client}}

# shellcheck source=checks.sh
. "$HERE/checks.sh"

if ! [ -x "$CLIENT_BIN" ]; then
  fail "client binary not found: $CLIENT_BIN (build it: cargo build --example client)"
  finish
fi
command -v curl >/dev/null 2>&1 || { fail "curl not found on PATH"; finish; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-interop-dpop.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
echo "server $URL (MCP_DPOP=required), authorization server $ISSUER (oidc-provider, dPoP with nonces)"

# --- 1. client credentials + DPoP: tools/call add ---------------------------------------------
timeout 60 "$CLIENT_BIN" --url "$URL" --issuer "$ISSUER" --client-id mcp-reader --client-secret reader-secret \
  --dpop-key generate --print-token call add '{"a":2,"b":3}' >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$TMP/out")" = "5" ]; then
  pass "client (client credentials, --dpop-key generate) call add {a:2,b:3} -> 5"
else
  fail "client (client credentials, --dpop-key generate) call add {a:2,b:3}: exit $rc, stdout '$(head -c 200 "$TMP/out")'"
  show "$TMP/err"
fi

JKT=$(sed -n 's/^DPoP key thumbprint (jkt): //p' "$TMP/err" | tail -n 1)
SCHEME=$(sed -n 's/^access token (\([^)]*\)): .*/\1/p' "$TMP/err" | tail -n 1)
TOKEN=$(sed -n 's/^access token ([^)]*): //p' "$TMP/err" | tail -n 1)

# --- 2. the token is DPoP-bound: token_type DPoP, JWT cnf.jkt = the client's key --------------
if [ -z "$TOKEN" ]; then
  fail "no access token printed by --print-token"
  show "$TMP/err"
else
  if [ "$SCHEME" = "DPoP" ]; then
    pass "token sent as Authorization: DPoP (the AS answered token_type DPoP)"
  else
    fail "token sent with scheme '$SCHEME', expected DPoP (the AS's token_type)"
  fi
  # The JWT payload (not verified here: the server did that), as "jkt aud".
  CLAIMS=$(TOKEN=$TOKEN "$PYTHON" -c '
import base64, json, os
try:
    p = os.environ["TOKEN"].split(".")[1]
    c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    print((c.get("cnf") or {}).get("jkt", ""), c.get("aud", ""), c.get("jti", ""))
except Exception as e:
    print("", "", "", "undecodable:", e)
')
  read -r TOKEN_JKT TOKEN_AUD TOKEN_JTI _ <<<"$CLAIMS"
  if [ -n "$TOKEN_JKT" ] && [ "$TOKEN_JKT" = "$JKT" ]; then
    pass "access token JWT has cnf.jkt = the client's key thumbprint ($JKT)"
  elif [ -n "$TOKEN_JKT" ]; then
    fail "access token cnf.jkt $TOKEN_JKT differs from the client's key thumbprint '$JKT'"
  else
    fail "access token JWT has no cnf.jkt (not DPoP-bound): $CLAIMS"
  fi
  if [ "$TOKEN_AUD" = "$URL" ]; then
    pass "access token aud = $URL (RFC 8707 resource)"
  else
    fail "access token aud '$TOKEN_AUD', expected $URL"
  fi

  # --- 3. the same token as Bearer (and as DPoP with no proof) is refused ---------------------
  # refused NAME AUTHORIZATION_SCHEME EXPECTED_ERROR: POSTs tools/call add with the token; wants
  # 401 with a DPoP challenge (carrying error="EXPECTED_ERROR" when that is not empty).
  refused() {
    local name=$1 scheme=$2 want=$3 status challenge
    status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 20 \
      -H "Authorization: $scheme $TOKEN" -H 'Content-Type: application/json' \
      -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}' \
      "$URL")
    challenge=$(tr -d '\r' <"$TMP/headers" | grep -i '^www-authenticate:' | grep -iE ':[[:space:]]*dpop([[:space:]]|$)' | head -n 1)
    if [ "$status" != 401 ]; then
      fail "$name: HTTP $status, expected 401"
      sed 's/^/    /' "$TMP/body" | head -c 600
      echo
    elif [ -z "$challenge" ]; then
      fail "$name: 401 without a DPoP challenge: $(tr -d '\r' <"$TMP/headers" | grep -i '^www-authenticate:' | tr '\n' ' ')"
    elif [ -n "$want" ] && ! grep -qiE "error=\"?$want\"?" <<<"$challenge"; then
      fail "$name: 401 with a DPoP challenge but not error=\"$want\": $challenge"
    else
      pass "$name: 401, ${challenge#*: }"
    fi
  }
  refused "same token as Authorization: Bearer" Bearer invalid_token
  refused "same token as Authorization: DPoP without a proof" DPoP ""
fi

# --- 4. the server saw a DPoP credential for the call (its audit log) -------------------------
# whoami does not expose the credential kind; the audit line of the call does.
if [ -f "$SERVER_LOG" ]; then
  line=$(sed -E 's/\x1b\[[0-9;]*m//g' "$SERVER_LOG" | grep 'tool_call.succeeded' | grep 'tool="add"' \
    | grep -F "credential_id=\"${TOKEN_JTI:-?}\"" | tail -n 1)
  if grep -q 'credential="dpop"' <<<"$line"; then
    pass "server audit: tool_call.succeeded add with credential=\"dpop\" (the token's jti)"
  else
    fail "server audit: no tool_call.succeeded add with credential=\"dpop\" for the token's jti: ${line:-none}"
  fi
else
  fail "server log not found: $SERVER_LOG"
fi

# --- 5. without a DPoP key the client stops before asking for a token ------------------------
# The server's metadata says dpop_bound_access_tokens_required: a Bearer token would be refused,
# so the client fails at once (exit 2) with an error naming the requirement.
timeout 60 "$CLIENT_BIN" --url "$URL" --issuer "$ISSUER" --client-id mcp-reader --client-secret reader-secret \
  --scope read call add '{"a":2,"b":3}' >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'dpop_bound_access_tokens_required' "$TMP/err"; then
  pass "client without --dpop-key: exit 2 before any token request (the server requires DPoP-bound tokens)"
else
  fail "client without --dpop-key --scope read: exit $rc (expected 2 naming dpop_bound_access_tokens_required), stdout '$(head -c 200 "$TMP/out")'"
  show "$TMP/err"
fi

finish
