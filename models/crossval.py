#!/usr/bin/env python3
"""Cross-source validation of the tier-2 models: hold out each training source (and each group of
languages) in turn, train on the rest exactly as the shipped trainer does, and measure on the
held-out source at the thresholds the trainer would have shipped.

A random split of pooled data is not evidence of generalisation: a model that learns one corpus's
phrasing scores well on that corpus's other half. Here every fold's model has never seen a row of
the source it is measured on, and its thresholds come from its own calibration split (also without
that source), so the figures say what happens on traffic from a new place.

Reproduce (repository root, training venv with models/requirements.txt):

    nice -n 10 python models/crossval.py                  # both tasks -> models/crossval.json, CROSSVAL.md
    nice -n 10 python models/crossval.py --task injection

Per fold: ROC AUC of the held-out positives against the held-out source's own benign rows (or,
for a source with only attacks, the fixed never-trained benign pool: alpaca, CodeAlpaca, the
project's trigger-word evaluation prompts, bastioncorpus hard negatives), TPR at 1% FPR on those
negatives (oracle threshold), and at the fold's shipped thresholds: attacks blocked, attacks
escalated (inside the band), benign blocked, benign escalated. Sources that may not be trained on
(tensor-trust, promptmap, bastioncorpus, alpaca, CodeAlpaca, Stormfront) are held out of every
fold and reported once per fold model as "never-trained" sets.
"""
from __future__ import annotations

import argparse
import collections
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "featurizer"))
import featurizer as fz  # noqa: E402
import trainlib as T  # noqa: E402


log = T.log
load_module = T.load_module

INJ = load_module("parapet_injection_train", HERE / "injection" / "train.py")
# Folds train tier 2 from labels: a student distilled from the heavy tier (injection/train.py's
# DISTIL) would see every source through its teacher, so its folds would not be cross-source.
INJ.DISTIL = False
TOX = load_module("parapet_toxicity_train", HERE / "toxicity" / "train.py")

SCRIPT_GROUPS = {  # leave-one-language-group-out over the contrastive rows
    "lang:latin (es fr de it pt nl pl tr vi id sv)": {"es", "fr", "de", "it", "pt", "nl", "pl", "tr", "vi", "id", "sv"},
    "lang:cyrillic (ru uk)": {"ru", "uk"},
    "lang:cjk (zh ja ko)": {"zh", "ja", "ko"},
    "lang:arabic+devanagari (ar hi)": {"ar", "hi"},
}


class Features:
    """Window id lists per text, computed once with the reference featurizer (cached on disk)."""

    def __init__(self, buckets: int):
        self.buckets = buckets
        self.path = T.CACHE / f"crossval-ids-{fz.VERSION}-{buckets}.pkl"
        self.cache: dict[str, list[list[int]]] = {}
        if self.path.exists():
            with open(self.path, "rb") as f:
                self.cache = pickle.load(f)
        self.dirty = False

    def windows(self, text: str) -> list[list[int]]:
        w = self.cache.get(text)
        if w is None:
            w = self.cache[text] = T.window_ids(text, self.buckets)
            self.dirty = True
        return w

    def save(self):
        if self.dirty:
            with open(self.path, "wb") as f:
                pickle.dump(self.cache, f, protocol=4)
            self.dirty = False

    def train_matrix(self, texts, labels, max_windows=4):
        return T.windowed_dataset(texts, labels, self.buckets, max_windows, windows=self.windows)

    def scores(self, model, texts):
        if not texts:
            return np.zeros(0)
        ids, doc = [], []
        for i, t in enumerate(texts):
            for w in self.windows(t):
                ids.append(w)
                doc.append(i)
        X = T.matrix(ids, self.buckets)
        return T.max_by_doc(T.sigmoid(model.logits(X)), np.asarray(doc), len(texts))


# ------------------------------------------------------------------ tasks

def inj_group(src: str) -> str:
    if src.startswith("contrastive:"):
        return "contrastive"
    if src.startswith("everyday:"):
        return src[9:]
    if src.startswith("dev:"):
        return src[4:]
    return src


def tox_group(src: str) -> str:
    if src.startswith("contrastive:"):
        return "contrastive"
    if src.startswith("prompts:"):
        return "prompts"
    return src


