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
def record_sigint():
    """Record every SIGINT (Ctrl-C) while raising it as usual.

    Yields a list that holds one entry per SIGINT received inside the
    context. It tells a real Ctrl-C from a ``KeyboardInterrupt`` raised by
    library code (skorch's early stopping stops training that way) or one
    swallowed by native code (openSMILE's callback). Outside the main thread,
    where signals cannot be handled, the list stays empty.
    """
    hit = []
    if threading.current_thread() is not threading.main_thread():
        yield hit
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # ignored (a worker) or the OS default
        yield hit
        return

    def handler(signum, frame):
        hit.append(signum)
        previous(signum, frame)  # Python's default raises KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield hit
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def catch_swallowed_interrupt():
    """Re-raise a Ctrl-C that native code swallowed.

    openSMILE's Python callback catches the ``KeyboardInterrupt`` raised
    while it runs and returns normally with one frame too few. Call the
    yielded function after the native call: it raises ``KeyboardInterrupt``
    if a SIGINT arrived meanwhile.
    """
    with record_sigint() as hit:
        def check():
            if hit:
                raise KeyboardInterrupt(
                    "interrupted (Ctrl-C) during feature extraction")

        yield check


#: Environment variable that fixes the torch threads of every fit.
THREADS_ENV = "SKLEARN_SER_TORCH_THREADS"


def fit_thread_count():
    """Torch threads for one fit: a fair share of the idle cores.

    ``$SKLEARN_SER_TORCH_THREADS`` when set. Otherwise torch's current
    setting (its default is every core; a parallel worker has already been
    given its share by :func:`use_torch_threads`), lowered to the cores the
    1-minute load average leaves idle (at least one): on a shared machine
    torch's spin-waiting threads slow a small recurrent network when the
    cores are busy (see :doc:`/defaults`).
    """
    import torch

    fixed = os.environ.get(THREADS_ENV)
    if fixed:
        try:
            value = int(fixed)
        except ValueError:
            raise ValueError(f"${THREADS_ENV}={fixed!r}: expected a positive "
                             "integer.") from None
        if value < 1:
            raise ValueError(f"${THREADS_ENV}={fixed!r}: expected a positive "
                             "integer.")
        return value
    current = torch.get_num_threads()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows)
        return current
    cores = os.cpu_count() or 1
    idle = max(1, int(round(cores - busy)))
    return max(1, min(current, idle))


@contextmanager
def torch_threads_for_fit():
    """Run a fit with :func:`fit_thread_count` torch threads, then restore the
    caller's setting."""
    import torch

    previous = torch.get_num_threads()
    wanted = fit_thread_count()
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def thread_count(n_jobs, whom):
    """Threads for ``n_jobs`` read as scikit-learn reads it: a positive count,
    -1 for every core, -2 for all but one (``cpu_count + 1 + n_jobs``);
    0 and counts below -cpu_count are refused naming the parameter."""
    cores = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"{whom}: n_jobs={n_jobs!r}; use a number of threads >= 1, "
                         "-1 for all cores or None.")
    threads = int(n_jobs) if n_jobs > 0 else cores + 1 + int(n_jobs)
    if threads < 1:
        raise ValueError(f"{whom}: n_jobs={n_jobs} leaves no thread on {cores} "
                         f"core(s); use -1 .. -{cores} or a count >= 1.")
    return threads
