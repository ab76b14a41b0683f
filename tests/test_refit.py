"""refit=True: the held-out speakers choose the number of epochs, then a new
network trains on every training utterance for that many (issue 23)."""

import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_ser.experiments import chosen_epochs
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    InnerSplitWarning,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    SeedEnsembleClassifier,
    StackedAnnotatorClassifier,
)

TINY = dict(dense_units=8, lstm_units=4, head_units=8, lr=0.01, batch_size=8,
            max_epochs=12, patience=3, validation_fraction=0.3)


def one_emotion_speakers(n=48, n_speakers=8, seed=0, classes=("anger", "sadness")):
    """Each speaker shows one emotion (the speakers predict the labels)."""
    rng = np.random.default_rng(seed)
    speaker = np.arange(n) % n_speakers
    label = np.array(classes, dtype=object)[speaker % len(classes)]
    offset = {c: k for k, c in enumerate(classes)}
    frames = [(rng.normal(size=(int(rng.integers(4, 12)), 3)) + offset[c]).astype(
        np.float32) for c in label]
    idx = pd.Index([f"u{i:03d}" for i in range(n)], name="utterance")
    X = pd.DataFrame({"speaker": [f"spk{s}" for s in speaker]}, index=idx)
    X["frames"] = pd.Series(frames, index=idx, dtype=object)
    return X, pd.Series(label, index=idx)


def trained_rows(net):
    """The training utterances one epoch of a skorch net went through."""
    return sum(b["train_batch_size"] for b in net.history[-1, "batches"]
               if "train_batch_size" in b)


@pytest.mark.parametrize("cls", [BLSTMAttentionClassifier, NoisyLabelMetaClassifier])
def test_refit_trains_every_utterance_for_the_chosen_epochs(cls):
    X, y = one_emotion_speakers()
    with pytest.warns(InnerSplitWarning, match="refit=True"):
        held = cls(refit=False, random_state=0, **TINY).fit(X, y)
    clf = cls(refit=True, random_state=0, **TINY).fit(X, y)
    # the validation stage is the plain early-stopped fit (same seed)
    val = clf.history_[clf.history_["stage"] == "validation"]
    np.testing.assert_allclose(val["train_loss"].to_numpy(),
                               held.history_["train_loss"].to_numpy(), rtol=1e-5)
    assert clf.best_epoch_ == held.best_epoch_
    ref = clf.history_[clf.history_["stage"] == "refit"]
    assert len(ref) == clf.best_epoch_ == clf.n_iter_
    assert ref["valid_loss"].isna().all() if "valid_loss" in ref else True
    # every training utterance, not the 70 % left after the held-out speakers
    assert trained_rows(clf.net_) == len(X)
    assert trained_rows(held.net_) < len(X)
    assert list(clf.history_.columns)[0] == "stage"
    assert "stage" not in held.history_.columns


def test_noisy_refit_describes_every_training_utterance():
    X, y = one_emotion_speakers()
    clf = NoisyLabelMetaClassifier(refit=True, random_state=0, **TINY).fit(X, y)
    assert len(clf.sample_weights_) == len(X)
    assert set(clf.sample_weights_.index) == set(X.index)
    with pytest.warns(InnerSplitWarning):
        held = NoisyLabelMetaClassifier(random_state=0, **TINY).fit(X, y)
    assert len(held.sample_weights_) < len(X)


def test_noisy_refit_keeps_each_phase_length():
    X, y = one_emotion_speakers()
    clf = NoisyLabelMetaClassifier(refit=True, pretrain=True, random_state=0,
                                   **TINY).fit(X, y)
    h = clf.history_
    val, ref = h[h["stage"] == "validation"], h[h["stage"] == "refit"]
    # per phase, the refit runs up to the epoch early stopping kept
    for phase in ("gold", "meta"):
        assert (ref["phase"] == phase).sum() <= (val["phase"] == phase).sum()
    assert len(ref) == clf.best_epoch_


