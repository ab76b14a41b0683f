import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from test_models import CLASSES, make_corpus

from sklearn_ser.annotations import from_long, to_wide
from sklearn_ser.exceptions import DroppedRowsWarning, SERWarning
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    FrozenFusionClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    NoRaterModelWarning,
    StackedAnnotatorClassifier,
)
from sklearn_ser.models._meta.base import held_out_rows
from sklearn_ser.models._sequence.noisy_label import label_weight_init, rescale_weights

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.DroppedRowsWarning")

# tiny networks and few epochs: these tests check the wiring, not accuracy
TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02, max_epochs=6,
            batch_size=16, patience=3)
BASE = BLSTMAttentionClassifier(**TINY, random_state=0)
FAST_LR = dict(pretrain={"lr": 0.02}, finetune={"lr": 0.02}, fusion={"lr": 0.02},
               dominant={"lr": 0.02})
NOISY = dict(dense_units=8, lstm_units=4, lr=0.02, batch_size=16, patience=3)


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(60)


# --- Chou & Lee -------------------------------------------------------------
def test_stacked_components_and_table3(corpus):
    X, y, intended = corpus
    clf = StackedAnnotatorClassifier(BASE, classes=CLASSES, min_rater_items=10,
                                     random_state=0).fit(X, y)
    assert list(clf.components_) == ["CrowdH", "CrowdS", "E1", "E2", "E3"]
    assert clf.components_["CrowdS"].target_kind_ == "soft"
    assert clf.components_["E2"].target_encoder_.rater == "E2"
    # stage 2: frozen encoders, one trainable softmax layer
    head = clf.final_.net_.module_
    trainable = [p for p in head.parameters() if p.requires_grad]
    assert len(trainable) == 2  # weight and bias of the final layer
    assert head.classifier.in_features == 5 * 8
    assert np.mean(clf.predict(X) == intended) > 0.5
    table = clf.score_components(X, y)
    assert list(table.index) == ["CrowdH", "CrowdS", "E1", "E2", "E3", "fusion"]
    assert list(table.columns) == ["UAR", *CLASSES]
    assert table.attrs["n_scored"] + table.attrs["n_left_out"] == len(X)


@pytest.mark.parametrize("components, names", [
    ("CrowdH", ["CrowdH"]), ("CrowdHS", ["CrowdH", "CrowdS"]),
    ("E_n", ["E1", "E2", "E3"]),
])
def test_stacked_paper_rows(corpus, components, names):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=3)
    clf = StackedAnnotatorClassifier(base, components=components, classes=CLASSES,
                                     min_rater_items=10, random_state=0).fit(X, y)
    assert list(clf.components_) == names
    if len(names) == 1:
        assert clf.final_ is clf.components_[names[0]]


@pytest.mark.parametrize("raters, match", [
    (["E1", "E1"], "named twice"), (("E2", "E1", "E2"), "named twice"),
    (["E1", None], "names nothing"), (["E1", "  "], "names nothing"),
    (["E1", "Z9"], r"raters \['Z9'\] are not raters"),
])
def test_stacked_refuses_a_bad_list_of_raters_before_training(corpus, raters, match):
    X, y, _ = corpus
    clf = StackedAnnotatorClassifier(clone(BASE).set_params(max_epochs=1),
                                     classes=CLASSES, raters=raters, random_state=0)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "components_")


def test_stacked_rater_threshold_and_sparse_crowds(corpus):
    X, y, _ = corpus
    y = y.copy()
    y.loc[y.index[:50], "E3"] = None  # E3 rated only 10 utterances
    base = clone(BASE).set_params(max_epochs=2)
    with pytest.warns(NoRaterModelWarning, match="1 of 3 raters rated fewer than "
                      "min_rater_items=20.*'E3'"):
        clf = StackedAnnotatorClassifier(base, classes=CLASSES, min_rater_items=20,
                                         random_state=0).fit(X, y)
    assert "E3" not in clf.components_
    assert clf.raters_without_model_ == ["E3"]
    # a sparse crowd: many raters with a few ratings each -> groups
    rng = np.random.default_rng(0)
    rows = [(uid, f"W{w}", y.loc[uid, "E1"][0]) for uid in y.index
            for w in rng.choice(40, size=3, replace=False)]
    sparse = from_long(pd.DataFrame(rows, columns=["utterance", "rater", "label"]))
    grouped = StackedAnnotatorClassifier(base, classes=CLASSES, n_rater_groups=3,
                                         min_rater_items=50, random_state=0
                                         ).fit(X, sparse)
    assert set(grouped.rater_groups_) == {"G1", "G2", "G3"}
    assert sorted(sum(grouped.rater_groups_.values(), [])) == sorted(
        sparse.ratings.raters)
    assert {"G1", "G2", "G3"} <= set(grouped.components_)
    # the wide table of the same crowd gives the same groups
    wide = StackedAnnotatorClassifier(base, classes=CLASSES, n_rater_groups=3,
                                      min_rater_items=50, random_state=0
                                      ).fit(X, to_wide(sparse))
    assert wide.rater_groups_ == grouped.rater_groups_
    np.testing.assert_allclose(wide.predict_proba(X), grouped.predict_proba(X),
                               atol=1e-5)


