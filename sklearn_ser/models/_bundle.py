"""A fitted model as a folder that loads without executing anything it holds.

Layout of a bundle (format :data:`FORMAT_VERSION`):

``model.skops``
    The fitted estimator (a pipeline, a meta-estimator, a fusion...) in
    skops' format, with every network and every pandas table replaced by a
    reference (:class:`_ModuleRef`, :class:`_TableRef`). Loaded with an
    explicit list of trusted types: this package's and scikit-learn's.
``weights.safetensors``
    Every network's tensors, ``<key>/<tensor>``.
``networks.json``
    Every network's class and constructor arguments (``networks``: the
    networks are rebuilt from this package's own network classes, then given
    their tensors) and the tensors written once for several networks
    (``shared_tensors``: a fusion head's frozen copies of its encoders).
``manifest.json``
    The format version, the library and dependency versions, the estimator
    and its parameters, the classes, the audio conversion and feature
    settings, the training data's summary, and the SHA-256 of every file
    above.
``README.md``
    The model card.

Loading checks the format version and every file's SHA-256 before reading
any of them, refuses a skops file naming a type outside the trusted list,
and never unpickles.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from torch import nn

from .._estimators import estimators_in
from .._version import __version__
from ..exceptions import BundleError
from ._card import model_card
from ._nn.persist import LoadedNet, module_spec, module_state, restore_module

#: The bundle format this release writes and reads.
FORMAT_VERSION = 1
FORMAT = "sklearn-ser model bundle"
SKOPS, WEIGHTS, NETWORKS, MANIFEST, CARD = ("model.skops", "weights.safetensors",
                                            "networks.json", "manifest.json",
                                            "README.md")
#: The packages whose versions a manifest records.
DEPENDENCIES = ("scikit-learn", "torch", "skorch", "numpy", "pandas", "scipy",
                "skops", "safetensors", "opensmile", "soundfile")
#: Modules whose types a skops file may name (with those skops trusts by
#: default: builtins and numpy's).
TRUSTED_MODULES = ("sklearn_ser", "sklearn")


class _ModuleRef:
    """A network of the bundle: its key in ``networks.json`` and the weights."""

    def __init__(self, key):
        self.key = key


class _NetRef:
    """A trained skorch net: kept as its module (a :class:`_ModuleRef`)."""

    def __init__(self, module, device="cpu"):
        self.module = module
        self.device = device


class _TensorRef:
    """A tensor outside any network (its key in the weights file)."""

    def __init__(self, key):
        self.key = key


class _TableRef:
    """A pandas DataFrame, Series or Index as plain arrays."""

    def __init__(self, kind, values, index, columns=None, name=None, dtypes=None):
        self.kind = kind
        self.values = values
        self.index = index
        self.columns = columns
        self.name = name
        self.dtypes = dtypes


def _plain(values):
    """A numpy array skops writes as data: numbers as they are, anything
    else (text, mixed) as an object array of Python values."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biufc":
        return arr
    return np.asarray([v.item() if isinstance(v, np.generic) else v
                       for v in arr.ravel().tolist()], dtype=object).reshape(arr.shape)


def _index_ref(index, where):
    if isinstance(index, pd.MultiIndex):
        raise BundleError(f"{where} has a MultiIndex, which a bundle does not "
                          "store; flatten it before saving.")
    return _TableRef("Index", _plain(index.to_numpy()), None, name=index.name,
                     dtypes=str(index.dtype))


def _table_ref(obj, where):
    if isinstance(obj, pd.DataFrame):
        if isinstance(obj.columns, pd.MultiIndex):
            raise BundleError(f"{where} has MultiIndex columns, which a bundle does "
                              "not store; flatten them before saving.")
        return _TableRef("DataFrame", [_plain(obj[c].to_numpy()) for c in obj.columns],
                         _index_ref(obj.index, where),
                         columns=[c.item() if isinstance(c, np.generic) else c
                                  for c in obj.columns],
                         dtypes=[str(t) for t in obj.dtypes])
    if isinstance(obj, pd.Series):
        return _TableRef("Series", _plain(obj.to_numpy()), _index_ref(obj.index, where),
                         name=obj.name, dtypes=str(obj.dtype))
    return _index_ref(obj, where)


def _typed(values, dtype):
    try:
        return pd.array(values, dtype=dtype) if dtype != "object" else values
    except (TypeError, ValueError):
        return values


