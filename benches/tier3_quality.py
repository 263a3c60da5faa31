#!/usr/bin/env python3
"""Tier-3 (full cascade) quality on ../shared/eval/dev, through the built binaries.

Tiers 1-2: every row goes once through `target/release/parapet scan --scores --config
envoy/policies/cascade.yaml` (one process, all rows on stdin). Tier 3: the service binary
`target/service/parapet-ext-proc` is started here and asked over its HTTP API
(`POST /v1/classify`) about exactly the rows the cascade escalates; its `flagged` settles them
the way `Policy::resolve` (core/src/engine.rs) does: a flagged text becomes a finding with the
guard's action (injection-model: block, toxicity-model: audit); not flagged passes.

Escalated rows: a request escalates a model guard when the tier-2 score s is uncertain,
allow_below <= s < block_above (thresholds of models/*/manifest.json, which cascade.yaml does not
override; a text longer than the detector's max_tokens has no score and is uncertain too, and so
is, for the injection model, a text mostly in scripts other than Latin, below block_above), and
the request is not already blocked by tiers 1-2 (`evaluate_request` clears pending escalations of
a blocked request, core/src/engine.rs). If the CLI prints `pending` (newer builds), that list is
used and checked against this rule.

Held-out rows: exactly benches/tier2_quality.py's (`trained_on`, imported from it). Toxicity is
also reported on the stricter subset the toxicity models really never saw (the toxicity trainers
use a 70% split of t-davidson / surge-ai, tier2_quality.py assumes 50%; this subset is the one of
models/heavy/eval.json's `all_heldout_rows`). Extra injection hard sets (not in tier2_quality.py,
used by models/heavy/eval.json): bastioncorpus (from the cached wheel, when present) and
models/injection/trigger_benign_eval.txt.

Heavy head alone and the similarity guard alone (for AUC) run on a random sample per class
(injection) or per (source, label) cell (toxicity), sizes below; estimates are weighted back to
the full sets (weight = cell size / cell sample size). Everything else uses all rows.

Usage: nice -n 10 .venv/bin/python benches/tier3_quality.py [--eval-dir ../shared/eval/dev]
       [--inj-sample 700] [--tox-sample 250] [--service-url http://127.0.0.1:50152]
Writes benches/results/tier3_quality.json and prints the tables (markdown).
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.dont_write_bytecode = True  # importing tier2_quality must not leave benches/__pycache__ behind
sys.path.insert(0, str(ROOT / "benches"))
import tier2_quality as T2  # noqa: E402  (held-out definition: T2.trained_on, T2.load)
sys.path.insert(0, str(ROOT / "models" / "featurizer"))
from script_rule import unread  # noqa: E402  (tier 2's other_scripts / other_languages rules, as core/src/detectors/model.rs)

PARAPET = ROOT / "target" / "service" / "parapet"
EXTPROC = ROOT / "target" / "service" / "parapet-ext-proc"
POLICY = "envoy/policies/cascade.yaml"
SERVICE_CONFIG = "ext-proc/parapet-ext-proc.yaml"
GRPC, HTTP = "127.0.0.1:50151", "127.0.0.1:50152"
TOX_TRAIN_PCT = 70  # models/toxicity/train.py TRAIN_PCT (heavy toxicity head: same split)
TOX_SOURCES = {"t-davidson/hate-speech-and-offensive-language", "surge-ai/toxicity"}
BATCH = 64  # most tasks per /v1/classify call
SEED = 20241121


# ------------------------------------------------------------------ data


def src_of(r):
    return "/".join(r["source"].split("/")[:2])


def sha_key(text):
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def bastion_rows():
    cache = Path(os.environ.get("PARAPET_TRAIN_CACHE", Path.home() / ".cache" / "parapet-train"))
    whl = sorted(cache.glob("bastioncorpus-0.6.0-*.whl"))
    if not whl:
        return None
    with zipfile.ZipFile(whl[0]) as zf:
        lines = zf.read("bastioncorpus/corpus/injections.jsonl").decode("utf-8").splitlines()
    out = []
    for line in lines:
        if line.strip():
            r = json.loads(line)
            out.append({"text": r["text"], "label": 1 if r["label"] == "malicious" else 0,
                        "subtype": r["category"], "source": "bastioncorpus"})
    return out


def trigger_rows():
    p = ROOT / "models" / "injection" / "trigger_benign_eval.txt"
    return [{"text": ln.rstrip("\n"), "label": 0, "subtype": "trigger_word", "source": "trigger_word_benign"}
            for ln in open(p, encoding="utf-8") if ln.strip() and not ln.startswith("#")]


def datasets(eval_dir):
    pi = []
    for r in T2.load(eval_dir, "prompt_injection.jsonl") + T2.load(eval_dir, "benign.jsonl"):
        if T2.trained_on(r):
            continue
        pi.append({"text": r["text"], "label": 1 if r["label"] == "injection" else 0,
                   "subtype": (r.get("meta") or {}).get("subtype") or r.get("category") or "unknown",
                   "source": src_of(r)})
    tox = []
    for r in T2.load(eval_dir, "toxicity.jsonl"):
        if T2.trained_on(r):
            continue
        src = src_of(r)
        tox.append({"text": r["text"], "label": 1 if r["label"] == "toxic" else 0, "source": src,
                    "strict": not (src in TOX_SOURCES and sha_key(r["text"]) % 100 < TOX_TRAIN_PCT)})
    return pi, tox, bastion_rows(), trigger_rows()


# ------------------------------------------------------------------ tiers 1-2 (CLI)


def thresholds(model):
    t = json.loads((ROOT / "models" / model / "manifest.json").read_text())["thresholds"]
    return t["allow_below"], t["block_above"]


def run_cli(rows, parapet):
    data = "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows).encode()
    t0 = time.time()
    out = subprocess.run([str(parapet), "scan", "--scores", "--config", POLICY], input=data, cwd=ROOT,
                         capture_output=True, check=True).stdout.decode().splitlines()
    wall = time.time() - t0
    assert len(out) == len(rows), (len(out), len(rows))
    return [json.loads(x) for x in out], wall


def tier12(rows, verdicts, thr):
    """Annotate rows with the tiers-1-2 verdict and the escalations the cascade would make."""
    emitted = any("pending" in v for v in verdicts)
    agree = disagree = 0
    for r, v in zip(rows, verdicts):
        guards = {f["guard"] for f in v["findings"]}
        r["decision12"] = v["decision"]
        r["guards12"] = sorted(guards)
        r["inj_s"] = v["scores"].get("injection_model")
        r["tox_s"] = v["scores"].get("toxicity_model")
        r["rules_inj"] = "prompt-injection" in guards
        r["rules_tox"] = "profanity" in guards
        r["t2_inj"] = "injection-model" in guards
        r["t2_tox"] = "toxicity-model" in guards
        band = []
        if r["text"].strip():
            for m, s in (("injection", r["inj_s"]), ("toxicity", r["tox_s"])):
                al, ba = thr[m]
                if s is None or al <= s < ba or (m == "injection" and s < ba and unread(r["text"])):
                    band.append(m)
        r["band"] = band  # uncertain at tier 2, whatever tier 1 said
        derived = [] if v["decision"] == "block" else list(band)
        if emitted:
            got = [] if v["decision"] == "block" else [e["model"] for e in v.get("pending", [])]
            agree += got == derived
            disagree += got != derived
            derived = got
        r["escalate"] = derived
    return {"cli_emits_pending": emitted, "pending_agrees_with_band_rule": agree if emitted else None,
            "pending_disagrees": disagree if emitted else None}


# ------------------------------------------------------------------ tier 3 (service)


class Service:
    def __init__(self, url, start, log_path):
        self.url, self.proc = url.rstrip("/"), None
        if start:
            self.log = open(log_path, "w")
            self.cmd = [str(EXTPROC), "--config", SERVICE_CONFIG, "--listen", GRPC, "--http-listen", HTTP]
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            t0 = time.time()
            while "ready" not in Path(log_path).read_text():
                if self.proc.poll() is not None or time.time() - t0 > 120:
                    raise SystemExit(f"parapet-ext-proc did not start:\n{Path(log_path).read_text()}")
                time.sleep(0.2)

    def classify(self, tasks):
        req = urllib.request.Request(self.url + "/v1/classify", data=json.dumps({"tasks": tasks}).encode(),
                                     headers={"content-type": "application/json"})
        for attempt in range(5):
            try:
                with urllib.request.urlopen(req, timeout=300) as resp:
                    return json.loads(resp.read())["results"]
            except urllib.error.URLError:
                if attempt == 4 or (self.proc and self.proc.poll() is not None):
                    raise
                time.sleep(1)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()


def escalate_all(svc, rows, cache):
    """The cascade's tier-3 step, as the filter does it: one Classify call per escalated request
    with all its pending tasks, requests one after another. Returns per-call wall times."""
    times, tasks_n, errors = [], 0, 0
    for r in rows:
        if not r["escalate"]:
            continue
        tasks = [{"model": m, "text": r["text"]} for m in r["escalate"]]
        t0 = time.perf_counter()
        res = svc.classify(tasks)
        times.append(time.perf_counter() - t0)
        tasks_n += len(tasks)
        for t, x in zip(tasks, res):
            errors += bool(x.get("error"))
            cache[(t["model"], t["text"])] = x
    return {"calls": len(times), "tasks": tasks_n, "errors": errors, "times": times}


def score_batched(svc, pairs, cache):
    todo = list(dict.fromkeys(p for p in pairs if p not in cache))
    t0 = time.perf_counter()
    for i in range(0, len(todo), BATCH):
        chunk = todo[i:i + BATCH]
        for p, x in zip(chunk, svc.classify([{"model": m, "text": t} for m, t in chunk])):
            cache[p] = x
    return len(todo), time.perf_counter() - t0


def flagged(cache, model, text):
    x = cache[(model, text)]
    return bool(x["flagged"]) and not x.get("error")  # on_failure: open


def settle(rows, cache):
    """Apply the tier-3 answers: Policy::resolve."""
    for r in rows:
        t3 = {m: flagged(cache, m, r["text"]) for m in r["escalate"]}
        r["t3_inj"], r["t3_tox"] = t3.get("injection", False), t3.get("toxicity", False)
        r["casc_inj"] = r["rules_inj"] or r["t2_inj"] or r["t3_inj"]
        r["casc_tox"] = r["rules_tox"] or r["t2_tox"] or r["t3_tox"]
        r["block12"] = r["decision12"] == "block"
        r["block_casc"] = r["block12"] or r["t3_inj"]  # toxicity-model is audit-only in cascade.yaml


# ------------------------------------------------------------------ metrics


def wauc(pos, neg):
    """Weighted ROC AUC; pos/neg: lists of (score, weight). Ties count one half."""
    if not pos or not neg:
        return None
    items = sorted([(s, w, 1) for s, w in pos] + [(s, w, 0) for s, w in neg])
    wn_below, total, i = 0.0, 0.0, 0
    while i < len(items):
        j = i
        while j < len(items) and items[j][0] == items[i][0]:
            j += 1
        wp = sum(w for _, w, y in items[i:j] if y)
        wn = sum(w for _, w, y in items[i:j] if not y)
        total += wp * (wn_below + wn / 2)
        wn_below += wn
        i = j
    return total / (sum(w for _, w in pos) * sum(w for _, w in neg))


def confusion(rows, pred, w=lambda r: 1.0):
    tp = fp = fn = tn = 0.0
    n = Counter()
    for r in rows:
        p, y, wt = bool(pred(r)), r["label"], w(r)
        n[(y, p)] += 1
        if y and p:
            tp += wt
        elif y:
            fn += wt
        elif p:
            fp += wt
        else:
            tn += wt
    return {"pos": n[(1, True)] + n[(1, False)], "neg": n[(0, True)] + n[(0, False)],
            "tp": round(tp, 2), "fp": round(fp, 2), "fn": round(fn, 2), "tn": round(tn, 2),
            "recall": tp / (tp + fn) if tp + fn else None, "fpr": fp / (fp + tn) if fp + tn else None,
            "precision": tp / (tp + fp) if tp + fp else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp else (0.0 if fp + fn else None)}


def r4(x):
    return None if x is None else round(x, 4)


def rounded(d):
    return {k: (r4(v) if isinstance(v, float) and k in ("recall", "fpr", "precision", "f1", "auc") else v)
            for k, v in d.items()}


def share(rows, pred):
    return sum(1 for r in rows if pred(r)) / len(rows) if rows else None


def esc_shares(rows, model=None):
    e = (lambda r: bool(r["escalate"])) if model is None else (lambda r: model in r["escalate"])
    return {"all": r4(share(rows, e)), "pos": r4(share([r for r in rows if r["label"]], e)),
            "neg": r4(share([r for r in rows if not r["label"]], e)),
            "rows": sum(1 for r in rows if e(r))}


def sample_cells(rows, key, cap, rng):
    cells = defaultdict(list)
    for i, r in enumerate(rows):
        cells[key(r)].append(i)
    chosen = {}
    for k, idx in sorted(cells.items()):
        pick = idx if len(idx) <= cap else rng.sample(idx, cap)
        for i in pick:
            chosen[i] = len(idx) / len(pick)
    return chosen  # row index -> weight


def pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def f3(x):
    return "-" if x is None else f"{x:.3f}"


# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval" / "dev"))
    ap.add_argument("--parapet", default=str(PARAPET))
    ap.add_argument("--inj-sample", type=int, default=700, help="rows per class for heavy/similarity alone")
    ap.add_argument("--tox-sample", type=int, default=250, help="rows per (source, label) for heavy alone")
    ap.add_argument("--service-url", default=None, help="use a running service instead of starting one")
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "tier3_quality.json"))
    args = ap.parse_args()
    t_start = time.time()
    rng = random.Random(SEED)
    thr = {"injection": thresholds("injection"), "toxicity": thresholds("toxicity")}

    pi, tox, bastion, trigger = datasets(args.eval_dir)
    hard = (bastion or []) + trigger
    everything = pi + tox + hard
    verdicts, cli_wall = run_cli(everything, args.parapet)
    cli_info = tier12(everything, verdicts, thr)
    # The CLI's findings agree with the manifest thresholds (cascade.yaml sets no band of its own).
    for key, fk, m in (("inj_s", "t2_inj", "injection"), ("tox_s", "t2_tox", "toxicity")):
        bad = [r for r in everything if r[key] is not None and (r[key] >= thr[m][1]) != r[fk]]
        assert not bad, f"{m}: {len(bad)} rows where the finding disagrees with block_above"

    svc = Service(args.service_url or f"http://{HTTP}", args.service_url is None, "/tmp/parapet-tier3-quality-service.log")
    cache = {}
    try:
        esc = {name: escalate_all(svc, rows, cache) for name, rows in (("injection_rows", pi), ("toxicity_rows", tox),
                                                                         ("hard_rows", hard))}
        # Comparison only (not part of the cascade): every tier-2 band row of the task's own model,
        # also those tier 1 already blocked, to reproduce models/heavy/eval.json's model-only cascade.
        extra = [("injection", r["text"]) for r in pi + hard if "injection" in r["band"]]
        extra += [("toxicity", r["text"]) for r in tox + pi + hard if "toxicity" in r["band"]]
        n_extra, t_extra = score_batched(svc, extra, cache)
        # Heavy head / similarity alone on samples.
        inj_w = sample_cells(pi, lambda r: r["label"], args.inj_sample, rng)
        tox_w = sample_cells(tox, lambda r: (r["source"], r["label"]), args.tox_sample, rng)
        pairs = [(m, pi[i]["text"]) for i in inj_w for m in ("injection", "similarity")]
        pairs += [(m, r["text"]) for r in hard for m in ("injection", "similarity")]
        pairs += [("toxicity", tox[i]["text"]) for i in tox_w]
        n_alone, t_alone = score_batched(svc, pairs, cache)
        # Determinism: rescore some escalated texts in batches (the cascade asked one request at a time).
        again = [(m, r["text"]) for r in pi + tox for m in r["escalate"]]
        again = rng.sample(again, min(128, len(again)))
        fresh = {}
        score_batched(svc, again, fresh)
        max_diff = max((abs(fresh[p]["score"] - cache[p]["score"]) for p in again), default=0.0)
    finally:
        svc.stop()

    for rows in (pi, tox, hard):
        settle(rows, cache)
    for i, w in inj_w.items():
        pi[i]["w"] = w
    for i, w in tox_w.items():
        tox[i]["w"] = w
    for r in hard:
        r["w"] = 1.0

    def heavy(r, m):
        return cache[(m, r["text"])]

    # ---------------- injection
    inj_cfg = {
        "rules (prompt-injection heuristics)": lambda r: r["rules_inj"],
        "tier 2 (injection model >= block_above)": lambda r: r["t2_inj"],
        "tiers 1-2 (rules OR model)": lambda r: r["rules_inj"] or r["t2_inj"],
        "cascade (tiers 1-2 + tier 3 on escalated)": lambda r: r["casc_inj"],
        "policy decision block, tiers 1-2 (all cascade.yaml guards)": lambda r: r["block12"],
        "policy decision block, cascade (all cascade.yaml guards)": lambda r: r["block_casc"],
        "model-only cascade (tier-2 band -> heavy; eval.json's definition)":
            lambda r: (r["inj_s"] is not None and r["inj_s"] >= thr["injection"][1])
            or ("injection" in r["band"] and flagged(cache, "injection", r["text"])),
    }
    sampled = {"heavy injection head alone (sample)": lambda r: flagged(cache, "injection", r["text"]),
               "similarity guard alone (sample)": lambda r: flagged(cache, "similarity", r["text"])}

    def inj_table(rows, rows_sampled, w):
        out = {}
        for name, f in inj_cfg.items():
            out[name] = rounded(confusion(rows, f))
        for name, f in sampled.items():
            out[name] = rounded(confusion(rows_sampled, f, w))
        pos = [r for r in rows if r["label"]]
        neg = [r for r in rows if not r["label"]]
        out["tier 2 (injection model >= block_above)"]["auc"] = r4(wauc(
            [(r["inj_s"] if r["inj_s"] is not None else 1.0, 1.0) for r in pos],
            [(r["inj_s"] if r["inj_s"] is not None else 1.0, 1.0) for r in neg]))
        for name, m in (("heavy injection head alone (sample)", "injection"), ("similarity guard alone (sample)", "similarity")):
            out[name]["auc"] = r4(wauc([(heavy(r, m)["score"], w(r)) for r in rows_sampled if r["label"]],
                                       [(heavy(r, m)["score"], w(r)) for r in rows_sampled if not r["label"]]))
            out[name]["sampled_rows"] = len(rows_sampled)
        return out

    pi_s = [r for r in pi if "w" in r]
    injection = {"rows": {"attacks": sum(r["label"] for r in pi), "benign": sum(1 - r["label"] for r in pi)},
                 "thresholds": {"tier2": dict(zip(("allow_below", "block_above"), thr["injection"]))},
                 "overall": inj_table(pi, pi_s, lambda r: r["w"]),
                 "escalated_share_any_model": esc_shares(pi), "escalated_share_injection_model": esc_shares(pi, "injection"),
                 "tier2_band_share_ignoring_tier1": {
                     "all": r4(share(pi, lambda r: "injection" in r["band"])),
                     "pos": r4(share([r for r in pi if r["label"]], lambda r: "injection" in r["band"])),
                     "neg": r4(share([r for r in pi if not r["label"]], lambda r: "injection" in r["band"]))}}
    main_cfg = list(inj_cfg)[:4] + ["policy decision block, cascade (all cascade.yaml guards)"]
    by_sub = defaultdict(list)
    for r in pi:
        by_sub[(r["label"], r["subtype"] if r["label"] else r["source"])].append(r)
    injection["by_subtype_attacks"] = {
        k[1]: {"n": len(v), "escalated": r4(share(v, lambda r: "injection" in r["escalate"])),
               **{c: r4(share(v, inj_cfg[c])) for c in main_cfg},
               "heavy alone (sample)": r4(confusion([r for r in v if "w" in r], sampled["heavy injection head alone (sample)"])["recall"]),
               "similarity alone (sample)": r4(confusion([r for r in v if "w" in r], sampled["similarity guard alone (sample)"])["recall"])}
        for k, v in sorted(by_sub.items()) if k[0] == 1}
    injection["by_source_benign_fpr"] = {
        k[1]: {"n": len(v), "escalated": r4(share(v, lambda r: "injection" in r["escalate"])),
               **{c: r4(share(v, inj_cfg[c])) for c in main_cfg},
               "heavy alone (sample)": r4(confusion([r for r in v if "w" in r], sampled["heavy injection head alone (sample)"])["fpr"]),
               "similarity alone (sample)": r4(confusion([r for r in v if "w" in r], sampled["similarity guard alone (sample)"])["fpr"])}
        for k, v in sorted(by_sub.items()) if k[0] == 0}
    hard_sets = {}
    for name, rows in (("bastioncorpus", bastion or []), ("trigger_word_benign", trigger)):
        if rows:
            hard_sets[name] = {"table": inj_table(rows, rows, lambda r: 1.0),
                               "escalated_share_injection_model": esc_shares(rows, "injection")}
    injection["hard_sets"] = hard_sets if bastion is not None else {**hard_sets, "bastioncorpus": "wheel not in cache"}

    # ---------------- toxicity
    tox_thr = json.loads((ROOT / "models" / "toxicity" / "manifest.json").read_text())["thresholds"]["threshold"]
    tox_cfg = {
        "rules (profanity guard, min_severity medium)": lambda r: r["rules_tox"],
        "tier 2 (toxicity model >= block_above)": lambda r: r["t2_tox"],
        "tiers 1-2 (rules OR model)": lambda r: r["rules_tox"] or r["t2_tox"],
        "cascade (tiers 1-2 + tier 3 on escalated)": lambda r: r["casc_tox"],
        "tier 2 at tier2_quality.py's threshold": lambda r: r["tox_s"] is not None and r["tox_s"] >= tox_thr,
        "model-only cascade (tier-2 band -> heavy; eval.json's definition)":
            lambda r: (r["tox_s"] is not None and r["tox_s"] >= thr["toxicity"][1])
            or ("toxicity" in r["band"] and flagged(cache, "toxicity", r["text"])),
        "policy decision block, tiers 1-2 (any guard; collateral)": lambda r: r["block12"],
        "policy decision block, cascade (any guard; collateral)": lambda r: r["block_casc"],
        "injection flagged by tier 3 (collateral block)": lambda r: r["t3_inj"],
    }

    def tox_table(rows):
        out = {name: rounded(confusion(rows, f)) for name, f in tox_cfg.items()}
        pos = [r for r in rows if r["label"]]
        neg = [r for r in rows if not r["label"]]
        sc = lambda r: r["tox_s"] if r["tox_s"] is not None else 1.0  # noqa: E731
        out["tier 2 (toxicity model >= block_above)"]["auc"] = r4(wauc([(sc(r), 1.0) for r in pos], [(sc(r), 1.0) for r in neg]))
        rs = [r for r in rows if "w" in r]
        h = rounded(confusion(rs, lambda r: flagged(cache, "toxicity", r["text"]), lambda r: r["w"]))
        h["auc"] = r4(wauc([(heavy(r, "toxicity")["score"], r["w"]) for r in rs if r["label"]],
                           [(heavy(r, "toxicity")["score"], r["w"]) for r in rs if not r["label"]]))
        h["sampled_rows"] = len(rs)
        out["heavy toxicity head alone (sample)"] = h
        return {"rows": {"toxic": len(pos), "benign": len(neg)}, "table": out,
                "escalated_share_any_model": esc_shares(rows), "escalated_share_toxicity_model": esc_shares(rows, "toxicity"),
                "escalated_share_injection_model": esc_shares(rows, "injection"),
                "tier2_band_share_ignoring_tier1": {
                    "all": r4(share(rows, lambda r: "toxicity" in r["band"])),
                    "pos": r4(share(pos, lambda r: "toxicity" in r["band"])),
                    "neg": r4(share(neg, lambda r: "toxicity" in r["band"]))}}

    toxicity = {"thresholds": {"tier2": dict(zip(("allow_below", "block_above"), thr["toxicity"]))},
                "tier2_quality_rows": {"all": tox_table(tox)}, "strictly_heldout_rows": {"all": tox_table([r for r in tox if r["strict"]])}}
    for src in sorted({r["source"] for r in tox}):
        toxicity["tier2_quality_rows"][src] = tox_table([r for r in tox if r["source"] == src])
        toxicity["strictly_heldout_rows"][src] = tox_table([r for r in tox if r["source"] == src and r["strict"]])
    ordinary = [r for r in pi if not r["label"]]  # eval.json's ordinary_prompts_heldout: toxicity FPR on prompts
    toxicity["ordinary_prompts_benign"] = {
        "rows": len(ordinary), "escalated_share_toxicity_model": esc_shares(ordinary, "toxicity"),
        "tier2_band_share_ignoring_tier1": r4(share(ordinary, lambda r: "toxicity" in r["band"])),
        "fpr": {name: r4(share(ordinary, f)) for name, f in tox_cfg.items()}}
    perm = [r for r in tox if r["strict"] and r["source"] in TOX_SOURCES]
    toxicity["strictly_heldout_rows"]["permissive (t-davidson + surge-ai)"] = tox_table(perm)

    # ---------------- models/heavy/eval.json (Python, same held-out rows) vs these binaries
    ev = json.loads((ROOT / "models" / "heavy" / "eval.json").read_text())

    def pair(e_h, e_c, e_t2, ours, band_share, alone, t2, ours_casc):
        return {
            "heavy_alone_auc": [e_h.get("roc_auc"), alone.get("auc")],
            "heavy_alone_tpr_at_block_above": [e_h.get("tpr_at_block_above"), r4(alone["recall"])],
            "heavy_alone_fpr_at_block_above": [e_h.get("fpr_at_block_above"), r4(alone["fpr"])],
            "tier2_auc": [e_t2.get("roc_auc"), t2.get("auc")],
            "tier2_tpr_at_block_above": [e_t2.get("tpr_at_block_above"), r4(t2["recall"])],
            "tier2_fpr_at_block_above": [e_t2.get("fpr_at_block_above"), r4(t2["fpr"])],
            "band_share_escalated": [e_c.get("escalated_share"), band_share],
            "model_only_cascade_tpr": [e_c.get("cascade_tpr"), r4(ours_casc["recall"])],
            "model_only_cascade_fpr": [e_c.get("cascade_fpr"), r4(ours_casc["fpr"])],
        }

    mo_i = "model-only cascade (tier-2 band -> heavy; eval.json's definition)"
    comparison = {"note": "[eval.json, this run]; heavy alone here is on the sample (dev injection rows) or all rows (hard sets)"}
    for name, ours in (("heldout_dev", injection["overall"]),) + tuple(
            (k, v["table"]) for k, v in hard_sets.items()):
        e = ev["injection"]["heldout"][name]
        rows = pi if name == "heldout_dev" else (bastion if name == "bastioncorpus" else trigger)
        c = pair(e["heavy_stacked"], e["cascade_heavy_stacked"], e["tier2"], ours,
                 r4(share(rows, lambda r: "injection" in r["band"])), ours["heavy injection head alone (sample)"],
                 ours["tier 2 (injection model >= block_above)"], ours[mo_i])
        es = ev["similarity"]["heldout"][name]
        sim = ours["similarity guard alone (sample)"]
        c |= {"similarity_auc": [es.get("roc_auc"), sim.get("auc")],
              "similarity_tpr_at_threshold": [es.get("tpr_at_threshold"), r4(sim["recall"])],
              "similarity_fpr_at_threshold": [es.get("fpr_at_threshold"), r4(sim["fpr"])]}
        comparison["injection:" + name] = c
    sh = toxicity["strictly_heldout_rows"]
    for e_name, ours_name in (("permissive_heldout (t-davidson + surge-ai, 30% never trained on)", "permissive (t-davidson + surge-ai)"),
                              ("t-davidson", "t-davidson/hate-speech-and-offensive-language"), ("surge-ai", "surge-ai/toxicity"),
                              ("stormfront (CC BY-SA, eval only, other domain)", "aitor-garcia-p/hate-speech-dataset"),
                              ("all_heldout_rows", "all")):
        e = ev["toxicity"]["heldout"][e_name]
        t = sh[ours_name]["table"]
        comparison["toxicity:" + e_name] = pair(
            e["heavy_stacked"], e["cascade_heavy_stacked"], e["tier2"], t, sh[ours_name]["tier2_band_share_ignoring_tier1"]["all"],
            t["heavy toxicity head alone (sample)"], t["tier 2 (toxicity model >= block_above)"],
            t["model-only cascade (tier-2 band -> heavy; eval.json's definition)"])

    # ---------------- latency and run info
    def lat(e):
        ts = sorted(e["times"])
        if not ts:
            return {k: v for k, v in e.items() if k != "times"}
        return {"calls": e["calls"], "tasks": e["tasks"], "errors": e["errors"], "total_s": round(sum(ts), 2),
                "mean_ms_per_escalated_row": round(1000 * sum(ts) / len(ts), 1),
                "p50_ms": round(1000 * ts[len(ts) // 2], 1), "p95_ms": round(1000 * ts[int(0.95 * (len(ts) - 1))], 1),
                "max_ms": round(1000 * ts[-1], 1)}

    all_times = [t for e in esc.values() for t in e["times"]]
    result = {
        "commands": {
            "this": "nice -n 10 .venv/bin/python benches/tier3_quality.py",
            "tiers_1_2": f"target/release/parapet scan --scores --config {POLICY} < rows.jsonl  (one process, all {len(everything)} rows)",
            "tier_3_service": f"target/service/parapet-ext-proc --config {SERVICE_CONFIG} --listen {GRPC} --http-listen {HTTP}",
            "tier_3_call": "POST /v1/classify {\"tasks\": [{\"model\", \"text\"}, ...]}",
        },
        "held_out_definition": "benches/tier2_quality.py trained_on (imported); toxicity also on the strict subset "
                               f"(t-davidson / surge-ai rows with sha256 % 100 >= {TOX_TRAIN_PCT})",
        "cli": {"rows": len(everything), "wall_s": round(cli_wall, 2), **cli_info},
        "injection": injection,
        "toxicity": toxicity,
        "comparison_with_models_heavy_eval_json": comparison,
        "tier3_latency": {"note": "one /v1/classify call per escalated request (all its pending tasks), sequential, "
                                  "HTTP on localhost, CPU encoder with 2 intra-op threads on a shared 2-core machine",
                          **{k: lat(e) for k, e in esc.items()},
                          "all": {"calls": len(all_times),
                                  "mean_ms_per_escalated_row": round(1000 * sum(all_times) / max(1, len(all_times)), 1)}},
        "comparison_scoring": {"band_rows_scored_batched": n_extra, "band_wall_s": round(t_extra, 1),
                               "alone_texts_scored_batched": n_alone, "alone_wall_s": round(t_alone, 1),
                               "sample": {"injection_per_class": args.inj_sample, "toxicity_per_source_label": args.tox_sample,
                                          "seed": SEED},
                               "batched_vs_single_max_abs_score_diff": max_diff},
        "runtime_s": round(time.time() - t_start, 1),
        "load_average_at_end": os.getloadavg(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_tables(result)


def print_tables(res):
    inj, tox = res["injection"], res["toxicity"]
    L = [f"Injection: {inj['rows']['attacks']} attacks, {inj['rows']['benign']} benign (tier2_quality.py rows)", "",
         "| configuration | recall | FPR | precision | F1 | AUC | TP | FP | FN | TN |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in inj["overall"].items():
        L.append(f"| {name} | {pct(m['recall'])} | {pct(m['fpr'])} | {pct(m['precision'])} | {f3(m['f1'])} | "
                 f"{f3(m.get('auc'))} | {m['tp']:g} | {m['fp']:g} | {m['fn']:g} | {m['tn']:g} |")
    e = inj["escalated_share_any_model"]
    ei = inj["escalated_share_injection_model"]
    L += ["", f"Escalated (any model): {pct(e['all'])} of rows ({e['rows']}), attacks {pct(e['pos'])}, benign {pct(e['neg'])}; "
          f"injection model only: {pct(ei['all'])} ({ei['rows']}), attacks {pct(ei['pos'])}, benign {pct(ei['neg'])}.", ""]
    cols = ["rules (prompt-injection heuristics)", "tier 2 (injection model >= block_above)", "tiers 1-2 (rules OR model)",
            "cascade (tiers 1-2 + tier 3 on escalated)", "heavy alone (sample)", "similarity alone (sample)"]
    L += ["| attack subtype (recall) | n | escalated | rules | tier 2 | tiers 1-2 | cascade | heavy alone | similarity alone |",
          "|---|---|---|---|---|---|---|---|---|"]
    for k, v in inj["by_subtype_attacks"].items():
        L.append(f"| {k} | {v['n']} | {pct(v['escalated'])} | " + " | ".join(pct(v[c]) for c in cols) + " |")
    L += ["", "| benign source (FPR) | n | escalated | rules | tier 2 | tiers 1-2 | cascade | heavy alone | similarity alone |",
          "|---|---|---|---|---|---|---|---|---|"]
    for k, v in inj["by_source_benign_fpr"].items():
        L.append(f"| {k} | {v['n']} | {pct(v['escalated'])} | " + " | ".join(pct(v[c]) for c in cols) + " |")
    for name, h in inj["hard_sets"].items():
        if isinstance(h, str):
            continue
        t = h["table"]
        L += ["", f"{name} (escalated: {pct(h['escalated_share_injection_model']['all'])}):", "",
              "| configuration | recall | FPR | precision | pos | neg |", "|---|---|---|---|---|---|"]
        for c, m in t.items():
            L.append(f"| {c} | {pct(m['recall'])} | {pct(m['fpr'])} | {pct(m['precision'])} | {m['pos']} | {m['neg']} |")
    for defn in ("tier2_quality_rows", "strictly_heldout_rows"):
        L += ["", f"Toxicity, {defn}:", "",
              "| source | configuration | recall | FPR | precision | F1 | AUC | escalated (all / toxic / benign) |",
              "|---|---|---|---|---|---|---|---|"]
        for src, s in tox[defn].items():
            ez = s["escalated_share_any_model"]
            for c, m in s["table"].items():
                if c.startswith("policy"):
                    continue
                L.append(f"| {src} ({s['rows']['toxic']}/{s['rows']['benign']}) | {c} | {pct(m['recall'])} | {pct(m['fpr'])} | "
                         f"{pct(m['precision'])} | {f3(m['f1'])} | {f3(m.get('auc'))} | "
                         f"{pct(ez['all'])} / {pct(ez['pos'])} / {pct(ez['neg'])} |")
    L += ["", "Collateral blocks on toxicity rows (any cascade.yaml guard; tiers 1-2 -> cascade; of which tier-3 injection):"]
    for defn in ("tier2_quality_rows", "strictly_heldout_rows"):
        for src, s in tox[defn].items():
            t = s["table"]
            a, b, c = (t[k] for k in ("policy decision block, tiers 1-2 (any guard; collateral)",
                                      "policy decision block, cascade (any guard; collateral)",
                                      "injection flagged by tier 3 (collateral block)"))
            ei = s["escalated_share_injection_model"]
            L.append(f"- {defn} {src}: non-toxic blocked {pct(a['fpr'])} -> {pct(b['fpr'])} (tier-3 injection {pct(c['fpr'])}); "
                     f"toxic blocked {pct(a['recall'])} -> {pct(b['recall'])}; injection-model escalations {pct(ei['all'])} "
                     f"(toxic {pct(ei['pos'])}, non-toxic {pct(ei['neg'])})")
    o = tox["ordinary_prompts_benign"]
    L += ["", f"Toxicity flags on the {o['rows']} benign prompts: " + ", ".join(f"{k} {pct(v)}" for k, v in o["fpr"].items())]
    L += ["", "Comparison with models/heavy/eval.json [python, binaries]:"]
    for k, v in res["comparison_with_models_heavy_eval_json"].items():
        if k != "note":
            L.append(f"- {k}: " + ", ".join(f"{m} {a} / {b}" for m, (a, b) in v.items()))
    L += ["", "Tier-3 latency: " + json.dumps(res["tier3_latency"])]
    print("\n".join(L))


if __name__ == "__main__":
    main()