def test_stacked_final_dropout_reaches_the_head_only_while_training(corpus):
    X, y, _ = corpus
    params = dict(components="CrowdHS", classes=CLASSES, random_state=0)
    plain = StackedAnnotatorClassifier(BASE, **params).fit(X, y)
    drop = StackedAnnotatorClassifier(BASE, final={"input_dropout": 0.5},
                                      **params).fit(X, y)
    assert plain.final_.module_.input_dropout is None
    assert drop.final_.module_.input_dropout.p == 0.5
    assert drop.final_.input_dropout == 0.5
    # the same stage 1, another head; predictions are deterministic (eval mode)
    for name in ("CrowdH", "CrowdS"):
        np.testing.assert_allclose(plain.components_[name].predict_proba(X),
                                   drop.components_[name].predict_proba(X))
    np.testing.assert_array_equal(drop.predict_proba(X), drop.predict_proba(X))
    assert not np.allclose(plain.predict_proba(X), drop.predict_proba(X))
    with pytest.raises(ValueError, match=r"'input_dropout' parameter of "
                                         r"StackedAnnotatorClassifier\(final=\.\.\.\)"):
        StackedAnnotatorClassifier(BASE, final={"input_dropout": 1.0},
                                   **params).fit(X, y)


def test_stacked_final_validation_holds_rows_out_of_every_model(corpus, monkeypatch):
    from sklearn_ser.models._sequence.base import SequenceClassifier

    X, y, _ = corpus
    seen = []  # (class name, training rows, validation rows) of every net
    real = SequenceClassifier._train_net

    def spy(self, stages, stage, tensors, target_t, t, rows, valid_ds, seed, **kw):
        seen.append((type(self).__name__, np.asarray(rows),
                     None if valid_ds is None else len(valid_ds)))
        return real(self, stages, stage, tensors, target_t, t, rows, valid_ds, seed,
                    **kw)

    monkeypatch.setattr(SequenceClassifier, "_train_net", spy)
    clf = StackedAnnotatorClassifier(BASE, components="CrowdHS", classes=CLASSES,
                                     final_validation=0.34, random_state=0).fit(X, y)
    held = clf.held_out_
    # every speaker shows every class: whole speakers are held out
    assert clf.held_out_by_ == "speakers"
    speakers = X["speaker"].to_numpy()
    assert set(speakers[held]).isdisjoint(speakers[~held])
    assert 0 < held.sum() < len(X)
    # CrowdS keeps every row: it trains on exactly the others, validates on them
    crowd_s = [r for r in seen if r[0] == "BLSTMAttentionClassifier"][1]
    np.testing.assert_array_equal(crowd_s[1], np.flatnonzero(~held))
    assert crowd_s[2] == held.sum()
    # the head too (its hard targets leave out the one tie), and keeps its
    # best epoch on them
    head = [r for r in seen if r[0] == "FrozenFusionClassifier"]
    assert len(head) == 1 and head[0][2] is not None
    assert head[0][2] <= held.sum() and len(head[0][1]) <= (~held).sum()
    assert clf.final_.validation_fraction == 0.34
    # the rows are the fit's only: a fitted model refitted alone holds none out
    assert not any(hasattr(m, "_held_out") for m in (*clf.components_.values(),
                                                     clf.final_))
    assert "valid_loss" in clf.final_.history_.columns
    assert 1 <= clf.final_.best_epoch_ <= BASE.max_epochs
    # repeatable; None (the default) holds nothing out
    again = StackedAnnotatorClassifier(BASE, components="CrowdHS", classes=CLASSES,
                                       final_validation=0.34, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.held_out_, held)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    plain = StackedAnnotatorClassifier(BASE, components="CrowdHS", classes=CLASSES,
                                       random_state=0).fit(X, y)
    assert plain.held_out_ is None and plain.held_out_by_ is None
    with pytest.raises(ValueError, match="final_validation"):
        StackedAnnotatorClassifier(BASE, final_validation=1.0).fit(X, y)


def test_stacked_final_validation_on_confounded_speakers_holds_utterances(corpus):
    X, y, intended = corpus
    X = X.assign(speaker=intended)  # each speaker shows one emotion
    clf = StackedAnnotatorClassifier(BASE, components="CrowdHS", classes=CLASSES,
                                     final_validation=0.2, random_state=0).fit(X, y)
    assert clf.held_out_by_ == "utterances"
    for c in CLASSES:
        rows = clf.held_out_[intended == c]
        assert 0 < rows.sum() < len(rows)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]),
                          st.integers(0, 5)), min_size=6, max_size=40),
       st.floats(0.1, 0.6), st.integers(0, 2**16))
