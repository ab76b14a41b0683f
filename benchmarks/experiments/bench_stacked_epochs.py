"""Why does the stacked model (Chou & Lee 2019) lose with more epochs on the
speaker-confounded folds? Stage 1 (components) and stage 2 (the fusion head)
trained for different epoch counts, and without the individual raters.

Run: python benchmarks/experiments/bench_stacked_epochs.py [--corpus emodb-confounded]
     [--variants c20h20,c8h8,c20h8,c8h20,crowd20] [--seeds 3] [--n-jobs 2]
     [--cache .cache/features]

The command line's confounded-fold settings: eGeMAPS LLD frames, global
z-scores, 10-frame averages, lr 3e-3, no early stopping, the last half of
the epochs averaged (``weight_averaging=0.5``); leave-one-session-out, UAR
against the intended emotion and against the hard majority, pooled over the
folds, mean ± sd over seeds.

* ``cAhB``: components trained A epochs, the fusion head B epochs;
* ``crowd20``: CrowdH + CrowdS only (``components="CrowdHS"``), 20 epochs;
* ``c20h20drop``, ``c8h8drop``, ``c20h8drop``: dropout 0.5 on the head's
  input (``final={"input_dropout": 0.5}``: Chou & Lee's "dropout layer for all layers");
  ``c20h20drop_swa1``: the same head averaging the weights of all its epochs
  (``weight_averaging=1.0``) instead of the last half; ``c20h20drop_lr4``:
  the head at a quarter of the components' learning rate (``final__lr``);
  ``c20h20drop_val``, ``c8h8drop_val``: 20 % of the training utterances held
  out from every model, the head keeping its best epoch on them
  (``final_validation=0.2``);
* ``c20h20_first``, ``c20h20drop_first``, ``c8h8_first``: the head starts
  as CrowdH's own output layer, zero weights on the other models
  (``FrozenFusionClassifier(init="first")``), without or with the input
  dropout;
* ``c20oof``, ``c8oof``: not Chou & Lee's fusion but stacking as
  scikit-learn's ``StackingClassifier`` does it: each stage-1 model is
  refitted on 3 inner folds of the training utterances (stratified by the
  majority), its class probabilities on the inner fold it did not see are
  the head's training input, and the head is a class-balanced logistic
  regression on their logarithms (4 x the stage-1 cost).

``--classes`` keeps the utterances whose intended emotion is one of them (the
papers' 4-class protocol, as ``bench_papers.py --classes``).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from sklearn_ser.experiments import fold_inputs, run_jobs, score_predictions
from sklearn_ser.features import OpenSmileFrames
from sklearn_ser.models import BLSTMAttentionClassifier, StackedAnnotatorClassifier

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/
from bench_unseen import corpus  # noqa: E402

#: name -> (components' epochs, the head's settings, the stacked model's settings)
VARIANTS = {"c20h20": (20, {"max_epochs": 20}, {}),
            "c8h8": (8, {"max_epochs": 8}, {}),
            "c20h8": (20, {"max_epochs": 8}, {}),
            "c8h20": (8, {"max_epochs": 20}, {}),
            "crowd20": (20, {"max_epochs": 20}, {"components": "CrowdHS"}),
            "crowd8": (8, {"max_epochs": 8}, {"components": "CrowdHS"}),
            "c20h20drop": (20, {"max_epochs": 20}, {"final": {"input_dropout": 0.5}}),
            "c8h8drop": (8, {"max_epochs": 8}, {"final": {"input_dropout": 0.5}}),
            "c20h8drop": (20, {"max_epochs": 8}, {"final": {"input_dropout": 0.5}}),
            "c20h20drop_swa1": (20, {"max_epochs": 20, "weight_averaging": 1.0},
                                {"final": {"input_dropout": 0.5}}),
            "c20h20drop_lr4": (20, {"max_epochs": 20},
                               {"final": {"input_dropout": 0.5,
                                          "lr": 3e-3 / 4}}),
            "c20h20drop_val": (20, {"max_epochs": 20},
                               {"final": {"input_dropout": 0.5},
                                "final_validation": 0.2}),
            "c8h8drop_val": (8, {"max_epochs": 8},
                             {"final": {"input_dropout": 0.5},
                              "final_validation": 0.2}),
            "c20h20drop_avg": (20, {"max_epochs": 20, "init": "average"},
                               {"final": {"input_dropout": 0.5}}),
            "c8h8drop_avg": (8, {"max_epochs": 8, "init": "average"},
                             {"final": {"input_dropout": 0.5}}),
            "c20h20_avg": (20, {"max_epochs": 20, "init": "average"}, {}),
            "c20h0": (20, {"max_epochs": 1, "init": "average", "lr": 1e-9}, {}),
            "c20h20_first": (20, {"max_epochs": 20, "init": "first"}, {}),
            "c20h20drop_first": (20, {"max_epochs": 20, "init": "first"},
                                 {"final": {"input_dropout": 0.5}}),
            "c8h8_first": (8, {"max_epochs": 8, "init": "first"}, {})}


#: out-of-fold stacking: name -> the components' epochs
OOF = {"c20oof": 20, "c8oof": 8}


def _stage1_only(clf):
    """Skip the fusion head of a StackedAnnotatorClassifier (stage 1 only)."""
    def no_head(*args, **kwargs):
        clf.final_ = next(iter(clf.components_.values()))
    clf._fit_fusion = no_head
    return clf


def _log_probas(clf, X):
    return np.hstack([np.log(np.clip(c.predict_proba(X), 1e-6, 1.0))
                      for c in clf.components_.values()])


def _oof_job(variant, seed, fold, Xtr, ytr, Xte, classes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils import _safe_indexing

    from sklearn_ser.annotations import HardLabels

    warnings.simplefilter("ignore")
    t = time.perf_counter()

    def stage1(raters=None):
        base = BLSTMAttentionClassifier(lr=3e-3, max_epochs=OOF[variant],
                                        validation_fraction=None,
                                        weight_averaging=0.5)
        return _stage1_only(StackedAnnotatorClassifier(
            base, classes=classes, random_state=seed, raters=raters))

    full = stage1().fit(Xtr, ytr)
    raters = [n for n in full.components_ if n not in ("CrowdH", "CrowdS")]
    majority = HardLabels(classes).fit(ytr).transform(ytr)
    has = majority.notna().to_numpy()
    strata = np.where(has, majority.astype(str).to_numpy(), "<none>")
    oof = np.zeros((len(strata), len(full.components_) * len(classes)))
    for inner, (a, b) in enumerate(StratifiedKFold(
            3, shuffle=True, random_state=seed).split(strata, strata)):
        part = stage1(raters or None).set_params(random_state=seed + 1000 * (inner + 1))
        part.fit(_safe_indexing(Xtr, a), _safe_indexing(ytr, a))
        oof[b] = _log_probas(part, _safe_indexing(Xtr, b))
    head = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    head.fit(oof[has], majority[has].astype(str).to_numpy())
    pred = head.predict(_log_probas(full, Xte))
    return {"variant": variant, "seed": seed, "fold": fold,
            "pred": [str(p) for p in pred], "seconds": time.perf_counter() - t}


def _job(variant, seed, fold, Xtr, ytr, Xte, classes):
    if variant in OOF:
        return _oof_job(variant, seed, fold, Xtr, ytr, Xte, classes)
    warnings.simplefilter("ignore")
    comp_epochs, head, stacked = VARIANTS[variant]
    # the head's settings are the stacked model's final stage
    stacked = {**stacked, "final": {**stacked.get("final", {}), **head}}
    base = BLSTMAttentionClassifier(lr=3e-3, max_epochs=comp_epochs,
                                    validation_fraction=None,
                                    weight_averaging=0.5)
    t = time.perf_counter()
    clf = StackedAnnotatorClassifier(base, classes=classes, random_state=seed,
                                     **stacked).fit(Xtr, ytr)
    pred = clf.predict(Xte)
    return {"variant": variant, "seed": seed, "fold": fold,
            "pred": [str(p) for p in pred], "seconds": time.perf_counter() - t}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="../shared/data/emodb")
    ap.add_argument("--corpus", default="emodb-confounded")
    ap.add_argument("--variants", default="c20h20,c8h8,c20h8,c8h20,crowd20,crowd8")
    ap.add_argument("--classes", default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=".cache/features")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = corpus(args.corpus, args.root)
    u, a, classes = data.utterances, data.annotations, data.classes
    if args.classes:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()]
        keep = u["intended"].isin(classes).to_numpy()
        u, a = u[keep], a[keep]
    sessions = u["session"].astype(str).to_numpy()
    frames = OpenSmileFrames("eGeMAPSv02", n_jobs=2, memory=args.cache,
                             progress=False).fit_transform(u)
    inputs, _ = fold_inputs(frames, a, sessions, normalise="global", pool=10)
    from sklearn_ser.annotations import HardLabels

    majority = HardLabels(classes).fit(a).transform(a)
    for variant in args.variants.split(","):
        tasks = [(variant, s, g, *inputs[g], classes) for s in range(args.seeds)
                 for g in np.unique(sessions)]
        t = time.perf_counter()
        by_seed = {}
        for rec in run_jobs(_job, tasks, args.n_jobs):
            by_seed.setdefault(rec["seed"], {})[rec["fold"]] = rec["pred"]
        uars, uars_majority = [], []
        for preds in by_seed.values():
            pred = np.empty(len(u), dtype=object)
            for g, p in preds.items():
                pred[sessions == g] = p
            score = score_predictions(pred, majority, classes, u["intended"])
            uars.append(score["uar_truth"])
            uars_majority.append(score["uar"])

        def pm(v):
            return (f"{100 * np.mean(v):.1f} ± "
                    f"{100 * np.std(v, ddof=1) if len(v) > 1 else 0:.1f}")
        print(f"| {args.corpus} | {variant} | {pm(uars)} | {pm(uars_majority)} | "
              f"{time.perf_counter() - t:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
