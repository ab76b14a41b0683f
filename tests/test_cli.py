import json

import pandas as pd
import pytest

from sklearn_ser.datasets import make_emotional_speech, save_corpus
from sklearn_ser.experiments._cli import main


@pytest.fixture(scope="module")
def generic_corpus(tmp_path_factory):
    data = make_emotional_speech(40, n_speakers=4, n_sessions=2, random_state=3)
    return save_corpus(data, tmp_path_factory.mktemp("corpus"))


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_demo_writes_results_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["demo", "--out", str(out), "--n-utterances", "60", "--max-epochs", "2",
            "--methods", "svm_egemaps,crowd_soft,stacked,noisy_meta", "--no-progress",
            "--n-jobs", "1"]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    for name in ("svm_egemaps", "crowd_soft", "stacked", "noisy_meta"):
        r = results["methods"][name]
        assert {"uar", "wa", "uar_truth", "per_class_recall", "fit_seconds"} <= set(r)
        assert 0 <= r["uar"] <= 1
    assert "| svm_egemaps |" in (out / "results.md").read_text()
    assert "| method | UAR | WA |" in capsys.readouterr().out
    for png in ("confusion_matrices", "per_class_recall", "agreement_accuracy",
                "attention", "noisy_meta_weights", "noisy_meta_transitions"):
        assert (out / f"{png}.png").stat().st_size > 1000, png
    pred = pd.read_csv(out / "predictions.csv", index_col="utterance")
    assert len(pred) == 60
    assert {"group", "majority", "agreement", "truth", "svm_egemaps",
            "noisy_meta"} <= set(pred.columns)
    # a second run keeps the first results (one cheap method is enough)
    first = (out / "results.json").read_bytes()
    assert main([*args[:8], "svm_egemaps", *args[9:]]) == 0
    assert (tmp_path / "res-2" / "results.json").exists()
    assert (out / "results.json").read_bytes() == first


def test_cli_errors(tmp_path):
    with pytest.raises(SystemExit, match="unknown method"):
        main(["demo", "--methods", "nope", "--out", str(tmp_path / "x"),
              "--n-utterances", "20"])
    with pytest.raises(SystemExit, match=r"--methods \['crowd_soft'\] are named twice"):
        main(["demo", "--methods", "crowd_soft, crowd_soft", "--out",
              str(tmp_path / "x"), "--n-utterances", "20"])
    assert not (tmp_path / "x").exists()
    assert main([]) == 2


