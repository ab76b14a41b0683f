"""Ratings whose cost grows with the ratings, not with utterances x raters.

A crowd of thousands of raters, each rating a few dozen utterances, makes a
wide table (one column per rater) of mostly empty cells: MSP-Podcast's 10^6
ratings would need 2 x 10^9 cells. Here the ratings are kept as a pandas
extension array, :class:`RatingsArray`, of CSR-like integer arrays:

* ``offsets`` (n_utterances + 1): the ratings of utterance ``i`` are positions
  ``offsets[i]:offsets[i + 1]``;
* ``rater``, ``label``, ``rank``: one entry per rating (a rater's choice of
  one label), as codes into the shared vocabularies ``raters`` and ``labels``
  (kept exactly as written); ``rank`` is 0 for a rater's first choice.

A :class:`pandas.Series` of dtype ``"ratings"`` (what :func:`from_long`
returns) is indexed by utterance id, so scikit-learn's splitters slice it
(``y.iloc[train]``) without building the wide table; it pickles, prints one
utterance's ratings per line, and has a ``.ratings`` accessor (raters,
labels, ``to_long``, ``to_wide``, ``select``). Reading one element gives a
dict ``{rater: (label, ...)}``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import (
    ExtensionArray,
    ExtensionDtype,
    register_extension_dtype,
)

from .._extension import ElementArray, take_positions
from .._warnings import ser_warn
from ..exceptions import AnnotationError, DroppedRowsWarning
from ._vocabulary import is_missing_label, missing_values_named

__all__ = ["RatingsArray", "RatingsDtype", "is_ratings", "ratings_series"]


@register_extension_dtype
class RatingsDtype(ExtensionDtype):
    """The dtype of a :class:`RatingsArray` (name ``"ratings"``).

    Each element is the set of ratings one utterance received, read as a dict
    ``{rater: (label, ...)}``; an utterance nobody rated is missing.
    """

    name = "ratings"
    type = dict
    kind = "O"
    na_value = np.nan
    _metadata = ()

    @classmethod
    def construct_array_type(cls):
        return RatingsArray

    def __repr__(self):
        return "ratings"


def _codes(values, vocabulary):
    """Codes of ``values`` in ``vocabulary`` (a pandas Index); -1 if absent."""
    return pd.Index(vocabulary).get_indexer(values)


class RatingsArray(ElementArray, ExtensionArray):
    """Every rating of a set of utterances, as integer arrays (O(ratings)).

    Build one with :func:`~sklearn_ser.annotations.from_long` or
    :func:`~sklearn_ser.annotations.to_ratings`; the constructor takes the
    raw arrays and checks them.

    Parameters
    ----------
    offsets : array of int, shape (n_utterances + 1,)
        Non-decreasing, starting at 0 and ending at the number of ratings.
    rater, label, rank : arrays of int, shape (n_ratings,)
        Codes into ``raters`` and ``labels``, and each rater's choice order.
    raters, labels : array-like
        The vocabularies (unique values).
    """

    _typ = "extension"
    # checked state (instance attributes; class defaults for older pickles)
    _kind = None
    _key = None
    _source = None

    def __init__(self, offsets, rater, label, rank, raters, labels, *, _checked=False,
                 _kind=None, _key=None, _source=None):
        self._offsets = np.asarray(offsets, dtype=np.int64)
        self._rater = np.asarray(rater, dtype=np.int32)
        self._label = np.asarray(label, dtype=np.int32)
        self._rank = np.asarray(rank, dtype=np.int16)
        self._raters = raters if isinstance(raters, pd.Index) else pd.Index(
            np.asarray(list(raters), dtype=object), dtype=object)
        self._labels = labels if isinstance(labels, pd.Index) else pd.Index(
            np.asarray(list(labels), dtype=object), dtype=object)
        self._cache = {}
        # parsed state (set by check_annotations): ``_kind`` is None for ratings
        # as written, else "table", "labels" or "votes" (labels normalised and
        # mapped under ``_key``; ``_source`` the ratings they were read from)
        self._kind = _kind
        self._key = _key
        self._source = _source
        if not _checked:
            self._check()

    def _check(self):
        off, n = self._offsets, len(self._rater)
        if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != n or (
                np.diff(off) < 0).any():
            raise ValueError("RatingsArray: offsets must rise from 0 to the number "
                             "of ratings.")
        if not (len(self._label) == len(self._rank) == n):
            raise ValueError("RatingsArray: rater, label and rank must have one "
                             "entry per rating.")
        for codes, vocab, what in ((self._rater, self._raters, "rater"),
                                   (self._label, self._labels, "label")):
            if n and (codes.min() < 0 or codes.max() >= len(vocab)):
                raise ValueError(f"RatingsArray: a {what} code is outside its "
                                 "vocabulary.")

    # -- pickling (the parse cache is not state) ----------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    # -- construction -----------------------------------------------------------------
    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy=False):
        if isinstance(scalars, RatingsArray):
            return scalars.copy() if copy else scalars
        items, raters, labels, ranks, n = [], [], [], [], 0
        for i, cell in enumerate(scalars):
            n += 1
            if cell is None or (not isinstance(cell, dict) and pd.isna(cell)):
                continue
            if not isinstance(cell, dict):
                raise TypeError(
                    f"A ratings element is a dict {{rater: (label, ...)}}; element "
                    f"{i} is {type(cell).__name__} {cell!r}.")
            for r, labs in cell.items():
                labs = (labs,) if isinstance(labs, str) or not hasattr(
                    labs, "__iter__") else tuple(labs)
                for k, lab in enumerate(labs):
                    items.append(i)
                    raters.append(r)
                    labels.append(lab)
                    ranks.append(k)
        return _build(n, np.asarray(items, dtype=np.int64),
                      pd.Series(raters, dtype=object), pd.Series(labels, dtype=object),
                      np.asarray(ranks, dtype=np.int64))

    @classmethod
    def _from_factorized(cls, values, original):
        raise TypeError("Ratings cannot be factorized (grouped by value).")

    @classmethod
    def _concat_same_type(cls, to_concat):
        to_concat = list(to_concat)
        raters = pd.Index(pd.unique(np.concatenate(
            [a._raters.to_numpy(dtype=object) for a in to_concat])), dtype=object)
        labels = pd.Index(pd.unique(np.concatenate(
            [a._labels.to_numpy(dtype=object) for a in to_concat])), dtype=object)
        offs, rs, ls, ks, base = [np.zeros(1, np.int64)], [], [], [], 0
        for a in to_concat:
            offs.append(a._offsets[1:] + base)
            base += len(a._rater)
            rs.append(_codes(a._raters, raters)[a._rater])
            ls.append(_codes(a._labels, labels)[a._label])
            ks.append(a._rank)
        return cls(np.concatenate(offs), np.concatenate(rs), np.concatenate(ls),
                   np.concatenate(ks), raters, labels, _checked=True)

    # -- the ExtensionArray interface ---------------------------------------------
    @property
    def dtype(self):
        return RatingsDtype()

    def __len__(self):
        return len(self._offsets) - 1

    @property
    def nbytes(self):
        return int(self._offsets.nbytes + self._rater.nbytes + self._label.nbytes
                   + self._rank.nbytes)

    def isna(self):
        return np.diff(self._offsets) == 0

    def copy(self):
        return type(self)(self._offsets.copy(), self._rater.copy(), self._label.copy(),
                          self._rank.copy(), self._raters, self._labels, _checked=True,
                          _kind=self._kind, _key=self._key, _source=self._source)

    def _parsed_like(self, offsets, rater, label, rank, indices):
        source = None if self._source is None else self._source.take(
            indices, allow_fill=bool((np.asarray(indices) < 0).any()))
        return type(self)(offsets, rater, label, rank, self._raters, self._labels,
                          _checked=True, _kind=self._kind, _key=self._key,
                          _source=source)

    def _element(self, i):
        a, b = self._offsets[i], self._offsets[i + 1]
        if a == b:
            return np.nan
        out: dict = {}
        raters, labels = self._raters, self._labels
        for r, lab in zip(self._rater[a:b], self._label[a:b], strict=True):
            out.setdefault(raters[r], []).append(labels[lab])
        return {r: tuple(v) for r, v in out.items()}

    def __setitem__(self, key, value):
        raise TypeError("Ratings are read-only; build a new table with from_long.")

    def take(self, indices, *, allow_fill=False, fill_value=None):
        n = len(self)
        idx, empty = take_positions(indices, n, allow_fill, fill_value, "ratings")
        src = np.where(empty, 0, idx)
        starts = self._offsets[src]
        lengths = np.where(empty, 0, self._offsets[src + 1] - starts)
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        pos = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return self._parsed_like(offsets, self._rater[pos], self._label[pos],
                                 self._rank[pos],
                                 np.where(empty, -1, idx) if allow_fill else idx)

    def _formatter(self, boxed=False):
        def fmt(value):
            if not isinstance(value, dict):
                return "NaN"
            return "; ".join(f"{r}: {','.join(map(str, labs))}"
                             for r, labs in value.items())
        return fmt

    def _values_for_argsort(self):
        return np.diff(self._offsets)

    def __eq__(self, other):
        return NotImplemented

    def equals(self, other):
        if not isinstance(other, RatingsArray) or len(other) != len(self):
            return False
        if self.nbytes == other.nbytes and self._raters.equals(other._raters) and (
                self._labels.equals(other._labels)):
            return bool((self._offsets == other._offsets).all()
                        and (self._rater == other._rater).all()
                        and (self._label == other._label).all()
                        and (self._rank == other._rank).all())
        return list(self) == list(other)

    def _reduce(self, name, *, skipna=True, keepdims=False, **kwargs):
        raise TypeError(f"Ratings do not support {name!r}.")

    def __repr__(self):
        return (f"<RatingsArray: {len(self)} utterances, {len(self._rater)} ratings, "
                f"{len(self._raters)} raters, {len(self._labels)} labels>")

    # -- views used by the parser -------------------------------------------------
    @property
    def n_ratings(self):
        return len(self._rater)

    def item_codes(self):
        """The utterance position of every rating."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self._offsets))

    def unique(self):
        """The distinct elements (utterances with the same ratings once)."""
        sig = self._signatures()
        _, first = np.unique(sig, axis=0, return_index=True)
        return self.take(np.sort(first))

    def _signatures(self):
        """(n, 3) uint64 per utterance: count and two hash sums of its ratings
        (rater, label, rank), equal for equal elements. The vocabularies are
        hashed once; each rating combines its codes' hashes (integer work)."""
        out = np.zeros((len(self), 3), dtype=np.uint64)
        if not len(self._rater):
            return out

        def vocab_hash(index):
            return pd.util.hash_array(np.asarray(index.astype(str), dtype=object))

        with np.errstate(over="ignore"):
            h = (vocab_hash(self._raters)[self._rater] * np.uint64(0x100000001B3)
                 ^ vocab_hash(self._labels)[self._label]
                 ^ (self._rank.astype(np.uint64) + np.uint64(1))
                 * np.uint64(0xC2B2AE3D27D4EB4F))
            h ^= h >> np.uint64(29)  # mix before summing: sums of linear
            h *= np.uint64(0x9E3779B97F4A7C15)  # maps would confuse swaps
            h ^= h >> np.uint64(32)
            item = self.item_codes()
            np.add.at(out[:, 0], item, np.uint64(1))
            np.add.at(out[:, 1], item, h)
            np.add.at(out[:, 2], item, h * h)
        return out

    def _select(self, raters):
        """Only the ratings of ``raters`` (checked state kept)."""
        wanted = _codes(pd.Index(np.asarray(raters, dtype=object)), self._raters)
        if (wanted < 0).any():
            unknown = [r for r, c in zip(raters, wanted, strict=True) if c < 0]
            raise AnnotationError(
                f"Rater(s) {unknown[:8]} gave no rating in these annotations; its "
                f"raters include {list(self._raters[:10])}.")
        keep = np.isin(self._rater, wanted)
        item = self.item_codes()[keep]
        counts = np.bincount(item, minlength=len(self))
        offsets = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        source = None if self._source is None else self._source._select(raters)
        return type(self)(offsets, self._rater[keep], self._label[keep],
                          self._rank[keep], self._raters, self._labels, _checked=True,
                          _kind=self._kind, _key=self._key, _source=source)

    # -- the parsed form (what check_annotations returns) ------------------------
    @property
    def kind(self):
        """None for ratings as written; after
        :func:`~sklearn_ser.annotations.check_annotations`: ``"table"``
        (individual ratings), ``"labels"`` (one label per utterance, rater
        ``"label"``) or ``"votes"`` (a vote-count or multi-hot table: one
        anonymous rating per vote)."""
        return self._kind

    @property
    def vocabulary(self):
        """Every label code's label (a list; sorted once checked)."""
        return list(self._labels)

    @property
    def rater_names(self):
        """Every rater code's rater (a list)."""
        return list(self._raters)

    @property
    def item_code(self):
        """Utterance position of every rating (int64)."""
        cached = self._cache.get("_item")
        if cached is None:
            cached = self._cache["_item"] = self.item_codes()
        return cached

    @property
    def rater_code(self):
        """Rater code of every rating (int64)."""
        return self._rater.astype(np.int64)

    @property
    def label_code(self):
        """Label code of every rating (int64)."""
        return self._label.astype(np.int64)

    @property
    def choice_rank(self):
        """0 for a rater's first choice, 1 for the second... (int64)."""
        return self._rank.astype(np.int64)

    def counts(self, votes="all", rater=None):
        """(n_utterances, n_labels) number of raters who chose each label.

        ``votes="first"`` counts first choices only; ``rater`` one rater's.
        """
        if rater is not None and self._kind == "votes":
            raise AnnotationError(
                "per-rater targets need individual ratings (ratings or a table "
                "with one column per rater); a vote-count table holds no rater.")
        keep = np.ones(len(self._rater), dtype=bool)
        if votes == "first":
            keep &= self._rank == 0
        if rater is not None:
            keep &= self._rater == self.rater_names.index(rater)
        n, L = len(self), len(self._labels)
        flat = self.item_code[keep] * L + self._label[keep]
        out = np.bincount(flat, minlength=n * L)
        return out.reshape(n, L).astype(float)

    def n_raters(self, rater=None):
        """Number of raters who rated each utterance (float)."""
        keep = self._rank == 0
        if rater is not None:
            keep &= self._rater == self.rater_names.index(rater)
        return np.bincount(self.item_code[keep], minlength=len(self)).astype(float)

    def label_columns(self, classes):
        """Positions of ``classes`` in :attr:`vocabulary` (-1 where absent)."""
        return self._labels.get_indexer(pd.Index(list(classes), dtype=object))


