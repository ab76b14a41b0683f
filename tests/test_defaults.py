"""Defaults decided from the data (issue 23): the class set, the weights'
scale, the penalty chosen in the training fold."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ser.annotations import from_long, infer_classes


def _crowd(wins, n_raters=3, seed=0):
    """A crowd where ``label`` wins ``wins[label]`` utterances (every rater
    of an utterance agrees with its winner but one, who picks a random other
    label), plus utterances that tie (no winner)."""
    rng = np.random.default_rng(seed)
    labels = list(wins)
    rows, u = [], 0
    for label, n in wins.items():
        for _ in range(n):
            for r in range(n_raters):
                other = rng.choice([x for x in labels if x != label] or [label])
                rows.append((f"u{u}", f"r{r}", label if r else other))
            u += 1
    for _ in range(5):  # ties: no winner
        for r, lab in enumerate(labels[:2] * 2):
            rows.append((f"u{u}", f"r{r}", lab))
        u += 1
    return from_long(pd.DataFrame(rows, columns=["utterance", "rater", "label"]))


def test_labels_that_win_few_majorities_are_not_classes():
    # the newcomer trial's shape: 4 intended emotions among 400 clips, disgust
    # and fear winning 14 and 7 majorities
    y = _crowd({"anger": 90, "happiness": 95, "neutral": 100, "sadness": 94,
                "disgust": 14, "fear": 7})
    classes, report = infer_classes(y, return_report=True)
    assert classes == ["anger", "happiness", "neutral", "sadness"]
    assert report["rare"] == {"disgust": 14, "fear": 7}
    assert "rare winners left out: disgust (14), fear (7)" in report["rule"]
    # every winner kept when asked
    assert len(infer_classes(y, min_share=0)) == 6
    assert infer_classes(y, min_share=0.02) == sorted(
        ["anger", "happiness", "neutral", "sadness", "disgust"])
    for bad in (-0.1, 1.0, True, "most"):
        with pytest.raises(ValueError, match="min_share must be"):
            infer_classes(y, min_share=bad)


@given(wins=st.dictionaries(st.sampled_from(["anger", "boredom", "disgust", "fear",
                                             "happiness", "neutral", "sadness"]),
                            st.integers(1, 60), min_size=2, max_size=7),
       min_wins=st.integers(1, 3))
def test_the_class_rule_for_any_win_counts(wins, min_wins):
    """Classes = the labels that win at least max(min_wins, N / (4 K))
    majorities; the others that win are reported as rare; none is lost."""
    y = _crowd(wins)
    n = sum(wins.values())
    k = sum(1 for v in wins.values() if v >= min_wins)
    need = max(min_wins, math.ceil(n / (4 * max(k, 1))))
    expected = sorted(c for c, v in wins.items() if v >= need)
    if len(expected) < 2:
        with pytest.raises(ValueError, match="Fewer than two labels"):
            infer_classes(y, min_wins=min_wins)
        return
    classes, report = infer_classes(y, min_wins=min_wins, return_report=True)
    assert classes == expected
    assert report["rare"] == {c: v for c, v in wins.items()
                              if min_wins <= v < need}
    assert report["wins"] == {c: wins[c] for c in classes}


def test_load_corpus_takes_the_classes_of_a_truth_column(tmp_path):
    from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus

    data = make_emotional_speech(24, n_speakers=3, n_sessions=3, random_state=0)
    paths = save_corpus(data, tmp_path / "c")
    meta = pd.read_csv(paths.metadata)
    loaded = load_corpus(paths.audio_dir, paths.ratings, paths.metadata,
                         truth_column="intended")
    assert loaded.classes == sorted(set(meta["intended"]))
    assert "truth column 'intended'" in loaded.classes_report["rule"]
    with pytest.raises(ValueError, match="truth_column='gold' is not a column"):
        load_corpus(paths.audio_dir, paths.ratings, paths.metadata,
                    truth_column="gold")
    # a truth label no rater chose is left out, and said
    meta.loc[0, "intended"] = "Contempt"
    meta.to_csv(tmp_path / "m.csv", index=False)
    loaded = load_corpus(paths.audio_dir, paths.ratings, tmp_path / "m.csv",
                         truth_column="intended")
    assert "contempt" not in loaded.classes
    assert "no rater chose ['contempt']" in loaded.classes_report["rule"]


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_the_command_line_takes_the_truth_column_s_classes(tmp_path, capsys):
    from sklearn_ser.datasets import make_emotional_speech, save_corpus
    from sklearn_ser.experiments._cli import main

    data = make_emotional_speech(32, n_speakers=4, n_sessions=2, random_state=1)
    paths = save_corpus(data, tmp_path / "c")
    long = pd.read_csv(paths.ratings)
    # a stray label that wins one utterance of 32: a rare winner, not a class
    ids = long["utterance"].unique()[:1]
    long.loc[long["utterance"].isin(ids), "label"] = "disgust"
    long.to_csv(tmp_path / "r.csv", index=False)
    args = ["benchmark", "--audio-dir", str(paths.audio_dir), "--ratings",
            str(tmp_path / "r.csv"), "--metadata", str(paths.metadata),
            "--methods", "logreg_egemaps", "--no-progress", "--n-jobs", "1",
            "--cache", str(tmp_path / "cache")]
    assert main([*args, "--truth-column", "intended", "--out",
                 str(tmp_path / "o1")]) == 0
    err = capsys.readouterr().err
    truth = sorted(set(pd.read_csv(paths.metadata)["intended"]))
    assert f"classes {truth} (the labels of the truth column 'intended')" in err
    # classes given that the truth column never holds: warned
    assert main([*args, "--truth-column", "intended", "--classes",
                 ",".join([*truth, "disgust"]), "--out", str(tmp_path / "o2")]) == 0
    assert "class(es) ['disgust'] never appear in the truth column" in (
        capsys.readouterr().err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*args, "--out", str(tmp_path / "o3")]) == 0
    assert "rare winners left out: disgust (1)" in capsys.readouterr().err


# -- the penalty chosen in the training data ------------------------------------------
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_ser.models import EveryRatingClassifier  # noqa: E402


class Recorder(ClassifierMixin, BaseEstimator):
    """Logs the utterance ids (column 0 of X) it is fitted on and asked about."""

    log = []

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        w = np.ones(len(y)) if sample_weight is None else sample_weight
        self.prior_ = np.array([w[y == c].sum() for c in self.classes_]) / w.sum()
        Recorder.log.append(("fit", self.C, set(np.asarray(X)[:, 0].astype(int))))
        return self

    def predict_proba(self, X):
        Recorder.log.append(("ask", self.C, set(np.asarray(X)[:, 0].astype(int))))
        # the class prior plus noise that grows with C: a stronger penalty is a
        # better model here, so the search is observable
        ids = np.asarray(X)[:, 0].astype(int)
        noise = np.abs(np.sin(np.outer(ids + 1, np.arange(1, len(self.classes_) + 1))))
        p = self.prior_ + self.C * noise
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _rated(n=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = ["angry", "sad", "neutral"]
    long = pd.DataFrame({
        "utterance": np.repeat([f"u{i}" for i in range(n)], 3),
        "rater": np.tile(["r1", "r2", "r3"], n),
        "label": rng.choice(labels, size=3 * n)})
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 3))])
    speakers = np.repeat([f"s{k}" for k in range(6)], n // 6)
    return X, from_long(long), speakers


@pytest.mark.parametrize("scoring", ["log_loss", "uar"])
@pytest.mark.parametrize("grouped", [True, False])
def test_the_search_splits_utterances_and_speakers_never_rows(scoring, grouped):
    X, y, speakers = _rated()
    Recorder.log = []
    clf = EveryRatingClassifier(Recorder(), param_grid={"C": [1.0, 0.1, 0.01]},
                                search_cv=3, search_scoring=scoring,
                                classes=["anger", "neutral", "sadness"],
                                random_state=0)
    clf.fit(X, y, groups=speakers if grouped else None)
    fits = [e for e in Recorder.log if e[0] == "fit"]
    asks = [e for e in Recorder.log if e[0] == "ask"]
    assert len(fits) == 3 * 3 + 1  # candidates x folds, then the final fit
    spk = dict(enumerate(speakers))
    for (_, c_fit, train), (_, c_ask, held) in zip(fits[:9], asks[:9], strict=True):
        assert c_fit == c_ask and not train & held  # an utterance on one side only
        if scoring == "log_loss":  # uar asks about utterances with a plurality
            assert train | held == set(range(60))
        if grouped:
            assert not {spk[i] for i in train} & {spk[i] for i in held}
    if scoring == "log_loss":
        assert clf.best_params_ == {"C": 0.01}  # the best-scoring candidate
    assert fits[-1][1] == clf.best_params_["C"] and fits[-1][2] == set(range(60))
    res = clf.search_results_
    assert list(res.columns) == ["params", "mean_score", "std_score", "rank"]
    assert res.loc[res["rank"] == 1, "params"].iloc[0] == clf.best_params_


def test_search_ties_take_the_first_candidate_and_pipelines_their_step():
    X, y, speakers = _rated()
    flat = EveryRatingClassifier(Recorder(), param_grid={"C": [1.0, 1.0 + 1e-12]},
                                 search_scoring="uar", classes=["anger", "neutral",
                                                                "sadness"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert flat.fit(X, y).best_params_ == {"C": 1.0}
    pipe = EveryRatingClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        param_grid={"logisticregression__C": [1e-3, 1e-1]}, random_state=0)
    pipe.fit(X, y, groups=speakers)
    assert set(pipe.best_params_) == {"logisticregression__C"}
    c = pipe.best_params_["logisticregression__C"]
    assert pipe.estimator_.steps[-1][1].C == c
    again = clone(pipe).fit(X, y, groups=speakers)
    np.testing.assert_allclose(again.predict_proba(X), pipe.predict_proba(X))


def test_search_errors_name_the_parameter():
    from sklearn.svm import LinearSVC

    X, y, speakers = _rated()
    with pytest.raises(ValueError, match="candidate {'gamma': 1} does not fit"):
        EveryRatingClassifier(LogisticRegression(), param_grid={"gamma": [1]}).fit(X, y)
    with pytest.raises(TypeError, match="search_scoring='log_loss'.*predict_proba"):
        EveryRatingClassifier(LinearSVC(), param_grid={"C": [1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="param_grid search.*groups has 1 value"):
        EveryRatingClassifier(LogisticRegression(), param_grid={"C": [1.0]}).fit(
            X, y, groups=np.zeros(len(X)))
    assert EveryRatingClassifier(LinearSVC(), param_grid={"C": [1.0, 0.1]},
                                 search_scoring="uar").fit(X, y).best_params_


def test_refine_groups_false_splits_utterances_while_the_search_groups():
    X, y, speakers = _rated()
    Recorder.log = []
    EveryRatingClassifier(Recorder(), param_grid={"C": [1.0]}, search_cv=3, refine=1,
                          refine_cv=4, refine_groups=False, random_state=0,
                          classes=["anger", "neutral", "sadness"]).fit(
        X, y, groups=speakers)
    asks = [e[2] for e in Recorder.log if e[0] == "ask"]
    spk = dict(enumerate(speakers))
    search, refine = asks[:3], asks[3:7]
    assert all(len({spk[i] for i in held}) == 2 for held in search)  # 6 spk / 3
    assert len(refine) == 4 and all(len(h) == 15 for h in refine)  # 60 / 4
    assert any(len({spk[i] for i in held}) > 2 for held in refine)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_the_command_line_recipe_chooses_c_per_fold_and_says_how_uar_is_pooled(
        tmp_path, monkeypatch):
    import dataclasses
    import json

    from sklearn_ser import experiments as benchmark
    from sklearn_ser.datasets import make_emotional_speech, save_corpus
    from sklearn_ser.experiments._cli import main

    data = make_emotional_speech(32, n_speakers=4, n_sessions=2, random_state=2)
    paths = save_corpus(data, tmp_path / "c")
    # the fusion's mechanism on the cheap member (ComParE takes minutes)
    fusion = benchmark.METHODS["every_rating_fusion"]
    monkeypatch.setitem(benchmark.METHODS, "every_rating_fusion", dataclasses.replace(
        fusion, members=("every_rating_egemaps", "crowd_soft")))
    out = tmp_path / "o"
    assert main(["benchmark", "--audio-dir", str(paths.audio_dir), "--ratings",
                 str(paths.ratings), "--metadata", str(paths.metadata),
                 "--group-column", "speaker", "--truth-column", "intended",
                 "--methods", "every_rating_egemaps,every_rating_fusion",
                 "--max-epochs", "1", "--n-jobs", "1", "--no-progress",
                 "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    methods = results["methods"]
    assert set(methods) == {"every_rating_egemaps", "every_rating_fusion"}
    chosen = methods["every_rating_egemaps"]["chosen_C"]
    assert sorted(chosen) == ["spk00", "spk01", "spk02", "spk03"]
    grid = benchmark.penalty_grid(88)
    assert all(min(abs(c[0] - g) for g in grid) < 1e-12 for c in chosen.values())
    assert methods["every_rating_fusion"]["chosen_C"] == chosen
    for r in methods.values():
        assert 0 <= r["uar_fold_mean"] <= 1 and 0 <= r["uar_truth_fold_mean"] <= 1
    md = (out / "results.md").read_text()
    assert "pooled over the folds" in md and "uar_fold_mean" in md
    assert "`every_rating_egemaps`: C chosen in each training fold: spk00" in md
    # the fusion is reported, its member that was not asked for is not
    pred = pd.read_csv(out / "predictions.csv", index_col=0)
    assert "every_rating_fusion" in pred.columns and "crowd_soft" not in pred.columns


# -- classes rare in the training data ---------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=2, max_size=9))
def test_rare_classes_are_those_below_a_quarter_of_an_even_share(counts):
    from sklearn_ser.annotations import rare_classes

    names = [f"c{k}" for k in range(len(counts))]
    rare = rare_classes(names, counts)
    total = sum(counts)
    for name, n in zip(names, counts, strict=True):
        expected = total > 0 and 0 < n / total < 1 / (4 * len(counts))
        assert (name in rare) == expected
        if expected:
            assert rare[name] == pytest.approx(n / total)


@pytest.mark.parametrize("target,what", [("hard", "utterances"),
                                         ("soft", "utterances' chosen classes")])
def test_a_network_warns_about_a_class_rare_in_its_training_data(target, what):
    from sklearn_ser.models import BLSTMAttentionClassifier, RareClassWarning

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(5, 3)).astype(np.float32) for _ in range(60)]
    # one-choice ratings of two raters; 'fear' wins 1 utterance of 60
    labels = ["anger"] * 30 + ["sadness"] * 29 + ["fear"]
    y = pd.DataFrame({"E1": [(v,) for v in labels], "E2": [(v,) for v in labels]},
                     dtype=object)
    clf = BLSTMAttentionClassifier(target, classes=["anger", "fear", "sadness"],
                                   dense_units=4, lstm_units=2, head_units=4,
                                   max_epochs=1, validation_fraction=None,
                                   random_state=0)
    with pytest.warns(RareClassWarning, match=rf"'fear' \(\d\.\d% of the training "
                      rf"{what}\)"):
        clf.fit(X, y)
    # a balanced fit does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error", RareClassWarning)
        clf.fit(X, ["anger", "sadness", "fear"] * 20)


def test_the_command_line_names_classes_rare_in_a_training_fold():
    from sklearn_ser.experiments import results_table
    from sklearn_ser.experiments._protocol import _rare_in_training

    majority = pd.Series(["a"] * 40 + ["b"] * 40 + ["c"] * 2 + ["c"] * 18,
                         dtype=object)
    groups = np.array(["1"] * 82 + ["2"] * 18)
    ok = np.ones(100, dtype=bool)
    rare = _rare_in_training(majority.to_numpy(dtype=object), ok, groups,
                             ["a", "b", "c"])
    # fold 2's training part has 2 of 82 'c' (2.4% < 1/12); fold 1's has 18 of 18
    assert list(rare) == ["2"] and rare["2"]["c"] == pytest.approx(2 / 82)
    results = {"methods": {}, "meta": {
        "classes": ["a", "b", "c"], "n_scored": 100, "n_no_consensus": 0,
        "folds": "leave-one-session-out (2 folds)", "seeds": 1,
        "rare_classes": rare}}
    assert "rare in a training fold" in results_table(results)
    assert "c in fold(s) 2 (2.4%)" in results_table(results)


def test_the_command_line_warns_on_stderr_about_rare_classes(capsys):
    from sklearn_ser.experiments import rare_by_class
    from sklearn_ser.experiments._cli import _say_rare

    rare = {"2": {"c": 0.024}, "3": {"c": 0.02, "d": 0.01}}
    assert rare_by_class(rare) == {"c": [("2", 0.024), ("3", 0.02)],
                                   "d": [("3", 0.01)]}
    _say_rare(rare, "session")
    err = capsys.readouterr().err
    assert "'c' is rare in the training fold(s) of session 2, 3" in err
    assert "'d' is rare in the training fold(s) of session 3" in err
    _say_rare({}, "session")
    assert capsys.readouterr().err == ""
