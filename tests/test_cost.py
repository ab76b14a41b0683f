"""What a comparison will cost, said before it starts (issue 46): the rule
scales the measured rates, and the command line says it when it is long."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn_ser.experiments import _cost
from sklearn_ser.experiments._cost import announcement, estimate_seconds

RATES = {"machine": "a test machine", "cores": 2, "n_jobs": 2,
         "fit_seconds_per_training_hour": {"a": 60.0, "b": 600.0, "fused": 0.0},
         "feature_seconds_per_hour": 30.0}


def _table(hours, n=10):
    sr = 100  # a short waveform per utterance stands for its length
    samples = int(hours * 3600 * sr / n)
    return pd.DataFrame({"audio": [np.zeros(samples, dtype=np.float32)] * n,
                         "sample_rate": sr, "speaker": [f"s{i % 5}" for i in range(n)]})


@pytest.mark.parametrize("hours,folds,seeds,jobs", [
    (0.5, 5, 1, 2), (2.0, 5, 1, 2), (2.0, 10, 3, 2), (1.0, 4, 2, 1), (1.0, 4, 2, -1)])
def test_the_estimate_follows_the_rule(hours, folds, seeds, jobs, monkeypatch):
    monkeypatch.setattr(_cost.os, "cpu_count", lambda: 2)
    seconds, unknown = estimate_seconds(["a", "b"], hours, folds, seeds, jobs, RATES)
    parallel = 2 if jobs in (2, -1) else 1
    want = (30.0 * hours * 2 / parallel
            + (60.0 + 600.0) * hours * (folds - 1) * seeds / parallel)
    assert seconds == pytest.approx(want) and unknown == []


def test_more_audio_more_folds_more_seeds_never_cost_less():
    base, _ = estimate_seconds(["a", "b"], 1.0, 5, 1, 2, RATES)
    for kw in ({"hours": 2.0}, {"n_folds": 10}, {"seeds": 2}):
        args = {"hours": 1.0, "n_folds": 5, "seeds": 1, **kw}
        more, _ = estimate_seconds(["a", "b"], args["hours"], args["n_folds"],
                                   args["seeds"], 2, RATES)
        assert more > base


def test_a_long_comparison_is_announced_with_what_it_counts(monkeypatch):
    monkeypatch.setattr(_cost.os, "cpu_count", lambda: 2)
    line = announcement(["a", "b", "c"], _table(2.0), 5, 1, 2, RATES)
    assert "about" in line and "2.0 h of audio" in line and "5 folds" in line
    assert "a test machine" in line and "['c']" in line  # no rate for c: said


def test_a_short_comparison_or_no_rates_says_nothing():
    assert announcement(["a"], _table(0.01), 5, 1, 2, RATES) is None
    assert announcement(["a", "b"], _table(2.0), 5, 1, 2, {}) is None


def test_the_shipped_rates_cover_every_method():
    from sklearn_ser.experiments import registry

    rates = _cost.measured_rates()
    assert rates, "sklearn_ser/experiments/costs.json is missing"
    assert set(registry()) <= set(rates["fit_seconds_per_training_hour"])
    assert _cost.help_line(list(registry())).startswith("Cost:")
