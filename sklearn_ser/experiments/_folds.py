"""The folds of a comparison: fold inputs (normalised and pooled per fold, from
the training fold only), parallel jobs, and one runner for every (method,
seed, fold)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .._parallel import parallel, torch_thread_share, use_torch_threads
from ..annotations import (
    align_annotations,
)
from ..features import (
    FrameAverager,
    SpeakerStandardizer,
)
from ..metrics import class_probabilities


def _as_frames(features, utterances):
    """Utterance-level feature rows as one-frame sequences (with speakers
    and corpora, the groups of the normalisation)."""
    table = pd.DataFrame(index=utterances.index)
    for column in ("speaker", "corpus"):
        if column in utterances.columns:
            table[column] = utterances[column].to_numpy()
    table["frames"] = [row[None, :] for row in np.asarray(features)]
    return table


def _unframe(table):
    return np.concatenate(list(table["frames"]), axis=0)


def fold_inputs(features, annotations, groups, *, folds=None, normalise="auto",
                pool=10, modes=None, corpus_shift=False):
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
    normalise : {"auto", "speaker", "global", "corpus", "none"}, default="auto"
    pool : int, dict or None, default=10
        Frames averaged (a dict: per fold); None: utterance-level rows
        (one-frame sequences, e.g. functionals) returned as 2-D arrays.
    modes : dict, default=None
        Normalisation already decided for some folds (used as given).
    corpus_shift : bool, default=False
        The table holds several corpora (a ``corpus`` column): where
        ``"auto"`` decides global statistics, each corpus gets its own
        (``"corpus"``) instead, so a test corpus is not read through the
        training corpus' microphones and rooms.

    Returns
    -------
    inputs : dict
        ``g -> (X_train, y_train, X_test)``.
    decisions : dict
        ``g -> {"mode", "reason", "speaker_dependence"}`` for the folds this
        call decided.
    """
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
            reason = norm.mode_reason_
            if corpus_shift and normalise == "auto" and norm.mode_ == "global":
                reason += "; across corpora, each corpus by its own statistics"
                dependence = norm.speaker_dependence_
                norm = SpeakerStandardizer("corpus").fit(features[tr])
                norm.speaker_dependence_ = dependence
            decisions[g] = {"mode": norm.mode_, "reason": reason,
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


def _fit_fold(method, seed, epochs, profile, fold, classes, extras):
    """One (method, seed, fold) job, whatever the method: predictions,
    probabilities, the epochs a network kept, the penalty a search chose,
    and plot material if asked."""
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = method.fit(method.estimator(classes, seed, epochs, profile,
                                          n_features=fold.n_features), fold)
    seconds = time.perf_counter() - t
    out = {"pred": np.asarray(clf.predict(fold.X_test), dtype=object),
           "seconds": seconds,
           "proba": class_probabilities(clf, fold.X_test, classes),
           "epochs": chosen_epochs(clf), "C": _chosen_penalty(clf)}
    if extras:
        if hasattr(clf, "weights_by_class_"):
            out["weights_by_class"] = clf.weights_by_class_
            out["transition_matrix"] = clf.transition_matrix_
        try:
            out["attention"] = clf.attention_weights(fold.X_test.iloc[:1])[0]
            out["attention_frames"] = np.asarray(fold.X_test["frames"].iloc[0])
        except (AttributeError, TypeError, ValueError):  # no attention pooling
            pass
    return out


def _chosen_penalty(clf):
    """The C an in-fold search chose (the pipeline's last step), else None."""
    last = clf[-1] if hasattr(clf, "steps") else clf
    return (getattr(last, "best_params_", None) or {}).get("C")


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