def _table(ref):
    if ref.kind == "Index":
        return pd.Index(_typed(ref.values, ref.dtypes), name=ref.name, dtype=None)
    index = _table(ref.index)
    if ref.kind == "Series":
        return pd.Series(_typed(ref.values, ref.dtypes), index=index, name=ref.name)
    data = {k: _typed(v, t) for k, v, t in zip(range(len(ref.columns)), ref.values,
                                                 ref.dtypes, strict=True)}
    out = pd.DataFrame(data, index=index)
    out.columns = ref.columns
    return out


def _is_ours(obj):
    """An object of this package or of scikit-learn, copied attribute by
    attribute (anything else is left to skops as it is)."""
    module = type(obj).__module__ or ""
    return (module.split(".")[0] in TRUSTED_MODULES and hasattr(obj, "__dict__")
            and not isinstance(obj, type) and not callable(obj)
            or isinstance(obj, BaseEstimator))


def _encode(obj, state, memo, where):
    """``obj`` with every network, tensor and pandas table replaced by a
    reference (``state`` collects the networks' specs and tensors); shared
    objects stay shared."""
    key = id(obj)
    if key in memo:
        return memo[key][0]
    out = _encode_new(obj, state, memo, where)
    memo[key] = (out, obj)  # obj kept alive: its id is not reused
    return out


def _encode_new(obj, state, memo, where):
    from skorch import NeuralNet

    if isinstance(obj, NeuralNet | LoadedNet):
        module = getattr(obj, "module_", None)
        if module is None:
            raise BundleError(f"{where} is a skorch net that was never trained; "
                              "save a fitted model.")
        return _NetRef(_encode(module, state, memo, f"{where}.module_"),
                       device="cpu")
    if isinstance(obj, nn.Module):
        key = f"net{len(state['networks'])}"
        try:
            state["networks"][key] = module_spec(obj, where)
        except TypeError as e:
            raise BundleError(str(e)) from None
        for name, tensor in module_state(obj).items():
            # a fusion head's frozen encoders hold copies of its components'
            # weights: each distinct tensor is written once
            digest = (str(tensor.dtype), tuple(tensor.shape),
                      hashlib.sha256(tensor.numpy().tobytes()).hexdigest())
            first = state["digests"].setdefault(digest, f"{key}/{name}")
            if first == f"{key}/{name}":
                state["tensors"][first] = tensor
            else:
                state["shared"][f"{key}/{name}"] = first
        return _ModuleRef(key)
    if isinstance(obj, torch.Tensor):
        key = f"tensor{len(state['loose'])}"
        state["loose"][key] = obj
        state["tensors"][key] = obj.detach().cpu().contiguous().clone()
        return _TensorRef(key)
    if isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
        return _table_ref(obj, where)
    if type(obj) is dict:
        return {k: _encode(v, state, memo, f"{where}[{k!r}]") for k, v in obj.items()}
    if type(obj) is list:
        return [_encode(v, state, memo, f"{where}[{i}]") for i, v in enumerate(obj)]
    if type(obj) is tuple:
        return tuple(_encode(v, state, memo, f"{where}[{i}]")
                     for i, v in enumerate(obj))
    if _is_ours(obj):
        new = type(obj).__new__(type(obj))
        new.__dict__.update({k: _encode(v, state, memo, f"{where}.{k}")
                             for k, v in vars(obj).items()})
        return new
    return obj


