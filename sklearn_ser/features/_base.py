"""Frame sequences inside utterance tables.

Feature transformers take the utterance DataFrame and return a shallow copy
with a ``frames`` column holding one ``(T, D)`` float32 array per utterance,
so metadata (speaker, session, ...) stays reachable by every later step and
by the models. A plain list of ``(T, D)`` arrays is accepted too; a 2-D
array (or a list of 1-D feature vectors) is read as one single-frame sequence
per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FRAMES = "frames"


def get_frames(X, *, allow_missing=False, whom="this step"):
    """Return the list of frame arrays of ``X`` (DataFrame or list)."""
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
        seqs = list(X[FRAMES].to_numpy())
        ids = list(X.index)
    else:
        if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 3:
            seqs = list(X)
        elif isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2:
            seqs = [row[None, :] for row in X]
        else:
            seqs = list(X)
        ids = list(range(len(seqs)))
    out = []
    dim = None
    for uid, s in zip(ids, seqs, strict=True):
        if s is None or (np.isscalar(s) and pd.isna(s)):
            if allow_missing:
                out.append(None)
                continue
            raise ValueError(
                f"Utterance {uid!r} has no frames (its extraction was skipped); "
                "leave it out before this step."
            )
        if np.iscomplexobj(s):
            raise ValueError(
                f"Complex data not supported: utterance {uid!r} has complex frames."
            )
        arr = np.asarray(s, dtype=np.float32)
        if arr.ndim == 1:
            # a feature vector (a row of a 2-D X): one frame of D features
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError(
                f"Utterance {uid!r}: frames must be a (T, D) array, got shape "
                f"{arr.shape}."
            )
        if dim is None:
            dim = arr.shape[1]
        elif arr.shape[1] != dim:
            raise ValueError(
                f"Utterance {uid!r} has {arr.shape[1]} features per frame but earlier "
                f"utterances have {dim}."
            )
        out.append(arr)
    return out


def with_frames(X, frames):
    """Return ``X`` (a DataFrame, shallow-copied) with new frames, or a list."""
    if isinstance(X, pd.DataFrame):
        out = X.copy(deep=False)
        col = pd.Series([None] * len(frames), index=X.index, dtype=object)
        col[:] = _object_array(frames)
        out[FRAMES] = col
        return out
    return list(frames)


def _object_array(frames):
    arr = np.empty(len(frames), dtype=object)
    for i, f in enumerate(frames):
        arr[i] = f
    return arr


def frame_dim(frames):
    for f in frames:
        if f is not None:
            return f.shape[1]
    return 0
