#!/usr/bin/env python3
"""Interop check: the official MCP Python SDK client (`mcp` 2.x, `mcp.Client` over Streamable
HTTP) against a Streamable HTTP server of this framework, used as a new user would.

Usage: python py-client.py http://127.0.0.1:PORT/mcp

Two eras, each through the SDK's documented `Client(url, mode=...)`:
  * modern: `mode="auto"` (the default): probes `server/discover` and should settle on
    2026-07-28; elicitation arrives as an `input_required` result that `Client.call_tool`
    answers through `elicitation_callback` and retries. Also `mode="2026-07-28"` (the version
    pinned, no discover probe).
  * legacy: `mode="legacy"`: the `initialize` handshake (2025-11-25, with a session);
    elicitation arrives as a real server-to-client `elicitation/create` request.
Per era: connect (negotiated version), tools/list (add, echo with object schemas), add {a:2,b:3}
-> "5", echo of a non-ASCII text, the elicitation tools `test_input_required_result_elicitation`
(asks for {name}, answers "Hello, <name>!") and `test_elicitation` (asks for {username, email})
answered accept by the callback, and an unknown tool -> an error.

Environment: MCP_INTEROP_DEBUG=1 logs the SDK's transport traffic (logger `mcp`) to stderr.
Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from importlib.metadata import version as dist_version
from typing import Any

from mcp import Client, MCPError
from mcp.client import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, ErrorData, Implementation, TextContent

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
NON_ASCII = "héllo wörld ✓ 日本語 🚀"
# (tool, arguments, text the final result must contain once the callback answered)
ELICIT_TOOL = ("test_elicitation", {"message": "Please tell me who you are"}, '"username":"Ada"')
INPUT_REQUIRED_TOOL = ("test_input_required_result_elicitation", {}, "Hello, Ada!")
CHECK_TIMEOUT = 20.0  # seconds per check
RUN_TIMEOUT = 90.0  # seconds for the whole run

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


def texts(result: CallToolResult) -> list[str]:
    return [c.text for c in result.content if isinstance(c, TextContent)]


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


# What the elicitation callback answers, by property name; anything else gets its default or a
# value of its type.
ANSWERS: dict[str, Any] = {"name": "Ada", "username": "Ada", "email": "ada@example.com"}
elicitations: list[ElicitRequestParams] = []


def answer_for(prop: str, schema: dict[str, Any]) -> Any:
    if prop in ANSWERS:
        return ANSWERS[prop]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return "Ada"


async def on_elicit(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
    """A form-filling user: accepts and answers every property of the requested schema."""
    elicitations.append(params)
    schema = getattr(params, "requested_schema", None)
    if schema is None:  # URL mode: nothing to fill in
        return ElicitResult(action="decline")
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return ElicitResult(action="accept", content={k: answer_for(k, v) for k, v in props.items()})


def make_client(url: str, mode: str) -> Client:
    return Client(
        url,
        mode=mode,
        client_info=Implementation(name="mcp-interop-py-client", version="1.0.0"),
        elicitation_callback=on_elicit,
        read_timeout_seconds=CHECK_TIMEOUT,
    )


async def tool_checks(client: Client, era: str, elicit_calls: list[tuple[str, dict[str, Any], str]]) -> None:
    listed: dict[str, Any] = {}

    async def list_tools() -> str:
        result = await client.list_tools()
        listed.update({t.name: t for t in result.tools})
        for name in ("add", "echo"):
            assert name in listed, f"tool {name!r} not listed (got {sorted(listed)})"
            schema = listed[name].input_schema
            assert schema.get("type") == "object", f"tool {name!r} inputSchema.type is {schema.get('type')!r}"
        return f"{len(result.tools)} tools, add and echo with object input schemas"

    await check(f"{era}: tools/list", list_tools)

    async def call_add() -> str:
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error, f"isError result: {short(result.model_dump(by_alias=True, exclude_none=True))}"
        assert texts(result) == ["5"], f'expected text "5", got {short(result.model_dump(by_alias=True, exclude_none=True))}'
        return 'text "5"'

    await check(f"{era}: tools/call add {{a:2,b:3}}", call_add)

    async def call_echo() -> str:
        result = await client.call_tool("echo", {"text": NON_ASCII})
        assert not result.is_error, f"isError result: {short(result.model_dump(by_alias=True, exclude_none=True))}"
        assert texts(result) == [NON_ASCII], f"expected text {NON_ASCII!r}, got {short(texts(result))}"
        return f"text {NON_ASCII!r} round-tripped"

    await check(f"{era}: tools/call echo non-ASCII", call_echo)

    async def call_elicit(elicit_tool: str, elicit_args: dict[str, Any], expect: str) -> str:
        assert listed, "tools/list failed, cannot tell whether the tool exists"
        assert elicit_tool in listed, f"tool {elicit_tool!r} not listed"
        before = len(elicitations)
        result = await client.call_tool(elicit_tool, elicit_args)
        asked = elicitations[before:]
        assert asked, "the elicitation callback was never called"
        assert not result.is_error, f"isError result: {short(result.model_dump(by_alias=True, exclude_none=True))}"
        text = " ".join(texts(result))
        assert expect in text, f"final text does not contain {expect!r}: {short(text)}"
        fields = sorted((getattr(asked[0], "requested_schema", None) or {}).get("properties", {}))
        return f"{len(asked)} elicitation(s) for {fields}, answered accept; text {short(text, 120)!r}"

    for elicit_tool, elicit_args, expect in elicit_calls:
        await check(
            f"{era}: tools/call {elicit_tool} with elicitation",
            lambda t=elicit_tool, a=elicit_args, x=expect: call_elicit(t, a, x),
        )

    async def call_unknown() -> str:
        try:
            result = await client.call_tool("no_such_tool_xyz", {})
        except MCPError as e:
            return f"MCPError code={e.code} message={short(e.message, 120)!r}"
        assert result.is_error, f"expected an error, got a successful result {short(result.model_dump(by_alias=True, exclude_none=True))}"
        return f"isError result: {short(' '.join(texts(result)), 120)!r}"

    await check(f"{era}: tools/call unknown tool -> error", call_unknown)


async def era(url: str, era: str, mode: str, expected: str, elicit_calls: list[tuple[str, dict[str, Any], str]]) -> None:
    """Connects with `mode`, checks the negotiated version, runs the tool checks, disconnects."""
    connect = f"{era}: connect (mode={mode})"
    connected = False
    try:
        async with make_client(url, mode) as client:
            connected = True
            pv = client.protocol_version
            info = client.server_info
            who = f"{info.name} {info.version}" if info else "anonymous server"
            if pv == expected:
                ok(connect, f"negotiated {pv}, {who}")
            else:
                fail(connect, f"negotiated {pv}, expected {expected} ({who})")
            await tool_checks(client, era, elicit_calls)
    except Exception as e:  # noqa: BLE001
        fail(f"{era}: disconnect" if connected else connect, describe(e))
        if os.environ.get("MCP_INTEROP_DEBUG"):
            traceback.print_exc()


async def run(url: str) -> None:
    # Modern era: what a new user gets by default (mode="auto").
    # The dedicated input_required tool, and a tool that calls the framework's ctx.elicit (sent
    # as input_required on this wire).
    await era(url, "modern", "auto", MODERN, [INPUT_REQUIRED_TOOL, ELICIT_TOOL])

    # Modern era with the version pinned (no server/discover probe).
    async def pinned() -> str:
        async with make_client(url, MODERN) as c:
            assert c.protocol_version == MODERN, f"protocol_version {c.protocol_version}"
            result = await c.call_tool("add", {"a": 2, "b": 3})
            assert texts(result) == ["5"], f'expected text "5", got {short(result.model_dump(by_alias=True, exclude_none=True))}'
        return f'mode="{MODERN}": tools/call add -> "5" without a discover probe'

    await check("modern: pinned version", pinned)

    # Legacy era: the initialize handshake, with a session.
    # The same tools: the framework sends their questions as real elicitation/create requests.
    await era(url, "legacy", "legacy", LEGACY, [INPUT_REQUIRED_TOOL, ELICIT_TOOL])


async def main() -> int:
    if len(sys.argv) != 2:
        print("usage: py-client.py http://127.0.0.1:PORT/mcp", file=sys.stderr)
        return 2
    url = sys.argv[1]
    if os.environ.get("MCP_INTEROP_DEBUG"):
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("mcp").setLevel(logging.DEBUG)
    print(f"# mcp {dist_version('mcp')} (Python {sys.version.split()[0]}) -> {url}", flush=True)
    try:
        await asyncio.wait_for(run(url), RUN_TIMEOUT)
    except TimeoutError:
        fail("watchdog", f"the whole run took more than {RUN_TIMEOUT:.0f} s; giving up")
    except Exception as e:  # noqa: BLE001
        fail("run", describe(e))
        traceback.print_exc()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
