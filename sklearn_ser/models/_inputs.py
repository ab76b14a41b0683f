"""Inputs and targets of every estimator (no torch): array-likes, frame
sequences with utterance-named errors, target encoders by name."""

from __future__ import annotations

from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from .._parallel import torch_thread_share, use_torch_threads
from ..annotations import (
    BaseTargetEncoder,
    ExistenceLabels,
    HardLabels,
    SoftLabels,
    check_annotations,
)
from ..features import FRAMES, FramesArray, get_frames


def make_target_encoder(target, classes=None, label_map=None):
    """A target encoder from ``"hard"``/``"soft"``/``"existence"`` or an encoder."""
    if isinstance(target, BaseTargetEncoder):
        enc = clone(target)
        if classes is not None and enc.classes is None:
            enc.set_params(classes=classes)
        if label_map is not None and enc.label_map is None:
            enc.set_params(label_map=label_map)
        return enc
    makers = {"hard": HardLabels, "soft": SoftLabels, "existence": ExistenceLabels}
    if target not in makers:
        raise ValueError(
            f"target={target!r}; use 'hard', 'soft', 'existence' or a target encoder "
            "such as SoftLabels(alpha=0.5)."
        )
    return makers[target](classes, label_map=label_map)


def target_kind(encoder):
    """What a target encoder produces, as it declares in ``target_kind``."""
    kind = getattr(encoder, "target_kind", None)
    if kind not in {"soft", "hard", "existence"}:
        raise TypeError(
            f"{type(encoder).__name__}.target_kind is {kind!r}; a target encoder "
            "declares 'hard' (class labels), 'soft' (a distribution over "
            "classes_) or 'existence' (0/1 per class)."
        )
    return kind


def as_input(X):
    """Array-likes that are not lists, arrays, DataFrames or frames become
    arrays."""
    kept = pd.DataFrame | list | tuple | np.ndarray | FramesArray
    if not isinstance(X, kept) and hasattr(X, "__array__") and not sp.issparse(X):
        return np.asarray(X)
    return X


def sequences_from(X, whom):
    """(T, D) float32 arrays from X, with utterance-named errors."""
    if sp.issparse(X):
        raise TypeError(
            f"{whom} does not accept sparse input; pass frame sequences (a list of "
            "dense (T, D) arrays or a DataFrame with a 'frames' column)."
        )
    X = as_input(X)
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 1:
        raise ValueError(
            "Expected 2D array (utterances x features) or a list of (T, D) "
            "sequences, got 1D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    if len(X) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is "
            f"required by {whom}."
        )
    frames = get_frames(X, whom=whom)
    if len(frames) and frames.dim == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({len(frames)}, 0)) while a "
            f"minimum of 1 is required by {whom}."
        )
    ids = list(X.index) if isinstance(X, pd.DataFrame) else list(range(len(frames)))
    empty = np.flatnonzero(frames.lengths == 0)
    if len(empty):
        raise ValueError(
            f"Utterance {ids[empty[0]]!r} has an empty sequence (0 frames).")
    bad = np.flatnonzero(~frames.finite)  # recorded when the frames were made
    if len(bad):
        f = frames[int(bad[0])]
        raise ValueError(
            f"Utterance {ids[bad[0]]!r} has NaN or infinite feature values "
            f"({int((~np.isfinite(f)).sum())} of {f.size})."
        )
    return frames, ids


def frames_input(X, whom):
    """``X`` with its frame sequences converted and checked once (a
    :class:`~sklearn_ser.features.FramesArray`, in a table's ``frames``
    column when X is a table, so its other columns, such as ``speaker``,
    stay): what a meta-estimator hands its components, which then convert
    nothing again."""
    frames, _ = sequences_from(X, whom)
    X = as_input(X)
    if isinstance(X, pd.DataFrame) and FRAMES in X.columns:
        if X[FRAMES].array is frames:
            return X
        out = X.copy(deep=False)
        out[FRAMES] = frames
        return out
    return frames


def shared_inputs(members, X, y, whom):
    """``(X, y)`` for models fitted side by side on the same data (a seed
    ensemble's members, a late fusion's): the frames converted once when
    every member reads frame sequences, the annotations parsed once when
    every member reads annotations under one label map; else as given (a
    plain scikit-learn member takes plain labels)."""
    if all(getattr(m, "_reads_frames", False) for m in members):
        X = frames_input(X, whom)
    maps = {repr(getattr(m, "label_map", None)) for m in members}
    if y is not None and len(maps) == 1 and all(
            getattr(m, "_reads_ratings", False) for m in members):
        y = check_annotations(y, X, label_map=getattr(members[0], "label_map", None),
                              target=True, whom=whom)
    return X, y


class MembersInputs(NamedTuple):
    """What the start of an ensemble's fit built, once: X and y as every
    member receives them (:func:`shared_inputs`), the unfitted members and
    each one's fit parameters."""

    X: object
    y: object
    members: list
    fit_params: list


def _fit_member(estimator, X, y, fit_params, threads):
    use_torch_threads(threads)  # members trained side by side share the cores
    return estimator.fit(X, y, **fit_params)


def fit_members(inputs, n_jobs):
    """The members of ``inputs`` fitted side by side on ``n_jobs`` workers
    (joblib), each with its share of the torch threads."""
    threads = torch_thread_share(n_jobs, len(inputs.members))
    return joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_fit_member)(est, inputs.X, inputs.y, params, threads)
        for est, params in zip(inputs.members, inputs.fit_params, strict=True))
