#!/usr/bin/env bash
# Interop check: the MCP Inspector CLI (@modelcontextprotocol/inspector, pinned) against a
# Streamable HTTP server of this framework, invoked as its README tells a new user:
#   npx @modelcontextprotocol/inspector --cli URL --transport http --method tools/list
# (ad-hoc URL runs negotiate the legacy protocol era by default in Inspector v2).
#
# Usage: tests/interop/inspector.sh http://127.0.0.1:PORT/mcp
#
# Environment:
#   MCP_INTEROP_INSPECTOR_DIR      dir whose node_modules holds the pinned Inspector (run.sh
#                                  sets it); unset: `npx --yes @modelcontextprotocol/inspector@VERSION`
#   MCP_INTEROP_INSPECTOR_VERSION  pinned version (default 2.12.0; needs node >= 22.19)
#   NODE                           node binary to run it with (default: node on PATH)
# Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
set -uo pipefail

: "${MCP_INTEROP_INSPECTOR_VERSION:=2.12.0}"
URL=${1:?usage: inspector.sh http://127.0.0.1:PORT/mcp}
NODE=${NODE:-$(command -v node)}

if [ -n "${MCP_INTEROP_INSPECTOR_DIR:-}" ]; then
  INSPECTOR=("$NODE" "$MCP_INTEROP_INSPECTOR_DIR/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js")
else
  INSPECTOR=(npx --yes "@modelcontextprotocol/inspector@$MCP_INTEROP_INSPECTOR_VERSION")
  export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
fi

# A new user's empty home: no catalog, no stored OAuth state, nothing left behind in ours.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcp-interop-inspector.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK/home"
mkdir -p "$HOME"

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   $1${2:+ ($2)}"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1: $2"; }

# inspect NAME ARGS...: runs the CLI against $URL; stdout -> $WORK/NAME.out,
# stderr -> $WORK/NAME.err, exit code -> $RC.
inspect() {
  local name=$1
  shift
  timeout 60 "${INSPECTOR[@]}" --cli "$URL" --transport http "$@" \
    </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err"
  RC=$?
}

# check NAME JS: evaluates JS with `out` (parsed stdout JSON) and `err` (stderr text);
# JS returns "" for success or a failure description. Prints the description on failure,
# the detail after "|" (if any) on success.
check() {
  local name=$1 js=$2 res
  res=$("$NODE" -e '
    const fs = require("fs");
    const [outFile, errFile, rc] = process.argv.slice(1);
    const raw = fs.readFileSync(outFile, "utf8");
    const err = fs.readFileSync(errFile, "utf8");
    const short = (s) => (s.length > 300 ? s.slice(0, 300) + "..." : s);
    let out;
    try { out = raw.trim() ? JSON.parse(raw) : undefined; }
    catch (e) { console.log("FAIL|stdout is not JSON: " + short(raw)); process.exit(0); }
    const verdict = (function (out, err, rc, raw, short) { '"$js"' })(out, err, Number(rc), raw, short);
    console.log(verdict.startsWith("ok") ? verdict : "FAIL|" + verdict);
  ' "$WORK/$name.out" "$WORK/$name.err" "$RC" 2>&1)
  case $res in
    ok*) ok "$name" "${res#ok|}" ;;
    FAIL\|*) fail "$name" "${res#FAIL|} [exit $RC; stderr: $(head -c 300 "$WORK/$name.err" | tr '\n' ' ')]" ;;
    *) fail "$name" "checker error: $res" ;;
  esac
}

VERSION=$("${INSPECTOR[@]}" --cli --version </dev/null 2>/dev/null | tail -n 1)
echo "# @modelcontextprotocol/inspector ${VERSION:-?} (node $("$NODE" --version)) -> $URL"

inspect tools-list --method tools/list
check tools-list '
  if (rc !== 0) return `exit ${rc}, expected 0`;
  const tools = out?.tools;
  if (!Array.isArray(tools)) return "no tools array in " + short(raw);
  for (const n of ["add", "echo"]) {
    const t = tools.find((x) => x.name === n);
    if (!t) return `tool ${n} not listed`;
    if (t.inputSchema?.type !== "object") return `tool ${n} inputSchema.type is ${JSON.stringify(t.inputSchema?.type)}`;
  }
  return `ok|${tools.length} tools, add and echo with object input schemas`;'

inspect tools-call-add --method tools/call --tool-name add --tool-arg a=2 --tool-arg b=3
check tools-call-add '
  if (rc !== 0) return `exit ${rc}, expected 0`;
  if (out?.isError) return "isError result: " + short(raw);
  const text = out?.content?.find((c) => c.type === "text")?.text;
  if (text !== "5") return "expected text \"5\", got " + short(raw);
  return "ok|text \"5\"";'

inspect tools-call-add-json --method tools/call --tool-name add --tool-arg a=2 --tool-arg b=3 --format json
check tools-call-add-json '
  if (rc !== 0) return `exit ${rc}, expected 0`;
  const text = out?.result?.content?.find((c) => c.type === "text")?.text;
  if (text !== "5" || out.result.isError) return "expected {result:{content:[{text:\"5\"}]}}, got " + short(raw);
  return "ok|--format json: result.content[0].text \"5\"";'

inspect tools-call-echo --method tools/call --tool-name echo --tool-arg 'text=hé'
check tools-call-echo '
  if (rc !== 0) return `exit ${rc}, expected 0`;
  const text = out?.content?.find((c) => c.type === "text")?.text;
  if (typeof text !== "string" || !text.includes("hé")) return "expected the text to contain \"hé\", got " + short(raw);
  return "ok|text " + JSON.stringify(text);'

inspect tools-call-unknown --method tools/call --tool-name no_such_tool_for_interop
check tools-call-unknown '
  if (rc === 0) return "exit 0 for a tool that does not exist; stdout " + short(raw);
  if (!/no_such_tool_for_interop/.test(err + raw)) return "error does not name the tool: " + short(err + raw);
  return `ok|exit ${rc}, the CLI checks tools/list itself: ${short(err.trim())}`;'

inspect resources-read --method resources/read --uri test://static-text
check resources-read '
  if (rc !== 0) return `exit ${rc}, expected 0`;
  const c = out?.contents?.[0];
  if (c?.uri !== "test://static-text" || typeof c?.text !== "string" || !c.text)
    return "expected one text content for test://static-text, got " + short(raw);
  return "ok|text " + short(JSON.stringify(c.text));'

echo "inspector: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
