"""A table's form is decided by its content, never by its dtype.

A vote-count table read as text (``read_csv(dtype=str)``, JSON, a
spreadsheet) or cast to ``category``/``string``/``object`` holds the same
counts: every encoder reads it as the numeric table. A 2-D array has no
column names: with named ``classes`` it is refused rather than giving empty
targets. Rater, utterance and label ids that print alike (Unicode forms,
invisible characters) are refused as two spellings of one id.
"""

from __future__ import annotations

import io
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.annotations import (
    ExistenceLabels,
    HardLabels,
    SoftLabels,
    check_annotations,
    from_long,
)
from sklearn_ser.exceptions import AnnotationError

LABELS = ["anger", "happiness", "neutral", "sadness", "calm", "colère"]


def _as_text(table):
    return pd.read_csv(io.StringIO(table.to_csv()), dtype=str, index_col=0)


def _as_json(table):
    out = pd.read_json(io.StringIO(table.astype(str).to_json(orient="split")),
                       orient="split", dtype=False)
    return out


def _padded(table):
    return table.map(lambda v: f" {v} ")


#: The forms a vote table reaches a user in (all hold the same counts).
FORMS = {
    "read_csv(dtype=str)": _as_text,
    "json, strings": _as_json,
    "category": lambda t: t.astype("category"),
    "string": lambda t: t.astype("string"),
    "object": lambda t: t.astype(object),
    "object of strings": lambda t: t.astype(str).astype(object),
    "padded strings": lambda t: _padded(t.astype(str)),
    "float": lambda t: t.astype(float),
    "nullable Int64": lambda t: t.astype("Int64"),
    "mixed per column": lambda t: t.assign(
        **{t.columns[0]: t[t.columns[0]].astype(str)}),
}


@st.composite
def vote_tables(draw):
    k = draw(st.integers(2, 4))
    labels = draw(st.permutations(LABELS))[:k]
    n = draw(st.integers(2, 8))
    counts = draw(st.lists(st.lists(st.integers(0, 5), min_size=k, max_size=k),
                           min_size=n, max_size=n))
    counts = np.asarray(counts)
    counts[:, 0] += counts.sum(axis=1) == 0  # every utterance has a vote
    return pd.DataFrame(counts, columns=labels,
                        index=[f"u{i}" for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(table=vote_tables(), form=st.sampled_from(sorted(FORMS)))
def test_a_vote_table_in_any_dtype_gives_the_numeric_tables_targets(table, form):
    written = FORMS[form](table)
    classes = list(table.columns)  # names no alias list knows among them
    for encoder in (HardLabels, SoftLabels, ExistenceLabels):
        want = encoder(classes).fit(table)
        got = encoder(classes).fit(written)
        assert list(got.classes_) == list(want.classes_), form
        a, b = want.transform(table), got.transform(written)
        pd.testing.assert_frame_equal(a, b) if isinstance(a, pd.DataFrame) else (
            pd.testing.assert_series_equal(a, b))
        if isinstance(b, pd.DataFrame):
            assert not b.isna().all(axis=None)


@settings(max_examples=40, deadline=None)
@given(table=vote_tables(), form=st.sampled_from(sorted(FORMS)))
def test_numbers_under_names_that_are_not_labels_are_refused_naming_form(
        table, form):
    written = FORMS[form](table.set_axis([f"r{j}" for j in range(table.shape[1])],
                                         axis=1))
    with pytest.raises(AnnotationError, match=r"form='votes'.*form='raters'"):
        HardLabels().fit(written)
    # said which: read as raters' label codes
    assert check_annotations(written, form="raters").array.kind == "table"


@settings(max_examples=30, deadline=None)
@given(table=vote_tables())
def test_a_2d_array_with_named_classes_is_refused_not_emptied(table):
    counts = table.to_numpy()
    for encoder in (HardLabels, SoftLabels, ExistenceLabels):
        with pytest.raises(AnnotationError, match="no column names"):
            encoder(classes=list(table.columns)).fit(counts)
        # named as the columns' positions, or as a DataFrame: read
        assert len(encoder(classes=list(range(counts.shape[1]))).fit(
            counts).classes_) == counts.shape[1]
    got = SoftLabels(classes=list(table.columns)).fit_transform(
        pd.DataFrame(counts, columns=table.columns))
    assert not got.isna().any(axis=None)  # every utterance has a vote


def test_a_table_of_text_with_a_column_of_names_is_mixed_and_refused():
    table = _as_text(pd.DataFrame({"anger": [1, 2], "sadness": [0, 1],
                                   "file": ["a.wav", "b.wav"]}))
    with pytest.raises(AnnotationError,
                       match=r"mixes numeric .*\['anger', 'sadness'\]"):
        HardLabels().fit(table)


INVISIBLE = ["\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u034f"]


@st.composite
def look_alike(draw, text):
    """``text`` and another string that prints alike."""
    how = draw(st.sampled_from(["nfd", "invisible", "fullwidth"]))
    if how == "nfd" and unicodedata.normalize("NFD", text) != text:
        return unicodedata.normalize("NFD", text)
    if how == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(INVISIBLE)) + text[at:]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_rater_utterance_and_label_ids_that_print_alike_are_refused(data):
    rater = unicodedata.normalize("NFC", data.draw(st.sampled_from(
        ["José", "Zoë", "ann", "r1"])))
    twin = data.draw(look_alike(rater))
    long = pd.DataFrame({"utterance": ["u1", "u1", "u2", "u2"],
                         "rater": [rater, twin, rater, "bo"],
                         "label": ["sad", "sad", "angry", "sad"]})
    with pytest.raises(AnnotationError, match="rater ids .* Unicode form"):
        check_annotations(from_long(long))
    utt = data.draw(st.sampled_from(["u1", "süß", "clip 3"]))
    long = pd.DataFrame({"utterance": [utt, data.draw(look_alike(utt)), "u9"],
                         "rater": ["a", "a", "a"], "label": ["sad", "sad", "sad"]})
    with pytest.raises(AnnotationError, match="utterance ids .* Unicode form"):
        check_annotations(from_long(long))
    label = unicodedata.normalize("NFC", data.draw(st.sampled_from(
        ["colère", "calm", "tense"])))
    other = data.draw(look_alike(label))
    table = pd.DataFrame({"r1": [label, label], "r2": [other, label]},
                         index=["u1", "u2"])
    with pytest.raises(AnnotationError, match=re.escape(ascii(other))):
        HardLabels().fit(table)


@pytest.mark.parametrize("written", ["ＳＡＤ", "sad\u200b", "\ufeffSad", "s\u00adad"])
def test_an_alias_written_in_another_unicode_form_is_the_alias(written):
    table = pd.DataFrame({"r1": ["sad", "angry"], "r2": [written, "angry"]},
                         index=["u1", "u2"])
    assert list(HardLabels().fit(table).classes_) == ["anger", "sadness"]
