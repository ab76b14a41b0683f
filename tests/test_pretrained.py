"""PretrainedFrames and the layer-weighted networks, on speech models built
offline from small random-initialised configs (2 layers, width 32) saved to
a temporary folder in transformers' format."""

import json
import pickle
import shutil
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from sklearn_ser.exceptions import DroppedRowsWarning  # noqa: E402
from sklearn_ser.features import (  # noqa: E402
    AudioError,
    FramesArray,
    LowBandwidthWarning,
    PretrainedFrames,
    SpeakerStandardizer,
)
from sklearn_ser.models import (  # noqa: E402
    BLSTMAttentionClassifier,
    SUPERBHeadClassifier,
)

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2)
#: (family, config class, model class, feature-encoder normalisation)
FAMILIES = {
    "wavlm": ("WavLMConfig", "WavLMModel", "group"),
    "hubert": ("HubertConfig", "HubertModel", "group"),
    "wav2vec2-large": ("Wav2Vec2Config", "Wav2Vec2Model", "layer"),
}


def _build(family, seed=0):
    cfg_name, model_name, norm = FAMILIES[family]
    cfg = getattr(transformers, cfg_name)(
        **TINY, feat_extract_norm=norm, do_stable_layer_norm=norm == "layer")
    torch.manual_seed(seed)
    return getattr(transformers, model_name)(cfg).eval()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = {}
    for family in FAMILIES:
        folder = tmp_path_factory.mktemp(family)
        _build(family).save_pretrained(folder)
        out[family] = folder
    return out


def _waves(lengths, seed=0):
    rng = np.random.default_rng(seed)
    t = [np.arange(n) / 16000 for n in lengths]
    return [(0.1 * np.sin(2 * np.pi * 220 * x) + 0.05 * rng.normal(size=len(x)))
            .astype(np.float32) for x in t]


