"""Late fusion of classifiers that see the utterances differently."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted, has_fit_parameter

from .._columns import columns_by_name, is_unnamed
from .._text import shown, spelling_key
from ..annotations import (
    align_annotations,
    check_names,
    normalize_label,
)
from ..exceptions import AnnotationError
from ..metrics import UARScoreMixin
from ._inputs import MembersInputs, fit_members, shared_inputs
from ._template import OneFitMixin


def combine_probabilities(probas, weights=None, combine="geometric", *,
                          classes=None):
    """Weighted mean of probability tables, rows summing to 1.

    ``probas``: (n_samples, n_classes) tables. Arrays' columns are in one
    class order (``classes``, when given); DataFrames with named columns are
    aligned **by name** (:func:`~sklearn_ser.annotations.columns_by_name`:
    to ``classes``, else to the first table's columns; a table whose names
    are not those classes is refused) and by utterance id (the first table's
    order; a table with other ids is refused). ``weights``: one per table
    (default equal; normalised); ``combine``: "mean" (arithmetic) or
    "geometric" (the weighted mean of the log-probabilities, clipped at
    1e-9, renormalised). The one rule of :class:`LateFusionClassifier` and
    the command line's fusion methods.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), or a DataFrame (columns: the
    classes, index: the first table's ids) when a table was a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]])
    >>> combine_probabilities([a, b], combine="mean").round(2).tolist()
    [[0.7, 0.3]]
    >>> combine_probabilities([a, b]).round(2).tolist()
    [[0.75, 0.25]]
    """
    probas = list(probas)
    if not probas:
        raise ValueError("combine_probabilities needs at least one table.")
    if combine not in ("mean", "geometric"):
        raise ValueError(f"combine={combine!r}; use 'mean' or 'geometric'.")
    frames = [p for p in probas if isinstance(p, pd.DataFrame)
              and not is_unnamed(p.columns)]
    names = (check_names(classes, "classes", "combine_probabilities")
             if classes is not None else None) or (
        list(frames[0].columns) if frames else None)
    index = frames[0].index if frames else None
    arrays = []
    for k, p in enumerate(probas):
        if isinstance(p, pd.DataFrame) and not is_unnamed(p.columns):
            if not p.index.equals(index):
                if len(p.index) != len(index) or not p.index.isin(index).all() or (
                        p.index.has_duplicates):
                    raise ValueError(
                        f"combine_probabilities: table {k} has other utterance ids "
                        f"than table 0 (e.g. {p.index.difference(index)[:3].tolist()}"
                        f" / {index.difference(p.index)[:3].tolist()}).")
                p = p.loc[index]
            p = p.iloc[:, columns_by_name(p.columns, names,
                                          what=f"combine_probabilities' {k}")]
        arr = np.asarray(p, dtype=float)
        if arr.ndim != 2 or (names is not None and arr.shape[1] != len(names)) or (
                arr.shape != np.shape(arrays[0] if arrays else arr)):
            raise ValueError(
                f"combine_probabilities: table {k} has shape {arr.shape}; every "
                "table must be (n_samples, n_classes) with the same shape"
                + (f" ({len(names)} classes)." if names is not None else "."))
        arrays.append(arr)
    w = np.ones(len(arrays)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(arrays),) or not np.isfinite(w).all() or (w < 0).any() or (
            w.sum() <= 0):
        raise ValueError(
            f"combine_probabilities: weights={list(np.ravel(w))}; one finite "
            f"weight >= 0 per table ({len(arrays)}), at least one > 0.")
    w = w / w.sum()
    if combine == "geometric":
        total = sum(wk * np.log(np.clip(p, 1e-9, 1.0))
                    for wk, p in zip(w, arrays, strict=True))
        total = np.exp(total - total.max(axis=1, keepdims=True))
    else:
        total = sum(wk * p for wk, p in zip(w, arrays, strict=True))
    out = total / total.sum(axis=1, keepdims=True)
    if frames:
        return pd.DataFrame(out, index=index, columns=pd.Index(names, name="class"))
    return out


def _refuse_class_spellings(labels, names, members):
    """Two members naming one class two ways ("anger" and "angry", "calm" and
    "Calm") would make two columns of one class: refused, naming them."""
    groups = {}
    for c in labels:
        if isinstance(c, str):
            groups.setdefault(spelling_key(str(normalize_label(c))), []).append(c)
    clash = next((g for g in groups.values() if len(g) > 1), None)
    if clash:
        who = {c: [n for n, est in zip(names, members, strict=True)
                   if c in list(est.classes_)] for c in clash}
        raise AnnotationError(
            "LateFusionClassifier: the members name one class two ways: "
            + ", ".join(f"{shown(c)} ({', '.join(who[c])})" for c in clash)
            + "; their probabilities would fall into separate columns. Fit every "
            "member on labels written one way (the same label_map, classes or "
            "target encoder).")


class LateFusionClassifier(OneFitMixin, UARScoreMixin, MetaEstimatorMixin,
                           ClassifierMixin, BaseEstimator):
    """Average the class probabilities of several classifiers (late fusion).

    Each estimator (typically a Pipeline from the utterance table: functionals
    and a linear model, frames and a BLSTM ensemble...) is fitted on the same
    ``X`` and ratings ``y`` and makes its own features; their probabilities
    are combined per utterance. Unlike scikit-learn's ``VotingClassifier`` it
    hands the ratings themselves to every member (each turns them into its
    own targets) and does not label-encode ``y``.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Classifiers with ``predict_proba`` that take ``X`` and ratings.
    weights : list of float, default=None
        Weight of each member (default: equal).
    combine : {"mean", "geometric"}, default="mean"
        Weighted arithmetic mean of the probabilities, or weighted geometric
        mean (mean of the log-probabilities, renormalised).
    n_jobs : int, default=None
        Members fitted in parallel (joblib; each worker gets its share of
        the torch threads).

    Attributes
    ----------
    estimators_ : list of fitted estimators
    named_estimators_ : dict
    classes_ : ndarray
        The union of the members' classes (sorted).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X = np.array([[0.0], [0.2], [1.0], [1.2]]); y = ["a", "a", "b", "b"]
    >>> fusion = LateFusionClassifier([("lr", LogisticRegression()),
    ...                                ("nb", GaussianNB())]).fit(X, y)
    >>> fusion.predict([[0.1], [1.1]]).tolist()
    ['a', 'b']
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import GaussianNB

        return [cls([("lr", LogisticRegression()), ("nb", GaussianNB())])]

    _parameter_constraints: dict = {
        "estimators": [list],
        "weights": ["array-like", None],
        "combine": [StrOptions({"mean", "geometric"})],
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(self, estimators, *, weights=None, combine="mean", n_jobs=None):
        self.estimators = estimators
        self.weights = weights
        self.combine = combine
        self.n_jobs = n_jobs

    def _check_params(self):
        """Unique names, one weight per member (finite, >= 0, one > 0),
        members with ``predict_proba``."""
        if not self.estimators:
            raise ValueError("LateFusionClassifier needs at least one estimator.")
        names = [n for n, _ in self.estimators]
        if len(set(names)) != len(names):
            raise ValueError(f"Estimator names must be unique; got {names}.")
        if self.weights is not None:
            if len(self.weights) != len(self.estimators):
                raise ValueError(f"{len(self.weights)} weights for "
                                 f"{len(self.estimators)} estimators.")
            w = np.asarray(self.weights, dtype=float)
            if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise ValueError(
                    f"LateFusionClassifier: weights={list(self.weights)}; each weight "
                    "must be a finite number >= 0 and at least one > 0 (they are "
                    "the members' shares of the combined probability).")
        for name, est in self.estimators:
            if not hasattr(est, "predict_proba"):
                raise TypeError(f"Estimator {name!r} ({type(est).__name__}) has no "
                                "predict_proba; late fusion averages probabilities.")

    def _fit_inputs(self, X, y, groups):
        """X converted and y parsed once for every member (when every member
        reads frames / annotations); ``groups`` for the members whose ``fit``
        takes it."""
        if y is not None:  # pandas objects by id, arrays by position
            y = align_annotations(X, y)
        if groups is not None and len(groups) != _num_samples(X):
            raise ValueError(f"groups has {len(groups)} entries but X has "
                             f"{_num_samples(X)} utterances.")
        X, y = shared_inputs([est for _, est in self.estimators], X, y,
                             type(self).__name__)
        members = [clone(est) for _, est in self.estimators]
        params = [{"groups": groups} if groups is not None
                  and has_fit_parameter(est, "groups") else {} for est in members]
        return MembersInputs(X, y, members, params)

    def _fit(self, inputs):
        """The members, side by side on ``n_jobs``."""
        self.estimators_ = fit_members(inputs, self.n_jobs)

    def _fit_end(self, inputs, result):
        """The union of the members' classes (one spelling per class)."""
        names = [n for n, _ in self.estimators]
        self.named_estimators_ = dict(zip(names, self.estimators_, strict=True))
        labels = sorted({c.item() if isinstance(c, np.generic) else c
                         for est in self.estimators_ for c in est.classes_}, key=str)
        _refuse_class_spellings(labels, names, self.estimators_)
        self.classes_ = np.asarray(labels, dtype=object if any(
            isinstance(c, str) for c in labels) else None)
        if all(isinstance(c, numbers.Number) for c in labels):
            self.classes_ = np.sort(self.classes_)
        first = self.estimators_[0]
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_

    def predict_proba(self, X):
        """Combined probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "estimators_")
        pos = {c: k for k, c in enumerate(self.classes_)}
        aligned = []
        for est in self.estimators_:
            proba = np.asarray(est.predict_proba(X), dtype=float)
            out = np.zeros((len(proba), len(self.classes_)))
            for j, c in enumerate(est.classes_):
                out[:, pos[c]] = proba[:, j]
            aligned.append(out)
        return combine_probabilities(aligned, self.weights, self.combine)

    def predict(self, X):
        """The class of highest combined probability."""
        check_is_fitted(self, "estimators_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
