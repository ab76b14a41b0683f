"""Accuracy on EmoDB-crowd, leave-one-session-out (5 speaker-pair sessions).

Run: python benchmarks/bench_emodb.py [--root ../shared/data/emodb] [--seeds 1]
     [--first-seed 0]
     [--models svm,hard,soft,existence,soft_ensemble,cnn] [--cache .cache/features]
     [--pool 5] [--lr 3e-3] [--patience 20] [--validation-fraction 0.25]
     [--members 5] [--n-jobs 2]

Every model is trained on the simulated crowd ratings only (ratings.csv) and
scored by UAR against the intended emotion (the corpus' clean truth) and by
UAR/WA against the hard majority of the ratings (no-consensus utterances left
out), as the papers evaluate. Baseline: eGeMAPS functionals + linear SVM
trained on the majority labels. ``soft_ensemble`` is a SeedEnsembleClassifier
of ``--members`` soft-target BLSTMs (members trained ``--n-jobs`` at a time).
"""

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb
from sklearn_ser.experiments import (
    baseline_pipeline,
    fold_inputs,
    fold_predictions,
    score_predictions,
)
from sklearn_ser.features import LogSpectrogram, OpenSmileFrames, OpenSmileFunctionals
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    SeedEnsembleClassifier,
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds first-seed .. first-seed + seeds - 1")
    ap.add_argument("--models", default="svm,hard,soft,existence,soft_ensemble,cnn")
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--max-epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=None,
                    help="BLSTM learning rate (default: the estimator's, 1e-3)")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--validation-fraction", type=float, default=0.1)
    ap.add_argument("--pool", type=int, default=5, help="FrameAverager window")
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=2,
                    help="(seed, fold) fits side by side")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = load_emodb(args.root)
    u, a, classes = data.utterances, data.annotations, data.classes
    majority = HardLabels(classes).fit(a).transform(a)
    sessions = u["session"].to_numpy()
    models = args.models.split(",")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    t = time.perf_counter()
    # the folds' inputs: per-speaker z-scores from the training fold, pooled
    # frames for the BLSTMs, rows for the SVM, global z-scores for the CNN
    inputs = {}
    if set(models) & {"hard", "soft", "existence", "soft_ensemble"}:
        lld = OpenSmileFrames("emobase45", n_jobs=2, memory=args.cache,
                              progress=False).fit_transform(u)
        inputs["lld"], _ = fold_inputs(lld, a, sessions, normalise="speaker",
                                       pool=args.pool)
    if "svm" in models:
        func = OpenSmileFunctionals("eGeMAPSv02", n_jobs=2, memory=args.cache,
                                    progress=False).fit_transform(u)
        frames = pd.DataFrame({"speaker": u["speaker"].to_numpy()}, index=u.index)
        frames["frames"] = [row[None, :] for row in func]
        inputs["func"], _ = fold_inputs(frames, a, sessions, normalise="speaker",
                                        pool=None)
    if "cnn" in models:
        spec = LogSpectrogram(n_jobs=2, memory=args.cache, progress=False
                              ).fit_transform(u)
        inputs["spec"], _ = fold_inputs(spec, a, sessions, normalise="global",
                                        pool=1)
    print(f"features in {time.perf_counter() - t:.0f} s")
    extra = {} if args.lr is None else {"lr": args.lr}
    protocol = dict(max_epochs=args.max_epochs, patience=args.patience,
                    validation_fraction=args.validation_fraction)

    def build(name):
        if name == "svm":
            return lambda seed: _MajorityBaseline(classes)
        if name == "cnn":
            return lambda seed: CNNBLSTMClassifier("soft", classes=classes,
                                                   random_state=seed, **protocol)
        target = "soft" if name == "soft_ensemble" else name

        def blstm(seed):
            clf = BLSTMAttentionClassifier(target, classes=classes, random_state=seed,
                                           **protocol, **extra)
            if name == "soft_ensemble":
                return SeedEnsembleClassifier(clf, args.members, random_state=seed)
            return clf
        return blstm

    rows = []
    for name in models:
        which = {"svm": "func", "cnn": "spec"}.get(name, "lld")
        preds = fold_predictions(build(name), inputs[which], sessions, seeds=seeds,
                                 n_jobs=args.n_jobs)
        for seed, (pred, seconds) in preds.items():
            score = score_predictions(pred, majority, classes, u["intended"])
            rows.append({"model": name, "seed": seed,
                         "uar_intended": score["uar_truth"],
                         "uar_majority": score["uar"], "wa_majority": score["wa"],
                         "seconds": seconds})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).groupby("model", sort=False).agg(
        uar_intended=("uar_intended", "mean"), uar_intended_sd=("uar_intended", "std"),
        uar_majority=("uar_majority", "mean"), wa_majority=("wa_majority", "mean"),
        seconds=("seconds", "mean"))
    print(table.round(3).to_string())


class _MajorityBaseline:
    """eGeMAPS + linear SVM fitted on the majority of the training ratings."""

    def __init__(self, classes):
        self.classes = classes

    def fit(self, X, y):
        labels = HardLabels(self.classes).fit_transform(y)
        ok = labels.notna().to_numpy()
        self.clf_ = baseline_pipeline("svm_egemaps").fit(X[ok],
                                                         labels[ok].astype(str))
        return self

    def predict(self, X):
        return self.clf_.predict(X)


if __name__ == "__main__":
    main()
