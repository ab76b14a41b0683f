"""The scores of one set of predictions: UAR, WA and per-class recall
against the majority and a truth column, per-fold means, the scores against
every rating, and their means over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..annotations import truth_labels as _read_truth
from ..metrics import (
    all_inclusive_f1,
    expected_calibration_error,
    jensen_shannon_divergence,
    krippendorff_alpha,
    soft_brier_score,
    soft_log_loss,
    unweighted_average_recall,
    vote_shares,
    weighted_accuracy,
)


def truth_labels(truth, labels=None):
    """A truth column read once (:func:`sklearn_ser.annotations.truth_labels`:
    the ratings' spellings, None where a value names nothing; a label that
    differs from one of ``labels`` only in case, spaces, Unicode form or
    invisible characters is refused), numbers
    as strings (whole floats as integers), the form the command line's classes
    take."""
    out = _read_truth(truth, labels=labels)
    numbers = np.array([v is not None and not isinstance(v, str) for v in out],
                       dtype=bool)
    if numbers.any():  # 1.0 (an integer column with gaps) reads as "1"
        out[numbers] = [str(int(v)) if isinstance(v, float | np.floating)
                        and float(v).is_integer() else str(v)
                        for v in out[numbers]]
    return out


def truth_rows(truth, classes):
    """Which rows a truth column scores: a boolean mask over ``truth`` (rows
    whose label, read by :func:`truth_labels`, is one of ``classes``), the
    labels (None outside the mask), and the count of rows left out for each
    reason (``"missing"``: None, NaN or blank; ``"other"``: a label that is
    not a class, by label)."""
    labels = truth_labels(truth)
    missing = pd.isna(labels)
    has = ~missing & pd.Series(labels, dtype=object).isin(
        [str(c) for c in classes]).to_numpy()
    other = pd.Series(labels[~missing & ~has], dtype=object).value_counts()
    return has, np.where(has, labels, None), {
        "missing": int(missing.sum()),
        "other": {str(k): int(v) for k, v in sorted(other.items())}}


def truth_left_out(counts):
    """The rows a truth column does not score, in words (``truth_rows``'
    counts): e.g. "5 without a value; 2 whose label is not a class (boredom
    2)"; "" when none."""
    n_other = sum(counts["other"].values())
    parts = [f"{counts['missing']} without a value" if counts["missing"] else "",
             f"{n_other} whose label is not a class ("
             + ", ".join(f"{k} {v}" for k, v in counts["other"].items()) + ")"
             if n_other else ""]
    return "; ".join(part for part in parts if part)


def score_predictions(pred, majority, classes, truth=None):
    """UAR, WA and per-class recall against the majority (rows that have one),
    and UAR against ``truth`` when given: over the rows whose truth label is
    one of ``classes`` (:func:`truth_rows`; rows without one, or with another
    label, are not scored against it).

    Returns a dict: ``uar``, ``wa``, ``uar_truth`` (each None when no row
    is scored against it, e.g. a fold whose utterances all lack a majority)
    and ``per_class_recall``.
    """
    pred = np.asarray(pred, dtype=object)
    majority = pd.Series(np.asarray(majority, dtype=object))
    ok = majority.notna().to_numpy()
    y_maj = majority[ok].to_numpy()
    recall = {c: float(np.mean(pred[ok][y_maj == c] == c))
              for c in classes if np.any(y_maj == c)}
    scored = bool(ok.any())  # a fold may hold no utterance with a majority
    out = {
        "uar": (unweighted_average_recall(y_maj, pred[ok], labels=classes)
                if scored else None),
        "wa": weighted_accuracy(y_maj, pred[ok]) if scored else None,
        "uar_truth": None,
        "per_class_recall": recall,
    }
    if truth is not None:
        has, t, _ = truth_rows(truth, classes)
        if has.any():
            out["uar_truth"] = unweighted_average_recall(t[has], pred[has],
                                                         labels=classes)
        out["per_class_recall_truth"] = {
            c: float(np.mean(pred[t == c] == c)) for c in classes if np.any(t == c)}
    return out


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
    out = dict.fromkeys(DISTRIBUTION_SCORES)
    if not has_ratings(annotations):
        return out  # nothing to score against (a test corpus with a truth only)
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


def has_ratings(annotations):
    """Whether any utterance of ``annotations`` has a rating (a cross-corpus
    test corpus may come with a truth column and no ratings)."""
    return bool(pd.Series(annotations).notna().any())


def _raters_alpha(annotations, classes):
    if not has_ratings(annotations):
        return float("nan")
    return krippendorff_alpha(annotations, classes=classes).raters


def _n_with_distribution(annotations, classes):
    if not has_ratings(annotations):
        return 0
    return int(vote_shares(annotations, classes=classes).notna().all(axis=1).sum())


def _finite_or_none(value):
    return None if value is None or not np.isfinite(value) else float(value)


def rare_by_class(rare):
    """``meta["rare_classes"]`` ({fold: {class: share}}) turned round:
    {class: [(fold, share), ...]}."""
    out = {}
    for g, shares in rare.items():
        for c, share in shares.items():
            out.setdefault(c, []).append((g, share))
    return out


#: The thresholds at which a comparison reports what abstaining keeps
#: (``sklearn-ser predict --abstain P``).
ABSTAIN_THRESHOLDS = (0.5, 0.6, 0.7)


def abstention_scores(proba, majority, classes, truth=None,
                      thresholds=ABSTAIN_THRESHOLDS):
    """What abstaining below a top probability keeps, per threshold.

    A model abstains on an utterance whose top predicted probability is below
    the threshold; on the others it predicts the arg-max class (as
    ``sklearn-ser predict`` does). Returns ``{threshold: {"kept": share of
    the utterances kept, "uar": UAR vs the majority over the kept ones that
    have one, "uar_truth": ... vs the truth}}`` (a UAR None when nothing is
    kept to score).
    """
    proba = np.asarray(proba, dtype=float)
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    top = proba.max(axis=1)
    majority = np.asarray(majority, dtype=object)
    has_majority = pd.notna(majority)
    if truth is not None:
        has_truth, t, _ = truth_rows(truth, classes)
    out = {}
    for thr in thresholds:
        kept = top >= thr
        row = {"kept": float(kept.mean()) if len(kept) else 0.0, "uar": None}
        ok = kept & has_majority
        if ok.any():
            row["uar"] = unweighted_average_recall(majority[ok], pred[ok],
                                                   labels=classes)
        if truth is not None:
            ok = kept & has_truth
            row["uar_truth"] = (unweighted_average_recall(t[ok], pred[ok],
                                                          labels=classes)
                                if ok.any() else None)
        out[f"{thr:g}"] = row
    return out
