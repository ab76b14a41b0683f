"""Frames on disk: the store behind :class:`~sklearn_ser.features.FramesArray`
(one ``frames.npy`` of rows, an index of offsets and lengths with its
checksum, ``meta.json``), written chunk by chunk, read by memory map."""

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
        """``(store, starts, lengths, finite)``: what a
        :class:`~sklearn_ser.features.FramesArray` is made of
        (``FramesArray._from_writer``)."""
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
            return _Store(blocks=blocks, layers=layers), starts, lengths, finite
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
        return store, starts, lengths, finite

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