def test_benchmark_errors_say_how_to_fix(tmp_path, fixtures_dir):
    with pytest.raises(SystemExit, match="needs --root"):
        main(["benchmark", "--dataset", "emodb", "--out", str(tmp_path / "o")])
    # the IEMOCAP fixture holds the evaluation files but no audio
    with pytest.raises(SystemExit, match=r"6 of 6 audio files are missing"):
        main(["benchmark", "--dataset", "iemocap", "--root",
              str(fixtures_dir / "iemocap"), "--out", str(tmp_path / "o")])


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_benchmark_on_emodb_svm(emodb_root, emodb_feature_cache, tmp_path):
    out = tmp_path / "emodb"
    assert main(["benchmark", "--dataset", "emodb", "--root", str(emodb_root),
                 "--methods", "svm_egemaps", "--out", str(out), "--no-progress",
                 "--cache", str(emodb_feature_cache), "--n-jobs", "2"]) == 0
    results = json.loads((out / "results.json").read_text())
    r = results["methods"]["svm_egemaps"]
    assert r["uar_truth"] > 0.6  # eGeMAPS + SVM vs the intended emotion
    # every EmoDB speaker acts every emotion: auto keeps per-speaker z-scores
    assert results["meta"]["normalisation"]["chosen"] == {"speaker": 5}


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_benchmark_on_emodb_confounded_decides_global(emodb_root, emodb_feature_cache,
                                                     tmp_path):
    """Speakers showing 2 of 7 emotions: auto normalises globally, and the
    baselines stay far above chance (1/7); per-speaker z-scores fall."""
    runs = {}
    for norm in ("auto", "speaker"):
        out = tmp_path / norm
        assert main(["benchmark", "--dataset", "emodb-confounded", "--root",
                     str(emodb_root), "--methods", "svm_egemaps,logreg_egemaps",
                     "--normalise", norm, "--out", str(out), "--no-progress",
                     "--cache", str(emodb_feature_cache), "--n-jobs", "2"]) == 0
        runs[norm] = json.loads((out / "results.json").read_text())
    auto = runs["auto"]
    assert auto["meta"]["normalisation"]["chosen"] == {"global": 5}
    assert auto["meta"]["n_utterances"] < 535
    for name in ("svm_egemaps", "logreg_egemaps"):
        assert auto["methods"][name]["uar_truth"] > 0.3
        assert (auto["methods"][name]["uar_truth"]
                > runs["speaker"]["methods"][name]["uar_truth"] + 0.05)
    assert "may remove emotion" in runs["speaker"]["meta"]["normalisation"]["text"]
    md = (tmp_path / "auto" / "results.md").read_text()
    assert "Normalisation (--normalise): auto: global in 5 of 5 folds" in md
    assert "## Legend" in md and "`logreg_egemaps`" in md and "fit s" in md


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_demo_one_emotion_per_speaker_normalises_globally(tmp_path):
    out = tmp_path / "conf"
    assert main(["demo", "--out", str(out), "--n-utterances", "80",
                 "--emotions-per-speaker", "1", "--methods",
                 "svm_egemaps,logreg_egemaps,every_rating_egemaps", "--no-progress",
                 "--n-jobs", "1"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert 0 < results["methods"]["every_rating_egemaps"]["uar"] <= 1
    assert results["meta"]["normalisation"]["chosen"] == {"global": 5}
    assert "emotions_per_speaker=1" in results["meta"]["corpus"]
    for fold in results["meta"]["normalisation"]["per_fold"].values():
        assert fold["speaker_dependence"] >= 0.3


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_benchmark_on_a_generic_corpus(generic_corpus, tmp_path):
    c = generic_corpus
    out = tmp_path / "generic"
    assert main(["benchmark", "--audio-dir", str(c.audio_dir), "--ratings",
                 str(c.ratings), "--metadata", str(c.metadata), "--group-column",
                 "speaker", "--truth-column", "intended", "--classes",
                 "anger,happiness,neutral,sadness", "--methods",
                 "svm_egemaps,crowd_hard,crowd_soft_x5", "--max-epochs", "2",
                 "--n-jobs", "1",
                 "--no-progress", "--cache", str(tmp_path / "cache"), "--out",
                 str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["folds"] == "leave-one-speaker-out (4 folds)"
    assert results["meta"]["classes"] == ["anger", "happiness", "neutral", "sadness"]
    assert set(results["methods"]) == {"svm_egemaps", "crowd_hard", "crowd_soft_x5"}
    for r in results["methods"].values():
        assert r["uar_truth"] is not None
        assert set(r["per_class_recall"]) <= set(results["meta"]["classes"])
    assert (out / "confusion_matrices.png").exists()


def _bench(*args):
    return main(["benchmark", *args, "--no-progress", "--methods", "svm_egemaps"])


def test_generic_corpus_errors_name_the_problem(generic_corpus, tmp_path):
    c = generic_corpus
    base = ["--audio-dir", str(c.audio_dir), "--ratings", str(c.ratings),
            "--metadata", str(c.metadata), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit, match="say which corpus"):
        _bench("--out", str(tmp_path / "o"))
    with pytest.raises(SystemExit, match="not both"):
        _bench("--dataset", "emodb", "--root", str(tmp_path), *base)
    with pytest.raises(SystemExit, match="no such file"):
        _bench(*base[:2], "--ratings", str(tmp_path / "nope.csv"))
    with pytest.raises(SystemExit, match=r"--group-column 'room' is not|'room'"):
        _bench(*base, "--group-column", "room")
    with pytest.raises(SystemExit, match="--truth-column 'gold'"):
        _bench(*base, "--truth-column", "gold")
    with pytest.raises(SystemExit, match="is not a folder"):
        _bench("--dataset", "emodb", "--root", str(tmp_path / "nowhere"),
               "--out", str(tmp_path / "o"))
    meta = pd.read_csv(c.metadata).assign(room="A")
    meta.to_csv(tmp_path / "one_room.csv", index=False)
    with pytest.raises(SystemExit, match="'room' has a single value"):
        _bench(*base[:4], "--metadata", str(tmp_path / "one_room.csv"),
               "--group-column", "room", "--out", str(tmp_path / "o"))
    with pytest.raises(SystemExit, match=r"\['surprise'\] never appear"):
        _bench(*base, "--classes", "anger,surprise")
    with pytest.raises(SystemExit, match=r"--classes \['anger'\] are named twice"):
        _bench(*base, "--classes", "anger,sadness,Angry")
    with pytest.raises(SystemExit, match="fewer than two classes"):
        _bench(*base, "--classes", "anger,, ")
    # a rated utterance missing from the metadata, and missing audio
    meta = pd.read_csv(c.metadata)
    meta.iloc[1:].to_csv(tmp_path / "meta.csv", index=False)
    with pytest.raises(SystemExit, match=r"1 rated utterance\(s\) are not in"):
        _bench(*base[:4], "--metadata", str(tmp_path / "meta.csv"))
    (tmp_path / "wav").mkdir()
    with pytest.raises(SystemExit, match="40 of 40 audio files are missing"):
        _bench("--audio-dir", str(tmp_path / "wav"), *base[2:])


def test_bad_numbers_are_usage_errors(capsys):
    with pytest.raises(SystemExit):
        main(["benchmark", "--dataset", "emodb", "--seeds", "0"])
    assert "--seeds: expected at least 1, got 0" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_generic_corpus_default_classes_are_majority_winners(generic_corpus,
                                                             tmp_path, capsys):
    c = generic_corpus
    long = pd.read_csv(c.ratings)
    # a label that only ever appears as a stray rating is not a class
    extra = long.iloc[:1].assign(rater="X9", label="contempt")
    extra.pipe(lambda d: pd.concat([long, d])).to_csv(tmp_path / "r.csv",
                                                      index=False)
    out = tmp_path / "o"
    assert main(["benchmark", "--audio-dir", str(c.audio_dir), "--ratings",
                 str(tmp_path / "r.csv"), "--metadata", str(c.metadata),
                 "--methods", "logreg_egemaps", "--no-progress", "--n-jobs", "1",
                 "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "classes ['anger', 'happiness', 'neutral', 'sadness']" in err
    assert "'contempt': 1" in err
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["classes"] == ["anger", "happiness", "neutral", "sadness"]
    assert "win the majority vote" in (out / "results.md").read_text()


def test_out_folder_is_claimed_before_any_work_and_never_shared(tmp_path, capsys):
    from sklearn_ser.experiments._cli import _out_dir

    # a file: refused before anything runs
    (tmp_path / "file").write_text("mine")
    with pytest.raises(SystemExit, match="is a file"):
        main(["demo", "--out", str(tmp_path / "file"), "--methods", "svm_egemaps"])
    # a folder with a user's results.md (no results.json) is not overwritten
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.md").write_text("my notes")
    claimed = _out_dir(mine)
    assert claimed.path == tmp_path / "mine-2" and claimed.created
    assert (mine / "results.md").read_text() == "my notes"
    # two runs given the same --out at once get two folders
    first, second = _out_dir(tmp_path / "same"), _out_dir(tmp_path / "same")
    assert first.path != second.path
    # an empty folder the user made is used, claimed with a lock
    empty = tmp_path / "empty"
    empty.mkdir()
    a, b = _out_dir(empty), _out_dir(empty)
    assert a.path == empty and b.path == tmp_path / "empty-2"
    a.release(completed=True)
    assert not (empty / ".sklearn-ser-run").exists() and empty.is_dir()
    # an unfinished run removes the folder it made
    b.release(completed=False)
    assert not (tmp_path / "empty-2").exists()


def test_arguments_are_checked_before_any_work(tmp_path, capsys):
    out = tmp_path / "o"
    with pytest.raises(SystemExit):
        main(["demo", "--n-jobs", "0", "--out", str(out)])
    assert "0 jobs cannot run anything" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="say which corpus"):
        main(["benchmark", "--out", str(out)])
    with pytest.raises(SystemExit, match="works with --dataset emodb"):
        main(["benchmark", "--audio-dir", str(tmp_path), "--ratings", "r.csv",
              "--emotions-per-speaker", "2", "--out", str(out)])
    assert not out.exists()  # nothing was created
    # --root one level too deep: a message, not a traceback
    deep = tmp_path / "emodb" / "wav"
    deep.mkdir(parents=True)
    with pytest.raises(SystemExit, match="give its parent"):
        main(["benchmark", "--dataset", "emodb", "--root", str(deep), "--out",
              str(out), "--methods", "svm_egemaps", "--no-progress"])
    assert not out.exists()


@pytest.mark.filterwarnings("always")
def test_the_command_prints_library_warnings_as_one_line(monkeypatch, capsys):
    import warnings as _w

    import sklearn_ser.experiments._cli as cli
    from sklearn_ser.exceptions import DroppedRowsWarning

    def warns(argv):
        _w.warn("3 of 9 utterances left out", DroppedRowsWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_main", warns)
    assert cli.main() == 0  # as the command: argv None
    err = capsys.readouterr().err
    assert err == ("sklearn-ser: warning: 3 of 9 utterances left out "
                   "(DroppedRowsWarning)\n")
    with pytest.warns(DroppedRowsWarning, match="3 of 9"):  # from Python: the caller's
        assert cli.main([]) == 0
