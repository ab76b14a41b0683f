"""Shared machinery of the audio feature extractors.

Parallel extraction with joblib (``n_jobs``), a per-file cache keyed by the
*content* of the audio and the extraction settings (``memory``), a progress
bar for long runs (tqdm) and an ``on_error`` policy. Output order always
follows the input order.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import tempfile
import zlib

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._parallel import parallel
from .._warnings import ser_warn
from ..exceptions import (
    AudioError,
    CacheWarning,
    DroppedRowsWarning,
    LowBandwidthWarning,
    TruncatedAudioWarning,
)
from ._audio import (
    audio_sources,
    load_audio,
    source_rate,
    wav_truncation,
)
from ._audio import source_digest as _digest
from ._base import with_frames
from ._frames import FramesArray
from ._store import _Writer, memory_folder, temporary_store


def in_memory_limit():
    """``out_of_core="auto"``: frames are kept in memory up to this many bytes,
    then moved to a store on disk (``$SKLEARN_SER_IN_MEMORY_LIMIT``, default
    2 GiB)."""
    return int(float(os.environ.get("SKLEARN_SER_IN_MEMORY_LIMIT", 2 * 2**30)))

#: Part of every cache key: entries written by another layout are never read
#: ("2": each entry has a checksum beside it).
CACHE_VERSION = "2"


#: ``progress="auto"`` shows a bar from this many utterances on (a few seconds
#: of extraction on one core).
AUTO_PROGRESS_MIN = 100


def _cache_dir(memory):
    folder = memory_folder(memory)
    return None if folder is None else folder / "sklearn_ser_features"


def _lookup(extractor, uid, source, cache_dir, signature):
    """The cache's side of one utterance: ``(hit, cache_file, notes)``.

    ``hit`` is a finished result (see :func:`_extract_one`) when the cache holds
    a sound entry, else None; ``cache_file`` is where a fresh result goes (None:
    no cache); ``notes`` as in :func:`_extract_one`.
    """
    cache_file, notes = None, {}
    if source[0] == "path":
        cut = wav_truncation(source[1])
        if cut:
            notes["truncated"] = cut
    if cache_dir is None or source[0] not in {"path", "audio"}:
        return None, None, notes
    h = hashlib.sha1(signature.encode())
    try:
        digest = _digest(source, h)
    except OSError:
        return None, None, notes  # unreadable: load_audio names the problem
    cache_file = cache_dir / digest[:2] / f"{digest}.npy"
    if cache_file.exists():
        frames, problem = _read_cache(cache_file, extractor, source)
        if frames is not None:
            # the warnings of an extraction hold on a hit too
            rate = source_rate(source)
            up = (rate if rate is not None and extractor.sample_rate
                  and rate < extractor.sample_rate else None)
            return ("ok", frames, up, None, notes), cache_file, notes
        notes["unreadable"] = (f"unreadable cache entry "
                               f"{cache_file.name} ({problem})")
    return None, cache_file, notes


def _keep(cache_file, frames, notes):
    """Write a fresh, finite result to the cache (a note when it failed)."""
    if cache_file is not None and np.isfinite(frames).all():
        failed = _write_cache(cache_file, frames)
        if failed:
            notes["unwritten"] = failed


def _extract_one(extractor, uid, source, cache_dir, signature):
    """Worker: frames for one utterance, from the cache when possible.

    Returns ``(status, frames, upsampled_from, error, notes)``; ``notes`` maps
    ``"truncated"``, ``"unreadable"`` (cache entry) or ``"unwritten"`` (cache)
    to a message, for the warnings given in the parent process.
    """
    hit, cache_file, notes = _lookup(extractor, uid, source, cache_dir, signature)
    if hit is not None:
        return hit
    try:
        wave, rate, upsampled = load_audio(uid, source, extractor.sample_rate)
        frames = extractor._compute(uid, wave, rate)
        frames = np.ascontiguousarray(frames, dtype=np.float32)
        _keep(cache_file, frames, notes)
        return ("ok", frames, upsampled, None, notes)
    except AudioError as exc:
        return ("error", None, None, str(exc), notes)


def _checksum(frames):
    """The text written beside a cache entry: its shape and a CRC-32 of its
    bytes (it catches truncated, edited and half-written entries; read on
    every cache hit, so the fastest check that does)."""
    crc = zlib.crc32(np.ascontiguousarray(frames).data)
    return f"{frames.shape[0]} {frames.shape[1]} {crc:08x}"


def _sum_path(path):
    return path.with_suffix(".sum")


def _read_cache(path, extractor, source=None):
    """(frames, None) for a sound entry; (None, why) for one to recompute:
    unreadable, not 2-D float32, the wrong width, non-finite values, not the
    frames that were written (the checksum beside the entry: a truncated,
    edited or half-written entry), or (for frame extractors with a known
    frame shift) a frame count that does not fit the audio's duration."""
    try:
        frames = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        return None, f"{type(e).__name__}: {e}"
    if frames.ndim != 2 or frames.dtype != np.float32:
        return None, f"shape {frames.shape}, dtype {frames.dtype}"
    expected = getattr(extractor, "n_features_out_", None)
    if frames.shape[0] == 0 or (expected and frames.shape[1] != expected):
        return None, f"shape {frames.shape}, expected (T>0, {expected})"
    try:
        written = _sum_path(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None, "no checksum beside it (written half-way)"
    if written != _checksum(frames):
        rows = written.split(" ")[0]
        return None, (f"not the frames written ({rows} frames written, "
                      f"{frames.shape[0]} found, or values changed)")
    if not np.isfinite(frames).all():
        return None, f"{int((~np.isfinite(frames)).sum())} non-finite values"
    shift = getattr(extractor, "_frame_shift_seconds", lambda: None)()
    duration = _duration(source) if shift and source is not None else None
    if duration:
        want = duration / shift
        if abs(frames.shape[0] - want) > max(8.0, 0.05 * want):
            return None, (f"{frames.shape[0]} frames for {duration:.2f} s of audio "
                          f"(about {want:.0f} expected)")
    return frames, None


def _duration(source):
    """Seconds of audio of a path or in-memory source (None if unknown)."""
    try:
        if source[0] == "path":
            import soundfile as sf

            return float(sf.info(source[1]).duration)
        if source[0] == "audio" and source[2]:
            wave = np.asarray(source[1])
            n = max(wave.shape) if wave.ndim == 2 else len(wave)
            return n / float(source[2])
    except Exception:  # noqa: BLE001 - unknown: no frame-count check
        return None
    return None


def _write_cache(path, frames):
    """Write the entry, then its checksum, each atomically (temporary file +
    rename): a reader sees a whole entry with its checksum, or recomputes.
    A message if it failed."""
    failed = _write_atomic(path, lambda fh: np.save(fh, frames))
    if failed is None:
        text = _checksum(frames).encode()
        failed = _write_atomic(_sum_path(path), lambda fh: fh.write(text))
    return failed


def _write_atomic(path, write):
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix + ".tmp")
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        # mkstemp makes 0600 files; a cache shared by a team follows the umask
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)  # atomic: parallel writers never clash
        return None
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return f"cache not written ({type(e).__name__}: {e.strerror or e})"


