"""The experiments sub-package (issue 25; ``sklearn_ser.benchmark`` before
issue 43): one record per method, one runner, a typed result, the IEMOCAP
label merge in the loader."""

import importlib
import json
import sys
import warnings

import numpy as np
import pytest

from sklearn_ser import experiments as benchmark
from sklearn_ser.experiments import (
    ComparisonError,
    ComparisonResult,
    Method,
    registry,
    results_table,
)


@pytest.mark.parametrize("old", ["sklearn_ser.comparison", "sklearn_ser.benchmark",
                                 "sklearn_ser.benchmark._cli"])
def test_the_former_names_say_where_their_contents_went(old):
    """Renamed without aliases (never released): an import, or a pickle that
    names one, says where the contents are now."""
    sys.modules.pop(old, None)
    with pytest.raises(ModuleNotFoundError, match="sklearn_ser.experiments"):
        importlib.import_module(old)


def test_every_method_is_one_record_the_lists_are_read_from():
    reg = registry()
    assert reg == benchmark.METHODS and reg is not benchmark.METHODS  # a copy
    for name, m in reg.items():
        assert isinstance(m, Method) and m.name == name and m.description
        assert m.kind in {"functionals", "network", "fusion"}
        assert (m.build is None) == (m.kind == "fusion")
        assert all(member in reg and reg[member].kind != "fusion"
                   for member in m.members)
        assert (m.features is not None) == (m.kind == "functionals")
    assert set(benchmark.BASELINES) == {n for n, m in reg.items()
                                        if m.targets == "majority"}
    assert set(benchmark.FUNCTIONALS) == set(benchmark.BASELINES) | set(
        benchmark.EVERY_RATING)
    assert benchmark.FUSIONS == {"every_rating_fusion": ("every_rating_compare",
                                                         "crowd_soft")}
    assert set(benchmark.DEMO_METHODS) <= set(reg)
    with pytest.raises(ComparisonError, match="a fusion of"):
        reg["every_rating_fusion"].estimator(["a", "b"], 0, 1, benchmark.PROFILES[
            "demo"])


def test_each_record_builds_its_estimator_unfitted():
    from sklearn.base import is_classifier

    profile = benchmark.PROFILES["demo"]
    for name, m in registry().items():
        if m.kind == "fusion":
            continue
        est = m.estimator(["a", "b"], 3, 2, profile, n_features=10)
        assert is_classifier(est), name
        if m.targets == "majority":
            continue  # a linear SVM, a logistic regression: nothing random
        params = est.get_params()
        assert any(v == 3 for k, v in params.items() if k.endswith("random_state")
                   ), name  # the seed reaches the estimator


def _result():
    return ComparisonResult(
        methods={"m": {"uar": 0.5, "wa": 0.5, "uar_truth": None,
                       "per_class_recall": {"a": 0.5}, "fit_seconds": 1.0}},
        meta={"classes": ["a"], "n_scored": 1, "n_no_consensus": 0, "folds": "f",
              "seeds": 1, "n_utterances": 1},
        plots={"anything": np.zeros(3)})


def test_the_result_is_typed_reads_like_results_json_and_is_not_mutated():
    res = _result()
    assert res["methods"] is res.methods and res["meta"] is res.meta
    with pytest.raises(KeyError, match="'methods' and 'meta'"):
        res["_plots"]
    more = res.with_meta(command="demo")
    assert more.meta["command"] == "demo" and "command" not in res.meta
    assert more.plots is res.plots
    # the report reads a result or the dict read back from its results.json
    back = json.loads(json.dumps(res.to_dict()))
    assert results_table(back) == results_table(res)
    assert set(back) == {"methods", "meta"}


