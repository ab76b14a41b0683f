"""Annotation tables: building them, checking them, and counting their votes.

An *annotation table* is a :class:`pandas.DataFrame` with one row per utterance
(index = utterance id) and one column per rater. A cell holds the labels that
rater gave to that utterance, as a tuple (first choice first), a single label,
or nothing (``None``/NaN/empty tuple) when the rater did not rate it. This is the
``y`` that every estimator of the toolkit accepts.

Two simpler forms are accepted wherever an annotation table is:

* a *vote-count table*: a DataFrame whose columns are all numeric, one column
  per label (as CREMA-D's ``tabulatedVotes.csv``), each cell the number of
  raters who chose that label;
* a *label array*: a 1-D list / array / Series with one label per utterance
  (NaN or None = no label).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._warnings import user_stacklevel
from ..exceptions import (
    AnnotationError,
    DroppedRowsWarning,
    EmptyRaterWarning,
    LabelCodeWarning,
    RepeatedRatingWarning,
)
from ._ratings import _build, is_ratings
from ._vocabulary import CANONICAL_EMOTIONS, _is_missing, canonical_label

_ITEM_NAMES = ("item", "utterance", "task", "file", "filename", "clip", "id")
_RATER_NAMES = ("rater", "worker", "annotator", "evaluator", "listener")
_LABEL_NAMES = ("label", "emotion", "answer", "response")


def _pick_column(df, given, candidates, role):
    if given is not None:
        if given not in df.columns:
            raise KeyError(
                f"from_long: the {role} column {given!r} is not in the table; "
                f"its columns are {list(df.columns)}."
            )
        return given
    found = [c for c in df.columns if str(c).lower() in candidates]
    if len(found) == 1:
        return found[0]
    if not found:
        raise KeyError(
            f"from_long: cannot tell which column holds the {role}; pass "
            f"{role}=<column name>. The table's columns are {list(df.columns)}."
        )
    raise KeyError(
        f"from_long: several columns could hold the {role} ({found}); pass "
        f"{role}=<column name>."
    )


#: What ``from_long`` does with several rows for one (utterance, rater) pair.
MULTIPLE_RULES = ("warn", "choices", "first", "last", "error")


def from_long(df, item=None, rater=None, label=None, *, sort_raters=True,
              multiple="warn"):
    """Build the ratings of a long ``item, rater, label`` table.

    This is the task/worker/label form used by crowd-kit and by most corpora
    that publish individual ratings: one row per rating. The result keeps one
    entry per rating (memory and time grow with the ratings, not with
    utterances x raters: MSP-Podcast's 10^6 ratings take megabytes) and is the
    ``y`` every estimator and target encoder of the toolkit accepts.

    Parameters
    ----------
    df : pandas.DataFrame
        The long table.
    item, rater, label : str, optional
        Column names. When omitted they are recognised from usual names
        (``item``/``utterance``/``task``, ``rater``/``worker``/``annotator``,
        ``label``/``emotion``).
    sort_raters : bool, default=True
        Order the raters by name (otherwise by first appearance).
    multiple : {"warn", "choices", "first", "last", "error"}, default="warn"
        Several rows with *different* labels for one (utterance, rater) pair.
        ``"choices"``: they are that rater's several choices, in row order (the
        first row is the first choice; multiple-choice corpora such as
        IEMOCAP). ``"warn"``: the same, with a warning giving the count (a
        single-choice corpus with repeated ratings should say what it wants).
        ``"first"``/``"last"``: keep one row per pair (counted in a warning).
        ``"error"``: raise, naming the first pair. A cell ``"sad;angry"`` is
        always two choices.

    Returns
    -------
    ratings : pandas.Series of dtype ``"ratings"``
        Index = item ids (in order of first appearance), named after the item
        column; each element a dict ``{rater: (label, ...)}``. Labels are kept
        exactly as written; target encoders normalise them. ``y.ratings``
        gives the raters, ``to_long`` and ``to_wide`` (the one-column-per-rater
        table, for small crowds).

    Warns
    -----
    DroppedRowsWarning
        When rows with a missing label or exact duplicate ratings are left out;
        the message gives the count.
    RepeatedRatingWarning
        See ``multiple``.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"utterance": ["u1", "u1", "u1", "u2"],
    ...                      "rater": ["A", "A", "B", "B"],
    ...                      "label": ["sad", "angry", "sad", "neutral"]})
    >>> y = from_long(long, multiple="choices")
    >>> y
    utterance
    u1    A: sad,angry; B: sad
    u2              B: neutral
    Name: ratings, dtype: ratings
    >>> y["u1"]
    {'A': ('sad', 'angry'), 'B': ('sad',)}
    >>> y.ratings.to_wide().loc["u2", "A"] is None
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"from_long expects a pandas DataFrame, got {type(df).__name__}."
        )
    if multiple not in MULTIPLE_RULES:
        raise ValueError(f"multiple={multiple!r}; use one of {MULTIPLE_RULES}.")
    if len(df) == 0:
        raise AnnotationError("from_long: the long table is empty (no ratings).")
    item = _pick_column(df, item, _ITEM_NAMES, "item")
    rater = _pick_column(df, rater, _RATER_NAMES, "rater")
    label = _pick_column(df, label, _LABEL_NAMES, "label")
    if len({item, rater, label}) < 3:
        raise KeyError(
            f"from_long: item, rater and label must be three different columns, "
            f"got {item!r}, {rater!r}, {label!r}."
        )
    items_raw = df[item].to_numpy(dtype=object)
    raters_raw = df[rater].to_numpy(dtype=object)
    labels_raw = df[label]
    bad_ids = pd.isna(items_raw) | pd.isna(raters_raw)
    if bad_ids.any():
        first = df.index[bad_ids][0]
        raise AnnotationError(
            f"from_long: {int(bad_ids.sum())} row(s) have no {item!r} or no "
            f"{rater!r} (first at row {first!r}); every rating needs both."
        )
    if pd.api.types.is_bool_dtype(labels_raw.dtype):
        raise AnnotationError(
            f"from_long: the label column {label!r} holds True/False; it must hold "
            "the label each rater chose (for a multi-hot table, one row per chosen "
            "label).")
    _warn_label_codes(labels_raw, label)
    lab_codes, lab_uniques = pd.factorize(labels_raw.to_numpy(dtype=object),
                                          use_na_sentinel=True)
    lab_uniques = np.asarray(lab_uniques, dtype=object)
    unique_empty = np.array(
        [_is_missing(v) or (isinstance(v, str) and v.strip() == "")
         for v in lab_uniques], dtype=bool)
    no_label = (lab_codes < 0) | np.append(unique_empty, True)[lab_codes]
    n_no_label = int(no_label.sum())
    i_codes, i_uniques = pd.factorize(items_raw)
    r_codes, r_uniques = pd.factorize(raters_raw)
    keep = ~no_label
    # exact duplicates: the same (item, rater, label) row again
    key = (i_codes.astype(np.int64) * (len(r_uniques) + 1) + r_codes) * (
        len(lab_uniques) + 1) + np.where(lab_codes < 0, len(lab_uniques), lab_codes)
    first_row = np.zeros(len(df), dtype=bool)
    _, first_pos = np.unique(key[keep], return_index=True)
    first_row[np.flatnonzero(keep)[first_pos]] = True
    n_dup = int(keep.sum() - first_row.sum())
    keep = first_row
    if n_no_label or n_dup:
        parts = []
        if n_no_label:
            parts.append(f"{n_no_label} with an empty label")
        if n_dup:
            parts.append(f"{n_dup} exact duplicate rating(s)")
        warnings.warn(
            "from_long: left out " + " and ".join(parts) + f" of {len(df)} rows.",
            DroppedRowsWarning,
            stacklevel=user_stacklevel(),
        )
    if not keep.any():
        raise AnnotationError("from_long: no rating is left after removing empty rows.")
    rows = np.flatnonzero(keep)
    pair = i_codes[rows].astype(np.int64) * len(r_uniques) + r_codes[rows]
    order = np.lexsort((rows, pair))
    pair_sorted = pair[order]
    new_pair = np.r_[True, pair_sorted[1:] != pair_sorted[:-1]]
    starts = np.flatnonzero(new_pair)
    group = np.cumsum(new_pair) - 1
    row_rank = np.empty(len(rows), dtype=np.int64)
    row_rank[order] = np.arange(len(rows)) - starts[group]
    sizes = np.diff(np.r_[starts, len(rows)])
    n_multi = int((sizes > 1).sum())
    if n_multi:
        example = np.flatnonzero(row_rank > 0)[0]
        where = (f"e.g. utterance {items_raw[rows[example]]!r}, rater "
                 f"{raters_raw[rows[example]]!r}")
        if multiple == "error":
            raise AnnotationError(
                f"from_long: {n_multi} (utterance, rater) pair(s) have several rows "
                f"with different labels ({where}). Pass multiple='choices' if these "
                "are several choices of one rater, 'first' or 'last' to keep one.")
        if multiple in ("first", "last"):
            if multiple == "first":
                chosen = row_rank == 0
            else:
                chosen = row_rank == sizes[group[np.argsort(order)]] - 1
            n_left = int((~chosen).sum())
            rows, row_rank = rows[chosen], np.zeros(int(chosen.sum()), np.int64)
            warnings.warn(
                f"from_long: {n_multi} (utterance, rater) pair(s) have several rows "
                f"with different labels ({where}); kept the {multiple} row of each, "
                f"left out {n_left} row(s).",
                RepeatedRatingWarning,
                stacklevel=user_stacklevel(),
            )
        elif multiple == "warn":
            warnings.warn(
                f"from_long: {n_multi} (utterance, rater) pair(s) have several rows "
                f"with different labels ({where}); read as several choices of one "
                "rater, the first row first. Pass multiple='choices' to say so, "
                "'first'/'last' to keep one rating, 'error' to refuse.",
                RepeatedRatingWarning,
                stacklevel=user_stacklevel(),
            )
    # "sad;angry" is two choices, as in a table cell (one reading)
    parts = [_cell_labels(v) for v in lab_uniques]
    n_parts = np.array([len(p) for p in parts], dtype=np.int64)
    flat = np.array([v for p in parts for v in p] + [None], dtype=object)
    part_off = np.r_[0, np.cumsum(n_parts)[:-1]]
    codes = lab_codes[rows]
    reps = n_parts[codes]
    sub = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    exp_rows = np.repeat(np.arange(len(rows)), reps)
    labels = flat[part_off[codes][exp_rows] + sub]
    # rank: row order within the pair, then the order inside a "a;b" cell
    rank = row_rank[exp_rows] * (int(n_parts.max()) + 1) + sub
    return _build(
        len(i_uniques), i_codes[rows][exp_rows], r_uniques[r_codes[rows][exp_rows]],
        labels, rank, sort_raters=sort_raters,
        index=pd.Index(i_uniques, name=item), name="ratings",
    )


