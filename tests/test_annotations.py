import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_ser.annotations import (
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    align_annotations,
    from_long,
    normalize_label,
    rater_counts,
    to_ratings,
    to_wide,
)
from sklearn_ser.exceptions import (
    AbsentClassWarning,
    AnnotationError,
    DroppedRowsWarning,
    EmptyRaterWarning,
    RepeatedRatingWarning,
)

CLASSES = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture
def table():
    # u1: clear sadness; u2: anger/frustration tie; u3: frustration majority;
    # u4: excitement + happiness (IEMOCAP merge); u5: unrated; u6: only "Other"
    return pd.DataFrame(
        {
            "E1": [("Sadness",), ("Anger",), ("Frustration",), ("Excited",), None,
                   ("Other",)],
            "E2": [("sad", "angry"), ("Frustration",), ("Frustration",),
                   ("Happiness",), None, None],
            "E3": [("Neutral state",), None, ("Anger",), ("neu",), None, None],
        },
        index=pd.Index([f"u{i}" for i in range(1, 7)], name="utterance"),
        dtype=object,
    )


@pytest.mark.parametrize(
    "raw, canon",
    [("Neutral state", "neutral"), ("neu", "neutral"), ("Neutral", "neutral"),
     ("  HAPPY ", "happiness"), ("Excited", "excitement"), ("fru", "frustration"),
     ("Others", "other"), ("pos", "pos"), (3, 3), ("Neutral;", "neutral")],
)
def test_normalize_label(raw, canon):
    assert normalize_label(raw) == canon


def test_from_long_keeps_order_and_multiple_choices():
    long = pd.DataFrame({
        "utterance": ["a", "a", "a", "b", "b"],
        "rater": ["E2", "E2", "E10", "E10", "E2"],
        "label": ["sad", "angry", "neu", "happy", "happy"],
    })
    with pytest.warns(RepeatedRatingWarning, match="1 .utterance, rater. pair"):
        from_long(long)
    ratings = from_long(long, multiple="choices")
    table = to_wide(ratings)
    assert list(table.columns) == ["E2", "E10"]  # natural order
    assert table.loc["a", "E2"] == ("sad", "angry")
    assert table.loc["b", "E10"] == ("happy",)
    assert list(table.index) == ["a", "b"]
    assert ratings["a"] == {"E2": ("sad", "angry"), "E10": ("neu",)}


def test_from_long_counts_dropped_rows():
    long = pd.DataFrame({"task": ["a", "a", "a", "b"], "worker": ["w", "w", "v", "v"],
                         "label": ["sad", "sad", None, "neu"]})
    with pytest.warns(DroppedRowsWarning, match="1 with no label .* and 1 exact"):
        ratings = from_long(long)
    assert ratings["a"] == {"w": ("sad",)}


@pytest.mark.parametrize(
    "df, kwargs, match",
    [
        (pd.DataFrame({"item": [], "rater": [], "label": []}), {}, "empty"),
        (pd.DataFrame({"x": ["a"], "rater": ["r"], "label": ["sad"]}), {},
         "which column holds the item"),
        (pd.DataFrame({"item": ["a"], "rater": ["r"], "label": ["sad"]}),
         {"rater": "annotator"}, "'annotator' is not in the table"),
        (pd.DataFrame({"item": ["a", None], "rater": ["r", "r"],
                       "label": ["sad", "sad"]}), {}, "no 'item' or no 'rater'"),
    ],
)
def test_from_long_errors(df, kwargs, match):
    with pytest.raises((KeyError, AnnotationError), match=match):
        from_long(df, **kwargs)


def test_hard_labels_ties_non_target_and_mapping(table):
    enc = HardLabels(CLASSES, label_map="iemocap").fit(table)
    labels = enc.transform(table)
    status = enc.target_status(table)
    # u1: sad 2 (E1, E2), angry 1, neutral 1 -> sadness
    assert labels["u1"] == "sadness"
    # u2: anger 1 vs frustration 1 -> tie even though frustration is no target
    assert status["u2"] == "tie" and pd.isna(labels["u2"])
    # u3: frustration majority -> no target emotion
    assert status["u3"] == "no_target" and pd.isna(labels["u3"])
    # u4: excitement counts as happiness -> 2 vs 1
    assert labels["u4"] == "happiness"
    assert status["u5"] == "unrated"
    assert status["u6"] == "no_target"


