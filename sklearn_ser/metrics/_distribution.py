"""Scores against every rating: distributions, calibration, agreement.

The consensus scores (UAR, WA) judge a model against the hard majority and
leave out every utterance without one. These judge it against the raters'
whole distribution, on every rated utterance:

* :func:`soft_log_loss`: cross-entropy of the predicted probabilities against
  the raters' vote shares (NLL against soft labels);
* :func:`jensen_shannon_divergence`: JS divergence (base 2, in [0, 1]) between
  vote shares and predictions;
* :func:`soft_brier_score`: squared distance between them (multi-class Brier);
* :func:`all_inclusive_f1`: EMO-SUPERB's rule (Wu et al. 2024): predictions
  and vote shares both binarised at ``1/C``, macro-F1 over the classes;
* :func:`expected_calibration_error`: top-label ECE against the hard majority;
* :func:`krippendorff_alpha`: nominal alpha of the raters' first choices, and
  with the model as one more rater;
* :func:`agreement_report`: every score per agreement level.

``y_true`` is any accepted form of annotations (ratings, a rater table, vote
counts, labels); the vote shares are those of
``SoftLabels(classes, alpha=0)``: every rating among ``classes`` counts (second
choices too), ratings outside them (``"other"``, ``"frustration"``) are left
out of the shares. An utterance whose raters chose *only* labels outside
``classes`` has no distribution over them: the distribution scores leave it
out (:func:`all_inclusive_f1` too), as do the majority scores when its
majority is not a class.
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.special import xlogy
from sklearn.metrics import f1_score

from .._columns import columns_by_name, is_unnamed
from .._warnings import ser_warn
from ..annotations import (
    HardLabels,
    SoftLabels,
    build_label_map,
    canonical_label,
    check_annotations,
    check_label_spellings,
    check_names,
    is_missing_label,
    resolve_classes,
)
from ..exceptions import DroppedRowsWarning

__all__ = [
    "AgreementScores",
    "agreement_report",
    "all_inclusive_f1",
    "class_probabilities",
    "expected_calibration_error",
    "jensen_shannon_divergence",
    "krippendorff_alpha",
    "soft_brier_score",
    "soft_log_loss",
    "vote_shares",
]

#: Probabilities are clipped to [EPS, 1] before a logarithm.
EPS = 1e-15


def _checked(y_true, y_proba, classes, label_map):
    """(checked ratings aligned with y_proba's ids, the classes as given)."""
    if classes is None:
        raise ValueError("classes is required: the columns of y_proba, in order.")
    classes = check_names(classes, "classes", "metrics")
    X = y_proba if isinstance(y_proba, pd.DataFrame) else None
    y = check_annotations(y_true, X, label_map=label_map, classes=classes,
                          whom="metrics")
    return y, classes


def _proba(y_proba, classes, n, label_map=None):
    """``y_proba`` as an (n, K) array whose columns follow the sorted canonical
    classes (the encoders' ``classes_``): an array's columns (and those of a
    DataFrame with pandas' default unnamed columns) are ``classes`` in the
    order given, a DataFrame's named columns are found by name
    (:func:`~sklearn_ser.annotations._vocabulary.columns_by_name`)."""
    lm = build_label_map(label_map)
    given = [canonical_label(c, lm) for c in classes]
    canon = list(resolve_classes(None, classes, label_map=label_map))
    if isinstance(y_proba, pd.DataFrame) and not is_unnamed(y_proba.columns):
        y_proba = y_proba.iloc[:, columns_by_name(
            y_proba.columns, canon, label_map=label_map)]
        given = canon
        p = y_proba.to_numpy(dtype=float)
    elif isinstance(y_proba, pd.DataFrame):  # unnamed columns: as an array
        p = y_proba.to_numpy(dtype=float)
    else:
        p = np.asarray(y_proba, dtype=float)
    if p.ndim != 2 or p.shape != (n, len(classes)):
        raise ValueError(
            f"y_proba must have shape (n_utterances, n_classes) = ({n}, "
            f"{len(classes)}); got {p.shape}.")
    if not np.isfinite(p).all() or (p < 0).any():
        bad = int(np.argwhere(~np.isfinite(p) | (p < 0))[0][0])
        raise ValueError(f"y_proba row {bad} holds a negative or non-finite value.")
    total = p.sum(axis=1)
    if not np.allclose(total, 1.0, atol=1e-4):
        bad = int(np.flatnonzero(~np.isclose(total, 1.0, atol=1e-4))[0])
        raise ValueError(
            f"y_proba rows must sum to 1 (probabilities over the classes); row "
            f"{bad} sums to {total[bad]:.6g}.")
    return p[:, [given.index(c) for c in canon]] if given != canon else p


def class_probabilities(estimator, X, classes, *, label_map=None):
    """``estimator.predict_proba(X)`` with columns in the order of ``classes``.

    The estimator's ``classes_`` are matched by their normalised spelling; a
    class it never saw gets 0, and a row left with no mass the uniform
    distribution. None when the estimator has no ``predict_proba``. This is
    how the probability scorers and the command line read probabilities.
    """
    if not hasattr(estimator, "predict_proba"):
        return None
    lm = build_label_map(label_map)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    pos = {canonical_label(c, lm): k for k, c in enumerate(classes)}
    theirs = [canonical_label(c, lm) for c in estimator.classes_]
    # a class "Calm" of the estimator beside the scored "calm" would get no mass
    check_label_spellings(theirs, list(pos), "estimator's classes_", counted=False,
                          consequence="its probabilities would count for no class",
                          advice="Fit it on labels written as the scored "
                                 "classes are.", of="the class")
    if proba.ndim != 2 or proba.shape[1] != len(theirs):
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba gave shape {proba.shape} for "
            f"{len(theirs)} classes_; one column per class is expected.")
    if not any(c in pos for c in theirs):
        raise ValueError(
            f"None of {type(estimator).__name__}'s classes_ {theirs[:8]} is one of "
            f"the scored classes {list(classes)[:8]}: its probabilities say "
            "nothing about them.")
    out = np.zeros((len(proba), len(classes)))
    for j, c in enumerate(estimator.classes_):
        k = pos.get(canonical_label(c, lm))
        if k is not None:
            out[:, k] = proba[:, j]
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0),
                    1.0 / len(classes))


