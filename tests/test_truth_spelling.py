"""One reading of a truth column (the intended emotions): the command line,
``load_corpus(truth_column=)`` and ``ser_scoring(truth=)`` read it as the
ratings read labels (``annotations.truth_labels``), and refuse a label that
differs from a rated one only in case, spaces, Unicode form or invisible
characters: compared as written, every such utterance would silently score as
wrong or be left out."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_ser._text import shown, unicode_key
from sklearn_ser.annotations import from_long, truth_labels
from sklearn_ser.annotations._vocabulary import MISSING_STRINGS
from sklearn_ser.exceptions import AnnotationError
from sklearn_ser.metrics import ser_scoring, unweighted_average_recall

# a user's own labels: no alias list knows them (one not ASCII)
OWN = ["calm", "colère", "tense"]
ALIASES = {"anger": ["Angry", "ANG", "anger"], "sadness": ["Sad", "SADNESS", "trauer"],
           "neutral": ["Neutral state", "NEU", "neutral"]}

CASES = [str.lower, str.upper, str.title, str.capitalize, str.swapcase]
PADS = ["", " ", "  ", "\t"]


INVISIBLE = ["\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u200e"]


def _fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _unicode_forms(text):
    """``text`` as written, in NFC, NFD, fullwidth, or with an invisible
    character inside: all print alike (or as its fullwidth twin)."""
    return st.one_of(
        st.sampled_from([text, unicodedata.normalize("NFC", text),
                         unicodedata.normalize("NFD", text), _fullwidth(text)]),
        st.tuples(st.integers(0, len(text)), st.sampled_from(INVISIBLE)).map(
            lambda t: text[:t[0]] + t[1] + text[t[0]:]))


def spelled(label):
    """``label`` in any case, padding and Unicode form (possibly exactly as
    written)."""
    return st.tuples(st.sampled_from(CASES), st.sampled_from(PADS),
                     st.sampled_from(PADS)).flatmap(
        lambda t: _unicode_forms(t[0](label)).map(lambda w: t[1] + w + t[2]))


def variant(label):
    """``label`` written another way: another case or padding."""
    return spelled(label).filter(lambda s: s != label)


class ColumnEcho(ClassifierMixin, BaseEstimator):
    """Predicts the ``guess`` column of X; its classes are ``labels``."""

    def __init__(self, labels=None):
        self.labels = labels

    def fit(self, X, y=None):
        self.classes_ = np.array(self.labels, dtype=object)
        return self

    def predict(self, X):
        return X["guess"].to_numpy(dtype=object)


def _table(labels, n=18, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"u{i:02d}" for i in range(n)]
    intended = np.array([labels[i % len(labels)] for i in range(n)], dtype=object)
    guess = np.where(rng.random(n) < 0.7, intended, rng.choice(labels, n))
    X = pd.DataFrame({"intended": intended, "guess": guess.astype(object)}, index=ids)
    y = from_long(pd.DataFrame({"utterance": np.repeat(ids, 2),
                                "rater": np.tile(["ann", "bo"], n),
                                "label": np.repeat(intended, 2)}))
    return X, y


@given(data=st.data())
def test_a_label_written_another_way_is_refused_everywhere(data):
    X, y = _table(OWN)
    label = data.draw(st.sampled_from(OWN))
    other = data.draw(variant(label))
    rows = data.draw(st.lists(st.sampled_from(
        [i for i in range(len(X)) if X["intended"].iloc[i] == label]),
        min_size=1, unique=True))
    messy = X.copy()
    messy.iloc[rows, 0] = other
    with pytest.raises(AnnotationError,
                       match=re.escape(f"writes {shown(other)} ({len(rows)} ")):
        truth_labels(messy["intended"], labels=OWN)
    est = ColumnEcho(OWN).fit(X)
    for classes in (OWN, None):  # None: the estimator's classes_ say
        scorer = ser_scoring(classes, truth="intended", warn=False)["uar"]
        with pytest.raises(AnnotationError, match="differs only in case, spaces"):
            scorer(est, messy, y)
        # written as the ratings write it: scored, as the metric scores it
        assert scorer(est, X, y) == pytest.approx(
            unweighted_average_recall(X["intended"], X["guess"], labels=OWN))


@given(data=st.data())
def test_aliases_and_markers_read_as_the_ratings_read_them(data):
    clean = ["anger", "sadness", "neutral", "anger", "sadness", "neutral"]
    written = [data.draw(st.sampled_from(ALIASES[c]).flatmap(spelled)) for c in clean]
    gaps = data.draw(st.lists(st.integers(0, len(clean) - 1), unique=True,
                              max_size=2))
    marker = st.sampled_from(sorted(MISSING_STRINGS)).flatmap(
        lambda m: spelled(m) if m else st.sampled_from(["", "  "]))
    for i in gaps:
        written[i] = data.draw(marker | st.sampled_from([None, np.nan]))
    got = truth_labels(written, labels=["anger", "neutral", "sadness"]).tolist()
    assert got == [None if i in gaps else c for i, c in enumerate(clean)]


def test_numbers_stay_numbers_and_whole_floats_read_as_integers_in_the_benchmark():
    from sklearn_ser.experiments._scores import truth_labels as benchmark_truth

    assert truth_labels([1, 2, None]).tolist() == [1, 2, None]
    # an integer column with a gap is float in pandas: 1.0 is the class "1"
    assert benchmark_truth(pd.Series([1, 2, None])).tolist() == ["1", "2", None]
    assert benchmark_truth(["a", 2.5, "NA"]).tolist() == ["a", "2.5", None]


def _own_corpus(tmp_path, truth_of):
    """A saved generated corpus whose ratings use :data:`OWN`; ``truth_of``
    writes the metadata's intended column from the rated label."""
    from sklearn_ser.datasets import make_emotional_speech, save_corpus

    data = make_emotional_speech(12, n_speakers=3, n_sessions=3,
                                 classes=("anger", "neutral", "sadness"),
                                 random_state=0)
    paths = save_corpus(data, tmp_path / "c")
    rename = dict(zip(["anger", "neutral", "sadness"], OWN, strict=True))
    long = pd.read_csv(paths.ratings)
    long["label"] = long["label"].map(lambda v: rename.get(v, v))
    long.to_csv(tmp_path / "r.csv", index=False)
    meta = pd.read_csv(paths.metadata)
    meta["intended"] = [truth_of(rename[v]) for v in meta["intended"]]
    meta.to_csv(tmp_path / "m.csv", index=False)
    return paths.audio_dir, tmp_path / "r.csv", tmp_path / "m.csv"


