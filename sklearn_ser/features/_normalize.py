"""Normalisation of frame features: per speaker, per utterance, or global."""

from __future__ import annotations

import numbers
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._warnings import ser_warn
from ..annotations import check_id_spellings
from ..exceptions import SingleUtteranceSpeakerWarning, SpeakerConfoundWarning
from ._base import (
    check_fit_frames,
    check_frame_dim,
    frame_dim,
    get_frames,
    with_frames,
)
from ._speaker_dependence import (
    CONFOUND_THRESHOLD,
    is_speaker_confounded,
    training_labels,
)

#: The column ``mode="corpus"`` groups by.
CORPUS_COLUMN = "corpus"


def _stats(frames):
    stacked = np.concatenate(frames, axis=0).astype(np.float64)
    return stacked.mean(axis=0), stacked.std(axis=0)


#: A group (speaker, or the corpus for global statistics) with at most this
#: many bytes of float64 frames is gathered and reduced at once; larger ones
#: are reduced in pieces of this size and merged.
EXACT_BYTES = 128 * 2**20


def _group_stats(frames, codes, n_groups, max_bytes=EXACT_BYTES):
    """Mean and standard deviation (float64) of each group's frames.

    Reads one group at a time (``frames`` may live on disk): a group of up to
    ``max_bytes`` of float64 frames gets exactly ``np.mean``/``np.std`` of its
    concatenated frames (as a list of arrays would); a larger one is reduced
    piece by piece and merged with Chan et al.'s pairwise update, so memory
    holds at most one piece. Groups without frames get NaN.
    """
    dim = frames.dim
    mean = np.full((n_groups, dim), np.nan)
    std = np.full((n_groups, dim), np.nan)
    count = np.zeros(n_groups, dtype=np.int64)
    present = ~frames.isna()
    lengths = frames.lengths
    order = np.argsort(codes, kind="stable")
    order = order[present[order]]
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    per_frame = 8 * max(dim, 1)
    for g in range(n_groups):
        members = order[bounds[g]:bounds[g + 1]]
        pieces, piece, size = [], [], 0
        for i in members:
            piece.append(i)
            size += per_frame * int(lengths[i])
            if size >= max_bytes:
                pieces.append(piece)
                piece, size = [], 0
        if piece:
            pieces.append(piece)
        n_g, mean_g, m2_g = 0, None, None
        for piece in pieces:
            x = np.concatenate([frames.read(int(i)) for i in piece],
                               axis=0).astype(np.float64)
            if not len(x):
                continue
            if len(pieces) == 1:
                mean[g], std[g], count[g] = x.mean(axis=0), x.std(axis=0), len(x)
                break
            nb, mb = len(x), x.mean(axis=0)
            d = x - mb
            m2b = np.multiply(d, d, out=d).sum(axis=0)
            if n_g == 0:
                n_g, mean_g, m2_g = nb, mb, m2b
                continue
            n = n_g + nb
            delta = mb - mean_g
            mean_g = mean_g + delta * (nb / n)
            m2_g = m2_g + m2b + delta * delta * (n_g * nb / n)
            n_g = n
        else:
            if n_g:
                mean[g], std[g], count[g] = mean_g, np.sqrt(m2_g / n_g), n_g
    return mean, std, count


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
    deviation over all training frames. ``mode="corpus"``: as ``"speaker"``,
    grouped by the ``corpus`` column instead: each corpus by its own
    statistics, a test corpus by those of its own (unlabelled) frames, which
    removes the shift between corpora (microphones, rooms, languages).
    ``mode="none"``: frames pass unchanged (as float32).

    ``mode="auto"`` (the default) decides in ``fit``, from the training data
    only: it reads the hard majority labels of ``y`` and measures how much of
    the label uncertainty the speaker explains
    (:func:`speaker_label_dependence`, ``1 - H(label | speaker) / H(label)``).
    Below ``auto_threshold`` (speakers show the corpus' mix of emotions, as in
    acted corpora and IEMOCAP) it normalises per speaker; at or above it
    (speakers show one or a few emotions, as in many naturalistic corpora) it
    normalises globally. Without a speaker column it normalises globally;
    without labels (``fit(X)`` alone) it cannot measure the dependence and
    normalises per speaker, as the papers do. ``mode_`` says what was chosen
    and ``mode_reason_`` why. Pass ``y`` (a ``Pipeline`` does) to let it
    decide.

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
    mode : {"auto", "speaker", "utterance", "global", "corpus", "none"}, \