def _blank(values):
    """True for the strings that hold nothing ("" or white space)."""
    return np.array([isinstance(v, str) and v.strip() == "" for v in values],
                    dtype=bool)


def _build(n_items, item, rater_values, label_values, rank, *, raters=None,
           sort_raters=False, index=None, name=None, missing_labels="warn"):
    """A ratings Series (or array when ``index`` is None) from one row per rating.

    ``rater_values``/``label_values`` hold the values (any hashable); ``rank``
    the choice order within (item, rater). Ratings are ordered by item, then
    rater code, then rank; a repeated (item, rater, label) keeps its first
    choice only.

    A missing label (None, NaN, pandas NA, "", "NA", "-"...:
    :func:`~sklearn_ser.annotations.is_missing_label`) is never a
    label: the rating is left out, counted in a ``DroppedRowsWarning``
    (``missing_labels="warn"``), or left out without a word when the caller
    asked for it (``"drop"``: ``map_labels`` to None). A missing rater is
    refused, naming the utterance.
    """
    item = np.asarray(item, dtype=np.int64)
    rank = np.asarray(rank, dtype=np.int64)
    rater_values = np.asarray(rater_values, dtype=object)
    label_values = np.asarray(label_values, dtype=object)
    ids = index if index is not None else pd.RangeIndex(n_items)
    r_codes, r_uniques = pd.factorize(rater_values)
    bad_rater = r_codes < 0
    if len(r_uniques):
        bad_rater |= np.append(_blank(r_uniques), False)[r_codes]
    if bad_rater.any():
        at = int(np.flatnonzero(bad_rater)[0])
        raise AnnotationError(
            f"{int(bad_rater.sum())} rating(s) have no rater (None, NaN or an empty "
            f"name; first for utterance {ids[item[at]]!r}); every rating needs "
            "the rater who gave it.")
    l_codes, l_uniques = pd.factorize(label_values)
    no_label = l_codes < 0
    marker = np.array([is_missing_label(v) for v in l_uniques], dtype=bool)
    if len(l_uniques):
        no_label |= np.append(marker, False)[l_codes]
    if no_label.any():
        n_bad = int(no_label.sum())
        if missing_labels == "warn":

            at = int(np.flatnonzero(no_label)[0])
            seen = missing_values_named(l_uniques, marker, (l_codes < 0).any())
            ser_warn(
                f"{n_bad} rating(s) have no label ({seen}: values that name "
                f"nothing; first: utterance {ids[item[at]]!r}, rater "
                f"{rater_values[at]!r}); they are left out, not read as a label.",
                DroppedRowsWarning)
        keep = ~no_label
        item, rank, r_codes = item[keep], rank[keep], r_codes[keep]
        label_values = label_values[keep]
        l_codes, l_uniques = pd.factorize(label_values)
    if raters is not None:
        r_vocab = pd.Index(np.asarray(list(raters), dtype=object), dtype=object)
        r_codes = _codes(np.asarray(r_uniques, dtype=object), r_vocab)[r_codes] if len(
            r_codes) else r_codes
    else:
        used_r = np.zeros(len(r_uniques), dtype=bool)
        used_r[r_codes] = True
        if not used_r.all():  # raters whose every rating had no label
            remap = np.cumsum(used_r) - 1
            r_uniques, r_codes = np.asarray(r_uniques, dtype=object)[used_r], remap[
                r_codes]
        r_vocab = pd.Index(np.asarray(r_uniques, dtype=object), dtype=object)
        if sort_raters:
            try:
                order = sorted(range(len(r_vocab)),
                               key=lambda k: _natural_key(r_vocab[k]))
            except TypeError:
                order = list(range(len(r_vocab)))
            remap = np.empty(len(order), dtype=np.int64)
            remap[order] = np.arange(len(order))
            r_vocab = r_vocab[order]
            r_codes = remap[r_codes] if len(r_codes) else r_codes
    l_vocab = pd.Index(np.asarray(l_uniques, dtype=object), dtype=object)
    order = np.lexsort((rank, r_codes, item))
    it, rc, lc = item[order], r_codes[order], l_codes[order]
    # one entry per (item, rater, label): a rater chose a label once (the
    # earliest choice is kept)
    key = (it * max(len(r_vocab), 1) + rc) * max(len(l_vocab), 1) + lc
    _, first = np.unique(key, return_index=True)
    if len(first) < len(key):
        first = np.sort(first)
        it, rc, lc = it[first], rc[first], lc[first]
    # canonical ranks: 0, 1, ... within each (item, rater), in the given order
    new_pair = np.r_[True, (it[1:] != it[:-1]) | (rc[1:] != rc[:-1])] if len(it) else (
        np.zeros(0, dtype=bool))
    starts = np.flatnonzero(new_pair)
    ranks = np.arange(len(it)) - starts[np.cumsum(new_pair) - 1] if len(it) else it
    counts = np.bincount(it, minlength=n_items) if len(it) else np.zeros(
        n_items, dtype=np.int64)
    offsets = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    array = RatingsArray(offsets, rc, lc, ranks,
                         r_vocab, l_vocab, _checked=True)
    if index is None:
        return array
    return pd.Series(array, index=index, name=name, copy=False)


def _natural_key(value):
    """Sort key putting ``E2`` before ``E10``."""
    import re

    text = str(value)
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def is_ratings(y) -> bool:
    """True if ``y`` is a ratings Series or :class:`RatingsArray`."""
    return isinstance(y, RatingsArray) or (
        isinstance(y, pd.Series) and isinstance(y.dtype, RatingsDtype))


def ratings_series(y):
    """``(array, index)`` of a ratings Series or array."""
    if isinstance(y, pd.Series):
        return y.array, y.index
    return y, pd.RangeIndex(len(y))
