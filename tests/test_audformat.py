"""audformat databases (issue 44, in part): built with audformat's own API,
read as ratings (one rater per column), truth, speakers and audio paths."""

from __future__ import annotations

import pandas as pd
import pytest

audformat = pytest.importorskip("audformat")

from sklearn_ser.annotations import HardLabels  # noqa: E402
from sklearn_ser.datasets import (  # noqa: E402
    load_audformat,
    load_corpus,
    make_emotional_speech,
    save_corpus,
)
from sklearn_ser.features import LogSpectrogram  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.RareClassWarning")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    data = make_emotional_speech(16, n_speakers=4, n_sessions=2, random_state=7)
    return save_corpus(data, tmp_path_factory.mktemp("db") / "c")


def _database(corpus, root, *, gold=True, segmented=False):
    """The saved corpus as an audformat database: one table, a column per
    rater of the emotion scheme, a gold column, a files table of speakers."""
    long = pd.read_csv(corpus.ratings, dtype=str)
    first = long.drop_duplicates(["utterance", "rater"])  # audformat: one label
    meta = pd.read_csv(corpus.metadata, dtype=str).set_index("utterance")
    files = [f"wav/{u}.wav" for u in meta.index]
    db = audformat.Database("toy", source="sklearn-ser tests",
                            usage=audformat.define.Usage.UNRESTRICTED)
    labels = sorted(set(long["label"]) | set(meta["intended"]))
    db.schemes["emotion"] = audformat.Scheme(labels=labels)
    db.schemes["speaker"] = audformat.Scheme("str")
    index = (audformat.segmented_index(files, [0.0] * len(files), [0.5] * len(files))
             if segmented else audformat.filewise_index(files))
    db["emotion"] = audformat.Table(index)
    for rater, part in first.groupby("rater"):
        db.raters[rater] = audformat.Rater()
        col = f"emotion.{rater}"
        db["emotion"][col] = audformat.Column(scheme_id="emotion", rater_id=rater)
        values = part.set_index("utterance")["label"].reindex(meta.index)
        db["emotion"][col].set(values.to_numpy())
    if gold:
        db.raters["gold"] = audformat.Rater(type=audformat.define.RaterType.TRUTH)
        db["emotion"]["emotion.gold"] = audformat.Column(scheme_id="emotion",
                                                         rater_id="gold")
        db["emotion"]["emotion.gold"].set(meta["intended"].to_numpy())
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db["files"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["files"]["speaker"].set(meta["speaker"].to_numpy())
    root.mkdir(parents=True)
    (root / "wav").symlink_to(corpus.audio_dir, target_is_directory=True)
    db.save(str(root))
    return first


def test_a_database_reads_as_ratings_truth_speakers_and_audio(corpus, tmp_path):
    first = _database(corpus, tmp_path / "db")
    data = load_audformat(tmp_path / "db")
    assert data.utterances.index.tolist() == [
        f"wav/{u}" for u in pd.read_csv(corpus.metadata)["utterance"]]
    assert {"path", "speaker", "intended"} <= set(data.utterances.columns)
    assert all(p.endswith(".wav") for p in data.utterances["path"])
    # every rater column is one rater, with the labels the corpus gave
    raters = sorted(data.annotations.ratings.raters)
    assert raters == sorted(first["rater"].unique())
    long = data.annotations.ratings.to_long()
    assert len(long) == first["label"].notna().sum()
    # the majority of the first choices, as the corpus' own ratings read
    ref = load_corpus(corpus.audio_dir.parent)
    assert data.classes == ref.classes  # the truth's labels some rater chose
    hard = HardLabels(data.classes).fit(data.annotations)
    assert hard.transform(data.annotations).notna().sum() > 0
    frames = LogSpectrogram(progress=False).fit_transform(data.utterances)
    assert len(frames) == len(data.utterances)


def test_what_a_database_does_not_hold_is_said(corpus, tmp_path):
    _database(corpus, tmp_path / "seg", segmented=True)
    with pytest.raises(ValueError, match="table 'emotion' is segmented"):
        load_audformat(tmp_path / "seg")
    _database(corpus, tmp_path / "db", gold=False)
    with pytest.raises(ValueError, match="no scheme 'mood'"):
        load_audformat(tmp_path / "db", scheme="mood")
    data = load_audformat(tmp_path / "db")  # no gold: classes by the majorities
    assert "intended" not in data.utterances.columns and data.classes
    with pytest.raises(FileNotFoundError, match="no db.yaml"):
        load_audformat(tmp_path)
    db = audformat.Database.load(str(tmp_path / "db"))
    for rater in list(db.raters):
        db.raters[rater].type = audformat.define.RaterType.TRUTH
    with pytest.raises(ValueError, match="no individual ratings"):
        load_audformat(db)
