"""``Series.ratings``: the accessor of a ratings column (raters, labels, long
and wide forms, rater selection, label maps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import (
    register_series_accessor,
)

from ._ratings import RatingsDtype, _build, _codes


@register_series_accessor("ratings")
class RatingsAccessor:
    """``y.ratings``: the crowd behind a ratings Series.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ser.annotations import from_long
    >>> y = from_long(pd.DataFrame({"utterance": ["u1", "u1", "u2"],
    ...                             "rater": ["A", "B", "B"],
    ...                             "label": ["sad", "sad", "neutral"]}))
    >>> y.ratings.n_ratings, list(y.ratings.raters)
    (3, ['A', 'B'])
    >>> y.ratings.to_long().shape
    (3, 3)
    """

    def __init__(self, series):
        if not isinstance(series.dtype, RatingsDtype):
            raise AttributeError("The .ratings accessor is for Series of dtype "
                                 "'ratings' (what from_long returns).")
        self._s = series
        self._a = series.array

    @property
    def raters(self):
        """Raters who gave at least one rating here (pandas Index)."""
        used = np.unique(self._a._rater)
        return self._a._raters[used]

    @property
    def labels(self):
        """Labels as written, each chosen at least once here (pandas Index)."""
        used = np.unique(self._a._label)
        return self._a._labels[used]

    @property
    def n_ratings(self):
        """Number of (utterance, rater, label) choices."""
        return self._a.n_ratings

    @property
    def nbytes(self):
        return self._a.nbytes

    def to_long(self, *, item=None, rater="rater", label="label", rank=False):
        """One row per rating: ``utterance, rater, label`` (and ``rank``)."""
        a = self._a
        item = item or self._s.index.name or "utterance"
        data = {
            item: self._s.index.to_numpy()[a.item_codes()],
            rater: a._raters.to_numpy(dtype=object)[a._rater],
            label: a._labels.to_numpy(dtype=object)[a._label],
        }
        if rank:
            data["rank"] = a._rank.astype(np.int64)
        return pd.DataFrame(data)

    def to_wide(self, *, max_cells=50_000_000):
        """The wide annotation table (one column per rater); small crowds only."""
        a = self._a
        raters = self.raters
        cells = len(self._s) * len(raters)
        if cells > max_cells:
            raise MemoryError(
                f"The wide table would have {cells:,} cells ({len(self._s):,} "
                f"utterances x {len(raters):,} raters) for {a.n_ratings:,} ratings; "
                "keep the ratings Series (every encoder reads it) or raise "
                "max_cells.")
        col = _codes(a._raters[a._rater], raters)
        item = a.item_codes()
        labels = a._labels.to_numpy(dtype=object)[a._label]
        values = np.empty((len(self._s), len(raters)), dtype=object)
        # ratings are ordered by (item, rater, rank): one cell per run
        key = item * max(len(raters), 1) + col
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else (
            np.zeros(0, dtype=np.int64))
        ends = np.r_[starts[1:], len(key)]
        for s, e in zip(starts, ends, strict=True):
            values[item[s], col[s]] = tuple(labels[s:e])
        return pd.DataFrame(values, index=self._s.index,
                            columns=pd.Index(list(raters), name="rater"), dtype=object)

    def select(self, raters):
        """Only the ratings of ``raters`` (utterances they did not rate become
        missing); the utterances and their order are kept."""
        arr = self._a._select(list(raters))
        return pd.Series(arr, index=self._s.index, name=self._s.name, copy=False)

    def map_labels(self, mapping):
        """Ratings with each label replaced by ``mapping(label)`` (a dict or a
        callable; labels a dict does not name are kept). A label mapped to
        None (or NaN) is removed: exactly its ratings are left out (an
        utterance left without a rating becomes unrated). A rater who chose two
        labels that become one chose it once; no rating is left out otherwise.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_ser.annotations import from_long
        >>> y = from_long(pd.DataFrame({"utterance": ["u1", "u1"], "rater": ["A", "A"],
        ...                             "label": ["exc", "hap"]}), multiple="choices")
        >>> y.ratings.map_labels({"exc": "hap"})["u1"]
        {'A': ('hap',)}
        """
        a = self._a
        fn = mapping if callable(mapping) else (lambda v: mapping.get(v, v))
        new_values = [fn(v) for v in a._labels]
        labels = np.asarray(new_values + [None], dtype=object)[:-1][a._label]
        return _build(len(a), a.item_codes(), a._raters.to_numpy(dtype=object)[
            a._rater], labels, a._rank.astype(np.int64), raters=list(a._raters),
            index=self._s.index, name=self._s.name, missing_labels="drop")

    def n_rated(self):
        """Number of raters per utterance (Series)."""
        a = self._a
        first = a._rank == 0
        n = np.bincount(a.item_codes()[first], minlength=len(a))
        return pd.Series(n, index=self._s.index, name="n_raters")
