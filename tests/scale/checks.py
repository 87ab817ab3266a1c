#!/usr/bin/env python3
"""Raw-HTTP checks of several instances behind a load balancer, run by tests/scale/run.sh in the
venv of tests/interop/py.sh (httpx2, PyJWT and cryptography come with the `mcp` pins).

Usage: python checks.py COMMAND   (everything else comes from the environment run.sh sets)

Commands:
  resume           a legacy-era POST (tools/call archive_files) whose SSE stream is cut after its
                   first event, resumed through the balancer with GET + Last-Event-ID +
                   Mcp-Session-Id; the elicitation on the resumed stream is answered through the
                   balancer; every event id exactly once, every progress step once, the result
  listchange       a legacy session's GET stream on instance B (direct) hears
                   notifications/resources/list_changed for an archive made on instance A
                   (direct); the same for a 2026-07-28 subscriptions/listen on B; each with a
                   control change made on B itself
  workflow-ok      the API key in $WF_KEY_FILE works on every workflow_server (direct) and
                   through the balancer (several times)
  workflow-revoked the revoked key is refused (401) by every instance and the balancer
  redis-before     baseline: a DPoP-bound call through the balancer (proof remembered in
                   $SCALE_DIR/dpop.json for the replay below), a legacy session made
  redis-down       Redis stopped: fresh DPoP proofs and a replayed one get 503 + Retry-After
                   (never 200, never a hang), the stateless Bearer era still works, legacy
                   session requests get 503 + Retry-After
  redis-up         Redis back: the same requests succeed again within MCP_SCALE_RECOVERY s
  pg-down          PostgreSQL stopped: the valid and the revoked key get 503 + Retry-After on
                   every workflow_server; protected_server (audit queued) still answers 200
  pg-up            PostgreSQL back: within MCP_SCALE_RECOVERY s the valid key works and the
                   revoked key is 401 on every instance

P_TARGET, when set, is where `resume` sends its requests instead of P_LB (one instance: a check
of this script without the balancer).

Environment (set by run.sh): ISSUER, P_LB (protected_server behind the balancer, the resource
tokens name), P_URLS / W_URLS (space-separated direct instance URLs), W_LB, WF_KEY_FILE,
WF_REVOKED_KEY_FILE, SCALE_DIR, ACCESS_LOG. Tokens and keys are never printed.
Prints one line per check and "N passed, M failed" last; exits 1 on any failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import sys
import threading
import time
import uuid
from typing import Any, Iterator

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"
TIMEOUT = 10.0  # seconds for any single HTTP exchange (never a hang)
RECOVERY = float(os.environ.get("MCP_SCALE_RECOVERY", "15"))
NOTIFY_WAIT = 5.0  # seconds a list change may take to reach another instance's subscriber

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


def note(text: str) -> None:
    print(f"#    {text}", flush=True)


def short(v: Any, limit: int = 240) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\n", " ")
    return s if len(s) <= limit else s[:limit] + "..."


def env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        sys.exit(f"{name} is not set (run tests/scale/run.sh)")
    return v


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- credentials -------------------------------------------------------------------------------


def metadata() -> dict[str, Any]:
    r = httpx2.get(env("ISSUER") + "/.well-known/openid-configuration", timeout=TIMEOUT)
    r.raise_for_status()
    return r.json()


def bearer_token(resource: str | None = None, client: tuple[str, str] = ("mcp-reader", "reader-secret"), scope: str = "read") -> str:
    """A client_credentials token from oidc-provider for the balancer's URL (RFC 8707)."""
    r = httpx2.post(
        metadata()["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": resource or env("P_LB"), "scope": scope},
        auth=client,
        timeout=TIMEOUT,
    )
    if r.status_code != 200:
        sys.exit(f"token request refused: HTTP {r.status_code} {short(r.text)}")
    return r.json()["access_token"]


