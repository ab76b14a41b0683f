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
import scipy.sparse as sp

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
    if sp.issparse(X):
        raise TypeError(
            f"{whom} does not accept sparse input; pass frame sequences (a "
            "DataFrame with a 'frames' column, a list of dense (T, D) arrays) or a "
            "dense 2-D array.")
    kept = pd.DataFrame | list | tuple | np.ndarray | FramesArray
    if not isinstance(X, kept) and hasattr(X, "__array__"):
        X = np.asarray(X)  # an array-like: read as the array it gives
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 1:
        raise ValueError(
            f"{whom}: expected a 2-D array (utterances x features) or frame "
            f"sequences, got a 1-D array of shape {X.shape}. Reshape your data "
            "either using array.reshape(-1, 1) if it has a single feature or "
            "array.reshape(1, -1) if it holds a single utterance.")
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


def check_fit_frames(frames, whom):
    """What scikit-learn requires of ``fit``'s input: at least one utterance
    and one feature."""
    if len(frames) == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape=(0, ...)) while a "
                         f"minimum of 1 is required by {whom}.")
    if frame_dim(frames) == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape=({len(frames)}, 0))"
                         f" while a minimum of 1 is required by {whom}.")


def check_frame_dim(frames, n_features_in, whom):
    """The frames of ``transform`` have the width ``fit`` saw."""
    dim = frame_dim(frames)
    if len(frames) and n_features_in is not None and dim != n_features_in:
        raise ValueError(f"X has {dim} features, but {whom} is expecting "
                         f"{n_features_in} features as input (per frame).")


def with_frames(X, frames):
    """``X`` with new frames: a DataFrame (shallow copy) gets a FramesArray
    column, a FramesArray input gives a FramesArray, a 2-D array (or a list
    of 1-D feature vectors) whose rows stay one frame each gives a 2-D array,
    a list of sequences a list."""
    kept = pd.DataFrame | list | tuple | np.ndarray | FramesArray
    if not isinstance(X, kept) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if not isinstance(frames, FramesArray):
        frames = FramesArray.from_list(
            frames, ids=list(X.index) if isinstance(X, pd.DataFrame) else None)
    if isinstance(X, pd.DataFrame):
        out = X.copy(deep=False)
        out[FRAMES] = pd.Series(frames, index=X.index, copy=False)
        return out
    if isinstance(X, FramesArray):
        return frames
    rows = (isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2) or (
        isinstance(X, list | tuple) and len(X) > 0
        and all(np.ndim(x) == 1 for x in X))  # 1-D feature vectors: rows
    if (rows and len(frames) == len(X) and not frames.isna().any()
            and (frames.lengths == 1).all()):
        return np.concatenate([frames[i] for i in range(len(frames))], axis=0) \
            if len(frames) else np.zeros((0, frame_dim(frames)), np.float32)
    return list(frames)


def frame_dim(frames):
    if isinstance(frames, FramesArray):
        return frames.dim
    for f in frames:
        if f is not None:
            return f.shape[1]
    return 0