def vote_shares(y_true, *, classes, label_map=None):
    """The raters' distribution over ``classes`` per utterance.

    The targets of ``SoftLabels(classes, alpha=0)``: NaN rows where no rater
    chose one of the classes.

    Returns
    -------
    shares : pandas.DataFrame
    """
    y = check_annotations(y_true, label_map=label_map, classes=classes,
                          whom="vote_shares")
    return SoftLabels(classes, alpha=0.0, label_map=label_map).fit(y).transform(y)


def _pair(y_true, y_proba, classes, label_map):
    """(vote shares, predictions) of the utterances with a distribution."""
    y, classes = _checked(y_true, y_proba, classes, label_map)
    shares = SoftLabels(classes, alpha=0.0, label_map=label_map).fit(y).transform(y)
    q = shares.to_numpy(dtype=float)
    p = _proba(y_proba, classes, len(q), label_map)
    ok = ~np.isnan(q).any(axis=1)
    if not ok.any():
        raise ValueError(
            f"No utterance has a rating among the classes {classes}; nothing to "
            "score.")
    return q[ok], p[ok], ok


# the scores on (shares, probabilities) arrays, shared with agreement_report
def _nll(q, p):
    return float(np.mean(-xlogy(q, np.clip(p, EPS, 1.0)).sum(axis=1)))


def _js(q, p):
    return float(np.mean(jensenshannon(q, p, base=2, axis=1) ** 2))


