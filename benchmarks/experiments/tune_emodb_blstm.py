"""Search settings of the soft-target BLSTM on EmoDB-crowd (leave-one-session-out).

Run: python benchmarks/experiments/tune_emodb_blstm.py \
    --configs '[{"lr": 3e-3}, {"pool": 10}]'

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
import warnings
from pathlib import Path

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb
from sklearn_ser.experiments import fold_inputs, fold_predictions, score_predictions
from sklearn_ser.features import OpenSmileFrames
from sklearn_ser.models import BLSTMAttentionClassifier, SeedEnsembleClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--configs", required=True, help="JSON list of parameter dicts")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = load_emodb(args.root)
    u, a, classes = data.utterances, data.annotations, data.classes
    majority = HardLabels(classes).fit(a).transform(a)
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
        inputs, _ = fold_inputs(frames[fset], a, sessions, normalise="speaker",
                                pool=pool)

        def build(seed, target=target, params=params, members=members):
            clf = BLSTMAttentionClassifier(target, classes=classes,
                                           random_state=seed, **params)
            if members > 1:  # mean probability of seeded copies
                return SeedEnsembleClassifier(clf, members, random_state=seed)
            return clf

        preds = fold_predictions(build, inputs, sessions, seeds=range(args.seeds),
                                 n_jobs=args.n_jobs)
        for seed, (pred, seconds) in preds.items():
            score = score_predictions(pred, majority, classes, u["intended"])
            print(json.dumps({
                "config": config, "seed": seed,
                "uar_intended": round(score["uar_truth"], 4),
                "uar_majority": round(score["uar"], 4),
                "seconds": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
