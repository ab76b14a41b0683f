"""Compare methods leave-one-group-out on a corpus, as the papers do.

The protocol of ``sklearn-ser benchmark`` and of the scripts in
``benchmarks/``, as a library:

* :data:`PROFILES` and :func:`registry`: the registry of compared methods
  (majority-trained functionals baselines, BLSTMs on hard, soft and existence
  targets, a seed ensemble, the three papers' meta-estimators), each built by
  ``build(classes, seed, epochs, profile)``;
* :func:`fold_inputs`: per leave-one-group-out fold, the training and test
  inputs of the README's recipe (speaker normalisation decided from the
  training fold, frame averaging), computed once and shared by every method
  and seed;
* :func:`run_comparison`: every (method, seed, fold) fitted in parallel (each
  worker with its share of torch threads), scored with
  :func:`score_predictions` against the majority of the ratings and an
  optional truth column;
* :func:`results_table`, :func:`results_legend`, :func:`write_outputs`: the
  Markdown table, its legend, ``results.json`` and the plots.

Examples
--------
>>> from sklearn_ser.comparison import registry, score_predictions
>>> sorted(registry())[:3]
['crowd_hard', 'crowd_soft', 'crowd_soft_x5']
>>> score_predictions(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])["uar"]
0.75
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._parallel import torch_thread_share, use_torch_threads
from .exceptions import ComparisonError
from .metrics import agreement_levels, class_probabilities

__all__ = [
    "BASELINES",
    "CONFOUNDED",
    "ComparisonError",
    "DEMO_METHODS",
    "DISTRIBUTION_SCORES",
    "PAPER_MARGINS",
    "FUNCTIONALS",
    "NORMALISATIONS",
    "OUTPUT_NAMES",
    "PENALTY_GRID",
    "PROFILES",
    "penalty_grid",
    "chosen_epochs",
    "rare_by_class",
    "baseline_pipeline",
    "confounded_profile",
    "distribution_scores",
    "distribution_table",
    "margins_table",
    "fold_inputs",
    "fold_predictions",
    "neutralise_formulas",
    "registry",
    "results_legend",
    "results_table",
    "run_comparison",
    "run_jobs",
    "score_predictions",
    "write_outputs",
]

#: Training settings. "benchmark" = the settings measured on EmoDB-crowd
#: (BENCHMARKS.md); "demo" = a compact network so that every method runs on
#: the generated corpus within 5 minutes on two CPU cores.
PROFILES = {
    "benchmark": {"pool": 10, "blstm": {"lr": 3e-3, "patience": 20,
                                        "validation_fraction": 0.25}},
    "demo": {"pool": 10, "blstm": {"dense_units": 64, "lstm_units": 32,
                                   "head_units": 64, "lr": 3e-3, "patience": 5,
                                   "validation_fraction": 0.25}},
}


#: Where the training fold's speakers predict its labels (speaker explains
#: >= 30 % of the label entropy: speakers show one or a few emotions),
#: holding out whole speakers for early stopping removes emotions from
#: training and the networks fall towards chance (measured on
#: EmoDB-confounded and on a generated one-emotion-per-speaker corpus,
#: BENCHMARKS.md). There the networks train on eGeMAPS LLD frames for a fixed
#: 20 epochs on all training speakers instead; the rest of the profile
#: (sizes, lr, pooling) is kept, and the final weights are the mean of those
#: after each of the last half of the epochs (stochastic weight averaging,
#: ``weight_averaging=0.5``: less dependence on the epoch count and the seed).
#: Letting held-out speakers choose the epochs and refitting on all of them
#: (``refit=True`` or ``refit=4``, the mean curve of 4 folds) was measured
#: too and chose too few epochs on both corpora (BENCHMARKS.md, "Epochs chosen
#: by held-out speakers").
CONFOUNDED = {"features": "eGeMAPSv02", "epochs": 20,
              "blstm": {"validation_fraction": None, "weight_averaging": 0.5}}


def confounded_profile(profile):
    """``profile`` with the :data:`CONFOUNDED` settings (features, epochs, no
    early stopping) over it."""
    out = {**profile, "features": CONFOUNDED["features"],
           "epochs": CONFOUNDED["epochs"]}
    out["blstm"] = {**profile["blstm"], **CONFOUNDED["blstm"]}
    return out


def registry():
    """The registry: name -> (description, build); ``build`` is None for the
    functionals baselines (:func:`baseline_pipeline`), else
    ``build(classes, seed, epochs, profile)`` returns an unfitted estimator
    that takes the fold inputs of :func:`fold_inputs` and the ratings."""
    from .models import BLSTMAttentionClassifier

    def blstm(target):
        def build(classes, seed, epochs, profile):
            return BLSTMAttentionClassifier(target, classes=classes, random_state=seed,
                                            max_epochs=epochs, **profile["blstm"])
        return build

    def soft_x5(classes, seed, epochs, profile):
        from .models import SeedEnsembleClassifier

        return SeedEnsembleClassifier(blstm("soft")(classes, seed, epochs, profile),
                                      n_members=5, random_state=seed)

    def stacked(classes, seed, epochs, profile):
        from .models import StackedAnnotatorClassifier

        return StackedAnnotatorClassifier(blstm("hard")(classes, seed, epochs, profile),
                                          classes=classes, random_state=seed)

    def mlee(classes, seed, epochs, profile):
        from .models import MLEEFusionClassifier

        # the BLSTM encoder on LLD frames, at the learning rate of the other
        # BLSTMs (the paper's CNN on spectrograms is MLEEFusionClassifier's
        # default; far too slow for two CPU cores)
        lr = profile["blstm"].get("lr", 1e-3)
        base = blstm("hard")(classes, seed, epochs, profile).set_params(
            optimizer="adam")
        return MLEEFusionClassifier(base, classes=classes, random_state=seed,
                                    pretrain_lr=lr, dominant_lr=lr,
                                    finetune_lr=lr / 2, fusion_lr=lr / 4)

    def noisy(classes, seed, epochs, profile):
        from .models import NoisyLabelMetaClassifier

        params = dict(profile["blstm"])
        params.pop("lr", None)  # Fujioka et al.: Adam at its default 1e-3
        if "dense_units" in params:  # compact profile: keep Fujioka's ratio
            params["dense_units"] *= 2
        params.pop("head_units", None)
        return NoisyLabelMetaClassifier(classes=classes, random_state=seed,
                                        max_epochs=epochs, **params)

    return {
        "svm_egemaps": ("eGeMAPS functionals + linear SVM (C=0.01, balanced) on "
                        "the majority", None),
        "logreg_egemaps": ("eGeMAPS functionals + logistic regression (C=0.01, "
                           "balanced) on the majority", None),
        "every_rating_egemaps": ("eGeMAPS functionals + logistic regression "
                                 "from every rating: vote shares refined by "
                                 "learning from crowds (EveryRatingClassifier, "
                                 "refine=3), C chosen in each training fold "
                                 "(C x features 0.01 .. 100, 5 inner folds "
                                 "grouped by speaker, scored on the ratings' "
                                 "log loss)", None),
        "every_rating_compare": ("the README's recipe: ComParE-2016 functionals "
                                 "+ logistic regression from every rating (vote "
                                 "shares, refine=3), C chosen in each training "
                                 "fold as for every_rating_egemaps", None),
        "every_rating_fusion": ("every_rating_compare and crowd_soft fused: the "
                                "geometric mean of their probabilities "
                                "(LateFusionClassifier's rule, equal weights)",
                                None),
        "crowd_hard": ("BLSTM-attention on hard majority targets (CrowdH)",
                       blstm("hard")),
        "crowd_soft": ("BLSTM-attention on soft targets, alpha 0.75 (CrowdS)",
                       blstm("soft")),
        "crowd_soft_x5": ("five CrowdS BLSTMs with their own seeds, probabilities "
                          "averaged (SeedEnsembleClassifier)", soft_x5),
        "mlee_only": ("BLSTM-attention on existence targets, Eq. 7 (MLEE only)",
                      blstm("existence")),
        "stacked": ("StackedAnnotatorClassifier: CrowdH + CrowdS + raters, fused",
                    stacked),
        "mlee_fusion": ("MLEEFusionClassifier (BLSTM encoders), soft fine-tuning",
                        mlee),
        "noisy_meta": ("NoisyLabelMetaClassifier: BLSTM + L + w", noisy),
    }


#: Methods run by ``sklearn-ser demo`` when --methods is not given: the
#: majority-trained baselines, CrowdH, CrowdS and the three papers' methods.
DEMO_METHODS = ("svm_egemaps", "logreg_egemaps", "crowd_hard", "crowd_soft",
                "stacked", "mlee_fusion", "noisy_meta")

#: The majority-trained functionals baselines (no network).
BASELINES = ("svm_egemaps", "logreg_egemaps")

#: Every method on utterance functionals (no network).
FUNCTIONALS = (*BASELINES, "every_rating_egemaps", "every_rating_compare")

#: The functionals of each functionals method (default eGeMAPS).
FUNCTIONAL_SETS = {"every_rating_compare": "ComParE_2016"}

#: The every-rating recipe: its penalty is chosen in each training fold.
EVERY_RATING = ("every_rating_egemaps", "every_rating_compare")

#: Methods made of others: name -> the members whose probabilities are fused.
FUSIONS = {"every_rating_fusion": ("every_rating_compare", "crowd_soft")}

#: The penalties the every-rating recipe chooses from, as ``C * n_features``
#: (half decades around 1: with standardised features the penalty's weight
#: against the data grows with their number, so 88 eGeMAPS functionals get C
#: 1e-4 .. 1 and 6,373 ComParE ones 1.6e-6 .. 1.6e-2; an unscaled grid left
#: ComParE searching penalties its optimum never needs, at 10 minutes a fold).
PENALTY_GRID = tuple(float(c) for c in np.logspace(-2, 2, 9))


def penalty_grid(n_features):
    """The C values of :data:`PENALTY_GRID` for ``n_features`` features."""
    return [c / n_features for c in PENALTY_GRID]


#: The ``--normalise`` choices of the command line (speaker z-scores, global
#: z-scores, none, or "auto": decided per training fold).
NORMALISATIONS = ("auto", "speaker", "global", "none")


def _as_frames(features, utterances):
    """Utterance-level feature rows as one-frame sequences (with speakers)."""
    table = pd.DataFrame(index=utterances.index)
    if "speaker" in utterances.columns:
        table["speaker"] = utterances["speaker"].to_numpy()
    table["frames"] = [row[None, :] for row in np.asarray(features)]
    return table


def _unframe(table):
    return np.concatenate(list(table["frames"]), axis=0)


def baseline_pipeline(name, seed=0, n_features=88):
    """StandardScaler + the linear SVM or logistic regression of a baseline
    (fitted on majority labels), or the every-rating logistic regression of
    ``every_rating_egemaps`` / ``every_rating_compare`` (fitted on the
    ratings; C chosen in the training fold from :func:`penalty_grid` of
    ``n_features``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name in EVERY_RATING:
        from .models import EveryRatingClassifier

        return make_pipeline(StandardScaler(), EveryRatingClassifier(
            LogisticRegression(max_iter=3000), refine=3, random_state=seed,
            param_grid={"C": penalty_grid(n_features)}, refine_groups=False))
    if name == "svm_egemaps":
        clf = SVC(kernel="linear", C=0.01, class_weight="balanced")
    else:
        clf = LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000)
    return make_pipeline(StandardScaler(), clf)