def _warn_label_codes(labels, column):
    """Integer label codes are kept as classes; say so once, with the count."""
    values = labels.dropna()
    if len(values) == 0:
        return
    if pd.api.types.is_numeric_dtype(values.dtype):
        codes = np.unique(values.to_numpy())
        shown = ", ".join(map(str, codes[:8]))
        warnings.warn(
            f"from_long: the label column {column!r} holds numbers ({len(codes)} "
            f"distinct: {shown}{' ...' if len(codes) > 8 else ''}); they are kept "
            "as class names, not read as emotions. Map the codes to names first "
            "(long[label] = long[label].map({1: 'anger', ...})) or pass "
            "label_map to the encoders.",
            LabelCodeWarning,
            stacklevel=user_stacklevel(),
        )


def _cell_labels(cell):
    """Return the labels held by one cell of an annotation table, as a tuple."""
    if cell is None:
        return ()
    if isinstance(cell, str):
        if ";" in cell:
            return tuple(p.strip() for p in cell.split(";") if p.strip())
        return () if cell.strip() == "" else (cell,)
    if isinstance(cell, tuple | list | set | frozenset | np.ndarray | pd.Series):
        return tuple(v for v in cell if not _is_missing(v))
    if _is_missing(cell):
        return ()
    return (cell,)


