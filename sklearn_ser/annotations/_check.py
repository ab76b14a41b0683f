"""The one boundary: every accepted form of annotations, parsed and checked once.

:func:`check_annotations` is the single validation step through which every
estimator, transformer and scorer of the toolkit passes its ``y``. Whatever
form the annotations come in (ratings from :func:`from_long`, a wide table of
one column per rater, vote counts, a multi-hot table, 1-D labels), the result
is one *checked ratings* Series: labels normalised and mapped, the
vocabulary sorted, ids checked, aligned with ``X`` by utterance id. A checked
Series given again with the same settings is returned as it is (no second
parse), so the components of a meta-estimator share the parse of its fit.

Ambiguous forms are never guessed: a numeric table is read as vote counts
only when its columns are labels (known emotions, ``classes`` or the label
map), a table of True/False (or "yes"/"no") as multi-hot presence only under
the same condition; otherwise the error names both readings and the
parameter (``form=``) or function (:func:`to_ratings`) that chooses one.
Missing values (None, NaN, pandas NA, empty strings) are never a label or a
rater.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import _num_samples

from .._warnings import ser_warn
from ..exceptions import AnnotationError, DroppedRowsWarning, EmptyRaterWarning
from ._ratings import RatingsArray, is_ratings
from ._table import (
    _check_index,
    align_annotations,
    check_table_ids,
    numeric_column,
    numeric_content,
    to_ratings,
)
from ._vocabulary import (
    CANONICAL_EMOTIONS,
    SPELLING_RULE,
    _is_missing,
    _spelling_key,
    build_label_map,
    canonical_label,
    check_label_spellings,
    check_names,
    is_missing_label,
    normalize_label,
    shown,
    unicode_key,
)

__all__ = ["FORMS", "check_annotations", "check_id_spellings", "n_parses",
           "parse_annotations"]

#: The forms ``check_annotations(form=...)`` can be told to read.
FORMS = ("auto", "ratings", "raters", "votes", "multi_hot", "labels")

#: Strings read as presence flags, never as labels.
TRUE_STRINGS = frozenset({"true", "yes", "y", "t"})
FALSE_STRINGS = frozenset({"false", "no", "n", "f"})

#: More votes than this in one table is not a count of raters.
MAX_VOTES = 50_000_000

_PARSES = [0]


def n_parses():
    """How many times annotations were parsed in this process (a counter for
    tests and benchmarks: a checked Series given again is not parsed)."""
    return _PARSES[0]


def check_annotations(y, X=None, *, label_map=None, classes=None, strict=False,
                      form="auto", target=False, whom=None):
    """Validate annotations in any accepted form; return checked ratings.

    Parameters
    ----------
    y : ratings, annotation table, vote counts, multi-hot table or 1-D labels
        The annotations. A Series of dtype ``"ratings"`` (:func:`from_long`);
        a DataFrame with one column per rater (cells: a label, a tuple of
        labels, ``"a;b"``, or nothing); a DataFrame (or 2-D array) of vote
        counts, one column per label; a DataFrame of True/False (``"yes"``/
        ``"no"``...) with one column per label (multi-hot: each True one
        vote); or one label per utterance.
    X : DataFrame or array-like, default=None
        The utterances: when given, ``y`` is aligned with them (by id when
        both carry ids, else by position) and an error names the first
        mismatched id.
    label_map : dict or "iemocap", default=None
        Labels counted as another label (normalised first).
    classes : array-like, default=None
        Target classes: also labels that make a numeric or boolean table's
        columns readable as vote counts or multi-hot presence.
    strict : bool, default=False
        Refuse labels that are neither known emotions, nor ``classes``, nor in
        ``label_map``.
    form : {"auto", "ratings", "raters", "votes", "multi_hot", "labels"}, \
