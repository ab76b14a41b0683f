"""Out-of-fold predictions with annotations as y (issue 44, in part)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.experiments import out_of_fold, score_predictions
from sklearn_ser.models import EveryRatingClassifier

CLASSES = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture(scope="module")
def corpus():
    data = make_emotional_speech(80, n_speakers=6, random_state=4)
    rng = np.random.default_rng(0)
    intended = data.utterances["intended"].to_numpy()
    X = pd.DataFrame(rng.normal(size=(80, 6)) + np.array(
        [[CLASSES.index(c)] for c in intended]), index=data.utterances.index)
    return X, data.annotations, data.utterances["speaker"].to_numpy()


def test_each_utterance_is_predicted_by_the_model_that_did_not_train_on_it(corpus):
    X, y, speakers = corpus
    est = EveryRatingClassifier(LogisticRegression(max_iter=500), classes=CLASSES)
    proba = out_of_fold(est, X, y, groups=speakers)
    assert list(proba.columns) == CLASSES and proba.index.equals(X.index)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    for train, test in LeaveOneGroupOut().split(X, groups=speakers):  # by hand
        model = clone(est).fit(X.iloc[train], y.iloc[train])
        np.testing.assert_allclose(proba.iloc[test], model.predict_proba(X.iloc[test]))
    pred = out_of_fold(est, X, y, groups=speakers, method="predict")
    np.testing.assert_array_equal(pred.to_numpy(),
                                  np.asarray(CLASSES, dtype=object)[
                                      proba.to_numpy().argmax(axis=1)])
    majority = HardLabels(CLASSES).fit_transform(y)
    pooled = score_predictions(pred, majority, CLASSES)["uar"]
    assert 0.25 < pooled <= 1


def test_the_folds_must_test_every_utterance_once(corpus):
    X, y, speakers = corpus
    est = EveryRatingClassifier(classes=CLASSES)
    halves = [(np.arange(40), np.arange(40, 60))]  # 60 never tested
    with pytest.raises(ValueError, match="60 are never tested"):
        out_of_fold(est, X, y, cv=halves)
    with pytest.raises(ValueError, match="method='fit'"):
        out_of_fold(est, X, y, method="fit")
    same = out_of_fold(est, X, y, groups=speakers, cv=GroupKFold(3), n_jobs=2)
    assert same.notna().all().all()


def test_a_fold_whose_model_learned_other_classes_is_named(corpus):
    X, y, speakers = corpus
    with pytest.raises(ValueError, match="give classes= to the estimator"):
        out_of_fold(EveryRatingClassifier(classes=CLASSES), X, y,
                    groups=speakers, classes=["anger", "sadness"])