class DpopKey:
    """An ES256 key and RFC 9449 proofs made with it (PyJWT)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))

    def proof(self, method: str, url: str, token: str | None = None) -> str:
        claims: dict[str, Any] = {"jti": str(uuid.uuid4()), "htm": method, "htu": url, "iat": int(time.time())}
        if token is not None:
            claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})

    def token(self) -> str:
        """A DPoP-bound token (as.mjs --dpop) for the balancer's URL."""
        endpoint = metadata()["token_endpoint"]
        r = httpx2.post(
            endpoint,
            data={"grant_type": "client_credentials", "resource": env("P_LB"), "scope": "read"},
            auth=("mcp-reader", "reader-secret"),
            headers={"DPoP": self.proof("POST", endpoint)},
            timeout=TIMEOUT,
        )
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code != 200 or body.get("token_type", "").lower() != "dpop":
            sys.exit(f"DPoP token request: HTTP {r.status_code}, token_type {body.get('token_type')!r}")
        return body["access_token"]


# --- HTTP and SSE ------------------------------------------------------------------------------


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str | None, str]]:
    """(id, data) per event; data may be empty (a priming event carrying only an id)."""
    eid: str | None = None
    data: list[str] = []
    seen_field = False
    for line in lines:
        if line == "":
            if seen_field:
                yield eid, "\n".join(data)
            eid, data, seen_field = None, [], False
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            eid, seen_field = value, True
        elif field == "data":
            data.append(value)
            seen_field = True
        elif field in ("event", "retry"):
            seen_field = True


