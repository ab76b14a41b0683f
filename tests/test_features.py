import os
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone

from sklearn_ser.exceptions import DroppedRowsWarning
from sklearn_ser.features import (
    AudioError,
    CacheWarning,
    FrameAverager,
    LogSpectrogram,
    LowBandwidthWarning,
    OpenSmileFrames,
    OpenSmileFunctionals,
    SingleUtteranceSpeakerWarning,
    SpeakerConfoundWarning,
    SpeakerStandardizer,
    SpeedPerturbation,
    UnvoicedWarning,
    get_frames,
    speaker_label_dependence,
)

SR = 16000


def tone(seconds=0.5, f0=140.0, sr=SR, amp=0.3, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    # a harmonic "vowel" with a little noise so every LLD is defined
    wave = sum(amp / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 8))
    return (wave + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture
def wav_dir(tmp_path):
    sf.write(tmp_path / "a.wav", tone(0.6), SR, subtype="FLOAT")
    sf.write(tmp_path / "b.wav", tone(0.8, 220.0), SR, subtype="FLOAT")
    return tmp_path


@pytest.fixture
def table(wav_dir):
    return pd.DataFrame(
        {"path": [str(wav_dir / "a.wav"), str(wav_dir / "b.wav")],
         "speaker": ["s1", "s2"], "session": [1, 2]},
        index=pd.Index(["a", "b"], name="utterance"),
    )


@pytest.mark.parametrize("feature_set, dim, frame", [
    ("emobase45", 45, 0.060), ("fujioka32", 32, 0.025), ("emobase", 26, None),
    ("eGeMAPSv02", 25, None),
])
def test_opensmile_frames_sets(table, feature_set, dim, frame):
    ext = OpenSmileFrames(feature_set)
    out = ext.fit_transform(table)
    assert list(out.columns) == ["path", "speaker", "session", "frames"]
    assert list(out.index) == ["a", "b"]
    frames = out["frames"].iloc[0]
    assert frames.dtype == np.float32 and frames.shape[1] == dim
    assert len(ext.get_feature_names_out()) == dim
    if frame is not None:
        # real openSMILE frame size: T = floor((N - frame) / step) + 1 at most
        n = int(0.6 * SR)
        expected = (n - int(frame * SR)) // 160 + 1
        assert abs(frames.shape[0] - expected) <= 1
        assert np.isfinite(frames).all()


def test_emobase45_columns_are_the_papers():
    names = list(OpenSmileFrames("emobase45").fit().feature_names_)
    assert names[:1] == ["pcm_loudness_sma"] and names[13:16] == [
        "pcm_zcr_sma", "voiceProb_sma", "F0_sma"]
    assert sum("_de_de" in n for n in names) == 13  # MFCC + loudness only
    first = [n for n in names if ("_de" in n) and ("_de_de" not in n)]
    assert len(first) == 16
    assert len(OpenSmileFrames("fujioka32").fit().feature_names_) == 32


def test_frames_track_pitch(table):
    out = OpenSmileFrames("emobase45").fit_transform(table)
    names = list(OpenSmileFrames("emobase45").fit().feature_names_)
    f0 = names.index("F0_sma")
    med_a = np.median(out["frames"].iloc[0][:, f0])
    med_b = np.median(out["frames"].iloc[1][:, f0])
    assert 120 < med_a < 160 and 200 < med_b < 240


def test_in_memory_lists_and_paths(table):
    waves = [tone(0.6), tone(0.8, 220.0)]
    out = OpenSmileFrames("fujioka32").fit_transform(waves)
    ref = OpenSmileFrames("fujioka32").fit_transform(table)
    np.testing.assert_allclose(out["frames"].iloc[0], ref["frames"].iloc[0],
                               atol=1e-3, rtol=1e-3)
    paths = OpenSmileFrames("fujioka32").fit_transform(list(table["path"]))
    assert list(paths["path"]) == list(table["path"])


def test_parallel_and_cache_give_identical_frames(table, tmp_path):
    big = pd.concat([table] * 4)
    big.index = [f"u{i}" for i in range(len(big))]
    serial = OpenSmileFrames("fujioka32").fit_transform(big)
    par = OpenSmileFrames("fujioka32", n_jobs=2).fit_transform(big)
    cache = tmp_path / "cache"
    first = OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(big)
    files = list(cache.rglob("*.npy"))
    assert len(files) == 2  # keyed by content: 8 rows, 2 distinct files
    again = OpenSmileFrames("fujioka32", memory=joblib.Memory(cache, verbose=0)
                            ).fit_transform(big)
    for a, b, c, d in zip(serial["frames"], par["frames"], first["frames"],
                          again["frames"], strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)
    # another setting has another key
    OpenSmileFrames("emobase45", memory=str(cache)).fit_transform(big)
    assert len(list(cache.rglob("*.npy"))) == 4


def test_cache_hit_does_not_decode_audio(table, tmp_path, monkeypatch):
    cache = tmp_path / "c"
    OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)
    import sklearn_ser.features._extract as ex

    def boom(*a, **k):
        raise AssertionError("audio decoded despite a cache hit")

    monkeypatch.setattr(ex, "load_audio", boom)
    OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)


