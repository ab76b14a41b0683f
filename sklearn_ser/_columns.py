"""Probability tables read by column name: the one rule of every input that
holds one column per class (the distribution metrics, the fusions)."""

from __future__ import annotations

from .annotations import build_label_map, canonical_label, check_label_spellings
from .exceptions import AnnotationError


def is_unnamed(columns):
    """Whether a table's columns carry no names: pandas' default 0..K-1."""
    import pandas as pd

    return isinstance(columns, pd.RangeIndex) and columns.start == 0 and (
        columns.step == 1)


def columns_by_name(names, classes, *, label_map=None, what="y_proba"):
    """Positions of ``classes`` among a table's column ``names``: the one rule
    by which every probability table is read (columns by name, never by
    position).

    Names and classes are compared as labels are (:func:`canonical_label`
    with ``label_map``): ``"Angry"`` is the class ``"anger"``. A name that
    differs from a class only in case, spaces, Unicode form or invisible
    characters is refused (:func:`check_label_spellings`), and so is a table
    whose names are not the classes (one missing, one extra, one twice).

    Returns
    -------
    positions : list of int
        ``names[positions[k]]`` is ``classes[k]``.

    Raises
    ------
    ValueError
        Naming the classes the table lacks and the names that are no class.

    Examples
    --------
    >>> columns_by_name(["sad", "Angry"], ["anger", "sadness"])
    [1, 0]
    """
    lm = build_label_map(label_map)
    names = list(names)
    read = [canonical_label(c, lm) for c in names]
    want = [canonical_label(c, lm) for c in classes]
    check_label_spellings(read, want, f"{what} table", counted=False,
                          consequence="its column would be read as no class",
                          advice="Name the columns as the classes are named.",
                          of="the class")
    twice = sorted({str(v) for v in read if read.count(v) > 1})
    if twice:
        raise AnnotationError(f"The {what} table names {twice} in two columns.")
    lacking = [c for c in want if c not in read]
    extra = [n for n, r in zip(names, read, strict=True) if r not in want]
    if lacking or extra:
        raise AnnotationError(
            f"The {what} table's columns {names[:10]} are not the classes "
            f"{list(classes)[:10]}: "
            + "; ".join(part for part in (
                f"no column for {lacking[:8]}" if lacking else "",
                f"columns {extra[:8]} are no class" if extra else "") if part)
            + ". Its columns are read by name: name each column after its class "
            "(or pass an array, whose columns are the classes in order).")
    return [read.index(c) for c in want]