@dataclass
class Ratings:
    """Every rating of a table, as integer arrays (an internal, parsed form).

    ``item``, ``rater``, ``label``, ``rank`` hold one entry per (item, rater,
    label) choice after label normalisation and mapping; ``rank`` is 0 for a
    rater's first choice. For vote-count tables ``counts`` holds the counts
    directly and the per-rater arrays are empty.
    """

    index: pd.Index
    labels: list
    raters: list
    item: np.ndarray
    rater: np.ndarray
    label: np.ndarray
    rank: np.ndarray
    kind: str
    vote_counts: np.ndarray | None = None

    @property
    def n_items(self):
        return len(self.index)

    def counts(self, votes="all", rater=None):
        """(n_items, n_labels) number of raters who chose each label."""
        if self.vote_counts is not None:
            if rater is not None:
                raise AnnotationError(
                    "per-rater targets need a rater table (one column per rater); "
                    "a vote-count table holds no individual ratings."
                )
            return self.vote_counts.astype(float)
        keep = np.ones(len(self.item), dtype=bool)
        if votes == "first":
            keep &= self.rank == 0
        if rater is not None:
            keep &= self.rater == self.raters.index(rater)
        flat = self.item[keep] * len(self.labels) + self.label[keep]
        out = np.bincount(flat, minlength=self.n_items * len(self.labels))
        return out.reshape(self.n_items, len(self.labels)).astype(float)

    def n_raters(self, rater=None):
        """Number of raters who rated each item."""
        if self.vote_counts is not None:
            return self.vote_counts.sum(axis=1)
        keep = self.rank == 0
        if rater is not None:
            keep &= self.rater == self.raters.index(rater)
        return np.bincount(self.item[keep], minlength=self.n_items).astype(float)

    def label_columns(self, classes):
        """Positions of ``classes`` among ``labels`` (-1 where never seen)."""
        pos = {lab: i for i, lab in enumerate(self.labels)}
        return np.array([pos.get(c, -1) for c in classes], dtype=int)


