"""Reading audio for feature extraction: files or in-memory waveforms.

Rules
-----
* **Mono mix-down**: a multi-channel signal is averaged over its channels.
  An in-memory waveform is 1-D, or 2-D ``(samples, channels)`` as soundfile
  reads it; ``(channels, samples)`` (torchaudio, librosa) is read as such up
  to :data:`MAX_CHANNELS_FIRST` channels and refused beyond (a stack of
  utterances in one cell reads the same). A complex array is refused.
* **Sample rates** of in-memory waveforms (a ``sample_rate`` cell or the
  parameter) are whole numbers of Hz in :data:`RATE_RANGE`; ``True``, ``0``,
  ``-1``, ``16000.5`` or ``"16 kHz"`` are refused naming the utterance.
* **Resampling**: when ``sample_rate`` is set (16 kHz by default) a signal at
  another rate is resampled with a polyphase filter
  (:func:`scipy.signal.resample_poly`, Kaiser window), the ratio reduced by
  the greatest common divisor. ``sample_rate=None`` keeps each file's rate.
* Samples must be finite; a signal of exactly zero everywhere is silent and
  rejected (its features would be logs of zero).
"""

from __future__ import annotations

import hashlib
import numbers
import os
from math import gcd

import numpy as np
import pandas as pd

from .._warnings import ser_warn
from ..exceptions import AudioError, WaveformScaleWarning


def audio_sources(X, sample_rate_param=None):
    """Return (ids, sources, frame) from any accepted input form.

    A *source* is ``("path", path)`` or ``("audio", waveform, rate)``.
    ``frame`` is the DataFrame the output is built on (metadata kept).
    """
    if isinstance(X, pd.DataFrame):
        if "audio" not in X.columns and "path" not in X.columns:
            raise ValueError(
                "The utterance table needs a 'path' column (audio files) or an "
                "'audio' column (1-D waveforms, with a 'sample_rate' column or the "
                f"sample_rate parameter); its columns are {list(X.columns)}."
            )
        ids = list(X.index)
        paths = X["path"].to_numpy() if "path" in X.columns else [None] * len(X)
        waves = X["audio"].to_numpy() if "audio" in X.columns else [None] * len(X)
        rates = (
            X["sample_rate"].to_numpy()
            if "sample_rate" in X.columns
            else [sample_rate_param] * len(X)
        )
        sources = []
        for uid, p, w, r in zip(ids, paths, waves, rates, strict=True):
            if w is not None and not (np.isscalar(w) and pd.isna(w)):
                sources.append(("audio", w, r))
            elif p is not None and not (np.isscalar(p) and pd.isna(p)):
                sources.append(("path", p))
            else:
                sources.append(("missing", uid))
        return ids, sources, X
    if isinstance(X, str | os.PathLike):
        X = [X]
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            "Audio input must be an utterance DataFrame (path or audio column), a "
            f"list of file paths or a list of waveforms; got {type(X).__name__}."
        ) from None
    if not items:
        raise ValueError("No utterance was given (empty input).")
    sources = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            sources.append(("path", os.fspath(item)))
        else:
            sources.append(("audio", item, sample_rate_param))
    frame = pd.DataFrame(index=pd.RangeIndex(len(items), name="utterance"))
    if all(s[0] == "path" for s in sources):
        frame["path"] = [s[1] for s in sources]
    return list(frame.index), sources, frame