def task_spec(task: str):
    """Rows (text, label, group, lang) of the trainable pool, and the never-trained sets."""
    if task == "injection":
        train, calib, ev_pos, ev_neg, bastion, trigger, _, _ = INJ.assemble()
        lang = {r["text"]: r["lang"] for r in T.contrastive_rows("injection")}
        pool = [(t, l, inj_group(s), lang.get(t, "en"), "train", s) for t, l, s in train]
        pool += [(t, l, inj_group(s), lang.get(t, "en"), "calib", s) for t, l, s in calib]
        # the evaluation halves of trainable dev sources belong to their source's fold too
        for t, g, src, sub in ev_pos:
            if src in T.TRAINABLE_DEV:
                pool.append((t, 1, src, "en", "eval", "dev:" + src))
        for t, g, src, sub in ev_neg:
            if src in T.TRAINABLE_DEV:
                pool.append((t, 0, src, "en", "eval", "dev:" + src))
        never = collections.defaultdict(lambda: ([], []))
        for t, g, src, sub in ev_pos:
            if src not in T.TRAINABLE_DEV:
                never[f"{src} ({sub})"][0].append(t)
        benign_pool = [t for t, g, src, sub in ev_neg if src not in T.TRAINABLE_DEV]
        benign_pool += [r["text"] for r in bastion if r["label"] == 0] + list(trigger)
        never["bastioncorpus"] = ([r["text"] for r in bastion if r["label"] == 1], [r["text"] for r in bastion if r["label"] == 0])
        never["trigger_benign_eval (project, eval only)"] = ([], list(trigger))
        never["alpaca + CodeAlpaca (CC BY-NC, eval only)"] = ([], [t for t, g, src, sub in ev_neg if src not in T.TRAINABLE_DEV])
        return dict(pool=pool, never=dict(never), benign_pool=benign_pool, buckets=INJ.BUCKETS,
                    skip_train_groups={"no-token", "short-fragment"})
    train, calib, ev, prompt_ev, trigger, _ = TOX.assemble()
    pool = [(t, l, tox_group(s), "en", "train", s) for t, l, s in train]
    pool += [(t, l, tox_group(s), "en", "calib", s) for t, l, s in calib]
    for t, l, src in ev:
        if src in TOX.TOX_SOURCES:
            pool.append((t, l, src, "en", "eval", src))
    never = {}
    sf = [(t, l) for t, l, src in ev if src not in TOX.TOX_SOURCES]
    never["stormfront (CC BY-SA, eval only)"] = ([t for t, l in sf if l], [t for t, l in sf if not l])
    never["ordinary prompts (never trained on)"] = ([], [t for t, _ in prompt_ev])
    never["trigger_benign_eval (project, eval only)"] = ([], list(trigger))
    benign_pool = [t for t, _ in prompt_ev] + list(trigger)
    return dict(pool=pool, never=never, benign_pool=benign_pool, buckets=TOX.BUCKETS,
                skip_train_groups=set())


def fit(task, feats, train, calib, targets=None):
    """The tier-2 model on `train`; `targets` (injection only): soft targets instead of the labels
    (distillation), with classes balanced on the hard labels."""
    texts, labels, srcs = [x[0] for x in train], [x[1] for x in train], [x[5] for x in train]
    X, y, doc = feats.train_matrix(texts, labels if targets is None else list(targets))
    if task == "injection":
        sw = INJ.row_weights([(t, l, s) for t, l, s in zip(texts, labels, srcs)])
        hard = None if targets is None else np.asarray(labels, np.float32)[doc]
        model = T.HashedLR(feats.buckets, seed=INJ.SEED, **INJ.HP).fit(X, y, sample_w=None if sw is None else sw[doc], hard=hard)
    else:
        sw = TOX.group_weights([(t, l, s) for t, l, s in zip(texts, labels, srcs)])[doc]
        model = T.EmbBag(feats.buckets, seed=TOX.SEED, **TOX.HP).fit(X, y, sample_w=sw)
    ct = [x[0] for x in calib]
    cy = np.array([x[1] for x in calib], np.float64)
    ids, d = [], []
    for i, t in enumerate(ct):
        for w in feats.windows(t):
            ids.append(w)
            d.append(i)
    raw = T.max_by_doc(model.logits(T.matrix(ids, feats.buckets)), np.asarray(d), len(ct))
    a, c = T.platt(raw, cy)
    T.fold_calibration(model, a, c)
    cs = feats.scores(model, ct)
    neg = cs[cy == 0]
    if task == "injection":
        thr = {"allow_below": T.threshold_at_fpr(neg, 0.05), "block_above": T.threshold_at_fpr(neg, 0.005)}
    else:
        thr = {"allow_below": T.threshold_at_fpr(neg, 0.05), "block_above": T.threshold_at_fpr(neg, 0.01)}
    return model, thr


