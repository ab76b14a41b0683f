"""Any corpus in generic form: a folder of WAV files and two CSV files."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._text import shown, unicode_key
from .._warnings import ser_warn
from ..annotations import HardLabels, from_long, infer_classes, to_long, truth_labels
from ..exceptions import RareClassWarning, WaveformScaleWarning
from ._base import path_inside, same_files
from ._folders import corpus_folder, find_audio


def _read_csv(path, what):
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{str(p)!r}: no such file; expected {what}.")
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""],
                           sep=_delimiter(p))
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise ValueError(f"{str(p)!r} is not a readable CSV ({e}); expected "
                         f"{what}.") from None


def _delimiter(path):
    """The separator of a CSV file: the one of ``,`` ``;`` tab ``|`` its header
    line holds most often (spreadsheets in many locales write ``;``), ``,``
    when it holds none."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            header = f.readline()
    except OSError:
        return ","
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _id_column(meta, ids):
    """The metadata column of utterance ids: ``utterance``, ``item``, ``file``
    or ``id`` when there is one, else the column holding most of the rated
    ids (the first column when none holds any)."""
    named = next((c for c in ("utterance", "item", "file", "id") if c in meta.columns),
                 None)
    if named is not None:
        return named
    rated = set(ids)
    hits = {c: int(meta[c].astype(str).isin(rated).sum()) for c in meta.columns}
    best = max(hits, key=hits.get)
    return best if hits[best] else meta.columns[0]


