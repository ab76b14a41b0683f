"""Variable-length sequences for torch: datasets, padding, length buckets."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset, Sampler


class SequenceDataset(Dataset):
    """Frame sequences (list of ``(T, D)`` float32 tensors) and their targets."""

    def __init__(self, sequences, targets=None, sample_ids=None):
        self.sequences = sequences
        self.targets = targets
        self.sample_ids = (
            torch.arange(len(sequences)) if sample_ids is None else sample_ids
        )
        self.lengths = np.array([len(s) for s in sequences], dtype=np.int64)

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, i):
        y = self.targets[i] if self.targets is not None else torch.zeros(())
        return self.sequences[i], y, self.sample_ids[i]


def pad_batch(batch):
    """Collate: pad to the longest sequence of the batch, keep the lengths."""
    seqs, ys, ids = zip(*batch, strict=True)
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    x = pad_sequence(list(seqs), batch_first=True)
    return {"x": x, "lengths": lengths, "sample_ids": torch.stack(list(ids))}, (
        torch.stack(list(ys)))


class BucketBatchSampler(Sampler):
    """Batches of similar lengths, so little compute is spent on padding.

    Each epoch the indices are shuffled, cut into pools of ``pool`` batches,
    each pool is sorted by length and cut into batches, and the batches are
    shuffled. Without shuffling, batches follow ascending length.
    """

    def __init__(self, lengths, batch_size, shuffle=True, pool=50, seed=0):
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pool = pool
        self.seed = seed
        self.epoch = 0

    def __iter__(self):
        n = len(self.lengths)
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            for i in range(0, n, self.batch_size):
                yield order[i:i + self.batch_size].tolist()
            return
        rng = np.random.default_rng((self.seed, self.epoch))
        self.epoch += 1
        idx = rng.permutation(n)
        size = self.batch_size * self.pool
        batches = []
        for start in range(0, n, size):
            chunk = idx[start:start + size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i:i + self.batch_size].tolist()
                           for i in range(0, len(chunk), self.batch_size))
        for j in rng.permutation(len(batches)):
            yield batches[j]

    def __len__(self):
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


class SequenceLoader(DataLoader):
    """The DataLoader skorch builds: length buckets or plain shuffled batches.

    skorch calls ``iterator(dataset, batch_size=..., shuffle=...)``; this
    class turns those into a bucketing batch sampler when ``bucket`` is on.
    """

    def __init__(self, dataset, batch_size=16, shuffle=False, bucket=True, seed=0,
                 collate_fn=pad_batch, **kwargs):
        if bucket:
            sampler = BucketBatchSampler(dataset.lengths, batch_size, shuffle=shuffle,
                                         seed=seed)
            super().__init__(dataset, batch_sampler=sampler, collate_fn=collate_fn,
                             **kwargs)
        else:
            gen = torch.Generator()
            gen.manual_seed(int(seed))
            super().__init__(dataset, batch_size=batch_size, shuffle=shuffle,
                             collate_fn=collate_fn, generator=gen, **kwargs)