def _fit_fold(name, build, seed, epochs, profile, Xtr, ytr, Xte, classes, extras):
    """One (method, seed, fold) job: predictions, and plot material if asked."""
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = build(classes, seed, epochs, profile).fit(Xtr, ytr)
    seconds = time.perf_counter() - t
    out = {"pred": np.asarray(clf.predict(Xte), dtype=object), "seconds": seconds,
           "proba": class_probabilities(clf, Xte, classes),
           "epochs": chosen_epochs(clf)}
    if extras:
        if hasattr(clf, "weights_by_class_"):
            out["weights_by_class"] = clf.weights_by_class_
            out["transition_matrix"] = clf.transition_matrix_
        try:
            out["attention"] = clf.attention_weights(Xte.iloc[:1])[0]
            out["attention_frames"] = np.asarray(Xte["frames"].iloc[0])
        except (AttributeError, TypeError, ValueError):  # no attention pooling
            pass
    return out


def chosen_epochs(clf):
    """The epochs a fitted network kept (``best_epoch_``), or, for a model
    made of networks, the mean over them (seed ensemble members, the
    meta-estimators' components); None when no network was trained."""
    own = getattr(clf, "best_epoch_", None)
    if own is not None:
        return float(own)
    parts = list(getattr(clf, "estimators_", None) or [])
    for name in ("components_", "mlee_", "dominant_", "final_"):
        part = getattr(clf, name, None)
        parts.extend(part.values() if isinstance(part, dict)
                     else [] if part is None else [part])
    found = [e for e in (chosen_epochs(p) for p in parts if p is not clf)
             if e is not None]
    return float(np.mean(found)) if found else None


#: The scores against every rating reported beside UAR/WA: key -> (what,
#: direction).
DISTRIBUTION_SCORES = {
    "all_inclusive_f1": ("EMO-SUPERB's all-inclusive macro-F1: vote shares and "
                         "probabilities binarised at 1/C, every rated utterance",
                         "higher"),
    "soft_log_loss": ("cross-entropy of the probabilities against the raters' "
                      "vote shares (NLL on soft labels)", "lower"),
    "jensen_shannon": ("Jensen-Shannon divergence (base 2) between vote shares "
                       "and probabilities", "lower"),
    "brier": ("multi-class Brier score against the vote shares", "lower"),
    "ece": ("expected calibration error of the top probability against the "
            "hard majority (15 bins)", "lower"),
    "alpha_with_model": ("Krippendorff's alpha of the raters' first choices with "
                         "the model as one more rater (compare with the raters' "
                         "own alpha in the caption)", "higher"),
}