# --- bad input ------------------------------------------------------------------
def _one(path_or_wave, sr=None):
    if isinstance(path_or_wave, str):
        return pd.DataFrame({"path": [path_or_wave]}, index=["bad"])
    return pd.DataFrame({"audio": [path_or_wave], "sample_rate": [sr]}, index=["bad"])


@pytest.mark.parametrize("make, match", [
    (lambda d: _one(str(d / "missing.wav")), r"Utterance 'bad': audio file .* does "
                                             r"not exist"),
    (lambda d: ((d / "empty.wav").write_bytes(b""), _one(str(d / "empty.wav")))[1],
     r"Utterance 'bad': audio file .* is empty \(0 bytes\)"),
    (lambda d: ((d / "junk.wav").write_bytes(b"not a wav file at all"), _one(
        str(d / "junk.wav")))[1], r"Utterance 'bad': cannot read audio file"),
    (lambda d: sf.write(d / "zero.wav", np.zeros(0, np.float32), SR) or _one(
        str(d / "zero.wav")), r"Utterance 'bad': .* has no samples"),
    (lambda d: _one(tone(0.03), SR), r"Utterance 'bad': audio is 30.0 ms long, "
                                     r"shorter than one 60 ms frame of emobase45"),
    (lambda d: _one(np.zeros(SR, np.float32), SR), r"Utterance 'bad': .* is silent"),
    (lambda d: _one(np.r_[tone(0.5), np.nan].astype(np.float32), SR),
     r"Utterance 'bad': its waveform holds 1 NaN or infinite"),
    (lambda d: _one(np.r_[tone(0.5), np.inf].astype(np.float32), SR),
     r"holds 1 NaN or infinite"),
    (lambda d: _one(tone(0.5), None), r"needs its sample rate"),
    (lambda d: _one("not audio"), r"does not exist"),
])
def test_bad_audio_errors_name_the_utterance(tmp_path, make, match):
    X = make(tmp_path)
    with pytest.raises(AudioError, match=match):
        OpenSmileFrames("emobase45").fit_transform(X)


def test_on_error_skip_counts(table, tmp_path):
    X = pd.concat([table, pd.DataFrame({"path": [str(tmp_path / "nope.wav")],
                                        "speaker": ["s3"], "session": [3]},
                                       index=["gone"])])
    with pytest.warns(DroppedRowsWarning, match=r"skipped 1 of 3 utterance.*'gone'"):
        out = OpenSmileFrames("fujioka32", on_error="skip").fit_transform(X)
    assert out.loc["gone", "frames"] is None
    assert out.loc["a", "frames"] is not None
    # later steps pass skipped rows through
    norm = SpeakerStandardizer("global").fit_transform(out)
    assert norm.loc["gone", "frames"] is None
    with pytest.raises(ValueError, match="Utterance 'gone' has no frames"):
        get_frames(out)