def test_load_corpus_and_the_command_line_refuse_a_truth_column_spelled_otherwise(
        tmp_path, capsys):
    from sklearn_ser.datasets import load_corpus
    from sklearn_ser.experiments._cli import main

    audio, ratings, meta = _own_corpus(tmp_path, str.title)  # "Calm" for "calm"
    said = "writes 'Calm' .* from the rated label 'calm'"
    with pytest.raises(AnnotationError, match=said):
        load_corpus(audio, ratings, meta, truth_column="intended")
    with pytest.raises(SystemExit, match=said):
        main(["benchmark", "--audio-dir", str(audio), "--ratings", str(ratings),
              "--metadata", str(meta), "--truth-column", "intended", "--methods",
              "logreg_egemaps", "--no-progress", "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()  # refused before any work
    audio, ratings, meta = _own_corpus(tmp_path / "cls", lambda v: v)
    with pytest.raises(SystemExit, match="--classes: The class list writes 'Colère'"):
        main(["benchmark", "--audio-dir", str(audio), "--ratings", str(ratings),
              "--metadata", str(meta), "--classes", "calm,Colère,tense", "--methods",
              "logreg_egemaps", "--no-progress", "--out", str(tmp_path / "o")])
    # written as the ratings write it: the classes are the truth's labels
    audio, ratings, meta = _own_corpus(tmp_path / "ok", lambda v: f" {v} ")
    with pytest.raises(AnnotationError, match="writes ' calm '"):
        load_corpus(audio, ratings, meta, truth_column="intended")
    audio, ratings, meta = _own_corpus(tmp_path / "same", lambda v: v)
    assert load_corpus(audio, ratings, meta, truth_column="intended").classes == OWN


@given(data=st.data())
def test_a_class_list_written_another_way_is_refused_by_every_fit(data):
    from sklearn_ser.annotations import ExistenceLabels, HardLabels, SoftLabels
    from sklearn_ser.models import EveryRatingClassifier

    X, y = _table(OWN)
    label = data.draw(st.sampled_from(OWN))
    classes = [data.draw(variant(c)) if c == label else c for c in OWN]
    for encoder in (HardLabels, SoftLabels, ExistenceLabels):
        with pytest.raises(AnnotationError, match=re.escape(
                f"writes {shown(classes[OWN.index(label)])}, which differs only")):
            encoder(classes=classes).fit(y)
        # as the ratings write them: every class is a target
        assert list(encoder(classes=OWN).fit(y).classes_) == OWN
    features = pd.DataFrame({"f": np.arange(len(X), dtype=float)}, index=X.index)
    with pytest.raises(AnnotationError, match="differs only in case, spaces"):
        EveryRatingClassifier(classes=classes).fit(features, y)


@given(data=st.data())
def test_a_label_map_key_written_another_way_is_refused(data):
    from sklearn_ser.annotations import HardLabels, check_annotations

    _, y = _table(OWN)
    label = data.draw(st.sampled_from(OWN))
    key = data.draw(variant(label))
    with pytest.raises(AnnotationError, match=re.escape(
            f"label_map writes {shown(key)}, which differs only")):
        check_annotations(y, label_map={key: "other"})
    with pytest.raises(AnnotationError, match="Write the key as the ratings do"):
        HardLabels(label_map={key: "other"}).fit(y)
    # written as the ratings write it, the map applies; a key no rating uses
    # (a preset's) is no error
    mapped = HardLabels(label_map={label: "other", "relaxed": "calm"}).fit(y)
    assert label not in mapped.classes_


@given(data=st.data())
def test_a_metric_refuses_labels_and_predictions_written_another_way(data):
    from sklearn_ser.metrics import per_class_report, weighted_accuracy

    X, _ = _table(OWN)
    y_true, y_pred = X["intended"].tolist(), X["guess"].tolist()
    label = data.draw(st.sampled_from(OWN))
    other = data.draw(variant(label))
    labels = [other if c == label else c for c in OWN]
    pred = [other if p == label else p for p in y_pred]
    for metric in (unweighted_average_recall, weighted_accuracy, per_class_report):
        with pytest.raises(AnnotationError, match=re.escape(
                f"labels argument writes {shown(other)}")):
            metric(y_true, y_pred, labels=labels)
        if label in y_pred:
            with pytest.raises(AnnotationError, match=re.escape(
                    f"y_pred writes {shown(other)}")):
                metric(y_true, pred)
        metric(y_true, y_pred, labels=OWN)  # as y_true writes them: scored


@given(data=st.data())
def test_ids_that_differ_only_in_case_or_spaces_are_refused(data):
    from sklearn_ser.annotations import check_id_spellings

    ids = ["S1", "S2", "spk03", "alice"]
    base = data.draw(st.sampled_from(ids))
    other = data.draw(variant(base))
    with pytest.raises(AnnotationError, match=re.escape(shown(other))):
        check_id_spellings([*ids, other, *ids], "session")
    check_id_spellings([*ids, *ids], "session")  # repeats of one id are one id
    if unicode_key(other).strip() == base:  # not only case: refused there too
        with pytest.raises(AnnotationError, match=re.escape(shown(other))):
            check_id_spellings([*ids, other], "utterance", case=False)
    else:  # only case differs: allowed where case counts
        check_id_spellings([*ids, other], "utterance", case=False)


def test_the_command_line_refuses_session_or_speaker_ids_spelled_two_ways(tmp_path):
    from sklearn_ser.experiments._cli import main

    audio, ratings, meta = _own_corpus(tmp_path, lambda v: v)
    table = pd.read_csv(meta)
    for column in ("session", "speaker"):
        bad = table.copy()
        bad[column] = bad[column].astype(str)
        bad.loc[0, column] = f" {str(bad.loc[0, column]).upper()}X"[:-1] + " "
        bad.to_csv(tmp_path / f"{column}.csv", index=False)
        with pytest.raises(SystemExit, match=f"The '{column}' value ids .* differ "
                           "only in case, surrounding spaces, .*.*in the "
                           f"metadata's '{column}' column"):
            main(["benchmark", "--audio-dir", str(audio), "--ratings",
                  str(ratings), "--metadata", str(tmp_path / f"{column}.csv"),
                  "--group-column", "session", "--methods", "logreg_egemaps",
                  "--no-progress", "--out", str(tmp_path / column)])


def test_speaker_normalisation_refuses_speaker_ids_spelled_two_ways():
    from sklearn_ser.features import SpeakerStandardizer

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"speaker": ["S1", "S1", "s1 ", "S2", "S2"],
                      "frames": [rng.normal(size=(5, 3)) for _ in range(5)]})
    with pytest.raises(AnnotationError, match="'S1' and 's1 ' differ only in case"):
        SpeakerStandardizer("speaker").fit(X)
    X.loc[2, "speaker"] = "S1"
    SpeakerStandardizer("speaker").fit(X)  # written one way: two speakers


def test_networks_refuse_early_stopping_groups_spelled_two_ways():
    from sklearn_ser.models import BLSTMAttentionClassifier

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(6, 3)) for _ in range(8)]
    y = ["calm", "low"] * 4
    groups = ["S1", "S1", "s1", "S2", "S2", "S3", "S3", "S3"]
    with pytest.raises(AnnotationError, match="'S1' and 's1' differ only in case"):
        BLSTMAttentionClassifier(max_epochs=1, random_state=0).fit(X, y,
                                                                   groups=groups)


def test_every_rating_refuses_inner_fold_groups_spelled_two_ways():
    from sklearn_ser.models import EveryRatingClassifier

    X, y = _table(OWN)
    features = pd.DataFrame({"f": np.arange(len(X), dtype=float)}, index=X.index)
    groups = ["S1 " if i == 0 else f"S{i % 3 + 1}" for i in range(len(X))]
    with pytest.raises(AnnotationError, match="differ only in case, surrounding"):
        EveryRatingClassifier().fit(features, y, groups=groups)
