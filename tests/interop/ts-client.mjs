#!/usr/bin/env node
// Interop check: the official TypeScript SDK client (@modelcontextprotocol/sdk 1.x,
// Client + StreamableHTTPClientTransport) against a Streamable HTTP server of this
// framework, in the legacy (session) protocol era, used as a new user would.
//
// Usage: node ts-client.mjs http://127.0.0.1:PORT/mcp
//
// The SDK is imported from $MCP_INTEROP_SDK_DIR (a directory whose node_modules holds
// @modelcontextprotocol/sdk, as run.sh installs it) or, when that is unset, by bare
// specifier (an SDK installed next to this file or globally resolvable).
// Prints one line per check and "N passed, M failed" last; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const url = process.argv[2];
if (!url) {
  console.error('usage: node ts-client.mjs http://127.0.0.1:PORT/mcp');
  process.exit(2);
}

const sdkDir = process.env.MCP_INTEROP_SDK_DIR;
const sdkRoot = sdkDir ? join(sdkDir, 'node_modules', '@modelcontextprotocol', 'sdk') : undefined;
const sdkImport = (sub) =>
  import(sdkRoot ? pathToFileURL(join(sdkRoot, 'dist', 'esm', sub)).href : `@modelcontextprotocol/sdk/${sub}`);

const { Client } = await sdkImport('client/index.js');
const { StreamableHTTPClientTransport } = await sdkImport('client/streamableHttp.js');
const { McpError, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } = await sdkImport('types.js');

let sdkVersion = '?';
if (sdkRoot) {
  try {
    sdkVersion = JSON.parse(readFileSync(join(sdkRoot, 'package.json'), 'utf8')).version;
  } catch {
    /* informational only */
  }
}