def test_unvoiced_audio_warns(tmp_path):
    noise = (np.random.default_rng(0).standard_normal(SR) * 0.05).astype(np.float32)
    with pytest.warns(UnvoicedWarning, match="1 utterance.*no voiced frame"):
        OpenSmileFrames("emobase45").fit_transform(_one(noise, SR))


def test_stereo_and_sample_rates(tmp_path):
    stereo = np.stack([tone(0.5), tone(0.5) * 0.5], axis=1)
    sf.write(tmp_path / "st.wav", stereo, SR, subtype="FLOAT")
    out = OpenSmileFrames("fujioka32").fit_transform([str(tmp_path / "st.wav")])
    mono = OpenSmileFrames("fujioka32").fit_transform([stereo.mean(axis=1)])
    np.testing.assert_allclose(out["frames"].iloc[0], mono["frames"].iloc[0],
                               atol=1e-3, rtol=1e-3)
    lengths = {}
    for sr in (8000, 22050, 44100, 48000):
        sf.write(tmp_path / f"r{sr}.wav", tone(0.5, sr=sr), sr)
        X = [str(tmp_path / f"r{sr}.wav")]
        if sr < SR:
            with pytest.warns(LowBandwidthWarning, match="upsampled from \\[8000\\]"):
                res = OpenSmileFrames("fujioka32").fit_transform(X)
        else:
            res = OpenSmileFrames("fujioka32").fit_transform(X)
        lengths[sr] = res["frames"].iloc[0].shape[0]
        # 0-4 kHz is all in 8 kHz audio: no bandwidth warning here
        spec = LogSpectrogram().fit_transform(X)["frames"].iloc[0]
        assert spec.shape[1] == 400
    assert len(set(lengths.values())) == 1  # same duration -> same frame count


