#!/usr/bin/env python3
"""Experiment (not shipped): tier 2 distilled from the fine-tuned heavy tier.

The student is this directory's hashed n-gram model, trained exactly as `train.py` does except for
its targets: each labelled row's target is a mix of its label and the heavy tier's probability
(`ALPHA` x label + (1 - ALPHA) x teacher), and everyday forum text (the heavy trainers' training
split of t-davidson / surge-ai, MIT) joins as unlabelled rows whose target is the teacher's alone.
Compared with the shipped tier 2 on sources neither model trained on (tensor-trust, promptmap,
bastioncorpus, alpaca, CodeAlpaca, the trigger-word prompts) and on the held-out everyday text.

The teacher saw every trainable source, so leave-one-source-out folds of the student would leak
through it; only never-trained sets are evidence here. Reproduce:
`nice -n 10 python models/injection/distil_experiment.py` -> distil_experiment.json.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "featurizer"))
import trainlib as T  # noqa: E402

H = T.load_module("parapet_heavy_train", HERE.parent / "heavy" / "train.py")
INJ = H.INJ
ALPHA = 0.5


def teacher(texts, enc, head, t2):
    return H.head_scores(head, enc.embed(texts), t2.scores(texts))


def fit(texts, targets, hard, weights):
    X, y, doc = T.windowed_dataset(texts, list(targets), INJ.BUCKETS, max_windows=INJ.MAX_TRAIN_WINDOWS)
    hard_w = np.asarray(hard, np.float64)[doc]
    w = np.asarray(weights, np.float32)[doc]
    # class balance from the hard labels (soft targets would fall outside y == 0 / y == 1)
    pos, neg = w[hard_w == 1].sum(), w[hard_w == 0].sum()
    w = np.where(hard_w == 1, w * 0.5 * (pos + neg) / pos, w * 0.5 * (pos + neg) / neg * INJ.HP["neg_weight"])
    w = (w / w.mean()).astype(np.float32)
    saved = T._class_weights
    T._class_weights = lambda y_, sw, nw: w  # noqa: E731
    try:
        return T.HashedLR(INJ.BUCKETS, seed=INJ.SEED, **INJ.HP).fit(X, y.astype(np.float32))
    finally:
        T._class_weights = saved


def calibrate(model, calib):
    ct = [x[0] for x in calib]
    cy = np.array([x[1] for x in calib], np.float64)
    Xc, dc = T.doc_windows_matrix(ct, INJ.BUCKETS)
    a, c = T.platt(T.max_by_doc(model.logits(Xc), dc, len(ct)), cy)
    T.fold_calibration(model, a, c)
    s = INJ.scores_max(model, ct)
    return {"allow_below": T.threshold_at_fpr(s[cy == 0], 0.05), "block_above": T.threshold_at_fpr(s[cy == 0], 0.005)}


def main():
    D = H.data()
    enc = H.Encoder()
    head = json.loads((HERE.parent / "heavy" / "injection_head.json").read_text())
    t2 = H.Tier2("injection")
    train, calib = D["inj"]["train"], D["inj"]["calib"]
    everyday = D["inj"]["everyday"]["train"]
    tt = [x[0] for x in train]
    th = teacher(tt, enc, head, t2)
    eth = teacher([x[0] for x in everyday], enc, head, t2)
    sets = H.eval_sets("injection", D)
    d = D["inj"]
    never = {src: ([x[0] for x in d["ev_pos"] if x[2] == src], [x[0] for x in d["ev_neg"] if x[2] not in T.TRAINABLE_DEV])
             for src in sorted({x[2] for x in d["ev_pos"]} - T.TRAINABLE_DEV)}
    benign_only = {k: sets[k][0] for k in ("trigger_word_benign", H.EVERYDAY_NONTOXIC, H.EVERYDAY_TOXIC_SET)}
    bast = sets["bastioncorpus"]
    variants = {
        "shipped_recipe (labels only)": ([x[1] for x in train], [x[1] for x in train], [1.0] * len(train), []),
        f"distilled (alpha {ALPHA}) + everyday soft rows": (
            list(ALPHA * np.array([x[1] for x in train]) + (1 - ALPHA) * th), [x[1] for x in train], [1.0] * len(train), everyday),
    }
    out = {"command": "nice -n 10 python models/injection/distil_experiment.py", "alpha": ALPHA}
    for name, (targets, hard, weights, extra) in variants.items():
        texts = tt + [x[0] for x in extra]
        targets = list(targets) + list(eth[: len(extra)])
        hard = list(hard) + [0] * len(extra)
        weights = list(weights) + [INJ.EVERYDAY_WEIGHT * sum(1 for x in train if x[1] == 0) / max(1, len(extra))] * len(extra)
        model = fit(texts, targets, hard, weights)
        thr = calibrate(model, calib)
        r = {}
        for src, (pos, neg) in never.items():
            p, n = INJ.scores_max(model, pos), INJ.scores_max(model, neg)
            r[src] = {"auc_vs_alpaca_codealpaca": round(T.roc_auc(p, n), 4), "blocked": round(float((p >= thr["block_above"]).mean()), 4),
                      "escalated": round(float(((p >= thr["allow_below"]) & (p < thr["block_above"])).mean()), 4)}
        bp, bn = (INJ.scores_max(model, [t for t, l in zip(*bast) if l == lab]) for lab in (1, 0))
        r["bastioncorpus"] = {"auc": round(T.roc_auc(bp, bn), 4), "attacks_blocked": round(float((bp >= thr["block_above"]).mean()), 4),
                              "benign_blocked": round(float((bn >= thr["block_above"]).mean()), 4)}
        for k, tx in benign_only.items():
            s = INJ.scores_max(model, tx)
            r[k] = {"benign_blocked": round(float((s >= thr["block_above"]).mean()), 4),
                    "benign_escalated": round(float(((s >= thr["allow_below"]) & (s < thr["block_above"])).mean()), 4)}
        n = never and next(iter(never.values()))[1]
        s = INJ.scores_max(model, n)
        r["alpaca + CodeAlpaca"] = {"benign_blocked": round(float((s >= thr["block_above"]).mean()), 4),
                                    "benign_escalated": round(float(((s >= thr["allow_below"]) & (s < thr["block_above"])).mean()), 4)}
        out[name] = r
        T.log(name, json.dumps(r))
    (HERE / "distil_experiment.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
