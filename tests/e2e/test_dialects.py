"""Every LLM API dialect through a real Envoy, in all three deployments (as test_tier3.py):

- `wasm`: Envoy + the filter alone (envoy/parapet.yaml, the shipped default policy);
- `ext_proc`: Envoy's ext_proc filter + parapet-ext-proc (envoy/ext_proc.yaml, policy
  envoy/policies/cascade.yaml);
- `cascade`: Envoy + the filter escalating to parapet-ext-proc (envoy/cascade.yaml).

The dialect is chosen by path: OpenAI chat (/v1/chat/completions), OpenAI Responses
(/v1/responses), Anthropic Messages (/v1/messages), Gemini (…:generateContent,
…:streamGenerateContent), legacy completions (/v1/completions) and embeddings (/v1/embeddings).
Every text field of each is read, and the policy applies the same in each: a secret blocks (the
block answered locally in the dialect's own error shape; the upstream gets nothing), PII is
masked in place, a clean exchange passes byte for byte. Answers are guarded in each dialect's
shape, buffered and streamed, compressed or not; the official SDKs parse what the guard sends.

The big corpora run through `wasm`; a representative subset runs through the other two. The
first tests check the stand-in itself against each SDK directly (no Envoy), so that what the
guard is tested against is what real clients and upstreams speak.
"""
import gzip
import http.client as httpclient
import json
import random
import zlib

import anthropic
import brotli
import openai
import pytest
import zstandard
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from harness import Envoy, ExtProc, http, posts

SECRET = "AKIAQX7MZT3KWJ5RLN2P"
EMAIL = "jane.doe@example.com"
BENIGN = "What is the capital of France, and what is it famous for?"
SECRET_TEXT = f"can you debug this config? {SECRET} thanks"
PII_TEXT = f"Please email {EMAIL} the report"
IN_MSG = "Request blocked: it contains a credential or secret (aws_access_key). Remove it and retry."
OUT_MSG = "The response contained a credential or secret (aws_access_key) and was withheld."

MODES = ("wasm", "ext_proc", "cascade")
ENCODINGS = ("gzip", "deflate", "br", "zstd")
GEMINI_MODEL = "gemini-test"
PATHS = {
    "chat": "/v1/chat/completions",
    "responses": "/v1/responses",
    "anthropic": "/v1/messages",
    "gemini": f"/v1beta/models/{GEMINI_MODEL}:generateContent",
    "gemini_sse": f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent?alt=sse",
    "gemini_json": f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent",
    "completions": "/v1/completions",
    "embeddings": "/v1/embeddings",
}
FAMILY = {"chat": "openai", "responses": "openai", "completions": "openai", "embeddings": "openai",
          "anthropic": "anthropic", "gemini": "gemini", "gemini_sse": "gemini", "gemini_json": "gemini"}


# --- requests in each dialect ----------------------------------------------------------------


def simple(dialect, text, stream=False):
    """A one-turn request body (a dict) whose user text is `text`."""
    s = {"stream": True} if stream else {}
    if dialect == "chat":
        return {"model": "m", "messages": [{"role": "user", "content": text}], **s}
    if dialect == "responses":
        return {"model": "m", "input": text, **s}
    if dialect == "anthropic":
        return {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": text}], **s}
    if dialect.startswith("gemini"):
        return {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if dialect == "completions":
        return {"model": "m", "prompt": text, **s}
    if dialect == "embeddings":
        return {"model": "m", "input": text}
    raise ValueError(dialect)


def _anthropic_turns(*last):
    return [{"role": "user", "content": "look it up"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup",
                                               "input": {"q": "weather"}}]},
            *last]


