"""Ctrl-C stops: no truncated features in the cache, no half-trained model
returned as if finished (issue 12)."""

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_ser.features import OpenSmileFrames
from sklearn_ser.models import BLSTMAttentionClassifier

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="needs POSIX signals")


def _interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def _interrupt_when(ready, timeout=60.0):
    """A real SIGINT as soon as ``ready()`` holds (polled every 5 ms): an
    interrupt tied to progress, not to a delay a fast machine outruns."""
    stop = threading.Event()

    def watch():
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            if ready():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    return stop.set  # cancels the watch


def _raises_interrupt(call, after):
    """``call()`` with a real SIGINT ``after`` seconds (or, ``after`` a
    callable, as soon as it returns True): it must raise KeyboardInterrupt;
    returns the seconds it took."""
    cancel = (_interrupt_when(after) if callable(after)
              else _interrupt_after(after).cancel)
    t = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        cancel()
    return time.perf_counter() - t


# openSMILE's ctypes callback reports the interrupt it swallows as unraisable
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_interrupted_extraction_raises_and_caches_nothing(tmp_path):
    rng = np.random.default_rng(0)
    sr = 16000
    long = (0.1 * rng.standard_normal(sr * 240)).astype(np.float32)  # 4 min
    X = pd.DataFrame({"audio": [long], "sample_rate": [sr]}, index=["long"])
    ext = OpenSmileFrames("emobase45", memory=tmp_path, progress=False)
    _raises_interrupt(lambda: ext.fit_transform(X), 0.5)
    assert not list(tmp_path.rglob("*.npy")), "a truncated result was cached"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_interrupted_functionals_raise_not_blame_the_file(tmp_path, on_error):
    """openSMILE's functionals turn a swallowed Ctrl-C into "Segment too
    short": the interrupt is raised, no AudioError, no NaN row returned."""
    from sklearn_ser.features import OpenSmileFunctionals

    rng = np.random.default_rng(0)
    sr = 16000
    long = (0.1 * rng.standard_normal(sr * 240)).astype(np.float32)
    X = pd.DataFrame({"audio": [long], "sample_rate": [sr]}, index=["long"])
    ext = OpenSmileFunctionals("eGeMAPSv02", memory=tmp_path, progress=False,
                               on_error=on_error)
    for delay in (0.5, 1.2):  # before and while openSMILE runs (~2 s here)
        _raises_interrupt(lambda: ext.fit_transform(X), delay)
    assert not list(tmp_path.rglob("*.npy"))


def test_interrupted_spectrogram_raises(tmp_path):
    from sklearn_ser.features import LogSpectrogram

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"audio": [(0.1 * rng.standard_normal(16000 * 30)).astype(
        np.float32) for _ in range(60)], "sample_rate": 16000},
        index=[f"u{i}" for i in range(60)])
    ext = LogSpectrogram(memory=tmp_path, progress=False)
    _raises_interrupt(lambda: ext.fit_transform(X), 0.3)


def test_interrupted_fit_stops_and_says_so():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(20, 4)).astype(np.float32) for _ in range(200)]
    y = np.array(["a", "b"] * 100, dtype=object)
    clf = BLSTMAttentionClassifier("hard", max_epochs=100_000,
                                   validation_fraction=None, random_state=0)
    took = _raises_interrupt(lambda: clf.fit(X, y), 3.0)
    assert took < 60
    # the estimator says so; what was trained so far stays inspectable
    assert clf.interrupted_
    assert 0 < clf.n_iter_ < 100_000 and len(clf.history_) == clf.n_iter_


def test_interrupted_command_line_exits_non_zero_and_writes_nothing(
        tmp_path, monkeypatch, capsys):
    from sklearn_ser.experiments import _cli, _protocol

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_protocol, "_fit_fold", interrupted)
    out = tmp_path / "res"
    code = _cli.main(["demo", "--out", str(out), "--n-utterances", "30",
                      "--methods", "crowd_soft", "--no-progress", "--n-jobs", "1"])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()


def _long_files(n, seconds, sr=16000):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"audio": [(0.1 * rng.standard_normal(sr * seconds)).astype(
        np.float32) for _ in range(n)], "sample_rate": sr},
        index=[f"u{i}" for i in range(n)])


