"""What the data can tell apart (issue 44, in part): speaker-bootstrap
intervals of UAR and paired tests against the plain baseline, in
run_comparison's results and results.md."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import balanced_accuracy_score

from sklearn_ser.experiments._stats import speaker_bootstrap

CLASSES = ["anger", "neutral", "sadness"]


def _corpus(n_speakers, per_speaker, seed, accuracy=0.6):
    rng = np.random.default_rng(seed)
    ref = rng.choice(CLASSES, size=n_speakers * per_speaker).astype(object)
    speakers = np.repeat([f"s{i}" for i in range(n_speakers)], per_speaker)
    guess = rng.choice(CLASSES, size=len(ref))
    pred = np.where(rng.random(len(ref)) < accuracy, ref, guess).astype(object)
    return pred, ref, speakers


@settings(max_examples=25, deadline=None)
@given(n_speakers=st.integers(3, 30), per=st.integers(2, 20), seed=st.integers(0, 99),
       missing=st.floats(0, 0.4))
def test_the_point_is_the_pooled_uar_and_lies_in_its_interval(n_speakers, per, seed,
                                                             missing):
    pred, ref, speakers = _corpus(n_speakers, per, seed)
    ref[np.random.default_rng(seed).random(len(ref)) < missing] = None  # unscored
    out = speaker_bootstrap({"m": pred}, ref, speakers, CLASSES, n_boot=300)
    scored = np.array([r is not None for r in ref])
    if len(set(ref[scored])) < 2:
        return
    want = balanced_accuracy_score(ref[scored].astype(str), pred[scored].astype(str))
    assert out["m"]["uar"] == pytest.approx(want)
    lo, hi = out["m"]["ci"]
    assert lo - 1e-9 <= out["m"]["uar"] <= hi + 1e-9
    assert out["_meta"]["n_scored"] == int(scored.sum())


def test_a_method_against_itself_differs_by_nothing():
    pred, ref, speakers = _corpus(12, 10, 0)
    out = speaker_bootstrap({"a": pred, "b": pred.copy()}, ref, speakers, CLASSES,
                            baseline="a")
    d = out["b"]["vs_baseline"]
    assert d["delta"] == 0 and d["ci"] == [0.0, 0.0] and d["p"] == 1.0


def test_a_clearly_better_method_is_told_apart_and_a_tie_is_not():
    pred, ref, speakers = _corpus(20, 15, 1, accuracy=0.4)
    better = np.where(np.random.default_rng(2).random(len(ref)) < 0.8, ref, pred)
    twin = _corpus(20, 15, 1, accuracy=0.4)[0]  # the same draw: a tie
    out = speaker_bootstrap({"base": pred, "better": better, "twin": twin}, ref,
                            speakers, CLASSES, baseline="base")
    assert out["better"]["vs_baseline"]["ci"][0] > 0
    assert out["better"]["vs_baseline"]["p"] < 0.01
    assert out["twin"]["vs_baseline"]["p"] == 1.0


def test_few_speakers_give_wider_intervals_than_many_for_as_many_utterances():
    """The bootstrap resamples speakers, not utterances: 300 utterances of 3
    speakers (each with its own accuracy) say less than 300 of 60."""
    rng = np.random.default_rng(0)

    def corpus(n_speakers):
        per = 300 // n_speakers
        ref = rng.choice(CLASSES, size=n_speakers * per).astype(object)
        skill = np.repeat(np.linspace(0.2, 0.9, n_speakers), per)
        pred = np.where(rng.random(len(ref)) < skill, ref,
                        rng.choice(CLASSES, size=len(ref))).astype(object)
        return pred, ref, np.repeat(np.arange(n_speakers), per)

    widths = {}
    for n in (3, 60):
        pred, ref, speakers = corpus(n)
        lo, hi = speaker_bootstrap({"m": pred}, ref, speakers, CLASSES)["m"]["ci"]
        widths[n] = hi - lo
    assert widths[3] > widths[60]


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_a_comparison_reports_intervals_and_paired_tests(tmp_path):
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.experiments import run_comparison, write_outputs

    data = make_emotional_speech(80, n_speakers=8, n_sessions=4, random_state=2)
    res = run_comparison(data.utterances, data.annotations, ["anger", "happiness",
                                                             "neutral", "sadness"],
                         methods=["svm_egemaps", "logreg_egemaps"], n_jobs=1,
                         cache=str(tmp_path / "cache"), progress=False)
    sig = res.meta["significance"]
    assert sig["baseline"] == "logreg_egemaps" and sig["n_clusters"] == 8
    for r in res.methods.values():
        lo, hi = r["uar_ci"]
        assert lo <= r["uar"] <= hi
        lo, hi = r["uar_truth_ci"]
        assert lo <= r["uar_truth"] <= hi
    assert "vs_baseline" in res.methods["svm_egemaps"]
    assert "vs_baseline" not in res.methods["logreg_egemaps"]
    write_outputs(tmp_path / "out", res)
    md = (tmp_path / "out" / "results.md").read_text()
    assert "## What the data can tell apart" in md
    assert "bootstrap over the 8 speakers" in md
    # abstention (issue 45): the logistic regression has probabilities, the
    # SVM of the comparison has none
    assert "abstention" not in res.methods["svm_egemaps"]
    kept = [v["kept"] for v in res.methods["logreg_egemaps"]["abstention"].values()]
    assert kept == sorted(kept, reverse=True)
    assert "## Abstaining when unsure" in md
    assert (tmp_path / "out" / "abstention.png").is_file()


@given(n=st.integers(4, 60), k=st.integers(2, 5), seed=st.integers(0, 10**6))
def test_abstaining_keeps_the_confident_and_scores_them_by_mean_recall(n, k, seed):
    from sklearn_ser.experiments._scores import abstention_scores

    rng = np.random.default_rng(seed)
    classes = [f"c{i}" for i in range(k)]
    proba = rng.dirichlet(np.ones(k) * 0.7, size=n)
    majority = np.asarray(rng.choice(classes + [None], size=n), dtype=object)
    out = abstention_scores(proba, majority, classes, thresholds=(0.0, 0.4, 0.6, 1.1))
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    assert out["0"]["kept"] == 1.0 and out["1.1"]["kept"] == 0.0
    assert out["1.1"]["uar"] is None
    for thr in (0.0, 0.4, 0.6):
        keep = (proba.max(axis=1) >= thr) & (majority != None)  # noqa: E711
        assert out[f"{thr:g}"]["kept"] == pytest.approx(
            (proba.max(axis=1) >= thr).mean())
        if keep.any():
            y = majority[keep].astype(str)
            present = sorted(set(y))
            # the mean recall over the classes the kept majorities hold
            expected = np.mean([np.mean(pred[keep][y == c] == c) for c in present])
            assert out[f"{thr:g}"]["uar"] == pytest.approx(expected)
