"""Defaults on corpora nobody tuned for: EmoDB-crowd, EmoDB-confounded and a
generated corpus whose speakers each show one emotion.

Run: python benchmarks/bench_unseen.py [--root ../shared/data/emodb] [--seeds 3]
     [--corpora emodb,emodb-confounded,generated] [--n-jobs 2]
     [--cache .cache/features]

For each corpus, leave-one-session-out, with the public API only:

* ``readme``: the README's pipeline as it stands (eGeMAPS LLD frames,
  ``SpeakerStandardizer()`` deciding per fold, 10-frame averages, soft-target
  BLSTM at lr 3e-3 for 20 epochs without early stopping);
* ``readme_before``: the README's pipeline before (emobase45 frames,
  per-speaker z-scores, early stopping on a quarter of the training speakers);
* ``logreg_global``: eGeMAPS functionals + StandardScaler fitted on the
  training fold (global scaling) + logistic regression (C=0.01, balanced) on
  the majority labels: the reference of issue 11.

Scores: UAR against the intended emotion (every utterance) and against the
hard majority of the ratings (utterances with one), pooled over the folds;
networks over ``--seeds`` seeds (mean ± sd).
"""

import argparse
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.features import (
    FrameAverager,
    OpenSmileFrames,
    OpenSmileFunctionals,
    SpeakerStandardizer,
)
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.models import BLSTMAttentionClassifier


def corpus(name, root):
    if name == "emodb":
        return load_emodb(root)
    if name == "emodb-confounded":
        return load_emodb(root, emotions_per_speaker=2, random_state=0)
    if name == "generated":
        return make_emotional_speech(300, n_speakers=10, n_sessions=5,
                                     emotions_per_speaker=1, random_state=0)
    raise SystemExit(f"unknown corpus {name!r}")


def network(kind, classes, seed):
    if kind == "readme":
        return [("norm", SpeakerStandardizer()), ("pool", FrameAverager(10)),
                ("clf", BLSTMAttentionClassifier(
                    "soft", classes=classes, lr=3e-3, max_epochs=20,
                    validation_fraction=None, random_state=seed))]
    return [("norm", SpeakerStandardizer("speaker")), ("pool", FrameAverager(10)),
            ("clf", BLSTMAttentionClassifier(
                "soft", classes=classes, lr=3e-3, patience=20,
                validation_fraction=0.25, random_state=seed))]


def fit_fold(kind, classes, seed, frames, a, tr, te):
    import torch

    torch.set_num_threads(1)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = Pipeline(network(kind, classes, seed)).fit(frames[tr], a[tr])
    norm = pipe.named_steps["norm"]
    return (te, np.asarray(pipe.predict(frames[te]), dtype=object),
            time.perf_counter() - t, norm.mode_)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--corpora", default="emodb,emodb-confounded,generated")
    ap.add_argument("--models", default="logreg_global,readme,readme_before")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=".cache/features")
    args = ap.parse_args()
    rows = []
    for name in args.corpora.split(","):
        data = corpus(name, args.root)
        u, a, classes = data.utterances, data.annotations, list(data.classes)
        groups = u["session"].to_numpy()
        folds = [(groups != g, groups == g) for g in np.unique(groups)]
        majority = HardLabels(classes).fit(a).transform(a).to_numpy(dtype=object)
        ok = pd.notna(majority)

        def score(pred, u=u, majority=majority, ok=ok, classes=classes):
            return (unweighted_average_recall(u["intended"], pred, labels=classes),
                    unweighted_average_recall(majority[ok], pred[ok],
                                              labels=classes))

        print(f"{name}: {len(u)} utterances, {u['speaker'].nunique()} speakers, "
              f"{len(classes)} classes, chance {1 / len(classes):.3f}", flush=True)
        for model in args.models.split(","):
            t = time.perf_counter()
            if model == "logreg_global":
                func = OpenSmileFunctionals("eGeMAPSv02", n_jobs=args.n_jobs,
                                            memory=args.cache, progress=False
                                            ).fit_transform(u)
                pred = np.empty(len(u), dtype=object)
                for tr, te in folds:
                    clf = make_pipeline(StandardScaler(), LogisticRegression(
                        C=0.01, class_weight="balanced", max_iter=2000))
                    clf.fit(func[tr & ok], majority[tr & ok].astype(str))
                    pred[te] = clf.predict(func[te])
                truth, vs_majority = score(pred)
                rows.append({"corpus": name, "model": model, "uar_truth": truth,
                             "uar_truth_sd": 0.0, "uar_majority": vs_majority,
                             "normalisation": "global (StandardScaler)",
                             "fit_s": time.perf_counter() - t})
                print(f"  {model}: vs intended {truth:.3f}, vs majority "
                      f"{vs_majority:.3f}", flush=True)
                continue
            feature_set = "eGeMAPSv02" if model == "readme" else "emobase45"
            frames = OpenSmileFrames(feature_set, n_jobs=args.n_jobs,
                                     memory=args.cache, progress=False
                                     ).fit_transform(u)
            scores, modes, seconds = [], [], 0.0
            for seed in range(args.seeds):
                pred = np.empty(len(u), dtype=object)
                out = joblib.Parallel(n_jobs=args.n_jobs)(
                    joblib.delayed(fit_fold)(model, classes, seed, frames, a, tr, te)
                    for tr, te in folds)
                for te, p, s, mode in out:
                    pred[te] = p
                    seconds += s
                    modes.append(mode)
                scores.append(score(pred))
            s = np.array(scores)
            chosen = ", ".join(f"{m} x{modes.count(m)}" for m in dict.fromkeys(modes))
            rows.append({"corpus": name, "model": model,
                         "uar_truth": s[:, 0].mean(), "uar_truth_sd": s[:, 0].std(),
                         "uar_majority": s[:, 1].mean(), "normalisation": chosen,
                         "fit_s": seconds / args.seeds})
            print(f"  {model}: vs intended {s[:, 0].mean():.3f} ± "
                  f"{s[:, 0].std():.3f}, vs majority {s[:, 1].mean():.3f} "
                  f"(normalisation {chosen}; {seconds / args.seeds:.0f} s of "
                  "fits per seed)", flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
