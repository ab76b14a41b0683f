"""One conversion of X and one parse of y per fit (issue 43): a model made of
models converts the frame sequences once and parses the annotations once,
and hands its components what it built; they convert and parse nothing
again, whatever form X came in."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from test_models import CLASSES, make_corpus

from sklearn_ser.annotations import n_parses
from sklearn_ser.features import FramesArray
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    EveryRatingClassifier,
    LateFusionClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    SeedEnsembleClassifier,
    StackedAnnotatorClassifier,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.DroppedRowsWarning",
    "ignore::sklearn_ser.exceptions.InnerSplitWarning",
    "ignore::sklearn_ser.exceptions.RareClassWarning")

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02, max_epochs=2,
            batch_size=16, patience=1)
BASE = BLSTMAttentionClassifier(random_state=0, **TINY)

SEQUENCE_MODELS = {
    "stacked": lambda: StackedAnnotatorClassifier(BASE, classes=CLASSES,
                                                  min_rater_items=10, random_state=0),
    "mlee fusion": lambda: MLEEFusionClassifier(BASE, classes=CLASSES, random_state=0),
    "mlee pretrain": lambda: MLEEFusionClassifier(BASE, classes=CLASSES,
                                                  mode="pretrain", random_state=0),
    "noisy": lambda: NoisyLabelMetaClassifier(
        classes=CLASSES, dense_units=8, lstm_units=4, lr=0.02, batch_size=16,
        patience=1, max_epochs=2, random_state=0),
    "seed ensemble": lambda: SeedEnsembleClassifier(BASE, n_members=2,
                                                    random_state=0),
    "late fusion": lambda: LateFusionClassifier(
        [("a", BASE), ("b", BLSTMAttentionClassifier("soft", random_state=1,
                                                     **TINY))]),
}
FEATURE_MODELS = {
    "every rating": lambda: EveryRatingClassifier(),
    "seed ensemble": lambda: SeedEnsembleClassifier(EveryRatingClassifier(),
                                                    n_members=2),
    "late fusion": lambda: LateFusionClassifier(
        [("a", EveryRatingClassifier()),
         ("b", EveryRatingClassifier(targets="majority"))]),
}


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(40)


def _counted_fit(model, X, y):
    """(conversions of X into frames, parses of y) during ``model.fit``."""
    build = FramesArray.from_list.__func__
    calls = [0]

    def counting(cls, *args, **kwargs):
        calls[0] += 1
        return build(cls, *args, **kwargs)

    with mock.patch.object(FramesArray, "from_list", classmethod(counting)):
        before = n_parses()
        model.fit(X, y)
        return calls[0], n_parses() - before


@pytest.mark.parametrize("form", ["table of arrays", "list of arrays",
                                  "table of frames"])
@pytest.mark.parametrize("name", list(SEQUENCE_MODELS))
def test_a_model_of_sequence_models_converts_x_and_parses_y_once(corpus, name,
                                                                  form):
    X, y, _ = corpus
    if form == "list of arrays":
        X = list(X["frames"].to_numpy())
    elif form == "table of frames":
        X = X.assign(frames=FramesArray.from_list(list(X["frames"].to_numpy())))
    conversions, parses = _counted_fit(SEQUENCE_MODELS[name](), X, y)
    assert parses == 1
    assert conversions == (0 if form == "table of frames" else 1)


@pytest.mark.parametrize("name", list(FEATURE_MODELS))
def test_a_model_of_feature_models_parses_y_once(corpus, name):
    X, y, _ = corpus
    features = pd.DataFrame(np.stack([f.mean(axis=0) for f in X["frames"]]),
                            index=X.index)
    _, parses = _counted_fit(FEATURE_MODELS[name](), features, y)
    assert parses == 1


def test_members_that_read_plain_labels_get_plain_labels(corpus):
    """A scikit-learn member beside ours: y is passed as given, not parsed
    into ratings it cannot read."""
    from sklearn.linear_model import LogisticRegression

    X, y, _ = corpus
    features = pd.DataFrame(np.stack([f.mean(axis=0) for f in X["frames"]]),
                            index=X.index)
    labels = pd.Series(np.resize(CLASSES, len(features)), index=features.index)
    model = LateFusionClassifier([("ours", EveryRatingClassifier()),
                                  ("theirs", LogisticRegression())]).fit(
        features, labels)
    assert set(model.classes_) == set(CLASSES)


@pytest.mark.parametrize("kw", [{}, {"rule": "absolute"}, {"tie_break": "first_choice"},
                                {"votes": "first"}, {"classes": CLASSES[:2]}])
def test_the_networks_codes_are_the_majority_labels_decided_once(corpus, kw):
    """The codes a network trains on (one vote, no label strings between)
    are the positions of HardLabels' labels, and the statuses its warning
    counts are target_status'."""
    from sklearn_ser.annotations import HardLabels

    _, y, _ = corpus
    enc = HardLabels(**kw).fit(y)
    codes, status = enc._class_codes(y)
    labels = enc.transform(y)
    want = np.array([list(enc.classes_).index(v) if isinstance(v, str) else -1
                     for v in labels])
    np.testing.assert_array_equal(codes, want)
    assert list(status) == list(enc.target_status(y))


