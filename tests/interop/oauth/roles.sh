#!/usr/bin/env bash
# Roles and workspaces from the identity provider, run by run.sh: a third-party authorization
# server (oidc-provider, as.mjs) issues JWT access tokens whose claims are shaped as Keycloak,
# Entra ID, Okta and Auth0 send them (its extraTokenClaims, per client idp-<shape>); a
# protected_server configured to map them (MCP_ROLE_CLAIM, MCP_ROLE_MAP, MCP_WORKSPACE_CLAIM, as
# run.sh starts it) must report the mapped role in `whoami`, allow or refuse `rotate_logs`
# (min_role operator) accordingly, give the granted role under `?workspace=`, answer 404 for a
# workspace not granted, and give the lowest role (viewer) to a token without the claims or with
# malformed ones. Everything over real HTTP with curl (2026-07-28 framing, one POST per call).
#
# Usage: roles.sh URL ISSUER SERVER_LOG
#   URL         the MCP endpoint of a protected_server with MCP_AUTH_ISSUER=ISSUER and
#                 MCP_ROLE_CLAIM='[["realm_access","roles"],["resource_access","mcp-server","roles"],"roles","groups","https://example.com/roles"]'
#                 MCP_ROLE_MAP='{"mcp-operator":"operator","mcp-developer":"developer","MCP.Manager":"manager","mcp-operators":"operator","mcp-admin":"admin"}'
#                 MCP_WORKSPACE_CLAIM=groups (pattern mcp:{workspace}:{role})
#   ISSUER      the as.mjs whose resources include URL (tokens by client credentials, curl)
#   SERVER_LOG  that server's log (checked to hold no token)
# Needs curl and python3 ($PYTHON), loopback only. One line per check (PASS/FAIL ...), then
# "N passed, M failed"; exits 1 on any failure. Tokens are never printed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}

if [ $# -lt 3 ]; then
  echo "usage: roles.sh URL ISSUER SERVER_LOG" >&2
  exit 2
fi
URL=$1 ISSUER=$2 SERVER_LOG=$3

# shellcheck source=checks.sh
. "$HERE/checks.sh"

command -v curl >/dev/null 2>&1 || { fail "curl not found on PATH"; finish; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-interop-roles.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
echo "server $URL (MCP_ROLE_CLAIM, MCP_WORKSPACE_CLAIM), authorization server $ISSUER (oidc-provider, extraTokenClaims)"

curl -s --max-time 10 -o "$TMP/asm" "$ISSUER/.well-known/openid-configuration"
TOKEN_ENDPOINT=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("token_endpoint") or "")' "$TMP/asm" 2>/dev/null)
if [ -z "$TOKEN_ENDPOINT" ]; then
  fail "oidc-provider metadata at $ISSUER: no token_endpoint"
  finish
fi

# token SHAPE: a client-credentials access token of the client idp-SHAPE for URL, into
# $TMP/token-SHAPE (never printed). Fails the check and returns 1 when there is none.
token() {
  local shape=$1 status
  status=$(curl -s --max-time 10 -o "$TMP/grant-$shape" -w '%{http_code}' \
    -u "idp-$shape:$shape-secret" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode scope=read \
    --data-urlencode "resource=$URL" \
    "$TOKEN_ENDPOINT")
  if [ "$status" != 200 ]; then
    fail "token for idp-$shape: HTTP $status $(head -c 300 "$TMP/grant-$shape")"
    return 1
  fi
  "$PYTHON" - "$TMP/grant-$shape" "$TMP/token-$shape" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1])).get("access_token") or ""
open(sys.argv[2], "w").write(t)
sys.exit(0 if t.count(".") == 2 else 1)
EOF
  if [ $? -ne 0 ]; then
    fail "token for idp-$shape: no JWT access token in the answer"
    return 1
  fi
}

# mcp SHAPE TOOL [WORKSPACE]: tools/call TOOL with idp-SHAPE's token, at URL or
# URL?workspace=WORKSPACE; prints "<status> <outcome>" where outcome is the JSON of
# {"error": bool, "text": ..., "structured": ..., "reason": ...} (the last for non-200 answers).
mcp() {
  local shape=$1 tool=$2 ws=${3:-} url=$URL status
  [ -n "$ws" ] && url="$URL?workspace=$ws"
  local body
  body=$(printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"roles.sh","version":"0"}}}}' "$tool")
  # The token goes to curl in a header file, never on a command line.
  printf 'Authorization: Bearer %s\n' "$(cat "$TMP/token-$shape")" >"$TMP/auth-header"
  status=$(curl -s --max-time 15 -o "$TMP/resp" -w '%{http_code}' -X POST "$url" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $tool" \
    -H @"$TMP/auth-header" --data "$body")
  rm -f "$TMP/auth-header"
  printf '%s ' "$status"
  "$PYTHON" - "$TMP/resp" <<'EOF'
import json, sys
raw = open(sys.argv[1]).read()
msgs = []
try:
    msgs = [json.loads(raw)]
except ValueError:
    for line in raw.splitlines():
        if line.startswith("data:"):
            try:
                msgs.append(json.loads(line[5:].strip()))
            except ValueError:
                pass
out = {"error": None, "text": None, "structured": None, "reason": None}
for m in msgs:
    if "result" in m:
        r = m["result"]
        out["error"] = bool(r.get("isError"))
        c = r.get("content") or [{}]
        out["text"] = c[0].get("text")
        out["structured"] = r.get("structuredContent")
    elif "reason" in m:
        out["reason"] = m["reason"]
    elif "error" in m:
        out["reason"] = m["error"].get("message")
print(json.dumps(out))
EOF
}