# (id, dialect, body builder): each puts `t` in one text field the guard must read.
FIELDS = [
    ("chat-user_content", "chat", lambda t: simple("chat", t)),
    ("chat-user_text_part", "chat", lambda t: {"model": "m", "messages": [
        {"role": "user", "content": [{"type": "text", "text": t}]}]}),
    ("chat-system", "chat", lambda t: {"model": "m", "messages": [
        {"role": "system", "content": t}, {"role": "user", "content": "hi"}]}),
    ("chat-tool_call_arguments", "chat", lambda t: {"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": json.dumps({"q": t})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"}]}),
    ("chat-tool_result", "chat", lambda t: {"model": "m", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": t}]}),
    ("responses-instructions", "responses", lambda t: {"model": "m", "instructions": t, "input": "hi"}),
    ("responses-input_string", "responses", lambda t: simple("responses", t)),
    ("responses-message_content", "responses", lambda t: {"model": "m", "input": [
        {"role": "user", "content": t}]}),
    ("responses-typed_message_content", "responses", lambda t: {"model": "m", "input": [
        {"type": "message", "role": "developer", "content": t}, {"role": "user", "content": "hi"}]}),
    ("responses-input_text_part", "responses", lambda t: {"model": "m", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "first"}, {"type": "input_text", "text": t}]}]}),
    ("responses-function_call_arguments", "responses", lambda t: {"model": "m", "input": [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": json.dumps({"q": t})},
        {"type": "function_call_output", "call_id": "call_1", "output": "done"}]}),
    ("responses-function_call_output", "responses", lambda t: {"model": "m", "input": [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": t}]}),
    ("anthropic-system_string", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "system": t,
                                                        "messages": [{"role": "user", "content": "hi"}]}),
    ("anthropic-system_blocks", "anthropic", lambda t: {"model": "m", "max_tokens": 64,
                                                        "system": [{"type": "text", "text": "be brief"},
                                                                   {"type": "text", "text": t}],
                                                        "messages": [{"role": "user", "content": "hi"}]}),
    ("anthropic-user_string", "anthropic", lambda t: simple("anthropic", t)),
    ("anthropic-user_text_blocks", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": t}]}]}),
    ("anthropic-assistant_string", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": t}, {"role": "user", "content": "go on"}]}),
    ("anthropic-tool_use_input", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "messages": [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup",
                                           "input": {"q": "weather", "filters": {"notes": ["x", t]}}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}]}),
    ("anthropic-tool_result_string", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "messages": _anthropic_turns(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": t}]})}),
    ("anthropic-tool_result_blocks", "anthropic", lambda t: {"model": "m", "max_tokens": 64, "messages": _anthropic_turns(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": [{"type": "text", "text": t}]}]})}),
    ("gemini-system_instruction", "gemini", lambda t: {"systemInstruction": {"parts": [{"text": t}]},
                                                       "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    ("gemini-user_parts", "gemini", lambda t: {"contents": [
        {"role": "user", "parts": [{"text": "first"}, {"text": t}]}]}),
    ("gemini-no_role_parts", "gemini", lambda t: {"contents": [{"parts": [{"text": t}]}]}),
    ("gemini-model_parts", "gemini", lambda t: {"contents": [
        {"role": "user", "parts": [{"text": "hi"}]}, {"role": "model", "parts": [{"text": t}]},
        {"role": "user", "parts": [{"text": "go on"}]}]}),
    ("gemini-function_call_args", "gemini", lambda t: {"contents": [
        {"role": "user", "parts": [{"text": "look it up"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "weather", "opts": {"tags": [t]}}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"result": "sunny"}}}]}]}),
    ("gemini-function_response", "gemini", lambda t: {"contents": [
        {"role": "user", "parts": [{"text": "look it up"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "weather"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"result": {"text": t}}}}]}]}),
    ("gemini_sse-user_parts", "gemini_sse", lambda t: simple("gemini_sse", t)),
    ("gemini_json-system_instruction", "gemini_json", lambda t: {
        "systemInstruction": {"parts": [{"text": t}]}, "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    ("completions-prompt_string", "completions", lambda t: simple("completions", t)),
    ("completions-prompt_list", "completions", lambda t: {"model": "m", "prompt": ["hello", t]}),
    ("embeddings-input_string", "embeddings", lambda t: simple("embeddings", t)),
    ("embeddings-input_list", "embeddings", lambda t: {"model": "m", "input": ["hello", t]}),
]
FIELD_IDS = {f[0]: f for f in FIELDS}
# What also runs through ext_proc and cascade: the less obvious field of each dialect.
FIELD_SUBSET = ["chat-tool_result", "responses-instructions", "responses-function_call_output",
                "responses-input_text_part", "anthropic-system_blocks", "anthropic-tool_use_input",
                "anthropic-tool_result_blocks", "gemini-system_instruction", "gemini-function_response",
                "gemini_sse-user_parts", "completions-prompt_list", "embeddings-input_list"]


def across(cases, subset, ident=lambda c: c):
    """(mode, case) params: every case through wasm, those in `subset` through the other two."""
    out = [pytest.param("wasm", c, id="wasm-" + ident(c)) for c in cases]
    for mode in MODES[1:]:
        out += [pytest.param(mode, c, id=f"{mode}-{ident(c)}") for c in cases if ident(c) in subset]
    return out


# --- reading answers -------------------------------------------------------------------------


def decoded(headers, body):
    """The body as the client decodes it, by the content-encoding it received."""
    enc = (headers.get("content-encoding") or "identity").strip().lower()
    if enc == "identity":
        return body
    # Each decoder must reach the end of the stream (gzip's CRC-32 and length, zlib's Adler-32
    # checked), so a body cut short or with a bad trailer fails here, not silently.
    if enc in ("gzip", "deflate"):
        d = zlib.decompressobj(31 if enc == "gzip" else 15)
    elif enc == "zstd":
        d = zstandard.ZstdDecompressor().decompressobj()
    elif enc == "br":
        d = brotli.Decompressor()
        out = d.process(body)
        assert d.is_finished(), "br stream not finished"
        return out
    else:
        raise AssertionError(f"unexpected content-encoding {enc!r}")
    out = d.decompress(body)
    assert d.eof, f"{enc} stream not finished"
    assert not d.unused_data, f"{enc}: bytes after the stream"
    return out


def sse_events(raw):
    """(event name or None, data) for each SSE event of `raw`."""
    out = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
        if data:
            out.append((name, "\n".join(data)))
    return out


def gemini_text(answer):
    text = ""
    for cand in answer.get("candidates") or []:
        for part in (cand.get("content") or {}).get("parts") or []:
            text += part.get("text") or ""
            if "functionCall" in part:
                text += json.dumps(part["functionCall"].get("args"))
    return text


def stream_view(dialect, raw):
    """(the answer text the client reassembles, the dialect's events) of a streamed answer.

    Every event must be complete JSON; typed events (Responses, Anthropic) must carry their
    `event:` line (the anthropic SDK skips an event without one), and a Gemini SSE stream may
    hold only `data: ` lines (google-genai parses any other line as JSON)."""
    text, events = "", []
    if dialect == "gemini_sse":
        for line in raw.decode().replace("\r\n", "\n").split("\n"):
            assert line == "" or line.startswith("data: "), line
    for name, data in sse_events(raw):
        if dialect in ("chat", "completions"):
            if data == "[DONE]":
                events.append("[DONE]")
                continue
            chunk = json.loads(data)
            events.append(chunk)
            for c in chunk["choices"]:
                if dialect == "completions":
                    text += c.get("text") or ""
                    continue
                delta = c.get("delta") or {}
                text += delta.get("content") or ""
                for t in delta.get("tool_calls") or []:
                    text += (t.get("function") or {}).get("arguments") or ""
        elif dialect in ("responses", "anthropic"):
            e = json.loads(data)
            assert name == e["type"], (name, e)
            events.append(e)
            if e["type"] in ("response.output_text.delta", "response.function_call_arguments.delta"):
                text += e["delta"]
            elif e["type"] == "content_block_delta":
                text += e["delta"].get("text") or e["delta"].get("partial_json") or ""
        elif dialect == "gemini_sse":
            assert name is None, name
            chunk = json.loads(data)
            events.append(chunk)
            text += gemini_text(chunk)
        else:
            raise ValueError(dialect)
    return text, events


def finishes(dialect, events):
    """How each streamed answer says it ended: finish_reason, stop_reason, finishReason, last type."""
    if dialect in ("chat", "completions"):
        return [c["finish_reason"] for e in events if e != "[DONE]" for c in e["choices"] if c.get("finish_reason")]
    if dialect == "responses":
        return [e["type"] for e in events if e["type"] in ("response.completed", "response.incomplete", "response.failed")]
    if dialect == "anthropic":
        return [e["delta"].get("stop_reason") for e in events if e["type"] == "message_delta"]
    return [c["finishReason"] for e in events for c in e.get("candidates") or [] if c.get("finishReason")]


def assert_stream_withheld(dialect, raw):
    """The stream ended cleanly, in the dialect's shape, as withheld by the output guard."""
    _, events = stream_view(dialect, raw)
    if dialect == "chat":
        assert finishes(dialect, events)[-1] == "content_filter" and events[-1] == "[DONE]", raw
    elif dialect == "responses":
        types = [e["type"] for e in events]
        assert types[0] == "response.created" and types[-1] == "response.incomplete", types
        assert "response.completed" not in types
        final = events[-1]["response"]
        assert final["status"] == "incomplete"
        assert final["incomplete_details"]["reason"] == "content_filter"
        # openai's responses.stream() raises if a lifecycle event changes the response id.
        assert final["id"] == events[0]["response"]["id"]
    elif dialect == "anthropic":
        types = [e["type"] for e in events]
        assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"], types
        assert events[-2]["delta"]["stop_reason"] == "refusal"
        # anthropic's messages.stream() reads message_delta.usage.output_tokens.
        assert "output_tokens" in events[-2]["usage"]
    elif dialect == "gemini_sse":
        assert finishes(dialect, events) and set(finishes(dialect, events)) == {"SAFETY"}, events[-1]
        assert all(c.get("finishReason") == "SAFETY" for c in events[-1]["candidates"])
    else:
        assert "content_filter" in finishes(dialect, events) or not finishes(dialect, events)


def assert_stream_finished_normally(dialect, raw):
    _, events = stream_view(dialect, raw)
    if dialect == "chat":
        assert finishes(dialect, events)[-1] in ("stop", "tool_calls") and events[-1] == "[DONE]"
    elif dialect == "completions":
        assert finishes(dialect, events) == ["stop"] and events[-1] == "[DONE]"
    elif dialect == "responses":
        assert [e["type"] for e in events][-1] == "response.completed"
    elif dialect == "anthropic":
        assert [e["type"] for e in events][-1] == "message_stop"
        assert finishes(dialect, events)[-1] in ("end_turn", "tool_use")
    else:
        assert finishes(dialect, events) == ["STOP"]


def assert_no_fragment(value, raw):
    """No 8-character run of `value` (spaces aside) appears in `raw`."""
    flat = raw.decode(errors="replace").replace(" ", "")
    compact = value.replace(" ", "")
    for i in range(len(compact) - 7):
        assert compact[i:i + 8] not in flat, (value, raw[-600:])


def json_answer_text(dialect, answer):
    """The answer text (or tool arguments) of a buffered answer."""
    if dialect == "chat":
        m = answer["choices"][0]["message"]
        return m["content"] if m.get("content") is not None else m["tool_calls"][0]["function"]["arguments"]
    if dialect == "completions":
        return answer["choices"][0]["text"]
    if dialect == "responses":
        item = answer["output"][0]
        return item["arguments"] if item["type"] == "function_call" else item["content"][0]["text"]
    if dialect == "anthropic":
        block = answer["content"][0]
        return block["text"] if block["type"] == "text" else block["input"]["text"]
    if dialect == "gemini":
        part = answer["candidates"][0]["content"]["parts"][0]
        return part["text"] if "text" in part else part["functionCall"]["args"]["text"]
    raise ValueError(dialect)


def assert_json_withheld(dialect, answer):
    """A buffered answer withheld by the output guard, in the dialect's shape."""
    if dialect == "chat":
        c = answer["choices"][0]
        assert c["finish_reason"] == "content_filter"
        if c["message"].get("content") is not None:
            assert c["message"]["content"] == OUT_MSG
    elif dialect == "responses":
        assert answer["status"] == "incomplete"
        assert answer["incomplete_details"]["reason"] == "content_filter"
        refusals = [p for item in answer["output"] if item["type"] == "message"
                    for p in item["content"] if p["type"] == "refusal"]
        assert [p["refusal"] for p in refusals] == [OUT_MSG], answer["output"]
    elif dialect == "anthropic":
        assert answer["stop_reason"] == "refusal"
        assert answer["content"] == [{"type": "text", "text": OUT_MSG}]
    elif dialect == "gemini":
        assert answer["candidates"]
        for cand in answer["candidates"]:
            assert cand["content"]["parts"] == [{"text": OUT_MSG}]
            assert cand["finishReason"] == "SAFETY"
    elif dialect == "completions":
        assert answer["choices"][0]["finish_reason"] == "content_filter"
    else:
        raise ValueError(dialect)


def assert_blocked(dialect, status, headers, resp, message=IN_MSG):
    """A request refused locally, in the dialect's own error shape."""
    assert status == 400, resp
    assert headers.get("x-parapet-decision") == "block"
    assert headers.get("content-type", "").startswith("application/json")
    body = json.loads(resp)
    family = FAMILY[dialect]
    if family == "openai":
        err = body["error"]
        assert (err["type"], err["code"]) == ("invalid_request_error", "content_policy_violation"), body
        got = err["message"]
    elif family == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error", body
        got = body["error"]["message"]
    else:
        err = body["error"]
        assert (err["code"], err["status"]) == (400, "INVALID_ARGUMENT"), body
        got = err["message"]
    if message is None:
        assert "credential or secret" in got, got
    else:
        assert got == message


def post(stack, dialect, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, h, resp = http("POST", stack.url(PATHS[dialect]), body=raw,
                           headers={"content-type": "application/json", **(headers or {})}, timeout=30)
    return status, h, resp


def direct(standin, dialect, body, headers=None):
    """The stand-in's own answer, with no Envoy in between."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http("POST", standin.url(PATHS[dialect]), body=raw,
                headers={"content-type": "application/json", **(headers or {})}, timeout=30)


# --- the deployments ------------------------------------------------------------------------


class Deployments:
    """One Envoy per deployment, started when a test first asks for it, shared by the module."""

    CONFIGS = {"wasm": "parapet.yaml", "ext_proc": "ext_proc.yaml", "cascade": "cascade.yaml"}

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.heavy = None
        self.envoys = {}

    def get(self, mode):
        if mode not in self.envoys:
            if mode != "wasm" and self.heavy is None:
                self.heavy = ExtProc()
            e = Envoy(self.upstream_port, config_name=self.CONFIGS[mode],
                      heavy_port=self.heavy.port if self.heavy else None)
            e.mode = mode
            self.envoys[mode] = e
        return self.envoys[mode]

    def stop(self):
        for e in self.envoys.values():
            e.stop()
        if self.heavy is not None:
            self.heavy.stop()


@pytest.fixture(scope="module")
def deployments(standin):
    d = Deployments(standin.port)
    yield d
    d.stop()


@pytest.fixture
def stack(request, deployments):
    """The deployment named by the test's `stack` parameter; its logs print if the test fails."""
    e = deployments.get(request.param)
    yield e
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(f"--- envoy log ({e.mode}, {e.log_path}) ---\n{e.logs()[-6000:]}")
        if deployments.heavy is not None and e.mode != "wasm":
            print(f"--- parapet-ext-proc log ---\n{deployments.heavy.logs()[-4000:]}")


# === the stand-in against the official SDKs (no Envoy) =======================================


def test_standin_speaks_openai_responses_completions_embeddings(standin):
    for enc in (None, "gzip", "deflate", "br"):  # httpx decodes zstd only with backports.zstd
        h = {"x-standin-encoding": enc} if enc else {}
        split = {} if enc else {"x-standin-chunks": "5"}  # random splits once: they are slow
        client = openai.OpenAI(base_url=standin.url("/v1"), api_key="x", max_retries=0, timeout=20, default_headers=h)
        r = client.responses.create(model="m", input="hello there")
        assert (r.status, r.output_text) == ("completed", "You said: hello there")
        r = client.responses.create(model="m", input=[
            {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]}])
        assert r.output_text == "You said: a b"
        events = list(client.responses.create(model="m", input="one two three", stream=True,
                                              extra_headers=split))
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "You said: one two three"
        assert events[-1].type == "response.completed" and events[-1].response.output_text == "You said: one two three"
        with client.responses.stream(model="m", input="one two", extra_headers=split) as s:
            assert s.get_final_response().output_text == "You said: one two"
        tool = {"x-standin-tool-call": "lookup", "x-standin-reply": '{"q": "a b"}'}
        r = client.responses.create(model="m", input="x", extra_headers=tool)
        assert (r.output[0].type, r.output[0].name, r.output[0].arguments) == ("function_call", "lookup", '{"q": "a b"}')
        with client.responses.stream(model="m", input="x", extra_headers={**tool, **split}) as s:
            events = list(s)
            final = s.get_final_response()
        assert final.output[0].arguments == '{"q": "a b"}'
        assert "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta") == '{"q": "a b"}'
        c = client.completions.create(model="m", prompt=["p1", "p2 x"])
        assert [x.text for x in c.choices] == ["You said: p1", "You said: p2 x"]
        chunks = list(client.completions.create(model="m", prompt="abc def", stream=True,
                                                extra_headers=split))
        assert "".join(x.choices[0].text for x in chunks) == "You said: abc def"
        e = client.embeddings.create(model="m", input=["a", "b"])  # the SDK asks for base64
        floats = client.embeddings.create(model="m", input="a", encoding_format="float")
        assert len(e.data) == 2 and [round(x, 4) for x in e.data[0].embedding] == floats.data[0].embedding
        c = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "yo"}])
        assert c.choices[0].message.content == "You said: yo"
        with pytest.raises(openai.BadRequestError, match="x-standin-status"):
            client.responses.create(model="m", input="x", extra_headers={"x-standin-status": "400"})
        with pytest.raises(openai.RateLimitError):
            client.responses.create(model="m", input="x", extra_headers={"x-standin-status": "429"})


