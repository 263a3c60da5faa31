#!/usr/bin/env python3
"""Tier-3 speed: Classify latency and throughput over gRPC, and the latency an escalation adds
to a request through Envoy.

    cargo build --profile service -p parapet-ext-proc --example classify_load
    .venv/bin/python benches/tier3_latency.py [--device cpu|cuda] [--quick]

1. Classify (examples/classify_load.rs against a fresh parapet-ext-proc): p50/p90/p99 at 512
   and 8,192 tokens one request at a time, and throughput at 512 tokens under concurrency 1, 8,
   32 (dynamic batching gathers windows of concurrent requests).
2. Through Envoy, in the same run: plain filter (envoy/parapet.yaml, default policy) versus the
   cascade (envoy/cascade.yaml + ext-proc) on a benign request that tier 2 settles and on an
   uncertain one that is escalated; medians over interleaved rounds, and the differences.

Writes benches/results/tier3_latency[-DEVICE].json. `--device cuda` needs a `--features cuda`
build and the `onnxruntime-gpu` wheel's library as heavy.ort_dylib (PARAPET_ORT_DYLIB).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import Envoy, ExtProc, Standin, chat  # noqa: E402

LOAD = ROOT / "target" / "service" / "examples" / "classify_load"
# Tier 2 is unsure of it (escalated); the heavy tier clears it, so both deployments forward it.
UNCERTAIN = "Can you explain how system prompts and instructions work in chat assistants?"
BENIGN = "What is the capital of France, and what is it famous for?"


def load(port, tokens, concurrency, requests):
    out = subprocess.run([str(LOAD), "--addr", f"http://127.0.0.1:{port}", "--tokens", str(tokens),
                          "--concurrency", str(concurrency), "--requests", str(requests)],
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(envoy, body):
    t = time.perf_counter()
    status, headers, _ = envoy.post(body)
    return (time.perf_counter() - t) * 1e3, status, headers.get("x-parapet-decision")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    args = ap.parse_args()
    n = 8 if args.quick else 1
    overrides = {}
    if args.device != "cpu" or os.environ.get("PARAPET_ORT_DYLIB"):
        cfg = {"device": args.device}
        if os.environ.get("PARAPET_ORT_DYLIB"):
            cfg["ort_dylib"] = os.environ["PARAPET_ORT_DYLIB"]
        import yaml
        heavy = yaml.safe_load((ROOT / "ext-proc" / "parapet-ext-proc.yaml").read_text())["heavy"]
        heavy.update(cfg)
        overrides["heavy"] = heavy
    results = {"device": args.device, "cpu_count": os.cpu_count(), "runs": []}
    x = ExtProc(overrides=overrides)
    try:
        for tokens, conc, reqs in [(512, 1, 40), (8192, 1, 10), (512, 8, 160), (512, 32, 320)]:
            r = load(x.port, tokens, conc, max(4, reqs // n))
            print(json.dumps(r), flush=True)
            results["runs"].append(r)
        m = x.metrics()
        results["batching"] = {k: m[k] for k in m if k.startswith("parapet_heavy_") and "total" in k and "{" not in k}

        standin = Standin()
        plain = Envoy(standin.port, config_name="parapet.yaml")
        cascade = Envoy(standin.port, config_name="cascade.yaml", heavy_port=x.port)
        try:
            rounds = 10 if args.quick else 60
            samples = {k: [] for k in ("plain_benign", "cascade_benign", "plain_uncertain", "cascade_uncertain")}
            for _ in range(3):  # warm up
                for e in (plain, cascade):
                    timed(e, chat(BENIGN)), timed(e, chat(UNCERTAIN))
            for _ in range(rounds):
                for name, e in (("plain", plain), ("cascade", cascade)):
                    ms, status, _ = timed(e, chat(BENIGN))
                    assert status == 200
                    samples[f"{name}_benign"].append(ms)
                    ms, status, _ = timed(e, chat(UNCERTAIN))
                    assert status == 200
                    samples[f"{name}_uncertain"].append(ms)
            med = {k: statistics.median(v) for k, v in samples.items()}
            e2e = {
                "rounds": rounds,
                "median_ms": med,
                "added_ms_benign_not_escalated": med["cascade_benign"] - med["plain_benign"],
                "added_ms_escalated": med["cascade_uncertain"] - med["plain_uncertain"],
                "escalations": cascade.stats("wasmcustom.parapet.escalation"),
            }
            print(json.dumps(e2e), flush=True)
            results["envoy"] = e2e
        finally:
            plain.stop()
            cascade.stop()
            standin.stop()
    finally:
        x.stop()
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    out = ROOT / "benches" / "results" / f"tier3_latency{suffix}.json"
    if not args.quick:
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
