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

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
import uuid
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.extensions import (
    ExtensionArray,
    ExtensionDtype,
    register_extension_dtype,
)

from .._extension import ElementArray, take_positions

__all__ = ["FramesArray", "FramesDtype", "frames_temp_dir"]

FORMAT = "sklearn-ser-frames"
VERSION = 1
_HEADER = 128  # bytes of the .npy header (numpy pads it for any shape)
#: Bytes of frames per chunk of the chunk-by-chunk steps.
CHUNK_BYTES = 64 * 2**20
#: Bytes per block of an in-memory buffer: building one holds at most this
#: much twice (the arrays appended and the block they are copied into).
BLOCK_BYTES = 8 * 2**20


def frames_temp_dir():
    """Where steps put the frames they write for input that lives on disk
    (``$SKLEARN_SER_TEMP``, else the system's temporary folder)."""
    return Path(os.environ.get("SKLEARN_SER_TEMP") or tempfile.gettempdir())


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


# -- the buffer ---------------------------------------------------------------------
def _index_digest(lengths, finite):
    """SHA-256 of a store's index (lengths and finiteness flags)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(lengths, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(finite, dtype=bool).tobytes())
    return h.hexdigest()


def _read_only(array):
    """A read-only view of ``array`` (the array itself keeps its flags):
    frames are shared by every copy of a table, so an edit in place would
    change them all, and be lost where they are read from disk."""
    view = array.view()
    view.flags.writeable = False
    return view


class _Store:
    """One frame buffer: arrays in memory, or a store folder on disk.

    In memory the buffer is a list of blocks (``(frames, D)`` arrays that no
    utterance straddles) with their global starts, so that building it never
    holds the frames twice; a single block is the plain case.
    """

    def __init__(
        self, buffer=None, path=None, n_frames=0, dim=0, temporary=False, *,
        blocks=None, layers=1
    ):
        self.layers = int(layers)
        if buffer is not None:
            blocks = [buffer]
        self.memory = blocks
        if blocks is not None:
            sizes = [len(b) for b in blocks]
            self._block_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(
                np.int64
            )
            n_frames = int(self._block_starts[-1])
            dim = blocks[0].shape[1] if blocks else dim
        self.path = None if path is None else str(path)
        self.n_frames = int(n_frames)
        self.dim = int(dim)
        self._fh = None
        self._lock = threading.Lock()
        self._finalizer = None
        if temporary and self.path is not None:
            self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    @property
    def on_disk(self):
        return self.memory is None

    def _file(self):
        if self._fh is None:
            self._fh = open(os.path.join(self.path, "frames.npy"), "rb")  # noqa: SIM115
        return self._fh

    def read(self, start, length):
        """``(length, D)`` frames from ``start``: a view in memory, a fresh
        array read from disk (read, not mapped: the pages do not stay in the
        process' resident memory)."""
        if self.memory is not None:
            blocks = self.memory
            b = (
                0
                if len(blocks) == 1
                else int(np.searchsorted(self._block_starts, start, side="right")) - 1
            )
            if b >= len(blocks):  # an empty element at the very end
                return np.empty((0, self.dim), dtype=np.float32)
            s = start - int(self._block_starts[b])
            return _read_only(blocks[b][s : s + length])
        out = np.empty((length, self.dim), dtype=np.float32)
        if length and self.dim:
            offset = _HEADER + 4 * self.dim * int(start)
            view = memoryview(out).cast("B")
            if hasattr(os, "preadv"):
                # positional: no shared file offset (threads, forked loaders)
                got = os.preadv(self._file().fileno(), [view], offset)
            else:  # pragma: no cover - Windows
                with self._lock:
                    fh = self._file()
                    fh.seek(offset)
                    got = fh.readinto(view)
            if got != out.nbytes:
                raise OSError(
                    f"Frames store {self.path!r} is shorter than its index "
                    "says (truncated or changed since it was written)."
                )
        out.flags.writeable = False  # as in memory: one behaviour wherever stored
        return out

    def mapped(self):
        """The whole buffer (memory-mapped, read-only, for a store on disk)."""
        if self.memory is not None:
            if len(self.memory) != 1:  # one buffer from now on
                buffer = (
                    np.concatenate(self.memory, axis=0)
                    if self.memory
                    else np.empty((0, self.dim), dtype=np.float32)
                )
                self.__init__(buffer, layers=self.layers)
            return _read_only(self.memory[0])
        if self.n_frames == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.load(os.path.join(self.path, "frames.npy"), mmap_mode="r")

    def __getstate__(self):
        if self.memory is not None:
            raise TypeError("in-memory stores are pickled through their array")
        if self._finalizer is not None and self._finalizer.alive:
            # another process may now read it: remove it when this one exits
            self._finalizer.detach()
            atexit.register(shutil.rmtree, self.path, True)
        return {"path": self.path, "n_frames": self.n_frames, "dim": self.dim,
                "layers": self.layers, "temporary": self._finalizer is not None}

    def __setstate__(self, state):
        self.__init__(path=state["path"], n_frames=state["n_frames"], dim=state["dim"],
                      layers=state.get("layers", 1))
        try:  # hold the file now: its owner may remove the folder later
            self._file()
        except OSError:
            if not os.path.isdir(self.path):
                what = ("a temporary frames store of the process that pickled them, "
                        "removed when it ended" if state.get("temporary") else
                        "a frames store that no longer exists")
                raise FileNotFoundError(
                    f"These frames were in {self.path!r}, {what}: a pickle (or "
                    "joblib.dump) of frames on disk holds the store's path, not "
                    "the frames. Keep frames that must outlive the process in a "
                    "store of your own (frames.save(path), or features with "
                    "memory=path) before dumping them.") from None


def _check_one(value, i, dim, ids):
    """One element as a (T, D) float32 array, or None; errors name it."""
    name = repr(ids[i] if ids is not None else i)
    if value is None or (np.isscalar(value) and pd.isna(value)):
        return None
    if np.iscomplexobj(value):
        raise ValueError(
            f"Complex data not supported: utterance {name} has complex frames."
        )
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise type(e)(
            f"Utterance {name}: frames must be a numeric (T, D) array ({e})."
        ) from None
    if arr.ndim == 1:  # a feature vector (a row of a 2-D X): one frame
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(
            f"Utterance {name}: frames must be a (T, D) array, got shape {arr.shape}."
        )
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(
            f"Utterance {name} has {arr.shape[1]} features per frame but "
            f"earlier utterances have {dim}."
        )
    return arr


class _Writer:
    """Frames appended chunk by chunk, in memory or into a store folder."""

    def __init__(self, path=None, *, ids=None, temporary=False, spill=None,
                 spill_bytes=None, copy=True, layers=1):
        self.path = None if path is None else Path(path)
        # hidden layers stacked in each frame (D = layers * width), 1 otherwise
        self.layers = int(layers)
        # copy=False (in memory): each array is a block of its own, not copied
        self.copy = copy
        self.ids = None if ids is None else list(ids)
        self.temporary = temporary
        # in memory until ``spill_bytes`` of frames, then into a store at ``spill``
        self.spill = None if spill is None else Path(spill)
        self.spill_bytes = spill_bytes
        self.dim = None
        self.lengths, self.finite, self.parts, self.blocks = [], [], [], []
        self._pending = 0
        self._held = 0
        self.n = 0
        self.n_frames = 0
        self._fh = None
        self._tmp = None
        if self.path is not None:
            self._open_store()

    def _open_store(self):
        if self.path.exists():
            raise FileExistsError(
                f"{str(self.path)!r} exists; a frames store is never written over "
                "(choose a new path, or open it with FramesArray.open)."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex}"
        self._tmp.mkdir()
        self._fh = open(self._tmp / "frames.npy", "wb")  # noqa: SIM115
        self._fh.write(b"\0" * _HEADER)

    def _spill(self):
        """Move what is held in memory into a new store and go on there."""
        self.path = self.spill
        self.spill = None
        self._open_store()
        for arr in [*self.blocks, *self.parts]:
            if arr.size:
                self._fh.write(np.ascontiguousarray(arr, dtype="<f4").data)
        self.blocks, self.parts, self._pending, self._held = [], [], 0, 0

    def append(self, arrays):
        for value in arrays:
            arr = _check_one(value, self.n, self.dim, self.ids)
            self.n += 1
            if arr is None:
                self.lengths.append(-1)
                self.finite.append(True)
                continue
            if self.dim is None:
                self.dim = arr.shape[1]
            self.lengths.append(arr.shape[0])
            self.finite.append(bool(np.isfinite(arr).all()))
            self.n_frames += arr.shape[0]
            if self._fh is not None:
                if arr.size:
                    self._fh.write(np.ascontiguousarray(arr, dtype="<f4").data)
                continue
            if not self.copy and arr.flags.c_contiguous:
                self._flush()  # keeps the order of any copied parts
                self.blocks.append(arr)
            else:
                self.parts.append(arr)
                self._pending += arr.nbytes
                if self._pending >= BLOCK_BYTES:
                    self._flush()
            self._held += arr.nbytes
            if self.spill is not None and self._held > self.spill_bytes:
                self._spill()

    def _flush(self):
        """Pending arrays into one block (so the frames are held once)."""
        if self.parts:
            self.blocks.append(
                np.ascontiguousarray(
                    np.concatenate(self.parts, axis=0), dtype=np.float32
                )
            )
        self.parts, self._pending = [], 0

    def finish(self):
        dim = self.dim or 0
        layers = self.layers if dim and dim % self.layers == 0 else 1
        lengths = np.asarray(self.lengths, dtype=np.int64)
        finite = np.asarray(self.finite, dtype=bool)
        starts = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            np.cumsum(np.maximum(lengths, 0)[:-1], out=starts[1:])
        if self._fh is None:
            self._flush()
            blocks = self.blocks or [np.empty((0, dim), dtype=np.float32)]
            self.blocks = []
            return FramesArray(
                _Store(blocks=blocks, layers=layers), starts, lengths, finite,
                _checked=True,
            )
        import io

        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header,
            {"descr": "<f4", "fortran_order": False, "shape": (self.n_frames, dim)},
        )
        if len(header.getvalue()) != _HEADER:  # pragma: no cover - numpy pads to 128
            raise RuntimeError("unexpected .npy header size")
        self._fh.seek(0)
        self._fh.write(header.getvalue())
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        np.save(self._tmp / "lengths.npy", lengths)
        np.save(self._tmp / "finite.npy", finite)
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "n_utterances": len(lengths),
            "n_frames": int(self.n_frames),
            "dim": int(dim),
            "dtype": "float32",
            "layers": layers,
            "index_sha256": _index_digest(lengths, finite),
        }
        (self._tmp / "meta.json").write_text(json.dumps(meta))
        umask = os.umask(0)
        os.umask(umask)
        for f in self._tmp.iterdir():  # a store shared by a team follows the umask
            os.chmod(f, 0o666 & ~umask)
        os.chmod(self._tmp, 0o777 & ~umask)
        try:
            os.rename(self._tmp, self.path)  # atomic: the store appears complete
        except OSError as e:
            self.abort()
            raise FileExistsError(
                f"Could not put the frames store at {str(self.path)!r}"
                f" ({e.strerror or e}); nothing was written."
            ) from None
        self._tmp = None
        store = _Store(
            path=self.path, n_frames=self.n_frames, dim=dim, temporary=self.temporary,
            layers=layers,
        )
        return FramesArray(store, starts, lengths, finite, _checked=True)

    def abort(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self.parts, self.blocks = [], []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False


def temporary_store(memory=None):
    """A fresh store path for frames a step writes: under ``memory`` (a folder
    or joblib.Memory) when given, else under :func:`frames_temp_dir`."""
    root = memory_folder(memory) or frames_temp_dir()
    return root / "sklearn_ser_frames" / f"frames-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def memory_folder(memory):
    """The folder of a step's ``memory=``: None, a path, or a joblib.Memory
    (None when it has no location)."""
    if memory is None:
        return None
    location = getattr(memory, "location", memory)
    if location is None:
        return None
    if not isinstance(location, str | os.PathLike):
        raise TypeError("memory must be None, a folder path or a joblib.Memory; got "
                        f"{type(memory).__name__}.")
    return Path(location)


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
            return writer.finish()

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
            return writer.finish()

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
            return writer.finish()

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
            return writer.finish()

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