def messages_of(r: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a complete response (JSON or SSE)."""
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        return [json.loads(d) for _, d in sse_events(iter(r.text.splitlines())) if d]
    try:
        body = r.json()
    except ValueError:
        return []
    return body if isinstance(body, list) else [body]


def upstream(r: httpx2.Response) -> str:
    return r.headers.get("x-upstream", "direct")


def status_line(r: httpx2.Response) -> str:
    ra = r.headers.get("retry-after")
    return f"HTTP {r.status_code}" + (f" Retry-After {ra}" if ra else "") + f" via {upstream(r)}: {short(r.text, 160)}"


def modern_meta(caps: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": caps or {},
        "io.modelcontextprotocol/clientInfo": {"name": "mcp-scale-checks", "version": "1.0.0"},
    }


def modern_call(url: str, auth: dict[str, str], tool: str, arguments: dict[str, Any], timeout: float = TIMEOUT) -> httpx2.Response:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": modern_meta()},
    }
    headers = {
        "content-type": "application/json",
        "accept": ACCEPT,
        "mcp-protocol-version": MODERN,
        "mcp-method": "tools/call",
        "mcp-name": tool,
        **auth,
    }
    return httpx2.post(url, json=body, headers=headers, timeout=timeout)


def result_text(r: httpx2.Response) -> str | None:
    """The text of a tools/call result in a response, or None."""
    for m in messages_of(r):
        res = m.get("result")
        if isinstance(res, dict) and "content" in res:
            return " ".join(c.get("text", "") for c in res["content"] if isinstance(c, dict))
    return None


class Legacy:
    """A legacy-era (2025-11-25) session by hand."""

    def __init__(self, url: str, auth: dict[str, str], caps: dict[str, Any] | None = None) -> None:
        self.url = url
        self.auth = auth
        self.session: str | None = None
        body = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": caps if caps is not None else {"elicitation": {"form": {}}},
                "clientInfo": {"name": "mcp-scale-checks", "version": "1.0.0"},
            },
        }
        r = httpx2.post(url, json=body, headers={"content-type": "application/json", "accept": ACCEPT, **auth}, timeout=TIMEOUT)
        self.init_response = r
        self.session = r.headers.get("mcp-session-id")
        if r.status_code != 200 or not self.session:
            raise RuntimeError(f"initialize: {status_line(r)}")
        r = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        if r.status_code != 202:
            raise RuntimeError(f"notifications/initialized: {status_line(r)}")

    def headers(self, url: str | None = None) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": ACCEPT, "mcp-protocol-version": LEGACY, **self.auth}
        if self.session:
            h["mcp-session-id"] = self.session
        return h

    def post(self, message: dict[str, Any], url: str | None = None, timeout: float = TIMEOUT) -> httpx2.Response:
        return httpx2.post(url or self.url, json=message, headers=self.headers(), timeout=timeout)

    def call(self, tool: str, arguments: dict[str, Any], url: str | None = None, rid: int = 1) -> httpx2.Response:
        return self.post(
            {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool, "arguments": arguments}},
            url,
        )


def reader(response_cm: Any, out: "queue.Queue[Any]") -> None:
    """Reads an SSE response into a queue: ("event", id, msg) ..., then ("end", reason)."""
    try:
        with response_cm as r:
            if r.status_code != 200:
                r.read()
                out.put(("status", r))
                out.put(("end", f"HTTP {r.status_code}"))
                return
            out.put(("status", r))
            for eid, data in sse_events(r.iter_lines()):
                out.put(("event", eid, json.loads(data) if data else None))
        out.put(("end", "stream closed by the server"))
    except Exception as e:  # noqa: BLE001 - a closed or timed-out stream ends the reader
        out.put(("end", f"{type(e).__name__}: {short(str(e))}"))


def open_stream(client: httpx2.Client, method: str, url: str, headers: dict[str, str], body: Any = None) -> "queue.Queue[Any]":
    q: "queue.Queue[Any]" = queue.Queue()
    cm = client.stream(method, url, headers=headers, json=body)
    threading.Thread(target=reader, args=(cm, q), daemon=True).start()
    return q


def wait_status(q: "queue.Queue[Any]", what: str) -> httpx2.Response | None:
    try:
        kind, *rest = q.get(timeout=TIMEOUT)
    except queue.Empty:
        fail(what, f"no response head within {TIMEOUT:.0f} s")
        return None
    if kind != "status":
        fail(what, f"no response: {rest}")
        return None
    return rest[0]


def wait_for(q: "queue.Queue[Any]", pred: Any, seconds: float) -> tuple[bool, list[Any], str]:
    """Events until one matches `pred` (True), the stream ends or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    seen: list[Any] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, seen, f"nothing matching within {seconds:.0f} s"
        try:
            item = q.get(timeout=left)
        except queue.Empty:
            return False, seen, f"nothing matching within {seconds:.0f} s"
        if item[0] == "end":
            return False, seen, item[1]
        if item[0] == "event" and item[2] is not None:
            seen.append(item[2])
            if pred(item[2]):
                return True, seen, ""


# --- checks ------------------------------------------------------------------------------------


def cmd_resume() -> None:
    """The resumption check (see module doc): POST cut after its first progress event, then GET +
    Last-Event-ID through the balancer until the tools/call's response arrives."""
    # P_TARGET (a single instance) checks this script itself, without the balancer.
    lb = os.environ.get("P_TARGET") or env("P_LB")
    auth = {"authorization": f"Bearer {bearer_token()}"}
    name = "resume"
    try:
        s = Legacy(lb, auth)
    except RuntimeError as e:
        fail(f"{name}: legacy session through the balancer (initialize, notifications/initialized)", str(e))
        return
    ok(f"{name}: legacy session through the balancer", f"initialize via {upstream(s.init_response)}")

    seen_ids: list[str] = []
    progress: list[float] = []
    state: dict[str, Any] = {"final": None, "elicited": 0, "problem": None}
    call_id = 7

    def take(eid: str | None, msg: dict[str, Any] | None, via: str) -> None:
        if eid is not None:
            seen_ids.append(eid)
        if msg is None:
            return
        if msg.get("method") == "notifications/progress":
            progress.append(msg["params"]["progress"])
        elif msg.get("method") == "elicitation/create" and "id" in msg:
            state["elicited"] += 1
            answer = {"jsonrpc": "2.0", "id": msg["id"], "result": {"action": "accept", "content": {"confirm": True}}}
            r = s.post(answer)
            if r.status_code != 202:
                state["problem"] = f"the answer to elicitation/create (POST through the balancer) got {status_line(r)}"
            else:
                ok(f"{name}: elicitation/create (on a stream via {via}) answered through the balancer", f"202 via {upstream(r)}")
        elif msg.get("id") == call_id and ("result" in msg or "error" in msg):
            state["final"] = msg

    def read(q: "queue.Queue[Any]", via: str, stop_after_progress: bool) -> str:
        """Takes events until the final response ("final"), the first progress ("cut"), the
        stream's end ("end: why") or a problem ("problem")."""
        while True:
            try:
                item = q.get(timeout=TIMEOUT)
            except queue.Empty:
                return f"end: no event for {TIMEOUT:.0f} s"
            if item[0] == "end":
                return f"end: {item[1]}"
            if item[0] != "event":
                continue
            _, eid, msg = item
            take(eid, msg, via)
            if state["problem"]:
                return "problem"
            if state["final"] is not None:
                return "final"
            if stop_after_progress and msg is not None and msg.get("method") == "notifications/progress":
                return "cut"

    body = {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "tools/call",
        "params": {"name": "archive_files", "arguments": {"path": "/srv/data"}, "_meta": {"progressToken": "scale-resume"}},
    }
    client = httpx2.Client(timeout=httpx2.Timeout(TIMEOUT))
    q = open_stream(client, "POST", lb, s.headers(), body)
    r = wait_status(q, f"{name}: POST tools/call archive_files through the balancer")
    if r is None:
        client.close()
        return
    via = upstream(r)
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/event-stream"):
        body_text = short(r.text, 160) if r.status_code != 200 else ""
        fail(
            f"{name}: POST tools/call archive_files through the balancer answers an SSE stream",
            f"HTTP {r.status_code} {r.headers.get('content-type')} via {via} (the session was made via "
            f"{upstream(s.init_response)}) {body_text}",
        )
        client.close()
        return
    outcome = read(q, via, stop_after_progress=True)
    client.close()  # cut mid-stream: the connection is closed after the first progress event
    if outcome != "cut":
        fail(f"{name}: the POST stream (via {via}) carries a first progress event", outcome)
        return
    ok(f"{name}: POST stream via {via} cut by the client after its first progress event", f"ids so far {seen_ids}")
    first_via = via

    resumes = 0
    while state["final"] is None and resumes < 8:
        if not seen_ids:
            fail(f"{name}: an event id to resume from", "the POST stream's events carried no id")
            return
        resumes += 1
        headers = {k: v for k, v in s.headers().items() if k != "content-type"}
        headers["accept"] = "text/event-stream"
        headers["last-event-id"] = seen_ids[-1]
        client = httpx2.Client(timeout=httpx2.Timeout(TIMEOUT))
        q = open_stream(client, "GET", lb, headers)
        r = wait_status(q, f"{name}: GET #{resumes} + Last-Event-ID through the balancer")
        if r is None:
            client.close()
            return
        via = upstream(r)
        if r.status_code != 200:
            fail(
                f"{name}: GET #{resumes} + Last-Event-ID {seen_ids[-1]} through the balancer",
                f"HTTP {r.status_code} via {via} (the POST went via {first_via}): {short(r.text, 160)}",
            )
            client.close()
            return
        outcome = read(q, via, stop_after_progress=False)
        client.close()
        if outcome == "problem":
            fail(f"{name}: resumed stream #{resumes} via {via}", state["problem"])
            return
        ok(f"{name}: GET #{resumes} + Last-Event-ID through the balancer resumed the stream", f"via {via}, {outcome}")

    final = state["final"]
    if final is None:
        fail(f"{name}: the final result arrives on a resumed stream", f"no response after {resumes} resumptions")
    else:
        text = " ".join(c.get("text", "") for c in (final.get("result") or {}).get("content", []))
        if "archived 3 files" in text:
            ok(f"{name}: the final result arrives on a resumed stream", short(text, 120))
        else:
            fail(f"{name}: the final result arrives on a resumed stream", f"unexpected answer {short(final)}")
    dups = sorted({i for i in seen_ids if seen_ids.count(i) > 1})
    if dups:
        fail(f"{name}: every event id received exactly once", f"duplicated ids {dups[:8]}")
    else:
        ok(f"{name}: every event id received exactly once", f"{len(seen_ids)} ids, {seen_ids[0]} .. {seen_ids[-1]}")
    if progress == [float(i) for i in range(1, 7)]:
        ok(f"{name}: every progress step exactly once, in order (1..6)")
    else:
        fail(f"{name}: every progress step exactly once, in order (1..6)", f"got {progress}")
    if state["elicited"] != 1:
        fail(f"{name}: exactly one elicitation/create", f"got {state['elicited']}")


def sse_get_headers(session: Legacy) -> dict[str, str]:
    h = {k: v for k, v in session.headers().items() if k != "content-type"}
    h["accept"] = "text/event-stream"
    return h


def is_list_changed(m: dict[str, Any]) -> bool:
    return m.get("method") == "notifications/resources/list_changed"


def trigger(url: str, auth: dict[str, str], where: str) -> bool:
    """Makes an archive on `url` (a stateless call, no elicitation: archived at once)."""
    r = modern_call(url, auth, "archive_files", {"path": "/srv/data"})
    text = result_text(r) or ""
    if r.status_code == 200 and "archived" in text:
        note(f"change made on {where}: {short(text, 100)}")
        return True
    fail(f"listchange: archive_files on {where} (the change)", status_line(r))
    return False


def cmd_listchange() -> None:
    urls = env("P_URLS").split()
    a, b = urls[0], urls[1]
    auth = {"authorization": f"Bearer {bearer_token()}"}

    # Legacy: a session made on B, its standalone GET stream open on B.
    name = "listchange legacy"
    try:
        s = Legacy(b, auth)
    except RuntimeError as e:
        fail(f"{name}: session on B ({b})", str(e))
        s = None
    if s is not None:
        client = httpx2.Client(timeout=httpx2.Timeout(TIMEOUT, read=None))
        q = open_stream(client, "GET", b, sse_get_headers(s))
        r = wait_status(q, f"{name}: GET stream on B")
        if r is not None and r.status_code != 200:
            fail(f"{name}: GET stream on B", status_line(r))
        elif r is not None:
            ok(f"{name}: session and standalone GET stream on B ({b})")
            if trigger(a, auth, f"A ({a})"):
                got, seen, why = wait_for(q, is_list_changed, NOTIFY_WAIT)
                if got:
                    ok(f"{name}: B's GET stream hears notifications/resources/list_changed for a change on A")
                else:
                    fail(
                        f"{name}: B's GET stream hears notifications/resources/list_changed for a change on A",
                        f"{why}; messages seen: {short([m.get('method') for m in seen])}",
                    )
            if trigger(b, auth, f"B ({b}), control"):
                got, seen, why = wait_for(q, is_list_changed, NOTIFY_WAIT)
                if got:
                    ok(f"{name} (control): B's GET stream hears a change made on B")
                else:
                    fail(f"{name} (control): B's GET stream hears a change made on B", why)
        client.close()

    # 2026-07-28: subscriptions/listen on B.
    name = "listchange 2026-07-28"
    body = {
        "jsonrpc": "2.0",
        "id": 42,
        "method": "subscriptions/listen",
        "params": {"notifications": {"resourcesListChanged": True}, "_meta": modern_meta()},
    }
    headers = {
        "content-type": "application/json",
        "accept": ACCEPT,
        "mcp-protocol-version": MODERN,
        "mcp-method": "subscriptions/listen",
        **auth,
    }
    client = httpx2.Client(timeout=httpx2.Timeout(TIMEOUT, read=None))
    q = open_stream(client, "POST", b, headers, body)
    r = wait_status(q, f"{name}: subscriptions/listen on B")
    if r is not None and r.status_code != 200:
        fail(f"{name}: subscriptions/listen on B", status_line(r))
    elif r is not None:
        got, seen, why = wait_for(q, lambda m: m.get("method") == "notifications/subscriptions/acknowledged", TIMEOUT)
        if not got:
            fail(f"{name}: subscriptions/listen on B acknowledged", why)
        else:
            ok(f"{name}: subscriptions/listen on B acknowledged", short(seen[-1].get("params", {}).get("notifications")))
            if trigger(a, auth, f"A ({a})"):
                got, seen, why = wait_for(q, is_list_changed, NOTIFY_WAIT)
                if got:
                    ok(f"{name}: the subscription on B hears notifications/resources/list_changed for a change on A")
                else:
                    fail(
                        f"{name}: the subscription on B hears notifications/resources/list_changed for a change on A",
                        f"{why}; messages seen: {short([m.get('method') for m in seen])}",
                    )
            if trigger(b, auth, f"B ({b}), control"):
                got, seen, why = wait_for(q, is_list_changed, NOTIFY_WAIT)
                if got:
                    ok(f"{name} (control): the subscription on B hears a change made on B")
                else:
                    fail(f"{name} (control): the subscription on B hears a change made on B", why)
    client.close()


# --- workflow_server: API keys in PostgreSQL ----------------------------------------------------


def key_auth(path_var: str) -> dict[str, str]:
    with open(env(path_var)) as f:
        return {"authorization": f"Bearer {f.read().strip()}"}


def wf_targets() -> list[tuple[str, str]]:
    """(label, url): each instance directly, then the balancer three times."""
    direct = [(f"instance {i + 1} ({u})", u) for i, u in enumerate(env("W_URLS").split())]
    return direct + [(f"balancer #{j + 1}", env("W_LB")) for j in range(3)]


def cmd_workflow_ok() -> None:
    auth = key_auth("WF_KEY_FILE")
    for label, url in wf_targets():
        r = modern_call(url, auth, "whoami", {})
        text = result_text(r)
        if r.status_code == 200 and text and '"role"' in text:
            ok(f"workflow key: tools/call whoami on {label}", f"200 via {upstream(r)}")
        else:
            fail(f"workflow key: tools/call whoami on {label}", status_line(r))


def cmd_workflow_revoked() -> None:
    auth = key_auth("WF_KEY_FILE")
    for label, url in wf_targets():
        r = modern_call(url, auth, "whoami", {})
        if r.status_code == 401:
            ok(f"revoked workflow key refused on {label}", f"401 via {upstream(r)}")
        else:
            fail(f"revoked workflow key refused on {label} (the next request after keys revoke)", status_line(r))


# --- store outages -----------------------------------------------------------------------------


def timed(f: Any) -> tuple[httpx2.Response | None, float, str]:
    t = time.monotonic()
    try:
        r = f()
    except httpx2.TimeoutException:
        return None, time.monotonic() - t, f"no answer within {TIMEOUT:.0f} s (a hang)"
    except httpx2.HTTPError as e:
        return None, time.monotonic() - t, f"{type(e).__name__}: {short(str(e))}"
    return r, time.monotonic() - t, ""


def expect_503(name: str, f: Any) -> None:
    """503 with Retry-After, within TIMEOUT."""
    r, took, why = timed(f)
    if r is None:
        fail(name, why)
    elif r.status_code == 503 and r.headers.get("retry-after"):
        ok(name, f"503 Retry-After {r.headers['retry-after']} in {took:.1f} s via {upstream(r)}")
    else:
        fail(name, f"expected 503 with Retry-After, got {status_line(r)} in {took:.1f} s")


def expect_200(name: str, f: Any, check: Any = None) -> None:
    r, took, why = timed(f)
    if r is None:
        fail(name, why)
    elif r.status_code == 200 and (check is None or check(r)):
        ok(name, f"200 in {took:.1f} s via {upstream(r)}")
    else:
        fail(name, f"{status_line(r)} in {took:.1f} s")


def poll(name: str, attempt: Any, seconds: float = RECOVERY) -> bool:
    """Retries `attempt` (returns "" when it succeeded, else why not) until `seconds` pass."""
    t = time.monotonic()
    why = "not tried"
    while time.monotonic() - t < seconds:
        try:
            why = attempt()
        except httpx2.HTTPError as e:
            why = f"{type(e).__name__}: {short(str(e))}"
        if not why:
            ok(name, f"within {time.monotonic() - t:.1f} s")
            return True
        time.sleep(0.5)
    fail(name, f"not within {seconds:.0f} s: {why}")
    return False


def state_path() -> str:
    return os.path.join(env("SCALE_DIR"), "dpop.json")


def save_state(state: dict[str, Any]) -> None:
    fd = os.open(state_path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)


def load_dpop() -> tuple[DpopKey, str, dict[str, Any]]:
    from cryptography.hazmat.primitives import serialization

    with open(state_path()) as f:
        state = json.load(f)
    k = DpopKey()
    k.key = serialization.load_pem_private_key(state["key"].encode(), password=None)  # type: ignore[assignment]
    k.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(k.key.public_key()))
    return k, state["token"], state


