#!/usr/bin/env python3
"""Key administration over REST, driven by the official MCP Python SDK's HTTP stack (httpx2, what
`mcp` 2.x speaks through) against examples/workflow_server, and the SDK's client on the MCP
endpoint with the keys it made. Run by tests/interop/admin.sh, which starts the server and makes
the first administrator with the CLI.

Environment: ADMIN_URL (http://127.0.0.1:PORT), ADMIN_KEY and OPERATOR_KEY (never printed),
SECRETS_FILE (each secret this script receives is appended to it, for the no-secret check).
Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation, TextContent

BASE = os.environ["ADMIN_URL"]
ADMIN = os.environ["ADMIN_KEY"]
OPERATOR = os.environ["OPERATOR_KEY"]
SECRETS_FILE = os.environ["SECRETS_FILE"]
TIMEOUT = 20.0

passed = 0
failed = 0


def ok(name: str, detail: str = "") -> None:
    global passed
    passed += 1
    print(f"ok   py: {name}" + (f" ({detail})" if detail else ""), flush=True)


def fail(name: str, detail: str) -> None:
    global failed
    failed += 1
    print(f"FAIL py: {name}: {detail}", flush=True)


def check(name: str, cond: bool, detail: str = "") -> bool:
    if cond:
        ok(name)
    else:
        fail(name, detail or "not as expected")
    return cond


def remember(secret: str) -> None:
    with open(SECRETS_FILE, "a", encoding="utf-8") as f:
        f.write(secret + "\n")


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def short(r: httpx2.Response) -> str:
    """A refusal's status and error members (never a secret: error bodies hold none)."""
    try:
        j = r.json()
        return f"{r.status_code} {j.get('error')} {j.get('field', '')} {j.get('error_description', '')}"[:300]
    except Exception:  # noqa: BLE001
        return f"{r.status_code}"


async def mcp_whoami(key: str) -> str:
    """The subject `whoami` reports through the SDK's client with `key`; raises when refused."""
    http = httpx2.AsyncClient(headers=bearer(key), timeout=httpx2.Timeout(TIMEOUT))
    async with http:
        async with Client(
            streamable_http_client(f"{BASE}/mcp", http_client=http),
            client_info=Implementation(name="mcp-admin-py", version="1.0.0"),
            read_timeout_seconds=TIMEOUT,
        ) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert "whoami" in names, f"whoami not listed: {names}"
            result = await client.call_tool("whoami", {})
            return " ".join(c.text for c in result.content if isinstance(c, TextContent))


async def mcp_tool(key: str, name: str) -> Any:
    """`tools/call name {}` through the SDK's client with `key`."""
    http = httpx2.AsyncClient(headers=bearer(key), timeout=httpx2.Timeout(TIMEOUT))
    async with http:
        async with Client(
            streamable_http_client(f"{BASE}/mcp", http_client=http),
            client_info=Implementation(name="mcp-admin-py", version="1.0.0"),
            read_timeout_seconds=TIMEOUT,
        ) as client:
            return await client.call_tool(name, {})


async def mcp_works(key: str) -> bool:
    try:
        async with asyncio.timeout(TIMEOUT):
            await mcp_whoami(key)
        return True
    except Exception:  # noqa: BLE001
        return False


