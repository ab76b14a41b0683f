"""Frame pooling (Chou & Lee 2.2.1: the mean of every 5 frames)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import frame_dim, get_frames, with_frames


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
    }

    def __init__(self, window=5, *, tail="mean"):
        self.window = window
        self.tail = tail

    def fit(self, X, y=None):
        """Check parameters (nothing is learned)."""
        self._validate_params()
        self.n_features_in_ = frame_dim(
            get_frames(X, allow_missing=True, whom="FrameAverager"))
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
        return with_frames(X, [None if f is None else self._pool(f) for f in frames])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
