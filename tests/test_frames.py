"""The frames array: one buffer plus offsets, in memory or in a store on disk.

Properties over generated sequences in every accepted input form (hypothesis;
profile ``ci`` by default, ``HYPOTHESIS_PROFILE=long`` by hand), the store's
guarantees (atomic, never overwritten, checked when opened), and every frame
step giving the same frames and predictions from disk as from memory.
"""

from __future__ import annotations

import gc
import os
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import (
    FrameAverager,
    FramesArray,
    FrameStatistics,
    OpenSmileFrames,
    SpeakerStandardizer,
    get_frames,
)
from sklearn_ser.features._normalize import _group_stats

pytestmark = pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")


@st.composite
def sequences(draw, allow_missing=True):
    """A list of (T, D) arrays (some None), one D, mixed dtypes."""
    dim = draw(st.integers(1, 4))
    n = draw(st.integers(0, 12))
    out = []
    for _ in range(n):
        if allow_missing and draw(st.integers(0, 5)) == 0:
            out.append(None)
            continue
        t = draw(st.integers(0, 7))
        dtype = draw(st.sampled_from([np.float32, np.float64, np.int16]))
        values = draw(
            st.lists(
                st.floats(-1e3, 1e3, width=32) | st.just(np.nan) | st.just(np.inf),
                min_size=t * dim,
                max_size=t * dim,
            )
        )
        arr = np.asarray(values, dtype=np.float64).reshape(t, dim)
        if dtype is np.int16:
            arr = (
                np.nan_to_num(arr, nan=0, posinf=1, neginf=-1).round().astype(np.int16)
            )
        out.append(arr.astype(dtype))
    return out


