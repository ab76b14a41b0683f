"""GridSearchCV over a sklearn-ser estimator: 2-worker local Dask cluster vs n_jobs=1.

Run: python benchmarks/bench_dask.py [--n 200] [--epochs 5] [--repeats 2]

The same search (BLSTM-attention, Chou & Lee's sizes, a 2 x 2 grid over the
target and the learning rate, leave-one-session-out over 3 sessions = 12
fits) runs in one process: in-process with n_jobs=1 (torch using every core),
with joblib's loky backend and n_jobs=2, and on a LocalCluster of 2
single-thread worker processes through joblib's dask backend. Frames are
computed once beforehand. Median wall time over the repeats, interleaved.
"""

import argparse
import os
import time
import warnings

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from distributed import Client, LocalCluster

    data = make_emotional_speech(args.n, n_speakers=6, n_sessions=3, random_state=0)
    frames = FrameAverager(10).fit_transform(SpeakerStandardizer().fit_transform(
        OpenSmileFrames("emobase45", n_jobs=2, progress=False).fit_transform(
            data.utterances)))
    est = BLSTMAttentionClassifier(classes=data.classes, max_epochs=args.epochs,
                                   patience=None, random_state=0)
    grid = {"target": ["hard", "soft"], "lr": [1e-3, 3e-3]}

    def search(n_jobs):
        gs = GridSearchCV(est, grid, cv=LeaveOneGroupOut(), n_jobs=n_jobs,
                          scoring=ser_scoring(data.classes, per_class=False,
                                              warn=False), refit=False)
        t = time.perf_counter()
        gs.fit(frames, data.annotations, groups=data.utterances["session"])
        return time.perf_counter() - t, gs.cv_results_["mean_test_uar"]

    times = {"n_jobs=1": [], "loky n_jobs=2": [], "dask 2 workers": []}
    scores = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("torch").set_num_threads(1))
        search(1)  # warm-up (imports, first-call costs)
        for _ in range(args.repeats):
            t, scores["n_jobs=1"] = search(1)
            times["n_jobs=1"].append(t)
            t, scores["loky n_jobs=2"] = search(2)
            times["loky n_jobs=2"].append(t)
            with joblib.parallel_backend("dask"):
                t, scores["dask 2 workers"] = search(-1)
            times["dask 2 workers"].append(t)
    base = np.median(times["n_jobs=1"])
    print(f"{os.cpu_count()} cores, {args.n} utterances, 12 fits of "
          f"{args.epochs} epochs")
    print("| run | s (median) | speed-up vs n_jobs=1 | mean UAR of the 4 candidates |")
    print("| --- | ---: | ---: | ---: |")
    for name, ts in times.items():
        print(f"| {name} | {np.median(ts):.1f} | {base / np.median(ts):.2f}x | "
              f"{np.mean(scores[name]):.3f} |")


if __name__ == "__main__":
    main()
