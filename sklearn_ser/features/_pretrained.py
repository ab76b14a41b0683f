"""Hidden states of a self-supervised speech model (WavLM, HuBERT, wav2vec 2.0).

The model is read with ``transformers`` from a folder on local disk (never
downloaded at run time) or given as a model object. Audio is resampled to
the model's rate and normalised as its feature extractor says, long files
are cut into chunks with context on both sides (the frames of the centre are
kept, so the frame count and the frame times are those of the whole file),
and chunks of similar length are batched. The output is a
:class:`~sklearn_ser.features.FramesArray` at the model's frame rate (50
frames per second for the models above); ``layers="all"`` stacks every
hidden state side by side, which the sequence networks weight and sum.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import numbers
import os
import threading
from pathlib import Path

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._device import torch_device
from .._parallel import thread_count
from ..exceptions import AudioError
from ._audio import load_audio
from ._extract import (
    AUTO_PROGRESS_MIN,
    CACHE_VERSION,
    AudioFeatureExtractor,
    _cache_dir,
    _keep,
    _lookup,
)

__all__ = ["PretrainedFrames"]

#: model types read by :class:`PretrainedFrames` (a convolutional feature
#: encoder followed by a transformer, as in transformers' wav2vec 2.0 family)
SPEECH_MODEL_TYPES = (
    "wav2vec2", "wav2vec2-conformer", "hubert", "wavlm", "data2vec-audio", "unispeech",
    "unispeech-sat", "sew", "sew-d",
)

FETCH_HINT = (
    "sklearn-ser never downloads a model. On a machine with internet access, "
    "save the checkpoint once, e.g.\n"
    "    python -c \"from huggingface_hub import snapshot_download; "
    "snapshot_download('microsoft/wavlm-base-plus', local_dir='wavlm-base-plus')\"\n"
    "(or AutoModel.from_pretrained(name).save_pretrained(folder) and "
    "AutoFeatureExtractor.from_pretrained(name).save_pretrained(folder)), "
    "copy the folder here and pass its path."
)

_LOADED: dict = {}  # (resolved path, mtimes) -> (model, preprocessor settings)
_LOCK = threading.Lock()


def _transformers():
    try:
        import transformers
    except ImportError as e:  # pragma: no cover - transformers comes with [ssl]
        raise ImportError(
            "PretrainedFrames needs the transformers package: "
            "pip install 'sklearn-ser[ssl]'."
        ) from e
    return transformers


@contextlib.contextmanager
def _quiet_transformers():
    """transformers' loading bars and notes off while a model is read."""
    tf = _transformers()
    logging = tf.utils.logging
    level = logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield tf
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


def _preprocessor_settings(folder):
    """``(sampling_rate, do_normalize)`` of a folder's preprocessor_config.json
    (None for each when the folder has none)."""
    import json

    file = Path(folder) / "preprocessor_config.json"
    if not file.is_file():
        return None, None
    try:
        cfg = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{str(file)!r} is unreadable ({e}).") from None
    rate = cfg.get("sampling_rate")
    norm = cfg.get("do_normalize")
    return (None if rate is None else int(rate)), (None if norm is None else bool(norm))


def load_model(folder):
    """A speech model from a local folder in transformers' format, kept for
    the process (every extraction step reading the folder shares it).

    Returns ``(model, sampling_rate, do_normalize)``; the last two are None
    when the folder has no preprocessor_config.json.
    """
    path = Path(folder).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No model folder at {str(folder)!r}. {FETCH_HINT}")
    if not path.is_dir() or not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a model folder in transformers' format "
            f"(it holds no config.json). {FETCH_HINT}"
        )
    weights = sorted(p for p in path.iterdir() if p.suffix in {".safetensors", ".bin"})
    if not weights:
        raise FileNotFoundError(
            f"{str(folder)!r} holds a config.json but no weights "
            f"(model.safetensors or pytorch_model.bin). {FETCH_HINT}"
        )
    # every file that changes the output: the weights, the architecture
    # (config.json: activation, layers...) and the preprocessing
    # (preprocessor_config.json: sampling rate, normalisation)
    files = [*weights, path / "config.json"] + [
        f for f in [path / "preprocessor_config.json"] if f.is_file()]
    key = (str(path.resolve()), tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size,
         hashlib.sha1(p.read_bytes()).hexdigest() if p.suffix == ".json" else "")
        for p in files))
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        with _quiet_transformers() as tf:
            config = tf.AutoConfig.from_pretrained(path, local_files_only=True)
            _check_model_type(config.model_type, folder)
            model = tf.AutoModel.from_pretrained(path, local_files_only=True)
        model.eval()
        _LOADED.clear()  # one model at a time: they are large
        _LOADED[key] = (model, *_preprocessor_settings(path))
        return _LOADED[key]


