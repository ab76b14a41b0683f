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


def path_inside(folder, uid, extension, *, what="utterance"):
    """``folder/<uid><extension>``, refused when the id would leave ``folder``.

    Utterance ids come from data (a ratings CSV, a metadata table); an id such
    as ``../../x``, ``/abs/x``, ``C:\\x`` or one holding a NUL byte must not
    read or write a file outside the folder the user named. A relative
    sub-folder that stays inside (``actor01/clip``) is allowed. The check is
    on the names, not on where links point: an audio folder of symbolic links
    to files elsewhere (a corpus linked into a working folder) is the user's
    own layout and is read through.
    """
    text = str(uid)
    folder = Path(folder)
    bad = (text == "" or "\x00" in text or Path(text).is_absolute()
           or text.startswith(("/", "\\", "~")) or (len(text) > 1 and text[1] == ":")
           or any(part in ("..",) for part in Path(text.replace("\\", "/")).parts))
    target = folder / f"{text}{extension}"
    if not bad:  # lexically, without following links
        root = os.path.normpath(os.path.abspath(folder))
        full = os.path.normpath(os.path.abspath(target))
        bad = full == root or os.path.commonpath([root, full]) != root
    if bad:
        raise ValueError(
            f"{what} id {uid!r} is not a safe file name: {text + extension!r} would "
            f"lie outside {str(folder)!r}. Ids name files inside the audio folder; "
            "rename the utterance (e.g. replace '/' and '..') in the ratings and "
            "metadata.")
    return target
