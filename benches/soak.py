#!/usr/bin/env python3
"""Soak: the full cascade under steady mixed load for a long time; nothing may leak or fail.

Starts the LLM stand-in, three parapet-ext-proc instances (ext-proc/parapet-ext-proc.yaml: the
heavy tier) and Envoy with envoy/cascade.yaml (the filter, escalating to the fleet), then:

1. measures the maximum rate of the mixed load (wrk, closed loop, CONNS connections);
2. finds the per-connection pause that gives ~80% of it (short calibration runs);
3. runs that load for DURATION seconds (default 600) while sampling, every 10 s, the resident
   memory and open file descriptors of Envoy and each ext-proc instance;
4. reports requests, rate, statuses and decisions, unexpected errors (5xx, socket errors,
   statuses other than 200/400), latency, and per process the memory and fd slope (least
   squares over the samples after the first minute) with first/last values.

The mix (one request each in turn, per connection): allowed, masked (PII), blocked (secret),
escalated attack (tier 2 unsure, the heavy tier blocks), escalated benign (the heavy tier clears),
streamed (SSE answer through the stream guard).

Usage: benches/soak.py [--duration 600] [--conns 8] [--out benches/results/soak.json]
Needs: scripts/setup.sh, wrk (Debian package `wrk`).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import UNCERTAIN_ATTACK, UNCERTAIN_BENIGN, Envoy, ExtProc, Standin, wait_for  # noqa: E402
from harness import chat as chat_body  # noqa: E402


def chat(content, **extra):
    return chat_body(content, **extra).decode()


MIX = [
    ("allowed", chat("What is the capital of France? Answer in one word."), {}),
    ("masked", chat("Write to jane.doe@example.com about the overdue invoice."), {}),
    ("blocked", chat("push with token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 please"), {}),
    ("escalated_attack", chat(UNCERTAIN_ATTACK), {}),
    ("escalated_benign", chat(UNCERTAIN_BENIGN), {}),
    ("streamed", chat("count to forty", stream=True),
     {"x-standin-reply": " ".join(f"word{i}" for i in range(40))}),
]

LUA = r"""
local reqs = {}
local i = 0
local pause = %(pause)d
counts = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  -- Built per thread, after wrk has set the host (wrk.format adds the Host header).
%(requests)s
  i = math.random(0, #reqs - 1)
end
function request()
  i = i %% #reqs + 1
  return reqs[i]
end
function delay() return pause end
function response(status, headers, body)
  local d = headers["x-parapet-decision"] or "-"
  local k = status .. " " .. d
  counts[k] = (counts[k] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, string.format("%%q:%%d", k, v)) end
  io.write("COUNTS {" .. table.concat(parts, ",") .. "}\n")
  io.write(string.format("LAT %%d %%d %%d %%d\n", latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
  io.write(string.format("ERR %%d %%d %%d %%d %%d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  io.write(string.format("REQ %%d %%d\n", summary.requests, summary.duration))
end
"""


def lua_script(pause_ms: int) -> str:
    reqs = []
    for _, body, headers in MIX:
        h = {"content-type": "application/json", **headers}
        hl = ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in h.items())
        reqs.append(f'table.insert(reqs, wrk.format("POST", "/v1/chat/completions", {{{hl}}}, {json.dumps(body)}))')
    return LUA % {"requests": "\n".join(reqs), "pause": pause_ms}


def run_wrk(port, conns, seconds, pause_ms, every=None):
    """wrk with the mix for `seconds`; `every(elapsed)` is called each 10 s while it runs."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua_script(pause_ms))
        script = f.name
    t0 = time.monotonic()
    try:
        wrk = subprocess.Popen(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "-s", script,
                                f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
        while every is not None and wrk.poll() is None:
            every(time.monotonic() - t0)
            time.sleep(10)
        out, _ = wrk.communicate(timeout=seconds + 60)
    finally:
        os.unlink(script)
    res = parse_wrk(out)
    if "requests" not in res:
        raise RuntimeError("wrk said:\n" + out)
    return res


def parse_wrk(out):
    """What the Lua script's done() printed: statuses and decisions, latency, errors, rate."""
    res = {}
    for line in out.splitlines():
        if line.startswith("COUNTS "):
            res["counts"] = json.loads(line[7:])
        elif line.startswith("LAT "):
            p50, p90, p99, mx = map(int, line.split()[1:])
            res["latency_ms"] = {"p50": p50 / 1000, "p90": p90 / 1000, "p99": p99 / 1000, "max": mx / 1000}
        elif line.startswith("ERR "):
            c, r, w, _status, t = map(int, line.split()[1:])
            res["socket_errors"] = {"connect": c, "read": r, "write": w, "timeout": t}
        elif line.startswith("REQ "):
            n, us = map(int, line.split()[1:])
            res["requests"], res["rate"] = n, round(n / (us / 1e6), 1)
    return res


def sample(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope(ts, ys):
    """Least-squares slope of ys over ts (per minute)."""
    if len(ts) < 2:
        return 0.0
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    den = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / den * 60 if den else 0.0


def unexpected(counts):
    """Statuses other than the mix's 200 (allow/mask) and 400 (block)."""
    return {k: v for k, v in counts.items() if k.split()[0] not in ("200", "400")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=600)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--target", type=float, default=0.8, help="fraction of the measured maximum")
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "soak.json"))
    a = ap.parse_args()

    standin = Standin()
    fleet = [ExtProc(lame_duck=None) for _ in range(3)]
    envoy = Envoy(standin.port, config_name="cascade.yaml", heavy_port=[x.port for x in fleet])
    procs = {"envoy": envoy.proc.pid, **{f"ext-proc-{i}": x.proc.pid for i, x in enumerate(fleet)}}
    report = {"command": "benches/soak.py " + " ".join(sys.argv[1:]), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "mix": [m[0] for m in MIX], "conns": a.conns}
    try:
        wait_for(lambda: all(x.readyz() == 200 for x in fleet), timeout=30, what="fleet ready")
        run_wrk(envoy.port, a.conns, 5, 0)  # warm-up
        peak = run_wrk(envoy.port, a.conns, 20, 0)
        report["max"] = peak
        target = peak["rate"] * a.target
        print(f"max {peak['rate']} req/s; target {target:.0f} req/s", flush=True)
        # Per-connection pause for ~target: closed loop, rate = conns / (latency + pause).
        lat = a.conns / peak["rate"]
        pause = max(1, int(round((a.conns / target - lat) * 1000)))
        for _ in range(4):
            cal = run_wrk(envoy.port, a.conns, 8, pause)
            ratio = cal["rate"] / target
            print(f"pause {pause} ms: {cal['rate']} req/s ({ratio:.2f} of target)", flush=True)
            if 0.93 <= ratio <= 1.07:
                break
            # rate = conns / (latency + pause): move the pause by the cycle-time difference.
            pause = max(1, int(round(pause + (a.conns / target - a.conns / cal["rate"]) * 1000)))
        report["pause_ms"] = pause

        samples = {name: [] for name in procs}

        def sample_all(elapsed):
            for name, pid in procs.items():
                rss, fds = sample(pid)
                samples[name].append((elapsed, rss, fds))

        res = run_wrk(envoy.port, a.conns, a.duration, pause, every=sample_all)
        res["fraction_of_max"] = round(res["rate"] / peak["rate"], 3)
        res["unexpected"] = {"statuses": unexpected(res["counts"]),
                             "socket_errors": sum(res["socket_errors"].values())}
        res["escalation_failed"] = {k: v for k, v in envoy.stats("wasmcustom.parapet.escalation").items()
                                    if "failed" in k}
        resources = {}
        for name, ss in samples.items():
            steady = [s for s in ss if s[0] >= 60] or ss
            ts = [s[0] for s in steady]
            resources[name] = {
                "rss_kib_first": steady[0][1], "rss_kib_last": steady[-1][1], "rss_kib_max": max(s[1] for s in ss),
                "rss_slope_kib_per_min": round(slope(ts, [s[1] for s in steady]), 1),
                "fds_first": steady[0][2], "fds_last": steady[-1][2],
                "fds_slope_per_min": round(slope(ts, [s[2] for s in steady]), 3),
                "samples": len(ss),
            }
        res["resources"] = resources
        report["soak"] = res
        report["alive_after"] = {"envoy": envoy.proc.poll() is None,
                                 **{f"ext-proc-{i}": x.proc.poll() is None for i, x in enumerate(fleet)}}
    finally:
        envoy.stop()
        for x in fleet:
            x.stop()
        standin.stop()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    s = report["soak"]
    bad = s["unexpected"]["statuses"] or s["unexpected"]["socket_errors"] or not all(report["alive_after"].values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
