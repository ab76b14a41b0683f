"""Every probability table is read by its column names, never by position.

The distribution metrics, ``combine_probabilities``, the probability scorers'
reading of an estimator (``class_probabilities``) and ``LateFusionClassifier``
align a table's columns by name and refuse one whose names are not the
classes; ``krippendorff_alpha`` reads predictions by the UAR's rules (ids,
spellings, what is left out counted).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_ser.exceptions import AnnotationError, DroppedRowsWarning
from sklearn_ser.metrics import (
    all_inclusive_f1,
    class_probabilities,
    expected_calibration_error,
    jensen_shannon_divergence,
    krippendorff_alpha,
    soft_brier_score,
    soft_log_loss,
)
from sklearn_ser.models import LateFusionClassifier, combine_probabilities

CLASSES = ["calm", "colère", "tense"]
METRICS = [soft_log_loss, jensen_shannon_divergence, soft_brier_score,
           all_inclusive_f1, expected_calibration_error]


def _crowd(n=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(n)]
    table = pd.DataFrame({f"r{j}": rng.choice(CLASSES, n) for j in range(3)},
                         index=ids)
    p = rng.dirichlet(np.ones(len(CLASSES)), n)
    return table, pd.DataFrame(p, index=ids, columns=CLASSES)


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(range(len(CLASSES))), seed=st.integers(0, 50))
def test_a_tables_columns_in_any_order_score_the_same(order, seed):
    y, proba = _crowd(seed=seed)
    shuffled = proba.iloc[:, list(order)]
    for metric in METRICS:
        assert metric(y, shuffled, classes=CLASSES) == pytest.approx(
            metric(y, proba, classes=CLASSES))
        # an array's columns are the classes in the order given
        assert metric(y, shuffled.to_numpy(), classes=list(shuffled.columns)) == (
            pytest.approx(metric(y, proba, classes=CLASSES)))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_table_whose_names_are_not_the_classes_is_refused(data):
    y, proba = _crowd()
    k = data.draw(st.integers(0, len(CLASSES) - 1))
    name = data.draw(st.sampled_from(
        ["other", "x", CLASSES[k].upper(), CLASSES[k] + "\u200b", "0",
         CLASSES[(k + 1) % len(CLASSES)]]))
    renamed = proba.rename(columns={CLASSES[k]: name})
    for metric in METRICS:
        with pytest.raises(AnnotationError, match="y_proba table"):
            metric(y, renamed, classes=CLASSES)
    with pytest.raises(AnnotationError):
        combine_probabilities([proba, renamed])


@settings(max_examples=30, deadline=None)
@given(order=st.permutations(range(len(CLASSES))),
       rows=st.permutations(range(12)), combine=st.sampled_from(["mean", "geometric"]))
def test_combine_probabilities_aligns_names_and_ids(order, rows, combine):
    _, a = _crowd(seed=1)
    _, b = _crowd(seed=2)
    want = combine_probabilities([a, b], combine=combine)
    moved = b.iloc[list(rows), list(order)]
    got = combine_probabilities([a, moved], combine=combine)
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns) == CLASSES and got.index.equals(a.index)
    arrays = combine_probabilities([a.to_numpy(), b.to_numpy()], combine=combine)
    np.testing.assert_allclose(arrays, want.to_numpy())
    with pytest.raises(ValueError, match="other utterance ids"):
        combine_probabilities([a, b.set_axis([f"v{i}" for i in range(12)])])


class Fixed(ClassifierMixin, BaseEstimator):
    """Predicts fixed probabilities over ``labels`` (whatever it is fitted on)."""

    def __init__(self, labels=None, proba=None):
        self.labels = labels
        self.proba = proba

    def fit(self, X, y=None):
        self.classes_ = np.asarray(self.labels, dtype=object)
        return self

    def predict_proba(self, X):
        return np.tile(np.asarray(self.proba, dtype=float), (len(X), 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.mark.parametrize("written", ["Calm", "calm ", "ｃａｌｍ", "ca\u200blm"])
def test_an_estimators_class_written_otherwise_is_refused_not_zeroed(written):
    X = pd.DataFrame({"f": [0.0, 1.0]})
    est = Fixed([written, "colère", "tense"], [0.8, 0.1, 0.1]).fit(X)
    with pytest.raises(AnnotationError, match="estimator's classes_"):
        class_probabilities(est, X, CLASSES)
    ok = Fixed(["tense", "calm", "colère"], [0.1, 0.8, 0.1]).fit(X)
    np.testing.assert_allclose(class_probabilities(ok, X, CLASSES)[0], [0.8, 0.1, 0.1])


@pytest.mark.parametrize("pair", [("anger", "angry"), ("calm", "Calm"),
                                  ("calm", "calm\u200b")])
def test_late_fusion_refuses_members_naming_one_class_two_ways(pair):
    X = pd.DataFrame({"f": [0.0, 1.0]})
    fusion = LateFusionClassifier([
        ("a", Fixed([pair[0], "tense"], [0.5, 0.5])),
        ("b", Fixed([pair[1], "tense"], [0.5, 0.5]))])
    with pytest.raises(AnnotationError, match="name one class two ways"):
        fusion.fit(X, ["tense", "tense"])
    fusion = LateFusionClassifier([
        ("a", Fixed([pair[0], "tense"], [0.9, 0.1])),
        ("b", Fixed(["tense", pair[0]], [0.5, 0.5]))]).fit(X, ["tense", "tense"])
    np.testing.assert_allclose(fusion.predict_proba(X)[0], [0.7, 0.3])


@settings(max_examples=30, deadline=None)
@given(rows=st.permutations(range(12)))
def test_krippendorff_alpha_reads_predictions_by_id(rows):
    y, proba = _crowd()
    pred = pd.Series(np.asarray(CLASSES, dtype=object)[proba.to_numpy().argmax(1)],
                     index=y.index)
    want = krippendorff_alpha(y, pred.to_numpy(), classes=CLASSES)
    assert krippendorff_alpha(y, pred.iloc[list(rows)], classes=CLASSES) == want
    with pytest.raises(ValueError, match="no prediction for"):
        krippendorff_alpha(y, pred.iloc[1:], classes=CLASSES)


def test_krippendorff_alpha_refuses_spellings_and_counts_what_is_no_class():
    y, proba = _crowd()
    pred = list(np.asarray(CLASSES, dtype=object)[proba.to_numpy().argmax(1)])
    with pytest.raises(AnnotationError, match="y_pred writes 'Calm'"):
        krippendorff_alpha(y, ["Calm" if p == "calm" else p for p in pred],
                           classes=CLASSES)
    odd = [0, "other"] + pred[2:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        krippendorff_alpha(y, odd, classes=CLASSES)
    said = [str(w.message) for w in caught if w.category is DroppedRowsWarning]
    assert said and "2 of 12 prediction(s) are no class" in said[0]


@pytest.mark.parametrize("n_bins", [2.5, 0, -1, True, "15"])
def test_ece_refuses_a_number_of_bins_that_is_not_a_whole_number(n_bins):
    y, proba = _crowd()
    with pytest.raises(ValueError, match="n_bins must be a whole number"):
        expected_calibration_error(y, proba, classes=CLASSES, n_bins=n_bins)
