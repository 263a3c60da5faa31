#!/usr/bin/env python3
"""Where a request's CPU time goes in the proxy Envoy: plain listener versus guarded, same run.

Runs benches/load.py's set-up (envoy/bench.yaml on CPU 0, the upstream and wrk on CPU 1), loads
each listener with wrk and samples the proxy with `perf record -g` meanwhile. The proxy's core
is saturated in both runs, so a share of its samples divided by the requests per second is CPU
time per request. Each sample is put in one place by its stack:

- `wasm`: the filter's own code, compiled by V8 (perf shows it as JIT code);
- `host calls`: Envoy, libc or kernel code called from the filter's code (proxy-wasm host
  functions: headers, bodies, properties, metrics, the clock);
- `envoy`, `kernel`, `libc`: everything else the process runs (HTTP codecs, the filter
  manager, V8's entry into the VM, sockets).

Usage: benches/load_profile.py [--size 2048] [--seconds 6] [--module parapet|noop|noop-body]
       [--policy FILE] [--out benches/results/load_profile.json]
Needs what load.py needs, and `perf` (Debian package `linux-perf`) with
kernel.perf_event_paranoid <= 2 for a process of the same user. The Envoy binary is stripped,
so Envoy's own time is not broken down by function here.
"""
import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (benches/load.py: set-up, wrk, the configs)


def place(dso):
    # V8's code has no file: perf names it `[JIT] tid N`, `/tmp/perf-N.map` or `[unknown]`.
    if "JIT" in dso or "/perf-" in dso or dso.startswith("//anon") or dso == "[unknown]":
        return "wasm"
    if "kernel" in dso:
        return "kernel"
    if "envoy" in dso:
        return "envoy"
    if "libc" in dso:
        return "libc"
    return "other"


def stacks(perf_data):
    """Each sample's stack as a list of dso names, leaf first."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "ip,dso"], capture_output=True,
                         text=True, check=True).stdout
    stack = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            if stack:
                yield stack
            stack = []
            continue
        stack.append(line[line.rfind("(") + 1:-1] if line.endswith(")") else "[unknown]")
    if stack:
        yield stack


def profile(pid, port, body_file, seconds, tmp, name):
    load.wrk(port, body_file, 32, 2)  # warm-up
    data = str(Path(tmp) / f"{name}.perf")
    rec = subprocess.Popen(["perf", "record", "-F", "2999", "-g", "-p", str(pid), "-o", data, "--",
                            "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = load.wrk(port, body_file, 32, seconds + 1)
    rec.wait()
    counts = collections.Counter()
    n = 0
    for s in stacks(data):
        n += 1
        kinds = [place(d) for d in s]
        if kinds[0] != "wasm" and "wasm" in kinds:
            counts["host calls"] += 1
        else:
            counts[kinds[0]] += 1
    rps = run["rps"]
    return {"rps": rps, "samples": n,
            "us_per_request": {k: round(v / n / rps * 1e6, 1) for k, v in counts.most_common()},
            "total_us_per_request": round(1e6 / rps, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--module", choices=["parapet", "noop", "noop-body"], default="parapet")
    ap.add_argument("--policy")
    ap.add_argument("--out", default=str(load.ROOT / "benches" / "results" / "load_profile.json"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="parapet-load-profile-")
    log = open(Path(tmp) / "envoy.log", "w")
    custom = args.policy or args.module != "parapet"
    bench = str(load.with_policy(args.policy, tmp, args.module)) if custom else "bench.yaml"
    upstream = load.start("bench-upstream.yaml", 1, log)
    proxy = load.start(bench, 0, log)
    result = {"command": "benches/load_profile.py " + " ".join(sys.argv[1:]), "size": args.size,
              "module": args.module, "policy": args.policy or "default"}
    try:
        load.wait_ready(load.UPSTREAM_ADMIN)
        load.wait_ready(load.ADMIN)
        body_file = str(Path(tmp) / "body.json")
        Path(body_file).write_bytes(load.chat_body(args.size))
        for name, port in (("plain", load.PLAIN), ("guarded", load.GUARDED)):
            result[name] = profile(proxy.pid, port, body_file, args.seconds, tmp, name)
            print(name, json.dumps(result[name]), flush=True)
        if load.upstream_reuse() < 10:
            raise RuntimeError("upstream connections not reused")
    finally:
        proxy.terminate(); upstream.terminate()
        proxy.wait(); upstream.wait()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
