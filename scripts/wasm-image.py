#!/usr/bin/env python3
"""Package the filter (.wasm) as an OCI image in Istio's Wasm image format, as an OCI image layout
on disk, deterministically (standard library only).

    scripts/wasm-image.py OUT [--wasm target/wasm32-wasip1/release/parapet_filter.wasm]
                              [--tag 0.1.0] [--lock deploy/istio/filter-image.lock.json]
                              [--pin deploy/istio/wasmplugin.yaml]
    scripts/wasm-image.py --check-lock deploy/istio/filter-image.lock.json

Format: the *oci* variant of the Wasm image specification (github.com/solo-io/wasm, spec/spec.md),
which Istio's WasmPlugin fetcher reads (istio/istio pkg/wasm/imagefetcher.go):

- config: `application/vnd.module.wasm.config.v1+json`, the runtime config
  {"type": "envoy_proxy", "abiVersions": [...], "config": {"root_ids": ["parapet"]}};
- layers: exactly two, as Istio's fetcher requires ("number of layers must be 2"): the same
  runtime config (`application/vnd.module.wasm.config.v1+json`, title runtime-config.json) and the
  raw module (`application/vnd.module.wasm.content.layer.v1+wasm`, title plugin.wasm, not tarred
  or compressed).

Every byte written is a function of the .wasm bytes and the tag alone (canonical JSON, no
timestamps), so building twice gives the same manifest digest. That digest is what a WasmPlugin
pins (`url: oci://…@sha256:<digest>`, `sha256: <hex>`: Istio compares the pulled manifest's digest).
`--lock` records the wasm's sha256 and size with the digest; since the manifest depends on nothing
else, `--check-lock` (and tests/e2e/test_deploy.py) recompute the digest from the lock alone.
`--pin` rewrites those two pins in a WasmPlugin manifest.

The OUT directory is an OCI image layout (oci-layout, index.json, blobs/sha256/…); push it with
`skopeo copy oci:OUT:TAG docker://REGISTRY/parapet/filter:TAG` or
`oras cp --from-oci-layout OUT:TAG REGISTRY/parapet/filter:TAG`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WASM = ROOT / "target/wasm32-wasip1/release/parapet_filter.wasm"

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.module.wasm.config.v1+json"
WASM_MEDIA_TYPE = "application/vnd.module.wasm.content.layer.v1+wasm"
TITLE = "org.opencontainers.image.title"
REF_NAME = "org.opencontainers.image.ref.name"

# The runtime config of an Envoy Wasm filter (spec.md, "Envoy WASM Filter Specification"): the
# proxy-wasm ABI the module exports (proxy_abi_version_0_2_1) and the root id Envoy configs use.
RUNTIME_CONFIG = {
    "type": "envoy_proxy",
    "abiVersions": ["proxy_abi_version_0_2_1"],
    "config": {"root_ids": ["parapet"]},
}


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data_sha256: str, size: int, title: str | None = None) -> dict:
    d = {"mediaType": media_type, "digest": f"sha256:{data_sha256}", "size": size}
    if title:
        d["annotations"] = {TITLE: title}
    return d


def config_blob() -> bytes:
    return canonical(RUNTIME_CONFIG)


def manifest_blob(wasm_sha256: str, wasm_size: int) -> bytes:
    """The image manifest: a function of the module's sha256 and size only."""
    if not re.fullmatch(r"[0-9a-f]{64}", wasm_sha256) or wasm_size <= 0:
        raise ValueError(f"bad wasm sha256/size: {wasm_sha256!r} {wasm_size!r}")
    cfg = config_blob()
    return canonical({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": descriptor(CONFIG_MEDIA_TYPE, sha256(cfg), len(cfg)),
        "layers": [
            descriptor(CONFIG_MEDIA_TYPE, sha256(cfg), len(cfg), "runtime-config.json"),
            descriptor(WASM_MEDIA_TYPE, wasm_sha256, wasm_size, "plugin.wasm"),
        ],
        "annotations": {TITLE: "parapet-filter"},
    })


