#!/usr/bin/env node
// The official TypeScript SDK client (@modelcontextprotocol/sdk 1.x: Client +
// StreamableHTTPClientTransport) against three protected_server instances behind the balancer,
// run by tests/scale/run.sh. The SDK speaks the legacy era only (its latest protocol is
// 2025-11-25): initialize makes a session, used for every request below, which round-robin
// spreads over the three instances.
//
// Usage: node sdk-ts.mjs   (P_LB, or P_TARGET to check this script against one instance, SCALE_DIR,
// ACCESS_LOG and MCP_INTEROP_SDK_DIR from run.sh; the
// token is read from $SCALE_DIR/token and never printed)
//
// Checks: connect (a session, protocol 2025-11-25); tools/list lists archive_files; tools/call
// archive_files with onprogress and an elicitation handler that accepts: "archived 3 files",
// asked once, progress reached 6; six tools/call add; the session's requests spread over all
// three instances (the balancer's access log).
// Prints one line per check and "N passed, M failed" last; exits 1 on any failure.

import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const url = process.env.P_TARGET || process.env.P_LB;
const token = readFileSync(join(process.env.SCALE_DIR, 'token'), 'utf8').trim();
const accessLog = process.env.ACCESS_LOG;
const sdkRoot = join(process.env.MCP_INTEROP_SDK_DIR, 'node_modules', '@modelcontextprotocol', 'sdk');
const sdkImport = (sub) => import(pathToFileURL(join(sdkRoot, 'dist', 'esm', sub)).href);
const { Client } = await sdkImport('client/index.js');
const { StreamableHTTPClientTransport } = await sdkImport('client/streamableHttp.js');
const { ElicitRequestSchema, McpError } = await sdkImport('types.js');
const sdkVersion = JSON.parse(readFileSync(join(sdkRoot, 'package.json'), 'utf8')).version;

let passed = 0;
let failed = 0;
const ok = (name, detail = '') => {
  passed++;
  console.log(`ok   ts: ${name}${detail ? ` (${detail})` : ''}`);
};
const fail = (name, detail) => {
  failed++;
  console.log(`FAIL ts: ${name}: ${detail}`);
};
const short = (v, n = 300) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > n ? `${s.slice(0, n)}...` : s;
};
const errText = (e) => (e instanceof McpError ? `McpError code=${e.code} message=${JSON.stringify(e.message)}` : short(String(e?.message ?? e)));
const textOf = (r) => (r?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');

setTimeout(() => {
  fail('watchdog', 'the run took more than 90 s');
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}, 90_000).unref();

const offset = statSync(accessLog).size;
const REQ = { timeout: 30_000 };
console.log(`# @modelcontextprotocol/sdk ${sdkVersion} -> ${url}`);

const client = new Client({ name: 'mcp-scale-ts', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
let asked = 0;
client.setRequestHandler(ElicitRequestSchema, async () => {
  asked++;
  return { action: 'accept', content: { confirm: true } };
});
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const transportErrors = [];
client.onerror = (e) => transportErrors.push(e);

let connected = false;
try {
  await client.connect(transport, REQ);
  connected = true;
  if (transport.sessionId) ok('connect through the balancer', `protocol ${transport.protocolVersion}, a session`);
  else fail('connect through the balancer', `no session (protocol ${transport.protocolVersion})`);
} catch (e) {
  fail('connect through the balancer (initialize, notifications/initialized)', errText(e));
}

if (connected) {
  try {
    const tools = (await client.listTools(undefined, REQ)).tools.map((t) => t.name);
    if (tools.includes('archive_files')) ok('tools/list', `${tools.length} tools`);
    else fail('tools/list', `archive_files not listed: ${tools}`);
  } catch (e) {
    fail('tools/list', errText(e));
  }
  try {
    const progress = [];
    const res = await client.callTool({ name: 'archive_files', arguments: { path: '/srv/data' } }, undefined, {
      ...REQ,
      onprogress: (p) => progress.push(p.progress),
    });
    const text = textOf(res);
    if (res.isError) fail('tools/call archive_files (progress, elicitation accepted)', `isError: ${short(text)}`);
    else if (!text.includes('archived 3 files') || asked !== 1 || progress.at(-1) !== 6)
      fail('tools/call archive_files (progress, elicitation accepted)', `text ${short(text)}, asked ${asked}, progress ${progress}`);
    else ok('tools/call archive_files (progress, elicitation accepted)', `${short(text, 80)}; progress ${progress}`);
  } catch (e) {
    fail('tools/call archive_files (progress, elicitation accepted)', errText(e));
  }
  try {
    for (let i = 0; i < 6; i++) {
      const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, REQ);
      if (textOf(r) !== '5') throw new Error(`add answered ${short(r)}`);
    }
    ok('six tools/call add in the session');
  } catch (e) {
    fail('six tools/call add in the session', errText(e));
  }
  try {
    await transport.terminateSession();
  } catch (e) {
    console.log(`#    ts: DELETE of the session: ${errText(e)}`);
  }
}
try {
  await client.close();
} catch {
  /* closing is not what is checked */
}
for (const e of transportErrors) console.log(`#    ts: transport reported: ${short(String(e?.message ?? e))}`);

await new Promise((r) => setTimeout(r, 300));
const size = statSync(accessLog).size;
const buf = Buffer.alloc(size - offset);
const fd = openSync(accessLog, 'r');
readSync(fd, buf, 0, buf.length, offset);
closeSync(fd);
const counts = {};
for (const line of buf.toString().split('\n')) {
  const up = line.split(' ')[0];
  if (up && up !== '-') counts[up] = (counts[up] ?? 0) + 1;
}
if (Object.keys(counts).length >= 3) ok('the session\'s requests spread over all three instances (round-robin)', JSON.stringify(counts));
else fail('the session\'s requests spread over all three instances (round-robin)', `upstreams used: ${JSON.stringify(counts)}`);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