def test_refit_is_reproducible_and_quiet_about_confounding():
    X, y = one_emotion_speakers()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InnerSplitWarning)
        a = BLSTMAttentionClassifier(refit=True, random_state=3, **TINY).fit(X, y)
    b = BLSTMAttentionClassifier(refit=True, random_state=3, **TINY).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5)
    pd.testing.assert_frame_equal(a.history_.drop(columns="dur"),
                                  b.history_.drop(columns="dur"))
    # without refit the same data warns and suggests it
    with pytest.warns(InnerSplitWarning, match="refit=True"):
        BLSTMAttentionClassifier(random_state=3, **TINY).fit(X, y)


@pytest.mark.parametrize("params", [dict(validation_fraction=None),
                                    dict(patience=None)])
def test_refit_without_validation_trains_once(params):
    X, y = one_emotion_speakers()
    clf = BLSTMAttentionClassifier(refit=True, random_state=0,
                                   **{**TINY, **params}).fit(X, y)
    assert "stage" not in clf.history_.columns
    assert clf.n_iter_ == clf.best_epoch_ == TINY["max_epochs"] == len(clf.history_)


@pytest.mark.parametrize("cls", [BLSTMAttentionClassifier, NoisyLabelMetaClassifier])
@pytest.mark.parametrize("value", ["yes", 1, 0, -3, 2.5, None, np.float64(4.0)])
def test_refit_is_checked(cls, value):
    X, y = one_emotion_speakers()
    with pytest.raises(ValueError, match=r"The 'refit' parameter .* must be an "
                       r"instance of 'bool'.* or an int in the range \[2, inf\)"):
        cls(refit=value, **TINY).fit(X, y)


def test_meta_estimators_pass_refit_to_their_networks():
    X, y = one_emotion_speakers(n=40)
    base = BLSTMAttentionClassifier(refit=True, random_state=0, **{**TINY,
                                                                     "max_epochs": 4})
    mlee = MLEEFusionClassifier(base, classes=["anger", "sadness"],
                                random_state=0).fit(X, y)
    for part in (mlee.mlee_, mlee.dominant_, mlee.final_):
        assert part.refit and "stage" in part.history_.columns
    stacked = StackedAnnotatorClassifier(base, classes=["anger", "sadness"],
                                         components="CrowdHS",
                                         random_state=0).fit(X, y)
    assert all(c.refit for c in stacked.components_.values())
    assert stacked.final_.refit
    ens = SeedEnsembleClassifier(base, n_members=2, random_state=0).fit(X, y)
    kept = [m.best_epoch_ for m in ens.estimators_]
    assert chosen_epochs(ens) == pytest.approx(np.mean(kept))
    assert chosen_epochs(mlee) == pytest.approx(np.mean(
        [mlee.mlee_.best_epoch_, mlee.dominant_.best_epoch_, mlee.final_.best_epoch_]))
    assert chosen_epochs(object()) is None


def ctrl_c_after_epoch(monkeypatch, epoch, only_without_validation=False):
    """A real SIGINT at the end of epoch ``epoch`` of every network trained
    from now on (only those without validation data: the refit)."""
    from skorch.callbacks import Callback

    from sklearn_ser.models import SequenceClassifier

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == epoch:
                signal.raise_signal(signal.SIGINT)

    make_net = SequenceClassifier._make_net

    def with_ctrl_c(self, valid_ds, criterion_params, **kw):
        if valid_ds is None or not only_without_validation:
            kw["callbacks"] = [*kw.get("callbacks", ()), ("ctrl_c", CtrlC())]
        return make_net(self, valid_ds, criterion_params, **kw)

    monkeypatch.setattr(SequenceClassifier, "_make_net", with_ctrl_c)