def test_standin_speaks_anthropic(standin):
    for enc in (None, "gzip", "deflate", "br"):
        h = {"x-standin-encoding": enc} if enc else {}
        split = {} if enc else {"x-standin-chunks": "5"}  # random splits once: they are slow
        client = anthropic.Anthropic(base_url=standin.url(""), api_key="x", max_retries=0, timeout=20, default_headers=h)
        kw = {"model": "m", "max_tokens": 64}
        m = client.messages.create(**kw, messages=[{"role": "user", "content": "hi you"}])
        assert (m.content[0].text, m.stop_reason) == ("You said: hi you", "end_turn")
        m = client.messages.create(**kw, messages=[{"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
        assert m.content[0].text == "You said: a b"
        events = list(client.messages.create(**kw, messages=[{"role": "user", "content": "hi you"}], stream=True,
                                             extra_headers=split))
        assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == "You said: hi you"
        assert [e.type for e in events][-2:] == ["message_delta", "message_stop"]
        with client.messages.stream(**kw, messages=[{"role": "user", "content": "s t"}]) as s:
            assert "".join(s.text_stream) == "You said: s t"
            assert s.get_final_message().stop_reason == "end_turn"
        tool = {"x-standin-tool-call": "lookup", "x-standin-reply": "q r s"}
        m = client.messages.create(**kw, messages=[{"role": "user", "content": "x"}], extra_headers=tool)
        assert (m.content[0].type, m.content[0].input, m.stop_reason) == ("tool_use", {"text": "q r s"}, "tool_use")
        with client.messages.stream(**kw, messages=[{"role": "user", "content": "x"}],
                                    extra_headers={**tool, **split}) as s:
            final = s.get_final_message()
        assert (final.content[0].input, final.stop_reason) == ({"text": "q r s"}, "tool_use")
        for status, error in [(400, anthropic.BadRequestError), (429, anthropic.RateLimitError),
                              (500, anthropic.InternalServerError)]:
            with pytest.raises(error) as e:
                client.messages.create(**kw, messages=[{"role": "user", "content": "x"}],
                                       extra_headers={"x-standin-status": str(status)})
            assert e.value.body["type"] == "error"


def genai_client(base_url, headers=None):
    return genai.Client(api_key="x", http_options={"base_url": base_url, "headers": headers or {}, "timeout": 20000})


def test_standin_speaks_gemini(standin):
    for enc in (None, "gzip", "deflate", "br"):
        h = {"x-standin-encoding": enc} if enc else {}
        client = genai_client(standin.url(""), h)
        r = client.models.generate_content(model=GEMINI_MODEL, contents="hello world")
        assert r.text == "You said: hello world" and r.candidates[0].finish_reason == genai_types.FinishReason.STOP
        chunks = list(client.models.generate_content_stream(
            model=GEMINI_MODEL, contents="a b c",
            config=genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(
                headers={**h, "x-standin-chunks": "6"}))))
        assert [c.text for c in chunks] == ["You", " said:", " a", " b", " c"]
        assert chunks[-1].candidates[0].finish_reason == genai_types.FinishReason.STOP
        tool = genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(
            headers={**h, "x-standin-tool-call": "lookup", "x-standin-reply": "q r"}))
        r = client.models.generate_content(model=GEMINI_MODEL, contents="x", config=tool)
        assert (r.function_calls[0].name, r.function_calls[0].args) == ("lookup", {"text": "q r"})
        error = genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(
            headers={**h, "x-standin-status": "400"}))
        with pytest.raises(genai_errors.ClientError) as e:
            client.models.generate_content(model=GEMINI_MODEL, contents="x", config=error)
        assert (e.value.code, e.value.status) == (400, "INVALID_ARGUMENT")
    [got] = [r for r in standin.received() if r["method"] == "POST"][-1:]
    # google-genai 3.x calls /v1/models/...; the REST docs show /v1beta/models/...: both are Gemini.
    assert got["path"] == f"/v1/models/{GEMINI_MODEL}:generateContent"
    # Without alt=sse, streamGenerateContent answers one JSON array of the same responses.
    status, h, body = direct(standin, "gemini_json", simple("gemini_json", "a b"), {"x-standin-chunks": "1"})
    answers = json.loads(body)
    assert h["content-type"] == "application/json"
    assert "".join(gemini_text(a) for a in answers) == "You said: a b"
    assert [a["candidates"][0].get("finishReason") for a in answers][-2:] == [None, "STOP"]