def distribution_scores(proba, pred, annotations, classes):
    """The scores against every rating of one set of predictions (a dict of
    :data:`DISTRIBUTION_SCORES`; the probability scores are None without
    ``proba``)."""
    from .metrics import (
        all_inclusive_f1,
        expected_calibration_error,
        jensen_shannon_divergence,
        krippendorff_alpha,
        soft_brier_score,
        soft_log_loss,
    )

    out = dict.fromkeys(DISTRIBUTION_SCORES)
    out["alpha_with_model"] = krippendorff_alpha(annotations, pred,
                                                 classes=classes).with_model
    if proba is not None:
        kw = {"classes": classes}
        out.update(all_inclusive_f1=all_inclusive_f1(annotations, proba, **kw),
                   soft_log_loss=soft_log_loss(annotations, proba, **kw),
                   jensen_shannon=jensen_shannon_divergence(annotations, proba, **kw),
                   brier=soft_brier_score(annotations, proba, **kw),
                   ece=expected_calibration_error(annotations, proba, **kw))
    return out


def fold_inputs(features, annotations, groups, *, folds=None, normalise="auto",
                pool=10, modes=None):
    """The inputs of each leave-one-group-out fold, as the README's recipe.

    For each held-out group ``g``, :class:`~sklearn_ser.features.SpeakerStandardizer`
    is fitted on the training fold (with its ratings: ``normalise="auto"``
    decides per speaker or global from them) and applied to both sides, then
    :class:`~sklearn_ser.features.FrameAverager` pools the frames.

    Parameters
    ----------
    features : DataFrame with a ``frames`` column (and ``speaker``)
    annotations : ratings aligned with ``features``
    groups : array-like, one group per utterance
    folds : list, default=None
        The held-out groups to prepare (default: every group).
    normalise : {"auto", "speaker", "global", "none"}, default="auto"
    pool : int, dict or None, default=10
        Frames averaged (a dict: per fold); None: utterance-level rows
        (one-frame sequences, e.g. functionals) returned as 2-D arrays.
    modes : dict, default=None
        Normalisation already decided for some folds (used as given).

    Returns
    -------
    inputs : dict
        ``g -> (X_train, y_train, X_test)``.
    decisions : dict
        ``g -> {"mode", "reason", "speaker_dependence"}`` for the folds this
        call decided.
    """
    from .annotations import align_annotations
    from .features import FrameAverager, SpeakerStandardizer

    # by utterance id, not by position (an error names a mismatched id)
    annotations = align_annotations(features, annotations)
    groups = np.asarray(groups)
    folds = list(np.unique(groups)) if folds is None else list(folds)
    modes = modes or {}
    inputs, decisions = {}, {}
    for g in folds:
        te, tr = groups == g, groups != g
        if g in modes:
            norm = SpeakerStandardizer(modes[g]).fit(features[tr])
        else:
            norm = SpeakerStandardizer(normalise).fit(features[tr], annotations[tr])
            decisions[g] = {"mode": norm.mode_, "reason": norm.mode_reason_,
                            "speaker_dependence": norm.speaker_dependence_}
        if pool is None:
            inputs[g] = (_unframe(norm.transform(features[tr])), annotations[tr],
                         _unframe(norm.transform(features[te])))
        else:
            averager = FrameAverager(pool[g] if isinstance(pool, dict) else pool)
            inputs[g] = (averager.fit_transform(norm.transform(features[tr])),
                         annotations[tr],
                         averager.transform(norm.transform(features[te])))
    return inputs, decisions


def score_predictions(pred, majority, classes, truth=None):
    """UAR, WA and per-class recall against the majority (rows that have one),
    and UAR against ``truth`` (every row with a truth label) when given.

    Returns a dict: ``uar``, ``wa``, ``uar_truth`` (or None) and
    ``per_class_recall``.
    """
    from .metrics import unweighted_average_recall, weighted_accuracy

    pred = np.asarray(pred, dtype=object)
    majority = pd.Series(np.asarray(majority, dtype=object))
    ok = majority.notna().to_numpy()
    y_maj = majority[ok].to_numpy()
    recall = {c: float(np.mean(pred[ok][y_maj == c] == c))
              for c in classes if np.any(y_maj == c)}
    out = {
        "uar": unweighted_average_recall(y_maj, pred[ok], labels=classes),
        "wa": weighted_accuracy(y_maj, pred[ok]),
        "uar_truth": (None if truth is None else
                      unweighted_average_recall(truth, pred, labels=classes)),
        "per_class_recall": recall,
    }
    if truth is not None:
        t = np.asarray(truth, dtype=object)
        out["per_class_recall_truth"] = {
            c: float(np.mean(pred[t == c] == c)) for c in classes if np.any(t == c)}
    return out


def fold_predictions(build, inputs, groups, *, seeds=(0,), n_jobs=1, quiet=True,
                     method="predict"):
    """Leave-one-group-out predictions of ``build(seed)`` for every seed.

    Parameters
    ----------
    build : callable
        ``build(seed)`` returns an unfitted estimator (a pipeline, a
        SeedEnsembleClassifier...) that takes the fold inputs and ratings.
    inputs : dict
        ``g -> (X_train, y_train, X_test)`` (:func:`fold_inputs`).
    groups : array-like
        The group of every utterance (the test rows of fold ``g`` are
        ``groups == g``).
    seeds : iterable of int, default=(0,)
    n_jobs : int, default=1
        (seed, fold) fits run in parallel (:func:`run_jobs`).
    quiet : bool, default=True
        Silence the estimators' warnings (they repeat per fold).
    method : {"predict", "predict_proba"}, default="predict"
        Labels, or probabilities (columns in the estimators' ``classes_``
        order: give every estimator the same ``classes``).

    Returns
    -------
    predictions : dict
        ``seed -> (predicted labels or probabilities of every utterance, fit
        seconds summed over the folds)``.
    """
    groups = np.asarray(groups)
    seeds = list(seeds)
    keys = [(seed, g) for seed in seeds for g in inputs]
    tasks = [(build, seed, *inputs[g], quiet, method) for seed, g in keys]
    out = {seed: (None, 0.0) for seed in seeds}
    for (seed, g), (pred, seconds) in zip(keys, run_jobs(_fit_predict, tasks, n_jobs),
                                          strict=True):
        values, total = out[seed]
        if values is None:
            values = (np.empty(len(groups), dtype=object) if pred.ndim == 1 else
                      np.full((len(groups), pred.shape[1]), np.nan))
        values[groups == g] = pred
        out[seed] = (values, total + seconds)
    return out


