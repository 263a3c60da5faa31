#!/usr/bin/env python3
"""What V8's optimising compiler spends on a .wasm module, per crate and per function.

Envoy's V8 compiles the filter's whole code section with TurboFan before Envoy is ready
(benches/RESULTS.md, start-up: nine tenths of the time to /ready), so start-up follows this
cost. Node's V8 is run with the same settings (Liftoff off, nothing compiled lazily) on the
module:

- `--instructions`: instructions executed to compile it (callgrind, one thread, minus Node
  compiling an empty module): one number, the same on every run, where wall-clock start-up
  times on a shared 2-core VM move by a factor of two. Takes a few minutes.
- otherwise: `--trace-wasm-compilation-times` per function (milliseconds, and the bytes of the
  compiler's zone memory, which follow its work more finely than the milliseconds), summed
  per crate from the module's name section. The release build strips names; build with them:

    CARGO_TARGET_DIR=/tmp/named cargo build --profile bench --target wasm32-wasip1 -p parapet-filter
    benches/wasm_compile_cost.py /tmp/named/wasm32-wasip1/release/parapet_filter.wasm [--top 30] [--functions 20]
    benches/wasm_compile_cost.py target/wasm32-wasip1/release/parapet_filter.wasm --instructions
"""
import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wasm_code_size import crate, functions, imported_functions  # noqa: E402

FLAGS = ["--no-liftoff", "--no-wasm-lazy-compilation"]
COMPILE_JS = "const fs = require('fs'); new WebAssembly.Module(fs.readFileSync(process.argv[1]));"
EMPTY = b"\0asm\1\0\0\0"


def instructions(path):
    def run(module):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out", "node",
                                  *FLAGS, "--single-threaded", "-e", COMPILE_JS, str(module)],
                                 capture_output=True, text=True, check=True).stderr
        return int(re.search(r"Collected : (\d+)", out).group(1))

    with tempfile.NamedTemporaryFile(suffix=".wasm") as empty:
        empty.write(EMPTY)
        empty.flush()
        base = run(empty.name)
    return run(path) - base


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wasm", type=Path)
    ap.add_argument("--instructions", action="store_true", help="callgrind's count of the compile instead")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--functions", type=int, default=20)
    a = ap.parse_args()
    data = a.wasm.read_bytes()
    if a.instructions:
        print(f"{instructions(a.wasm):,} instructions to compile {a.wasm} ({FLAGS}, one thread)")
        return
    run = subprocess.run(["node", *FLAGS, "--trace-wasm-compilation-times", "-e", COMPILE_JS, str(a.wasm)],
                         capture_output=True, text=True, check=True)
    trace = run.stdout + run.stderr
    first = imported_functions(data)
    names = {first + k: name for k, (_, name) in enumerate(functions(data))}
    rows = []
    for m in re.finditer(r"#(\d+) using TurboFan, took (\d+) ms and \d+ / (\d+) max/total bytes; bodysize (\d+)",
                         trace):
        index, ms, zone, body = map(int, m.groups())
        rows.append((zone, ms, body, names.get(index, "?")))
    zone_total = sum(r[0] for r in rows) or 1
    print(f"{len(rows):,} functions, {sum(r[2] for r in rows):,} bytes of code, "
          f"{sum(r[1] for r in rows):,} ms (functions under 1 ms count 0), {zone_total / 1e6:,.0f} MB of zone")
    by = collections.defaultdict(lambda: [0, 0, 0])
    for zone, ms, body, name in rows:
        c = by[crate(name)]
        c[0] += zone
        c[1] += ms
        c[2] += body
    print(f"{'zone MB':>8} {'share':>6} {'ms':>6} {'code':>10}  crate")
    for c, (zone, ms, body) in sorted(by.items(), key=lambda kv: -kv[1][0])[: a.top]:
        print(f"{zone / 1e6:8.1f} {100 * zone / zone_total:5.1f}% {ms:6d} {body:10,d}  {c}")
    for zone, ms, body, name in sorted(rows, reverse=True)[: a.functions]:
        print(f"{zone / 1e6:8.1f} {ms:6d} {body:10,d}  {name[:150]}")


if __name__ == "__main__":
    main()