def _decoder(enc):
    if enc in ("gzip", "deflate"):
        return zlib.decompressobj(31 if enc == "gzip" else 15).decompress
    if enc == "br":
        return brotli.Decompressor().process
    return zstandard.ZstdDecompressor().decompressobj().decompress


@pytest.mark.parametrize("enc", ENCODINGS)
def test_standin_encodes_answers_and_decodes_requests(standin, enc):
    reply = {"x-standin-reply": "one two three four five", "x-standin-id": "enc"}
    for dialect in ("chat", "anthropic", "gemini_sse"):
        body = simple(dialect, "x", stream=True)
        identity = direct(standin, dialect, body, reply)[2]
        conn = httpclient.HTTPConnection("127.0.0.1", standin.port, timeout=20)
        conn.request("POST", PATHS[dialect], body=json.dumps(body),
                     headers={**reply, "x-standin-encoding": enc, "x-standin-chunks": "3"})
        r = conn.getresponse()
        assert r.getheader("content-encoding") == enc
        decode, plain, reads = _decoder(enc), b"", 0
        while chunk := r.read1(65536):
            out = decode(chunk)
            plain += out
            reads += 1 if out else 0
            assert identity.startswith(plain), "each flushed piece decodes on its own"
        conn.close()
        assert plain == identity and reads > 3, (dialect, reads)
    for dialect, streamed in [("responses", True), ("completions", True), ("chat", False), ("responses", False),
                              ("anthropic", False), ("gemini", False), ("completions", False), ("embeddings", False)]:
        body = simple(dialect, "x", streamed)
        status, h, raw = direct(standin, dialect, body, {**reply, "x-standin-encoding": enc})
        assert (status, h["content-encoding"]) == (200, enc)
        assert decoded(h, raw) == direct(standin, dialect, body, reply)[2]
    # Requests with a content-encoding are decoded; the record keeps the bytes as received.
    plain = json.dumps(simple("anthropic", f"compressed {enc}")).encode()
    packed = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
              "zstd": lambda b: zstandard.ZstdCompressor().compress(b)}[enc](plain)
    standin.clear()
    status, _, resp = direct(standin, "anthropic", packed, {"content-encoding": enc})
    assert status == 200 and json.loads(resp)["content"][0]["text"] == f"You said: compressed {enc}"
    assert [r["body"] for r in standin.received() if r["method"] == "POST"] == [packed]