def _check_index(index, what="annotation table"):
    if index.has_duplicates:
        dups = index[index.duplicated()].unique()
        shown = ", ".join(repr(d) for d in dups[:5])
        raise AnnotationError(
            f"The {what} has {len(dups)} duplicated utterance id(s): {shown}"
            f"{' ...' if len(dups) > 5 else ''}. Each utterance must appear once; "
            "merge its ratings into one row (from_long does this)."
        )


def is_vote_table(y) -> bool:
    """True if ``y`` is a vote-count table (a DataFrame of numeric columns)."""
    return (
        isinstance(y, pd.DataFrame)
        and y.shape[1] > 0
        and all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
                for t in y.dtypes)
    )


def parse_annotations(y, label_map=None, *, known_labels=None, strict=False):
    """Parse any accepted form of annotations into :class:`Ratings`.

    Parameters
    ----------
    y : annotation table, vote-count table or 1-D labels
    label_map : dict, already normalised by ``build_label_map``
    known_labels : set, optional
        Labels allowed in strict mode (besides the canonical emotions).
    strict : bool
        Raise on a label that is neither a canonical emotion, nor in
        ``known_labels``, nor mapped by ``label_map``.
    """
    label_map = label_map or {}
    if isinstance(y, Ratings):
        return y
    if is_ratings(y):
        return _parse_ratings(y, label_map, allowed_labels(label_map, known_labels)
                              if strict else None)
    if y is None:
        raise AnnotationError(
            "No annotations were given (y is None); pass an annotation table, a "
            "vote-count table or one label per utterance."
        )
    allowed = None
    if strict:
        allowed = set(CANONICAL_EMOTIONS) | set(label_map) | set(label_map.values())
        allowed |= set(known_labels or ())

    def check_label(raw, canon, item_id, rater_id):
        if allowed is not None and canon not in allowed:
            where = f"utterance {item_id!r}"
            if rater_id is not None:
                where += f", rater {rater_id!r}"
            raise AnnotationError(
                f"Unknown label {raw!r} ({where}). Expected one of "
                f"{sorted(map(str, allowed))}; add it to label_map or classes, or "
                "use strict=False to keep it as non-target evidence."
            )

    if isinstance(y, pd.DataFrame):
        if y.shape[0] == 0 or y.shape[1] == 0:
            raise AnnotationError(
                f"The annotation table is empty (shape {y.shape}); it needs at least "
                "one utterance and one rater or label column."
            )
        _check_index(y.index)
        booleans = [c for c, t in y.dtypes.items() if pd.api.types.is_bool_dtype(t)]
        if booleans:
            raise AnnotationError(
                f"Columns {booleans[:6]} are boolean. A multi-hot table (one column "
                "per label, True where the label was chosen) is read as a vote-count "
                "table when given as counts: y.astype(int) (each True one vote); a "
                "rater table holds labels in its cells, not True/False."
            )
        if is_vote_table(y):
            return _parse_vote_table(y, label_map, check_label)
        numeric = [
            c
            for c, t in y.dtypes.items()
            if pd.api.types.is_numeric_dtype(t) and y[c].notna().any()
        ]
        if numeric and len(numeric) < y.shape[1]:
            others = [c for c in y.columns if c not in numeric]
            raise AnnotationError(
                f"The table mixes numeric vote-count columns {numeric[:6]} with other "
                f"columns {others[:6]}. Pass only the count columns "
                "(e.g. votes[['A', 'D', 'F', 'H', 'N', 'S']]) or a rater table; in a "
                "rater table store numeric labels as tuples, as from_long does."
            )
        return _parse_rater_table(y, label_map, allowed_labels(label_map,
                                                               known_labels)
                                  if strict else None)
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if y.dtype.kind in "iuf":
            return _parse_vote_table(pd.DataFrame(y), label_map, check_label)
        raise AnnotationError(
            f"A 2-D array of annotations must be numeric vote counts; got dtype "
            f"{y.dtype}. Pass a DataFrame annotation table instead."
        )
    if isinstance(y, pd.Series) or isinstance(y, np.ndarray | list | tuple):
        return _parse_label_array(y, label_map, check_label)
    if isinstance(y, Iterable) and not isinstance(y, str | bytes | Mapping):
        return _parse_label_array(list(y), label_map, check_label)
    raise TypeError(
        f"Annotations of type {type(y).__name__} are not understood; pass an "
        "annotation table (DataFrame, one column per rater), a vote-count table "
        "(DataFrame of numeric columns, one per label) or 1-D labels."
    )


def allowed_labels(label_map, known_labels):
    """Labels strict parsing accepts: known emotions, the map, the classes."""
    allowed = set(CANONICAL_EMOTIONS) | set(label_map) | set(label_map.values())
    return frozenset(allowed | set(known_labels or ()))


