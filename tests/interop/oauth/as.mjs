#!/usr/bin/env node
// A third-party OAuth 2.0 authorization server for the OAuth interop run: the `oidc-provider`
// npm package (panva/node-oidc-provider), configured here and nowhere else, on loopback.
//
// Usage: node as.mjs [--dpop[=nonce]] [--opaque] PORT RESOURCE_URL...
//   --dpop        enables oidc-provider's `dPoP` feature (RFC 9449): a token request carrying a
//                 DPoP proof (ES256/EdDSA) yields a DPoP-bound token, token_type `DPoP`, its JWT
//                 with `cnf.jkt` = the proof key's thumbprint; requests without a proof still
//                 get Bearer tokens. No server nonce.
//   --dpop=nonce  the same, with server nonces required (RFC 9449 §8): a proof without the AS's
//                 current nonce is refused with 400 `use_dpop_nonce` and a `DPoP-Nonce` header
//   (neither)     the `dPoP` feature is off: proofs are ignored, every token is a Bearer token
//   --opaque      access tokens for the resources are opaque (accessTokenFormat 'opaque': random
//                 strings, kept in oidc-provider's memory) instead of JWTs, and the
//                 `introspection` feature (RFC 7662) is on at introspection_endpoint (discovery;
//                 /token/introspection), for the resource server's client mcp-rs only (below).
//                 Its answer for an active token: active, client_id, exp, iat, iss, aud = the
//                 RESOURCE_URL the token was issued for, scope, token_type (no sub: a
//                 client_credentials token has no account). Each introspection is logged on
//                 stderr as "[as] introspection by client=... answer=<JSON>" (the answer holds no
//                 token; a jti equal to the token is left out by oidc-provider itself)
//   PORT          loopback port to listen on; the issuer is http://127.0.0.1:PORT
//   RESOURCE_URL  a resource server (RFC 8707 resource indicator) tokens may be issued for, i.e.
//                 the MCP endpoint URL of a protected_server (http://127.0.0.1:N/mcp); any other
//                 `resource` is refused with invalid_target
//
// oidc-provider is imported from $MCP_INTEROP_OIDC_DIR/node_modules (as run.sh installs it) or,
// when that is unset, by bare specifier. Needs node >= 22 (what run.sh runs it on).
//
// What it serves (all by oidc-provider itself):
//   /.well-known/openid-configuration  OpenID discovery (issuer, token_endpoint, jwks_uri, ...)
//   /jwks                              the signing key (ES256, generated at start-up)
//   /token                             client_credentials grant with `resource` (RFC 8707):
//                                      a JWT access token (RFC 9068, typ at+jwt) with
//                                      aud = the requested RESOURCE_URL, sub = client_id, scope = the requested
//                                      scopes the client is allowed and the resource server knows;
//                                      with --dpop and a `DPoP` proof header: token_type DPoP,
//                                      cnf.jkt in the JWT (RFC 9449 §6); with --opaque an opaque
//                                      token with the same aud and scope, kept by the AS
//   /token/introspection               with --opaque only: RFC 7662 introspection, mcp-rs only
// Static confidential clients (the secrets are test fixtures, loopback only):
//   mcp-reader / reader-secret  scope `read`               client_secret_basic
//   mcp-admin  / admin-secret   scope `read files:delete`  client_secret_post
//   mcp-rs     / rs-secret      with --opaque only: the resource server (protected_server with
//                               MCP_INTROSPECTION_*), client_secret_basic, no grant at all: it
//                               only introspects
//   idp-<shape> / <shape>-secret  scope `read`, client_secret_basic, for roles.sh: their JWT
//                               access tokens carry the role and group claims identity providers
//                               send (extraTokenClaims, IDP_CLAIMS below): idp-keycloak
//                               (realm_access.roles, resource_access.<client>.roles), idp-entra
//                               (roles: app roles), idp-okta (groups), idp-auth0 (a namespaced
//                               custom claim), idp-plain (none), idp-garbage (malformed shapes)
// Prints "oidc-provider <version> listening on <issuer>" once ready; logs each token grant
// (client, resource, scopes, never the token) on stderr. Stops on SIGTERM/SIGINT.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
// DPoP mode: 'off' | 'on' | 'nonce'
let dpopMode = 'off';
// Opaque access tokens + introspection.
let opaque = false;
while (argv[0]?.startsWith('--')) {
  const opt = argv.shift();
  if (opt === '--dpop') dpopMode = 'on';
  else if (opt === '--dpop=nonce') dpopMode = 'nonce';
  else if (opt === '--opaque') opaque = true;
  else {
    console.error(`unknown option ${opt}`);
    process.exit(2);
  }
}
const [portArg, ...resources] = argv;
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || resources.length === 0) {
  console.error('usage: node as.mjs [--dpop[=nonce]] [--opaque] PORT RESOURCE_URL...');
  process.exit(2);
}

const oidcDir = process.env.MCP_INTEROP_OIDC_DIR;
const pkgRoot = oidcDir ? join(oidcDir, 'node_modules', 'oidc-provider') : undefined;
const { default: Provider, errors } = await import(
  pkgRoot ? pathToFileURL(join(pkgRoot, 'lib', 'index.js')).href : 'oidc-provider'
);
let version = '?';
if (pkgRoot) {
  try {
    version = JSON.parse(readFileSync(join(pkgRoot, 'package.json'), 'utf8')).version;
  } catch {
    /* informational only */
  }
}

const issuer = `http://127.0.0.1:${port}`;
// The MCP server's scopes: the server scope and the per-tool scope.
const RESOURCE_SCOPES = 'read files:delete';

// A fresh ES256 signing key per run; oidc-provider publishes its public half at jwks_uri.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `es256-${randomUUID()}`, alg: 'ES256', use: 'sig' };