def test_standin_error_shapes(standin):
    for dialect in PATHS:
        status, _, resp = direct(standin, dialect, simple(dialect, "x"), {"x-standin-status": "503"})
        body = json.loads(resp)
        assert status == 503
        if FAMILY[dialect] == "openai":
            assert body["error"]["type"] == "server_error"
        elif FAMILY[dialect] == "anthropic":
            assert body["type"] == "error" and body["error"]["type"] == "api_error"
        else:
            assert (body["error"]["code"], body["error"]["status"]) == (503, "UNAVAILABLE")


# === requests: every field of every dialect ===================================================


def _escaped(value, every=1, upper=False):
    """`value` as JSON \\u escapes (every `every`-th character)."""
    fmt = "\\u%04X" if upper else "\\u%04x"
    return "".join(fmt % ord(c) if i % every == 0 else c for i, c in enumerate(value))


@pytest.mark.parametrize("stack,field", across(FIELDS, FIELD_SUBSET, lambda f: f[0]), indirect=["stack"])
def test_secret_in_any_field_is_blocked(stack, upstream, field):
    _, dialect, build = field
    status, h, resp = post(stack, dialect, build(SECRET_TEXT))
    assert_blocked(dialect, status, h, resp)
    assert posts(upstream) == [], "the upstream must never see a blocked body"


FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in SECRET)
assert FULLWIDTH == "ＡＫＩＡＱＸ７ＭＺＴ３ＫＷＪ５ＲＬＮ２Ｐ"
PLACEHOLDER = "@@VALUE@@"
# (id, field, how the secret is written into the raw JSON body)
OBFUSCATED = [
    ("fullwidth", "chat-user_content", FULLWIDTH),
    ("zero_width_space", "chat-user_content", "\u200b".join(SECRET)),
    ("zero_width_joiner", "chat-user_content", "\u200d".join(SECRET)),
    ("word_joiner_bom", "chat-user_content", "\u2060\ufeff".join(SECRET)),
    ("json_escaped", "chat-user_content", _escaped(SECRET)),
    ("json_escaped_upper_partly", "chat-user_content", _escaped(SECRET, every=2, upper=True)),
    ("json_escaped_fullwidth", "chat-user_content", _escaped(FULLWIDTH)),
    ("json_escaped_zero_width", "chat-user_content", _escaped("\u200b".join(SECRET))),
    ("json_escaped", "responses-instructions", _escaped(SECRET)),
    ("json_escaped", "anthropic-system_blocks", _escaped(SECRET)),
    ("json_escaped", "anthropic-tool_use_input", _escaped(SECRET)),
    ("json_escaped", "gemini-function_response", _escaped(SECRET)),
    ("fullwidth", "anthropic-user_string", FULLWIDTH),
    ("zero_width_space", "gemini-user_parts", "\u200b".join(SECRET)),
]


def _obfuscated_body(field, written):
    """The field's body with the secret written into the raw JSON exactly as `written`."""
    _, _, build = FIELD_IDS[field]
    raw = json.dumps(build(f"debug this {PLACEHOLDER} thanks"), ensure_ascii=False)
    return raw.replace(PLACEHOLDER, written).encode()


@pytest.mark.parametrize("stack,case", across(OBFUSCATED, {"fullwidth-chat-user_content", "json_escaped-chat-user_content",
                                                           "zero_width_joiner-chat-user_content"},
                                              lambda c: f"{c[0]}-{c[1]}"), indirect=["stack"])