def _parse_ratings(y, label_map, allowed, where=None):
    """:class:`Ratings` of a ratings Series: vectorised over the ratings.

    Labels are normalised once per distinct label, not once per rating; the
    result is cached on the array for the same label map, so the encoders of
    one fit share one parse.
    """
    if isinstance(y, pd.Series):
        array, index = y.array, y.index
        _check_index(index, "ratings Series")
    else:
        array, index = y, pd.RangeIndex(len(y))
    key = (tuple(sorted(label_map.items(), key=repr)), allowed)
    cached = array._cache.get(key)
    if cached is not None:
        return Ratings(index=index, **cached)
    if len(array) == 0:
        raise AnnotationError("The ratings are empty (no utterance).")
    if array.n_ratings == 0:
        raise AnnotationError(
            f"The ratings cover {len(array)} utterance(s) but hold not a single "
            "rating.")
    raw_vocab = array._labels.to_numpy(dtype=object)
    used = np.zeros(len(raw_vocab), dtype=bool)
    used[np.unique(array._label)] = True
    missing = np.array([_is_missing_string(v) for v in raw_vocab], dtype=bool)
    item = array.item_codes()
    rater = array._rater.astype(np.int64)
    label = array._label.astype(np.int64)
    rank = array._rank.astype(np.int64)
    if (missing & used).any():
        drop = missing[label]
        seen = sorted(str(v) for v in raw_vocab[missing & used])
        of = f" of the {where}" if where else ""
        warnings.warn(
            f"{int(drop.sum())} rating(s){of} are the strings {seen} (as written "
            "by astype(str) or a spreadsheet); they are read as missing, not as a "
            "label.",
            DroppedRowsWarning,
            stacklevel=user_stacklevel(),
        )
        keep = ~drop
        item, rater, label, rank = item[keep], rater[keep], label[keep], rank[keep]
        if len(item) == 0:
            raise AnnotationError(f"Every rating{of} is a 'nan'/'None' string: "
                                  "there is no rating.")
        used &= ~missing
    canon_of = {v: canonical_label(v, label_map) for v in raw_vocab[used]}
    if allowed is not None:
        for code in np.flatnonzero(used):
            raw = raw_vocab[code]
            if canon_of[raw] not in allowed:
                at = int(np.flatnonzero(label == code)[0])
                raise AnnotationError(
                    f"Unknown label {raw!r} (utterance {index[item[at]]!r}, rater "
                    f"{array._raters[rater[at]]!r}). Expected one of "
                    f"{sorted(map(str, allowed))}; add it to label_map or classes, "
                    "or use strict=False to keep it as non-target evidence."
                )
    vocab = _finish_vocabulary(canon_of, list(canon_of))
    pos = {v: k for k, v in enumerate(vocab)}
    remap = np.full(len(raw_vocab), -1, dtype=np.int64)
    for code in np.flatnonzero(used):
        remap[code] = pos[canon_of[raw_vocab[code]]]
    label = remap[label]
    if len(vocab) < int(used.sum()):  # two spellings became one class
        item, rater, label, rank = _dedupe(item, rater, label, rank,
                                           len(array._raters), len(vocab))
    rank = _rerank(item, rater, rank)
    fields = dict(labels=vocab, raters=list(array._raters), item=item, rater=rater,
                  label=label, rank=rank, kind="table")
    array._cache.clear()  # one label map at a time is enough
    array._cache[key] = fields
    return Ratings(index=index, **fields)


#: Strings that mean "no value" (written by ``astype(str)`` and spreadsheets).
MISSING_STRINGS = frozenset({"nan", "none", "null", "<na>", "n/a"})


def _is_missing_string(value):
    return isinstance(value, str) and value.strip().lower() in MISSING_STRINGS


def _drop_missing_strings(raw, where):
    """Positions of real labels; warn with the count of 'nan'/'None' strings."""
    values = pd.Series(list(raw), dtype=object)
    seen = sorted(str(v) for v in pd.unique(values) if _is_missing_string(v))
    missing = values.isin(seen).to_numpy() if seen else np.zeros(len(values), bool)
    if seen:
        warnings.warn(
            f"{int(missing.sum())} rating(s) of the {where} are the strings {seen} "
            "(as written by astype(str) or a spreadsheet); they are read as "
            "missing, not as a label.",
            DroppedRowsWarning,
            stacklevel=user_stacklevel(),
        )
    return ~missing


def _check_case_collisions(vocab):
    groups: dict = {}
    for v in vocab:
        if isinstance(v, str):
            groups.setdefault(" ".join(v.split()).lower(), []).append(v)
    clash = [g for g in groups.values() if len(g) > 1]
    if clash:
        raise AnnotationError(
            f"Labels {clash[0]!r} differ only in case or spaces"
            + (f" ({len(clash)} such groups)" if len(clash) > 1 else "")
            + "; they would become separate classes. Write each label one way, "
            "e.g. y.map(lambda cell: None if cell is None else tuple("
            "str(v).strip().lower() for v in cell)), or map them with label_map."
        )


