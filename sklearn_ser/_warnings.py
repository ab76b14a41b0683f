"""Warnings that point at the user's own line.

A warning raised deep inside a ``Pipeline.fit`` under ``cross_validate`` would
otherwise be attributed to a line of scikit-learn or of sklearn-ser; a notebook
user wants to see the cell that caused it.
"""

from __future__ import annotations

import re
import sys
import warnings
from contextlib import contextmanager

from ._errors import SERWarning

#: Modules whose frames are skipped when looking for the user's call.
_INTERNAL = ("sklearn_ser", "sklearn", "skorch", "joblib", "imblearn", "numpy",
             "pandas", "scipy", "torch", "contextlib", "concurrent", "threading",
             "functools", "warnings", "loky", "dask", "distributed")


def _internal(frame):
    name = frame.f_globals.get("__name__", "") or ""
    return any(name == m or name.startswith(m + ".") for m in _INTERNAL)


def _user_frame(frame, level):
    """The first frame from ``frame`` (at ``stacklevel`` ``level``) outside
    sklearn-ser and the libraries it runs under (scikit-learn, skorch,
    joblib, ...), and its stacklevel; (None, beyond the stack) when all are."""
    while frame is not None and _internal(frame):
        frame = frame.f_back
        level += 1
    return frame, level


#: (category, cause, file, line, filters) already said
_REPORTED: set = set()

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def cause_of(message):
    """A warning's cause: its text with the numbers and quoted names (counts,
    shares, utterance ids, fold names) taken out. Messages that differ only
    in those are one cause."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", str(message)))


def _action(message, category, module, lineno):
    """The action the warning filters give (the first filter that matches,
    as ``warnings.warn`` decides)."""
    for action, msg, cat, mod, line in warnings.filters:
        if ((msg is None or msg.match(message)) and issubclass(category, cat)
                and (mod is None or mod.match(module))
                and (line == 0 or line == lineno)):
            return action
    return warnings.defaultaction


def _filters_said():
    """What the warning filters say (patterns as text: a filter re-added from
    a copy has its module compiled)."""
    return tuple((action, getattr(msg, "pattern", msg), cat,
                  getattr(mod, "pattern", mod), line)
                 for action, msg, cat, mod, line in warnings.filters)


def _said_before(message, category, filename, lineno, module):
    """True when this cause was said at this place under the same filters
    and the filters do not ask for every warning."""
    key = (category, cause_of(message), filename, lineno, _filters_said())
    if key in _REPORTED and _action(str(message), category, module, lineno) in (
            "default", "module", "once"):
        return True
    _REPORTED.add(key)
    return False


def ser_warn(message, category):
    """``warnings.warn`` at the user's own line, once per cause and line.

    Python's "default" action shows a warning once per line of the user's
    code *and text*; a grid search or ``cross_validate`` then repeats, in
    every fold and candidate, warnings that differ only in their counts or
    ids. Here a repeat of the same cause (:func:`cause_of`) from the same user
    line is not shown again while the warning filters say the same (a copy
    of them, as scikit-learn's ``Parallel`` gives every fit, is the same). Filters
    that ask for every warning (``"always"``, ``"error"``) get every one.
    """
    # stacklevel 2: the function that called ser_warn
    frame, level = _user_frame(sys._getframe(1), 2)
    if frame is None:
        filename, lineno, module = "sys", 1, "sys"
    else:
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
        module = frame.f_globals.get("__name__", "") or ""
    if not _said_before(message, category, filename, lineno, module):
        warnings.warn(message, category, stacklevel=level)


def rewarn(caught):
    """Say again a warning recorded by ``catch_warnings(record=True)`` (a
    component's, in a meta-estimator), at its own place, once per cause."""
    if not _said_before(caught.message, caught.category, caught.filename,
                        caught.lineno, ""):
        warnings.warn_explicit(caught.message, caught.category, caught.filename,
                               caught.lineno)


#: A count in a warning's text: an integer followed by " of " or by a counted
#: noun ("3 utterance(s)", "2 entr(y/ies)"), the total after "of", or a
#: reason's count ("(tie: 3, unrated: 1)").
_COUNT = re.compile(r"(?<![\w.=/:%-])\d+(?= of | [\w-]*\((?:s|y/ies)\))"
                    r"|(?<= of )\d+(?!\.\d|[\w%])"
                    r"|(?<=\w: )\d+(?=[,)])")


def summed_message(messages):
    """One text for repeats of one cause: the first message with each count
    (:data:`_COUNT`) replaced by the sum of that count over all of them."""
    first = str(messages[0])
    if len(messages) == 1:
        return first
    columns = [[int(m.group()) for m in _COUNT.finditer(str(text))]
               for text in messages]
    width = len(columns[0])
    summed = width and all(len(c) == width for c in columns)
    if summed:
        totals = iter([sum(c[k] for c in columns) for k in range(width)])
        first = _COUNT.sub(lambda m: str(next(totals)), first)
    how = "counts summed over them" if summed else "the first shown"
    return f"{first} [{len(messages)} warnings of this cause; {how}]"


@contextmanager
def summed_warnings():
    """Say each cause once, with its counts summed, at the end of the block.

    ``with summed_warnings(): search.fit(X, y)``: every sklearn-ser warning
    raised inside (each fold and candidate of a search or ``cross_validate``)
    is held back; on leaving the block each cause is said once, at the line
    it came from, with the counts of its repeats summed ("left out 12 of 320
    utterances [15 warnings of this cause; counts summed over them]").
    Without it a cause is said once per line, with the first fit's counts.
    Other warnings pass as usual. Warnings raised in worker processes
    (``n_jobs`` > 1) are printed there and cannot be summed.
    """
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SERWarning)
            yield
    finally:
        failing = sys.exc_info()[0] is not None
        try:
            _say_summed(caught, SERWarning)
        except Exception:
            if not failing:  # a warning made an error by the user's filters
                raise
            # an error already leaves the block: it is the one to see


def _say_summed(caught, base):
    groups = {}
    for w in caught:
        if not issubclass(w.category, base):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        key = (w.category, cause_of(w.message), w.filename, w.lineno)
        groups.setdefault(key, []).append(w.message)
    for (category, _, filename, lineno), messages in groups.items():
        warnings.warn_explicit(summed_message(messages), category, filename, lineno)
