"""Emotion label names: canonical spellings and the aliases corpora use.

Corpora spell the same emotion in many ways: IEMOCAP writes ``"Neutral state"``
in its per-evaluator lines and ``"neu"`` in its summary lines, CREMA-D uses
``"NEU"`` in file names, crowd tables write ``"Neutral"``. All of them are
normalised to one canonical lower-case name (``"neutral"``). Strings that are
not a known alias are kept exactly as given, so arbitrary label sets (``"pos"``,
``"A"``, integers) pass through untouched.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._text import shown, spelling_key, unicode_key  # noqa: F401
from ..exceptions import AnnotationError

#: Canonical emotion names known to the toolkit.
CANONICAL_EMOTIONS = (
    "anger",
    "boredom",
    "contempt",
    "disgust",
    "excitement",
    "fear",
    "frustration",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
    "other",
)

_ALIASES = {
    "anger": ["angry", "ang", "anger", "wut"],
    "boredom": ["bored", "boredom", "bor", "langeweile"],
    "contempt": ["contempt", "con", "contemptuous"],
    "disgust": ["disgust", "disgusted", "dis", "ekel"],
    "excitement": ["excited", "excitement", "exc"],
    "fear": ["fear", "fearful", "fea", "afraid", "angst"],
    "frustration": ["frustration", "frustrated", "fru"],
    "happiness": ["happiness", "happy", "hap", "joy", "freude"],
    "neutral": ["neutral", "neutral state", "neu", "neutrality"],
    "sadness": ["sadness", "sad", "trauer"],
    "surprise": ["surprise", "surprised", "sur"],
    "other": ["other", "others", "oth"],
}

#: alias (lower case, single spaces) -> canonical name
LABEL_ALIASES = {
    alias: canonical for canonical, aliases in _ALIASES.items() for alias in aliases
}

#: IEMOCAP's usual four-class setup merges excitement into happiness.
IEMOCAP_LABEL_MAP = {"excitement": "happiness"}


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover
        return False


#: Strings that mean "no value" wherever a label is read (ratings, truth
#: columns, a metric's y_true, class names), compared after stripping and
#: lower-casing: pandas' own missing-value strings (what ``read_csv`` reads as
#: NaN by default: "NA", "N/A", "#N/A", "NULL", "NaN", "None"...), "" and
#: white space, and the dash and question mark that rating sheets use for
#: "not rated".
MISSING_STRINGS = frozenset({
    "", "#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind",
    "1.#qnan", "<na>", "n/a", "na", "null", "nan", "none", "-", "--", "?"})


def is_missing_label(value) -> bool:
    """Whether one label value names nothing: None, NaN, pandas NA, or a
    string of :data:`MISSING_STRINGS` ("NA", "n/a", "#N/A", "null", "-",
    "?", "" or white space...), in any case.

    The one rule of "no label" of the package: the ratings drop such a
    rating (with a warning that counts them), a truth column leaves the row
    out of its score, a metric refuses it in ``y_true``, and no list of
    classes may name it.

    Examples
    --------
    >>> [is_missing_label(v) for v in ["NA", " n/a ", "-", "", None, "anger"]]
    [True, True, True, True, True, False]
    """
    if _is_missing(value):
        return True
    if isinstance(value, str | np.str_):
        return unicode_key(str(value)).strip().lower() in MISSING_STRINGS
    return False


def missing_label_mask(values):
    """:func:`is_missing_label` over an array of labels (a boolean array),
    each distinct value read once (cheap at corpus scale)."""
    import pandas as pd

    values = np.asarray(values, dtype=object).ravel()
    try:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    except TypeError:  # unhashable cells (lists): one at a time
        return np.array([is_missing_label(v) for v in values], dtype=bool)
    flags = np.array([is_missing_label(v) for v in uniques] + [True], dtype=bool)
    return flags[codes]  # code -1 (None, NaN, NA) is missing


def missing_values_named(uniques, marker, any_na):
    """The values a drop left out, for its warning: the distinct strings
    ``uniques[marker]`` (repr'd, sorted), after "None/NaN" when ``any_na`` or
    a non-string value was among them."""
    seen = sorted({repr(str(v)) for v in uniques[marker] if isinstance(v, str)})
    if any_na or len(seen) < int(np.sum(marker)):
        seen = ["None/NaN", *seen]
    return ", ".join(seen)


def truth_labels(values, *, label_map=None, labels=None, name="truth column"):
    """A column of intended emotions (one label per utterance), read once.

    Each value is read as the ratings' labels are: ``None`` where it names
    nothing (:func:`is_missing_label`), else its canonical spelling
    (:func:`canonical_label` with ``label_map``; numbers as
    :func:`normalize_label` keeps them). Each distinct value is read once
    (cheap at corpus scale). The one reading of a truth column: the command
    line's ``--truth-column``, :func:`~sklearn_ser.datasets.load_corpus`'
    ``truth_column`` and ``ser_scoring(truth=...)`` all use it.

    Parameters
    ----------
    values : array-like of shape (n_utterances,)
    label_map : dict or "iemocap", default=None
    labels : list, default=None
        The labels the truth is compared with (the rated labels, or the
        classes). A truth label that is none of them but differs from one only
        in case or spaces (``"Pos"`` beside ``"pos"``) is refused, as the
        ratings refuse two spellings of one label: compared as written, every
        such utterance would silently score as wrong or be left out.
    name : str, default="truth column"
        What the values are, for the error message.

    Returns
    -------
    ndarray of object, shape (n_utterances,)

    Raises
    ------
    AnnotationError
        A label that differs from one of ``labels`` only in case, spaces,
        Unicode form or invisible characters.

    Examples
    --------
    >>> truth_labels(["Angry", "NA", " sad ", None]).tolist()
    ['anger', None, 'sadness', None]
    """
    import pandas as pd

    mapping = build_label_map(label_map)
    values = pd.Series(np.asarray(values, dtype=object).ravel(), dtype=object)
    codes, uniques = pd.factorize(values)  # None/NaN get code -1
    read = [None if is_missing_label(v) else canonical_label(v, mapping)
            for v in uniques]
    out = np.array([*read, None], dtype=object)[codes]
    if labels is not None:
        check_label_spellings(out, check_names(labels, "labels", "truth_labels"),
                              name)
    return out


#: What the spelling rule ignores, for messages.
SPELLING_RULE = "case, spaces, Unicode form or invisible characters"


_spelling_key = spelling_key


def check_label_spellings(read, labels, name, *, counted=True,
                          consequence="no rating would count for it",
                          advice="Write it as the ratings do, or map it with "
                                 "label_map.",
                          of="the rated label"):
    """Refuse a value of ``read`` that is not one of ``labels`` but differs
    from one only in case, spaces, Unicode form or invisible characters.

    The one rule of spellings, where a name written by the user meets the
    labels of the data: a truth column against the rated labels
    (:func:`truth_labels`), given classes and ``label_map`` keys against
    them (every fit), a metric's ``labels`` and ``y_pred`` against its
    ``y_true``. Compared as written, ``"Calm"`` would never match a rated
    ``"calm"`` and the utterances concerned would silently score as wrong or
    be left out; the ratings themselves refuse two such spellings.

    Parameters
    ----------
    read : iterable
        The values to check (None is skipped).
    labels : iterable
        The labels they are compared with.
    name : str
        What ``read`` is, for the message ("truth column", "class list"...).
    counted : bool, default=True
        Say how many values of ``read`` are the offending label (utterances).
    consequence, advice, of : str
        The message's end when ``counted`` is False, what to do, and what
        ``labels`` are.

    Raises
    ------
    AnnotationError
        Naming the first offending value, the label it resembles, and how
        many such values there are.

    Examples
    --------
    >>> check_label_spellings(["calm", "low"], ["calm", "low"], "class list")
    >>> check_label_spellings(["Calm"], ["calm"], "class list", counted=False)
    Traceback (most recent call last):
    ...
    sklearn_ser.exceptions.AnnotationError: The class list writes 'Calm', which ...
    """
    known = set(labels)
    keys = {_spelling_key(c): c for c in labels if isinstance(c, str)}
    present = {v for v in read if v is not None}
    clash = sorted((v, keys[_spelling_key(v)]) for v in present
                   if isinstance(v, str) and v not in known
                   and _spelling_key(v) in keys)
    if clash:
        label, like = clash[0]
        n = int(sum(1 for v in read if v == label))
        raise AnnotationError(
            f"The {name} writes {shown(label)}"
            + (f" ({n} utterance(s))" if counted else "")
            + f", which differs only in {SPELLING_RULE} from {of} {shown(like)}"
            + (f" ({len(clash)} such labels: "
               + ", ".join(f"{shown(a)}/{shown(b)}" for a, b in clash[:5]) + ")"
               if len(clash) > 1 else "")
            + "; compared as written, "
            + ("those utterances would never match" if counted else consequence)
            + ". " + advice)


def check_names(values, what="classes", whom=None, *, unique=False, labels=True):
    """A user's list of labels or rater names, checked once: a list.

    The one check of every list-of-names parameter (``classes``, a metric's
    ``labels``, ``raters``): a string (or bytes) is refused rather than read
    as its characters (``classes="anger"`` was ``['a', 'e', 'g', 'n', 'r']``),
    an entry that names nothing is refused by position (``labels=True``, for
    classes and a metric's labels: every value :func:`is_missing_label` reads
    as "no label", as the ratings do: None, NaN, pandas NA, "", "NA", "-"...;
    ``labels=False``, for raters, sessions and other names: None, NaN and
    blanks, as "NA" may be a rater's initials), and any
    other iterable (list, tuple, array, Index, Series, generator) is read
    once. ``unique=True`` refuses a name given twice (raters: their ratings
    would count twice); otherwise repeats are left to the caller, which
    compares names after its own normalisation (classes: "Angry" and
    "anger" are one).

    Raises
    ------
    ValueError
        Naming ``what`` (and ``whom``, the caller) and the offending entry.

    Examples
    --------
    >>> check_names(("anger", "sadness"))
    ['anger', 'sadness']
    >>> check_names("anger")
    Traceback (most recent call last):
    ...
    ValueError: classes must be a list of names, not the string 'anger' (which \
would be read as its characters); write ['anger'].
    """
    who = f"{whom}: " if whom else ""
    if isinstance(values, str | bytes):
        raise ValueError(
            f"{who}{what} must be a list of names, not the string {values!r} "
            f"(which would be read as its characters); write [{values!r}].")
    try:
        out = list(values)
    except TypeError:
        raise ValueError(f"{who}{what} must be a list of names; got "
                         f"{type(values).__name__} {values!r}.") from None
    bad = [(i, v) for i, v in enumerate(out)
           if (is_missing_label(v) if labels else
               _is_missing(v) or (isinstance(v, str) and not v.strip()))]
    if bad:
        i, v = bad[0]
        raise ValueError(
            f"{who}{what} {out[:12]} hold{'s' if len(bad) == 1 else ''} "
            f"{len(bad)} entr{'y' if len(bad) == 1 else 'ies'} that name"
            f"{'s' if len(bad) == 1 else ''} nothing (first at position {i}: "
            f"{v!r}); every entry must be a name.")
    if unique:
        from collections import Counter

        twice = sorted(str(k) for k, n in Counter(out).items() if n > 1)
        if twice:
            raise ValueError(f"{who}{what} {twice[:8]} are named twice; each must "
                             "be named once.")
    return out


def normalize_label(label):
    """Return the canonical spelling of one emotion label.

    Known aliases are matched case-insensitively, ignoring surrounding white
    space, repeated inner spaces and a trailing ``";"``. Anything else,
    including numbers, is returned unchanged.

    Examples
    --------
    >>> normalize_label("Neutral state")
    'neutral'
    >>> normalize_label("  HAP ")
    'happiness'
    >>> normalize_label("pos")
    'pos'
    >>> normalize_label(3)
    3
    """
    if isinstance(label, np.str_):
        label = str(label)
    if not isinstance(label, str):
        if isinstance(label, numbers.Integral) and not isinstance(label, bool):
            return int(label) if isinstance(label, np.integer) else label
        return label
    key = _spelling_key(unicode_key(label).strip().rstrip(";"))
    return LABEL_ALIASES.get(key, label)


def build_label_map(label_map):
    """Validate and normalise a user's label map (keys and values)."""
    if label_map is None:
        return {}
    if isinstance(label_map, str):
        if label_map.lower() == "iemocap":
            return dict(IEMOCAP_LABEL_MAP)
        raise ValueError(
            f"label_map={label_map!r} is not a known preset; pass a dict such as "
            "{'excitement': 'happiness'} or the preset 'iemocap'."
        )
    if not hasattr(label_map, "items"):
        raise TypeError(
            "label_map must be a dict mapping a label to the label it counts as, "
            f"e.g. {{'excitement': 'happiness'}}; got {type(label_map).__name__}."
        )
    return {normalize_label(k): normalize_label(v) for k, v in label_map.items()}


def canonical_label(label, label_map):
    """Normalise ``label`` and then apply the (already normalised) label map."""
    label = normalize_label(label)
    return label_map.get(label, label)