def _finish_vocabulary(canon_of, raw_labels):
    """Sorted vocabulary of canonical labels (numbers first, then strings)."""
    _check_case_collisions({canon_of[r] for r in raw_labels})
    canon = {canon_of[r] for r in raw_labels}
    try:
        return sorted(canon)
    except TypeError:
        return sorted(canon, key=lambda v: (type(v).__name__, str(v)))


def _parse_rater_table(y, label_map, allowed):
    """A wide table: its ratings (:func:`to_ratings`), parsed as ratings."""
    ratings = to_ratings(y)
    array = ratings.array
    if array.n_ratings == 0:
        raise AnnotationError(
            f"The annotation table has {y.shape[0]} rows and {y.shape[1]} rater "
            "columns but not a single rating."
        )
    rater_names = list(y.columns)
    per_rater = np.bincount(array._rater, minlength=len(rater_names))
    empty = [rater_names[j] for j in np.flatnonzero(per_rater == 0)]
    if empty:
        shown = ", ".join(repr(r) for r in empty[:8])
        warnings.warn(
            f"{len(empty)} of {len(rater_names)} rater column(s) hold no rating: "
            f"{shown}{' ...' if len(empty) > 8 else ''}.",
            EmptyRaterWarning,
            stacklevel=user_stacklevel(),
        )
    return _parse_ratings(ratings, label_map, allowed, where="annotation table")


def _rerank(item_idx, rater_idx, rank):
    """Ranks 0, 1, ... within each (item, rater), keeping their order."""
    if len(rank) == 0:
        return rank
    order = np.lexsort((rank, rater_idx, item_idx))
    it, ra = item_idx[order], rater_idx[order]
    new = np.r_[True, (it[1:] != it[:-1]) | (ra[1:] != ra[:-1])]
    starts = np.flatnonzero(new)
    out = np.empty_like(rank)
    out[order] = np.arange(len(order)) - starts[np.cumsum(new) - 1]
    return out


def _dedupe(item_idx, rater_idx, label_idx, rank, n_raters, n_labels):
    """Keep the first (item, rater, label) choice: h_k^(n) is binary."""
    key = (item_idx * max(n_raters, 1) + rater_idx) * max(n_labels, 1) + label_idx
    _, first = np.unique(key, return_index=True)
    if len(first) == len(key):
        return item_idx, rater_idx, label_idx, rank
    first = np.sort(first)
    item_idx, rater_idx, label_idx = item_idx[first], rater_idx[first], label_idx[first]
    return item_idx, rater_idx, label_idx, _rerank(item_idx, rater_idx, rank[first])


#: More votes than this in one cell is not a count of raters.
MAX_VOTES = 1_000_000


def _parse_vote_table(y, label_map, check_label):
    counts = y.to_numpy(dtype=float)
    if np.isnan(counts).any() and not np.isnan(counts).all():
        i, j = np.argwhere(np.isnan(counts))[0]
        raise AnnotationError(
            f"This numeric table has empty cells (utterance {y.index[i]!r}, column "
            f"{y.columns[j]!r}; {int(np.isnan(counts).sum())} in all), so it is not "
            "a vote-count table (one count in every cell). If its columns are "
            "raters and its numbers label codes, pass them as labels: "
            "y.map(lambda v: None if pd.isna(v) else (str(int(v)),)), or build "
            "the table with from_long."
        )
    with np.errstate(invalid="ignore"):
        checks = [
            (~np.isfinite(counts) | (counts < 0),
             "Vote counts must be finite and >= 0; {at} holds {v!r} ({n} such "
             "cell(s))."),
            (np.isfinite(counts) & (counts != np.round(counts)),
             "Vote counts must be whole numbers; {at} holds {v!r} ({n} such "
             "cell(s)). Vote shares are not counts: multiply them by the number "
             "of raters and round (votes = (shares * n_raters).round())."),
            (counts > MAX_VOTES,
             "Vote count {v!r} ({at}) is more than " + f"{MAX_VOTES:,}" + " raters; "
             "this is not a vote-count table."),
        ]
    for mask, message in checks:
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise AnnotationError(message.format(
                at=f"utterance {y.index[i]!r}, column {y.columns[j]!r}",
                v=counts[i, j], n=int(mask.sum())))
    _check_codes_not_counts(y, counts)
    canon = []
    for c in y.columns:
        lab = canonical_label(c, label_map)
        if check_label is not None:
            check_label(c, lab, "(all)", None)
        canon.append(lab)
    vocab = _finish_vocabulary({c: c for c in canon}, canon)
    merged = np.zeros((len(y), len(vocab)))
    for j, lab in enumerate(canon):
        merged[:, vocab.index(lab)] += counts[:, j]
    empty = np.zeros(0, dtype=np.int64)
    return Ratings(
        index=y.index,
        labels=vocab,
        raters=[],
        item=empty,
        rater=empty,
        label=empty,
        rank=empty,
        kind="votes",
        vote_counts=merged,
    )