default="auto"
        Force one reading of a table: ``"raters"`` reads every cell as the
        label(s) a rater chose, ``"votes"`` the columns as labels and the
        cells as counts, ``"multi_hot"`` the columns as labels and the cells
        as presence flags, ``"labels"`` one label per utterance.
    target : bool, default=False
        ``y`` is a classifier's target: a column vector is read as 1-D labels
        (with scikit-learn's ``DataConversionWarning``) and 1-D labels must be
        classification targets.
    whom : str, default=None
        Named in error messages (the estimator).

    Returns
    -------
    ratings : pandas.Series of dtype ``"ratings"``
        Checked: ``ratings.array.kind`` is ``"table"`` (individual ratings),
        ``"labels"`` (one label per utterance, rater ``"label"``) or
        ``"votes"`` (vote counts or multi-hot: one anonymous rating per
        vote). Labels are canonical (``"Neutral state"`` -> ``"neutral"``)
        and mapped. Indexed like ``y`` (or ``X``).

    Raises
    ------
    AnnotationError
        Naming the utterance, rater, label or column at fault and what to do.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"alice": [("sad",), ("Angry",)],
    ...                       "bob": ["sad", None]}, index=["u1", "u2"])
    >>> y = check_annotations(table)
    >>> y.array.kind, y.array.vocabulary, y["u2"]
    ('table', ['anger', 'sadness'], {'alice': ('anger',)})
    >>> check_annotations(y) is y  # checked once
    True
    >>> votes = pd.DataFrame({"alice": [2, 0], "bob": [1, 3]})
    >>> check_annotations(votes)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_ser.exceptions.AnnotationError: check_annotations: the numeric table's \
columns ['alice', 'bob'] are not labels...
    """
    if form not in FORMS:
        raise ValueError(f"form={form!r}; use one of {FORMS}.")
    who = whom or "check_annotations"
    if y is None:
        raise ValueError(
            f"{who} requires y to be passed, but the target y is None: give "
            "annotations (ratings from from_long, a rater table, vote counts or "
            "one label per utterance).")
    has_ids = isinstance(y, pd.Series | pd.DataFrame | RatingsArray)
    label_map = build_label_map(label_map)
    known = None if classes is None else frozenset(
        canonical_label(c, label_map) for c in check_names(classes, "classes", who))
    allowed = _allowed(label_map, known) if strict else None
    key = (tuple(sorted(label_map.items(), key=repr)), allowed)
    if is_ratings(y) and form in ("auto", "ratings"):
        series = y if isinstance(y, pd.Series) else pd.Series(y, name="ratings")
        array = series.array
        if array._kind is not None and array._key == key:
            out = series
        else:
            if array._kind is not None and array._source is not None:
                kind, array = array._kind, array._source
            else:
                kind = array._kind or "table"
            out = _parse(array, series.index, series.name, label_map, allowed,
                         key, kind)
    else:
        raw, kind = _raw_ratings(y, form, known, label_map, target, who)
        out = _parse(raw.array, raw.index, raw.name, label_map, allowed, key, kind)
    if X is not None:
        if has_ids:  # pandas objects by id (an error names a mismatched one)
            out = align_annotations(X, out)
        elif _num_samples(X) != len(out):  # plain arrays by position
            raise AnnotationError(
                f"{who}: X has {_num_samples(X)} utterances but the annotations "
                f"have {len(out)} rows.")
    return out


def _allowed(label_map, known_labels):
    """Labels strict parsing accepts: known emotions, the map, the classes."""
    allowed = set(CANONICAL_EMOTIONS) | set(label_map) | set(label_map.values())
    return frozenset(allowed | set(known_labels or ()))


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


def _label_columns(y, known, label_map):
    """(columns that are labels, columns that are not)."""
    ok, bad = [], []
    for c in y.columns:
        canon = canonical_label(c, label_map)
        is_label = canon in CANONICAL_EMOTIONS or (known is not None and canon in
                                                   known) or c in label_map
        (ok if is_label else bad).append(c)
    return ok, bad


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
    labels, others = _label_columns(y, known, label_map)
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
    from ._ratings import _build

    return _build(len(values), pos, np.full(len(pos), "label", dtype=object),
                  values[pos], np.zeros(len(pos), dtype=np.int64), index=index,
                  name="ratings")


# -- raw ratings to checked ratings -------------------------------------------
def _parse(array, index, name, label_map, allowed, key, kind):
    """Checked ratings of raw ``array``: normalised, mapped, sorted vocabulary.

    Cached on ``array`` for one key (the encoders of one fit share it)."""
    cached = array._cache.get(("checked", key, kind))
    if cached is not None:
        return pd.Series(cached, index=index, name=name, copy=False)
    _check_index(index, "ratings Series")
    _PARSES[0] += 1
    if len(array) == 0:
        raise AnnotationError("The ratings are empty (no utterance).")
    if array.n_ratings == 0:
        raise AnnotationError(
            f"The ratings cover {len(array)} utterance(s) but hold not a single "
            "rating.")
    where = {"table": "ratings", "labels": "label array",
             "votes": "vote-count table"}[kind]
    raw_vocab = array._labels.to_numpy(dtype=object)
    used = np.zeros(len(raw_vocab), dtype=bool)
    used[np.unique(array._label)] = True
    if kind == "votes":  # every label column is a label, voted for or not
        used[:] = True
    item = array.item_codes()
    rater = array._rater.astype(np.int64)
    label = array._label.astype(np.int64)
    rank = array._rank.astype(np.int64)
    nothing = np.array([is_missing_label(v) for v in raw_vocab], dtype=bool)
    if (nothing & used).any():
        drop = nothing[label]
        seen = sorted(str(v) for v in raw_vocab[nothing & used])
        if drop.any():
            at = int(np.flatnonzero(drop)[0])
            ser_warn(
                f"{int(drop.sum())} rating(s) of the {where} are {seen} (as "
                "written by astype(str) or a spreadsheet, or empty); they are read "
                "as missing, not as a label (first: utterance "
                f"{index[item[at]]!r}, rater {array._raters[rater[at]]!r}).",
                DroppedRowsWarning)
            keep = ~drop
            item, rater, label, rank = item[keep], rater[keep], label[keep], rank[keep]
        if len(item) == 0:
            raise AnnotationError(f"Every rating of the {where} is missing ({seen}): "
                                  "there is no rating.")
        used &= ~nothing
    _refuse_flags(raw_vocab, used, label, item, rater, array, index, kind)
    if kind == "table":
        _refuse_id_variants(array._raters[np.unique(rater)], "rater")
    _refuse_id_variants(index, "utterance")
    canon_of = {}
    for v in raw_vocab[used]:
        canon_of[v] = canonical_label(v, label_map)
    if label_map:  # a key "Calm" beside a rated "calm" would map nothing
        check_label_spellings(list(label_map),
                              [normalize_label(v) for v in raw_vocab[used]],
                              "label_map", counted=False,
                              consequence="it would map no rating",
                              advice="Write the key as the ratings do.")
    if allowed is not None:
        for code in np.flatnonzero(used):
            raw = raw_vocab[code]
            if canon_of[raw] not in allowed and (label == code).any():
                at = int(np.flatnonzero(label == code)[0])
                raise AnnotationError(
                    f"Unknown label {raw!r} (utterance {index[item[at]]!r}, rater "
                    f"{array._raters[rater[at]]!r}). Expected one of "
                    f"{sorted(map(str, allowed))}; add it to label_map or classes, "
                    "or use strict=False to keep it as non-target evidence.")
    vocab = _vocabulary(canon_of)
    pos = {v: k for k, v in enumerate(vocab)}
    remap = np.full(len(raw_vocab), -1, dtype=np.int64)
    for code in np.flatnonzero(used):
        remap[code] = pos[canon_of[raw_vocab[code]]]
    label = remap[label]
    if len(vocab) < int(used.sum()):  # two spellings became one class
        item, rater, label, rank = _dedupe(item, rater, label, rank,
                                           len(array._raters), len(vocab))
    elif len(item) < array.n_ratings:  # ratings were left out: close the gaps
        rank = _rerank(item, rater, rank)
    offsets = np.zeros(len(array) + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=len(array)), out=offsets[1:])
    checked = RatingsArray(
        offsets, rater, label, rank, array._raters,
        pd.Index(np.asarray(vocab, dtype=object), dtype=object), _checked=True,
        _kind=kind, _key=key, _source=array)
    for k in [k for k in array._cache if isinstance(k, tuple) and k[:1] == (
            "checked",)]:
        del array._cache[k]  # one label map at a time is enough
    array._cache[("checked", key, kind)] = checked
    return pd.Series(checked, index=index, name=name, copy=False)


def _refuse_flags(raw_vocab, used, label, item, rater, array, index, kind):
    """True/False (or yes/no) are presence flags, never emotion labels."""
    values = raw_vocab[used]
    if not len(values):
        return
    boolish = _is_boolish(values)
    bools = np.array([isinstance(v, bool | np.bool_) for v in values], dtype=bool)
    if bools.any() or boolish.all():
        bad = values[bools][0] if bools.any() else values[0]
        code = int(np.flatnonzero(used)[list(values).index(bad)])
        hits = np.flatnonzero(label == code)
        where = ""
        if len(hits):
            at = int(hits[0])
            where = f" (utterance {index[item[at]]!r}"
            who = array._raters[rater[at]]
            where += f", rater {who!r})" if kind == "table" else ")"
        raise AnnotationError(
            f"The label {bad!r}{where} is a presence flag, not an emotion: "
            f"{sorted(map(str, values))[:6]}. A table of True/False (or yes/no) with "
            "one column per label is read as multi-hot presence: pass it as a "
            "DataFrame whose columns are the labels (check_annotations(y, "
            "form='multi_hot')); in a long table keep one row per chosen label "
            "(long[long[flag]]), and map flags to label names otherwise.")


def _refuse_id_variants(ids, what):
    """Ids that differ only in surrounding spaces (raters: or in case) are
    refused, naming a pair (:func:`check_id_spellings`)."""
    check_id_spellings(ids, what, case=what == "rater")


def check_id_spellings(ids, what, *, case=True,
                       advice="e.g. long[col] = long[col].str.strip()"):
    """Refuse ids that differ only in surrounding spaces (and, with
    ``case=True``, in case), naming a pair and the count.

    The rule for every column of names that groups rows: rater ids (case
    and spaces), utterance ids (spaces: they name files), the command line's
    group and speaker columns (case and spaces: "S1" and "s1 " would be two
    sessions, and one speaker's utterances would train and test the same
    leave-one-group-out fold). Vectorised: about 50 ms for 200,000 ids.

    Parameters
    ----------
    ids : array-like
        The ids (non-strings are skipped).
    what : str
        What they are ("rater", "'session' value"...), for the message.
    case : bool, default=True
    advice : str
        How to write them one way, for the message.

    Raises
    ------
    AnnotationError

    Examples
    --------
    >>> check_id_spellings(["S1", "S2", "S1"], "session")
    >>> check_id_spellings(["S1", "s1 "], "session")
    Traceback (most recent call last):
    ...
    sklearn_ser.exceptions.AnnotationError: The session ids 'S1' and 's1 ' differ ...
    """
    values = pd.Index(pd.unique(pd.Series(np.asarray(ids, dtype=object).ravel(),
                                          dtype=object)))
    if len(values) < 2:
        return
    if values.inferred_type != "string":
        strings = [v for v in values if isinstance(v, str)]
        if len(strings) < 2:
            return
        values = pd.Index(strings)
    raw = np.asarray(values, dtype=str)
    norm = np.asarray([unicode_key(v) for v in values.astype(str)], dtype=str)
    unicode_variant = (norm != raw).any()
    norm = np.strings.strip(norm)
    if case:
        norm = np.strings.lower(norm)
    elif not unicode_variant and not (norm != raw).any():  # nothing to fold
        return
    uniq, inverse, counts = np.unique(norm, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        dup = counts[inverse] > 1
        first = norm[dup][0]
        pair = list(values[np.flatnonzero(norm == first)[:2]])
        rule = ("case, surrounding spaces, Unicode form or invisible characters"
                if case else
                "surrounding spaces, Unicode form or invisible characters")
        raise AnnotationError(
            f"The {what} ids {shown(pair[0])} and {shown(pair[1])} differ only in "
            f"{rule} "
            f"({int(dup.sum())} such ids); they would count as two {what}s. Write "
            f"each id one way ({advice}).")


def _vocabulary(canon_of):
    """Sorted vocabulary of canonical labels (numbers first, then strings)."""
    canon = set(canon_of.values())
    groups: dict = {}
    for v in canon:
        if isinstance(v, str):
            groups.setdefault(_spelling_key(v), []).append(v)
    clash = [sorted(g) for g in groups.values() if len(g) > 1]
    if clash:
        raise AnnotationError(
            f"Labels {', '.join(map(shown, clash[0]))} differ only in {SPELLING_RULE}"
            + (f" ({len(clash)} such groups)" if len(clash) > 1 else "")
            + "; they would become separate classes. Write each label one way, "
            "e.g. y.map(lambda cell: None if cell is None else tuple("
            "unicodedata.normalize('NFC', str(v)).strip().lower() for v in cell)), "
            "or map them with label_map.")
    try:
        return sorted(canon)
    except TypeError:
        return sorted(canon, key=lambda v: (type(v).__name__, str(v)))


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


def parse_annotations(y, label_map=None, *, known_labels=None, strict=False):
    """Deprecated alias of :func:`check_annotations` (removed in 0.3)."""
    warnings.warn("parse_annotations is deprecated; use check_annotations (it "
                  "returns checked ratings).", FutureWarning, stacklevel=2)
    return check_annotations(y, label_map=label_map, classes=known_labels,
                             strict=strict)
