"""Loader of the Berlin Database of Emotional Speech (EmoDB)."""

from __future__ import annotations

import re

import pandas as pd
from sklearn.utils import Bunch

from .._warnings import ser_warn
from ..annotations import from_long
from ..exceptions import DroppedRowsWarning
from ._base import check_root
from ._restrict import restrict_speaker_emotions

#: EmoDB's emotion letters (German initials) at position 6 of the file name.
EMODB_EMOTIONS = {
    "W": "anger",  # Wut
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}

#: Speaker -> (gender, age) from the corpus documentation.
EMODB_SPEAKERS = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}

#: Five "sessions" of one male and one female speaker each, for
#: leave-one-session-out evaluation in the style of IEMOCAP.
EMODB_SESSIONS = {
    "03": 1, "08": 1,
    "09": 2, "10": 2,
    "11": 3, "13": 3,
    "12": 4, "14": 4,
    "15": 5, "16": 5,
}

_NAME = re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[WLEAFTN])"
                   r"(?P<version>[a-z])$")


def load_emodb(root, *, ratings="ratings.csv", emotions_per_speaker=None,
               random_state=0):
    """Load EmoDB: utterances, intended emotions and any ratings beside them.

    Parameters
    ----------
    root : str or Path
        Folder holding ``wav/`` (files named ``SSTTTEV.wav``: speaker ``SS``,
        text ``TTT``, emotion letter ``E``, version ``V``), and optionally
        ``erkennung.txt`` (the corpus' listening test), ``corpus.csv`` and a
        long ratings table.
    ratings : str or None, default="ratings.csv"
        File name (in ``root``) of a long ``utterance, rater, label`` table.
        When absent (or None) the annotations are the intended emotions.
    emotions_per_speaker : int, default=None
        Keep, for each speaker, only the utterances of this many of the seven
        emotions ("EmoDB-confounded": speaker predicts emotion, as in
        naturalistic corpora; see
        :func:`~sklearn_ser.datasets.restrict_speaker_emotions`). Every
        emotion stays in at least two sessions. None keeps everything.
    random_state : int, default=0
        The draw of the kept emotions (with ``emotions_per_speaker``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (DataFrame indexed by utterance id: ``path``,
        ``speaker``, ``gender``, ``age``, ``session``, ``text``, ``intended``,
        and ``recognition``/``naturalness`` from ``erkennung.txt`` when
        present), ``annotations`` (annotation table, or the intended emotions
        as labels), ``classes`` (the seven emotions), ``raters``, ``source``.

    Examples
    --------
    >>> data = load_emodb("../shared/data/emodb")  # doctest: +SKIP
    >>> data.utterances[["speaker", "session", "intended"]].head(2)  # doctest: +SKIP
    """
    root = check_root(root, "load_emodb", "wav/ (EmoDB's SSTTTEV.wav files)")
    wav_dir = root / "wav"
    if not wav_dir.is_dir():
        raise FileNotFoundError(
            f"load_emodb: no wav/ folder in {str(root)!r}; EmoDB keeps its audio "
            "in <root>/wav/03a01Fa.wav etc."
        )
    rows, skipped = [], []
    for path in sorted(wav_dir.glob("*.wav")):
        m = _NAME.match(path.stem)
        if m is None or m["speaker"] not in EMODB_SPEAKERS:
            skipped.append(path.name)
            continue
        gender, age = EMODB_SPEAKERS[m["speaker"]]
        rows.append({
            "utterance": path.stem,
            "path": str(path),
            "speaker": m["speaker"],
            "gender": gender,
            "age": age,
            "session": EMODB_SESSIONS[m["speaker"]],
            "text": m["text"],
            "intended": EMODB_EMOTIONS[m["emotion"]],
        })
    if skipped:
        ser_warn(
            f"load_emodb: {len(skipped)} file(s) in wav/ do not follow EmoDB's "
            f"SSTTTEV.wav naming and were left out (e.g. {skipped[:3]}).",
            DroppedRowsWarning,
        )
    if not rows:
        raise FileNotFoundError(
            f"load_emodb: no EmoDB wav file (e.g. 03a01Fa.wav) in {str(wav_dir)!r}."
        )
    utterances = pd.DataFrame(rows).set_index("utterance")
    listening = root / "erkennung.txt"
    if listening.exists():
        test = pd.read_csv(listening, sep="\t", encoding="latin-1", dtype=str)
        test.columns = [c.strip() for c in test.columns]
        for col in ("erkannt", "natuerlich"):
            test[col] = pd.to_numeric(
                test[col].str.strip().str.replace(",", ".", regex=False),
                errors="coerce",
            )
        test["utterance"] = test["Satz"].astype(str).str.strip().str.replace(
            ".wav", "", regex=False
        )
        test = test.set_index("utterance")
        utterances["recognition"] = test["erkannt"].reindex(utterances.index) / 100
        utterances["naturalness"] = test["natuerlich"].reindex(utterances.index) / 100
    source = "intended emotions (no ratings file)"
    raters: list = []
    annotations = utterances["intended"].rename("label")
    if ratings is not None and (root / ratings).exists():
        long = pd.read_csv(root / ratings)
        # EmoDB-crowd raters may choose several emotions: several rows
        table = from_long(long, item="utterance", rater="rater", label="label",
                          multiple="choices")
        unknown = table.index.difference(utterances.index)
        if len(unknown):
            ser_warn(
                f"load_emodb: {len(unknown)} rated utterance(s) have no wav file and "
                f"were left out (e.g. {list(unknown[:3])}).",
                DroppedRowsWarning,
            )
        annotations = table.reindex(utterances.index)
        annotations.index.name = "utterance"
        raters = list(table.ratings.raters)
        source = str(root / ratings)
    data = Bunch(
        utterances=utterances,
        annotations=annotations,
        classes=sorted(EMODB_EMOTIONS.values()),
        raters=raters,
        source=source,
        DESCR="EmoDB (Burkhardt et al. 2005): 10 speakers, 7 emotions, 16 kHz "
        "originally; sessions are speaker pairs (03,08) (09,10) (11,13) (12,14) "
        "(15,16).",
    )
    if emotions_per_speaker is not None:
        data = restrict_speaker_emotions(data, emotions_per_speaker,
                                         random_state=random_state)
    return data
