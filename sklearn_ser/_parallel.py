"""joblib helpers shared by the feature extractors and the command line."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

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


def torch_thread_share(n_jobs, n_tasks=None):
    """Torch threads for each of ``n_jobs`` parallel workers (at most
    ``n_tasks`` of them busy), so that together they use the cores once; None
    for a single worker (torch keeps its default). Without it every worker
    starts a thread pool over all cores, and the spin-waiting pools
    oversubscribe the machine many times over."""
    workers = joblib.effective_n_jobs(n_jobs)
    if n_tasks is not None:
        workers = min(workers, n_tasks)
    if workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // workers)


def use_torch_threads(threads):
    """In a worker: apply the share from :func:`torch_thread_share`."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


@contextmanager
def catch_swallowed_interrupt():
    """Re-raise a Ctrl-C that native code swallowed.

    openSMILE's Python callback catches the ``KeyboardInterrupt`` raised
    while it runs and returns normally with one frame too few. Inside this
    context a SIGINT is recorded as well as raised; call the yielded
    function after the native call: it raises ``KeyboardInterrupt`` if one
    arrived. Outside the main thread (where signals cannot be handled) it
    does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    hit = []
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        hit.append(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def check():
        if hit:
            raise KeyboardInterrupt("interrupted (Ctrl-C) during feature extraction")

    signal.signal(signal.SIGINT, handler)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)
