"""EveryRatingClassifier: any classifier trained from every rating."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.annotations import SoftLabels, from_long
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import EveryRatingClassifier

CLASSES = ["anger", "neutral", "sadness"]


class Spy(ClassifierMixin, BaseEstimator):
    """Records what it was fitted on; predicts the weighted majority."""

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_, self.w_ = np.asarray(X), np.asarray(y), sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0], dtype=object)

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def _tiny():
    long = pd.DataFrame({
        "utterance": ["u1", "u1", "u1", "u2", "u2", "u3", "u3"],
        "rater": ["r1", "r2", "r3", "r1", "r2", "r1", "r2"],
        "label": ["sad", "sad", "angry", "angry", "angry", "neutral", "sad"],
    })
    X = np.array([[1.0], [2.0], [3.0]])
    return X, from_long(long)


def test_vote_shares_become_hand_computed_balanced_weights():
    X, y = _tiny()
    clf = EveryRatingClassifier(Spy(), classes=CLASSES).fit(X, y)
    spy = clf.estimator_
    # class masses: anger 1/3 + 1 = 4/3, neutral 1/2, sadness 2/3 + 1/2 = 7/6;
    # balanced multipliers total / (K * mass) = 1 / mass
    expected = {(1.0, "anger"): 1 / 3 * 3 / 4, (1.0, "sadness"): 2 / 3 * 6 / 7,
                (2.0, "anger"): 1 * 3 / 4, (3.0, "neutral"): 1 / 2 * 2,
                (3.0, "sadness"): 1 / 2 * 6 / 7}
    got = {(float(x[0]), c): w for x, c, w in zip(spy.X_, spy.y_, spy.w_,
                                                   strict=True)}
    assert got.keys() == expected.keys()
    for key, w in expected.items():
        assert got[key] == pytest.approx(w)
    # every class carries the same total weight
    totals = pd.Series(spy.w_).groupby(spy.y_).sum()
    np.testing.assert_allclose(totals.to_numpy(), 1.0)
    np.testing.assert_allclose(clf.targets_.loc["u1"].to_numpy(), [1 / 3, 0, 2 / 3])


@pytest.mark.parametrize("class_weight", [None, "balanced", {"anger": 2.0}])
@pytest.mark.parametrize("targets", ["shares", "ratings", "majority",
                                     SoftLabels(alpha=0.5)])
def test_weights_sum_to_the_utterances_whatever_the_targets(targets, class_weight):
    """C means the same for every target kind: the expanded rows of the
    utterances with a target weigh as many units as there are utterances."""
    import warnings

    rng = np.random.default_rng(0)
    n, labels = 30, ["angry", "sad", "neutral"]
    long = pd.DataFrame({
        "utterance": np.repeat([f"u{i}" for i in range(n)], 4),
        "rater": np.tile(["r1", "r2", "r3", "r4"], n),
        "label": rng.choice(labels, size=4 * n)})
    X = rng.normal(size=(n, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = EveryRatingClassifier(Spy(), targets=targets, classes=CLASSES,
                                    class_weight=class_weight).fit(X, from_long(long))
    n_target = len(clf.targets_)
    total = clf.estimator_.w_.sum()
    if isinstance(class_weight, dict):  # user multipliers scale their class only
        assert total > n_target
    else:
        assert total == pytest.approx(n_target)


def test_targets_ratings_majority_and_encoders():
    X, y = _tiny()
    ratings = EveryRatingClassifier(Spy(), targets="ratings", class_weight=None,
                                    classes=CLASSES).fit(X, y).estimator_
    # one unit per rating (u1 sad, u2 anger: 2), scaled so that the 3 utterances
    # weigh 3 like vote shares do: 7 ratings -> factor 3/7
    np.testing.assert_allclose(sorted(ratings.w_.tolist()),
                               np.array([1, 1, 1, 2, 2]) * 3 / 7)
    maj = EveryRatingClassifier(Spy(), targets="majority", class_weight=None,
                                classes=CLASSES)
    with pytest.warns(Warning, match="left out 1 of 3.*tie: 1"), pytest.warns(
            Warning, match=r"class\(es\) \['neutral'\] have no training"):
        spy = maj.fit(X, y).estimator_
    assert spy.y_.tolist() == ["sadness", "anger"] and spy.w_.tolist() == [1, 1]
    smooth = EveryRatingClassifier(Spy(), targets=SoftLabels(alpha=1.0),
                                   class_weight=None, classes=CLASSES).fit(X, y)
    assert len(smooth.estimator_.y_) == 9  # smoothing gives every class mass
    np.testing.assert_allclose(smooth.targets_.loc["u2"], [3 / 5, 1 / 5, 1 / 5])


def test_majority_with_balanced_weights_is_the_plain_balanced_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    labels = np.array(CLASSES)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
    ours = EveryRatingClassifier(LogisticRegression(), targets="majority").fit(
        X, labels)
    plain = LogisticRegression(class_weight="balanced").fit(X, labels)
    np.testing.assert_allclose(ours.predict_proba(X), plain.predict_proba(X),
                               rtol=1e-5, atol=1e-6)


def test_weights_reach_the_last_step_of_a_pipeline_and_errors_are_clear():
    X, y = _tiny()
    pipe = Pipeline([("scale", StandardScaler()), ("spy", Spy())])
    clf = EveryRatingClassifier(pipe, classes=CLASSES).fit(X, y)
    assert clf.estimator_.named_steps["spy"].w_ is not None
    with pytest.raises(TypeError, match="KNeighborsClassifier does not accept "
                                        "sample_weight"):
        EveryRatingClassifier(KNeighborsClassifier(1)).fit(X, y)


def _crowd(n=240, seed=0):
    """Features that separate the classes; two careful raters and a careless
    one who answers at random most of the time."""
    rng = np.random.default_rng(seed)
    truth = np.array(CLASSES)[np.arange(n) % 3]
    X = rng.normal(size=(n, 5)) + np.eye(3, 5)[np.arange(n) % 3] * 1.5
    rows = []
    for i, t in enumerate(truth):
        for r, p in (("careful1", 0.75), ("careful2", 0.7), ("careless", 0.2)):
            lab = t if rng.random() < p else CLASSES[rng.integers(3)]
            rows.append((f"u{i:03d}", r, lab))
    y = from_long(pd.DataFrame(rows, columns=["utterance", "rater", "label"]))
    groups = (np.arange(n) // 3) % 6  # every group holds every class
    return X, y, truth, groups


def test_refining_with_the_audio_recovers_the_truth_better():
    X, y, truth, groups = _crowd()
    shares = EveryRatingClassifier(random_state=0).fit(X, y)
    refined = EveryRatingClassifier(refine=3, random_state=0).fit(X, y, groups=groups)
    acc_shares = np.mean(shares.targets_.idxmax(axis=1).to_numpy() == truth)
    acc_refined = np.mean(refined.targets_.idxmax(axis=1).to_numpy() == truth)
    assert acc_refined > acc_shares + 0.02
    # the careless rater's confusion matrix is close to uniform
    conf = refined.rater_confusion_[refined.raters_.index("careless")]
    careful = refined.rater_confusion_[refined.raters_.index("careful1")]
    assert np.diag(conf).mean() < np.diag(careful).mean() - 0.2
    # reproducible
    again = EveryRatingClassifier(refine=3, random_state=0).fit(X, y, groups=groups)
    np.testing.assert_allclose(again.targets_, refined.targets_)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.DroppedRowsWarning")
def test_inside_cross_validate_and_grid_search_with_ratings():
    X, y, truth, groups = _crowd(120)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", EveryRatingClassifier(classes=CLASSES))])
    res = cross_validate(pipe, X, y, groups=groups, cv=LeaveOneGroupOut(),
                         scoring=ser_scoring(CLASSES))
    assert np.isfinite(res["test_uar"]).all() and res["test_uar"].mean() > 0.5
    grid = GridSearchCV(pipe, {"clf__targets": ["majority", "shares"]},
                        cv=LeaveOneGroupOut(), scoring=ser_scoring(CLASSES),
                        refit="uar")
    grid.fit(X, y, groups=groups)
    assert grid.best_params_["clf__targets"] in {"majority", "shares"}
    assert clone(grid.best_estimator_).get_params()["clf__targets"] in {
        "majority", "shares"}


@pytest.mark.parametrize("combine", ["mean", "geometric"])
def test_late_fusion_combines_members_trained_on_ratings(combine):
    from sklearn.naive_bayes import GaussianNB

    from sklearn_ser.models import LateFusionClassifier

    X, y, truth, groups = _crowd(150)
    members = [("lr", Pipeline([("scale", StandardScaler()),
                                ("clf", EveryRatingClassifier(classes=CLASSES))])),
               ("nb", EveryRatingClassifier(GaussianNB(), classes=CLASSES))]
    fusion = LateFusionClassifier(members, weights=[3, 1], combine=combine).fit(X, y)
    p_lr = fusion.named_estimators_["lr"].predict_proba(X)
    p_nb = fusion.named_estimators_["nb"].predict_proba(X)
    if combine == "mean":
        expected = 0.75 * p_lr + 0.25 * p_nb
    else:
        expected = np.exp(0.75 * np.log(p_lr) + 0.25 * np.log(p_nb))
        expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fusion.predict_proba(X), expected, rtol=1e-6)
    assert list(fusion.classes_) == CLASSES
    assert np.mean(fusion.predict(X) == truth) > 0.6
    with pytest.raises(TypeError, match="has no predict_proba"):
        from sklearn.svm import LinearSVC

        LateFusionClassifier([("svm", LinearSVC())]).fit(X, truth)


def test_groups_reach_refine_inside_a_pipeline_by_metadata_routing():
    import sklearn

    X, y, truth, groups = _crowd(120)
    direct = EveryRatingClassifier(refine=1, random_state=0).fit(
        StandardScaler().fit_transform(X), y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = EveryRatingClassifier(refine=1, random_state=0)
        pipe = Pipeline([("scale", StandardScaler()),
                         ("clf", clf.set_fit_request(groups=True))])
        pipe.fit(X, y, groups=groups)
    np.testing.assert_allclose(pipe[-1].targets_, direct.targets_)
    without = EveryRatingClassifier(refine=1, random_state=0).fit(
        StandardScaler().fit_transform(X), y)
    assert not np.allclose(without.targets_, direct.targets_)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.DroppedRowsWarning")
def test_refine_and_fusion_options_get_errors_that_say_what_to_change():
    import warnings as _w

    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    from sklearn_ser.annotations import from_long
    from sklearn_ser.exceptions import SERWarning
    from sklearn_ser.models import LateFusionClassifier

    rng = np.random.default_rng(0)
    ids = [f"u{i}" for i in range(24)]
    labels = ["anger", "sadness", "neutral"] * 8
    rows = [(u, r, lab) for u, lab in zip(ids, labels, strict=True) for r in "ab"]
    rows.append(("unrated_by_target", "a", "other"))
    y = from_long(pd.DataFrame(rows, columns=["utterance", "rater", "label"]))
    X = pd.DataFrame(rng.normal(size=(len(y), 2)), index=y.index)
    with pytest.raises(ValueError, match="refine.*groups has 1 value"):
        EveryRatingClassifier(refine=1).fit(X, y, groups=np.zeros(len(y)))
    with pytest.raises(TypeError, match="refine=1.*SVC has no predict_proba"):
        EveryRatingClassifier(SVC(), refine=1).fit(X, y)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        EveryRatingClassifier(refine=1).fit(X, y, groups=[1, 2, 3])
    with pytest.warns(SERWarning, match="balanced twice"):
        with _w.catch_warnings():
            _w.simplefilter("ignore", DeprecationWarning)
            EveryRatingClassifier(LogisticRegression(class_weight="balanced")).fit(
                X, y)
    with _w.catch_warnings():  # unrated rows with refine: no NumPy RuntimeWarning
        _w.simplefilter("error", RuntimeWarning)
        _w.simplefilter("ignore", SERWarning)
        clf = EveryRatingClassifier(refine=2, random_state=0).fit(X, y)
    assert np.isfinite(clf.targets_.to_numpy()).all()
    for weights in ([0, 0], [1, -1], [1, np.nan]):
        with pytest.raises(ValueError, match="weights=.*finite number >= 0"):
            LateFusionClassifier([("a", LogisticRegression()),
                                  ("b", LogisticRegression())],
                                 weights=weights).fit(X.iloc[:24], labels)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.DroppedRowsWarning")
def test_refine_shows_its_progress_when_asked(capsys):
    from sklearn_ser.annotations import from_long

    rng = np.random.default_rng(0)
    labels = ["anger", "sadness", "neutral"] * 10
    y = from_long(pd.DataFrame([(i, r, lab) for i, lab in enumerate(labels)
                                for r in "ab"], columns=["utterance", "rater",
                                                         "label"]))
    X = rng.normal(size=(30, 2))
    EveryRatingClassifier(refine=2, refine_cv=3, progress=True,
                          random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "EveryRatingClassifier refine (2 EM iterations x 3 folds)" in err
    assert "6/6" in err


def test_pandas_output_pairs_rows_by_utterance_id():
    """README: with set_output(transform="pandas") the utterance index reaches
    EveryRatingClassifier, which aligns a reordered table by id (NumPy output
    pairs by position) and refuses ids X lacks."""
    from sklearn_ser.exceptions import AnnotationError
    from sklearn_ser.features import FrameStatistics

    rng = np.random.default_rng(0)
    n = 40
    idx = pd.Index([f"u{i}" for i in range(n)], name="utterance")
    label = np.array(["anger", "sadness"], dtype=object)[rng.integers(0, 2, n)]
    X = pd.DataFrame({"speaker": [f"s{i % 4}" for i in range(n)]}, index=idx)
    X["frames"] = pd.Series([rng.normal(size=(5, 3)).astype(np.float32)
                             + 2 * (lab == "anger") for lab in label],
                            index=idx, dtype=object)
    table = pd.DataFrame({"r1": label, "r2": label}, index=idx)
    shuffled = table.sample(frac=1, random_state=1)

    def pipe():
        return Pipeline([("stats", FrameStatistics()), ("scale", StandardScaler()),
                         ("clf", EveryRatingClassifier(LogisticRegression(),
                                                       targets="shares"))])

    ordered = pipe().set_output(transform="pandas").fit(X, table).predict_proba(X)
    by_id = pipe().set_output(transform="pandas").fit(X, shuffled).predict_proba(X)
    np.testing.assert_allclose(by_id, ordered)
    by_position = pipe().fit(X, shuffled).predict_proba(X)
    assert not np.allclose(by_position, ordered)
    with pytest.raises(AnnotationError, match=r"no annotation row.*'u0'"):
        pipe().set_output(transform="pandas").fit(X, table.rename(index={"u0": "zz"}))
