"""joblib helpers shared by the feature extractors and the command line."""

from __future__ import annotations

import joblib


def parallel(n_jobs):
    """A ``joblib.Parallel`` that yields results as they finish when the
    active backend can (loky, threading, dask), and returns a list otherwise
    (Ray's backend has no generator output); both are iterated the same way."""
    from joblib.parallel import get_active_backend

    backend = get_active_backend()[0]
    as_generator = getattr(backend, "supports_return_generator", False)
    return joblib.Parallel(n_jobs=n_jobs,
                           return_as="generator" if as_generator else "list")