def test_stacked_held_out_rows_property(rows, share, seed):
    """Over generated labels and speakers (confounded or not): whole speakers
    with every class left in training, else each class of two or more
    majorities on both sides; nothing held out of a class seen once."""
    labels = [r[0] for r in rows]
    # ratings without a single label are refused by fit before this point
    assume(any(v is not None for v in labels))
    speakers = np.array([f"s{r[1]}" for r in rows])
    y = pd.Series(labels, index=[f"u{i}" for i in range(len(rows))], dtype=object)
    X = pd.DataFrame({"speaker": speakers}, index=y.index)
    clf = StackedAnnotatorClassifier(classes=["a", "b", "c"], final_validation=share)
    labels = np.array([v if v is not None else "-" for v in labels])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held, by = held_out_rows(clf, X, y, None, ["a", "b", "c"],
                                   np.random.RandomState(seed))
    assert held.dtype == bool and len(held) == len(rows)
    if by == "speakers":
        assert set(speakers[held]).isdisjoint(speakers[~held])
        present = set(labels) - {"-"}
        assert present <= set(labels[~held])
    else:
        assert by == "utterances"
        assert not held[labels == "-"].any()
        for c in ("a", "b", "c"):
            n = int((labels == c).sum())
            k = int(held[labels == c].sum())
            assert (0 < k < n) if n >= 2 else k == 0


