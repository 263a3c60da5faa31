#!/usr/bin/env python3
"""A local stand-in for an OpenAI-compatible LLM upstream, so Parapet runs with no API key.

- POST /v1/chat/completions: answers with an assistant message that echoes the last user message
  ("You said: ..."), so masking is visible end to end; `"stream": true` answers as an SSE stream
  of chat.completion.chunk events ending with `data: [DONE]`.
- GET /v1/models: one model.
- A request header `x-standin-reply: TEXT` makes the answer TEXT verbatim (a model that
  produces something on its own, for output-guard tests).
- `x-standin-chunk-delay-ms: N` sleeps N ms after each streamed piece (a slow model).
- `x-standin-chunks: SEED` streams slowly: the SSE bytes are cut at random offsets (1..24
  bytes, seeded) and each piece is flushed as its own chunk after a short pause, so events and
  values are split across body chunks the way real upstreams do.
- `x-standin-id: ID` fixes the completion id and `created` (for byte-level comparisons).
- `x-standin-early: 1` answers after reading only the first chunk of a chunked request body
  (and closes the connection): an upstream response that overtakes the request.
- `x-standin-tool-call: NAME` makes the answer a call of tool NAME whose arguments are the
  answer text (streamed as `delta.tool_calls[0].function.arguments` pieces when streaming).
- POST /mcp: a minimal MCP server (JSON-RPC 2.0, streamable HTTP): `initialize`, `tools/list`,
  and `tools/call` of an `echo` tool whose result text is `x-standin-reply` or the arguments as
  JSON; notifications get 202. `x-standin-sse: 1` answers as an SSE stream (a progress
  notification, then the response) instead of JSON; `x-standin-chunks` splits it as above.
- A request header `x-standin-gzip: 1` makes it gzip the JSON answer (content-encoding: gzip)
  whatever the request's accept-encoding says, like an upstream that ignores it.
- Every request it receives is recorded exactly (method, path, headers, raw body bytes):
  GET /_standin/requests lists them (body base64-encoded); DELETE /_standin/requests clears them.
  Tests use this to prove what reached the upstream, byte for byte. Each record also has
  `headers_at` and `body_at` (wall-clock seconds when the headers and the first body byte
  arrived), to show when a request was forwarded.

Standard library only. Handles `transfer-encoding: chunked` request bodies (Envoy forwards a
body whose content-length the filter dropped as chunked).
"""
import argparse
import base64
import gzip
import json
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORDED = []
LOCK = threading.Lock()


def read_body(handler):
    handler.body_at = None
    if handler.headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size_line = handler.rfile.readline()
            if handler.body_at is None:
                handler.body_at = time.time()
            if not size_line:
                raise ConnectionError("connection closed inside a chunked body")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                # trailers until the blank line
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    body = handler.rfile.read(length) if length else b""
    handler.body_at = time.time()
    return body


