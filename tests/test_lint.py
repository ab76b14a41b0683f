"""The code passes ruff (E, F, W, I, UP, B; configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    targets = [str(ROOT / d) for d in ("sklearn_ser", "tests", "examples",
                                       "benchmarks")]
    proc = subprocess.run([ruff, "check", *targets], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sys.version_info >= (3, 10)
