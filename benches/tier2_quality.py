#!/usr/bin/env python3
"""Tier-2 quality on ../shared/eval/dev: rules alone, models alone, rules + models, side by side.

Every row goes through `parapet scan --scores` with a policy holding the rule-tier injection
heuristics (the shipped default's `prompt-injection` guard) and both tier-2 model guards (audit,
so their scores come back whatever they are). Rows the models were trained on are left out:
permissively licensed dev sources were split by sha256(text) and the half with
`int(sha256[:8], 16) % 100 < 50` was trainable (models/featurizer/trainlib.py: dev_is_train).

Injection (attacks: prompt_injection.jsonl label `injection`; benign: its `benign` rows plus
benign.jsonl): ROC AUC, TPR at 1% and 0.1% FPR (thresholds from the benign scores), TPR/FPR at
the model's shipped `block_above`, by attack subtype; the rule tier's TPR/FPR; rules OR model.
Toxicity (toxicity.jsonl): ROC AUC and F1 at the shipped threshold, by source. Tier shares: of
all prompts (attacks and benign), which the rule tier decides, which the model decides (at or
above `block_above`, or below `allow_below`), and which stay uncertain (would escalate).

Usage: benches/tier2_quality.py [--eval-dir ../shared/eval/dev]
Writes benches/TIER2_QUALITY.md and benches/results/tier2_quality.json.
"""
import argparse
import hashlib
import json
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARAPET = ROOT / "target" / "service" / "parapet"
TRAINABLE_DEV = {"NVIDIA/garak", "leolee99/InjecGuard", "t-davidson/hate-speech-and-offensive-language",
                 "surge-ai/toxicity", "lm-sys/FastChat", "openai/grade-school-math"}
POLICY = {"version": 1, "guards": [
    {"id": "rules", "detector": {"type": "injection_heuristics"}, "action": "block", "threshold": 0.5},
    {"id": "inj", "detector": {"type": "model", "model": "injection"}, "action": "audit"},
    {"id": "tox", "detector": {"type": "model", "model": "toxicity"}, "action": "audit"},
]}


def manifest(model):
    return json.loads((ROOT / "models" / model / "manifest.json").read_text())["thresholds"]


def trained_on(row):
    src = "/".join(row["source"].split("/")[:2])
    key = int(hashlib.sha256(row["text"].encode("utf-8")).hexdigest()[:8], 16)
    return src in TRAINABLE_DEV and key % 100 < 50


def load(eval_dir, name):
    with open(Path(eval_dir) / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def scan(rows):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(POLICY, f)
    data = "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows)
    out = subprocess.run([str(PARAPET), "scan", "--scores", "--config", f.name], input=data.encode(),
                         capture_output=True, check=True).stdout.decode().splitlines()
    return [json.loads(line) for line in out]


def auc(pos, neg):
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        avg = (i + j + 1) / 2
        rank_sum += avg * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(pos), len(neg)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg) if n_pos and n_neg else float("nan")


def threshold_at_fpr(neg, fpr):
    s = sorted(neg, reverse=True)
    k = int(fpr * len(s))  # at most k benign rows at or above the threshold
    return s[k] + 1e-9 if k < len(s) else 0.0


def rate(xs, pred):
    return sum(1 for x in xs if pred(x)) / len(xs) if xs else float("nan")


