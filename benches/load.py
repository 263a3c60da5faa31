#!/usr/bin/env python3
"""Load benchmark: plain Envoy versus Envoy with Parapet (default policy), in the same run.

One Envoy process (envoy/bench.yaml, --concurrency 1, pinned to CPU 0) serves a plain listener and
a guarded one, both proxying to a direct_response Envoy (envoy/bench-upstream.yaml) that shares
CPU 1 with the load generator (wrk). The upstream reads each request whole before it answers, so
the proxy keeps its upstream connections (checked: `upstream_requests_per_connection`). For each
body size the two listeners are measured in alternating rounds and the medians are reported:

- throughput: wrk with CONNS connections for DURATION seconds (saturating), requests/s;
- latency: wrk with 1 connection (no queueing), p50 and p99; "added" is guarded minus plain;
- in-filter engine time: the filter's own `parapet.scan_us` histogram (P50, P99) for the
  guarded rounds, and the engine throughput it implies (body bytes / P50) — the wasm tier's
  scan speed measured inside Envoy's V8.

Usage: benches/load.py [--rounds 3] [--duration 8] [--sizes 2048,65536] [--out benches/results/load.json]
Needs: scripts/setup.sh (builds the .wasm, installs Envoy), wrk (Debian package `wrk`).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENVOY = str(ROOT / ".venv" / "bin" / "envoy")
PLAIN, GUARDED, ADMIN, UPSTREAM_ADMIN = 19000, 19001, 19002, 19101

SAMPLE = (ROOT / "core" / "benches" / "data" / "prompt_sample.txt").read_text()


def chat_body(size: int) -> bytes:
    """A chat request of exactly `size` bytes of ordinary text (the default policy allows it)."""
    head = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}]}
    overhead = len(json.dumps(head).encode())
    text = ""
    while len(json.dumps(text).encode()) < size - overhead:
        text += SAMPLE + "\n"
    body = json.dumps(head).encode()
    while True:
        head["messages"][0]["content"] = text
        body = json.dumps(head).encode()
        if len(body) <= size:
            return body
        text = text[: -max(1, (len(body) - size))]


def wait_ready(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as r:
                if r.read().strip() == b"LIVE":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"envoy admin {port} not ready")


NOOP = ROOT / "benches" / "noop-filter"


def with_policy(policy_file, tmp, module="parapet"):
    """envoy/bench.yaml with the guarded listener's policy replaced by `policy_file` (YAML or
    JSON, e.g. envoy/policies/cascade.yaml: tier 2 on), or with the filter replaced by the
    pass-through module of benches/noop-filter (`noop`; `noop-body` also reads the request body
    into the VM; `noop-stream` reads each response body chunk into the VM and writes it back);
    returns the new config's path."""
    text = (ROOT / "envoy" / "bench.yaml").read_text()
    if module == "parapet":
        import yaml  # PyYAML, in the test venv
        value = json.dumps(yaml.safe_load(Path(policy_file).read_text()), separators=(",", ":"))
    else:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip1"],
                       cwd=str(NOOP), check=True)
        value = {"noop": "", "noop-body": "body", "noop-stream": "stream"}[module]
        wasm = NOOP / "target" / "wasm32-wasip1" / "release" / "noop_filter.wasm"
        text = text.replace("filename: target/wasm32-wasip1/release/parapet_filter.wasm",
                            f"filename: {wasm}")
    line = re.search(r"^( +value: )'(\{\"version\".*)'$", text, re.M)
    if not line:
        raise RuntimeError("bench.yaml: no policy value line")
    value = value.replace("'", "''")
    out = Path(tmp) / "bench.yaml"
    out.write_text(text[: line.start()] + line.group(1) + "'" + value + "'" + text[line.end():])
    return out


def start(config, cpu, log):
    cmd = ["taskset", "-c", str(cpu), ENVOY, "-c", str(ROOT / "envoy" / config), "--concurrency", "1",
           "--disable-hot-restart", "-l", "error"]
    return subprocess.Popen(cmd, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(port, body_file, conns, duration):
    lua = body_file + ".lua"
    Path(lua).write_text(
        'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
        f'local f = io.open("{body_file}", "rb"); wrk.body = f:read("*a"); f:close()\n'
        'done = function(summary, latency, requests)\n'
        '  io.write(string.format("STATUS_ERRORS %d\\n", summary.errors.status))\n'
        'end\n')
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "-s", lua,
                          f"http://127.0.0.1:{port}/v1/chat/completions"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: parse_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    errors = int(re.search(r"STATUS_ERRORS (\d+)", out).group(1))
    if errors:
        raise RuntimeError(f"{errors} non-2xx responses on port {port}:\n{out}")
    return {"rps": rps, "p50_ms": pct["50"], "p99_ms": pct["99"]}


def scan_hist():
    with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN}/stats?filter=parapet.scan_us&histogram_buckets=none") as r:
        text = r.read().decode()
    # "wasmcustom.parapet.scan_us: P0(a,b) P25(a,b) P50(a,b) ... P99(a,b) ..." — (interval, cumulative)
    q = dict((p, float(c)) for p, _, c in re.findall(r"P([\d.]+)\(([^,]+),([^)]+)\)", text) if c != "nan")
    return q