def dpop_add(url: str, k: DpopKey, token: str, proof: str | None = None) -> httpx2.Response:
    proof = proof or k.proof("POST", env("P_LB"), token)
    return modern_call(url, {"authorization": f"DPoP {token}", "dpop": proof}, "add", {"a": 2, "b": 3})


def is_five(r: httpx2.Response) -> bool:
    return result_text(r) == "5"


def cmd_redis_before() -> None:
    from cryptography.hazmat.primitives import serialization

    lb = env("P_LB")
    k = DpopKey()
    token = k.token()
    proof = k.proof("POST", lb, token)
    r = dpop_add(lb, k, token, proof)
    if r.status_code == 200 and is_five(r):
        ok("redis baseline: DPoP-bound tools/call add through the balancer (proof in Redis)", f"via {upstream(r)}")
    else:
        fail("redis baseline: DPoP-bound tools/call add through the balancer", status_line(r))
    r = dpop_add(lb, k, token, proof)
    if r.status_code == 401:
        ok("redis baseline: the same proof again is a replay (401), on another instance", f"via {upstream(r)}")
    else:
        fail("redis baseline: the same proof again is a replay (401), on another instance", status_line(r))
    session = None
    try:
        s = Legacy(env("P_URLS").split()[0], {"authorization": f"Bearer {bearer_token()}"})
        session = s.session
        ok("redis baseline: a legacy session on instance 1")
    except RuntimeError as e:
        fail("redis baseline: a legacy session on instance 1", str(e))
    pem = k.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    save_state({"key": pem, "token": token, "proof": proof, "session": session})