def measure(pos, neg, thr):
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    out = {"n_pos": int(len(pos)), "n_neg": int(len(neg))}
    if len(pos) and len(neg):
        t1 = T.threshold_at_fpr(neg, 0.01)
        out |= {"roc_auc": round(T.roc_auc(pos, neg), 4), "tpr_at_1pct_fpr": round(T.tpr_at(pos, t1), 4)}
    if len(pos):
        out |= {"attacks_blocked": round(float((pos >= thr["block_above"]).mean()), 4),
                "attacks_escalated": round(float(((pos >= thr["allow_below"]) & (pos < thr["block_above"])).mean()), 4)}
    if len(neg):
        out |= {"benign_blocked": round(float((neg >= thr["block_above"]).mean()), 4),
                "benign_escalated": round(float(((neg >= thr["allow_below"]) & (neg < thr["block_above"])).mean()), 4)}
    return out


def run(task: str, only: set[str] | None = None):
    spec = task_spec(task)
    feats = Features(spec["buckets"])
    pool = spec["pool"]
    t0 = time.time()
    for x in pool:
        feats.windows(x[0])
    for p, n in spec["never"].values():
        for t in p + n:
            feats.windows(t)
    feats.save()
    log(task, "features ready", len(feats.cache), f"{time.time() - t0:.0f}s")
    groups = collections.Counter((x[2], x[1]) for x in pool)
    log(task, "groups", dict(groups))
    folds = []
    for g in sorted({x[2] for x in pool}):
        if g in spec["skip_train_groups"] or g in ("no-token", "short-fragment", "promptsource"):
            continue
        folds.append((g, lambda x, g=g: x[2] == g))
    if task == "injection":
        for name, langs in SCRIPT_GROUPS.items():
            folds.append((name, lambda x, langs=langs: x[3] in langs))
    res = {}
    for name, held in folds:
        if only and name not in only:
            continue
        t1 = time.time()
        train = [x for x in pool if not held(x) and x[4] == "train"]
        calib = [x for x in pool if not held(x) and x[4] == "calib"]
        test = [x for x in pool if held(x)]
        model, thr = fit(task, feats, train, calib)
        s = feats.scores(model, [x[0] for x in test])
        y = np.array([x[1] for x in test])
        own_neg = s[y == 0]
        bp = feats.scores(model, spec["benign_pool"])
        r = {"held_out": measure(s[y == 1], own_neg if len(own_neg) >= 50 else bp, thr),
             "negatives": "own benign rows" if len(own_neg) >= 50 else "fixed never-trained benign pool",
             "own_benign": measure([], own_neg, thr) if len(own_neg) else None,
             "thresholds": {k: round(v, 6) for k, v in thr.items()},
             "train_rows": len(train), "calib_rows": len(calib)}
        r["never_trained"] = {}
        for nm, (p, n) in spec["never"].items():
            r["never_trained"][nm] = measure(feats.scores(model, p), feats.scores(model, n) if n else bp, thr)
        res[name] = r
        log(task, "fold", name, json.dumps(r["held_out"]), f"{time.time() - t1:.0f}s")
    return res


