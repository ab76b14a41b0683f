import json

import pytest

from sklearn_ser._cli import main


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
    # a second run keeps the first results
    assert main(args) == 0
    assert (tmp_path / "res-2" / "results.json").exists()


def test_cli_errors(tmp_path):
    with pytest.raises(SystemExit, match="unknown method"):
        main(["demo", "--methods", "nope", "--out", str(tmp_path / "x"),
              "--n-utterances", "20"])
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
def test_benchmark_on_emodb_svm(emodb_root, tmp_path):
    out = tmp_path / "emodb"
    assert main(["benchmark", "--dataset", "emodb", "--root", str(emodb_root),
                 "--methods", "svm_egemaps", "--out", str(out), "--no-progress",
                 "--cache", str(tmp_path / "cache"), "--n-jobs", "2"]) == 0
    r = json.loads((out / "results.json").read_text())["methods"]["svm_egemaps"]
    assert r["uar_truth"] > 0.6  # eGeMAPS + SVM vs the intended emotion
