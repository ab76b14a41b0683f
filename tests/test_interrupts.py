"""Ctrl-C stops: no truncated features in the cache, no half-trained model
returned as if finished (issue 12)."""

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from sklearn_ser.features import OpenSmileFrames
from sklearn_ser.models import BLSTMAttentionClassifier

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="needs POSIX signals")


@pytest.fixture(autouse=True)
def _sigint_raises():
    """Ctrl-C raises KeyboardInterrupt here even when the test run inherited an
    ignored SIGINT (a background job of a non-interactive shell)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


# openSMILE's ctypes callback reports the interrupt it swallows as unraisable
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_interrupted_extraction_raises_and_caches_nothing(tmp_path):
    rng = np.random.default_rng(0)
    sr = 16000
    long = (0.1 * rng.standard_normal(sr * 240)).astype(np.float32)  # 4 min
    X = pd.DataFrame({"audio": [long], "sample_rate": [sr]}, index=["long"])
    ext = OpenSmileFrames("emobase45", memory=tmp_path, progress=False)
    timer = _interrupt_after(0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            ext.fit_transform(X)
    finally:
        timer.cancel()
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
        timer = _interrupt_after(delay)
        try:
            with pytest.raises(KeyboardInterrupt):
                ext.fit_transform(X)
        finally:
            timer.cancel()
    assert not list(tmp_path.rglob("*.npy"))


def test_interrupted_spectrogram_raises(tmp_path):
    from sklearn_ser.features import LogSpectrogram

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"audio": [(0.1 * rng.standard_normal(16000 * 30)).astype(
        np.float32) for _ in range(60)], "sample_rate": 16000},
        index=[f"u{i}" for i in range(60)])
    timer = _interrupt_after(0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            LogSpectrogram(memory=tmp_path, progress=False).fit_transform(X)
    finally:
        timer.cancel()


def test_interrupted_fit_stops_and_says_so():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(20, 4)).astype(np.float32) for _ in range(200)]
    y = np.array(["a", "b"] * 100, dtype=object)
    clf = BLSTMAttentionClassifier("hard", max_epochs=100_000,
                                   validation_fraction=None, random_state=0)
    timer = _interrupt_after(3.0)
    t = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    finally:
        timer.cancel()
    assert time.perf_counter() - t < 60
    # the estimator says so; what was trained so far stays inspectable
    assert clf.interrupted_
    assert 0 < clf.n_iter_ < 100_000 and len(clf.history_) == clf.n_iter_


def test_interrupted_command_line_exits_non_zero_and_writes_nothing(
        tmp_path, monkeypatch, capsys):
    from sklearn_ser import _cli, comparison

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(comparison, "_fit_fold", interrupted)
    out = tmp_path / "res"
    code = _cli.main(["demo", "--out", str(out), "--n-utterances", "30",
                      "--methods", "crowd_soft", "--no-progress", "--n-jobs", "1"])
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()
