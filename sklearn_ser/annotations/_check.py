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

import pandas as pd
from sklearn.utils.validation import _num_samples

from ..exceptions import AnnotationError
from ._forms import _raw_ratings
from ._parse import _parse
from ._ratings import RatingsArray, is_ratings
from ._table import (
    align_annotations,
)
from ._vocabulary import (
    CANONICAL_EMOTIONS,
    build_label_map,
    canonical_label,
    check_names,
)

__all__ = ["FORMS", "check_annotations"]


#: The forms ``check_annotations(form=...)`` can be told to read.
FORMS = ("auto", "ratings", "raters", "votes", "multi_hot", "labels")


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