def test_hard_labels_without_map_sees_excitement_tie(table):
    enc = HardLabels(CLASSES).fit(table)
    assert enc.target_status(table)["u4"] == "tie"


def test_tie_break_first_choice_and_votes_first():
    table = pd.DataFrame({"A": [("sad", "angry")], "B": [("angry", "sad")],
                          "C": [("sad",)]}, dtype=object)
    # all ratings: sad 3, anger 2 -> sad
    assert HardLabels().fit_transform(table)[0] == "sadness"
    tie = pd.DataFrame({"A": [("sad", "angry")], "B": [("angry", "sad")]},
                       dtype=object)
    assert HardLabels().fit(tie).target_status(tie)[0] == "tie"
    # first choices: sad 1, anger 1 -> still tied
    assert pd.isna(HardLabels(tie_break="first_choice").fit_transform(tie)[0])
    tie2 = pd.DataFrame({"A": [("sad", "angry")], "B": [("sad",)], "C": [("angry",)],
                         "D": [("neu", "angry")], "E": [("sad",)]}, dtype=object)
    # all: sad 3 angry 3 -> tie; first choices: sad 3 angry 1 -> sadness
    assert HardLabels().fit(tie2).target_status(tie2)[0] == "tie"
    assert HardLabels(tie_break="first_choice").fit_transform(tie2)[0] == "sadness"
    assert HardLabels(votes="first").fit_transform(tie2)[0] == "sadness"


def test_tie_break_random_is_seeded():
    tie = pd.DataFrame({"A": [("sad",)] * 20, "B": [("angry",)] * 20}, dtype=object)
    a = HardLabels(tie_break="random", random_state=0).fit_transform(tie)
    b = HardLabels(tie_break="random", random_state=0).fit_transform(tie)
    assert a.tolist() == b.tolist()
    assert set(a) == {"anger", "sadness"}


def test_absolute_rule():
    table = pd.DataFrame({"A": [("sad",)], "B": [("sad",)], "C": [("angry",)],
                          "D": [("neu",)], "E": [("happy",)]}, dtype=object)
    assert HardLabels().fit_transform(table)[0] == "sadness"
    enc = HardLabels(rule="absolute").fit(table)
    assert enc.target_status(table)[0] == "no_majority"


def test_soft_labels_eq1_slides_example():
    # Chou & Lee slides: (sad, anger), (sad), (anger, sad) -> 0.47 / 0.34 / 0.09
    table = pd.DataFrame({"E1": [("Sadness", "Anger")], "E2": [("Sadness",)],
                          "E3": [("Anger", "Sadness")]}, dtype=object)
    q = SoftLabels(CLASSES).fit_transform(table).iloc[0]
    assert q["sadness"] == pytest.approx(3.75 / 8)
    assert q["anger"] == pytest.approx(2.75 / 8)
    assert q["neutral"] == pytest.approx(0.75 / 8)
    q0 = SoftLabels(CLASSES, alpha=0).fit_transform(table).iloc[0]
    assert q0.to_dict() == pytest.approx({"anger": 0.4, "happiness": 0.0,
                                          "neutral": 0.0, "sadness": 0.6})


def test_soft_labels_missing_rows_and_non_target(table):
    enc = SoftLabels(CLASSES, label_map="iemocap").fit(table)
    q = enc.transform(table)
    np.testing.assert_allclose(q.dropna().sum(axis=1), 1.0)
    status = enc.target_status(table)
    assert status["u5"] == "unrated" and status["u6"] == "no_target"
    assert q.loc[["u5", "u6"]].isna().all().all()
    # u3: frustration x2 + anger x1 -> anger only among targets
    assert q.loc["u3"].idxmax() == "anger"
    assert q.loc["u3", "anger"] == pytest.approx(1.75 / 4)
    # non-target labels never enter the denominator
    q0 = SoftLabels(CLASSES, alpha=0).fit_transform(table)
    assert q0.loc["u3", "anger"] == 1.0


