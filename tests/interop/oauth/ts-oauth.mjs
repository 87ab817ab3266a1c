#!/usr/bin/env node
// OAuth interop check: the official TypeScript SDK (@modelcontextprotocol/sdk 1.x) as a
// machine-to-machine client of protected_server, with tokens from a third-party authorization
// server (oidc-provider, see as.mjs) obtained the SDK's own way: `ClientCredentialsProvider`
// (client_credentials grant) plugged into `StreamableHTTPClientTransport` as `authProvider`.
// Nothing is configured but the MCP URL and the client's credentials: the SDK starts from the
// server's 401, reads the challenge's resource_metadata (RFC 9728), the authorization server's
// metadata (RFC 8414 / OpenID discovery), and posts to its token_endpoint with
// resource=<MCP URL> (RFC 8707).
//
// Usage: node ts-oauth.mjs MCP_URL AS_ISSUER
//   AS_ISSUER is given to the SDK as `expectedIssuer` (the issuer the credentials belong to; the
//   SDK refuses to send them anywhere else) and used to check the discovery trace.
//
// The SDK is imported from $MCP_INTEROP_SDK_DIR (a directory whose node_modules holds
// @modelcontextprotocol/sdk, as run.sh installs it) or, when that is unset, by bare specifier.
// MCP_INTEROP_TOKEN_FORMAT=opaque: the authorization server issues opaque access tokens (as.mjs
// --opaque) that the server introspects (protected_server with MCP_INTROSPECTION_URL): the
// token check is then that the token is not a JWT, and whoami is checked by its client_id (an
// introspection answer for a client_credentials token has no `sub`). Default `jwt`.
// Each client deletes its own file ($MCP_INTEROP_TS_DELETE, default /srv/data/old.log), so that
// other clients of the same server process keep theirs.
// Prints one line per check and "N passed, M failed" last; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [url, asIssuer] = process.argv.slice(2);
if (!url || !asIssuer) {
  console.error('usage: node ts-oauth.mjs http://127.0.0.1:PORT/mcp http://127.0.0.1:AS_PORT');
  process.exit(2);
}
const DELETE_PATH = process.env.MCP_INTEROP_TS_DELETE || '/srv/data/old.log';
const OPAQUE = process.env.MCP_INTEROP_TOKEN_FORMAT === 'opaque';
if (!OPAQUE && (process.env.MCP_INTEROP_TOKEN_FORMAT ?? 'jwt') !== 'jwt') {
  console.error(`MCP_INTEROP_TOKEN_FORMAT must be jwt or opaque, not ${process.env.MCP_INTEROP_TOKEN_FORMAT}`);
  process.exit(2);
}

const sdkDir = process.env.MCP_INTEROP_SDK_DIR;
const sdkRoot = sdkDir ? join(sdkDir, 'node_modules', '@modelcontextprotocol', 'sdk') : undefined;
const sdkImport = (sub) =>
  import(sdkRoot ? pathToFileURL(join(sdkRoot, 'dist', 'esm', sub)).href : `@modelcontextprotocol/sdk/${sub}`);

const { Client } = await sdkImport('client/index.js');
const { StreamableHTTPClientTransport } = await sdkImport('client/streamableHttp.js');
const { ClientCredentialsProvider } = await sdkImport('client/auth-extensions.js');
const { McpError } = await sdkImport('types.js');

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
const check = (name, cond, detail, bad) => (cond ? ok(name, detail) : fail(name, bad ?? detail));
const short = (v) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > 300 ? `${s.slice(0, 300)}...` : s;
};
const errText = (e) =>
  e instanceof McpError ? `McpError code=${e.code} message=${JSON.stringify(e.message)}` : String(e?.stack ?? e);

const watchdog = setTimeout(() => {
  fail('watchdog', 'the whole run took more than 90 s; giving up');
  console.log(`ts-oauth: ${passed} passed, ${failed} failed`);
  process.exit(1);
}, 90_000);
watchdog.unref();

const REQ = { timeout: 15_000 };
const trimSlash = (s) => String(s).replace(/\/+$/, '');

