"""Tier 1 before and after a rule change: the default policy's injection verdicts of two `parapet`
binaries on every labelled injection row at hand (the folds' pool by source, group and language,
the never-trained benign pool, spaCy's example sentences in ~60 languages), every benign row the
new binary blocks that the old one did not, and every row, benign or attack, that it no longer blocks.

    python models/tier1_diff.py OLD_PARAPET NEW_PARAPET [WHEEL...]   # e.g. copies of target/service/parapet

Each WHEEL (optional) adds the translated messages of its gettext catalogues (`*.po` msgstr) as
benign rows, by language: for example Django's UI and validation text in ~100 languages,
`pip download --no-deps django==6.1.3` (evaluation only, never trained on).
"""
import collections
import json
import os
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "featurizer")]
import crossval as CV  # noqa: E402
import trainlib as T  # noqa: E402


def catalogue_rows(wheel: str) -> list[tuple[str, int, str, str]]:
    """(message, 0, group, language) for every non-empty msgstr of the wheel's `*.po` files."""
    zf, out = zipfile.ZipFile(wheel), []
    for name in sorted(zf.namelist()):
        m = re.search(r"/locale/([^/]+)/LC_MESSAGES/[^/]+\.po$", name)
        if not m:
            continue
        text = zf.read(name).decode("utf-8", "replace")
        for block in re.finditer(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', text, re.M):
            msg = "".join(json.loads(x) for x in re.findall(r'"(?:[^"\\]|\\.)*"', block.group(1)))
            if msg.strip():
                out.append((msg, 0, f"{Path(wheel).name.split('-')[0]} catalogues (never trained)", m.group(1)))
    return out


def main(old: str, new: str, wheels: list[str]) -> None:
    spec = CV.task_spec("injection")
    rows = [(t, y, g, lang) for t, y, g, lang, *_ in spec["pool"]]
    rows += [(t, 0, "benign pool (never trained)", "en") for t in spec["benign_pool"]]
    rows += [(t, 0, "spaCy examples (never trained)", lang) for t, lang in T.spacy_examples()]
    for w in wheels:
        rows += catalogue_rows(w)
    texts = [r[0] for r in rows]
    blocks = {}
    for name, exe in (("old", old), ("new", new)):
        os.environ["PARAPET_BIN"] = exe
        blocks[name] = T.rule_tier_blocks(texts, "injection")
    agg = collections.defaultdict(lambda: [0, 0, 0])
    for (t, y, g, lang), o, n in zip(rows, blocks["old"], blocks["new"]):
        a = agg[(g, "attack" if y else "benign", lang)]
        a[0], a[1], a[2] = a[0] + 1, a[1] + int(o), a[2] + int(n)
    print("| group | label | language | rows | blocked before | blocked after |\n|---|---|---|---|---|---|")
    for (g, lab, lang), (n, o, nw) in sorted(agg.items()):
        if o != nw or lab == "benign" and o:
            print(f"| {g} | {lab} | {lang} | {n} | {o} | {nw} |")
    benign = [(y, o, n, lang) for (t, y, g, lang), o, n in zip(rows, blocks["old"], blocks["new"]) if y == 0]
    print(f"\nbenign rows: {len(benign)} ({sum(la != 'en' for *_, la in benign)} not in English); "
          f"blocked before {sum(o for _, o, _, _ in benign)}, after {sum(n for _, _, n, _ in benign)}; "
          f"newly blocked {sum(n and not o for _, o, n, _ in benign)}")
    for (t, y, g, lang), o, n in zip(rows, blocks["old"], blocks["new"]):
        if y == 0 and n and not o:
            print(f"  newly blocked [{g}, {lang}]: {t[:160]!r}")
    for label, name in ((0, "benign"), (1, "attack")):
        gone = [(t, g, lang) for (t, y, g, lang), o, n in zip(rows, blocks["old"], blocks["new"]) if y == label and o and not n]
        print(f"\n{name} rows no longer blocked: {len(gone)}")
        for t, g, lang in gone:
            print(f"  [{g}, {lang}]: {t[:200]!r}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
