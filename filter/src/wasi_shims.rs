//! Stand-ins for WASI calls that tract's dependencies link but never make in the filter, so the
//! module imports only what Envoy and Istio hosts provide (older Envoy hosts lack these, and a
//! module importing them fails to load). The filter opens no files, reads no links and never
//! yields: each shim answers `ENOSYS` (52), or success for `sched_yield`. wasi-libc calls its
//! imports through these `__imported_wasi_snapshot_preview1_*` symbols; defining them here
//! replaces the imports. `tests/e2e/test_wasm_module.py` checks the import list.
#![allow(unsafe_code)]

const ENOSYS: i32 = 52;

#[no_mangle]
pub extern "C" fn __imported_wasi_snapshot_preview1_fd_filestat_get(_fd: i32, _buf: i32) -> i32 {
    ENOSYS
}

#[no_mangle]
pub extern "C" fn __imported_wasi_snapshot_preview1_path_readlink(
    _fd: i32,
    _path: i32,
    _path_len: i32,
    _buf: i32,
    _buf_len: i32,
    _ret: i32,
) -> i32 {
    ENOSYS
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn __imported_wasi_snapshot_preview1_path_open(
    _fd: i32,
    _dirflags: i32,
    _path: i32,
    _path_len: i32,
    _oflags: i32,
    _rights_base: i64,
    _rights_inheriting: i64,
    _fdflags: i32,
    _ret: i32,
) -> i32 {
    ENOSYS
}

#[no_mangle]
pub extern "C" fn __imported_wasi_snapshot_preview1_sched_yield() -> i32 {
    0
}
