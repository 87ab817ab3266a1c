#!/usr/bin/env python3
"""An OTLP/HTTP receiver built on the official OTLP protobuf definitions (the
`opentelemetry-proto` package): POST /v1/traces, /v1/metrics and /v1/logs with
`application/x-protobuf` bodies (gzip or not) are decoded with the generated message classes
and appended, one JSON object per export, to the output file; the answer is the matching empty
Export*ServiceResponse. Anything it cannot decode gets 400 and is recorded as an error line.

Usage: receiver.py OUTPUT_JSONL PORT_FILE [--discard]
Binds 127.0.0.1 on a port the kernel picks and writes that port to PORT_FILE once listening.
--discard: read each body and answer without decoding or recording it (a stand-in for a
collector on another machine, for load measurements).
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SIGNALS = {
    "/v1/traces": (
        "traces",
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "/v1/metrics": (
        "metrics",
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "/v1/logs": (
        "logs",
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
    ),
}

OUTPUT = sys.argv[1]
DISCARD = "--discard" in sys.argv[3:]
LOCK = threading.Lock()


def record(entry):
    with LOCK, open(OUTPUT, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        signal = SIGNALS.get(self.path.split("?", 1)[0])
        if signal is None:
            self.send_error(404)
            return
        name, request_type, response_type = signal
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if DISCARD:
            self.answer(response_type)
            return
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            if "protobuf" not in self.headers.get("Content-Type", ""):
                raise ValueError("not application/x-protobuf: " + self.headers.get("Content-Type", ""))
            request = request_type()
            request.ParseFromString(body)
        except (DecodeError, ValueError, OSError) as e:
            record({"signal": name, "error": str(e)})
            self.send_error(400)
            return
        record({"signal": name, "data": MessageToDict(request)})
        self.answer(response_type)

    def answer(self, response_type):
        answer = response_type().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
