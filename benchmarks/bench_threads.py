"""One network fit with 1 and with 2 torch threads, alternately.

Run: python benchmarks/bench_threads.py [--root ../shared/data/emodb]
     [--cache .cache/features] [--epochs 15]

Run it once on an idle machine and once while something else keeps the cores
busy: torch's threads spin-wait, and on a busy machine a second thread slows
a small recurrent network down instead of speeding it up. The fit is one
soft-target BLSTM on EmoDB's first training fold (sessions 2-5), emobase45
frames z-scored per speaker and averaged over 10 frames.
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import torch

from sklearn_ser.datasets import load_emodb
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.models import BLSTMAttentionClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    data = load_emodb(args.root)
    u, a = data.utterances, data.annotations
    frames = OpenSmileFrames("emobase45", memory=args.cache,
                             progress=False).fit_transform(u)
    tr = (u["session"] != 1).to_numpy()
    X = FrameAverager(10).fit_transform(
        SpeakerStandardizer().fit_transform(frames[tr], a[tr]))
    for threads in (1, 2, 1, 2):
        # fix the count for this fit (otherwise each fit takes its fair share)
        os.environ["SKLEARN_SER_TORCH_THREADS"] = str(threads)
        torch.set_num_threads(threads)
        t = time.perf_counter()
        clf = BLSTMAttentionClassifier(
            "soft", classes=data.classes, lr=3e-3, patience=20,
            validation_fraction=0.25, max_epochs=args.epochs, random_state=0,
        ).fit(X, a[tr])
        print(f"{threads} thread(s): {time.perf_counter() - t:.1f} s "
              f"({clf.n_iter_} epochs)", flush=True)


if __name__ == "__main__":
    main()
