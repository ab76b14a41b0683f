"""The README is what a user runs: its test command is CI's, its links lead
somewhere, and its pipeline runs on a corpus folder (issue 47)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

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


def _anchors(path):
    """GitHub's anchors of a Markdown file's headings (code blocks skipped)."""
    out, fence = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and re.match(r"^#{1,6} ", line):
            title = re.sub(r"^#+ ", "", line).strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


@pytest.mark.parametrize("name", ["README.md", "BENCHMARKS.md",
                                  "docs/benchmarks/history.md"])
def test_every_link_leads_to_a_file_and_a_heading(name):
    """BENCHMARKS.md's topics link into the archive by heading: a renamed
    heading would leave a link that leads nowhere."""
    source = ROOT / name
    bad = []
    for target, fragment in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)",
                                       source.read_text()):
        if target.startswith("http"):
            continue
        path = (source.parent / target) if target else source
        if not path.exists() or (fragment and path.suffix == ".md"
                                 and fragment not in _anchors(path)):
            bad.append(f"{target}#{fragment}")
    assert not bad
