"""Every list of classes a user writes is checked against the rated labels.

A class no rating holds beside a rated label that resembles it is a typo and
is refused with "did you mean"; classes none of which is rated are refused; a
class given but never a target is warned about by name, and every output
keeps one column per ``classes_`` entry; a test split without a class says
so; a corpus' classes that win few majorities are warned about where they are
decided; ids that differ from the audio names by an extension get that advice.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.annotations import ExistenceLabels, HardLabels, SoftLabels
from sklearn_ser.exceptions import AbsentClassWarning, AnnotationError
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import EveryRatingClassifier

RATED = ["calm", "happiness", "sadness", "tense"]


def _typo(word, draw):
    """``word`` with one letter dropped, doubled or swapped with the next."""
    i = draw(st.integers(0, len(word) - 2))
    how = draw(st.sampled_from(["drop", "double", "swap"]))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(n)]
    lab = np.asarray(RATED, dtype=object)[np.arange(n) % len(RATED)]
    other = np.where(rng.random(n) < 0.8, lab, rng.choice(RATED, n))
    y = pd.DataFrame({"r1": lab, "r2": lab, "r3": other}, index=ids)
    X = pd.DataFrame(rng.normal(size=(n, 3)) + np.arange(n)[:, None] % 4, index=ids)
    return X, y


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_mistyped_class_is_refused_naming_the_rated_label(data):
    X, y = _table()
    word = data.draw(st.sampled_from(RATED))
    typo = _typo(word, data.draw)
    if typo == word or typo in RATED:
        return
    classes = [typo if c == word else c for c in RATED]
    said = f"did you mean '{word}'"
    for encoder in (HardLabels, SoftLabels, ExistenceLabels):
        with pytest.raises(AnnotationError, match=said):
            encoder(classes=classes).fit(y)
    with pytest.raises(AnnotationError, match=said):
        EveryRatingClassifier(classes=classes).fit(X, y)
    scorer = ser_scoring(classes, warn=False)["uar"]
    est = EveryRatingClassifier(classes=RATED).fit(X, y)
    with pytest.raises(AnnotationError, match=said):
        scorer(est, X, y)


def test_classes_none_of_which_is_rated_are_refused():
    _, y = _table()
    with pytest.raises(AnnotationError, match="is a label of any rating"):
        SoftLabels(classes=["anger", "fear"]).fit(y)


@pytest.mark.parametrize("absent", ["fear", "boredom"])
def test_a_class_never_rated_is_warned_and_keeps_its_columns(absent):
    X, y = _table(48)
    classes = [*RATED, absent]
    with pytest.warns(AbsentClassWarning, match=f"'{absent}'"):
        model = EveryRatingClassifier(classes=classes).fit(X, y)
    assert list(model.classes_) == sorted(classes)
    d = model.decision_function(X)
    p = model.predict_proba(X)
    assert d.shape == p.shape == (len(X), len(classes))
    np.testing.assert_array_equal(model.classes_[d.argmax(axis=1)], model.predict(X))
    k = list(model.classes_).index(absent)
    assert np.isneginf(d[:, k]).all() and (p[:, k] == 0).all()


def test_a_test_split_without_a_class_says_so():
    X, y = _table()
    model = EveryRatingClassifier(classes=RATED).fit(X, y)
    part = y.index[~y["r1"].eq("tense")]
    scoring = ser_scoring(RATED, per_class=True)
    with pytest.warns(AbsentClassWarning, match="no utterance whose target is "
                                                r"\['tense'\]"):
        got = scoring["recall_tense"](model, X.loc[part], y.loc[part])
    assert np.isnan(got)


def test_load_corpus_warns_of_classes_that_win_few_majorities(tmp_path):
    from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus

    save_corpus(make_emotional_speech(240, n_speakers=4, n_sessions=2,
                                      random_state=0), tmp_path / "c")
    long = pd.read_csv(tmp_path / "c" / "ratings.csv")
    first = long["utterance"].unique()[:12]  # 12 of 240 all say "disgust"
    long.loc[long["utterance"].isin(first), "label"] = "disgust"
    long = long.drop_duplicates(["utterance", "rater", "label"])
    long.to_csv(tmp_path / "c" / "ratings.csv", index=False)
    with pytest.warns(Warning, match="'disgust' .* win under half an even share"):
        load_corpus(tmp_path / "c" / "wav", tmp_path / "c" / "ratings.csv")


def test_ids_with_an_extension_get_the_advice_to_strip_it(tmp_path):
    from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus

    save_corpus(make_emotional_speech(12, n_speakers=2, n_sessions=2,
                                      random_state=0), tmp_path / "c")
    long = pd.read_csv(tmp_path / "c" / "ratings.csv")
    long["utterance"] = long["utterance"] + ".wav"
    long.to_csv(tmp_path / "r.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FileNotFoundError, match="end in a file extension"):
            load_corpus(tmp_path / "c" / "wav", tmp_path / "r.csv")
        with pytest.raises(ValueError, match="differ from a metadata id by a file "
                                             "extension"):
            load_corpus(tmp_path / "c" / "wav", tmp_path / "r.csv",
                        tmp_path / "c" / "metadata.csv")