def load_corpus(audio_dir, ratings=None, metadata=None, *, extension="auto",
                multiple="choices", truth_column=None):
    """Load a corpus folder, or a corpus in generic form.

    ``load_corpus(folder)`` reads a corpus folder (the layout
    :func:`save_corpus` writes): ``ratings.csv``, ``metadata.csv`` when there
    is one, and the audio in ``wav/``, ``flac/`` or ``audio/``.
    ``load_corpus(audio_dir, ratings, metadata)`` names the three parts.

    Parameters
    ----------
    audio_dir : str or Path
        A corpus folder (when ``ratings`` is None), or the folder with one
        audio file per rated utterance, ``<utterance>.<extension>``
        (sub-folders allowed: the id ``actor01/clip``).
    ratings : str or Path, optional
        Long CSV, one row per rating: ``utterance, rater, label`` (the column
        names :func:`~sklearn_ser.annotations.from_long` recognises; a rater
        who chose several labels has several rows, first choice first).
    metadata : str or Path, optional
        CSV with an utterance column (``utterance``, ``item``, ``file`` or
        ``id``, else the column that holds the rated ids) and any others, e.g.
        ``speaker``, ``session``, ``intended``. Both CSVs may be separated by
        commas, semicolons, tabs or ``|`` (read from the header line).
    extension : str, default="auto"
        ``"auto"``: each id's one audio file in any format soundfile reads
        (``.wav``, ``.flac``, ``.ogg``, ``.mp3``...; an id with two, ``x.wav``
        and ``x.flac``, is refused naming the choice); or one extension
        (``".flac"``), the only one read.
    multiple : {"choices", "warn", "first", "last", "error"}, default="choices"
        Several rows of one rater for one utterance: by default several
        choices, first row first (see :func:`~sklearn_ser.annotations.from_long`).
    truth_column : str, optional
        A metadata column of intended emotions: its labels (normalised, those
        that some rater chose) are the classes, instead of the labels that
        win majorities. A corpus folder without ``ratings.csv`` is read when
        it is given: every row of ``metadata.csv`` is an utterance,
        ``annotations`` is None and the classes are the truth column's labels
        (a test corpus of a cross-corpus run, scored against its truth only).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (index = utterance id, ``path`` plus the metadata
        columns), ``annotations`` (ratings aligned with it, see
        :func:`~sklearn_ser.annotations.from_long`), ``classes``
        (the labels of ``truth_column`` when given, else the labels that win
        the majority of enough utterances, see
        :func:`~sklearn_ser.annotations.infer_classes`: labels only ever
        chosen in a minority, or winning very few majorities, are not
        classes), ``classes_report`` (how many utterances each class wins,
        the rare winners and the labels left out, and the rule).

    Raises
    ------
    FileNotFoundError
        A missing folder, CSV or audio file (the count and an example).
    ValueError
        Unreadable CSVs, ratings without the needed columns, rated utterances
        absent from the metadata, duplicate metadata rows.

    Notes
    -----
    Metadata rows without any rating are left out, with a count on stderr.
    """
    if ratings is None:  # a corpus folder
        parts = corpus_folder(audio_dir, need_ratings=truth_column is None)
        audio_dir, ratings = parts.audio_dir, parts.ratings
        metadata = parts.metadata if metadata is None else metadata
        if ratings is None:  # no ratings, a truth column: scored against it
            return _unrated_corpus(Path(audio_dir), metadata, truth_column,
                                   extension)
    audio_dir = Path(audio_dir)
    named = "<utterance>.<audio extension>" if extension == "auto" else (
        f"<utterance>{extension}")
    if not audio_dir.is_dir():
        raise FileNotFoundError(f"audio folder {str(audio_dir)!r} does not exist; "
                                f"expected a folder of {named} files.")
    long = _read_csv(ratings, "a long CSV with columns utterance, rater, label")
    try:
        table = from_long(long, multiple=multiple)
    except (ValueError, KeyError) as e:
        raise ValueError(
            f"{str(ratings)!r}: {e} (expected one row per rating with columns "
            f"utterance, rater, label; got columns {list(long.columns)})."
        ) from None
    ids = [str(i) for i in table.index]
    table.index = pd.Index(ids, name="utterance")
    if metadata is not None:
        meta = _read_metadata(metadata, ids)
        missing = [i for i in ids if i not in meta.index]
        if missing:
            # ids are matched exactly (they name files); say when only case or
            # surrounding spaces differ, the usual cause
            loose = {_loose_id(m): m for m in meta.index}
            near = [(i, loose[_loose_id(i)]) for i in missing
                    if _loose_id(i) in loose]
            by_ext = [(i, m) for i, m in near if _loose_id(i, False) != (
                _loose_id(m, False))]
            if by_ext:
                i, m = by_ext[0]
                raise ValueError(
                    f"{len(missing)} rated utterance(s) are not in "
                    f"{str(metadata)!r} (e.g. {i!r}); {len(by_ext)} of them differ "
                    f"from a metadata id by a file extension (ratings {i!r}, "
                    f"metadata {m!r}). Ids name the audio files without their "
                    "extension: strip it from both files (e.g. long['utterance'] "
                    "= long['utterance'].str.replace(r'\\.(wav|flac)$', '', "
                    "regex=True)).")
            raise ValueError(
                f"{len(missing)} rated utterance(s) are not in {str(metadata)!r} "
                f"(e.g. {missing[0]!r})"
                + (f"; {len(near)} of them differ from a metadata id only by case, "
                   f"surrounding spaces or Unicode form (e.g. ratings "
                   f"{shown(near[0][0])}, metadata {shown(near[0][1])}): ids are "
                   "matched exactly, as they name the audio files; write them the "
                   "same way in both files."
                   if near else "; add a row for each.")
            )
        unrated = int((~meta.index.isin(ids)).sum())
        if unrated:
            print(f"load_corpus: {unrated} utterance(s) of {str(metadata)!r} have no "
                  "rating and are left out.", file=sys.stderr)
        utterances = meta.loc[ids].copy()
    else:
        utterances = pd.DataFrame(index=ids)
    utterances.index.name = "utterance"
    paths, absent = find_audio(audio_dir, ids, extension)
    absent = set(absent)
    missing = [p for p, i in zip(paths, ids, strict=True) if i in absent]
    with_ext = [i for i in ids if _AUDIO_EXT.search(str(i))]
    if missing and with_ext:
        raise FileNotFoundError(
            f"{len(missing)} of {len(ids)} audio files are missing (e.g. "
            f"{missing[0]}); {len(with_ext)} rated utterance id(s) end in a file "
            f"extension (e.g. {with_ext[0]!r}). Ids name the audio files without "
            "their extension (it is found, or added): strip it from the ratings "
            "(and metadata) ids, e.g. long['utterance'] = long['utterance']"
            ".str.replace(r'\\.(wav|flac)$', '', regex=True).")
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(ids)} audio files are missing (e.g. "
            f"{missing[0]}); {str(audio_dir)!r} must hold {named} for every rated "
            "utterance."
        )
    same_files(paths, ids)
    utterances["path"] = [str(p) for p in paths]
    annotations = table.loc[ids]
    try:
        classes, report = infer_classes(annotations, return_report=True)
    except ValueError as e:
        if truth_column is None:
            raise ValueError(f"{str(ratings)!r}: {e}") from None
        report = {"wins": {}, "left_out": {}, "rare": {}}
    if truth_column is not None:
        classes, report = _truth_classes(utterances, truth_column, annotations,
                                         report, metadata)
    else:
        _warn_few_wins(classes, report, ratings)
    return Bunch(utterances=utterances, annotations=annotations, classes=classes,
                 classes_report=report,
                 DESCR=f"Corpus in generic form from {str(audio_dir)!r} and "
                       f"{str(ratings)!r}: {len(ids)} utterances; classes "
                       f"{classes} ({report['rule']}).")