def source_digest(source, h=None):
    """Content hash of one source (file bytes, or waveform bytes and rate)."""
    h = h or hashlib.sha1()
    if source[0] == "path":
        with open(source[1], "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    elif source[0] == "audio":
        wave = np.ascontiguousarray(np.asarray(source[1]))
        h.update(str(wave.dtype).encode())
        h.update(str(wave.shape).encode())
        h.update(str(source[2]).encode())
        h.update(wave.tobytes())
    return h.hexdigest()


def _as_float_waveform(wave):
    """float32 in [-1, 1], integer PCM scaled as a file reader scales it
    (int16 / 32768, unsigned 8-bit centred), so an in-memory waveform gives
    the features of the same sound read from a file."""
    if wave.dtype.kind == "i":
        return (wave.astype(np.float64) / float(2 ** (8 * wave.dtype.itemsize - 1))
                ).astype(np.float32)
    if wave.dtype.kind == "u":
        half = float(2 ** (8 * wave.dtype.itemsize - 1))
        return ((wave.astype(np.float64) - half) / half).astype(np.float32)
    if wave.dtype.kind == "b":
        raise TypeError("a boolean array is not a waveform")
    return wave.astype(np.float32)


def _scale_int_range(wave, uid):
    """A float waveform holding integer PCM values (int16 read into floats)
    is scaled by 1/32768 as a file reader does, with a warning; another one
    outside [-1, 1] is kept, with a warning (its features differ from the
    same sound read from a file)."""

    finite = wave[np.isfinite(wave)]
    peak = float(np.max(np.abs(finite))) if finite.size else 0.0
    if peak <= 1.0 + 1e-6:
        return wave
    if peak <= 32768.0 and np.all(finite == np.round(finite)):
        ser_warn(
            f"Utterance {uid!r}: the float waveform holds integer values up to "
            f"{peak:.0f} (16-bit PCM read as floats); scaled by 1/32768 as a file "
            "reader does. Divide by 32768 yourself to silence this.",
            WaveformScaleWarning)
        return (wave.astype(np.float64) / 32768.0).astype(np.float32)
    ser_warn(
        f"Utterance {uid!r}: the waveform peaks at {peak:.3g}, outside [-1, 1]; it "
        "is used as it is, so its features differ from the same sound in a file "
        "(normalise it to [-1, 1]).", WaveformScaleWarning)
    return wave


def wav_truncation(path):
    """A message when a RIFF/WAVE file holds less audio than its header says.

    libsndfile reads such a file without a word (it shortens the length to
    what is there); the header's ``data`` chunk size tells. None for a sound
    file, a non-WAV file or one whose header cannot be parsed.
    """
    import struct

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            pos = 12
            while pos + 8 <= size:
                fh.seek(pos)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"data":
                    have = size - (pos + 8)
                    if length != 0xFFFFFFFF and length > have:
                        return (f"audio file {os.fspath(path)!r} is truncated: its "
                                f"header declares {length} bytes of audio, the file "
                                f"holds {have}")
                    return None
                pos += 8 + length + (length & 1)
    except OSError:
        return None
    return None


#: The sample rates an in-memory waveform may give (Hz): the extractors'
#: ``sample_rate`` floor up to the highest rate audio hardware records.
RATE_RANGE = (1000, 768000)

#: A channels-first waveform ``(channels, samples)`` is read as channels up to
#: this many (mono, stereo, 5.1, 7.1); beyond, a stack of utterances is as
#: likely, and the waveform is refused naming both readings.
MAX_CHANNELS_FIRST = 8


def checked_rate(uid, rate):
    """An in-memory waveform's sample rate as an int, else :class:`AudioError`
    naming the utterance: a whole number of Hz in :data:`RATE_RANGE` (an
    int, an integral float such as ``16000.0``, or a numeral string such as
    ``"16000"`` read from a CSV). ``True``, ``0``, ``-1``, ``16000.5`` and
    ``"16 kHz"`` are refused."""
    value = rate
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            value = None
    ok = (value is not None and not isinstance(value, bool | np.bool_)
          and isinstance(value, numbers.Real)
          and RATE_RANGE[0] <= value <= RATE_RANGE[1] and value == int(value))
    if ok:
        value = int(value)
        ok = RATE_RANGE[0] <= value <= RATE_RANGE[1]
    if not ok:
        shown_rate = rate.item() if isinstance(rate, np.generic) else rate
        raise AudioError(
            f"Utterance {uid!r}: sample rate {shown_rate!r} is not a rate in Hz; "
            f"expected a whole number from {RATE_RANGE[0]} to {RATE_RANGE[1]} "
            "(e.g. 16000) in its 'sample_rate' cell.")
    return value


def source_rate(source):
    """The sample rate of one source without decoding it (None if unknown)."""
    if source[0] == "path":
        import soundfile as sf

        try:
            return int(sf.info(os.fspath(source[1])).samplerate)
        except Exception:  # unreadable: load_audio names the problem
            return None
    if source[0] == "audio" and source[2] is not None:
        try:
            return checked_rate(None, source[2])
        except AudioError:
            return None
    return None


def load_audio(uid, source, sample_rate=16000):
    """Read one utterance as a mono float32 waveform at ``sample_rate``.

    Returns ``(waveform, rate, upsampled_from)``; raises :class:`AudioError`
    naming the utterance for every unusable input.
    """
    kind = source[0]
    if kind == "missing":
        raise AudioError(f"Utterance {uid!r} has neither a path nor an audio waveform.")
    if kind == "path":
        path = os.fspath(source[1])
        if not os.path.exists(path):
            raise AudioError(f"Utterance {uid!r}: audio file {path!r} does not exist.")
        if os.path.getsize(path) == 0:
            raise AudioError(
                f"Utterance {uid!r}: audio file {path!r} is empty (0 bytes)."
            )
        import soundfile as sf

        try:
            wave, rate = sf.read(path, dtype="float32", always_2d=True)
        except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError...
            raise AudioError(
                f"Utterance {uid!r}: cannot read audio file {path!r} ({exc})."
            ) from exc
        where = f"audio file {path!r}"
    else:
        wave, rate = source[1], source[2]
        where = "its waveform"
        if rate is None or (np.isscalar(rate) and pd.isna(rate)):
            raise AudioError(
                f"Utterance {uid!r}: an in-memory waveform needs its sample rate "
                "(a 'sample_rate' column or the sample_rate parameter)."
            )
        rate = checked_rate(uid, rate)
        try:
            raw = np.asarray(wave)
        except (TypeError, ValueError) as exc:
            raise AudioError(
                f"Utterance {uid!r}: the audio cell is not a numeric waveform "
                f"({type(source[1]).__name__})."
            ) from exc
        if raw.dtype.kind == "c":
            raise AudioError(
                f"Utterance {uid!r}: the waveform holds complex values (a "
                "spectrum, an analytic signal?); a waveform is real. Pass "
                "np.real(x) if its imaginary part is only rounding.")
        try:
            wave = _as_float_waveform(raw)
        except (TypeError, ValueError) as exc:
            raise AudioError(
                f"Utterance {uid!r}: the audio cell is not a numeric waveform "
                f"({type(source[1]).__name__})."
            ) from exc
        if raw.dtype.kind == "f" and wave.size:
            wave = _scale_int_range(wave, uid)
        if wave.ndim == 2 and wave.shape[0] < wave.shape[1]:
            if wave.shape[0] > MAX_CHANNELS_FIRST:
                raise AudioError(
                    f"Utterance {uid!r}: a waveform of shape {wave.shape} is "
                    f"{wave.shape[0]} rows of {wave.shape[1]} samples: "
                    f"{wave.shape[0]} channels of one recording, or "
                    f"{wave.shape[0]} utterances in one cell? For channels pass "
                    "it as (samples, channels) (wave.T; they are averaged); for "
                    "utterances give each its own row.")
            # (channels, samples) -> (samples, channels), laid out as read
            # from a file so the mix-down adds in the same order
            wave = np.ascontiguousarray(wave.T)
        if wave.ndim == 1:
            wave = wave[:, None]
        if wave.ndim != 2:
            raise AudioError(
                f"Utterance {uid!r}: a waveform must be 1-D (samples) or 2-D "
                f"(samples, channels); got shape {wave.shape}."
            )
    if wave.shape[0] == 0:
        raise AudioError(f"Utterance {uid!r}: {where} has no samples (zero length).")
    if not np.isfinite(wave).all():
        bad = int((~np.isfinite(wave)).sum())
        raise AudioError(
            f"Utterance {uid!r}: {where} holds {bad} NaN or infinite sample(s)."
        )
    mono = wave.mean(axis=1) if wave.shape[1] > 1 else wave[:, 0]
    if not np.any(mono):
        raise AudioError(
            f"Utterance {uid!r}: {where} is silent (every sample is 0); no "
            "feature can be computed."
        )
    upsampled_from = None
    if sample_rate is not None and rate != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(int(sample_rate), int(rate))
        mono = resample_poly(mono, sample_rate // g, rate // g).astype(np.float32)
        if rate < sample_rate:
            upsampled_from = rate
        rate = sample_rate
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate), upsampled_from
