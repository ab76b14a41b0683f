"""Multi-label emotion existence (:class:`ExistenceLabels`, Eq. 5 of Ando et
al. 2019)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._warnings import ser_warn
from ..exceptions import AbsentClassWarning
from ._encoder_base import BaseTargetEncoder, _frame


class ExistenceLabels(BaseTargetEncoder):
    """Multi-label emotion existence (Eq. 5 of Ando et al.).

    ``q(e1 | c_k) = 1`` if some rater chose class ``k``, else 0. Rows whose
    ratings hold no target class are all-zero rows: valid *negatives* for the
    MLEE model. Only unrated rows are missing.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    min_votes : int, default=1
        A class exists when at least this many raters chose it (1 = Eq. 5).
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    votes : {"all", "first"}, default="all"
        Count every rating, or only first choices.
    strict : bool, default=False
        Raise on unknown labels.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad", "angry"), ("frustrated",)],
    ...                       "E2": [("sad",), None]})
    >>> ExistenceLabels(["anger", "neutral", "sadness"]).fit_transform(table)
    class  anger  neutral  sadness
    0        1.0      0.0      1.0
    1        0.0      0.0      0.0
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "min_votes": [Interval(numbers.Integral, 1, None, closed="left")],
    }
    target_kind = "existence"

    def __init__(
        self, classes=None, *, min_votes=1, label_map=None, votes="all", strict=False
    ):
        super().__init__(classes, label_map=label_map, votes=votes, strict=strict)
        self.min_votes = min_votes

    def _check_training_ratings(self, ratings):
        """With ``min_votes > 1``, say which chosen classes never reach it.

        A class some rater chose but no utterance gave ``min_votes`` votes
        has no positive target (warning, naming it and its most votes on one
        utterance); when no class reaches it on any utterance every target
        is zero (error).
        """
        if self.min_votes <= 1:
            return

        counts, all_counts = self._class_counts(ratings)
        rated = all_counts.sum(axis=1) > 0
        counts = counts[rated]
        if not len(counts):
            return
        most = counts.max(axis=0)
        if most.max() < self.min_votes:
            raise ValueError(
                f"{type(self).__name__}: min_votes={self.min_votes} leaves no class "
                f"existing in any of the {len(counts)} rated utterance(s): at most "
                f"{int(most.max())} vote(s) for one class of one utterance. Lower "
                "min_votes (1 is Ando et al.'s Eq. 5)."
            )
        lost = [(str(c), int(n)) for c, n in zip(self.classes_, most, strict=True)
                if 0 < n < self.min_votes]
        if lost:
            ser_warn(
                f"{type(self).__name__}: with min_votes={self.min_votes}, class(es) "
                + ", ".join(f"{c!r} (at most {n} vote(s) on one utterance)"
                            for c, n in lost)
                + f" exist in none of the {len(counts)} rated utterance(s) although "
                "raters chose them; a model cannot learn them from these targets.",
                AbsentClassWarning,
            )

    def transform(self, X):
        """Existence target per utterance.

        Returns
        -------
        targets : pandas.DataFrame
            One 0/1 column per class in ``classes_``; NaN rows for unrated rows.
        """
        ratings = self._ratings(X)
        counts, all_counts = self._class_counts(ratings)
        e = (counts >= self.min_votes).astype(float)  # Eq. 5
        e[all_counts.sum(axis=1) <= 0] = np.nan
        return _frame(e, ratings, self.classes_)

    def target_status(self, X):
        """``"ok"`` (including all-zero negatives) or ``"unrated"``."""
        ratings = self._ratings(X)
        _, all_counts = self._class_counts(ratings)
        status = np.where(all_counts.sum(axis=1) > 0, "ok", "unrated").astype(object)
        return pd.Series(status, index=ratings.index, name="status")