def test_load_iemocap_merges_excitement_into_happiness_when_asked(fixtures_dir):
    from sklearn_ser.annotations import HardLabels, normalize_label, to_long
    from sklearn_ser.datasets import load_iemocap

    raw = load_iemocap(fixtures_dir / "iemocap")
    merged = load_iemocap(fixtures_dir / "iemocap", merge_labels=True)
    labels = set(to_long(merged.annotations)["label"].str.lower())
    assert "excitement" not in labels and "excited" not in labels
    assert "excitement" in set(to_long(raw.annotations)["label"].map(normalize_label))
    # a rater who chose excitement and happiness chose happiness once
    long = to_long(merged.annotations)
    one = long[(long["utterance"] == "Ses01F_impro01_F001") & (long["rater"] == "F1")]
    assert one["label"].tolist() == ["happiness"]
    # the targets are those of the label map applied by the encoder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = HardLabels(raw.classes, label_map=raw.label_map).fit_transform(
            raw.annotations)
        b = HardLabels(merged.classes).fit_transform(merged.annotations)
    assert a.equals(b)


def test_the_noisy_label_method_keeps_the_class_balance_and_watches_the_uar():
    """The command line's Fujioka et al. runs with the measured departures
    (BENCHMARKS.md): w rescaled per gold class, early stopping on the UAR;
    on confounded folds (no validation) the same model trains fixed epochs."""
    for profile in (benchmark.PROFILES["benchmark"],
                    benchmark.confounded_profile(benchmark.PROFILES["benchmark"])):
        est = registry()["noisy_meta"].estimator(["a", "b"], 0, 20, profile)
        assert est.weight_norm == "class" and est.monitor == "uar"
        assert est.update == "Lw" and est.label_logit_scale == 1.0  # the paper's
        assert est.lr == 1e-3  # Adam's default, as the paper


def test_the_stacked_method_drops_out_the_heads_input():
    est = registry()["stacked"].estimator(["a", "b"], 0, 20,
                                          benchmark.PROFILES["benchmark"])
    assert est.get_params()["final__input_dropout"] == 0.5
    assert est.components == "all"


def test_the_stacked_methods_head_is_shorter_only_where_nothing_stops_it():
    """Unconfounded folds: the head early-stops like its components (no cap);
    confounded folds: at most the profile's head_epochs (8), whatever the
    components' count, and never more than they train (--quick)."""
    stacked = registry()["stacked"]
    assert stacked.estimator(["a", "b"], 0, 100, benchmark.PROFILES["benchmark"]
                             ).get_params()["final__max_epochs"] is None
    confounded = benchmark.confounded_profile(benchmark.PROFILES["benchmark"])
    for epochs, head in ((20, 8), (8, 8), (5, 5), (60, 8)):
        est = stacked.estimator(["a", "b"], 0, epochs, confounded)
        assert est.get_params()["final__max_epochs"] == head
        assert est.estimator.max_epochs == epochs


def test_mlee_fusion_blends_its_dominant_model_only_on_confounded_folds():
    """Unconfounded folds: the paper's fused model alone (its part
    early-stops on held-out speakers); confounded folds: the geometric mean
    with its dominant model (CONFOUNDED's mlee_dominant_weight), and the
    folds' settings text says so."""
    mlee = registry()["mlee_fusion"]
    assert mlee.estimator(["a", "b"], 0, 100, benchmark.PROFILES["benchmark"]
                          ).dominant_weight == 0.0
    confounded = benchmark.confounded_profile(benchmark.PROFILES["benchmark"])
    assert mlee.estimator(["a", "b"], 0, 20, confounded).dominant_weight == 0.5
    for name in benchmark.PROFILES:  # every profile's confounded form
        est = mlee.estimator(["a", "b"], 0, 8,
                             benchmark.confounded_profile(benchmark.PROFILES[name]))
        assert est.dominant_weight == benchmark.CONFOUNDED["mlee_dominant_weight"]


def test_the_training_summary_says_what_confounded_folds_change():
    from sklearn_ser.experiments._protocol import _training_summary

    prof = benchmark.PROFILES["benchmark"]
    both = {"1": prof, "2": benchmark.confounded_profile(prof)}
    text = _training_summary(both, {"1": 0.1, "2": 0.7}, prof, 20, True)["text"]
    assert "in 1 of 2 folds" in text
    assert "fusion head trains 8 of them" in text
    assert "MLEE fusion predicts the geometric mean" in text
    assert "weight 0.5 on the dominant model" in text
    plain = _training_summary({"1": prof}, {"1": 0.1}, prof, 100, True)["text"]
    assert "MLEE" not in plain and "early stopping on held-out" in plain
