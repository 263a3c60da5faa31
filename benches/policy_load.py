#!/usr/bin/env python3
"""What loading a policy costs, and what the texts that stress its set-up tables cost to scan.

Counts the instructions (callgrind: the same within a few percent on every run, a process's hash
seeds aside, where wall-clock times on a shared 2-core VM move by tens of percent) of
`parapet scan` over:

- `one`: one short row. Process start, the policy compiled, one scan: the policy load.
- `numbers`: 64 KB of order lines with numbers on every line (PII's whole-text keyword pass).
- `keywords`: 64 KB of PII context words (`account`, `phone`, `license`, …) between numbers.
- `prose`: the first 64 KB of `../shared/eval/dev/benign.jsonl`'s prompts, joined.

and prints, per binary, the load and, per text, its first scan (a run of the text minus the
one-row run: it includes the built-in rule regexes the text's anchors compile on first use) and
its scan once those are compiled (a run of the text twice minus a run of it once).
The texts are generated here from fixed seeds, so two binaries (or two commits) read the same
bytes. `--wordlist N` also writes a policy of one `wordlist` guard with N terms (mid-frequency
words of 5–12 letters of the same benign prompts) and measures with it instead of the default
policy.

    cargo build --profile service -p parapet-cli --bin parapet
    benches/policy_load.py target/service/parapet [OTHER_BINARY ...] [--wordlist 2000]
"""
import argparse
import collections
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENIGN = ROOT.parent / "shared" / "eval" / "dev" / "benign.jsonl"
SIZE = 65536


def benign_texts():
    with open(BENIGN, encoding="utf8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def inputs():
    rng = random.Random(1)
    lines = []
    while sum(len(x) + 1 for x in lines) < SIZE:
        lines.append(f"{rng.randint(1000, 99999)} item {rng.randint(10, 999)} qty {rng.randint(1, 9)} "
                     f"at {rng.randint(100, 9999)}.{rng.randint(10, 99)} ref {rng.randint(100000, 9999999)}")
    words = ["account", "phone", "license", "version", "driver", "passport", "number", "call", "tel",
             "id", "ssn", "the", "and", "of", "to", "order", "report"]
    kw = " ".join(rng.choice(words) if rng.random() < 0.7 else str(rng.randint(100, 99999999))
                  for _ in range(12000))
    return {
        "one": "hello",
        "numbers": "\n".join(lines)[:SIZE],
        "keywords": kw[:SIZE],
        "prose": "\n".join(benign_texts())[:SIZE],
    }


def wordlist_config(n):
    counts = collections.Counter(w for t in benign_texts() for w in re.findall(r"[a-z]{5,12}", t.lower()))
    terms = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][1000:1000 + n]
    return {"version": 1, "guards": [
        {"id": "banned", "detector": {"type": "wordlist", "kind": "banned", "terms": terms}, "action": "audit"}]}


def instructions(binary, config, path):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(binary), "scan"]
    if config:
        cmd += ["--config", str(config)]
    with open(path, "rb") as stdin:
        out = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True, check=True).stderr
    m = re.search(r"Collected : ([0-9]+)", out)
    if not m:
        sys.exit(f"no callgrind total from {binary}:\n{out[-2000:]}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--wordlist", type=int, metavar="N", help="measure a policy of one N-term wordlist guard")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        config = None
        if args.wordlist:
            config = d / "wordlist.json"
            config.write_text(json.dumps(wordlist_config(args.wordlist)))
        paths = {}
        for name, text in inputs().items():
            for times in (1, 2):
                paths[name, times] = d / f"{name}-{times}.jsonl"
                paths[name, times].write_text((json.dumps({"text": text}) + "\n") * times)
        results = {}
        for b in args.binaries:
            counts = {key: instructions(b, config, p) for key, p in paths.items() if key != ("one", 2)}
            load = counts.pop(("one", 1))
            results[b] = {"policy_load": load}
            for name in ("numbers", "keywords", "prose"):
                results[b][f"first_scan_{name}"] = counts[name, 1] - load
                results[b][f"scan_{name}"] = counts[name, 2] - counts[name, 1]
            print(f"{b}: load {load / 1e6:.1f} M; " + ", ".join(
                f"{k} {v / 1e6:.2f} M" for k, v in results[b].items() if k != "policy_load"), flush=True)
        print(json.dumps({"policy": f"wordlist of {args.wordlist} terms" if args.wordlist else "default",
                          "results": results}, indent=1))


if __name__ == "__main__":
    main()
