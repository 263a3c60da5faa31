#!/usr/bin/env bash
# The full test suite, exactly what CI runs (.ci/run): set-up and builds (and Chromium for the
# dashboard tests), formatting, clippy for
# the native and wasm32-wasip1 targets, Rust tests, then end-to-end tests through a real Envoy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The dashboard is tested in headless Chromium (Debian package `chromium`).
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (dashboard tests)" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
    || { $sudo_cmd apt-get update -q >/dev/null && \
         $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi

echo "== cargo fmt" >&2
cargo fmt --all --check
echo "== cargo clippy (native)" >&2
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "== cargo clippy (wasm32-wasip1)" >&2
cargo clippy --quiet -p parapet-core -p parapet-filter --target wasm32-wasip1 -- -D warnings
echo "== cargo clippy (wasm32-wasip1, rules-only module: --no-default-features)" >&2
cargo clippy --quiet -p parapet-core -p parapet-filter --target wasm32-wasip1 --no-default-features -- -D warnings
echo "== cargo test" >&2
# The filter crate links against the proxy-wasm host ABI; it is tested inside Envoy below.
# The `service` profile reuses what scripts/setup.sh compiled for parapet-ext-proc.
cargo test --quiet --profile service --workspace --exclude parapet-filter
echo "== end-to-end (real Envoy)" >&2
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider --timeout 300 "$@"