def cmd_redis_down() -> None:
    """Redis shut down, or (OUTAGE="not answering") stopped with SIGSTOP."""
    outage = os.environ.get("OUTAGE", "down")
    lb = env("P_LB")
    urls = env("P_URLS").split()
    k, token, state = load_dpop()
    bearer = {"authorization": f"Bearer {bearer_token()}"}
    for i in range(3):
        expect_503(f"redis {outage}: a fresh DPoP proof through the balancer (#{i + 1}) is 503 + Retry-After", lambda: dpop_add(lb, k, token))
    r, took, why = timed(lambda: dpop_add(lb, k, token, state["proof"]))
    if r is None:
        fail(f"redis {outage}: a replayed DPoP proof is not accepted", why)
    elif r.status_code in (401, 503):
        ok(f"redis {outage}: a replayed DPoP proof is not accepted", f"{r.status_code} in {took:.1f} s via {upstream(r)}")
    else:
        fail(f"redis {outage}: a replayed DPoP proof is not accepted", status_line(r))
    for i in range(3):
        expect_200(f"redis {outage}: a stateless Bearer call through the balancer (#{i + 1}) needs no Redis", lambda: modern_call(lb, bearer, "add", {"a": 2, "b": 3}), is_five)
    if state.get("session"):
        s = Legacy.__new__(Legacy)
        s.url, s.auth, s.session = urls[1], bearer, state["session"]
        expect_503(
            f"redis {outage}: a request of a legacy session made on instance 1, sent to instance 2, is 503 + Retry-After",
            lambda: s.call("add", {"a": 2, "b": 3}),
        )
    def init() -> httpx2.Response:
        body = {
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "mcp-scale-checks", "version": "1.0.0"}},
        }
        return httpx2.post(lb, json=body, headers={"content-type": "application/json", "accept": ACCEPT, **bearer}, timeout=TIMEOUT)
    expect_503(f"redis {outage}: a new legacy session (initialize through the balancer) is 503 + Retry-After", init)