# --- log spectrogram ---------------------------------------------------------------
def test_log_spectrogram_matches_definition():
    wave = tone(0.3, f0=500.0)
    spec = LogSpectrogram().fit_transform([wave])["frames"].iloc[0]
    assert spec.shape == (1 + (len(wave) - 640) // 160, 400)
    frame = wave[160:800] * np.hamming(640)
    expected = np.log(np.abs(np.fft.rfft(frame, 1600)[:400]) ** 2 + 1e-10)
    np.testing.assert_allclose(spec[1], expected, rtol=1e-4, atol=1e-3)
    assert abs(int(np.argmax(spec[1])) - 50) <= 1  # 500 Hz on a 10 Hz grid
    torch_spec = LogSpectrogram(backend="torch").fit_transform([wave])["frames"][0]
    np.testing.assert_allclose(torch_spec, spec, rtol=1e-3, atol=1e-2)
    names = LogSpectrogram().fit().get_feature_names_out()
    assert names[0] == "logpow_0Hz" and names[-1] == "logpow_3990Hz"


# --- normalisation and pooling -----------------------------------------------------
def _frames_table(values, speakers):
    X = pd.DataFrame({"speaker": speakers})
    X["frames"] = [np.asarray(v, dtype=np.float32) for v in values]
    return X


def test_speaker_standardizer_modes():
    rng = np.random.default_rng(0)
    vals = [rng.normal(5, 2, (30, 3)), rng.normal(5, 2, (20, 3)),
            rng.normal(-3, 0.5, (25, 3)), rng.normal(-3, 0.5, (25, 3))]
    X = _frames_table(vals, ["a", "a", "b", "b"])
    out = SpeakerStandardizer().fit_transform(X)["frames"]
    for spk in ([0, 1], [2, 3]):
        stacked = np.concatenate([out[i] for i in spk])
        np.testing.assert_allclose(stacked.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(stacked.std(axis=0), 1, atol=1e-4)
    glob = SpeakerStandardizer("global").fit(X)
    stacked = np.concatenate(list(glob.transform(X)["frames"]))
    np.testing.assert_allclose(stacked.mean(axis=0), 0, atol=1e-5)
    utt = SpeakerStandardizer("utterance").fit_transform(X)["frames"]
    np.testing.assert_allclose(utt[2].mean(axis=0), 0, atol=1e-5)


def test_speaker_standardizer_unseen_speaker_uses_own_frames():
    rng = np.random.default_rng(1)
    train = _frames_table([rng.normal(0, 1, (40, 2)), rng.normal(0, 1, (40, 2))],
                          ["a", "a"])
    test = _frames_table([rng.normal(10, 3, (40, 2)), rng.normal(10, 3, (40, 2))],
                         ["new", "new"])
    enc = SpeakerStandardizer().fit(train)
    out = np.concatenate(list(enc.transform(test)["frames"]))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    assert "new" not in enc.speaker_stats_


def test_speaker_standardizer_bad_input():
    X = _frames_table([np.ones((3, 2)), np.ones((3, 2))], ["a", "b"])
    with pytest.warns(SingleUtteranceSpeakerWarning, match="2 speaker.*single"):
        SpeakerStandardizer().fit(X)
    with pytest.raises(ValueError, match="needs a 'speaker' column"):
        SpeakerStandardizer("speaker").fit(X.drop(columns="speaker"))
    # auto without a speaker column normalises globally, and says why
    auto = SpeakerStandardizer().fit(X.drop(columns="speaker"))
    assert auto.mode_ == "global" and "no 'speaker' column" in auto.mode_reason_
    X2 = X.copy()
    X2.loc[1, "speaker"] = None
    with pytest.raises(ValueError, match="Utterance 1 has no 'speaker'"):
        SpeakerStandardizer().fit(X2)
    with pytest.raises(ValueError, match="needs frame sequences"):
        SpeakerStandardizer().fit(pd.DataFrame({"speaker": ["a"]}))


def _confound_table(n_speakers=6, n_per=8, emotions_per_speaker=None, seed=0):
    """Frames whose mean carries a speaker offset plus an emotion offset."""
    rng = np.random.default_rng(seed)
    classes = ["anger", "happiness", "neutral", "sadness"]
    rows, labels = [], []
    for k in range(n_speakers):
        shown = (classes if emotions_per_speaker is None
                 else [classes[(k + j) % 4] for j in range(emotions_per_speaker)])
        for i in range(n_per):
            lab = shown[i % len(shown)]
            rows.append((f"s{k}", rng.normal(k + 3 * classes.index(lab), 1, (5, 2))))
            labels.append(lab)
    X = _frames_table([f for _, f in rows], [s for s, _ in rows])
    return X, pd.Series(labels)


def test_speaker_label_dependence():
    assert speaker_label_dependence(list("aabb"), list("xyxy")) == 0.0
    assert speaker_label_dependence(list("aabb"), list("xxyy")) == 1.0
    # rows without a label are left out; one label only: undefined
    assert speaker_label_dependence(list("aabb"), ["x", None, "y", "y"]) == 1.0
    assert np.isnan(speaker_label_dependence(list("ab"), ["x", "x"]))
    X, y = _confound_table(emotions_per_speaker=2)
    assert 0.3 < speaker_label_dependence(X["speaker"], y) < 0.7


def test_speaker_standardizer_auto_decides_from_training_labels():
    X, y = _confound_table()  # every speaker shows every emotion
    norm = SpeakerStandardizer().fit(X, y)
    assert norm.mode_ == "speaker"
    assert norm.speaker_dependence_ < 0.3 and "< auto_threshold" in norm.mode_reason_
    X1, y1 = _confound_table(emotions_per_speaker=1)  # one emotion each
    norm1 = SpeakerStandardizer().fit(X1, y1)
    assert norm1.mode_ == "global" and norm1.speaker_dependence_ == 1.0
    assert ">= auto_threshold" in norm1.mode_reason_
    # the emotion offset survives global but not per-speaker normalisation
    out = norm1.transform(X1)["frames"]
    means = pd.Series([f.mean() for f in out]).groupby(y1.to_numpy()).mean()
    assert means.max() - means.min() > 1.0
    # an annotation table works as y (the majority is read)
    table = pd.DataFrame({"R1": [(lab,) for lab in y1], "R2": [(lab,) for lab in y1]})
    assert SpeakerStandardizer().fit(X1, table).mode_ == "global"
    # a stricter threshold keeps per-speaker normalisation
    assert SpeakerStandardizer(auto_threshold=1.0).fit(X, y).mode_ == "speaker"
    # without labels: per speaker (as the papers), and says why
    nolab = SpeakerStandardizer().fit(X1)
    assert nolab.mode_ == "speaker" and "no labels" in nolab.mode_reason_
    assert np.isnan(nolab.speaker_dependence_)
    # the decision is made in fit only: transform on test speakers keeps it
    assert norm1.transform(X)["frames"].iloc[0].dtype == np.float32


def test_speaker_standardizer_auto_in_a_pipeline_uses_the_fold_labels():
    from sklearn.pipeline import Pipeline

    X1, y1 = _confound_table(emotions_per_speaker=1)
    pipe = Pipeline([("norm", SpeakerStandardizer()), ("pool", FrameAverager(5))])
    pipe.fit(X1, y1)
    assert pipe.named_steps["norm"].mode_ == "global"


def test_speaker_mode_warns_when_speakers_carry_one_label():
    X1, y1 = _confound_table(emotions_per_speaker=1)
    with pytest.warns(SpeakerConfoundWarning, match="6 of 6 training speakers"):
        SpeakerStandardizer("speaker").fit(X1, y1)
    X, y = _confound_table()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SpeakerStandardizer("speaker").fit(X, y)


def test_speaker_standardizer_none_mode_passes_frames():
    X, y = _confound_table()
    out = SpeakerStandardizer("none").fit_transform(X, y)["frames"]
    np.testing.assert_allclose(out.iloc[3], X["frames"].iloc[3])
    assert out.iloc[3].dtype == np.float32


def test_frame_averager():
    f = np.arange(12, dtype=np.float32).reshape(12, 1)
    out = FrameAverager(5).fit_transform([f])[0]
    np.testing.assert_allclose(out.ravel(), [2.0, 7.0, 10.5])
    drop = FrameAverager(5, tail="drop").fit_transform([f])[0]
    np.testing.assert_allclose(drop.ravel(), [2.0, 7.0])
    short = FrameAverager(5, tail="drop").fit_transform([f[:3]])[0]
    np.testing.assert_allclose(short.ravel(), [1.0])  # never empty
    X = _frames_table([f], ["a"])
    assert FrameAverager(5).fit_transform(X).columns.tolist() == ["speaker", "frames"]


# --- augmentation ---------------------------------------------------------------------
def test_speed_perturbation_in_imblearn_pipeline(table):
    from imblearn.pipeline import Pipeline
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Recorder(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.seen_ = list(X.index)
            self.lengths_ = [f.shape[0] for f in X["frames"]]
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            self.predicted_ = list(X.index)
            return np.full(len(X), self.classes_[0])

    y = pd.Series(["anger", "sadness"], index=table.index)
    pipe = Pipeline([("speed", SpeedPerturbation()),
                     ("lld", OpenSmileFrames("fujioka32")),
                     ("clf", Recorder())])
    pipe.fit(table, y)
    rec = pipe.named_steps["clf"]
    assert rec.seen_ == ["a", "b", "a@sp0.9", "b@sp0.9", "a@sp1.1", "b@sp1.1"]
    # 0.9 is slower: more frames; 1.1 faster: fewer
    assert rec.lengths_[2] > rec.lengths_[0] > rec.lengths_[4]
    pipe.predict(table)
    assert rec.predicted_ == ["a", "b"]  # inert at predict time


def test_speed_perturbation_keeps_annotations_and_metadata(table):
    y = pd.DataFrame({"E1": [("sad",), ("ang",)]}, index=table.index, dtype=object)
    Xr, yr = SpeedPerturbation(factors=(0.9,)).fit_resample(table, y)
    assert list(yr.index) == list(Xr.index)
    assert yr.loc["a@sp0.9", "E1"] == ("sad",)
    assert Xr.loc["a@sp0.9", "speaker"] == "s1"
    assert Xr.loc["a", "speed_factor"] == 1.0
    with pytest.raises(ValueError, match="factors must be > 0"):
        SpeedPerturbation(factors=(0.0,)).fit_resample(table, y)


# --- API -----------------------------------------------------------------------------
@pytest.mark.parametrize("est", [OpenSmileFrames(), LogSpectrogram(),
                                 SpeakerStandardizer(), FrameAverager(),
                                 OpenSmileFunctionals(), SpeedPerturbation()],
                         ids=lambda e: type(e).__name__)
def test_clone_pickle(est):
    c = clone(est)
    assert c.get_params() == est.get_params()
    pickle.loads(pickle.dumps(c))


def test_functionals_for_svm_baseline(table):
    X = OpenSmileFunctionals().fit_transform(table)
    assert X.shape == (2, 88) and np.isfinite(X).all()


def test_pipeline_keeps_metadata_and_pickles(table, tmp_path):
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("lld", OpenSmileFrames("emobase45")),
                     ("norm", SpeakerStandardizer("global")),
                     ("pool", FrameAverager(5))])
    out = pipe.fit_transform(table)
    assert {"speaker", "session"} <= set(out.columns)
    joblib.dump(pipe, tmp_path / "p.joblib")
    again = joblib.load(tmp_path / "p.joblib").transform(table)
    for a, b in zip(out["frames"], again["frames"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_speaker_standardizer_refuses_non_finite_frames():
    X, y = _confound_table()
    bad = X.copy()
    f = bad["frames"].iloc[2].copy()
    f[1, 0] = np.nan
    bad.at[bad.index[2], "frames"] = f
    for mode in ("speaker", "global", "auto"):
        with pytest.raises(ValueError, match=r"Utterance 2: 1 non-finite value.*"
                                             r"frame 1, feature 0"):
            SpeakerStandardizer(mode).fit(bad, y)
    fitted = SpeakerStandardizer("global").fit(X, y)
    inf = X.copy()
    g = inf["frames"].iloc[0].copy()
    g[0, 1] = np.inf
    inf.at[inf.index[0], "frames"] = g
    with pytest.raises(ValueError, match="Utterance 0: 1 non-finite"):
        fitted.transform(inf)


# --- cache integrity (issue 12) --------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong_shape",
                                    "wrong_dtype"])
def test_damaged_cache_entries_are_recomputed_with_a_warning(table, tmp_path,
                                                             damage):
    cache = tmp_path / "c"
    clean = OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)
    entry = sorted(cache.rglob("*.npy"))[0]
    if damage == "garbage":
        entry.write_bytes(b"not a numpy file at all")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:200])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "wrong_shape":
        np.save(entry, np.zeros((3, 7), dtype=np.float32))
    else:
        np.save(entry, np.zeros((3, 32), dtype=np.float64))
    with pytest.warns(CacheWarning, match="1 unreadable entr"):
        again = OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)
    for a, b in zip(clean["frames"], again["frames"], strict=True):
        np.testing.assert_array_equal(a, b)
    # the entry was rewritten: the next run is a clean hit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0,
                    reason="root ignores folder permissions")