def _f1(q, p, threshold=None):
    t = 1.0 / q.shape[1] if threshold is None else float(threshold)
    if not 0 < t <= 1:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold}.")
    return float(f1_score(q >= t - 1e-12, p >= t - 1e-12, average="macro",
                          zero_division=0))


def soft_log_loss(y_true, y_proba, *, classes, label_map=None):
    """Mean cross-entropy of ``y_proba`` against the raters' vote shares.

    ``-sum_k s_k log p_k`` per utterance (natural log; ``s`` the vote shares
    over ``classes``, ``p`` clipped to ``[1e-15, 1]``), averaged over the
    utterances with at least one rating among the classes. With one rater per
    utterance it is scikit-learn's :func:`~sklearn.metrics.log_loss`. Lower is
    better. The columns of an array ``y_proba`` are ``classes`` in the order
    given (a DataFrame's are found by name).

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.DataFrame({"A": ["sad", "sad"], "B": ["sad", "angry"]})
    >>> round(soft_log_loss(y, [[0.1, 0.9], [0.5, 0.5]],
    ...                     classes=["anger", "sadness"]), 4)
    0.3993
    """
    return _nll(*_pair(y_true, y_proba, classes, label_map)[:2])


def jensen_shannon_divergence(y_true, y_proba, *, classes, label_map=None):
    """Mean Jensen-Shannon divergence (base 2, in [0, 1]) between the vote
    shares and ``y_proba`` (:func:`scipy.spatial.distance.jensenshannon`
    squared), over the utterances with a rating among the classes. Lower is
    better.
    """
    return _js(*_pair(y_true, y_proba, classes, label_map)[:2])


def soft_brier_score(y_true, y_proba, *, classes, label_map=None):
    """Mean multi-class Brier score against the vote shares:
    ``sum_k (p_k - s_k)^2`` per utterance (0 to 2). Lower is better."""
    q, p, _ = _pair(y_true, y_proba, classes, label_map)
    return float(np.mean(((p - q) ** 2).sum(axis=1)))


def all_inclusive_f1(y_true, y_proba, *, classes, threshold=None, label_map=None):
    """EMO-SUPERB's "all-inclusive" macro-F1 on every rated utterance.

    Vote shares and predictions are both binarised at ``threshold`` (default
    ``1/C``): a class is present where its share (probability) is at least
    the threshold; then :func:`sklearn.metrics.f1_score` with
    ``average="macro"`` over the classes (a class never present in either gets
    0, ``zero_division=0``). Every utterance with a rating among the classes
    counts, ties and minority choices included. Higher is better.
    """
    q, p, _ = _pair(y_true, y_proba, classes, label_map)
    return _f1(q, p, threshold)


def _majority(y_true, y_proba, classes, label_map):
    y, classes = _checked(y_true, y_proba, classes, label_map)
    enc = HardLabels(classes, label_map=label_map).fit(y)
    truth = enc.transform(y).to_numpy(dtype=object)
    p = _proba(y_proba, classes, len(truth), label_map)
    ok = ~pd.isna(pd.Series(truth, dtype=object)).to_numpy()
    if not ok.any():
        raise ValueError("No utterance has a hard majority among the classes.")
    pos = {c: k for k, c in enumerate(enc.classes_)}
    k = np.array([pos[c] for c in truth[ok]])
    return k, p[ok], ok, list(enc.classes_)


