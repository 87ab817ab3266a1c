#!/usr/bin/env python3
"""OAuth interop check: the official MCP Python SDK (`mcp` 2.x) as a machine-to-machine client of
protected_server, with tokens from a third-party authorization server (oidc-provider, see as.mjs)
obtained the SDK's own way: `mcp.client.auth.extensions.client_credentials.
ClientCredentialsOAuthProvider` (an `httpx2.Auth`) on the `httpx2.AsyncClient` given to
`streamable_http_client`, wrapped in `mcp.Client`. Nothing is configured but the MCP URL, the
credentials and the issuer they belong to: the SDK starts from the server's 401, reads the
challenge's resource_metadata (RFC 9728), the authorization server's metadata (RFC 8414 / OpenID
discovery), and posts to its token_endpoint with resource=<MCP URL> (RFC 8707).

Usage: python py-oauth.py MCP_URL AS_ISSUER [MCP_URL_ALL_SCOPES]

Clients (see as.mjs): mcp-reader (scope `read`, client_secret_basic) and mcp-admin (scope
`read files:delete`, client_secret_post), each given to the provider with `scope=` and
`issuer=AS_ISSUER`.

Scopes: this SDK requests the scope named by the server's 401 challenge (`scope="read"` from
protected_server's default configuration) in preference to the configured `scope=` (MCP scope
selection strategy; mcp/client/auth/oauth2.py `OAuthClientProvider._auth_flow` step 3, which
overwrites `client_metadata.scope` with `utils.get_client_metadata_scopes(...)`, then read by
`ClientCredentialsOAuthProvider._exchange_token_client_credentials`). It would ask for more only
on a 403 `insufficient_scope` step-up, which protected_server does not send (its default denial
is the documented tool error). So against MCP_URL the admin client gets `read` only and its
delete_file is checked to match the granted scopes. MCP_URL_ALL_SCOPES, when given, is a second
protected_server run with MCP_REQUIRED_SCOPES="read files:delete" (an alternative, labelled
`admin-all-scopes` in the output): there the challenge names files:delete, the SDK asks for it
and delete_file must succeed. The admin clients delete $MCP_INTEROP_PY_DELETE (default
/srv/data/notes.md), so that other clients of the same server process keep theirs.

Environment: MCP_INTEROP_DEBUG=1 logs the SDK's OAuth flow (logger `mcp`) to stderr.
Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version as dist_version
from typing import Any
from urllib.parse import parse_qs

import httpx2
from mcp import Client, MCPError
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.types import CallToolResult, Implementation, TextContent

CHECK_TIMEOUT = 20.0  # seconds per check
RUN_TIMEOUT = 90.0  # seconds for the whole run
DENIED = "Tool \"delete_file\" requires scopes: ['files:delete']. Missing: ['files:delete']"
DELETE_PATH = os.environ.get("MCP_INTEROP_PY_DELETE") or "/srv/data/notes.md"

passed = 0
failed = 0


def ok(name: str, detail: str = "") -> None:
    global passed
    passed += 1
    print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)


def fail(name: str, detail: str) -> None:
    global failed
    failed += 1
    print(f"FAIL {name}: {detail}", flush=True)


def short(value: Any, limit: int = 300) -> str:
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= limit else s[:limit] + "..."


def describe(e: BaseException) -> str:
    if isinstance(e, MCPError):
        return f"MCPError code={e.code} message={e.message!r}" + (f" data={short(e.data)}" if e.data is not None else "")
    if isinstance(getattr(e, "exceptions", None), (list, tuple)):  # an ExceptionGroup
        return "; ".join(describe(x) for x in e.exceptions)
    if isinstance(e, TimeoutError):
        return f"timed out after {CHECK_TIMEOUT:.0f} s"
    return f"{type(e).__name__}: {short(str(e))}"


async def check(name: str, body: Callable[[], Awaitable[str | None]]) -> bool:
    """Runs one check; `body` returns a detail for the ok line or raises AssertionError."""
    try:
        detail = await asyncio.wait_for(body(), CHECK_TIMEOUT)
    except AssertionError as e:
        fail(name, str(e))
        return False
    except Exception as e:  # noqa: BLE001 - every other exception is a failed check too
        fail(name, describe(e))
        if os.environ.get("MCP_INTEROP_DEBUG"):
            traceback.print_exc()
        return False
    ok(name, detail or "")
    return True


def texts(result: CallToolResult) -> list[str]:
    return [c.text for c in result.content if isinstance(c, TextContent)]


def dump(result: CallToolResult) -> str:
    return short(result.model_dump(by_alias=True, exclude_none=True))


def json_of(result: CallToolResult) -> Any:
    if isinstance(result.structured_content, dict):
        return result.structured_content
    try:
        return json.loads("".join(texts(result)))
    except ValueError:
        return None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """A JWT's payload, unverified (protected_server verifies; this only reports)."""
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return None


