"""Smoothed soft labels from every rating (:class:`SoftLabels`, Eq. 1 of Chou
& Lee 2019)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from ._encoder_base import BaseTargetEncoder, _frame


class SoftLabels(BaseTargetEncoder):
    """Smoothed vote shares over the target classes (Eq. 1 of Chou & Lee).

    ``q(c_k) = (alpha + sum_n h_k^(n)) / (alpha * K + sum_k' sum_n h_k'^(n))``
    where ``h_k^(n)`` is 1 when rater ``n`` chose class ``k``. With the default
    ``votes="all"`` every rating counts, second choices included: the
    "modified soft label" of Chou & Lee. ``alpha=0`` gives plain vote shares.
    Rows with no rating of a target class have no soft target (NaN row), as in
    Ando et al. 4.1: smoothing alone is not a label.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    alpha : float, default=0.75
        Smoothing coefficient of Eq. 1.
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    votes : {"all", "first"}, default="all"
        Count every rating, or only first choices (the conventional soft label).
    strict : bool, default=False
        Raise on unknown labels.

    Examples
    --------
    The worked example of Chou & Lee's slides: three raters chose
    (sadness, anger), (sadness) and (anger, sadness).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad", "angry")], "E2": [("sad",)],
    ...                       "E3": [("angry", "sad")]})
    >>> enc = SoftLabels(["neutral", "happiness", "sadness", "anger"]).fit(table)
    >>> enc.transform(table).round(3)
    class  anger  happiness  neutral  sadness
    0      0.344      0.094    0.094    0.469
    >>> enc.set_params(votes="first").transform(table).round(3)
    class  anger  happiness  neutral  sadness
    0      0.292      0.125    0.125    0.458
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }
    target_kind = "soft"

    def __init__(
        self, classes=None, *, alpha=0.75, label_map=None, votes="all", strict=False
    ):
        super().__init__(classes, label_map=label_map, votes=votes, strict=strict)
        self.alpha = alpha

    def transform(self, X):
        """Soft target per utterance.

        Returns
        -------
        targets : pandas.DataFrame
            One column per class in ``classes_``, rows summing to 1, NaN rows
            where no target class was chosen.
        """
        ratings = self._ratings(X)
        counts, _ = self._class_counts(ratings)
        total = counts.sum(axis=1, keepdims=True)
        K = counts.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            q = (self.alpha + counts) / (self.alpha * K + total)  # Eq. 1
        q[total[:, 0] <= 0] = np.nan
        return _frame(q, ratings, self.classes_)

    def target_status(self, X):
        """``"ok"``, ``"no_target"`` (rated, but no target class) or ``"unrated"``."""
        ratings = self._ratings(X)
        counts, all_counts = self._class_counts(ratings)
        status = np.where(counts.sum(axis=1) > 0, "ok", "no_target").astype(object)
        status[all_counts.sum(axis=1) <= 0] = "unrated"
        return pd.Series(status, index=ratings.index, name="status")
