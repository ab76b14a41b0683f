"""One warning per cause and user line (issue 20): a search or cross_validate
reports what it drops once, not in every fold and candidate; filters that
ask for every warning get every one."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_ser._warnings import _COUNT, cause_of, ser_warn, summed_message
from sklearn_ser.annotations import from_long
from sklearn_ser.exceptions import DroppedRowsWarning, SERWarning, summed_warnings
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import EveryRatingClassifier

CLASSES = ["anger", "sadness"]


def _emit(message):
    ser_warn(message, DroppedRowsWarning)


def _data(n=60, seed=0):
    """Functionals-like rows and ratings where some utterances have no
    majority (a tie between two raters): every fit drops a few."""
    rng = np.random.default_rng(seed)
    ids = [f"u{i:03d}" for i in range(n)]
    labels = np.array(["anger", "sadness"])[rng.integers(0, 2, n)]
    rows = []
    for i, (u, c) in enumerate(zip(ids, labels, strict=True)):
        other = "sadness" if c == "anger" else "anger"
        rows += [(u, "A", c), (u, "B", other if i % 7 == 0 else c)]
    y = from_long(pd.DataFrame(rows, columns=["utterance", "rater", "label"]))
    X = pd.DataFrame(rng.normal(size=(n, 4)) + (labels == "anger")[:, None],
                     index=pd.Index(ids, name="utterance"))
    return X, y


@settings(max_examples=50, deadline=None)
@given(a=st.integers(0, 10**6), b=st.integers(0, 10**6),
       u=st.text(alphabet="abc/_-.0123", max_size=8),
       v=st.text(alphabet="abc/_-.0123", max_size=8),
       share=st.floats(0, 1, allow_nan=False))
def test_cause_ignores_counts_shares_and_quoted_ids(a, b, u, v, share):
    first = f"left out {a} of {b} utterances ({share:.0%}), e.g. {[u]!r}"
    second = f"left out {b} of {a} utterances ({1 - share:.1%}), e.g. {[v]!r}"
    assert cause_of(first) == cause_of(second)
    assert cause_of(first) != cause_of(f"skipped {a} files, e.g. {[u]!r}")


def test_one_warning_per_cause_and_line_under_the_default_filter():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for n in range(5):  # the same line, five folds
            ser_warn(f"Training left out {n + 1} of 50 utterances (no majority).",
                     DroppedRowsWarning)
        ser_warn("Training left out 3 of 50 utterances (no majority).",
                 DroppedRowsWarning)  # another line
        for n in range(3):  # another cause
            ser_warn(f"skipped {n} files whose audio cannot be used",
                     DroppedRowsWarning)
        for n in range(3):  # through a helper: the helper's line is the place
            _emit(f"Training left out {n} of 50 utterances (no majority).")
    texts = [str(w.message) for w in seen]
    assert texts == ["Training left out 1 of 50 utterances (no majority).",
                     "Training left out 3 of 50 utterances (no majority).",
                     "skipped 0 files whose audio cannot be used",
                     "Training left out 0 of 50 utterances (no majority)."]
    assert all(w.filename == __file__ for w in seen)  # the user's own lines


@pytest.mark.parametrize("action", ["always", "error"])
def test_filters_asking_for_every_warning_get_every_one(action):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter(action, SERWarning)
        raised = 0
        for n in range(4):
            try:
                _emit(f"Training left out {n} of 50 utterances (no majority).")
            except DroppedRowsWarning:
                raised += 1
    assert len(seen) + raised == 4


def test_changed_filters_report_the_cause_again():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for extra in (None, "sklearn_ser_test_only"):
            with warnings.catch_warnings():
                if extra:  # the user changed the filters: said again
                    warnings.filterwarnings("ignore", message=extra)
                warnings.simplefilter("default", DroppedRowsWarning)
                ser_warn("Training left out 2 of 50 utterances (no majority).",
                         DroppedRowsWarning)
    assert len(seen) == 2


def test_a_grid_search_reports_its_drops_once():
    X, y = _data()
    search = GridSearchCV(EveryRatingClassifier(LogisticRegression(),
                                                targets="majority"),
                          {"estimator__C": [0.1, 1.0, 10.0]}, cv=KFold(4),
                          scoring=ser_scoring(classes=CLASSES), refit="uar",
                          error_score="raise")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        search.fit(X, y)
    by_cause = {}
    for w in seen:
        assert issubclass(w.category, SERWarning), w  # nothing else escapes
        by_cause.setdefault(cause_of(w.message), []).append(w)
    # 12 fits and 24 scorings drop rows; each cause is said once, at this line
    assert by_cause and all(len(ws) == 1 for ws in by_cause.values()), by_cause
    assert {w.filename for ws in by_cause.values() for w in ws} == {__file__}
    assert any(issubclass(ws[0].category, DroppedRowsWarning)
               for ws in by_cause.values())


def _search(X, y):
    search = GridSearchCV(EveryRatingClassifier(LogisticRegression(),
                                                targets="majority"),
                          {"estimator__C": [0.1, 10.0]}, cv=KFold(3),
                          scoring=ser_scoring(classes=CLASSES),
                          refit="uar", error_score="raise")
    return search.fit(X, y)


def _counts(text):
    return [int(m.group()) for m in _COUNT.finditer(text)]


def test_summed_warnings_say_each_cause_once_with_its_counts_summed():
    """A search inside summed_warnings(): each cause once, at the user's line,
    its counts the sums of every fold's and candidate's warning (as "always"
    shows them one by one)."""
    X, y = _data()
    with warnings.catch_warnings(record=True) as every:
        warnings.simplefilter("always")
        _search(X, y)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        with summed_warnings():
            _search(X, y)
    by_cause = {}
    for w in every:
        by_cause.setdefault((w.category, cause_of(w.message)), []).append(w)
    assert len(seen) == len(by_cause)
    for w in seen:
        text = str(w.message)
        key = (w.category, cause_of(text.rsplit(" [", 1)[0]))
        ones = by_cause[key]
        assert w.filename == __file__
        if len(ones) == 1:
            assert text == str(ones[0].message)
            continue
        assert f"[{len(ones)} warnings of this cause" in text
        totals = np.sum([_counts(str(o.message)) for o in ones], axis=0)
        assert _counts(text) == list(totals)
    assert any("counts summed" in str(w.message) for w in seen)


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
                       min_size=1, max_size=6),
       share=st.floats(0, 1, allow_nan=False), fold=st.integers(0, 9))
def test_summed_message_sums_counts_and_keeps_other_numbers(counts, share, fold):
    texts = [f"fold {fold + i}: left out {a} of {b} utterance(s) "
             f"({share:.2f} max_epochs={i + 20}); {a + b} rating(s) kept."
             for i, (a, b) in enumerate(counts)]
    out = summed_message(texts)
    a, b = (sum(c[k] for c in counts) for k in (0, 1))
    head = (f"fold {fold}: left out {a} of {b} utterance(s) "
            f"({share:.2f} max_epochs=20); {a + b} rating(s) kept.")
    assert out == head if len(texts) == 1 else out.startswith(head + " [")


def test_summed_warnings_respect_the_users_filters_and_errors():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("ignore", DroppedRowsWarning)
        with summed_warnings():
            for n in range(3):
                _emit(f"left out {n} of 9 utterance(s).")
            warnings.warn("not ours", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["not ours"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedRowsWarning)
        with pytest.raises(DroppedRowsWarning, match="left out 3 of 18"):
            with summed_warnings():
                for n in range(3):
                    _emit(f"left out {n} of 6 utterance(s).")
        # an error leaving the block is the one raised, its warnings said
        with pytest.raises(KeyError):
            with summed_warnings():
                _emit("left out 1 of 6 utterance(s).")
                raise KeyError("the fit's own error")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        with pytest.raises(KeyError), summed_warnings():
            _emit("left out 1 of 6 utterance(s).")
            raise KeyError("x")
    assert [str(w.message) for w in seen] == ["left out 1 of 6 utterance(s)."]


def test_cross_validate_every_fold_under_always():
    X, y = _data()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", SERWarning)
        cross_validate(EveryRatingClassifier(LogisticRegression(),
                                             targets="majority"),
                       X, y, cv=KFold(3), scoring=ser_scoring(classes=CLASSES))
    dropped = [w for w in seen if issubclass(w.category, DroppedRowsWarning)]
    assert len(dropped) >= 3  # one per fit: each fold's training part drops rows


def test_a_meta_estimator_says_its_components_warning_once():
    """Each stage-1 model of a stacked model (and its fusion head) holds out
    speakers that predict the labels: one InnerSplitWarning, not one per model."""
    from test_refit import TINY, one_emotion_speakers

    from sklearn_ser.models import (
        BLSTMAttentionClassifier,
        InnerSplitWarning,
        StackedAnnotatorClassifier,
    )

    X, y = one_emotion_speakers()
    base = BLSTMAttentionClassifier(**{**TINY, "max_epochs": 2})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        StackedAnnotatorClassifier(base, components="CrowdHS", random_state=0).fit(X, y)
    split = [str(w.message).split(":")[0] for w in seen
             if issubclass(w.category, InnerSplitWarning)]
    # once for the two BLSTMs (CrowdH, CrowdS), once for the fusion head
    assert sorted(split) == ["BLSTMAttentionClassifier", "FrozenFusionClassifier"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        StackedAnnotatorClassifier(base, components="CrowdHS", random_state=0).fit(X, y)
    assert len([w for w in seen if issubclass(w.category, InnerSplitWarning)]) >= 3
