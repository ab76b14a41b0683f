"""Stage parameters by prefix (issue 43): a meta-estimator's stages are dicts
read and set as ``<stage>__<name>``, searched by ``GridSearchCV``, copied by
``clone``, never shared, checked before any work."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from test_models import CLASSES, make_corpus

from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    MLEEFusionClassifier,
    StackedAnnotatorClassifier,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.DroppedRowsWarning",
    "ignore::sklearn_ser.exceptions.InnerSplitWarning")

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02, max_epochs=2,
            batch_size=16, patience=1)
BASE = BLSTMAttentionClassifier(random_state=0, **TINY)


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(40)


def test_stages_read_and_set_by_prefix_and_never_shared():
    mlee = MLEEFusionClassifier(BASE, fusion={"lr": 1e-3})
    params = mlee.get_params()
    assert params["fusion__lr"] == 1e-3 and params["fusion__hidden_units"] == 64
    assert params["pretrain__lr"] == 2e-4 and params["estimator__lr"] == 0.02
    twin = clone(mlee)
    twin.set_params(fusion__lr=5e-3, pretrain__max_epochs=1, estimator__lr=0.1)
    assert twin.fusion == {"lr": 5e-3} and twin.pretrain == {"max_epochs": 1}
    assert mlee.fusion == {"lr": 1e-3} and mlee.pretrain is None  # untouched
    assert mlee.estimator.lr == 0.02 and twin.estimator.lr == 0.1
    assert clone(twin).get_params()["fusion__lr"] == 5e-3


@pytest.mark.parametrize("make,stage,bad", [
    (lambda **k: MLEEFusionClassifier(BASE, classes=CLASSES, **k), "fusion",
     {"learning_rate": 1e-3}),
    (lambda **k: MLEEFusionClassifier(BASE, classes=CLASSES, **k), "pretrain",
     {"hidden": 3}),
    (lambda **k: StackedAnnotatorClassifier(BASE, classes=CLASSES, **k), "final",
     {"head_dropout": 0.5}),
])
def test_a_stage_setting_it_does_not_take_is_named_before_any_work(corpus, make,
                                                                    stage, bad):
    X, y, _ = corpus
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"{stage} has no setting '{name}'; it "
                                         "takes"):
        make(**{stage: bad}).fit(X, y)
    with pytest.raises(ValueError, match=f"'{stage}' parameter of .* must be an "
                                         "instance of 'dict'"):
        make(**{stage: 0.5}).fit(X, y)


def test_an_open_stage_takes_the_building_blocks_parameters(corpus):
    X, y, _ = corpus
    mlee = MLEEFusionClassifier(BASE, classes=CLASSES, mode="pretrain",
                                pretrain={"max_epochs": 1, "lr": 0.05},
                                finetune={"max_epochs": 1},
                                random_state=0).fit(X, y)
    assert mlee.mlee_.max_epochs == 1 and mlee.mlee_.lr == 0.05
    assert mlee.final_.n_iter_ == 1


def test_grid_search_reaches_the_stages(corpus):
    X, y, _ = corpus
    search = GridSearchCV(
        StackedAnnotatorClassifier(BASE, components="CrowdHS", classes=CLASSES,
                                   random_state=0),
        {"final__lr": [1e-3, 1e-2], "final__max_epochs": [1]},
        scoring=ser_scoring(CLASSES), refit="uar", cv=GroupKFold(2))
    search.fit(X, y, groups=X["speaker"].to_numpy())
    assert search.best_params_["final__max_epochs"] == 1
    best = search.best_estimator_
    assert best.final_.lr == search.best_params_["final__lr"]
    assert best.final_.n_iter_ == 1


def test_a_head_stage_takes_the_fusion_heads_own_parameters(corpus):
    X, y, _ = corpus
    clf = StackedAnnotatorClassifier(
        BASE, components="CrowdHS", classes=CLASSES, random_state=0,
        final={"init": "average", "max_epochs": 1, "weight_averaging": 1.0,
               "validation_fraction": None}).fit(X, y)
    assert clf.final_.init == "average" and clf.final_.n_iter_ == 1
    assert clf.final_.weight_averaging == 1.0
    with pytest.raises(ValueError, match="'weight_averaging' parameter of "
                                         r"StackedAnnotatorClassifier\(final=\.\.\.\)"):
        StackedAnnotatorClassifier(
            BASE, final={"weight_averaging": 2.0})._check_params()
    # what the meta-estimator decides itself is not a setting
    with pytest.raises(ValueError, match="final has no setting 'classes'"):
        StackedAnnotatorClassifier(BASE, final={"classes": ["a"]})._check_params()
    with pytest.raises(ValueError, match="fusion has no setting 'init'"):
        MLEEFusionClassifier(BASE, fusion={"init": "first"})._check_params()
