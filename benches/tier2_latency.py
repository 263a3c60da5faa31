#!/usr/bin/env python3
"""Tier-2 latency: the shipped tiny models inside a real Envoy versus natively.

For prompts of 128, 512 and 2,048 featurizer tokens (ordinary text from
core/benches/data/prompt_sample.txt), a policy with only the two model guards (injection and
toxicity, both `block`) scores REQUESTS requests per size:

- in Envoy: one Envoy (envoy/parapet.yaml with that policy) per size; the filter's own
  `parapet.scan_us` histogram (time inside `evaluate_request`, both models, all windows) after
  Envoy's stats flush; P50 and P99;
- natively: the same requests through `parapet scan` (one process, release build), wall time per
  row (includes JSON parsing and output, so an upper bound on the engine's time).

The ratio wasm/native is P50 in Envoy over native per-row time. Results: benches/results/tier2.json.

Usage: benches/tier2_latency.py [--requests 200]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import PARAPET, Envoy, Standin, chat  # noqa: E402

POLICY = {"version": 1, "guards": [
    {"id": "inj", "detector": {"type": "model", "model": "injection"}, "action": "block"},
    {"id": "tox", "detector": {"type": "model", "model": "toxicity"}, "action": "block"},
]}
WORDS = (ROOT / "core" / "benches" / "data" / "prompt_sample.txt").read_text().split()


def text_of(tokens):
    # Plain words of letters separate into one featurizer token each; keep only those.
    words = [w for w in WORDS if w.isascii() and w.isalpha() and len(w) <= 24]
    return " ".join(words[i % len(words)] for i in range(tokens))


def histogram(envoy):
    line = envoy.stats("wasmcustom.parapet.scan_us").get("wasmcustom.parapet.scan_us", "")
    q = {}
    for part in str(line).split():
        if part.startswith("P") and "(" in part:
            name, _, rest = part.partition("(")
            q[name] = float(rest.rstrip(")").split(",")[1])  # cumulative
    return q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "tier2.json"))
    args = ap.parse_args()
    upstream = Standin()
    results = {"command": " ".join(["benches/tier2_latency.py"] + sys.argv[1:]), "sizes": {}}
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(POLICY, f)
            policy_path = f.name
        for tokens in (128, 512, 2048):
            body = chat(text_of(tokens))
            envoy = Envoy(upstream.port, policy=POLICY)
            try:
                for _ in range(args.requests):
                    status, _, resp = envoy.post(body)
                    assert status == 200, resp
                time.sleep(6)  # Envoy publishes histograms at its stats flush (5 s)
                q = histogram(envoy)
            finally:
                envoy.stop()
            rows = "\n".join(json.dumps({"request": json.loads(body)}) for _ in range(args.requests)) + "\n"
            t = time.perf_counter()
            subprocess.run([str(PARAPET), "scan", "--config", policy_path], input=rows.encode(),
                           capture_output=True, check=True)
            native_ms = (time.perf_counter() - t) * 1000 / args.requests
            results["sizes"][tokens] = {
                "envoy_scan_us_p50": q.get("P50"), "envoy_scan_us_p99": q.get("P99"),
                "native_ms_per_row": native_ms,
                "wasm_over_native_p50": (q.get("P50") or 0) / 1000 / native_ms if native_ms else None,
            }
            print(tokens, results["sizes"][tokens], flush=True)
    finally:
        upstream.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