default="auto"
    speaker_column : str, default="speaker"
        Column of the utterance table naming the speaker.
    auto_threshold : float in [0, 1], default=0.3
        With ``mode="auto"``: normalise globally when the speaker explains at
        least this share of the training labels' entropy. An acted corpus
        whose speakers each show every emotion scores about 0.05 (EmoDB);
        speakers showing 2 of 7 emotions about 0.6; one emotion each, 1.
    eps : float, default=1e-8
        Standard deviations below this are replaced by 1 (constant features
        are only centred).
    memory : str, path or joblib.Memory, default=None
        Where the normalised frames are written when the input frames live
        on disk (a :class:`FramesArray` store): a ``sklearn_ser_frames``
        folder under it, else under :func:`frames_temp_dir`. Statistics and
        outputs are computed chunk by chunk, so memory holds one chunk; the
        written store is removed when no array refers to it any more. In
        memory input gives in-memory output.

    Attributes
    ----------
    mode_ : str
        The normalisation applied: ``mode``, or what ``"auto"`` chose.
    mode_reason_ : str
        Why (for ``"auto"``: the measured dependence and the threshold).
    speaker_dependence_ : float
        :func:`speaker_label_dependence` of the training data (NaN when it
        could not be measured: no labels or no speaker column).
    n_features_in_ : int
        Features per frame.

    Warns
    -----
    SpeakerConfoundWarning
        With ``mode="speaker"`` and labels in ``fit``, when most training
        speakers carry a single label (their emotion would be normalised
        away).

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
        "mode": [StrOptions({"auto", "speaker", "utterance", "global", "corpus",
                             "none"})],
        "speaker_column": [str],
        "auto_threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "eps": [Interval(numbers.Real, 0, None, closed="left")],
        "memory": [None, str, os.PathLike, joblib.Memory],
    }

    def __init__(self, mode="auto", *, speaker_column="speaker",
                 auto_threshold=CONFOUND_THRESHOLD, eps=1e-8, memory=None):
        self.mode = mode
        self.speaker_column = speaker_column
        self.auto_threshold = auto_threshold
        self.eps = eps
        self.memory = memory

    def _speakers(self, X, column=None):
        """The group of each utterance: its speaker, or (``column``) another
        grouping column such as the corpus."""
        column = column or self.speaker_column
        mode = "corpus" if column == CORPUS_COLUMN else "speaker"
        if not isinstance(X, pd.DataFrame) or column not in X.columns:
            raise ValueError(
                f"SpeakerStandardizer(mode='{mode}') needs a '{column}' "
                "column in the utterance table (or use mode='utterance' or 'global'"
                "); got "
                + (f"columns {list(X.columns)}." if isinstance(X, pd.DataFrame)
                   else f"a {type(X).__name__}.")
            )
        speakers = X[column]
        if speakers.isna().any():
            uid = speakers.index[speakers.isna().to_numpy()][0]
            raise ValueError(
                f"Utterance {uid!r} has no {column!r}; every utterance "
                f"needs it for per-{mode} normalisation."
            )
        # "S1" and "s1 " would be normalised as two speakers
        check_id_spellings(speakers.astype(str), f"{column!r} value",
                           advice=f"in the {column!r} column")
        return speakers.to_numpy()

    def _group_column(self):
        mode = getattr(self, "mode_", self.mode)
        return CORPUS_COLUMN if mode == "corpus" else self.speaker_column

    @staticmethod
    def _check_finite(X, frames):
        """Raise on NaN/inf: one would spread through the statistics to every
        utterance of its speaker (or of the corpus, globally). Finiteness was
        recorded when the frames were made; only a bad utterance is read."""
        bad = np.flatnonzero(~frames.finite & ~frames.isna())
        if not len(bad):
            return
        ids = X.index if isinstance(X, pd.DataFrame) else range(len(frames))
        uid, arr = ids[bad[0]], np.asarray(frames[int(bad[0])])
        where = np.argwhere(~np.isfinite(arr))
        raise ValueError(
            f"Utterance {uid!r}: {len(where)} non-finite value(s) (NaN or "
            f"inf) in its frames (first at frame {where[0][0]}, feature "
            f"{where[0][1]}); SpeakerStandardizer "
            "would spread them to every utterance normalised with the "
            "same statistics. Fix or drop that utterance (e.g. "
            "on_error='skip' in the extractor gives None frames, which "
            "are passed through)."
        )

    def _scale(self, std):
        return np.where(std < self.eps, 1.0, std)

    def _has_speakers(self, X):
        if not (isinstance(X, pd.DataFrame) and self.speaker_column in X.columns):
            return False
        self._speakers(X)  # every utterance needs one (clear error otherwise)
        return True

    def _choose(self, X, y, n):
        """(mode, reason, dependence) for this training data."""
        dependence, confounded = float("nan"), False
        labels, why = training_labels(y, n, X)
        has_speakers = self._has_speakers(X)
        if labels is not None and has_speakers:
            confounded, dependence = is_speaker_confounded(
                X[self.speaker_column].to_numpy(), labels, self.auto_threshold)
        if self.mode != "auto":
            if self.mode == "speaker" and labels is not None and has_speakers:
                self._check_confound(X[self.speaker_column].to_numpy(), labels,
                                     dependence)
            return self.mode, f"mode={self.mode!r} was asked for", dependence
        if not has_speakers:
            return "global", (f"auto: no {self.speaker_column!r} column for every "
                              "utterance"), dependence
        if labels is None:
            return "speaker", (f"auto: {why}, so the speaker-label dependence "
                               "cannot be measured; per speaker, as the papers "
                               "do"), dependence
        if np.isnan(dependence):
            return "global", "auto: fewer than two labels in the training data", \
                dependence
        if confounded:
            return "global", (f"auto: speaker explains {dependence:.0%} of the "
                              "training labels' entropy (>= auto_threshold "
                              f"{self.auto_threshold:.0%})"), dependence
        return "speaker", (f"auto: speaker explains {dependence:.0%} of the "
                           "training labels' entropy (< auto_threshold "
                           f"{self.auto_threshold:.0%})"), dependence

    def _check_confound(self, speakers, labels, dependence):
        table = pd.DataFrame({"s": speakers, "y": labels}).dropna()
        per = table.groupby("s")["y"].nunique()
        single = int((per == 1).sum())
        if len(per) and single > len(per) / 2:
            ser_warn(
                f"SpeakerStandardizer(mode='speaker'): {single} of {len(per)} "
                "training speakers carry a single label (speaker explains "
                f"{dependence:.0%} of the label entropy); normalising per speaker "
                "removes their emotion with their voice. Use mode='auto' or "
                "'global'.",
                SpeakerConfoundWarning,
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the statistics (per speaker, or global).

        Parameters
        ----------
        X : utterance table with a ``frames`` column, or a list of arrays
        y : annotation table, vote-count table or labels, default=None
            Read only to choose the mode (``mode="auto"``) and to warn when
            speaker and label are confounded (``mode="speaker"``).

        Returns
        -------
        self : object
        """
        frames = get_frames(X, allow_missing=True, whom="SpeakerStandardizer")
        check_fit_frames(frames, "SpeakerStandardizer")
        self._check_finite(X, frames)
        self.n_features_in_ = frame_dim(frames)
        self.mode_, self.mode_reason_, self.speaker_dependence_ = self._choose(
            X, y, len(frames))
        if self.mode_ == "global":
            mean, std, _ = _group_stats(frames, np.zeros(len(frames), np.int64), 1)
            self.mean_, self.scale_ = mean[0], self._scale(std[0])
        elif self.mode_ == "speaker":
            self.speaker_stats_ = self._speaker_stats(self._speakers(X), frames)
        elif self.mode_ == "corpus":
            self.speaker_stats_ = self._speaker_stats(
                self._speakers(X, CORPUS_COLUMN), frames)
        return self

    def _speaker_stats(self, speakers, frames):
        codes, names = pd.factorize(pd.Series(speakers, dtype=object), sort=False)
        mean, std, count = _group_stats(frames, codes, len(names))
        n_utt = np.bincount(codes[~frames.isna()], minlength=len(names))
        single = [names[g] for g in np.flatnonzero(n_utt == 1)]
        if single:
            ser_warn(
                f"{len(single)} speaker(s) have a single utterance (e.g. "
                f"{single[:3]}); their per-speaker statistics equal per-utterance "
                "normalisation. Consider mode='global'.",
                SingleUtteranceSpeakerWarning,
            )
        return {names[g]: (mean[g], self._scale(std[g]))
                for g in range(len(names)) if n_utt[g]}

    def transform(self, X):
        """Return ``X`` with normalised frames (float32), chunk by chunk (on
        disk when the input frames are, see ``memory``)."""
        check_is_fitted(self, "n_features_in_")
        frames = get_frames(X, allow_missing=True, whom="SpeakerStandardizer")
        self._check_finite(X, frames)
        check_frame_dim(frames, self.n_features_in_, "SpeakerStandardizer")
        mode = getattr(self, "mode_", self.mode)
        if mode == "none":
            return with_frames(X, frames)
        if mode == "global":
            def fn(pos, arrays):
                return [None if f is None else
                        ((f - self.mean_) / self.scale_).astype(np.float32)
                        for f in arrays]
        elif mode == "utterance":
            def fn(pos, arrays):
                out = []
                for f in arrays:
                    if f is None:
                        out.append(None)
                        continue
                    mean, std = _stats([f])
                    out.append(((f - mean) / self._scale(std)).astype(np.float32))
                return out
        else:
            speakers = self._speakers(X, self._group_column())
            stats = self.speaker_stats_
            unseen = np.flatnonzero(~pd.Series(speakers, dtype=object).isin(
                list(stats)).to_numpy())
            if len(unseen):
                # test speakers: the statistics of their own frames, as the papers do
                stats = {**stats, **self._speaker_stats(speakers[unseen],
                                                        frames.take(unseen))}

            def fn(pos, arrays):
                out = []
                for p, f in zip(pos, arrays, strict=True):
                    if f is None:
                        out.append(None)
                        continue
                    mean, scale = stats[speakers[p]]
                    out.append(((f - mean) / scale).astype(np.float32))
                return out
        return with_frames(X, frames.map_chunks(fn, memory=self.memory))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # an utterance table with frame sequences, or a 2-D array (one frame
        # per row; normalised globally: it names no speaker); float32 out
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
