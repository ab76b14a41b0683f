"""``callbacks=`` on every network (issue 43): the user's skorch callbacks run
after the package's own in every net a fit trains, survive ``clone`` and
``GridSearchCV``, and reach a meta-estimator's components and fusion head."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from skorch.callbacks import Callback
from test_models import CLASSES, make_corpus

from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    StackedAnnotatorClassifier,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.DroppedRowsWarning",
    "ignore::sklearn_ser.exceptions.InnerSplitWarning")

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02, max_epochs=3,
            batch_size=16, patience=2)


class Epochs(Callback):
    """Counts the epochs it saw and the nets it was part of; records the
    callbacks that ran before it (state ends in ``_``, as skorch's callbacks'
    does: not a parameter, so ``clone`` gives a fresh one)."""

    def on_train_begin(self, net, **kwargs):
        self.nets_ = getattr(self, "nets_", 0) + 1
        names = [name for name, _ in net.callbacks_]
        self.before_ = names[: names.index("mine")]

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ = getattr(self, "epochs_", 0) + 1


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(40)


@pytest.mark.parametrize("cls", [BLSTMAttentionClassifier, CNNBLSTMClassifier])
def test_a_network_runs_the_users_callbacks_after_its_own(corpus, cls):
    X, y, _ = corpus
    mine = Epochs()
    params = TINY if cls is BLSTMAttentionClassifier else dict(
        max_epochs=3, batch_size=16, patience=2, lr=0.02)
    clf = cls(classes=CLASSES, callbacks=[("mine", mine)], random_state=0,
              **params).fit(X, y)
    assert mine.nets_ == 1 and mine.epochs_ == len(clf.history_) > 0
    assert "early_stopping" in mine.before_ and "finite_loss" in mine.before_
    assert clone(clf).get_params()["callbacks"][0][0] == "mine"


def test_callbacks_are_a_parameter_grid_search_can_set(corpus):
    X, y, _ = corpus
    groups = X["speaker"].to_numpy()
    search = GridSearchCV(
        BLSTMAttentionClassifier(classes=CLASSES, random_state=0, **TINY),
        {"callbacks": [None, [("mine", Epochs())]]},
        scoring=ser_scoring(CLASSES), refit="uar", cv=GroupKFold(2))
    search.fit(X, y, groups=groups)
    chosen = search.best_estimator_.get_params()["callbacks"]
    if chosen is not None:  # a fitted clone ran its own copy
        assert chosen[0][1].epochs_ > 0
    assert np.isfinite(search.cv_results_["mean_test_uar"]).all()


@pytest.mark.parametrize("meta", ["stacked", "mlee", "noisy"])
def test_a_meta_estimators_components_take_the_building_blocks_callbacks(
        corpus, meta):
    X, y, _ = corpus
    if meta == "noisy":
        clf = NoisyLabelMetaClassifier(
            classes=CLASSES, dense_units=8, lstm_units=4, lr=0.02, batch_size=16,
            patience=2, max_epochs=2, callbacks=[("mine", Epochs())],
            random_state=0).fit(X, y)
        assert clf.get_params()["callbacks"][0][1].nets_ >= 1
        return
    base = BLSTMAttentionClassifier(callbacks=[("mine", Epochs())], random_state=0,
                                    **TINY)
    if meta == "stacked":
        clf = StackedAnnotatorClassifier(base, classes=CLASSES, min_rater_items=10,
                                         random_state=0).fit(X, y)
    else:
        clf = MLEEFusionClassifier(base, classes=CLASSES, random_state=0).fit(X, y)
    nets = [m for m in clf._scored_models().values()]
    for model in nets:  # each component (clones) and the fusion head ran its own
        (name, cb), = [c for c in model.get_params()["callbacks"]]
        assert name == "mine" and cb.nets_ >= 1 and cb.epochs_ >= 1, model
