#!/usr/bin/env python3
"""Checks what protected_server exported over OTLP (the receiver's dump, see run.sh): the MCP
spans with their attributes and links, the trace a caller started continued on the server, the
metrics, and no secret anywhere in the exported data.

Usage: check.py DUMP_JSONL SECRETS_FILE TRACE_ID PARENT_SPAN_ID
Prints each check; "N passed, M failed" last; exits 1 on any failure.
"""

import base64
import json
import sys

dump, secrets_file, trace_id, parent_id = sys.argv[1:5]
entries = [json.loads(line) for line in open(dump, encoding="utf-8") if line.strip()]
secrets = [s.strip() for s in open(secrets_file, encoding="utf-8") if s.strip()]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


def hex_id(b64):
    return base64.b64decode(b64).hex() if b64 else ""


def value(v):
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        return int(v["intValue"])
    return v


def attributes(item):
    return {a["key"]: value(a["value"]) for a in item.get("attributes", [])}


spans, resources, metrics = [], [], {}
for e in entries:
    check(f"the {e['signal']} export decoded", "error" not in e, e.get("error", ""))
    data = e.get("data", {})
    for rs in data.get("resourceSpans", []):
        resources.append(attributes(rs.get("resource", {})))
        for ss in rs.get("scopeSpans", []):
            spans.extend(ss.get("spans", []))
    for rm in data.get("resourceMetrics", []):
        resources.append(attributes(rm.get("resource", {})))
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                points = []
                for kind in ("histogram", "sum", "gauge"):
                    points.extend(m.get(kind, {}).get("dataPoints", []))
                metrics.setdefault(m["name"], []).extend(points)

check("spans were exported", len(spans) > 5, f"({len(spans)})")
check(
    "the resource names the service (OTEL_SERVICE_NAME)",
    any(r.get("service.name") == "mcp-otel-ci" for r in resources),
    str(resources[:1]),
)


def find(name, kind="SPAN_KIND_SERVER"):
    return [s for s in spans if s["name"] == name and s.get("kind") == kind]


init = find("initialize")
check("initialize span", len(init) >= 1)
if init:
    a = attributes(init[0])
    check("initialize: mcp.method.name", a.get("mcp.method.name") == "initialize", str(a))
    check("initialize: mcp.protocol.version", a.get("mcp.protocol.version") == "2025-11-25", str(a))
    check("initialize: network.transport tcp", a.get("network.transport") == "tcp", str(a))

calls = find("tools/call list_files")
check("tools/call list_files spans (legacy and 2026-07-28)", len(calls) >= 2, str(len(calls)))
legacy = [s for s in calls if attributes(s).get("mcp.protocol.version") == "2025-11-25"]
modern = [s for s in calls if attributes(s).get("mcp.protocol.version") == "2026-07-28"]
check("a legacy call in a session", bool(legacy) and len(str(attributes(legacy[0]).get("mcp.session.id", ""))) == 16)
check("a modern call without a session", bool(modern) and "mcp.session.id" not in attributes(modern[0]))
for s in calls[:1]:
    a = attributes(s)
    for key, want in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "list_files"),
        ("gen_ai.operation.name", "execute_tool"),
        ("jsonrpc.protocol.version", "2.0"),
    ]:
        check(f"tools/call: {key}", a.get(key) == want, str(a.get(key)))
    check("tools/call: jsonrpc.request.id", "jsonrpc.request.id" in a)

by_id = {s["spanId"]: s for s in spans}
continued = [s for s in calls if hex_id(s.get("traceId")) == trace_id]
check("the server continues the caller's trace (traceparent in params._meta)", len(continued) == 1)
if continued:
    check(
        "its parent is the caller's span",
        hex_id(continued[0].get("parentSpanId")) == parent_id,
        hex_id(continued[0].get("parentSpanId")),
    )
for s in legacy[:1]:
    parent = by_id.get(s.get("parentSpanId"))
    check("a message span's parent is its HTTP request's span", parent is not None and parent["name"] == "POST /mcp")
    if parent:
        pa = attributes(parent)
        check("HTTP span: http.response.status_code 200", pa.get("http.response.status_code") == 200, str(pa))
        check("HTTP span: the caller allowed, with its credential kind", pa.get("mcp.auth.outcome") == "allowed" and pa.get("mcp.auth.credential") == "bearer", str(pa))

refused = [s for s in find("POST /mcp") if attributes(s).get("http.response.status_code") == 401]
check("refused requests: 401 spans", len(refused) >= 2, str(len(refused)))
reasons = {attributes(s).get("mcp.auth.reason") for s in refused}
check("refused requests: denied with their reasons", all(attributes(s).get("mcp.auth.outcome") == "denied" for s in refused) and len(reasons) >= 2, str(reasons))
check("refused requests: error.type 401", all(attributes(s).get("error.type") == "401" for s in refused))

errors = find("tools/call delete_file")
check("a refused tool call (missing scope) is a tool error", bool(errors) and attributes(errors[0]).get("error.type") == "tool_error", str([attributes(s) for s in errors]))
check("failed spans have status ERROR", all(s.get("status", {}).get("code") == "STATUS_CODE_ERROR" for s in errors))

for name in ["mcp.server.operation.duration", "mcp.server.auth.refusals", "mcp.server.session.duration", "mcp.server.sessions.active"]:
    check(f"metric {name}", name in metrics and len(metrics[name]) > 0)
tool_points = [p for p in metrics.get("mcp.server.operation.duration", []) if attributes(p).get("gen_ai.tool.name") == "list_files"]
check("operation duration per tool, in seconds buckets", bool(tool_points) and int(tool_points[0].get("count", 0)) >= 1)

everything = open(dump, encoding="utf-8").read()
check("the secrets to look for are there", len(secrets) >= 3)
leaked = [s[:8] for s in secrets for i in range(0, len(s) - 15) if s[i:i + 16] in everything]
check("no secret (no 16-character window of one) in the exported data", not leaked, str(leaked[:3]))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