def _fit_predict(build, seed, X_train, y_train, X_test, quiet, method="predict"):
    t = time.perf_counter()
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        clf = build(seed).fit(X_train, y_train)
        seconds = time.perf_counter() - t
        if method == "predict_proba":
            return np.asarray(clf.predict_proba(X_test), dtype=float), seconds
    return np.asarray(clf.predict(X_test), dtype=object), seconds


def run_jobs(function, tasks, n_jobs=1):
    """``function(*task)`` for every task, ``n_jobs`` at a time (joblib
    processes, each with its share of the cores as torch threads); yields the
    results in order, each as soon as it and those before it are done."""
    import joblib

    from ._parallel import parallel

    threads = torch_thread_share(n_jobs)
    jobs = (joblib.delayed(_with_threads)(function, threads, task) for task in tasks)
    with warnings.catch_warnings():
        # loky replaces a worker whose memory grew by more than 300 MB since
        # its first task (its "memory leak" check; a network's training grows
        # that much) once that task is done, and says "A worker stopped while
        # some jobs were given to the executor" when tasks are queued: they
        # run on the new worker and every result is kept, so the message
        # tells a user nothing to act on
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs",
                                category=UserWarning)
        yield from parallel(n_jobs)(jobs)


def _with_threads(function, threads, task):
    use_torch_threads(threads)
    return function(*task)