def _looks_like_rater(name):
    import re

    if not isinstance(name, str):  # a 2-D array's column numbers: counts
        return False
    text = name.strip().lower()
    return bool(re.fullmatch(r"(rater|annotator|worker|evaluator|judge|coder|"
                             r"listener|r|e|a|w|ann)[ _-]?\d+", text))


def _check_codes_not_counts(y, counts):
    """A numeric table whose columns are raters holds label codes, not counts."""
    from ._vocabulary import CANONICAL_EMOTIONS, normalize_label

    names = list(y.columns)
    label_like = [c for c in names if normalize_label(c) in CANONICAL_EMOTIONS]
    raters = [c for c in names if _looks_like_rater(c)]
    if not label_like and raters and len(raters) == len(names):
        raise AnnotationError(
            f"The numeric table's columns {names[:6]} look like raters, so its "
            "numbers look like label codes, not vote counts (a vote-count table "
            "has one column per label, e.g. anger, sadness or CREMA-D's A D F H N "
            "S). Pass the codes as labels: y.map(lambda v: None if pd.isna(v) "
            "else (str(int(v)),)), or name the columns after the labels if these "
            "are counts."
        )


def _parse_label_array(y, label_map, check_label):
    if isinstance(y, pd.Series):
        index = y.index
        _check_index(index, "label series")
        values = y.to_numpy(dtype=object)
    else:
        arr = np.asarray(y, dtype=object)
        if arr.ndim != 1:
            raise AnnotationError(
                f"1-D labels were expected, got an array of shape {arr.shape}."
            )
        values = arr
        index = pd.RangeIndex(len(values))
    if len(values) == 0:
        raise AnnotationError("The label array is empty (no utterance).")
    multi = [k for k, v in enumerate(values)
             if isinstance(v, tuple | list | set | frozenset | np.ndarray)]
    if multi:
        raise AnnotationError(
            f"Utterance {index[multi[0]]!r} holds {values[multi[0]]!r}, several "
            "labels, in a 1-D label array (one label per utterance). For several "
            "labels or raters per utterance pass an annotation table: one column "
            "per rater, each cell a tuple of labels (from_long builds one)."
        )
    present = np.array([not _is_missing(v) for v in values], dtype=bool)
    present &= _drop_missing_strings(values, "label array")
    raw = values[present]
    unique_raw = pd.unique(pd.Series(raw, dtype=object))
    canon_of = {lab: canonical_label(lab, label_map) for lab in unique_raw}
    if check_label is not None:
        for lab in unique_raw:
            pos = int(np.flatnonzero(present)[list(raw).index(lab)])
            check_label(lab, canon_of[lab], index[pos], None)
    vocab = _finish_vocabulary(canon_of, unique_raw)
    vocab_pos = {v: k for k, v in enumerate(vocab)}
    item_idx = np.flatnonzero(present).astype(np.int64)
    label_idx = np.fromiter((vocab_pos[canon_of[r]] for r in raw), dtype=np.int64,
                            count=len(raw))
    zeros = np.zeros(len(item_idx), dtype=np.int64)
    return Ratings(
        index=index,
        labels=vocab,
        raters=["label"],
        item=item_idx,
        rater=zeros,
        label=label_idx,
        rank=zeros.copy(),
        kind="labels",
    )


def align_annotations(X, y):
    """Return ``y`` in the row order of ``X``, checking that ids match.

    When both ``X`` (a DataFrame of utterances) and ``y`` (a table or Series)
    carry utterance ids, the ids must be the same set; ``y`` is reordered to
    follow ``X``. Otherwise only the lengths are compared.
    """
    n_x = len(X)
    if isinstance(y, pd.DataFrame | pd.Series) and isinstance(X, pd.DataFrame):
        if not isinstance(y.index, pd.RangeIndex) or not isinstance(
            X.index, pd.RangeIndex
        ):
            _check_index(X.index, "utterance table")
            _check_index(y.index)
            if y.index.equals(X.index):
                return y
            missing = X.index.difference(y.index, sort=False)
            extra = y.index.difference(X.index, sort=False)
            if len(missing) or len(extra):
                parts = []
                if len(missing):
                    parts.append(
                        f"{len(missing)} utterance(s) of X have no annotation row "
                        f"(e.g. {list(missing[:3])})"
                    )
                if len(extra):
                    parts.append(
                        f"{len(extra)} annotation row(s) match no utterance of X "
                        f"(e.g. {list(extra[:3])})"
                    )
                raise AnnotationError(
                    "Utterances and annotations are misaligned: " + "; ".join(parts)
                    + ". Index both by the same utterance ids."
                )
            return y.loc[X.index]
    n_y = len(y)
    if n_x != n_y:
        raise AnnotationError(
            f"X has {n_x} utterances but the annotations have {n_y} rows."
        )
    return y