def test_existence_labels(table):
    e = ExistenceLabels(CLASSES, label_map="iemocap").fit_transform(table)
    assert e.loc["u1"].to_dict() == {"anger": 1, "happiness": 0, "neutral": 1,
                                     "sadness": 1}
    # u3 has only anger as a target emotion; u6 (only "Other") is a negative
    assert e.loc["u6"].sum() == 0 and not e.loc["u6"].isna().any()
    assert e.loc["u5"].isna().all()
    with pytest.warns(AbsentClassWarning, match=r"min_votes=2, class\(es\) 'anger' "
                      r"\(at most 1 vote\(s\) on one utterance\), 'neutral'"):
        e2 = ExistenceLabels(CLASSES, min_votes=2, label_map="iemocap").fit_transform(
            table)
    assert e2.loc["u1", "sadness"] == 1 and e2.loc["u1", "anger"] == 0


def test_rater_labels(table):
    soft = RaterLabels("E2", classes=CLASSES).fit_transform(table)
    assert soft.loc["u1", "sadness"] == pytest.approx(soft.loc["u1", "anger"])
    assert soft.loc[["u2", "u3", "u5"]].isna().all().all()  # frustration / unrated
    hard = RaterLabels("E2", "hard", classes=CLASSES).fit_transform(table)
    assert hard["u1"] == "sadness"  # first choice among targets
    with pytest.raises(AnnotationError, match="Rater 'E9' is not a column"):
        RaterLabels("E9").fit(table)
    with pytest.raises(AnnotationError, match="needs a rater table"):
        RaterLabels("E1").fit(pd.DataFrame({"sad": [1, 2], "neu": [0, 1]}))


def test_rater_counts(table):
    counts = rater_counts(table)
    assert counts.to_dict() == {"E1": 5, "E2": 4, "E3": 3}


def test_vote_count_table_and_label_array():
    votes = pd.DataFrame({"Anger": [3, 1, 0], "Neutral": [1, 1, 0], "sad": [0, 0, 0]},
                         index=["a", "b", "c"])
    enc = HardLabels().fit(votes)
    assert list(enc.classes_) == ["anger", "neutral", "sadness"]
    out = enc.transform(votes)
    assert out["a"] == "anger" and pd.isna(out["b"]) and pd.isna(out["c"])
    assert enc.target_status(votes).tolist() == ["ok", "tie", "unrated"]
    q = SoftLabels(alpha=0).fit_transform(votes)
    assert q.loc["a", "anger"] == 0.75
    labels = ["Neutral", "neu", None, "ang"]
    enc = HardLabels().fit(labels)
    assert enc.transform(labels).tolist()[:2] == ["neutral", "neutral"]
    assert pd.isna(enc.transform(labels)[2])
    ints = np.array([0, 1, 1, 2])
    assert HardLabels().fit_transform(ints).tolist() == [0, 1, 1, 2]


def test_strict_mode_names_utterance_rater_and_label(table):
    with pytest.raises(AnnotationError, match=r"Unknown label 'meh' \(utterance 'b', "
                                              r"rater 'E1'\)"):
        bad = pd.DataFrame({"E1": [("sad",), ("meh",)]}, index=["a", "b"],
                           dtype=object)
        HardLabels(strict=True).fit(bad)
    HardLabels(CLASSES, strict=True, label_map="iemocap").fit(table)


@pytest.mark.parametrize(
    "bad, match",
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"E1": [("sad",), ("neu",)]}, index=["a", "a"], dtype=object),
         "duplicated utterance id"),
        (pd.DataFrame({"E1": [None, None]}, dtype=object), "not a single rating"),
        (pd.DataFrame({"sad": [1, -1]}), "finite and >= 0"),
        (pd.DataFrame({"sad": [1, 2], "fileName": ["x", "y"]}), "mixes numeric"),
        ([], "empty"),
    ],
)
def test_bad_tables(bad, match):
    with pytest.raises(AnnotationError, match=match):
        HardLabels().fit(bad)


