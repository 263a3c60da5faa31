#!/usr/bin/env python3
"""Set the cascade's operating point on a broad benign pool: tier-2 band and heavy threshold together.

Each model's trainer sets thresholds from its own calibration split. What users feel is the
cascade: tier 2 blocks at `block_above`, escalates `[allow_below, block_above)` to the heavy tier,
which blocks at its own `block_above`. This step chooses those three numbers jointly, per task, on
the calibration rows of every trainable source (never trained on by any model; sha256 digit),
with every benign source weighted equally, so that no single corpus defines "ordinary":

    maximise   attacks caught (mean over attack sources)
    subject to benign blocked   <= BLOCK_BUDGET    (mean over benign sources, and)
               benign escalated <= ESCALATE_BUDGET (mean over benign sources)

and, among the points whose catch rate is within one standard error of that maximum, takes the
one that spends the block budget most (`choose`). The budgets are the models' own. For injection
the rule tier's injection heuristics (tier 1, the real engine's verdicts) run first: what they
block is blocked and never escalated, and the reported rates include them.

It writes them into models/{injection,toxicity}/manifest.json (`allow_below`, `block_above`)
and models/heavy/{injection,toxicity}_head.json (`block_above`). Run after the trainers:

    nice -n 10 python models/injection/train.py && nice -n 10 python models/toxicity/train.py
    nice -n 10 python models/heavy/finetune.py && nice -n 10 python models/heavy/train.py
    nice -n 10 python models/calibrate.py            # -> models/calibration.json, CALIBRATION.md

The budgets keep a margin below the targets (cascade blocks <= 1%, escalates <= 10% of
ordinary traffic), because a new source is never quite like the calibration pool; the report
also shows the rates on benign sets no model has seen.
"""
from __future__ import annotations

import collections
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BLOCK_BUDGET = 0.006
ESCALATE_BUDGET = 0.08
MIN_GROUP = 20  # a source with fewer calibration rows joins "other"


sys.path.insert(0, str(HERE / "featurizer"))
import trainlib as T  # noqa: E402

log = T.log
load_module = T.load_module

H = load_module("parapet_heavy_train", HERE / "heavy" / "train.py")


def group_of(src: str) -> str:
    if src.startswith("contrastive:"):
        return "contrastive (project)"
    if src.startswith("everyday:"):
        return src.split(":")[1]
    if src.startswith("prompts:"):
        src = src[8:]
    return src[4:] if src.startswith("dev:") else src


def pool_groups(sources: list[str]) -> list[str]:
    """The calibration pool's groups: `group_of` each row's source, sources with fewer than
    MIN_GROUP rows together as "other" (a handful of rows must not weigh as much as a corpus)."""
    groups = [group_of(s) for s in sources]
    cnt = collections.Counter(groups)
    return [g if cnt[g] >= MIN_GROUP else "other" for g in groups]


def balanced(values: np.ndarray, groups: list[str]) -> float:
    by = collections.defaultdict(list)
    for v, g in zip(values, groups):
        by[g].append(v)
    return float(np.mean([np.mean(v) for v in by.values()])) if by else 0.0


def cascade(s2, sh, a2, b2, bh, other=None, rules=None):
    """Blocked / escalated per text. `other`: texts in what tier 2 does not read (trainlib.unread:
    other scripts, other Latin-script languages), which escalate whatever their tier-2 score below b2. `rules`: texts
    the rule tier blocks (trainlib.rule_tier_blocks); they never reach the models."""
    escalated = (s2 >= a2) & (s2 < b2)
    if other is not None:
        escalated |= other & (s2 < b2)
    blocked = (s2 >= b2) | (escalated & (sh >= bh))
    if rules is not None:
        escalated &= ~rules
        blocked |= rules
    return blocked, escalated


def catch_se(caught: np.ndarray, groups: list[str]) -> float:
    """Standard error of the balanced catch rate (mean over attack sources of each one's rate)."""
    by = collections.defaultdict(list)
    for v, g in zip(caught, groups):
        by[g].append(v)
    var = sum(np.mean(v) * (1 - np.mean(v)) / len(v) for v in by.values())
    return float(np.sqrt(var) / len(by)) if by else 0.0