def test_read_only_cache_computes_and_warns(table, tmp_path):  # pragma: no cover
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        with pytest.warns(CacheWarning, match="not written"):
            out = OpenSmileFrames("fujioka32", memory=str(cache)).fit_transform(table)
    finally:
        cache.chmod(0o700)
    assert out["frames"].iloc[0].shape[1] == 32


def test_unwritable_cache_computes_and_warns(table, tmp_path, monkeypatch):
    import sklearn_ser.features._extract as ex

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ex.tempfile, "mkstemp", refuse)
    with pytest.warns(CacheWarning, match="2 result.*not written.*Permission"):
        out = OpenSmileFrames("fujioka32", memory=str(tmp_path / "c")).fit_transform(
            table)
    assert out["frames"].iloc[1].shape[1] == 32


def test_low_bandwidth_warning_on_a_cache_hit_too(tmp_path):
    sf.write(tmp_path / "n.wav", tone(0.5, sr=8000), 8000)
    X = [str(tmp_path / "n.wav")]
    for _ in range(2):  # extraction, then cache hit
        with pytest.warns(LowBandwidthWarning, match="upsampled from \\[8000\\]"):
            OpenSmileFrames("fujioka32", memory=str(tmp_path / "c")).fit_transform(X)


def test_integer_waveforms_are_scaled_like_files(tmp_path):
    wave = tone(0.5)
    pcm = np.round(wave * 32767).astype(np.int16)
    sf.write(tmp_path / "p.wav", pcm, SR, subtype="PCM_16")
    from_file = OpenSmileFrames("fujioka32").fit_transform([str(tmp_path / "p.wav")])
    from_memory = OpenSmileFrames("fujioka32", sample_rate=SR).fit_transform(
        pd.DataFrame({"audio": [pcm], "sample_rate": [SR]}))
    np.testing.assert_allclose(from_file["frames"].iloc[0],
                               from_memory["frames"].iloc[0], rtol=1e-4, atol=1e-4)