def cmd_redis_up() -> None:
    lb = env("P_LB")
    k, token, _ = load_dpop()
    bearer = {"authorization": f"Bearer {bearer_token()}"}

    def dpop_thrice() -> str:
        for _ in range(3):
            r = dpop_add(lb, k, token)
            if r.status_code != 200 or not is_five(r):
                return status_line(r)
        return ""

    poll("redis back: fresh DPoP proofs through the balancer succeed again (3 in a row)", dpop_thrice)

    def legacy_thrice() -> str:
        try:
            s = Legacy(lb, bearer)
        except RuntimeError as e:
            return str(e)
        for _ in range(3):
            r = s.call("add", {"a": 2, "b": 3})
            if r.status_code != 200 or "5" not in (result_text(r) or ""):
                return f"tools/call add in the session: {status_line(r)}"
        return ""

    poll("redis back: a new legacy session through the balancer works (initialize + 3 calls)", legacy_thrice)


def cmd_pg_down() -> None:
    valid = key_auth("WF_VALID_KEY_FILE")
    revoked = key_auth("WF_KEY_FILE")
    for label, url in wf_targets()[:4]:
        expect_503(f"postgres down: the valid key on {label} is 503 + Retry-After", lambda: modern_call(url, valid, "whoami", {}))
        expect_503(f"postgres down: the revoked key on {label} is 503 + Retry-After (not accepted)", lambda: modern_call(url, revoked, "whoami", {}))
    bearer = {"authorization": f"Bearer {bearer_token()}"}
    for i in range(3):
        expect_200(
            f"postgres down: protected_server (audit trail in PostgreSQL, queued) still answers (#{i + 1})",
            lambda: modern_call(env("P_LB"), bearer, "add", {"a": 2, "b": 3}),
            is_five,
        )