def run_comparison(utterances, annotations, classes, *, methods, seeds=1,
                   epochs=60, n_jobs=1, cache=None, truth_column="intended",
                   group_column="session", profile="benchmark", progress=True,
                   normalise="auto"):
    """Leave-one-group-out comparison of ``methods`` on a corpus.

    ``normalise`` is the :class:`~sklearn_ser.features.SpeakerStandardizer`
    mode of every method (frames and functionals): ``"auto"`` decides in each
    fold from that fold's training speakers and labels; the decisions are in
    ``meta["normalisation"]``.

    Returns the results dict (``methods``, ``meta``) with, under the private
    key ``"_plots"``, the material of the plots: predictions of seed 0 for
    every utterance, fitted weights of the noisy-label model and one
    utterance's attention.
    """

    from .annotations import HardLabels, align_annotations
    from .features import (
        OpenSmileFrames,
        OpenSmileFunctionals,
    )

    reg = registry()
    unknown = [m for m in methods if m not in reg]
    if unknown:
        raise ComparisonError(
            f"unknown method(s) {unknown}; choose from {list(reg)}."
        )
    # a fusion's members are run too (reported only when asked for)
    run_methods = list(dict.fromkeys(
        [m for f in methods for m in (*FUSIONS.get(f, ()), f)]))
    if normalise not in NORMALISATIONS:
        raise ComparisonError(f"unknown normalisation {normalise!r}; choose "
                         f"from {list(NORMALISATIONS)}.")
    if isinstance(profile, str):
        profile = PROFILES[profile]
    u = utterances
    a = align_annotations(u, annotations)  # by utterance id, not by position
    enc = HardLabels(classes).fit(a)
    majority = enc.transform(a)
    ok = majority.notna().to_numpy()
    if group_column not in u.columns:
        raise ComparisonError(
            f"the group column {group_column!r} is not in the utterance table; its "
            f"columns are {list(u.columns)} (give another --group-column).")
    empty = u[group_column].isna().to_numpy() | (
        u[group_column].astype(str).str.strip() == "").to_numpy()
    if empty.any():
        raise ComparisonError(
            f"{int(empty.sum())} utterance(s) have no {group_column!r} value (first: "
            f"{u.index[empty][0]!r}); every utterance needs a group for "
            "leave-one-group-out. Fill them in the metadata, or give another "
            "--group-column.")
    if "speaker" in u.columns and u["speaker"].isna().any():
        first = u.index[u["speaker"].isna().to_numpy()][0]
        raise ComparisonError(
            f"{int(u['speaker'].isna().sum())} utterance(s) have no 'speaker' value "
            f"(first: {first!r}); speaker normalisation needs it for every "
            "utterance. Fill them in the metadata, or drop the column.")
    groups = u[group_column].astype(str).to_numpy()
    if len(np.unique(groups)) < 2:
        raise ComparisonError(
            f"the group column {group_column!r} has a single value; "
            "leave-one-group-out needs at least two groups (give another "
            "--group-column)."
        )
    from .features import (
        CONFOUND_THRESHOLD,
        speaker_label_dependence,
        training_labels,
    )

    # the training profile of each fold, from its training speakers and labels
    fold_ids = np.unique(groups)
    speakers = (u["speaker"].to_numpy() if "speaker" in u.columns
                else groups)
    dependence, fold_profile = {}, {}
    for g in fold_ids:
        tr = groups != g
        labels, _ = training_labels(a[tr], int(tr.sum()))
        dep = (float("nan") if labels is None
               else speaker_label_dependence(speakers[tr], labels))
        dependence[g] = dep
        confounded = bool(np.isfinite(dep) and dep >= CONFOUND_THRESHOLD)
        fold_profile[g] = confounded_profile(profile) if confounded else profile
    t = time.perf_counter()
    neural = any(reg[m][1] is not None for m in run_methods)
    frames = {}
    needed = dict.fromkeys(fold_profile[g].get("features", "emobase45")
                           for g in fold_ids) if neural else {}
    for feature_set in needed:
        frames[feature_set] = OpenSmileFrames(
            feature_set, n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u)
    func = {}
    for fset in dict.fromkeys(FUNCTIONAL_SETS.get(m, "eGeMAPSv02")
                              for m in run_methods if m in FUNCTIONALS):
        func[fset] = _as_frames(OpenSmileFunctionals(
            fset, n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u), u)
    feature_seconds = time.perf_counter() - t
    folds, func_folds, decisions = {}, {}, {}
    if needed:
        # one decision per fold, from the training fold only (it depends on
        # the training speakers and labels, not on the features)
        for feature_set in needed:
            use = [g for g in fold_ids
                   if fold_profile[g].get("features", "emobase45") == feature_set]
            made, dec = fold_inputs(frames[feature_set], a, groups, folds=use,
                                    normalise=normalise,
                                    pool={g: fold_profile[g]["pool"] for g in use},
                                    modes={g: d["mode"] for g, d in decisions.items()})
            folds.update(made)
            decisions.update({g: d for g, d in dec.items() if g not in decisions})
    for fset, table in func.items():
        made, dec = fold_inputs(table, a, groups, folds=fold_ids, normalise=normalise,
                                pool=None,
                                modes={g: d["mode"] for g, d in decisions.items()})
        func_folds[fset] = made
        decisions.update({g: d for g, d in dec.items() if g not in decisions})
    decisions = {str(g): decisions[g] for g in fold_ids if g in decisions}
    # every (method, seed, fold) of the neural methods is one job; the jobs
    # share the cores (each worker gets its share of torch threads)
    first_group = fold_ids[0]

    def fold_epochs(g):
        prof = fold_profile[g]
        return min(epochs, prof["epochs"]) if "epochs" in prof else epochs

    keys = [(name, seed, g) for name in run_methods if reg[name][1] is not None
            for seed in range(seeds) for g in fold_ids]
    tasks = [(name, reg[name][1], seed, fold_epochs(g), fold_profile[g],
              *folds[g], classes, seed == 0 and g == first_group)
             for name, seed, g in keys]
    fitted = {}
    if tasks:
        bar = _progress(len(tasks), f"training {len(tasks)} (method, seed, "
                        f"{group_column}) models", progress)

        for key, res in zip(keys, run_jobs(_fit_fold, tasks, n_jobs), strict=True):
            fitted[key] = res
            name, seed, g = key
            bar.set_postfix_str(f"done: {name} seed {seed} {group_column} {g} "
                                f"({res['seconds']:.0f} s)")
            bar.update(1)
        bar.close()
    results, plots = {}, {"predictions": {}, "weights_by_class": None,
                          "transition_matrix": None, "attention": None}
    outputs = {}  # (name, seed) -> (pred, proba or None, seconds)
    chosen = {}   # every-rating method -> fold -> [C per seed]
    epochs_kept = {}  # network method -> fold -> [epochs kept per seed]
    for name in run_methods:
        per_seed = []
        for seed in range(seeds):
            pred = np.empty(len(u), dtype=object)
            proba = np.zeros((len(u), len(classes)))
            has_proba = True
            seconds = 0.0
            if name in FUSIONS:
                members = [outputs[m, seed] for m in FUSIONS[name]]
                logp = np.mean([np.log(np.clip(p, 1e-9, 1.0)) for _, p, _ in members],
                               axis=0)
                proba = np.exp(logp - logp.max(axis=1, keepdims=True))
                proba /= proba.sum(axis=1, keepdims=True)
                pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
                seconds = sum(sec for _, _, sec in members)
            for g in ([] if name in FUSIONS else np.unique(groups)):
                te, tr = groups == g, groups != g
                if reg[name][1] is None:
                    t = time.perf_counter()
                    f_tr, r_tr, f_te = func_folds[FUNCTIONAL_SETS.get(
                        name, "eGeMAPSv02")][g]
                    clf = baseline_pipeline(name, seed, n_features=f_tr.shape[1])
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        if name in BASELINES:
                            fit_rows = ok[tr]
                            clf.fit(f_tr[fit_rows],
                                    majority[tr][fit_rows].astype(str))
                        else:
                            # the search and refine's inner folds group by the
                            # training speakers
                            clf.set_params(everyratingclassifier__classes=classes)
                            clf.fit(f_tr, r_tr,
                                    everyratingclassifier__groups=speakers[tr])
                    if name in EVERY_RATING:
                        chosen.setdefault(name, {}).setdefault(str(g), []).append(
                            clf[-1].best_params_["C"])
                    pred[te] = clf.predict(f_te)
                    p_te = class_probabilities(clf, f_te, classes)
                    seconds += time.perf_counter() - t
                    if p_te is None:
                        has_proba = False
                    else:
                        proba[te] = p_te
                    continue
                res = fitted[name, seed, g]
                if res.get("epochs") is not None:
                    epochs_kept.setdefault(name, {}).setdefault(str(g), []).append(
                        res["epochs"])
                pred[te] = res["pred"]
                if res.get("proba") is None:
                    has_proba = False
                else:
                    proba[te] = res["proba"]
                seconds += res["seconds"]
                if "weights_by_class" in res and plots["weights_by_class"] is None:
                    plots["weights_by_class"] = res["weights_by_class"]
                    plots["transition_matrix"] = res["transition_matrix"]
                if "attention" in res and plots["attention"] is None:
                    plots["attention"] = {"method": name, "weights": res["attention"],
                                          "frames": res["attention_frames"],
                                          "utterance": str(u.index[te][0]),
                                          "hop_seconds": 0.01 * fold_profile[g][
                                              "pool"]}
            outputs[name, seed] = (pred, proba if has_proba else None, seconds)
            if name not in methods:
                continue
            if seed == 0:
                plots["predictions"][name] = pred.copy()
                plots.setdefault("probabilities", {})[name] = (
                    proba.copy() if has_proba else None)
            truth = (u[truth_column] if truth_column and truth_column in u.columns
                     else None)
            per_seed.append({**score_predictions(pred, majority, classes, truth),
                             **_fold_means(pred, majority, classes, truth, groups),
                             **distribution_scores(proba if has_proba else None,
                                                   pred, a, classes),
                             "fit_seconds": seconds})
        if name not in methods:
            continue
        results[name] = _mean_over_seeds(per_seed)
        results[name]["description"] = reg[name][0]
        picked = next((chosen[m] for m in (name, *FUSIONS.get(name, ()))
                       if m in chosen), None)
        if picked is not None:  # a fusion: its every-rating member's
            results[name]["chosen_C"] = picked
        if name in epochs_kept:
            results[name]["epochs_kept"] = epochs_kept[name]
    meta = {
        "n_utterances": int(len(u)),
        "n_scored": int(ok.sum()),
        "n_no_consensus": int((~ok).sum()),
        "classes": list(classes),
        "folds": f"leave-one-{group_column}-out ({len(np.unique(groups))} folds)",
        "seeds": seeds,
        "truth_column": truth_column if truth_column in u.columns else None,
        "feature_seconds": feature_seconds,
        "raters_alpha": _finite_or_none(_raters_alpha(a, classes)),
        "n_with_distribution": int(_n_with_distribution(a, classes)),
        "normalisation": _normalisation_summary(normalise, decisions),
        "training": _training_summary(fold_profile, dependence, profile, epochs,
                                      neural),
        "rare_classes": _rare_in_training(majority, ok, groups, classes),
    }
    plots["majority"] = majority.to_numpy(dtype=object)
    plots["groups"] = groups
    plots["index"] = u.index
    plots["truth"] = (u[truth_column].to_numpy(dtype=object)
                      if truth_column and truth_column in u.columns else None)
    plots["annotations"] = a
    return {"methods": results, "meta": meta, "_plots": plots}


def _rare_in_training(majority, ok, groups, classes):
    """{fold: {class: share}}: classes below a quarter of an even share of
    the training fold's majorities (the rule of ``infer_classes``)."""
    from .annotations import rare_classes

    out = {}
    for g in np.unique(groups):
        tr = (groups != g) & ok
        counts = pd.Series(majority[tr]).value_counts().reindex(classes, fill_value=0)
        rare = rare_classes(classes, counts.to_numpy())
        if rare:
            out[str(g)] = rare
    return out


def rare_by_class(rare):
    """``meta["rare_classes"]`` ({fold: {class: share}}) turned round:
    {class: [(fold, share), ...]}."""
    out = {}
    for g, shares in rare.items():
        for c, share in shares.items():
            out.setdefault(c, []).append((g, share))
    return out


