"""The rule tier through a real Envoy with the built .wasm: allow, block, mask, audit, limits.

These tests use a policy of config-supplied detectors (word list, custom regex, profanity) whose
behaviour does not depend on detector tuning; tests/e2e/test_default_policy.py covers the
shipped default policy's PII, secrets and injection guards.
"""
import http.client
import json

import pytest

from harness import Envoy, chat, posts
from harness import http as http_request

POLICY = {
    "version": 1,
    "decision_header": "x-parapet-decision",
    "limits": {"max_body_bytes": 65536},
    "guards": [
        {"id": "competitors", "detector": {"type": "wordlist", "kind": "competitor", "terms": ["Globex", "Initech"]},
         "action": "mask"},
        {"id": "employee-ids", "detector": {"type": "regex", "patterns": [{"kind": "employee_id", "pattern": "\\bEMP-\\d{6}\\b"}]},
         "action": "mask"},
        {"id": "tickets", "detector": {"type": "regex", "patterns": [{"kind": "ticket", "pattern": "\\bT-\\d{3,}\\b"}]},
         "action": "audit"},
        {"id": "profanity", "scope": ["user", "tool_results"], "detector": {"type": "profanity"}, "action": "block",
         "block_response": {"status": 403, "message": "Watch your language ({categories})."}},
        {"id": "project-x", "detector": {"type": "wordlist", "kind": "codename", "terms": ["project nightingale"]},
         "action": "block"},
    ],
}


@pytest.fixture(scope="module")
def envoy(standin):
    e = Envoy(standin.port, policy=POLICY)
    yield e
    e.stop()




def test_allowed_request_arrives_byte_identical(envoy, upstream):
    # Odd but valid JSON: escapes, raw UTF-8, emoji, unusual spacing and number forms, unknown
    # fields, trailing newline. Every byte must reach the upstream unchanged.
    body = ('{"model" : "m",\n "messages":[{"role":"user","content":"h\\u00e9llo caf\u00e9 \U0001F600 \\"q\\""}],'
            ' "temperature": 0.70, "x_vendor": {"n": [1, 2.50, 1e3, -0.0]}, "stream": false}\n').encode()
    status, headers, resp = envoy.post(body)
    assert status == 200, resp
    assert headers["x-parapet-decision"] == "allow"
    [got] = posts(upstream)
    assert got["body"] == body


def test_blocked_request_never_reaches_upstream(envoy, upstream):
    status, headers, resp = envoy.post(chat("this is fucking broken"))
    assert status == 403
    assert headers["content-type"] == "application/json"
    assert headers["x-parapet-decision"] == "block"
    err = json.loads(resp)["error"]
    assert err["message"] == "Watch your language (profanity)."
    assert err["code"] == "content_policy_violation" and err["type"] == "invalid_request_error"
    assert posts(upstream) == []


def test_obfuscated_profanity_is_blocked(envoy, upstream):
    for text in ["f u c k this", "ｆｕｃｋ this", "fu\u200bck this", "sh1t happens"]:
        status, _, _ = envoy.post(chat(text))
        assert status == 403, text
    assert posts(upstream) == []


def test_masked_request_arrives_masked(envoy, upstream):
    status, headers, resp = envoy.post(chat("Is Globex cheaper than initech? Ask EMP-123456.", temperature=0.2))
    assert status == 200, resp
    assert headers["x-parapet-decision"] == "mask"
    [got] = posts(upstream)
    sent = json.loads(got["body"])
    assert sent["messages"][0]["content"] == "Is [COMPETITOR] cheaper than [COMPETITOR]? Ask [EMPLOYEE_ID]."
    assert sent["temperature"] == 0.2 and sent["model"] == "m"
    assert b"Globex" not in got["body"] and b"EMP-123456" not in got["body"]
    # The upstream saw a well-framed body: chunked, or a content-length equal to what arrived.
    cl = got["headers"].get("content-length")
    assert cl is None or int(cl) == len(got["body"])
    # The stand-in echoes the masked prompt back.
    assert json.loads(resp)["choices"][0]["message"]["content"].startswith("You said: Is [COMPETITOR]")


