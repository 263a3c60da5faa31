"""The heavy tier as a fleet: three parapet-ext-proc instances behind Envoy's health-checked,
load-balanced clusters (envoy/cascade.yaml `parapet_heavy`, envoy/ext_proc.yaml
`parapet_ext_proc`), under steady mixed load in both deployments:

- `kill -9` of one instance: traffic goes on on the others; requests caught in the switch-over
  are counted and follow the configured failure mode (cascade: the injection guard's
  `on_failure: open`; ext_proc: `failure_mode_allow: false`, a 5xx); none hangs;
- a rolling restart (SIGTERM: lame duck, drain; start; one at a time) with zero failed requests.

Figures (errors, p99 before/during/after the fault, time to recover) are written to
target/e2e-artifacts/fleet-<mode>.json and printed; benches/RESULTS.md records a run.
"""
import http.client as httpclient
import json
import statistics
import threading
import time

import pytest

import yaml

from harness import ROOT, UNCERTAIN_ATTACK, UNCERTAIN_BENIGN, Envoy, ExtProc, chat, http, wait_for

ARTIFACTS = ROOT / "target" / "e2e-artifacts"

# Tier 2 is unsure of the UNCERTAIN_* texts, so each is a Classify call (cascade) or an
# in-process heavy-tier call (ext_proc).
STREAM_REPLY = " ".join(f"word{i}" for i in range(40))

KINDS = {
    "escalated_attack": dict(body=chat(UNCERTAIN_ATTACK)),
    "escalated_benign": dict(body=chat(UNCERTAIN_BENIGN)),
    "blocked": dict(body=chat("push with token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 please")),
    "masked": dict(body=chat("write to jane.doe@example.com about the invoice")),
    "allowed": dict(body=chat("What is the capital of France?")),
    "streamed": dict(body=json.dumps({"model": "m", "stream": True,
                                      "messages": [{"role": "user", "content": "count"}]}).encode(),
                     headers={"x-standin-reply": STREAM_REPLY, "x-standin-id": "chatcmpl-fleet"}),
}
TIMEOUT = 15.0  # a request past this is a hang


def send(port, kind):
    spec = KINDS[kind]
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    headers = {"content-type": "application/json", **spec.get("headers", {})}
    try:
        conn.request("POST", "/v1/chat/completions", body=spec["body"], headers=headers)
        r = conn.getresponse()
        body = r.read()
        if kind == "streamed":
            # The whole answer or nothing: the text arrives complete and the stream ends.
            complete = b"word39" in body and b"data: [DONE]" in body
            return r.status, r.getheader("x-parapet-decision"), "complete" if complete else "cut"
        return r.status, r.getheader("x-parapet-decision"), None
    except (OSError, httpclient.HTTPException) as e:
        return None, None, type(e).__name__
    finally:
        conn.close()


class Load:
    """Steady mixed load from `threads` clients, each cycling through KINDS."""

    def __init__(self, port, threads=3):
        self.port, self.results, self.stop_at = port, [], None
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self, i):
        kinds = list(KINDS)
        n = i
        while self.running:
            kind = kinds[n % len(kinds)]
            n += 1
            t0 = time.monotonic()
            out = send(self.port, kind)
            with self.lock:
                self.results.append((t0, time.monotonic() - t0, kind, out))

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(timeout=TIMEOUT + 5)
        assert not any(t.is_alive() for t in self.threads), "a client hung"
        return sorted(self.results)


def envoy_hosts(envoy, cluster):
    """{address: health flags} of a cluster, from Envoy's admin /clusters."""
    _, _, body = http("GET", f"http://127.0.0.1:{envoy.admin_port}/clusters")
    out = {}
    for line in body.decode().splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == cluster and parts[2] == "health_flags":
            out[parts[1]] = parts[3]
    return out


def wait_all_healthy(envoy, cluster, n=3, timeout=30):
    wait_for(lambda: sum(f == "healthy" for f in envoy_hosts(envoy, cluster).values()) == n,
             timeout=timeout, what=f"{n} healthy hosts in {cluster}")


def p99(xs):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(0.99 * len(xs)))] * 1000, 1) if xs else None


