"""Train once, predict anywhere (issue 45): every command-line method saved
as a bundle folder (skops + safetensors, no pickle) loads and predicts
identically, in this process and in a fresh one; altered files, planted
types and other format versions are refused with nothing executed."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io
from hypothesis import given
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from sklearn_ser import load_model, save_model
from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus
from sklearn_ser.exceptions import BundleError
from sklearn_ser.experiments import registry
from sklearn_ser.experiments._deploy import fit_method
from sklearn_ser.models import check_bundle, predict_distribution
from sklearn_ser.models._bundle import MANIFEST, SKOPS, WEIGHTS, _sha256

pytestmark = [pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.RareClassWarning",
    "ignore::sklearn_ser.exceptions.UnvoicedWarning",
    "ignore::sklearn_ser.exceptions.AbsentClassWarning"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    data = make_emotional_speech(40, n_speakers=4, n_sessions=2, random_state=3)
    saved = save_corpus(data, tmp_path_factory.mktemp("corpus") / "c")
    return load_corpus(saved.audio_dir.parent), saved


def _fit_all(data, names, cache, root):
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            model, record = fit_method(name, data.utterances, data.annotations,
                                       list(data.classes), epochs=2, profile="demo",
                                       cache=str(cache), progress=False)
            save_model(model, root / name, training={"method": name, **record})
            out[name] = (model, root / name)
    return out


@pytest.fixture(scope="module")
def fitted(corpus, tmp_path_factory):
    """Three quick methods trained on the whole corpus (the demo profile, 2
    epochs) and saved: the bundles the refusal tests alter."""
    data, _ = corpus
    return _fit_all(data, ["logreg_egemaps", "crowd_soft", "stacked"],
                    tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("b"))


def test_every_method_loads_and_predicts_identically(corpus, tmp_path):
    """Every command-line method (one test: the ComParE recipe's penalty
    search is trained once), and the fusion of a penalty-searched pipeline
    and a network loaded again in a fresh interpreter where pickle refuses
    to load anything."""
    data, _ = corpus
    fitted = _fit_all(data, list(registry()), tmp_path / "cache", tmp_path)
    X = data.utterances.iloc[:12]
    for name, (model, folder) in fitted.items():
        loaded = load_model(folder)
        assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X)), name
        assert np.array_equal(loaded.predict(X), model.predict(X)), name
        assert loaded.manifest_["training"]["method"] == name
        assert loaded.manifest_["classes"] == list(data.classes)
        dist = predict_distribution(loaded, X)
        np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=1e-6, err_msg=name)
        assert dist.attrs["distribution"] in ("vote shares", "majority",
                                              "existence", "mixed"), name
    model, folder = fitted["every_rating_fusion"]
    X.to_pickle(tmp_path / "X.pkl")
    code = f"""
import pickle, numpy as np, pandas as pd
X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})
import sklearn_ser, sklearn_ser.models, skorch, torch
def refuse(*a, **k):
    raise AssertionError("a bundle must not unpickle")
pickle.load = pickle.loads = pickle.Unpickler = refuse
m = sklearn_ser.load_model({str(folder)!r})
np.save({str(tmp_path / 'p.npy')!r}, m.predict_proba(X))
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict_proba(X))


class Planted:
    """A type no bundle of ours holds; loading it would run its code."""

    def __setstate__(self, state):  # pragma: no cover - must never run
        raise AssertionError("a planted type's code ran at load")