#: A file extension at the end of an utterance id.
_AUDIO_EXT = re.compile(r"\.(wav|flac|mp3|ogg|opus|aiff?|au|sph)$", re.IGNORECASE)


def _loose_id(value, extension=True):
    """An id as a person reads it: Unicode form, case, surrounding spaces (and,
    with ``extension``, a trailing audio extension) ignored."""
    key = unicode_key(str(value)).strip().casefold()
    return _AUDIO_EXT.sub("", key) if extension else key


def _warn_few_wins(classes, report, ratings):
    """Say which classes decided by the majorities win few of them (under half
    an even share, once there are at least 20 majorities per class): kept,
    but a model learns them from few examples."""
    wins = {str(k): int(v) for k, v in report.get("wins", {}).items()}
    total = sum(wins.get(str(c), 0) for c in classes)
    if len(classes) < 2 or total < 20 * len(classes):
        return  # too few majorities for a share to say anything
    few = {str(c): wins.get(str(c), 0) for c in classes
           if wins.get(str(c), 0) < total / (2 * len(classes))}
    if few:
        ser_warn(
            f"{str(ratings)!r}: class(es) "
            + ", ".join(f"{c!r} (the majority of {n} of {total} utterances)"
                        for c, n in few.items())
            + f" win under half an even share (1/{2 * len(classes)}) of the "
            "majorities; without a truth column they are classes all the same, "
            "and a model learns them from few examples. Pass classes=[...] "
            "without them, or truth_column= naming the intended emotions.",
            RareClassWarning)


def _read_metadata(metadata, ids):
    """The metadata CSV indexed by utterance id (as text; its id column
    found by name, else by the rated ``ids`` it holds), one row per id."""
    meta = _read_csv(metadata, "a CSV with an utterance column plus columns such "
                               "as speaker, session, intended")
    meta = meta.set_index(_id_column(meta, ids))
    meta.index = meta.index.astype(str)
    if meta.index.duplicated().any():
        dup = meta.index[meta.index.duplicated()][0]
        raise ValueError(f"{str(metadata)!r} lists utterance {dup!r} more than "
                         "once; give one row per utterance.")
    return meta


def _unrated_corpus(audio_dir, metadata, truth_column, extension):
    """A corpus folder with a truth column and no ratings: every metadata
    row an utterance, ``annotations`` None."""
    if metadata is None:
        raise FileNotFoundError(
            f"{str(audio_dir.parent)!r} has neither ratings.csv nor metadata.csv; "
            f"a corpus without ratings needs metadata.csv with the truth column "
            f"{truth_column!r}.")
    meta = _read_metadata(metadata, [])
    if truth_column not in meta.columns:
        raise ValueError(
            f"{str(audio_dir.parent)!r} has no ratings.csv, and truth_column="
            f"{truth_column!r} is not a column of {str(metadata)!r} (its columns: "
            f"{list(meta.columns)}); a corpus without ratings is scored against "
            "its truth column only.")
    ids = list(meta.index)
    paths, absent = find_audio(audio_dir, ids, extension)
    if absent:
        raise FileNotFoundError(
            f"{len(absent)} of {len(ids)} audio files are missing (e.g. utterance "
            f"{absent[0]!r}); {str(audio_dir)!r} must hold one for every row of "
            f"{str(metadata)!r}.")
    same_files(paths, ids)
    utterances = meta.copy()
    utterances.index.name = "utterance"
    utterances["path"] = [str(p) for p in paths]
    read = truth_labels(utterances[truth_column],
                        name=f"truth column {truth_column!r} of {str(metadata)!r}")
    classes = sorted({x for x in read if x is not None}, key=str)
    rule = f"the labels of the truth column {truth_column!r} (no ratings)"
    return Bunch(utterances=utterances, annotations=None, classes=classes,
                 classes_report={"wins": {}, "left_out": {}, "rare": {},
                                 "rule": rule},
                 DESCR=f"Corpus without ratings from {str(audio_dir)!r} and "
                       f"{str(metadata)!r}: {len(ids)} utterances; classes "
                       f"{classes} ({rule}).")


