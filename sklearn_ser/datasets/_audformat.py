"""Databases in audformat (audEERING's format for annotated audio).

Many emotional databases are published as audformat databases: a
``db.yaml`` header with schemes and raters, and tables whose columns each
hold one scheme as one rater labelled it. :func:`load_audformat` reads the
columns of the emotion scheme as ratings (one rater per column, the
column's rater), a column whose rater is of type "ground truth" (or that has
no rater) as the truth column, and the speaker and session schemes as
metadata. audformat is an optional dependency (``pip install
sklearn-ser[audformat]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

from ..annotations import from_long, infer_classes
from ._generic import _truth_classes

#: The rater types audformat gives a gold standard.
TRUTH_RATERS = ("ground truth", "gold standard")


def _database(db):
    try:
        import audformat
    except ImportError:  # pragma: no cover - the extra is installed in tests
        raise ImportError(
            "load_audformat needs the audformat package: pip install "
            "'sklearn-ser[audformat]' (or pip install audformat).") from None
    if isinstance(db, audformat.Database):
        return db
    folder = Path(db)
    if not (folder / "db.yaml").is_file():
        raise FileNotFoundError(f"{str(folder)!r} is no audformat database folder "
                                "(it has no db.yaml).")
    return audformat.Database.load(str(folder), load_data=True)


def load_audformat(db, scheme="emotion", *, speaker_scheme="speaker",
                   session_scheme="session", truth_column="intended"):
    """Load an audformat database: ratings, truth, speakers, audio paths.

    Parameters
    ----------
    db : audformat.Database or str or Path
        A database, or the folder holding its ``db.yaml`` (loaded with its
        tables).
    scheme : str, default="emotion"
        The scheme of the emotion labels. Every table column of this scheme
        whose rater is not a gold standard is one rater's ratings (the rater
        id is the column's rater; a rater's columns in several tables are
        merged); a column whose rater is of type "ground truth" (or "gold
        standard"), or that has no rater, is the truth.
    speaker_scheme, session_scheme : str
        Schemes whose columns give the ``speaker`` and ``session`` of each
        file (absent: no such column).
    truth_column : str, default="intended"
        The name the truth gets in ``utterances`` (and the classes, when
        there is one, are its labels that some rater chose).

    Returns
    -------
    data : sklearn.utils.Bunch
        As :func:`load_corpus`: ``utterances`` (index: the file path relative
        to the database root without its extension; ``path`` absolute;
        ``speaker``/``session``/truth columns where the database has them),
        ``annotations``, ``classes``, ``classes_report``, ``DESCR``.

    Raises
    ------
    ValueError
        No rater column of ``scheme``; a segmented table (start/end
        offsets: not read yet); two truth columns that disagree.
    """
    db = _database(db)
    if scheme not in db.schemes:
        raise ValueError(f"load_audformat: the database has no scheme {scheme!r}; "
                         f"its schemes: {sorted(db.schemes)}.")
    rows, truth, meta = [], [], {"speaker": [], "session": []}
    for table_id in db.tables:
        table = db[table_id]
        df = table.get()
        for column_id, column in table.columns.items():
            which = {speaker_scheme: "speaker", session_scheme: "session"}.get(
                column.scheme_id)
            if column.scheme_id != scheme and which is None:
                continue
            if table.is_segmented:
                raise ValueError(
                    f"load_audformat: table {table_id!r} is segmented (start/end "
                    "offsets); segments are not read yet. Give a filewise table "
                    "of the scheme, or cut the segments into files.")
            values = df[column_id].dropna()
            if which is not None:
                meta[which].append(values)
                continue
            rater = column.rater_id
            kind = db.raters[rater].type if rater is not None else None
            if rater is None or kind in TRUTH_RATERS:
                truth.append((f"{table_id}.{column_id}", values))
            else:
                rows.append(pd.DataFrame({"utterance": values.index,
                                          "rater": rater,
                                          "label": values.astype(str).to_numpy()}))
    if not rows:
        raise ValueError(
            f"load_audformat: no column of scheme {scheme!r} has a rater that is "
            "not a gold standard; there are no individual ratings to learn "
            "from" + (f" (gold: {[n for n, _ in truth]})" if truth else "") + ".")
    long = pd.concat(rows, ignore_index=True).drop_duplicates()
    files = list(dict.fromkeys(long["utterance"]))
    ids = {f: os.path.splitext(str(f))[0] for f in files}
    long["utterance"] = long["utterance"].map(ids)
    annotations = from_long(long, multiple="choices")
    order = [ids[f] for f in files]
    utterances = pd.DataFrame(index=pd.Index(order, name="utterance"))
    root = Path(db.root) if db.root else Path(".")
    utterances["path"] = [str(root / f) for f in files]
    for name, parts in meta.items():
        if parts:
            values = pd.concat(parts)
            values = values[~values.index.duplicated()]
            utterances[name] = [values.get(f) for f in files]
    if truth:
        merged = pd.concat([v for _, v in truth])
        clash = merged.groupby(level=0).nunique()
        if (clash > 1).any():
            f = clash.index[clash > 1][0]
            raise ValueError(
                f"load_audformat: the truth columns {[n for n, _ in truth]} "
                f"disagree on {f!r}: {sorted(map(str, merged.loc[[f]]))}.")
        merged = merged[~merged.index.duplicated()]
        utterances[truth_column] = [merged.get(f) for f in files]
    annotations = annotations.reindex(utterances.index)
    classes, report = infer_classes(annotations, return_report=True)
    if truth:
        classes, report = _truth_classes(utterances, truth_column, annotations,
                                         report, f"audformat database {db.name}")
    return Bunch(utterances=utterances, annotations=annotations, classes=classes,
                 classes_report=report,
                 DESCR=f"audformat database {db.name!r} ({root}): "
                       f"{len(utterances)} files, scheme {scheme!r}, "
                       f"{annotations.ratings.raters.size} raters; classes "
                       f"{classes} ({report['rule']}).")