def choose(s2, sh, y, groups, other=None, rules=None, tie="budget"):
    """The operating point: of the grid points within both budgets, those whose balanced catch
    rate is within one standard error of the best (indistinguishable on the calibration
    attacks), and of these the one that spends the block budget most, then escalates least
    (escalation costs latency and heavy-tier capacity). The calibration attack sources are ones
    every model trained on, so their catch rate saturates and many points tie; an unseen source's
    attacks score lower, and the lower thresholds of a point that uses the accepted benign cost
    are what can still catch them. `tie="lowest"` is the rule before: the most caught, ties to the
    lowest benign rates. `tie="heavy"`: of the same near-best points, the one whose benign blocks
    come most from the heavy tier (escalated, then blocked there), then escalates most: tier 2
    blocks alone only what it is surest of (measured on the folds, not adopted:
    heavy/selection/injection_target.json). All compared on the cross-source folds:
    heavy/MODEL_CARD.md (chosen there)."""
    neg, pos = y == 0, y == 1
    gneg = [g for g, n in zip(groups, neg) if n]
    gpos = [g for g, p in zip(groups, pos) if p]
    q = lambda v, f: float(np.quantile(v, 1 - f)) if f > 0 else float(v.max()) + 1e-6  # noqa: E731
    b2s = sorted({q(s2[neg], f) for f in (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01)})
    a2s = sorted({q(s2[neg], f) for f in (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25)})
    bhs = sorted({q(sh[neg], f) for f in (0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08)})
    points = []
    for b2, a2, bh in itertools.product(b2s, a2s, bhs):
        if a2 >= b2:
            continue
        blk, esc = cascade(s2, sh, a2, b2, bh, other, rules)
        bb, be = balanced(blk[neg], gneg), balanced(esc[neg], gneg)
        over = max(0.0, bb - BLOCK_BUDGET) + max(0.0, be - ESCALATE_BUDGET)
        points.append({"allow_below": a2, "block_above": b2, "heavy_block_above": bh,
                       "attacks_caught_balanced": balanced(blk[pos], gpos), "benign_blocked_balanced": bb,
                       "benign_escalated_balanced": be, "within_budget": over == 0.0,
                       "over": over, "se": catch_se(blk[pos], gpos),
                       "heavy": balanced((esc & (sh >= bh))[neg], gneg) if tie == "heavy" else 0.0})
    within = [p for p in points if p["within_budget"]]
    if not within:  # a weak model: the least over budget, then the most caught
        best = max(points, key=lambda p: (-round(p["over"], 4), p["attacks_caught_balanced"]))
    elif tie == "lowest":  # the rule before: the most caught, ties to the lowest benign rates
        best = max(within, key=lambda p: (round(p["attacks_caught_balanced"], 4), -p["benign_blocked_balanced"],
                                          -p["benign_escalated_balanced"]))
    else:
        top = max(within, key=lambda p: (p["attacks_caught_balanced"], -p["benign_blocked_balanced"]))
        near = [p for p in within if p["attacks_caught_balanced"] >= top["attacks_caught_balanced"] - top["se"]]
        if tie == "heavy":
            best = max(near, key=lambda p: (p["heavy"], p["benign_escalated_balanced"], p["attacks_caught_balanced"]))
        else:
            best = max(near, key=lambda p: (p["benign_blocked_balanced"], -p["benign_escalated_balanced"],
                                            p["attacks_caught_balanced"]))
        best = best | {"best_caught_balanced": top["attacks_caught_balanced"], "tolerance": top["se"]}
    return {k: v for k, v in best.items() if k not in ("over", "se", "heavy")}