def _truth_classes(utterances, column, annotations, report, metadata):
    """The classes a truth column names (those some rater chose)."""
    if column not in utterances.columns:
        raise ValueError(
            f"truth_column={column!r} is not a column of {str(metadata)!r}; its "
            f"columns: {[c for c in utterances.columns if c != 'path']}.")
    seen = list(HardLabels().fit(annotations).classes_)
    # the ratings' reading ("NA" names nothing; "Pos" beside a rated "pos" is
    # refused), as the command line and ser_scoring(truth=) read it
    read = truth_labels(utterances[column], labels=seen,
                        name=f"truth column {column!r} of {str(metadata)!r}")
    labels = sorted({x for x in read if x is not None}, key=str)
    rated = set(seen)
    classes = [c for c in labels if c in rated]
    if len(classes) < 2:
        raise ValueError(
            f"truth_column={column!r} holds {labels}, of which {classes} appear in "
            "the ratings; at least two classes are needed.")
    unrated = sorted(set(labels) - set(classes))
    rule = f"the labels of the truth column {column!r}"
    if unrated:
        rule += f" (no rater chose {unrated}: left out)"
    return classes, {**report, "rule": rule}


@contextlib.contextmanager
def _new_file(target, uid, written):
    """Open ``target`` for writing only if nothing is there (no file, no link;
    ``O_EXCL``): an id whose file another id has just written (a file system
    that ignores case: ``A`` and ``a``) is refused, naming both."""
    try:
        fh = open(target, "xb")
    except FileExistsError:
        other = next((u for u, p in written.items() if os.path.samefile(p, target)),
                     None)
        raise FileExistsError(
            f"utterance {uid!r}: {str(target)!r} exists"
            + (f", written for utterance {other!r} (the file system ignores "
               "case, or a link joins them): two ids name one file; rename one."
               if other is not None else "; save_corpus never overwrites.")
        ) from None
    written[uid] = target
    with fh:
        yield fh


def save_corpus(data, folder):
    """Write a corpus in the generic form :func:`load_corpus` reads.

    ``<folder>/wav/<utterance>.wav`` (16-bit PCM), ``<folder>/ratings.csv``
    (long form) and ``<folder>/metadata.csv`` (every utterance column except
    the waveform and path). Useful to try ``sklearn-ser benchmark
    --audio-dir ...`` on :func:`make_emotional_speech` data.

    Parameters
    ----------
    data : Bunch
        With ``utterances`` (an ``audio`` + ``sample_rate`` column, or
        ``path``) and ``annotations`` (a rater table).
    folder : str or Path
        Must not hold a ``ratings.csv`` or ``metadata.csv`` already (nothing is
        overwritten).

    Returns
    -------
    paths : Bunch
        ``audio_dir``, ``ratings``, ``metadata``.
    """
    import soundfile as sf

    folder = Path(folder)
    ratings, metadata, wav = (folder / "ratings.csv", folder / "metadata.csv",
                              folder / "wav")
    for p in (ratings, metadata):
        if p.exists():
            raise FileExistsError(f"{p} exists; save_corpus never overwrites, give "
                                  "another folder.")
    u = data.utterances
    if "audio" not in u.columns and "path" not in u.columns:
        raise ValueError("data.utterances needs an 'audio' (with 'sample_rate') or a "
                         "'path' column.")
    # all first: every id checked (and every link resolved) before a write
    targets = {utt: path_inside(wav, utt, ".wav", write=True) for utt in u.index}
    there = [t for t in targets.values() if t.exists() or t.is_symlink()]
    if there:  # before the first write; a link, even broken, is not written through
        raise FileExistsError(
            f"{len(there)} of the {len(targets)} audio files exist already (e.g. "
            f"{there[0]}); save_corpus never overwrites, give another folder.")
    wav.mkdir(parents=True, exist_ok=True)
    written = {}
    for utt, row in u.iterrows():
        target = targets[utt]
        target.parent.mkdir(parents=True, exist_ok=True)
        path_inside(wav, utt, ".wav", write=True)  # the folders made meanwhile
        if "audio" in u.columns:
            audio = np.asarray(row["audio"], dtype=np.float32)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1.0:
                ser_warn(f"save_corpus: utterance {utt!r} peaks at {peak:.2f}, "
                         "outside [-1, 1]; written scaled to 0.99.",
                         WaveformScaleWarning)
                audio = audio * (0.99 / peak)
            with _new_file(target, utt, written) as fh:
                sf.write(fh, audio, int(row["sample_rate"]), format="WAV",
                         subtype="PCM_16")
        else:
            data_bytes = Path(row["path"]).read_bytes()
            with _new_file(target, utt, written) as fh:
                fh.write(data_bytes)
    to_long(data.annotations).to_csv(ratings, index=False)
    keep = [c for c in u.columns if c not in ("audio", "path", "sample_rate")
            and u[c].map(lambda v: np.isscalar(v) or v is None).all()]
    u[keep].rename_axis("utterance").to_csv(metadata)
    return Bunch(audio_dir=wav, ratings=ratings, metadata=metadata)
