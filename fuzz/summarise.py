#!/usr/bin/env python3
"""Sum fuzz/logs/runs.tsv per target: CPU seconds (user + sys), runs, last corpus size,
crashes. Prints a Markdown table (for RESULTS.md)."""
import csv, os, sys
from collections import OrderedDict

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logs", "runs.tsv")
adjust = {}  # target -> CPU seconds to subtract (a rebuild timed with the run)
for a in sys.argv[1:]:
    t, s = a.split("=")
    adjust[t] = adjust.get(t, 0.0) + float(s)
rows = OrderedDict()
for r in csv.DictReader(open(path), delimiter="\t"):
    t = rows.setdefault(r["target"], {"n": 0, "cpu": 0.0, "wall": 0.0, "runs": 0, "corpus": 0, "crashes": 0})
    t["n"] += 1
    t["cpu"] += float(r["user_s"]) + float(r["sys_s"])
    t["wall"] += float(r["wall_s"])
    t["runs"] += int(r["runs"] or 0)
    t["corpus"] = int(r["corpus"])
    t["crashes"] += int(r["crashes"])
total = 0.0
print("| target | fuzz runs | CPU s (user+sys) | wall s | executions | corpus files (end) | crash files |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, t in rows.items():
    cpu = t["cpu"] - adjust.get(name, 0.0)
    total += cpu
    print(f"| `{name}` | {t['n']} | {cpu:.0f} | {t['wall']:.0f} | {t['runs']:,} | {t['corpus']} | {t['crashes']} |")
print(f"| **total** | | **{total:.0f}** | | | | |")