def cmd_pg_up() -> None:
    valid = key_auth("WF_VALID_KEY_FILE")
    revoked = key_auth("WF_KEY_FILE")

    def all_back() -> str:
        for label, url in wf_targets():
            r = modern_call(url, valid, "whoami", {})
            if r.status_code != 200:
                return f"valid key on {label}: {status_line(r)}"
            r = modern_call(url, revoked, "whoami", {})
            if r.status_code != 401:
                return f"revoked key on {label}: {status_line(r)}"
        return ""

    poll("postgres back: the valid key works and the revoked one is 401 on every instance and the balancer", all_back)


def cmd_token() -> None:
    """Writes a `read` token for the balancer's URL to $SCALE_DIR/token (0600), for the SDK runs."""
    path = os.path.join(env("SCALE_DIR"), "token")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(bearer_token())
    ok("a `read` token for the balancer's URL from oidc-provider (client_credentials, RFC 8707 resource)")


def spread(access_log: str, offset: int) -> dict[str, int]:
    """Requests per upstream in the balancer's access log past `offset` (bytes)."""
    counts: dict[str, int] = {}
    with open(access_log, "rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            fields = line.split(" ")
            up = fields[0]
            # Answered requests only (a 404 "Session not found" does not count as served).
            if up and up != "-" and len(fields) > 1 and fields[1] < "400":
                counts[up] = counts.get(up, 0) + 1
    return counts


COMMANDS = {
    "token": cmd_token,
    "resume": cmd_resume,
    "listchange": cmd_listchange,
    "workflow-ok": cmd_workflow_ok,
    "workflow-revoked": cmd_workflow_revoked,
    "redis-before": cmd_redis_before,
    "redis-down": cmd_redis_down,
    "redis-up": cmd_redis_up,
    "pg-down": cmd_pg_down,
    "pg-up": cmd_pg_up,
}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: checks.py {'|'.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        COMMANDS[sys.argv[1]]()
    except Exception as e:  # noqa: BLE001 - an unexpected error is a failed check, not a crash
        fail(f"{sys.argv[1]}: unexpected error", f"{type(e).__name__}: {short(str(e))}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