def test_obfuscated_secret_is_blocked(stack, upstream, case):
    _, field, written = case
    dialect = FIELD_IDS[field][1]
    body = _obfuscated_body(field, written)
    json.loads(body)  # a valid body
    assert SECRET.encode() not in body
    status, h, resp = post(stack, dialect, body)
    assert_blocked(dialect, status, h, resp, message=None)
    assert posts(upstream) == []


@pytest.mark.parametrize("stack,field", across(FIELDS, FIELD_SUBSET, lambda f: f[0]), indirect=["stack"])
def test_pii_in_any_field_is_masked_in_place(stack, upstream, field):
    _, dialect, build = field
    sent = build(PII_TEXT)
    status, h, resp = post(stack, dialect, sent)
    assert status == 200, resp
    assert h.get("x-parapet-decision") == "mask"
    [got] = posts(upstream)
    assert EMAIL.encode() not in got["body"]
    # Exactly the value is replaced; the rest of the body is the same JSON.
    assert json.loads(got["body"]) == json.loads(json.dumps(sent).replace(EMAIL, "[EMAIL]"))


@pytest.mark.parametrize("stack,field", across(FIELDS, FIELD_SUBSET, lambda f: f[0]), indirect=["stack"])
def test_allowed_body_reaches_the_upstream_byte_for_byte(stack, upstream, field):
    _, dialect, build = field
    body = json.dumps(build(BENIGN)).encode()
    status, h, resp = post(stack, dialect, body)
    assert status == 200, resp
    assert h.get("x-parapet-decision") == "allow"
    assert [g["body"] for g in posts(upstream)] == [body]


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_unrecognised_json_is_blocked_not_allowed(stack, upstream):
    before = stack.stats() if stack.mode != "ext_proc" else {}
    status, h, resp = http("POST", stack.url("/v1/unknown"), body=b'{"foo": "bar"}',
                           headers={"content-type": "application/json"})
    assert status == 400, resp
    assert h.get("x-parapet-decision") in ("block", "skipped")
    assert posts(upstream) == []
    if stack.mode != "ext_proc":
        after = stack.stats()
        k = "wasmcustom.parapet.decision."
        assert after.get(k + "allow", 0) == before.get(k + "allow", 0)
        counted = sum(after.get(k + d, 0) - before.get(k + d, 0) for d in ("block", "skipped"))
        assert counted == 1


# === answers ================================================================================

CLEAN = [("chat", False), ("chat", True), ("responses", False), ("responses", True), ("anthropic", False),
         ("anthropic", True), ("gemini", False), ("gemini_sse", True), ("gemini_json", True),
         ("completions", False), ("completions", True), ("embeddings", False)]


@pytest.mark.parametrize("stack", MODES, indirect=True)
@pytest.mark.parametrize("dialect,stream", CLEAN, ids=lambda v: v if isinstance(v, str) else ("stream" if v else "json"))
def test_clean_exchange_is_untouched(stack, upstream, dialect, stream):
    body = json.dumps(simple(dialect, BENIGN, stream)).encode()
    headers = {"x-standin-id": "fixed", "x-standin-reply": "The quick brown fox jumps over the lazy dog."}
    status, h, through = post(stack, dialect, body, headers)
    assert status == 200, through
    assert [g["body"] for g in posts(upstream)] == [body]
    assert through == direct(upstream, dialect, body, headers)[2], "the client gets the upstream's bytes"


def _tool_headers(dialect, tool):
    return {"x-standin-tool-call": "send_mail"} if tool else {}


BUFFERED = [("chat", False), ("responses", False), ("anthropic", False), ("gemini", False), ("completions", False),
            ("chat", True), ("responses", True), ("anthropic", True), ("gemini", True)]
BUFFERED_SUBSET = {"chat", "responses", "anthropic", "gemini"}


def _case_id(c):
    return c[0] + ("-tool" if c[1] else "")


@pytest.mark.parametrize("stack,case", across(BUFFERED, BUFFERED_SUBSET, _case_id), indirect=["stack"])
def test_buffered_answer_with_a_secret_is_withheld(stack, upstream, case):
    dialect, tool = case
    reply = json.dumps({"aws_key": SECRET}) if tool else f"Sure, the key is {SECRET}"
    status, h, resp = post(stack, dialect, simple(dialect, "go"), {"x-standin-reply": reply, **_tool_headers(dialect, tool)})
    assert status == 200, resp
    assert SECRET.encode() not in resp
    assert_json_withheld(dialect, json.loads(resp))


@pytest.mark.parametrize("stack,case", across(BUFFERED, BUFFERED_SUBSET, _case_id), indirect=["stack"])
def test_buffered_answer_pii_is_masked_in_place(stack, upstream, case):
    dialect, tool = case
    reply = '{"to": "bob.smith@example.org", "subject": "hi"}' if tool else "write to bob.smith@example.org today"
    status, h, resp = post(stack, dialect, simple(dialect, "go"), {"x-standin-reply": reply, **_tool_headers(dialect, tool)})
    assert status == 200, resp
    assert b"bob.smith" not in resp
    answer = json.loads(resp)
    assert json_answer_text(dialect, answer) == reply.replace("bob.smith@example.org", "[EMAIL]")
    # Otherwise the answer is the upstream's: same shape, same finish.
    expected = json.loads(direct(upstream, dialect, simple(dialect, "go"),
                                 {"x-standin-reply": reply, **_tool_headers(dialect, tool)})[2])
    if dialect == "responses":
        assert answer["status"] == expected["status"] == "completed"
        assert answer["output"][0]["type"] == expected["output"][0]["type"]
    elif dialect == "anthropic":
        assert answer["stop_reason"] == expected["stop_reason"]
    elif dialect == "gemini":
        assert answer["candidates"][0]["finishReason"] == "STOP"
    else:
        assert answer["choices"][0]["finish_reason"] == expected["choices"][0]["finish_reason"]


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_gemini_json_array_stream_with_a_secret_is_withheld(stack, upstream):
    status, h, resp = post(stack, "gemini_json", simple("gemini_json", "go"),
                           {"x-standin-reply": f"the key is {SECRET} ok", "x-standin-chunks": "4"})
    assert status == 200
    assert_no_fragment(SECRET, resp)
    answers = json.loads(resp)
    assert isinstance(answers, list) and answers
    assert "SAFETY" in [c.get("finishReason") for a in answers for c in a.get("candidates") or []]