def to_long(table, *, item="utterance", rater="rater", label="label"):
    """The long ``item, rater, label`` form of ratings or an annotation table.

    The inverse of :func:`from_long`: one row per chosen label, a rater's
    choices in their order (first choice first). Empty cells give no row.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"A": [("sad", "angry"), None],
    ...                       "B": [("sad",), ("neutral",)]}, index=["u1", "u2"])
    >>> to_long(table).to_numpy().tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['u1', 'A', 'sad'], ['u1', 'A', 'angry'], ['u1', 'B', 'sad'],
     ['u2', 'B', 'neutral']]
    """
    if is_ratings(table):
        series = table if isinstance(table, pd.Series) else pd.Series(table)
        return series.ratings.to_long(item=item, rater=rater, label=label)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"to_long expects ratings (from_long) or an annotation "
                        f"table (DataFrame), got {type(table).__name__}.")
    return to_ratings(table).ratings.to_long(item=item, rater=rater, label=label)


def to_ratings(y):
    """Ratings (a Series of dtype ``"ratings"``) from any per-rater form.

    Accepts ratings (returned as they are), a wide annotation table (one
    column per rater, cells of labels) or 1-D labels (one rater, ``"label"``).
    Vote-count tables hold no individual rating and are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"A": [("sad", "angry"), None],
    ...                       "B": [("sad",), ("neutral",)]}, index=["u1", "u2"])
    >>> to_ratings(table)["u1"]
    {'A': ('sad', 'angry'), 'B': ('sad',)}
    """
    if is_ratings(y):
        return y if isinstance(y, pd.Series) else pd.Series(y, name="ratings")
    if isinstance(y, pd.DataFrame):
        if is_vote_table(y):
            raise AnnotationError(
                "A vote-count table holds no individual rating; it cannot become "
                "ratings (keep it as it is: every encoder reads it).")
        _check_index(y.index)
        if y.columns.has_duplicates:
            dups = list(y.columns[y.columns.duplicated()].unique()[:5])
            raise AnnotationError(
                f"The annotation table names rater(s) {dups} in more than one "
                "column; give each rater one column (or build the ratings with "
                "from_long).")
        values = y.to_numpy(dtype=object)
        present = ~pd.isna(values) if values.size else np.zeros(values.shape, bool)
        items, raters, labels, ranks = [], [], [], []
        for i, j in zip(*np.nonzero(present), strict=True):
            for r, lab in enumerate(_cell_labels(values[i, j])):
                items.append(i)
                raters.append(j)
                labels.append(lab)
                ranks.append(r)
        names = np.asarray(list(y.columns), dtype=object)
        return _build(len(y), np.asarray(items, dtype=np.int64),
                      names[np.asarray(raters, dtype=np.int64)], labels,
                      np.asarray(ranks, dtype=np.int64), raters=list(y.columns),
                      index=y.index, name="ratings")
    labels = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object))
    values = labels.to_numpy(dtype=object)
    present = np.flatnonzero(~pd.isna(values))
    return _build(len(values), present, np.full(len(present), "label", dtype=object),
                  values[present], np.zeros(len(present), dtype=np.int64),
                  index=labels.index, name="ratings")


def to_wide(y, *, max_cells=50_000_000):
    """The wide annotation table (one column per rater) of ratings.

    For small crowds and for reading; the encoders read ratings directly.
    Raises :class:`MemoryError` above ``max_cells`` cells.
    """
    return to_ratings(y).ratings.to_wide(max_cells=max_cells)


def select_raters(y, raters):
    """Only the ratings of ``raters``, for every utterance of ``y`` (in order).

    Works on ratings (vectorised, no wide table) and on wide annotation
    tables (a column selection). Utterances none of them rated stay, without
    a rating. This is how a rater group's pooled targets are built.

    Examples
    --------
    >>> import pandas as pd
    >>> y = from_long(pd.DataFrame({"utterance": ["u1", "u1", "u2"],
    ...                             "rater": ["A", "B", "B"],
    ...                             "label": ["sad", "angry", "neutral"]}))
    >>> select_raters(y, ["A"]).tolist()
    [{'A': ('sad',)}, nan]
    """
    raters = list(raters)
    if is_ratings(y):
        return to_ratings(y).ratings.select(raters)
    if isinstance(y, pd.DataFrame) and not is_vote_table(y):
        missing = [r for r in raters if r not in y.columns]
        if missing:
            raise AnnotationError(
                f"Rater(s) {missing[:8]} are not columns of the annotation table; "
                f"its raters include {list(y.columns[:10])}.")
        return y[raters]
    raise AnnotationError(
        "Selecting raters needs individual ratings (from_long or a table with one "
        f"column per rater), not {type(y).__name__} of vote counts or labels.")
