"""Frame sequences inside utterance tables.

Feature transformers take the utterance DataFrame and return a shallow copy
with a ``frames`` column holding one ``(T, D)`` float32 array per utterance
(a :class:`~sklearn_ser.features.FramesArray`: one buffer, in memory or on
disk, checked once), so metadata (speaker, session, ...) stays reachable by
every later step and by the models. A plain list of ``(T, D)`` arrays is
accepted too; a 2-D array (or a list of 1-D feature vectors) is read as one
single-frame sequence per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frames import FramesArray
from ._store import _Store

#: The column of a feature extractor's output DataFrame that holds each
#: utterance's (T, D) frames.
FRAMES = "frames"


def get_frames(X, *, allow_missing=False, whom="this step"):
    """The :class:`FramesArray` of ``X``, checked once.

    ``X`` is an utterance table with a ``frames`` column (a FramesArray
    column passes as it is; an object column of arrays is converted), a
    FramesArray, a list of ``(T, D)`` arrays, a 3-D array, or a 2-D array
    (one single-frame sequence per row).
    """
    ids = None
    if isinstance(X, pd.DataFrame) and FRAMES not in X.columns and X.shape[1] and all(
        pd.api.types.is_numeric_dtype(t) for t in X.dtypes
    ):
        X = X.to_numpy()  # plain numeric features: one frame per row
    if isinstance(X, pd.DataFrame):
        if FRAMES not in X.columns:
            raise ValueError(
                f"{whom} needs frame sequences: a DataFrame with a '{FRAMES}' column "
                "(put a feature extractor such as OpenSmileFrames before it) or a "
                f"list of (T, D) arrays. The table's columns are {list(X.columns)}."
            )
        ids = X.index
        values = X[FRAMES].array
        frames = (values if isinstance(values, FramesArray)
                  else FramesArray.from_list(list(X[FRAMES].to_numpy()), ids=list(ids)))
    elif isinstance(X, FramesArray):
        frames = X
    elif isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2 and (
            not np.iscomplexobj(X)):
        buffer = np.ascontiguousarray(X, dtype=np.float32)
        n = len(buffer)
        frames = FramesArray(_Store(buffer), np.arange(n), np.ones(n, np.int64),
                             np.isfinite(buffer).all(axis=1), _checked=True)
    else:
        frames = FramesArray.from_list(list(X))
    if not allow_missing and frames.isna().any():
        i = int(np.flatnonzero(frames.isna())[0])
        uid = ids[i] if ids is not None else i
        raise ValueError(
            f"Utterance {uid!r} has no frames (its extraction was skipped); "
            "leave it out before this step."
        )
    return frames


def with_frames(X, frames):
    """``X`` with new frames: a DataFrame (shallow copy) gets a FramesArray
    column, a FramesArray input gives a FramesArray, a list a list."""
    if not isinstance(frames, FramesArray):
        frames = FramesArray.from_list(
            frames, ids=list(X.index) if isinstance(X, pd.DataFrame) else None)
    if isinstance(X, pd.DataFrame):
        out = X.copy(deep=False)
        out[FRAMES] = pd.Series(frames, index=X.index, copy=False)
        return out
    if isinstance(X, FramesArray):
        return frames
    return list(frames)


def frame_dim(frames):
    if isinstance(frames, FramesArray):
        return frames.dim
    for f in frames:
        if f is not None:
            return f.shape[1]
    return 0