def stream(stack, dialect, reply, seed=None, tool=False, extra=None):
    headers = {"x-standin-reply": reply, **_tool_headers(dialect, tool), **(extra or {})}
    if seed is not None:
        headers["x-standin-chunks"] = str(seed)
    status, h, raw = post(stack, dialect, simple(dialect, "go", stream=True), headers)
    assert status == 200, raw
    return h, raw


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_a_stream_event_that_is_not_valid_json_ends_the_stream(stack, upstream):
    # The upstream sends the chunk carrying the address cut short. The guard cannot read it;
    # under the default on_invalid_body (block) the stream ends in the API's way before it, and
    # nothing of it reaches the client (it used to pass unread, counted as allow).
    reply = "mail jane.doe@example.com now please"
    h, raw = stream(stack, "chat", reply, seed=5, extra={"x-standin-broken-event": "2"})
    assert_no_fragment("jane.doe@example.com", raw)
    assert_stream_withheld("chat", decoded(h, raw))
    # The same stream, whole, is read and masked.
    h, raw = stream(stack, "chat", reply, seed=5)
    assert stream_view("chat", decoded(h, raw))[0] == "mail [EMAIL] now please"


STREAMS = [(d, False, seed) for d in ("chat", "responses", "anthropic", "gemini_sse", "completions") for seed in (1, 2)]
STREAMS += [(d, True, 4) for d in ("responses", "anthropic", "gemini_sse")]
STREAM_SUBSET = {"chat-1", "responses-1", "anthropic-1", "gemini_sse-1", "responses-tool-4", "anthropic-tool-4"}


def _stream_id(c):
    return f"{c[0]}{'-tool' if c[1] else ''}-{c[2]}"


@pytest.mark.parametrize("stack,case", across(STREAMS, STREAM_SUBSET, _stream_id), indirect=["stack"])
def test_streamed_secret_never_reaches_the_client(stack, upstream, case):
    dialect, tool, seed = case
    rng = random.Random(seed)
    words = "here is some ordinary text about the weather and the train times for tomorrow".split()
    cut = rng.randint(0, len(words))
    text = " ".join(words[:cut] + [SECRET] + words[cut:])
    reply = json.dumps({"note": text}) if tool else text
    _, raw = stream(stack, dialect, reply, seed=seed, tool=tool)
    assert_no_fragment(SECRET, raw)
    assert_stream_withheld(dialect, raw)


MASKED_STREAMS = [(d, False) for d in ("chat", "responses", "anthropic", "gemini_sse", "completions")]
MASKED_STREAMS += [(d, True) for d in ("chat", "responses", "anthropic", "gemini_sse")]


@pytest.mark.parametrize("stack,case", across(MASKED_STREAMS, {"responses", "anthropic", "gemini_sse"}, _case_id),
                         indirect=["stack"])
def test_streamed_pii_is_masked(stack, upstream, case):
    dialect, tool = case
    if tool:
        reply = '{"to": "jane.doe@example.com", "subject": "hi"}'
        expected = '{"to": "[EMAIL]", "subject": "hi"}'
    else:
        reply = "mail jane.doe@example.com or call +1 415 555 0132 now"
        expected = "mail [EMAIL] or call [PHONE] now"
    _, raw = stream(stack, dialect, reply, seed=7, tool=tool)
    text, _ = stream_view(dialect, raw)
    if tool and dialect in ("anthropic", "gemini_sse"):
        expected = json.dumps({"text": expected})  # the tool input is {"text": reply}
    assert text == expected
    # Nowhere in the stream: the done/completed events of a Responses stream repeat the text.
    assert b"jane.doe" not in raw and b"555 0132" not in raw
    assert_stream_finished_normally(dialect, raw)


@pytest.mark.parametrize("stack", MODES, indirect=True)
@pytest.mark.parametrize("dialect", ["responses", "anthropic", "gemini_sse", "completions"])
def test_clean_stream_is_byte_identical_at_random_splits(stack, upstream, dialect):
    reply = "The quick brown fox jumps over the lazy dog, twice, and then rests for a while."
    _, through = stream(stack, dialect, reply, seed=11, extra={"x-standin-id": "fixed"})
    # The same bytes, however they were split on the way.
    expected = direct(upstream, dialect, simple(dialect, "go", stream=True),
                      {"x-standin-reply": reply, "x-standin-id": "fixed"})[2]
    assert through == expected


# --- compressed answers ---

COMPRESSED = [(enc, d) for enc in ENCODINGS for d in ("chat", "responses", "anthropic", "gemini")]


@pytest.mark.parametrize("stack,case", across(COMPRESSED, {"gzip-chat", "gzip-anthropic"}, lambda c: f"{c[0]}-{c[1]}"),
                         indirect=["stack"])
def test_compressed_answer_is_decoded_and_guarded(stack, upstream, case):
    enc, dialect = case
    h, resp = post(stack, dialect, simple(dialect, "go"),
                   {"x-standin-reply": f"the key is {SECRET}", "x-standin-encoding": enc})[1:]
    plain = decoded(h, resp)
    assert SECRET.encode() not in plain and SECRET.encode() not in resp
    assert_json_withheld(dialect, json.loads(plain))
    clean = "nothing to see here, all fine"
    status, h, resp = post(stack, dialect, simple(dialect, "go"), {"x-standin-reply": clean, "x-standin-encoding": enc})
    assert status == 200
    assert json_answer_text(dialect, json.loads(decoded(h, resp))) == clean


@pytest.mark.parametrize("stack", ["wasm"], indirect=True)
@pytest.mark.parametrize("enc", ENCODINGS)
@pytest.mark.parametrize("dialect", ["chat", "anthropic"])
def test_compressed_stream_is_decoded_and_guarded(stack, upstream, enc, dialect):
    h, raw = stream(stack, dialect, f"the key is {SECRET} so there", seed=3, extra={"x-standin-encoding": enc})
    plain = decoded(h, raw)
    assert_no_fragment(SECRET, plain)
    assert_stream_withheld(dialect, plain)
    h, raw = stream(stack, dialect, "mail jane.doe@example.com now", seed=4, extra={"x-standin-encoding": enc})
    plain = decoded(h, raw)
    assert stream_view(dialect, plain)[0] == "mail [EMAIL] now"
    assert b"jane.doe" not in plain


# === the official SDKs through Envoy ==========================================================

