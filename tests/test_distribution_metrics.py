"""Scores against every rating, each checked against an independent computation
(scipy, scikit-learn, the krippendorff package on the raters x utterances
matrix) on generated crowds and on EmoDB-crowd's ratings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import f1_score, log_loss

from sklearn_ser.annotations import from_long, normalize_label, to_long
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import (
    agreement_report,
    all_inclusive_f1,
    expected_calibration_error,
    jensen_shannon_divergence,
    krippendorff_alpha,
    ser_scoring,
    soft_brier_score,
    soft_log_loss,
)

CLASSES = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture(scope="module")
def crowd():
    d = make_emotional_speech(n_utterances=80, n_speakers=4, n_sessions=2, raters=6,
                              second_choice_rate=0.3, other_rate=0.1, random_state=1)
    long = to_long(d.annotations)
    extra = pd.DataFrame({"utterance": ["only_other"] * 3, "rater": ["E1", "E2", "E3"],
                          "label": ["other", "other", "frustration"]})
    y = from_long(pd.concat([long, extra], ignore_index=True), multiple="choices")
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=len(y))
    return y, proba


def _shares_by_hand(y, classes):
    """Vote shares over classes from the long table, every choice counted."""
    long = to_long(y)
    long["label"] = long["label"].map(normalize_label)
    long = long[long["label"].isin(classes)]
    counts = pd.crosstab(long["utterance"], long["label"]).reindex(
        index=y.index, columns=classes, fill_value=0).to_numpy(dtype=float)
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        return counts / total


def test_soft_log_loss_js_and_brier_agree_with_scipy_and_sklearn(crowd):
    y, p = crowd
    q = _shares_by_hand(y, CLASSES)
    ok = ~np.isnan(q).any(axis=1)
    assert (~ok).any()  # some utterances were rated only outside the classes
    ce = np.mean([-(q[i][q[i] > 0] * np.log(p[i][q[i] > 0])).sum()
                  for i in np.flatnonzero(ok)])
    assert soft_log_loss(y, p, classes=CLASSES) == pytest.approx(ce, rel=1e-12)
    js = np.mean([jensenshannon(q[i], p[i], base=2) ** 2 for i in np.flatnonzero(ok)])
    assert jensen_shannon_divergence(y, p, classes=CLASSES) == pytest.approx(js)
    brier = np.mean(((p[ok] - q[ok]) ** 2).sum(axis=1))
    assert soft_brier_score(y, p, classes=CLASSES) == pytest.approx(brier)


def test_soft_log_loss_with_one_rater_is_sklearns_log_loss():
    rng = np.random.default_rng(3)
    labels = rng.choice(CLASSES, 40)
    p = rng.dirichlet(np.ones(4), size=40)
    y = pd.Series(labels)
    assert soft_log_loss(y, p, classes=CLASSES) == pytest.approx(
        log_loss(labels, p, labels=CLASSES))


def test_all_inclusive_f1_is_emo_superbs_rule(crowd):
    y, p = crowd
    q = _shares_by_hand(y, CLASSES)
    ok = ~np.isnan(q).any(axis=1)
    expected = f1_score(q[ok] >= 0.25, p[ok] >= 0.25, average="macro",
                        zero_division=0)
    assert all_inclusive_f1(y, p, classes=CLASSES) == pytest.approx(expected)
    expected = f1_score(q[ok] >= 0.5, p[ok] >= 0.5, average="macro", zero_division=0)
    assert all_inclusive_f1(y, p, classes=CLASSES, threshold=0.5) == pytest.approx(
        expected)
    # predicting the vote shares themselves is perfect
    assert all_inclusive_f1(y, np.where(np.isnan(q), 0.25, q),
                            classes=CLASSES) == pytest.approx(1.0)


def test_ece_by_hand(crowd):
    from sklearn_ser.annotations import HardLabels

    y, p = crowd
    truth = HardLabels(CLASSES).fit(y).transform(y).to_numpy(dtype=object)
    ok = ~pd.isna(truth)
    conf, pred = p[ok].max(axis=1), np.asarray(CLASSES, dtype=object)[
        p[ok].argmax(axis=1)]
    correct = pred == truth[ok]
    ece = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        m = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    value, bins = expected_calibration_error(y, p, classes=CLASSES, n_bins=10,
                                             return_bins=True)
    assert value == pytest.approx(ece)
    assert bins["count"].sum() == ok.sum()


def test_krippendorff_alpha_equals_the_package_on_the_rater_matrix(crowd):
    import krippendorff

    y, _ = crowd
    long = y.ratings.to_long(rank=True)
    first = long[long["rank"] == 0].copy()
    first["label"] = first["label"].map(normalize_label)
    first = first[first["label"].isin(CLASSES)]
    code = {c: k for k, c in enumerate(CLASSES)}
    matrix = first.pivot(index="rater", columns="utterance", values="label")
    matrix = matrix.reindex(columns=y.index)
    data = matrix.map(lambda v: code[v] if isinstance(v, str) else np.nan).to_numpy(
        dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    scores = krippendorff_alpha(y, classes=CLASSES)
    assert scores.raters == pytest.approx(expected, abs=1e-12)
    assert scores.with_model is None
    # the model as one more rater of every utterance
    pred = np.asarray(CLASSES, dtype=object)[np.arange(len(y)) % 4]
    model_row = np.array([[code[v] for v in pred]], dtype=float)
    expected = krippendorff.alpha(reliability_data=np.vstack([data, model_row]),
                                  level_of_measurement="nominal")
    assert krippendorff_alpha(y, pred, classes=CLASSES).with_model == pytest.approx(
        expected, abs=1e-12)


@pytest.mark.realdata
def test_metrics_on_emodb_crowd(emodb_root):
    import krippendorff

    from sklearn_ser.datasets import load_emodb

    y = load_emodb(emodb_root).annotations
    classes = ["anger", "boredom", "disgust", "fear", "happiness", "neutral",
               "sadness"]
    long = y.ratings.to_long(rank=True)
    first = long[(long["rank"] == 0) & long["label"].isin(classes)]
    code = {c: k for k, c in enumerate(classes)}
    data = first.pivot(index="rater", columns="utterance", values="label").reindex(
        columns=y.index).map(lambda v: code.get(v, np.nan)).to_numpy(dtype=float)
    assert krippendorff_alpha(y, classes=classes).raters == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"),
        abs=1e-12)
    q = _shares_by_hand(y, classes)
    ok = ~np.isnan(q).any(axis=1)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7), size=len(y))
    assert soft_log_loss(y, p, classes=classes) == pytest.approx(np.mean(
        [-(q[i][q[i] > 0] * np.log(p[i][q[i] > 0])).sum() for i in np.flatnonzero(ok)]))
    assert jensen_shannon_divergence(y, p, classes=classes) == pytest.approx(np.mean(
        [jensenshannon(q[i], p[i], base=2) ** 2 for i in np.flatnonzero(ok)]))
    assert all_inclusive_f1(y, p, classes=classes) == pytest.approx(f1_score(
        q[ok] >= 1 / 7, p[ok] >= 1 / 7, average="macro", zero_division=0))
    # a model that predicts the vote shares is perfect on the distribution scores
    perfect = np.where(ok[:, None], q, 1.0 / 7)
    assert soft_log_loss(y, perfect, classes=classes) == pytest.approx(
        np.mean([-(r[r > 0] * np.log(r[r > 0])).sum() for r in q[ok]]))
    assert jensen_shannon_divergence(y, perfect, classes=classes) == pytest.approx(
        0.0, abs=1e-12)
    assert all_inclusive_f1(y, perfect, classes=classes) == pytest.approx(1.0)


def test_agreement_report_rows_add_up(crowd):
    y, p = crowd
    report = agreement_report(y, p, classes=CLASSES)
    levels = report.drop(index="all")
    assert levels["n"].sum() == report.loc["all", "n"]
    assert report.loc["all", "soft_log_loss"] == pytest.approx(
        soft_log_loss(y, p, classes=CLASSES))


def test_bad_probabilities_are_named():
    y = pd.Series(["sad", "angry"])
    with pytest.raises(ValueError, match="shape"):
        soft_log_loss(y, [[0.5, 0.5, 0.0]] * 2, classes=["anger", "sadness"])
    with pytest.raises(ValueError, match="row 1 sums to"):
        soft_log_loss(y, [[0.5, 0.5], [0.9, 0.3]], classes=["anger", "sadness"])
    with pytest.raises(ValueError, match="classes is required"):
        soft_log_loss(y, [[0.5, 0.5], [0.5, 0.5]], classes=None)


def test_probability_scorers_in_cross_validate_and_a_search():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, cross_validate
    from sklearn.svm import LinearSVC

    from sklearn_ser.models import EveryRatingClassifier

    d = make_emotional_speech(n_utterances=60, n_speakers=4, n_sessions=2, raters=5,
                              random_state=2)
    y = d.annotations
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(len(y), 3)), index=y.index)
    scoring = ser_scoring(CLASSES, warn=False)
    assert {"all_inclusive_f1", "neg_soft_log_loss", "neg_jensen_shannon",
            "neg_brier", "neg_ece"} <= scoring.keys()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cross_validate(EveryRatingClassifier(), X, y, cv=3, scoring=scoring)
        assert np.isfinite(res["test_neg_soft_log_loss"]).all()
        assert (res["test_neg_jensen_shannon"] <= 0).all()
        grid = GridSearchCV(EveryRatingClassifier(LogisticRegression()),
                            {"alpha": [0.0, 1.0]}, cv=3, scoring=scoring,
                            refit="neg_soft_log_loss").fit(X, y)
    assert grid.best_params_["alpha"] in (0.0, 1.0)
    with pytest.warns(Warning, match="no predict_proba; only the label scorers"):
        labels_only = ser_scoring(CLASSES, estimator=LinearSVC())
    assert "neg_soft_log_loss" not in labels_only


def test_comparison_reports_the_scores_against_every_rating(crowd):
    from sklearn_ser.experiments import (
        DISTRIBUTION_SCORES,
        distribution_scores,
        distribution_table,
    )

    y, p = crowd
    pred = np.asarray(CLASSES, dtype=object)[p.argmax(axis=1)]
    scores = distribution_scores(p, pred, y, CLASSES)
    assert scores.keys() == DISTRIBUTION_SCORES.keys()
    assert scores["soft_log_loss"] == pytest.approx(soft_log_loss(y, p,
                                                                  classes=CLASSES))
    no_proba = distribution_scores(None, pred, y, CLASSES)
    assert no_proba["soft_log_loss"] is None and no_proba["alpha_with_model"]
    results = {"methods": {"a": scores, "svm": no_proba},
               "meta": {"n_scored": 70, "n_with_distribution": 80,
                        "raters_alpha": 0.4}}
    table = distribution_table(results)
    assert "**" in table and "| svm | - |" in table
    assert "Best per score" in table and "raters' own Krippendorff's alpha is 0.400" \
        in table


def test_reliability_and_agreement_plots_say_what_they_show(crowd):
    from sklearn_ser import plotting

    y, p = crowd
    fig = plotting.plot_reliability({"m": p, "none": None}, y, CLASSES)
    ax = fig.axes[0]
    assert "confidence" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside
    assert any("ECE" in t.get_text() for t in legend.get_texts())
    fig = plotting.plot_agreement_scores({"m": p}, y, CLASSES)
    assert "Jensen-Shannon" in fig.axes[1].get_ylabel()
    fig = plotting.plot_per_class_recall({"m": {"anger": 0.5}}, ["anger"],
                                         truth_recalls={"m": {"anger": 0.7}},
                                         truth_name="intended")
    assert len(fig.axes) == 2 and "intended" in fig.axes[1].get_ylabel()


def test_classes_in_any_order_score_the_same(crowd):
    y, p = crowd
    rev = CLASSES[::-1]
    for metric in (soft_log_loss, jensen_shannon_divergence, soft_brier_score,
                   all_inclusive_f1, expected_calibration_error):
        assert metric(y, p[:, ::-1], classes=rev) == pytest.approx(
            metric(y, p, classes=CLASSES)), metric.__name__
    frame = pd.DataFrame(p[:, ::-1], columns=["Sad", "neu", "happy", "angry"],
                         index=y.index)
    assert soft_log_loss(y, frame, classes=CLASSES) == pytest.approx(
        soft_log_loss(y, p, classes=CLASSES))


def test_class_probabilities_follow_the_classes_given():
    from sklearn.linear_model import LogisticRegression

    from sklearn_ser.metrics import class_probabilities

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    clf = LogisticRegression().fit(X, ["angry", "sad", "angry", "sad"])
    p = class_probabilities(clf, X, ["sadness", "neutral", "anger"])
    np.testing.assert_allclose(p[:, [2, 0]], clf.predict_proba(X))
    assert (p[:, 1] == 0).all()
    assert class_probabilities(object(), X, ["anger"]) is None
