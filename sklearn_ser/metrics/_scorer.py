"""Scorers for ``cross_validate`` and ``GridSearchCV`` that understand ratings."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .._warnings import ser_warn
from ..annotations import (
    HardLabels,
    check_annotations,
    check_names,
    report_missing,
    resolve_classes,
    truth_labels,
)
from ..exceptions import AbsentClassWarning, DroppedRowsWarning, SERWarning
from ._distribution import (
    all_inclusive_f1,
    class_probabilities,
    expected_calibration_error,
    jensen_shannon_divergence,
    soft_brier_score,
    soft_log_loss,
)
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
        self.noted = False  # the "no predict_proba" note was given

    def get(self, estimator, X, y, compute):
        key = (id(estimator), id(X), id(y), -1 if y is None else len(y))
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
        return {"_key": None, "_value": None, "noted": self.noted}


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

    def __init__(self, metric, name, encoder, cache, warn=True, truth=None):
        self.metric = metric
        self.name = name
        self.encoder = encoder
        self.cache = cache
        self.warn = warn
        self.truth = truth

    def _targets_and_predictions(self, estimator, X, y):
        def compute():
            if self.truth is not None:
                return self._compute_truth(estimator, X)
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
        present = set(targets[keep])
        lacking = [str(c) for c in encoder.classes_ if c not in present]
        if lacking and keep.any() and self.warn and encoder.classes is not None:
            ser_warn(
                f"ser_scoring: this split has no utterance whose target is "
                f"{lacking[:6]}: their recall_<class> is NaN (undefined, which "
                "GridSearchCV reports as non-finite test scores) and the UAR "
                "averages the other classes. Use folds that hold every class "
                "(e.g. StratifiedGroupKFold) or fewer classes.",
                AbsentClassWarning)
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
        return (targets.to_numpy(dtype=object)[idx], pred[idx],
                list(encoder.classes_))

    def _compute_truth(self, estimator, X):
        """Targets from the ``truth`` column of the utterance table."""
        column = self.truth
        if not isinstance(X, pd.DataFrame) or column not in X.columns:
            got = (f"columns {list(X.columns)}" if isinstance(X, pd.DataFrame)
                   else f"a {type(X).__name__}")
            raise ValueError(
                f"ser_scoring(truth={column!r}) scores against the {column!r} "
                f"column of the utterance table X; got {got}.")
        given = None
        if self.encoder.classes is not None:
            given = list(resolve_classes(None, self.encoder.classes,
                                         label_map=self.encoder.label_map))
        # the one reading of a truth column: a value that names nothing ("",
        # "NA"...) is missing, as in the ratings and the metrics' y_true; a
        # label that differs from a class only in case, spaces, Unicode form or
        # invisible characters is refused
        known = given if given is not None else getattr(estimator, "classes_", None)
        labels = truth_labels(X[column].to_numpy(dtype=object),
                              label_map=self.encoder.label_map,
                              labels=None if known is None else list(known),
                              name=f"ser_scoring(truth={column!r}) column")
        missing = pd.isna(labels)
        if given is not None:
            classes = given
        else:  # as for ratings: the classes this fold's truth holds
            classes = sorted({v for v in labels[~missing]}, key=str)
        inside = np.array([v in set(classes) for v in labels], dtype=bool) & ~missing
        outside = ~inside & ~missing
        if self.warn and (missing.any() or outside.any()):

            seen = sorted({str(v) for v in labels[outside]})
            ser_warn(
                f"ser_scoring(truth={column!r}): left out {int(missing.sum())} "
                f"utterance(s) without a {column!r} value and {int(outside.sum())} "
                f"utterance(s) whose {column!r} is not among the classes {classes}"
                + (f" ({seen[:5]})" if seen else "") + f"; scored {int(inside.sum())}"
                f" of {len(labels)}.", DroppedRowsWarning)
        if not inside.any():
            raise ValueError(
                f"No utterance of this split has a {column!r} label among the "
                f"classes {classes}; its values are "
                f"{sorted({str(v) for v in labels[~missing]})[:10]}.")
        pred = np.asarray(estimator.predict(X), dtype=object)
        if len(pred) != len(labels):
            raise ValueError(
                f"{type(estimator).__name__}.predict returned {len(pred)} "
                f"predictions for {len(labels)} utterances.")
        return labels[inside], pred[inside], classes

    def __call__(self, estimator, X, y, sample_weight=None, **kwargs):
        y_true, y_pred, classes = self._targets_and_predictions(estimator, X, y)
        return self.metric(y_true, y_pred, classes)

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


class ProbaScorer:
    """Score an estimator's probabilities against every rating of ``y``.

    ``metric(y, proba, classes=...)`` is one of the distribution scores of
    :mod:`sklearn_ser.metrics` (soft log loss, Jensen-Shannon, all-inclusive
    F1, ECE); ``sign=-1`` turns a loss into a score (greater is better, as
    scikit-learn's ``neg_*`` scorers). ``predict_proba`` runs once per fold
    for every probability scorer of one :func:`ser_scoring`; its columns are
    put in ``classes`` order (a class the estimator never saw gets 0).

    Use :func:`ser_scoring` to build these.
    """

    def __init__(self, metric, name, classes, label_map, cache, sign=1.0,
                 warn=True):
        self.warn = warn
        self.metric = metric
        self.name = name
        self.classes = classes
        self.label_map = label_map
        self.cache = cache
        self.sign = sign

    def _proba(self, estimator, X, y):
        def compute():
            if not hasattr(estimator, "predict_proba"):
                if self.warn and not self.cache.noted:

                    ser_warn(
                        f"ser_scoring: {type(estimator).__name__} has no "
                        "predict_proba; the probability scores against every "
                        "rating are NaN, the label scorers (uar, wa, recalls) are "
                        "not affected. Pass probabilities=False (or estimator=) "
                        "to leave them out.", SERWarning)
                    self.cache.noted = True
                return None
            classes = self.classes if self.classes is not None else list(
                estimator.classes_)
            canon = list(resolve_classes(None, classes, label_map=self.label_map))
            out = class_probabilities(estimator, X, canon, label_map=self.label_map)
            y_checked = check_annotations(
                y, X if isinstance(X, pd.DataFrame) else None,
                label_map=self.label_map, classes=canon, whom="ser_scoring")
            return y_checked, out, canon

        return self.cache.get(estimator, X, y, compute)

    def __call__(self, estimator, X, y, sample_weight=None, **kwargs):
        got = self._proba(estimator, X, y)
        if got is None:
            return float("nan")
        y_checked, proba, classes = got
        return self.sign * self.metric(y_checked, proba, classes=classes,
                                       label_map=self.label_map)

    def __repr__(self):
        return f"ProbaScorer({self.name})"


def ser_scoring(
    classes=None,
    *,
    label_map=None,
    votes="all",
    rule="plurality",
    tie_break="none",
    per_class=True,
    probabilities="auto",
    estimator=None,
    warn=True,
    truth=None,
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
    probabilities : {"auto", True, False}, default="auto"
        Add the probability scorers, scored against every rating (see
        :mod:`sklearn_ser.metrics`): ``"all_inclusive_f1"``,
        ``"neg_soft_log_loss"``, ``"neg_jensen_shannon"``, ``"neg_brier"`` and
        ``"neg_ece"`` (losses negated: greater is better, so
        ``GridSearchCV(refit="neg_soft_log_loss")`` works). ``"auto"``: unless
        ``estimator`` is given and has no ``predict_proba`` (then the label
        scorers only, with a note). Called on an estimator without
        ``predict_proba`` they give NaN, with one note.
    estimator : estimator, default=None
        Only read to decide ``probabilities="auto"``.
    warn : bool, default=True
        Emit a ``DroppedRowsWarning`` with the count of left-out utterances
        (and the note that a model has no ``predict_proba``).
    truth : str, default=None
        Score the label scorers (``uar``, ``wa``, ``recall_<class>``) against
        this column of the utterance table ``X`` (e.g. the intended emotion of
        an acted corpus, the command line's ``--truth-column``) instead of
        the ratings' majority; the labels are normalised and mapped as the
        ratings are (``label_map``). Utterances without a value, or with one
        outside ``classes``, are left out and counted. The probability
        scorers still score against every rating of ``y``. Each figure is one
        fold's score: ``cross_validate`` gives one per fold (their mean is a
        mean of folds, while the command line pools the predictions of all
        folds before scoring).

    Returns
    -------
    scoring : dict
        ``{"uar": ..., "wa": ..., "recall_<class>": ..., "all_inclusive_f1":
        ..., "neg_soft_log_loss": ..., ...}``, usable as ``scoring=`` (pick
        one key as ``refit=`` in a search). One ``predict`` and one
        ``predict_proba`` per fold serve all of them.

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
    >>> round(scoring["neg_jensen_shannon"](clf, X, table), 3)
    -0.5
    """
    if probabilities not in ("auto", True, False):
        raise ValueError(f"probabilities={probabilities!r}; use 'auto', True or "
                         "False.")
    if classes is not None:  # read once (a generator), refused as a string
        classes = check_names(classes, "classes", "ser_scoring")
    encoder = HardLabels(
        classes, label_map=label_map, votes=votes, rule=rule, tie_break=tie_break
    )
    cache = _PredictionCache()
    scoring = {
        "uar": SERScorer(_uar, "uar", encoder, cache, warn, truth),
        "wa": SERScorer(_wa, "wa", encoder, cache, warn, truth),
    }
    if per_class and classes is not None:
        for cls in resolve_classes(None, classes, label_map=label_map):
            scoring[f"recall_{cls}"] = SERScorer(
                _recall_of(cls), f"recall_{cls}", encoder, cache, warn, truth
            )
    if probabilities == "auto" and estimator is not None and not hasattr(
            estimator, "predict_proba"):

        ser_warn(
            f"ser_scoring: {type(estimator).__name__} has no predict_proba; only "
            "the label scorers (uar, wa, recalls) are returned, not the "
            "probability scores against every rating.", SERWarning)
        probabilities = False
    if probabilities:
        proba_cache = _PredictionCache()
        for name, metric, sign in (
                ("all_inclusive_f1", all_inclusive_f1, 1.0),
                ("neg_soft_log_loss", soft_log_loss, -1.0),
                ("neg_jensen_shannon", jensen_shannon_divergence, -1.0),
                ("neg_brier", soft_brier_score, -1.0),
                ("neg_ece", expected_calibration_error, -1.0)):
            scoring[name] = ProbaScorer(metric, name, classes, label_map,
                                        proba_cache, sign, warn)
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
                             per_class=False, probabilities=False)["uar"]
        return scorer(self, X, y)