LEAK = f"Sure, the key is {SECRET} and more"


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_openai_sdk_chat(stack, upstream):
    client = openai.OpenAI(base_url=stack.url("/v1"), api_key="x", max_retries=0, timeout=20)
    msgs = [{"role": "user", "content": BENIGN}]
    assert client.chat.completions.create(model="m", messages=msgs).choices[0].message.content == "You said: " + BENIGN
    chunks = list(client.chat.completions.create(model="m", messages=msgs, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: " + BENIGN
    for streamed in (False, True):
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": SECRET_TEXT}], stream=streamed)
        assert e.value.code == "content_policy_violation" and IN_MSG in e.value.message
    leak = {"x-standin-reply": LEAK, "x-standin-chunks": "5"}
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "go"}], extra_headers=leak)
    assert r.choices[0].finish_reason == "content_filter" and SECRET not in r.model_dump_json()
    chunks = list(client.chat.completions.create(model="m", messages=[{"role": "user", "content": "go"}], stream=True,
                                                 extra_headers=leak))
    assert SECRET not in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "content_filter"
    assert all(SECRET.encode() not in p["body"] for p in posts(upstream))


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_openai_sdk_responses(stack, upstream):
    client = openai.OpenAI(base_url=stack.url("/v1"), api_key="x", max_retries=0, timeout=20)
    assert client.responses.create(model="m", input=BENIGN).output_text == "You said: " + BENIGN
    events = list(client.responses.create(model="m", input=BENIGN, stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "You said: " + BENIGN
    with client.responses.stream(model="m", input=BENIGN) as s:
        assert s.get_final_response().output_text == "You said: " + BENIGN
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="m", instructions=SECRET_TEXT, input="hi")
    assert e.value.code == "content_policy_violation" and IN_MSG in e.value.message
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="m", input=SECRET_TEXT, stream=True)
    with pytest.raises(openai.BadRequestError):
        with client.responses.stream(model="m", input=[{"role": "user", "content": [{"type": "input_text", "text": SECRET_TEXT}]}]):
            pass
    leak = {"x-standin-reply": LEAK}  # (random splits: test_streamed_secret_never_reaches_the_client)
    r = client.responses.create(model="m", input="go", extra_headers=leak)
    assert (r.status, r.incomplete_details.reason) == ("incomplete", "content_filter")
    assert SECRET not in r.model_dump_json() and SECRET not in r.output_text
    assert [p.refusal for item in r.output if item.type == "message" for p in item.content if p.type == "refusal"] == [OUT_MSG]
    events = list(client.responses.create(model="m", input="go", stream=True, extra_headers=leak))
    assert events[-1].type == "response.incomplete" and events[-1].response.incomplete_details.reason == "content_filter"
    assert SECRET not in "".join(e.delta for e in events if e.type == "response.output_text.delta")
    # responses.stream() parses the withheld stream (its get_final_response() needs a
    # response.completed event, which a withheld stream does not have).
    with client.responses.stream(model="m", input="go", extra_headers=leak) as s:
        events = list(s)
    assert events[-1].type == "response.incomplete"
    assert SECRET not in "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert all(SECRET.encode() not in p["body"] for p in posts(upstream))


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_anthropic_sdk_messages(stack, upstream):
    client = anthropic.Anthropic(base_url=stack.url(""), api_key="x", max_retries=0, timeout=20)
    kw = {"model": "m", "max_tokens": 64}
    m = client.messages.create(**kw, messages=[{"role": "user", "content": BENIGN}])
    assert m.content[0].text == "You said: " + BENIGN
    with client.messages.stream(**kw, messages=[{"role": "user", "content": BENIGN}]) as s:
        assert "".join(s.text_stream) == "You said: " + BENIGN
    for streamed in (False, True):
        with pytest.raises(anthropic.BadRequestError) as e:
            client.messages.create(**kw, system=SECRET_TEXT, messages=[{"role": "user", "content": "hi"}], stream=streamed)
        assert e.value.body["error"]["message"] == IN_MSG
    with pytest.raises(anthropic.BadRequestError):
        with client.messages.stream(**kw, messages=[{"role": "user", "content": [{"type": "text", "text": SECRET_TEXT}]}]):
            pass
    leak = {"x-standin-reply": LEAK, "x-standin-chunks": "8"}
    m = client.messages.create(**kw, messages=[{"role": "user", "content": "go"}], extra_headers=leak)
    assert m.stop_reason == "refusal" and [b.text for b in m.content] == [OUT_MSG]
    events = list(client.messages.create(**kw, messages=[{"role": "user", "content": "go"}], stream=True, extra_headers=leak))
    assert [e.type for e in events][-2:] == ["message_delta", "message_stop"] and events[-2].delta.stop_reason == "refusal"
    with client.messages.stream(**kw, messages=[{"role": "user", "content": "go"}], extra_headers=leak) as s:
        final = s.get_final_message()
    assert final.stop_reason == "refusal"
    assert SECRET not in final.model_dump_json()
    assert all(SECRET.encode() not in p["body"] for p in posts(upstream))


@pytest.mark.parametrize("stack", MODES, indirect=True)
def test_genai_sdk(stack, upstream):
    client = genai_client(stack.url(""))
    assert client.models.generate_content(model=GEMINI_MODEL, contents=BENIGN).text == "You said: " + BENIGN
    chunks = list(client.models.generate_content_stream(model=GEMINI_MODEL, contents=BENIGN))
    assert "".join(c.text or "" for c in chunks) == "You said: " + BENIGN
    with pytest.raises(genai_errors.ClientError) as e:
        client.models.generate_content(model=GEMINI_MODEL, contents=SECRET_TEXT)
    assert (e.value.code, e.value.status, e.value.message) == (400, "INVALID_ARGUMENT", IN_MSG)
    with pytest.raises(genai_errors.ClientError):
        list(client.models.generate_content_stream(model=GEMINI_MODEL, contents="hi", config=genai_types.GenerateContentConfig(
            system_instruction=SECRET_TEXT)))
    leak = genai_types.GenerateContentConfig(http_options=genai_types.HttpOptions(
        headers={"x-standin-reply": LEAK, "x-standin-chunks": "9"}))
    r = client.models.generate_content(model=GEMINI_MODEL, contents="go", config=leak)
    assert r.candidates[0].finish_reason == genai_types.FinishReason.SAFETY and r.text == OUT_MSG
    chunks = list(client.models.generate_content_stream(model=GEMINI_MODEL, contents="go", config=leak))
    assert SECRET not in "".join(c.text or "" for c in chunks)
    assert chunks[-1].candidates[0].finish_reason == genai_types.FinishReason.SAFETY
    assert all(SECRET.encode() not in p["body"] for p in posts(upstream))
