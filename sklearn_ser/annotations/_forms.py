"""The input forms of annotations, read from their content: a rater table, a
vote-count table, a multi-hot table, 1-D labels (:func:`check_annotations`
decides which, or refuses naming the ``form=`` choice)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._warnings import ser_warn
from ..exceptions import AnnotationError, DroppedRowsWarning, EmptyRaterWarning
from ._ratings import RatingsArray, _build, is_ratings
from ._table import (
    _check_index,
    check_table_ids,
    label_columns,
    numeric_column,
    numeric_content,
    to_ratings,
)
from ._vocabulary import (
    _is_missing,
    unicode_key,
)

#: Strings read as presence flags, never as labels.
TRUE_STRINGS = frozenset({"true", "yes", "y", "t"})


FALSE_STRINGS = frozenset({"false", "no", "n", "f"})


#: More votes than this in one table is not a count of raters.
MAX_VOTES = 50_000_000


# -- every form to raw ratings ---------------------------------------------------
def _raw_ratings(y, form, known, label_map, target, who):
    """(ratings Series as written, kind) of any accepted form."""
    if is_ratings(y):  # a forced reading of ratings: only "ratings" fits
        raise AnnotationError(
            f"{who}: y is already ratings; form={form!r} applies to tables.")
    if sp.issparse(y):
        raise TypeError(
            f"{who}: annotations cannot be a sparse matrix; pass a DataFrame of "
            "vote counts (one column per label) or ratings (from_long).")
    if not isinstance(y, pd.DataFrame | pd.Series | list | tuple | np.ndarray) and (
            hasattr(y, "__array__")):
        y = np.asarray(y)
    if isinstance(y, list | tuple) and len(y) and all(
            isinstance(v, list | tuple | np.ndarray) for v in y) and any(
            isinstance(e, numbers.Number) and not isinstance(e, bool)
            for v in y for e in v):
        y = np.asarray(y)  # nested lists of numbers: a 2-D array
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if target and y.shape[1] == 1 and form in ("auto", "labels"):
            from sklearn.exceptions import DataConversionWarning

            ser_warn(
                "A column-vector y was passed when a 1d array was expected; it is "
                "read as one label per utterance.",
                DataConversionWarning)
            y = y.ravel()
        elif y.dtype.kind in "iuf" or form in ("votes", "multi_hot"):
            return _raw_table(pd.DataFrame(y), form if form != "auto" else "votes",
                              known, label_map, who, positional=True)
        else:
            raise AnnotationError(
                f"{who}: a 2-D array of annotations must be numeric vote counts "
                f"(one column per label); got dtype {y.dtype}. Pass a DataFrame "
                "annotation table (one column per rater) or ratings (from_long).")
    if isinstance(y, pd.DataFrame):
        return _raw_table(y, form, known, label_map, who)
    if isinstance(y, pd.Series | np.ndarray | list | tuple) or (
            isinstance(y, Iterable) and not isinstance(y, str | bytes | Mapping)):
        if form not in ("auto", "labels"):
            raise AnnotationError(
                f"{who}: form={form!r} reads a table; y is one label per utterance.")
        return _raw_labels(y, target, who), "labels"
    raise TypeError(
        f"{who}: annotations of type {type(y).__name__} are not understood; pass "
        "ratings (from_long), an annotation table (DataFrame, one column per "
        "rater), a vote-count table (one numeric column per label) or 1-D labels.")


def _is_boolish(values):
    """True for each value that is a presence flag (bool or yes/no string)."""
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if isinstance(v, bool | np.bool_):
            out[i] = True
        elif isinstance(v, str) and (
                unicode_key(v).strip().lower() in TRUE_STRINGS | FALSE_STRINGS):
            out[i] = True
    return out


def _table_reading(y):
    """What a DataFrame holds, read from its cells whatever the dtypes:
    "votes" (every filled cell a number, :func:`numeric_column`),
    "multi_hot" (every cell a presence flag), "raters" or "mixed"."""
    dtypes = list(y.dtypes)
    if all(pd.api.types.is_bool_dtype(t) for t in dtypes):
        return "multi_hot"
    numeric = [numeric_column(y.iloc[:, j]) for j in range(y.shape[1])]
    if all(col is not None for col in numeric) and any(
            not np.isnan(col).all() for col in numeric):
        return "votes"
    values = y.to_numpy(dtype=object).ravel()
    present = values[~pd.isna(values)] if values.size else values
    if len(present):
        uniq = pd.unique(pd.Series(present, dtype=object).map(
            lambda v: v if not isinstance(v, list | set | np.ndarray) else tuple(v)))
        boolish = _is_boolish(uniq)
        if boolish.all():
            return "multi_hot"
    filled = [col is not None and not np.isnan(col).all() for col in numeric]
    if any(filled) and not all(filled):
        return "mixed"
    return "raters"


def _numeric_columns(y):
    """The columns whose every filled cell is a number (and one is filled)."""
    out = []
    for j, c in enumerate(y.columns):
        col = numeric_column(y.iloc[:, j])
        if col is not None and not np.isnan(col).all():
            out.append(c)
    return out


def _raw_table(y, form, known, label_map, who, positional=False):
    if y.shape[0] == 0 or y.shape[1] == 0:
        raise AnnotationError(
            f"{who}: the annotation table is empty (shape {y.shape}); it needs at "
            "least one utterance and one rater or label column.")
    check_table_ids(y, f"{who}: the annotation table")
    reading = _table_reading(y) if form == "auto" else form
    if reading == "mixed":
        numeric = _numeric_columns(y)
        others = [c for c in y.columns if c not in numeric]
        raise AnnotationError(
            f"{who}: the table mixes numeric vote-count columns {numeric[:6]} with "
            f"other columns {others[:6]}. Pass only the count columns (e.g. "
            "votes[['A', 'D', 'F', 'H', 'N', 'S']]) or a rater table; in a rater "
            "table store numeric labels as tuples, as from_long does.")
    if reading == "raters":
        return _raw_wide(y, who), "table"
    if reading == "ratings":
        raise AnnotationError(f"{who}: form='ratings' needs ratings (from_long); "
                              "got a DataFrame (use form='raters' for a wide table).")
    if reading == "labels":
        raise AnnotationError(f"{who}: form='labels' needs one label per utterance "
                              "(1-D); got a DataFrame.")
    # vote counts or multi-hot: the columns must be labels
    labels, others = label_columns(y, known, label_map)
    if positional and known is not None and others:
        raise AnnotationError(
            f"{who}: a 2-D array of {y.shape[1]} columns has no column names, so "
            f"its columns would be the labels 0..{y.shape[1] - 1}, and classes="
            f"{sorted(map(str, known))[:8]} names none of them: every target "
            "would be empty. Name the columns: pass pd.DataFrame(y, "
            "columns=[the label of each column]) (or classes=range(n_columns)).")
    if others and form == "auto" and not positional:
        what = "numeric" if reading == "votes" else "True/False"
        as_votes = ("vote counts (one column per label, each cell the number of "
                    "raters who chose it)" if reading == "votes" else
                    "multi-hot presence (one column per label, True where it was "
                    "chosen)")
        raise AnnotationError(
            f"{who}: the {what} table's columns {list(y.columns[:8])} are not "
            f"labels (not known emotions, classes or label_map keys: {others[:6]}), "
            f"so it can be read two ways: as {as_votes}, or as a rater table (one "
            "column per rater, each cell that rater's "
            + ("label code" if reading == "votes" else "yes/no answer") + "). "
            "Say which: for the first, name the columns after the labels or pass "
            "classes=[...] naming them, or check_annotations(y, form="
            f"{reading!r}); for the second, to_ratings(y) (or check_annotations(y, "
            "form='raters')) reads each cell as the label(s) that rater chose"
            + ("" if reading == "votes" else
               " (map yes/no to label names first)") + ".")
    if reading == "votes":  # numbers written as text read as numbers
        numbers_of = numeric_content(y)
        y = y if numbers_of is None else numbers_of
    counts = _multi_hot_counts(y, who) if reading == "multi_hot" else (
        _vote_counts(y, who))
    return _votes_to_ratings(counts, y.index, list(y.columns)), "votes"


def _multi_hot_counts(y, who):
    values = y.to_numpy(dtype=object)
    out = np.zeros(values.shape, dtype=np.int64)
    missing = np.zeros(values.shape, dtype=bool)
    for (i, j), v in np.ndenumerate(values):
        if _is_missing(v):
            missing[i, j] = True
        elif isinstance(v, bool | np.bool_):
            out[i, j] = int(v)
        elif isinstance(v, str) and unicode_key(v).strip().lower() in TRUE_STRINGS:
            out[i, j] = 1
        elif isinstance(v, str) and unicode_key(v).strip().lower() in FALSE_STRINGS:
            pass
        elif isinstance(v, numbers.Number) and v in (0, 1):
            out[i, j] = int(v)
        else:
            raise AnnotationError(
                f"{who}: a multi-hot table holds True/False (or yes/no, 1/0) in "
                f"every cell; utterance {y.index[i]!r}, column {y.columns[j]!r} "
                f"holds {v!r}.")
    if missing.any():
        i, j = np.argwhere(missing)[0]
        ser_warn(
            f"{who}: {int(missing.sum())} cell(s) of the multi-hot table are empty "
            f"(first: utterance {y.index[i]!r}, column {y.columns[j]!r}); read as "
            "not chosen.", DroppedRowsWarning)
    return out


def _vote_counts(y, who):
    try:
        counts = y.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnnotationError(
            f"{who}: vote counts must be numbers, one column per label.") from exc
    if np.isnan(counts).any():
        i, j = np.argwhere(np.isnan(counts))[0]
        raise AnnotationError(
            f"{who}: this numeric table has empty cells (utterance {y.index[i]!r}, "
            f"column {y.columns[j]!r}; {int(np.isnan(counts).sum())} in all), so it "
            "is not a vote-count table (one count in every cell). If its columns "
            "are raters and its numbers label codes, read it with to_ratings(y) "
            "(or map the codes to names first), or build the ratings with "
            "from_long.")
    with np.errstate(invalid="ignore"):
        checks = [
            (~np.isfinite(counts) | (counts < 0),
             "Vote counts must be finite and >= 0; {at} holds {v!r} ({n} such "
             "cell(s))."),
            (counts != np.round(counts),
             "Vote counts must be whole numbers; {at} holds {v!r} ({n} such "
             "cell(s)). Vote shares are not counts: multiply them by the number "
             "of raters and round (votes = (shares * n_raters).round())."),
        ]
    for mask, message in checks:
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise AnnotationError(f"{who}: " + message.format(
                at=f"utterance {y.index[i]!r}, column {y.columns[j]!r}",
                v=counts[i, j], n=int(mask.sum())))
    if counts.sum() > MAX_VOTES:
        raise AnnotationError(
            f"{who}: the vote counts add up to {int(counts.sum()):,} votes (more "
            f"than {MAX_VOTES:,}); this is not a vote-count table.")
    return counts.astype(np.int64)


def _votes_to_ratings(counts, index, columns):
    """One anonymous rating per vote: vote k of an utterance is rater k."""
    n, J = counts.shape
    flat = np.repeat(np.arange(n * J, dtype=np.int64), counts.ravel())
    item, col = flat // J, flat % J
    per_item = counts.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_item, out=offsets[1:])
    rater = np.arange(len(flat), dtype=np.int64) - offsets[item]
    m = int(per_item.max()) if n else 0
    raters = pd.Index(np.asarray([f"vote {k + 1}" for k in range(m)], dtype=object),
                      dtype=object)
    labels = pd.Index(np.asarray(list(columns), dtype=object), dtype=object)
    array = RatingsArray(offsets, rater, col, np.zeros(len(flat), np.int64), raters,
                         labels, _checked=True)
    return pd.Series(array, index=index, name="ratings", copy=False)


def _raw_wide(y, who):
    ratings = to_ratings(y, form="raters")
    array = ratings.array
    if array.n_ratings == 0:
        raise AnnotationError(
            f"{who}: the annotation table has {y.shape[0]} rows and {y.shape[1]} "
            "rater columns but not a single rating.")
    per_rater = np.bincount(array._rater, minlength=len(y.columns))
    empty = [y.columns[j] for j in np.flatnonzero(per_rater == 0)]
    if empty:
        shown = ", ".join(repr(r) for r in empty[:8])
        ser_warn(
            f"{len(empty)} of {len(y.columns)} rater column(s) hold no rating: "
            f"{shown}{' ...' if len(empty) > 8 else ''}.",
            EmptyRaterWarning)
    return ratings


def _raw_labels(y, target, who):
    if isinstance(y, pd.Series):
        _check_index(y.index, "label series")
        values, index = y.to_numpy(dtype=object), y.index
    else:
        values = np.empty(len(y), dtype=object)
        values[:] = list(y)
        index = pd.RangeIndex(len(values))
    if len(values) == 0:
        raise AnnotationError(f"{who}: the label array is empty (no utterance).")
    multi = [k for k, v in enumerate(values)
             if isinstance(v, tuple | list | set | frozenset | np.ndarray | dict)]
    if multi:
        raise AnnotationError(
            f"{who}: utterance {index[multi[0]]!r} holds {values[multi[0]]!r}, "
            "several labels, in a 1-D label array (one label per utterance). For "
            "several labels or raters per utterance pass ratings (from_long) or "
            "an annotation table: one column per rater, each cell a tuple of "
            "labels.")
    present = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
    if target and present.any():
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(list(values[present]))
    pos = np.flatnonzero(present)

    return _build(len(values), pos, np.full(len(pos), "label", dtype=object),
                  values[pos], np.zeros(len(pos), dtype=np.int64), index=index,
                  name="ratings")
