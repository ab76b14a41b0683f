"""Across corpora (issue 44, in part): every method trains on all of one
corpus and is scored on each test corpus apart; nothing of a test corpus
(its labels, or another test corpus) reaches the training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklearn_ser.annotations import from_long, to_long
from sklearn_ser.datasets import make_emotional_speech, save_corpus
from sklearn_ser.experiments import run_cross_corpus, write_cross_corpus
from sklearn_ser.experiments._cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")

CLASSES = ["anger", "happiness", "neutral", "sadness"]
METHODS = ["svm_egemaps", "every_rating_egemaps"]


@pytest.fixture(scope="module")
def corpora():
    return {n: make_emotional_speech(k, n_speakers=4, n_sessions=2, random_state=s)
            for n, k, s in (("A", 48, 1), ("B", 32, 2), ("C", 24, 3))}


def _run(train, tests, tmp_path, corpora):
    return run_cross_corpus({train: corpora[train]},
                            {t: corpora[t] for t in tests}, CLASSES,
                            methods=METHODS, progress=False,
                            cache=str(tmp_path / "cache"))


def _shuffled_labels(data, seed):
    """The corpus with its ratings' labels permuted (same raters, same ids)."""
    long = to_long(data.annotations)
    long["label"] = np.random.default_rng(seed).permutation(long["label"].to_numpy())
    return Bunch(utterances=data.utterances,
                 annotations=from_long(long, multiple="choices").reindex(
                     data.utterances.index))


def test_each_test_corpus_is_scored_apart_on_its_own_utterances(corpora, tmp_path):
    res = _run("A", ["B", "C"], tmp_path, corpora)
    assert list(res.results) == ["B", "C"] and res.train == "A"
    for name in ("B", "C"):
        r = res.results[name]
        assert r.meta["n_utterances"] == len(corpora[name].utterances)
        assert all(str(i).startswith(f"{name}:") for i in r.plots["index"])
        for m in METHODS:
            assert 0 <= r.methods[m]["uar"] <= 1 and "uar_ci" in r.methods[m]
    assert set(res.left_out) == {"A", "B", "C"}
    paths = write_cross_corpus(tmp_path / "out", res)
    table = (tmp_path / "out" / "cross_corpus.md").read_text()
    assert table.count("| svm_egemaps") == 1
    assert (tmp_path / "out" / "B" / "results.json").exists() and len(paths) > 3
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_cross_corpus(tmp_path / "out", res)


def test_nothing_of_a_test_corpus_reaches_the_training(corpora, tmp_path):
    """B's predictions are the same when B's labels are shuffled, and when
    another test corpus is added; they change when the training labels do."""
    base = _run("A", ["B"], tmp_path, corpora).results["B"]
    shuffled = run_cross_corpus(
        {"A": corpora["A"]}, {"B": _shuffled_labels(corpora["B"], 0)}, CLASSES,
        methods=METHODS, progress=False, cache=str(tmp_path / "cache")).results["B"]
    with_c = _run("A", ["B", "C"], tmp_path, corpora).results["B"]
    other_training = run_cross_corpus(
        {"A": _shuffled_labels(corpora["A"], 1)}, {"B": corpora["B"]}, CLASSES,
        methods=METHODS, progress=False, cache=str(tmp_path / "cache")).results["B"]
    for m in METHODS:
        same = base.plots["predictions"][m]
        np.testing.assert_array_equal(shuffled.plots["predictions"][m], same)
        np.testing.assert_array_equal(with_c.plots["predictions"][m], same)
    assert any((other_training.plots["predictions"][m]
                != base.plots["predictions"][m]).any() for m in METHODS)


