#!/usr/bin/env python3
"""A local stand-in for an LLM upstream in every API dialect Parapet guards, so it runs with no API key.

Each dialect answers with a reply that echoes the last user text ("You said: ..."), so masking
is visible end to end, in that dialect's own JSON, or as its own stream when asked:

- POST /v1/chat/completions (OpenAI chat): an assistant message; `"stream": true` answers as an
  SSE stream of chat.completion.chunk events ending with `data: [DONE]`.
- POST /v1/responses (OpenAI Responses): a `response` object with one output message
  (`output_text`); the user text is `input` (a string) or the last user item of `input`.
  `"stream": true` answers with the typed events (`event: TYPE` + `data: {"type": TYPE,
  "sequence_number": N, ...}`): response.created, response.in_progress,
  response.output_item.added, response.content_part.added, response.output_text.delta pieces,
  response.output_text.done, response.content_part.done, response.output_item.done,
  response.completed.
- POST /v1/messages (Anthropic Messages): a `message` with one text block; `"stream": true`
  answers with message_start, content_block_start, ping, content_block_delta (text_delta)
  pieces, content_block_stop, message_delta (stop_reason), message_stop.
- POST /v1beta/models/{model}:generateContent (Gemini; any version prefix: google-genai 3.x calls
  /v1/models/...): one candidate with a text part;
  `:streamGenerateContent?alt=sse` answers `data: {...}\\r\\n\\r\\n` events, one text piece each,
  the last with finishReason STOP; `:streamGenerateContent` without alt=sse answers the same
  responses as one JSON array (application/json, chunked).
- POST /v1/completions (legacy): `choices[].text`, one choice per prompt; streamed as
  text_completion chunks ending with `data: [DONE]`.
- POST /v1/embeddings: eight deterministic floats per input (`encoding_format: base64` as
  little-endian float32, as the openai SDK asks by default).
- GET /v1/models: one model.
- Streamed text is cut into pieces at spaces (" word" each), the same in every dialect.

Test hooks (request headers), the same in every dialect:

- `x-standin-reply: TEXT` makes the answer TEXT verbatim (a model that produces something on
  its own, for output-guard tests).
- `x-standin-chunk-delay-ms: N` sleeps N ms after each streamed piece (a slow model).
- `x-standin-chunks: SEED` streams slowly: the stream bytes are cut at random offsets (1..24
  bytes, seeded) and each piece is flushed as its own chunk after a short pause, so events and
  values are split across body chunks the way real upstreams do.
- `GET /v1/responses/{id}` answers a stored response (`?stream=true`: its stream) whose text
  is `x-standin-reply`.
- `x-standin-chunk-bytes: N` cuts the stream into pieces of N bytes instead (with
  `x-standin-chunk-delay-ms`, one event can span many body chunks).
- `x-standin-id: ID` fixes the answer's ids (chat: the completion id is ID; other dialects:
  `resp_ID`, `msg_ID`, ...) and its `created` time (for byte-level comparisons).
- `x-standin-early: 1` answers after reading only the first chunk of a chunked request body
  (and closes the connection): an upstream response that overtakes the request.
- `x-standin-tool-call: NAME` makes the answer a call of tool NAME whose arguments are the
  answer text: chat `tool_calls[0].function.arguments` (streamed as argument pieces),
  Responses a `function_call` item (streamed as response.function_call_arguments.delta),
  Anthropic a `tool_use` block with input `{"text": TEXT}` (streamed as input_json_delta
  pieces of that JSON), Gemini a `functionCall` part with args `{"text": TEXT}`.
- `x-standin-broken-event: N` (chat streams) sends the N-th text chunk (1-based) cut short:
  its JSON without the last two characters, as a broken upstream or proxy might.
- `x-standin-status: N` answers HTTP N with an error body in the dialect's shape (OpenAI
  `{"error": {...}}`, Anthropic `{"type": "error", "error": {...}}`, Gemini
  `{"error": {"code": N, "message": ..., "status": ...}}`).
- `x-standin-encoding: gzip|deflate|br|zstd` compresses the answer (JSON and streams; a stream
  goes through one streaming compressor flushed after each piece, so it decodes incrementally)
  and sets content-encoding, whatever the request's accept-encoding says, like an upstream that
  ignores it. `deflate` is zlib-wrapped (RFC 1950), as HTTP means it; br and zstd need the
  `brotli` and `zstandard` modules (imported only when used). `x-standin-gzip: 1` is an alias
  of `x-standin-encoding: gzip`.
- `x-standin-content-type: VALUE` sends a JSON answer with content-type VALUE, byte for byte
  (any byte, so an upstream header that is not UTF-8 can be tested).
- POST /mcp: a minimal MCP server (JSON-RPC 2.0, streamable HTTP): `initialize`, `tools/list`,
  and `tools/call` of an `echo` tool whose result text is `x-standin-reply` or the arguments as
  JSON; notifications get 202. `x-standin-sse: 1` answers as an SSE stream (a progress
  notification, then the response) instead of JSON; `x-standin-chunks` splits it as above.
- Every request it receives is recorded exactly (method, path, headers, raw body bytes, as
  received, before any decoding): GET /_standin/requests lists them (body base64-encoded);
  DELETE /_standin/requests clears them. Tests use this to prove what reached the upstream,
  byte for byte. Each record also has `headers_at` and `body_at` (wall-clock seconds when the
  headers and the first body byte arrived), to show when a request was forwarded. A request
  whose connection closes before its body is whole (Envoy resetting the upstream stream of a
  request the filter blocked after its headers went out, ARCHITECTURE.md) is not recorded:
  no upstream acts on half a request.

Standard library only (plus `brotli` / `zstandard` for those encodings). Handles
`transfer-encoding: chunked` request bodies (Envoy forwards a body whose content-length the
filter dropped as chunked) and request bodies with `content-encoding: gzip|deflate|br|zstd`
(decoded before reading).
"""
import argparse
import base64
import gzip
import hashlib
import json
import random
import re
import struct
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RECORDED = []
LOCK = threading.Lock()

