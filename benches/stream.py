#!/usr/bin/env python3
"""Streaming benchmark: plain Envoy versus Envoy with Parapet (default policy), in the same run.

One Envoy process (envoy/bench.yaml, --concurrency 1, pinned to CPU 0) serves a plain listener
(19000) and a guarded one (19001), both proxying to an SSE upstream started by this script on
19100 (pinned to CPU 1 with the client). The upstream streams a chat completion as
`chat.completion.chunk` events, one event per write.

Paced streams (a model emitting EVENTS tokens, one every INTERVAL ms), alternating plain and
guarded, ROUNDS each. The upstream stamps each event with its send time (`"t"`, CLOCK_MONOTONIC,
shared with the client on this machine); the client records each content event's arrival. The
stream guard releases an event only once the text after it covers the hold-back
(`stream.hold_back_bytes`, 64 by default, and the token in progress); which upstream event
triggers each release is computed with the same engine (`parapet stream --no-finish` on each
prefix of the transcript). So, with no cross-run drift:

- proxy latency per event: plain = arrival − send of the event itself; guarded = arrival −
  send of the event that released it;
- added per chunk = guarded p50 − plain p50; added TTFT beyond the hold-back = the same for the
  first content event; the filter's own `parapet.output_scan_us` histogram gives engine time per
  body chunk inside Envoy's V8;
- raw TTFT for both listeners, for reference (the guarded one includes the hold-back: about
  hold_back_bytes of model output).

Whole-stream throughput: the upstream sends BULK_EVENTS events as fast as it can; MB/s through
each listener (median of ROUNDS), and the ratio guarded/plain.

`--module noop-stream` puts benches/noop-filter on the guarded listener instead, copying each
response body chunk into the VM and back (what any proxy-wasm stream guard pays before reading a
byte): the floor of the bulk ratio in this Envoy.

`--bulk-dialects anthropic,responses,gemini` adds bulk rounds with the same words in those APIs'
stream shapes (requests to their paths, so the guard reads each in its own dialect).

Usage: benches/stream.py [--rounds 5] [--events 200] [--interval-ms 5] [--bulk-events 20000]
                         [--bulk-dialects anthropic,responses,gemini]
                         [--module parapet|noop|noop-stream] [--out benches/results/stream.json]
Needs: scripts/setup.sh (builds the .wasm and the CLI, installs Envoy).
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from load import wait_ready, with_policy  # benches/load.py: admin /ready poll, listener swap

ROOT = Path(__file__).resolve().parents[1]
ENVOY = str(ROOT / ".venv" / "bin" / "envoy")
PARAPET = str(ROOT / "target" / "service" / "parapet")
PLAIN, GUARDED, ADMIN, UPSTREAM = 19000, 19001, 19002, 19100

WORDS = ("the quick brown fox jumps over the lazy dog while a model writes an ordinary answer "
         "about trains weather cooking and the history of bridges in several short sentences").split()


def events(n):
    """The SSE body of a chat stream of n content events (one word each), as a list of events."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "bench"}

    def ev(delta, finish=None):
        return b"data: " + json.dumps({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]},
                                      separators=(",", ":")).encode() + b"\n\n"

    out = [ev({"role": "assistant", "content": ""})]
    for i in range(n):
        w = WORDS[i % len(WORDS)]
        out.append(ev({"content": w if i == 0 else " " + w}))
    out.append(ev({}, "stop"))
    out.append(b"data: [DONE]\n\n")
    return out