def expected_calibration_error(y_true, y_proba, *, classes, n_bins=15,
                               label_map=None, return_bins=False):
    """Top-label expected calibration error against the hard majority.

    The utterances with a majority among ``classes`` are put in ``n_bins``
    equal-width bins of their top probability (bin ``b`` holds confidences in
    ``(b/n, (b+1)/n]``, the first also 0); ECE is ``sum_b (n_b / n) |acc_b -
    conf_b|`` (Guo et al. 2017). Lower is better.

    With ``return_bins=True`` also a DataFrame (one row per bin: ``lower``,
    ``upper``, ``count``, ``confidence``, ``accuracy``), the reliability
    diagram's data.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or (
            n_bins < 1):
        raise ValueError(f"n_bins must be a whole number >= 1; got {n_bins!r}.")
    k, p, _, _ = _majority(y_true, y_proba, classes, label_map)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == k
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, int(n_bins) - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(b, weights=conf, minlength=n_bins) / count
        acc = np.bincount(b, weights=correct.astype(float), minlength=n_bins) / count
    used = count > 0
    ece = float(np.sum(count[used] / len(conf) * np.abs(acc[used] - mean_conf[used])))
    if not return_bins:
        return ece
    bins = pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "count": count,
                         "confidence": mean_conf, "accuracy": acc})
    return ece, bins


AgreementScores = namedtuple("AgreementScores", ["raters", "with_model"])
AgreementScores.__doc__ = """Krippendorff's alpha of the raters, and with the
model added as one more rater (None without predictions)."""


def krippendorff_alpha(y_true, y_pred=None, *, classes, label_map=None):
    """Nominal Krippendorff's alpha of the raters' first choices among classes.

    Each rater's first choice is their value for an utterance; a first choice
    outside ``classes`` is a missing value (the rater said something else).
    Computed by the `krippendorff <https://pypi.org/project/krippendorff/>`_
    package from the per-utterance counts of each class (its ``value_counts``
    form: the cost grows with utterances x classes, not with raters).
    With ``y_pred`` (one predicted label per utterance) the model is added as
    one more rater of every utterance.

    Returns
    -------
    scores : AgreementScores
        ``raters`` (float) and ``with_model`` (float, or None without
        ``y_pred``). Higher means more agreement (1 perfect, 0 chance).
    """
    import krippendorff

    y = check_annotations(y_true, label_map=label_map, classes=classes,
                          whom="krippendorff_alpha")
    enc = HardLabels(classes, label_map=label_map).fit(y)
    classes = list(enc.classes_)
    counts, _ = enc._class_counts(y, votes="first")
    values = np.arange(len(classes))

    def alpha(c):
        pairable = c.sum(axis=1) >= 2
        if pairable.sum() < 1 or (c[pairable].sum(axis=0) > 0).sum() < 2:
            return float("nan")
        return float(krippendorff.alpha(value_counts=c[pairable], value_domain=values,
                                        level_of_measurement="nominal"))

    raters = alpha(counts)
    if y_pred is None:
        return AgreementScores(raters, None)
    pred = _predictions_by_id(y_pred, y)
    pos = {c: k for k, c in enumerate(classes)}
    lm = build_label_map(label_map)
    read = np.array([None if is_missing_label(v) else canonical_label(v, lm)
                     for v in pred], dtype=object)
    # a predicted "Calm" beside the class "calm" would never count (the UAR's rule)
    check_label_spellings(read, classes, "y_pred", counted=False,
                          consequence="it would count as no class",
                          advice="Write the predictions as the classes are.",
                          of="the class")
    k = np.array([pos.get(v, -1) for v in read], dtype=np.int64)
    if (k < 0).any():
        out = read[k < 0]
        named = sorted({str(v) for v in out if v is not None})
        ser_warn(
            f"krippendorff_alpha: {int((k < 0).sum())} of {len(k)} prediction(s) "
            f"are no class of {list(classes)[:8]} "
            f"({named[:6] + (['None/NaN'] if any(v is None for v in out) else [])}"
            "); the model counts as not rating those utterances.",
            DroppedRowsWarning)
    with_model = counts.copy()
    ok = k >= 0
    with_model[np.flatnonzero(ok), k[ok]] += 1
    return AgreementScores(raters, alpha(with_model))


def _predictions_by_id(y_pred, y):
    """One prediction per utterance of the checked ratings ``y``: a Series
    with ids is aligned by id (every utterance needs one), anything else by
    position."""
    if isinstance(y_pred, pd.Series) and not isinstance(y_pred.index, pd.RangeIndex):
        missing = y.index.difference(y_pred.index, sort=False)
        if len(missing):
            raise ValueError(
                f"y_pred has no prediction for {len(missing)} utterance(s) of "
                f"y_true (first: {missing[0]!r}); its ids must be y_true's.")
        if y_pred.index.has_duplicates:
            dup = y_pred.index[y_pred.index.duplicated()][0]
            raise ValueError(f"y_pred names utterance {dup!r} twice.")
        return y_pred.reindex(y.index).to_numpy(dtype=object)
    pred = np.asarray(y_pred, dtype=object).ravel()
    if len(pred) != len(y):
        raise ValueError(f"y_pred has {len(pred)} labels for {len(y)} "
                         "utterances.")
    return pred


def agreement_report(y_true, y_proba, *, classes, bins=(0.0, 0.5, 0.75, 1.0),
                     label_map=None):
    """Every score by agreement level: the share of the raters behind the
    top class (vote share of the plurality class over ``classes``).

    Parameters
    ----------
    bins : sequence of float, default=(0, 0.5, 0.75, 1)
        Edges of the agreement levels (right-closed; the first includes its
        lower edge).

    Returns
    -------
    report : pandas.DataFrame
        One row per level: ``n`` (utterances with a distribution),
        ``n_majority`` (with a hard majority), ``accuracy`` (top prediction =
        majority), ``soft_log_loss``, ``jensen_shannon``,
        ``all_inclusive_f1``; plus a row ``"all"``.
    """
    y, classes = _checked(y_true, y_proba, classes, label_map)
    shares = SoftLabels(classes, alpha=0.0, label_map=label_map).fit(y).transform(y)
    q = shares.to_numpy(dtype=float)
    p = _proba(y_proba, classes, len(q), label_map)
    majority = HardLabels(classes, label_map=label_map).fit(y).transform(y)
    has = ~np.isnan(q).any(axis=1)
    agree = np.where(has, np.nanmax(np.where(has[:, None], q, 0.0), axis=1), np.nan)
    edges = np.asarray(bins, dtype=float)
    level = pd.cut(agree, edges, include_lowest=True, labels=False)
    canon = list(shares.columns)
    rows = {}
    names = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:],
                                                   strict=True)]
    for name, mask in [*((n, (level == k) & has) for k, n in enumerate(names)),
                       ("all", has)]:
        if not mask.any():
            rows[name] = {"n": 0}
            continue
        maj = majority.to_numpy(dtype=object)[mask]
        m = ~pd.isna(pd.Series(maj, dtype=object)).to_numpy()
        top = np.asarray(canon, dtype=object)[p[mask].argmax(axis=1)]
        rows[name] = {
            "n": int(mask.sum()), "n_majority": int(m.sum()),
            "accuracy": float(np.mean(top[m] == maj[m])) if m.any() else np.nan,
            "soft_log_loss": _nll(q[mask], p[mask]),
            "jensen_shannon": _js(q[mask], p[mask]),
            "all_inclusive_f1": _f1(q[mask], p[mask]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "agreement"
    return out


def agreement_levels(annotations, classes=None, label_map=None):
    """Share of the ratings that chose the majority class, per utterance.

    ``NaN`` where there is no majority (ties) or no usable rating. Counts
    votes as :class:`~sklearn_ser.annotations.HardLabels` does by default
    (every label a rater chose), so the share refers to the same majority.
    """
    if classes is not None:
        classes = check_names(classes, "classes", "agreement_levels")
    hard = HardLabels(classes, label_map=label_map).fit(annotations)
    majority = hard.transform(annotations)
    soft = SoftLabels(list(hard.classes_), alpha=0, label_map=label_map)
    shares = soft.fit(annotations).transform(annotations)
    out = np.full(len(majority), np.nan)
    for i, (label, ok) in enumerate(zip(majority, majority.notna(), strict=True)):
        if ok:
            out[i] = shares.iloc[i][label]
    return pd.Series(out, index=majority.index, name="agreement")
