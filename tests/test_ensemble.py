"""SeedEnsembleClassifier: seeded copies of one classifier, probabilities averaged."""

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from test_models import CLASSES, SMALL, make_corpus

from sklearn_ser.features import FrameAverager, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier, SeedEnsembleClassifier

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.SERWarning")


def _member(**kw):
    return BLSTMAttentionClassifier("soft", classes=CLASSES, **{**SMALL, **kw})


def test_members_differ_by_seed_and_mean_is_the_prediction():
    X, y, intended = make_corpus()
    ens = SeedEnsembleClassifier(_member(), n_members=3, random_state=0).fit(X, y)
    assert len(ens.estimators_) == 3
    assert len(set(ens.seeds_)) == 3
    assert [m.random_state for m in ens.estimators_] == [int(s) for s in ens.seeds_]
    assert list(ens.classes_) == CLASSES
    proba = ens.predict_proba(X)
    members = [m.predict_proba(X) for m in ens.estimators_]
    np.testing.assert_allclose(proba, np.mean(members, axis=0), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # the members are different networks
    assert not np.allclose(members[0], members[1])
    np.testing.assert_array_equal(ens.predict(X),
                                  np.array(CLASSES)[proba.argmax(axis=1)])
    # the toy classes are separable: the ensemble learns them
    assert np.mean(ens.predict(X) == intended) > 0.8


def test_random_state_makes_the_ensemble_repeatable():
    X, y, _ = make_corpus(60)
    a = SeedEnsembleClassifier(_member(max_epochs=3), n_members=2, random_state=1)
    b = clone(a)
    np.testing.assert_array_equal(a.fit(X, y).predict_proba(X),
                                  b.fit(X, y).predict_proba(X))


def test_seeds_reach_every_step_of_a_pipeline(tmp_path):
    X, y, _ = make_corpus(60)
    pipe = Pipeline([("norm", SpeakerStandardizer()), ("pool", FrameAverager(2)),
                     ("clf", _member(max_epochs=3))])
    ens = SeedEnsembleClassifier(pipe, n_members=2, random_state=0).fit(X, y)
    seeds = [m.named_steps["clf"].random_state for m in ens.estimators_]
    assert seeds == [int(s) for s in ens.seeds_]
    joblib.dump(ens, tmp_path / "ens.joblib")
    restored = joblib.load(tmp_path / "ens.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), ens.predict_proba(X))


def test_parallel_members_match_sequential():
    X, y, _ = make_corpus(60)
    seq = SeedEnsembleClassifier(_member(max_epochs=3), n_members=2, random_state=0)
    par = clone(seq).set_params(n_jobs=2)
    np.testing.assert_allclose(seq.fit(X, y).predict_proba(X),
                               par.fit(X, y).predict_proba(X), rtol=1e-5)


def test_groups_routing_off_and_on():
    X, y, _ = make_corpus()
    scoring = ser_scoring(classes=CLASSES, warn=False)
    ens = SeedEnsembleClassifier(_member(max_epochs=2), n_members=2, random_state=0)
    cv = cross_validate(ens, X, y, groups=X["session"], cv=LeaveOneGroupOut(),
                        scoring=scoring)
    assert len(cv["test_uar"]) == 3
    fitted = clone(ens).fit(X, y, groups=X["speaker"])
    assert len(fitted.estimators_) == 2
    with sklearn.config_context(enable_metadata_routing=True):
        member = _member(max_epochs=2).set_fit_request(groups=True)
        ens = SeedEnsembleClassifier(member, n_members=2, random_state=0)
        ens.set_fit_request(groups=True)
        cv = cross_validate(ens, X, y, params={"groups": X["session"]},
                            cv=LeaveOneGroupOut(), scoring=scoring)
        assert np.all(np.isfinite(cv["test_uar"]))
        with pytest.raises(Exception, match="groups"):
            # routing on and the member did not request groups
            SeedEnsembleClassifier(_member(max_epochs=2), n_members=2).fit(
                X, y, groups=X["speaker"])


def test_estimator_without_random_state_is_refused():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="KNeighborsClassifier has none"):
        SeedEnsembleClassifier(KNeighborsClassifier()).fit(X, y)


class _SeedDependentClasses(ClassifierMixin, BaseEstimator):
    """A member whose classes depend on its seed (odd seeds drop the last)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.classes_ = np.unique(y)[: 2 if self.random_state % 2 else 3]
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_members_with_different_classes_are_refused():
    X = np.zeros((6, 2))
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="pass classes= to the estimator"):
        SeedEnsembleClassifier(_SeedDependentClasses(), n_members=8,
                               random_state=0).fit(X, y)


def test_combine_probabilities_one_rule_for_the_api_and_the_command_line():
    """LateFusionClassifier and the command line's fusion methods share one
    rule: the geometric mean is the renormalised exp of the weighted mean of
    the logs, the mean the weighted average; rows sum to 1 either way."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sklearn_ser.experiments._protocol import _fuse
    from sklearn_ser.models import combine_probabilities

    @settings(max_examples=40, deadline=None)
    @given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**31 - 1))
    def check(n_members, n_classes, seed):
        rng = np.random.default_rng(seed)
        probas = [rng.dirichlet(np.ones(n_classes), size=6) for _ in range(n_members)]
        probas[0][0] = np.eye(n_classes)[0]  # a hard zero is clipped, not -inf
        w = rng.uniform(0.1, 2.0, n_members)
        geo = combine_probabilities(probas, w, "geometric")
        expect = np.exp(sum(wk / w.sum() * np.log(np.clip(p, 1e-9, 1))
                            for wk, p in zip(w, probas, strict=True)))
        np.testing.assert_allclose(geo, expect / expect.sum(1, keepdims=True))
        mean = combine_probabilities(probas, w, "mean")
        weighted = sum(wk * p for wk, p in zip(w, probas, strict=True))
        np.testing.assert_allclose(mean, weighted / w.sum())
        for out in (geo, mean):
            assert np.isfinite(out).all()
            np.testing.assert_allclose(out.sum(1), 1.0)
        classes = [f"c{k}" for k in range(n_classes)]
        pred, proba, seconds = _fuse([(None, p, 1.5) for p in probas], classes)
        np.testing.assert_allclose(proba, combine_probabilities(probas))
        assert list(pred) == [classes[k] for k in proba.argmax(1)]
        assert seconds == 1.5 * n_members

    check()
