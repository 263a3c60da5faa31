"""Input modes and reversible masking through a real Envoy.

- `input_mode: parallel` forwards the request body as it arrives and checks a copy; a block
  answers locally (resetting the upstream call). `sequential` holds the body until the verdict.
  A slow, chunked client body shows the difference: under `parallel` the upstream has the first
  body byte before the client has sent the last one.
- A reversible mask guard sends `[EMAIL_1]` upstream and puts the address back where the model
  repeats the placeholder, in buffered and streamed responses; the next request knows nothing
  of it.
"""
import http.client
import json
import time

import openai
import pytest

from harness import chat, posts

SECRET = "AKIAQX7MZT3KWJ5RLN2P"

GUARDS = [
    {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"},
    {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block"},
]


def slow_chunked_post(port, pieces, pause=0.4, headers=None):
    """POST a chat body in chunked pieces with pauses; return (response status, body, time the
    last piece was sent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.putrequest("POST", "/v1/chat/completions")
    conn.putheader("content-type", "application/json")
    conn.putheader("transfer-encoding", "chunked")
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    last = None
    for i, p in enumerate(pieces):
        if i:
            time.sleep(pause)
        last = time.time()
        conn.send(b"%x\r\n%s\r\n" % (len(p), p))
    conn.send(b"0\r\n\r\n")
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body, last


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_when_the_upstream_sees_the_body(make_envoy, upstream, mode):
    envoy = make_envoy({"version": 1, "input_mode": mode, "guards": GUARDS})
    body = chat("a long question about trains " * 20)
    status, resp, last_sent = slow_chunked_post(envoy.port, [body[:50], body[50:120], body[120:]])
    assert status == 200, resp
    [got] = posts(upstream)
    assert got["body"] == body
    if mode == "parallel":
        assert got["body_at"] < last_sent, "parallel: forwarded while the client was still sending"
    else:
        assert got["body_at"] >= last_sent, "sequential: nothing forwarded before the verdict"


def test_parallel_block_replaces_the_response(make_envoy, upstream):
    envoy = make_envoy({"version": 1, "input_mode": "parallel", "decision_header": "x-parapet-decision",
                        "guards": GUARDS})
    body = chat(f"deploy with key {SECRET} please")
    status, resp, _ = slow_chunked_post(envoy.port, [body[:30], body[30:]], pause=0.2)
    assert status == 400
    err = json.loads(resp)["error"]
    assert err["code"] == "content_policy_violation" and "secrets" in err["message"]
    # Allowed requests get the upstream's answer and the decision header.
    status, headers, resp = envoy.post(chat("hello"))
    assert status == 200 and json.loads(resp)["choices"][0]["message"]["content"] == "You said: hello"
    assert headers["x-parapet-decision"] == "allow"
    stats = envoy.stats()
    assert stats["wasmcustom.parapet.decision.block"] == 1
    assert stats["wasmcustom.parapet.decision.allow"] == 1


@pytest.mark.parametrize("blocked", [False, True])
def test_parallel_early_response_is_checked_against_what_was_forwarded(make_envoy, upstream, blocked):
    """An upstream that answers before the request body ended has seen only what the filter
    forwarded (and copied): that prefix is checked before the answer is released."""
    envoy = make_envoy({"version": 1, "input_mode": "parallel", "guards": GUARDS})
    body = chat(f"key {SECRET} and then some more text" if blocked else "hello there, some more text")
    status, resp, _ = slow_chunked_post(envoy.port, [body[:100], body[100:]], pause=0.3,
                                        headers={"x-standin-early": "1"})
    assert posts(upstream)[0]["body"] == body[:100], "the upstream answered after the first piece"
    if blocked:
        assert status == 400 and json.loads(resp)["error"]["code"] == "content_policy_violation"
    else:
        assert status == 200 and json.loads(resp)["choices"][0]["message"]["content"] == "early answer"


def test_parallel_output_guards_still_apply(make_envoy, upstream):
    envoy = make_envoy({"version": 1, "input_mode": "parallel", "guards": GUARDS})
    status, _, resp = envoy.post(chat("hi"), headers={"x-standin-reply": f"the key is {SECRET}"})
    assert status == 200
    assert SECRET not in resp.decode()
    assert json.loads(resp)["choices"][0]["finish_reason"] == "content_filter"


def test_parallel_mode_rejects_request_masks(make_envoy, upstream):
    # The filter refuses the configuration, so Envoy (fail-closed plugin) does not start.
    with pytest.raises(RuntimeError) as failed:
        make_envoy({"version": 1, "input_mode": "parallel",
                    "guards": [{"id": "pii", "detector": {"type": "pii"}, "action": "mask"}]})
    assert "guards[0].action: input_mode `parallel` forwards the request" in str(failed.value)


REVERSIBLE = {"version": 1, "guards": [
    {"id": "pii", "detector": {"type": "pii"}, "action": "mask", "reversible": True},
    {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
]}


def test_reversible_mask_round_trip_buffered(make_envoy, upstream):
    envoy = make_envoy(REVERSIBLE)
    status, _, resp = envoy.post(chat("write to jane.doe@example.com and bob@example.org"))
    assert status == 200
    sent = json.loads(posts(upstream)[-1]["body"])
    assert sent["messages"][0]["content"] == "write to [EMAIL_1] and [EMAIL_2]"
    # The stand-in echoes the placeholders; the client gets its own values back.
    assert json.loads(resp)["choices"][0]["message"]["content"] == \
        "You said: write to jane.doe@example.com and bob@example.org"
    # A value the model produced itself is still masked by the output guard, and a placeholder
    # from another request is not restored.
    status, _, resp = envoy.post(chat("hello"), headers={"x-standin-reply": "[EMAIL_1] or x.y@example.net"})
    assert json.loads(resp)["choices"][0]["message"]["content"] == "[EMAIL_1] or [EMAIL]"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reversible_mask_round_trip_streamed(make_envoy, upstream, seed):
    envoy = make_envoy(REVERSIBLE)
    client = openai.OpenAI(base_url=envoy.url("/v1"), api_key="x", max_retries=0, timeout=20)
    chunks = list(client.chat.completions.create(
        model="m", stream=True,
        messages=[{"role": "user", "content": "my address is jane.doe@example.com, remember it"}],
        extra_headers={"x-standin-chunks": str(seed)}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: my address is jane.doe@example.com, remember it"
    assert json.loads(posts(upstream)[-1]["body"])["messages"][0]["content"] == \
        "my address is [EMAIL_1], remember it"
