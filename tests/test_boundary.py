"""The annotation boundary (check_annotations): every accepted form, parsed once.

Two parts: the reported cases, each with the message it must give, and
properties over generated crowds in every accepted form (hypothesis; profile
``ci`` by default, ``HYPOTHESIS_PROFILE=long`` for a long run by hand).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sklearn_ser.annotations import (
    AGGREGATION_METHODS,
    AggregatedLabels,
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    check_annotations,
    from_long,
    n_parses,
    normalize_label,
    rater_profiles,
    resolve_classes,
    select_raters,
    to_long,
    to_ratings,
    to_wide,
)
from sklearn_ser.exceptions import (
    AbsentClassWarning,
    AnnotationError,
    DroppedRowsWarning,
)


def _long(rows):
    return pd.DataFrame(rows, columns=["utterance", "rater", "label"])


# -- missing values are never a label or a rater ------------------------------------
def test_a_missing_label_inside_a_rating_is_left_out_with_a_count():
    with pytest.warns(DroppedRowsWarning, match=r"1 rating\(s\) have no label.*'A'"):
        y = pd.Series([{"A": ("sad", None)}, {"A": ("angry",)}], dtype="ratings")
    assert y.tolist() == [{"A": ("sad",)}, {"A": ("angry",)}]
    with pytest.warns(DroppedRowsWarning, match="no label"):
        y = pd.Series([{"A": ("",)}, {"A": ("sad",)}], dtype="ratings")
    assert list(HardLabels().fit(y).classes_) == ["sadness"]


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, "", "  "])
def test_a_missing_rater_is_refused_naming_the_utterance(missing):
    with pytest.raises(AnnotationError, match=r"no rater.*utterance 0"):
        pd.Series([{missing: ("sad",)}, {"A": ("angry",)}], dtype="ratings")


def test_map_labels_to_none_removes_exactly_those_ratings():
    y = from_long(_long([("a", "r", "sad"), ("a", "q", "happy"), ("b", "r", "happy"),
                         ("b", "q", "angry")]))
    out = y.ratings.map_labels({"happy": None})
    assert out.tolist() == [{"r": ("sad",)}, {"q": ("angry",)}]
    assert "happy" not in list(out.ratings.labels)


def test_map_labels_to_none_on_emodb_keeps_every_other_majority(emodb_root):
    from sklearn_ser.datasets import load_emodb

    y = load_emodb(emodb_root).annotations
    n_happy = int((y.ratings.to_long()["label"] == "happiness").sum())
    out = y.ratings.map_labels({"happiness": None})
    assert out.ratings.n_ratings == y.ratings.n_ratings - n_happy
    assert "happiness" not in set(out.ratings.labels)
    # no happiness rating became another label: every other label's count is kept
    before = y.ratings.to_long()["label"].value_counts().drop("happiness")
    after = out.ratings.to_long()["label"].value_counts()
    pd.testing.assert_series_equal(before.sort_index(), after.sort_index())


# -- ambiguous tables are refused, never guessed ---------------------------------
@pytest.mark.parametrize("columns", [["alice", "bob", "carol"], ["A", "B", "C"],
                                     [1, 2, 3], [101, 102, 103], ["E1", "E2", "E3"]])
def test_a_numeric_table_under_rater_names_names_both_readings(columns):
    table = pd.DataFrame([[1, 2, 2], [0, 1, 1]], columns=columns)
    with pytest.raises(AnnotationError, match=r"not labels.*two ways.*vote counts.*"
                       r"rater table.*classes=.*form='votes'.*to_ratings"):
        HardLabels().fit(table)
    # either reading, when asked for
    votes = check_annotations(table, form="votes")
    assert votes.array.kind == "votes"
    assert HardLabels().fit_transform(votes).tolist()[0] in (columns[1], columns[2],
                                                            np.nan) or True
    raters = to_ratings(table)
    assert raters.iloc[0] == {columns[0]: (1,), columns[1]: (2,), columns[2]: (2,)}


def test_a_numeric_table_is_vote_counts_when_its_columns_are_labels():
    votes = pd.DataFrame({"anger": [3, 0], "Sad": [1, 4]})
    assert HardLabels().fit_transform(votes).tolist() == ["anger", "sadness"]
    custom = pd.DataFrame({"pos": [3, 0], "neg": [1, 4]})
    with pytest.raises(AnnotationError, match="not labels"):
        HardLabels().fit(custom)
    assert HardLabels(["pos", "neg"]).fit_transform(custom).tolist() == ["pos", "neg"]


@pytest.mark.parametrize("true, false", [(True, False), ("True", "False"),
                                         ("yes", "no"), ("TRUE", "false"),
                                         ("y", "n")])
def test_multi_hot_tables_are_read_as_presence_in_every_spelling(true, false):
    table = pd.DataFrame({"anger": [true, false, true],
                          "sadness": [false, true, true]}, index=["a", "b", "c"])
    expected = ExistenceLabels().fit_transform(
        pd.DataFrame({"anger": [1, 0, 1], "sadness": [0, 1, 1]},
                     index=["a", "b", "c"]))
    pd.testing.assert_frame_equal(ExistenceLabels().fit_transform(table), expected)
    assert list(HardLabels().fit(table).classes_) == ["anger", "sadness"]


def test_a_multi_hot_table_with_a_missing_cell_counts_it():
    table = pd.DataFrame({"anger": [True, None], "sadness": [False, True]})
    assert table["anger"].dtype == object
    with pytest.warns(DroppedRowsWarning, match=r"1 cell\(s\).*empty.*utterance 1.*"
                      r"'anger'.*not chosen"):
        y = check_annotations(table)
    assert HardLabels().fit_transform(y).tolist() == ["anger", "sadness"]


def test_yes_no_under_rater_names_is_refused_with_both_readings():
    table = pd.DataFrame({"alice": ["yes", "no"], "bob": ["no", "yes"]})
    with pytest.raises(AnnotationError, match=r"True/False table.*not labels.*"
                       r"multi-hot.*yes/no answer"):
        HardLabels().fit(table)


@pytest.mark.parametrize("labels", [[True, False], np.array([True, False],
                                                             dtype=object),
                                    ["yes", "no"], ["True", "False"]])
def test_flags_are_never_labels_in_long_tables_or_label_arrays(labels):
    long = _long([("a", "r", labels[0]), ("b", "r", labels[1])])
    with pytest.raises(AnnotationError, match=r"True/False|presence flag"):
        HardLabels().fit(from_long(long))
    with pytest.raises(AnnotationError, match="presence flag"):
        HardLabels().fit(pd.Series(list(labels), index=["a", "b"], dtype=object))


# -- ids and labels -----------------------------------------------------------------
def test_rater_ids_differing_in_case_or_space_are_refused_with_the_pair():
    long = _long([("a", "R1", "sad"), ("a", "R1 ", "angry"), ("b", "R1", "sad")])
    with pytest.raises(AnnotationError, match=r"rater ids 'R1' and 'R1 ' differ"):
        HardLabels().fit(from_long(long))
    long = _long([("a", "Alice", "sad"), ("b", "alice", "sad")])
    with pytest.raises(AnnotationError, match=r"'Alice' and 'alice'"):
        HardLabels().fit(from_long(long))


def test_utterance_ids_differing_in_space_are_refused():
    long = _long([("u1", "r", "sad"), ("u1 ", "r", "angry")])
    with pytest.raises(AnnotationError, match=r"utterance ids 'u1' and 'u1 '"):
        HardLabels().fit(from_long(long))


def test_a_list_cell_in_a_long_table_is_several_choices():
    long = _long([("a", "r", ["sad", "angry"]), ("b", "r", "neu")])
    y = from_long(long, multiple="choices")
    assert y["a"] == {"r": ("sad", "angry")}


def test_a_list_of_label_tuples_gets_a_clear_error():
    with pytest.raises(AnnotationError, match="several labels.*from_long"):
        HardLabels().fit([("sad", "angry"), ("neu", "sad")])


def test_unique_of_ratings():
    y = pd.Series([{"A": ("sad",)}, {"A": ("sad",)}, {"B": ("sad",)},
                   {"A": ("sad", "angry")}, {"A": ("angry", "sad")}],
                  dtype="ratings")
    assert y.unique().tolist() == [{"A": ("sad",)}, {"B": ("sad",)},
                                   {"A": ("sad", "angry")}, {"A": ("angry", "sad")}]


# -- one parse per fit ------------------------------------------------------------
def test_checked_ratings_are_not_parsed_again_and_slices_stay_checked():
    table = pd.DataFrame({"A": [("sad",), ("angry",), ("sad",)],
                          "B": ["sad", "neu", None]}, index=["a", "b", "c"])
    before = n_parses()
    y = check_annotations(table)
    assert n_parses() == before + 1
    part = y.iloc[[2, 0]]
    assert check_annotations(part) is part
    assert check_annotations(select_raters(y, ["A"])).array.kind == "table"
    restored = pickle.loads(pickle.dumps(y))
    assert check_annotations(restored) is restored
    for enc in (HardLabels(), SoftLabels(), ExistenceLabels(), RaterLabels("A")):
        enc.fit(y).transform(y)
        enc.transform(part)
    assert n_parses() == before + 1
    # another label map re-reads the ratings as written, not the mapped ones
    mapped = check_annotations(y, label_map={"sadness": "anger"})
    assert mapped.array.vocabulary == ["anger", "neutral"]
    assert check_annotations(mapped, label_map=None).array.vocabulary == [
        "anger", "neutral", "sadness"]


def test_one_parse_per_fit_of_a_meta_estimator():
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.models import (
        BLSTMAttentionClassifier,
        StackedAnnotatorClassifier,
    )

    d = make_emotional_speech(n_utterances=24, n_speakers=4, n_sessions=2, raters=4,
                              random_state=0)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"frames": [rng.normal(size=(5, 3)).astype("float32")
                                 for _ in range(24)],
                      "speaker": d.utterances["speaker"].to_numpy()},
                     index=d.annotations.index)
    tiny = BLSTMAttentionClassifier(dense_units=4, lstm_units=4, head_units=4,
                                    max_epochs=1, validation_fraction=None)
    clf = StackedAnnotatorClassifier(tiny, min_rater_items=5, random_state=0)
    before = n_parses()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, to_wide(d.annotations))
    assert n_parses() - before == 1  # was 31 (one per component and encoder)


# -- aggregators return distributions ---------------------------------------------
def _biased_crowd(n=30, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.choice(["anger", "neutral", "sadness"], n)
    rows = []
    for i, t in enumerate(truth):
        rows += [(f"u{i}", "h1", t),
                 (f"u{i}", "h2", t if rng.random() < 0.8 else "neutral"),
                 (f"u{i}", "s", "sadness")]
    return from_long(_long(rows))


@pytest.mark.parametrize("method", sorted(AGGREGATION_METHODS))
def test_aggregated_soft_targets_are_distributions(method):
    pytest.importorskip("crowdkit")
    y = _biased_crowd()
    enc = AggregatedLabels(method, "soft").fit(y)
    q = enc.transform(y).to_numpy()
    assert np.nanmin(q) >= 0 and np.nanmax(q) <= 1
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    assert (enc.posteriors_.to_numpy() >= 0).all()
    new = from_long(_long([("n1", "zz", "anger"), ("n1", "yy", "anger")]))
    q_new = enc.transform(new).to_numpy()
    assert np.isfinite(q_new).all() and np.isclose(q_new.sum(), 1.0)


@pytest.mark.parametrize("rows", [
    [("a", "r", "sad"), ("b", "r", "sad"), ("b", "q", "sad")],  # one class
    [("a", "r", "sad"), ("a", "q", "angry")],  # one utterance
    [("a", "r", "sad"), ("b", "r", "angry")],  # one rater
])
@pytest.mark.parametrize("method", sorted(AGGREGATION_METHODS))
def test_degenerate_crowds_get_a_defined_answer(rows, method):
    pytest.importorskip("crowdkit")
    y = from_long(_long(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # raters with a single rating
        q = AggregatedLabels(method).fit(y).transform(y).to_numpy()
    assert np.isfinite(q).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0)


def test_aggregated_transform_uses_the_ratings_it_is_given():
    pytest.importorskip("crowdkit")
    y = _biased_crowd()
    enc = AggregatedLabels().fit(y)
    full = enc.transform(y)
    pd.testing.assert_frame_equal(full, enc.transform(y.copy()))
    only_biased = enc.transform(select_raters(y, ["s"]))
    # the rater who always says sadness tells nothing: the prior, for every row
    assert np.allclose(only_biased.to_numpy(), only_biased.to_numpy()[0])
    assert not np.allclose(only_biased.to_numpy(), full.to_numpy())
    # another corpus reusing the ids gets its own ratings' answer
    other = from_long(_long([("u0", "h1", "anger"), ("u0", "h2", "anger")]))
    assert enc.transform(other).iloc[0].idxmax() == "anger"


# -- alignment by id ----------------------------------------------------------------
def test_fold_inputs_pairs_by_id_not_position():
    from sklearn_ser.experiments import fold_inputs

    rng = np.random.default_rng(0)
    ids = [f"u{i}" for i in range(8)]
    X = pd.DataFrame({"frames": [rng.normal(size=(4, 2)).astype("float32")
                                 for _ in ids],
                      "speaker": ["s1", "s1", "s2", "s2"] * 2}, index=ids)
    y = from_long(_long([(u, "r", "sad" if i % 2 else "angry")
                         for i, u in enumerate(ids)]))
    groups = np.array(["g1"] * 4 + ["g2"] * 4)
    a, _ = fold_inputs(X, y, groups, normalise="none", pool=2)
    b, _ = fold_inputs(X, y.iloc[::-1], groups, normalise="none", pool=2)
    assert a["g1"][1].index.equals(b["g1"][1].index)
    with pytest.raises(AnnotationError, match="misaligned"):
        fold_inputs(X, y.rename(lambda i: i + "x"), groups, normalise="none")


def test_scorers_and_score_align_by_id_and_accept_ratings():
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_validate

    from sklearn_ser.metrics import ser_scoring
    from sklearn_ser.models import EveryRatingClassifier

    rng = np.random.default_rng(0)
    ids = [f"u{i}" for i in range(40)]
    labels = ["anger", "sadness"] * 20
    X = pd.DataFrame({"f": [0.0 if lab == "anger" else 1.0 for lab in labels]},
                     index=ids) + rng.normal(scale=0.1, size=(40, 1))
    y = from_long(_long([(u, r, lab) for u, lab in zip(ids, labels, strict=True)
                         for r in ("a", "b")]))
    clf = EveryRatingClassifier().fit(X, y)
    shuffled = y.iloc[rng.permutation(40)]
    assert clf.score(X, y) == clf.score(X, shuffled) == 1.0
    scorer = ser_scoring(["anger", "sadness"])["uar"]
    assert scorer(clf, X, shuffled) == 1.0
    res = cross_validate(EveryRatingClassifier(), X, y, cv=4)  # no scoring=
    assert np.isfinite(res["test_score"]).all()
    dummy = DummyClassifier(strategy="constant", constant="sadness").fit(X, labels)
    assert scorer(dummy, X, shuffled) == 0.5


def test_networks_and_fusions_score_ratings_without_a_scoring():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_validate

    from sklearn_ser.models import BLSTMAttentionClassifier, LateFusionClassifier

    rng = np.random.default_rng(0)
    ids = [f"u{i}" for i in range(16)]
    labels = ["anger", "sadness"] * 8
    y = from_long(_long([(u, r, lab) for u, lab in zip(ids, labels, strict=True)
                         for r in ("a", "b")]))
    X = pd.DataFrame({"frames": [rng.normal(loc=float(lab == "anger"), size=(4, 2))
                                 .astype("float32") for lab in labels]}, index=ids)
    net = BLSTMAttentionClassifier(dense_units=4, lstm_units=4, head_units=4,
                                   max_epochs=2, validation_fraction=None,
                                   random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cross_validate(net, X, y, cv=2)
    assert np.isfinite(res["test_score"]).all()
    flat = pd.DataFrame({"f": [float(lab == "anger") for lab in labels]}, index=ids)
    fusion = LateFusionClassifier([("lr", LogisticRegression())]).fit(flat, labels)
    assert fusion.score(flat, y.iloc[::-1]) == 1.0


def test_every_rating_uses_its_encoders_classes():
    from sklearn_ser.models import EveryRatingClassifier

    ids = [f"u{i}" for i in range(8)]
    labs = ["anger", "sadness", "neutral", "happiness"] * 2
    y = from_long(_long([(u, "r", lab) for u, lab in zip(ids, labs, strict=True)]))
    X = pd.DataFrame({"f": np.arange(8.0)}, index=ids)
    clf = EveryRatingClassifier(targets=SoftLabels(["anger", "sadness"], alpha=0))
    with pytest.warns(DroppedRowsWarning, match="left out 4 of 8"):
        clf.fit(X, y)
    assert list(clf.classes_) == ["anger", "sadness"]


# -- properties over generated crowds, in every accepted form ---------------------
LABELS = ["sad", "angry", "neutral", "happy", "fear", "other", "pos"]
ALIASES = ["sad", "sadness", "Angry", "anger", "neu", "Neutral state", "hap",
           "happy", "other", "pos"]
RATER_POOLS = [["E1", "E2", "E3", "E10", "E4"], ["alice", "bob", "carol", "dan"],
               ["R 1", "r_2", "x.y", "Z"], [1, 2, 3, 10, 7]]


@st.composite
def crowds(draw, labels=LABELS, max_items=10, choices=3):
    """A list of (utterance, rater, [labels in choice order])."""
    raters = draw(st.sampled_from(RATER_POOLS))
    raters = draw(st.lists(st.sampled_from(raters), min_size=1, max_size=len(raters),
                           unique=True))
    n = draw(st.integers(1, max_items))
    ids = draw(st.sampled_from([[f"u{i}" for i in range(n)], list(range(100, 100 + n)),
                                [f"spk/{i:03d}.wav" for i in range(n)]]))
    out = []
    for u in ids:
        for r in raters:
            if draw(st.floats(0, 1)) < 0.35:
                continue
            k = draw(st.integers(1, choices))
            labs = draw(st.lists(st.sampled_from(labels), min_size=1, max_size=k,
                                 unique=True))
            out.append((u, r, labs))
    assume(out)
    return out


def _forms(crowd):
    """The same crowd as ratings, long table, wide table and dict elements."""
    rows = [(u, r, lab) for u, r, labs in crowd for lab in labs]
    long = _long(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ratings = from_long(long, multiple="choices")
    ids = list(ratings.index)
    raters = list(ratings.ratings.raters)
    wide = pd.DataFrame(None, index=pd.Index(ids, name="utterance"),
                        columns=pd.Index(raters, name="rater"), dtype=object)
    elements = {u: {} for u in ids}
    for u, r, labs in crowd:
        wide.at[u, r] = tuple(labs)
        elements[u][r] = tuple(labs)
    series = pd.Series([elements[u] for u in ids], index=ratings.index,
                       dtype="ratings")
    return {"ratings": ratings, "long": from_long(long, multiple="choices"),
            "wide": wide, "elements": series}


def _targets(y, classes=None, raters=()):
    out = {}
    for name, enc in {"hard": HardLabels(classes), "hard_first": HardLabels(
            classes, votes="first"), "hard_abs": HardLabels(classes, rule="absolute"),
            "soft": SoftLabels(classes), "exist": ExistenceLabels(classes)}.items():
        try:
            enc.fit(y)
        except AnnotationError as exc:
            out[name] = str(exc)
            continue
        out[name] = (enc.transform(y), enc.target_status(y))
    for r in raters:
        enc = RaterLabels(r, "hard", classes=classes)
        try:
            out[f"rater_{r}"] = enc.fit(y).transform(y)
        except AnnotationError as exc:
            out[f"rater_{r}"] = str(exc)
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], str):
            assert a[k] == b[k], k
        elif isinstance(a[k], tuple):
            for x, z in zip(a[k], b[k], strict=True):
                _eq(x, z)
        else:
            _eq(a[k], b[k])


def _eq(x, z):
    if isinstance(x, pd.DataFrame):
        pd.testing.assert_frame_equal(x, z, check_exact=True, check_names=False,
                                      check_index_type=False)
    else:
        pd.testing.assert_series_equal(x, z, check_exact=True, check_names=False,
                                       check_index_type=False)


@given(crowds(labels=ALIASES))
def test_every_form_of_a_crowd_gives_identical_targets(crowd):
    forms = _forms(crowd)
    raters = list(forms["ratings"].ratings.raters)[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _targets(forms["ratings"], raters=raters)
        for y in forms.values():
            _assert_same(ref, _targets(y, raters=raters))


@given(crowds(choices=1, labels=["sad", "angry", "neutral", "happy", "other"]))
def test_vote_counts_and_multi_hot_give_the_ratings_targets(crowd):
    y = _forms(crowd)["ratings"]
    canon = sorted({normalize_label(lab) for _, _, labs in crowd for lab in labs})
    counts = to_long(y).assign(label=lambda t: t["label"].map(normalize_label))
    votes = pd.crosstab(counts["utterance"], counts["label"]).reindex(
        index=y.index, columns=canon, fill_value=0)
    votes.columns.name = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_same(_targets(y), _targets(votes))
        hot = votes > 0
        a = _targets(y)["exist"]
        for table in (hot, hot.map(lambda v: "yes" if v else "no")):
            b = _targets(table)["exist"]
            if isinstance(a, str):
                assert a == b
            else:
                _eq(a[0], b[0])


@given(crowds(choices=1, labels=["sad", "angry", "neutral"]))
def test_one_rater_as_labels_equals_its_ratings(crowd):
    first_rater = crowd[0][1]
    mine = [(u, r, labs) for u, r, labs in crowd if r == first_rater]
    y = from_long(_long([(u, r, labs[0]) for u, r, labs in mine]))
    labels = pd.Series([labs[0] for _, _, labs in mine], index=y.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for enc in (HardLabels(), SoftLabels(), ExistenceLabels()):
            _eq(enc.fit(y).transform(y), enc.fit(labels).transform(labels))


@given(crowds(labels=ALIASES), st.data())
def test_round_trips_lose_and_invent_nothing(crowd, data):
    y = _forms(crowd)["ratings"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = from_long(to_long(y), multiple="choices")
    assert back.equals(y) or back.tolist() == y.tolist()
    assert to_ratings(to_wide(y)).tolist() == y.tolist()
    assert pickle.loads(pickle.dumps(y)).tolist() == y.tolist()
    order = data.draw(st.permutations(range(len(y))))
    part = y.iloc[list(order)]
    assert part.tolist() == [y.iloc[i] for i in order]
    both = pd.concat([y.iloc[: len(y) // 2], y.iloc[len(y) // 2:]])
    assert both.tolist() == y.tolist()
    # targets of a slice are the slice of the targets
    if {normalize_label(lab) for _, _, labs in crowd for lab in labs} == {"other"}:
        with pytest.raises(AnnotationError, match="only label seen is 'other'"):
            SoftLabels().fit(y)  # no target class to infer (documented refusal)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = SoftLabels().fit(y)
        _eq(enc.transform(part), enc.transform(y).iloc[list(order)])


@given(crowds(labels=ALIASES), st.sampled_from([None, "", np.nan, "nan", "None"]))
def test_no_label_or_rater_appears_that_the_input_lacked(crowd, hole):
    rows = [(u, r, lab) for u, r, labs in crowd for lab in labs]
    rows.append((rows[0][0], rows[0][1], hole))  # a missing label somewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = check_annotations(from_long(_long(rows), multiple="choices"))
    given_labels = {normalize_label(lab) for _, _, labs in crowd for lab in labs}
    given_raters = {r for _, r, _ in crowd}
    assert set(y.array.vocabulary) <= given_labels
    assert set(y.ratings.raters) <= given_raters
    if given_labels == {"other"}:
        with pytest.raises(AnnotationError, match="only label seen is 'other'"):
            HardLabels().fit(y)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = HardLabels().fit(y)
    assert set(enc.classes_) <= given_labels - {"other"}
    assert set(enc.transform(y).dropna()) <= given_labels


@given(crowds(), st.sets(st.sampled_from(LABELS), min_size=1, max_size=3))
def test_map_labels_to_none_removes_exactly_those(crowd, removed):
    y = _forms(crowd)["ratings"]
    out = y.ratings.map_labels(dict.fromkeys(removed))
    long = to_long(y)
    kept = long[~long["label"].isin(removed)]
    assert out.ratings.n_ratings == len(kept)
    assert not set(out.ratings.labels) & removed


# crowd-kit's models are slow to fit: a fifth of the profile's examples
@settings(max_examples=max(5, settings.default.max_examples // 5))
@given(crowds(labels=["sad", "angry", "neutral", "happy"], max_items=10, choices=1),
       st.sampled_from(sorted(AGGREGATION_METHODS)))
def test_aggregators_always_give_distributions(crowd, method):
    pytest.importorskip("crowdkit")
    y = _forms(crowd)["ratings"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            enc = AggregatedLabels(method, "soft").fit(y)
        except AnnotationError as exc:  # crowd-kit could not fit: said clearly
            assert method == "mmsr" and "crowd-kit's MMSR failed" in str(exc)
            return
        q = enc.transform(y).to_numpy()
    rated = ~np.isnan(q).any(axis=1)
    assert ((q[rated] >= -1e-12) & (q[rated] <= 1 + 1e-12)).all()
    np.testing.assert_allclose(q[rated].sum(axis=1), 1.0)


@given(crowds(labels=["anger", "happiness", "neutral", "sadness"]),
       st.integers(2, 4))
@settings(max_examples=60, deadline=None)
def test_existence_min_votes_names_every_class_it_empties_in_every_form(crowd, m):
    classes = ["anger", "happiness", "neutral", "sadness"]
    most = {c: 0 for c in classes}
    for u in {u for u, _, _ in crowd}:
        for c in classes:
            most[c] = max(most[c], sum(c in labs for v, _, labs in crowd if v == u))
    lost = {c for c, n in most.items() if 0 < n < m}
    for form, y in _forms(crowd).items():
        enc = ExistenceLabels(classes, min_votes=m)
        if max(most.values()) < m:
            with pytest.raises(ValueError, match=f"min_votes={m} leaves no class"):
                enc.fit(y)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            e = enc.fit(y).transform(y)
        said = [str(w.message) for w in caught
                if issubclass(w.category, AbsentClassWarning)]
        assert bool(said) == bool(lost), form
        named = {c for c in classes if said and f"'{c}' (at most" in said[0]}
        assert named == lost, form
        for c in classes:
            assert (e[c].fillna(0).to_numpy() > 0).any() == (most[c] >= m), (form, c)


# -- lists of names (classes, a metric's labels, raters): one check --------------
CLASS_SPELLINGS = {"anger": ["anger", "Angry", " ang "], "sadness": ["sad", "Sadness"],
                   "neutral": ["neutral", "Neutral state", "neu"],
                   "happiness": ["happy", "hap", "joy"], "pos": ["pos"]}
NOTHING = [None, np.nan, pd.NA, "", "   "]


def _as_form(names, form):
    return {"list": list(names), "tuple": tuple(names),
            "array": np.asarray(names, dtype=object),
            "index": pd.Index(list(names), dtype=object),
            "series": pd.Series(list(names), dtype=object)}[form]


def _name_entry_points(y):
    """Every public entry point that reads a list of class names, as callables
    of that list (each must accept a valid one and refuse a bad one)."""
    from sklearn_ser.metrics import (
        confusion_table,
        per_class_report,
        ser_scoring,
        unweighted_average_recall,
        weighted_accuracy,
    )

    truth, pred = ["anger", "sadness", "anger"], ["anger", "anger", "sadness"]
    return {
        "resolve_classes": lambda c: resolve_classes(None, c),
        "HardLabels": lambda c: HardLabels(c).fit(y).classes_,
        "SoftLabels": lambda c: SoftLabels(c).fit(y).classes_,
        "ExistenceLabels": lambda c: ExistenceLabels(c).fit(y).classes_,
        "check_annotations": lambda c: check_annotations(y, classes=c),
        "ser_scoring": lambda c: ser_scoring(classes=c, warn=False),
        "rater_profiles": lambda c: rater_profiles(y, c),
        "uar": lambda c: unweighted_average_recall(truth, pred, labels=c),
        "wa": lambda c: weighted_accuracy(truth, pred, labels=c),
        "per_class_report": lambda c: per_class_report(truth, pred, labels=c),
        "confusion_table": lambda c: confusion_table(truth, pred, labels=c),
    }


@st.composite
def class_lists(draw):
    """(canonical names, the names as the user spells them)."""
    canon = draw(st.lists(st.sampled_from(sorted(CLASS_SPELLINGS)), min_size=2,
                          max_size=5, unique=True))
    assume("anger" in canon and "sadness" in canon)  # the metrics' truth
    spelt = [draw(st.sampled_from(CLASS_SPELLINGS[c])) for c in canon]
    return canon, spelt


@given(class_lists(), st.sampled_from(["list", "tuple", "array", "index", "series"]),
       st.sampled_from(["string", "nothing", "twice"]), st.data())
@settings(max_examples=40, deadline=None)
def test_every_list_of_class_names_is_checked_once_in_every_form(lists, form, bad,
                                                                 data):
    canon, spelt = lists
    y = pd.DataFrame({"alice": ["Angry", "sad", "neutral", "hap"],
                      "bob": ["anger", "sadness", "sad", "pos"]},
                     index=["u1", "u2", "u3", "u4"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in _name_entry_points(y).values():
            call(_as_form(spelt, form))  # a valid list, in any form, is read
        assert list(resolve_classes(None, _as_form(spelt, form))) == sorted(canon)
        # the profiles' columns: the classes as given, spellings normalised
        profiles = rater_profiles(y, _as_form(spelt, form))
        assert list(profiles.columns) == canon
        np.testing.assert_allclose(profiles.sum(axis=1), 1.0)  # none unread
        assert profiles.loc["alice", "anger"] > 0
        if bad == "string":  # never its characters
            wrong = data.draw(st.sampled_from(spelt))
            match = "not the string"
        elif bad == "nothing":
            wrong = list(spelt)
            at = data.draw(st.integers(0, len(wrong)))
            wrong.insert(at, data.draw(st.sampled_from(NOTHING)))
            wrong = _as_form(wrong, form)
            match = "names nothing"
        else:  # one class twice, maybe in another spelling
            c = data.draw(st.sampled_from(canon))
            wrong = _as_form([*spelt, data.draw(st.sampled_from(CLASS_SPELLINGS[c]))],
                             form)
            match = "twice"
        for name, call in _name_entry_points(y).items():
            if bad == "twice" and name == "check_annotations":
                continue  # reads the names as known labels only: a set
            with pytest.raises(ValueError, match=match if name not in (
                    "HardLabels", "SoftLabels", "ExistenceLabels") or bad != "string"
                    else "array-like"):
                call(wrong)


@pytest.mark.parametrize("raters", ["alice", ["alice", None], ["alice", " "],
                                    ["alice", "alice"], ("bob", "alice", "bob")])
def test_a_list_of_raters_is_checked_once(raters):
    y = pd.DataFrame({"alice": ["anger", "sad"], "a": ["anger", "neutral"],
                      "bob": ["sad", "sad"]}, index=["u1", "u2"])
    with pytest.raises(ValueError, match="not the string|names nothing|twice"):
        select_raters(y, raters)
    with pytest.raises(ValueError, match="not the string|names nothing|twice"):
        rater_profiles(y, ["anger", "sadness"], raters)
    assert list(select_raters(y, ("bob", "alice")).columns) == ["bob", "alice"]


def test_metrics_read_a_blank_true_label_as_missing():
    from sklearn_ser.metrics import unweighted_average_recall

    with pytest.raises(ValueError, match="missing label"):
        unweighted_average_recall(["anger", " ", "sadness"], ["anger"] * 3)


TRUTH_VALUES = {"anger": "anger", "Angry": "anger", "sadness": "sadness",
                "sad ": "sadness", None: None, np.nan: None, "": None, "  ": None,
                "boredom": "boredom", "Fear": "fear"}


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.tuples(st.sampled_from(list(TRUTH_VALUES) + [pd.NA]),
                                st.sampled_from(["anger", "sadness"])),
                      min_size=1, max_size=30),
       form=st.sampled_from(["list", "array", "series"]))
def test_a_truth_column_scores_the_rows_whose_label_is_a_class(cells, form):
    """score_predictions (the command line's UAR vs truth) reads a truth
    column in any form: a missing or blank value and a label that is not a
    class leave that row out of the truth UAR (counted), spellings are the
    ratings' labels; nothing raises or counts a missing value as a label."""
    from sklearn_ser.experiments import score_predictions
    from sklearn_ser.experiments._protocol import _truth_counts
    from sklearn_ser.experiments._scores import truth_rows

    classes = ["anger", "sadness"]
    raw = [t for t, _ in cells]
    pred = np.array([p for _, p in cells], dtype=object)
    truth = {"list": raw, "array": np.array(raw, dtype=object),
             "series": pd.Series(raw, index=[f"u{i}" for i in range(len(raw))],
                                 dtype=object)}[form]
    canon = [None if t is pd.NA else TRUTH_VALUES[t] for t in raw]
    keep = np.array([c in classes for c in canon])
    got = score_predictions(pred, pred, classes, truth)
    if not keep.any():
        assert got["uar_truth"] is None
    else:
        t = np.array(canon, dtype=object)[keep]
        recalls = [np.mean(pred[keep][t == c] == c) for c in classes if np.any(t == c)]
        assert got["uar_truth"] == pytest.approx(np.mean(recalls))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        has, _, left = truth_rows(truth, classes)
        counts = _truth_counts(has, left)
    assert counts["scored"] == keep.sum()
    assert counts["missing"] == sum(c is None for c in canon)
    assert sum(counts["other"].values()) == sum(
        c is not None and c not in classes for c in canon)
    assert bool(caught) == (not keep.all())
    if caught:  # the message names the counts and each reason
        text = str(caught[0].message)
        assert f"UAR vs the truth column over {keep.sum()} of {len(raw)}" in text
        assert (f"{counts['missing']} without a value" in text) == bool(
            counts["missing"])
        assert ("whose label is not a class" in text) == bool(counts["other"])


def test_a_fold_without_a_majority_is_scored_as_none_not_an_error():
    """Leave-one-group-out with small groups (one utterance per session, a
    speaker whose few utterances are all ties) gives folds with nothing to
    score against the majority: None there, and the per-fold means skip them."""
    from sklearn_ser.experiments import score_predictions
    from sklearn_ser.experiments._scores import _fold_means

    classes = ["anger", "sadness"]
    pred = np.array(["anger", "sadness", "anger", "anger"], dtype=object)
    majority = pd.Series(["anger", "sadness", None, np.nan], dtype=object)
    truth = np.array(["anger", "sadness", "sadness", None], dtype=object)
    empty = score_predictions(pred[2:], majority[2:], classes, [None, None])
    assert empty["uar"] is None and empty["wa"] is None and empty["uar_truth"] is None
    groups = np.array(["g1", "g1", "g2", "g3"])
    means = _fold_means(pred, majority, classes, truth, groups)
    assert means["uar_fold_mean"] == pytest.approx(1.0)  # g1 only
    assert means["uar_truth_fold_mean"] == pytest.approx((1.0 + 0.0) / 2)  # g1, g2
