"""The measures the speech emotion papers report.

* **UAR** (unweighted average recall, "UA"): mean of the per-class recalls, so
  every emotion counts the same whatever its frequency.
* **WA** (weighted accuracy): plain accuracy over utterances, so frequent
  classes weigh more. (Both names are the papers'.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ..annotations import (
    RatingsDtype,
    check_label_spellings,
    check_names,
    missing_label_mask,
    normalize_label,
)


def _as_labels(y, name):
    if isinstance(y, pd.DataFrame) or isinstance(
            getattr(y, "dtype", None), RatingsDtype):
        raise TypeError(
            f"{name} must be 1-D labels; got {type(y).__name__} of ratings. To "
            "score against an "
            "annotation table, use ser_scoring(...) or "
            "HardLabels(classes).fit_transform(table)."
        )
    arr = np.asarray(y, dtype=object).ravel()
    return np.array([normalize_label(v) for v in arr], dtype=object)


def _prepare(y_true, y_pred, labels):
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}."
        )
    missing = missing_label_mask(y_true)
    if missing.any():
        raise ValueError(
            f"y_true holds {int(missing.sum())} missing label(s) (NaN/None, an "
            "empty string or a marker such as 'NA', which the ratings read as no "
            "label), e.g. "
            f"at position {int(np.flatnonzero(missing)[0])}. Leave out rows without "
            "a consensus first, or pass the annotation table to ser_scoring."
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty: nothing to score.")
    seen = _sorted_unique(y_true)
    if labels is None:
        labels = seen
    else:
        # a class named twice (once normalised) would weigh twice in the UAR
        labels = check_names([normalize_label(c) for c in check_names(
            labels, "labels")], "labels (normalised)", unique=True)
        # "Calm" among the labels beside a true "calm" would have no recall
        check_label_spellings(labels, seen, "labels argument", counted=False,
                              consequence="no utterance would count for it",
                              advice="Write it as y_true does.",
                              of="y_true's label")
    # a predicted "Calm" beside a true "calm" would never be right
    check_label_spellings(_sorted_unique(y_pred), [*seen, *labels], "y_pred",
                          counted=False, consequence="it would never be right",
                          advice="Write the predictions as y_true does.",
                          of="the label")
    return y_true, y_pred, list(labels)


def _sorted_unique(values):
    uniq = pd.unique(pd.Series(values, dtype=object))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def unweighted_average_recall(y_true, y_pred, *, labels=None):
    """Unweighted average recall (UAR, "UA"): the mean recall over classes.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels. Label spellings are normalised
        (``"Neutral"`` and ``"neu"`` both count as ``"neutral"``).
    labels : array-like, default=None
        Classes to average over. By default the classes present in ``y_true``
        (a class absent from ``y_true`` has no recall).

    Returns
    -------
    uar : float

    Examples
    --------
    >>> unweighted_average_recall(["ang", "ang", "ang", "sad"],
    ...                           ["ang", "ang", "ang", "ang"])
    0.5
    """
    y_true, y_pred, labels = _prepare(y_true, y_pred, labels)
    recalls = []
    for c in labels:
        mask = y_true == c
        if mask.any():
            recalls.append(float(np.mean(y_pred[mask] == c)))
    if not recalls:
        raise ValueError(
            f"None of the classes {labels} occurs in y_true; UAR is undefined."
        )
    return float(np.mean(recalls))


def weighted_accuracy(y_true, y_pred, *, labels=None):
    """Weighted accuracy (WA): the share of utterances classified correctly.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like, default=None
        If given, only utterances whose true label is in ``labels`` count.

    Examples
    --------
    >>> weighted_accuracy(["ang", "ang", "ang", "sad"], ["ang", "ang", "ang", "ang"])
    0.75
    """
    y_true, y_pred, labels = _prepare(y_true, y_pred, labels)
    mask = np.isin(y_true, np.asarray(labels, dtype=object))
    if not mask.any():
        raise ValueError(f"None of the classes {labels} occurs in y_true.")
    return float(np.mean(y_true[mask] == y_pred[mask]))


def per_class_report(y_true, y_pred, *, labels=None):
    """Per-class precision, recall, F1 and support, plus UAR and WA rows.

    Returns
    -------
    report : pandas.DataFrame
        Index: the classes, then ``"UAR"`` and ``"WA"`` (in the ``recall``
        column); columns ``precision``, ``recall``, ``f1``, ``support``.

    Examples
    --------
    >>> report = per_class_report(["ang", "sad", "sad"], ["ang", "sad", "ang"])
    >>> float(report.loc["sadness", "recall"]), float(report.loc["UAR", "recall"])
    (0.5, 0.75)
    """
    y_true, y_pred, labels = _prepare(y_true, y_pred, labels)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    report = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": s},
        index=pd.Index(labels, name="class"),
    )
    report.loc["UAR"] = [np.nan, unweighted_average_recall(y_true, y_pred,
                                                          labels=labels),
                         np.nan, int(s.sum())]
    report.loc["WA"] = [np.nan, weighted_accuracy(y_true, y_pred, labels=labels),
                        np.nan, int(s.sum())]
    report["support"] = report["support"].astype(int)
    return report


def confusion_table(y_true, y_pred, *, labels=None, normalize=None):
    """Confusion matrix as a labelled DataFrame (rows: true, columns: predicted).

    Parameters
    ----------
    normalize : {"true", "pred", "all"} or None
        As in :func:`sklearn.metrics.confusion_matrix`; ``"true"`` puts the
        per-class recalls on the diagonal.

    Examples
    --------
    >>> confusion_table(["ang", "sad", "sad"], ["ang", "sad", "ang"])
    predicted  anger  sadness
    true...
    anger          1        0
    sadness        1        1
    """
    y_true, y_pred, labels = _prepare(y_true, y_pred, labels)
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    return pd.DataFrame(
        cm,
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    )
