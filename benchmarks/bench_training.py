"""Training speed: BLSTMAttentionClassifier.fit against a bare torch loop.

Run: python benchmarks/bench_training.py [--n 600] [--epochs 5]

Both train the same BLSTMAttentionNet (Chou & Lee sizes) on the same
variable-length sequences, with the same length-bucketed batches, Adamax and
class-weighted cross entropy; the classifier runs through skorch. Then the
classifier with length buckets against plain padded random batches.
Reports the median epoch time of each, interleaved in the same process.
"""

import argparse
import time
import warnings

import numpy as np
import torch

from sklearn_ser.models import BLSTMAttentionClassifier
from sklearn_ser.models._data import SequenceDataset, SequenceLoader
from sklearn_ser.models._losses import SERLoss, balanced_weights
from sklearn_ser.models._modules import BLSTMAttentionNet


def data(n, dim=45, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 120, size=n)  # pooled emobase45 lengths: 0.1-0.6 x 200
    y = rng.integers(0, 4, size=n)
    X = [(rng.normal(size=(t, dim)) + 0.3 * c).astype(np.float32)
         for t, c in zip(lengths, y, strict=True)]
    return X, y


def bare_epoch_times(X, y, epochs, batch_size, seed=0):
    torch.manual_seed(seed)
    net = BLSTMAttentionNet(X[0].shape[1], 4)
    opt = torch.optim.Adamax(net.parameters(), lr=1e-3)
    crit = SERLoss("hard", weight=balanced_weights(np.bincount(y, minlength=4)))
    ds = SequenceDataset([torch.from_numpy(x) for x in X], torch.as_tensor(y))
    times = []
    for epoch in range(epochs):
        loader = SequenceLoader(ds, batch_size=batch_size, shuffle=True, bucket=True,
                                seed=seed * 7919 + epoch)
        net.train()
        t = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss = crit(net(xb["x"], xb["lengths"]), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t)
    return times


def clf_epoch_times(X, y, epochs, batch_size, bucket=True):
    clf = BLSTMAttentionClassifier(max_epochs=epochs, patience=None,
                                   validation_fraction=None, batch_size=batch_size,
                                   bucket=bucket, random_state=0)
    clf.fit(X, y)
    return list(clf.history_["dur"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    X, y = data(args.n)
    print(f"{args.n} sequences of 20-120 frames x 45, batch {args.batch_size}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bare, ours, plain = [], [], []
    for _ in range(args.repeats):  # interleaved so load drifts hit both
        bare += bare_epoch_times(X, y, args.epochs, args.batch_size)
        ours += clf_epoch_times(X, y, args.epochs, args.batch_size)
        plain += clf_epoch_times(X, y, args.epochs, args.batch_size, bucket=False)
    b, o, p = np.median(bare), np.median(ours), np.median(plain)
    print(f"bare torch loop, bucketed:        {b:6.2f} s/epoch")
    print(f"BLSTMAttentionClassifier (skorch): {o:6.2f} s/epoch  = {o / b:.3f}x bare")
    print(f"  without length buckets:          {p:6.2f} s/epoch  = bucketing "
          f"{p / o:.2f}x faster")


if __name__ == "__main__":
    main()
