"""Log power spectrograms (Ando et al. 2019, 4.1)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval

from ..exceptions import AudioError
from ._audio import RATE_RANGE
from ._extract import AudioFeatureExtractor


class LogSpectrogram(AudioFeatureExtractor):
    """Log power spectrogram frames: 40 ms Hamming, 10 ms shift, 0-4 kHz.

    Defaults follow Ando et al. (4.1): DFT length 1600 at 16 kHz (a 10 Hz
    grid), frequencies 0-4 kHz, which yields 400 log-power bins per frame.
    Each frame is ``log(|DFT|^2 + eps)`` of the Hamming-windowed samples.
    At another ``sample_rate`` the DFT length becomes ``sample_rate / 10`` so
    the grid stays at 10 Hz.

    Parameters
    ----------
    frame_length : float, default=0.040
        Window length in seconds.
    frame_shift : float, default=0.010
        Hop in seconds.
    max_frequency : float, default=4000
        Highest frequency kept (Hz); bins ``0 .. max_frequency / 10 - 1``.
    eps : float, default=1e-10
        Floor inside the logarithm.
    backend : {"numpy", "torch"}, default="numpy"
        Where the DFT runs (identical results up to float precision).
    sample_rate, n_jobs, memory, on_error, progress, out_of_core
        As in :class:`OpenSmileFrames`.

    Examples
    --------
    >>> import numpy as np
    >>> wave = np.random.default_rng(0).normal(size=16000).astype("float32") * 0.1
    >>> spec = LogSpectrogram().fit_transform([wave])  # list of waveforms, 16 kHz
    >>> spec["frames"].iloc[0].shape
    (97, 400)
    """

    _parameter_constraints: dict = {
        **AudioFeatureExtractor._parameter_constraints,
        "frame_length": [Interval(numbers.Real, 0, None, closed="neither")],
        "frame_shift": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_frequency": [Interval(numbers.Real, 0, None, closed="neither")],
        "eps": [Interval(numbers.Real, 0, None, closed="neither")],
        "backend": [str],
    }

    def __init__(
        self,
        *,
        frame_length=0.040,
        frame_shift=0.010,
        max_frequency=4000.0,
        eps=1e-10,
        backend="numpy",
        sample_rate=16000,
        n_jobs=None,
        memory=None,
        on_error="raise",
        progress="auto",
        out_of_core="auto",
    ):
        self.frame_length = frame_length
        self.frame_shift = frame_shift
        self.max_frequency = max_frequency
        self.eps = eps
        self.backend = backend
        self.sample_rate = sample_rate
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.out_of_core = out_of_core
        self.progress = progress

    def _bandwidth_needed(self):
        return self.max_frequency

    def _n_bins(self):
        return int(round(self.max_frequency / 10.0))

    def _feature_names(self):
        if self.backend not in {"numpy", "torch"}:
            raise ValueError(f"backend={self.backend!r}; use 'numpy' or 'torch'.")
        if self._n_bins() < 1:
            raise ValueError(
                f"max_frequency={self.max_frequency!r} Hz keeps no bin of the 10 Hz "
                "grid; use at least 10 (the default 4000 keeps 0-4 kHz).")
        top = self.sample_rate or RATE_RANGE[1]
        if self.max_frequency > top / 2:
            raise ValueError(
                f"max_frequency={self.max_frequency!r} Hz is above the highest "
                f"frequency {top / 2:g} Hz of "
                + (f"sample_rate={self.sample_rate}" if self.sample_rate else
                   "any audio this reads")
                + "; lower it (or raise sample_rate).")
        # at the fitted rate (or, keeping each file's rate, at the highest one)
        self._samples(top)
        return [f"logpow_{10 * k}Hz" for k in range(self._n_bins())]

    def _cache_signature(self):
        return (super()._cache_signature()
                + f"|{self.frame_length}|{self.frame_shift}|{self.max_frequency}"
                + f"|{self.eps}")

    def _frame_shift_seconds(self):
        """Seconds between frames (the cache checks frame counts with it)."""
        return float(self.frame_shift)

    def _samples(self, rate):
        """(window, hop, DFT length) in samples at ``rate``; settings that give
        under two samples per window or one per hop are refused."""
        win = int(round(self.frame_length * rate))
        hop = int(round(self.frame_shift * rate))
        for name, n, least in (("frame_length", win, 2), ("frame_shift", hop, 1)):
            if n < least:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} s is {n} sample(s) at {rate} Hz; "
                    f"it must span at least {least} (e.g. {name}="
                    f"{0.04 if name == 'frame_length' else 0.01}).")
        return win, hop, int(round(rate / 10.0))  # 10 Hz grid: 1600 at 16 kHz

    def _compute(self, uid, wave, rate):
        win, hop, n_fft = self._samples(rate)
        n_bins = self._n_bins()
        if n_bins > n_fft // 2 + 1:
            # this utterance's rate (sample_rate=None keeps each file's own):
            # an error of the utterance, so on_error="skip" skips it alone
            raise AudioError(
                f"Utterance {uid!r}: its {rate} Hz audio holds nothing above "
                f"{rate // 2} Hz, below max_frequency={self.max_frequency:g} Hz "
                "(set sample_rate=16000 to resample it, with a warning)."
            )
        if win > n_fft:
            raise ValueError(
                f"frame_length={self.frame_length}s ({win} samples) exceeds the DFT "
                f"length {n_fft} of a 10 Hz grid."
            )
        if len(wave) < win:
            raise AudioError(
                f"Utterance {uid!r}: audio is {1000 * len(wave) / rate:.1f} ms long, "
                f"shorter than one {1000 * self.frame_length:.0f} ms frame."
            )
        n_frames = 1 + (len(wave) - win) // hop
        frames = np.lib.stride_tricks.sliding_window_view(wave, win)[::hop][:n_frames]
        window = np.hamming(win).astype(np.float32)
        if self.backend == "torch":
            import torch

            spec = torch.fft.rfft(torch.from_numpy(frames * window), n=n_fft, dim=1)
            power = (spec.real**2 + spec.imag**2)[:, :n_bins].numpy()
        else:
            spec = np.fft.rfft(frames * window, n=n_fft, axis=1)[:, :n_bins]
            power = spec.real**2 + spec.imag**2
        return np.log(power + self.eps).astype(np.float32)
