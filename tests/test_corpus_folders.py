"""Corpus folders and audio in any format (issue 44, in part): ``load_corpus
(folder)`` and ``--corpus`` read the layout save_corpus writes with the audio
in wav/, flac/ or audio/; a lossless twin (FLAC, AIFF) gives identical
features; what the folder does not decide is refused naming the choice."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus
from sklearn_ser.experiments._cli import main
from sklearn_ser.features import LogSpectrogram, OpenSmileFrames

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.RareClassWarning",
    "ignore::sklearn_ser.exceptions.UnvoicedWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    data = make_emotional_speech(24, n_speakers=4, n_sessions=2, random_state=5)
    return save_corpus(data, tmp_path_factory.mktemp("corpus") / "c")


def _twin(saved, folder, fmt, audio="flac"):
    """The saved corpus with its audio re-encoded (lossless) in ``folder``."""
    folder.mkdir(parents=True)
    shutil.copy(saved.ratings, folder / "ratings.csv")
    shutil.copy(saved.metadata, folder / "metadata.csv")
    for wav in sorted(saved.audio_dir.glob("*.wav")):
        wave, rate = sf.read(wav, dtype="int16")
        out = folder / audio / f"{wav.stem}.{fmt}"
        out.parent.mkdir(exist_ok=True)
        sf.write(out, wave, rate, subtype="PCM_16")
    return folder


def test_a_corpus_folder_reads_as_its_three_parts(saved):
    by_folder = load_corpus(saved.audio_dir.parent)
    by_parts = load_corpus(saved.audio_dir, saved.ratings, saved.metadata)
    pd.testing.assert_frame_equal(by_folder.utterances, by_parts.utterances)
    assert by_folder.annotations.equals(by_parts.annotations)
    assert by_folder.classes == by_parts.classes


@pytest.mark.parametrize("fmt", ["flac", "aiff"])
def test_a_lossless_twin_gives_identical_features(saved, tmp_path, fmt):
    twin = load_corpus(_twin(saved, tmp_path / fmt, fmt))
    wav = load_corpus(saved.audio_dir.parent)
    assert all(p.endswith(f".{fmt}") for p in twin.utterances["path"])
    pd.testing.assert_frame_equal(twin.utterances.drop(columns="path"),
                                  wav.utterances.drop(columns="path"))
    for ext in (LogSpectrogram(progress=False),
                OpenSmileFrames("fujioka32", progress=False)):
        a = ext.fit_transform(twin.utterances)["frames"]
        b = ext.fit_transform(wav.utterances)["frames"]
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_ids_in_sub_folders_are_found_in_any_format(saved, tmp_path):
    folder = _twin(saved, tmp_path / "c", "flac", audio="audio")
    first = sorted((folder / "audio").iterdir())[0]
    (folder / "audio" / "actor01").mkdir()
    first.rename(folder / "audio" / "actor01" / first.name)
    for name in ("ratings.csv", "metadata.csv"):
        table = pd.read_csv(folder / name, dtype=str)
        table.loc[table["utterance"] == first.stem, "utterance"] = (
            f"actor01/{first.stem}")
        table.to_csv(folder / name, index=False)
    data = load_corpus(folder)
    assert data.utterances.loc[f"actor01/{first.stem}", "path"].endswith(
        f"actor01/{first.stem}.flac")


def test_what_the_folder_does_not_decide_is_refused_naming_the_choice(saved,
                                                                      tmp_path):
    folder = _twin(saved, tmp_path / "mixed", "flac", audio="wav")
    for wav in saved.audio_dir.glob("*.wav"):  # a .wav beside each .flac
        shutil.copy(wav, folder / "wav" / wav.name)
    with pytest.raises(ValueError, match=r"several audio files .* pass "
                                         r"extension='\.wav'"):
        load_corpus(folder)
    flac = load_corpus(folder, extension=".flac")
    assert all(p.endswith(".flac") for p in flac.utterances["path"])
    (folder / "flac").mkdir()
    with pytest.raises(ValueError, match=r"several audio folders \(wav/, flac/\)"):
        load_corpus(folder)
    shutil.rmtree(folder / "flac")
    shutil.rmtree(folder / "wav")
    with pytest.raises(FileNotFoundError, match="has no audio folder"):
        load_corpus(folder)
    (folder / "ratings.csv").unlink()
    with pytest.raises(FileNotFoundError, match="has no ratings.csv"):
        load_corpus(folder)


def test_the_command_line_benchmarks_a_flac_corpus_folder(saved, tmp_path):
    folder = _twin(saved, tmp_path / "flac_corpus", "flac")
    out = tmp_path / "res"
    assert main(["benchmark", "--corpus", str(folder), "--methods",
                 "logreg_egemaps", "--no-progress", "--n-jobs", "1", "--cache",
                 str(tmp_path / "cache"), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["corpus"] == f"corpus folder {folder}"
    assert 0 <= results["methods"]["logreg_egemaps"]["uar"] <= 1
    with pytest.raises(SystemExit, match="give one corpus"):
        main(["benchmark", "--corpus", str(folder), "--audio-dir", str(folder),
              "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--extension 'flac'"):
        main(["benchmark", "--corpus", str(folder), "--extension", "flac",
              "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


@pytest.mark.realdata
def test_ased_is_a_corpus_folder(shared_data):
    ased = shared_data / "ased"
    if not ased.is_dir():
        pytest.skip(f"ASED not found at {ased}")
    data = load_corpus(ased, truth_column="intended")
    assert len(data.utterances) == 2474
    assert data.classes == ["anger", "fear", "happiness", "neutral", "sadness"]
    assert data.utterances["speaker"].nunique() == 65
    assert all(p.endswith(".flac") for p in data.utterances["path"])
