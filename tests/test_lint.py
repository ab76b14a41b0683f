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


def test_no_private_name_crosses_a_sub_package():
    """A sub-package uses another only through its public names: no
    ``from ..annotations._table import ...`` (the package-wide helpers at the
    root, ``sklearn_ser._warnings`` and ``sklearn_ser._parallel``, are the
    house's shared plumbing and are allowed)."""
    import ast

    pkg = ROOT / "sklearn_ser"
    subs = {p.name for p in pkg.iterdir() if (p / "__init__.py").exists()}
    offences = []
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg)
        here = rel.parts[0] if len(rel.parts) > 1 else None
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.level == 0:
                parts = node.module.split(".")
                if parts[0] != "sklearn_ser":
                    continue
                parts = parts[1:]
            else:
                base = list(rel.parts[:-1])[: len(rel.parts) - node.level]
                parts = base + node.module.split(".")
            if not parts or parts[0] not in subs or parts[0] == here:
                continue
            private = [p for p in parts[1:] if p.startswith("_")]
            names = [a.name for a in node.names if a.name.startswith("_")]
            if private or names:
                offences.append(f"{rel}:{node.lineno} from {node.module} import "
                                f"{', '.join(a.name for a in node.names)}")
    assert not offences, "private cross-package imports:\n" + "\n".join(offences)
