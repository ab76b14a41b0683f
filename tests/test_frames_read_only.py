"""Frames behave the same in memory and on disk: read-only wherever they are
read from (an edit in place raises instead of changing every copy in memory
and being lost on disk), a deep copy is a copy, ``Series.map`` gives plain
values."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.features import FramesArray

READS = {
    "item": lambda s, i: s.iloc[i],
    "read": lambda s, i: s.array.read(i),
    "iteration": lambda s, i: list(s)[i],
    "to_numpy": lambda s, i: s.to_numpy()[i],
    "np.asarray": lambda s, i: np.asarray(s.array)[i],
    "deep copy": lambda s, i: copy.deepcopy(s).iloc[i],
    "Series.copy(deep=True)": lambda s, i: s.copy(deep=True).iloc[i],
    "take": lambda s, i: s.take([i]).iloc[0],
}
EDITS = {
    "item assignment": lambda f: f.__setitem__((0, 0), np.nan),
    "in-place multiply": lambda f: f.__imul__(2),
    "ufunc out=": lambda f: np.add(f, 1, out=f),
    "fill": lambda f: f.fill(0),
}


@st.composite
def frames(draw):
    n = draw(st.integers(1, 5))
    dim = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    rng = np.random.default_rng(draw(st.integers(0, 100)))
    return [rng.normal(size=(t, dim)).astype(np.float32) for t in lengths]


@settings(max_examples=40, deadline=None)
@given(arrays=frames(), where=st.sampled_from(["memory", "disk"]),
       read=st.sampled_from(sorted(READS)), edit=st.sampled_from(sorted(EDITS)),
       data=st.data())
def test_an_edit_in_place_raises_in_memory_and_on_disk(tmp_path_factory, arrays,
                                                       where, read, edit, data):
    fa = FramesArray.from_list(arrays)
    if where == "disk":
        fa = fa.save(tmp_path_factory.mktemp("store") / "frames")
        assert fa.on_disk
    s = pd.Series(fa)
    i = data.draw(st.integers(0, len(arrays) - 1))
    element = READS[read](s, i)
    with pytest.raises(ValueError, match="read-only"):
        EDITS[edit](element)
    # nothing changed: the frames and their finiteness flags are as built
    for k, a in enumerate(arrays):
        np.testing.assert_array_equal(s.iloc[k], a)
    assert s.array.finite.all()
    # the original arrays stay the caller's, writable
    arrays[0][0, 0] = arrays[0][0, 0]


def test_a_new_table_of_frames_is_built_not_edited():
    fa = FramesArray.from_list([np.ones((2, 2), np.float32)])
    edited = FramesArray.from_list([f * 2 for f in fa])
    assert edited.read(0)[0, 0] == 2 and fa.read(0)[0, 0] == 1
    with pytest.raises(ValueError, match="read-only"):
        fa.buffer()[0, 0] = 3


def test_series_map_gives_plain_values_not_frames():
    s = pd.Series(FramesArray.from_list([np.ones((3, 2), np.float32),
                                         np.zeros((2, 2), np.float32)]))
    assert s.map(len).tolist() == [3, 2]
    assert s.map(lambda f: float(f.mean())).tolist() == [1.0, 0.0]
    doubled = s.map(lambda f: f * 2)
    assert doubled.dtype == object and not isinstance(doubled.array, FramesArray)
