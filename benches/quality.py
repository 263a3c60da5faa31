#!/usr/bin/env python3
"""Quality report: per detector, recall on positives, flag rate on near misses, false-positive
rate on ordinary prompts — computed from `parapet scan` (the same engine as the filter) over the
labelled corpora in ../shared/eval/dev.

Usage: benches/quality.py [--eval-dir ../shared/eval/dev] [--parapet target/service/parapet]
                          [--config FILE] [--out benches/QUALITY.md] [--toxicity-sample 4000]
Each text row is scanned as one user message with the given policy (default: the shipped one).
A row is "flagged by a detector" if any finding of that detector's category is reported at the
guard's threshold. The report is written as Markdown (and JSON beside it).
"""
import argparse
import collections
import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PII_TYPES = {
    "EMAIL": "email", "PHONE": "phone", "US_SSN": "us_ssn", "CREDIT_CARD": "credit_card", "IBAN": "iban",
    "US_ITIN": "us_itin", "US_PASSPORT": "us_passport", "US_DRIVER_LICENSE": "us_driver_license",
    "IP_ADDRESS": "ip_address",
    # other countries' identity numbers and passports (Presidio-style type names)
    "UK_NINO": "national_id", "UK_NHS": "national_id", "CA_SIN": "national_id", "IN_AADHAAR": "national_id",
    "IN_PAN": "national_id", "BR_CPF": "national_id", "BR_CNPJ": "national_id", "ES_NIF": "national_id",
    "ES_NIE": "national_id", "IT_FISCAL_CODE": "national_id", "FR_NIR": "national_id", "DE_TAX_ID": "national_id",
    "NL_BSN": "national_id", "PL_PESEL": "national_id", "SE_PERSONNUMMER": "national_id", "CN_ID": "national_id",
    "SG_NRIC_FIN": "national_id", "AU_TFN": "national_id", "AU_MEDICARE": "national_id", "KR_RRN": "national_id",
    "MX_CURP": "national_id", "UK_PASSPORT": "passport", "IN_PASSPORT": "passport", "IT_PASSPORT": "passport",
}


def load(eval_dir, name):
    return [json.loads(l) for l in (eval_dir / f"{name}.jsonl").read_text().split("\n") if l.strip()]


