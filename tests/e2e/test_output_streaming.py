"""Guarded SSE streams through a real Envoy.

The stand-in streams its answer (`x-standin-reply`) slowly, with the SSE bytes cut at random
offsets (`x-standin-chunks: SEED`), so values and events are split across body chunks. For each
secret, PII value and banned phrase at random offsets and splits, nothing of the value may reach
the client, and the stream must end cleanly.
"""
import http.client
import json
import random

import openai
import pytest

from harness import Envoy

POLICY = {
    "version": 1,
    "guards": [
        {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block",
         "block_response": {"message": "withheld: {kinds}"}},
        {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
        {"id": "out-banned", "hook": "llm_output",
         "detector": {"type": "wordlist", "kind": "banned", "terms": ["project nightingale"]}, "action": "mask"},
    ],
}

VALUES = [
    ("AKIAQX7MZT3KWJ5RLN2P", None),
    ("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", None),
    ("sk-ant-api03-" + "x7Yq2LmN9pQrS4tUvW8zA1bC3dE5fG6hJ0kL2mN4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hJ4kL6mN8pQ0rS2tU4vW6xY8zA0bC2dE4fG6-AbCdEfAA", None),
    ("jane.doe@example.com", "[EMAIL]"),
    ("+1 415 555 0132", "[PHONE]"),
    ("4111 1111 1111 1111", "[CREDIT_CARD]"),
    ("project nightingale", "[BANNED]"),
]


@pytest.fixture(scope="module")
def envoy(standin):
    e = Envoy(standin.port, policy=POLICY)
    yield e
    e.stop()


def stream(envoy, reply, seed=None, stream_id=None):
    """POST a streaming request; return the raw bytes the client received."""
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=20)
    headers = {"content-type": "application/json", "x-standin-reply": reply}
    if seed is not None:
        headers["x-standin-chunks"] = str(seed)
    if stream_id:
        headers["x-standin-id"] = stream_id
    body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]})
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    r = conn.getresponse()
    assert r.status == 200
    data = r.read()
    conn.close()
    return data


def client_view(raw):
    text, finish, done = "", None, False
    for block in raw.decode().split("\n\n"):
        for line in block.splitlines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                continue
            chunk = json.loads(data)  # every event must be complete JSON
            for c in chunk["choices"]:
                text += c["delta"].get("content") or ""
                finish = c.get("finish_reason") or finish
    return text, finish, done


def test_clean_stream_is_byte_identical(envoy, standin):
    reply = "The quick brown fox jumps over the lazy dog, twice, and then rests for a while."
    through = stream(envoy, reply, seed=5, stream_id="chatcmpl-fixed")
    conn = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=20)
    conn.request("POST", "/v1/chat/completions",
                 body=json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]}),
                 headers={"content-type": "application/json", "x-standin-reply": reply, "x-standin-id": "chatcmpl-fixed"})
    expected = conn.getresponse().read()
    assert through == expected


@pytest.mark.parametrize("case", range(len(VALUES) * 3))
def test_values_split_at_random_never_reach_the_client(envoy, upstream, case):
    value, placeholder = VALUES[case % len(VALUES)]
    rng = random.Random(case)
    words = "here is some ordinary text about the weather and the train times for tomorrow".split()
    cut = rng.randint(0, len(words))
    reply = " ".join(words[:cut] + [value] + words[cut:])
    raw = stream(envoy, reply, seed=case)
    text, finish, done = client_view(raw)
    assert done, raw
    compact = value.replace(" ", "")
    for i in range(len(compact) - 7):
        assert compact[i:i + 8] not in raw.decode().replace(" ", ""), (value, raw)
    if placeholder is None:
        assert finish == "content_filter"
        assert "withheld:" in raw.decode()
    else:
        assert text == reply.replace(value, placeholder)
        assert finish == "stop"


def test_openai_client_streams_blocked_and_masked(envoy, upstream):
    client = openai.OpenAI(base_url=envoy.url("/v1"), api_key="x", max_retries=0, timeout=20)
    chunks = list(client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "go"}],
        extra_headers={"x-standin-reply": "the key is AKIAQX7MZT3KWJ5RLN2P ok", "x-standin-chunks": "9"}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "AKIA" not in text
    assert chunks[-1].choices[0].finish_reason == "content_filter"

    chunks = list(client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "go"}],
        extra_headers={"x-standin-reply": "mail jane.doe@example.com now", "x-standin-chunks": "4"}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "mail [EMAIL] now"


def test_stream_decisions_are_counted(envoy, upstream):
    before = envoy.stats()
    stream(envoy, "mail jane.doe@example.com now", seed=1)
    stream(envoy, "key AKIAQX7MZT3KWJ5RLN2P", seed=2)
    after = envoy.stats()
    for d in ("mask", "block"):
        k = f"wasmcustom.parapet.output.decision.{d}"
        assert after[k] == before.get(k, 0) + 1, k


def stream_tool_call(envoy, arguments, seed):
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=20)
    headers = {"content-type": "application/json", "x-standin-reply": arguments,
               "x-standin-tool-call": "send_mail", "x-standin-chunks": str(seed)}
    body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]})
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    raw = conn.getresponse().read()
    conn.close()
    args, finish = "", None
    for block in raw.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: {"):
                for c in json.loads(line[6:])["choices"]:
                    for t in c["delta"].get("tool_calls") or []:
                        args += (t.get("function") or {}).get("arguments") or ""
                    finish = c.get("finish_reason") or finish
    return raw, args, finish


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_tool_call_argument_deltas_are_guarded(envoy, upstream, seed):
    raw, args, finish = stream_tool_call(envoy, '{"to": "jane.doe@example.com", "subject": "hi"}', seed)
    assert b"jane.doe" not in raw
    assert args == '{"to": "[EMAIL]", "subject": "hi"}'
    assert finish == "tool_calls"
    raw, args, finish = stream_tool_call(envoy, '{"aws_key": "AKIAQX7MZT3KWJ5RLN2P"}', seed)
    assert b"AKIAQX7M" not in raw.replace(b" ", b"")
    assert finish == "content_filter"
    assert raw.endswith(b"data: [DONE]\n\n")
