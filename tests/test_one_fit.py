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
