"""Training speed: BLSTMAttentionClassifier.fit against a bare torch loop.

Run: python benchmarks/bench_training.py [--n 600] [--epochs 5]

Both train the same network (Chou & Lee sizes: the classifier's ``module_``,
re-initialised) on the same variable-length sequences, with length-bucketed
batches, Adamax and class-weighted cross entropy; the bare loop is plain torch
(its own padding and bucketing), the classifier runs through skorch. Then the
classifier with length buckets against plain padded random batches.
Reports the median epoch time of each, interleaved in the same process.
"""

import argparse
import copy
import time
import warnings

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from sklearn_ser.models import BLSTMAttentionClassifier


def data(n, dim=45, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 120, size=n)  # pooled emobase45 lengths: 0.1-0.6 x 200
    y = rng.integers(0, 4, size=n)
    X = [(rng.normal(size=(t, dim)) + 0.3 * c).astype(np.float32)
         for t, c in zip(lengths, y, strict=True)]
    return X, y


def fresh_network(X, y, seed=0):
    """The classifier's network, re-initialised: the same module as it trains."""
    clf = BLSTMAttentionClassifier(max_epochs=1, validation_fraction=None,
                                   random_state=seed).fit(X[:8], y[:8])
    net = copy.deepcopy(clf.module_)
    torch.manual_seed(seed)
    for layer in net.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    return net


def bare_epoch_times(X, y, epochs, batch_size, seed=0):
    net = fresh_network(X, y, seed)
    opt = torch.optim.Adamax(net.parameters(), lr=1e-3)
    counts = np.bincount(y, minlength=4)
    weight = torch.as_tensor(len(y) / (4 * counts), dtype=torch.float32)
    seqs = [torch.from_numpy(x) for x in X]
    lengths = np.array([len(x) for x in X])
    target = torch.as_tensor(y)
    rng = np.random.default_rng(seed)
    times = []
    for _ in range(epochs):
        # length buckets by hand: shuffle, sort pools of 50 batches, shuffle
        idx = rng.permutation(len(X))
        pool = batch_size * 50
        batches = []
        for start in range(0, len(idx), pool):
            chunk = idx[start:start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i:i + batch_size] for i in range(0, len(chunk),
                                                                batch_size)]
        net.train()
        t = time.perf_counter()
        for j in rng.permutation(len(batches)):
            b = batches[j]
            x = pad_sequence([seqs[i] for i in b], batch_first=True)
            lens = torch.as_tensor(lengths[b])
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x, lens), target[b],
                                                     weight=weight)
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
