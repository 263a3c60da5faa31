"""The built .wasm imports only what Envoy/Istio hosts provide.

Older Envoy hosts (before about 2025) lack some WASI calls that std or dependencies can pull in;
a module importing them fails to load there. This keeps the import list to the proxy-wasm ABI
(module `env`) and the WASI calls every supported host has.
"""
from harness import WASM, leb128, wasm_sections

# WASI preview1 calls present in every Envoy with proxy-wasm ABI 0.2.1 support.
PORTABLE_WASI = {
    "args_get", "args_sizes_get", "clock_time_get", "environ_get", "environ_sizes_get", "fd_close",
    "fd_fdstat_get", "fd_prestat_dir_name", "fd_prestat_get", "fd_read", "fd_seek", "fd_write",
    "proc_exit", "random_get", "poll_oneoff",
}


def imports(path):
    data = path.read_bytes()
    out = []
    for section, i, _ in wasm_sections(path):
        if section != 2:
            continue
        count, i = leb128(data, i)
        for _ in range(count):
            n, i = leb128(data, i)
            module = data[i:i + n].decode()
            i += n
            n, i = leb128(data, i)
            name = data[i:i + n].decode()
            i += n
            kind, i = data[i], i + 1
            if kind == 0:
                _, i = leb128(data, i)
            else:
                raise AssertionError(f"unexpected import kind {kind} for {module}.{name}")
            out.append((module, name))
    return out


def test_imports_are_portable():
    found = imports(WASM)
    modules = {m for m, _ in found}
    assert modules <= {"env", "wasi_snapshot_preview1"}, modules
    wasi = {n for m, n in found if m == "wasi_snapshot_preview1"}
    assert wasi <= PORTABLE_WASI, wasi - PORTABLE_WASI
    env = {n for m, n in found if m == "env"}
    assert all(n.startswith("proxy_") for n in env), env


def test_module_size_is_stated():
    # Rules + tier 2 (the models' layers on tract-linalg kernels, weights read from their ONNX
    # files: 3.1 MB of model weights as data) + the content decoders (flate2, brotli-decompressor,
    # ruzstd; no encoder, a rewritten body goes back uncompressed in its coding's framing):
    # 6.5 MB, 2.37 MB of it code (benches/RESULTS.md, "Start-up" sections). V8 compiles the code
    # section with its optimising compiler on Envoy's main thread before /ready (about 0.6 s per
    # MB on the benchmark VM of session 18, where the full module was ready in ~1.9 s with 2.8 MB
    # of code), so the code section has a tight bound of its own, ~110 KB above today's: tract's
    # registered kernels back in the module (inventory's `wasm-submit-none` lost: +380 KB of
    # code), the brotli crate's encoder (290 KB), a graph framework (tract-core was 3.6 MB) or
    # ~110 KB of new code fail here.
    size = WASM.stat().st_size
    code = sum(end - start for section, start, end in wasm_sections(WASM) if section == 10)
    print(f"parapet_filter.wasm: {size} bytes, code section {code} bytes")
    assert size < 6.5 * 1024 * 1024
    assert code < 2_480_000