def _raters_alpha(annotations, classes):
    from .metrics import krippendorff_alpha

    return krippendorff_alpha(annotations, classes=classes).raters


def _n_with_distribution(annotations, classes):
    from .metrics import vote_shares

    return int(vote_shares(annotations, classes=classes).notna().all(axis=1).sum())


def _finite_or_none(value):
    return None if value is None or not np.isfinite(value) else float(value)


def _normalisation_summary(asked, decisions):
    """What --normalise did in each fold, and one sentence saying so."""
    from .features import CONFOUND_THRESHOLD

    modes = [d["mode"] for d in decisions.values()]
    chosen = {m: modes.count(m) for m in dict.fromkeys(modes)}
    dep = [v for d in decisions.values()
           if (v := _finite_or_none(d["speaker_dependence"])) is not None]
    if asked == "auto":
        parts = ", ".join(f"{m} in {n} of {len(modes)} folds"
                          for m, n in chosen.items())
        text = f"auto: {parts}"
        if dep:
            text += (f" (speaker explains {min(dep):.0%}-{max(dep):.0%} of the "
                     "training labels' entropy; per-speaker z-scores below "
                     f"{CONFOUND_THRESHOLD:.0%})")
    else:
        text = asked
        if dep and asked == "speaker" and max(dep) >= CONFOUND_THRESHOLD:
            text += (f" (warning: speaker explains up to {max(dep):.0%} of the "
                     "training labels' entropy; per-speaker normalisation may "
                     "remove emotion)")
    return {"asked": asked, "chosen": chosen, "text": text,
            "per_fold": {g: {"mode": d["mode"], "speaker_dependence":
                             _finite_or_none(d["speaker_dependence"])}
                         for g, d in decisions.items()}}


def _training_summary(fold_profile, dependence, profile, epochs, neural):
    """Which network settings each fold used, and one sentence saying so."""
    from .features import CONFOUND_THRESHOLD

    confounded = [str(g) for g, p in fold_profile.items() if p is not profile]
    n = len(fold_profile)
    if not neural:
        text = "no network was trained"
    elif not confounded:
        text = (f"in every fold the training speakers show a mix of emotions "
                f"(speaker explains < {CONFOUND_THRESHOLD:.0%} of the label "
                f"entropy): emobase45 frames, early stopping on held-out "
                f"speakers, at most {epochs} epochs")
    else:
        settings = CONFOUNDED["blstm"]
        if settings.get("validation_fraction") and settings.get("refit"):
            how = (f"a {settings['validation_fraction']:.0%} share of the training "
                   "speakers held out chooses the number of epochs (early "
                   f"stopping, at most {epochs}), then a new network trains on "
                   "every training speaker for that many (holding them out of the "
                   "final network would remove their emotions from training)")
        else:
            how = (f"{min(epochs, CONFOUNDED.get('epochs', epochs))} epochs on "
                   "every training speaker, without early stopping (holding out "
                   "whole speakers would remove emotions from training)")
        if settings.get("weight_averaging"):
            how += (f"; the final weights are the mean of those after each of "
                    f"the last {settings['weight_averaging']:.0%} of the epochs "
                    "(stochastic weight averaging)")
        text = (f"in {len(confounded)} of {n} folds the training speakers "
                f"predict the labels (speaker explains >= "
                f"{CONFOUND_THRESHOLD:.0%} of the label entropy): there the "
                f"networks train on {CONFOUNDED['features']} LLD frames; {how}")
        if len(confounded) < n:
            text += ("; in the other folds emobase45 frames with early stopping "
                     "on held-out speakers")
    return {"confounded_folds": confounded, "text": text,
            "speaker_dependence": {str(g): _finite_or_none(d)
                                   for g, d in dependence.items()}}


def _progress(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr)


def _fold_means(pred, majority, classes, truth, groups):
    """The UARs as ``cross_validate`` gives them: the mean over folds of each
    fold's UAR (folds without a scored utterance left out)."""
    out = {}
    per_fold = [score_predictions(pred[groups == g], majority[groups == g],
                                  classes, None if truth is None else
                                  truth[groups == g])
                for g in np.unique(groups)]
    for key in ("uar", "uar_truth"):
        vals = [f[key] for f in per_fold if f.get(key) is not None
                and np.isfinite(f[key])]
        out[f"{key}_fold_mean"] = float(np.mean(vals)) if vals else None
    return out


def _mean_over_seeds(rows):
    out = {}
    for key in ("uar", "wa", "uar_truth", "uar_fold_mean", "uar_truth_fold_mean",
                "fit_seconds", *DISTRIBUTION_SCORES):
        vals = [r[key] for r in rows if r.get(key) is not None
                and np.isfinite(r[key])]
        out[key] = float(np.mean(vals)) if vals else None
        if key not in ("wa", "fit_seconds") and len(vals) > 1:
            out[key + "_sd"] = float(np.std(vals, ddof=1))
    for key in ("per_class_recall", "per_class_recall_truth"):
        if key in rows[0]:
            out[key] = {c: float(np.mean([r[key][c] for r in rows]))
                        for c in rows[0][key]}
    return out


#: Each paper's method in the command line, its own baseline there, and the
#: margin the paper reports (UA points vs the majority, IEMOCAP 4 classes).
PAPER_MARGINS = {
    "stacked": ("crowd_hard", "Chou & Lee 2019 (proposed vs CrowdH)", 4.0),
    "mlee_fusion": ("crowd_soft", "Ando et al. 2019 (fusion-soft vs soft)", 3.8),
    "noisy_meta": ("crowd_hard", "Fujioka et al. 2020 (+L+w vs BLSTM)", 1.9),
}


def margins_table(results):
    """Markdown: each paper's method beside its own baseline of the same run,
    with the margin (UA points, against the majority and against the truth
    column) and the paper's; "" when no pair ran. :data:`PAPER_MARGINS` says
    which baseline each method is measured against."""
    methods = results["methods"]
    lines = []
    for name, (base, paper, margin) in PAPER_MARGINS.items():
        if name not in methods or base not in methods:
            continue
        r, b = methods[name], methods[base]

        def diff(key, r=r, b=b):
            if r.get(key) is None or b.get(key) is None:
                return "-"
            return f"{100 * (r[key] - b[key]):+.1f}"
        truth = ("-" if r.get("uar_truth") is None or b.get("uar_truth") is None
                 else f"{100 * r['uar_truth']:.1f} vs {100 * b['uar_truth']:.1f}")
        lines.append(f"| {name} | {base} | {100 * r['uar']:.1f} vs {100 * b['uar']:.1f}"
                     f" | {diff('uar')} | {truth} | {diff('uar_truth')} | "
                     f"{paper}: +{margin} |")
    if not lines:
        return ""
    head = ("| method | its baseline | UAR vs majority | margin | UAR vs truth | "
            "margin vs truth | the paper's margin |")
    return "\n".join([head, "|" + "---|" * 7, *lines])


