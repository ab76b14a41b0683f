"""Speed perturbation (Ando et al. 4.1, after Ko et al. 2015): training only."""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from ._audio import audio_sources, load_audio


def speed_perturb(wave, factor, max_denominator=100):
    """Play ``wave`` ``factor`` times faster (tempo and pitch change together).

    The signal is resampled by ``1 / factor`` and read at the original rate,
    as ``sox speed`` does: 0.9 makes an utterance 11 % longer and lower.
    """
    from scipy.signal import resample_poly

    frac = Fraction(factor).limit_denominator(max_denominator)
    return resample_poly(wave, frac.denominator, frac.numerator).astype(np.float32)


class SpeedPerturbation(BaseEstimator):
    """Add speed-perturbed copies of the training utterances.

    A *sampler* in the imbalanced-learn sense: it changes the number of
    samples, so it is not a transformer. In an :class:`imblearn.pipeline.Pipeline`
    (``pip install imbalanced-learn``; not a dependency of sklearn-ser)
    its :meth:`fit_resample` runs while fitting (adding one copy per factor
    of every utterance, with the same annotations) and it is skipped at
    predict time, so test utterances are never perturbed::

        from imblearn.pipeline import Pipeline
        pipe = Pipeline([("speed", SpeedPerturbation()),
                         ("spec", LogSpectrogram()),
                         ("clf", CNNBLSTMClassifier())])

    Copies are named ``<utterance id>@sp<factor>`` and keep every metadata
    column (speaker, session, ...); their waveform is in the ``audio`` column
    (at ``sample_rate``), so the next step extracts features from it.

    Parameters
    ----------
    factors : tuple of float, default=(0.9, 1.1)
        Speed factors of the copies (Ando et al.: 0.9 and 1.1).
    sample_rate : int, default=16000
        Rate of the perturbed waveforms (and of in-memory input lacking a
        ``sample_rate`` column).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"audio": [np.ones(1000, "float32") * 0.1],
    ...                   "sample_rate": [16000], "speaker": ["s1"]}, index=["u1"])
    >>> Xr, yr = SpeedPerturbation().fit_resample(X, pd.Series(["anger"], index=["u1"]))
    >>> list(Xr.index), [len(a) for a in Xr["audio"]], list(yr)
    (['u1', 'u1@sp0.9', 'u1@sp1.1'], [1000, 1112, 910], ['anger', 'anger', 'anger'])
    """

    _parameter_constraints: dict = {
        "factors": ["array-like"],
        "sample_rate": [Interval(numbers.Integral, 1000, None, closed="left")],
    }

    def __init__(self, factors=(0.9, 1.1), *, sample_rate=16000):
        self.factors = factors
        self.sample_rate = sample_rate

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters."""
        factors = [float(f) for f in self.factors]
        if any(f <= 0 for f in factors):
            raise ValueError(f"Speed factors must be > 0, got {list(self.factors)}.")
        return self

    def fit_resample(self, X, y):
        """Return the utterances and their copies, with ``y`` repeated to match.

        Parameters
        ----------
        X : DataFrame
            Utterance table with ``path`` or ``audio`` (see
            :class:`OpenSmileFrames`).
        y : annotation table, Series or array-like, aligned with ``X``

        Returns
        -------
        X_resampled : DataFrame
            The originals first, then one block of copies per factor.
        y_resampled : same type as ``y``
        """
        self.fit(X, y)
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "SpeedPerturbation needs the utterance DataFrame (path or audio "
                f"column), got {type(X).__name__}."
            )
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} utterances but y has {len(y)} rows.")
        if "frames" in X.columns:
            raise ValueError(
                "SpeedPerturbation perturbs the audio, but X already has a 'frames' "
                "column: the copies would carry the frames of the unperturbed "
                "utterances. Put SpeedPerturbation before the feature extractor "
                "(or drop the column).")
        ids, sources, _ = audio_sources(X, self.sample_rate)
        waves = [load_audio(uid, src, self.sample_rate)[0]
                 for uid, src in zip(ids, sources, strict=True)]
        blocks_X = [X]
        blocks_y = [y]
        for factor in self.factors:
            copy = X.copy(deep=False)
            copy.index = pd.Index([f"{uid}@sp{factor:g}" for uid in X.index],
                                  name=X.index.name)
            audio = np.empty(len(waves), dtype=object)
            for i, w in enumerate(waves):
                audio[i] = speed_perturb(w, float(factor))
            copy["audio"] = audio
            copy["sample_rate"] = self.sample_rate
            if "path" in copy.columns:
                copy["path"] = None
            if "duration" in copy.columns:
                copy["duration"] = [len(a) / self.sample_rate for a in audio]
            copy["speed_factor"] = float(factor)
            blocks_X.append(copy)
            blocks_y.append(_relabel(y, copy.index))
        X_out = pd.concat(blocks_X, axis=0)
        if "speed_factor" in X_out.columns:
            X_out["speed_factor"] = X_out["speed_factor"].fillna(1.0)
        return X_out, _concat_y(blocks_y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def _relabel(y, index):
    if isinstance(y, pd.DataFrame | pd.Series):
        out = y.copy(deep=False)
        out.index = index
        return out
    return y


def _concat_y(blocks):
    first = blocks[0]
    if isinstance(first, pd.DataFrame | pd.Series):
        return pd.concat(blocks, axis=0)
    return np.concatenate([np.asarray(b, dtype=object) for b in blocks])