// The resource server's own client (--opaque): it authenticates to the introspection endpoint and
// nothing else. oidc-provider 9 accepts a client with no grant types, response types or
// redirect URIs (a confidential client still needs a token_endpoint_auth_method, which is also
// how it authenticates at the introspection endpoint).
const RS_CLIENT_ID = 'mcp-rs';
const rsClient = {
  client_id: RS_CLIENT_ID,
  client_secret: 'rs-secret',
  grant_types: [],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
};

// Extra access-token claims per client, shaped as each identity provider sends them (roles.sh
// checks what protected_server makes of them).
const IDP_CLAIMS = {
  'idp-keycloak': {
    realm_access: { roles: ['offline_access', 'uma_authorization', 'default-roles-mcp', 'mcp-operator'] },
    resource_access: { 'mcp-server': { roles: ['mcp-developer'] }, account: { roles: ['manage-account', 'admin'] } },
  },
  'idp-entra': { roles: ['MCP.Manager'], tid: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
  'idp-okta': { groups: ['Everyone', 'mcp-operators', 'mcp:ops:developer', 'mcp:finance:viewer', 'mcp:dev:admin'] },
  'idp-auth0': { 'https://example.com/roles': ['mcp-admin'] },
  'idp-plain': {},
  'idp-garbage': {
    roles: { 'MCP.Manager': true },
    groups: 42,
    realm_access: ['mcp-operator'],
    resource_access: { 'mcp-server': { roles: [['mcp-developer'], 7, null] } },
    'https://example.com/roles': [{ role: 'mcp-admin' }],
  },
};
const idpClients = Object.keys(IDP_CLAIMS).map((id) => ({
  client_id: id,
  client_secret: `${id.slice('idp-'.length)}-secret`,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'read',
}));

const provider = new Provider(issuer, {
  extraTokenClaims: (_ctx, token) => (opaque ? undefined : IDP_CLAIMS[token.clientId]),
  clients: [
    {
      client_id: 'mcp-reader',
      client_secret: 'reader-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read',
    },
    {
      client_id: 'mcp-admin',
      client_secret: 'admin-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read files:delete',
    },
    ...(opaque ? [rsClient] : idpClients),
  ],
  jwks: { keys: [signingKey] },
  // The only key is ES256, so that is the default for ID tokens (unused here) as for JWT ATs.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  ttl: { ClientCredentials: 10 * 60 },
  // Scopes listed here are enforced against each client's `scope` allow-list (an unlisted
  // scope would be let through for any client).
  scopes: ['read', 'files:delete'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // oidc-provider 9 turns dPoP on by default: it is set explicitly either way, so that the
    // plain run's AS issues Bearer tokens only.
    dPoP:
      dpopMode === 'off'
        ? { enabled: false }
        : {
            enabled: true,
            // A fresh 32-byte secret per run for the stateless nonces; no nonces without it.
            nonceSecret: dpopMode === 'nonce' ? randomBytes(32) : undefined,
            requireNonce: () => dpopMode === 'nonce',
            allowReplay: false,
          },
    introspection: opaque
      ? {
          enabled: true,
          // Only the resource server learns what a token is worth (the default lets any
          // confidential client introspect any token).
          allowedPolicy: (_ctx, caller) => caller.clientId === RS_CLIENT_ID,
        }
      : { enabled: false },
    resourceIndicators: {
      enabled: true,
      // No resource parameter: no resource server, hence no JWT (the SDKs always send one).
      defaultResource: () => undefined,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (!resources.includes(resourceIndicator)) {
          throw new errors.InvalidTarget(`unknown resource server ${resourceIndicator}`);
        }
        return {
          scope: RESOURCE_SCOPES,
          audience: resourceIndicator,
          accessTokenTTL: 10 * 60,
          ...(opaque ? { accessTokenFormat: 'opaque' } : { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
        };
      },
    },
  },
});

provider.on('grant.success', (ctx) => {
  const at = ctx.oidc.entities.ClientCredentials;
  console.error(
    `[as] token for client=${ctx.oidc.client?.clientId} resource=${at?.resourceServer?.audience ?? '-'} ` +
      `scope=${JSON.stringify(at?.scope ?? '')} client-auth=${/^basic /i.test(ctx.get('authorization')) ? 'client_secret_basic' : 'client_secret_post'} ` +
      `binding=${at?.jkt ? `dpop jkt=${at.jkt}` : 'bearer'}`,
  );
});
provider.on('grant.error', (ctx, err) => {
  console.error(`[as] token error for client=${ctx.oidc.client?.clientId ?? '?'}: ${err.error ?? err.name} ${err.error_description ?? err.message}`);
});
if (opaque) {
  // Every introspection answer, for the logs and introspection.sh: what the resource server was
  // told (no token in it), and who asked.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'introspection') {
      console.error(
        `[as] introspection by client=${ctx.oidc.client?.clientId ?? '?'} status=${ctx.status} answer=${JSON.stringify(ctx.body)}`,
      );
    }
  });
}
provider.on('introspection.error', (ctx, err) => {
  console.error(`[as] introspection error for client=${ctx.oidc.client?.clientId ?? '?'}: ${err.error ?? err.name} ${err.error_description ?? err.message}`);
});
provider.on('server_error', (_ctx, err) => console.error(`[as] server_error: ${err.stack ?? err}`));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(
    `oidc-provider ${version} listening on ${issuer} (resources ${resources.join(' ')}; dPoP ${dpopMode}; access tokens ${opaque ? 'opaque, introspection on' : 'JWT'})`,
  );
});
server.on('error', (e) => {
  console.error(`[as] listen failed: ${e.message}`);
  process.exit(1);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