def test_empty_rater_column_warns_with_count():
    table = pd.DataFrame({"E1": [("sad",)], "E2": [None], "E3": [()]}, dtype=object)
    with pytest.warns(EmptyRaterWarning, match="2 of 3 rater column"):
        HardLabels().fit(table)


def test_classes_validation():
    with pytest.raises(ValueError, match="name a class twice"):
        HardLabels(["happiness", "happy"]).fit(["happy"])
    with pytest.raises(ValueError, match="label_map"):
        HardLabels(label_map="nope").fit(["happy"])


def test_align_annotations(table):
    X = pd.DataFrame({"speaker": list("abcdef")}, index=table.index[::-1])
    aligned = align_annotations(X, table)
    assert list(aligned.index) == list(X.index)
    with pytest.raises(AnnotationError, match=r"1 utterance\(s\) of X have no"):
        align_annotations(X, table.iloc[1:])
    with pytest.raises(AnnotationError, match="X has 2 utterances"):
        align_annotations([[0], [1]], [1, 2, 3])


def test_encoders_clone_and_get_params():
    enc = SoftLabels(CLASSES, alpha=0.5, label_map={"exc": "hap"})
    enc2 = clone(enc)
    assert enc2.get_params()["alpha"] == 0.5
    enc2.set_params(alpha=0.0)
    assert enc.alpha == 0.5


def test_to_long_inverts_from_long():
    from sklearn_ser.annotations import to_long

    long = pd.DataFrame({"utterance": ["u1", "u1", "u1", "u2", "u3"],
                         "rater": ["A", "A", "B", "B", "A"],
                         "label": ["sad", "angry", "sad", "neutral", "happy"]})
    table = from_long(long, multiple="choices")
    back = to_long(table)
    assert back.to_numpy().tolist() == long.to_numpy().tolist()
    pd.testing.assert_series_equal(from_long(back, multiple="choices"), table)
    # the wide table converts both ways
    pd.testing.assert_series_equal(to_ratings(to_wide(table)), table,
                                   check_index_type=False)
    assert to_long(to_wide(table)).to_numpy().tolist() == long.to_numpy().tolist()
    with pytest.raises(TypeError, match="annotation table"):
        to_long([("sad",)])


def test_infer_classes_keeps_labels_that_win_a_majority():
    from sklearn_ser.annotations import infer_classes
    from sklearn_ser.exceptions import AnnotationError

    table = pd.DataFrame({
        "A": [("sad",), ("angry", "contempt"), ("neu", "surprise"), ("happy",),
              ("other",)],
        "B": [("sad",), ("angry",), ("neu",), ("happy",), ("other",)],
        "C": [("sad", "fear"), ("angry",), ("neutral",), ("sad",), ("other",)],
    })
    classes, report = infer_classes(table, return_report=True)
    # second choices (contempt, surprise, fear) and "other" are not classes
    assert classes == ["anger", "happiness", "neutral", "sadness"]
    assert report["left_out"] == {"contempt": 1, "fear": 1, "other": 3,
                                  "surprise": 1}
    assert report["wins"] == {"anger": 1, "happiness": 1, "neutral": 1,
                              "sadness": 1}
    with pytest.raises(AnnotationError, match="Fewer than two labels win"):
        infer_classes(table, min_wins=2)
    with pytest.raises(ValueError, match="min_wins"):
        infer_classes(table, min_wins=0)
    # plain labels and vote tables work too
    assert infer_classes(pd.Series(["a", "b", "a"])) == ["a", "b"]