def dialect_events(dialect, n):
    """The same n words as a stream in another API's shape (the bulk rounds of --bulk-dialects)."""
    if dialect == "chat":
        return events(n)
    words = [WORDS[i % len(WORDS)] if i == 0 else " " + WORDS[i % len(WORDS)] for i in range(n)]

    def ev(name, v, end=b"\n\n"):
        line = b"data: " + json.dumps(v, separators=(",", ":")).encode() + end
        return (b"event: " + name.encode() + b"\n" if name else b"") + line

    if dialect == "anthropic":
        out = [ev("message_start", {"type": "message_start", "message": {
            "id": "msg_bench", "type": "message", "role": "assistant", "content": [], "model": "bench",
            "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
               ev("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}})]
        out += [ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "text_delta", "text": w}}) for w in words]
        return out + [ev("content_block_stop", {"type": "content_block_stop", "index": 0}),
                      ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                           "usage": {"output_tokens": n}}),
                      ev("message_stop", {"type": "message_stop"})]
    if dialect == "responses":
        head = {"id": "resp_bench", "object": "response", "model": "bench", "output": []}
        out = [ev("response.created", {"type": "response.created", "sequence_number": 0,
                                       "response": head | {"status": "in_progress"}})]
        out += [ev("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_bench",
                                                   "output_index": 0, "content_index": 0, "delta": w,
                                                   "sequence_number": i + 1}) for i, w in enumerate(words)]
        text = "".join(words)
        return out + [ev("response.output_text.done", {"type": "response.output_text.done", "item_id": "msg_bench",
                                                       "output_index": 0, "content_index": 0, "text": text,
                                                       "sequence_number": n + 1})]
    if dialect == "gemini":
        return [ev(None, {"candidates": [{"content": {"parts": [{"text": w}], "role": "model"}, "index": 0}],
                          "modelVersion": "bench"}, b"\r\n\r\n") for w in words]
    raise ValueError(dialect)


