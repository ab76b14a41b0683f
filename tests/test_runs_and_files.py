"""Runs, files and the command line: paths from data stay inside the folder
the user named, text outputs neutralise formulas, results are written whole
or not at all, bad data gets a clean message (issue 20, in part)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.annotations import from_long, to_long
from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus
from sklearn_ser.experiments import neutralise_formulas, write_outputs
from sklearn_ser.experiments._cli import main

UNSAFE = ["../../x", "/abs/x", "a/../../b", "..", "~/x", "C:x", "a\\..\\..\\b",
          "a\x00b", ""]


@pytest.fixture(scope="module")
def tiny():
    return make_emotional_speech(12, n_speakers=2, n_sessions=2, random_state=0)


def _renamed(data, mapping):
    u = data.utterances.rename(index=mapping)
    long = data.annotations.ratings.to_long()
    long["utterance"] = long["utterance"].map(lambda i: mapping.get(i, i))
    from sklearn.utils import Bunch

    return Bunch(utterances=u, annotations=from_long(long, multiple="choices"))


@pytest.mark.parametrize("bad", UNSAFE)
def test_save_corpus_refuses_ids_that_leave_the_folder(tiny, tmp_path, bad):
    first = tiny.utterances.index[0]
    data = _renamed(tiny, {first: bad})
    folder = tmp_path / "corpus"
    with pytest.raises(ValueError, match="not a safe file name"):
        save_corpus(data, folder)
    # nothing was written anywhere: every path is checked before the first write
    assert not (folder / "wav").exists()
    assert not (tmp_path / "x.wav").exists()


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ab./\\~:_ -", min_size=1, max_size=8))
def test_load_corpus_reads_only_inside_the_audio_folder(tmp_path_factory, uid):
    folder = tmp_path_factory.mktemp("audio")
    ratings = folder.parent / f"{folder.name}.csv"
    pd.DataFrame({"utterance": [uid, "ok"], "rater": ["r", "r"],
                  "label": ["sad", "angry"]}).to_csv(ratings, index=False)
    try:
        load_corpus(folder, ratings)
    except ValueError as e:  # refused: the id would leave the folder
        assert "not a safe file name" in str(e) or "ratings" in str(e).lower() or (
            "label" in str(e).lower())
    except FileNotFoundError as e:  # inside the folder, just not there
        missing = str(e).split("(e.g. ")[1].split(")")[0]
        from pathlib import Path

        Path(missing).resolve().relative_to(folder.resolve())


def test_formulas_in_ids_and_labels_are_neutralised():
    table = pd.DataFrame({"pred": ["=1+1", "sad", "@SUM(A1)", "-2", "+x"],
                          "agreement": [0.5, -1.0, 1.0, 0.2, 0.1]},
                         index=pd.Index(["=cmd", "u2", "u3", "u4", "\tx"],
                                        name="utterance"))
    out, n = neutralise_formulas(table)
    assert n == 6
    assert out["pred"].tolist() == ["'=1+1", "sad", "'@SUM(A1)", "'-2", "'+x"]
    assert out.index.tolist()[0] == "'=cmd" and out.index.tolist()[4] == "'\tx"
    assert out["agreement"].tolist() == table["agreement"].tolist()  # numbers kept


def _results():
    return {"methods": {"m": {"uar": 0.5, "wa": 0.5, "uar_truth": None,
                              "per_class_recall": {"a": 0.5}, "fit_seconds": 1.0}},
            "meta": {"classes": ["a"], "n_scored": 1, "n_no_consensus": 0,
                     "folds": "f", "seeds": 1, "n_utterances": 1}}


def test_write_outputs_never_overwrites_and_leaves_nothing_when_interrupted(
        tmp_path, monkeypatch):
    out = tmp_path / "res"
    paths = write_outputs(out, _results())
    assert {p.name for p in paths} == {"results.json", "results.md"}
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_outputs(out, _results())
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(NotADirectoryError):
        write_outputs(afile, _results())
    import sklearn_ser.experiments._report as comparison

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(comparison, "distribution_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(tmp_path / "other", _results())
    assert not any((tmp_path / "other").iterdir())
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_out_under_a_file_is_a_clean_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit, match="cannot create --out folder.*Not a dir"):
        main(["demo", "--out", str(afile / "sub"), "--n-utterances", "20",
              "--methods", "svm_egemaps", "--no-progress"])


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_metadata_holes_and_bad_audio_get_clean_messages(tiny, tmp_path):
    paths = save_corpus(tiny, tmp_path / "c")
    meta = pd.read_csv(paths.metadata)
    meta.loc[3, "session"] = np.nan
    holes = tmp_path / "holes.csv"
    meta.to_csv(holes, index=False)
    base = ["benchmark", "--audio-dir", str(paths.audio_dir), "--ratings",
            str(paths.ratings), "--methods", "svm_egemaps", "--no-progress",
            "--n-jobs", "1", "--cache", str(tmp_path / "cache")]
    with pytest.raises(SystemExit, match=r"1 utterance\(s\) have no 'session'"):
        main([*base, "--metadata", str(holes), "--out", str(tmp_path / "o1")])
    # an empty wav: a message naming the file, no traceback
    first = meta["utterance"].iloc[0]
    (paths.audio_dir / f"{first}.wav").write_bytes(b"")
    with pytest.raises(SystemExit, match=first):
        main([*base, "--metadata", str(paths.metadata), "--out",
              str(tmp_path / "o2")])


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_labels_that_look_like_math_are_drawn_as_text(tiny, tmp_path):
    long = tiny.annotations.ratings.to_long()
    long["label"] = long["label"].replace({"anger": "$\\undefined$"})
    data = _renamed(tiny, {})
    data.annotations = from_long(long, multiple="choices")
    data.utterances = data.utterances.assign(intended=data.utterances[
        "intended"].replace({"anger": "$\\undefined$"}))
    paths = save_corpus(data, tmp_path / "c")
    out = tmp_path / "o"
    assert main(["benchmark", "--audio-dir", str(paths.audio_dir), "--ratings",
                 str(paths.ratings), "--metadata", str(paths.metadata),
                 "--methods", "logreg_egemaps", "--no-progress", "--n-jobs", "1",
                 "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert "$\\undefined$" in results["meta"]["classes"]
    assert (out / "per_class_recall.png").stat().st_size > 1000


def test_an_int_range_float_waveform_gives_the_files_features(tmp_path):
    import soundfile as sf

    from sklearn_ser.exceptions import WaveformScaleWarning
    from sklearn_ser.features import LogSpectrogram

    rng = np.random.default_rng(0)
    pcm = (rng.normal(scale=3000, size=8000)).astype(np.int16)
    path = tmp_path / "a.wav"
    sf.write(path, pcm, 16000, subtype="PCM_16")
    from_file = LogSpectrogram(progress=False).fit_transform(
        pd.DataFrame({"path": [str(path)]}, index=["a"]))
    as_floats = pd.DataFrame({"audio": [pcm.astype(np.float64)],
                              "sample_rate": [16000]}, index=["a"])
    with pytest.warns(WaveformScaleWarning, match="'a'.*integer values.*1/32768"):
        scaled = LogSpectrogram(progress=False).fit_transform(as_floats)
    np.testing.assert_allclose(scaled["frames"].iloc[0], from_file["frames"].iloc[0],
                               atol=1e-4)
    loud = as_floats.assign(audio=[pcm.astype(np.float64) / 3000 + 0.5])
    with pytest.warns(WaveformScaleWarning, match="outside \\[-1, 1\\]"):
        LogSpectrogram(progress=False).fit_transform(loud)


def test_nan_statistics_name_the_utterance():
    from sklearn_ser.exceptions import NonFiniteFeatureWarning
    from sklearn_ser.features import FrameStatistics

    X = pd.DataFrame({"frames": [np.ones((3, 2), np.float32), None,
                                 np.full((2, 2), np.nan, np.float32)]},
                     index=["ok", "skipped", "nan_frames"])
    with pytest.warns(NonFiniteFeatureWarning, match=r"2 of 3.*'skipped', "
                      r"'nan_frames'"):
        out = FrameStatistics().fit_transform(X)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_cache_entries_are_checked_before_being_served(tmp_path):
    import os
    import warnings

    import soundfile as sf

    from sklearn_ser.features import CacheWarning, LogSpectrogram

    rng = np.random.default_rng(1)
    path = tmp_path / "a.wav"
    sf.write(path, rng.normal(scale=0.1, size=16000), 16000, subtype="PCM_16")
    X = pd.DataFrame({"path": [str(path)]}, index=["a"])
    cache = tmp_path / "cache"
    ext = LogSpectrogram(memory=str(cache), progress=False)
    fresh = ext.fit_transform(X)["frames"].iloc[0]
    (entry,) = [p for p in cache.rglob("*.npy")]
    umask = os.umask(0)
    os.umask(umask)
    assert entry.stat().st_mode & 0o777 == 0o666 & ~umask  # the umask, not 0600
    for bad in (np.full_like(fresh, np.nan), fresh[:10]):  # NaN, wrong frame count
        np.save(entry, bad)
        with pytest.warns(CacheWarning, match="unreadable cache entry"):
            again = LogSpectrogram(memory=str(cache), progress=False).fit_transform(X)
        np.testing.assert_array_equal(again["frames"].iloc[0], fresh)
    with warnings.catch_warnings():  # a sound entry is served without a word
        warnings.simplefilter("error")
        LogSpectrogram(memory=str(cache), progress=False).fit_transform(X)


def test_an_interrupted_refit_leaves_the_previous_fit_whole():
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.linear_model import LogisticRegression

    from sklearn_ser.models import EveryRatingClassifier, LateFusionClassifier

    class StopsOnFourClasses(ClassifierMixin, BaseEstimator):
        def fit(self, X, y, sample_weight=None):
            if len(set(y)) > 2:
                raise KeyboardInterrupt
            self.inner_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
            self.classes_ = self.inner_.classes_
            return self

        def predict_proba(self, X):
            return self.inner_.predict_proba(X)

        def predict(self, X):
            return self.inner_.predict(X)

    rng = np.random.default_rng(0)
    two = ["anger", "sadness"] * 6
    four = ["anger", "sadness", "neutral", "happiness"] * 3
    X = rng.normal(size=(12, 2))
    for clf in (EveryRatingClassifier(StopsOnFourClasses()),
                LateFusionClassifier([("a", StopsOnFourClasses())])):
        clf.fit(X, two)
        before = {k: v for k, v in vars(clf).items() if k.endswith("_")}
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, four)
        after = {k: v for k, v in vars(clf).items() if k.endswith("_")}
        assert after.keys() == before.keys()
        assert all(after[k] is before[k] for k in before)
        assert list(clf.classes_) == ["anger", "sadness"]
        assert clf.predict_proba(X).shape == (12, 2)


def _with_methods(**uars):
    res = _results()
    res["methods"] = {
        name: {"uar": u, "wa": u, "uar_truth": t, "per_class_recall": {"a": u},
               "fit_seconds": 1.0}
        for name, (u, t) in uars.items()}
    return res


def test_margins_table_puts_each_paper_method_beside_its_baseline(tmp_path):
    from sklearn_ser.experiments import PAPER_MARGINS, margins_table

    res = _with_methods(crowd_hard=(0.50, 0.55), stacked=(0.56, 0.54),
                        crowd_soft=(0.60, None), mlee_fusion=(0.58, None),
                        logreg_egemaps=(0.7, 0.7))
    table = margins_table(res)
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()[2:]}
    assert set(rows) == {"stacked", "mlee_fusion"}  # noisy_meta did not run
    assert ("| crowd_hard | 56.0 vs 50.0 | +6.0 | 54.0 vs 55.0 | -1.0 |"
            in rows["stacked"])
    assert "| crowd_soft | 58.0 vs 60.0 | -2.0 | - | - |" in rows["mlee_fusion"]
    assert f"+{PAPER_MARGINS['stacked'][2]}" in rows["stacked"]
    # without any pair: no table, no section
    assert margins_table(_with_methods(stacked=(0.5, None))) == ""
    paths = write_outputs(tmp_path / "res", res)
    md = next(p for p in paths if p.name == "results.md").read_text()
    assert "## The papers' methods beside their own baselines" in md
    paths = write_outputs(tmp_path / "none", _results())
    md = next(p for p in paths if p.name == "results.md").read_text()
    assert "beside their own baselines" not in md


def test_an_audio_folder_of_links_is_read_through(tiny, tmp_path):
    """A corpus linked into a working folder (every file a symbolic link to
    elsewhere) loads: the id check is on names, not on where links point."""
    paths = save_corpus(tiny, tmp_path / "store")
    linked = tmp_path / "work" / "wav"
    linked.mkdir(parents=True)
    for f in paths.audio_dir.iterdir():
        (linked / f.name).symlink_to(f)
    data = load_corpus(linked, paths.ratings, paths.metadata)
    assert len(data.utterances) == len(tiny.utterances)
    assert all(str(p).startswith(str(linked)) for p in data.utterances["path"])
    # ids that leave the folder are still refused
    bad = pd.read_csv(paths.ratings)
    bad.loc[0, "utterance"] = "../store/wav/" + str(bad.loc[0, "utterance"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="not a safe file name"):
        load_corpus(linked, tmp_path / "bad.csv")


def test_save_corpus_writes_nothing_when_a_file_or_link_is_there(tiny, tmp_path):
    first = f"{tiny.utterances.index[0]}.wav"
    elsewhere = tmp_path / "elsewhere.wav"
    wav = tmp_path / "c" / "wav"
    wav.mkdir(parents=True)
    (wav / first).symlink_to(elsewhere)  # a broken link: not written through
    with pytest.raises(FileExistsError, match=r"1 of the \d+ audio files exist"):
        save_corpus(tiny, tmp_path / "c")
    assert not elsewhere.exists()
    assert [p.name for p in wav.iterdir()] == [first]


@pytest.mark.parametrize("side,change", [("metadata", lambda s: s + " "),
                                         ("ratings", lambda s: " " + s),
                                         ("metadata", str.upper)])
def test_ids_that_differ_only_by_case_or_spaces_are_named(tiny, tmp_path, side, change):
    paths = save_corpus(tiny, tmp_path / "c")
    file = paths.metadata if side == "metadata" else paths.ratings
    table = pd.read_csv(file, dtype=str)
    table["utterance"] = table["utterance"].map(change)
    table.to_csv(file, index=False)
    with pytest.raises(ValueError, match=r"differ from a metadata id only by case, "
                       r"surrounding spaces or Unicode form \(e\.g\. ratings '.*', "
                       r"metadata '.*'\)"):
        load_corpus(paths.audio_dir, paths.ratings, paths.metadata)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding,ending", [("utf-8", "\n"), ("utf-8-sig", "\r\n")])
def test_load_corpus_reads_every_separator_and_spreadsheet_export(
        tiny, tmp_path, sep, encoding, ending):
    """Spreadsheets write ';' or tabs, a byte-order mark, CRLF: the same corpus
    loads the same from any of them (ratings and metadata alike)."""
    paths = save_corpus(tiny, tmp_path / "c")
    clean = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    for file in (paths.ratings, paths.metadata):
        pd.read_csv(file, dtype=str, keep_default_na=False).to_csv(
            file, sep=sep, index=False, encoding=encoding, lineterminator=ending)
    got = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    pd.testing.assert_frame_equal(got.utterances.drop(columns="path"),
                                  clean.utterances.drop(columns="path"))
    pd.testing.assert_frame_equal(to_long(got.annotations), to_long(clean.annotations))
    assert list(got.classes) == list(clean.classes)


def test_load_corpus_finds_the_metadata_id_column_by_its_values(tiny, tmp_path):
    paths = save_corpus(tiny, tmp_path / "c")
    clean = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    meta = pd.read_csv(paths.metadata, dtype=str)
    cols = [c for c in meta.columns if c != "utterance"]
    meta = meta.rename(columns={"utterance": "name"})[[cols[0], "name", *cols[1:]]]
    meta.to_csv(paths.metadata, index=False)
    got = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    assert list(got.utterances.index) == list(clean.utterances.index)
    assert list(got.utterances[cols[0]]) == list(clean.utterances[cols[0]])
