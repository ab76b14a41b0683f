"""Search settings of the soft-target BLSTM on EmoDB-crowd (leave-one-session-out).

Run: python benchmarks/tune_emodb_blstm.py --configs '[{"lr": 3e-3}, {"pool": 10}]'

Each config is a dict of BLSTMAttentionClassifier parameters plus four
pipeline keys: ``ensemble`` (members whose predicted probabilities are
averaged, each with its own seed and so its own early-stopping speakers;
default 1), ``pool`` (FrameAverager window, default 5), ``target``
(default "soft") and ``features`` (an OpenSmileFrames feature set, default
"emobase45"). Every config is scored by UAR against the intended emotion
and against the majority of the ratings, one line per config, so the chosen
setting and everything tried are on record (BENCHMARKS.md).
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.models import BLSTMAttentionClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--configs", required=True, help="JSON list of parameter dicts")
    ap.add_argument("--seeds", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = load_emodb(args.root)
    u, a, classes = data.utterances, data.annotations, data.classes
    majority = HardLabels(classes).fit(a).transform(a)
    ok = majority.notna().to_numpy()
    frames = {}
    sessions = u["session"].to_numpy()
    for config in json.loads(args.configs):
        params = dict(config)
        pool = params.pop("pool", 5)
        target = params.pop("target", "soft")
        fset = params.pop("features", "emobase45")
        members = params.pop("ensemble", 1)
        if fset not in frames:
            frames[fset] = OpenSmileFrames(fset, n_jobs=2, memory=args.cache,
                                           progress=False).fit_transform(u)
        lld = frames[fset]
        for seed in range(args.seeds):
            t = time.perf_counter()
            pred = np.empty(len(u), dtype=object)
            for s in np.unique(sessions):
                te, tr = sessions == s, sessions != s
                norm, avg = SpeakerStandardizer(), FrameAverager(pool)
                Xtr = avg.fit_transform(norm.fit_transform(lld[tr]))
                Xte = avg.transform(norm.transform(lld[te]))
                proba = 0
                for m in range(members):
                    clf = BLSTMAttentionClassifier(
                        target, classes=classes,
                        random_state=seed if members == 1 else 1000 * seed + m,
                        **params)
                    clf.fit(Xtr, a[tr])
                    proba = proba + clf.predict_proba(Xte)
                pred[te] = clf.classes_[np.argmax(proba, axis=1)]
            print(json.dumps({
                "config": config, "seed": seed,
                "uar_intended": round(unweighted_average_recall(
                    u["intended"], pred, labels=classes), 4),
                "uar_majority": round(unweighted_average_recall(
                    majority[ok], pred[ok], labels=classes), 4),
                "seconds": round(time.perf_counter() - t, 1)}), flush=True)


if __name__ == "__main__":
    main()