async def main() -> None:
    async with httpx2.AsyncClient(base_url=BASE, timeout=httpx2.Timeout(TIMEOUT)) as http:
        # A non-admin is refused on every route, before any body is read.
        for method, path, body in [
            ("GET", "/api/keys", None),
            ("POST", "/api/keys", {"name": "py-sneaky", "role": "admin", "surfaces": ["rest_api"]}),
            ("GET", "/api/users", None),
            ("POST", "/api/users", {"name": "mallory", "role": "admin"}),
        ]:
            r = await http.request(method, path, headers=bearer(OPERATOR), json=body)
            check(f"operator {method} {path} -> 403", r.status_code == 403, short(r))

        r = await http.get("/api/keys")
        check("no credential -> 401 with a challenge", r.status_code == 401 and "bearer" in r.headers.get("www-authenticate", "").lower(), short(r))

        # Create: 201 with the secret, once.
        r = await http.post(
            "/api/keys",
            headers=bearer(ADMIN),
            json={"name": "py-ci", "role": "operator", "surfaces": ["mcp"], "expires_in": "2d"},
        )
        if not check("POST /api/keys -> 201", r.status_code == 201, short(r)):
            return
        created = r.json()
        key_id, secret = created["key"]["id"], created["secret"]
        remember(secret)
        check("the created key says no-store", r.headers.get("cache-control") == "no-store")
        check("the created key is active", created["key"]["status"] == "active")

        # The new key works through the SDK's client on the MCP endpoint.
        try:
            async with asyncio.timeout(TIMEOUT):
                who = await mcp_whoami(secret)
            ok("the new key works with the SDK client (tools/list, whoami)", who[:80])
        except Exception as e:  # noqa: BLE001
            fail("the new key works with the SDK client", f"{type(e).__name__}: {str(e)[:200]}")

        # List: the key, its expiry warning (2 days < the 7-day window), no secret.
        r = await http.get("/api/keys", headers=bearer(ADMIN))
        listed = r.json().get("keys", []) if r.status_code == 200 else []
        mine = next((k for k in listed if k.get("id") == key_id), None)
        check("GET /api/keys lists the key", mine is not None, short(r))
        check("the list carries no secret", secret not in r.text and secret[-40:] not in r.text)
        check(
            "a key expiring within the window has an expiry warning",
            bool(mine) and bool(mine.get("expiry_warning")),
            str(mine.get("expiry_warning") if mine else None),
        )

        # Rotate with a grace period: both secrets work, then the old one is refused.
        r = await http.post(f"/api/keys/{key_id}/rotate", headers=bearer(ADMIN), json={"grace_seconds": 3})
        if not check("POST /api/keys/ID/rotate -> 200", r.status_code == 200, short(r)):
            return
        new_secret = r.json()["secret"]
        remember(new_secret)
        check("the new secret differs", new_secret != secret)
        check("the old secret works during the grace", await mcp_works(secret))
        check("the new secret works", await mcp_works(new_secret))
        deadline = time.monotonic() + 30
        refused = None
        while time.monotonic() < deadline:
            r = await http.post(
                "/mcp",
                headers={**bearer(secret), "accept": "application/json, text/event-stream"},
                json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "mcp-admin-py", "version": "1"}}},
            )
            if r.status_code != 200:
                refused = r
                break
            await asyncio.sleep(0.25)
        check(
            "after the grace the old secret gets 401 (api_key_rotated)",
            refused is not None and refused.status_code == 401 and refused.json().get("reason") == "api_key_rotated",
            short(refused) if refused is not None else "still accepted",
        )
        check("the new secret still works", await mcp_works(new_secret))

        # Revoke: refused from the next request on.
        r = await http.post(f"/api/keys/{key_id}/revoke", headers=bearer(ADMIN))
        check("POST /api/keys/ID/revoke -> 200, revoked", r.status_code == 200 and r.json()["key"]["status"] == "revoked", short(r))
        check("the revoked key is refused", not await mcp_works(new_secret))

        # Errors: malformed JSON 400, unknown id 404, a name taken 409.
        r = await http.post("/api/keys", headers={**bearer(ADMIN), "content-type": "application/json"}, content=b"{nope")
        check("malformed JSON -> 400", r.status_code == 400, short(r))
        r = await http.post("/api/keys", headers=bearer(ADMIN), json={"name": "x", "role": "viewer", "surfaces": ["mpc"]})
        check("an unknown surface -> 400 naming the field", r.status_code == 400 and r.json().get("field") == "surfaces[0]", short(r))
        r = await http.post("/api/keys/no-such-id/rotate", headers=bearer(ADMIN))
        check("an unknown id -> 404", r.status_code == 404, short(r))
        r = await http.post("/api/keys", headers=bearer(ADMIN), json={"name": "py-ci", "role": "viewer", "surfaces": ["mcp"]})
        check("a name taken -> 409", r.status_code == 409, short(r))

        # The same operations as MCP tools (workflow_server registers those that never answer a
        # secret): an admin key on the mcp surface lists the keys; an operator is refused.
        r = await http.post(
            "/api/keys", headers=bearer(ADMIN), json={"name": "py-admin-mcp", "role": "admin", "surfaces": ["mcp"]}
        )
        if check("POST /api/keys (an admin key for MCP) -> 201", r.status_code == 201, short(r)):
            admin_mcp = r.json()["secret"]
            remember(admin_mcp)
            for who, key, allowed in [("admin", admin_mcp, True), ("operator", OPERATOR, False)]:
                try:
                    async with asyncio.timeout(TIMEOUT):
                        result = await mcp_tool(key, "admin_list_api_keys")
                    text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
                    if allowed:
                        listed = json.loads(text).get("keys", []) if not result.is_error else []
                        check(f"MCP tool admin_list_api_keys as {who}", len(listed) >= 3, text[:200])
                    else:
                        check(f"MCP tool admin_list_api_keys as {who} is refused", bool(result.is_error), text[:200])
                except Exception as e:  # noqa: BLE001
                    fail(f"MCP tool admin_list_api_keys as {who}", f"{type(e).__name__}: {str(e)[:200]}")

        # Users.
        r = await http.post("/api/users", headers=bearer(ADMIN), json={"name": "py-user", "role": "viewer"})
        check("POST /api/users -> 201", r.status_code == 201, short(r))
        r = await http.post("/api/users/py-user/disable", headers=bearer(ADMIN))
        check("POST /api/users/NAME/disable -> 200, disabled", r.status_code == 200 and r.json()["user"]["disabled"] is True, short(r))


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    except Exception as e:  # noqa: BLE001
        fail("run", f"{type(e).__name__}: {str(e)[:300]}")
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