def scan(parapet, config, rows):
    cmd = [str(parapet), "scan"] + (["--config", str(config)] if config else [])
    inp = "".join(json.dumps({"text": r["text"]}) + "\n" for r in rows)
    out = subprocess.run(cmd, input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
    out = [l for l in out if l.strip()]
    assert len(out) == len(rows), (len(out), len(rows))
    return [json.loads(l) for l in out]


def entity_span(text, e):
    """An expected entity's byte span: given, or found by its value (Recognizers-Text rows)."""
    if "start" in e and "end" in e:
        return e
    value = e.get("value")
    i = text.find(value) if value else -1
    if i < 0:
        return None
    start = len(text[:i].encode())
    return {"start": start, "end": start + len(value.encode())}


def flagged(verdict, category):
    return any(f["category"] == category for f in verdict["findings"])


def rate(n, d):
    return None if d == 0 else n / d


def pct(x):
    if x is None:
        return "–"
    return f"{100 * x:.2f}%" if 0 < x < 0.01 else f"{100 * x:.1f}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval" / "dev"))
    ap.add_argument("--parapet", default=str(ROOT / "target" / "service" / "parapet"))
    ap.add_argument("--config")
    ap.add_argument("--out", default=str(ROOT / "benches" / "QUALITY.md"))
    ap.add_argument("--toxicity-sample", type=int, default=4000, help="rows of toxicity.jsonl to scan (seeded sample)")
    args = ap.parse_args()
    eval_dir = Path(args.eval_dir)
    res = collections.OrderedDict()

    benign = load(eval_dir, "benign")
    vb = scan(args.parapet, args.config, benign)
    decisions = collections.Counter(v["decision"] for v in vb)
    res["benign"] = {"rows": len(benign), "decisions": dict(decisions)}
    benign_fp = {c: rate(sum(flagged(v, c) for v in vb), len(vb)) for c in ("secret", "pii", "profanity", "injection")}
    fp_examples = {c: [benign[i]["text"][:120] for i, v in enumerate(vb) if flagged(v, c)][:5] for c in benign_fp}

    # Secrets.
    schema = json.loads(subprocess.run([args.parapet, "schema"], capture_output=True, text=True, check=True).stdout)
    secrets_options = [v for v in schema["$defs"]["DetectorConfig"]["oneOf"]
                       if v["properties"]["type"].get("const") == "secrets"][0]
    kinds_known = len(secrets_options["properties"]["kinds"]["items"]["enum"])
    sec = load(eval_dir, "secrets")
    vs = scan(args.parapet, args.config, sec)
    pos = [v for r, v in zip(sec, vs) if r["label"] == "secret"]
    nm = [v for r, v in zip(sec, vs) if r["label"] == "near_miss"]
    by_src = collections.defaultdict(lambda: [0, 0])
    for r, v in zip(sec, vs):
        if r["label"] == "secret":
            k = r["source"].split("/")[0]
            by_src[k][0] += flagged(v, "secret")
            by_src[k][1] += 1
    res["secrets"] = {
        "recall": rate(sum(flagged(v, "secret") for v in pos), len(pos)), "positives": len(pos),
        "near_miss_flag_rate": rate(sum(flagged(v, "secret") for v in nm), len(nm)), "near_misses": len(nm),
        "benign_fpr": benign_fp["secret"], "kinds_known": kinds_known, "recall_by_source": {k: rate(a, b) for k, (a, b) in by_src.items()},
    }

    # PII.
    pii = load(eval_dir, "pii")
    vp = scan(args.parapet, args.config, pii)
    per_type = collections.defaultdict(lambda: {"rows": 0, "found_exact": 0, "found_any": 0})
    weak = collections.defaultdict(lambda: [0, 0])
    nm_flag = nm_n = ben_flag = ben_n = 0
    for r, v in zip(pii, vp):
        kinds = [(f["kind"], f["start"], f["end"]) for f in v["findings"] if f["category"] == "pii"]
        if r["label"] in ("pii", "pii_weak"):
            for t in r["meta"]["entity_types"]:
                want = PII_TYPES.get(t, t.lower())
                ents = [entity_span(r["text"], e) for e in r["meta"].get("entities", []) if e["type"] == t]
                ents = [e for e in ents if e is not None]
                any_hit = any(k == want for k, _, _ in kinds)
                exact = bool(ents) and all(any(k == want and s < e["end"] and e["start"] < en for k, s, en in kinds) for e in ents)
                if r["label"] == "pii":
                    d = per_type[t]
                    d["rows"] += 1
                    d["found_any"] += any_hit
                    d["found_exact"] += exact if ents else any_hit
                else:
                    weak[t][0] += any_hit
                    weak[t][1] += 1
        elif r["label"] == "near_miss":
            nm_n += 1
            nm_flag += bool(kinds)
        else:
            ben_n += 1
            ben_flag += bool(kinds)
    tot = sum(d["rows"] for d in per_type.values())
    res["pii"] = {
        "recall_exact": rate(sum(d["found_exact"] for d in per_type.values()), tot),
        "recall_any": rate(sum(d["found_any"] for d in per_type.values()), tot), "positives": tot,
        "by_type": {t: {"rows": d["rows"], "recall_exact": rate(d["found_exact"], d["rows"]), "recall_any": rate(d["found_any"], d["rows"])}
                    for t, d in sorted(per_type.items())},
        "weak_found": {t: rate(a, b) for t, (a, b) in weak.items()},
        "near_miss_flag_rate": rate(nm_flag, nm_n), "near_misses": nm_n,
        "pii_benign_flag_rate": rate(ben_flag, ben_n), "pii_benign_rows": ben_n,
        "benign_fpr": benign_fp["pii"],
    }

    # Profanity.
    prof = load(eval_dir, "profanity")
    vpr = scan(args.parapet, args.config, prof)
    by_src = collections.defaultdict(lambda: [0, 0])
    for r, v in zip(prof, vpr):
        k = r["source"].split("/")[0]
        by_src[k][0] += flagged(v, "profanity")
        by_src[k][1] += 1
    tox = load(eval_dir, "toxicity")
    random.Random(7).shuffle(tox)
    tox = tox[: args.toxicity_sample]
    vt = scan(args.parapet, args.config, tox)
    tox_pos = [v for r, v in zip(tox, vt) if r["label"] == "toxic"]
    tox_neg = [v for r, v in zip(tox, vt) if r["label"] == "benign"]
    res["profanity"] = {
        "lexicon_recall": rate(sum(flagged(v, "profanity") for v in vpr), len(vpr)), "lexicon_entries": len(vpr),
        "lexicon_recall_by_source": {k: rate(a, b) for k, (a, b) in by_src.items()},
        "toxicity_sample_flag_rate_toxic": rate(sum(flagged(v, "profanity") for v in tox_pos), len(tox_pos)),
        "toxicity_sample_flag_rate_benign": rate(sum(flagged(v, "profanity") for v in tox_neg), len(tox_neg)),
        "toxicity_sample_rows": len(tox), "benign_fpr": benign_fp["profanity"],
    }

    # Injection heuristics.
    inj = load(eval_dir, "prompt_injection")
    vi = scan(args.parapet, args.config, inj)
    by_sub = collections.defaultdict(lambda: [0, 0])
    for r, v in zip(inj, vi):
        if r["label"] == "injection":
            k = f'{r["source"].split("/")[0]}/{r.get("meta", {}).get("subtype", "?")}'
            by_sub[k][0] += flagged(v, "injection")
            by_sub[k][1] += 1
    ipos = [v for r, v in zip(inj, vi) if r["label"] == "injection"]
    ineg = [v for r, v in zip(inj, vi) if r["label"] == "benign"]
    harm = load(eval_dir, "harmful_request")
    vh = scan(args.parapet, args.config, harm)
    res["injection"] = {
        "recall": rate(sum(flagged(v, "injection") for v in ipos), len(ipos)), "positives": len(ipos),
        "recall_by_subtype": {k: rate(a, b) for k, (a, b) in sorted(by_sub.items())},
        "fpr_injection_corpus_benign": rate(sum(flagged(v, "injection") for v in ineg), len(ineg)),
        "injection_corpus_benign_rows": len(ineg),
        "harmful_request_flag_rate": rate(sum(flagged(v, "injection") for v in vh), len(vh)),
        "benign_fpr": benign_fp["injection"],
    }
    res["benign_fp_examples"] = fp_examples

    cmd = "benches/quality.py" + (f" --config {args.config}" if args.config else "")
    md = [f"# Rule-tier quality on ../shared/eval/dev", "",
          f"Produced by `{cmd}` (engine: `parapet scan`, policy: {'`' + args.config + '`' if args.config else 'the shipped default'}).",
          f"Benign FPR is over `benign.jsonl` ({len(benign)} ordinary prompts): share of rows on which the detector fires.", "",
          "| detector | recall on positives | near-miss flag rate | benign FPR | target |", "|---|---|---|---|---|",
          f"| secrets | {pct(res['secrets']['recall'])} ({res['secrets']['positives']}) | {pct(res['secrets']['near_miss_flag_rate'])} ({res['secrets']['near_misses']}) | {pct(res['secrets']['benign_fpr'])} | recall ≥ 90%, FPR ≤ 0.5% |",
          f"| pii (span-exact) | {pct(res['pii']['recall_exact'])} ({res['pii']['positives']}) | {pct(res['pii']['near_miss_flag_rate'])} ({res['pii']['near_misses']}) | {pct(res['pii']['benign_fpr'])} | recall ≥ 95%, near-miss ≤ 10%, FPR ≤ 1% |",
          f"| profanity (lexicon entries) | {pct(res['profanity']['lexicon_recall'])} ({res['profanity']['lexicon_entries']}) | – | {pct(res['profanity']['benign_fpr'])} | – |",
          f"| injection heuristics | {pct(res['injection']['recall'])} ({res['injection']['positives']}) | – | {pct(res['injection']['benign_fpr'])} | (tier 1 only; see tier 2) |",
          "", "## PII by entity type", "", "| type | rows | recall (span-exact) | recall (any match of type) |", "|---|---|---|---|"]
    for t, d in res["pii"]["by_type"].items():
        md.append(f"| {t} | {d['rows']} | {pct(d['recall_exact'])} | {pct(d['recall_any'])} |")
    md += ["", "`pii_weak` rows (the source expects at most a low-confidence match) found at the default "
               "`min_score`: " + ", ".join(f"{t} {pct(x)}" for t, x in res["pii"]["weak_found"].items())
           + f"; pii.jsonl `benign` rows flagged: {pct(res['pii']['pii_benign_flag_rate'])} of {res['pii']['pii_benign_rows']}.",
           "", "## Secrets recall by source", ""]
    md += [f"- {k}: {pct(x)}" for k, x in res["secrets"]["recall_by_source"].items()]
    md += ["", f"Formats the detector knows: {res['secrets']['kinds_known']} kinds (the `kinds` enum of "
               "`parapet schema`). Most of them have no rows here; unit tests hold them with made-up values "
               "and near misses (`core/src/detectors/secrets/tests.rs`)."]
    md += ["", "## Profanity", "",
           "Lexicon recall by source (each row is one list entry): " + ", ".join(f"{k} {pct(x)}" for k, x in res["profanity"]["lexicon_recall_by_source"].items()) + ".",
           f"On a seeded sample of {res['profanity']['toxicity_sample_rows']} `toxicity.jsonl` rows, the profanity list fires on "
           f"{pct(res['profanity']['toxicity_sample_flag_rate_toxic'])} of toxic rows and {pct(res['profanity']['toxicity_sample_flag_rate_benign'])} of benign rows "
           "(a word list is not a toxicity model; that is tier 2's job).",
           "", "## Injection heuristics by subtype", ""]
    md += [f"- {k}: {pct(x)}" for k, x in res["injection"]["recall_by_subtype"].items()]
    md += ["", f"FPR on the injection corpus's own benign rows: {pct(res['injection']['fpr_injection_corpus_benign'])} "
               f"({res['injection']['injection_corpus_benign_rows']}); flag rate on plain harmful requests (not injections): "
               f"{pct(res['injection']['harmful_request_flag_rate'])}.",
           "", "## Default-policy decisions on benign.jsonl", "",
           ", ".join(f"{k}: {v}" for k, v in sorted(res["benign"]["decisions"].items())), "",
           "## Benign rows flagged (first five per detector, truncated)", "",
           "Several are real PII in an ordinary prompt (a cover letter's phone and e-mail), which the",
           "default policy masks rather than blocks.", ""]
    for c, ex in fp_examples.items():
        for e in ex:
            md.append(f"- {c}: `{e.replace('`', ' ').replace(chr(10), ' ')}`")
    Path(args.out).write_text("\n".join(md) + "\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    print("\n".join(md[:12]))


if __name__ == "__main__":
    main()