def _extractor(name, tmp_path, n_jobs):
    from sklearn_ser.features import LogSpectrogram, OpenSmileFunctionals

    if name == "frames":
        return OpenSmileFrames("emobase45", memory=tmp_path, progress=False,
                               n_jobs=n_jobs)
    if name == "functionals":
        return OpenSmileFunctionals("eGeMAPSv02", memory=tmp_path, progress=False,
                                    n_jobs=n_jobs)
    return LogSpectrogram(memory=tmp_path, progress=False, n_jobs=n_jobs)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.UnvoicedWarning")  # noise
@pytest.mark.parametrize("name", ["frames", "functionals", "spectrogram"])
def test_interrupted_parallel_extraction(tmp_path, name):
    """n_jobs=2 (joblib worker processes): Ctrl-C in the calling process stops
    the extraction promptly, raises, and leaves no result in the cache but
    those of whole utterances (each entry a complete file). The interrupt
    comes once the first utterance is cached (a fixed delay raced a warm
    worker pool: CI once finished the frames within it)."""
    X = _long_files(16, 40)
    ext = _extractor(name, tmp_path, n_jobs=2)
    took = _raises_interrupt(lambda: ext.fit_transform(X),
                             lambda: any(tmp_path.rglob("*.npy")))
    assert took < 60
    # whatever was cached is a whole, finite result (not a truncated one)
    cached = list(tmp_path.rglob("*.npy"))
    assert len(cached) < len(X), "the interrupt came after the whole extraction"
    for f in cached:
        assert np.isfinite(np.load(f)).all()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_interrupted_pretrained_frames(tmp_path, n_jobs):
    """PretrainedFrames (n_jobs = torch threads): Ctrl-C raises, the torch
    thread count is restored, nothing partial is cached."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from sklearn_ser.features import PretrainedFrames

    cfg = transformers.WavLMConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    folder = tmp_path / "model"
    transformers.WavLMModel(cfg).eval().save_pretrained(folder)
    cache = tmp_path / "cache"
    X = _long_files(40, 30)
    threads = torch.get_num_threads()
    ext = PretrainedFrames(str(folder), memory=cache, progress=False, n_jobs=n_jobs)
    _raises_interrupt(lambda: ext.fit_transform(X),
                      lambda: any(cache.rglob("*.npy")))  # mid-way, not a delay
    assert torch.get_num_threads() == threads
    n_cached = len(list(cache.rglob("*.npy")))
    assert n_cached < len(X), "the interrupt came after the whole extraction"
    for f in cache.rglob("*.npy"):
        assert np.isfinite(np.load(f)).all()


@pytest.fixture(scope="module")
def demo_results():
    """One real demo comparison (a baseline, with its plots), reused."""
    import copy

    from sklearn_ser.experiments import _cli

    captured = {}
    real = _cli._compare

    def capture(*args, **kwargs):
        captured["results"] = real(*args, **kwargs)
        return copy.deepcopy(captured["results"])

    _cli._compare = capture
    try:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            code = _cli.main(["demo", "--out", f"{tmp}/first", "--n-utterances", "40",
                              "--methods", "logreg_egemaps", "--quick",
                              "--no-progress", "--n-jobs", "1"])
            assert code == 0
            n_files = len(list(Path(tmp, "first").iterdir()))
    finally:
        _cli._compare = real
    return captured["results"], n_files


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
@pytest.mark.parametrize("where,k", [("savefig", 1), ("savefig", 3), ("replace", 1),
                                     ("replace", 2), ("replace", -1)])
def test_real_ctrl_c_while_the_command_line_writes(tmp_path, monkeypatch,
                                                    demo_results, capsys, where, k):
    """A real SIGINT while the command line writes its outputs (drawing the
    plots, or moving the files in, results.json last): exit 130, and the
    folder is either absent or complete, never a partial run that looks
    finished; no hidden partial folder is left."""
    import copy

    import matplotlib.figure

    from sklearn_ser.experiments import _cli, _report

    results, n_files = demo_results
    monkeypatch.setattr(_cli, "_compare", lambda *a, **kw: copy.deepcopy(results))
    calls = {"n": 0}
    target = n_files if k == -1 else k  # -1: the last move (results.json)

    def with_ctrl_c(real):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == target:
                signal.raise_signal(signal.SIGINT)
            return real(*args, **kwargs)
        return wrapped

    if where == "savefig":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                            with_ctrl_c(matplotlib.figure.Figure.savefig))
    else:
        monkeypatch.setattr(_report.os, "replace",
                            with_ctrl_c(_report.os.replace))
    out = tmp_path / "res"
    code = _cli.main(["demo", "--out", str(out), "--n-utterances", "40",
                      "--methods", "logreg_egemaps", "--quick",
                      "--no-progress", "--n-jobs", "1"])
    assert calls["n"] >= target, "the interrupt was never sent"
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def _sequences(n=160, T=40, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"u{i:03d}" for i in range(n)], name="utterance")
    X = pd.DataFrame({"speaker": [f"s{i % 8}" for i in range(n)]}, index=idx)
    X["frames"] = pd.Series([rng.normal(size=(T, 4)).astype(np.float32)
                             for _ in range(n)], index=idx, dtype=object)
    y = pd.Series(np.array(["anger", "sadness"] * (n // 2), dtype=object), index=idx)
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_interrupted_meta_estimator_keeps_its_earlier_fit(n_jobs):
    """Ctrl-C while a stacked model trains its stage-1 models (in worker
    processes with n_jobs=2): the interrupt propagates promptly and the
    estimator keeps the state of its earlier fit, not a mix."""
    from sklearn_ser.models import StackedAnnotatorClassifier

    X, y = _sequences()
    quick = BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8,
                                     max_epochs=1, validation_fraction=None)
    clf = StackedAnnotatorClassifier(quick, components="CrowdHS", n_jobs=n_jobs,
                                     random_state=0).fit(X.iloc[:40], y.iloc[:40])
    before = clf.predict_proba(X.iloc[:5])
    clf.set_params(estimator=quick.set_params(max_epochs=100_000))
    took = _raises_interrupt(lambda: clf.fit(X, y), 3.0)
    assert took < 60
    np.testing.assert_allclose(clf.predict_proba(X.iloc[:5]), before)
    assert clf.components_["CrowdH"].max_epochs == 1  # the earlier fit's models


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_interrupted_cross_validate_with_workers():
    """cross_validate(n_jobs=2): Ctrl-C in the caller stops the worker
    processes' fits promptly and raises."""
    from sklearn.model_selection import cross_validate

    X, y = _sequences()
    clf = BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8,
                                   max_epochs=100_000, validation_fraction=None)
    took = _raises_interrupt(lambda: cross_validate(clf, X, y, cv=2, n_jobs=2), 4.0)
    assert took < 60