def summary(task, res):
    rows = [(k, v["held_out"]) for k, v in res.items() if not k.startswith("lang:")]
    pos_folds = [m for _, m in rows if m["n_pos"]]
    mean = lambda k, ms: round(float(np.mean([m[k] for m in ms if k in m])), 4) if any(k in m for m in ms) else None  # noqa: E731
    return {"mean_over_source_folds": {k: mean(k, pos_folds) for k in ("roc_auc", "tpr_at_1pct_fpr", "attacks_blocked", "attacks_escalated")},
            "worst_source_attacks_blocked": min((m.get("attacks_blocked", 1) for m in pos_folds), default=None),
            "mean_benign_blocked_over_folds": mean("benign_blocked", [m for _, m in rows if "benign_blocked" in m])}


def table(task, res) -> list[str]:
    f = lambda m, k: "–" if m is None or m.get(k) is None else f"{100 * m[k]:.1f}%" if k != "roc_auc" else f"{m[k]:.3f}"  # noqa: E731
    md = [f"### {task}: one source held out per fold", "",
          "| held-out source | attacks / benign | AUC | TPR @1% FPR | attacks blocked | attacks escalated | benign blocked | benign escalated | negatives |",
          "|---|---|---|---|---|---|---|---|---|"]
    for k, v in res.items():
        m = v["held_out"]
        md.append(f"| {k} | {m['n_pos']} / {m['n_neg']} | {f(m, 'roc_auc')} | {f(m, 'tpr_at_1pct_fpr')} | {f(m, 'attacks_blocked')} | "
                  f"{f(m, 'attacks_escalated')} | {f(m, 'benign_blocked')} | {f(m, 'benign_escalated')} | {v['negatives']} |")
    md += ["", "Never-trained sets, scored by each fold's model (median over folds):", "",
           "| set | AUC | attacks blocked | benign blocked | benign escalated |", "|---|---|---|---|---|"]
    names = next(iter(res.values()))["never_trained"].keys() if res else []
    for nm in names:
        ms = [v["never_trained"][nm] for v in res.values()]
        med = {k: float(np.median([m[k] for m in ms])) for k in ("roc_auc", "attacks_blocked", "benign_blocked", "benign_escalated") if all(k in m for m in ms)}
        md.append(f"| {nm} | {f(med, 'roc_auc')} | {f(med, 'attacks_blocked')} | {f(med, 'benign_blocked')} | {f(med, 'benign_escalated')} |")
    return md


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["injection", "toxicity"], action="append")
    ap.add_argument("--fold", action="append", help="run only these folds")
    ap.add_argument("--out", default=str(HERE / "crossval.json"))
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="experiment: override a trainer constant (injection.EVERYDAY=False, toxicity.HP=...)")
    ap.add_argument("--name", default="", help="suffix of the result key (experiments)")
    ap.add_argument("--md-only", action="store_true", help="only re-render CROSSVAL.md from the JSON")
    args = ap.parse_args()
    import ast
    for kv in args.set:
        k, v = kv.split("=", 1)
        mod, name = k.split(".", 1)
        setattr({"injection": INJ, "toxicity": TOX}[mod], name, ast.literal_eval(v))
    out_path = Path(args.out)
    out = json.loads(out_path.read_text()) if out_path.exists() else {}
    for task in [] if args.md_only else args.task or ["injection", "toxicity"]:
        res = run(task, set(args.fold) if args.fold else None)
        out[f"tier2_{task}{args.name}"] = {"folds": res, "summary": summary(task, res),
                                "command": "nice -n 10 python models/crossval.py --task " + task + "".join(f" --set {s}" for s in args.set)}
        out_path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md = ["# Cross-source validation (tier 2)", "",
          "Generated by `models/crossval.py` (see its docstring). Each fold trains the shipped tier-2 trainer's",
          "model on every trainable source but one, calibrates on the same sources' calibration split, and is",
          "measured on the held-out source at its own thresholds (`block_above`, `allow_below`).",
          "Keys ending in `_experiment_…` are development runs kept for the record (their command is in",
          "crossval.json; `_experiment_no_everyday` ran before the code/task request rows were added). The",
          "fine-tuned heavy model's folds and the whole cascade per held-out source are in",
          "`heavy/MODEL_CARD.md` (`heavy/crossval.json`).", ""]
    for key, v in out.items():
        md += table(key, v["folds"]) + ["", "Summary: `" + json.dumps(v["summary"]) + "`", ""]
    (HERE / "CROSSVAL.md").write_text("\n".join(md) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