GEMINI_PATH = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
                 501: "NOT_IMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                    500: "api_error", 529: "overloaded_error"}


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
    if len(body) < length:
        raise ConnectionError("connection closed inside the body")
    return body


# --- encodings -------------------------------------------------------------------------------


def _brotli():
    import brotli  # optional: only for `br`
    return brotli


def _zstd():
    import zstandard  # optional: only for `zstd`
    return zstandard


def compress(data, encoding):
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "br":
        return _brotli().compress(data)
    if encoding == "zstd":
        return _zstd().ZstdCompressor().compress(data)
    raise ValueError(f"unknown encoding {encoding!r}")


def decompress(data, encoding):
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if encoding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -15)  # raw deflate, as some clients send it
    if encoding == "br":
        return _brotli().decompress(data)
    if encoding == "zstd":
        return _zstd().ZstdDecompressor().decompressobj().decompress(data)
    if encoding in ("identity", ""):
        return data
    raise ValueError(f"unknown content-encoding {encoding!r}")


class StreamCompressor:
    """One compressor for a whole stream; `feed` returns what decodes up to the end of `data`."""

    def __init__(self, encoding):
        self.encoding = encoding
        if encoding in ("gzip", "deflate"):
            self.c = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
        elif encoding == "br":
            self.c = _brotli().Compressor()
        elif encoding == "zstd":
            self.zstd = _zstd()
            self.c = self.zstd.ZstdCompressor().compressobj()
        else:
            raise ValueError(f"unknown encoding {encoding!r}")

    def feed(self, data):
        if self.encoding in ("gzip", "deflate"):
            return self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        if self.encoding == "br":
            return self.c.process(data) + self.c.flush()
        return self.c.compress(data) + self.c.flush(self.zstd.COMPRESSOBJ_FLUSH_BLOCK)

    def finish(self):
        if self.encoding in ("gzip", "deflate"):
            return self.c.flush(zlib.Z_FINISH)
        if self.encoding == "br":
            return self.c.finish()
        return self.c.flush(self.zstd.COMPRESSOBJ_FLUSH_FINISH)


# --- what the user said, per dialect ---------------------------------------------------------


def _joined(content, types=("text", "input_text")):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content
                        if isinstance(p, dict) and p.get("type", "text") in types and isinstance(p.get("text", ""), str))
    return ""