def _direct(model, wave, normalize, layers=None):
    """transformers' own pipeline: its feature extractor, one forward pass."""
    fe = transformers.Wav2Vec2FeatureExtractor(do_normalize=normalize)
    values = fe(wave, sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        hidden = model(values, output_hidden_states=True).hidden_states
    layers = range(len(hidden)) if layers is None else layers
    return torch.cat([hidden[i] for i in layers], dim=-1)[0].numpy()


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("layers", ["all", 0, 2, -1, [2, 0]])
def test_chosen_layers_equal_a_direct_forward_pass(folders, family, layers):
    waves = _waves([16000, 8000, 23456])
    ext = PretrainedFrames(folders[family], layers=layers).fit()
    out = ext.transform(waves)["frames"].array
    model = transformers.AutoModel.from_pretrained(folders[family]).eval()
    chosen = ext.layers_
    assert out.layers == (len(chosen) if len(chosen) > 1 else 1)
    for wave, frames in zip(waves, out, strict=True):
        ref = _direct(model, wave, ext.normalize_, chosen)
        assert frames.shape == ref.shape
        np.testing.assert_allclose(frames, ref, atol=1e-4)


def test_frame_rate_and_names(folders):
    ext = PretrainedFrames(folders["wavlm"], layers=[1, 2]).fit()
    out = ext.transform(_waves([16000, 32000, 400, 719, 720]))["frames"].array
    # 25 ms receptive field, 20 ms hop: 49 frames a second
    assert out.lengths.tolist() == [49, 99, 1, 1, 2]
    assert ext.n_layers_ == 3 and ext.hidden_size_ == 32
    assert ext.get_feature_names_out()[[0, 32]].tolist() == ["layer1_0", "layer2_0"]
    assert out.dim == 64 and out.layers == 2
    assert ext._frames_per_second() == pytest.approx(50.0)


def test_normalisation_follows_the_preprocessor_config(folders, tmp_path):
    # the base models (group norm) do not normalise, the large ones do
    assert PretrainedFrames(folders["wavlm"]).fit().normalize_ is False
    assert PretrainedFrames(folders["wav2vec2-large"]).fit().normalize_ is True
    folder = tmp_path / "with-config"
    shutil.copytree(folders["wavlm"], folder)
    transformers.Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(folder)
    ext = PretrainedFrames(folder, layers=-1).fit()
    assert ext.normalize_ is True and ext.sampling_rate_ == 16000
    wave = 3.0 * _waves([12000])[0] + 0.2  # gain and offset: normalised away
    model = transformers.AutoModel.from_pretrained(folder).eval()
    np.testing.assert_allclose(ext.transform([wave])["frames"].iloc[0],
                               _direct(model, wave, True, [-1]), atol=1e-4)
    forced = PretrainedFrames(folder, layers=-1, normalize=False).fit()
    assert forced.normalize_ is False


def test_other_rates_are_resampled_to_the_model_rate(folders):
    from scipy.signal import resample_poly

    wave16 = _waves([16000])[0]
    wave8 = resample_poly(wave16, 1, 2).astype(np.float32)
    ext = PretrainedFrames(folders["wav2vec2-large"], layers=1)
    X = pd.DataFrame({"audio": [wave8], "sample_rate": [8000]})
    with pytest.warns(LowBandwidthWarning, match="upsampled from \\[8000\\]"):
        frames = ext.fit_transform(X)["frames"].iloc[0]
    model = transformers.AutoModel.from_pretrained(folders["wav2vec2-large"]).eval()
    up = resample_poly(wave8, 2, 1).astype(np.float32)
    np.testing.assert_allclose(frames, _direct(model, up, True, [1]), atol=1e-4)
    X44 = pd.DataFrame({"audio": [resample_poly(wave16, 441, 160).astype(np.float32)],
                        "sample_rate": [44100]})
    assert ext.transform(X44)["frames"].iloc[0].shape == (49, 32)


def test_long_files_are_chunked_without_seams(folders):
    wave = _waves([16000 * 9 + 123])[0]
    model = transformers.AutoModel.from_pretrained(folders["wav2vec2-large"]).eval()
    whole = _direct(model, wave, True)
    chunked = PretrainedFrames(folders["wav2vec2-large"], chunk_seconds=2.0,
                               context_seconds=1.0).fit_transform([wave])
    frames = chunked["frames"].iloc[0]
    # the frames of the whole file, in order, none doubled or lost at a seam
    assert frames.shape == whole.shape
    # the convolutional encoder and the positional convolution are local: the
    # input of the transformer is that of one pass over the file
    np.testing.assert_allclose(frames[:, :32], whole[:, :32], atol=1e-4)
    # deeper layers attend within a chunk and its context only: close, not equal
    assert np.abs(frames[:, 32:] - whole[:, 32:]).mean() < 0.5
    # a file shorter than a chunk is one pass
    one = PretrainedFrames(folders["wav2vec2-large"], chunk_seconds=30.0)
    np.testing.assert_allclose(one.fit_transform([wave])["frames"].iloc[0], whole,
                               atol=1e-4)


def test_batches_by_length_equal_one_pass_each(folders):
    waves = _waves([16000, 9000, 20000, 9000, 700, 31000], seed=3)
    for family in ("wav2vec2-large", "wavlm"):  # padded batches / equal lengths
        ext = PretrainedFrames(folders[family], batch_seconds=10.0).fit()
        together = ext.transform(waves)["frames"].array
        for wave, frames in zip(waves, together, strict=True):
            alone = ext.transform([wave])["frames"].iloc[0]
            np.testing.assert_allclose(frames, alone, atol=1e-4)


def test_a_model_object_gives_the_folder_s_frames(folders):
    model = transformers.AutoModel.from_pretrained(folders["hubert"])
    waves = _waves([12000, 16000])
    a = PretrainedFrames(model, layers=1).fit_transform(waves)["frames"].array
    b = PretrainedFrames(folders["hubert"], layers=1).fit_transform(waves)
    b = b["frames"].array
    assert a.equals(b)
    ext = PretrainedFrames(model).fit()
    digest = PretrainedFrames(folders["hubert"]).fit().weights_digest_
    assert ext.weights_digest_ == digest
    assert clone(ext).get_params()["layers"] == "all"


def test_the_cache_is_keyed_by_the_weights_and_the_settings(folders, tmp_path,
                                                             monkeypatch):
    waves = _waves([16000, 8000])
    cache = tmp_path / "cache"
    first = PretrainedFrames(folders["wavlm"], memory=cache).fit_transform(waves)
    calls = []
    original = PretrainedFrames._forward
    monkeypatch.setattr(PretrainedFrames, "_forward",
                        lambda self, *a: calls.append(1) or original(self, *a))
    # the same weights in another folder: served from the cache
    moved = tmp_path / "moved"
    shutil.copytree(folders["wavlm"], moved)
    again = PretrainedFrames(moved, memory=cache).fit_transform(waves)
    assert calls == [] and again["frames"].array.equals(first["frames"].array)
    assert again["frames"].array.layers == 3
    # other layers, other weights: computed
    PretrainedFrames(moved, layers=1, memory=cache).fit_transform(waves)
    assert len(calls) == 1
    other = tmp_path / "other"
    _build("wavlm", seed=1).save_pretrained(other)
    PretrainedFrames(other, memory=cache).fit_transform(waves)
    assert len(calls) == 2


def test_stacked_layers_survive_steps_stores_and_pickles(folders, tmp_path):
    waves = _waves([16000, 8000, 12000, 9000])
    X = pd.DataFrame({"audio": waves, "sample_rate": 16000,
                      "speaker": ["a", "a", "b", "b"]})
    Xt = PretrainedFrames(folders["wavlm"], out_of_core=True, memory=tmp_path
                          ).fit_transform(X)
    fa = Xt["frames"].array
    assert fa.on_disk and fa.layers == 3
    assert FramesArray.open(fa.path).layers == 3
    assert json.loads((tmp_path.joinpath(fa.path) / "meta.json").read_text()
                      )["layers"] == 3
    assert pickle.loads(pickle.dumps(fa)).layers == 3
    assert fa.take([2, 0]).layers == 3
    assert "3 layers of 32" in repr(fa)
    normed = SpeakerStandardizer().fit_transform(Xt)["frames"].array
    assert normed.layers == 3
    mem = FramesArray.from_list(list(fa), layers=3)
    assert pickle.loads(pickle.dumps(mem)).layers == 3
    assert mem.save(tmp_path / "saved").layers == 3
    assert pd.concat([Xt, Xt])["frames"].array.layers == 3


@pytest.mark.parametrize("head", ["blstm", "superb"])
def test_a_pipeline_learns_layer_weights(folders, head, tmp_path):
    rng = np.random.default_rng(0)
    waves = _waves([int(rng.integers(6000, 14000)) for _ in range(24)], seed=1)
    y = np.array(["anger", "sadness"] * 12)
    waves = [w * (3.0 if lab == "anger" else 0.3) for w, lab in zip(waves, y,
                                                                     strict=True)]
    net = (BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8,
                                    lr=0.02, max_epochs=3, validation_fraction=None,
                                    random_state=0)
           if head == "blstm" else
           SUPERBHeadClassifier(hidden_units=8, lr=0.02, max_epochs=3,
                                validation_fraction=None, random_state=0))
    pipe = make_pipeline(PretrainedFrames(folders["wav2vec2-large"]), net)
    pipe.fit(waves, y)
    fitted = pipe[-1]
    assert fitted.n_layers_ == 3 and fitted.n_features_in_ == 96
    w = fitted.layer_weights_
    assert w.shape == (3,) and w.sum() == pytest.approx(1.0)
    assert not np.allclose(w, 1 / 3)  # learned, not left at the start
    proba = pipe.predict_proba(waves)
    assert proba.shape == (24, 2) and np.isfinite(proba).all()
    assert fitted.transform(pipe[0].transform(waves[:2])).shape[0] == 2
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(restored.predict_proba(waves), proba, atol=1e-5)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "pipe.joblib"
                                           ).predict_proba(waves), proba, atol=1e-5)
    # reproducible on CPU
    again = clone(pipe).fit(waves, y)
    np.testing.assert_allclose(again.predict_proba(waves), proba, atol=1e-6)


