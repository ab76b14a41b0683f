"""Variable-length sequences for torch: datasets, padding, length buckets."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset, Sampler


class SequenceTensors:
    """The frames of a :class:`~sklearn_ser.features.FramesArray` as torch
    tensors, made when an item is read: a view of the buffer in memory, read
    from the store on disk, so a corpus larger than memory trains batch by
    batch. Sequences shorter than ``min_length`` are zero-padded to it;
    ``lengths`` (from the array's offsets) are those of the tensors."""

    def __init__(self, frames, min_length=1):
        self.frames = frames
        self.min_length = int(min_length)
        self.lengths = np.maximum(frames.lengths, self.min_length).astype(np.int64)

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, i):
        f = self.frames.read(int(i))
        if f.shape[0] < self.min_length:
            f = np.concatenate([f, np.zeros((self.min_length - f.shape[0], f.shape[1]),
                                            dtype=np.float32)])
        f = np.ascontiguousarray(f, dtype=np.float32)
        if not f.flags.writeable:  # frames are read-only; the batch only reads
            with warnings.catch_warnings():  # them (collate copies), no copy here
                warnings.filterwarnings("ignore", "The given NumPy array is not "
                                        "writable", UserWarning)
                return torch.from_numpy(f)
        return torch.from_numpy(f)

    def subset(self, indices):
        return SequenceTensors(self.frames.take(np.asarray(indices, dtype=np.int64)),
                               self.min_length)


class SequenceDataset(Dataset):
    """Frame sequences (``(T, D)`` float32 tensors: a list, or a
    :class:`SequenceTensors` read per item) and their targets.

    ``sample_weight`` (optional, one per sequence, may be replaced between
    epochs) reaches the loss through the ``X`` dict of each batch, as skorch
    recommends for per-sample weights.
    """

    def __init__(self, sequences, targets=None, sample_ids=None, sample_weight=None):
        self.sequences = sequences
        self.targets = targets
        self.sample_ids = (
            torch.arange(len(sequences)) if sample_ids is None else sample_ids
        )
        self.sample_weight = sample_weight
        lengths = getattr(sequences, "lengths", None)
        self.lengths = (np.asarray(lengths, dtype=np.int64) if lengths is not None
                        else np.array([len(s) for s in sequences], dtype=np.int64))

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, i):
        y = self.targets[i] if self.targets is not None else torch.zeros(())
        if self.sample_weight is None:
            return self.sequences[i], y, self.sample_ids[i]
        return self.sequences[i], y, self.sample_ids[i], self.sample_weight[i]


def pad_batch(batch):
    """Collate: pad to the longest sequence of the batch, keep the lengths."""
    columns = list(zip(*batch, strict=True))
    seqs, ys, ids = columns[:3]
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    x = pad_sequence(list(seqs), batch_first=True)
    X = {"x": x, "lengths": lengths, "sample_ids": torch.stack(list(ids))}
    if len(columns) > 3:
        X["sample_weight"] = torch.stack(list(columns[3]))
    return X, torch.stack(list(ys))


class BucketBatchSampler(Sampler):
    """Batches of similar lengths, so little compute is spent on padding.

    Each epoch the indices are shuffled, cut into pools of ``pool`` batches,
    each pool is sorted by length and cut into batches, and the batches are
    shuffled. Without shuffling, batches follow ascending length.
    """

    def __init__(self, lengths, batch_size, shuffle=True, pool=50, seed=0,
                 seed_per_epoch=False):
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pool = pool
        self.seed = seed
        self.seed_per_epoch = seed_per_epoch
        self.epoch = 0

    def __iter__(self):
        n = len(self.lengths)
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            for i in range(0, n, self.batch_size):
                yield order[i:i + self.batch_size].tolist()
            return
        rng = np.random.default_rng((self.seed + self.epoch, 0) if self.seed_per_epoch
                                    else (self.seed, self.epoch))
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


class EpochSeededSampler(Sampler):
    """A fresh permutation each epoch from ``torch.Generator(seed + epoch)``."""

    def __init__(self, n, seed=0):
        self.n = n
        self.seed = seed
        self.epoch = 0

    def __iter__(self):
        gen = torch.Generator()
        gen.manual_seed(int(self.seed + self.epoch))
        self.epoch += 1
        # a DataLoader given this generator draws its worker seed first
        torch.empty((), dtype=torch.int64).random_(generator=gen)
        yield from torch.randperm(self.n, generator=gen).tolist()

    def __len__(self):
        return self.n


class SequenceLoader(DataLoader):
    """The DataLoader skorch builds: length buckets or plain shuffled batches.

    skorch calls ``iterator(dataset, batch_size=..., shuffle=...)``; this
    class turns those into a bucketing batch sampler when ``bucket`` is on.
    With ``seed_per_epoch`` each epoch's shuffle is drawn from ``seed +
    epoch`` (the noisy-label model's batches, as in its first release).
    """

    def __init__(self, dataset, batch_size=16, shuffle=False, bucket=True, seed=0,
                 collate_fn=pad_batch, seed_per_epoch=False, **kwargs):
        if bucket:
            sampler = BucketBatchSampler(dataset.lengths, batch_size, shuffle=shuffle,
                                         seed=seed, seed_per_epoch=seed_per_epoch)
            super().__init__(dataset, batch_sampler=sampler, collate_fn=collate_fn,
                             **kwargs)
        elif shuffle and seed_per_epoch:
            # its own generator: the worker seed is not drawn from torch's
            # global random state (which drives dropout)
            gen = torch.Generator()
            gen.manual_seed(int(seed))
            super().__init__(dataset, batch_size=batch_size,
                             sampler=EpochSeededSampler(len(dataset), seed),
                             collate_fn=collate_fn, generator=gen, **kwargs)
        else:
            gen = torch.Generator()
            gen.manual_seed(int(seed))
            super().__init__(dataset, batch_size=batch_size, shuffle=shuffle,
                             collate_fn=collate_fn, generator=gen, **kwargs)
