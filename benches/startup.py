#!/usr/bin/env python3
"""Envoy's time to ready with and without the filter, in the same run.

Every sidecar start and every WasmPlugin update pays V8's compile of the module on Envoy's main
thread. For each configuration, Envoy is started with --concurrency 2 and timed from spawn until
its admin /ready says LIVE; rounds alternate the configurations, medians are reported:

- plain: envoy/parapet.yaml with the filter removed (the same listener, route and cluster);
- rules-only module: the filter built with `--no-default-features` (no tier-2 models, no tract),
  the shipped default policy (rules);
- full module, default policy: the shipped .wasm (tier 2 inside), the same rules-only policy;
- full module, cascade policy: envoy/policies/cascade.yaml (tier-2 models loaded at config time).

Usage: benches/startup.py [--rounds 5] [--out benches/results/startup.json]
Builds the rules-only module into target/rules-only/ (cargo) on first use.
"""
import argparse
import copy
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from harness import wasm_sections  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENVOY = str(ROOT / ".venv" / "bin" / "envoy")
FULL = ROOT / "target" / "wasm32-wasip1" / "release" / "parapet_filter.wasm"
RULES = ROOT / "target" / "rules-only" / "wasm32-wasip1" / "release" / "parapet_filter.wasm"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(module, policy):
    cfg = yaml.safe_load((ROOT / "envoy" / "parapet.yaml").read_text())
    cfg["admin"]["address"]["socket_address"]["port_value"] = free_port()
    cfg["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = free_port()
    chain = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    if module is None:
        chain["http_filters"] = [f for f in chain["http_filters"] if f["name"] != "parapet"]
    else:
        for f in chain["http_filters"]:
            if f["name"] == "parapet":
                c = f["typed_config"]["config"]
                c["vm_config"]["code"]["local"]["filename"] = str(module)
                if policy is not None:
                    c["configuration"]["value"] = json.dumps(policy)
    return cfg


def code_section(path):
    """Bytes of the module's code section: what V8 compiles before Envoy is ready."""
    return sum(end - start for section, start, end in wasm_sections(path) if section == 10)


def time_to_ready(cfg):
    admin = cfg["admin"]["address"]["socket_address"]["port_value"]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "envoy.yaml"
        path.write_text(yaml.safe_dump(cfg))
        t0 = time.monotonic()
        p = subprocess.Popen([ENVOY, "-c", str(path), "--concurrency", "2", "--disable-hot-restart", "-l", "error",
                              "--base-id", str(free_port())], cwd=str(ROOT),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.monotonic() - t0 < 120:
                if p.poll() is not None:
                    raise RuntimeError("envoy exited")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1) as r:
                        if r.read().strip() == b"LIVE":
                            return time.monotonic() - t0
                except OSError:
                    pass
                time.sleep(0.01)
            raise RuntimeError("not ready in 120 s")
        finally:
            p.terminate()
            p.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "startup.json"))
    a = ap.parse_args()
    # Always through cargo (a no-op when up to date): a stale rules-only module would be timed
    # otherwise.
    subprocess.run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip1", "-p", "parapet-filter",
                    "--no-default-features", "--target-dir", str(ROOT / "target" / "rules-only")],
                   cwd=str(ROOT), check=True)
    cascade = yaml.safe_load((ROOT / "envoy" / "policies" / "cascade.yaml").read_text())
    configs = {
        "plain Envoy": config(None, None),
        "rules-only module, default policy": config(RULES, None),
        "full module, default policy": config(FULL, None),
        "full module, cascade policy (tier 2)": config(FULL, cascade),
    }
    times = {k: [] for k in configs}
    for _ in range(a.rounds):  # alternating
        for name, cfg in configs.items():
            times[name].append(time_to_ready(copy.deepcopy(cfg)))
    plain = statistics.median(times["plain Envoy"])
    report = {"command": "benches/startup.py " + " ".join(sys.argv[1:]), "rounds": a.rounds,
              "modules": {"rules-only": RULES.stat().st_size, "full": FULL.stat().st_size},
              "code_section": {"rules-only": code_section(RULES), "full": code_section(FULL)}, "results": {}}
    for name, ts in times.items():
        m = statistics.median(ts)
        report["results"][name] = {"median_s": round(m, 3), "min_s": round(min(ts), 3), "max_s": round(max(ts), 3),
                                   "times_plain": round(m / plain, 2)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
