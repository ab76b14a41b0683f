"""Shared helpers of the dataset loaders."""

from __future__ import annotations

import os
import posixpath
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


#: The longest file name (one path component, in bytes) the usual file
#: systems accept (ext4, APFS, NTFS, XFS).
NAME_MAX = 255


def path_inside(folder, uid, extension, *, what="utterance", write=False):
    """``folder/<uid><extension>``, refused when the id would leave ``folder``.

    Utterance ids come from data (a ratings CSV, a metadata table); an id such
    as ``../../x``, ``/abs/x``, ``C:\\x`` or one holding a NUL byte must not
    read or write a file outside the folder the user named. A relative
    sub-folder that stays inside (``actor01/clip``) is allowed, written one
    way only: ``./a``, ``sub//x``, ``sub/./x`` or ``a/`` name the file of
    ``a`` or ``sub/x`` and are refused (two such ids would be two utterances
    of one file). A component longer than the file systems allow
    (:data:`NAME_MAX` bytes) is refused naming the id.

    For reading, the check is on the names, not on where links point: an audio
    folder of symbolic links to files elsewhere (a corpus linked into a
    working folder) is the user's own layout and is read through. For
    writing (``write=True``) every existing component is resolved: a link
    inside ``folder`` that leads outside it is refused, never written
    through.
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
    plain = posixpath.normpath(text)
    if plain != text:
        raise ValueError(
            f"{what} id {uid!r} names the file of {plain!r} "
            f"({str(folder / (plain + extension))!r}): a path is written one way "
            f"only, or two ids would be one file. Write it {plain!r} in the "
            "ratings and metadata.")
    parts = text.split("/")
    parts[-1] += extension
    long = [p for p in parts if len(p.encode("utf-8", "surrogatepass")) > NAME_MAX]
    if long:
        raise ValueError(
            f"{what} id {uid!r} makes a file name of "
            f"{len(long[0].encode('utf-8', 'surrogatepass'))} bytes "
            f"({long[0][:40]!r}...); file systems allow {NAME_MAX}. Shorten the "
            "id in the ratings and metadata (e.g. a numbered id, with the long "
            "name in a metadata column).")
    if write:
        _check_written_inside(folder, target, uid, what)
    return target


def _check_written_inside(folder, target, uid, what):
    """Refuse a target whose existing components lead outside ``folder``
    through a link (the folder itself may be a link: it is the user's)."""
    root = os.path.realpath(folder)
    parent = target.parent
    while not os.path.lexists(parent) and parent != folder:
        parent = parent.parent  # created later, as real folders
    where = os.path.realpath(parent)
    if where != root and os.path.commonpath([root, where]) != root:
        raise ValueError(
            f"{what} id {uid!r}: {str(parent)!r} is a link to {where!r}, outside "
            f"{str(folder)!r}; nothing is written through a link out of the "
            "folder. Give a folder without such links, or remove the link.")


def same_files(paths, ids, *, what="utterance"):
    """Refuse two ids whose paths are one file (links, hard links, a file
    system that ignores case): two utterances of one recording would leak
    across folds. Paths that do not exist are skipped (the caller names
    them)."""
    seen = {}
    for uid, path in zip(ids, paths, strict=True):
        try:
            st = os.stat(path)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise ValueError(
                f"{what}s {seen[key]!r} and {uid!r} are one file "
                f"({str(path)!r}; a link, a hard link or a file system that "
                "ignores case): two utterances of one recording would be "
                "trained and tested on. Give each utterance its own file, or "
                "drop one id from the ratings and metadata.")
        seen[key] = uid
