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

import numbers

import numpy as np
import pandas as pd

from .._warnings import ser_warn
from ..exceptions import (
    AnnotationError,
    DroppedRowsWarning,
    LabelCodeWarning,
    RepeatedRatingWarning,
)
from ._ratings import _build, is_ratings
from ._vocabulary import (
    CANONICAL_EMOTIONS,
    _is_missing,
    canonical_label,
    check_names,
    is_missing_label,
    missing_values_named,
)

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
    label_values = labels_raw.to_numpy(dtype=object)
    try:
        lab_codes, lab_uniques = pd.factorize(label_values, use_na_sentinel=True)
    except TypeError:  # unhashable cells: a list is several choices, as "a;b" is
        label_values = label_values.copy()
        for k, v in enumerate(label_values):
            if isinstance(v, list | set | frozenset | np.ndarray):
                label_values[k] = tuple(v)
        lab_codes, lab_uniques = pd.factorize(label_values, use_na_sentinel=True)
    lab_uniques = np.asarray(lab_uniques, dtype=object)
    unique_empty = np.array(
        [is_missing_label(v) or (isinstance(v, tuple) and not _cell_labels(v))
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
            seen = missing_values_named(lab_uniques, unique_empty,
                                        (lab_codes < 0).any())
            parts.append(f"{n_no_label} with no label ({seen}: values that name "
                         "nothing)")
        if n_dup:
            parts.append(f"{n_dup} exact duplicate rating(s)")
        ser_warn(
            "from_long: left out " + " and ".join(parts) + f" of {len(df)} rows.",
            DroppedRowsWarning,
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
            ser_warn(
                f"from_long: {n_multi} (utterance, rater) pair(s) have several rows "
                f"with different labels ({where}); kept the {multiple} row of each, "
                f"left out {n_left} row(s).",
                RepeatedRatingWarning,
            )
        elif multiple == "warn":
            ser_warn(
                f"from_long: {n_multi} (utterance, rater) pair(s) have several rows "
                f"with different labels ({where}); read as several choices of one "
                "rater, the first row first. Pass multiple='choices' to say so, "
                "'first'/'last' to keep one rating, 'error' to refuse.",
                RepeatedRatingWarning,
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
        ser_warn(
            f"from_long: the label column {column!r} holds numbers ({len(codes)} "
            f"distinct: {shown}{' ...' if len(codes) > 8 else ''}); they are kept "
            "as class names, not read as emotions. Map the codes to names first "
            "(long[label] = long[label].map({1: 'anger', ...})) or pass "
            "label_map to the encoders.",
            LabelCodeWarning,
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


def _check_index(index, what="annotation table"):
    if index.has_duplicates:
        dups = index[index.duplicated()].unique()
        shown = ", ".join(repr(d) for d in dups[:5])
        raise AnnotationError(
            f"The {what} has {len(dups)} duplicated utterance id(s): {shown}"
            f"{' ...' if len(dups) > 5 else ''}. Each utterance must appear once; "
            "merge its ratings into one row (from_long does this)."
        )


def check_table_ids(y, who="The annotation table"):
    """One row per utterance id and one column per rater (or label)."""
    _check_index(y.index)
    if y.columns.has_duplicates:
        dups = list(y.columns[y.columns.duplicated()].unique()[:5])
        raise AnnotationError(
            f"{who} names rater(s) {dups} in more than one column; give each rater "
            "(or label) one column (or build the ratings with from_long).")


def numeric_column(column):
    """A column's values as floats when every filled cell is a number, else None.

    Decided by the content, whatever the dtype: numbers, and strings that
    read as numbers (``" 2 "``, ``"1.0"``: a table read with
    ``read_csv(dtype=str)``, from Excel or JSON, or cast to ``string`` or
    ``category``). Cells that name nothing (:func:`is_missing_label`) are NaN.
    True/False, labels, tuples and complex numbers are not numbers. Each
    distinct value is read once.
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(
            dtype, pd.CategoricalDtype):
        if pd.api.types.is_complex_dtype(dtype):
            return None
        return column.to_numpy(dtype=float, na_value=np.nan)
    values = column.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(values)
    except TypeError:  # unhashable cells (lists): several labels, not numbers
        return None
    read = np.empty(len(uniques) + 1)
    read[-1] = np.nan  # code -1: None, NaN, NA
    for k, v in enumerate(uniques):
        if is_missing_label(v):
            read[k] = np.nan
        elif isinstance(v, bool | np.bool_ | complex | np.complexfloating):
            return None
        elif isinstance(v, numbers.Number):
            read[k] = float(v)
        elif isinstance(v, str | np.str_):
            try:
                read[k] = float(v.strip())
            except ValueError:
                return None
        else:
            return None
    return read[codes]


def numeric_content(y):
    """A DataFrame's cells as a float table when every filled cell is a
    number (:func:`numeric_column`, whatever the dtypes), else None."""
    if not isinstance(y, pd.DataFrame) or y.shape[1] == 0:
        return None
    cols = []
    for j in range(y.shape[1]):
        col = numeric_column(y.iloc[:, j])
        if col is None:
            return None
        cols.append(col)
    out = pd.DataFrame(np.column_stack(cols) if y.shape[0] else
                       np.zeros((0, y.shape[1])), index=y.index)
    out.columns = y.columns
    return out


def is_vote_table(y) -> bool:
    """True if ``y`` is a DataFrame whose every filled cell is a number (a
    vote-count table when its columns are labels), whatever its dtypes: a
    table read as text (``read_csv(dtype=str)``, Excel, JSON) or cast to
    ``category``/``string`` is read by its content."""
    return numeric_content(y) is not None


def align_annotations(X, y):
    """Return ``y`` in the row order of ``X``, checking that ids match.

    When both ``X`` (a DataFrame of utterances) and ``y`` (a table or Series)
    carry utterance ids, the ids must be the same set; ``y`` is reordered to
    follow ``X``. Otherwise only the lengths are compared.
    """
    from sklearn.utils.validation import _num_samples

    n_x = _num_samples(X)
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
    n_y = _num_samples(y)
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


def label_columns(y, known, label_map):
    """(columns whose names are labels: canonical emotions, ``known`` labels or
    ``label_map`` keys; columns that are not)."""
    ok, bad = [], []
    for c in y.columns:
        canon = canonical_label(c, label_map)
        is_label = canon in CANONICAL_EMOTIONS or (known is not None and canon in
                                                   known) or c in label_map
        (ok if is_label else bad).append(c)
    return ok, bad


def to_ratings(y, *, form="auto"):
    """Ratings (a Series of dtype ``"ratings"``) from any per-rater form.

    Accepts ratings (returned as they are), a wide annotation table (one
    column per rater, cells of labels) or 1-D labels (one rater, ``"label"``).
    A table of counts whose columns are labels holds no individual rating and
    is refused; a numeric table whose columns are *not* labels (``alice``,
    ``bob``, rater ids) is read here as raters' label codes: this is the
    function that chooses the rater reading of such a table
    (``form="raters"`` forces it for any table).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"A": [("sad", "angry"), None],
    ...                       "B": [("sad",), ("neutral",)]}, index=["u1", "u2"])
    >>> to_ratings(table)["u1"]
    {'A': ('sad', 'angry'), 'B': ('sad',)}
    >>> codes = pd.DataFrame({"alice": [1, 2], "bob": [1, None]})
    >>> to_ratings(codes).tolist()
    [{'alice': (1,), 'bob': (1,)}, {'alice': (2,)}]
    """
    if is_ratings(y):
        return y if isinstance(y, pd.Series) else pd.Series(y, name="ratings")
    if isinstance(y, pd.DataFrame):
        if form == "auto" and is_vote_table(y) and label_columns(y, None, {})[0]:
            raise AnnotationError(
                "A vote-count table (one column per label) holds no individual "
                "rating; it cannot become ratings (keep it as it is: every "
                "encoder reads it). If its columns are raters, pass "
                "form='raters'.")
        check_table_ids(y)
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
    raters = check_names(raters, "raters", "select_raters", unique=True, labels=False)
    if is_ratings(y):
        if y.array.kind == "votes":
            raise AnnotationError("Selecting raters needs individual ratings; these "
                                  "are vote counts.")
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
