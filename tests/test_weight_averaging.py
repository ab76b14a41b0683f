"""weight_averaging: the final weights are the mean of the weights after each
of the last epochs (stochastic weight averaging), on every network."""


import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from test_refit import ctrl_c_after_epoch, one_emotion_speakers

from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    FrozenFusionClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    StackedAnnotatorClassifier,
)

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02, batch_size=8,
            validation_fraction=None, random_state=0)


def weights(clf):
    return {k: v.detach().clone() for k, v in clf.module_.named_parameters()}


def test_averaged_weights_are_the_mean_of_the_last_epochs():
    X, y = one_emotion_speakers()
    # the same seed follows the same trajectory: a net stopped after 4, 5
    # and 6 epochs holds the weights after those epochs
    per_epoch = [weights(BLSTMAttentionClassifier(max_epochs=e, **TINY).fit(X, y))
                 for e in (4, 5, 6)]
    avg = BLSTMAttentionClassifier(max_epochs=6, weight_averaging=0.5, **TINY).fit(X, y)
    for name, value in weights(avg).items():
        mean = torch.stack([w[name] for w in per_epoch]).mean(dim=0)
        torch.testing.assert_close(value, mean, rtol=1e-5, atol=1e-6)
    # not the last epoch's weights
    assert any(not torch.allclose(v, per_epoch[-1][k]) for k, v in weights(avg).items())
    assert avg.history_["averaged"].tolist() == [False, False, False, True, True, True]
    # the predictions are the averaged network's, and repeatable
    again = BLSTMAttentionClassifier(max_epochs=6, weight_averaging=0.5,
                                     **TINY).fit(X, y)
    np.testing.assert_allclose(avg.predict_proba(X), again.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("share,epochs,averaged", [
    (1.0, 5, 5), (0.5, 5, 2), (0.01, 5, 1), (0.3, 10, 3), (0.0, 5, 0)])
def test_share_of_epochs_averaged(share, epochs, averaged):
    X, y = one_emotion_speakers(n=24)
    clf = BLSTMAttentionClassifier(max_epochs=epochs, weight_averaging=share,
                                   **TINY).fit(X, y)
    got = int(clf.history_["averaged"].sum()) if "averaged" in clf.history_ else 0
    assert got == averaged
    if averaged:  # the window is the last epochs
        assert clf.history_["averaged"].tolist()[-averaged:] == [True] * averaged


@pytest.mark.parametrize("cls", [BLSTMAttentionClassifier, NoisyLabelMetaClassifier])
def test_early_stopping_without_refit_is_an_error(cls):
    X, y = one_emotion_speakers(n=24)
    clf = cls(weight_averaging=0.5, validation_fraction=0.3, max_epochs=3)
    with pytest.raises(ValueError, match=r"weight_averaging=0\.5.*validation_fraction"
                                         r"=None.*refit=True"):
        clf.fit(X, y)


@settings(max_examples=15, deadline=None)
@given(value=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1 + 1e-9),
                       st.just(float("nan")), st.text(max_size=3), st.none()))
def test_invalid_shares_are_rejected(value):
    X, y = one_emotion_speakers(n=16)
    clf = BLSTMAttentionClassifier(weight_averaging=value, max_epochs=1, **{
        k: v for k, v in TINY.items() if k != "random_state"})
    with pytest.raises(InvalidParameterError, match="weight_averaging"):
        clf.fit(X, y)


def test_refit_network_averages_its_last_epochs():
    X, y = one_emotion_speakers()
    clf = BLSTMAttentionClassifier(**{**TINY, "validation_fraction": 0.3},
                                   max_epochs=8, patience=3, refit=True,
                                   weight_averaging=0.5).fit(X, y)
    ref = clf.history_[clf.history_["stage"] == "refit"]
    val = clf.history_[clf.history_["stage"] == "validation"]
    assert len(ref) == clf.best_epoch_
    assert int(ref["averaged"].sum()) == max(1, round(0.5 * clf.best_epoch_))
    assert not val["averaged"].fillna(False).astype(bool).any()  # early stopping


def test_noisy_label_model_averages_each_phase():
    X, y = one_emotion_speakers()
    clf = NoisyLabelMetaClassifier(pretrain=True, max_epochs=4, weight_averaging=0.5,
                                   **{**TINY, "head_units": None}).fit(X, y)
    h = clf.history_
    for phase in ("gold", "meta"):
        assert h.loc[h["phase"] == phase, "averaged"].tolist() == [False, False,
                                                                  True, True]


def test_meta_estimators_and_fusion_heads_inherit_it():
    X, y = one_emotion_speakers()
    base = BLSTMAttentionClassifier(max_epochs=4, weight_averaging=0.5, **TINY)
    mlee = MLEEFusionClassifier(base, random_state=0).fit(X, y)
    for part in (mlee.mlee_, mlee.dominant_):
        assert part.history_["averaged"].sum() == 2
    head = FrozenFusionClassifier.from_estimators([mlee.dominant_], like=base)
    assert head.weight_averaging == 0.5
    st_ = StackedAnnotatorClassifier(base, components="CrowdHS",
                                     random_state=0).fit(X, y)
    assert all(c.weight_averaging == 0.5 for c in st_.components_.values())
    assert clone(base).get_params()["weight_averaging"] == 0.5


def test_ctrl_c_keeps_the_mean_of_the_epochs_trained(monkeypatch):
    """Ctrl-C inside the averaging window: the estimator says so and holds the
    mean of the averaged epochs trained so far."""
    X, y = one_emotion_speakers()
    per_epoch = [weights(BLSTMAttentionClassifier(max_epochs=e, **TINY).fit(X, y))
                 for e in (4, 5)]
    ctrl_c_after_epoch(monkeypatch, 5)
    clf = BLSTMAttentionClassifier(max_epochs=6, weight_averaging=0.5, **TINY)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.interrupted_ and clf.n_iter_ == 5
    for name, value in weights(clf).items():
        mean = torch.stack([w[name] for w in per_epoch]).mean(dim=0)
        torch.testing.assert_close(value, mean, rtol=1e-5, atol=1e-6)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(epochs=st.integers(1, 6), share=st.floats(0.05, 1.0), n=st.integers(12, 30))
def test_averaged_epochs_property(epochs, share, n):
    """Over generated epoch counts and shares: max(1, round(share * epochs))
    epochs are averaged, the last ones, and predictions are finite
    distributions."""
    X, y = one_emotion_speakers(n=n)
    clf = BLSTMAttentionClassifier(max_epochs=epochs, weight_averaging=share,
                                   **TINY).fit(X, y)
    flags = clf.history_["averaged"].tolist()
    k = max(1, round(share * epochs))
    assert flags == [False] * (epochs - k) + [True] * k
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_averaged_fit_clones_pickles_and_dumps(tmp_path):
    """The API contract with averaging on (the estimator checks run on the
    defaults): clone keeps the parameter, a pickled or joblib-dumped fitted
    model predicts the same, and the callback's copy of the network is not
    kept in it."""
    import pickle

    import joblib

    X, y = one_emotion_speakers(n=24)
    clf = BLSTMAttentionClassifier(max_epochs=4, weight_averaging=0.5, **TINY).fit(X, y)
    assert clone(clf).get_params()["weight_averaging"] == 0.5
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_allclose(joblib.load(tmp_path / "m.joblib").predict_proba(X),
                               clf.predict_proba(X))
    averager = dict(clf.net_.callbacks_)["weight_averaging"]
    assert averager.averaged_ is None
