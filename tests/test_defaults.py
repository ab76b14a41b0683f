"""Defaults decided from the data (issue 23): the class set, the weights'
scale, the penalty chosen in the training fold."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
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
    from sklearn_ser._cli import main
    from sklearn_ser.datasets import make_emotional_speech, save_corpus

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
