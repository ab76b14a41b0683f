"""Frame pooling (Chou & Lee 2.2.1: the mean of every 5 frames)."""

from __future__ import annotations

import numbers
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._warnings import ser_warn
from ..exceptions import NonFiniteFeatureWarning
from ._base import (
    check_fit_frames,
    check_frame_dim,
    frame_dim,
    get_frames,
    with_frames,
)
from ._opensmile import OpenSmileFrames
from ._spectrogram import LogSpectrogram


class FrameAverager(TransformerMixin, BaseEstimator):
    """Average every ``window`` consecutive frames (down-sampling in time).

    Parameters
    ----------
    window : int, default=5
        Frames per output frame (Chou & Lee average every 5 frames of 10 ms).
    tail : {"mean", "drop"}, default="mean"
        The last, partial group of fewer than ``window`` frames: averaged
        (``"mean"``) or dropped (``"drop"``, except when it is the only group,
        so no utterance ends up empty).
    memory : str, path or joblib.Memory, default=None
        Where the pooled frames are written when the input frames live on
        disk (see :class:`SpeakerStandardizer`); in-memory input stays in
        memory.

    Examples
    --------
    >>> import numpy as np
    >>> out = FrameAverager(2).fit_transform([np.arange(5.0)[:, None]])
    >>> out[0].ravel().tolist()
    [0.5, 2.5, 4.0]
    """

    _parameter_constraints: dict = {
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "tail": [StrOptions({"mean", "drop"})],
        "memory": [None, str, os.PathLike, joblib.Memory],
    }

    def __init__(self, window=5, *, tail="mean", memory=None):
        self.window = window
        self.tail = tail
        self.memory = memory

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check parameters (nothing is learned)."""
        frames = get_frames(X, allow_missing=True, whom="FrameAverager")
        check_fit_frames(frames, "FrameAverager")
        self.n_features_in_ = frame_dim(frames)
        return self

    def _pool(self, f):
        T, D = f.shape
        if T == 0:
            return f.astype(np.float32)
        w = self.window
        full = T // w
        parts = []
        if full:
            parts.append(f[: full * w].reshape(full, w, D).mean(axis=1))
        rest = T - full * w
        if rest and (self.tail == "mean" or full == 0):
            parts.append(f[full * w:].mean(axis=0, keepdims=True))
        return np.concatenate(parts, axis=0).astype(np.float32)

    def transform(self, X):
        """Return ``X`` with pooled frames: ``ceil(T / window)`` rows each."""
        frames = get_frames(X, allow_missing=True, whom="FrameAverager")
        check_frame_dim(frames, getattr(self, "n_features_in_", None), "FrameAverager")
        return with_frames(X, frames.map_chunks(
            lambda pos, arrays: [None if f is None else self._pool(f) for f in arrays],
            memory=self.memory))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # frame sequences or a 2-D array (one frame per row); NaN frames pass
        # through (a skipped utterance's statistics are NaN, and said so)
        tags.input_tags.allow_nan = True
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


_STATS = {"mean": np.mean, "std": np.std, "min": np.min, "max": np.max}


class FrameStatistics(TransformerMixin, BaseEstimator):
    """One row per utterance: statistics of its frames over time (2-D array).

    The bridge from frame sequences (and speaker-normalised functionals, which
    are one-frame sequences) to any scikit-learn estimator:
    ``OpenSmileFunctionals(output="frames")`` -> ``SpeakerStandardizer()`` ->
    ``FrameStatistics()`` -> ``LogisticRegression``.

    Parameters
    ----------
    stats : tuple of {"mean", "std", "min", "max"}, default=("mean",)
        Statistics concatenated per utterance (``len(stats) * D`` columns);
        for a one-frame sequence ``"mean"`` is the frame itself.

    Examples
    --------
    >>> import numpy as np
    >>> FrameStatistics(("mean", "max")).fit_transform(
    ...     [np.array([[0.0, 1.0], [2.0, 3.0]])]).tolist()
    [[1.0, 2.0, 2.0, 3.0]]
    """

    _parameter_constraints: dict = {"stats": [tuple, list]}

    def __init__(self, stats=("mean",)):
        self.stats = stats

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the statistics and the frame dimension (nothing is learned)."""
        unknown = [s for s in self.stats if s not in _STATS]
        if unknown or not self.stats:
            raise ValueError(f"stats={self.stats!r}; choose among {sorted(_STATS)}.")
        frames = get_frames(X, allow_missing=True, whom="FrameStatistics")
        check_fit_frames(frames, "FrameStatistics")
        self.n_features_in_ = frame_dim(frames)
        return self

    def transform(self, X):
        """``(n_utterances, len(stats) * D)`` float32; NaN rows for skipped
        utterances."""
        frames = get_frames(X, allow_missing=True, whom="FrameStatistics")
        check_frame_dim(frames, getattr(self, "n_features_in_", None),
                        "FrameStatistics")
        dim = frame_dim(frames)
        out = np.full((len(frames), dim * len(self.stats)), np.nan, dtype=np.float32)
        for i, f in enumerate(frames):
            if f is not None and len(f):
                out[i] = np.concatenate([_STATS[s](f, axis=0) for s in self.stats])
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():

            ids = list(X.index) if isinstance(X, pd.DataFrame) else list(
                range(len(frames)))
            names = [ids[i] for i in np.flatnonzero(bad)[:5]]
            ser_warn(
                f"FrameStatistics: {int(bad.sum())} of {len(out)} utterance(s) have "
                f"NaN or infinite statistics (first: {names}; an utterance skipped "
                "by on_error='skip', or non-finite frames). Most estimators refuse "
                "NaN rows: leave these utterances out of X and y.",
                NonFiniteFeatureWarning)
        return out

    def get_feature_names_out(self, input_features=None):
        dim = getattr(self, "n_features_in_", 0)
        return np.asarray([f"{s}_{j}" for s in self.stats for j in range(dim)],
                          dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # frame sequences or a 2-D array (one frame per row); NaN frames pass
        # through (a skipped utterance's statistics are NaN, and said so)
        tags.input_tags.allow_nan = True
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def frame_hop(pipeline):
    """Seconds between the frames a pipeline's model sees.

    The extractor's frame shift (10 ms for the openSMILE sets,
    ``frame_shift`` of :class:`~sklearn_ser.features.LogSpectrogram`) times
    the ``window`` of every :class:`~sklearn_ser.features.FrameAverager`.
    ``pipeline`` is a ``Pipeline`` (or a list of steps); None when it has no
    frame extractor.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ser.features import FrameAverager, OpenSmileFrames, frame_hop
    >>> frame_hop(make_pipeline(OpenSmileFrames(), FrameAverager(10)))
    0.1
    """
    steps = getattr(pipeline, "steps", pipeline)
    steps = [s[1] if isinstance(s, tuple) else s for s in steps]
    hop = None
    for step in steps:
        if isinstance(step, LogSpectrogram):
            hop = float(step.frame_shift)
        elif isinstance(step, OpenSmileFrames):
            hop = 0.010
        elif isinstance(step, FrameAverager) and hop is not None:
            hop *= int(step.window)
    return None if hop is None else round(hop, 6)
