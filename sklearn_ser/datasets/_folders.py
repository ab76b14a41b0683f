"""Corpus folders and audio found by id, in any format soundfile reads.

A corpus folder is the layout :func:`save_corpus` writes and many corpora
ship in: ``ratings.csv`` (long form), ``metadata.csv`` (optional), and the
audio in ``wav/``, ``flac/`` or ``audio/``. The audio file of an utterance is
``<audio folder>/<utterance id>.<extension>``, any extension below: a FLAC
corpus reads as its WAV twin does. A form the content does not decide (two
audio folders, two files of one id) is refused naming the choice.
"""

from __future__ import annotations

import os
from pathlib import Path

from sklearn.utils import Bunch

from ._base import path_inside

#: The audio folders a corpus folder may hold (one of them).
AUDIO_FOLDERS = ("wav", "flac", "audio")

#: The extensions read as audio (the formats libsndfile reads).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff",
                    ".aif", ".aifc", ".au", ".snd", ".sph", ".w64", ".caf")


def corpus_folder(folder, need_ratings=True):
    """The parts of a corpus folder: ``audio_dir``, ``ratings``, ``metadata``
    (None when there is no ``metadata.csv``; ``ratings`` None when there is
    no ``ratings.csv`` and ``need_ratings`` is False).

    Raises
    ------
    FileNotFoundError
        No such folder, no ``ratings.csv``, or no audio folder.
    ValueError
        Several audio folders (``wav/`` and ``flac/``): which one is meant is
        not decided by the folder; pass ``audio_dir`` explicitly.
    """
    folder = Path(folder)
    layout = ("a corpus folder holds ratings.csv (utterance, rater, label), "
              "optionally metadata.csv, and the audio in one of "
              + ", ".join(f"{n}/" for n in AUDIO_FOLDERS))
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {str(folder)!r} does not exist; "
                                f"{layout}.")
    ratings = folder / "ratings.csv"
    if not ratings.is_file():
        if need_ratings:
            raise FileNotFoundError(f"{str(folder)!r} has no ratings.csv; {layout}.")
        ratings = None
    audio = [folder / n for n in AUDIO_FOLDERS if (folder / n).is_dir()]
    if len(audio) > 1:
        raise ValueError(
            f"{str(folder)!r} holds several audio folders ("
            + ", ".join(f"{a.name}/" for a in audio) + "); say which one holds "
            "the corpus: load_corpus(audio_dir, ratings, metadata) (command "
            "line: --audio-dir, --ratings, --metadata).")
    if not audio:
        raise FileNotFoundError(f"{str(folder)!r} has no audio folder; {layout}.")
    metadata = folder / "metadata.csv"
    return Bunch(audio_dir=audio[0], ratings=ratings,
                 metadata=metadata if metadata.is_file() else None)


def audio_index(audio_dir):
    """``{id: [paths]}``: every audio file under ``audio_dir`` by its path
    relative to it without the extension (``actor01/clip`` for
    ``actor01/clip.flac``). One pass over the folder."""
    audio_dir = Path(audio_dir)
    index = {}
    for root, _, files in os.walk(audio_dir, followlinks=True):
        rel = Path(root).relative_to(audio_dir)
        for name in files:
            stem, ext = os.path.splitext(name)
            if ext.lower() in AUDIO_EXTENSIONS:
                key = (rel / stem).as_posix() if rel.parts else stem
                index.setdefault(key, []).append(Path(root) / name)
    return index


def find_audio(audio_dir, ids, extension="auto"):
    """``(paths, missing)``: the audio file of each id and the ids without one.

    ``extension="auto"`` finds ``<id>.<any audio extension>`` (one file per
    id; an id with several, ``x.wav`` and ``x.flac``, is refused naming the
    ``extension`` to choose); an extension (``".flac"``) takes that one only.
    Every id is checked as a file name first (:func:`path_inside`).
    """
    audio_dir = Path(audio_dir)
    if extension != "auto":
        paths = [path_inside(audio_dir, i, extension) for i in ids]
        return paths, [i for i, p in zip(ids, paths, strict=True) if not p.is_file()]
    for i in ids:
        path_inside(audio_dir, i, "")  # a safe name, written one way
    index = audio_index(audio_dir)
    several = [(i, index[str(i)]) for i in ids if len(index.get(str(i), ())) > 1]
    if several:
        uid, files = several[0]
        exts = sorted({f.suffix for f in files})
        raise ValueError(
            f"{len(several)} utterance(s) have several audio files in "
            f"{str(audio_dir)!r} (e.g. {uid!r}: "
            + ", ".join(f.name for f in sorted(files)) + "); which one is meant "
            f"is not decided by the folder: pass extension={exts[-1]!r} (command "
            f"line: --extension {exts[-1]}) to read one format.")
    paths = [index[str(i)][0] if str(i) in index else audio_dir / f"{i}.wav"
             for i in ids]
    return paths, [i for i in ids if str(i) not in index]