def last_user_text(req):
    for m in reversed(req.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
    # the peer's delayed ACK add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    server_version = "llm-standin/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def parse_request(self):
        self.headers_at = time.time()
        return super().parse_request()

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        if self.headers.get("x-standin-gzip") == "1":
            body = gzip.compress(body)
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, body):
        with LOCK:
            RECORDED.append({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_b64": base64.b64encode(body).decode(),
                "headers_at": getattr(self, "headers_at", None),
                "body_at": getattr(self, "body_at", None),
            })

    def do_GET(self):
        if self.path == "/_standin/requests":
            with LOCK:
                return self.send_json(200, RECORDED)
        self.record(b"")
        if self.path.rstrip("/") == "/v1/models":
            return self.send_json(200, {"object": "list", "data": [{"id": "standin-echo", "object": "model", "owned_by": "parapet"}]})
        self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error", "param": None, "code": None}})

    def do_DELETE(self):
        if self.path == "/_standin/requests":
            with LOCK:
                RECORDED.clear()
            return self.send_json(200, {"cleared": True})
        self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}})

    def do_POST(self):
        if self.headers.get("x-standin-early") == "1":
            # Answer after the first chunk of a chunked body, before the rest, like an upstream
            # that short-circuits early; the connection is closed afterwards.
            self.close_connection = True
            first = b""
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                first = self.rfile.read(size)
            self.record(first)
            return self.send_json(200, {"object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "early answer"}, "finish_reason": "stop"}]})
        try:
            body = read_body(self)
        except (ConnectionError, ValueError):
            self.close_connection = True
            return
        self.record(body)
        if self.path.rstrip("/") == "/mcp":
            return self.mcp(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error", "param": None, "code": None}})
        try:
            req = json.loads(body)
        except ValueError:
            return self.send_json(400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error", "param": None, "code": None}})
        text = self.headers.get("x-standin-reply") or "You said: " + last_user_text(req)
        model = req.get("model") or "standin-echo"
        cid = self.headers.get("x-standin-id") or "chatcmpl-" + uuid.uuid4().hex[:24]
        created = 1 if self.headers.get("x-standin-id") else int(time.time())
        tool = self.headers.get("x-standin-tool-call")
        if req.get("stream"):
            return self.stream(cid, created, model, text, tool)
        message = {"role": "assistant", "content": text}
        if tool:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_standin", "type": "function", "function": {"name": tool, "arguments": text}}]}
        self.send_json(200, {
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}],
            "usage": {"prompt_tokens": len(body) // 4, "completion_tokens": len(text) // 4, "total_tokens": (len(body) + len(text)) // 4},
        })

    def stream(self, cid, created, model, text, tool=None):
        def event(obj):
            return b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"

        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
        first = {"role": "assistant", "content": ""}
        if tool:
            first = {"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": "call_standin", "type": "function", "function": {"name": tool, "arguments": ""}}]}
        body = event({**base, "choices": [{"index": 0, "delta": first, "finish_reason": None}]})
        words = text.split(" ")
        for i, w in enumerate(words):
            piece = w if i == 0 else " " + w
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} if tool else {"content": piece}
            body += event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        body += event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if tool else "stop"}]})
        body += event(b"[DONE]")
        self.send_sse(body)

    def send_sse(self, body):
        """Send `body` as a chunked text/event-stream, slowly in random pieces if asked."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        seed = self.headers.get("x-standin-chunks")
        if seed is None:
            pieces = [body]
        else:
            rng = random.Random(seed)
            pieces, at = [], 0
            while at < len(body):
                n = rng.randint(1, 24)
                pieces.append(body[at:at + n])
                at += n
        delay = int(self.headers.get("x-standin-chunk-delay-ms") or 0) / 1000
        for p in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()
            if delay:
                time.sleep(delay)
            elif seed is not None:
                time.sleep(0.002)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def mcp(self, body):
        try:
            msg = json.loads(body)
        except ValueError:
            return self.send_json(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        batch = isinstance(msg, list)
        answers = [a for a in (self.mcp_answer(m) for m in (msg if batch else [msg])) if a is not None]
        if not answers:
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        reply = answers if batch else answers[0]
        if self.headers.get("x-standin-sse") != "1":
            return self.send_json(200, reply)
        progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}
        self.send_sse(b"event: message\nid: 1\ndata: " + json.dumps(progress).encode()
                      + b"\n\nevent: message\nid: 2\ndata: " + json.dumps(reply).encode() + b"\n\n")

    def mcp_answer(self, m):
        if not isinstance(m, dict) or "id" not in m or "method" not in m:
            return None  # a notification or a response: nothing to answer
        method, mid = m["method"], m["id"]
        if method == "initialize":
            result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "llm-standin", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "echo", "description": "Returns its arguments.",
                                 "inputSchema": {"type": "object"}}]}
        elif method == "tools/call":
            params = m.get("params") or {}
            text = self.headers.get("x-standin-reply") or json.dumps(params.get("arguments") or {})
            result = {"content": [{"type": "text", "text": text}], "isError": False}
        else:
            return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"method not found: {method}"}}
        return {"jsonrpc": "2.0", "id": mid, "result": result}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18000)
    args = ap.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"llm-standin listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