def manifest_digest(wasm_sha256: str, wasm_size: int) -> str:
    return "sha256:" + sha256(manifest_blob(wasm_sha256, wasm_size))


def build(wasm: bytes, out: Path, tag: str) -> dict:
    """Write the OCI image layout to `out` (replacing an earlier layout there); return the lock."""
    if wasm[:4] != b"\0asm":
        raise ValueError("not a WebAssembly module (no \\0asm magic)")
    if out.exists():
        if not (out / "oci-layout").is_file() and any(out.iterdir()):
            raise ValueError(f"{out} exists and is not an OCI image layout; refusing to replace it")
        shutil.rmtree(out)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    wasm_sha = sha256(wasm)
    cfg = config_blob()
    man = manifest_blob(wasm_sha, len(wasm))
    for data in (wasm, cfg, man):
        (blobs / sha256(data)).write_bytes(data)
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [dict(descriptor(MANIFEST_MEDIA_TYPE, sha256(man), len(man)),
                           annotations={REF_NAME: tag})],
    }
    (out / "index.json").write_bytes(canonical(index))
    (out / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    return lock_for(wasm_sha, len(wasm), tag)


def lock_for(wasm_sha256: str, wasm_size: int, tag: str) -> dict:
    man = manifest_blob(wasm_sha256, wasm_size)
    return {
        "about": "scripts/wasm-image.py: the filter's OCI image; the manifest depends only on the "
                 "wasm sha256 and size, so its digest is recomputable from this file",
        "tag": tag,
        "wasm": {"sha256": wasm_sha256, "size": wasm_size},
        "manifest": {"digest": "sha256:" + sha256(man), "size": len(man),
                     "mediaType": MANIFEST_MEDIA_TYPE},
    }


def check_lock(lock: dict) -> str:
    """The digest recomputed from the lock's wasm sha256/size; raises if the lock disagrees."""
    digest = manifest_digest(lock["wasm"]["sha256"], int(lock["wasm"]["size"]))
    if digest != lock["manifest"]["digest"]:
        raise ValueError(f"lock says {lock['manifest']['digest']}, its wasm gives {digest}")
    return digest


def pin(path: Path, digest: str) -> None:
    """Rewrite a WasmPlugin's `url: oci://…@sha256:…` (or `:tag`) and `sha256:` pins."""
    hexd = digest.removeprefix("sha256:")
    text = path.read_text()
    new, n_url = re.subn(r"(url:\s*oci://[^\s@:]+(?::\d+)?/[^\s@:]+)(?:@sha256:[0-9a-f]{64}|:[\w.-]+)?",
                         rf"\1@sha256:{hexd}", text)
    new, _ = re.subn(r"(\n\s*sha256:\s*)[0-9a-f]{64}", rf"\g<1>{hexd}", new)
    if n_url == 0:
        raise ValueError(f"{path}: no `url: oci://…` to pin")
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", type=Path, help="OCI image layout directory to write")
    ap.add_argument("--wasm", type=Path, default=DEFAULT_WASM)
    ap.add_argument("--tag", default="0.1.0", help="ref name in index.json (default 0.1.0)")
    ap.add_argument("--lock", type=Path, help="write the lock (wasm sha256/size, manifest digest)")
    ap.add_argument("--pin", type=Path, action="append", default=[],
                    help="rewrite this WasmPlugin's url/sha256 pins to the new digest")
    ap.add_argument("--check-lock", type=Path, help="recompute the digest from a lock and compare")
    a = ap.parse_args(argv)
    try:
        if a.check_lock:
            print(check_lock(json.loads(a.check_lock.read_text())))
            return 0
        if a.out is None:
            ap.error("OUT is required (or --check-lock)")
        lock = build(a.wasm.read_bytes(), a.out, a.tag)
        if a.lock:
            a.lock.write_text(json.dumps(lock, indent=2) + "\n")
        for p in a.pin:
            pin(p, lock["manifest"]["digest"])
    except (OSError, ValueError, KeyError) as e:
        print(f"wasm-image: {e}", file=sys.stderr)
        return 1
    print(lock["manifest"]["digest"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
