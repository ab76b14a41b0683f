"""Normalisation for a model that labels recordings outside its corpus."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import get_frames, with_frames
from ._normalize import SpeakerStandardizer
from ._speaker_dependence import CONFOUND_THRESHOLD

#: What :meth:`PredictionStandardizer.rules` calls each normalisation.
RULES = {"speaker": "speaker", "global": "training corpus", "none": "none"}


class PredictionStandardizer(TransformerMixin, BaseEstimator):
    """:class:`SpeakerStandardizer` for a model that will label new recordings.

    Training (``fit``, ``fit_transform``) is :class:`SpeakerStandardizer`'s
    with the same ``mode`` (``"auto"`` decides from the training speakers
    and labels). Prediction (``transform``) follows one stated rule, as a
    deployed model must: where training normalised per speaker, a speaker of
    the new recordings (``speaker_column``) with at least ``min_utterances``
    of them is normalised by the statistics of their own frames; every other
    recording (no speaker column, or a speaker with fewer) by the training
    corpus' statistics. A speaker name that a training speaker also had is a
    new speaker all the same: the training speakers' own statistics are never
    used at prediction. Where training normalised globally, the training
    corpus' statistics serve every recording. :meth:`rules` says which rule
    each recording got.

    Parameters
    ----------
    mode : {"auto", "speaker", "global", "none"}, default="auto"
    speaker_column : str, default="speaker"
    min_utterances : int, default=5
        The fewest recordings of one speaker whose own statistics are used.
    auto_threshold : float in [0, 1], default=0.3
        As in :class:`SpeakerStandardizer`.

    Attributes
    ----------
    mode_, mode_reason_, speaker_dependence_
        As in :class:`SpeakerStandardizer`.
    standardizer_ : SpeakerStandardizer
        The training normalisation.
    corpus_ : SpeakerStandardizer
        The training corpus' statistics (``mode="global"``).
    """

    _parameter_constraints: dict = {
        "mode": [StrOptions({"auto", "speaker", "global", "none"})],
        "speaker_column": [str],
        "min_utterances": [Interval(numbers.Integral, 1, None, closed="left")],
        "auto_threshold": [Interval(numbers.Real, 0, 1, closed="both")],
    }

    def __init__(self, mode="auto", *, speaker_column="speaker", min_utterances=5,
                 auto_threshold=CONFOUND_THRESHOLD):
        self.mode = mode
        self.speaker_column = speaker_column
        self.min_utterances = min_utterances
        self.auto_threshold = auto_threshold

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """The training normalisation, and the training corpus' statistics.

        Returns
        -------
        self : object
        """
        self.standardizer_ = SpeakerStandardizer(
            self.mode, speaker_column=self.speaker_column,
            auto_threshold=self.auto_threshold).fit(X, y)
        self.mode_ = self.standardizer_.mode_
        self.mode_reason_ = self.standardizer_.mode_reason_
        self.speaker_dependence_ = self.standardizer_.speaker_dependence_
        self.n_features_in_ = self.standardizer_.n_features_in_
        self.corpus_ = (self.standardizer_ if self.mode_ == "global" else
                        SpeakerStandardizer("global").fit(X)
                        if self.mode_ == "speaker" else None)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then normalise the training recordings as training does."""
        return self.fit(X, y).standardizer_.transform(X)

    def rules(self, X):
        """The normalisation each recording of ``X`` gets from
        :meth:`transform`: ``"speaker"`` (their speaker's own statistics),
        ``"training corpus"`` or ``"none"``."""
        check_is_fitted(self, "mode_")
        n = (len(X) if isinstance(X, pd.DataFrame) else
             len(get_frames(X, allow_missing=True, whom=type(self).__name__)))
        if self.mode_ != "speaker":
            return np.full(n, RULES[self.mode_], dtype=object)
        out = np.full(n, "training corpus", dtype=object)
        if isinstance(X, pd.DataFrame) and self.speaker_column in X.columns:
            speakers = X[self.speaker_column]
            known = speakers.notna() & (speakers.astype(str).str.strip() != "")
            counts = speakers[known].astype(str).value_counts()
            enough = speakers.astype(str).map(counts).fillna(0).to_numpy() >= (
                self.min_utterances)
            out[known.to_numpy() & enough] = "speaker"
        return out

    def transform(self, X):
        """Normalise new recordings by the rule of :meth:`rules`."""
        rules = self.rules(X)
        if self.mode_ != "speaker":
            return self.standardizer_.transform(X)
        own = rules == "speaker"
        if not own.any():
            return self.corpus_.transform(X)
        frames = get_frames(X, allow_missing=True, whom=type(self).__name__)
        out = [None] * len(frames)
        parts = [(np.flatnonzero(own), None), (np.flatnonzero(~own), self.corpus_)]
        for rows, fitted in parts:
            if not len(rows):
                continue
            sub = X.iloc[rows].copy(deep=False)
            sub[self.speaker_column] = sub[self.speaker_column].astype(str)
            norm = fitted or SpeakerStandardizer(
                "speaker", speaker_column=self.speaker_column).fit(sub)
            done = get_frames(norm.transform(sub), allow_missing=True)
            for k, i in enumerate(rows):
                out[i] = done[k]
        return with_frames(X, out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