def trim(url: str) -> str:
    return str(url).rstrip("/")


class MemoryTokenStorage:
    """The `TokenStorage` a user writes for a short-lived process: keeps everything in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Seen:
    method: str
    url: str
    bearer: bool
    status: int = 0
    www_authenticate: str | None = None
    form: dict[str, list[str]] | None = None
    client_auth: str | None = None


@dataclass
class RecordingTransport(httpx2.AsyncBaseTransport):
    """Records what the SDK sends (method, URL, status; for the token request its form fields and
    how the client authenticated) and otherwise changes nothing. Secrets and tokens are never kept."""

    inner: httpx2.AsyncBaseTransport
    trace: list[Seen] = field(default_factory=list)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        auth = request.headers.get("authorization", "")
        seen = Seen(request.method, str(request.url), auth.lower().startswith("bearer "))
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            form = parse_qs((await request.aread()).decode(), keep_blank_values=True)
            if "grant_type" in form:
                seen.client_auth = (
                    "client_secret_basic"
                    if auth.lower().startswith("basic ")
                    else "client_secret_post"
                    if "client_secret" in form
                    else "none"
                )
                seen.form = {k: v for k, v in form.items() if k in ("grant_type", "resource", "scope")}
        self.trace.append(seen)
        response = await self.inner.handle_async_request(request)
        seen.status = response.status_code
        seen.www_authenticate = response.headers.get("www-authenticate")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Spec:
    label: str
    client_id: str
    client_secret: str
    auth_method: str
    scope: str  # what the provider is configured with (`scope=`)
    delete: str  # "allowed", "denied" or "as-granted" (by the scopes the token ended up with)
    # Whether the token request must ask for exactly the configured scope. The SDK asks for the
    # 401 challenge's `scope` instead when the challenge has one (MCP scope selection strategy,
    # mcp/client/auth/oauth2.py `_auth_flow` step 3 -> utils.get_client_metadata_scopes), so this
    # only holds where the challenge names the configured scope.
    strict_scope: bool = True


async def run_client(url: str, issuer: str, spec: Spec) -> None:
    def name(s: str) -> str:
        return f"{spec.label}: {s}"

    storage = MemoryTokenStorage()
    provider = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id=spec.client_id,
        client_secret=spec.client_secret,
        token_endpoint_auth_method=spec.auth_method,  # type: ignore[arg-type]
        scope=spec.scope,
        issuer=issuer,
    )
    recorder = RecordingTransport(httpx2.AsyncHTTPTransport())
    http = httpx2.AsyncClient(auth=provider, transport=recorder, timeout=httpx2.Timeout(30.0, read=300.0))
    trace = recorder.trace
    async with http:
        client = Client(
            streamable_http_client(url, http_client=http),
            client_info=Implementation(name=f"mcp-interop-py-oauth-{spec.label}", version="1.0.0"),
            read_timeout_seconds=CHECK_TIMEOUT,
        )
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await client.__aenter__()
        except Exception as e:  # noqa: BLE001
            fail(name("connect through OAuth client_credentials"), describe(e))
            print(f"#   trace: {short([f'{t.method} {t.url} -> {t.status}' for t in trace], 600)}", flush=True)
            if os.environ.get("MCP_INTEROP_DEBUG"):
                traceback.print_exc()
            return
        try:
            ok(name("connect through OAuth client_credentials"), f"protocol {client.session.protocol_version}")
            granted: set[str] = set()
            await flow_checks(url, issuer, spec, trace, storage, granted, name)
            await tool_checks(client, spec, granted, name)
        finally:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await client.__aexit__(None, None, None)
            except Exception as e:  # noqa: BLE001 - closing is not what is tested
                print(f"# {spec.label}: close: {describe(e)}", flush=True)


async def flow_checks(
    url: str,
    issuer: str,
    spec: Spec,
    trace: list[Seen],
    storage: MemoryTokenStorage,
    granted: set[str],
    name: Callable[[str], str],
) -> None:
    """The discovery path, as the SDK walked it, and the token it got."""
    state: dict[str, int] = {}

    async def first_401() -> str:
        assert trace, "no request"
        t = trace[0]
        assert t.url == url and t.status == 401 and not t.bearer, f"first request {t.method} {t.url} -> {t.status}"
        assert t.www_authenticate and 'resource_metadata="' in t.www_authenticate, f"challenge {t.www_authenticate!r}"
        return f"WWW-Authenticate: {t.www_authenticate}"

    await check(name("starts from the server 401 challenge"), first_401)

    async def prm() -> str:
        m = re.search(r'resource_metadata="([^"]+)"', (trace[0].www_authenticate if trace else None) or "")
        assert m, "no resource_metadata in the challenge"
        idx = next((i for i, t in enumerate(trace) if t.method == "GET" and t.url == m[1] and t.status == 200), -1)
        assert idx > 0, f"no 200 GET of {m[1]}: {short([f'{t.method} {t.url} -> {t.status}' for t in trace])}"
        state["prm"] = idx
        return m[1]

    await check(name("protected resource metadata from the challenge URL"), prm)

    async def asm() -> str:
        after = state.get("prm", 0)
        idx = next(
            (
                i
                for i, t in enumerate(trace)
                if i > after and t.method == "GET" and t.url.startswith(f"{trim(issuer)}/.well-known/") and t.status == 200
            ),
            -1,
        )
        assert idx > after, f"no 200 GET under {issuer}/.well-known/ after the PRM"
        state["asm"] = idx
        return trace[idx].url

    await check(name("authorization server metadata discovered"), asm)

    async def token_request() -> str:
        after = state.get("asm", 0)
        idx = next((i for i, t in enumerate(trace) if i > after and t.form is not None), -1)
        assert idx > after, "no token request"
        t = trace[idx]
        state["token"] = idx
        form = t.form or {}
        assert t.status == 200, f"POST {t.url} -> {t.status} form={form}"
        assert form.get("grant_type") == ["client_credentials"], f"grant_type {form.get('grant_type')}"
        assert form.get("resource") == [url], f"resource {form.get('resource')} (want [{url}])"
        assert t.client_auth == spec.auth_method, f"client authentication {t.client_auth} (configured {spec.auth_method})"
        return (
            f"POST {t.url} grant_type=client_credentials resource={form['resource'][0]} "
            f"scope={(form.get('scope') or [''])[0]!r} {t.client_auth}"
        )

    await check(name("token request: client_credentials with resource = MCP URL"), token_request)

    async def retried() -> str:
        after = state.get("token", len(trace))
        t = next((t for t in trace[after + 1 :] if t.url == url), None)
        assert t is not None, "no retry of the MCP request"
        assert t.bearer and t.status < 300, f"{t.method} -> {t.status} bearer={t.bearer}"
        return f"{t.method} {t.url} -> {t.status}"

    await check(name("retries the MCP request with the bearer token"), retried)

    async def token_claims() -> str:
        tokens = storage.tokens
        assert tokens is not None, "no token stored"
        claims = jwt_claims(tokens.access_token)
        assert claims is not None, "the access token is not a JWT"
        assert claims.get("aud") == url, f"aud {claims.get('aud')!r} (want {url})"
        assert trim(claims.get("iss", "")) == trim(issuer), f"iss {claims.get('iss')!r}"
        assert claims.get("sub") == spec.client_id, f"sub {claims.get('sub')!r}"
        got = sorted(str(claims.get("scope", "")).split())
        form = trace[state["token"]].form if "token" in state else None
        asked = sorted(((form or {}).get("scope") or [""])[0].split())
        assert got == asked, f"scope {claims.get('scope')!r}; the token request asked for {' '.join(asked)!r}"
        if spec.strict_scope:
            assert got == sorted(spec.scope.split()), f"scope {claims.get('scope')!r}, configured {spec.scope!r}"
        elif asked != sorted(spec.scope.split()):
            print(
                f"# {spec.label}: the SDK asked for scope {' '.join(asked)!r} (the 401 challenge's), not the "
                f"configured {spec.scope!r}",
                flush=True,
            )
        granted.update(got)
        return f"iss={claims['iss']} aud={claims['aud']} sub={claims['sub']} scope={claims.get('scope')!r}"

    await check(name("access token is a JWT for this resource"), token_claims)


async def tool_checks(client: Client, spec: Spec, granted: set[str], name: Callable[[str], str]) -> None:
    async def list_tools() -> str:
        result = await client.list_tools()
        names = sorted(t.name for t in result.tools)
        want = ["add", "delete_file", "echo", "list_files", "whoami"]
        assert all(n in names for n in want), f"got {names}; want {want}"
        return ", ".join(names)

    await check(name("tools/list"), list_tools)

    async def call_add() -> str:
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error and texts(result) == ["5"], dump(result)
        return 'text "5"'

    await check(name("add {a:2,b:3} = 5"), call_add)

    async def whoami() -> str:
        result = await client.call_tool("whoami", {})
        me = json_of(result)
        assert not result.is_error and isinstance(me, dict), dump(result)
        assert me.get("subject") == spec.client_id, f"subject {me.get('subject')!r} (want {spec.client_id})"
        return f"subject={me.get('subject')} scopes={me.get('scopes')} issuer={me.get('issuer')}"

    await check(name("whoami: subject is the client id"), whoami)

    async def list_files() -> str:
        result = await client.call_tool("list_files", {"path": "/srv/data"})
        data = json_of(result)
        files = data.get("result") if isinstance(data, dict) else data
        assert not result.is_error and isinstance(files, list), dump(result)
        return short(files)

    await check(name("list_files /srv/data"), list_files)

    allowed = spec.delete == "allowed" or (spec.delete == "as-granted" and "files:delete" in granted)
    if allowed:

        async def delete_ok() -> str:
            result = await client.call_tool("delete_file", {"path": DELETE_PATH})
            # {"deleted": path}, or {"result": {...}} should the server wrap it as its output schema says.
            data = json_of(result)
            if isinstance(data, dict) and isinstance(data.get("result"), dict):
                data = data["result"]
            assert not result.is_error and isinstance(data, dict) and data.get("deleted") == DELETE_PATH, dump(result)
            return " ".join(texts(result))

        await check(name(f"delete_file {DELETE_PATH} succeeds (scope files:delete)"), delete_ok)
    else:

        async def delete_denied() -> str:
            result = await client.call_tool("delete_file", {"path": DELETE_PATH})
            assert result.is_error and texts(result) == [DENIED], dump(result)
            return f"isError: {texts(result)[0]}"

        await check(name("delete_file denied without files:delete"), delete_denied)


async def main(url: str, issuer: str, url_all: str | None) -> None:
    print(
        f"# mcp {dist_version('mcp')} ClientCredentialsOAuthProvider -> {url} (authorization server {issuer})",
        flush=True,
    )
    read, full = "read", "read files:delete"
    await run_client(url, issuer, Spec("reader", "mcp-reader", "reader-secret", "client_secret_basic", read, "denied"))
    # The server's challenge says scope="read", which is all the SDK asks for, whatever `scope=`
    # says: delete_file must then be denied, or allowed if the token carries files:delete anyway.
    await run_client(
        url,
        issuer,
        Spec("admin", "mcp-admin", "admin-secret", "client_secret_post", full, "as-granted", strict_scope=False),
    )
    if url_all:
        # ALTERNATIVE (labelled): to have this SDK ask for files:delete from discovery alone, the
        # challenge must name it: the same protected_server run with MCP_REQUIRED_SCOPES="read
        # files:delete". Everything on the client side is as above.
        print(f"# admin-all-scopes: protected_server with MCP_REQUIRED_SCOPES='{full}' at {url_all}", flush=True)
        await run_client(
            url_all,
            issuer,
            Spec("admin-all-scopes", "mcp-admin", "admin-secret", "client_secret_post", full, "allowed"),
        )


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(
            "usage: python py-oauth.py http://127.0.0.1:PORT/mcp http://127.0.0.1:AS_PORT [http://127.0.0.1:PORT2/mcp]",
            file=sys.stderr,
        )
        sys.exit(2)
    if os.environ.get("MCP_INTEROP_DEBUG"):
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        logging.getLogger("mcp").setLevel(logging.DEBUG)
    try:
        asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None), RUN_TIMEOUT))
    except TimeoutError:
        fail("watchdog", f"the whole run took more than {RUN_TIMEOUT:.0f} s; giving up")
    except Exception as e:  # noqa: BLE001
        fail("run", describe(e))
        traceback.print_exc()
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(0 if failed == 0 else 1)