def pct(x):
    return f"{100 * x:.1f}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval" / "dev"))
    args = ap.parse_args()
    inj_t, tox_t = manifest("injection"), manifest("toxicity")

    pi = [r for r in load(args.eval_dir, "prompt_injection.jsonl") + load(args.eval_dir, "benign.jsonl")
          if not trained_on(r)]
    res = scan(pi)
    attacks, benign = [], []
    for r, v in zip(pi, res):
        item = {"score": v["scores"].get("injection_model", 0.0),
                "rule": any(f["guard"] == "rules" for f in v["findings"]),
                "subtype": (r.get("meta") or {}).get("subtype") or r.get("category") or "unknown",
                "source": "/".join(r["source"].split("/")[:2])}
        (attacks if r["label"] == "injection" else benign).append(item)
    neg = [b["score"] for b in benign]
    t1, t01, ba, al = threshold_at_fpr(neg, 0.01), threshold_at_fpr(neg, 0.001), inj_t["block_above"], inj_t["allow_below"]

    def summary(pos_items):
        pos = [a["score"] for a in pos_items]
        return {
            "n": len(pos_items), "auc": auc(pos, neg),
            "tpr_at_1pct_fpr": rate(pos, lambda s: s >= t1), "tpr_at_0.1pct_fpr": rate(pos, lambda s: s >= t01),
            "model_tpr_at_block_above": rate(pos, lambda s: s >= ba),
            "rules_tpr": rate(pos_items, lambda a: a["rule"]),
            "rules_or_model_tpr": rate(pos_items, lambda a: a["rule"] or a["score"] >= ba),
        }

    by_sub = defaultdict(list)
    for a in attacks:
        by_sub[a["subtype"]].append(a)
    injection = {
        "attacks": len(attacks), "benign": len(benign),
        "thresholds": {"at_1pct_fpr": t1, "at_0.1pct_fpr": t01, "block_above": ba, "allow_below": al},
        "fpr": {"rules": rate(benign, lambda b: b["rule"]), "model_at_block_above": rate(neg, lambda s: s >= ba),
                "rules_or_model": rate(benign, lambda b: b["rule"] or b["score"] >= ba)},
        "overall": summary(attacks),
        "by_subtype": {k: summary(v) for k, v in sorted(by_sub.items())},
    }
    everything = attacks + benign
    shares = {
        "rules": rate(everything, lambda x: x["rule"]),
        "model_block": rate(everything, lambda x: not x["rule"] and x["score"] >= ba),
        "model_allow": rate(everything, lambda x: not x["rule"] and x["score"] < al),
        "uncertain": rate(everything, lambda x: not x["rule"] and al <= x["score"] < ba),
    }

    tox_rows = [r for r in load(args.eval_dir, "toxicity.jsonl") if not trained_on(r)]
    tres = scan(tox_rows)
    by_src = defaultdict(lambda: ([], []))
    for r, v in zip(tox_rows, tres):
        s = v["scores"].get("toxicity_model", 0.0)
        src = "/".join(r["source"].split("/")[:2])
        by_src[src][0 if r["label"] == "toxic" else 1].append(s)
        by_src["all"][0 if r["label"] == "toxic" else 1].append(s)
    thr = tox_t["threshold"]

    def f1(pos, negs):
        tp = sum(1 for s in pos if s >= thr)
        fp = sum(1 for s in negs if s >= thr)
        fn = len(pos) - tp
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    toxicity = {src: {"toxic": len(p), "benign": len(n), "auc": auc(p, n), "f1_at_threshold": f1(p, n),
                      "tpr": rate(p, lambda s: s >= thr), "fpr": rate(n, lambda s: s >= thr)}
                for src, (p, n) in sorted(by_src.items())}
    result = {"command": "benches/tier2_quality.py", "injection": injection, "tier_shares": shares,
              "toxicity": {"threshold": thr, "by_source": toxicity}}
    (ROOT / "benches" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "benches" / "results" / "tier2_quality.json").write_text(json.dumps(result, indent=2) + "\n")

    o = injection["overall"]
    lines = [
        "# Tier-2 quality (dev, rows the models were not trained on)", "",
        "Command: `benches/tier2_quality.py` (numbers: `benches/results/tier2_quality.json`). Rules = the",
        "rule tier's `injection_heuristics` (threshold 0.5, as in the default policy); model = the shipped",
        "injection model; thresholds at 1% / 0.1% FPR are computed from the benign scores of this run.", "",
        f"Injection: {injection['attacks']} attacks, {injection['benign']} benign prompts.", "",
        "| | AUC | TPR @ 1% FPR | TPR @ 0.1% FPR | TPR @ block_above | rules TPR | rules OR model TPR |",
        "|---|---|---|---|---|---|---|",
        f"| **all** | {o['auc']:.3f} | {pct(o['tpr_at_1pct_fpr'])} | {pct(o['tpr_at_0.1pct_fpr'])} | "
        f"{pct(o['model_tpr_at_block_above'])} | {pct(o['rules_tpr'])} | {pct(o['rules_or_model_tpr'])} |",
    ]
    for k, s in injection["by_subtype"].items():
        lines.append(f"| {k} ({s['n']}) | {s['auc']:.3f} | {pct(s['tpr_at_1pct_fpr'])} | {pct(s['tpr_at_0.1pct_fpr'])} | "
                     f"{pct(s['model_tpr_at_block_above'])} | {pct(s['rules_tpr'])} | {pct(s['rules_or_model_tpr'])} |")
    fp = injection["fpr"]
    lines += ["", f"Benign FPR: rules {pct(fp['rules'])}, model at block_above ({ba:.3f}) "
              f"{pct(fp['model_at_block_above'])}, rules OR model {pct(fp['rules_or_model'])}.", "",
              "Share of dev prompts each tier decides (rules first, then the model's band): "
              f"rules {pct(shares['rules'])}, model blocks {pct(shares['model_block'])}, "
              f"model allows {pct(shares['model_allow'])}, uncertain (would escalate) {pct(shares['uncertain'])}.", "",
              f"Toxicity (threshold {thr:.3f}):", "", "| source | toxic | benign | AUC | F1 | TPR | FPR |",
              "|---|---|---|---|---|---|---|"]
    for src, s in toxicity.items():
        lines.append(f"| {src} | {s['toxic']} | {s['benign']} | {s['auc']:.3f} | {s['f1_at_threshold']:.3f} | "
                     f"{pct(s['tpr'])} | {pct(s['fpr'])} |")
    (ROOT / "benches" / "TIER2_QUALITY.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
