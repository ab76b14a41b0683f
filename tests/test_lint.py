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


def _internal_imports():
    """{module: [(imported module, line, at the top?)]} over sklearn_ser/,
    every ``import`` of the package resolved to the module it loads (a
    name that is a sub-module counts as that module)."""
    import ast

    pkg = ROOT / "sklearn_ser"
    modules = {}
    for path in pkg.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            modules[".".join(parts[:-1])] = (path, True)
        else:
            modules[".".join(parts)] = (path, False)

    def known(name):
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph = {}
    for name, (path, is_pkg) in modules.items():
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        edges = []
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names
                           if a.name.split(".")[0] == "sklearn_ser"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                if mod.split(".")[0] == "sklearn_ser":
                    targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules
                               else mod for a in node.names]
            for t in targets:
                t = known(t)
                if t != name:
                    edges.append((t, node.lineno, id(node) in top))
        graph[name] = edges
    return graph


def test_the_import_graph_has_no_circle():
    graph = {m: {t for t, *_ in e} for m, e in _internal_imports().items()}
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                circles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c)
                                                         for c in circles)


def test_the_package_imports_itself_at_the_top_of_each_module():
    """An import of sklearn-ser inside a function hides a dependency (and
    usually a circle); optional third-party imports may stay lazy."""
    lazy = [f"{m}:{line} imports {t}" for m, edges in _internal_imports().items()
            for t, line, at_top in edges if not at_top]
    assert not lazy, "\n".join(lazy)


#: The most lines a module of the package may hold: past it, a module holds
#: more than one job (split it by job, as the target encoders are).
MAX_LINES = 600


def test_no_module_is_over_the_size_of_one_job():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "sklearn_ser").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long
