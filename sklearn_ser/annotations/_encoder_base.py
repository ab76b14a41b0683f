"""The base of the target encoders: annotation tables -> learning targets.

Each encoder is a scikit-learn transformer whose input is an annotation table
(or a vote-count table, or 1-D labels; see :mod:`sklearn_ser.annotations`).
``fit`` fixes the target classes; ``transform`` returns one target per
utterance, aligned with the input rows, with a *missing* value (NaN) wherever
the ratings do not give a target: no consensus for hard labels, no target
emotion for soft labels, no rating at all. Missing targets are never guessed;
:meth:`target_status` says why each row is missing.

Labels are first normalised (``"Neutral state"``, ``"neu"`` -> ``"neutral"``),
then mapped by ``label_map`` (e.g. IEMOCAP's ``{"excitement": "happiness"}``).
Labels outside the target classes are kept as *non-target evidence*: they take
part in the majority vote (a ``frustration`` majority means "no target emotion",
a tie between ``anger`` and ``frustration`` is a tie), they make MLEE negatives
and they are counted in the number of raters.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, check_non_negative

from .._warnings import ser_warn
from ..exceptions import DroppedRowsWarning
from ._check import check_annotations
from ._classes import resolve_classes
from ._ratings import RatingsArray
from ._vocabulary import (
    build_label_map,
)

#: The reasons a row can lack a target, as reported by ``target_status``.
TARGET_STATUSES = ("ok", "tie", "no_majority", "no_target", "unrated")


class BaseTargetEncoder(TransformerMixin, BaseEstimator):
    """Base class of the target encoders: annotations in, targets out.

    ``fit`` and ``transform`` pass their input through
    :func:`~sklearn_ser.annotations.check_annotations` (checked ratings given
    again are not parsed again); ``fit`` fixes ``classes_``. A subclass
    implements ``transform`` (and ``target_status``) and declares
    ``target_kind``. Models accept any instance as their ``target``.
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    #: an abstract base (no transform): every encoder derived from it is checked
    _no_common_checks = "an abstract base (no transform)"

    @classmethod
    def _test_instances(cls):
        return [cls()]

    def _expected_failed_checks(self):
        reason = ("a 1-D input is one label per utterance by design (annotations "
                  "may be plain labels), so fitting on it must succeed")
        return {"check_fit1d": reason, "check_fit2d_predict1d": reason}

    _parameter_constraints: dict = {
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "votes": [StrOptions({"all", "first"})],
        "strict": ["boolean"],
    }

    #: What ``transform`` produces, read by the models: ``"hard"`` (one class
    #: label per row), ``"soft"`` (a distribution over ``classes_``) or
    #: ``"existence"`` (0/1 per class). Subclasses set or compute it.
    target_kind = "hard"

    def __init__(self, classes=None, *, label_map=None, votes="all", strict=False):
        self.classes = classes
        self.label_map = label_map
        self.votes = votes
        self.strict = strict

    # -- helpers ---------------------------------------------------------------
    def _parse(self, y, label_map):
        y = _check_numeric_2d(y, type(self).__name__)
        return check_annotations(y, label_map=label_map, classes=self.classes,
                                 strict=self.strict, whom=type(self).__name__)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fix the target classes from ``classes`` or from the labels in ``X``.

        Parameters
        ----------
        X : annotation table, vote-count table or 1-D labels
            The annotations (the transformer's input).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self.label_map_ = build_label_map(self.label_map)
        X = _check_numeric_2d(X, type(self).__name__)
        ratings = self._parse(X, self.label_map_)
        self.classes_ = resolve_classes(ratings, self.classes,
                                        label_map=self.label_map_)
        if ratings.array.kind == "votes" and isinstance(X, np.ndarray) and (
                X.ndim == 2):
            self.n_features_in_ = X.shape[1]
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        self._check_training_ratings(ratings)
        return self

    def _check_training_ratings(self, ratings):
        """Checks a subclass makes of the ratings it is fitted on (parsed once)."""

    def _ratings(self, X):
        check_is_fitted(self, "classes_")
        X = _check_numeric_2d(X, type(self).__name__)
        if isinstance(X, np.ndarray) and X.ndim == 2 and hasattr(
            self, "n_features_in_"
        ) and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return self._parse(X, self.label_map_)

    def _class_counts(self, ratings, votes=None, rater=None):
        """(n, K) counts of the target classes and (n, L) counts of all labels."""
        a = ratings.array
        all_counts = a.counts(votes or self.votes, rater=rater)
        cols = a.label_columns(list(self.classes_))
        class_counts = np.zeros((len(a), len(cols)))
        seen = cols >= 0
        class_counts[:, seen] = all_counts[:, cols[seen]]
        return class_counts, all_counts

    def get_feature_names_out(self, input_features=None):
        """Target class names (the columns of :meth:`transform`'s output)."""
        check_is_fitted(self, "classes_")
        return np.asarray([str(c) for c in self.classes_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        tags.requires_fit = True
        if tags.transformer_tags is not None:
            # targets are float64 DataFrames (or label Series) whatever the input
            tags.transformer_tags.preserves_dtype = []
        return tags


def _check_numeric_2d(y, whom):
    """Validate a 2-D array-like that is not a DataFrame as vote counts.

    DataFrames, Series and 1-D sequences are annotation tables or labels and
    are parsed as such; anything else two-dimensional (ndarray, sparse matrix,
    nested lists) must be a non-negative numeric vote-count matrix.
    """
    if isinstance(y, pd.DataFrame | pd.Series | RatingsArray):
        return y
    if sp.issparse(y):
        return check_array(y, accept_sparse=False)  # raises a clear error
    if isinstance(y, list | tuple) and len(y) and all(
            isinstance(v, tuple | list) for v in y) and not any(
            isinstance(e, numbers.Number) for v in y for e in v):
        return y  # several labels per utterance: check_annotations explains
    if isinstance(y, list | tuple) or hasattr(y, "__array__"):
        arr = np.asarray(y, dtype=object) if isinstance(y, list | tuple) else (
            np.asarray(y))
        if arr.ndim == 2:
            y = check_array(arr, dtype="numeric")
            check_non_negative(y, whom)
    return y


def _frame(values, ratings, classes):
    return pd.DataFrame(
        values, index=ratings.index, columns=pd.Index(list(classes), name="class")
    )


def missing_reasons(encoder, annotations, missing, status=None):
    """``"tie: 3, unrated: 1"``: why the ``missing`` rows lack a target
    (``status``: the rows' statuses when the caller has them already)."""
    if status is None:
        status = encoder.target_status(annotations)
    status = pd.Series(np.asarray(status, dtype=object))[np.asarray(missing)]
    counts = status.value_counts().to_dict()
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def report_missing(encoder, annotations, missing, message, *,
                   what="utterance(s)", warn=True, status=None):
    """Warn once that ``missing`` rows were left out, with the count and why.

    ``message`` is the start of the sentence (``"Scoring left out"``); the
    count, the total and the reasons (:func:`missing_reasons`) follow.
    Returns the number left out.
    """

    missing = np.asarray(missing, dtype=bool)
    n_drop = int(missing.sum())
    if n_drop and warn:
        ser_warn(
            f"{message} {n_drop} of {len(missing)} {what} with no target "
            f"({missing_reasons(encoder, annotations, missing, status)}).",
            DroppedRowsWarning)
    return n_drop
