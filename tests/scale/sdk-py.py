#!/usr/bin/env python3
"""The official MCP Python SDK client (`mcp` 2.3.0, `mcp.Client` over Streamable HTTP) against three
protected_server instances behind the balancer, in both eras; run by tests/scale/run.sh.

Usage: python sdk-py.py   (P_LB, ISSUER, SCALE_DIR, ACCESS_LOG from run.sh, P_TARGET instead of
P_LB to check this script against one instance; the token is in
$SCALE_DIR/token and is never printed)

Per era (mode="2026-07-28" pinned, mode="auto" which must settle on 2026-07-28, mode="legacy"
which must make a 2025-11-25 session): connect; tools/list lists archive_files; tools/call
archive_files with a progress callback and an elicitation callback that accepts: the result says
"archived 3 files", the callback was asked once, progress reached 6 of 6; the same answered
decline: "not archived"; six tools/call add; and the requests of the era spread over all three
instances (the balancer's access log, round-robin).
Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult, Implementation, TextContent

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import fail, ok, short, spread  # noqa: E402

MODERN, LEGACY = checks.MODERN, checks.LEGACY
CHECK_TIMEOUT = 30.0


def describe(e: BaseException) -> str:
    if isinstance(getattr(e, "exceptions", None), (list, tuple)):
        return "; ".join(describe(x) for x in e.exceptions)  # type: ignore[attr-defined]
    return f"{type(e).__name__}: {short(str(e), 300)}"


def text_of(result: Any) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


async def era(label: str, mode: str, expected: str) -> None:
    url = os.environ.get("P_TARGET") or os.environ["P_LB"]
    with open(os.path.join(os.environ["SCALE_DIR"], "token")) as f:
        token = f.read().strip()
    log = os.environ["ACCESS_LOG"]
    offset = os.path.getsize(log)
    answer = {"action": "accept"}
    asked: list[Any] = []

    async def on_elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params)
        if answer["action"] == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    name = lambda s: f"py {label}: {s}"  # noqa: E731
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30.0, read=60.0))
    async with http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode=mode,  # type: ignore[arg-type]
            client_info=Implementation(name="mcp-scale-py", version="1.0.0"),
            elicitation_callback=on_elicit,
            read_timeout_seconds=CHECK_TIMEOUT,
        )
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await client.__aenter__()
        except Exception as e:  # noqa: BLE001
            fail(name(f"connect through the balancer (mode={mode})"), describe(e))
            return
        try:
            pv = client.protocol_version
            if pv == expected:
                ok(name(f"connect through the balancer (mode={mode})"), f"protocol {pv}")
            else:
                fail(name(f"connect through the balancer (mode={mode})"), f"protocol {pv}, expected {expected}")

            async def step(what: str, body: Any) -> None:
                try:
                    async with asyncio.timeout(CHECK_TIMEOUT):
                        detail = await body()
                    ok(name(what), detail)
                except AssertionError as e:
                    fail(name(what), str(e))
                except Exception as e:  # noqa: BLE001
                    fail(name(what), describe(e))

            async def tools_list() -> str:
                tools = (await client.list_tools()).tools
                names = sorted(t.name for t in tools)
                assert "archive_files" in names, f"archive_files not listed: {names}"
                return f"{len(names)} tools"

            await step("tools/list", tools_list)

            async def archive(accept: bool) -> str:
                answer["action"] = "accept" if accept else "decline"
                before = len(asked)
                progress: list[float] = []

                async def on_progress(p: float, total: float | None, message: str | None) -> None:
                    progress.append(p)

                result = await client.call_tool("archive_files", {"path": "/srv/data"}, progress_callback=on_progress)
                text = text_of(result)
                assert not result.is_error, f"isError: {short(text)}"
                assert len(asked) - before == 1, f"the elicitation callback was asked {len(asked) - before} times"
                if accept:
                    assert "archived 3 files" in text, f"unexpected result {short(text)}"
                    assert progress and progress[-1] == 6.0, f"progress {progress}, expected to reach 6"
                else:
                    assert text.startswith("not archived"), f"unexpected result {short(text)}"
                return f"{short(text, 80)!r}; progress {progress}"

            await step("tools/call archive_files: progress, elicitation answered accept", lambda: archive(True))
            await step("tools/call archive_files: elicitation answered decline", lambda: archive(False))

            async def adds() -> str:
                for _ in range(6):
                    r = await client.call_tool("add", {"a": 2, "b": 3})
                    assert text_of(r) == "5", f"add: {short(text_of(r))}"
                return "6 x 5"

            await step("six tools/call add", adds)
        finally:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await client.__aexit__(None, None, None)
            except Exception as e:  # noqa: BLE001 - closing is not what is checked
                print(f"#    py {label}: close: {describe(e)}", flush=True)
    await asyncio.sleep(0.3)  # the balancer logs a request when it ends
    counts = spread(log, offset)
    if len(counts) >= 3:
        ok(name("requests spread over all three instances (round-robin)"), str(counts))
    else:
        fail(name("requests spread over all three instances (round-robin)"), f"upstreams used: {counts}")


async def main() -> int:
    try:
        await era("2026-07-28 (pinned)", MODERN, MODERN)
        await era("auto", "auto", MODERN)
        await era("legacy", "legacy", LEGACY)
    except Exception as e:  # noqa: BLE001
        fail("py: run", describe(e))
        traceback.print_exc()
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
