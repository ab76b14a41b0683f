"""``sklearn-ser fit``, ``predict`` and ``info`` (issue 45): a method trained on
a whole corpus folder, saved, and labelling files of any format, rate,
channel count and length; the normalisation rule of a deployed model; the
pieces a long recording is cut into."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from sklearn_ser import load_model
from sklearn_ser.datasets import make_emotional_speech, save_corpus
from sklearn_ser.experiments._cli import main
from sklearn_ser.experiments._segments import fixed_windows
from sklearn_ser.features import PredictionStandardizer, SpeakerStandardizer

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.RareClassWarning",
    "ignore::sklearn_ser.exceptions.UnvoicedWarning",
    "ignore::sklearn_ser.exceptions.AbsentClassWarning")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    data = make_emotional_speech(32, n_speakers=4, n_sessions=2, random_state=7)
    return save_corpus(data, tmp_path_factory.mktemp("corpus") / "c")


@pytest.fixture(scope="module")
def bundles(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("bundles")
    cache = str(tmp_path_factory.mktemp("cache"))
    out = {}
    for method in ("logreg_egemaps", "crowd_soft"):
        args = ["fit", "--corpus", str(corpus.audio_dir.parent), "--method", method,
                "--out", str(root / method), "--quick", "--no-progress",
                "--n-jobs", "1", "--cache", cache]
        if method == "logreg_egemaps":  # the card gets the method's own scores
            args.append("--cv")
        assert main(args) == 0
        out[method] = root / method
    return out


def _predict(*args):
    return main(["predict", *map(str, args), "--no-progress", "--n-jobs", "1"])


def test_fit_writes_a_bundle_with_its_card_and_refuses_an_existing_folder(
        bundles, corpus, capsys):
    folder = bundles["crowd_soft"]
    manifest = json.loads((folder / "manifest.json").read_text())
    t = manifest["training"]
    assert t["method"] == "crowd_soft" and t["n_utterances"] == 32
    assert t["n_speakers"] == 4 and t["n_raters"] >= 2
    assert len(t["ratings_sha256"]) == 64
    assert set(t["class_counts"]) == set(manifest["classes"])
    assert manifest["audio"]["sample_rate"] == 16000
    assert [f["class"].rsplit(".", 1)[1] for f in manifest["features"]] == [
        "OpenSmileFrames", "PredictionStandardizer", "FrameAverager"]
    assert t["normalisation"]["mode"] in ("speaker", "global")
    cv = json.loads((bundles["logreg_egemaps"] / "manifest.json").read_text())[
        "training"]["cv"]
    assert 0 <= cv["uar"] <= 1 and cv["folds"].startswith("leave-one-session-out")
    assert main(["info", str(folder)]) == 0
    shown = capsys.readouterr().out
    assert "## Training data" in shown and "every file matches its SHA-256" in shown
    with pytest.raises(SystemExit, match="exists"):
        main(["fit", "--corpus", str(corpus.audio_dir.parent), "--method",
              "crowd_soft", "--out", str(folder)])


@pytest.mark.parametrize("method", ["logreg_egemaps", "crowd_soft"])
def test_predict_labels_files_as_the_loaded_model_does(bundles, corpus, tmp_path,
                                                       method):
    out = tmp_path / "p.csv"
    files = sorted(corpus.audio_dir.glob("*.wav"))[:6]
    assert _predict(bundles[method], *files, "--out", out, "--abstain", 0.6) == 0
    table = pd.read_csv(out, index_col=0)
    classes = load_model(bundles[method]).classes_
    p = table[[f"p_{c}" for c in classes]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert list(table["predicted"]) == list(np.asarray(classes)[p.argmax(axis=1)])
    assert (table["abstained"] == (p.max(axis=1) < 0.6)).all()
    assert set(table["normalisation"]) == {"training corpus"}  # no speakers given
    model = load_model(bundles[method])
    direct = model.predict_proba(pd.DataFrame({"path": [str(f) for f in files]},
                                              index=[str(f) for f in files]))
    np.testing.assert_allclose(p, direct, rtol=1e-5, atol=1e-6)
    with pytest.raises(SystemExit, match="exists"):
        _predict(bundles[method], files[0], "--out", out)


def test_any_rate_and_channel_count_is_converted_as_in_training(bundles, corpus,
                                                              tmp_path, capsys):
    """A stereo 44.1 kHz FLAC copy of a file is labelled like the file (the
    same sound after the conversion), and the conversion is said once."""
    from scipy.signal import resample_poly

    wav = sorted(corpus.audio_dir.glob("*.wav"))[0]
    wave, rate = sf.read(wav, dtype="float32")
    up = resample_poly(wave, 441, 160).astype(np.float32)
    sf.write(tmp_path / "copy.flac", np.stack([up, up], axis=1), 44100)
    out = tmp_path / "p.csv"
    assert _predict(bundles["crowd_soft"], wav, tmp_path / "copy.flac",
                    "--out", out) == 0
    said = capsys.readouterr().err
    assert "44100" in said and "mono" in said and said.count("resampled") == 1
    p = pd.read_csv(out, index_col=0).filter(like="p_").to_numpy()
    assert np.abs(p[0] - p[1]).max() < 0.05


def test_a_list_with_speakers_follows_the_stated_rule(bundles, corpus, tmp_path):
    meta = pd.read_csv(corpus.metadata)
    files = sorted(corpus.audio_dir.glob("*.wav"))
    listing = pd.DataFrame({"path": [f"wav/{f.name}" for f in files],
                            "speaker": ["big"] * 6 + ["small"] * 2
                            + [""] * (len(files) - 8)})
    listing.to_csv(corpus.audio_dir.parent / "list.csv", index=False)
    out = tmp_path / "p.csv"
    assert _predict(bundles["crowd_soft"], "--list",
                    corpus.audio_dir.parent / "list.csv", "--out", out) == 0
    table = pd.read_csv(out, index_col=0, keep_default_na=False)
    mode = load_model(bundles["crowd_soft"]).manifest_["training"]["normalisation"]
    expected = (["speaker"] * 6 if mode["mode"] == "speaker" else
                ["training corpus"] * 6) + ["training corpus"] * (len(files) - 6)
    assert list(table["normalisation"]) == expected
    assert len(meta) == len(files)


def test_long_files_are_cut_into_windows_with_their_times(bundles, corpus,
                                                         tmp_path):
    files = sorted(corpus.audio_dir.glob("*.wav"))[:8]
    waves = [sf.read(f, dtype="float32")[0] for f in files]
    rate = sf.info(files[0]).samplerate
    pause = np.zeros(int(0.5 * rate), np.float32)
    long = np.concatenate([x for w in waves for x in (w, pause)])
    sf.write(tmp_path / "long.wav", long, rate)
    out = tmp_path / "p.csv"
    short = min(files, key=lambda f: sf.info(f).duration)
    window = sf.info(short).duration + 0.1
    assert _predict(bundles["logreg_egemaps"], tmp_path / "long.wav", short,
                    "--segment", window, "--out", out) == 0
    table = pd.read_csv(out, index_col=0)
    pieces = table[table["file"] == str(tmp_path / "long.wav")]
    duration = len(long) / rate
    assert pieces["start"].iloc[0] == 0 and pieces["end"].iloc[-1] == pytest.approx(
        duration)
    assert (pieces["start"].iloc[1:].to_numpy() == pieces["end"].iloc[:-1]
            .to_numpy()).all()
    assert len(pieces) == len(fixed_windows(duration, window)) > 1
    whole = table[table["file"] == str(short)]  # shorter than a window: whole
    assert len(whole) == 1 and whole.index[0] == str(short)


def test_bad_inputs_are_named(bundles, tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(SystemExit, match="notes.wav: not an audio file"):
        _predict(bundles["crowd_soft"], tmp_path / "notes.wav", "--out",
                 tmp_path / "p.csv")
    with pytest.raises(SystemExit, match="missing.wav: no such file"):
        _predict(bundles["crowd_soft"], tmp_path / "missing.wav", "--out",
                 tmp_path / "p.csv")
    with pytest.raises(SystemExit, match="not a model bundle"):
        _predict(tmp_path, tmp_path / "notes.wav", "--out", tmp_path / "p.csv")
    assert not (tmp_path / "p.csv").exists()


def test_bad_lists_folders_and_options_are_named(bundles, corpus, tmp_path, capsys):
    model, out = bundles["crowd_soft"], tmp_path / "p.csv"
    wav = sorted(corpus.audio_dir.glob("*.wav"))[0]
    pd.DataFrame({"file": [str(wav)]}).to_csv(tmp_path / "l.csv", index=False)
    cases = [
        (["--list", tmp_path / "l.csv"], r"needs a 'path' column .* \['file'\]"),
        ([wav, wav], "is given twice"),
        ([], "give the recordings"),
        (["--audio-dir", tmp_path / "nowhere"], "is not a folder"),
        (["--audio-dir", tmp_path], "holds no audio file"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit, match=message):
            _predict(model, *args, "--out", out)
    for option, value, message in (("--abstain", "1.5", "probability in"),
                                   ("--segment", "-2", "seconds > 0"),
                                   ("--segment", "soon", "seconds or 'auto'")):
        with pytest.raises(SystemExit):
            _predict(model, wav, option, value, "--out", out)
        assert message in capsys.readouterr().err
    assert not out.exists()


@given(duration=st.floats(0.01, 600), seconds=st.floats(0.5, 60))
def test_fixed_windows_cover_the_recording_once(duration, seconds):
    pieces = fixed_windows(duration, seconds)
    assert pieces[0][0] == 0 and pieces[-1][1] == pytest.approx(duration)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    lengths = [e - s for s, e in pieces]
    assert all(x <= 1.5 * seconds + 1e-9 for x in lengths)
    if len(pieces) > 1:
        assert all(x >= seconds / 2 - 1e-9 for x in lengths)


def _frames(speakers, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"speaker": speakers} if speakers is not None else {},
                     index=[f"u{i}" for i in range(len(speakers or [0] * 12))])
    X["frames"] = [rng.normal(shift + 3 * (hash(s) % 5 if s else 0), 1.0, (4, 2))
                   .astype(np.float32) for s in (speakers or [None] * len(X))]
    return X


def test_the_prediction_rule_of_a_speaker_normalised_model():
    train = _frames(["a"] * 6 + ["b"] * 6)
    norm = PredictionStandardizer("speaker", min_utterances=3).fit(train)
    new = _frames(["a"] * 4 + ["c"] * 2, shift=50.0, seed=1)
    assert list(norm.rules(new)) == ["speaker"] * 4 + ["training corpus"] * 2
    out = norm.transform(new)["frames"]
    own = SpeakerStandardizer("speaker").fit(new.iloc[:4]).transform(new.iloc[:4])
    for k in range(4):  # "a" again: its own frames' statistics, not training's
        np.testing.assert_allclose(out.iloc[k], own["frames"].iloc[k], rtol=1e-5)
    corpus = SpeakerStandardizer("global").fit(train).transform(new.iloc[4:])
    for k in (4, 5):
        np.testing.assert_allclose(out.iloc[k], corpus["frames"].iloc[k - 4],
                                   rtol=1e-5)
    without = new.drop(columns="speaker")
    assert set(norm.rules(without)) == {"training corpus"}
    # training itself is normalised as SpeakerStandardizer does
    fitted = PredictionStandardizer("speaker").fit_transform(train)["frames"]
    ref = SpeakerStandardizer("speaker").fit_transform(train)["frames"]
    for a, b in zip(fitted, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    assert set(PredictionStandardizer("global").fit(train).rules(new)) == {
        "training corpus"}


def test_file_names_a_spreadsheet_would_run_are_neutralised(bundles, corpus,
                                                            tmp_path, monkeypatch):
    wav = sorted(corpus.audio_dir.glob("*.wav"))[0]
    (tmp_path / "=HYPERLINK(1).wav").write_bytes(wav.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert _predict(bundles["logreg_egemaps"], "=HYPERLINK(1).wav", "--out",
                    "p.csv") == 0
    text = (tmp_path / "p.csv").read_text()
    assert "'=HYPERLINK(1).wav" in text
    assert "\n=" not in text and ",=" not in text