def upstream_reuse():
    """Requests the proxy sent upstream per upstream connection it opened (since its start)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN}/stats?filter=^cluster.fast_llm.upstream_(cx|rq)_total$") as r:
        stats = dict(line.split(": ") for line in r.read().decode().splitlines() if ": " in line)
    return int(stats["cluster.fast_llm.upstream_rq_total"]) / max(1, int(stats["cluster.fast_llm.upstream_cx_total"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--sizes", default="2048,65536")
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "load.json"))
    ap.add_argument("--policy", help="guarded listener's policy instead of the default (YAML or JSON "
                    "file, e.g. envoy/policies/cascade.yaml; its escalation cluster does not exist "
                    "here, so an escalation would fail and follow on_failure)")
    ap.add_argument("--module", choices=["parapet", "noop", "noop-body"], default="parapet",
                    help="noop: the guarded listener runs benches/noop-filter instead, a pass-through "
                    "Wasm filter (the floor any Wasm filter pays); noop-body: it also reads the "
                    "request body into the VM")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    tmp = tempfile.mkdtemp(prefix="parapet-load-")
    log = open(Path(tmp) / "envoy.log", "w")
    custom = args.policy or args.module != "parapet"
    bench = str(with_policy(args.policy, tmp, args.module)) if custom else "bench.yaml"
    upstream = start("bench-upstream.yaml", 1, log)
    proxy = start(bench, 0, log)
    results = {"command": "benches/load.py " + " ".join(sys.argv[1:]), "cpu": os.cpu_count(),
               "policy": args.policy or "default", "module": args.module, "sizes": {}}
    try:
        wait_ready(UPSTREAM_ADMIN)
        wait_ready(ADMIN)
        for size in [int(s) for s in args.sizes.split(",")]:
            body_file = str(Path(tmp) / f"body-{size}.json")
            Path(body_file).write_bytes(chat_body(size))
            runs = {"plain": [], "guarded": []}
            lat = {"plain": [], "guarded": []}
            for _ in range(args.rounds):
                for name, port in (("plain", PLAIN), ("guarded", GUARDED)):
                    runs[name].append(wrk(port, body_file, args.conns, args.duration))
                    lat[name].append(wrk(port, body_file, 1, max(3, args.duration // 2)))
            med = lambda rows, k: statistics.median(r[k] for r in rows)
            hist = scan_hist()
            # An upstream that answers before it has read the request makes the proxy close
            # the connection after each request, and every request then pays a TCP handshake
            # (envoy/bench-upstream.yaml buffers the request first, as a real LLM API reads it).
            reuse = upstream_reuse()
            if reuse < 10:
                raise RuntimeError(f"upstream connections not reused: {reuse:.1f} requests per connection")
            r = {
                "plain_rps": med(runs["plain"], "rps"),
                "guarded_rps": med(runs["guarded"], "rps"),
                "plain_p50_ms": med(lat["plain"], "p50_ms"),
                "guarded_p50_ms": med(lat["guarded"], "p50_ms"),
                "plain_p99_ms": med(lat["plain"], "p99_ms"),
                "guarded_p99_ms": med(lat["guarded"], "p99_ms"),
                "filter_scan_us_p50": hist.get("50"),
                "filter_scan_us_p99": hist.get("99"),
                "upstream_requests_per_connection": round(reuse),
            }
            r["throughput_ratio"] = r["guarded_rps"] / r["plain_rps"]
            r["added_p50_ms"] = r["guarded_p50_ms"] - r["plain_p50_ms"]
            r["added_p99_ms"] = r["guarded_p99_ms"] - r["plain_p99_ms"]
            if hist.get("50"):
                r["filter_engine_mb_per_s"] = size / hist["50"]  # bytes per µs == MB/s
            results["sizes"][str(size)] = r
            print(json.dumps({size: r}, indent=1), flush=True)
            # Reset the histogram between sizes by restarting the proxy.
            proxy.terminate(); proxy.wait()
            proxy = start(bench, 0, log)
            wait_ready(ADMIN)
    finally:
        proxy.terminate(); upstream.terminate()
        proxy.wait(); upstream.wait()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