# field JSON EXPR: a Python expression over the outcome `o` (JSON with sorted keys unless a string).
field() {
  "$PYTHON" -c 'import json,sys; o=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(v if isinstance(v,str) else json.dumps(v, sort_keys=True))' "$1" "$2" 2>/dev/null
}

# expect_role SHAPE ROLE [WORKSPACE]: whoami's role (at WORKSPACE) is ROLE.
expect_role() {
  local shape=$1 want=$2 ws=${3:-} out status got
  out=$(mcp "$shape" whoami "$ws")
  status=${out%% *}
  got=$(field "${out#* }" '(o["structured"] or {}).get("role")')
  local where=${ws:+ in workspace $ws}
  if [ "$status" = 200 ] && [ "$got" = "$want" ]; then
    pass "idp-$shape: whoami role $want$where"
  else
    fail "idp-$shape: whoami$where: HTTP $status, role '$got' (want $want)"
  fi
}

# expect_rotate SHAPE ROLE [WORKSPACE]: rotate_logs (min_role operator) allowed for operator and
# above, otherwise refused with the documented tool error naming ROLE.
expect_rotate() {
  local shape=$1 role=$2 ws=${3:-} out status err text
  out=$(mcp "$shape" rotate_logs "$ws")
  status=${out%% *}
  err=$(field "${out#* }" 'o["error"]')
  text=$(field "${out#* }" 'o["text"]')
  local where=${ws:+ in workspace $ws}
  case $role in
    viewer)
      local want="Tool \"rotate_logs\" requires role 'operator'. Current role: '$role'"
      if [ "$status" = 200 ] && [ "$err" = true ] && [ "$text" = "$want" ]; then
        pass "idp-$shape: rotate_logs refused$where: $text"
      else
        fail "idp-$shape: rotate_logs$where: HTTP $status, isError $err, '$text' (want the refusal '$want')"
      fi
      ;;
    *)
      if [ "$status" = 200 ] && [ "$err" = false ] && [ "$text" = "logs rotated (role $role)" ]; then
        pass "idp-$shape: rotate_logs allowed$where ($role)"
      else
        fail "idp-$shape: rotate_logs$where: HTTP $status, isError $err, '$text' (want allowed as $role)"
      fi
      ;;
  esac
}

# expect_not_found SHAPE WORKSPACE: ?workspace=WORKSPACE answers 404 workspace_not_found.
expect_not_found() {
  local shape=$1 ws=$2 out status reason
  out=$(mcp "$shape" whoami "$ws")
  status=${out%% *}
  reason=$(field "${out#* }" 'o["reason"]')
  if [ "$status" = 404 ] && [ "$reason" = workspace_not_found ]; then
    pass "idp-$shape: workspace $ws not granted: 404 workspace_not_found"
  else
    fail "idp-$shape: workspace $ws: HTTP $status, reason '$reason' (want 404 workspace_not_found)"
  fi
}

# --- Keycloak: realm roles and the client's roles, pooled; the highest mapped one wins ---------
if token keycloak; then
  expect_role keycloak developer
  expect_rotate keycloak developer
  expect_not_found keycloak ops
fi
# --- Entra ID: app roles in `roles` -------------------------------------------------------------
if token entra; then
  expect_role entra manager
  expect_rotate entra manager
fi
# --- Okta: groups give the role and, by pattern mcp:{workspace}:{role}, the workspaces ----------
if token okta; then
  expect_role okta operator
  expect_rotate okta operator
  expect_role okta developer ops
  expect_rotate okta developer ops
  expect_role okta viewer finance
  expect_rotate okta viewer finance
  # mcp:dev:admin: the top role is never granted per workspace.
  expect_not_found okta dev
  expect_not_found okta nowhere
  out=$(mcp okta whoami ops)
  ws=$(field "${out#* }" '[(o["structured"] or {}).get("workspace"), (o["structured"] or {}).get("global_role"), (o["structured"] or {}).get("workspaces")]')
  want='["ops", "operator", {"grants": [{"role": "viewer", "workspace": "finance"}, {"role": "developer", "workspace": "ops"}]}]'
  if [ "$ws" = "$want" ]; then
    pass "idp-okta: whoami in ops: workspace ops, global role operator, grants finance/viewer and ops/developer"
  else
    fail "idp-okta: whoami in ops: $ws (want $want)"
  fi
fi
# --- Auth0: a namespaced custom claim, read by its full name ------------------------------------
if token auth0; then
  expect_role auth0 admin
  expect_rotate auth0 admin
fi
# --- Deny by default: no claim, malformed claims -----------------------------------------------
for shape in plain garbage; do
  if token "$shape"; then
    expect_role "$shape" viewer
    expect_rotate "$shape" viewer
    expect_not_found "$shape" ops
  fi
done

# --- No token in the server log (AZ-19) --------------------------------------------------------
leaked=0
for f in "$TMP"/token-*; do
  [ -s "$f" ] || continue
  sig=$(cut -d. -f3 <"$f")
  if [ -n "$sig" ] && grep -qF -- "$sig" "$SERVER_LOG"; then
    leaked=$((leaked + 1))
  fi
done
if [ "$leaked" -eq 0 ]; then
  pass "no access token in the server log"
else
  fail "$leaked access token(s) in the server log"
fi

finish
