"""Every example script runs (the docs gallery executes the same files)."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").rglob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
def test_example_runs(path, monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_SER_QUICK", "1")  # small data, few epochs
    monkeypatch.chdir(path.parent)
    runpy.run_path(str(path), run_name="__main__")
    plt.close("all")


def test_there_are_examples():
    assert EXAMPLES
