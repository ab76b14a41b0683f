"""Long recordings cut into the pieces a model labels: speech regions found
by silero-vad, or fixed windows."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample_poly

#: The rate silero-vad reads.
VAD_RATE = 16000
#: A speech region longer than this is cut into equal windows no longer than
#: it (the models were trained on utterances, not monologues).
MAX_REGION_SECONDS = 20.0
#: Pauses shorter than this do not end a speech region.
MIN_SILENCE_MS = 300


def mono(wave):
    """A (samples,) float32 signal: channels averaged."""
    wave = np.asarray(wave, dtype=np.float32)
    return wave.mean(axis=1) if wave.ndim == 2 else wave


def fixed_windows(duration, seconds):
    """``[(start, end)]`` seconds: windows of ``seconds`` covering
    ``duration``; a last piece shorter than half a window joins the one
    before."""
    if duration <= seconds:
        return [(0.0, float(duration))]
    starts = list(np.arange(0.0, duration, seconds))
    if len(starts) > 1 and duration - starts[-1] < seconds / 2:
        starts.pop()
    ends = starts[1:] + [duration]
    return [(float(s), float(e)) for s, e in zip(starts, ends, strict=True)]


def _split_long(regions, longest=MAX_REGION_SECONDS):
    out = []
    for start, end in regions:
        n = int(np.ceil((end - start) / longest - 1e-9))
        if n <= 1:
            out.append((start, end))
            continue
        edges = np.linspace(start, end, n + 1)
        out.extend((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:],
                                                          strict=True))
    return out


_VAD = {}


def _vad_model():
    """silero-vad's model, loaded once (the weights its pip package ships)."""
    if "model" not in _VAD:
        try:
            from silero_vad import load_silero_vad
        except ImportError:  # pragma: no cover - a dependency
            raise SystemExit("sklearn-ser predict: --segment auto needs silero-vad "
                             "(pip install silero-vad).") from None
        import warnings

        with warnings.catch_warnings():  # its TorchScript file, read by torch.jit
            warnings.simplefilter("ignore", DeprecationWarning)
            _VAD["model"] = load_silero_vad()
    return _VAD["model"]


def speech_regions(wave, rate, *, longest=MAX_REGION_SECONDS):
    """``[(start, end)]`` seconds of speech in ``wave`` (mono, any rate), by
    silero-vad at 16 kHz; regions longer than ``longest`` are cut into equal
    windows."""
    import torch
    from silero_vad import get_speech_timestamps

    wave = mono(wave)
    if rate != VAD_RATE:
        from math import gcd

        g = gcd(int(rate), VAD_RATE)
        wave = resample_poly(wave, VAD_RATE // g, int(rate) // g).astype(np.float32)
    found = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(wave)),
                                  _vad_model(), sampling_rate=VAD_RATE,
                                  min_silence_duration_ms=MIN_SILENCE_MS,
                                  return_seconds=False)
    regions = [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in found]
    return _split_long(regions, longest)