def per_group(s2, sh, y, groups, thr, other=None, rules=None):
    blk, esc = cascade(s2, sh, thr["allow_below"], thr["block_above"], thr["heavy_block_above"], other, rules)
    out = {}
    for g in sorted(set(groups)):
        for lab in (0, 1):
            m = np.array([gg == g and yy == lab for gg, yy in zip(groups, y)])
            if m.sum():
                out[f"{g} ({'attack' if lab else 'benign'})"] = {
                    "n": int(m.sum()), "blocked": round(float(blk[m].mean()), 4), "escalated": round(float(esc[m].mean()), 4),
                    "tier2_blocked": round(float((s2[m] >= thr["block_above"]).mean()), 4)}
    return out


def main():
    t0 = time.time()
    D = H.data()
    enc = H.Encoder()
    report = {"block_budget": BLOCK_BUDGET, "escalate_budget": ESCALATE_BUDGET,
              "command": "nice -n 10 python models/calibrate.py"}
    for task, key in (("injection", "inj"), ("toxicity", "tox")):
        t2 = H.Tier2(task)
        head_path = HERE / "heavy" / f"{task}_head.json"
        head = json.loads(head_path.read_text())
        calib = list(D[key]["calib"]) + (list(D["inj"]["everyday"]["calib"]) if task == "injection" else [])
        texts = [x[0] for x in calib]
        y = np.array([x[1] for x in calib])
        groups = pool_groups([x[2] for x in calib])
        s2 = t2.scores(texts)
        sh = H.head_scores(head, enc.embed(texts), s2 if head["input"] != "embedding" else None)
        # the injection detector's `other_scripts` and `other_languages: uncertain`
        # (core/src/detectors/model.rs); toxicity scores them
        script_rule = T.unread if task == "injection" else (lambda tx: None)
        other = script_rule(texts)
        # tier 1 blocks before the models and counts in every figure below; the budgets are the
        # models' own (tier 1's precision is its own report, benches/QUALITY.md), so it is not
        # passed to `choose` (finetune.py's folds compare both: `cascade_tier1_in_budget`)
        rules = T.rule_tier_blocks(texts, task)
        thr = choose(s2, sh, y, groups, other)
        log(task, json.dumps(thr))
        # never-trained benign sets: the same cascade
        checks = {}
        ev = H.eval_sets(task, D)
        if task == "toxicity":  # the project's evaluation-only identity statements (never trained on)
            C = load_module("parapet_contrastive", HERE / "data" / "contrastive.py")
            er = C.eval_rows()
            ev["identity statements (project templates, eval only)"] = ([r["text"] for r in er], [r["label"] for r in er])
        if task == "injection":  # the project's evaluation-only instruction complaints (never trained on)
            C = load_module("parapet_contrastive", HERE / "data" / "contrastive.py")
            er = C.eval_injection_rows()
            ev["instruction complaints and reminders (project templates, eval only)"] = (
                [r["text"] for r in er], [r["label"] for r in er])
        if task == "injection":  # ordinary sentences in other languages (never trained on): what unread text costs
            ex = [(t, lang) for t, lang in T.spacy_examples() if lang not in ("en", "xx")]
            for name, keep in (("Latin-script languages other than English", lambda t: not T.script_rule.other_script(t)),
                               ("other scripts", T.script_rule.other_script)):
                tx = [t for t, _ in ex if keep(t)]
                ev[f"spaCy example sentences, {name} (MIT, eval only)"] = (tx, [0] * len(tx))
            # the held-out dev rows, one set per source
            d = D["inj"]
            for src in sorted({x[2] for x in d["ev_pos"] + d["ev_neg"]}):
                p_ = [x[0] for x in d["ev_pos"] if x[2] == src]
                n_ = [x[0] for x in d["ev_neg"] if x[2] == src]
                ev[f"heldout_dev: {src}"] = (p_ + n_, [1] * len(p_) + [0] * len(n_))
        for name, (tx, labels) in ev.items():
            yy = np.asarray(labels)
            a = t2.scores(tx)
            b = H.head_scores(head, enc.embed(tx), a if head["input"] != "embedding" else None)
            blk, esc = cascade(a, b, thr["allow_below"], thr["block_above"], thr["heavy_block_above"], script_rule(tx),
                               T.rule_tier_blocks(tx, task))
            checks[name] = {"attacks": int((yy == 1).sum()), "benign": int((yy == 0).sum()),
                            "attacks_caught": round(float(blk[yy == 1].mean()), 4) if (yy == 1).any() else None,
                            "benign_blocked": round(float(blk[yy == 0].mean()), 4) if (yy == 0).any() else None,
                            "benign_escalated": round(float(esc[yy == 0].mean()), 4) if (yy == 0).any() else None}
        assert thr["within_budget"], f"{task}: no operating point within the budgets on the calibration pool"
        report[task] = {"thresholds": {k: round(float(v), 6) for k, v in thr.items() if k in ("allow_below", "block_above", "heavy_block_above")},
                        "calibration_pool": {k: round(float(v), 4) for k, v in thr.items() if k.endswith("balanced")},
                        "calibration_by_source": per_group(s2, sh, y, groups, thr, other, rules),
                        "never_trained_sets": checks,
                        "previous": {"tier2": {k: t2.thr[k] for k in ("allow_below", "block_above")},
                                     "heavy_block_above": head["thresholds"]["block_above"]}}
        # write the operating point
        mpath = HERE / task / "manifest.json"
        man = json.loads(mpath.read_text())
        man["thresholds"]["allow_below"] = round(float(thr["allow_below"]), 6)
        man["thresholds"]["block_above"] = round(float(thr["block_above"]), 6)
        man["thresholds"]["operating_point"] = "models/calibrate.py (CALIBRATION.md)"
        mpath.write_text(json.dumps(man, indent=1) + "\n", encoding="utf-8")
        head["thresholds"]["block_above"] = round(float(thr["heavy_block_above"]), 6)
        head_path.write_text(json.dumps(head) + "\n", encoding="utf-8")
    H.write_manifest()  # the heavy heads changed: refresh models/heavy/manifest.json
    report["elapsed_s"] = round(time.time() - t0)
    (HERE / "calibration.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md = ["# Cascade operating point", "",
          f"Generated by `models/calibrate.py` (`{report['command']}`). Budgets on the calibration pool, every benign "
          f"source weighted equally: cascade blocks ≤ {BLOCK_BUDGET:.1%}, escalates ≤ {ESCALATE_BUDGET:.0%} "
          "(targets: 1% and 10%). Of the points within both budgets whose attack catch rate is within one standard "
          "error of the best, the one that spends the block budget most, then escalates least (`choose`). The budgets "
          "are the models' own; for injection the default policy's injection heuristics (tier 1, verdicts of "
          "`parapet scan`) run first and every figure below includes what they block; toxicity has no tier-1 guard "
          "of its own.", ""]
    for task in ("injection", "toxicity"):
        r = report[task]
        t = r["thresholds"]
        md += [f"## {task}", "",
               f"Tier 2 `allow_below` {t['allow_below']}, `block_above` {t['block_above']}; heavy `block_above` {t['heavy_block_above']}. "
               f"Calibration pool (balanced): attacks caught {r['calibration_pool']['attacks_caught_balanced']:.1%}, "
               f"benign blocked {r['calibration_pool']['benign_blocked_balanced']:.2%}, escalated {r['calibration_pool']['benign_escalated_balanced']:.1%}.", "",
               "| calibration rows by source | n | cascade blocked | escalated | tier 2 blocked |", "|---|---|---|---|---|"]
        md += [f"| {k} | {v['n']} | {v['blocked']:.1%} | {v['escalated']:.1%} | {v['tier2_blocked']:.1%} |" for k, v in r["calibration_by_source"].items()]
        md += ["", "| never-trained set | attacks | benign | attacks caught | benign blocked | benign escalated |", "|---|---|---|---|---|---|"]
        f = lambda v: "–" if v is None else f"{v:.1%}"  # noqa: E731
        md += [f"| {k} | {v['attacks']} | {v['benign']} | {f(v['attacks_caught'])} | {f(v['benign_blocked'])} | {f(v['benign_escalated'])} |"
               for k, v in r["never_trained_sets"].items()]
        md.append("")
    (HERE / "CALIBRATION.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    log("done", f"{time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