def test_layer_weights_switches(folders):
    waves = _waves([8000, 9000, 10000, 11000])
    y = ["a", "b", "a", "b"]
    X = PretrainedFrames(folders["wavlm"]).fit_transform(waves)
    off = SUPERBHeadClassifier(hidden_units=4, max_epochs=1, layer_weights=False,
                               validation_fraction=None).fit(X, y)
    assert off.n_layers_ == 1 and off.layer_weights_ is None
    plain = [np.zeros((5, 6), np.float32) + i for i in range(4)]
    auto = SUPERBHeadClassifier(hidden_units=4, max_epochs=1,
                                validation_fraction=None).fit(plain, y)
    assert auto.n_layers_ == 1 and auto.layer_weights_ is None
    with pytest.raises(ValueError, match=r"layer_weights=True\) needs frames"):
        SUPERBHeadClassifier(layer_weights=True).fit(plain, y)


def test_meta_estimators_take_stacked_layers(folders):
    from sklearn_ser.models import StackedAnnotatorClassifier

    waves = _waves([8000 + 500 * i for i in range(16)])
    X = PretrainedFrames(folders["wavlm"]).fit_transform(waves)
    ratings = pd.DataFrame({"E1": ["ang", "sad"] * 8, "E2": ["ang", "sad"] * 8})
    base = BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8,
                                    max_epochs=2, validation_fraction=None,
                                    random_state=0)
    clf = StackedAnnotatorClassifier(base, components="CrowdHS", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, ratings)
    assert clf.predict_proba(X).shape == (16, 2)


