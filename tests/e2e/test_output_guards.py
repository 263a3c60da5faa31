"""llm_output guards on buffered JSON responses through a real Envoy.

The stand-in upstream echoes the prompt ("You said: ..."), so what a test puts in the prompt
comes back in the response; these policies guard only the output, so the request passes
unchanged and the response is what gets masked or withheld.
"""
import contextlib
import gzip
import json

import openai
import pytest

from harness import Envoy, ExtProc, chat, posts

POLICY = {
    "version": 1,
    "decision_header": "x-parapet-decision",
    "guards": [
        {"id": "out-competitors", "hook": "llm_output",
         "detector": {"type": "wordlist", "kind": "competitor", "terms": ["Globex"]}, "action": "mask"},
        {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block",
         "block_response": {"message": "The answer contained a credential ({kinds}) and was withheld."}},
        {"id": "out-tickets", "hook": "llm_output",
         "detector": {"type": "regex", "patterns": [{"kind": "ticket", "pattern": "T-\\d{3,}"}]}, "action": "audit"},
    ],
}


@pytest.fixture(scope="module")
def envoy(standin):
    e = Envoy(standin.port, policy=POLICY)
    yield e
    e.stop()



def answer(resp):
    return json.loads(resp)["choices"][0]


def test_clean_response_is_unchanged(envoy, upstream):
    status, headers, resp = envoy.post(chat("hello"))
    assert status == 200
    assert answer(resp)["message"]["content"] == "You said: hello"
    assert json.loads(resp)["usage"]["total_tokens"] > 0


def test_response_is_masked(envoy, upstream):
    status, _, resp = envoy.post(chat("is Globex any good?"))
    assert status == 200
    assert answer(resp)["message"]["content"] == "You said: is [COMPETITOR] any good?"
    # The request itself was not touched: only the output is guarded.
    [got] = [r for r in upstream.received() if r["method"] == "POST"]
    assert b"Globex" in got["body"]
    assert envoy.stats()["wasmcustom.parapet.output.decision.mask"] >= 1


def test_response_with_a_secret_is_withheld_as_content_filter(envoy, upstream):
    status, headers, resp = envoy.post(chat("echo AKIAQX7MZT3KWJ5RLN2P"))
    assert status == 200
    c = answer(resp)
    assert c["finish_reason"] == "content_filter"
    assert c["message"]["content"] == "The answer contained a credential (aws_access_key) and was withheld."
    assert b"AKIAQX7MZT3KWJ5RLN2P" not in resp
    envoy.wait_log("output_decision=block findings=[out-secrets:aws_access_key]")


def test_audit_on_output_is_recorded_and_unchanged(envoy, upstream):
    before = envoy.stats().get("wasmcustom.parapet.guard.out-tickets.audit.audit", 0)
    status, _, resp = envoy.post(chat("see T-1234"))
    assert answer(resp)["message"]["content"] == "You said: see T-1234"
    assert envoy.stats()["wasmcustom.parapet.guard.out-tickets.audit.audit"] == before + 1


def test_identity_encoding_is_requested_upstream(envoy, upstream):
    envoy.post(chat("hello"), headers={"accept-encoding": "gzip, br"})
    [got] = [r for r in upstream.received() if r["method"] == "POST"]
    assert "accept-encoding" not in got["headers"]


def test_compressed_response_is_decoded_scanned_and_reencoded(envoy, upstream):
    status, headers, resp = envoy.post(chat("is Globex any good?"), headers={"x-standin-gzip": "1"})
    assert status == 200
    # urllib does not decompress: the guard read the gzip body, masked it and re-encoded it.
    assert headers.get("content-encoding") == "gzip"
    content = json.loads(gzip.decompress(resp))["choices"][0]["message"]["content"]
    assert content == "You said: is [COMPETITOR] any good?"
    envoy.wait_log("output_decision=mask findings=[out-competitors:competitor]")


def test_compressed_secret_is_withheld(envoy, upstream):
    status, headers, resp = envoy.post(chat("echo AKIAQX7MZT3KWJ5RLN2P"), headers={"x-standin-gzip": "1"})
    assert status == 200
    assert b"AKIAQX7MZT3KWJ5RLN2P" not in gzip.decompress(resp)
    assert answer(gzip.decompress(resp))["finish_reason"] == "content_filter"