def _model_estimators():
    """Every public estimator class of sklearn_ser.models."""
    from sklearn.base import BaseEstimator

    import sklearn_ser.models as models

    return {name: getattr(models, name) for name in models.__all__
            if isinstance(getattr(models, name), type)
            and issubclass(getattr(models, name), BaseEstimator)}


@pytest.mark.parametrize("name", sorted(_model_estimators()))
def test_every_estimator_of_models_fits_through_the_one_template(name):
    """No estimator writes its own ``fit``: each implements the template's
    steps (``_fit_inputs``, ``_fit``) and inherits its ``fit``."""
    from sklearn_ser.models._template import OneFitMixin

    cls = _model_estimators()[name]
    assert issubclass(cls, OneFitMixin)
    assert cls.fit is OneFitMixin.fit
    for step in ("_fit_inputs", "_fit"):
        assert getattr(cls, step) is not getattr(OneFitMixin, step), (name, step)


def test_the_template_covers_every_family():
    """Networks, meta-estimators, the every-rating model and both ensembles."""
    assert {"BLSTMAttentionClassifier", "NoisyLabelMetaClassifier",
            "StackedAnnotatorClassifier", "MLEEFusionClassifier",
            "EveryRatingClassifier", "SeedEnsembleClassifier",
            "LateFusionClassifier"} <= set(_model_estimators())


@pytest.mark.parametrize("name", ["every rating", "late fusion", "seed ensemble"])
def test_an_interrupted_fit_leaves_the_estimator_as_it_was(corpus, name):
    """Ctrl-C during a refit: the estimator keeps its former fit whole (no
    ``classes_`` of the new data beside the old model), and the interrupt
    propagates."""
    X, y, _ = corpus
    features = pd.DataFrame(np.stack([f.mean(axis=0) for f in X["frames"]]),
                            index=X.index)
    model = FEATURE_MODELS[name]().fit(features, y)
    before = dict(model.__dict__)
    with mock.patch.object(type(model), "_fit", side_effect=KeyboardInterrupt), \
            pytest.raises(KeyboardInterrupt):
        model.fit(features.iloc[:20], y.iloc[:20])
    assert model.__dict__.keys() == before.keys()
    assert all(model.__dict__[k] is v for k, v in before.items())


def test_late_fusion_hands_groups_to_the_members_that_take_them(corpus):
    """``groups`` reaches a member whose fit takes it (its inner splits by
    speaker) and is not forced on one whose fit does not."""
    from sklearn.linear_model import LogisticRegression

    X, _, intended = corpus
    speakers = X["speaker"].to_numpy()
    features = pd.DataFrame(np.stack([f.mean(axis=0) for f in X["frames"]]),
                            index=X.index)
    seen = {}
    real = EveryRatingClassifier._fit_inputs

    def spy(self, X, y, groups):
        seen["groups"] = groups
        return real(self, X, y, groups)

    labels = pd.Series(intended, index=features.index)
    with mock.patch.object(EveryRatingClassifier, "_fit_inputs", spy):
        LateFusionClassifier([("ours", EveryRatingClassifier()),
                              ("theirs", LogisticRegression())]).fit(
            features, labels, groups=speakers)
    np.testing.assert_array_equal(seen["groups"], speakers)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        LateFusionClassifier([("ours", EveryRatingClassifier())]).fit(
            features, labels, groups=speakers[:3])

