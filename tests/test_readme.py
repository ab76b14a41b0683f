"""The README is what a user runs: its test command is CI's, its links lead
somewhere, and its pipeline runs on a corpus folder (issue 47)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_the_readme_is_a_short_guide():
    assert len(README.splitlines()) <= 150


def test_the_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    shell = "\n".join(_blocks("bash"))
    assert command in shell, command


def test_the_cpu_index_install_comes_first():
    first = _blocks("bash")[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in first.splitlines()[0]


def test_every_relative_link_of_the_readme_leads_to_a_file():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    missing = [link for link in links if not link.startswith("http")
               and not (ROOT / link).exists()]
    assert not missing


def test_the_readme_pipeline_runs_on_a_corpus_folder(tmp_path, monkeypatch):
    """The README's Python block, on a small generated corpus written as a
    corpus folder (``my_corpus/``), gives a UAR."""
    from sklearn_ser.datasets import make_emotional_speech, save_corpus

    data = make_emotional_speech(n_utterances=48, n_speakers=4, n_sessions=2,
                                 random_state=0)
    save_corpus(data, tmp_path / "my_corpus")
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[0]
    printed = []
    namespace = {"print": printed.append}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small corpus' inner folds say so
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    assert np.isfinite(printed[0]) and 0.0 <= printed[0] <= 1.0