def test_fusion_head_average_init_starts_as_the_mean_of_the_encoders_logits(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    parts = [clone(base).set_params(target=t, classes=CLASSES, random_state=i).fit(X, y)
             for i, t in enumerate(["hard", "soft", "soft"])]
    # lr ~ 0: the head's logits stay those it starts with
    head = FrozenFusionClassifier.from_estimators(
        parts, like=base, classes=CLASSES, init="average", lr=1e-12,
        random_state=0).set_params(max_epochs=1, validation_fraction=None).fit(X, y)
    mean = np.mean([p.decision_function(X) for p in parts], axis=0)
    np.testing.assert_allclose(head.decision_function(X), mean, atol=1e-4)
    random = FrozenFusionClassifier.from_estimators(
        parts, like=base, classes=CLASSES, lr=1e-12, random_state=0).set_params(
        max_epochs=1, validation_fraction=None).fit(X, y)
    assert not np.allclose(random.decision_function(X), mean, atol=1e-2)
    with pytest.raises(ValueError, match="init='average' needs one softmax layer"):
        FrozenFusionClassifier.from_estimators(parts, classes=CLASSES, hidden_units=8,
                                               init="average").fit(X, y)
    with pytest.raises(ValueError, match="init"):
        FrozenFusionClassifier.from_estimators(parts, classes=CLASSES,
                                               init="mean").fit(X, y)
    # an encoder whose own output has another number of classes is named
    two = clone(base).set_params(classes=CLASSES[:2]).fit(X, y)
    with pytest.raises(ValueError, match=r"encoder\(s\) \[1\] have none or another"):
        FrozenFusionClassifier.from_estimators([parts[0].module_, two.module_],
                                               classes=CLASSES,
                                               init="average").fit(X, y)


def test_fusion_head_first_init_starts_as_the_first_encoder(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    parts = [clone(base).set_params(target=t, classes=CLASSES, random_state=i).fit(X, y)
             for i, t in enumerate(["hard", "soft", "soft"])]
    head = FrozenFusionClassifier.from_estimators(
        parts, like=base, init="first", lr=1e-12, random_state=0).set_params(
        max_epochs=1, validation_fraction=None).fit(X, y)
    assert list(head.classes_) == list(parts[0].classes_)
    np.testing.assert_allclose(head.decision_function(X),
                               parts[0].decision_function(X), atol=1e-4)
    np.testing.assert_array_equal(head.predict(X), parts[0].predict(X))
    # with a Dense layer too (test_fusion_head_first_init_with_a_dense_layer), but
    # the first encoder's own output layer must give the classes
    two = clone(base).set_params(classes=CLASSES[:2]).fit(X, y)
    with pytest.raises(ValueError, match=r"init='first' starts from the first "
                       r"encoder's own output layer, which must have 3 outputs"):
        FrozenFusionClassifier.from_estimators([two.module_, parts[0].module_],
                                               classes=CLASSES, hidden_units=8,
                                               init="first").fit(X, y)
    other = [*CLASSES[:2], "fear"]
    with pytest.raises(ValueError, match=r"init='first' starts .* are other"):
        FrozenFusionClassifier.from_estimators(parts, classes=other, init="first")


def test_fusion_head_average_init_needs_the_encoders_classes(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=1)
    a = clone(base).set_params(classes=CLASSES, random_state=0).fit(X, y)
    two = clone(base).set_params(classes=CLASSES[:2]).fit(X, y)
    # encoders with other classes would add unrelated output rows together
    with pytest.raises(ValueError, match=r"estimator 1 has classes_ \['anger', "
                       r"'neutral'\] and estimator 0"):
        FrozenFusionClassifier.from_estimators([a, two], init="average")
    other = [*CLASSES[:2], "fear"]  # as many classes, not the same ones
    with pytest.raises(ValueError, match=r"classes=\['anger', .*'fear'\] are other"):
        FrozenFusionClassifier.from_estimators([a, a], classes=other, init="average")
    # the same classes in any order or spelling are the same classes
    FrozenFusionClassifier.from_estimators(
        [a, a], classes=["Sad", "neutral", "Angry"], like=base,
        init="average")
    # classes=None: the head takes the encoders' classes, and starts as their mean
    head = FrozenFusionClassifier.from_estimators(
        [a, a], like=base, init="average", lr=1e-12, random_state=0).set_params(
        validation_fraction=None).fit(X, y)
    assert list(head.classes_) == list(a.classes_)
    np.testing.assert_allclose(head.decision_function(X), a.decision_function(X),
                               atol=1e-4)
    # random starts do not need them
    FrozenFusionClassifier.from_estimators([a, two], like=base, classes=CLASSES)


def test_stacked_without_raters_warns(corpus):
    X, y, _ = corpus
    labels = y["E1"].str[0]
    with pytest.warns(NoRaterModelWarning, match="no individual raters"):
        clf = StackedAnnotatorClassifier(clone(BASE).set_params(max_epochs=2),
                                         classes=CLASSES).fit(X, labels)
    assert list(clf.components_) == ["CrowdH", "CrowdS"]


def test_stacked_parallel_matches_serial(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    a = StackedAnnotatorClassifier(base, components="CrowdHS", classes=CLASSES,
                                   random_state=0).fit(X, y)
    b = StackedAnnotatorClassifier(base, components="CrowdHS", classes=CLASSES,
                                   random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)


# --- Ando et al. ------------------------------------------------------------
def test_mlee_fusion_modes(corpus):
    X, y, intended = corpus
    fusion = MLEEFusionClassifier(BASE, classes=CLASSES, random_state=0,
                                  **FAST_LR).fit(X, y)
    assert fusion.mlee_.target_kind_ == "existence"
    assert fusion.mlee_.lr == 0.02 and fusion.final_.lr == 0.02
    assert fusion.dominant_.target_kind_ == "soft"
    head = fusion.final_.net_.module_
    assert len(head.encoders) == 2
    assert head.input_dropout is None  # fusion={"input_dropout": 0.0}
    assert all(not p.requires_grad for p in head.encoders.parameters())
    assert np.mean(fusion.predict(X) == intended) > 0.5
    table = fusion.score_components(X, y)
    assert list(table.index) == ["mlee_only", "dominant", "fusion"]
    pre = MLEEFusionClassifier(BASE, mode="pretrain", finetune_target="hard",
                               classes=CLASSES, random_state=0,
                               **{**FAST_LR, "finetune": {"lr": 0.02,
                                                          "input_dropout": 0.25}}
                               ).fit(X, y)
    assert not hasattr(pre, "dominant_") and len(pre.final_.net_.module_.encoders) == 1
    assert pre.final_.net_.module_.input_dropout.p == 0.25
    with pytest.raises(ValueError, match=r"'input_dropout' parameter of "
                                         r"MLEEFusionClassifier\(fusion=\.\.\.\)"):
        MLEEFusionClassifier(BASE, fusion={"input_dropout": -0.1},
                             classes=CLASSES).fit(X, y)
    with pytest.raises(ValueError, match="input_dropout"):
        FrozenFusionClassifier.from_estimators(
            [fusion.mlee_], classes=CLASSES, input_dropout=1.5).fit(X, y)
    only = MLEEFusionClassifier(BASE, mode="mlee_only", classes=CLASSES,
                                random_state=0, **FAST_LR).fit(X, y)
    assert only.final_ is only.mlee_
    proba = only.predict_proba(X)  # per-class existence probabilities
    assert proba.shape == (len(X), 3) and not np.allclose(proba.sum(axis=1), 1)


def test_mlee_defaults_follow_the_paper():
    clf = MLEEFusionClassifier()
    params = clf.get_params()
    assert (params["pretrain__lr"], params["finetune__lr"], params["fusion__lr"],
            params["dominant__lr"]) == (2e-4, 1e-4, 5e-5, 2e-4)
    assert params["fusion__hidden_units"] == 64  # Table 2
    assert clf.mode == "fusion" and clf.training_set == "all"


def test_mlee_training_sets(corpus):
    X, y, _ = corpus
    y = y.copy()
    y.iloc[:6] = [[("fru",)] * 3] * 6  # no target emotion: MLEE negatives
    base = clone(BASE).set_params(max_epochs=2)
    all_ = MLEEFusionClassifier(base, mode="mlee_only", classes=CLASSES,
                                random_state=0).fit(X, y)
    with pytest.warns(DroppedRowsWarning, match=r"pre-trained on the \d+ of \d+ "
                      "utterances with a dominant emotion"):
        dom = MLEEFusionClassifier(base, mode="mlee_only", training_set="dominant",
                                   classes=CLASSES, random_state=0).fit(X, y)
    n_all = all_.mlee_.net_.history[0, "batches"]
    n_dom = dom.mlee_.net_.history[0, "batches"]
    size = lambda h: sum(b.get("train_batch_size", 0) for b in h)  # noqa: E731
    assert size(n_all) > size(n_dom)


def test_mlee_existence_min_votes(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=1)
    fits = {k: MLEEFusionClassifier(base, mode="mlee_only", classes=CLASSES,
                                    existence_min_votes=k, random_state=0).fit(X, y)
            for k in (1, 2)}
    enc = {k: f.mlee_.target_encoder_ for k, f in fits.items()}
    assert enc[1].min_votes == 1 and enc[2].min_votes == 2
    ones, twos = (np.asarray(enc[k].transform(y)) for k in (1, 2))
    assert (twos <= ones).all() and twos.sum() < ones.sum()
    with pytest.raises(ValueError, match="existence_min_votes"):
        MLEEFusionClassifier(base, existence_min_votes=0).fit(X, y)
    # more votes than any utterance has raters: refused by the targets' own check,
    # not by the network's "two classes" rule
    most = int(np.asarray(enc[1]._class_counts(enc[1]._ratings(y))[0]).max())
    with pytest.raises(ValueError, match=f"min_votes={most + 1} leaves no class"):
        MLEEFusionClassifier(base, mode="mlee_only", classes=CLASSES,
                             existence_min_votes=most + 1, random_state=0).fit(X, y)


@pytest.mark.parametrize("training_set", ["all", "dominant"])
def test_mlee_final_validation_holds_rows_out_of_every_model(corpus, monkeypatch,
                                                             training_set):
    from sklearn_ser.models._sequence.base import SequenceClassifier

    X, y, _ = corpus
    y = y.copy()
    y.iloc[:3] = [[("fru",)] * 3] * 3  # no target emotion: out of "dominant"
    seen = []  # (training rows, validation rows) of every net, in fit order
    real = SequenceClassifier._train_net

    def spy(self, stages, stage, tensors, target_t, t, rows, valid_ds, seed, **kw):
        seen.append((np.asarray(rows), None if valid_ds is None else len(valid_ds)))
        return real(self, stages, stage, tensors, target_t, t, rows, valid_ds, seed,
                    **kw)

    monkeypatch.setattr(SequenceClassifier, "_train_net", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        clf = MLEEFusionClassifier(BASE, classes=CLASSES, training_set=training_set,
                                   final_validation=0.34, random_state=0,
                                   **FAST_LR).fit(X, y)
    held = clf.held_out_
    assert clf.held_out_by_ == "speakers" and 0 < held.sum() < len(X)
    assert not held[:3].any() or training_set == "all"
    (mlee, n_mlee), (dom, n_dom), (final, n_final) = seen
    # MLEE (existence: every row kept) trains on exactly the other rows
    from sklearn_ser.annotations import HardLabels

    rows = (np.arange(len(X)) if training_set == "all" else
            np.flatnonzero(HardLabels(CLASSES).fit(y).transform(y).notna()))
    np.testing.assert_array_equal(mlee, np.flatnonzero(~held[rows]))
    assert n_mlee == held[rows].sum()
    assert n_dom is not None and n_final is not None  # all three stop on them
    assert "valid_loss" in clf.final_.history_.columns
    assert MLEEFusionClassifier(BASE).final_validation is None


@pytest.mark.parametrize("make", [
    lambda b: StackedAnnotatorClassifier(b, components="CrowdH", classes=CLASSES,
                                         final_validation=0.3, random_state=0),
    lambda b: MLEEFusionClassifier(b, mode="mlee_only", classes=CLASSES,
                                   final_validation=0.3, random_state=0)],
    ids=["stacked_one_component", "mlee_only"])
def test_final_validation_without_a_final_layer_says_it_is_not_used(corpus, make):
    X, y, _ = corpus
    with pytest.warns(SERWarning, match=r"final_validation=0.3 is not used: .* no "
                      r"rows are held out"):
        clf = make(clone(BASE).set_params(max_epochs=1)).fit(X, y)
    assert clf.held_out_ is None and clf.held_out_by_ is None


# --- Fujioka et al. ---------------------------------------------------------
def test_noisy_label_meta_attributes(corpus):
    X, y, _ = corpus
    clf = NoisyLabelMetaClassifier(classes=CLASSES, max_epochs=6, random_state=0,
                                   **NOISY).fit(X, y)
    w = clf.sample_weights_
    assert w.index.isin(X.index).all()
    np.testing.assert_allclose(w.mean(), 1.0, rtol=1e-5)  # Eq. 8
    assert (w > 0).all()
    dist = clf.label_distributions_
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=1e-5)
    assert set(clf.corrected_labels_) <= set(CLASSES)
    tm = clf.transition_matrix_
    assert list(tm.index) == CLASSES and list(tm.columns) == CLASSES
    np.testing.assert_allclose(tm.sum(axis=1), 1.0)
    assert list(clf.weights_by_class_.index) == ["initial", "learned"]
    assert set(clf.history_["phase"]) == {"meta"}


def test_noisy_label_eq4_initial_weights():
    X, y, _ = make_corpus(60)
    labels = np.array(["anger"] * 30 + ["neutral"] * 20 + ["sadness"] * 10)
    clf = NoisyLabelMetaClassifier(update="none", max_epochs=2, random_state=0,
                                   **NOISY)
    clf.fit(X, pd.Series(labels, index=X.index))
    init = clf.weights_by_class_.loc["initial"]
    # w_n = n_c / mean_n(n_c(n)): frequent classes start higher (less weight)
    assert init["anger"] > init["neutral"] > init["sadness"]
    # with update="none" nothing is learned: baseline BLSTM + ATT
    pd.testing.assert_series_equal(clf.weights_by_class_.loc["learned"], init,
                                   check_names=False)
    assert (clf.corrected_labels_ == clf.gold_labels_).all()


@pytest.mark.parametrize("update, pretrain, phases", [
    ("L", False, {"meta"}), ("w", False, {"meta"}), ("Lw", True, {"gold", "meta"}),
])
def test_noisy_label_variants(corpus, update, pretrain, phases):
    X, y, _ = corpus
    clf = NoisyLabelMetaClassifier(update=update, pretrain=pretrain, classes=CLASSES,
                                   max_epochs=3, random_state=0, **NOISY).fit(X, y)
    assert set(clf.history_["phase"]) == phases
    if update == "L":
        np.testing.assert_allclose(clf.weights_by_class_.loc["learned"],
                                   clf.weights_by_class_.loc["initial"], rtol=1e-6)
    if update == "w":
        assert (clf.corrected_labels_ == clf.gold_labels_).all()


@given(gold=st.lists(st.integers(0, 3), min_size=1, max_size=40),
       steps=st.lists(st.floats(-5.0, 1e6), min_size=40, max_size=40),
       mode=st.sampled_from(["global", "class"]))
def test_rescaled_weights_are_positive_mean_one_and_keep_class_balance(gold, steps,
                                                                       mode):
    """After any update (a huge step included), w is at least min_weight with
    mean 1; with weight_norm="class" every gold class keeps the mean w of
    Eq. 4 (its initial class balance)."""
    g, _, w_init = label_weight_init(np.array(gold), 4)
    w = w_init + torch.tensor(steps[:len(gold)], dtype=w_init.dtype)
    rescale_weights(w, g, w_init, 0.01, mode)
    assert torch.isfinite(w).all() and float(w.min()) >= 0.01 * (1 - 1e-3)
    np.testing.assert_allclose(float(w.mean()), 1.0, rtol=1e-5)
    if mode == "class":
        for k in set(gold):
            np.testing.assert_allclose(float(w[g == k].mean()),
                                       float(w_init[g == k].mean()), rtol=1e-5)


@given(counts=st.lists(st.integers(1, 3000), min_size=2, max_size=4),
       min_weight=st.floats(1e-3, 2.0), seed=st.integers(0, 2**16),
       mode=st.sampled_from(["global", "class"]))
@settings(max_examples=40, deadline=None)
def test_rescaled_weights_when_a_mean_is_below_min_weight(counts, min_weight, seed,
                                                          mode):
    """A class rare enough for its Eq. 4 mean to be below min_weight (or a
    min_weight above the overall mean): the means are kept and become the
    floor; every other value is at least min_weight."""
    gold = np.repeat(np.arange(len(counts)), counts)
    g, _, w_init = label_weight_init(gold, len(counts))
    rng = np.random.default_rng(seed)
    w = w_init * torch.tensor(rng.lognormal(0, 2, len(gold)), dtype=w_init.dtype)
    rescale_weights(w, g, w_init, min_weight, mode)
    assert torch.isfinite(w).all()
    np.testing.assert_allclose(float(w.mean()), 1.0, rtol=1e-4)
    groups = [g == k for k in range(len(counts))] if mode == "class" else [g >= 0]
    for rows in groups:
        keep = float(w_init[rows].mean())
        np.testing.assert_allclose(float(w[rows].mean()), keep, rtol=1e-4)
        assert float(w[rows].min()) >= min(min_weight, keep) * (1 - 1e-3)


def test_noisy_label_class_weight_norm_keeps_eq4_balance(corpus):
    X, y, _ = corpus
    params = dict(classes=CLASSES, max_epochs=4, random_state=0, meta_lr=1.0,
                  **NOISY)
    glob = NoisyLabelMetaClassifier(**params).fit(X, y)
    cls = NoisyLabelMetaClassifier(weight_norm="class", **params).fit(X, y)
    by_class = cls.weights_by_class_
    np.testing.assert_allclose(by_class.loc["learned"], by_class.loc["initial"],
                               rtol=1e-5)
    # w still learned within each class, and the global rule moves the means
    assert cls.sample_weights_.groupby(cls.gold_labels_).std().max() > 1e-3
    assert not np.allclose(glob.weights_by_class_.loc["learned"],
                           glob.weights_by_class_.loc["initial"], rtol=1e-3)
    with pytest.raises(ValueError, match="weight_norm"):
        NoisyLabelMetaClassifier(weight_norm="speaker", **params).fit(X, y)


def test_noisy_label_needs_hard_gold(corpus):
    X, y, _ = corpus
    with pytest.raises(ValueError, match="hard gold labels"):
        NoisyLabelMetaClassifier("soft", max_epochs=1).fit(X, y)


# --- in sklearn tools -------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_meta_estimators_in_cross_validate(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    for est in (StackedAnnotatorClassifier(base, components="CrowdHS",
                                           classes=CLASSES),
                MLEEFusionClassifier(base, mode="pretrain", classes=CLASSES),
                NoisyLabelMetaClassifier(classes=CLASSES, max_epochs=2, **NOISY)):
        cv = cross_validate(est, X, y, groups=X["session"], cv=LeaveOneGroupOut(),
                            scoring=ser_scoring(classes=CLASSES, warn=False))
        assert len(cv["test_uar"]) == 3


@pytest.mark.filterwarnings("default::sklearn_ser.exceptions.DroppedRowsWarning")
@pytest.mark.parametrize("meta", ["stacked", "mlee"])
def test_meta_estimators_report_the_rows_their_components_left_out(corpus, meta):
    from sklearn_ser.exceptions import DroppedRowsWarning

    X, y, _ = corpus
    y = y.copy()
    # three utterances rated "other" by everyone: no hard or soft target
    for uid in y.index[:3]:
        y.loc[uid] = [("other",), ("other",), ("other",)]
    base = clone(BASE).set_params(max_epochs=2)
    if meta == "stacked":
        est = StackedAnnotatorClassifier(base, components="CrowdHS", classes=CLASSES,
                                         random_state=0)
    else:
        est = MLEEFusionClassifier(base, classes=CLASSES, random_state=0, **FAST_LR)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    dropped = [str(w.message) for w in caught
               if issubclass(w.category, DroppedRowsWarning)]
    assert len(dropped) == 1, dropped  # one summary, not one per component
    assert dropped[0].startswith(type(est).__name__)
    assert "no_target: 3" in dropped[0] and "of 60" in dropped[0]


def test_noisy_class_weight_is_used_and_defaults_to_eq4_weights(corpus):
    X, y, _ = corpus
    params = dict(classes=CLASSES, max_epochs=2, random_state=0, **NOISY)
    plain = NoisyLabelMetaClassifier(**params).fit(X, y)
    assert plain.net_.criterion_.weight is None  # Eq. 4's w_n balance the classes
    balanced = NoisyLabelMetaClassifier(class_weight="balanced", **params).fit(X, y)
    gold = plain.gold_labels_.value_counts().reindex(CLASSES).to_numpy(float)
    np.testing.assert_allclose(balanced.net_.criterion_.weight.numpy(),
                               gold.sum() / (len(CLASSES) * gold), rtol=1e-6)
    manual = NoisyLabelMetaClassifier(class_weight={"anger": 3.0}, **params).fit(X, y)
    np.testing.assert_allclose(manual.net_.criterion_.weight.numpy(), [3.0, 1.0, 1.0])
    assert not np.allclose(plain.predict_proba(X), manual.predict_proba(X))
    # the early-stopping loss is the gold-label cross entropy
    assert manual.net_.valid_criterion_.kind == "hard"


def test_noisy_label_state_lives_on_the_nets_device():
    import torch

    from sklearn_ser.models._sequence.noisy_label import label_weight_init

    gold, L, w = label_weight_init(np.array([0, 1, 1, 2]), 3, 2.0, device="meta")
    assert {gold.device.type, L.device.type, w.device.type} == {"meta"}
    gold, L, w = label_weight_init(np.array([0, 1, 1, 2]), 3, 2.0)
    np.testing.assert_allclose(L.numpy(), 2.0 * np.eye(3)[[0, 1, 1, 2]])
    # Eq. 4: class frequency over its mean (frequent classes start heavier)
    np.testing.assert_allclose(w.numpy(), np.array([1, 2, 2, 1]) / 1.5)
    assert torch.is_tensor(w)


def test_meta_estimators_delegate_only_what_the_final_model_has(corpus):
    X, y, _ = corpus
    clf = MLEEFusionClassifier(clone(BASE).set_params(max_epochs=1), mode="mlee_only",
                               classes=CLASSES, random_state=0).fit(X, y)
    assert hasattr(clf, "attention_weights") and hasattr(clf, "transform")
    clf.final_ = object()  # a final model without them
    assert not hasattr(clf, "attention_weights")
    assert not hasattr(clf, "decision_function")


@pytest.mark.parametrize("make", [
    lambda: StackedAnnotatorClassifier(clone(BASE).set_params(max_epochs=2),
                                       components="CrowdHS", classes=CLASSES,
                                       random_state=0, n_jobs=2),
    lambda: NoisyLabelMetaClassifier(classes=CLASSES, max_epochs=2, random_state=0,
                                     **NOISY),
], ids=["stacked_n_jobs2", "noisy"])
def test_meta_estimators_train_the_same_from_a_store_on_disk(corpus, tmp_path, make):
    """Frames in a store (workers receive its path) give the predictions of
    frames in memory."""
    from sklearn_ser.features import FramesArray

    X, y, _ = corpus
    disk = X.copy()
    disk["frames"] = pd.Series(FramesArray.from_list(list(X["frames"])).save(
        tmp_path / "f"), index=X.index)
    assert disk["frames"].array.on_disk
    np.testing.assert_allclose(make().fit(disk, y).predict_proba(disk),
                               make().fit(X, y).predict_proba(X), atol=1e-6)


def test_final_max_epochs_sets_the_heads_length_only(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=3, validation_fraction=None)
    stacked = StackedAnnotatorClassifier(base, components="CrowdHS", classes=CLASSES,
                                         final={"max_epochs": 1},
                                         random_state=0).fit(X, y)
    assert stacked.final_.n_iter_ == 1
    assert all(c.n_iter_ == 3 for c in stacked.components_.values())
    mlee = MLEEFusionClassifier(base, classes=CLASSES, fusion={"max_epochs": 2},
                                random_state=0).fit(X, y)
    assert mlee.final_.n_iter_ == 2
    assert mlee.mlee_.n_iter_ == mlee.dominant_.n_iter_ == 3
    # None: the head trains like the building block
    assert StackedAnnotatorClassifier(base, components="CrowdHS", classes=CLASSES,
                                      random_state=0).fit(X, y).final_.n_iter_ == 3


def test_mlee_head_started_as_the_dominant_model(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    # a learning rate too small to move it: the fused model is the dominant one
    still = MLEEFusionClassifier(base, classes=CLASSES, random_state=0,
                                 final_init="dominant",
                                 **{**FAST_LR, "fusion": {"lr": 1e-12}}).fit(X, y)
    head = still.final_.net_.module_
    assert head.skip is not None and head.skip.weight.requires_grad
    assert all(not p.requires_grad for p in head.encoders.parameters())
    np.testing.assert_allclose(still.decision_function(X),
                               still.dominant_.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(still.predict(X), still.dominant_.predict(X))
    # at its learning rate it learns what the MLEE encoder adds
    moved = MLEEFusionClassifier(base, classes=CLASSES, random_state=0,
                                 final_init="dominant", **FAST_LR).fit(X, y)
    assert not np.allclose(moved.decision_function(X),
                           moved.dominant_.decision_function(X), atol=1e-3)
    for mode in ("pretrain", "mlee_only"):
        with pytest.raises(ValueError, match=f"final_init='dominant'.*mode='{mode}'"):
            MLEEFusionClassifier(base, mode=mode, final_init="dominant",
                                 classes=CLASSES).fit(X, y)
    with pytest.raises(ValueError, match="final_init"):
        MLEEFusionClassifier(base, final_init="first", classes=CLASSES).fit(X, y)


def test_fusion_head_first_init_with_a_dense_layer(corpus):
    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=2)
    parts = [clone(base).set_params(target=t, classes=CLASSES, random_state=i).fit(X, y)
             for i, t in enumerate(["soft", "hard"])]
    head = FrozenFusionClassifier.from_estimators(
        parts, like=base, init="first", hidden_units=8, lr=1e-12,
        random_state=0).set_params(max_epochs=1, validation_fraction=None).fit(X, y)
    np.testing.assert_allclose(head.decision_function(X),
                               parts[0].decision_function(X), atol=1e-5)
    # the new part's output starts at zero, its Dense layer at random
    module = head.net_.module_
    assert float(module.classifier[-1].weight.detach().abs().sum()) < 1e-6
    assert float(module.classifier[0].weight.detach().abs().sum()) > 0


def test_mlee_dominant_weight_blends_the_fused_and_the_dominant_model(corpus, tmp_path):
    import joblib

    from sklearn_ser.models import combine_probabilities

    X, y, _ = corpus
    base = clone(BASE).set_params(max_epochs=3)
    plain = MLEEFusionClassifier(base, classes=CLASSES, random_state=0,
                                 **FAST_LR).fit(X, y)
    assert plain.blend_weights_ is None
    np.testing.assert_allclose(plain.predict_proba(X), plain.final_.predict_proba(X))
    half = MLEEFusionClassifier(base, classes=CLASSES, random_state=0,
                                dominant_weight=0.5, **FAST_LR).fit(X, y)
    assert half.blend_weights_ == (0.5, 0.5)
    # the same seeds train the same three models: only the prediction differs
    np.testing.assert_allclose(half.final_.predict_proba(X),
                               plain.final_.predict_proba(X), atol=1e-6)
    fused, dom = half.final_.predict_proba(X), half.dominant_.predict_proba(X)
    proba = half.predict_proba(X)
    np.testing.assert_allclose(proba, combine_probabilities([fused, dom]), atol=1e-9)
    np.testing.assert_allclose(proba, np.sqrt(fused * dom)
                               / np.sqrt(fused * dom).sum(axis=1, keepdims=True),
                               atol=1e-6)
    np.testing.assert_array_equal(half.predict(X),
                                  half.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(half.decision_function(X)), proba, atol=1e-9)
    table = half.score_components(X, y)
    assert list(table.index) == ["mlee_only", "dominant", "fusion", "fusion+dominant"]
    # weight 1: the dominant model's prediction
    whole = clone(half).set_params(dominant_weight=1.0).fit(X, y)
    np.testing.assert_array_equal(whole.predict(X), whole.dominant_.predict(X))
    # a fitted blend survives joblib.dump
    path = tmp_path / "mlee.joblib"
    joblib.dump(half, path)
    back = joblib.load(path)
    np.testing.assert_allclose(back.predict_proba(X), proba, atol=1e-6)
    for mode in ("pretrain", "mlee_only"):
        with pytest.raises(ValueError, match=f"dominant_weight=0.5.*mode='{mode}'"):
            MLEEFusionClassifier(base, mode=mode, dominant_weight=0.5,
                                 classes=CLASSES).fit(X, y)
    with pytest.raises(ValueError, match="dominant_weight"):
        MLEEFusionClassifier(base, dominant_weight=1.5, classes=CLASSES).fit(X, y)