def _rehash(folder):
    """The manifest made to agree with the files (what an attacker can do:
    the manifest is not signed; the type check must hold on its own)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"] = {n: _sha256(folder / n) for n in manifest["files"]}
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_planted_type_is_refused_and_nothing_runs(fitted, tmp_path):
    folder = _copy(fitted["logreg_egemaps"][1], tmp_path / "b")
    skops.io.dump({"model": Planted()}, folder / SKOPS)
    _rehash(folder)
    with pytest.raises(BundleError, match=r"outside the trusted list.*Planted"):
        load_model(folder)


def test_altered_weights_are_refused(fitted, tmp_path):
    folder = _copy(fitted["crowd_soft"][1], tmp_path / "b")
    raw = bytearray((folder / WEIGHTS).read_bytes())
    raw[-5] ^= 0xFF
    (folder / WEIGHTS).write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="SHA-256 differs.*Nothing was loaded"):
        load_model(folder)
    with pytest.raises(BundleError, match="SHA-256 differs"):
        check_bundle(folder)


def test_weights_that_do_not_fit_the_network_are_refused(fitted, tmp_path):
    """Weights edited or swapped, with the manifest made to agree: a tensor of
    another shape, or tensors no network of the model names, are refused."""
    import safetensors.torch

    for edit in ("shape", "stray"):
        folder = _copy(fitted["crowd_soft"][1], tmp_path / edit)
        tensors = safetensors.torch.load_file(str(folder / WEIGHTS))
        key = sorted(tensors)[0]
        if edit == "shape":
            tensors[key] = tensors[key][:-1].clone()
        else:
            tensors["net7/extra"] = tensors[key].clone()
        safetensors.torch.save_file(tensors, str(folder / WEIGHTS))
        _rehash(folder)
        with pytest.raises(BundleError, match="do not fit|no network of the model"):
            load_model(folder)


def test_a_fusion_heads_copies_of_its_encoders_are_written_once(fitted, corpus,
                                                               tmp_path):
    """The stacked model's head holds frozen copies of its components'
    networks: their tensors are written once and shared on loading; a shared
    name that points nowhere is refused."""
    import safetensors.torch

    model, folder = fitted["stacked"]
    described = json.loads((folder / "networks.json").read_text())
    assert described["shared_tensors"]
    stored = safetensors.torch.load_file(str(folder / WEIGHTS))
    assert not set(described["shared_tensors"]) & set(stored)
    X = corpus[0].utterances.iloc[:6]
    np.testing.assert_array_equal(load_model(folder).predict_proba(X),
                                  model.predict_proba(X))
    bad = _copy(folder, tmp_path / "b")
    alias = next(iter(described["shared_tensors"]))
    described["shared_tensors"][alias] = "net99/nothing"
    (bad / "networks.json").write_text(json.dumps(described))
    _rehash(bad)
    with pytest.raises(BundleError, match="does not hold once"):
        load_model(bad)


def test_another_format_version_is_refused(fitted, tmp_path):
    folder = _copy(fitted["logreg_egemaps"][1], tmp_path / "b")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["format_version"] = 99
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format 99.*reads format 1"):
        load_model(folder)


def test_a_missing_file_and_a_folder_that_is_no_bundle(fitted, tmp_path):
    folder = _copy(fitted["logreg_egemaps"][1], tmp_path / "b")
    (folder / WEIGHTS).unlink()
    with pytest.raises(BundleError, match="missing"):
        load_model(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="not a model bundle"):
        load_model(tmp_path / "empty")
    with pytest.raises(BundleError, match="not a folder"):
        load_model(tmp_path / "nothing")


def test_an_existing_folder_is_never_written(fitted, tmp_path):
    model, _ = fitted["logreg_egemaps"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="exists"):
        save_model(model, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_a_foreign_network_is_refused_by_name(tmp_path):
    import torch

    scaler = StandardScaler().fit([[0.0], [1.0]])
    scaler.extra_ = torch.nn.Linear(2, 2)
    with pytest.raises(BundleError, match=r"StandardScaler\.extra_.*Linear"):
        save_model(scaler, tmp_path / "b")
    assert not list(tmp_path.iterdir())


def test_a_model_holding_a_foreign_type_is_refused_when_saved(tmp_path):
    """Said at saving, not when a colleague loads the folder."""
    from collections import Counter

    scaler = StandardScaler().fit([[0.0], [1.0]])
    scaler.extra_ = Planted()
    scaler.counts_ = Counter("ab")
    with pytest.raises(BundleError, match=r"Planted.*set the parameter"):
        save_model(scaler, tmp_path / "b")
    assert not list(tmp_path.iterdir())


_columns = st.sampled_from(["int64", "float64", "object", "bool", "Int64", "string"])


@given(dtypes=st.lists(_columns, min_size=1, max_size=4), n=st.integers(0, 6),
       index=st.sampled_from(["range", "text", "int"]))
def test_pandas_tables_inside_a_model_come_back_equal(dtypes, n, index,
                                                      tmp_path_factory):
    """A fitted attribute that is a DataFrame, a Series or an Index, of any
    of these dtypes, with a range, text or integer index, loads equal."""
    rng = np.random.default_rng(n)
    data = {}
    for k, dtype in enumerate(dtypes):
        if dtype in ("object", "string"):
            values = [f"v{rng.integers(9)}" for _ in range(n)]
        elif dtype == "bool":
            values = list(rng.integers(0, 2, n).astype(bool))
        elif dtype == "float64":
            values = list(rng.normal(size=n))
        else:
            values = list(rng.integers(-5, 5, n))
        data[f"c{k}"] = pd.array(values, dtype=dtype)
    idx = {"range": pd.RangeIndex(n), "int": pd.Index(np.arange(n) * 3),
           "text": pd.Index([f"u{i}" for i in range(n)], name="utterance")}[index]
    table = pd.DataFrame(data, index=idx)
    scaler = StandardScaler().fit([[0.0], [1.0]])
    scaler.table_, scaler.column_ = table, table.iloc[:, 0]
    scaler.index_ = table.index
    folder = tmp_path_factory.mktemp("t") / "b"
    save_model(scaler, folder)
    back = load_model(folder)
    pd.testing.assert_frame_equal(back.table_, table, check_index_type=False)
    pd.testing.assert_series_equal(back.column_, table.iloc[:, 0],
                                   check_index_type=False)
    pd.testing.assert_index_equal(back.index_, table.index, exact=False)


def test_a_corpus_whose_speakers_show_one_emotion_trains_and_loads(tmp_path):
    """fit_method on a one-emotion-per-speaker corpus takes the
    speaker-confounded settings (global normalisation, fixed epochs), and
    its bundle predicts as the model in memory."""
    data = make_emotional_speech(32, n_speakers=4, n_sessions=2,
                                 emotions_per_speaker=1, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, record = fit_method("crowd_soft", data.utterances, data.annotations,
                                   list(data.classes), epochs=2, profile="demo",
                                   progress=False)
    assert record["profile"] == "speaker-confounded"
    assert record["normalisation"]["mode"] == "global"
    save_model(model, tmp_path / "b", training=record)
    X = data.utterances.iloc[:8]
    np.testing.assert_array_equal(load_model(tmp_path / "b").predict_proba(X),
                                  model.predict_proba(X))
