"""Walking a fitted estimator's parts (package-wide plumbing)."""

from __future__ import annotations


def estimators_in(obj, seen=None):
    """Every estimator inside ``obj``, ``obj`` first, each once: pipeline
    steps, fitted members (``estimators_``) and a wrapped ``estimator`` (a
    ``FrozenEstimator``'s)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or not hasattr(obj, "get_params"):
        return
    seen.add(id(obj))
    yield obj
    for part in ([s for _, s in getattr(obj, "steps", [])]
                 + list(getattr(obj, "estimators_", None) or [])
                 + [getattr(obj, "estimator", None)]):
        yield from estimators_in(part, seen)
