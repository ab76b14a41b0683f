"""Crowd-scale ratings: time and peak memory of the rating layer.

Synthetic crowds of three shapes (seeded), each measured in its own process
(so that peak RSS belongs to that shape alone):

* CREMA-D shape: 7,442 utterances, 2,443 raters, 9 ratings each (67k);
* 10x: 74,420 utterances, 5,000 raters, 6 ratings each (447k);
* MSP-Podcast-like: 200,000 utterances, 10,000 raters, 6 ratings (1.2M).

For each: ``from_long``, ``fit_transform`` of HardLabels / SoftLabels /
ExistenceLabels / RaterLabels, ``rater_counts``, one cross-validation split
(``LeaveOneGroupOut`` train slice through scikit-learn's ``_safe_indexing``,
then HardLabels on it), StackedAnnotatorClassifier's rater-group profiles
(k-means over per-rater vote shares), and the pandas baseline in the same
process: ``groupby([utterance, label]).size().unstack()`` of the same long
table. With ``--crowdkit`` also Dawid-Skene (50 iterations) through
``AggregatedLabels`` against crowd-kit alone on the same ratings; with
``--wide`` (small shapes only) the wide one-column-per-rater table of the
previous releases, read by the same encoders, as a second baseline.

Run::

    python benchmarks/bench_ratings.py                 # all three shapes
    python benchmarks/bench_ratings.py --shapes crema-d --crowdkit --wide
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

SHAPES = {
    "crema-d": (7_442, 2_443, 9),
    "10x": (74_420, 5_000, 6),
    "msp-podcast": (200_000, 10_000, 6),
}
LABELS = np.array(["anger", "disgust", "fear", "happiness", "neutral", "sadness"],
                  dtype=object)


def synthetic_crowd(n_items, n_raters, per_item, seed=0):
    """Long table: every utterance rated by ``per_item`` distinct raters.

    Raters have a reliability (0.4-0.9); a rating is the utterance's true
    emotion with that probability, else a random one.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(LABELS), n_items)
    start = rng.integers(0, n_raters, n_items)
    step = rng.integers(1, max(2, n_raters // per_item), n_items)
    j = np.arange(per_item)
    raters = (start[:, None] + j[None, :] * step[:, None]) % n_raters
    skill = rng.uniform(0.4, 0.9, n_raters)
    correct = rng.random((n_items, per_item)) < skill[raters]
    noise = rng.integers(0, len(LABELS), (n_items, per_item))
    labels = np.where(correct, truth[:, None], noise)
    items = np.repeat(np.arange(n_items), per_item)
    return pd.DataFrame({
        "utterance": pd.Index([f"u{i:06d}" for i in range(n_items)])[items],
        "rater": pd.Index([f"r{k:05d}" for k in range(n_raters)])[raters.ravel()],
        "label": LABELS[labels.ravel()],
    }), truth


def _timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_shape(name, crowdkit=False, wide=False):
    from sklearn.model_selection import LeaveOneGroupOut
    from sklearn.utils import _safe_indexing

    from sklearn_ser.annotations import (
        ExistenceLabels,
        HardLabels,
        RaterLabels,
        SoftLabels,
        from_long,
        rater_counts,
        rater_profiles,
    )

    n_items, n_raters, per = SHAPES[name]
    long, _ = synthetic_crowd(n_items, n_raters, per)
    rss_data = peak_rss_mb()
    out = {"shape": name, "utterances": n_items, "raters": n_raters,
           "ratings": len(long)}
    out["pandas_groupby_s"], counts = _timed(
        lambda: long.groupby(["utterance", "label"]).size().unstack(fill_value=0), 3)
    out["from_long_s"], y = _timed(lambda: from_long(long, multiple="error"))
    out["ratings_MB"] = round(y.array.nbytes / 2**20, 1)
    out["long_table_MB"] = round(long.memory_usage(deep=True).sum() / 2**20, 1)
    results = {}
    for enc in (HardLabels(), SoftLabels(), ExistenceLabels()):
        name_ = type(enc).__name__
        out[f"{name_}_s"], results[name_] = _timed(lambda e=enc: e.fit_transform(y))
    hard = results["HardLabels"]
    # a second encoder on the same Series reuses the cached parse
    out["together_s"] = round(out["from_long_s"] + out["HardLabels_s"]
                              + out["SoftLabels_s"] + out["ExistenceLabels_s"], 3)
    busiest = long["rater"].value_counts().index[0]
    out["RaterLabels_s"], _ = _timed(
        lambda: RaterLabels(busiest, "soft").fit_transform(y))
    out["rater_counts_s"], rc = _timed(lambda: rater_counts(y))
    groups = np.arange(n_items) % 5
    train, _ = next(LeaveOneGroupOut().split(np.zeros(n_items), groups=groups))

    def split():
        part = _safe_indexing(y, train)
        return HardLabels().fit_transform(part)
    out["cv_split_hard_s"], _ = _timed(split)
    out["rater_profiles_s"], _ = _timed(
        lambda: rater_profiles(y, sorted(LABELS), list(rc.index)))
    worst = max(out[k] for k in ("HardLabels_s", "SoftLabels_s",
                                 "ExistenceLabels_s"))
    out["worst_encoder_vs_pandas"] = round(worst / out["pandas_groupby_s"], 1)
    agree = (hard.to_numpy() == counts.idxmax(axis=1).reindex(y.index).to_numpy())
    out["hard_equals_groupby_argmax_where_unique"] = bool(
        agree[hard.notna().to_numpy()].all())
    if crowdkit:
        import crowdkit.aggregation as ck

        from sklearn_ser.annotations import AggregatedLabels
        tasks = long.rename(columns={"utterance": "task", "rater": "worker"})
        out["crowdkit_ds_s"], theirs = _timed(
            lambda: ck.DawidSkene(n_iter=50).fit(tasks).labels_)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["AggregatedLabels_ds_s"], ours = _timed(
                lambda: AggregatedLabels("dawid_skene", "hard", n_iter=50)
                .fit_transform(y))
        out["ds_ratio"] = round(out["AggregatedLabels_ds_s"] / out["crowdkit_ds_s"], 2)
        out["ds_same_labels"] = float(
            (ours.to_numpy() == theirs.reindex(y.index).to_numpy()).mean())
    if wide:
        from sklearn_ser.annotations import to_wide
        out["wide_build_s"], table = _timed(lambda: to_wide(y))
        out["wide_HardLabels_s"], _ = _timed(lambda: HardLabels().fit_transform(table))
        out["wide_SoftLabels_s"], _ = _timed(lambda: SoftLabels().fit_transform(table))
        out["wide_table_MB"] = round(table.memory_usage(deep=True).sum() / 2**20, 1)
    out["peak_rss_MB"] = round(peak_rss_mb(), 0)
    out["peak_rss_after_data_MB"] = round(rss_data, 0)
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="crema-d,10x,msp-podcast")
    parser.add_argument("--crowdkit", action="store_true")
    parser.add_argument("--wide", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_shape(args.one, args.crowdkit, args.wide)))
        return
    rows = []
    for name in args.shapes.split(","):
        cmd = [sys.executable, __file__, "--one", name]
        cmd += ["--crowdkit"] if args.crowdkit else []
        cmd += ["--wide"] if args.wide and name == "crema-d" else []
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows).set_index("shape").T
    print(table.to_string())


if __name__ == "__main__":
    main()