def _extract_batch(extractor, batch, cache_dir, signature):
    return [_extract_one(extractor, uid, src, cache_dir, signature)
            for uid, src in batch]


class AudioFeatureExtractor(TransformerMixin, BaseEstimator):
    """Base class: audio in, frame sequences out (see :mod:`sklearn_ser.features`)."""

    _parameter_constraints: dict = {
        "sample_rate": [Interval(numbers.Integral, 1000, None, closed="left"), None],
        "n_jobs": [numbers.Integral, None],
        "memory": [None, str, os.PathLike, joblib.Memory],
        "on_error": [StrOptions({"raise", "skip"})],
        "progress": ["boolean", StrOptions({"auto"})],
        "out_of_core": ["boolean", StrOptions({"auto"})],
    }

    #: extractors made before ``out_of_core`` existed (pickles) stay in memory
    out_of_core = False

    # -- to implement --------------------------------------------------------
    def _compute(self, uid, wave, rate):  # pragma: no cover - abstract
        raise NotImplementedError

    def _feature_names(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _name(self):
        """The public name of the step in messages (OpenSmileFunctionals for
        its internal extractor)."""
        return getattr(self, "_public_name", type(self).__name__)

    def _cache_signature(self):
        return f"{type(self).__name__}|{CACHE_VERSION}|{self.sample_rate}"

    def _bandwidth_needed(self):
        """Highest frequency (Hz) the features look at; upsampling below warns."""
        return (self.sample_rate or 16000) / 2

    # -- sklearn API -----------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters and name the output columns (no learning).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : object
        """
        self.feature_names_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_)
        return self

    def transform(self, X):
        """Extract frame sequences.

        Parameters
        ----------
        X : DataFrame, list of paths or list of waveforms
            A DataFrame needs a ``path`` column or an ``audio`` column (with a
            ``sample_rate`` column or the ``sample_rate`` parameter); other
            columns are kept.

        Returns
        -------
        Xt : DataFrame
            ``X`` (shallow copy) with a ``frames`` column of ``(T, D)`` float32
            arrays; ``None`` where ``on_error="skip"`` skipped an utterance.
        """
        if not hasattr(self, "feature_names_"):
            self.fit()
        ids, sources, frame = audio_sources(X, self.sample_rate)
        writer = self._writer(ids)
        errors, upsampled, flagged = [], [], []
        notes = {"truncated": [], "unreadable": [], "unwritten": []}
        with writer:  # an error or Ctrl-C removes a partial store
            results = self._run(ids, sources)
            for uid, (status, arr, up, message, found) in zip(ids, results,
                                                              strict=True):
                for kind, text in found.items():
                    notes[kind].append((uid, text))
                if status == "error":
                    if self.on_error == "raise":
                        raise AudioError(message)
                    errors.append(message)
                    writer.append([None])
                    continue
                if up is not None and up / 2 < self._bandwidth_needed():
                    upsampled.append((uid, up))
                if self._flag_output(arr):
                    flagged.append(uid)
                writer.append([arr])
            frames = FramesArray._from_writer(writer)
        if errors:
            ser_warn(
                f"{self._name()}: skipped {len(errors)} of {len(ids)} "
                f"utterance(s) whose audio cannot be used (their frames are None). "
                f"First: {errors[0]}",
                DroppedRowsWarning,
            )
        if upsampled:
            rates = sorted({r for _, r in upsampled})
            ser_warn(
                f"{self._name()}: {len(upsampled)} utterance(s) were "
                f"upsampled from {rates} Hz to {self.sample_rate} Hz; they hold no "
                f"content above {min(rates) // 2} Hz (e.g. {upsampled[0][0]!r}).",
                LowBandwidthWarning,
            )
        if notes["truncated"]:
            uid, text = notes["truncated"][0]
            ser_warn(
                f"{self._name()}: {len(notes['truncated'])} audio file(s) "
                "hold less audio than their header says (truncated copies?); their "
                f"features come from what is there. First: utterance {uid!r}: "
                f"{text}.",
                TruncatedAudioWarning,
            )
        cache = notes["unreadable"] + notes["unwritten"]
        if cache:
            ser_warn(
                f"{self._name()}: feature cache {str(self.memory)!r}: "
                f"{len(notes['unreadable'])} unreadable entr(y/ies) recomputed, "
                f"{len(notes['unwritten'])} result(s) not written; first: utterance "
                f"{cache[0][0]!r}: {cache[0][1]}. The features returned are freshly "
                "computed.",
                CacheWarning,
            )
        if flagged:
            self._warn_flagged(flagged)
        return with_frames(frame, frames)

    def _flag_output(self, frames):
        """Hook: True for frames a subclass warns about (e.g. unvoiced)."""
        return False

    def _warn_flagged(self, ids):
        """Hook: the warning for the utterances :meth:`_flag_output` flagged."""

    def _frames_per_second(self):
        shift = getattr(self, "_frame_shift_seconds", lambda: None)()
        if shift is None and isinstance(getattr(self, "frame_shift", None),
                                        numbers.Real):
            shift = float(self.frame_shift)
        return None if not shift else 1.0 / shift

    def estimated_nbytes(self, X):
        """Bytes of float32 frames the extraction of ``X`` will give, from the
        audio's durations (file headers; no audio is read)."""
        _, sources, _ = audio_sources(X, self.sample_rate)
        return self._estimate(sources)

    def _estimate(self, sources):
        if not hasattr(self, "n_features_out_"):
            self.fit()
        fps = self._frames_per_second()
        if fps is None:
            return 4 * self.n_features_out_ * len(sources)
        seconds = sum(_duration(s) or 0.0 for s in sources if s[0] != "missing")
        return int(4 * self.n_features_out_ * seconds * fps)

    def _writer(self, ids):
        """Where the frames go: memory, a new store, or (``out_of_core=
        "auto"``) memory until :func:`in_memory_limit`, then a store."""
        layers = self._frame_layers()
        if self.out_of_core is True:
            return _Writer(temporary_store(self.memory), ids=ids, temporary=True,
                           layers=layers)
        # in memory each fresh result is a block of its own (never copied)
        if self.out_of_core == "auto":
            return _Writer(None, ids=ids, temporary=True, copy=False,
                           spill=temporary_store(self.memory),
                           spill_bytes=in_memory_limit(), layers=layers)
        return _Writer(None, ids=ids, copy=False, layers=layers)

    def _frame_layers(self):
        """Hidden layers side by side in each output frame (1: plain features)."""
        return 1

    def _progress_name(self):
        """The public step named on the progress bar, e.g.
        ``OpenSmileFrames(emobase45)``."""
        name = getattr(self, "_public_name", type(self).__name__)
        detail = getattr(self, "feature_set", None)
        return f"{name}({detail})" if detail else name

    def _run(self, ids, sources):
        """Results in input order, as they come (a generator: the caller
        writes each one away, so memory holds a few batches, not the corpus)."""
        cache_dir = _cache_dir(self.memory)
        signature = self._cache_signature()
        n = len(ids)
        n_jobs = joblib.effective_n_jobs(self.n_jobs)
        show = self.progress is True or (self.progress == "auto"
                                         and n >= AUTO_PROGRESS_MIN)
        items = list(zip(ids, sources, strict=True))
        if n_jobs == 1:
            iterator = (
                _extract_one(self, uid, src, cache_dir, signature) for uid, src in items
            )
            if show:
                from tqdm.auto import tqdm

                # delay: no bar for work that ends within 2 s (a cache hit)
                iterator = tqdm(iterator, total=n, desc=self._progress_name(),
                                unit="utt", delay=2.0)
            yield from iterator
            return
        size = max(1, min(64, n // (8 * n_jobs) or 1))
        batches = [items[i:i + size] for i in range(0, n, size)]
        gen = parallel(n_jobs)(
            joblib.delayed(_extract_batch)(self, b, cache_dir, signature)
            for b in batches
        )
        if show:
            from tqdm.auto import tqdm

            gen = tqdm(gen, total=len(batches), desc=self._progress_name(),
                       unit="batch", delay=2.0)
        for res in gen:
            yield from res

    def get_feature_names_out(self, input_features=None):
        """Names of the per-frame features (the columns of each ``frames`` array)."""
        if not hasattr(self, "feature_names_"):
            self.fit()
        return self.feature_names_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # input is audio (paths or waveforms in an utterance table), which
        # sklearn's generic checks (numeric 2-D arrays) cannot provide
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        tags.non_deterministic = False
        return tags