def test_the_command_line_trains_on_one_corpus_folder_and_tests_on_another(
        corpora, tmp_path):
    folders = {n: save_corpus(corpora[n], tmp_path / n) for n in ("A", "B")}
    out = tmp_path / "res"
    assert main(["benchmark", "--corpus", str(tmp_path / "A"), "--test-corpus",
                 str(tmp_path / "B"), "--methods", "svm_egemaps", "--classes",
                 ",".join(CLASSES), "--no-progress", "--n-jobs", "1", "--cache",
                 str(tmp_path / "cache"), "--within", "--out", str(out)]) == 0
    table = (out / "cross_corpus.md").read_text()
    assert "| svm_egemaps |" in table and "A in-corpus: UAR / vs truth" in table
    within = json.loads((out / "A-within" / "results.json").read_text())
    assert within["meta"]["folds"].startswith("leave-one-session-out")
    results = json.loads((out / "B" / "results.json").read_text())
    assert results["meta"]["corpus"] == "A -> B"
    pred = pd.read_csv(out / "B" / "predictions.csv")
    assert len(pred) == len(corpora["B"].utterances)
    with pytest.raises(SystemExit, match="--label-map maps each corpus"):
        main(["benchmark", "--corpus", str(tmp_path / "A"), "--label-map",
              str(tmp_path / "m.json"), "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="--test-corpus .* is not a folder"):
        main(["benchmark", "--corpus", str(folders["A"].audio_dir.parent),
              "--test-corpus", str(tmp_path / "nowhere"), "--out",
              str(tmp_path / "x")])


def test_a_test_corpus_without_ratings_is_scored_against_its_truth(corpora,
                                                                  tmp_path):
    """A test corpus folder with metadata (a truth column) and audio, and no
    ratings.csv: the same predictions as when it has ratings, scored against
    the truth only; without a truth column it is refused, naming the fix."""
    from sklearn_ser.datasets import load_corpus

    save_corpus(corpora["A"], tmp_path / "A")
    save_corpus(corpora["B"], tmp_path / "B")
    save_corpus(corpora["B"], tmp_path / "Bu")
    (tmp_path / "Bu" / "ratings.csv").unlink()
    unrated = load_corpus(tmp_path / "Bu", truth_column="intended")
    assert unrated.annotations is None
    assert len(unrated.utterances) == len(corpora["B"].utterances)
    assert unrated.classes == sorted(set(corpora["B"].utterances["intended"]))
    common = ["--corpus", str(tmp_path / "A"), "--methods", "svm_egemaps",
              "--classes", ",".join(CLASSES), "--truth-column", "intended",
              "--no-progress", "--n-jobs", "1", "--cache", str(tmp_path / "cache")]
    assert main(["benchmark", *common, "--test-corpus", str(tmp_path / "Bu"),
                 "--out", str(tmp_path / "r1")]) == 0
    assert main(["benchmark", *common, "--test-corpus", str(tmp_path / "B"),
                 "--out", str(tmp_path / "r2")]) == 0
    one = json.loads((tmp_path / "r1" / "Bu" / "results.json").read_text())
    two = json.loads((tmp_path / "r2" / "B" / "results.json").read_text())
    m1, m2 = one["methods"]["svm_egemaps"], two["methods"]["svm_egemaps"]
    assert m1["uar"] is None and m1["uar_truth"] == pytest.approx(m2["uar_truth"])
    assert "Without ratings (scored against the truth only): Bu" in (
        tmp_path / "r1" / "cross_corpus.md").read_text()
    with pytest.raises(SystemExit, match="no ratings.csv.*give --truth-column"):
        main(["benchmark", "--corpus", str(tmp_path / "A"), "--methods",
              "svm_egemaps", "--classes", ",".join(CLASSES), "--test-corpus",
              str(tmp_path / "Bu"), "--out", str(tmp_path / "r3")])
    with pytest.raises(ValueError, match="truth_column='mood' is not a column"):
        load_corpus(tmp_path / "Bu", truth_column="mood")
    with pytest.raises(FileNotFoundError, match="no ratings.csv"):
        load_corpus(tmp_path / "Bu")


def test_each_corpus_by_its_own_statistics_removes_a_shift_between_corpora(
        corpora, tmp_path):
    """A test corpus recorded 'elsewhere' (its features shifted and scaled):
    mode="corpus" gives its frames the statistics of its own frames, so the
    shift is gone; "global" keeps the training corpus' and the shift."""
    from sklearn_ser.features import FramesArray, SpeakerStandardizer

    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(int(rng.integers(5, 15)), 4)).astype(np.float32)
              for _ in range(40)]
    corpus = np.array(["A"] * 20 + ["B"] * 20)
    shifted = [f * 3 + 7 if c == "B" else f for f, c in zip(frames, corpus,
                                                              strict=True)]
    X = pd.DataFrame({"frames": FramesArray.from_list(shifted), "corpus": corpus,
                      "speaker": [f"{c}{i % 4}" for i, c in enumerate(corpus)]})
    train = X[corpus == "A"]
    per_corpus = SpeakerStandardizer("corpus").fit(train).transform(X)
    glob = SpeakerStandardizer("global").fit(train).transform(X)
    b = np.concatenate(list(per_corpus["frames"][corpus == "B"]))
    np.testing.assert_allclose(b.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(b.std(axis=0), 1, atol=1e-4)
    assert np.concatenate(list(glob["frames"][corpus == "B"])).mean() > 3
    with pytest.raises(ValueError, match="mode='corpus'.* needs a 'corpus' column"):
        SpeakerStandardizer("corpus").fit(train.drop(columns="corpus"))


def test_auto_reads_each_corpus_by_its_own_statistics_where_it_would_go_global(
        corpora, tmp_path):
    from sklearn_ser.datasets import make_emotional_speech

    # one emotion per speaker: the training corpus' speakers predict its labels
    one = {n: make_emotional_speech(k, n_speakers=4, n_sessions=2, random_state=s,
                                    emotions_per_speaker=1)
           for n, k, s in (("A", 40, 1), ("B", 24, 2))}
    res = run_cross_corpus({"A": one["A"]}, {"B": one["B"]}, CLASSES,
                           methods=["svm_egemaps"], progress=False,
                           cache=str(tmp_path / "cache"))
    norm = res.results["B"].meta["normalisation"]
    assert norm["chosen"] == {"corpus": 1}, norm


#: a corpus' own names that no alias list knows (Amharic, transliterated)
OWN = {"anger": "Nidet", "happiness": "Desta", "neutral": "Gelelteg",
       "sadness": "Hazen"}


def _renamed(data, names):
    long = to_long(data.annotations)
    long["label"] = long["label"].map(lambda v: names.get(v, v))
    u = data.utterances.copy()
    u["intended"] = u["intended"].map(lambda v: names.get(v, v))
    return Bunch(utterances=u, annotations=from_long(long, multiple="choices")
                 .reindex(u.index))


def test_a_corpus_with_its_own_label_names_reads_through_its_label_map(corpora,
                                                                      tmp_path):
    """B written with its own names and mapped back gives B's very result;
    a map key no rating of the corpus holds is refused naming the closest."""
    base = _run("A", ["B"], tmp_path, corpora).results["B"]
    own = _renamed(corpora["B"], OWN)
    back = {v: k for k, v in OWN.items()}
    mapped = run_cross_corpus({"A": corpora["A"]}, {"B": own}, CLASSES,
                              methods=METHODS, progress=False,
                              cache=str(tmp_path / "cache"),
                              label_maps={"B": back}).results["B"]
    for m in METHODS:
        np.testing.assert_array_equal(mapped.plots["predictions"][m],
                                      base.plots["predictions"][m])
        assert mapped.methods[m]["uar"] == base.methods[m]["uar"]
        assert mapped.methods[m]["uar_truth"] == base.methods[m]["uar_truth"]
    lower = run_cross_corpus({"A": corpora["A"]}, {"B": own}, CLASSES,
                             methods=["svm_egemaps"], progress=False,
                             cache=str(tmp_path / "cache"),  # keys as spelled
                             label_maps={"*": {f" {k.upper()} ": v  # otherwise
                                               for k, v in back.items()}})
    np.testing.assert_array_equal(lower.results["B"].plots["predictions"][
        "svm_egemaps"], base.plots["predictions"]["svm_egemaps"])
    from sklearn_ser.exceptions import ComparisonError

    with pytest.raises(ComparisonError, match=r"\['Hazn'\] are no label of its "
                                              r"ratings \(did you mean 'Hazen'\?\)"):
        run_cross_corpus({"A": corpora["A"]}, {"B": own}, CLASSES,
                         methods=METHODS, progress=False,
                         label_maps={"B": {"Hazn": "sadness"}})
    with pytest.raises(ComparisonError, match=r"label maps for \['Z'\]"):
        run_cross_corpus({"A": corpora["A"]}, {"B": own}, CLASSES,
                         methods=METHODS, progress=False, label_maps={"Z": {}})


def test_label_map_files_in_json_and_csv(tmp_path):
    from sklearn_ser.experiments._cross import read_label_map

    (tmp_path / "all.json").write_text('{"Wut": "anger"}')
    (tmp_path / "per.json").write_text('{"B": {"Wut": "anger"}}')
    (tmp_path / "m.csv").write_text(
        "corpus,label,class\nB,Wut,anger\n,Trauer,sadness\n")
    assert read_label_map(tmp_path / "all.json") == {"*": {"Wut": "anger"}}
    assert read_label_map(tmp_path / "per.json") == {"B": {"Wut": "anger"}}
    assert read_label_map(tmp_path / "m.csv") == {"B": {"Wut": "anger"},
                                                  "*": {"Trauer": "sadness"}}
    (tmp_path / "bad.csv").write_text("from,to\nWut,anger\n")
    with pytest.raises(Exception, match="needs columns label and class"):
        read_label_map(tmp_path / "bad.csv")


def test_a_cross_corpus_run_that_cannot_be_made_is_named(corpora, tmp_path):
    from sklearn_ser.exceptions import ComparisonError
    from sklearn_ser.experiments._cross import read_label_map
    from sklearn_ser.experiments._protocol import plan_comparison

    with pytest.raises(ComparisonError, match="one training corpus and at least "
                                              "one test corpus"):
        run_cross_corpus({"A": corpora["A"], "B": corpora["B"]}, {}, CLASSES,
                         methods=METHODS)
    with pytest.raises(ComparisonError, match="corpus names must differ"):
        run_cross_corpus({"A": corpora["A"]}, {"A": corpora["B"]}, CLASSES,
                         methods=METHODS)
    data = corpora["A"]
    with pytest.raises(ComparisonError, match=r"held_out=\['9'\] are not groups"):
        plan_comparison(data.utterances, data.annotations, CLASSES,
                        methods=METHODS, held_out=["9"], progress=False)
    (tmp_path / "bad.json").write_text('{"Wut": ["anger"]}')
    with pytest.raises(ComparisonError, match=r"expected \{\"label\": \"class\"\}"):
        read_label_map(tmp_path / "bad.json")