def test_upstream_errors_pass_through(envoy, upstream):
    status, _, resp = envoy.post(b'{"messages": "x"}', path="/v1/nope")
    assert status == 404
    assert json.loads(resp)["error"]["message"] == "no route /v1/nope"


def test_openai_client_sees_content_filter(envoy, upstream):
    client = openai.OpenAI(base_url=envoy.url("/v1"), api_key="x", max_retries=0, timeout=10)
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "echo AKIAQX7MZT3KWJ5RLN2P"}])
    assert r.choices[0].finish_reason == "content_filter"
    r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Globex"}])
    assert r.choices[0].message.content == "You said: [COMPETITOR]"


def test_streamed_responses_still_arrive_intact(envoy, upstream):
    client = openai.OpenAI(base_url=envoy.url("/v1"), api_key="x", max_retries=0, timeout=10)
    stream = client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "one two"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "You said: one two"



SMALL_LIMIT = {
    "version": 1,
    "decision_header": "x-parapet-decision",
    "limits": {"max_body_bytes": 4096},
    "guards": [{"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block"}],
}


@contextlib.contextmanager
def guarded_by(make_envoy, policy, mode):
    """Envoy guarding with `policy` through the filter (`wasm`) or parapet-ext-proc
    (`ext_proc`); yields a function that counts the answers recorded with a decision."""
    ext = ExtProc(policy=policy, heavy=False) if mode == "ext_proc" else None
    try:
        if ext is None:
            e = make_envoy(policy)

            def answers(decision):
                return e.stats().get(f"wasmcustom.parapet.output.decision.{decision}", 0)
        else:
            e = make_envoy(config_name="ext_proc.yaml", heavy_port=ext.port)

            def answers(decision):
                key = f'parapet_ext_proc_decisions_total{{direction="response",decision="{decision}"}}'
                return ext.metrics().get(key, 0)
        yield e, answers
    finally:
        if ext:
            ext.stop()


@pytest.mark.parametrize("mode", ["wasm", "ext_proc"])
@pytest.mark.parametrize("on_oversize", ["block", "pass"])
def test_an_answer_past_the_body_limit_follows_on_oversize(make_envoy, upstream, mode, on_oversize):
    # The guard cannot read an answer it does not buffer: under `block` (the default) it is
    # withheld whole, as an oversized request is; under `pass` it arrives byte for byte, unread,
    # and is counted `skipped` — never `allow`.
    policy = dict(SMALL_LIMIT, limits=dict(SMALL_LIMIT["limits"], on_oversize=on_oversize))
    with guarded_by(make_envoy, policy, mode) as (e, answers):
        reply = "lorem ipsum " * 500 + "the key is AKIAQX7MZT3KWJ5RLN2P"
        status, _, resp = e.post(chat("hi"), headers={"x-standin-reply": reply})
        assert status == 200
        if on_oversize == "block":
            assert b"AKIAQX7MZT3KWJ5RLN2P" not in resp and b"lorem" not in resp
            err = json.loads(resp)["error"]
            assert err["code"] == "guardrail_unreadable_response" and "max_body_bytes" in err["message"]
            assert answers("block") == 1
        else:
            assert answer(resp)["message"]["content"] == reply
            assert answers("skipped") == 1 and answers("allow") == 0


@pytest.mark.parametrize("mode", ["wasm", "ext_proc"])
def test_an_answer_in_a_type_the_guards_do_not_read_is_counted_skipped(make_envoy, upstream, mode):
    # JSON sent as NDJSON (as Ollama's own API streams): untouched, and never counted `allow`.
    with guarded_by(make_envoy, POLICY, mode) as (e, answers):
        status, _, resp = e.post(chat("echo AKIAQX7MZT3KWJ5RLN2P"),
                                 headers={"x-standin-content-type": "application/x-ndjson"})
        assert status == 200
        assert answer(resp)["message"]["content"] == "You said: echo AKIAQX7MZT3KWJ5RLN2P"
        assert answers("skipped") == 1 and answers("allow") == 0
