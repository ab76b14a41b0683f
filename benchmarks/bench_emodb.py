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

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb
from sklearn_ser.features import (
    FrameAverager,
    LogSpectrogram,
    OpenSmileFrames,
    OpenSmileFunctionals,
    SpeakerStandardizer,
)
from sklearn_ser.metrics import unweighted_average_recall, weighted_accuracy
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    SeedEnsembleClassifier,
)


def speaker_z(features, speakers):
    """Z-score utterance-level features per speaker with SpeakerStandardizer."""
    table = pd.DataFrame({"speaker": np.asarray(speakers)})
    table["frames"] = [row[None, :] for row in features]
    out = SpeakerStandardizer().fit_transform(table)["frames"]
    return np.concatenate(list(out), axis=0)


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
                    help="ensemble members trained side by side")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = load_emodb(args.root)
    u, a, classes = data.utterances, data.annotations, data.classes
    majority = HardLabels(classes).fit(a).transform(a)
    t = time.perf_counter()
    lld = OpenSmileFrames("emobase45", n_jobs=2, memory=args.cache,
                          progress=False).fit_transform(u)
    func = OpenSmileFunctionals("eGeMAPSv02", n_jobs=2, memory=args.cache,
                                progress=False).fit_transform(u)
    models = args.models.split(",")
    spec = None
    if "cnn" in models:
        spec = LogSpectrogram(n_jobs=2, memory=args.cache, progress=False
                              ).fit_transform(u)
    # functionals z-scored per speaker (each speaker's own statistics)
    func = speaker_z(func, u["speaker"])
    print(f"features in {time.perf_counter() - t:.0f} s")
    sessions = u["session"].to_numpy()
    rows = []
    for name in models:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            pred = np.empty(len(u), dtype=object)
            t = time.perf_counter()
            for s in np.unique(sessions):
                te, tr = sessions == s, sessions != s
                if name == "svm":
                    ok = tr & majority.notna().to_numpy()
                    clf = make_pipeline(StandardScaler(), SVC(
                        kernel="linear", C=0.01, class_weight="balanced"))
                    clf.fit(func[ok], majority[ok].astype(str))
                    pred[te] = clf.predict(func[te])
                    continue
                if name == "cnn":
                    # Ando et al.: z-normalised with training statistics
                    norm = SpeakerStandardizer("global").fit(spec[tr])
                    Xtr, Xte = norm.transform(spec[tr]), norm.transform(spec[te])
                    clf = CNNBLSTMClassifier(
                        "soft", classes=classes, random_state=seed,
                        max_epochs=args.max_epochs, patience=args.patience,
                        validation_fraction=args.validation_fraction)
                else:
                    norm = SpeakerStandardizer()
                    pool = FrameAverager(args.pool)
                    Xtr = pool.fit_transform(norm.fit_transform(lld[tr]))
                    Xte = pool.transform(norm.transform(lld[te]))
                    extra = {} if args.lr is None else {"lr": args.lr}
                    target = "soft" if name == "soft_ensemble" else name
                    clf = BLSTMAttentionClassifier(
                        target, classes=classes, random_state=seed,
                        max_epochs=args.max_epochs, patience=args.patience,
                        validation_fraction=args.validation_fraction, **extra)
                    if name == "soft_ensemble":
                        clf = SeedEnsembleClassifier(clf, args.members,
                                                     n_jobs=args.n_jobs,
                                                     random_state=seed)
                clf.fit(Xtr, a[tr])
                pred[te] = clf.predict(Xte)
                history = getattr(clf, "history_", None)  # one row per epoch
                epochs = 0 if history is None else len(history)
                print(f"  {name} seed {seed} session {s}: "
                      f"{time.perf_counter() - t:.0f} s so far"
                      + (f", {epochs} epochs" if epochs else ""), flush=True)
            el = time.perf_counter() - t
            ok = majority.notna().to_numpy()
            rows.append({
                "model": name, "seed": seed,
                "uar_intended": unweighted_average_recall(u["intended"], pred,
                                                          labels=classes),
                "uar_majority": unweighted_average_recall(majority[ok], pred[ok],
                                                          labels=classes),
                "wa_majority": weighted_accuracy(majority[ok], pred[ok]),
                "seconds": el,
            })
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).groupby("model", sort=False).agg(
        uar_intended=("uar_intended", "mean"), uar_intended_sd=("uar_intended", "std"),
        uar_majority=("uar_majority", "mean"), wa_majority=("wa_majority", "mean"),
        seconds=("seconds", "mean"))
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
