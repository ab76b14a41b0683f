"""openSMILE low-level descriptors per frame, and utterance functionals."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._parallel import catch_swallowed_interrupt
from .._warnings import ser_warn
from ..exceptions import AudioError, UnvoicedWarning
from ._extract import AudioFeatureExtractor

CONFIG_DIR = Path(__file__).parent / "configs"

#: Frame sets defined by sklearn-ser's own openSMILE configurations.
CUSTOM_SETS = {
    # name: (config file, frame length in seconds)
    "emobase45": ("emobase45.conf", 0.060),
    "fujioka32": ("fujioka32.conf", 0.025),
}
#: Stock openSMILE sets (LLD level), name -> (FeatureSet name, frame seconds).
STOCK_SETS = {
    "emobase": ("emobase", 0.040),
    "eGeMAPSv02": ("eGeMAPSv02", 0.060),
    "GeMAPSv01b": ("GeMAPSv01b", 0.060),
    "ComParE_2016": ("ComParE_2016", 0.060),
}

_SMILES: dict = {}  # per-process cache of opensmile.Smile objects


def _smile(feature_set, level):
    key = (feature_set, level)
    smile = _SMILES.get(key)
    if smile is None:
        import opensmile

        if feature_set in CUSTOM_SETS:
            fs = str(CONFIG_DIR / CUSTOM_SETS[feature_set][0])
            lv = "lld"
        else:
            fs = getattr(opensmile.FeatureSet, STOCK_SETS[feature_set][0])
            lv = getattr(opensmile.FeatureLevel, level)
        smile = opensmile.Smile(feature_set=fs, feature_level=lv)
        _SMILES[key] = smile
    return smile


def _check_feature_set(feature_set):
    if feature_set not in CUSTOM_SETS and feature_set not in STOCK_SETS:
        raise ValueError(
            f"feature_set={feature_set!r} is not known; use one of "
            f"{sorted(CUSTOM_SETS) + sorted(STOCK_SETS)}."
        )


def _run_smile(smile, uid, wave, rate):
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0:
        # openSMILE reads 16-bit PCM: scale down rather than wrap around
        wave = wave / peak
    with warnings.catch_warnings(), catch_swallowed_interrupt() as check:
        warnings.simplefilter("error", UserWarning)
        try:
            out = smile(wave[None, :], rate)
        except UserWarning as exc:  # "Segment too short, filling with NaN."
            # a Ctrl-C that openSMILE swallowed also ends the segment early and
            # comes back as this warning: the interrupt, not the file, is to
            # blame then
            check()
            raise AudioError(f"Utterance {uid!r}: openSMILE: {exc}") from exc
        # openSMILE swallows a Ctrl-C and returns a frame short: never let
        # that truncated result out (nor into the cache)
        check()
    return out[0].T


class OpenSmileFrames(AudioFeatureExtractor):
    """openSMILE low-level descriptors, one row per frame.

    Parameters
    ----------
    feature_set : str, default="emobase45"
        ``"emobase45"``: the 45 LLDs of Chou & Lee (2.2.1): 12 MFCC, loudness,
        F0, voicing probability, zero-crossing rate, their first derivatives,
        and second derivatives of MFCC and loudness, 60 ms frames, 10 ms step.
        ``"fujioka32"``: the same 16 LLDs and first derivatives (32 columns),
        25 ms / 10 ms (Fujioka et al. 3.2). Both come from openSMILE
        configurations shipped in ``sklearn_ser/features/configs``, built from
        the components of openSMILE's ``emobase.conf`` with one framer, so the
        frame length is real, not resampled. Stock LLD sets by name:
        ``"emobase"``, ``"eGeMAPSv02"``, ``"GeMAPSv01b"``, ``"ComParE_2016"``.
    sample_rate : int or None, default=16000
        Rate audio is resampled to (see :mod:`sklearn_ser.features._audio` for
        the rule); None keeps each file's rate.
    n_jobs : int, default=None
        Parallel workers (joblib); -1 uses every core.
    memory : str, path or joblib.Memory, default=None
        Folder of a per-file cache keyed by the audio *content* and these
        settings: a re-run reads the cached frames instead of extracting.
    on_error : {"raise", "skip"}, default="raise"
        ``"skip"`` leaves unusable utterances with ``frames=None`` and warns
        with their count instead of raising.
    progress : bool or "auto", default="auto"
        Show a tqdm progress bar, named after this step and its feature set
        ("auto": from 100 utterances on).
    out_of_core : bool or "auto", default="auto"
        Write the frames chunk by chunk into a store on disk (a
        :class:`FramesArray` read per utterance) instead of memory. "auto":
        in memory until the frames pass ``$SKLEARN_SER_IN_MEMORY_LIMIT`` bytes
        (default 2 GiB), then moved to a store and continued there
        (``estimated_nbytes(X)`` tells the size beforehand). The store goes
        under ``memory`` (a ``sklearn_ser_frames`` folder) or
        :func:`frames_temp_dir`, and is removed when no array refers to it;
        ``frames.save(path)`` keeps a copy. The frames are the same either way.

    Attributes
    ----------
    feature_names_ : ndarray of str
        Names of the frame columns, as openSMILE gives them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(16000) / 16000
    >>> X = pd.DataFrame({"audio": [0.3 * np.sin(2 * np.pi * 150 * t)],
    ...                   "sample_rate": [16000], "speaker": ["s1"]})
    >>> Xt = OpenSmileFrames("emobase45").fit_transform(X)
    >>> Xt["frames"].iloc[0].shape, list(Xt.columns)
    ((96, 45), ['audio', 'sample_rate', 'speaker', 'frames'])
    """

    _parameter_constraints: dict = {
        **AudioFeatureExtractor._parameter_constraints,
        "feature_set": [str],
    }

    def __init__(
        self,
        feature_set="emobase45",
        *,
        sample_rate=16000,
        n_jobs=None,
        memory=None,
        on_error="raise",
        progress="auto",
        out_of_core="auto",
    ):
        self.feature_set = feature_set
        self.sample_rate = sample_rate
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.progress = progress
        self.out_of_core = out_of_core

    @property
    def frame_length(self):
        """Frame length in seconds of the chosen set."""
        _check_feature_set(self.feature_set)
        table = CUSTOM_SETS if self.feature_set in CUSTOM_SETS else STOCK_SETS
        return table[self.feature_set][1]

    def _feature_names(self):
        _check_feature_set(self.feature_set)
        return list(_smile(self.feature_set, "LowLevelDescriptors").feature_names)

    def _cache_signature(self):
        sig = super()._cache_signature() + f"|{self.feature_set}"
        if self.feature_set in CUSTOM_SETS:
            text = (CONFIG_DIR / CUSTOM_SETS[self.feature_set][0]).read_bytes()
            sig += "|" + hashlib.sha1(text).hexdigest()
        import opensmile

        return sig + f"|opensmile {opensmile.__version__}"

    def _check_length(self, uid, wave, rate):
        need = int(np.ceil(self.frame_length * rate))
        if len(wave) < need:
            raise AudioError(
                f"Utterance {uid!r}: audio is {1000 * len(wave) / rate:.1f} ms long, "
                f"shorter than one {1000 * self.frame_length:.0f} ms frame of "
                f"{self.feature_set}."
            )

    def _frame_shift_seconds(self):
        """10 ms between openSMILE LLD frames (the cache checks frame counts)."""
        return 0.010

    def _compute(self, uid, wave, rate):
        self._check_length(uid, wave, rate)
        smile = _smile(self.feature_set, "LowLevelDescriptors")
        return _run_smile(smile, uid, wave, rate)

    def _f0_column(self):
        names = self.feature_names_
        if getattr(self, "_f0_of", None) is not names:  # once per feature set
            f0 = [i for i, n in enumerate(names)
                  if n.startswith("F0") and "_de" not in n]
            self._f0, self._f0_of = (f0[0] if f0 else None), names
        return self._f0

    def _flag_output(self, frames):
        col = self._f0_column()
        return col is not None and frames is not None and not np.any(frames[:, col])

    def _warn_flagged(self, unvoiced):
        name = self.feature_names_[self._f0_column()]
        ser_warn(
            f"{len(unvoiced)} utterance(s) have no voiced frame ({name} = 0 "
            f"throughout), e.g. {unvoiced[:3]}; their pitch features carry no "
            "information (silence, noise or whisper?).",
            UnvoicedWarning,
        )


class OpenSmileFunctionals(TransformerMixin, BaseEstimator):
    """Utterance-level openSMILE functionals (e.g. the 88 eGeMAPS features).

    The classic feature vector of the non-neural baselines (eGeMAPS + SVM):
    returns a 2-D array ``(n_utterances, n_functionals)`` for any sklearn
    estimator. Same audio input and options as :class:`OpenSmileFrames`.

    With ``output="frames"`` it returns the utterance table instead, each
    functional vector a one-frame sequence in the ``frames`` column, so that
    :class:`SpeakerStandardizer` can normalise it per speaker (or globally,
    as decided from the training data) and :class:`FrameStatistics` turn it
    back into a 2-D array::

        make_pipeline(OpenSmileFunctionals("ComParE_2016", output="frames"),
                      SpeakerStandardizer(), FrameStatistics(), StandardScaler(),
                      EveryRatingClassifier(LogisticRegression(C=1e-3)))

    Parameters
    ----------
    feature_set : {"eGeMAPSv02", "GeMAPSv01b", "ComParE_2016", "emobase"}
    sample_rate, n_jobs, memory, on_error, progress
        As in :class:`OpenSmileFrames`; skipped utterances get NaN rows.
    output : {"array", "frames"}, default="array"
        A 2-D array, or the utterance table with one-frame sequences.
    """

    def __init__(
        self,
        feature_set="eGeMAPSv02",
        *,
        sample_rate=16000,
        n_jobs=None,
        memory=None,
        on_error="raise",
        progress="auto",
        output="array",
    ):
        self.feature_set = feature_set
        self.sample_rate = sample_rate
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.progress = progress
        self.output = output

    def _extractor(self):
        return _FunctionalsExtractor(
            self.feature_set, sample_rate=self.sample_rate, n_jobs=self.n_jobs,
            memory=self.memory, on_error=self.on_error, progress=self.progress,
        )

    def fit(self, X=None, y=None):
        """Name the output columns (no learning)."""
        ext = self._extractor().fit()
        self.feature_names_ = ext.feature_names_
        self.n_features_out_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """``(n_utterances, n_functionals)`` float32 features, or (``output=
        "frames"``) the utterance table with one-frame sequences."""
        if self.output not in ("array", "frames"):
            raise ValueError(f"output={self.output!r}; use 'array' or 'frames'.")
        if not hasattr(self, "feature_names_"):
            self.fit()
        table = self._extractor().transform(X)
        if self.output == "frames":
            return table
        frames = table["frames"]
        out = np.full((len(frames), self.n_features_out_), np.nan, dtype=np.float32)
        for i, f in enumerate(frames):
            if f is not None:
                out[i] = f[0]
        return out

    def get_feature_names_out(self, input_features=None):
        if not hasattr(self, "feature_names_"):
            self.fit()
        return np.asarray(self.feature_names_, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class _FunctionalsExtractor(OpenSmileFrames):
    """OpenSmileFrames at the functionals level (one row per utterance)."""

    _public_name = "OpenSmileFunctionals"

    _parameter_constraints: dict = dict(OpenSmileFrames._parameter_constraints)

    def _feature_names(self):
        if self.feature_set not in STOCK_SETS:
            raise ValueError(
                f"Functionals exist for the stock sets {sorted(STOCK_SETS)}, not "
                f"{self.feature_set!r}."
            )
        return list(_smile(self.feature_set, "Functionals").feature_names)

    def _cache_signature(self):
        return super()._cache_signature() + "|functionals"

    def _frame_shift_seconds(self):
        return None  # one row of functionals per utterance, not frames

    def _compute(self, uid, wave, rate):
        self._check_length(uid, wave, rate)
        return _run_smile(_smile(self.feature_set, "Functionals"), uid, wave, rate)

    def _flag_output(self, frames):
        return False
