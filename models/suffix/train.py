#!/usr/bin/env python3
"""Train tier 1's adversarial-suffix check: a hashed character n-gram linear model over windows.

Optimised-suffix jailbreaks (GCG, random search and their kin) append to a request a string of
vocabulary pieces picked for what they make a model do: word pieces glued without spaces,
capitals inside words, stray brackets and markup (`models/data/adversarial_suffix.py`). The
injection rules and models read words, so such a suffix leaves them unmoved (the shipped cascade
caught 0 of 60 such prompts). This model reads characters, case and punctuation included, and
learns what separates vocabulary-piece soup from ordinary text in many languages, code, machine
text (hashes, base64, URLs, logs) and word-salad sentences.

Featurizer (`core/src/detectors/injection/suffix.rs` is the Rust twin; `reference_outputs.json`
pins it):

- the code points of the text's last `tail` (256); a tail shorter than `window` (64) is not
  scored; windows of `window` code points every `stride` (32), the last one ending at the end;
- every n-gram of n = 1..4 code points inside a window, hashed with FNV-1a 32 over its UTF-8 bytes,
  bucket = hash & (buckets - 1);
- window logit = bias + scale * (sum of the n-grams' int8 weights) / norm, where norm =
  sqrt(sum over the window's distinct characters of count^2 + its number of 2..4-grams);
- a text's score is its highest window logit; tier 1 counts a match at `threshold` or above.

Training data (permissive only, MODEL_CARD.md): attacks generated with USE-M's vocabulary after
the project's requests and ordinary prompts of the trainable sources; negatives: the trainable
benign rows of the injection pool (train split), the same requests before machine text,
title-case headlines, name lists and hashtags, Faker's text in ~70 locales (MIT), and half (by
sha256; the other half calibrates) of Django's source files and translation catalogues and of
Pygments' and Jinja's source files (BSD). Evaluation, never trained on and never used to set the
threshold: suffixes from MiniLM's WordPiece vocabulary after HarmBench behaviours, neuralchemy's
GCG / random-search rows, Sphinx's source and catalogues, spaCy's example sentences, and the
never-trained benign sets.

    nice -n 10 python models/suffix/train.py     # ~70 s; writes table.i8, manifest.json,
                                                 # reference_outputs.json, eval.json, MODEL_CARD.md
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "featurizer"), str(HERE.parent / "data"), str(HERE.parent)]
import trainlib as T  # noqa: E402
import adversarial_suffix as A  # noqa: E402

BUCKETS = 1 << 16
WINDOW = 64
STRIDE = 32
TAIL = 256  # code points read at the end of a text
MAX_N = 4
SEED = 20261207
C = 4.0
NEG_WEIGHT = 3.0
TARGET_FLAGGED = 0.0005  # on each calibration group of ordinary text (a tier-1 block)
N_ATTACKS = 8000
log = T.log


# ------------------------------------------------------------------------------ featurizer


def fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def gram_ids(text: str) -> list[list[int]]:
    """ids[n-1][s]: the bucket of the n-gram starting at code point s."""
    out = [[] for _ in range(MAX_N)]
    enc = [c.encode("utf-8") for c in text]
    for s in range(len(text)):
        h = 0x811C9DC5
        for n in range(1, MAX_N + 1):
            if s + n > len(text):
                break
            for b in enc[s + n - 1]:
                h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
            out[n - 1].append(h & (BUCKETS - 1))
    return out


def window_bounds(length: int) -> list[tuple[int, int]]:
    if length <= WINDOW:
        return [(0, length)]
    starts = list(range(0, length - WINDOW, STRIDE)) + [length - WINDOW]
    return [(a, a + WINDOW) for a in starts]


def windows(text: str) -> list[tuple[dict[int, int], float]]:
    """Bucket counts of each window and its norm: sqrt(sum over its distinct characters of
    count^2 + its number of 2..4-grams). (The l2 norm of the window's n-gram counts if no 2..4-gram
    repeated: cheap to keep while sliding, and what carries the signal, since ordinary text
    repeats a few characters and vocabulary-piece soup spreads over many.)"""
    ids = gram_ids(text)
    out = []
    for a, b in window_bounds(len(text)):
        counts: dict[int, int] = {}
        for n in range(1, MAX_N + 1):
            for s in range(a, b - n + 1):
                i = ids[n - 1][s]
                counts[i] = counts.get(i, 0) + 1
        chars: dict[str, int] = {}
        for c in text[a:b]:
            chars[c] = chars.get(c, 0) + 1
        higher = sum(max(0, b - a - n + 1) for n in range(2, MAX_N + 1))
        out.append((counts, float(np.sqrt(sum(v * v for v in chars.values()) + higher)) or 1.0))
    return out


def matrix(wins: list[tuple[dict[int, int], float]]) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for r, (counts, norm) in enumerate(wins):
        for i, c in counts.items():
            rows.append(r)
            cols.append(i)
            vals.append(c / norm)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(wins), BUCKETS), dtype=np.float64)


class Model:
    def __init__(self, q: np.ndarray, scale: float, bias: float):
        self.q, self.scale, self.bias = q.astype(np.int64), scale, bias

    def window_logits(self, text: str) -> np.ndarray:
        ids = gram_ids(text)
        g = [np.concatenate([[0], np.cumsum(self.q[np.array(x, dtype=np.int64)])]) if x else np.zeros(1, np.int64) for x in ids]
        out = []
        for a, b in window_bounds(len(text)):
            tot = 0
            for n in range(1, MAX_N + 1):
                hi = b - n + 1
                if hi > a:
                    tot += int(g[n - 1][hi] - g[n - 1][a])
            chars: dict[str, int] = {}
            for c in text[a:b]:
                chars[c] = chars.get(c, 0) + 1
            higher = sum(max(0, b - a - n + 1) for n in range(2, MAX_N + 1))
            norm = float(np.sqrt(sum(v * v for v in chars.values()) + higher)) or 1.0
            out.append(self.bias + self.scale * tot / norm)
        return np.array(out)

    def score(self, text: str) -> float:
        """The highest window logit of the text's last TAIL code points (the attacks append their
        suffix; the Rust twin reads only those). A text shorter than one window is not scored
        (-1e9): the suffixes are longer, and a few words carry too few n-grams to judge."""
        tail = text[-TAIL:]
        return float(self.window_logits(tail).max()) if len(tail) >= WINDOW else -1e9


# ------------------------------------------------------------------------------ data


def digit(text: str, k: int = 0) -> int:
    return hashlib.sha256(text.encode("utf-8")).digest()[k] % 100


def chunks(text: str, rng: random.Random, lo: int = 200, hi: int = 900) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(lo, hi)
        if text[i:i + n].strip():
            out.append(text[i:i + n])
        i += n
    return out


def wheel_texts(name: str, rng: random.Random, max_file_chunks: int = 12):
    """(source files in chunks, catalogue messages) of a wheel, each as (text, group)."""
    zf = T.wheel(name)
    code, cat = [], []
    for f in sorted(zf.namelist()):
        if re.search(r"\.(py|js|html|css|txt|json)$", f) and "/locale/" not in f and not f.endswith(".min.js"):
            text = zf.read(f).decode("utf-8", "replace")
            code += [(c, f"{name} source") for c in chunks(text, rng)[:max_file_chunks]]
        m = re.search(r"/locale/([^/]+)/LC_MESSAGES/[^/]+\.po$", f)
        if m:
            po = zf.read(f).decode("utf-8", "replace")
            for block in re.finditer(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', po, re.M):
                msg = "".join(json.loads(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', block.group(1)))
                if msg.strip() and len(msg) >= 12:
                    cat.append((msg, f"{name} catalogues"))
    return code, cat


# A run of " !" tokens: what GCG and random search start from and leave where they have not
# replaced it yet.
GCG_ARTEFACT = re.compile(r"(?: !){4}")
EVERYDAY = ("t-davidson/", "surge-ai/")  # MIT: tweets and forum comments, toxic or not


def everyday() -> list[str]:
    """Everyday posts of the permissive toxicity sources. sha256 digit < 70 is the toxicity
    trainer's training split (and the injection pool's everyday negatives); 70-84 calibrates
    this model; 85-99 is evaluation only."""
    return [r["text"] for r in T.load_jsonl("toxicity.jsonl") if r["source"].startswith(EVERYDAY)]


def title_case(rng: random.Random, ordinary: list[str], n: int = 3000) -> list[str]:
    """Ordinary text that is all capitals and joins: headlines in title case, lists of names,
    hashtags, identifiers in CamelCase. (The attacks' pieces are often capitalised; these keep the
    model from learning that capitals alone are the signal.)"""
    import faker

    fakers = []
    for i, loc in enumerate(["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL"]):
        f = faker.Faker(loc)  # one locale each: a multi-locale Faker picks with an unseeded RNG
        f.seed_instance(SEED + i)
        fakers.append(f)
    out = []
    for _ in range(n):
        fk = rng.choice(fakers)
        t = rng.choice(ordinary)
        words = re.findall(r"[^\W\d_]+", t)[: rng.randint(3, 9)]
        r = rng.random()
        if r < 0.3:
            out.append(t.title())
        elif r < 0.55:
            out.append(rng.choice([", ", " - ", " & ", " / ", "\n"]).join(fk.name() for _ in range(rng.randint(3, 8))))
        elif r < 0.75 and words:
            tags = [("#" if rng.random() < 0.7 else "@") + "".join(w.capitalize() for w in rng.sample(words, min(len(words), rng.randint(2, 4))))
                    for _ in range(rng.randint(1, 3))]
            tags += [f"@{fk.user_name()}" for _ in range(rng.randint(0, 2))]
            rng.shuffle(tags)
            out.append(f"{t}{rng.choice(['', '!', '!!!', ' :)', ' <3'])} {' '.join(tags)}")
        elif words:
            out.append(" ".join(w.capitalize() for w in words) + " " + " ".join(
                f"{fk.company()} {fk.city()}" for _ in range(rng.randint(1, 3))))
    return out


def assemble():
    import crossval as CV

    rng = random.Random(SEED)
    spec = CV.task_spec("injection")
    pool = sorted(spec["pool"])  # the pool's order depends on set iteration (PYTHONHASHSEED)
    ordinary = [t for t, y, g, lang, part, s in pool
                if y == 0 and part == "train" and 10 <= len(t) <= 300 and not GCG_ARTEFACT.search(t)]
    pieces = A.train_vocab()
    other = sorted(set(A.train_vocab(ascii_only=False)) - set(pieces))
    train_pos, train_neg, cal_neg, cal_pos = [], [], [], []
    for i in range(N_ATTACKS):
        base = rng.choice(A.REQUESTS) if rng.random() < 0.5 else rng.choice(ordinary)
        (cal_pos if i % 10 == 0 else train_pos).append(
            base + rng.choice([" ", ". ", "\n", " "]) + A.piece_suffix(rng, pieces, other=other))
    for i in range(3000):
        base = rng.choice(A.REQUESTS) if rng.random() < 0.5 else rng.choice(ordinary)
        train_neg.append((base + rng.choice([" ", ": ", "\n"]) + A.machine_text(rng), "machine text"))
    for t, y, g, lang, part, s in pool:
        if GCG_ARTEFACT.search(t):
            continue  # an optimised suffix, whatever its label (neuralchemy labels some benign)
        if y == 0 and part == "train":
            train_neg.append((t, "pool (train)"))
        elif y == 0 and part == "calib":
            cal_neg.append((t, "pool (calibration)"))
    train_neg += [(r["text"], "faker") for r in T.faker_rows()]
    train_neg += [(t, "title case") for t in title_case(rng, ordinary)]
    code, cat = wheel_texts("django", rng)
    for name in ("pygments", "jinja2"):
        code += [(t, "pygments, jinja2 source") for t, _ in wheel_texts(name, rng)[0]]
    for t, g in code + cat:
        (train_neg if digit(t) < 50 else cal_neg).append((t, g))
    cal_neg += [(t, "everyday posts (calibration)") for t in everyday() if 70 <= digit(t) < 85]
    crng = random.Random(SEED + 2)
    cal_neg += [(crng.choice(ordinary) + crng.choice([" ", ": ", "\n"]) + A.machine_text(crng), "machine text (calibration)")
                for _ in range(2000)]
    return train_pos, train_neg, cal_pos, cal_neg, spec


def eval_sets(spec, rng):
    import crossval as CV  # noqa: F401

    pool = spec["pool"]
    code, cat = wheel_texts("sphinx", rng)
    sets = {
        "pool, evaluation halves of trainable dev sources": [t for t, y, g, lang, part, s in pool if y == 0 and part == "eval"],
        "never-trained benign pool (alpaca, CodeAlpaca, bastioncorpus, trigger words)": spec["benign_pool"],
        "spaCy example sentences (~60 languages)": [t for t, lang in T.spacy_examples()],
        "Sphinx source files": [t for t, g in code],
        "Sphinx translation catalogues": [t for t, g in cat],
    }
    for name in ("benign", "pii", "secrets"):
        sets[f"dev {name}.jsonl (all rows)"] = [r["text"] for r in T.load_jsonl(f"{name}.jsonl")]
    sets["everyday posts (t-davidson, surge-ai: evaluation digits)"] = [t for t in everyday() if digit(t) >= 85]
    sets["Stormfront forum posts (CC BY-SA, evaluation only)"] = [
        r["text"] for r in T.load_jsonl("toxicity.jsonl") if r["source"].startswith("aitor-garcia-p/")]
    ev = A.eval_rows()
    attacks = {
        "HarmBench behaviours + WordPiece-vocabulary suffix (never trained)": [r["text"] for r in ev if r["family"] == "wordpiece-suffix"],
        "HarmBench behaviours + printable-character suffix (never trained)": [r["text"] for r in ev if r["family"] == "character-suffix"],
    }
    bangs = [t for t, y, g, lang, part, s in pool if g == "neuralchemy" and GCG_ARTEFACT.search(t)]
    attacks["neuralchemy rows with a run of ' !' tokens (GCG / random-search suffixes, any label; trainable source)"] = bangs
    plain = {"HarmBench behaviours alone (must pass)": [r["text"] for r in ev if r["family"] == "request-alone"],
             "injection attacks of the pool (all sources)": [t for t, y, *_ in pool if y == 1]}
    return sets, attacks, plain


# ------------------------------------------------------------------------------ training


def train(train_pos, train_neg):
    X_wins, y, w = [], [], []
    for t in train_pos:
        X_wins.append(windows(t)[-1])  # the window that ends the text: mostly suffix
        y.append(1)
        w.append(1.0)
    for t, g in train_neg:
        for win in windows(t)[:24]:
            X_wins.append(win)
            y.append(0)
            w.append(NEG_WEIGHT)
    X = matrix(X_wins)
    log(f"fit on {X.shape[0]} windows ({sum(y)} attack)")
    clf = LogisticRegression(C=C, max_iter=3000)
    clf.fit(X, np.array(y), sample_weight=np.array(w))
    coef = clf.coef_[0]
    scale = float(np.abs(coef).max() / 127.0)
    q = np.clip(np.round(coef / scale), -127, 127).astype(np.int8)
    return Model(q, scale, float(clf.intercept_[0]))


def choose_threshold(model, cal_pos, cal_neg) -> tuple[float, dict]:
    groups: dict[str, list[float]] = {}
    for t, g in cal_neg:
        groups.setdefault(g, []).append(model.score(t))
    thr = max(float(np.quantile(v, 1 - TARGET_FLAGGED)) for v in groups.values())
    pos = np.array([model.score(t) for t in cal_pos])
    rep = {g: {"rows": len(v), "flagged": round(float(np.mean(np.array(v) >= thr)), 5)} for g, v in groups.items()}
    rep["attacks (USE-M vocabulary, held out of the fit)"] = {"rows": len(pos), "caught": round(float(np.mean(pos >= thr)), 4)}
    return round(thr, 6), rep


def main():
    t0 = time.time()
    train_pos, train_neg, cal_pos, cal_neg, spec = assemble()
    log(f"train: {len(train_pos)} attacks, {len(train_neg)} ordinary texts; calibration {len(cal_pos)} / {len(cal_neg)}")
    model = train(train_pos, train_neg)
    thr, cal = choose_threshold(model, cal_pos, cal_neg)
    log(f"threshold {thr}")
    sets, attacks, plain = eval_sets(spec, random.Random(SEED + 1))
    ev = {"benign (flagged)": {}, "attacks (caught)": {}, "other (flagged)": {}}
    for key, group in (("benign (flagged)", sets), ("attacks (caught)", attacks), ("other (flagged)", plain)):
        for name, texts in group.items():
            s = np.array([model.score(t) for t in texts])
            ev[key][name] = {"rows": len(texts), "rate": round(float(np.mean(s >= thr)), 5)}
            log(f"{key} {name}: {ev[key][name]}")
    table = model.q.astype(np.int8).tobytes()
    (HERE / "table.i8").write_bytes(table)
    manifest = {
        "name": "parapet-adversarial-suffix",
        "task": "optimised-suffix jailbreak detection (tier 1): hashed character n-gram linear model over windows",
        "featurizer": {"ngrams": [1, MAX_N], "hash": "fnv1a32(utf8) & (buckets - 1)", "buckets": BUCKETS,
                       "window": WINDOW, "stride": STRIDE, "tail": TAIL, "unit": "code point"},
        "weights": {"file": "table.i8", "dtype": "int8", "scale": round(model.scale, 9), "bias": round(model.bias, 6),
                    "sha256": hashlib.sha256(table).hexdigest()},
        "threshold": thr,
        "licence": "trained only on the project's own rows, MIT / Apache-2.0 / BSD-3 data (see MODEL_CARD.md)",
        "train_py_sha256": hashlib.sha256((HERE / "train.py").read_bytes()).hexdigest(),
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    refs = [A.REQUESTS[0], A.REQUESTS[0] + " " + A.piece_suffix(random.Random(1), A.train_vocab()),
            "Grüße aus Köln! Wie geht's? Ça va très bien, merci. 東京は晴れ。", "", "a", "x" * 200,
            "Grüße aus Köln! Wie geht's? Ça va très bien, merci. 東京は晴れ。" * 6,
            "Привет! Как дела? Всё хорошо, спасибо. 今日はいい天気ですね。오늘 날씨가 좋네요. " * 4,
            "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(300)),
            "def f(x):\n    return {k: v for k, v in x.items() if v}\n" * 3]
    refs += [t for t in list(sets["spaCy example sentences (~60 languages)"])[:20]]
    refs += attacks["HarmBench behaviours + WordPiece-vocabulary suffix (never trained)"][:10]
    (HERE / "reference_outputs.json").write_text(json.dumps(
        [{"text": t, "score": round(model.score(t), 5) if len(t) >= WINDOW else None} for t in refs], ensure_ascii=False, indent=0) + "\n")
    (HERE / "eval.json").write_text(json.dumps({"threshold": thr, "calibration": cal, "evaluation": ev,
                                                "elapsed_s": round(time.time() - t0)}, indent=1) + "\n")
    write_card(manifest, cal, ev, len(train_pos), len(train_neg))
    log(f"done in {time.time() - t0:.0f}s")


def write_card(manifest, cal, ev, n_pos, n_neg):
    pct = lambda x: f"{100 * x:.2f}%"  # noqa: E731
    lines = [
        "# Adversarial-suffix model (tier 1)", "",
        "Generated by `models/suffix/train.py` (its docstring has the featurizer and the data); do not edit.",
        "Rust twin: `core/src/detectors/injection/suffix.rs` (the injection heuristics' `adversarial_suffix` kind,",
        "weight 0.6: it blocks on its own under the default policy).", "",
        "## What it is for", "",
        "Optimised-suffix jailbreaks (GCG, random search and their kin) end a request with vocabulary pieces",
        "strung together: no attack phrase for the rules, no words for the word models. This model reads the",
        "characters of the last 256 code points of a text, case and punctuation included, in windows of 64.",
        "It does not read suffixes of random printable characters (0% below), readable optimised attacks",
        "(PAIR, AutoDAN: the other tiers' job), or a suffix followed by more than ~190 characters of other text.", "",
        "## Training data (permissive only)", "",
        f"- {n_pos} attacks: a request (the project's own, `models/data/adversarial_suffix.py`, or an ordinary",
        "  prompt of the trainable sources) followed by 12-32 pieces of USE-M's SentencePiece vocabulary",
        "  (Apache-2.0): printable ASCII pieces, some capitalised, some punctuation, a few in other scripts, and in",
        "  half of the suffixes a share of the ' !' tokens that GCG and random search start from;",
        f"- {n_neg} ordinary texts: the trainable benign rows of the injection pool (train split: MIT / Apache-2.0),",
        "  the project's requests followed by machine text (hashes, base64, UUIDs, URLs, paths, logs, stack traces,",
        "  minified code, identifiers, tables), title-case headlines, name lists and hashtags (Faker, MIT), Faker's",
        "  text in ~70 locales (MIT), and half (by sha256) of the source files and translation catalogues of",
        "  Django (BSD-3) and of the source files of Pygments (BSD-2) and Jinja (BSD-3).", "",
        "## Operating point", "",
        f"Threshold {manifest['threshold']} on the window logit: the highest value that keeps each calibration group of",
        f"ordinary text at <= {pct(TARGET_FLAGGED)} flagged (the other half of the wheels' files, the pool's calibration",
        "split, everyday posts of t-davidson and surge-ai with sha256 digit 70-84, machine text from another seed).", "",
        "| calibration group | rows | flagged / caught |", "|---|---|---|",
    ]
    for g, r in cal.items():
        lines.append(f"| {g} | {r['rows']} | {pct(r.get('flagged', r.get('caught', 0)))} |")
    lines += ["", "## Evaluation (never trained on, never used for the threshold)", "",
              "| set | rows | flagged / caught |", "|---|---|---|"]
    for key, group in ev.items():
        for name, r in group.items():
            lines.append(f"| {key.split()[0]}: {name} | {r['rows']} | {pct(r['rate'])} |")
    lines += [
        "", "The attacks held out are suffixes drawn from another vocabulary (MiniLM's English WordPiece, cased",
        "at random) after third-party requests (HarmBench behaviours): a shift of vocabulary and request, not the",
        "real optimiser's output. The real ones at hand are neuralchemy's GCG- and random-search-style rows (some",
        "labelled benign there; those with a run of ' !' tokens are left out of every training and calibration",
        "group). Of the other injection attacks of the pool it flags, about half are such suffixes (neuralchemy);",
        "the rest are capitalised command strings (s-labs) and German or Spanish imperatives (yanismiraoui):",
        "surface features it shares with some ordinary text in other languages, which is where its false",
        "positives are (spaCy's headlines, UI catalogues).", "",
        "Reproduce: `nice -n 10 python models/suffix/train.py` (about a minute and a half on 2 cores; deterministic).", "",
    ]
    (HERE / "MODEL_CARD.md").write_text("\n".join(lines))


if __name__ == "__main__":
    # Part of the pool's assembly iterates sets of strings: fix the hash seed so that a run
    # reproduces the shipped table byte for byte.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    main()