# Each dialect's request: path and body.
REQUESTS = {
    "chat": ("/v1/chat/completions", {"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]}),
    "anthropic": ("/v1/messages", {"model": "m", "max_tokens": 100, "stream": True,
                                   "messages": [{"role": "user", "content": "go"}]}),
    "responses": ("/v1/responses", {"model": "m", "stream": True, "input": "go"}),
    "gemini": ("/v1beta/models/m:streamGenerateContent?alt=sse", {"contents": [{"role": "user", "parts": [{"text": "go"}]}]}),
}


# ---------------------------------------------------------------- upstream (separate process)

BULK_BODIES = {}


def bulk_body(n, dialect="chat"):
    """The chunked-encoded body of `n` events in ~16 KiB chunks (cached per `n` and dialect)."""
    if (n, dialect) not in BULK_BODIES:
        frames, buf = [], b""
        for e in dialect_events(dialect, n):
            buf += e
            if len(buf) >= 16384:
                frames.append(b"%x\r\n%s\r\n" % (len(buf), buf))
                buf = b""
        if buf:
            frames.append(b"%x\r\n%s\r\n" % (len(buf), buf))
        BULK_BODIES[(n, dialect)] = b"".join(frames)
    return BULK_BODIES[(n, dialect)]


def serve(port):
    """A minimal HTTP/1.1 SSE upstream. Request header `x-bench: paced:N:MS` or `bulk:N[:DIALECT]`."""
    import socketserver

    class H(socketserver.StreamRequestHandler):
        def setup(self):
            super().setup()
            # Each event leaves at once, as a token-streaming server's would (no Nagle delay).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle(self):
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                headers = {}
                while True:
                    h = self.rfile.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        self.rfile.read(size + 2) if size else self.rfile.readline()
                        if size == 0:
                            break
                else:
                    self.rfile.read(int(headers.get("content-length", "0")))
                mode, *args = headers.get("x-bench", "paced:10:1").split(":")
                pause = float(args[1]) / 1000 if mode == "paced" else 0.0
                self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                                 b"transfer-encoding: chunked\r\n\r\n")
                self.wfile.flush()
                if mode == "bulk":
                    # ~16 KiB chunks, as a fast upstream's socket would send them, encoded once per
                    # size and then written whole: building them per request made this Python
                    # upstream (~25 MB/s) the pace of both paths, and the ratio measured it.
                    self.wfile.write(bulk_body(int(args[0]), args[1] if len(args) > 1 else "chat"))
                else:
                    for e in events(int(args[0])):
                        if e.startswith(b'data: {"id"'):
                            # Stamp the send time (CLOCK_MONOTONIC, shared with the client).
                            e = e.replace(b'"id":', b'"t":%.6f,"id":' % time.monotonic(), 1)
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(e), e))
                        self.wfile.flush()
                        time.sleep(pause)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

    class S(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    S(("127.0.0.1", port), H).serve_forever()


# ---------------------------------------------------------------- client

def stream_once(port, spec, dialect="chat"):
    """POST a streaming request and read the stream as it arrives. Returns (content events as
    (upstream send time, client arrival time) in CLOCK_MONOTONIC seconds — send time None when
    the upstream did not stamp it —, total body bytes, seconds from request to the end)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path, body = REQUESTS[dialect]
    t0 = time.monotonic()
    conn.request("POST", path, body=json.dumps(body),
                 headers={"content-type": "application/json", "x-bench": spec})
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r = conn.getresponse()
    buf = b""
    events = []
    total = 0
    paced = spec.startswith("paced")
    while True:
        data = r.read1(1 << 16)
        if not data:
            break
        now = time.monotonic()
        total += len(data)
        if not paced:
            continue
        buf += data
        *complete, buf = buf.split(b"\n\n")
        for ev in complete:
            if b'"delta":{"content":' in ev:
                sent = json.loads(ev[len(b"data: "):]).get("t")
                events.append((sent, now))
    elapsed = time.monotonic() - t0
    conn.close()
    return events, total, elapsed, t0


def triggers_native(n):
    """Index of the upstream event whose arrival releases content event i (1-based content
    numbering matches the `events` list: event 0 is the role event)."""
    evs = events(n)
    body = b"".join(evs)
    cuts = []
    at = 0
    for e in evs:
        at += len(e)
        cuts.append(at)
    # The client's view after the upstream has sent k events: `parapet stream --no-finish` on
    # the first k events (the stream is left open, so held events stay held).
    out = []
    for k in range(1, len(evs) + 1):
        r = subprocess.run([PARAPET, "stream", "--no-finish"], input=body[:cuts[k - 1]], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        out.append(r.stdout.count(b'"delta":{"content":'))
    # None: released only when the upstream stream ends (the last hold-back's worth of text).
    return [next((k for k, released in enumerate(out) if released > i), None) for i in range(n)]


def start(config, cpu, log):
    return subprocess.Popen(["taskset", "-c", str(cpu), ENVOY, "-c", config, "--concurrency", "1",
                             "--disable-hot-restart", "-l", "warning", "--base-id", str(cpu + 7)],
                            cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)


def output_scan_hist():
    """The filter's engine time per response body chunk (Envoy's histogram summary line)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN}/stats?filter=output_scan_us") as r:
        return r.read().decode().strip()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--interval-ms", type=float, default=5.0)
    ap.add_argument("--bulk-events", type=int, default=20000)
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "stream.json"))
    ap.add_argument("--module", choices=["parapet", "noop", "noop-stream"], default="parapet",
                    help="noop: the guarded listener runs benches/noop-filter instead, a pass-through "
                    "Wasm filter; noop-stream: it also copies every response body chunk into the VM "
                    "and back, as any stream guard must (the floor of the bulk ratio)")
    ap.add_argument("--bulk-dialects", default="",
                    help="comma-separated: also the bulk rounds with the same words as an Anthropic "
                    "Messages (anthropic), OpenAI Responses (responses) or Gemini (gemini) stream")
    args = ap.parse_args()
    noop = args.module != "parapet"

    upstream = subprocess.Popen(["taskset", "-c", "1", sys.executable, __file__, "--serve-upstream"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    tmp = tempfile.mkdtemp(prefix="parapet-stream-bench-")
    log = open(os.path.join(tmp, "envoy.log"), "w")
    config = with_policy(None, tmp, args.module) if noop else ROOT / "envoy" / "bench.yaml"
    envoy = start(str(config), 0, log)
    os.sched_setaffinity(0, {1})
    try:
        wait_ready(ADMIN)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", UPSTREAM)).close()
                break
            except OSError:
                time.sleep(0.1)
        # A pass-through module holds nothing back: each event releases itself.
        trig = list(range(1, args.events + 1)) if noop else triggers_native(args.events)
        paced = f"paced:{args.events}:{args.interval_ms}"
        for port in (PLAIN, GUARDED):  # warm-up
            stream_once(port, "paced:20:1")
        res = {PLAIN: [], GUARDED: []}
        for _ in range(args.rounds):
            for port in (PLAIN, GUARDED):
                res[port].append(stream_once(port, paced))
        # Proxy latency of each content event: client arrival − upstream send of the event that
        # released it (itself through plain Envoy; its trigger through Parapet).
        plain_lat, guarded_lat, ttft_plain, ttft_guarded, first_added = [], [], [], [], []
        for (p, _, _, p0), (g, _, _, g0) in zip(res[PLAIN], res[GUARDED]):
            if len(g) != args.events or len(p) != args.events:
                raise RuntimeError(f"lost events: guarded {len(g)}, plain {len(p)}")
            plain_lat += [(arr - sent) * 1000 for sent, arr in p]
            ttft_plain.append((p[0][1] - p0) * 1000)
            ttft_guarded.append((g[0][1] - g0) * 1000)
            for i in range(args.events):
                # trig[i] indexes `events` (0 = role event); content event j is events[j+1].
                # Events released only by the stop event or the stream's end are left out.
                if trig[i] is None or not 1 <= trig[i] <= args.events:
                    continue
                added = (g[i][1] - g[trig[i] - 1][0]) * 1000
                guarded_lat.append(added)
                if i == 0:
                    first_added.append(added)
        base = statistics.median(plain_lat)
        time.sleep(6)  # Envoy publishes histograms at its stats flush (every 5 s)
        hist = output_scan_hist()

        bulk = f"bulk:{args.bulk_events}"
        tput = {PLAIN: [], GUARDED: []}
        for port in (PLAIN, GUARDED):  # warm-up; the first also has the upstream encode the body
            stream_once(port, bulk)
        size = 0
        for _ in range(args.rounds):
            for port in (PLAIN, GUARDED):
                _, total, secs, _ = stream_once(port, bulk)
                size = total
                tput[port].append(total / secs / 1e6)
        time.sleep(6)  # the next stats flush: the histogram now also holds the bulk chunks
        bulk_hist = output_scan_hist()
        dialects = {}
        for d in [x for x in args.bulk_dialects.split(",") if x]:
            spec = f"bulk:{args.bulk_events}:{d}"
            got = {PLAIN: [], GUARDED: []}
            for port in (PLAIN, GUARDED):  # warm-up (the upstream encodes the body)
                stream_once(port, spec, d)
            for _ in range(args.rounds):
                for port in (PLAIN, GUARDED):
                    _, total, secs, _ = stream_once(port, spec, d)
                    got[port].append((total, total / secs / 1e6))
            # the guarded stream must be the whole stream (nothing blocked or cut)
            if statistics.median(t for t, _ in got[GUARDED]) != statistics.median(t for t, _ in got[PLAIN]):
                raise RuntimeError(f"{d}: guarded stream differs in size from the plain one")
            mb = {port: statistics.median(r for _, r in got[port]) for port in got}
            dialects[d] = {"bytes": got[PLAIN][0][0], "mb_per_s_p50": {"plain": mb[PLAIN], "guarded": mb[GUARDED]},
                           "ratio": mb[GUARDED] / mb[PLAIN]}
        result = {
            "command": " ".join(["benches/stream.py"] + sys.argv[1:]),
            "module": args.module,
            "paced": {"events": args.events, "interval_ms": args.interval_ms, "rounds": args.rounds,
                      "first_content_released_by_content_event": trig[0] - 1,
                      "events_released_only_at_end": sum(1 for t in trig if t is None or t > args.events),
                      "ttft_ms_p50": {"plain": statistics.median(ttft_plain),
                                      "guarded": statistics.median(ttft_guarded)},
                      "proxy_latency_per_event_ms": {
                          "plain": {"p50": base, "p99": pct(plain_lat, 99)},
                          "guarded_from_trigger": {"p50": statistics.median(guarded_lat),
                                                   "p99": pct(guarded_lat, 99)}},
                      "added_ttft_beyond_hold_back_ms_p50": statistics.median(first_added) - base,
                      "added_per_chunk_ms_p50": statistics.median(guarded_lat) - base,
                      "filter_output_scan_us": hist},
            "bulk": {"events": args.bulk_events, "bytes": size,
                     "mb_per_s_p50": {"plain": statistics.median(tput[PLAIN]),
                                      "guarded": statistics.median(tput[GUARDED])},
                     "ratio": statistics.median(tput[GUARDED]) / statistics.median(tput[PLAIN]),
                     # cumulative column: every chunk so far, the bulk rounds' chunks most of them
                     "filter_output_scan_us_incl_bulk": bulk_hist},
            "bulk_dialects": dialects,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        envoy.terminate()
        upstream.terminate()
        envoy.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-upstream":
        serve(UPSTREAM)
    else:
        main()
