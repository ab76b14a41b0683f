"""One rule of "no label" (``is_missing_label``) at every boundary that reads
a label: ratings in each accepted form, truth columns, metrics, class lists.
A spreadsheet's "NA", "#N/A", "-" or "?" is never an emotion."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_truth_scoring import missing_strings

from sklearn_ser.annotations import (
    HardLabels,
    SoftLabels,
    check_names,
    from_long,
    is_missing_label,
    missing_label_mask,
    select_raters,
)
from sklearn_ser.annotations._vocabulary import MISSING_STRINGS
from sklearn_ser.exceptions import DroppedRowsWarning
from sklearn_ser.experiments import score_predictions
from sklearn_ser.metrics import unweighted_average_recall

CLASSES = ["anger", "happiness", "sadness"]
LABELS = ["anger", "Angry", "happy", "sad", "SADNESS"]


@given(marker=missing_strings())
def test_every_marker_names_nothing(marker):
    assert is_missing_label(marker)


@given(label=st.text(max_size=8))
def test_a_label_is_missing_only_by_the_rule(label):
    assert is_missing_label(label) == (label.strip().lower() in MISSING_STRINGS)


@given(values=st.lists(st.one_of(missing_strings(), st.text(max_size=6),
                                 st.sampled_from([None, np.nan, pd.NA, 3, ("a",)])),
                       max_size=30))
def test_the_mask_is_the_rule_value_by_value(values):
    want = [is_missing_label(v) for v in values]
    assert missing_label_mask(values).tolist() == want
    assert missing_label_mask(pd.Series(values, dtype=object)).tolist() == want
    cells = np.empty(len(values) + 1, dtype=object)  # an unhashable cell too
    cells[:-1] = values
    cells[-1] = ["a", "b"]
    assert missing_label_mask(cells).tolist() == [*want, False]


def _ratings(data, n=12, raters=("alice", "bob", "NA")):
    """Long ratings with some markers in place of labels; the clean table of
    the same ratings without them; the count of markers."""
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    rows = [(f"u{i:02d}", r, LABELS[rng.integers(len(LABELS))])
            for i in range(n) for r in raters]
    n_markers = data.draw(st.integers(1, 6))
    where = rng.choice(len(rows), n_markers, replace=False)
    messy = [(u, r, data.draw(missing_strings()) if k in where else lab)
             for k, (u, r, lab) in enumerate(rows)]
    clean = [row for k, row in enumerate(rows) if k not in where]
    cols = ["utterance", "rater", "label"]
    markers = [messy[k][2] for k in where]
    return pd.DataFrame(messy, columns=cols), pd.DataFrame(clean, columns=cols), \
        markers


def _forms(long):
    """The same ratings in each accepted container form (the long one read by
    ``from_long``, which drops and counts the markers itself)."""
    wide = long.pivot(index="utterance", columns="rater", values="label")
    wide.columns.name = None
    return {"long": long, "wide": wide,
            "wide, strings": wide.astype(object).where(wide.notna(), "")}


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_markers_in_ratings_are_dropped_and_counted_in_every_form(data):
    messy, clean, markers = _ratings(data)
    want_hard = HardLabels().fit(from_long(clean)).transform(from_long(clean))
    want_soft = SoftLabels().fit(from_long(clean)).transform(from_long(clean))
    for form, y in _forms(messy).items():
        # a wide table's blank cell is a rating not given (sparse crowds),
        # said nowhere; every other marker is a rating left out, counted
        n = len(markers) if form == "long" else sum(bool(m.strip()) for m in markers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if form == "long":
                y = from_long(y)
            hard = HardLabels().fit(y)
        said = [str(w.message) for w in caught
                if issubclass(w.category, DroppedRowsWarning)]
        if n:
            assert any(re.match(rf"(from_long: left out )?{n} (rating\(s\) have"
                                r"|with) no label", m) for m in said), (form, said)
        else:
            assert not said, (form, said)
        assert list(hard.classes_) == CLASSES, form  # no marker is a class
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            got = hard.transform(y)
            soft = SoftLabels().fit(y).transform(y)
        # an utterance whose every rating was a marker has no target (the
        # clean table does not list it; a wide table keeps its row)
        pd.testing.assert_series_equal(got, want_hard.reindex(got.index),
                                       check_names=False, check_index_type=False)
        pd.testing.assert_frame_equal(soft, want_soft.reindex(soft.index),
                                      check_names=False, check_index_type=False)


@settings(max_examples=20, deadline=None)
@given(marker=missing_strings())
def test_class_lists_refuse_a_marker_but_raters_may_be_named_na(marker):
    with pytest.raises(ValueError, match="names nothing"):
        check_names(["anger", marker])
    with pytest.raises(ValueError, match="names nothing"):
        HardLabels(classes=["anger", marker, "sadness"]).fit(
            pd.Series(["anger", "sadness"]))
    with pytest.raises(ValueError, match="missing label"):
        unweighted_average_recall(["anger", marker], ["anger", "sadness"])
    if marker.strip():  # a rater's name that is a marker is still a name
        table = pd.DataFrame({marker: ["anger", "sadness"], "bob": ["anger", "sad"]},
                             index=["u1", "u2"])
        assert check_names([marker], "raters", unique=True, labels=False) == [marker]
        assert select_raters(table, [marker]).shape[0] == 2


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_truth_column_leaves_markers_out(data):
    truth = np.array(["anger", "happiness", "sadness", "anger", "sadness", "happiness"],
                     dtype=object)
    pred = np.array(["anger", "sadness", "sadness", "anger", "happiness", "happiness"],
                    dtype=object)
    majority = pd.Series(truth)
    messy = truth.copy()
    k = data.draw(st.integers(1, 3))
    for i in range(k):
        messy[i] = data.draw(missing_strings())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = score_predictions(pred, majority, CLASSES, messy)
    assert got["uar_truth"] == pytest.approx(unweighted_average_recall(
        truth[k:], pred[k:], labels=CLASSES))
