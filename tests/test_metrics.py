import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from sklearn_ser.exceptions import DroppedRowsWarning, SERWarning
from sklearn_ser.metrics import (
    confusion_table,
    per_class_report,
    ser_scoring,
    unweighted_average_recall,
    weighted_accuracy,
)


def test_uar_and_wa_by_hand():
    y_true = ["anger"] * 6 + ["sadness"] * 2 + ["neutral"] * 2
    y_pred = ["anger"] * 6 + ["anger", "sadness"] + ["neutral", "sadness"]
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(8 / 10)
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(
        (1 + 0.5 + 0.5) / 3)
    # a class absent from y_true does not count unless asked
    assert unweighted_average_recall(y_true, y_pred,
                                     labels=["anger", "sadness"]) == 0.75
    report = per_class_report(y_true, y_pred)
    assert report.loc["anger", "precision"] == pytest.approx(6 / 7)
    assert report.loc["UAR", "recall"] == pytest.approx(2 / 3)
    cm = confusion_table(y_true, y_pred, normalize="true")
    assert cm.loc["sadness", "anger"] == 0.5


def test_metrics_normalise_spellings_and_reject_missing():
    assert unweighted_average_recall(["Neutral", "ang"], ["neu", "anger"]) == 1.0
    with pytest.raises(ValueError, match="missing label"):
        unweighted_average_recall(["neutral", None], ["neutral", "neutral"])
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 1"):
        weighted_accuracy(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="ser_scoring"):
        weighted_accuracy(pd.DataFrame({"E1": ["a"]}), ["a"])


class _Lookup(ClassifierMixin, BaseEstimator):
    """Predicts the label stored in column ``pred`` of X."""

    def fit(self, X, y=None):
        self.classes_ = np.array(["anger", "neutral", "sadness"], dtype=object)
        return self

    def predict(self, X):
        return X["pred"].to_numpy()


@pytest.fixture
def corpus():
    idx = pd.Index([f"u{i}" for i in range(8)], name="utterance")
    X = pd.DataFrame({
        "pred": ["anger", "anger", "sadness", "neutral", "sadness", "anger",
                 "neutral", "neutral"],
        "session": [1, 1, 1, 1, 2, 2, 2, 2],
    }, index=idx)
    y = pd.DataFrame({
        "E1": [("ang",), ("neu",), ("sad",), ("neu",), ("sad",), ("ang",), ("sad",),
               ("fru",)],
        "E2": [("ang",), ("sad",), ("sad",), ("neu",), ("sad",), ("ang",), ("sad",),
               ("fru",)],
    }, index=idx, dtype=object)
    return X, y


def test_scorer_drops_no_consensus_rows_with_count(corpus):
    X, y = corpus
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"])
    est = _Lookup().fit(X)
    with pytest.warns(DroppedRowsWarning, match=r"left out 2 of 8.*no_target: 1, "
                                                r"tie: 1"):
        uar = scoring["uar"](est, X, y)
    # kept: u0 ang->ang, u2 sad->sad, u3 neu->neu, u4 sad->sad, u5 ang->ang,
    # u6 sad->neutral
    assert uar == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert scoring["wa"](est, X, y) == pytest.approx(5 / 6)
    assert scoring["recall_sadness"](est, X, y) == pytest.approx(2 / 3)


def test_scorer_accepts_plain_labels(corpus):
    X, _ = corpus
    est = _Lookup().fit(X)
    labels = ["anger", "anger", "sadness", "neutral", "sadness", "anger", "neutral",
              "neutral"]
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"], warn=False)
    assert scoring["uar"](est, X, labels) == 1.0


def test_scorer_predicts_once_per_fold(corpus):
    X, y = corpus
    calls = []

    class Counting(_Lookup):
        def predict(self, X):
            calls.append(len(X))
            return super().predict(X)

    est = Counting().fit(X)
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"], warn=False,
                          probabilities=False)
    for scorer in scoring.values():
        scorer(est, X, y)
    # every test utterance is predicted (8), the 2 without a target are only
    # left out of the score
    assert calls == [8]
    # the probability scorers of a label-only model are NaN, with one note
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"])
    import warnings

    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        values = {k: s(est, X, y) for k, s in scoring.items()}
    said = [str(n.message) for n in notes if issubclass(n.category, SERWarning)]
    assert sum("no predict_proba" in m and "NaN" in m for m in said) == 1
    assert np.isnan(values["neg_soft_log_loss"]) and values["uar"] >= 0


def test_scorer_predicts_every_row_so_test_statistics_do_not_depend_on_labels(
        corpus):
    """A model that uses statistics of the data it predicts (per-speaker
    z-scores of unseen speakers do) must see all the test utterances: scores
    may not depend on which rows the raters agreed on."""
    X, y = corpus

    class CentresOnTestData(_Lookup):
        # predicts "anger" for rows above the mean of the rows it is given
        def predict(self, X):
            f = X["f"].to_numpy()
            return np.where(f > f.mean(), "anger", "sadness")

    X = X.assign(f=[0.0, 1, 2, 3, 4, 5, 6, 100])  # u7 (no target) is an outlier
    est = CentresOnTestData().fit(X)
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"], warn=False)
    # with all 8 rows the mean is 15.1: every row but u7 is "sadness"
    expected = np.where(X["f"] > X["f"].mean(), "anger", "sadness")
    keep = [0, 2, 3, 4, 5, 6]  # u1 tie, u7 no target
    truth = np.array(["anger", "sadness", "neutral", "sadness", "anger", "sadness"])
    from sklearn_ser.metrics import unweighted_average_recall

    assert scoring["uar"](est, X, y) == pytest.approx(unweighted_average_recall(
        truth, expected[keep], labels=["anger", "neutral", "sadness"]))


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_ser_scoring_in_cross_validate_and_grid_search(corpus):
    X, y = corpus
    X = X.assign(f=np.arange(len(X), dtype=float))
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"], warn=False)
    cv = cross_validate(_Lookup(), X, y, groups=X["session"], cv=LeaveOneGroupOut(),
                        scoring=scoring)
    assert set(cv) >= {"test_uar", "test_wa", "test_recall_anger"}
    assert np.all(np.isfinite(cv["test_uar"]))

    class Param(_Lookup):
        def __init__(self, constant=None):
            self.constant = constant

        def predict(self, X):
            return np.full(len(X), self.constant, dtype=object)

    search = GridSearchCV(Param(), {"constant": ["anger", "sadness"]},
                          scoring=scoring, refit="uar", cv=LeaveOneGroupOut())
    search.fit(X, y, groups=X["session"])
    assert search.best_params_["constant"] in {"anger", "sadness"}


def test_ser_scoring_works_with_metadata_routing(corpus):
    import sklearn

    X, y = corpus
    scoring = ser_scoring(classes=["anger", "neutral", "sadness"], warn=False)
    with sklearn.config_context(enable_metadata_routing=True):
        cv = cross_validate(_Lookup(), X, y, cv=LeaveOneGroupOut(),
                            params={"groups": X["session"]}, scoring=scoring)
    assert len(cv["test_uar"]) == 2


def test_scorer_with_dummy_on_vote_table():
    votes = pd.DataFrame({"anger": [3, 0, 1], "sadness": [0, 2, 1]})
    X = np.zeros((3, 1))
    clf = DummyClassifier(strategy="constant", constant="anger").fit(
        X, ["anger", "sadness", "anger"])
    scoring = ser_scoring(classes=["anger", "sadness"], warn=False)
    assert scoring["uar"](clf, X, votes) == 0.5