// Reads a JWT's payload without verifying it (protected_server verifies; this only reports).
const jwtPayload = (t) => {
  try {
    return JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};
const textOf = (r) => (r?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const jsonOf = (r) => {
  if (r?.structuredContent && typeof r.structuredContent === 'object') return r.structuredContent;
  try {
    return JSON.parse(textOf(r));
  } catch {
    return undefined;
  }
};

// A fetch that records what the SDK sends (method, URL, status; for the token request its form
// fields and how the client authenticated) and otherwise changes nothing. Secrets and tokens are
// never recorded.
function recordingFetch(trace) {
  return async (input, init = {}) => {
    const reqUrl = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(init.headers ?? (typeof input === 'object' && 'headers' in input ? input.headers : undefined));
    const entry = { method, url: reqUrl, bearer: /^bearer /i.test(headers.get('authorization') ?? '') };
    if (init.body instanceof URLSearchParams || typeof init.body === 'string') {
      const form = new URLSearchParams(init.body);
      if (form.has('grant_type')) {
        entry.form = {
          grant_type: form.get('grant_type'),
          resource: form.getAll('resource'),
          scope: form.get('scope'),
        };
        entry.clientAuth = /^basic /i.test(headers.get('authorization') ?? '')
          ? 'client_secret_basic'
          : form.has('client_secret')
            ? 'client_secret_post'
            : 'none';
      }
    }
    trace.push(entry);
    const res = await fetch(input, init);
    entry.status = res.status;
    entry.wwwAuthenticate = res.headers.get('www-authenticate') ?? undefined;
    return res;
  };
}

console.log(
  `# @modelcontextprotocol/sdk ${sdkVersion} ClientCredentialsProvider -> ${url} (authorization server ${asIssuer}${OPAQUE ? ', opaque tokens' : ''})`,
);

// One client of the authorization server: connect through OAuth discovery, then the tool checks.
async function runClient({ label, clientId, clientSecret, scope, canDelete }) {
  const trace = [];
  const provider = new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer: asIssuer });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch(trace) });
  const client = new Client({ name: `mcp-interop-ts-oauth-${label}`, version: '1.0.0' });
  const name = (s) => `${label}: ${s}`;

  try {
    await client.connect(transport, REQ);
    ok(name('connect through OAuth client_credentials'), `protocol ${transport.protocolVersion ?? '?'}`);
  } catch (e) {
    fail(name('connect through OAuth client_credentials'), errText(e));
    console.log(`#   trace: ${short(trace.map((t) => `${t.method} ${t.url} -> ${t.status}`))}`);
    await client.close().catch(() => {});
    return;
  }

  // The discovery path, as the SDK walked it.
  const first = trace[0];
  check(
    name('starts from the server 401 challenge'),
    first && first.url === url && first.status === 401 && !first.bearer && /resource_metadata="/.test(first.wwwAuthenticate ?? ''),
    first && `WWW-Authenticate: ${first.wwwAuthenticate}`,
    first ? `first request ${first.method} ${first.url} -> ${first.status} (${first.wwwAuthenticate ?? 'no challenge'})` : 'no request',
  );
  const challengeMeta = /resource_metadata="([^"]+)"/.exec(first?.wwwAuthenticate ?? '')?.[1];
  const prmIdx = trace.findIndex((t) => t.method === 'GET' && t.url === challengeMeta && t.status === 200);
  check(name('protected resource metadata from the challenge URL'), prmIdx > 0, challengeMeta, `no 200 GET of ${challengeMeta}: ${short(trace.map((t) => `${t.method} ${t.url} -> ${t.status}`))}`);
  const asmIdx = trace.findIndex(
    (t, i) => i > prmIdx && t.method === 'GET' && t.url.startsWith(`${trimSlash(asIssuer)}/.well-known/`) && t.status === 200,
  );
  check(name('authorization server metadata discovered'), asmIdx > prmIdx, trace[asmIdx]?.url, `no 200 GET under ${asIssuer}/.well-known/ after the PRM`);
  const tokIdx = trace.findIndex((t, i) => i > asmIdx && t.form);
  const tok = trace[tokIdx];
  check(
    name('token request: client_credentials with resource = MCP URL'),
    tok && tok.status === 200 && tok.form.grant_type === 'client_credentials' && tok.form.resource.length === 1 && tok.form.resource[0] === url,
    tok && `POST ${tok.url} grant_type=${tok.form.grant_type} resource=${tok.form.resource} scope=${JSON.stringify(tok.form.scope)} ${tok.clientAuth}`,
    tok ? `POST ${tok.url} -> ${tok.status} form=${JSON.stringify(tok.form)}` : 'no token request',
  );
  const retried = trace.slice(tokIdx + 1).find((t) => t.url === url);
  check(name('retries the MCP request with the bearer token'), retried?.bearer && retried.status < 300, retried && `${retried.method} ${retried.url} -> ${retried.status}`, retried ? `${retried.method} -> ${retried.status} bearer=${retried.bearer}` : 'no retry');

  // The token oidc-provider issued (read only to report and cross-check).
  const at = provider.tokens()?.access_token;
  const claims = at && jwtPayload(at);
  const wantScope = scope.split(' ').sort().join(' ');
  if (OPAQUE) {
    check(
      name('access token is opaque (not a JWT: the server introspected it)'),
      typeof at === 'string' && at.length > 0 && at.split('.').length !== 3,
      at && `${at.length} characters, no JWT structure`,
      at ? `a JWT (claims ${short(claims)})` : 'no token',
    );
  } else {
    check(
      name('access token is a JWT for this resource'),
      claims && claims.aud === url && trimSlash(claims.iss) === trimSlash(asIssuer) && claims.sub === clientId &&
        String(claims.scope ?? '').split(' ').sort().join(' ') === wantScope,
      claims && `iss=${claims.iss} aud=${claims.aud} sub=${claims.sub} scope=${JSON.stringify(claims.scope)}`,
      claims ? `claims ${short(claims)} (want aud=${url}, sub=${clientId}, scope=${wantScope})` : `not a JWT: ${at ? 'opaque' : 'no token'}`,
    );
  }

  try {
    const { tools } = await client.listTools(undefined, REQ);
    const names = tools.map((t) => t.name).sort();
    const want = ['add', 'delete_file', 'echo', 'list_files', 'whoami'];
    check(name('tools/list'), want.every((n) => names.includes(n)), names.join(', '), `got ${names.join(', ')}; want ${want.join(', ')}`);
  } catch (e) {
    fail(name('tools/list'), errText(e));
  }

  try {
    const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, REQ);
    check(name('add {a:2,b:3} = 5'), !r.isError && textOf(r).trim() === '5', `"${textOf(r)}"`, short(r));
  } catch (e) {
    fail(name('add {a:2,b:3} = 5'), errText(e));
  }

  try {
    const r = await client.callTool({ name: 'whoami', arguments: {} }, undefined, REQ);
    const me = jsonOf(r);
    // Opaque: the introspection answer names the client (client_id), not a subject.
    const who = OPAQUE ? me?.client_id === clientId && (me?.subject ?? clientId) === clientId : me?.subject === clientId;
    check(
      name(OPAQUE ? 'whoami: client_id is the client id' : 'whoami: subject is the client id'),
      !r.isError && who && trimSlash(me?.issuer ?? '') === trimSlash(asIssuer),
      `subject=${me?.subject} client_id=${me?.client_id} scopes=${JSON.stringify(me?.scopes)} issuer=${me?.issuer}`,
      short(r),
    );
  } catch (e) {
    fail(name(OPAQUE ? 'whoami: client_id is the client id' : 'whoami: subject is the client id'), errText(e));
  }

  try {
    const r = await client.callTool({ name: 'list_files', arguments: { path: '/srv/data' } }, undefined, REQ);
    const files = jsonOf(r);
    const list = Array.isArray(files) ? files : files?.result;
    check(name('list_files /srv/data'), !r.isError && Array.isArray(list), short(list), short(r));
  } catch (e) {
    fail(name('list_files /srv/data'), errText(e));
  }

  try {
    const r = await client.callTool({ name: 'delete_file', arguments: { path: DELETE_PATH } }, undefined, REQ);
    if (canDelete) {
      // {"deleted": path}, or {"result": {...}} should the server wrap it as its output schema says.
      const d = jsonOf(r);
      const deleted = d?.deleted ?? d?.result?.deleted;
      check(name(`delete_file ${DELETE_PATH} succeeds (scope files:delete)`), !r.isError && deleted === DELETE_PATH, textOf(r), short(r));
    } else {
      const want = `Tool "delete_file" requires scopes: ['files:delete']. Missing: ['files:delete']`;
      check(name('delete_file denied without files:delete'), r.isError === true && textOf(r) === want, `isError: ${textOf(r)}`, short(r));
    }
  } catch (e) {
    fail(name(`delete_file (${canDelete ? 'allowed' : 'denied'})`), errText(e));
  }

  await client.close().catch(() => {});
}

await runClient({ label: 'reader', clientId: 'mcp-reader', clientSecret: 'reader-secret', scope: 'read', canDelete: false });
await runClient({ label: 'admin', clientId: 'mcp-admin', clientSecret: 'admin-secret', scope: 'read files:delete', canDelete: true });

console.log(`ts-oauth: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
