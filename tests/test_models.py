import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_ser.annotations import SoftLabels
from sklearn_ser.exceptions import DroppedRowsWarning
from sklearn_ser.features import FrameAverager, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import (
    AbsentClassWarning,
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    InnerSplitWarning,
    NoisyLabelMetaClassifier,
)
from sklearn_ser.models._nn.data import BucketBatchSampler, pad_batch
from sklearn_ser.models._nn.losses import SERLoss, balanced_weights, existence_weights
from sklearn_ser.models._nn.modules import BLSTMAttentionNet

# ties in the simulated ratings are expected here; tests that check the
# warning catch it with pytest.warns
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.DroppedRowsWarning")

CLASSES = ["anger", "neutral", "sadness"]
SMALL = dict(dense_units=16, lstm_units=8, head_units=16, lr=0.01, max_epochs=25,
             batch_size=16)


def make_corpus(n=90, dim=6, seed=0):
    """Sequences whose mean encodes the class; ratings from 3 raters."""
    rng = np.random.default_rng(seed)
    intended = np.array(CLASSES)[np.arange(n) % 3]
    offsets = {"anger": 1.5, "neutral": 0.0, "sadness": -1.5}
    frames = [
        (rng.normal(size=(int(rng.integers(4, 30)), dim)) + offsets[c]).astype(
            np.float32)
        for c in intended
    ]
    idx = pd.Index([f"u{i:03d}" for i in range(n)], name="utterance")
    # every speaker (and session) utters every class: i // 3 runs over the
    # speakers while i % 3 runs over the classes
    X = pd.DataFrame({"speaker": [f"s{(i // 3) % 6}" for i in range(n)],
                      "session": [(i // 3) % 3 for i in range(n)]}, index=idx)
    X["frames"] = pd.Series(frames, index=idx, dtype=object)
    cells = np.empty((n, 3), dtype=object)
    for i, c in enumerate(intended):
        for r in range(3):
            label = c if rng.random() < 0.8 else str(rng.choice(CLASSES))
            cells[i, r] = (label,)
    y = pd.DataFrame(cells, index=idx, columns=["E1", "E2", "E3"], dtype=object)
    return X, y, intended


@pytest.mark.parametrize("target", ["hard", "soft", "existence",
                                    SoftLabels(alpha=0.5, votes="first")])
def test_fit_predict_each_target(target):
    X, y, intended = make_corpus()
    clf = BLSTMAttentionClassifier(target, classes=CLASSES, random_state=0, **SMALL)
    with pytest.warns(DroppedRowsWarning) if target == "hard" else _nowarn():
        clf.fit(X, y)
    pred = clf.predict(X)
    assert set(pred) <= set(CLASSES)
    assert np.mean(pred == intended) > 0.7
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    if clf.target_kind_ != "existence":
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert clf.transform(X).shape == (len(X), 16)
    att = clf.attention_weights(X)
    assert len(att) == len(X) and len(att[0]) == len(X["frames"].iloc[0])
    np.testing.assert_allclose(att[0].sum(), 1, rtol=1e-5)


class _nowarn:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error", DroppedRowsWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def test_random_state_reproducible_and_list_input():
    X, y, _ = make_corpus(60)
    X = X.assign(speaker=[f"s{(i // 3) % 6}" for i in range(60)])
    a = BLSTMAttentionClassifier(random_state=3, **SMALL).fit(X, y.E1.str[0])
    b = BLSTMAttentionClassifier(random_state=3, **SMALL).fit(X, y.E1.str[0])
    np.testing.assert_array_equal(a.predict_proba(list(X["frames"])),
                                  b.predict_proba(list(X["frames"])))
    with pytest.warns(InnerSplitWarning):
        c = BLSTMAttentionClassifier(random_state=3, **SMALL).fit(
            list(X["frames"]), list(y.E1.str[0]))
    assert c.predict(list(X["frames"])).shape == (60,)
    assert a.history_.shape[0] == a.n_iter_


def test_early_stopping_holds_out_speakers_and_restores_best():
    X, y, _ = make_corpus()
    clf = BLSTMAttentionClassifier(random_state=0, patience=3, **{**SMALL,
                                   "max_epochs": 200})
    clf.fit(X, y)
    hist = clf.history_
    assert hist["valid_loss"].notna().all()
    assert clf.n_iter_ < 200
    # weights restored from the best epoch
    best = hist["valid_loss"].idxmin()
    assert best < len(hist) - 1
    # held-out utterances are whole speakers: check the split directly
    rng = np.random.RandomState(0)
    tr, va = clf._inner_split(X, None, np.ones(len(X), bool), rng)
    spk = X["speaker"].to_numpy()
    assert not set(spk[tr]) & set(spk[va])


@pytest.mark.parametrize("target", ["hard", "existence"])
def test_early_stopping_can_watch_the_validation_uar(target):
    X, y, _ = make_corpus()
    clf = BLSTMAttentionClassifier(target, random_state=0, patience=4, monitor="uar",
                                   **{**SMALL, "max_epochs": 60}).fit(X, y)
    uar = clf.history_["valid_uar"]
    assert uar.between(0, 1).all()
    # stopped `patience` epochs after the best UAR (the first of equal bests)
    assert clf.n_iter_ == 60 or uar.idxmax() == len(uar) - 1 - 4
    with pytest.raises(ValueError, match="monitor"):
        BLSTMAttentionClassifier(monitor="f1", **SMALL).fit(X, y)


def test_noisy_label_model_can_watch_the_validation_uar():
    X, y, _ = make_corpus()
    noisy = NoisyLabelMetaClassifier(random_state=0, patience=3, monitor="uar",
                                     **{**SMALL, "head_units": None,
                                        "max_epochs": 8}).fit(X, y)
    assert noisy.history_["valid_uar"].between(0, 1).all()


def test_inner_split_warnings():
    X, y, _ = make_corpus(40)
    with pytest.warns(InnerSplitWarning, match="no speaker information"):
        BLSTMAttentionClassifier(random_state=0, **SMALL).fit(list(X["frames"]),
                                                             y.E1.str[0])
    one = X.assign(speaker="same")
    with pytest.warns(InnerSplitWarning, match="single speaker"):
        BLSTMAttentionClassifier(random_state=0, **SMALL).fit(one, y.E1.str[0])


def test_groups_are_used_for_inner_split():
    X, y, _ = make_corpus()
    clf = BLSTMAttentionClassifier(random_state=0, **SMALL)
    rng = np.random.RandomState(0)
    groups = X["session"].to_numpy()
    tr, va = clf._inner_split(X, groups, np.ones(len(X), bool), rng)
    assert len(set(groups[va])) == 1 and not set(groups[tr]) & set(groups[va])


# --- bad input --------------------------------------------------------------
def test_bad_inputs_have_clear_errors():
    X, y, _ = make_corpus(30)
    clf = BLSTMAttentionClassifier(**SMALL)
    def replaced(uid, value):
        frames = list(X["frames"])
        frames[list(X.index).index(uid)] = value
        out = X.copy()
        out["frames"] = pd.Series(frames, index=X.index, dtype=object)
        return out

    bad = replaced("u001", np.zeros((0, 6), np.float32))
    with pytest.raises(ValueError, match="Utterance 'u001' has an empty sequence"):
        clf.fit(bad, y)
    f = X.loc["u002", "frames"].copy()
    f[0, 0] = np.nan
    bad = replaced("u002", f)
    with pytest.raises(ValueError, match="Utterance 'u002' has NaN or infinite"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="got 1 class"):
        clf.fit(X, ["anger"] * len(X))
    with pytest.raises(ValueError, match="X has 30 utterances but the annotations "
                                         "have 29"):
        clf.fit(list(X["frames"]), list(y.E1.str[0])[:29])
    with pytest.raises(ValueError, match="misaligned"):
        clf.fit(X, y.iloc[:-1])
    with pytest.raises(ValueError, match="requires y"):
        clf.fit(X, None)
    with pytest.warns(AbsentClassWarning, match=r"\['fear'\] have no training"):
        BLSTMAttentionClassifier(classes=CLASSES + ["fear"], **{**SMALL,
                                 "max_epochs": 2}).fit(X, y.E1.str[0])
    fitted = BLSTMAttentionClassifier(**{**SMALL, "max_epochs": 2}).fit(X, y.E1.str[0])
    with pytest.raises(ValueError, match="X has 3 features, but"):
        fitted.predict([np.zeros((5, 3), np.float32)])


def test_nan_loss_stops_with_epoch():
    X, y, _ = make_corpus(30)
    huge = X.copy()
    # finite inputs whose products overflow float32 inside the network
    huge["frames"] = [np.sign(f) * 3e38 for f in X["frames"]]
    clf = BLSTMAttentionClassifier(**{**SMALL, "max_epochs": 5})
    with pytest.raises(FloatingPointError, match="became nan at epoch 1"):
        clf.fit(huge, y.E1.str[0])


def test_rows_without_target_are_counted():
    X, y, _ = make_corpus(30)
    y = y.copy()
    y.iloc[:3] = None  # unrated
    with pytest.warns(DroppedRowsWarning, match=r"left out \d+ of 30 .*unrated: 3"):
        BLSTMAttentionClassifier(classes=CLASSES, **{**SMALL, "max_epochs": 2}).fit(
            X, y)


# --- CNN --------------------------------------------------------------------
def test_cnn_blstm_on_spectrogram_like_input():
    rng = np.random.default_rng(0)
    n = 40
    labels = np.array(["anger", "sadness"])[np.arange(n) % 2]
    frames = []
    for c in labels:
        T = int(rng.integers(3, 40))  # includes sequences shorter than the CNN
        spec = rng.normal(size=(T, 400)).astype(np.float32)
        if c == "anger":
            spec[:, 300:] += 2.0
        frames.append(spec)
    clf = CNNBLSTMClassifier(lr=3e-3, max_epochs=15, random_state=0,
                             validation_fraction=None)
    clf.fit(frames, labels)
    assert np.mean(clf.predict(frames) == labels) > 0.8
    assert clf.transform(frames[:3]).shape == (3, 64)
    # convolutions pad by half their kernel: even one frame gives one step
    assert clf.predict([frames[0][:1]]).shape == (1,)
    net = clf.net_.module_
    assert [b[0].out_channels for b in net.convs] == [16, 24, 32]
    assert [tuple(b[0].kernel_size) for b in net.convs] == [(12, 16), (8, 12), (5, 7)]
    assert [tuple(b[0].stride) for b in net.convs] == [(2, 2), (1, 1), (1, 1)]


# --- internals --------------------------------------------------------------
def test_attention_ignores_padding():
    torch.manual_seed(0)
    net = BLSTMAttentionNet(3, 2, 8, 4, 8, dropout=0.0).eval()
    x = torch.randn(1, 5, 3)
    padded = torch.cat([x, torch.randn(1, 7, 3) * 100], dim=1)
    a = net(x, torch.tensor([5]))
    b = net(padded, torch.tensor([5]))
    torch.testing.assert_close(a, b)
    assert torch.all(net.last_attention[0, 5:] == 0)


def test_bucket_sampler_groups_lengths_and_covers_all():
    lengths = np.r_[np.arange(100), np.arange(100)]
    sampler = BucketBatchSampler(lengths, 10, shuffle=True, pool=5, seed=1)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(200))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 20  # random batches would spread ~ 60
    again = list(BucketBatchSampler(lengths, 10, shuffle=True, pool=5, seed=1))
    assert batches == again


def test_losses_and_weights():
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    soft = SERLoss("soft")(logits, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    hard = SERLoss("hard")(logits, torch.tensor([0, 1]))
    torch.testing.assert_close(soft, hard)
    np.testing.assert_allclose(balanced_weights([30, 10, 0]), [2 / 3, 2.0, 0.0])
    pos, neg = existence_weights(np.array([[1, 0], [1, 0], [1, 1], [0, 0]]))
    np.testing.assert_allclose(pos, [4 / 6, 2.0])
    np.testing.assert_allclose(neg, [2.0, 4 / 6])
    batch = [(torch.ones(3, 2), torch.tensor(0), torch.tensor(0)),
             (torch.ones(5, 2), torch.tensor(1), torch.tensor(1))]
    xb, yb = pad_batch(batch)
    assert xb["x"].shape == (2, 5, 2) and xb["lengths"].tolist() == [3, 5]


# --- sklearn integration ----------------------------------------------------
def _pipe(**kw):
    return Pipeline([("norm", SpeakerStandardizer()), ("pool", FrameAverager(2)),
                     ("clf", BLSTMAttentionClassifier(classes=CLASSES, random_state=0,
                                                      **{**SMALL, **kw}))])


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_cross_validate_with_groups_routing_off_and_on():
    X, y, _ = make_corpus()
    scoring = ser_scoring(classes=CLASSES, warn=False)
    cv = cross_validate(_pipe(max_epochs=3), X, y, groups=X["session"],
                        cv=LeaveOneGroupOut(), scoring=scoring)
    assert len(cv["test_uar"]) == 3
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _pipe(max_epochs=3)
        pipe.named_steps["clf"].set_fit_request(groups=True)
        cv = cross_validate(pipe, X, y, params={"groups": X["session"]},
                            cv=LeaveOneGroupOut(), scoring=scoring)
    assert np.all(np.isfinite(cv["test_uar"]))


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_grid_search_over_target_and_lr():
    X, y, _ = make_corpus(60)
    search = GridSearchCV(
        _pipe(max_epochs=2),
        {"clf__target": ["hard", "soft"], "clf__lr": [1e-3, 1e-2]},
        scoring=ser_scoring(classes=CLASSES, warn=False), refit="uar",
        cv=LeaveOneGroupOut(),
    )
    search.fit(X, y, groups=X["session"])
    # every candidate scored (no fold failed, every test fold has every class)
    assert np.all(np.isfinite(search.cv_results_["mean_test_uar"]))
    assert np.all(np.isfinite(search.cv_results_["mean_test_wa"]))
    assert search.best_params_["clf__target"] in {"hard", "soft"}
    assert search.predict(X).shape == (60,)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_pickle_and_joblib_roundtrip_identical_predictions(tmp_path):
    X, y, _ = make_corpus(45)
    pipe = _pipe(max_epochs=3).fit(X, y)
    ref = pipe.predict_proba(X)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(X), ref)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    loaded = joblib.load(tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), ref)
    assert clone(pipe).get_params()["clf__lr"] == SMALL["lr"]


def test_early_stopping_split_warns_when_speakers_predict_the_labels():
    X, y, intended = make_corpus(60)
    # each speaker utters one class only: held-out speakers take it along
    X = X.assign(speaker=[f"s{k}" for k in np.arange(60) % 6])
    with pytest.warns(InnerSplitWarning, match=r"speakers predict the training "
                                               r"labels \(speaker explains \d+%"):
        BLSTMAttentionClassifier("soft", random_state=0, **SMALL).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BLSTMAttentionClassifier("soft", random_state=0, **{
            **SMALL, "validation_fraction": None}).fit(X, y)


def test_fit_uses_a_fair_share_of_threads_and_restores_the_callers(monkeypatch):
    from sklearn_ser import _parallel

    before = torch.get_num_threads()
    monkeypatch.setenv(_parallel.THREADS_ENV, "1")
    assert _parallel.fit_thread_count() == 1
    seen = []

    class Spy(BLSTMAttentionClassifier):
        def _make_net(self, *args, **kwargs):
            net = super()._make_net(*args, **kwargs)
            original = net.partial_fit

            def partial_fit(*a, **k):
                seen.append(torch.get_num_threads())
                return original(*a, **k)

            net.partial_fit = partial_fit
            return net

    X, y, _ = make_corpus(30)
    Spy(random_state=0, **SMALL).fit(X, y)
    assert seen == [1]
    assert torch.get_num_threads() == before  # the caller's setting is back
    monkeypatch.setenv(_parallel.THREADS_ENV, "zero")
    with pytest.raises(ValueError, match="SKLEARN_SER_TORCH_THREADS"):
        _parallel.fit_thread_count()
    monkeypatch.delenv(_parallel.THREADS_ENV)
    # otherwise at most the idle cores, at least one
    assert 1 <= _parallel.fit_thread_count() <= max(1, torch.get_num_threads())


def test_fit_leaves_the_callers_torch_random_state_alone():
    X, y, _ = make_corpus(30)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BLSTMAttentionClassifier(random_state=0, **SMALL).fit(X, y)
    NoisyLabelMetaClassifier(random_state=0, **{**SMALL, "max_epochs": 2}).fit(
        X, y.E1.str[0])
    torch.testing.assert_close(torch.rand(3), expected)


def test_soft_and_existence_targets_need_two_chosen_classes():
    from sklearn_ser.models import AbsentClassWarning

    X, y, _ = make_corpus(30)
    one = pd.DataFrame({"E1": [("anger",)] * 30, "E2": [("anger",)] * 30},
                       index=X.index)
    for target in ("soft", "existence"):
        with pytest.raises(ValueError, match="at least two classes chosen"):
            BLSTMAttentionClassifier(target, classes=CLASSES, random_state=0,
                                     **SMALL).fit(X, one)
    # a class no rater chose: warned, although smoothing gives it some mass
    two = y.map(lambda c: tuple("neutral" if v == "sadness" else v for v in c))
    with pytest.warns(AbsentClassWarning, match=r"\['sadness'\].*no rater chose"):
        BLSTMAttentionClassifier("soft", classes=CLASSES, random_state=0,
                                 **SMALL).fit(X, two)


def test_early_stopping_still_stops_without_raising():
    X, y, _ = make_corpus()
    clf = BLSTMAttentionClassifier(random_state=0, patience=2,
                                   **{**SMALL, "max_epochs": 300})
    clf.fit(X, y)  # skorch stops by raising KeyboardInterrupt internally
    assert clf.n_iter_ < 300 and not clf.interrupted_
