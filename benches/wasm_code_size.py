#!/usr/bin/env python3
"""Code bytes of a .wasm module per crate, from its code section and its name section.

V8 compiles the filter's whole code section before Envoy is ready (benches/RESULTS.md,
"Start-up"), so this says which dependency a start-up regression came from. The release build
strips function names; build with names first:

    CARGO_TARGET_DIR=/tmp/named cargo build --profile bench --target wasm32-wasip1 -p parapet-filter
    benches/wasm_code_size.py /tmp/named/wasm32-wasip1/release/parapet_filter.wasm [--top 30] [--functions 20]

Function names are Rust's legacy mangling (`_ZN<len>crate...`); a method of a trait impl is
counted under the crate of its `impl` type, marked "(impl)".
"""
import argparse
import collections
import re
from pathlib import Path


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def imported_functions(data):
    """How many functions the module imports: they come first in the function index space."""
    i, imported = 8, 0
    while i < len(data):
        section, i = data[i], i + 1
        size, i = leb(data, i)
        if section == 2:
            n, j = leb(data, i)
            for _ in range(n):
                for _ in range(2):  # module, field
                    length, j = leb(data, j)
                    j += length
                kind, j = data[j], j + 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:  # table: reftype, limits
                    j += 1
                    flags, j = data[j], j + 1
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 2:  # memory: limits
                    flags, j = data[j], j + 1
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 3:  # global: valtype, mutability
                    j += 2
        i += size
    return imported


def functions(data):
    """(size in bytes, name) of every function body in the code section."""
    i, sizes, names = 8, [], {}
    while i < len(data):
        section, i = data[i], i + 1
        size, i = leb(data, i)
        end = i + size
        if section == 10:
            n, j = leb(data, i)
            for _ in range(n):
                body, k = leb(data, j)
                sizes.append(body + (k - j))
                j = k + body
        elif section == 0:
            length, j = leb(data, i)
            if data[j:j + length] == b"name":
                j += length
                while j < end:
                    sub, j = data[j], j + 1
                    sub_size, j = leb(data, j)
                    if sub == 1:  # function names
                        n, k = leb(data, j)
                        for _ in range(n):
                            index, k = leb(data, k)
                            length, k = leb(data, k)
                            names[index] = data[k:k + length].decode("utf8", "replace")
                            k += length
                    j += sub_size
        i = end
    imported = imported_functions(data)
    return [(s, names.get(imported + k, "?")) for k, s in enumerate(sizes)]


def crate(name):
    m = re.match(r"_ZN(\d+)(.*)", name)
    if not m:
        return name.split("::")[0][:40]
    first = m.group(2)[: int(m.group(1))]
    if first.startswith("_$LT$"):
        impl = re.search(r"\$LT\$([a-z_0-9]+)\.\.", first)
        return (impl.group(1) if impl else first[:30]) + " (impl)"
    return first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wasm", type=Path)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--functions", type=int, default=0, help="also list the largest functions")
    args = ap.parse_args()
    funcs = functions(args.wasm.read_bytes())
    total = sum(s for s, _ in funcs)
    by = collections.Counter()
    for s, name in funcs:
        by[crate(name)] += s
    print(f"code section: {total:,} bytes in {len(funcs):,} functions")
    for c, s in by.most_common(args.top):
        print(f"{s:10,d} {100 * s / total:5.1f}%  {c}")
    for s, name in sorted(funcs, reverse=True)[: args.functions]:
        print(f"{s:10,d}  {name[:160]}")


if __name__ == "__main__":
    main()
