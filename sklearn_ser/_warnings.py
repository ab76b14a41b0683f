"""Warnings that point at the user's own line.

A warning raised deep inside a ``Pipeline.fit`` under ``cross_validate`` would
otherwise be attributed to a line of scikit-learn or of sklearn-ser; a notebook
user wants to see the cell that caused it.
"""

from __future__ import annotations

import sys

#: Modules whose frames are skipped when looking for the user's call.
_INTERNAL = ("sklearn_ser", "sklearn", "skorch", "joblib", "imblearn", "numpy",
             "pandas", "scipy", "torch", "contextlib", "concurrent", "threading",
             "functools", "warnings", "loky", "dask", "distributed")


def _internal(frame):
    name = frame.f_globals.get("__name__", "") or ""
    return any(name == m or name.startswith(m + ".") for m in _INTERNAL)


def user_stacklevel():
    """``stacklevel`` for ``warnings.warn`` that lands on the first frame
    outside sklearn-ser and the libraries it runs under (scikit-learn, skorch,
    joblib, ...). Call it in the argument list of ``warnings.warn``."""
    frame = sys._getframe(1)  # the function about to call warnings.warn
    level = 1
    while frame is not None and _internal(frame):
        frame = frame.f_back
        level += 1
    return level