def test_interrupted_refit_keeps_both_stages(monkeypatch):
    """Ctrl-C during the refit: the estimator says so, ``history_`` has the
    validation stage and the refit epochs run so far."""
    ctrl_c_after_epoch(monkeypatch, 1, only_without_validation=True)
    X, y = one_emotion_speakers()
    clf = BLSTMAttentionClassifier(refit=True, random_state=0,
                                   **{**TINY, "patience": 2})
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.interrupted_
    stages = clf.history_["stage"].value_counts()
    assert stages["refit"] == 1 == clf.n_iter_
    assert stages["validation"] >= clf.best_epoch_ >= 1


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(n_speakers=st.integers(4, 9), fraction=st.sampled_from([0.2, 0.3, 0.5]),
       per_speaker=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_refit_property_over_speaker_structures(n_speakers, fraction, per_speaker,
                                                seed):
    classes = ("anger", "neutral", "sadness")[:max(2, per_speaker + 1)]
    X, y = one_emotion_speakers(n=6 * n_speakers, n_speakers=n_speakers, seed=seed,
                                classes=classes)
    if per_speaker == 2:  # each speaker shows two emotions
        y = pd.Series(np.where(np.arange(len(y)) % 2 == 0, y.to_numpy(),
                               classes[-1]), index=y.index)
    clf = BLSTMAttentionClassifier(refit=True, random_state=seed % 7,
                                   **{**TINY, "validation_fraction": fraction,
                                      "max_epochs": 6, "patience": 2}).fit(X, y)
    ref = clf.history_[clf.history_["stage"] == "refit"]
    val = clf.history_[clf.history_["stage"] == "validation"]
    assert 1 <= clf.best_epoch_ <= len(val) <= 6
    assert len(ref) == clf.best_epoch_
    assert trained_rows(clf.net_) == len(X)


@pytest.mark.parametrize("cls", [BLSTMAttentionClassifier, NoisyLabelMetaClassifier])
def test_refit_k_folds_holds_each_speaker_out_once(cls, monkeypatch):
    from sklearn_ser.models import SequenceClassifier

    seen = []
    splits = SequenceClassifier._validation_splits

    def spy(self, X, groups, keep, rng, t=None, held=None):
        out = splits(self, X, groups, keep, rng, t, held=held)
        seen.extend(out)
        return out

    monkeypatch.setattr(SequenceClassifier, "_validation_splits", spy)
    X, y = one_emotion_speakers(n=48, n_speakers=8)
    clf = cls(refit=4, random_state=0, **TINY).fit(X, y)
    assert len(seen) == 4
    held = np.concatenate([va for _, va in seen])
    # every speaker in exactly one validation fold (one-emotion speakers of
    # two classes: each fold's training part shows both)
    assert sorted(held) == list(range(len(X)))
    speakers = X["speaker"].to_numpy()
    for tr, va in seen:
        assert not set(speakers[tr]) & set(speakers[va])
    stages = clf.history_["stage"].unique().tolist()
    assert stages == ["validation 1", "validation 2", "validation 3",
                      "validation 4", "refit"]
    assert (clf.history_["stage"] == "refit").sum() == clf.best_epoch_
    assert trained_rows(clf.net_) == len(X)


@pytest.mark.parametrize("monitor", ["loss", "uar"])
def test_refit_k_folds_takes_the_best_of_the_mean_curve(monitor):
    X, y = one_emotion_speakers(n=48, n_speakers=8)
    clf = BLSTMAttentionClassifier(refit=3, random_state=1, monitor=monitor,
                                   **TINY).fit(X, y)
    h = clf.history_
    key = f"valid_{monitor}"
    curves = [h.loc[h["stage"] == f"validation {k}", key].to_numpy(dtype=float)
              for k in (1, 2, 3)]
    n = max(map(len, curves))
    mean = np.mean([np.r_[c, [c[-1]] * (n - len(c))] for c in curves], axis=0)
    best = (mean.argmin() if monitor == "loss" else mean.argmax()) + 1
    assert clf.best_epoch_ == best
    assert (h["stage"] == "refit").sum() == best


def test_validation_rows_of_classes_missing_from_training_are_left_out():
    """Speakers of a class that no other training speaker shows cannot score
    the network: their rows leave the early-stopping validation."""
    X, y = one_emotion_speakers(n=40, n_speakers=5,
                                classes=("anger", "sadness", "fear", "joy", "calm"))
    clf = BLSTMAttentionClassifier(random_state=0, refit=True,
                                   **{**TINY, "validation_fraction": 0.4})
    from sklearn.utils import check_random_state

    clf.target_kind_ = "hard"
    labels = pd.factorize(y)[0]
    with pytest.warns(InnerSplitWarning, match="no early-stopping validation"):
        tr, va = clf._inner_split(X, None, np.ones(len(X), bool),
                                  check_random_state(0), labels)
    # five speakers, five classes: every held-out class is missing from training
    assert len(va) == 0
