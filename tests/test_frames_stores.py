"""Stores that outlive nothing and stores edited by hand are named, not
served: a dump of frames in another process' temporary store says so when
loaded; an index edited since the store was written is refused by ``open``."""

from __future__ import annotations

import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.features import FramesArray

DUMP = """
import sys, numpy as np, pandas as pd, joblib
from sklearn_ser.features import FramesArray
fa = FramesArray.from_list([np.ones((3, 2), np.float32)] * 2)
table = pd.DataFrame({"frames": fa.map_chunks(lambda p, a: a, on_disk=True)})
assert table["frames"].array.on_disk
joblib.dump(table, sys.argv[1])
"""


def test_a_dump_of_frames_in_a_temporary_store_says_so_once_the_store_is_gone(
        tmp_path):
    target = tmp_path / "table.joblib"
    subprocess.run([sys.executable, "-c", DUMP, str(target)], check=True)
    with pytest.raises(FileNotFoundError, match=r"temporary frames store .*"
                                                r"frames\.save\(path\)"):
        joblib.load(target)


def test_a_dump_of_frames_in_a_saved_store_loads(tmp_path):
    fa = FramesArray.from_list([np.ones((3, 2), np.float32)] * 2).save(
        tmp_path / "store")
    joblib.dump(pd.DataFrame({"frames": fa}), tmp_path / "t.joblib")
    back = joblib.load(tmp_path / "t.joblib")
    np.testing.assert_array_equal(back["frames"].iloc[1], np.ones((3, 2)))


@settings(max_examples=20, deadline=None)
@given(lengths=st.lists(st.integers(1, 5), min_size=2, max_size=6),
       how=st.sampled_from(["swap lengths", "flip finite"]))
def test_an_index_edited_by_hand_is_refused(tmp_path_factory, lengths, how):
    if how == "swap lengths" and len(set(lengths)) < 2:
        lengths = [*lengths[:-1], lengths[-1] + 1]
    path = tmp_path_factory.mktemp("s") / "store"
    FramesArray.from_list([np.zeros((n, 2), np.float32) for n in lengths]).save(path)
    if how == "swap lengths":  # the same sum: the sizes still agree
        edited = np.load(path / "lengths.npy")
        i = int(np.flatnonzero(edited != edited[0])[0])
        edited[[0, i]] = edited[[i, 0]]
        np.save(path / "lengths.npy", edited)
    else:
        finite = np.load(path / "finite.npy")
        np.save(path / "finite.npy", ~finite)
    with pytest.raises(ValueError, match="changed since the store was written"):
        FramesArray.open(path)


def test_a_store_without_a_checksum_still_opens(tmp_path):
    path = tmp_path / "store"
    FramesArray.from_list([np.zeros((2, 2), np.float32)]).save(path)
    meta = json.loads((path / "meta.json").read_text())
    del meta["index_sha256"]
    (path / "meta.json").write_text(json.dumps(meta))
    assert len(FramesArray.open(path)) == 1


# --- the feature cache checks what it serves (issue 42, class 5) ----------------
@pytest.fixture(scope="module")
def one_clip(tmp_path_factory):
    import soundfile as sf

    folder = tmp_path_factory.mktemp("clip")
    path = folder / "a.wav"
    rng = np.random.default_rng(3)
    sf.write(path, rng.normal(scale=0.1, size=24000), 16000, subtype="PCM_16")
    return pd.DataFrame({"path": [str(path)]}, index=["a"])


@settings(max_examples=25, deadline=None)
@given(how=st.sampled_from(["drop", "add", "value", "no sum", "half sum"]),
       at=st.integers(0, 10_000), n=st.integers(1, 3))
def test_a_cache_entry_that_is_not_what_was_written_is_recomputed(
        tmp_path_factory, one_clip, how, at, n):
    """One frame short (within any duration tolerance), one frame more, one
    value changed, the checksum missing or cut: recomputed with a warning,
    never served."""
    import warnings

    from sklearn_ser.features import CacheWarning, LogSpectrogram

    cache = tmp_path_factory.mktemp("cache")
    fresh = LogSpectrogram(memory=str(cache), progress=False).fit_transform(
        one_clip)["frames"].iloc[0]
    (entry,) = cache.rglob("*.npy")
    (summed,) = cache.rglob("*.sum")
    frames = np.load(entry)
    if how == "drop":
        np.save(entry, frames[: len(frames) - n])
    elif how == "add":
        np.save(entry, np.concatenate([frames, frames[-n:]]))
    elif how == "value":
        frames = frames.copy()
        frames.flat[at % frames.size] += np.float32(n)
        np.save(entry, frames)
    elif how == "no sum":
        summed.unlink()
    else:
        summed.write_text(summed.read_text()[: at % len(summed.read_text())])
    with pytest.warns(CacheWarning, match="unreadable cache entry"):
        again = LogSpectrogram(memory=str(cache), progress=False).fit_transform(
            one_clip)["frames"].iloc[0]
    np.testing.assert_array_equal(again, fresh)
    with warnings.catch_warnings():  # rewritten whole: the next read is a hit
        warnings.simplefilter("error")
        LogSpectrogram(memory=str(cache), progress=False).fit_transform(one_clip)
