"""Indexing shared by the package's pandas extension arrays (ratings, frames)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd


class ElementArray:
    """Mixin of the package's extension arrays: indexing, iteration and the
    object-array form, all from ``_element(i)`` and ``take(positions)``."""

    def __getitem__(self, key):
        return getitem(self, key)

    def __iter__(self):
        for i in range(len(self)):
            yield self._element(i)

    def __array__(self, dtype=None, copy=None):
        out = np.empty(len(self), dtype=object)
        for i in range(len(self)):
            out[i] = self._element(i)
        return out


def getitem(array, key):
    """``ExtensionArray.__getitem__``: an element for an integer (via
    ``array._element``), a selection (via ``array.take``) for a slice, a mask
    or an array of positions."""
    if isinstance(key, numbers.Integral):
        n = len(array)
        if not -n <= key < n:
            raise IndexError(f"index {key} is out of bounds for {n} utterances")
        return array._element(int(key) % n)
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    key = pd.api.indexers.check_array_indexer(array, key)
    if isinstance(key, slice):
        return array.take(np.arange(len(array))[key])
    if key.dtype == bool:
        return array.take(np.flatnonzero(key))
    return array.take(key)


def take_positions(indices, n, allow_fill, fill_value, what):
    """``(positions, empty)`` for ``ExtensionArray.take`` over ``n`` elements:
    negative positions count from the end, unless ``allow_fill`` (then -1 is
    a missing element, ``empty``); out-of-range positions raise."""
    idx = np.asarray(indices, dtype=np.int64)
    if allow_fill:
        if (idx < -1).any():
            raise ValueError("take: indices below -1 with allow_fill=True")
        if fill_value is not None and not (np.isscalar(fill_value)
                                           and pd.isna(fill_value)):
            raise ValueError(f"take: {what} can only be filled with missing")
        empty = idx == -1
    else:
        empty = np.zeros(len(idx), bool)
        idx = np.where(idx < 0, idx + n, idx)
    if len(idx) and ((idx[~empty] >= n).any() or (idx[~empty] < 0).any()):
        raise IndexError(f"take: index out of bounds for {n} utterances")
    return idx, empty
