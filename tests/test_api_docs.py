"""Every public name (each sub-package's ``__all__``) is on the API page and
documented: classes and functions by a docstring, constants by a ``#:``
comment where they are defined."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

import sklearn_ser.exceptions as exceptions

API = Path(__file__).parents[1] / "docs" / "api.rst"
PACKAGES = ["annotations", "datasets", "features", "metrics", "models",
            "experiments", "plotting", "exceptions"]


def _entries():
    text = API.read_text()
    return set(re.findall(r"^   ([a-z_]+\.[A-Za-z_]\w*)$", text, flags=re.M))


def _public(package):
    module = importlib.import_module(f"sklearn_ser.{package}")
    return [(package, name, getattr(module, name)) for name in module.__all__]


PUBLIC = [item for package in PACKAGES for item in _public(package)]


def test_exceptions_holds_every_warning_and_error_class():
    # a warning or error class anywhere in the public API is defined in
    # sklearn_ser.exceptions (one home, re-exported where users import it)
    for package, name, obj in PUBLIC:
        if inspect.isclass(obj) and issubclass(obj, (Warning, Exception)):
            assert obj.__module__ == "sklearn_ser.exceptions", f"{package}.{name}"
            assert name in exceptions.__all__, name


@pytest.mark.parametrize("package,name,obj", PUBLIC,
                         ids=[f"{p}.{n}" for p, n, _ in PUBLIC])
def test_public_name_is_on_the_api_page(package, name, obj):
    entries = _entries()
    # a re-exported warning is documented once, under exceptions
    documented = f"{package}.{name}" in entries or (
        getattr(exceptions, name, None) is obj and f"exceptions.{name}" in entries)
    assert documented, f"{package}.{name} is public but missing from docs/api.rst"


@pytest.mark.parametrize("package,name,obj", PUBLIC,
                         ids=[f"{p}.{n}" for p, n, _ in PUBLIC])
def test_public_name_has_documentation(package, name, obj):
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert (obj.__doc__ or "").strip(), f"{package}.{name} has no docstring"
        return
    # a constant: a "#:" comment on the line(s) above its definition
    module = importlib.import_module(f"sklearn_ser.{package}")
    sources = [inspect.getsource(module)]
    sources += [inspect.getsource(m) for m in _submodules(module)]
    pattern = re.compile(rf"^#:.*\n(?:#:.*\n)*{re.escape(name)}\s*[:=]", re.M)
    assert any(pattern.search(s) for s in sources), (
        f"{package}.{name}: a constant without a '#:' comment where it is defined")


def _submodules(module):
    folder = Path(module.__file__).parent
    if Path(module.__file__).name != "__init__.py":
        return []
    prefix = module.__name__
    return [importlib.import_module(f"{prefix}.{p.stem}")
            for p in sorted(folder.glob("_*.py")) if p.stem != "__init__"]


def test_api_page_names_exist():
    # no stale entry: every name on the page imports
    for entry in _entries():
        package, name = entry.split(".", 1)
        module = importlib.import_module(f"sklearn_ser.{package}")
        assert hasattr(module, name), f"docs/api.rst lists {entry}, which is gone"
