"""Frame sequences as one buffer plus offsets: the twin of the ratings array.

A :class:`FramesArray` holds every utterance's ``(T_i, D)`` float32 frames in
one ``(sum T_i, D)`` buffer, with per-utterance start, length and
finiteness (on disk one contiguous file; in memory blocks that no utterance
straddles, so that arrays already in memory are used without a copy). It
is validated once, when it is made; slicing (scikit-learn's splitters,
``X.iloc[train]``) selects starts and lengths and never copies a frame.
The buffer lives in memory for small corpora, or in a *store* on disk for
large ones, read an utterance (or a chunk of utterances) at a time.

The store is a folder, written by :meth:`FramesArray.from_chunks`::

    frames.npy    (sum T_i, D) float32, a standard .npy file (np.load(...,
                  mmap_mode="r") reads it without sklearn-ser)
    lengths.npy   int64 per utterance, -1 for an utterance without frames
    finite.npy    bool per utterance (every value finite)
    meta.json     format, version and sizes

It is written under a hidden sibling name and renamed into place when
complete, so an interrupted write leaves no store behind (and never a half
one under the final name); an existing path is never overwritten. Pickling an
array on disk sends the store's path, not its frames, so joblib and Dask
workers reading a shared folder receive a few index arrays.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.extensions import (
    ExtensionArray,
    ExtensionDtype,
    register_extension_dtype,
)

from .._extension import ElementArray, take_positions
from ._store import (
    _HEADER,
    CHUNK_BYTES,
    FORMAT,
    VERSION,
    _index_digest,
    _Store,
    _Writer,
    temporary_store,
)

__all__ = ["FramesArray", "FramesDtype"]


@register_extension_dtype
class FramesDtype(ExtensionDtype):
    """The dtype of a :class:`FramesArray` (name ``"frames"``): each element
    is a ``(T, D)`` float32 array, or None for an utterance without frames."""

    name = "frames"
    type = np.ndarray
    kind = "O"
    na_value = None
    _metadata = ()

    @classmethod
    def construct_array_type(cls):
        return FramesArray

    def __repr__(self):
        return "frames"


# -- the array ------------------------------------------------------------------------
class FramesArray(ElementArray, ExtensionArray):
    """Frame sequences of a set of utterances in one buffer (in memory or on disk).

    Build one with :meth:`from_chunks` (or :meth:`from_list`), or open a
    store with :meth:`open`; every frame step of sklearn-ser returns one in
    the ``frames`` column of the utterance table. Each element is a
    ``(T, D)`` float32 array (a view of the buffer in memory, read from disk
    otherwise), or None for an utterance without frames (an extraction
    skipped by ``on_error="skip"``).

    Attributes
    ----------
    dim : int
        Features per frame (0 when no utterance has frames).
    lengths : ndarray of int64
        Frames per utterance (0 for a missing one).
    finite : ndarray of bool
        Whether every value of an utterance's frames is finite (recorded when
        the array was made: later steps need not scan the frames again).
    on_disk : bool
        The frames are read from a store folder (``path``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_ser.features import FramesArray
    >>> fa = FramesArray.from_chunks([[np.zeros((3, 2)), np.ones((5, 2))], [None]])
    >>> len(fa), fa.dim, fa.lengths.tolist(), fa.isna().tolist()
    (3, 2, [3, 5, 0], [False, False, True])
    >>> X = pd.DataFrame({"speaker": ["a", "b", "c"], "frames": fa})
    >>> X["frames"].dtype, X.iloc[[1]]["frames"].iloc[0].shape
    (frames, (5, 2))
    """

    _typ = "extension"

    def __init__(self, store, starts, lengths, finite, *, _checked=False):
        self._store = store
        self._starts = np.asarray(starts, dtype=np.int64)
        self._lengths = np.asarray(lengths, dtype=np.int64)
        self._finite = np.asarray(finite, dtype=bool)
        if not _checked:
            n = len(self._starts)
            ok = (
                len(self._lengths) == n == len(self._finite)
                and (self._starts >= 0).all()
                and (
                    self._starts + np.maximum(self._lengths, 0) <= store.n_frames
                ).all()
            )
            if not ok:
                raise ValueError(
                    "FramesArray: starts and lengths must lie inside the "
                    "buffer, one of each (and a finiteness flag) per "
                    "utterance."
                )

    # -- construction ------------------------------------------------------------------
    @classmethod
    def _from_writer(cls, writer):
        """The frames a :class:`_Writer` wrote."""
        store, starts, lengths, finite = writer.finish()
        return cls(store, starts, lengths, finite, _checked=True)

    @classmethod
    def from_chunks(cls, chunks, path=None, *, ids=None, layers=1):
        """Frames from an iterable of lists of ``(T, D)`` arrays (None: missing).

        Each element is checked once (2-D, one ``D`` for all, numeric, not
        complex; a 1-D vector is one frame) and cast to float32; finiteness is
        recorded. With ``path`` the frames are written to a new store folder
        chunk by chunk (memory stays bounded by one chunk) and the returned
        array reads from it; the folder must not exist. ``ids`` names the
        utterances in error messages. ``layers`` says that each frame holds
        that many hidden layers of a model side by side (``D = layers *
        width``, layer by layer; see :attr:`layers`).
        """
        writer = _Writer(path, ids=ids, layers=layers)
        with writer:
            for chunk in chunks:
                writer.append(chunk)
            return cls._from_writer(writer)

    @classmethod
    def from_list(cls, frames, *, ids=None, copy=False, layers=1):
        """In memory, from a list of ``(T, D)`` arrays (None: missing).

        Arrays that are already float32 and C-contiguous are used as they are
        (``copy=False``): each is a block of the buffer, so converting a list
        or an object column costs no second copy of the frames. Checked as in
        :meth:`from_chunks`.
        """
        if isinstance(frames, FramesArray):
            return frames
        writer = _Writer(None, ids=ids, copy=copy, layers=layers)
        with writer:
            writer.append(list(frames))
            return cls._from_writer(writer)

    @classmethod
    def open(cls, path):
        """The array of a store folder written by :meth:`from_chunks`.

        Checks what is cheap to check: the format, the sizes of the index and
        of ``frames.npy`` against each other, and a checksum of the index
        (utterance lengths and finiteness flags). The frames' values are not
        checksummed (reading them all costs as much as using them): values
        written into ``frames.npy`` by hand are served as they are."""
        path = Path(path)
        meta_file = path / "meta.json"
        if not meta_file.is_file():
            partial = sorted(path.parent.glob(f".{path.name}.partial-*"))
            hint = (
                " An interrupted write left a partial folder beside it "
                f"({partial[0].name}); write the store again."
                if partial
                else ""
            )
            raise FileNotFoundError(
                f"{str(path)!r} is not a frames store (no meta.json).{hint}"
            )
        try:
            meta = json.loads(meta_file.read_text())
            lengths = np.load(path / "lengths.npy", allow_pickle=False)
            finite = np.load(path / "finite.npy", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(
                f"Frames store {str(path)!r} is unreadable ({e})."
            ) from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(
                f"{str(path)!r}: not a version-{VERSION} sklearn-ser frames "
                f"store ({meta.get('format')!r}, {meta.get('version')!r})."
            )
        n_frames, dim = int(meta["n_frames"]), int(meta["dim"])
        size = os.path.getsize(path / "frames.npy")
        if (
            len(lengths) != meta["n_utterances"]
            or len(finite) != len(lengths)
            or int(np.maximum(lengths, 0).sum()) != n_frames
            or size != _HEADER + 4 * n_frames * dim
        ):
            raise ValueError(
                f"Frames store {str(path)!r} is inconsistent: its index, "
                "sizes and frames.npy do not agree (truncated or edited)."
            )
        digest = meta.get("index_sha256")  # stores written before it have none
        if digest is not None and digest != _index_digest(lengths, finite):
            raise ValueError(
                f"Frames store {str(path)!r} is inconsistent: lengths.npy or "
                "finite.npy changed since the store was written (their checksum "
                "in meta.json differs); write the store again.")
        starts = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            np.cumsum(np.maximum(lengths, 0)[:-1], out=starts[1:])
        layers = int(meta.get("layers", 1))
        if layers < 1 or (dim and dim % layers):
            raise ValueError(
                f"Frames store {str(path)!r} is inconsistent: {dim} features per "
                f"frame cannot hold {layers} layers of equal width."
            )
        return cls(
            _Store(path=path, n_frames=n_frames, dim=dim, layers=layers),
            starts,
            lengths,
            finite,
            _checked=True,
        )

    @classmethod
    def _from_sequence(cls, scalars, *, dtype=None, copy=False):
        if isinstance(scalars, FramesArray):
            return scalars.copy() if copy else scalars
        return cls.from_list(list(scalars))

    @classmethod
    def _from_factorized(cls, values, original):
        raise TypeError("Frames cannot be factorized (grouped by value).")

    @classmethod
    def _concat_same_type(cls, to_concat):
        to_concat = list(to_concat)
        stores = {id(a._store) for a in to_concat}
        if len(stores) == 1:
            a = to_concat[0]
            return cls(
                a._store,
                np.concatenate([b._starts for b in to_concat]),
                np.concatenate([b._lengths for b in to_concat]),
                np.concatenate([b._finite for b in to_concat]),
                _checked=True,
            )
        on_disk = any(a.on_disk for a in to_concat)
        path = temporary_store() if on_disk else None
        # in memory the elements are views of read-only blocks: kept, not copied
        layers = {a.layers for a in to_concat}
        writer = _Writer(path, temporary=True, copy=False,
                         layers=layers.pop() if len(layers) == 1 else 1)
        with writer:
            for a in to_concat:
                for _, arrays in a.iter_chunks():
                    writer.append(arrays)
            return cls._from_writer(writer)

    # -- the ExtensionArray interface --------------------------------------------------
    @property
    def dtype(self):
        return FramesDtype()

    def __len__(self):
        return len(self._starts)

    @property
    def nbytes(self):
        """Bytes held in memory: the index, and the frames unless on disk."""
        index = self._starts.nbytes + self._lengths.nbytes + self._finite.nbytes
        if self.on_disk:
            return int(index)
        return int(index + 4 * self.dim * int(self.lengths.sum()))

    def isna(self):
        return self._lengths < 0

    def copy(self):
        return type(self)(
            self._store,
            self._starts.copy(),
            self._lengths.copy(),
            self._finite.copy(),
            _checked=True,
        )

    def _element(self, i):
        n = self._lengths[i]
        if n < 0:
            return None
        return self._store.read(int(self._starts[i]), int(n))

    def read(self, i):
        """Frames of utterance ``i`` (None when it has none)."""
        return self._element(i)

    def __setitem__(self, key, value):
        raise TypeError(
            "Frames are read-only; a step returns a new FramesArray "
            "(FramesArray.from_chunks builds one)."
        )

    def map(self, mapper, na_action=None):
        """``mapper`` applied to each utterance's frames (None stays None with
        ``na_action="ignore"``): plain values, never frames again (a
        FramesArray is built by a step or :meth:`FramesArray.from_list`)."""
        if not callable(mapper):
            return super().map(mapper, na_action=na_action)
        out = np.empty(len(self), dtype=object)
        for i in range(len(self)):
            f = self._element(i)
            out[i] = None if (f is None and na_action == "ignore") else mapper(f)
        return pd.Series(out, dtype=object).infer_objects().to_numpy()

    def take(self, indices, *, allow_fill=False, fill_value=None):
        n = len(self)
        idx, empty = take_positions(indices, n, allow_fill, fill_value, "frames")
        src = np.where(empty, 0, idx)
        if n == 0:
            src = np.zeros(len(idx), np.int64)
            starts = np.zeros(len(idx), np.int64)
            lengths = np.full(len(idx), -1, np.int64)
            finite = np.ones(len(idx), bool)
        else:
            starts = self._starts[src]
            lengths = np.where(empty, -1, self._lengths[src])
            finite = np.where(empty, True, self._finite[src])
        return type(self)(self._store, starts, lengths, finite, _checked=True)

    def _formatter(self, boxed=False):
        dim = self.dim

        def fmt(value):
            if value is None:
                return "None"
            return f"<{len(value)} x {dim} frames>"

        return fmt

    def _values_for_argsort(self):
        return self._lengths

    def __eq__(self, other):
        return NotImplemented

    def equals(self, other):
        if not isinstance(other, FramesArray) or len(other) != len(self):
            return False
        if not (self._lengths == other._lengths).all():
            return False
        return all(
            a is None
            and b is None
            or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in zip(self, other, strict=True)
        )

    def _reduce(self, name, *, skipna=True, keepdims=False, **kwargs):
        raise TypeError(f"Frames do not support {name!r}.")

    def __repr__(self):
        where = f"on disk at {self.path!r}" if self.on_disk else "in memory"
        stacked = (f" ({self.layers} layers of {self.dim // self.layers})"
                   if self.layers > 1 else "")
        return (
            f"<FramesArray: {len(self)} utterances, {int(self.lengths.sum())} "
            f"frames x {self.dim} features{stacked}, {where}>"
        )

    # -- pickling: the path of a store, the frames of an in-memory array --------------
    def __reduce__(self):
        if self.on_disk:
            return (
                type(self),
                (self._store, self._starts, self._lengths, self._finite),
                None,
            )
        compact = self._compact_buffer()
        lengths = self._lengths
        starts = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            np.cumsum(np.maximum(lengths, 0)[:-1], out=starts[1:])
        return (_rebuild_in_memory,
                (compact, starts, lengths, self._finite, self.layers))

    def _compact_buffer(self):
        store = self._store
        pos = self._lengths >= 0
        starts, lengths = self._starts[pos], self._lengths[pos]
        if len(starts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        contiguous = (
            len(store.memory) == 1
            and starts[0] == 0
            and (starts[1:] == (starts + lengths)[:-1]).all()
            and starts[-1] + lengths[-1] == store.n_frames
        )
        if contiguous:
            return store.memory[0]
        return np.concatenate(
            [store.read(int(s), int(n)) for s, n in zip(starts, lengths, strict=True)],
            axis=0,
        )

    # -- sklearn-ser's use -------------------------------------------------------------
    @property
    def dim(self):
        return self._store.dim

    @property
    def layers(self):
        """Hidden layers of a model held side by side in each frame: ``D =
        layers * width``, layer after layer (see
        :class:`PretrainedFrames` with ``layers="all"``); 1 for ordinary
        features. The sequence networks learn a weighted sum of the layers
        when it is above 1."""
        return self._store.layers

    @property
    def lengths(self):
        return np.maximum(self._lengths, 0)

    @property
    def finite(self):
        return self._finite.copy()

    @property
    def on_disk(self):
        return self._store.on_disk

    @property
    def path(self):
        """The store folder (None in memory)."""
        return self._store.path

    def buffer(self):
        """The whole underlying ``(frames, D)`` buffer (memory-mapped read-only
        for a store; may hold frames of utterances outside this selection)."""
        return self._store.mapped()

    def iter_chunks(self, max_bytes=CHUNK_BYTES):
        """Yield ``(positions, arrays)`` over the utterances, about
        ``max_bytes`` of frames at a time (arrays are None for missing)."""
        row = 4 * max(self.dim, 1)
        pos, arrays, size = [], [], 0
        for i in range(len(self)):
            f = self._element(i)
            pos.append(i)
            arrays.append(f)
            size += row * (0 if f is None else len(f))
            if size >= max_bytes:
                yield np.asarray(pos, dtype=np.int64), arrays
                pos, arrays, size = [], [], 0
        if pos:
            yield np.asarray(pos, dtype=np.int64), arrays

    def map_chunks(self, fn, *, memory=None, on_disk=None, max_bytes=CHUNK_BYTES,
                   layers=None):
        """A new array of ``fn(positions, arrays)`` applied chunk by chunk.

        ``fn`` returns one array (or None) per element of the chunk. The result
        is written to a store when ``on_disk`` (default: when this array is on
        disk), under ``memory`` or :func:`frames_temp_dir`, removed when no
        array refers to it any more; otherwise it is kept in memory. The
        result keeps :attr:`layers` (default) when its frames are as wide as
        these (a per-feature step); ``layers`` overrides it.
        """
        on_disk = self.on_disk if on_disk is None else on_disk
        # fresh results: in memory each is a block of its own (no copy)
        writer = _Writer(temporary_store(memory) if on_disk else None, temporary=True,
                         copy=False, layers=self.layers if layers is None else layers)
        with writer:
            for pos, arrays in self.iter_chunks(max_bytes):
                writer.append(fn(pos, arrays))
            if layers is None and writer.dim not in (None, self.dim):
                writer.layers = 1
            return FramesArray._from_writer(writer)

    def save(self, path):
        """Write these frames (compacted, in this order) to a new store folder."""
        return type(self).from_chunks((a for _, a in self.iter_chunks()), path,
                                      layers=self.layers)


def _rebuild_in_memory(buffer, starts, lengths, finite, layers=1):
    return FramesArray(
        _Store(np.asarray(buffer, dtype=np.float32), layers=layers),
        starts,
        lengths,
        finite,
        _checked=True,
    )