def _check_model_type(model_type, what):
    if model_type not in SPEECH_MODEL_TYPES:
        raise ValueError(
            f"{what!r} is a {model_type!r} model; PretrainedFrames reads speech "
            f"encoders of the wav2vec 2.0 family ({', '.join(SPEECH_MODEL_TYPES)})."
        )


def weights_digest(model):
    """SHA-1 of a model's parameters and buffers (names, shapes, values): the
    feature cache is keyed by what the weights are, not where they live."""
    import torch

    h = hashlib.sha1()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}".encode())
        h.update(t.view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _zero_mean_unit_var(wave):
    # as transformers' Wav2Vec2FeatureExtractor(do_normalize=True)
    return (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)


class PretrainedFrames(AudioFeatureExtractor):
    """Hidden states of a self-supervised speech model as frame sequences.

    Reads a WavLM, HuBERT or wav2vec 2.0 model (any speech encoder of that
    family in transformers: ``WavLMModel``, ``HubertModel``,
    ``Wav2Vec2Model``...) from a **local folder** in transformers' format
    (``config.json``, the weights, optionally ``preprocessor_config.json``),
    or uses a model object you loaded. Nothing is downloaded: see
    :doc:`/ssl` for fetching a checkpoint once on a connected machine.

    Each utterance is resampled to the model's rate (16 kHz), normalised to
    zero mean and unit variance when the model's feature extractor does so,
    and passed through the model; the chosen hidden states (transformers'
    ``hidden_states``: 0 is the input of the first transformer layer, ``i``
    the output of layer ``i``) become its ``(T, D)`` frames, 50 per second.
    Files longer than ``chunk_seconds`` are processed in chunks with
    ``context_seconds`` of audio on each side; only the centre frames of a
    chunk are kept, so frame ``t`` covers the same audio as in one pass over
    the file (the transformer's attention then spans a chunk and its context,
    not the whole file). Chunks of similar length are batched (with padding
    and an attention mask where the model takes one; models with group
    normalisation over time, such as wav2vec2-base, HuBERT-base and
    WavLM-base, batch only chunks of equal length, since padding would change
    their output).

    Parameters
    ----------
    model : str, path or transformers model
        A folder (read with ``local_files_only=True``, kept in memory for the
        process) or a loaded model of the wav2vec 2.0 family. Prefer the
        folder in searches: scikit-learn's ``clone`` (``cross_validate``,
        ``GridSearchCV``) copies a model object, while a folder is read once
        per process, and a pickled pipeline then holds the path, not the
        weights.
    layers : "all", int or list of int, default="all"
        Which hidden states: one (negative counts from the last), a list
        (stacked side by side), or every one of them, stacked, for a learned
        weighted sum in the networks (``layer_weights`` of
        :class:`~sklearn_ser.models.BLSTMAttentionClassifier`,
        :class:`~sklearn_ser.models.SUPERBHeadClassifier`).
    normalize : "auto" or bool, default="auto"
        Zero mean, unit variance per utterance. "auto": as the folder's
        ``preprocessor_config.json`` says (``do_normalize``), else as the
        model family does it (on for models with layer normalisation in the
        feature encoder, e.g. WavLM-large and wav2vec2-large-lv60; off for the
        base models with group normalisation).
    chunk_seconds : float, default=20.0
        Longest audio passed at once; longer files are cut into chunks.
    context_seconds : float, default=2.0
        Audio on each side of a chunk that the model sees but whose frames
        are dropped (for the frames near a seam).
    batch_seconds : float, default=60.0
        Audio (padded) per forward pass.
    device : str, default="auto"
        ``"cuda"`` when a GPU is present, else ``"cpu"``; or any torch device.
    n_jobs : int, default=None
        CPU threads of the forward passes (torch's intra-op threads; None
        leaves torch's setting; -1 all cores, -2 all but one, as in
        scikit-learn). The model runs in this process.
    memory, on_error, progress, out_of_core
        As in :class:`OpenSmileFrames`; the cache is keyed by the content of
        the weights (not the folder's name) and the settings above.

    Attributes
    ----------
    layers_ : list of int
        The hidden states taken, in output order.
    n_layers_ : int
        Hidden states the model gives (transformer layers + 1).
    hidden_size_ : int
        Width of one hidden state.
    sampling_rate_ : int
        The model's audio rate (from the preprocessor config, else 16000).
    normalize_ : bool
        Whether utterances are normalised (``normalize`` resolved).
    weights_digest_ : str
        SHA-1 of the weights (the cache key).
    feature_names_ : ndarray of str
        ``layer{i}_{j}``: unit ``j`` of hidden state ``i``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ser.features import PretrainedFrames
    >>> from sklearn_ser.models import SUPERBHeadClassifier
    >>> pipe = make_pipeline(PretrainedFrames("models/wavlm-base-plus"),
    ...                      SUPERBHeadClassifier())  # doctest: +SKIP
    """

    _public_name = "PretrainedFrames"

    _no_common_checks = (
        "needs a speech model (a folder or a model object), which sklearn's "
        "checks cannot give; its API (clone, params, pickling, joblib in a "
        "fitted pipeline) is covered by tests/test_pretrained.py")

    _parameter_constraints: dict = {
        **AudioFeatureExtractor._parameter_constraints,
        "model": [str, os.PathLike, object],
        "layers": [StrOptions({"all"}), numbers.Integral, list, tuple],
        "normalize": ["boolean", StrOptions({"auto"})],
        "chunk_seconds": [Interval(numbers.Real, 0.5, None, closed="left")],
        "context_seconds": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_seconds": [Interval(numbers.Real, 0, None, closed="neither")],
        "device": [str],
        "n_jobs": [numbers.Integral, None],
    }
    del _parameter_constraints["sample_rate"]

    def __init__(
        self,
        model,
        *,
        layers="all",
        normalize="auto",
        chunk_seconds=20.0,
        context_seconds=2.0,
        batch_seconds=60.0,
        device="auto",
        n_jobs=None,
        memory=None,
        on_error="raise",
        progress="auto",
        out_of_core="auto",
    ):
        self.model = model
        self.layers = layers
        self.normalize = normalize
        self.chunk_seconds = chunk_seconds
        self.context_seconds = context_seconds
        self.batch_seconds = batch_seconds
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.on_error = on_error
        self.progress = progress
        self.out_of_core = out_of_core

    # -- the model -----------------------------------------------------------------
    @property
    def sample_rate(self):
        """The model's audio rate (audio at another rate is resampled)."""
        return getattr(self, "sampling_rate_", 16000)

    def _model(self):
        """``(model, sampling_rate, do_normalize)`` from the ``model`` parameter."""
        if isinstance(self.model, str | os.PathLike):
            return load_model(self.model)
        config = getattr(self.model, "config", None)
        if config is None or not hasattr(self.model, "forward"):
            raise TypeError(
                "model must be a folder path or a transformers speech model "
                f"(WavLMModel, HubertModel, Wav2Vec2Model...); got "
                f"{type(self.model).__name__}."
            )
        _check_model_type(getattr(config, "model_type", None),
                          type(self.model).__name__)
        return self.model, None, None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Read the model, check ``layers`` and name the output features
        (no learning).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : object
        """
        self._device()  # a device this machine has, before the model is read
        if self.n_jobs is not None:
            thread_count(self.n_jobs, type(self).__name__)
        model, rate, norm = self._model()
        config = model.config
        self.n_layers_ = int(config.num_hidden_layers) + 1
        self.hidden_size_ = int(config.hidden_size)
        self.layers_ = self._resolve_layers(self.n_layers_)
        self.sampling_rate_ = int(rate or 16000)
        if self.normalize == "auto":
            layer_norm = getattr(config, "feat_extract_norm", "group") == "layer"
            self.normalize_ = bool(layer_norm if norm is None else norm)
        else:
            self.normalize_ = bool(self.normalize)
        strides = list(getattr(config, "conv_stride", ()))
        kernels = list(getattr(config, "conv_kernel", ()))
        if not strides or len(strides) != len(kernels):
            raise ValueError(
                f"{type(model).__name__}: its config gives no convolutional "
                "feature encoder (conv_stride, conv_kernel)."
            )
        self._hop = int(np.prod(strides))
        field, jump = 1, 1
        for k, s in zip(kernels, strides, strict=True):
            field += (k - 1) * jump
            jump *= s
        self._field = field
        self.weights_digest_ = weights_digest(model)
        # the architecture's settings change the features as the weights do
        settings = {k: v for k, v in config.to_dict().items()
                    if k not in ("_name_or_path", "transformers_version")}
        self.config_digest_ = hashlib.sha1(
            json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
        self.feature_names_ = np.asarray(
            [f"layer{i}_{j}" for i in self.layers_ for j in range(self.hidden_size_)],
            dtype=object,
        )
        self.n_features_out_ = len(self.feature_names_)
        return self

    def _resolve_layers(self, n):
        if isinstance(self.layers, str):
            return list(range(n))
        chosen = [self.layers] if isinstance(self.layers, numbers.Integral) else list(
            self.layers)
        if not chosen:
            raise ValueError("layers is an empty list; give at least one hidden state.")
        out = []
        for i in chosen:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                raise ValueError(f"layers holds {i!r}; hidden states are integers.")
            if not -n <= i < n:
                raise ValueError(
                    f"layers={self.layers!r}: the model has {n} hidden states "
                    f"(0 .. {n - 1}, or -{n} .. -1 from the last); {i} is outside."
                )
            out.append(int(i) % n)
        if len(set(out)) != len(out):
            raise ValueError(f"layers={self.layers!r} names a hidden state twice.")
        return out

    def _frame_layers(self):
        return len(self.layers_)

    def _feature_names(self):  # fit() names them; kept for the base class
        return list(self.feature_names_)

    def _cache_signature(self):
        return (f"PretrainedFrames|{CACHE_VERSION}|{self.weights_digest_}|"
                f"{getattr(self, 'config_digest_', '')}|"
                f"{self.layers_}|{self.normalize_}|{self.sampling_rate_}|"
                f"{float(self.chunk_seconds)}|{float(self.context_seconds)}")

    def _frame_shift_seconds(self):
        return self._hop / self.sampling_rate_ if hasattr(self, "_hop") else None

    def _bandwidth_needed(self):
        return self.sample_rate / 2

    def _device(self):
        return torch_device(self.device, type(self).__name__)

    # -- frames ----------------------------------------------------------------------
    def _n_frames(self, n_samples):
        if n_samples < self._field:
            return 0
        return (n_samples - self._field) // self._hop + 1

    def _segments(self, uid, wave):
        """Cut one waveform into ``(samples, keep_from, keep_to)`` pieces
        whose kept frames, in order, are the frames of the whole file."""
        total = self._n_frames(len(wave))
        if total == 0:
            ms = 1000 / self.sampling_rate_
            raise AudioError(
                f"Utterance {uid!r}: audio is {ms * len(wave):.1f} ms long, shorter "
                f"than the model's {ms * self._field:.0f} ms receptive field (one "
                "frame)."
            )
        per_chunk = max(1, int(self.chunk_seconds * self.sampling_rate_) // self._hop)
        context = int(round(self.context_seconds * self.sampling_rate_)) // self._hop
        if total <= per_chunk:
            return [(wave, 0, total)]
        pieces = []
        for f0 in range(0, total, per_chunk):
            f1 = min(total, f0 + per_chunk)
            a = max(0, f0 - context)
            b = min(total, f1 + context)
            seg = wave[a * self._hop : (b - 1) * self._hop + self._field]
            pieces.append((seg, f0 - a, f1 - a))
        return pieces

    def _prepare(self, wave):
        wave = np.asarray(wave, dtype=np.float32)
        if self.normalize_:
            wave = _zero_mean_unit_var(wave).astype(np.float32)
        return wave

    def _forward(self, model, device, pieces):
        """Hidden states of a list of waveforms, batched by length: a list of
        ``(T_i, layers * width)`` float32 arrays."""
        import torch

        padded_ok = getattr(model.config, "feat_extract_norm", "group") == "layer"
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        budget = int(self.batch_seconds * self.sampling_rate_)
        batches, current = [], []
        for i in order:
            longest = len(pieces[i])
            fits = (current and (len(current) + 1) * longest <= budget
                    and (padded_ok or len(pieces[current[0]]) == longest))
            if current and not fits:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        out = [None] * len(pieces)
        for batch in batches:
            longest = max(len(pieces[i]) for i in batch)
            x = np.zeros((len(batch), longest), dtype=np.float32)
            mask = np.zeros((len(batch), longest), dtype=np.int64)
            for row, i in enumerate(batch):
                x[row, : len(pieces[i])] = pieces[i]
                mask[row, : len(pieces[i])] = 1
            kwargs = {}
            if padded_ok and len(batch) > 1:
                kwargs["attention_mask"] = torch.from_numpy(mask).to(device)
            with torch.inference_mode():
                res = model(torch.from_numpy(x).to(device), output_hidden_states=True,
                            **kwargs)
            hidden = torch.cat([res.hidden_states[j] for j in self.layers_], dim=-1)
            hidden = hidden.float().cpu().numpy()
            for row, i in enumerate(batch):
                out[i] = hidden[row, : self._n_frames(len(pieces[i]))]
        return out

    def _compute(self, uid, wave, rate):
        model, _, _ = self._model()
        return self._frames_of(model, self._device(), [(uid, wave)])[0]

    def _frames_of(self, model, device, items):
        """Frames of ``[(uid, wave), ...]`` (AudioError for a too-short one)."""
        pieces, owners = [], []
        for k, (uid, wave) in enumerate(items):
            for seg, a, b in self._segments(uid, self._prepare(wave)):
                pieces.append(seg)
                owners.append((k, a, b))
        states = self._forward(model, device, pieces)
        parts = [[] for _ in items]
        for (k, a, b), h in zip(owners, states, strict=True):
            parts[k].append(h[a:b])
        return [np.ascontiguousarray(np.concatenate(p, axis=0), dtype=np.float32)
                for p in parts]

    def _run(self, ids, sources):
        """Results in input order, a window of utterances at a time (their
        chunks batched by length)."""
        import torch

        model, _, _ = self._model()
        device = self._device()
        model.to(device).eval()
        cache_dir = _cache_dir(self.memory)
        signature = self._cache_signature()
        n = len(ids)
        show = self.progress is True or (self.progress == "auto"
                                         and n >= AUTO_PROGRESS_MIN)
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=self._progress_name(), unit="utt", delay=2.0)
        threads = torch.get_num_threads()
        if self.n_jobs is not None:
            torch.set_num_threads(thread_count(self.n_jobs, type(self).__name__))
        window = max(1, int(4 * self.batch_seconds * self.sampling_rate_))
        try:
            i = 0
            while i < n:
                results, todo, held = {}, [], 0
                while i < n and (not todo or held < window):
                    uid, src = ids[i], sources[i]
                    hit, cache_file, notes = _lookup(self, uid, src, cache_dir,
                                                     signature)
                    if hit is not None:
                        results[i] = hit
                    else:
                        try:
                            wave, _, upsampled = load_audio(uid, src,
                                                            self.sampling_rate_)
                            self._segments(uid, wave)  # too short: an error of its own
                            todo.append((i, uid, wave, upsampled, cache_file, notes))
                            held += len(wave)
                        except AudioError as exc:
                            results[i] = ("error", None, None, str(exc), notes)
                    i += 1
                if todo:
                    frames = self._frames_of(model, device,
                                             [(uid, w) for _, uid, w, *_ in todo])
                    for (k, _, _, up, cache_file, notes), f in zip(todo, frames,
                                                                  strict=True):
                        _keep(cache_file, f, notes)
                        results[k] = ("ok", f, up, None, notes)
                for k in sorted(results):
                    if bar is not None:
                        bar.update(1)
                    yield results[k]
        finally:
            if self.n_jobs is not None:
                torch.set_num_threads(threads)
            if bar is not None:
                bar.close()