let passed = 0;
let failed = 0;
const ok = (name, detail = '') => {
  passed++;
  console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`);
};
const fail = (name, detail) => {
  failed++;
  console.log(`FAIL ${name}: ${detail}`);
};
const short = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > 300 ? `${s.slice(0, 300)}...` : s;
};
const errText = (e) =>
  e instanceof McpError ? `McpError code=${e.code} message=${JSON.stringify(e.message)}` : String(e?.stack ?? e);

// One run must end by itself, whatever the server does.
const watchdog = setTimeout(() => {
  fail('watchdog', 'the whole run took more than 60 s; giving up');
  console.log(`ts-client: ${passed} passed, ${failed} failed`);
  process.exit(1);
}, 60_000);
watchdog.unref();

const REQ = { timeout: 15_000 };
const transportErrors = [];

console.log(`# @modelcontextprotocol/sdk ${sdkVersion} (latest protocol ${LATEST_PROTOCOL_VERSION}) -> ${url}`);

const client = new Client({ name: 'mcp-interop-ts-client', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(url));
client.onerror = (e) => transportErrors.push(e);

let connected = false;
try {
  await client.connect(transport, REQ);
  connected = true;
  const pv = transport.protocolVersion;
  const sv = client.getServerVersion();
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(pv)) {
    fail('initialize', `negotiated protocol version ${JSON.stringify(pv)} is not one the SDK supports`);
  } else if (!transport.sessionId) {
    fail('initialize', `no Mcp-Session-Id issued (protocol ${pv}); expected a session in the legacy era`);
  } else {
    ok('initialize', `protocol ${pv}, server ${sv?.name} ${sv?.version}, session ${transport.sessionId.slice(0, 8)}...`);
  }
} catch (e) {
  fail('initialize', errText(e));
}

if (connected) {
  // tools/list
  let tools = [];
  try {
    const res = await client.listTools(undefined, REQ);
    tools = res.tools ?? [];
    ok('tools/list', `${tools.length} tools`);
  } catch (e) {
    fail('tools/list', errText(e));
  }
  for (const name of ['add', 'echo']) {
    const t = tools.find((x) => x.name === name);
    if (!t) fail(`tools/list has ${name}`, 'not listed');
    else if (t.inputSchema?.type !== 'object')
      fail(`tools/list has ${name}`, `inputSchema.type is ${JSON.stringify(t.inputSchema?.type)}, expected "object"`);
    else ok(`tools/list has ${name}`, `inputSchema properties: ${Object.keys(t.inputSchema.properties ?? {}).join(', ')}`);
  }

  // tools/call add
  try {
    const res = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, REQ);
    const text = res.content?.find((c) => c.type === 'text')?.text;
    if (res.isError) fail('tools/call add {a:2,b:3}', `isError result: ${short(res)}`);
    else if (text !== '5') fail('tools/call add {a:2,b:3}', `expected text "5", got ${short(res)}`);
    else ok('tools/call add {a:2,b:3}', 'text "5"');
  } catch (e) {
    fail('tools/call add {a:2,b:3}', errText(e));
  }

  // tools/call echo, non-ASCII round trip
  const sent = 'hé';
  try {
    const res = await client.callTool({ name: 'echo', arguments: { text: sent } }, undefined, REQ);
    const text = res.content?.find((c) => c.type === 'text')?.text;
    if (res.isError) fail('tools/call echo "hé"', `isError result: ${short(res)}`);
    else if (typeof text !== 'string' || !text.includes(sent))
      fail('tools/call echo "hé"', `expected the text to contain ${JSON.stringify(sent)}, got ${short(res)}`);
    else ok('tools/call echo "hé"', `text ${JSON.stringify(text)}`);
  } catch (e) {
    fail('tools/call echo "hé"', errText(e));
  }

  // tools/call of a tool that does not exist: a JSON-RPC error (the spec's example is
  // -32602 "Unknown tool") or, tolerated, a tool result with isError: true.
  const missing = 'no_such_tool_for_interop';
  try {
    const res = await client.callTool({ name: missing, arguments: {} }, undefined, REQ);
    const text = res.content?.find((c) => c.type === 'text')?.text;
    if (res.isError === true && typeof text === 'string' && text.length > 0)
      ok('tools/call unknown tool', `tool error result: ${short(text)}`);
    else fail('tools/call unknown tool', `expected a JSON-RPC error or isError result, got ${short(res)}`);
  } catch (e) {
    if (e instanceof McpError && Number.isInteger(e.code) && e.code < 0)
      ok('tools/call unknown tool', `JSON-RPC error ${e.code}: ${short(e.message)}`);
    else fail('tools/call unknown tool', `expected a JSON-RPC error, got ${errText(e)}`);
  }

  // resources: read test://static-text if the server lists it
  if (client.getServerCapabilities()?.resources) {
    try {
      const res = await client.listResources(undefined, REQ);
      const r = (res.resources ?? []).find((x) => x.uri === 'test://static-text');
      if (!r) {
        ok('resources/list', `${res.resources?.length ?? 0} resources; test://static-text not listed, read skipped`);
      } else {
        ok('resources/list', `${res.resources.length} resources, test://static-text listed`);
        try {
          const rr = await client.readResource({ uri: 'test://static-text' }, REQ);
          const c = rr.contents?.[0];
          if (!c || c.uri !== 'test://static-text' || typeof c.text !== 'string' || c.text.length === 0)
            fail('resources/read test://static-text', `expected one text content for that uri, got ${short(rr)}`);
          else ok('resources/read test://static-text', `text ${short(c.text)}`);
        } catch (e) {
          fail('resources/read test://static-text', errText(e));
        }
      }
    } catch (e) {
      fail('resources/list', errText(e));
    }
  } else {
    ok('resources/list', 'server declares no resources capability; skipped');
  }

  // Terminate the session (HTTP DELETE), then close; then the old session id must be gone.
  const oldSession = transport.sessionId;
  const protocolVersion = transport.protocolVersion;
  try {
    await transport.terminateSession();
    if (transport.sessionId) fail('terminateSession (DELETE)', 'session id still set after DELETE');
    else ok('terminateSession (DELETE)');
  } catch (e) {
    fail('terminateSession (DELETE)', errText(e));
  }
  try {
    await client.close();
    ok('close');
  } catch (e) {
    fail('close', errText(e));
  }
  if (oldSession) {
    // Spec (Streamable HTTP, session management): after termination the server MUST
    // answer requests carrying that session id with 404 Not Found.
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': oldSession,
          'mcp-protocol-version': protocolVersion ?? LATEST_PROTOCOL_VERSION,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await r.text();
      if (r.status === 404) ok('terminated session answers 404');
      else fail('terminated session answers 404', `POST tools/list with the old session id got HTTP ${r.status}: ${short(body)}`);
    } catch (e) {
      fail('terminated session answers 404', String(e));
    }
  }
}

// Errors the transport reported on its own (e.g. a failed GET SSE stream); the ones from
// aborting our own streams at close are expected.
for (const e of transportErrors) console.log(`# transport reported: ${short(String(e?.message ?? e))}`);
const unexpected = transportErrors.filter((e) => !/abort/i.test(`${e?.name} ${e?.message}`));
if (unexpected.length === 0) ok('no transport errors', transportErrors.length ? `${transportErrors.length} abort(s) at close` : '');
else fail('no transport errors', unexpected.map((e) => short(String(e))).join(' | '));

console.log(`ts-client: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