def _chunked(seqs, cuts):
    cuts = sorted({c % (len(seqs) + 1) for c in cuts} | {0, len(seqs)})
    return [seqs[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _same(fa, seqs):
    assert len(fa) == len(seqs)
    for got, want in zip(fa, seqs, strict=True):
        if want is None:
            assert got is None
        else:
            want = np.asarray(want, dtype=np.float32)
            assert got.dtype == np.float32 and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


# -- properties --
@given(
    seqs=sequences(),
    cuts=st.lists(st.integers(0, 20), max_size=4),
    on_disk=st.booleans(),
    block=st.sampled_from([64 * 2**20, 40, 1]),
)
def test_from_chunks_keeps_every_sequence_and_records_finiteness(
    tmp_path_factory, seqs, cuts, on_disk, block
):
    from sklearn_ser.features import _store as _frames  # where the blocks are cut

    path = tmp_path_factory.mktemp("store") / "f" if on_disk else None
    saved, _frames.BLOCK_BYTES = _frames.BLOCK_BYTES, block  # in-memory blocks
    try:
        fa = FramesArray.from_chunks(_chunked(seqs, cuts), path)
    finally:
        _frames.BLOCK_BYTES = saved
    _same(fa, seqs)
    _same(pickle.loads(pickle.dumps(fa[::2])), seqs[::2])
    if len(fa):
        np.testing.assert_array_equal(
            fa.buffer(),
            np.concatenate(
                [np.asarray(s, np.float32) for s in seqs if s is not None]
                or [np.empty((0, fa.dim), np.float32)]
            ),
        )
    assert fa.on_disk is on_disk
    assert fa.isna().tolist() == [s is None for s in seqs]
    assert fa.lengths.tolist() == [0 if s is None else len(s) for s in seqs]
    assert fa.finite.tolist() == [
        s is None or bool(np.isfinite(np.asarray(s, np.float32)).all()) for s in seqs
    ]
    if on_disk:
        _same(FramesArray.open(path), seqs)


@given(seqs=sequences(), data=st.data(), on_disk=st.booleans())
def test_take_slices_and_pickles_like_a_list(tmp_path_factory, seqs, data, on_disk):
    path = tmp_path_factory.mktemp("store") / "f" if on_disk else None
    fa = FramesArray.from_chunks([seqs], path)
    n = len(seqs)
    idx = data.draw(st.lists(st.integers(-n, n - 1), max_size=10) if n else st.just([]))
    sub = fa.take(idx)
    _same(sub, [seqs[i] for i in idx])
    assert sub._store is fa._store  # a selection, never a copy of frames
    filled = fa.take([-1] + [i % n for i in idx] if n else [-1], allow_fill=True)
    assert filled[0] is None
    for piece in (sub, filled, fa[::2]):
        back = pickle.loads(pickle.dumps(piece))
        assert back.on_disk is on_disk
        _same(back, list(piece))
    both = FramesArray._concat_same_type([fa, sub])
    _same(both, seqs + [seqs[i] for i in idx])


@given(seqs=sequences(allow_missing=False))
def test_every_accepted_form_gives_the_same_frames(seqs):
    seqs = [s for s in seqs if len(s)]
    if not seqs:
        return
    ids = [f"alice_{i}" for i in range(len(seqs))]
    column = pd.Series([None] * len(seqs), index=ids, dtype=object)
    column[:] = [s for s in seqs]
    forms = [
        seqs,
        [np.asarray(s).tolist() for s in seqs],
        pd.DataFrame({"frames": column}),
        pd.DataFrame({"frames": FramesArray.from_list(seqs)}, index=ids),
        FramesArray.from_list(seqs),
    ]
    if len({len(s) for s in seqs}) == 1:
        forms.append(np.stack([np.asarray(s, np.float32) for s in seqs]))
    for form in forms:
        _same(get_frames(form), seqs)


@given(seqs=sequences(allow_missing=False), max_bytes=st.integers(1, 200))
def test_group_statistics_merge_equals_the_exact_ones(seqs, max_bytes):
    seqs = [
        np.nan_to_num(np.asarray(s, np.float32), nan=0, posinf=5, neginf=-5)
        for s in seqs
    ]
    if not seqs or not sum(len(s) for s in seqs):
        return
    fa = FramesArray.from_list(seqs)
    codes = np.arange(len(seqs)) % 2
    exact = _group_stats(fa, codes, 2)
    merged = _group_stats(fa, codes, 2, max_bytes=max_bytes)
    for a, b in zip(exact, merged, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-6)
    for g in (0, 1):
        member = [s for s, c in zip(seqs, codes, strict=True) if c == g and len(s)]
        if member:
            x = np.concatenate(member).astype(np.float64)
            np.testing.assert_array_equal(exact[0][g], x.mean(axis=0))
            np.testing.assert_array_equal(exact[1][g], x.std(axis=0))


# -- bad input names the utterance --
@pytest.mark.parametrize(
    "bad, message",
    [
        ([np.zeros((2, 3)), np.zeros((2, 4))], "'bob' has 4 features per frame"),
        ([np.zeros((2, 3)), np.zeros((2, 3, 1))], "'bob': frames must be a \\(T, D\\)"),
        ([np.zeros((2, 3)), np.zeros((2, 3), complex)], "utterance 'bob' has complex"),
        (
            [np.zeros((2, 3)), np.array([["a", "b", "c"]])],
            "'bob': frames must be a numeric",
        ),
    ],
)
def test_bad_frames_name_the_utterance(bad, message):
    column = pd.Series([None, None], index=["alice", "bob"], dtype=object)
    column[:] = bad
    with pytest.raises((ValueError, TypeError), match=message):
        get_frames(pd.DataFrame({"frames": column}))


def test_missing_frames_are_refused_where_a_step_needs_them():
    fa = FramesArray.from_list([np.zeros((2, 2)), None])
    X = pd.DataFrame({"frames": fa}, index=["alice", "bob"])
    with pytest.raises(ValueError, match="'bob' has no frames"):
        get_frames(X)
    assert get_frames(X, allow_missing=True).isna().tolist() == [False, True]


def test_frames_are_read_only():
    fa = FramesArray.from_list([np.zeros((2, 2))])
    with pytest.raises(TypeError, match="read-only"):
        fa[0] = np.ones((2, 2))


# -- the store --
def test_an_interrupted_write_leaves_no_store(tmp_path):
    def chunks():
        yield [np.zeros((3, 2))]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        FramesArray.from_chunks(chunks(), tmp_path / "f")
    assert list(tmp_path.iterdir()) == []  # no store, no partial folder


def test_a_store_is_never_written_over(tmp_path):
    FramesArray.from_chunks([[np.zeros((3, 2))]], tmp_path / "f")
    before = {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()}
    with pytest.raises(FileExistsError, match="never written over"):
        FramesArray.from_chunks([[np.ones((3, 2))]], tmp_path / "f")
    assert {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()} == before


def test_open_refuses_partial_truncated_and_foreign_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a frames store"):
        FramesArray.open(tmp_path / "nothing")
    (tmp_path / ".f.partial-1234").mkdir()
    with pytest.raises(FileNotFoundError, match="interrupted write"):
        FramesArray.open(tmp_path / "f")
    fa = FramesArray.from_chunks([[np.zeros((3, 2)), np.ones((4, 2))]], tmp_path / "g")
    with open(tmp_path / "g" / "frames.npy", "r+b") as fh:
        fh.truncate(128 + 4 * 2 * 5)
    with pytest.raises(ValueError, match="inconsistent"):
        FramesArray.open(tmp_path / "g")
    with pytest.raises(OSError, match="shorter than its index"):
        fa[1]


def test_a_store_is_a_plain_npy_buffer(tmp_path):
    seqs = [np.arange(6.0).reshape(3, 2), np.ones((4, 2))]
    FramesArray.from_chunks([seqs], tmp_path / "f")
    buffer = np.load(tmp_path / "f" / "frames.npy", mmap_mode="r")
    np.testing.assert_array_equal(buffer, np.concatenate(seqs).astype(np.float32))
    assert np.load(tmp_path / "f" / "lengths.npy").tolist() == [3, 4]


def test_temporary_stores_go_when_no_array_refers_to_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_SER_TEMP", str(tmp_path))
    fa = FramesArray.from_chunks([[np.ones((5, 2))] * 4], tmp_path / "in")
    X = pd.DataFrame({"frames": fa, "speaker": list("aabb")})
    out = FrameAverager(2).fit_transform(X)
    store = out["frames"].array.path
    assert store.startswith(str(tmp_path / "sklearn_ser_frames"))
    assert os.path.isdir(store)
    del out
    gc.collect()
    assert not os.path.exists(store)
    assert (tmp_path / "in").is_dir()  # a store the user made stays


def test_in_a_table_the_frames_column_slices_without_copying():
    fa = FramesArray.from_list([np.full((i + 1, 2), i, np.float32) for i in range(6)])
    X = pd.DataFrame(
        {"frames": fa, "speaker": list("aabbcc")}, index=[f"u{i}" for i in range(6)]
    )
    part = X.iloc[[4, 1]]
    assert part["frames"].array._store is fa._store
    assert part["frames"].iloc[0].shape == (5, 2)
    joined = pd.concat([X.iloc[:2], X.iloc[4:]])
    assert joined["frames"].dtype == fa.dtype and len(joined) == 4
    reindexed = X.reindex(["u0", "missing"])
    assert reindexed["frames"].iloc[1] is None
    assert "frames" in repr(X["frames"].dtype) and "<3 x 2 frames>" in repr(X)


# -- every frame step: the same from disk as from memory --
@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(40, n_speakers=4, n_sessions=2, random_state=3)


@pytest.fixture(scope="module")
def frames_table(corpus):
    return OpenSmileFrames("emobase45", progress=False).fit_transform(corpus.utterances)


def _on_disk(table, path):
    fa = table["frames"].array.save(path)
    out = table.copy()
    out["frames"] = pd.Series(fa, index=table.index)
    return out


@pytest.mark.parametrize("mode", ["speaker", "global", "utterance", "none"])
def test_standardizer_and_averager_from_disk_equal_memory(
    frames_table, corpus, tmp_path, mode
):
    disk = _on_disk(frames_table, tmp_path / "f")
    steps = [SpeakerStandardizer(mode, memory=tmp_path / "work"), FrameAverager(5)]
    mem_out, disk_out = frames_table, disk
    for step in steps:
        mem_out = step.fit(mem_out, corpus.annotations).transform(mem_out)
        disk_out = step.fit(disk_out, corpus.annotations).transform(disk_out)
        assert disk_out["frames"].array.on_disk
        assert not mem_out["frames"].array.on_disk
        _same(disk_out["frames"].array, list(mem_out["frames"]))
    a = FrameStatistics(("mean", "std")).fit_transform(mem_out)
    b = FrameStatistics(("mean", "std")).fit_transform(disk_out)
    np.testing.assert_array_equal(a, b)


def test_the_standardizer_matches_the_list_of_arrays_it_replaced(frames_table):
    """Per-speaker statistics as np.concatenate + mean/std of that speaker's
    frames (the implementation before the frames array)."""
    out = SpeakerStandardizer("speaker").fit_transform(frames_table)
    for spk in frames_table["speaker"].unique():
        rows = (frames_table["speaker"] == spk).to_numpy()
        x = np.concatenate(list(frames_table["frames"][rows])).astype(np.float64)
        mean, std = x.mean(axis=0), x.std(axis=0)
        std = np.where(std < 1e-8, 1.0, std)
        for f, g in zip(frames_table["frames"][rows], out["frames"][rows], strict=True):
            np.testing.assert_array_equal(g, ((f - mean) / std).astype(np.float32))


def test_a_network_trains_and_predicts_the_same_from_disk(
    frames_table, corpus, tmp_path
):
    from sklearn.pipeline import make_pipeline

    from sklearn_ser.models import BLSTMAttentionClassifier

    def pipe():
        return make_pipeline(
            SpeakerStandardizer(memory=tmp_path / "w"),
            FrameAverager(10),
            BLSTMAttentionClassifier(
                target="soft", max_epochs=2, lstm_units=8, dense_units=8, random_state=0
            ),
        )

    disk = _on_disk(frames_table, tmp_path / "f")
    p_mem = pipe().fit(frames_table, corpus.annotations).predict_proba(frames_table)
    p_disk = pipe().fit(disk, corpus.annotations).predict_proba(disk)
    np.testing.assert_array_equal(p_mem, p_disk)


def test_extraction_out_of_core_gives_the_frames_of_memory(
    corpus, frames_table, tmp_path
):
    ext = OpenSmileFrames(
        "emobase45", progress=False, out_of_core=True, memory=tmp_path
    )
    out = ext.fit_transform(corpus.utterances)
    fa = out["frames"].array
    assert fa.on_disk and fa.path.startswith(str(tmp_path / "sklearn_ser_frames"))
    _same(fa, list(frames_table["frames"]))
    est = ext.estimated_nbytes(corpus.utterances)
    assert 0.9 < est / (4 * 45 * fa.lengths.sum()) < 1.1


def test_auto_moves_to_disk_past_the_limit(corpus, frames_table, tmp_path,
                                           monkeypatch):
    monkeypatch.setenv("SKLEARN_SER_TEMP", str(tmp_path))
    first = int(4 * 45 * frames_table["frames"].array.lengths[:2].sum())
    monkeypatch.setenv("SKLEARN_SER_IN_MEMORY_LIMIT", str(first))  # after 3
    out = OpenSmileFrames("emobase45", progress=False).fit_transform(
        corpus.utterances.iloc[:6]
    )
    assert out["frames"].array.on_disk
    _same(out["frames"].array, list(frames_table["frames"].iloc[:6]))
    monkeypatch.setenv("SKLEARN_SER_IN_MEMORY_LIMIT", str(2**40))
    out = OpenSmileFrames("emobase45", progress=False).fit_transform(
        corpus.utterances.iloc[:3]
    )
    assert not out["frames"].array.on_disk
    _same(out["frames"].array, list(frames_table["frames"].iloc[:3]))


def test_a_failed_extraction_leaves_no_store(corpus, tmp_path, monkeypatch):
    from sklearn_ser.features import AudioError

    monkeypatch.setenv("SKLEARN_SER_TEMP", str(tmp_path))
    table = corpus.utterances.iloc[:4].copy()
    table.at[table.index[2], "audio"] = np.zeros(5, np.float32)  # too short
    with pytest.raises(AudioError):
        OpenSmileFrames("emobase45", progress=False, out_of_core=True).fit_transform(
            table
        )
    root = tmp_path / "sklearn_ser_frames"
    assert not root.exists() or list(root.iterdir()) == []


def _total(fa):
    return float(sum(f.sum() for f in fa if f is not None))


def test_workers_read_a_store_by_its_path(tmp_path):
    fa = FramesArray.from_chunks(
        [[np.full((3, 2), i, np.float32) for i in range(8)]], tmp_path / "f"
    )
    assert len(pickle.dumps(fa)) < 2000  # the path and the index, not the frames
    parts = [fa[i::2] for i in range(2)]
    got = joblib.Parallel(n_jobs=2)(joblib.delayed(_total)(p) for p in parts)
    assert sum(got) == _total(fa)


def test_speed_perturbation_refuses_frames_it_would_not_perturb(corpus, frames_table):
    from sklearn_ser.features import SpeedPerturbation

    with pytest.raises(ValueError, match="before the feature extractor"):
        SpeedPerturbation().fit_resample(frames_table, corpus.annotations)
