"""Normalisation of frame features: per speaker, per utterance, or global."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import SERWarning
from ._base import frame_dim, get_frames, with_frames


class SingleUtteranceSpeakerWarning(SERWarning):
    """Speakers whose statistics come from a single utterance."""


def _stats(frames):
    stacked = np.concatenate(frames, axis=0).astype(np.float64)
    return stacked.mean(axis=0), stacked.std(axis=0)


class SpeakerStandardizer(TransformerMixin, BaseEstimator):
    """Z-score frame features per speaker, per utterance, or globally.

    ``mode="speaker"`` (Chou & Lee 2.2.1): each speaker's frames are centred
    and scaled by that speaker's own mean and standard deviation over all of
    their frames. Speakers seen in ``fit`` use the statistics learned there;
    speakers first seen in ``transform`` (the test speakers of a
    leave-one-speaker-out split) use the statistics of their own frames in
    the data being transformed, as the papers do.

    ``mode="utterance"``: each utterance by its own statistics (no speaker
    needed). ``mode="global"`` (Fujioka et al. 3.2): mean and standard
    deviation over all training frames.

    When per-speaker normalisation hurts: it removes whatever is constant in
    a speaker's recordings, which is the point (voice, microphone) but also
    removes emotion when a speaker shows mostly one emotion: a speaker with
    only angry utterances is normalised to "average", and their anger
    disappears. It also needs enough frames per speaker: with one or two
    utterances the statistics are noise (a warning says so). Prefer
    ``"global"`` on acted corpora where each speaker covers every emotion
    unevenly, or when test speakers have very few utterances; prefer
    ``"speaker"`` for many utterances per speaker across emotions (IEMOCAP,
    MSP-Podcast).

    Parameters
    ----------
    mode : {"speaker", "utterance", "global"}, default="speaker"
    speaker_column : str, default="speaker"
        Column of the utterance table naming the speaker.
    eps : float, default=1e-8
        Standard deviations below this are replaced by 1 (constant features
        are only centred).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"speaker": ["a", "a", "b", "b"]})
    >>> X["frames"] = [np.full((2, 1), 1.0), np.full((2, 1), 3.0),
    ...                np.array([[10.0], [20.0]]), np.array([[10.0], [20.0]])]
    >>> out = SpeakerStandardizer().fit_transform(X)["frames"]
    >>> [f.ravel().tolist() for f in out]
    [[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0]]
    """

    _parameter_constraints: dict = {
        "mode": [StrOptions({"speaker", "utterance", "global"})],
        "speaker_column": [str],
        "eps": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, mode="speaker", *, speaker_column="speaker", eps=1e-8):
        self.mode = mode
        self.speaker_column = speaker_column
        self.eps = eps

    def _speakers(self, X):
        if not isinstance(X, pd.DataFrame) or self.speaker_column not in X.columns:
            raise ValueError(
                f"SpeakerStandardizer(mode='speaker') needs a '{self.speaker_column}' "
                "column in the utterance table (or use mode='utterance' or 'global'"
                "); got "
                + (f"columns {list(X.columns)}." if isinstance(X, pd.DataFrame)
                   else f"a {type(X).__name__}.")
            )
        speakers = X[self.speaker_column]
        if speakers.isna().any():
            uid = speakers.index[speakers.isna().to_numpy()][0]
            raise ValueError(
                f"Utterance {uid!r} has no {self.speaker_column!r}; every utterance "
                "needs its speaker for per-speaker normalisation."
            )
        return speakers.to_numpy()

    def _scale(self, std):
        return np.where(std < self.eps, 1.0, std)

    def fit(self, X, y=None):
        """Learn the statistics (per speaker, or global)."""
        self._validate_params()
        frames = get_frames(X, allow_missing=True, whom="SpeakerStandardizer")
        self.n_features_in_ = frame_dim(frames)
        if self.mode == "global":
            present = [f for f in frames if f is not None]
            mean, std = _stats(present)
            self.mean_, self.scale_ = mean, self._scale(std)
        elif self.mode == "speaker":
            self.speaker_stats_ = self._speaker_stats(X, frames)
        return self

    def _speaker_stats(self, X, frames):
        speakers = self._speakers(X)
        groups: dict = {}
        for spk, f in zip(speakers, frames, strict=True):
            if f is not None:
                groups.setdefault(spk, []).append(f)
        single = [s for s, fs in groups.items() if len(fs) == 1]
        if single:
            warnings.warn(
                f"{len(single)} speaker(s) have a single utterance (e.g. "
                f"{single[:3]}); their per-speaker statistics equal per-utterance "
                "normalisation. Consider mode='global'.",
                SingleUtteranceSpeakerWarning,
                stacklevel=3,
            )
        stats = {}
        for spk, fs in groups.items():
            mean, std = _stats(fs)
            stats[spk] = (mean, self._scale(std))
        return stats

    def transform(self, X):
        """Return ``X`` with normalised frames (float32)."""
        check_is_fitted(self, "n_features_in_")
        frames = get_frames(X, allow_missing=True, whom="SpeakerStandardizer")
        dim = frame_dim(frames)
        if dim and self.n_features_in_ and dim != self.n_features_in_:
            raise ValueError(
                f"Frames have {dim} features, but SpeakerStandardizer was fitted on "
                f"{self.n_features_in_}."
            )
        out = list(frames)
        if self.mode == "global":
            for i, f in enumerate(frames):
                if f is not None:
                    out[i] = ((f - self.mean_) / self.scale_).astype(np.float32)
        elif self.mode == "utterance":
            for i, f in enumerate(frames):
                if f is not None:
                    mean, std = _stats([f])
                    out[i] = ((f - mean) / self._scale(std)).astype(np.float32)
        else:
            speakers = self._speakers(X)
            unseen_idx = [i for i, s in enumerate(speakers)
                          if s not in self.speaker_stats_]
            extra = {}
            if unseen_idx:
                sub = pd.DataFrame({self.speaker_column: speakers[unseen_idx]})
                extra = self._speaker_stats(sub, [frames[i] for i in unseen_idx])
            for i, (spk, f) in enumerate(zip(speakers, frames, strict=True)):
                if f is None:
                    continue
                mean, scale = self.speaker_stats_.get(spk) or extra[spk]
                out[i] = ((f - mean) / scale).astype(np.float32)
        return with_frames(X, out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # input is an utterance table with frame sequences, not a 2-D array
        tags.input_tags.two_d_array = False
        return tags
