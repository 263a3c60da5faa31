"""The built .wasm imports only what Envoy/Istio hosts provide.

Older Envoy hosts (before about 2025) lack some WASI calls that std or dependencies can pull in;
a module importing them fails to load there. This keeps the import list to the proxy-wasm ABI
(module `env`) and the WASI calls every supported host has.
"""
from harness import WASM

# WASI preview1 calls present in every Envoy with proxy-wasm ABI 0.2.1 support.
PORTABLE_WASI = {
    "args_get", "args_sizes_get", "clock_time_get", "environ_get", "environ_sizes_get", "fd_close",
    "fd_fdstat_get", "fd_prestat_dir_name", "fd_prestat_get", "fd_read", "fd_seek", "fd_write",
    "proc_exit", "random_get", "poll_oneoff",
}


def leb128(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def imports(path):
    data = path.read_bytes()
    assert data[:4] == b"\0asm"
    i = 8
    out = []
    while i < len(data):
        section, i = data[i], i + 1
        size, i = leb128(data, i)
        end = i + size
        if section == 2:
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
        i = end
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
    # Rules + tier 2 (tract-core with the models' graphs rebuilt from their ONNX weights, no ONNX
    # framework; 3.1 MB of model weights) + the content codings (flate2, brotli, ruzstd): 11.4 MB,
    # 6.7 MB of it code (benches/RESULTS.md, "time to ready"). V8 compiles the code on Envoy's main
    # thread at start-up, about 0.8 s per MB here: the bound keeps regressions visible.
    size = WASM.stat().st_size
    print(f"parapet_filter.wasm: {size} bytes")
    assert size < 12 * 1024 * 1024
