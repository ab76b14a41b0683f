"""Loader of a per-rater intensity table (earkick ABAW 2023 ``assessment.csv``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._warnings import ser_warn
from ..annotations import to_ratings
from ..exceptions import DroppedRowsWarning

#: Intensity scale of the questionnaire, weakest first.
ABAW_INTENSITIES = ("None", "A little", "Moderate", "Extremely")
#: Questionnaire column -> canonical emotion.
ABAW_EMOTIONS = {
    "happy": "happiness",
    "sad": "sadness",
    "anger": "anger",
    "fear": "fear",
    "disgust": "disgust",
    "surprise": "surprise",
}


def load_abaw(path, *, threshold="A little", none_label="neutral"):
    """Load a per-rater emotion-intensity table as an annotation table.

    Each of three annotators rated six emotions of every clip on the scale
    None / A little / Moderate / Extremely. **Rule**: an emotion counts as
    *chosen* by a rater when its intensity is at least ``threshold``; a rater's
    chosen emotions are ordered strongest first (ties in column order), so the
    strongest is the first choice. A rater who chose none of the six is
    recorded with ``none_label`` (the rater perceived no emotion), which is
    non-target evidence unless ``none_label`` is a target class.

    Oddities handled: the literal string ``"None"`` (read as text, never as a
    missing value); each clip's repeated rows (one per annotator) become one
    row with one column per annotator; clip ids are the file stems of the
    ``audio`` column; CREMA-D clips stored as ``1001_SAD_XX_ITS_cremad`` get
    their CREMA-D name (``1001_ITS_SAD_XX``) in ``utterances["crema_d_name"]``.
    An unknown intensity word is an error naming the clip and annotator.

    Parameters
    ----------
    path : str or Path
        ``assessment.csv`` itself or the folder holding it.
    threshold : str, default="A little"
        Weakest intensity that counts as chosen.
    none_label : str or None, default="neutral"
        Label recorded for a rater who chose no emotion (None: leave the cell
        empty, i.e. as if unrated).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (clip id index: ``audio``, ``crema_d_name``, ``notes``,
        ``sentiment`` (mean over raters)), ``annotations`` (rater table with
        columns ``A1``, ``A2``, ``A3``), ``intensities`` (long table of the
        ordinal intensities 0-3 per clip, annotator and emotion), ``classes``.
    """
    if threshold not in ABAW_INTENSITIES[1:]:
        raise ValueError(
            f"threshold={threshold!r}; use one of {list(ABAW_INTENSITIES[1:])}."
        )
    path = Path(os.fspath(path))
    if path.is_dir():
        path = path / "assessment.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"load_abaw: {str(path)!r} does not exist (expected assessment.csv)."
        )
    raw = pd.read_csv(path, keep_default_na=False, dtype=str)
    needed = {"audio", "annotator", *ABAW_EMOTIONS}
    missing = needed - set(raw.columns)
    if missing:
        raise ValueError(
            f"load_abaw: {str(path)!r} lacks the column(s) {sorted(missing)}."
        )
    raw["clip"] = raw["audio"].str.replace(r"^.*[=/]", "", regex=True).str.replace(
        r"\.\w+$", "", regex=True
    )
    raw["rater"] = "A" + raw["annotator"].str.strip()
    level = {name: k for k, name in enumerate(ABAW_INTENSITIES)}
    min_level = level[threshold]
    codes = np.zeros((len(raw), len(ABAW_EMOTIONS)), dtype=int)
    for j, col in enumerate(ABAW_EMOTIONS):
        vals = raw[col].str.strip()
        bad = ~vals.isin(list(level))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"load_abaw: clip {raw['clip'].iat[i]!r}, annotator "
                f"{raw['annotator'].iat[i]!r}: {col}={vals.iat[i]!r} is not one of "
                f"{list(ABAW_INTENSITIES)}."
            )
        codes[:, j] = vals.map(level).to_numpy()
    dup = raw.duplicated(["clip", "rater"])
    if dup.any():
        ser_warn(
            f"load_abaw: {int(dup.sum())} repeated (clip, annotator) row(s) were "
            "left out; the first of each is kept.",
            DroppedRowsWarning,
        )
        raw, codes = raw[~dup.to_numpy()], codes[~dup.to_numpy()]
    clips = pd.unique(raw["clip"])
    raters = sorted(raw["rater"].unique())
    cells = np.empty((len(clips), len(raters)), dtype=object)
    ci = pd.Index(clips).get_indexer(raw["clip"])
    ri = pd.Index(raters).get_indexer(raw["rater"])
    names = list(ABAW_EMOTIONS.values())
    for row in range(len(raw)):
        chosen = np.flatnonzero(codes[row] >= min_level)
        chosen = chosen[np.argsort(-codes[row, chosen], kind="stable")]
        labels = tuple(names[k] for k in chosen)
        if not labels and none_label is not None:
            labels = (none_label,)
        cells[ci[row], ri[row]] = labels or None
    annotations = to_ratings(pd.DataFrame(
        cells, index=pd.Index(clips, name="clip"),
        columns=pd.Index(raters, name="rater"), dtype=object))
    per_clip = raw.groupby("clip", sort=False)
    utterances = pd.DataFrame(index=annotations.index)
    utterances["audio"] = per_clip["audio"].first().reindex(clips).to_numpy()
    utterances["crema_d_name"] = [_crema_name(c) for c in clips]
    if "notes" in raw.columns:
        utterances["notes"] = per_clip["notes"].agg(
            lambda s: "; ".join(v for v in s if v.strip())
        ).reindex(clips).to_numpy()
    if "sentiment" in raw.columns:
        utterances["sentiment"] = per_clip["sentiment"].agg(
            lambda s: pd.to_numeric(s, errors="coerce").mean()
        ).reindex(clips).to_numpy()
    intensities = pd.DataFrame({
        "clip": np.repeat(raw["clip"].to_numpy(), len(names)),
        "rater": np.repeat(raw["rater"].to_numpy(), len(names)),
        "emotion": np.tile(names, len(raw)),
        "intensity": codes.ravel(),
    })
    return Bunch(
        utterances=utterances,
        annotations=annotations,
        intensities=intensities,
        classes=sorted(names),
        threshold=threshold,
        DESCR="earkick ABAW 2023 assessment table: 3 annotators rate six emotions "
        "per clip on None / A little / Moderate / Extremely.",
    )


def _crema_name(clip):
    parts = clip.split("_")
    if len(parts) == 5 and parts[-1] == "cremad":
        actor, emotion, level, sentence = parts[:4]
        return f"{actor}_{sentence}_{emotion}_{level}"
    return None
