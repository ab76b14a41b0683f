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
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.experiments import fold_inputs, fold_predictions, score_predictions
from sklearn_ser.features import OpenSmileFrames, OpenSmileFunctionals
from sklearn_ser.models import BLSTMAttentionClassifier, EveryRatingClassifier


def corpus(name, root):
    if name == "emodb":
        return load_emodb(root)
    if name == "emodb-confounded":
        return load_emodb(root, emotions_per_speaker=2, random_state=0)
    if name == "generated":
        return make_emotional_speech(300, n_speakers=10, n_sessions=5,
                                     emotions_per_speaker=1, random_state=0)
    if name == "generated-many":
        # many one-emotion speakers (each class shown by several) rated by a
        # sparse crowd: the structure of a naturalistic corpus
        return make_emotional_speech(400, n_speakers=30, n_sessions=5, raters=25,
                                     emotions_per_speaker=1, random_state=1)
    if name == "generated-mixed":
        # every speaker shows every emotion (unconfounded folds: early stopping
        # on held-out speakers), rated by a sparse crowd of many raters
        return make_emotional_speech(400, n_speakers=20, n_sessions=5, raters=25,
                                     random_state=2)
    raise SystemExit(f"unknown corpus {name!r}")


def network(kind, classes):
    """The README's BLSTM now ("readme") and before ("readme_before")."""
    if kind == "readme":
        def build(seed):
            return BLSTMAttentionClassifier("soft", classes=classes, lr=3e-3,
                                            max_epochs=20, validation_fraction=None,
                                            random_state=seed)
    else:
        def build(seed):
            return BLSTMAttentionClassifier("soft", classes=classes, lr=3e-3,
                                            patience=20, validation_fraction=0.25,
                                            random_state=seed)
    return build


def logreg(classes):
    """Global StandardScaler + logistic regression on the majority labels."""
    def build(seed):
        return make_pipeline(StandardScaler(), EveryRatingClassifier(
            LogisticRegression(C=0.01, max_iter=2000), targets="majority",
            classes=classes))
    return build


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
        majority = HardLabels(classes).fit(a).transform(a)
        print(f"{name}: {len(u)} utterances, {u['speaker'].nunique()} speakers, "
              f"{len(classes)} classes, chance {1 / len(classes):.3f}", flush=True)
        for model in args.models.split(","):
            if model == "logreg_global":
                func = OpenSmileFunctionals("eGeMAPSv02", output="frames",
                                            n_jobs=args.n_jobs, memory=args.cache,
                                            progress=False).fit_transform(u)
                inputs, decisions = fold_inputs(func, a, groups, normalise="none",
                                                pool=None)
                build, seeds = logreg(classes), [0]
                chosen = "global (StandardScaler)"
            else:
                feature_set = "eGeMAPSv02" if model == "readme" else "emobase45"
                frames = OpenSmileFrames(feature_set, n_jobs=args.n_jobs,
                                         memory=args.cache, progress=False
                                         ).fit_transform(u)
                inputs, decisions = fold_inputs(
                    frames, a, groups, pool=10,
                    normalise="auto" if model == "readme" else "speaker")
                build, seeds = network(model, classes), range(args.seeds)
                modes = [d["mode"] for d in decisions.values()]
                chosen = ", ".join(f"{m} x{modes.count(m)}"
                                   for m in dict.fromkeys(modes))
            preds = fold_predictions(build, inputs, groups, seeds=seeds,
                                     n_jobs=args.n_jobs)
            scores = np.array([
                [(sc := score_predictions(pred, majority, classes,
                                          u["intended"]))["uar_truth"], sc["uar"]]
                for pred, _ in preds.values()])
            seconds = float(np.mean([t for _, t in preds.values()]))
            rows.append({"corpus": name, "model": model,
                         "uar_truth": scores[:, 0].mean(),
                         "uar_truth_sd": scores[:, 0].std(),
                         "uar_majority": scores[:, 1].mean(), "normalisation": chosen,
                         "fit_s": seconds})
            print(f"  {model}: vs intended {scores[:, 0].mean():.3f} ± "
                  f"{scores[:, 0].std():.3f}, vs majority {scores[:, 1].mean():.3f} "
                  f"(normalisation {chosen}; {seconds:.0f} s of fits per seed)",
                  flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