# --- ambiguous inputs are refused or read one way (issue 12) ---------------------
def test_integer_codes_in_rater_columns_are_not_read_as_votes():
    from sklearn_ser.exceptions import AnnotationError

    codes = pd.DataFrame({"E1": [0, 1, 2], "E2": [0, 2, 2]}, index=["a", "b", "c"])
    with pytest.raises(AnnotationError, match="not labels.*read two ways.*to_ratings"):
        HardLabels().fit(codes)
    gaps = pd.DataFrame({"r1": [0, 1, np.nan], "r2": [0.0, np.nan, 2]})
    with pytest.raises(AnnotationError, match="not labels.*read two ways"):
        HardLabels().fit(gaps)
    # the suggested conversion works
    fixed = codes.map(lambda v: None if pd.isna(v) else (str(int(v)),))
    assert HardLabels().fit_transform(fixed).tolist() == ["0", np.nan, "2"]
    # real vote tables keep working
    votes = pd.DataFrame({"anger": [3, 0], "sadness": [1, 4]})
    assert HardLabels().fit_transform(votes).tolist() == ["anger", "sadness"]


def test_boolean_multi_hot_tables_are_read_as_presence():
    hot = pd.DataFrame({"anger": [True, False], "sadness": [False, True]})
    assert HardLabels().fit_transform(hot).tolist() == ["anger", "sadness"]
    assert HardLabels().fit_transform(hot.astype(int)).tolist() == ["anger",
                                                                     "sadness"]


@pytest.mark.parametrize("value, match", [(0.5, "whole numbers"),
                                          (1e308, "not a vote-count table")])
def test_absurd_vote_counts_are_refused(value, match):
    from sklearn_ser.exceptions import AnnotationError

    votes = pd.DataFrame({"anger": [3.0, value], "sadness": [1.0, 4.0]})
    with pytest.raises(AnnotationError, match=match):
        SoftLabels().fit(votes)


def test_labels_differing_in_case_or_space_are_refused():
    from sklearn_ser.exceptions import AnnotationError

    table = pd.DataFrame({"A": [("Calm",), ("calm ",)], "B": [("calm",), ("Calm",)]})
    with pytest.raises(AnnotationError, match="differ only in case, spaces"):
        HardLabels().fit(table)
    # known aliases are normalised, not refused
    ok = pd.DataFrame({"A": [("Sad",), ("neutral ",)], "B": [("sad",), ("Neutral",)]})
    assert HardLabels().fit_transform(ok).tolist() == ["sadness", "neutral"]


def test_nan_and_none_strings_are_missing_with_a_count():
    table = pd.DataFrame({"A": [("sad",), ("nan",)], "B": [("None",), ("angry",)]})
    with pytest.warns(DroppedRowsWarning,
                      match=r"2 rating\(s\) have no label \('None', 'nan'"):
        enc = HardLabels().fit(table)
    assert list(enc.classes_) == ["anger", "sadness"]
    with pytest.warns(DroppedRowsWarning, match="1 rating"):
        labels = HardLabels().fit_transform(pd.Series(["sad", "nan", "angry"]))
    assert labels.isna().tolist() == [False, True, False]


def test_semicolons_mean_two_choices_in_from_long_as_in_cells():
    long = pd.DataFrame({"utterance": ["u1", "u1"], "rater": ["A", "B"],
                         "label": ["sad;angry", "sad"]})
    table = from_long(long)
    assert table["u1"]["A"] == ("sad", "angry")
    cells = pd.DataFrame({"A": ["sad;angry"], "B": ["sad"]}, index=["u1"])
    np.testing.assert_allclose(SoftLabels().fit_transform(table).to_numpy(),
                               SoftLabels().fit_transform(cells).to_numpy())


def test_list_cells_and_several_labels_per_row_in_1d():
    from sklearn_ser.exceptions import AnnotationError

    lists = pd.DataFrame({"A": [["sad", "angry"], ["neutral"]],
                          "B": [["sad"], None]})
    assert HardLabels().fit_transform(lists).tolist() == ["sadness", "neutral"]
    with pytest.raises(AnnotationError, match="several labels, in a 1-D label array"):
        HardLabels().fit([("sad",), ("angry", "sad")])