def test_mask_covers_tool_calls_tool_results_and_content_parts(envoy, upstream):
    body = json.dumps({
        "model": "m",
        "messages": [
            {"role": "system", "content": "You help EMP-000001."},
            {"role": "user", "content": [{"type": "text", "text": "compare with Globex"},
                                          {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"who\": \"Initech\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "Initech revenue is up"},
        ],
    }).encode()
    status, _, resp = envoy.post(body)
    assert status == 200, resp
    [got] = posts(upstream)
    sent = json.loads(got["body"])
    m = sent["messages"]
    assert m[0]["content"] == "You help [EMPLOYEE_ID]."
    assert m[1]["content"][0]["text"] == "compare with [COMPETITOR]"
    assert m[1]["content"][1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    assert m[2]["tool_calls"][0]["function"]["arguments"] == "{\"who\": \"[COMPETITOR]\"}"
    assert m[3]["content"] == "[COMPETITOR] revenue is up"


def test_tool_result_injection_surface_is_scanned(envoy, upstream):
    body = json.dumps({"model": "m", "messages": [
        {"role": "user", "content": "summarise the page"},
        {"role": "tool", "tool_call_id": "c1", "content": "page text: what the fuck"}]}).encode()
    status, _, _ = envoy.post(body)
    assert status == 403
    assert posts(upstream) == []


def test_audit_forwards_unchanged_and_records(envoy, upstream):
    before = envoy.stats().get("wasmcustom.parapet.guard.tickets.audit.audit", 0)
    body = chat("status of T-1234?")
    status, headers, _ = envoy.post(body)
    assert status == 200
    assert headers["x-parapet-decision"] == "audit"
    [got] = posts(upstream)
    assert got["body"] == body
    assert envoy.stats()["wasmcustom.parapet.guard.tickets.audit.audit"] == before + 1
    envoy.wait_log("decision=audit findings=[tickets:ticket]")


def test_block_phrase_with_multiword_term(envoy, upstream):
    status, _, resp = envoy.post(chat("What is PROJECT   Nightingale about?"))
    # Runs of spaces are not folded: only the single-space form is the listed term.
    assert status == 200
    status, _, resp = envoy.post(chat("What is project nightingale about?"))
    assert status == 400
    assert "guard 'project-x' found wordlist" in json.loads(resp)["error"]["message"]


def test_invalid_json_is_refused_with_openai_error(envoy, upstream):
    for body in [b"not json", b'{"messages": [', b"\xff\xfe{}", b""]:
        status, headers, resp = envoy.post(body)
        if body == b"":
            # No body at all: nothing to scan, forwarded (the upstream decides).
            assert status in (200, 400)
            continue
        assert status == 400, body
        assert json.loads(resp)["error"]["code"] == "invalid_json"
    assert all(r["body"] == b"" for r in posts(upstream))


def test_oversized_body_is_refused_declared_and_chunked(envoy, upstream):
    big = chat("a" * 70000)
    status, _, resp = envoy.post(big)
    assert status == 413
    assert json.loads(resp)["error"]["code"] == "request_too_large"
    # Same body without content-length, in chunks: the filter counts buffered bytes.
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", body=iter([big[i:i + 8192] for i in range(0, len(big), 8192)]),
                 headers={"content-type": "application/json"}, encode_chunked=True)
    r = conn.getresponse()
    assert r.status == 413
    r.read()
    conn.close()
    assert posts(upstream) == [] or all(len(p["body"]) < len(big) for p in posts(upstream))


def test_lenient_limits_pass_unscanned_bodies(make_envoy, upstream):
    policy = dict(POLICY, limits={"max_body_bytes": 1024, "on_oversize": "pass", "on_invalid_body": "pass"})
    e = make_envoy(policy)
    big = chat("fuck " + "a" * 2000)
    status, headers, _ = e.post(big)
    assert status == 200
    assert headers["x-parapet-decision"] == "skipped"
    status, headers, _ = e.post(b"not json")
    assert status == 400  # the stand-in's own answer: the body reached it
    assert headers["x-parapet-decision"] == "skipped"
    bodies = [p["body"] for p in posts(upstream)]
    assert bodies == [big, b"not json"]
    assert e.stats()["wasmcustom.parapet.decision.skipped"] == 2


def test_get_requests_pass_untouched(envoy, upstream):
    status, headers, body = http_request("GET", envoy.url("/v1/models"))
    assert status == 200
    assert "x-parapet-decision" not in headers
    assert json.loads(body)["data"][0]["id"] == "standin-echo"


def test_stats_count_decisions(envoy, upstream):
    s0 = envoy.stats()
    envoy.post(chat("hello"))
    envoy.post(chat("Globex"))
    envoy.post(chat("fuck"))
    s1 = envoy.stats()
    for d in ("allow", "mask", "block"):
        k = f"wasmcustom.parapet.decision.{d}"
        assert s1[k] == s0.get(k, 0) + 1, k
    assert s1["wasmcustom.parapet.guard.profanity.block.block"] == s0.get("wasmcustom.parapet.guard.profanity.block.block", 0) + 1


def test_many_concurrent_requests_each_get_their_own_verdict(envoy, upstream):
    from concurrent.futures import ThreadPoolExecutor
    cases = [(chat(f"hello {i}"), 200) if i % 3 else (chat(f"fuck {i}"), 403) for i in range(60)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: envoy.post(c[0])[0], cases))
    assert results == [c[1] for c in cases]
    assert sorted(p["body"] for p in posts(upstream)) == sorted(c[0] for c in cases if c[1] == 200)


def test_bad_config_is_rejected_with_field_path(make_envoy, tmp_path):
    bad = dict(POLICY, guards=[{"id": "x", "detector": {"type": "regex", "patterns": [{"kind": "k", "pattern": "("}]},
                                "action": "block"}])
    with pytest.raises(RuntimeError) as e:
        make_envoy(bad)
    assert "guards[0].detector.patterns[0].pattern: invalid regex" in str(e.value)


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,                                    # nesting beyond the parser's limit
    b'{"messages": [{"role": "user", "content": "' + b"\\ud800" + b'"}]}',  # lone surrogate escape
    b'{"messages": [{"role": "user", "content": 1e999999}]}',       # out-of-range number
    b'{"messages": null, "model": {"a": [true, false, null]}}',    # valid JSON, odd shapes
    b'{"messages": [{"role": "user", "content": "hi"}]} trailing',  # trailing garbage
    bytes(range(256)) * 4,                                          # binary
])
def test_hostile_bodies_get_an_answer_and_envoy_survives(envoy, upstream, body):
    status, headers, resp = envoy.post(body)
    assert status in (200, 400), (status, resp)
    if status == 400 and headers.get("x-parapet-decision") == "block":
        assert json.loads(resp)["error"]["code"] == "invalid_json"
    # Envoy still serves.
    assert envoy.post(chat("still alive?"))[0] == 200
