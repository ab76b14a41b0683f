"""Crowd-scale ratings: the O(ratings) representation and what reads it."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from sklearn_ser.annotations import (
    AggregatedLabels,
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    check_annotations,
    from_long,
    infer_classes,
    n_parses,
    rater_counts,
    resolve_classes,
    select_raters,
    to_long,
    to_ratings,
    to_wide,
)
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import (
    AnnotationError,
    DroppedRowsWarning,
    LabelCodeWarning,
    RepeatedRatingWarning,
    SparseRaterWarning,
)

CLASSES = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture(scope="module")
def crowd():
    data = make_emotional_speech(60, n_speakers=6, n_sessions=3, random_state=0)
    return data


def _long(n_items=40, n_raters=15, per=4, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_items):
        truth = CLASSES[i % 4]
        for r in rng.choice(n_raters, per, replace=False):
            lab = truth if rng.random() < 0.7 else CLASSES[rng.integers(4)]
            rows.append((f"u{i:03d}", f"r{r}", lab))
    return pd.DataFrame(rows, columns=["utterance", "rater", "label"])


# -- the representation ------------------------------------------------------------
def test_ratings_store_one_entry_per_rating_not_per_cell():
    long = _long(200, 500, 3)
    y = from_long(long)
    assert y.dtype == "ratings" and len(y) == 200
    assert y.ratings.n_ratings == 600
    # bytes grow with the ratings: a few per rating, not utterances x raters
    assert y.array.nbytes < 600 * 16 + 201 * 8
    assert len(y.ratings.raters) == long["rater"].nunique()


def test_ratings_slice_pickle_concat_and_print(crowd):
    y = crowd.annotations
    part = y.iloc[[5, 1, 1]]
    assert list(part.index) == [y.index[5], y.index[1], y.index[1]]
    assert part.iloc[0] == y.iloc[5]
    assert y.loc[y.index[3]] == y.iloc[3]
    assert pickle.loads(pickle.dumps(y)).equals(y)
    assert pd.concat([y.iloc[:10], y.iloc[10:]]).equals(y)
    assert "R1:" in repr(y.head())
    # reindex to a missing id gives an utterance nobody rated
    re = y.reindex([y.index[0], "nobody"])
    assert re.isna().tolist() == [False, True]


def test_wide_and_long_forms_round_trip(crowd):
    y = crowd.annotations
    wide = to_wide(y)
    assert wide.shape == (len(y), len(y.ratings.raters))
    pd.testing.assert_series_equal(to_ratings(wide), y)
    back = from_long(to_long(y), multiple="choices")
    assert back.array.equals(y.array)
    with pytest.raises(MemoryError, match="cells"):
        to_wide(y, max_cells=10)


@pytest.mark.parametrize("encoder", [
    HardLabels(CLASSES), HardLabels(CLASSES, votes="first", rule="absolute"),
    HardLabels(CLASSES, tie_break="first_choice"), SoftLabels(CLASSES),
    SoftLabels(CLASSES, alpha=0, votes="first"), ExistenceLabels(CLASSES),
    RaterLabels("R2", "hard", classes=CLASSES), RaterLabels("R3", "soft"),
], ids=lambda e: repr(e))
def test_encoders_give_the_same_targets_on_ratings_and_wide_tables(crowd, encoder):
    y = crowd.annotations
    wide = to_wide(y)
    a = clone(encoder).fit(y).transform(y)
    b = clone(encoder).fit(wide).transform(wide)
    if isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_index_type=False)
    else:
        pd.testing.assert_frame_equal(a, b, check_index_type=False)
    sa = clone(encoder).fit(y).target_status(y)
    sb = clone(encoder).fit(wide).target_status(wide)
    assert (sa.to_numpy() == sb.to_numpy()).all()


def test_counts_classes_and_raters_agree_with_the_wide_table(crowd):
    y = crowd.annotations
    wide = to_wide(y)
    pd.testing.assert_series_equal(rater_counts(y), rater_counts(wide))
    assert infer_classes(y) == infer_classes(wide)
    assert list(resolve_classes(y)) == list(resolve_classes(wide))
    sub = select_raters(y, ["R1", "R3"])
    assert set(sub.ratings.raters) == {"R1", "R3"} and len(sub) == len(y)
    np.testing.assert_allclose(
        SoftLabels(CLASSES).fit_transform(sub).to_numpy(),
        SoftLabels(CLASSES).fit_transform(wide[["R1", "R3"]]).to_numpy())
    with pytest.raises(AnnotationError, match="gave no rating"):
        select_raters(y, ["nobody"])


def test_cross_validate_and_grid_search_slice_ratings_without_densifying(crowd):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    y = crowd.annotations
    u = crowd.utterances
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(y), 3))

    seen = []

    class Spy(LogisticRegression):
        def fit(self, X, y):
            seen.append(type(y).__name__ + ":" + str(getattr(y, "dtype", "")))
            labels = HardLabels(CLASSES).fit_transform(y)
            keep = labels.notna().to_numpy()
            return super().fit(X[keep], labels[keep].to_numpy(dtype=str))

    res = cross_validate(Spy(), X, y, groups=u["session"], cv=LeaveOneGroupOut(),
                         scoring=lambda est, X_, y_: 0.0)
    assert len(res["test_score"]) == 3 and set(seen) == {"Series:ratings"}
    grid = GridSearchCV(make_pipeline(Spy()), {"spy__C": [0.1, 1.0]},
                        cv=LeaveOneGroupOut(), scoring=lambda est, X_, y_: 0.0)
    grid.fit(X, y, groups=u["session"])
    assert set(seen) == {"Series:ratings"}


def test_one_parse_is_shared_by_the_encoders_of_one_fit(crowd):
    y = to_ratings(to_wide(crowd.annotations))  # a fresh array, empty cache
    before = n_parses()
    first = check_annotations(y)
    second = check_annotations(y)
    assert first.array is second.array  # the cached parse, not a new one
    assert check_annotations(first) is first  # checked ratings are not re-parsed
    assert n_parses() == before + 1
    assert not y.array.__getstate__()["_cache"]  # not pickled


# -- from_long at crowd scale and its bad inputs -------------------------------------
def test_from_long_handles_repeated_pairs_as_asked():
    long = pd.DataFrame({"utterance": ["a", "a", "b"], "rater": ["r", "r", "r"],
                         "label": ["sad", "angry", "neutral"]})
    with pytest.warns(RepeatedRatingWarning, match="1 .utterance, rater. pair.*'a'"):
        y = from_long(long)
    assert y["a"] == {"r": ("sad", "angry")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert from_long(long, multiple="choices")["a"] == {"r": ("sad", "angry")}
    with pytest.warns(RepeatedRatingWarning, match="kept the first row.*1 row"):
        assert from_long(long, multiple="first")["a"] == {"r": ("sad",)}
    with pytest.warns(RepeatedRatingWarning, match="kept the last"):
        assert from_long(long, multiple="last")["a"] == {"r": ("angry",)}
    with pytest.raises(AnnotationError, match="utterance 'a', rater 'r'"):
        from_long(long, multiple="error")
    with pytest.raises(ValueError, match="multiple="):
        from_long(long, multiple="sometimes")


def test_from_long_bad_labels_are_named():
    codes = pd.DataFrame({"utterance": ["a", "b"], "rater": ["r", "r"],
                          "label": [1, 2]})
    with pytest.warns(LabelCodeWarning, match="holds numbers .2 distinct: 1, 2"):
        y = from_long(codes)
    assert list(HardLabels().fit(y).classes_) == [1, 2]
    flags = pd.DataFrame({"utterance": ["a"], "rater": ["r"], "label": [True]})
    with pytest.raises(AnnotationError, match="True/False"):
        from_long(flags)
    case = pd.DataFrame({"utterance": ["a", "b"], "rater": ["r", "r"],
                         "label": ["Calm", "calm "]})
    with pytest.raises(AnnotationError, match="differ only in case"):
        HardLabels().fit(from_long(case))
    strings = pd.DataFrame({"utterance": ["a", "b"], "rater": ["r", "s"],
                            "label": ["sad", "nan"]})
    with pytest.warns(DroppedRowsWarning, match="left out 1 with no label .'nan'"):
        y = from_long(strings)  # the "nan" rating is left out where it is read
    out = HardLabels().fit_transform(y)
    assert out.isna().tolist() == [False, True]  # 'b' is listed, with no rating
    with pytest.raises(AnnotationError, match="Unknown label 'sadd'.*'a'.*'r'"):
        HardLabels(CLASSES, strict=True).fit(from_long(pd.DataFrame(
            {"utterance": ["a"], "rater": ["r"], "label": ["sadd"]})))


def test_ratings_for_utterances_absent_from_X_are_an_error(crowd):
    from sklearn_ser.annotations import align_annotations

    y = crowd.annotations
    X = crowd.utterances.iloc[:-2]
    with pytest.raises(AnnotationError, match="2 annotation row.*match no utterance"):
        align_annotations(X, y)
    # an utterance rated by nobody has no target, with its reason
    re = y.reindex([*y.index[:3], "silent"])
    status = HardLabels(CLASSES).fit(re).target_status(re)
    assert status["silent"] == "unrated"


# -- model-based aggregation ---------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_dawid_skene_matches_crowdkit_on_the_fitted_ratings():
    ck = pytest.importorskip("crowdkit.aggregation")
    long = _long(80, 12, 5, seed=1)
    y = from_long(long)
    ours = AggregatedLabels("dawid_skene", "soft", n_iter=50).fit(y)
    theirs = ck.DawidSkene(n_iter=50).fit(
        long.rename(columns={"utterance": "task", "rater": "worker"}))
    np.testing.assert_allclose(
        ours.posteriors_.loc[:, CLASSES].to_numpy(),
        theirs.probas_.reindex(index=y.index, columns=CLASSES).to_numpy(), atol=1e-6)
    hard = AggregatedLabels("dawid_skene", "hard", n_iter=50).fit_transform(y)
    assert (hard.to_numpy() == theirs.labels_.reindex(y.index).to_numpy()).all()


@pytest.mark.parametrize("method", ["dawid_skene", "one_coin_dawid_skene", "glad",
                                    "mace", "mmsr"])
def test_every_aggregation_method_gives_targets(method):
    pytest.importorskip("crowdkit.aggregation")
    y = from_long(_long(60, 10, 5, seed=2))
    soft = AggregatedLabels(method, "soft", n_iter=20).fit_transform(y)
    assert soft.shape == (60, 4)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    hard = AggregatedLabels(method, "hard", n_iter=20).fit_transform(y)
    truth = np.array(CLASSES * 15)
    assert (hard.to_numpy() == truth).mean() > 0.7


def test_aggregation_on_new_utterances_uses_only_the_fitted_raters():
    pytest.importorskip("crowdkit.aggregation")
    long = _long(80, 12, 5, seed=3)
    y = from_long(long)
    train, test = y.iloc[:60], y.iloc[60:]
    enc = AggregatedLabels("dawid_skene", "soft").fit(train)
    out = enc.transform(test)
    assert out.notna().all().all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    # the model of the training ratings is not changed by transforming others
    before = enc.posteriors_.copy()
    enc.transform(y)
    pd.testing.assert_frame_equal(enc.posteriors_, before)
    assert list(enc.posteriors_.index) == list(train.index)
    # a new rater gets the pooled confusion matrix
    stranger = from_long(pd.DataFrame({"utterance": ["x"], "rater": ["new"],
                                       "label": ["sadness"]}))
    assert enc.transform(stranger).loc["x"].idxmax() == "sadness"


def test_existence_through_binary_relevance():
    pytest.importorskip("crowdkit.aggregation")
    y = from_long(_long(40, 8, 5, seed=4))
    e = AggregatedLabels("dawid_skene", "existence", n_iter=20).fit_transform(y)
    assert set(np.unique(e.to_numpy())) <= {0.0, 1.0}
    assert (e.sum(axis=1) >= 1).mean() > 0.9


def test_aggregation_bad_inputs_are_clear():
    pytest.importorskip("crowdkit.aggregation")
    votes = pd.DataFrame({"anger": [2, 0], "sadness": [1, 3]})
    with pytest.raises(AnnotationError, match="vote counts"):
        AggregatedLabels().fit(votes)
    lonely = pd.DataFrame({"utterance": ["a", "a", "b"], "rater": ["p", "q", "p"],
                           "label": ["sad", "sad", "angry"]})
    with pytest.warns(SparseRaterWarning, match="1 of 2 raters gave a single"):
        AggregatedLabels().fit(from_long(lonely))


def test_aggregated_targets_train_a_model_inside_cross_validation(crowd):
    pytest.importorskip("crowdkit.aggregation")
    from sklearn_ser.models import BLSTMAttentionClassifier

    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(5, 3)).astype(np.float32) for _ in crowd.annotations]
    X = pd.DataFrame({"frames": frames}, index=crowd.utterances.index)
    model = BLSTMAttentionClassifier(
        AggregatedLabels("dawid_skene", "soft", classes=crowd.classes),
        dense_units=4, lstm_units=2, head_units=4, max_epochs=2,
        validation_fraction=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cross_validate(model, X, crowd.annotations,
                             groups=crowd.utterances["session"],
                             cv=LeaveOneGroupOut(), return_estimator=True)
    enc = res["estimator"][0].target_encoder_
    assert enc.target_kind == "soft"
    # the encoder saw the training fold only
    test_ids = set(crowd.utterances.index[crowd.utterances["session"]
                                          == sorted(crowd.utterances["session"]
                                                    .unique())[0]])
    assert not test_ids & set(enc.posteriors_.index)


def test_aggregated_labels_api(tmp_path):
    pytest.importorskip("crowdkit.aggregation")
    y = from_long(_long(30, 6, 4, seed=5))
    enc = AggregatedLabels("glad", "hard", n_iter=10)
    assert clone(enc).get_params() == enc.get_params()
    fitted = clone(enc).fit(y)
    joblib.dump(fitted, tmp_path / "enc.joblib")
    restored = joblib.load(tmp_path / "enc.joblib")
    pd.testing.assert_series_equal(restored.transform(y), fitted.transform(y))
    with pytest.raises(Exception, match="not fitted"):
        clone(enc).transform(y)


# -- StackedAnnotatorClassifier's rater groups at crowd scale --------------------------
def test_rater_profiles_equal_the_per_rater_soft_labels(crowd):
    from sklearn_ser.annotations import rater_profiles

    y = crowd.annotations
    raters = list(rater_counts(y).index)
    fast = rater_profiles(y, CLASSES, raters).to_numpy()
    slow = np.array([np.nan_to_num(RaterLabels(r, "soft", classes=CLASSES, alpha=0)
                                   .fit(y).transform(y).mean(axis=0).to_numpy())
                     for r in raters])
    np.testing.assert_allclose(fast, slow)


def test_a_rater_chooses_a_label_once_and_each_rater_has_one_column():
    table = pd.DataFrame({"A": [("sad", "sad", "angry")], "B": ["sad;sad"]},
                         index=["u1"])
    assert to_ratings(table)["u1"] == {"A": ("sad", "angry"), "B": ("sad",)}
    twice = pd.DataFrame([[("sad",), ("angry",)]], columns=["A", "A"], index=["u1"])
    with pytest.raises(AnnotationError, match=r"rater\(s\) \['A'\] in more than one"):
        HardLabels().fit(twice)
