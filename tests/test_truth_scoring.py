"""ser_scoring(truth=...): the label scorers against a column of X."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from sklearn_ser.annotations import from_long
from sklearn_ser.annotations._vocabulary import MISSING_STRINGS
from sklearn_ser.exceptions import DroppedRowsWarning
from sklearn_ser.metrics import ser_scoring, unweighted_average_recall

CLASSES = ["anger", "happiness", "neutral", "sadness"]


def missing_strings():
    """Every string that names nothing, in any case and padding."""
    return st.tuples(st.sampled_from(sorted(MISSING_STRINGS)),
                     st.sampled_from([str.lower, str.upper, str.title]),
                     st.sampled_from(["", " ", "\t"])).map(
        lambda t: t[2] + t[1](t[0]) + t[2])


class ColumnEcho(ClassifierMixin, BaseEstimator):
    """Predicts the ``guess`` column of X (fit learns nothing)."""

    def __init__(self, shift=0):
        self.shift = shift

    def fit(self, X, y=None):
        self.classes_ = np.array(CLASSES, dtype=object)
        return self

    def predict(self, X):
        guess = X["guess"].to_numpy(dtype=object)
        return np.roll(guess, self.shift)


def _table(n=24, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"u{i:02d}" for i in range(n)]
    intended = rng.choice(CLASSES, n).astype(object)
    guess = np.where(rng.random(n) < 0.7, intended, rng.choice(CLASSES, n))
    X = pd.DataFrame({"intended": intended, "guess": guess.astype(object),
                      "session": np.arange(n) % 3}, index=ids)
    # ratings that disagree with the intended emotion half the time
    votes = np.where(rng.random((n, 3)) < 0.5, intended[:, None],
                     rng.choice(CLASSES, (n, 3)))
    y = from_long(pd.DataFrame({"utterance": np.repeat(ids, 3),
                                "rater": np.tile(["a", "b", "c"], n),
                                "label": votes.ravel()}))
    return X, y


def test_truth_scores_against_the_column_not_the_ratings():
    X, y = _table()
    scoring = ser_scoring(CLASSES, truth="intended", warn=False)
    est = ColumnEcho().fit(X)
    want = unweighted_average_recall(X["intended"], X["guess"], labels=CLASSES)
    assert scoring["uar"](est, X, y) == pytest.approx(want)
    assert scoring["recall_anger"](est, X, y) == pytest.approx(np.mean(
        X["guess"][X["intended"] == "anger"] == "anger"))
    majority = ser_scoring(CLASSES, warn=False)["uar"](est, X, y)
    assert majority != pytest.approx(want)


def test_truth_in_cross_validate_and_a_search():
    X, y = _table(30)
    scoring = ser_scoring(CLASSES, truth="intended", warn=False,
                          probabilities=False)  # ColumnEcho has no predict_proba
    res = cross_validate(ColumnEcho(), X, y, groups=X["session"],
                         cv=LeaveOneGroupOut(), scoring=scoring)
    for k, (_, test) in enumerate(LeaveOneGroupOut().split(X, groups=X["session"])):
        part = X.iloc[test]
        assert res["test_uar"][k] == pytest.approx(unweighted_average_recall(
            part["intended"], part["guess"], labels=CLASSES))
    gs = GridSearchCV(ColumnEcho(), {"shift": [0, 1]}, scoring=scoring, refit="uar",
                      cv=LeaveOneGroupOut(), error_score="raise").fit(
                          X, y, groups=X["session"])
    assert gs.best_params_ == {"shift": 0}


@given(data=st.data())
def test_every_spelling_and_missing_marker_scores_like_the_clean_column(data):
    X, y = _table(20, seed=data.draw(st.integers(0, 50)))
    est = ColumnEcho().fit(X)
    clean = ser_scoring(CLASSES, truth="intended", warn=False)["uar"](est, X, y)
    spell = {"anger": ["Anger", " anger ", "ang", "ANGRY"],
             "happiness": ["Happiness", "hap", "happy"],
             "neutral": ["Neutral", "neu", "Neutral state"],
             "sadness": ["sad", "Sadness", "SAD"]}
    messy = X.copy()
    messy["intended"] = [data.draw(st.sampled_from([v] + spell[v]))
                         for v in X["intended"]]
    n_missing = data.draw(st.integers(0, 3))
    # a blank names nothing (as in the ratings and the metrics' y_true); a
    # label that is not a class is left out too, for its own reason
    marker = data.draw(st.one_of(
        st.sampled_from([None, np.nan, pd.NA, "  ", "unknown"]),
        missing_strings()))
    if data.draw(st.booleans()):
        messy["intended"] = messy["intended"].astype("category")
    scorer = ser_scoring(CLASSES, truth="intended")["uar"]
    if n_missing == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DroppedRowsWarning)
            assert scorer(est, messy, y) == pytest.approx(clean)
        return
    messy["intended"] = messy["intended"].astype(object)
    for i in range(n_missing):
        messy.iat[i, 0] = marker
    match = (f"and {n_missing} utterance\\(s\\) whose 'intended' is not among"
             if isinstance(marker, str) and marker == "unknown"
             else f"left out {n_missing} utterance")
    with pytest.warns(DroppedRowsWarning, match=match):
        got = scorer(est, messy, y)
    keep = X.iloc[n_missing:]
    assert got == pytest.approx(unweighted_average_recall(
        keep["intended"], keep["guess"], labels=CLASSES))


def test_truth_errors_name_the_column_and_the_values():
    X, y = _table()
    est = ColumnEcho().fit(X)
    with pytest.raises(ValueError, match="'emotion' column of the utterance table"):
        ser_scoring(CLASSES, truth="emotion")["uar"](est, X, y)
    with pytest.raises(ValueError, match="got a list"):
        ser_scoring(CLASSES, truth="emotion")["uar"](est, list(X["guess"]), y)
    coded = X.assign(intended=np.arange(len(X)) % 4)
    with pytest.raises(ValueError, match="values are \\['0', '1', '2', '3'\\]"):
        ser_scoring(CLASSES, truth="intended", warn=False)["uar"](est, coded, y)


def test_truth_without_classes_uses_the_folds_labels():
    X, y = _table()
    est = ColumnEcho().fit(X)
    got = ser_scoring(truth="intended", per_class=False, warn=False)["uar"](est, X, y)
    assert got == pytest.approx(unweighted_average_recall(X["intended"], X["guess"]))