def test_spectrogram_of_low_rate_audio_is_an_utterance_error(tmp_path):
    sf.write(tmp_path / "six.wav", tone(0.5, sr=6000), 6000)
    sf.write(tmp_path / "ok.wav", tone(0.5), SR)
    X = [str(tmp_path / "six.wav"), str(tmp_path / "ok.wav")]
    with pytest.raises(AudioError, match=r"Utterance 0: its 6000 Hz audio"):
        LogSpectrogram(sample_rate=None).fit_transform(X)
    with pytest.warns(DroppedRowsWarning, match="skipped 1 of 2"):
        out = LogSpectrogram(sample_rate=None, on_error="skip").fit_transform(X)
    assert out["frames"].iloc[0] is None and out["frames"].iloc[1].shape[1] == 400


def test_truncated_wav_is_read_with_a_warning(tmp_path):
    from sklearn_ser.features import TruncatedAudioWarning

    sf.write(tmp_path / "full.wav", tone(1.0), SR, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    X = [str(tmp_path / "full.wav"), str(tmp_path / "cut.wav")]
    for _ in range(2):  # extraction, then cache hit
        with pytest.warns(TruncatedAudioWarning, match=r"1 audio file.*utterance 1"):
            out = OpenSmileFrames("fujioka32", memory=str(tmp_path / "c")
                                  ).fit_transform(X)
    assert out["frames"].iloc[1].shape[0] < out["frames"].iloc[0].shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OpenSmileFrames("fujioka32").fit_transform(X[:1])


def test_functionals_as_frames_normalise_per_speaker_and_return_to_rows(table):
    from sklearn_ser.features import FrameStatistics

    arr = OpenSmileFunctionals().fit_transform(table)
    frames = OpenSmileFunctionals(output="frames").fit_transform(table)
    assert list(frames["speaker"]) == ["s1", "s2"]  # metadata kept
    assert all(f.shape == (1, arr.shape[1]) for f in frames["frames"])
    back = FrameStatistics().fit_transform(frames)
    np.testing.assert_allclose(back, arr, rtol=1e-6)
    normed = SpeakerStandardizer("global").fit_transform(frames)
    rows = FrameStatistics().fit_transform(normed)
    assert rows.shape == arr.shape and np.isfinite(rows).all()
    with pytest.raises(ValueError, match="output='table'"):
        OpenSmileFunctionals(output="table").fit_transform(table)


def test_frame_statistics():
    from sklearn_ser.features import FrameStatistics

    seqs = [np.array([[0.0, 1.0], [2.0, 5.0]], dtype=np.float32),
            np.array([[4.0, 4.0]], dtype=np.float32)]
    out = FrameStatistics(("mean", "std", "min", "max")).fit_transform(seqs)
    np.testing.assert_allclose(out[0], [1, 3, 1, 2, 0, 1, 2, 5])
    np.testing.assert_allclose(out[1], [4, 4, 0, 0, 4, 4, 4, 4])
    with pytest.raises(ValueError, match="choose among"):
        FrameStatistics(("median",)).fit(seqs)