def _decode(obj, tensors, networks, memo):
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, _ModuleRef):
        spec = networks.get(obj.key)
        if spec is None:
            raise BundleError(f"the model names network {obj.key!r}, which "
                              f"{NETWORKS} does not hold.")
        prefix = f"{obj.key}/"
        out = restore_module(spec, {k[len(prefix):]: v for k, v in tensors.items()
                                    if k.startswith(prefix)}, where=obj.key)
    elif isinstance(obj, _NetRef):
        out = LoadedNet(_decode(obj.module, tensors, networks, memo), obj.device)
    elif isinstance(obj, _TensorRef):
        if obj.key not in tensors:
            raise BundleError(f"the model names tensor {obj.key!r}, which {WEIGHTS} "
                              "does not hold.")
        out = tensors[obj.key]
    elif isinstance(obj, _TableRef):
        out = _table(obj)
    elif type(obj) is dict:
        out = {k: _decode(v, tensors, networks, memo) for k, v in obj.items()}
    elif type(obj) is list:
        out = [_decode(v, tensors, networks, memo) for v in obj]
    elif type(obj) is tuple:
        out = tuple(_decode(v, tensors, networks, memo) for v in obj)
    elif _is_ours(obj):
        for k, v in list(vars(obj).items()):
            vars(obj)[k] = _decode(v, tensors, networks, memo)
        out = obj
    else:
        out = obj
    memo[key] = out
    return out


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions():
    out = {"sklearn-ser": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def json_safe(value):
    """``value`` as JSON: numbers, text, lists and dicts as they are, an
    estimator as its class and parameters, anything else as its ``repr``."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value if not (isinstance(value, float) and not np.isfinite(value)) \
            else str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 1000:
        return json_safe(value.tolist())
    if isinstance(value, BaseEstimator):
        return {"class": _qualname(value),
                "params": json_safe(value.get_params(deep=False))}
    return repr(value)


def _qualname(obj):
    t = type(obj)
    module = t.__module__
    if module.startswith("sklearn_ser."):  # the public home, not the file
        module = ".".join(module.split(".")[:2]).replace("._", ".")
    return f"{module}.{t.__qualname__}"


def _features(estimator):
    """The feature steps (this package's extractors and normalisers) and
    the audio conversion they apply."""
    steps = [p for p in estimators_in(estimator)
             if type(p).__module__.startswith("sklearn_ser.features")]
    rates = sorted({p.sample_rate for p in steps
                    if getattr(p, "sample_rate", None) is not None})
    audio = None
    if rates:
        audio = {"sample_rate": rates[0] if len(rates) == 1 else rates,
                 "channels": "averaged to mono",
                 "resampling": "polyphase filter (scipy.signal.resample_poly)"}
    return ([{"class": _qualname(p), "params": json_safe(p.get_params(deep=False))}
             for p in steps], audio)


def _classes(estimator):
    classes = getattr(estimator, "classes_", None)
    return None if classes is None else json_safe(list(classes))


def save_model(estimator, folder, *, training=None, card=None):
    """Write a fitted estimator to a new folder that loads without unpickling.

    Parameters
    ----------
    estimator : fitted estimator
        Any pipeline of this package's steps and scikit-learn's, the
        meta-estimators, seed ensembles and fusions included.
    folder : str or path
        A folder that does not exist yet (an existing one is refused: nothing
        a user wrote is overwritten). Written in a temporary sibling and
        renamed when complete.
    training : dict, optional
        What the model was trained on (utterances, speakers, raters, class
        counts, a hash of the ratings, scores...); stored in the manifest and
        shown on the card.
    card : str, optional
        The model card (Markdown). Default: one written from the manifest.

    Returns
    -------
    manifest : dict
        What ``manifest.json`` holds.
    """
    import safetensors.torch
    import skops.io

    folder = Path(folder)
    if folder.exists():
        raise BundleError(f"{str(folder)!r} exists; a model is saved to a new "
                          "folder (nothing already there is overwritten).")
    state = {"networks": {}, "tensors": {}, "loose": {}, "digests": {},
             "shared": {}}
    tree = _encode(estimator, state, {}, type(estimator).__name__)
    features, audio = _features(estimator)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        skops.io.dump(tree, tmp / SKOPS)
        refused = [t for t in skops.io.get_untrusted_types(file=tmp / SKOPS)
                   if t.split(".")[0] not in TRUSTED_MODULES]
        if refused:  # said now, not when a colleague loads it
            raise BundleError(
                f"the model holds object(s) of type(s) {refused}, outside the types "
                "a bundle loads (this package's, scikit-learn's, skops' defaults); "
                "set the parameter that holds them to None (e.g. "
                "set_params(callbacks=None) after fitting) before saving.")
        safetensors.torch.save_file(state["tensors"], str(tmp / WEIGHTS),
                                    metadata={"format": FORMAT})
        (tmp / NETWORKS).write_text(json.dumps(
            {"networks": state["networks"], "shared_tensors": state["shared"]},
            indent=1))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "versions": _versions(),
            "estimator": {"class": _qualname(estimator),
                          "params": json_safe(estimator.get_params(deep=True))},
            "classes": _classes(estimator),
            "features": features,
            "audio": audio,
            "training": json_safe(training or {}),
            "files": {},
        }
        manifest["files"] = {n: _sha256(tmp / n) for n in (SKOPS, WEIGHTS, NETWORKS)}
        text = card if card is not None else model_card(manifest)
        (tmp / CARD).write_text(text)
        manifest["files"][CARD] = _sha256(tmp / CARD)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        os.rename(tmp, folder)  # fails if folder appeared meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read_manifest(folder):
    """The manifest of a bundle folder, its format checked (no file is
    read but ``manifest.json``)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BundleError(f"{str(folder)!r} is not a folder; give the folder "
                          "save_model (or sklearn-ser fit --out) wrote.")
    if not path.is_file():
        raise BundleError(f"{str(folder)!r} has no {MANIFEST}; it is not a model "
                          "bundle (written by save_model or sklearn-ser fit).")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleError(f"{path}: not valid JSON ({e}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path} does not describe a {FORMAT}.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{str(folder)!r} is a bundle of format {version!r}; sklearn-ser "
            f"{__version__} reads format {FORMAT_VERSION} (written by "
            f"sklearn-ser {manifest.get('versions', {}).get('sklearn-ser')}); "
            "load it with that release, or train the model again.")
    return manifest


def check_files(folder, manifest):
    """Every file the manifest lists, present and with its SHA-256."""
    folder = Path(folder)
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {SKOPS, WEIGHTS, NETWORKS, CARD}:
        raise BundleError(f"{folder / MANIFEST} lists files {sorted(files or {})}; "
                          f"a bundle holds {sorted([SKOPS, WEIGHTS, NETWORKS, CARD])}.")
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{path} is missing; the bundle is incomplete.")
        if _sha256(path) != digest:
            raise BundleError(
                f"{path} is not the file that was saved (its SHA-256 differs from "
                "the manifest's): altered or damaged since it was written. "
                "Nothing was loaded.")


def check_bundle(folder):
    """A bundle's manifest, once its format version and the SHA-256 of every
    file are checked (nothing but the manifest is parsed).

    Raises
    ------
    BundleError
        Not a bundle, another format version, a file missing or altered.
    """
    manifest = read_manifest(folder)
    check_files(folder, manifest)
    return manifest


def untrusted_types(folder):
    """The types the bundle's skops file names that are neither skops'
    defaults nor of this package or scikit-learn."""
    import skops.io

    named = skops.io.get_untrusted_types(file=Path(folder) / SKOPS)
    return named, [t for t in named if t.split(".")[0] not in TRUSTED_MODULES]


def load_model(folder):
    """Load a model written by :func:`save_model` (or ``sklearn-ser fit``).

    Nothing in the folder runs: the format version and the SHA-256 of every
    file are checked first, the skops file is refused if it names a type
    outside this package's and scikit-learn's (and skops' defaults), the
    networks are rebuilt from this package's network classes and given the
    tensors of the safetensors file. Pickle is never used.

    Returns
    -------
    estimator
        The fitted estimator, with ``manifest_`` (the manifest's dict).

    Raises
    ------
    BundleError
        Another format version, a file missing or altered, a type outside the
        trusted list, networks that do not match their weights.
    """
    import safetensors.torch
    import skops.io

    manifest = check_bundle(folder)
    named, refused = untrusted_types(folder)
    if refused:
        raise BundleError(
            f"{Path(folder) / SKOPS} names type(s) outside the trusted list "
            f"(this package's, scikit-learn's, skops' defaults): {refused}. "
            "Nothing was loaded; a model saved by sklearn-ser holds none.")
    try:
        tree = skops.io.load(Path(folder) / SKOPS, trusted=named)
        tensors = safetensors.torch.load_file(str(Path(folder) / WEIGHTS))
        described = json.loads((Path(folder) / NETWORKS).read_text())
    except BundleError:
        raise
    except Exception as e:  # a damaged file that kept its hash cannot occur;
        raise BundleError(f"{folder}: cannot be read: {e}") from e  # a bug can
    networks, tensors = _networks_and_tensors(folder, described, tensors)
    named_keys = set(networks)
    stray = sorted(k for k in tensors if k.split("/")[0] not in named_keys
                   and not k.startswith("tensor"))
    if stray:
        raise BundleError(f"{Path(folder) / WEIGHTS} holds tensors no network of the "
                          f"model names (e.g. {stray[0]!r}); it is not this "
                          "model's weights file.")
    try:
        model = _decode(tree, tensors, networks, {})
    except ValueError as e:
        raise BundleError(f"{folder}: {e}") from None
    model.manifest_ = manifest
    return model


def _networks_and_tensors(folder, described, tensors):
    """``networks.json``'s networks, and the tensors with every shared one
    (written once for several networks) under each of its names."""
    if not isinstance(described, dict) or not isinstance(
            described.get("networks"), dict) or not isinstance(
            described.get("shared_tensors"), dict):
        raise BundleError(f"{Path(folder) / NETWORKS} does not describe networks "
                          "(expected networks and shared_tensors).")
    tensors = dict(tensors)
    for alias, stored in described["shared_tensors"].items():
        if stored not in tensors or alias in tensors:
            raise BundleError(f"{Path(folder) / NETWORKS}: shared tensor {alias!r} "
                              f"names {stored!r}, which {WEIGHTS} does not hold "
                              "once.")
        tensors[alias] = tensors[stored]
    return described["networks"], tensors