#: The phases of a network's fit, each a method of skorch's net that runs in
#: it: Ctrl-C there must stop the fit with KeyboardInterrupt, nothing else.
PHASES = ["initialize_module", "initialize_criterion", "initialize_optimizer",
          "initialize_history", "get_iterator", "train_step", "validation_step",
          "on_epoch_end", "on_train_end"]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("validation", [None, 0.25])
def test_ctrl_c_in_any_phase_of_a_fit_is_a_keyboard_interrupt(monkeypatch, phase,
                                                              validation):
    from sklearn.model_selection import cross_validate

    from sklearn_ser.models._nn.net import _SERNet

    original = getattr(_SERNet, phase)
    calls = []

    def interrupted(self, *args, **kwargs):
        calls.append(phase)
        if len(calls) == 1:  # a real SIGINT, delivered inside this phase
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_SERNet, phase, interrupted)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"frames": [rng.normal(size=(12, 3)).astype(np.float32)
                                 for _ in range(40)],
                      "speaker": np.repeat(["a", "b", "c", "d"], 10)})
    y = np.array(["x", "y"] * 20, dtype=object)
    clf = BLSTMAttentionClassifier("hard", max_epochs=3, lstm_units=4,
                                   validation_fraction=validation, random_state=0)
    if phase == "validation_step" and validation is None:
        pytest.skip("no validation data: no validation step")
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.interrupted_ and clf.n_iter_ >= 0 and isinstance(
        clf.history_, pd.DataFrame)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):  # not a failed fold that goes on
        cross_validate(clf, X, y, cv=2)
