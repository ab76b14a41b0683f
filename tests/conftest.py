"""Shared fixtures: the fixture corpora in tests/fixtures and ../shared/data;
the hypothesis profiles of the property tests (``ci`` by default,
``HYPOTHESIS_PROFILE=long`` for a long run by hand)."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("long", max_examples=600, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one torch thread per pytest-xdist worker (``pytest -n auto``): the
    # workers already share the cores, and torch's spin-waiting threads would
    # slow each other's small networks several-fold
    import torch

    torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SHARED_DATA = Path(
    __import__("os").environ.get(
        "SKLEARN_SER_SHARED_DATA", HERE.parent.parent / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def fixtures_dir():
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data():
    """The real corpora beside the repository; skips when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data not found at {SHARED_DATA} (set SKLEARN_SER_SHARED_DATA to "
            "the folder holding emodb/, crema-d/, abaw/)"
        )
    return SHARED_DATA


def _need(path):
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="session")
def emodb_root(shared_data):
    return _need(shared_data / "emodb")


@pytest.fixture(scope="session")
def emodb_feature_cache(tmp_path_factory):
    """One feature cache for the tests that extract EmoDB's functionals (the
    confounded corpus reuses EmoDB's audio): each file is extracted once."""
    return tmp_path_factory.mktemp("emodb_cache")


@pytest.fixture(scope="session")
def crema_root(shared_data):
    return _need(shared_data / "crema-d")


@pytest.fixture(scope="session")
def abaw_root(shared_data):
    return _need(shared_data / "abaw")


@pytest.fixture(autouse=True)
def _sigint_raises():
    """Ctrl-C raises KeyboardInterrupt in every test (the interrupt tests send
    real SIGINTs) even when the test run inherited an ignored SIGINT, as a
    background job of a non-interactive shell does."""
    import signal

    if not hasattr(signal, "SIGINT"):
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
