"""Traces: Envoy's OpenTelemetry tracer (shipped in envoy/cascade.yaml and envoy/ext_proc.yaml)
tags the request span with Parapet's decision, and parapet-ext-proc (with `otlp:`) exports its
own spans — the ext_proc exchange and its phases, the escalation, each Classify call and heavy
inference — into the same trace. Both export to a local OTLP receiver here."""
import json
import time

import pytest

from harness import UNCERTAIN_ATTACK, Envoy, ExtProc, chat
from otlp_receiver import OtlpReceiver

# A client-side trace per deployment: Envoy continues it, and every span below belongs to it.
TRACES = {"ext_proc.yaml": "4bf92f3577b34da6a3ce929d0e0e4736", "cascade.yaml": "5cf92f3577b34da6a3ce929d0e0e4737"}


@pytest.fixture(scope="module")
def otlp():
    r = OtlpReceiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def ext(otlp):
    e = ExtProc(overrides={"otlp": {"endpoint": f"http://127.0.0.1:{otlp.port}", "timeout_ms": 1000}})
    yield e
    e.stop()


def spans_of(otlp, trace_id, want, timeout=20):
    """Spans of `trace_id` once every (service, name) in `want` has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = [s for s in otlp.all() if s["trace_id"] == trace_id]
        have = {(s["service"], s["name"]) for s in spans}
        if all(w in have for w in want):
            return spans
        time.sleep(0.2)
    raise AssertionError(f"missing {set(want) - have} in trace {trace_id}: {sorted(have)}")


def envoy_request_span(spans):
    [s] = [s for s in spans if s["service"] == "parapet-envoy" and "parapet.decision" in s["attributes"]
           and s["attributes"]["parapet.decision"]]
    return s


@pytest.mark.parametrize("config", ["ext_proc.yaml", "cascade.yaml"])
def test_decision_tags_and_heavy_tier_spans_in_one_trace(config, standin, ext, otlp):
    envoy = Envoy(standin.port, config_name=config, heavy_port=ext.port, otel_port=otlp.port)
    try:
        trace_id = TRACES[config]
        headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        status, _, _ = envoy.post(chat(UNCERTAIN_ATTACK), headers=headers)
        assert status == 400
        want = [("parapet-ext-proc", "heavy.inference")]
        want.append(("parapet-ext-proc", "ext_proc") if config == "ext_proc.yaml" else ("parapet-ext-proc", "classify"))
        spans = spans_of(otlp, trace_id, want)
        # Envoy's request span carries the decision.
        span = None
        deadline = time.monotonic() + 15
        while span is None and time.monotonic() < deadline:
            try:
                span = envoy_request_span([s for s in otlp.all() if s["trace_id"] == trace_id])
            except ValueError:
                time.sleep(0.2)
        assert span is not None, [s["name"] for s in otlp.all() if s["trace_id"] == trace_id]
        a = span["attributes"]
        # Lists: comma-joined from the filter's filter state, JSON from ext_proc's metadata.
        guards = a["parapet.guards"]
        guards = json.loads(guards) if guards.startswith("[") else guards.split(",")
        assert (a["parapet.decision"], a["parapet.tier"], guards) == ("block", "3", ["injection-model"])
        assert a["parapet.policy"] == "default" and int(a["parapet.escalation_us"]) > 0
        # ext-proc's spans nest: the heavy inference under the escalation or Classify call.
        spans = [s for s in otlp.all() if s["trace_id"] == trace_id]
        by_id = {s["span_id"]: s for s in spans}
        inference = [s for s in spans if s["name"] == "heavy.inference"]
        assert inference and all(s["parent_span_id"] in by_id or s["parent_span_id"] for s in inference)
        if config == "ext_proc.yaml":
            [ex] = [s for s in spans if s["name"] == "ext_proc"]
            assert ex["attributes"]["parapet.decision"] == "block"
            names = {s["name"] for s in spans if s["service"] == "parapet-ext-proc"}
            assert {"ext_proc.phase", "escalation", "heavy.inference"} <= names, names
    finally:
        envoy.stop()
