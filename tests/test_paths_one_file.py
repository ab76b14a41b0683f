"""Paths and links (issue 42, class 7): an id names one file one way, a write
never goes through a link out of the folder, two ids never share one file,
and a name the file systems cannot hold is refused naming the id."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils import Bunch

from sklearn_ser.annotations import from_long
from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus
from sklearn_ser.datasets._base import NAME_MAX, path_inside

NAME = st.text(alphabet="abcxyz019_-", min_size=1, max_size=6)
PLAIN = st.lists(NAME, min_size=1, max_size=3).map("/".join)


@st.composite
def respelled(draw):
    """(plain id, another spelling of the same path)."""
    parts = draw(st.lists(NAME, min_size=1, max_size=3))
    plain = "/".join(parts)
    how = draw(st.sampled_from(["dot", "double", "inner dot", "trailing"]))
    at = draw(st.integers(0, len(parts) - 1))
    if how == "dot":
        other = "./" + plain
    elif how == "trailing":
        other = plain + "/"
    else:
        sep = "//" if how == "double" else "/./"
        other = "/".join(parts[:at]) + (sep if at else "./") + "/".join(parts[at:])
    return plain, other


@pytest.fixture(scope="module")
def tiny():
    return make_emotional_speech(8, n_speakers=2, n_sessions=2, random_state=0)


def _renamed(data, mapping):
    u = data.utterances.rename(index=mapping)
    long = data.annotations.ratings.to_long()
    long["utterance"] = long["utterance"].map(lambda i: mapping.get(i, i))
    return Bunch(utterances=u, annotations=from_long(long, multiple="choices"))


@settings(max_examples=60, deadline=None)
@given(PLAIN)
def test_a_plain_id_is_its_own_file(uid):
    assert path_inside("/data/wav", uid, ".wav") == (
        __import__("pathlib").Path("/data/wav") / f"{uid}.wav")


@settings(max_examples=60, deadline=None)
@given(respelled())
def test_another_spelling_of_a_path_is_refused_naming_the_plain_one(pair):
    plain, other = pair
    assert os.path.normpath(other) == plain  # the same file
    with pytest.raises(ValueError, match="names the file of") as e:
        path_inside("/data/wav", other, ".wav")
    assert repr(other) in str(e.value) and repr(plain) in str(e.value)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=respelled())
def test_save_corpus_refuses_two_ids_of_one_file_before_writing(tiny, tmp_path_factory,
                                                                 pair):
    plain, other = pair
    first, second = tiny.utterances.index[:2]
    data = _renamed(tiny, {first: plain, second: other})
    folder = tmp_path_factory.mktemp("c")
    with pytest.raises(ValueError, match="names the file of"):
        save_corpus(data, folder)
    assert not (folder / "wav").exists()  # nothing written


@settings(max_examples=20, deadline=None)
@given(st.integers(NAME_MAX - 8, NAME_MAX + 40), st.booleans(), st.booleans())
def test_a_name_too_long_for_the_file_system_is_named(length, nested, wide):
    char = "é" if wide else "a"  # two bytes in UTF-8
    stem = char * length
    uid = f"sub/{stem}" if nested else stem
    if len((stem + ".wav").encode()) > NAME_MAX:
        with pytest.raises(ValueError, match=f"allow {NAME_MAX}") as e:
            path_inside("/data/wav", uid, ".wav")
        assert "Shorten the id" in str(e.value)
    else:
        path_inside("/data/wav", uid, ".wav")


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(0, 2), link_at=st.integers(0, 2), to_file=st.booleans())
def test_save_corpus_never_writes_through_a_link_out_of_the_folder(
        tiny, tmp_path_factory, depth, link_at, to_file):
    """``wav/<sub>`` (at any depth of the id's folders) links elsewhere: the
    save is refused before anything is written, and the elsewhere folder
    stays empty."""
    root = tmp_path_factory.mktemp("save")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    folders = [f"d{i}" for i in range(max(depth, link_at) + 1)]
    wav = root / "c" / "wav"
    inside = wav.joinpath(*folders[:link_at])
    inside.mkdir(parents=True, exist_ok=True)
    (inside / folders[link_at]).symlink_to(elsewhere, target_is_directory=True)
    first = tiny.utterances.index[0]
    uid = "/".join(folders + ["x"])
    data = _renamed(tiny, {first: uid})
    with pytest.raises(ValueError, match="is a link to") as e:
        save_corpus(data, root / "c")
    assert repr(uid) in str(e.value)
    assert list(elsewhere.iterdir()) == []
    assert not (root / "c" / "ratings.csv").exists()


def test_a_folder_given_as_a_link_is_the_users_and_is_written(tiny, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    paths = save_corpus(tiny, tmp_path / "alias")
    assert len(list((real / "wav").iterdir())) == len(tiny.utterances)
    assert len(load_corpus(paths.audio_dir, paths.ratings).utterances) == len(
        tiny.utterances)


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
def test_load_corpus_refuses_two_ids_of_one_file(tiny, tmp_path, how):
    """Two ids whose files are one (a link, a hard link; a file system that
    ignores case gives the same): one recording would be trained and
    tested on."""
    paths = save_corpus(tiny, tmp_path / "c")
    first, second = map(str, tiny.utterances.index[:2])
    target = paths.audio_dir / f"{second}.wav"
    target.unlink()
    source = paths.audio_dir / f"{first}.wav"
    if how == "symlink":
        target.symlink_to(source)
    else:
        os.link(source, target)
    with pytest.raises(ValueError, match="are one file") as e:
        load_corpus(paths.audio_dir, paths.ratings)
    assert repr(first) in str(e.value) and repr(second) in str(e.value)


def test_load_corpus_refuses_an_id_written_another_way(tiny, tmp_path):
    paths = save_corpus(tiny, tmp_path / "c")
    long = pd.read_csv(paths.ratings, dtype=str)
    first = long.loc[0, "utterance"]
    long.loc[long["utterance"] == first, "utterance"] = "./" + first
    long.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError, match=f"names the file of '{first}'"):
        load_corpus(paths.audio_dir, tmp_path / "r.csv")
