#!/usr/bin/env node
// Peer server on the official TypeScript SDK (@modelcontextprotocol/sdk 1.x): McpServer +
// StreamableHTTPServerTransport with sessions, tools `add` {a,b} and `echo` {text}, on
// 127.0.0.1:$PORT/mcp. With TOKEN set, every /mcp request needs `Authorization: Bearer $TOKEN`
// (else 401 + WWW-Authenticate: Bearer resource_metadata=...), and the protected-resource
// metadata is served at /.well-known/oauth-protected-resource/mcp.
// The SDK is imported from $MCP_INTEROP_SDK_DIR/node_modules (as run.sh installs it).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const nm = join(process.env.MCP_INTEROP_SDK_DIR, 'node_modules');
const sdk = (sub) => import(pathToFileURL(join(nm, '@modelcontextprotocol/sdk/dist/esm', sub)).href);
const { McpServer } = await sdk('server/mcp.js');
const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');
const { isInitializeRequest } = await sdk('types.js');
const { z } = await import(pathToFileURL(join(nm, 'zod/index.js')).href);

const PORT = Number(process.env.PORT || 8301), TOKEN = process.env.TOKEN;
const base = `http://127.0.0.1:${PORT}`, prm = `${base}/.well-known/oauth-protected-resource/mcp`;
const transports = new Map();

function newServer() {
  const s = new McpServer({ name: 'ts-peer', version: '1.0.0' });
  s.registerTool('add', { description: 'a+b', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
  s.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return s;
}
const send = (res, code, obj, hdrs = {}) => { res.writeHead(code, { 'content-type': 'application/json', ...hdrs }); res.end(JSON.stringify(obj)); };

createServer(async (req, res) => {
  const path = req.url.split('?')[0];
  if (path.startsWith('/.well-known/oauth-protected-resource'))
    return send(res, 200, { resource: `${base}/mcp`, authorization_servers: [`${base}/as`], scopes_supported: ['read'], bearer_methods_supported: ['header'] });
  if (path !== '/mcp') return send(res, 404, { error: 'not found' });
  if (TOKEN && req.headers.authorization !== `Bearer ${TOKEN}`)
    return send(res, 401, { error: 'invalid_token', error_description: 'missing or bad bearer token' },
      { 'www-authenticate': `Bearer error="invalid_token", error_description="missing or bad bearer token", resource_metadata="${prm}", scope="read"` });
  let body;
  if (req.method === 'POST') {
    const chunks = []; for await (const c of req) chunks.push(c);
    try { body = JSON.parse(Buffer.concat(chunks).toString() || 'null'); } catch { return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }); }
  }
  const sid = req.headers['mcp-session-id'];
  let t = sid && transports.get(sid);
  if (!t) {
    if (sid || req.method !== 'POST' || !isInitializeRequest(body))
      return send(res, sid ? 404 : 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: sid ? 'Session not found' : 'Bad Request: No valid session ID provided' } });
    t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => transports.set(id, t) });
    t.onclose = () => t.sessionId && transports.delete(t.sessionId);
    await newServer().connect(t);
  }
  await t.handleRequest(req, res, body);
}).listen(PORT, '127.0.0.1', () => console.log(`ts-peer on ${base}/mcp${TOKEN ? ' (bearer auth)' : ''}`));