class Fleet:
    def __init__(self):
        self.procs = [ExtProc(lame_duck=None) for _ in range(3)]

    @property
    def ports(self):
        return [p.port for p in self.procs]

    def stop(self):
        for p in self.procs:
            p.stop()


@pytest.fixture(scope="module")
def fleet():
    f = Fleet()
    yield f
    f.stop()


CLUSTER = {"cascade": "parapet_heavy", "ext_proc": "parapet_ext_proc"}


@pytest.fixture(scope="module", params=["cascade", "ext_proc"])
def stack(request, standin, fleet):
    mode = request.param
    e = Envoy(standin.port, config_name=f"{mode}.yaml", heavy_port=fleet.ports)
    try:
        wait_all_healthy(e, CLUSTER[mode])
        # What each kind gets with every instance up: the outcome the load must keep getting.
        expected = {k: send(e.port, k) for k in KINDS}
        assert expected["escalated_attack"][:2] == (400, "block"), expected
        assert expected["escalated_benign"][:2] == (200, "allow"), expected
        assert expected["blocked"][:2] == (400, "block"), expected
        assert expected["masked"][:2] == (200, "mask"), expected
        assert expected["allowed"][:2] == (200, "allow"), expected
        assert expected["streamed"] == (200, "allow", "complete"), expected
        yield mode, e, expected
    finally:
        e.stop()


def failure_mode(mode, kind, out):
    """The configured failure mode's outcome for a request whose heavy-tier call failed."""
    status, decision, _ = out
    if mode == "cascade":
        # injection-model: on_failure open — the uncertain text passes, counted.
        return kind == "escalated_attack" and (status, decision) == (200, "allow")
    # ext_proc: failure_mode_allow false — Envoy answers 5xx (or resets a started stream).
    return status is None or status >= 500


def classify(mode, results, expected):
    ok, failed_mode, unexpected = [], [], []
    for r in results:
        _, took, kind, out = r
        if took >= TIMEOUT:
            unexpected.append(r)
        elif out == expected[kind]:
            ok.append(r)
        elif failure_mode(mode, kind, out):
            failed_mode.append(r)
        else:
            unexpected.append(r)
    return ok, failed_mode, unexpected


def served(proc):
    m = proc.metrics()
    return sum(v for k, v in m.items() if k.startswith(("parapet_ext_proc_decisions_total",
                                                         "parapet_heavy_tasks_total")))


def cluster_stats(envoy, cluster):
    names = ("upstream_rq_retry", "upstream_rq_retry_success", "upstream_cx_connect_fail",
             "health_check.failure", "outlier_detection.ejections_enforced_total", "upstream_rq_pending_overflow")
    stats = envoy.stats(f"cluster.{cluster}.")
    return {n: stats.get(f"cluster.{cluster}.{n}") for n in names}


def record(name, figures):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=1))
    print(f"\n{name}: {json.dumps(figures)}")


def test_kill_one_instance_traffic_continues(stack, fleet):
    mode, e, expected = stack
    victim = fleet.procs[0]
    load = Load(e.port)
    time.sleep(4)
    before = {i: served(p) for i, p in enumerate(fleet.procs) if i}
    killed_at = time.monotonic()
    victim.kill()
    time.sleep(8)
    results = load.stop()
    after = {i: served(p) for i, p in enumerate(fleet.procs) if i}
    try:
        ok, failed_mode, unexpected = classify(mode, results, expected)
        assert not unexpected, f"{len(unexpected)} unexpected outcomes, e.g. {unexpected[:5]}"
        # Traffic went on, on the other instances.
        assert sum(after.values()) > sum(before.values()), (before, after)
        late = [r for r in results if r[0] > killed_at + 4]
        assert late and all(r[3] == expected[r[2]] for r in late), "not recovered 4 s after the kill"
        bad_times = [r[0] + r[1] for r in failed_mode]  # when each failed request ended
        figures = {
            "mode": mode, "requests": len(results),
            "failed_following_failure_mode": len(failed_mode), "unexpected": len(unexpected),
            "p99_ms_before": p99([r[1] for r in results if r[0] < killed_at]),
            "p99_ms_during": p99([r[1] for r in results if killed_at <= r[0] < killed_at + 3]),
            "p99_ms_after": p99([r[1] for r in results if r[0] >= killed_at + 3]),
            "time_to_recover_s": round(max(0.0, max(bad_times) - killed_at), 2) if bad_times else 0.0,
            "max_latency_ms": round(max(r[1] for r in results) * 1000, 1),
            "envoy": cluster_stats(e, CLUSTER[mode]),
        }
        record(f"fleet-{mode}-kill", figures)
    finally:
        victim.start()  # back for the next test
        wait_all_healthy(e, CLUSTER[mode])


