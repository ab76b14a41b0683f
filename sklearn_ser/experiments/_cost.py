"""What a comparison will cost, said before it starts.

The rule: each method's training seconds grow with the hours of audio it
trains on (every fold trains on the other folds' audio), the features with
the hours of the corpus; ``min(n_jobs, cores)`` jobs run at a time. The
rates are measured, not written here: ``costs.json`` beside this module is
the output of ``benchmarks/bench_cost.py --write-costs`` (the machine, the
date and the command are in it), and the docs page "Choosing a method"
gives the figures.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import numpy as np

#: The measured rates (written by ``benchmarks/bench_cost.py --write-costs``).
COSTS_FILE = Path(__file__).with_name("costs.json")

#: A comparison estimated to take longer than this (seconds) is announced.
ANNOUNCE_AFTER = 300.0


@cache
def measured_rates():
    """The rates of ``costs.json`` (``{}`` when the file is absent)."""
    if not COSTS_FILE.is_file():
        return {}
    return json.loads(COSTS_FILE.read_text())


def audio_hours(utterances):
    """Hours of audio of an utterance table (its files' lengths, or its
    waveforms'); None when neither can be read."""
    import soundfile as sf

    if "path" in utterances.columns:
        seconds = 0.0
        for path in utterances["path"]:
            try:
                seconds += sf.info(str(path)).duration
            except (RuntimeError, OSError, TypeError):
                return None  # named by the extractor when it reads it
        return seconds / 3600
    if "audio" in utterances.columns and "sample_rate" in utterances.columns:
        n = sum(len(np.asarray(a)) / float(sr) for a, sr in zip(
            utterances["audio"], utterances["sample_rate"], strict=True))
        return n / 3600
    return None


def _parallel_jobs(n_jobs):
    cores = os.cpu_count() or 1
    n = 1 if n_jobs is None else int(n_jobs)
    if n < 0:  # scikit-learn's reading: -1 every core, -2 all but one...
        n = cores + 1 + n
    return max(1, min(n, cores))


def estimate_seconds(methods, hours, n_folds, seeds, n_jobs, rates=None):
    """(wall seconds, methods without a measured rate) of a leave-one-group-out
    comparison of ``methods`` (fusions' members included by the caller) on
    ``hours`` of audio in ``n_folds`` folds, ``n_jobs`` jobs at a time."""
    rates = measured_rates() if rates is None else rates
    per_hour = rates.get("fit_seconds_per_training_hour", {})
    unknown = [m for m in methods if m not in per_hour]
    train_hours = hours * max(n_folds - 1, 1)  # summed over the folds
    job_seconds = sum(per_hour.get(m, 0.0) for m in methods) * train_hours * seeds
    parallel = _parallel_jobs(n_jobs)
    # the feature rate is wall seconds measured with ``rates["n_jobs"]`` jobs
    features = (rates.get("feature_seconds_per_hour", 0.0) * hours
                * rates.get("n_jobs", 1) / parallel)
    return features + job_seconds / parallel, unknown


def announcement(methods, utterances, n_folds, seeds, n_jobs, rates=None):
    """The line ``sklearn-ser benchmark`` prints before a long comparison
    (None when it should take less than :data:`ANNOUNCE_AFTER` or nothing
    is measured)."""
    rates = measured_rates() if rates is None else rates
    if not rates:
        return None
    hours = audio_hours(utterances)
    if not hours:
        return None
    seconds, unknown = estimate_seconds(methods, hours, n_folds, seeds, n_jobs, rates)
    if seconds < ANNOUNCE_AFTER:
        return None
    minutes = seconds / 60
    span = (f"{minutes / 60:.1f} h" if minutes >= 90 else f"{minutes:.0f} min")
    line = (f"sklearn-ser: this comparison should take about {span} "
            f"({len(methods)} methods x {n_folds} folds x {seeds} seed(s) on "
            f"{hours:.1f} h of audio, {_parallel_jobs(n_jobs)} job(s) at a time; rates "
            f"measured on {rates.get('machine', 'the reference machine')}). "
            "--methods, --quick or more --n-jobs shorten it; the docs page "
            "'Choosing a method' says what each method costs.")
    if unknown:
        line += f" No rate is measured for {unknown}: they are not counted."
    return line


def help_line(methods, n_folds=5):
    """One line for ``sklearn-ser benchmark --help``: what ``methods`` cost
    per hour of audio (one seed, ``n_folds`` folds, the measured machine's
    cores), from ``costs.json``."""
    rates = measured_rates()
    if not rates:
        return ""
    jobs = rates.get("n_jobs", 1)
    seconds, unknown = estimate_seconds(list(methods), 1.0, n_folds, 1, jobs, rates)
    if unknown:
        return ""
    return (f"Cost: the default comparison takes about {seconds / 60:.0f} min per "
            f"hour of audio per seed ({n_folds} folds, {jobs} jobs, measured on "
            f"{rates.get('machine', 'the reference machine')}); it says its "
            "estimate before it starts when it is long.")