def results_table(results):
    """Markdown table in the style of Table 3 of Chou & Lee."""
    methods = results["methods"]
    classes = results["meta"]["classes"]
    head = ["method", "UAR", "WA", "UAR vs truth", *classes, "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in methods.items():
        def pct(v):
            return "-" if v is None else f"{100 * v:.2f}"
        truth = pct(r["uar_truth"])
        if r.get("uar_truth_sd") is not None and r["uar_truth"] is not None:
            truth += f" ± {100 * r['uar_truth_sd']:.1f}"
        cells = [name, pct(r["uar"]), pct(r["wa"]), truth,
                 *[pct(r["per_class_recall"].get(c)) for c in classes],
                 f"{r['fit_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    m = results["meta"]
    lines.append("")
    lines.append("UAR/WA against the hard majority of the ratings over "
                 f"{m['n_scored']} utterances ({m['n_no_consensus']} without "
                 f"consensus left out); {m['folds']}; mean of {m['seeds']} seed(s). "
                 "Every UAR here is **pooled over the folds** (one UAR of all "
                 "test predictions together); results.json also gives the mean "
                 "of the per-fold UARs (`uar_fold_mean`, `uar_truth_fold_mean`), "
                 "which is what `cross_validate` with `ser_scoring` reports.")
    penalties = {n: r["chosen_C"] for n, r in methods.items() if r.get("chosen_C")}
    for n, per_fold in penalties.items():
        lines.append("")
        lines.append(f"`{n}`: C chosen in each training fold: " + ", ".join(
            f"{g} {'/'.join(f'{c:.0e}' for c in cs)}"
            for g, cs in per_fold.items()) + ".")
    if m.get("normalisation"):
        lines.append("")
        lines.append(f"Normalisation (--normalise): {m['normalisation']['text']}.")
    if m.get("training"):
        lines.append("")
        lines.append(f"Networks: {m['training']['text']}.")
        kept = {n: r["epochs_kept"] for n, r in methods.items() if r.get("epochs_kept")}
        if kept:
            lines.append("")
            lines.append("Epochs kept in each fold (mean over seeds; the best "
                         "held-out epoch, and the refit's length in the folds "
                         "that refit): " + "; ".join(
                             f"`{n}` " + " ".join(f"{np.mean(e):.0f}"
                                                  for e in per_fold.values())
                             for n, per_fold in kept.items()) + ".")
    if m.get("classes_rule"):
        lines.append("")
        lines.append(f"Classes: {', '.join(classes)} ({m['classes_rule']}).")
    if m.get("rare_classes"):
        by_class = rare_by_class(m["rare_classes"])
        lines.append("")
        lines.append(
            "Warning: rare in a training fold (below a quarter of an even share "
            f"of its majorities, 1/{4 * len(classes)}): " + "; ".join(
                f"{c} in fold(s) "
                + ", ".join(f"{g} ({share:.1%})" for g, share in folds)
                for c, folds in by_class.items())
            + ". The models learn these classes from few examples; consider "
            "--classes without them.")
    note = _trailing_note(results)
    if note:
        lines += ["", note]
    return "\n".join(lines)


def distribution_table(results):
    """Markdown table of the scores against every rating, the best of each
    column in bold (None: the method gives no probabilities)."""
    methods = results["methods"]
    m = results["meta"]
    names = {"all_inclusive_f1": "all-incl. F1 ↑", "soft_log_loss": "soft NLL ↓",
             "jensen_shannon": "JS ↓", "brier": "Brier ↓", "ece": "ECE ↓",
             "alpha_with_model": "α with model ↑"}
    best = {}
    for key, (_, direction) in DISTRIBUTION_SCORES.items():
        vals = {n: r.get(key) for n, r in methods.items() if r.get(key) is not None}
        if vals:
            pick = max if direction == "higher" else min
            best[key] = pick(vals, key=vals.get)
    lines = ["| method | " + " | ".join(names[k] for k in DISTRIBUTION_SCORES) + " |",
             "|---|" + "---|" * len(DISTRIBUTION_SCORES)]
    for name, r in methods.items():
        cells = []
        for key in DISTRIBUTION_SCORES:
            v = r.get(key)
            text = "-" if v is None else f"{v:.3f}"
            if v is not None and r.get(key + "_sd") is not None:
                text += f" ± {r[key + '_sd']:.3f}"
            cells.append(f"**{text}**" if best.get(key) == name else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    alpha = m.get("raters_alpha")
    lines += ["", f"Against every rating: {m.get('n_with_distribution', '?')} "
              "utterances with a rating among the classes (none left out for a "
              "tie or a weak majority; ECE over the "
              f"{m['n_scored']} with a majority); the raters' own Krippendorff's "
              "alpha is " + ("-" if alpha is None else f"{alpha:.3f}") + ". `-`: "
              "the method gives no probabilities (a linear SVM)."]
    winners = {names[k]: w for k, w in best.items()}
    if winners:
        lines += ["", "Best per score: " + "; ".join(
            f"{k} `{w}`" for k, w in winners.items()) + "."]
    return "\n".join(lines)


def _trailing_note(results):
    """One line when every crowd method trails the best functionals baseline."""
    methods = results["methods"]
    key = "uar_truth" if any(r.get("uar_truth") is not None
                             for r in methods.values()) else "uar"
    base = {n: r[key] for n, r in methods.items() if n in BASELINES
            and r.get(key) is not None}
    crowd = {n: r[key] for n, r in methods.items() if n not in BASELINES
             and r.get(key) is not None}
    if not base or not crowd:
        return ""
    best_base = max(base, key=base.get)
    if max(crowd.values()) >= base[best_base]:
        return ""
    what = "UAR vs truth" if key == "uar_truth" else "UAR"
    hint = "more --seeds or --max-epochs"
    norm = results["meta"].get("normalisation") or {}
    if "speaker" in norm.get("chosen", {}):
        hint = "--normalise global, " + hint
    return (f"Note: every crowd-trained method trails {best_base} "
            f"({what} {100 * base[best_base]:.1f} vs at best "
            f"{100 * max(crowd.values()):.1f}); on this corpus the networks do "
            f"not pay for their cost as configured (try {hint}).")


def results_legend(results):
    """What the columns and methods of :func:`results_table` mean."""
    m = results["meta"]
    lines = ["## Legend", ""]
    lines.append("- **UAR**: unweighted average recall (mean of per-class recalls) "
                 "against the hard majority of the ratings; **WA**: accuracy "
                 "against it (weighted by class frequency).")
    if m.get("truth_column"):
        lines.append(f"- **UAR vs truth**: UAR against the `{m['truth_column']}` "
                     "column (e.g. the intended emotion), over every utterance "
                     "that has one, whether the raters agreed or not.")
    else:
        lines.append("- **UAR vs truth**: `-` (no truth column was given).")
    lines.append("- class columns: recall of each class against the majority.")
    lines.append("- **Against every rating** (second table; ↑ higher is better, ↓ "
                 "lower is better): " + "; ".join(
                     f"**{k}**: {what} ({direction} is better)"
                     for k, (what, direction) in DISTRIBUTION_SCORES.items())
                 + ". Vote shares count every rating among the classes, second "
                 "choices too; utterances rated only outside the classes are left "
                 "out.")
    lines.append("- **fit s**: training seconds summed over one seed's folds "
                 "(0 means under half a second: the functionals baselines train "
                 "in milliseconds; feature extraction is not counted, it took "
                 f"{m.get('feature_seconds', 0):.0f} s once for all methods).")
    n_csv = m.get("csv_cells_neutralised")
    if n_csv:
        lines.append(f"- predictions.csv: {n_csv} cell(s) (utterance ids or labels "
                     "from the data) began with =, +, -, @, tab or return and are "
                     "prefixed with ' so that a spreadsheet shows them as text "
                     "instead of running them as formulas.")
    lines.append("")
    for name, r in results["methods"].items():
        lines.append(f"- `{name}`: {r.get('description', '')}")
    return "\n".join(lines)


def _report_head(results):
    m = results["meta"]
    corpus = m.get("corpus", "corpus")
    return (f"# sklearn-ser {m.get('command', 'benchmark')}: {corpus}\n\n"
            f"{m['n_utterances']} utterances, {len(m['classes'])} classes, "
            f"{m['folds']}.\n\n")


def _public(results):
    return {k: v for k, v in results.items() if not k.startswith("_")}


#: The files a run writes; a folder holding any of them is someone's results.
OUTPUT_NAMES = ("results.json", "results.md", "predictions.csv",
                "confusion_matrices.png", "per_class_recall.png",
                "agreement_accuracy.png", "reliability.png", "agreement_scores.png",
                "attention.png", "noisy_meta_weights.png",
                "noisy_meta_transitions.png")


def write_outputs(out, results):
    """results.json, results.md, predictions.csv and the PNG plots in ``out``.

    Returns the list of written paths.
    """
    import shutil
    import tempfile

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{str(out)!r} is a file; give a folder for the "
                                 "results.")
    taken = [n for n in OUTPUT_NAMES if (out / n).exists()]
    if taken:
        raise FileExistsError(
            f"{str(out)!r} already holds {taken}; results are never overwritten, "
            "give another folder.")
    out.mkdir(parents=True, exist_ok=True)
    # everything is written to a hidden sibling first and moved in at the end,
    # results.json last: a folder with results.json is a finished run, and an
    # interrupted write leaves nothing behind
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        names = []
        plots = results.get("_plots")
        if plots:
            names += [p.name for p in _write_plots(tmp, results, plots)]
        margins = margins_table(results)
        if margins:
            margins = ("## The papers' methods beside their own baselines\n\n"
                       + margins + "\n\nMargins in UA points (method - baseline, "
                       "same run, same folds and seeds); the papers' margins are "
                       "on IEMOCAP's four classes against the majority.\n\n")
        (tmp / "results.md").write_text(
            _report_head(results) + results_table(results) + "\n\n" + margins
            + "## Against every rating\n\n" + distribution_table(results) + "\n\n"
            + results_legend(results) + "\n")
        (tmp / "results.json").write_text(json.dumps(_public(results), indent=2))
        names = ["results.json", "results.md", *names]
        moved = []
        try:
            for name in [*names[1:], names[0]]:
                os.replace(tmp / name, out / name)
                moved.append(out / name)
        except BaseException:  # Ctrl-C between two moves: take ours back
            for path in moved:
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / n for n in names]


#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(table):
    """``table`` with every text cell (and index entry) that a spreadsheet
    would run as a formula prefixed with ``'`` (OWASP's advice against CSV
    injection: ids and labels come from data), and the number of cells
    changed."""
    def fix(values):
        values = np.asarray(values, dtype=object).copy()
        hit = np.array([isinstance(v, str) and v.startswith(FORMULA_STARTS)
                        for v in values], dtype=bool)
        values[hit] = ["'" + v for v in values[hit]]
        return values, int(hit.sum())

    out = table.copy()
    n = 0
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col], k = fix(out[col].to_numpy())
            n += k
    index, k = fix(out.index.to_numpy())
    if k:
        out.index = pd.Index(index, name=out.index.name)
    return out, n + k