def test_missing_and_wrong_models_get_clear_errors(folders, tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="(?s)never downloads.*snapshot_download"):
        PretrainedFrames(tmp_path / "absent").fit()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        PretrainedFrames(tmp_path / "empty").fit()
    weightless = tmp_path / "weightless"
    weightless.mkdir()
    shutil.copy(folders["wavlm"] / "config.json", weightless)
    with pytest.raises(FileNotFoundError, match="no weights"):
        PretrainedFrames(weightless).fit()
    bert = tmp_path / "bert"
    transformers.BertModel(transformers.BertConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=8, vocab_size=10)).save_pretrained(bert)
    with pytest.raises(ValueError, match="'bert' model.*wav2vec 2.0 family"):
        PretrainedFrames(bert).fit()
    with pytest.raises(TypeError, match="folder path or a transformers speech model"):
        PretrainedFrames(object()).fit()
    for layers, match in [(3, "has 3 hidden states"), (-4, "-4 is outside"),
                          ([], "empty"), ([1, -2], "twice"), ([True], "integers")]:
        with pytest.raises(ValueError, match=match):
            PretrainedFrames(folders["wavlm"], layers=layers).fit()


def test_too_short_audio_is_an_error_of_its_utterance(folders):
    X = pd.DataFrame({"audio": _waves([16000, 200, 9000]), "sample_rate": 16000},
                     index=["ok", "click", "ok2"])
    ext = PretrainedFrames(folders["wavlm"])
    with pytest.raises(AudioError, match="'click'.*receptive field"):
        ext.fit_transform(X)
    with pytest.warns(DroppedRowsWarning, match="skipped 1 of 3"):
        out = PretrainedFrames(folders["wavlm"], on_error="skip").fit_transform(X)
    assert out["frames"].isna().tolist() == [False, True, False]


@pytest.mark.realdata
def test_emodb_end_to_end_with_a_local_model(folders, emodb_root):
    from sklearn_ser.datasets import load_emodb

    data = load_emodb(emodb_root)
    X = data.utterances.iloc[:24]
    y = data.annotations.iloc[:24]
    pipe = make_pipeline(
        PretrainedFrames(folders["wavlm"], progress=False),
        SpeakerStandardizer(),
        SUPERBHeadClassifier(hidden_units=16, max_epochs=2, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    frames = pipe[0].transform(X)["frames"].array
    # 50 frames a second of each file's own duration
    import soundfile as sf

    seconds = np.array([sf.info(p).duration for p in X["path"]])
    assert np.all(np.abs(frames.lengths - 50 * seconds) <= 2)
    assert set(pipe.predict(X)) <= set(pipe[-1].classes_)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(n=st.integers(400, 16000 * 4), chunk=st.floats(0.5, 2.5),
       context=st.floats(0.0, 1.5), batch=st.floats(0.5, 8.0))
def test_chunks_give_the_frames_of_one_pass_for_any_length(folders, n, chunk,
                                                           context, batch):
    """Any length, chunk, context and batch size: the frames of one pass over
    the file (count, and the transformer's input, which is local), no frame
    doubled or lost at a seam."""
    wave = _waves([n], seed=n)[0]
    ext = PretrainedFrames(folders["wav2vec2-large"], layers=0, chunk_seconds=chunk,
                           context_seconds=context, batch_seconds=batch,
                           progress=False).fit()
    frames = ext.transform([wave])["frames"].iloc[0]
    assert len(frames) == (n - 400) // 320 + 1
    if context >= 0.2:  # the positional convolution sees 8 frames each side
        model = _model_of(folders["wav2vec2-large"])
        np.testing.assert_allclose(frames, _direct(model, wave, True, [0]),
                                   atol=1e-4)


_MODELS = {}


def _model_of(folder):
    if folder not in _MODELS:
        _MODELS[folder] = transformers.AutoModel.from_pretrained(folder).eval()
    return _MODELS[folder]


@pytest.mark.parametrize("edit", ["activation", "preprocessor"])
def test_a_changed_config_is_never_served_stale_features(folders, tmp_path, edit):
    """The in-process model cache and the feature cache key on every file
    that changes the output, not the weights alone."""
    import json

    folder = tmp_path / "model"
    shutil.copytree(folders["wavlm"], folder)
    waves = _waves([16000])
    cache = tmp_path / "cache"
    before = PretrainedFrames(folder, memory=cache).fit_transform(waves)
    if edit == "activation":
        cfg = json.loads((folder / "config.json").read_text())
        cfg["hidden_act"] = "relu" if cfg.get("hidden_act") != "relu" else "gelu"
        (folder / "config.json").write_text(json.dumps(cfg))
    else:
        transformers.Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(
            folder)
    after = PretrainedFrames(folder, memory=cache).fit_transform(waves)
    fresh = PretrainedFrames(folder).fit_transform(waves)  # no cache at all
    assert after["frames"].array.equals(fresh["frames"].array)
    assert not after["frames"].array.equals(before["frames"].array)
