"""stopping_window: early stopping on the mean of the last epochs' held-out
scores, restoring the mean of those epochs' weights, on every network."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import EarlyStopping

from sklearn_ser.models import BLSTMAttentionClassifier, NoisyLabelMetaClassifier
from sklearn_ser.models._nn.net import WindowedEarlyStopping

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.05, batch_size=8,
            validation_fraction=0.25, random_state=0)


def mixed_speakers(n=64, n_speakers=8, seed=0, classes=("anger", "sadness")):
    """Every speaker shows every emotion, with overlapping classes (a noisy
    held-out curve)."""
    rng = np.random.default_rng(seed)
    speaker = np.arange(n) % n_speakers
    label = np.array(classes, dtype=object)[rng.integers(0, len(classes), n)]
    offset = {c: 0.6 * k for k, c in enumerate(classes)}
    frames = [(rng.normal(size=(int(rng.integers(4, 10)), 3)) + offset[c]).astype(
        np.float32) for c in label]
    idx = pd.Index([f"u{i:03d}" for i in range(n)], name="utterance")
    X = pd.DataFrame({"speaker": [f"spk{s}" for s in speaker]}, index=idx)
    X["frames"] = pd.Series(frames, index=idx, dtype=object)
    return X, pd.Series(label, index=idx)


def recording_epochs(monkeypatch):
    """Record the parameters after every epoch, as the stopper sees them."""
    seen = []
    original = WindowedEarlyStopping.on_epoch_end

    def spy(self, net, **kwargs):
        seen.append({k: v.detach().clone() for k, v in net.module_.named_parameters()})
        return original(self, net, **kwargs)

    monkeypatch.setattr(WindowedEarlyStopping, "on_epoch_end", spy)
    return seen


@pytest.mark.parametrize("window", [2, 3, 5])
def test_restores_the_mean_of_the_best_windows_weights(monkeypatch, window):
    X, y = mixed_speakers()
    seen = recording_epochs(monkeypatch)
    clf = BLSTMAttentionClassifier(max_epochs=12, patience=12,
                                   stopping_window=window, **TINY).fit(X, y)
    h = clf.history_
    loss = h["valid_loss"].to_numpy()
    smoothed = pd.Series(loss).rolling(window, min_periods=1).mean().to_numpy()
    np.testing.assert_allclose(h["valid_loss_mean"].to_numpy(), smoothed, rtol=1e-6)
    # the best epoch is the smoothed curve's minimum (the first, on ties)
    assert clf.best_epoch_ == int(np.argmin(smoothed)) + 1
    first = max(0, clf.best_epoch_ - window)
    for name, value in clf.module_.named_parameters():
        mean = torch.stack([w[name] for w in seen[first:clf.best_epoch_]]).mean(0)
        torch.testing.assert_close(value.detach(), mean, rtol=1e-5, atol=1e-6)


def test_patience_counts_epochs_without_a_better_mean():
    X, y = mixed_speakers()
    clf = BLSTMAttentionClassifier(max_epochs=60, patience=3, lr=0.3, stopping_window=3,
                                   **{k: v for k, v in TINY.items() if k != "lr"}
                                   ).fit(X, y)
    smoothed = clf.history_["valid_loss_mean"].to_numpy()
    assert len(smoothed) < 60  # it stopped
    assert len(smoothed) - clf.best_epoch_ == 3
    best = smoothed[clf.best_epoch_ - 1]
    assert np.all(smoothed[clf.best_epoch_:] >= best * (1 - 1e-4))


def test_window_one_is_skorchs_early_stopping():
    X, y = mixed_speakers()
    one = BLSTMAttentionClassifier(max_epochs=6, **TINY).fit(X, y)
    stopper = dict(one.net_.callbacks_)["early_stopping"]
    assert type(stopper) is EarlyStopping
    assert "valid_loss_mean" not in one.history_
    again = BLSTMAttentionClassifier(max_epochs=6, stopping_window=1, **TINY).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), again.predict_proba(X))


def test_uar_monitor_keeps_the_highest_mean():
    X, y = mixed_speakers()
    clf = BLSTMAttentionClassifier(max_epochs=10, patience=10, monitor="uar",
                                   stopping_window=3, **TINY).fit(X, y)
    smoothed = clf.history_["valid_uar_mean"].to_numpy()
    assert clf.best_epoch_ == int(np.argmax(smoothed)) + 1


def test_refit_trains_as_many_epochs_as_the_window_chose():
    X, y = mixed_speakers()
    clf = BLSTMAttentionClassifier(max_epochs=10, patience=4, stopping_window=3,
                                   refit=True, **TINY).fit(X, y)
    val = clf.history_[clf.history_["stage"] == "validation"]
    ref = clf.history_[clf.history_["stage"] == "refit"]
    assert clf.best_epoch_ == int(np.argmin(val["valid_loss_mean"].to_numpy())) + 1
    assert len(ref) == clf.best_epoch_


def test_noisy_label_model_keeps_the_labels_of_the_kept_epoch():
    X, y = mixed_speakers()
    clf = NoisyLabelMetaClassifier(max_epochs=6, patience=6, stopping_window=3,
                                   **{k: v for k, v in TINY.items()
                                      if k not in ("head_units",)}).fit(X, y)
    smoothed = clf.history_["valid_loss_mean"].to_numpy()
    assert clf.best_epoch_ == int(np.argmin(smoothed)) + 1
    assert np.isfinite(clf.predict_proba(X)).all()


def test_windowed_fit_clones_and_pickles():
    X, y = mixed_speakers()
    clf = BLSTMAttentionClassifier(max_epochs=4, stopping_window=2, **TINY).fit(X, y)
    assert clone(clf).get_params()["stopping_window"] == 2
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    stopper = dict(clf.net_.callbacks_)["early_stopping"]
    assert stopper.recent_ == []  # the window's weights are not kept


@settings(max_examples=12, deadline=None)
@given(value=st.one_of(st.integers(max_value=0), st.floats(allow_nan=True),
                       st.text(max_size=2), st.none()))
def test_invalid_windows_are_rejected(value):
    X, y = mixed_speakers(n=16)
    clf = BLSTMAttentionClassifier(stopping_window=value, max_epochs=1)
    with pytest.raises(InvalidParameterError, match="stopping_window"):
        clf.fit(X, y)
