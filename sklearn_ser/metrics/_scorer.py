"""Scorers for ``cross_validate`` and ``GridSearchCV`` that understand ratings."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from ..annotations import HardLabels, check_annotations, report_missing
from ._metrics import unweighted_average_recall, weighted_accuracy


class _PredictionCache:
    """Shares one ``predict`` call between the scorers of one ``ser_scoring``.

    ``cross_validate`` calls every scorer of a dict on the same fitted
    estimator and test fold; predicting once per fold instead of once per
    metric matters for neural models.
    """

    def __init__(self):
        self._key = None
        self._value = None

    def get(self, estimator, X, y, compute):
        key = (id(estimator), id(X), id(y), len(y))
        if self._key is not None:
            ref, *rest = self._key
            if ref() is estimator and tuple(rest) == key[1:]:
                return self._value
        value = compute()
        try:
            self._key = (weakref.ref(estimator), *key[1:])
            self._value = value
        except TypeError:  # estimator does not support weak references
            self._key = None
        return value

    def __getstate__(self):  # scorers are pickled by joblib workers
        return {"_key": None, "_value": None}


class SERScorer:
    """Score an estimator against the hard majority of an annotation table.

    ``y`` may be an annotation table, a vote-count table or plain labels. It is
    turned into hard labels over ``classes`` with :class:`HardLabels`. The
    estimator predicts *every* utterance of the split (so that whatever it
    computes from the test data, such as per-speaker statistics, comes from
    all of it, not from a subset chosen by the labels); rows with no consensus
    or no target emotion are then left out of the score (their count is
    reported in a :class:`~sklearn_ser.exceptions.DroppedRowsWarning`) and
    ``metric`` compares the rest.

    Use :func:`ser_scoring` to build these.
    """

    def __init__(self, metric, name, encoder, cache, warn=True):
        self.metric = metric
        self.name = name
        self.encoder = encoder
        self.cache = cache
        self.warn = warn

    def _targets_and_predictions(self, estimator, X, y):
        def compute():
            encoder = self.encoder
            # checked once for every scorer of this fold, aligned with X by id
            y_checked = check_annotations(
                y, X if isinstance(X, pd.DataFrame) else None,
                label_map=encoder.label_map, classes=encoder.classes,
                whom="ser_scoring")
            return self._compute(estimator, X, y_checked)

        return self.cache.get(estimator, X, y, compute)

    def _compute(self, estimator, X, y):
        encoder = self.encoder
        if encoder.classes is None or not hasattr(encoder, "classes_"):
            encoder.fit(y)
        targets = encoder.transform(y)
        keep = targets.notna().to_numpy()
        report_missing(encoder, y, ~keep, "Scoring left out", warn=self.warn)
        if not keep.any():
            raise ValueError(
                "No utterance of this split has a hard target over classes "
                f"{list(encoder.classes_)}; nothing to score."
            )
        # every test utterance is predicted, as in deployment: a model that
        # uses the test data (per-speaker statistics, pooling) must not see
        # a subset chosen by the test labels; only the scores use the targets
        idx = np.flatnonzero(keep)
        pred = np.asarray(estimator.predict(X), dtype=object)
        if len(pred) != len(keep):
            raise ValueError(
                f"{type(estimator).__name__}.predict returned {len(pred)} "
                f"predictions for {len(keep)} utterances."
            )
        return targets.to_numpy(dtype=object)[idx], pred[idx]

    def __call__(self, estimator, X, y, sample_weight=None, **kwargs):
        y_true, y_pred = self._targets_and_predictions(estimator, X, y)
        return self.metric(y_true, y_pred, list(self.encoder.classes_))

    def __repr__(self):
        return f"SERScorer({self.name})"


def _uar(y_true, y_pred, classes):
    return unweighted_average_recall(y_true, y_pred, labels=classes)


def _wa(y_true, y_pred, classes):
    return weighted_accuracy(y_true, y_pred, labels=classes)


def _recall_of(cls):
    def recall(y_true, y_pred, classes):
        mask = y_true == cls
        return float(np.mean(y_pred[mask] == cls)) if mask.any() else np.nan

    return recall


def ser_scoring(
    classes=None,
    *,
    label_map=None,
    votes="all",
    rule="plurality",
    tie_break="none",
    per_class=True,
    warn=True,
):
    """Scorers for ``cross_validate``/``GridSearchCV`` as the papers evaluate.

    The true labels are the hard majority of the ratings over ``classes``
    (see :class:`~sklearn_ser.annotations.HardLabels` for ``label_map``,
    ``votes``, ``rule`` and ``tie_break``); utterances without one are left out
    and counted. Plain labels are accepted as ``y`` too.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes. Strongly recommended: by default they are inferred
        from each test fold's labels.
    per_class : bool, default=True
        Add one ``"recall_<class>"`` scorer per class (needs ``classes``).
    warn : bool, default=True
        Emit a ``DroppedRowsWarning`` with the count of left-out utterances.

    Returns
    -------
    scoring : dict
        ``{"uar": ..., "wa": ..., "recall_<class>": ...}``, usable as
        ``scoring=`` (pick one key as ``refit=`` in a search).

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("ang",), ("sad",), ("neu",), ("sad",)],
    ...                       "E2": [("ang",), ("sad",), ("ang",), ("sad",)]})
    >>> X = [[0.0], [1.0], [2.0], [3.0]]
    >>> clf = DummyClassifier(strategy="constant", constant="sadness")
    >>> clf = clf.fit(X, ["anger", "sadness", "anger", "sadness"])
    >>> scoring = ser_scoring(classes=["anger", "sadness"], warn=False)
    >>> scoring["uar"](clf, X, table), scoring["wa"](clf, X, table)
    (0.5, 0.6666666666666666)
    """
    encoder = HardLabels(
        classes, label_map=label_map, votes=votes, rule=rule, tie_break=tie_break
    )
    cache = _PredictionCache()
    scoring = {
        "uar": SERScorer(_uar, "uar", encoder, cache, warn),
        "wa": SERScorer(_wa, "wa", encoder, cache, warn),
    }
    if per_class and classes is not None:
        fitted = HardLabels(classes, label_map=label_map).fit(
            pd.Series([next(iter(classes))])
        )
        for cls in fitted.classes_:
            scoring[f"recall_{cls}"] = SERScorer(
                _recall_of(cls), f"recall_{cls}", encoder, cache, warn
            )
    return scoring


class UARScoreMixin:
    """``score(X, y)``: UAR against the hard majority of ``y``.

    Mixed into every classifier of the package (before scikit-learn's
    ``ClassifierMixin``), so that ``cross_validate`` and ``GridSearchCV``
    without ``scoring=`` score ratings as the papers do: ``y`` may be ratings,
    an annotation table, vote counts or plain labels; utterances without a
    majority are left out, their count in a ``DroppedRowsWarning``. Use
    :func:`ser_scoring` for WA and the per-class recalls.
    """

    def score(self, X, y, sample_weight=None):
        """UAR of ``predict(X)`` against the hard majority of ``y``.

        Parameters
        ----------
        X : the estimator's input
        y : ratings, annotation table, vote counts or 1-D labels
        sample_weight : None
            Not supported (UAR weighs every class the same).

        Returns
        -------
        score : float
        """
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}.score computes UAR, which "
                             "takes no sample_weight.")
        scorer = ser_scoring(list(self.classes_),
                             label_map=getattr(self, "label_map", None),
                             per_class=False)["uar"]
        return scorer(self, X, y)