def last_user_text(req):
    for m in reversed(req.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""


def responses_user_text(req):
    inp = req.get("input")
    if isinstance(inp, str):
        return inp
    for item in reversed(inp if isinstance(inp, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            return _joined(item.get("content"), ("input_text",))
    return ""


def anthropic_user_text(req):
    for m in reversed(req.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            return _joined(m.get("content"), ("text",))
    return ""


def gemini_user_text(req):
    contents = req.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    for c in reversed(contents if isinstance(contents, list) else []):
        if isinstance(c, dict) and c.get("role", "user") == "user":
            return " ".join(p["text"] for p in c.get("parts") or []
                            if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def pieces(text):
    """Streamed pieces of `text`: its words, each after the first with its leading space."""
    return [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]


def embedding(text):
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255, 4) for b in digest[:8]]


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

    def answer_encoding(self):
        enc = (self.headers.get("x-standin-encoding") or "").strip().lower()
        if not enc and self.headers.get("x-standin-gzip") == "1":
            enc = "gzip"
        return None if enc in ("", "identity") else enc

    def unusable_encoding(self):
        """Why x-standin-encoding cannot be honoured (unknown, or its module is missing), or None."""
        enc = self.answer_encoding()
        try:
            if enc:
                compress(b"", enc)
        except (ImportError, ValueError) as e:
            return f"x-standin-encoding {enc!r}: {e}"
        return None

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        # Header bytes arrive as latin-1 text and go out the same way, so any byte passes through.
        self.send_header("content-type", self.headers.get("x-standin-content-type") or "application/json")
        enc = self.answer_encoding()
        if enc:
            body = compress(body, enc)
            self.send_header("content-encoding", enc)
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
        url = urlsplit(self.path)
        head, _, rid = url.path.rstrip("/").rpartition("/")
        if head.endswith("/responses") and rid:
            # A stored (background) response fetched again, or its stream resumed: the answer
            # text is x-standin-reply.
            return self.answer_responses({"stream": "stream=true" in url.query.split("&")}, b"")
        self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error", "param": None, "code": None}})

    def do_DELETE(self):
        if self.path == "/_standin/requests":
            with LOCK:
                RECORDED.clear()
            return self.send_json(200, {"cleared": True})
        self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None, "code": None}})

    def dialect(self):
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/mcp":
            return "mcp"
        if path.endswith("/chat/completions"):
            return "chat"
        if path.endswith("/responses"):
            return "responses"
        if path.endswith("/messages"):
            return "anthropic"
        if GEMINI_PATH.search(path):
            return "gemini"
        if path.endswith("/completions"):
            return "completions"
        if path.endswith("/embeddings"):
            return "embeddings"
        return None

    def send_error_in(self, dialect, status, message):
        """An error answer in the shape `dialect`'s clients expect."""
        if dialect == "anthropic":
            return self.send_json(status, {"type": "error", "error": {
                "type": ANTHROPIC_ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error"),
                "message": message}})
        if dialect == "gemini":
            return self.send_json(status, {"error": {
                "code": status, "message": message,
                "status": GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")}})
        if dialect == "mcp":
            return self.send_json(status, {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": message}})
        return self.send_json(status, {"error": {
            "message": message, "type": "server_error" if status >= 500 else "invalid_request_error",
            "param": None, "code": None}})

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
        dialect = self.dialect()
        unusable = self.unusable_encoding()
        if unusable:
            self.headers.replace_header("x-standin-encoding", "identity")  # answer uncompressed
            return self.send_error_in(dialect, 501, unusable)
        encoding = (self.headers.get("content-encoding") or "").strip().lower()
        if encoding:
            try:
                for enc in reversed([e.strip() for e in encoding.split(",")]):
                    body = decompress(body, enc)
            except Exception as e:  # noqa: BLE001 - any decoding failure is the client's
                return self.send_error_in(dialect, 400, f"cannot decode the {encoding} request body: {e}")
        if dialect == "mcp":
            return self.mcp(body)
        if dialect is None:
            return self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error", "param": None, "code": None}})
        status = self.headers.get("x-standin-status")
        if status:
            return self.send_error_in(dialect, int(status), f"llm-standin: error {int(status)} as asked (x-standin-status)")
        try:
            req = json.loads(body)
        except ValueError:
            return self.send_error_in(dialect, 400, "invalid JSON body")
        if not isinstance(req, dict):
            return self.send_error_in(dialect, 400, "the JSON body must be an object")
        return getattr(self, "answer_" + dialect)(req, body)

    # --- OpenAI chat completions (unchanged answers) ---

    def answer_chat(self, req, body):
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
        broken = int(self.headers.get("x-standin-broken-event") or 0)
        for n, piece in enumerate(pieces(text), 1):
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} if tool else {"content": piece}
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            body += event(json.dumps(chunk).encode()[:-2] if n == broken else chunk)
        body += event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if tool else "stop"}]})
        body += event(b"[DONE]")
        self.send_sse(body)

    # --- shared by the other dialects ---

    def ids(self):
        """(id suffix, created): fixed by x-standin-id, else random and now."""
        fixed = self.headers.get("x-standin-id")
        return (fixed, 1) if fixed else (uuid.uuid4().hex[:24], int(time.time()))

    def reply_text(self, user_text):
        return self.headers.get("x-standin-reply") or "You said: " + user_text

    # --- OpenAI Responses ---

    def answer_responses(self, req, body):
        text = self.reply_text(responses_user_text(req))
        model = req.get("model") or "standin-echo"
        sid, created = self.ids()
        tool = self.headers.get("x-standin-tool-call")
        rid, mid, fid, call_id = f"resp_{sid}", f"msg_{sid}", f"fc_{sid}", f"call_{sid}"
        instructions = req.get("instructions")

        def response(status, output, usage=True):
            return {
                "id": rid, "object": "response", "created_at": created, "status": status,
                "background": False, "completed_at": created if status == "completed" else None,
                "error": None, "incomplete_details": None, "instructions": instructions,
                "max_output_tokens": None, "max_tool_calls": None, "model": model, "output": output,
                "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "service_tier": "default", "store": True,
                "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": "auto", "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled",
                "usage": {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 1,
                          "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 2} if usage else None,
                "user": None, "metadata": {},
            }

        if tool:
            done_item = {"id": fid, "type": "function_call", "status": "completed", "arguments": text,
                         "call_id": call_id, "name": tool}
        else:
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
            done_item = {"id": mid, "type": "message", "status": "completed", "content": [part], "role": "assistant"}
        if not req.get("stream"):
            return self.send_json(200, response("completed", [done_item]))

        seq = iter(range(1 << 30))

        def event(kind, **fields):
            data = json.dumps({"type": kind, "sequence_number": next(seq), **fields}).encode()
            return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"

        out = event("response.created", response=response("in_progress", [], usage=False))
        out += event("response.in_progress", response=response("in_progress", [], usage=False))
        if tool:
            out += event("response.output_item.added", output_index=0,
                         item={**done_item, "status": "in_progress", "arguments": ""})
            for p in pieces(text):
                out += event("response.function_call_arguments.delta", item_id=fid, output_index=0, delta=p)
            out += event("response.function_call_arguments.done", item_id=fid, output_index=0, arguments=text)
        else:
            out += event("response.output_item.added", output_index=0,
                         item={"id": mid, "type": "message", "status": "in_progress", "content": [], "role": "assistant"})
            out += event("response.content_part.added", item_id=mid, output_index=0, content_index=0,
                         part={**part, "text": ""})
            for p in pieces(text):
                out += event("response.output_text.delta", item_id=mid, output_index=0, content_index=0, delta=p,
                             logprobs=[])
            out += event("response.output_text.done", item_id=mid, output_index=0, content_index=0, text=text,
                         logprobs=[])
            out += event("response.content_part.done", item_id=mid, output_index=0, content_index=0, part=part)
        out += event("response.output_item.done", output_index=0, item=done_item)
        out += event("response.completed", response=response("completed", [done_item]))
        self.send_sse(out)

    # --- Anthropic Messages ---

    def answer_anthropic(self, req, body):
        text = self.reply_text(anthropic_user_text(req))
        model = req.get("model") or "standin-echo"
        sid, _ = self.ids()
        tool = self.headers.get("x-standin-tool-call")
        block = {"type": "tool_use", "id": f"toolu_{sid}", "name": tool, "input": {"text": text}} if tool \
            else {"type": "text", "text": text}
        stop = "tool_use" if tool else "end_turn"
        message = {"id": f"msg_{sid}", "type": "message", "role": "assistant", "model": model,
                   "content": [block], "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": 1, "output_tokens": 1}}
        if not req.get("stream"):
            return self.send_json(200, message)

        def event(kind, **fields):
            return b"event: " + kind.encode() + b"\ndata: " + json.dumps({"type": kind, **fields}).encode() + b"\n\n"

        out = event("message_start", message={**message, "content": [], "stop_reason": None,
                                               "usage": {"input_tokens": 1, "output_tokens": 1}})
        if tool:
            out += event("content_block_start", index=0, content_block={**block, "input": {}})
        else:
            out += event("content_block_start", index=0, content_block={"type": "text", "text": ""})
        out += event("ping")
        if tool:
            for p in pieces(json.dumps(block["input"])):
                out += event("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": p})
        else:
            for p in pieces(text):
                out += event("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
        out += event("content_block_stop", index=0)
        out += event("message_delta", delta={"stop_reason": stop, "stop_sequence": None}, usage={"output_tokens": 1})
        out += event("message_stop")
        self.send_sse(out)

    # --- Gemini ---

    def answer_gemini(self, req, body):
        url = urlsplit(self.path)
        model, method = GEMINI_PATH.search(url.path.rstrip("/")).groups()
        text = self.reply_text(gemini_user_text(req))
        sid, _ = self.ids()
        tool = self.headers.get("x-standin-tool-call")

        def chunk(part, finish):
            cand = {"content": {"parts": [part], "role": "model"}, "index": 0}
            if finish:
                cand["finishReason"] = "STOP"
            return {"candidates": [cand],
                    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
                    "modelVersion": model, "responseId": sid}

        if tool:
            parts = [{"functionCall": {"name": tool, "args": {"text": text}}}]
        else:
            parts = [{"text": p} for p in pieces(text)]
        if method == "generateContent":
            whole = {"functionCall": parts[0]["functionCall"]} if tool else {"text": text}
            return self.send_json(200, chunk(whole, True))
        answers = [chunk(p, i == len(parts) - 1) for i, p in enumerate(parts)]
        if parse_qs(url.query).get("alt") == ["sse"]:
            return self.send_sse(b"".join(b"data: " + json.dumps(a).encode() + b"\r\n\r\n" for a in answers))
        self.send_sse(("[" + ",\r\n".join(json.dumps(a) for a in answers) + "]").encode(), "application/json")

    # --- legacy completions and embeddings ---

    def answer_completions(self, req, body):
        prompt = req.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else [p for p in prompt or [] if isinstance(p, str)] or [""]
        texts = [self.reply_text(p) for p in prompts]
        model = req.get("model") or "standin-echo"
        sid, created = self.ids()
        base = {"id": f"cmpl-{sid}", "object": "text_completion", "created": created, "model": model}
        if not req.get("stream"):
            return self.send_json(200, {**base, "choices": [
                {"text": t, "index": i, "logprobs": None, "finish_reason": "stop"} for i, t in enumerate(texts)],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        def event(obj):
            return b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"

        out = b""
        for i, t in enumerate(texts):
            for p in pieces(t):
                out += event({**base, "choices": [{"text": p, "index": i, "logprobs": None, "finish_reason": None}]})
            out += event({**base, "choices": [{"text": "", "index": i, "logprobs": None, "finish_reason": "stop"}]})
        out += event(b"[DONE]")
        self.send_sse(out)

    def answer_embeddings(self, req, body):
        inp = req.get("input")
        inputs = [inp] if isinstance(inp, str) else list(inp) if isinstance(inp, list) else [""]
        as_b64 = req.get("encoding_format") == "base64"
        data = []
        for i, x in enumerate(inputs):
            vec = embedding(x if isinstance(x, str) else json.dumps(x))
            if as_b64:
                vec = base64.b64encode(struct.pack("<8f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": vec})
        self.send_json(200, {"object": "list", "data": data, "model": req.get("model") or "standin-echo",
                             "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    # --- streaming ---

    def send_sse(self, body, content_type="text/event-stream"):
        """Send `body` chunked (an SSE stream by default), slowly in random pieces if asked, and
        compressed piece by piece with x-standin-encoding."""
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("cache-control", "no-cache")
        enc = self.answer_encoding()
        if enc:
            self.send_header("content-encoding", enc)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        seed = self.headers.get("x-standin-chunks")
        size = int(self.headers.get("x-standin-chunk-bytes") or 0)
        if size > 0:
            pieces_ = [body[at:at + size] for at in range(0, len(body), size)]
        elif seed is None:
            pieces_ = [body]
        else:
            rng = random.Random(seed)
            pieces_, at = [], 0
            while at < len(body):
                n = rng.randint(1, 24)
                pieces_.append(body[at:at + n])
                at += n
        delay = int(self.headers.get("x-standin-chunk-delay-ms") or 0) / 1000
        comp = StreamCompressor(enc) if enc else None
        for p in pieces_:
            if comp:
                p = comp.feed(p)
            if p:  # an empty chunk would end the body
                self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
                self.wfile.flush()
            if delay:
                time.sleep(delay)
            elif seed is not None:
                time.sleep(0.002)
        if comp:
            tail = comp.finish()
            if tail:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- MCP ---

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
