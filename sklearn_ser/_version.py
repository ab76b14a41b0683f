"""The version of sklearn-ser (read by the package, the command line and the
build: ``pyproject.toml`` takes it from here)."""

__version__ = "0.1.0.dev0"
