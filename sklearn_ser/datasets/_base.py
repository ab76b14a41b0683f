"""Shared helpers of the dataset loaders."""

from __future__ import annotations

import os
from pathlib import Path


def check_root(root, corpus, hint):
    """Return ``root`` as a Path, or raise a helpful error when it is missing."""
    if root is None:
        raise ValueError(f"{corpus}: pass the corpus root folder, e.g. {hint}.")
    path = Path(os.fspath(root)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{corpus}: the folder {str(path)!r} does not exist. Pass the corpus "
            f"root, the folder that holds {hint}."
        )
    if not path.is_dir():
        raise NotADirectoryError(
            f"{corpus}: {str(path)!r} is a file; pass the corpus root folder that "
            f"holds {hint}."
        )
    return path