def test_rolling_restart_zero_failed_requests(stack, fleet):
    mode, e, expected = stack
    load = Load(e.port)
    time.sleep(2)
    started = time.monotonic()
    for proc in fleet.procs:
        # SIGTERM: lame duck (readiness NOT_SERVING while serving), then drain and exit.
        proc.proc.terminate()
        proc.proc.wait(timeout=30)
        proc.log.close()
        proc.start()
        wait_all_healthy(e, CLUSTER[mode])
    took = time.monotonic() - started
    time.sleep(1)
    results = load.stop()
    ok, failed_mode, unexpected = classify(mode, results, expected)
    figures = {
        "mode": mode, "requests": len(results), "failed": len(failed_mode) + len(unexpected),
        "restart_s": round(took, 1), "p99_ms": p99([r[1] for r in results]),
        "median_ms": round(statistics.median(r[1] for r in results) * 1000, 1),
    }
    record(f"fleet-{mode}-rolling-restart", figures)
    assert not failed_mode and not unexpected, (failed_mode + unexpected)[:5]
    # Every instance's log shows the lame duck, then the drain.
    for proc in fleet.procs:
        assert "lame duck" in proc.logs()


def test_readiness_reports_shutdown_before_the_port_closes(fleet):
    """SIGTERM: /readyz and grpc.health say NOT_SERVING at once while calls are still served."""
    x = ExtProc(lame_duck=2)
    try:
        assert x.readyz() == 200
        x.proc.terminate()
        wait_for(lambda: x.readyz() == 503, timeout=2, what="readiness 503")
        # Still answering during the lame duck.
        assert x.classify("injection", "hello there")["score"] >= 0
        assert http("GET", x.url("/healthz"))[0] == 200
        x.proc.wait(timeout=15)
        assert x.proc.returncode == 0
    finally:
        x.stop()


def test_retries_to_an_unknown_cluster_follow_the_failure_mode(make_envoy, upstream):
    """The Classify target with a retry policy is parsed by Envoy at call time: a cluster that
    does not exist must not crash Envoy; the guard's failure mode applies."""
    policy = yaml.safe_load((ROOT / "envoy" / "policies" / "cascade.yaml").read_text())
    policy["escalation"] = {"cluster": "no_such_cluster", "timeout_ms": 500, "retries": 2}
    e = make_envoy(policy=json.dumps(policy), config_name="cascade.yaml")
    status, decision, _ = send(e.port, "escalated_attack")
    assert (status, decision) == (200, "allow")  # injection-model: on_failure open
    assert e.proc.poll() is None
    assert e.stats("wasmcustom.parapet.escalation")["wasmcustom.parapet.escalation.failed_open"] == 1


def test_readiness_turns_not_serving_when_saturated():
    """At 90% of max_inflight, readiness says NOT_SERVING (load balancers send elsewhere) while
    liveness stays SERVING; back to ready once the calls finish."""
    x = ExtProc(overrides={"max_inflight": 2})
    try:
        long_text = " ".join([UNCERTAIN_BENIGN] * 3000)  # over a second of encoder time on CPU
        threads = [threading.Thread(target=lambda: x.classify("injection", long_text, timeout=120))
                   for _ in range(2)]
        for t in threads:
            t.start()
        wait_for(lambda: x.readyz() == 503, timeout=10, what="readiness 503 while saturated")
        assert http("GET", x.url("/readyz"))[2] == b"saturated\n"
        assert http("GET", x.url("/healthz"))[0] == 200
        metrics = x.metrics()
        assert metrics["parapet_ext_proc_ready"] == 0
        for t in threads:
            t.join(timeout=120)
        wait_for(lambda: x.readyz() == 200, timeout=10, what="ready again")
        assert "saturated: readiness NOT_SERVING" in x.logs() and "ready again" in x.logs()
    finally:
        x.stop()