def _write_plots(out, results, plots):
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    with matplotlib.rc_context({"text.parse_math": False}):  # labels from data
        return _draw_plots(out, results, plots)


def _draw_plots(out, results, plots):
    import matplotlib.pyplot as plt

    from . import plotting

    classes = results["meta"]["classes"]
    preds = plots["predictions"]
    paths = []
    agreement = agreement_levels(plots["annotations"], classes)
    table = pd.DataFrame({"group": plots["groups"], "majority": plots["majority"],
                          "agreement": agreement.to_numpy()}, index=plots["index"])
    if plots["truth"] is not None:
        table["truth"] = plots["truth"]
    for name, pred in preds.items():
        table[name] = pred
    table.index.name = "utterance"
    table, n_cells = neutralise_formulas(table)
    results["meta"]["csv_cells_neutralised"] = n_cells
    csv = out / "predictions.csv"
    table.to_csv(csv)
    paths.append(csv)

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    save(plotting.plot_confusion_matrices(
        preds, plots["majority"], classes,
        title=f"Confusion matrices vs the majority ({results['meta']['folds']}, "
              "seed 0; each row sums to 1)"), "confusion_matrices.png")
    truth_name = results["meta"].get("truth_column") or "truth"
    truth_recalls = {m: r["per_class_recall_truth"]
                     for m, r in results["methods"].items()
                     if r.get("per_class_recall_truth")} or None
    save(plotting.plot_per_class_recall(
        {m: r["per_class_recall"] for m, r in results["methods"].items()}, classes,
        truth_recalls=truth_recalls, truth_name=truth_name), "per_class_recall.png")
    save(plotting.plot_agreement_accuracy(preds, plots["majority"], agreement,
                                          reference=plots["truth"],
                                          reference_name=truth_name),
         "agreement_accuracy.png")
    probabilities = {m: p for m, p in plots.get("probabilities", {}).items()
                     if p is not None}
    if probabilities:
        save(plotting.plot_reliability(probabilities, plots["annotations"], classes),
             "reliability.png")
        save(plotting.plot_agreement_scores(probabilities, plots["annotations"],
                                            classes), "agreement_scores.png")
    if plots["attention"] is not None:
        att = plots["attention"]
        save(plotting.plot_attention(
            att["weights"], frames=att["frames"], hop_seconds=att["hop_seconds"],
            title=f"{att['method']}: attention over {att['utterance']}"),
            "attention.png")
    if plots["weights_by_class"] is not None:
        save(plotting.plot_sample_weights(plots["weights_by_class"]),
             "noisy_meta_weights.png")
        save(plotting.plot_transition_matrix(plots["transition_matrix"]),
             "noisy_meta_transitions.png")
    return paths


