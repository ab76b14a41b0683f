"""The target classes: a user's class list checked against the rated labels
(:func:`resolve_classes`, the rule of every encoder and estimator)."""

from __future__ import annotations

import numpy as np

from ..exceptions import AnnotationError
from ._check import check_annotations
from ._vocabulary import (
    build_label_map,
    check_label_spellings,
    check_names,
    normalize_label,
    shown,
)


def resolve_classes(annotations, classes=None, *, label_map=None):
    """The target classes of a table: given ones normalised, or every label seen.

    This is how every encoder and estimator of the toolkit decides its
    ``classes_``: ``classes`` when given (normalised, mapped by ``label_map``,
    checked for duplicates), else every label of ``annotations`` except
    ``"other"``. Sorted. (:func:`infer_classes` is stricter: only the labels
    that win a majority somewhere.)

    Parameters
    ----------
    annotations : ratings, annotation table, vote-count table or 1-D labels
    classes : array-like, default=None
    label_map : dict or "iemocap", default=None

    Returns
    -------
    classes : ndarray

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_classes(pd.Series(["sad", "Angry", "other"]))
    array(['anger', 'sadness'], dtype=object)
    >>> resolve_classes(None, ["Happy", "sad"], label_map="iemocap")
    array(['happiness', 'sadness'], dtype=object)
    """
    label_map = build_label_map(label_map)  # idempotent on a normalised map
    if classes is not None:
        out = _class_names(classes, label_map)
        if len(out) == 0:
            raise ValueError("classes must name at least one target class.")
        if annotations is not None:  # "Calm" beside a rated "calm" is refused
            ratings = check_annotations(annotations, label_map=label_map)
            check_label_spellings(out, list(ratings.array.vocabulary),
                                  "class list", counted=False)
            check_classes_rated(out, ratings.array.vocabulary)
    else:
        ratings = check_annotations(annotations, label_map=label_map)
        out = [lab for lab in ratings.array.vocabulary if lab != "other"]
        if not out:
            raise AnnotationError(
                "No target class could be inferred: the only label seen is "
                "'other'. Pass classes=[...]."
            )
    try:
        out = sorted(out)
    except TypeError as exc:
        raise ValueError(
            f"Target classes must be of one type to be sorted; got {out}."
        ) from exc
    return np.asarray(out, dtype=object if any(isinstance(c, str) for c in out)
                      else None)


def check_classes_rated(classes, rated, *, what="class list"):
    """Refuse a class no rating holds when a rated label left out of
    ``classes`` is close to it (a typo: "hapiness" for "happiness" would
    never be a target, and happiness never predicted); refuse classes none of
    which is rated (every target would be empty).

    A class no rating holds and no rated label resembles is left to the
    estimators, which warn about it by name (a fold may lack a class).

    Raises
    ------
    AnnotationError
        Naming the class and the closest rated label ("did you mean ...?").
    """
    import difflib

    rated = list(rated)
    if not rated:
        return
    unrated = [c for c in classes if c not in set(rated)]
    if len(unrated) == len(list(classes)):
        raise AnnotationError(
            f"None of the {what} {[str(c) for c in classes][:8]} is a label of any "
            f"rating; the ratings hold {[str(v) for v in rated][:10]}: every "
            "target would be empty. Name classes as the ratings do (or map the "
            "labels with label_map).")
    spare = [v for v in rated if isinstance(v, str) and v not in set(classes)]
    for c in unrated:
        if not isinstance(c, str):
            continue
        close = difflib.get_close_matches(c, spare, n=1, cutoff=0.75)
        if close:
            raise AnnotationError(
                f"The {what} names {shown(c)}, which no rating holds; did you mean "
                f"{shown(close[0])}? (rated, and left out of the classes). As "
                f"written, {c!r} would never be a target and {close[0]!r} never "
                "predicted.")


def _class_names(classes, label_map, whom=None):
    """``classes`` checked (:func:`check_names`), normalised and mapped by the
    (built) ``label_map``, in the given order; a class named twice once
    normalised is refused."""
    given = check_names(classes, "classes", whom)
    out = [label_map.get(normalize_label(c), normalize_label(c)) for c in given]
    if len(set(out)) != len(out):
        raise ValueError(
            f"{whom + ': ' if whom else ''}classes {given} name a class twice after "
            f"normalisation and label_map: {out}."
        )
    return out
