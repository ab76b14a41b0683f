"""Loader of IEMOCAP (Busso et al. 2008) from its released directory layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._warnings import ser_warn
from ..annotations import check_names, normalize_label, to_ratings
from ..exceptions import DroppedRowsWarning
from ._base import check_root

_SUMMARY = re.compile(
    r"^\[(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\]\s+(?P<utt>\S+)\s+(?P<label>\S+)"
    r"\s+\[(?P<v>[\d.]+),\s*(?P<a>[\d.]+),\s*(?P<d>[\d.]+)\]"
)
_CATEGORICAL = re.compile(r"^C-(?P<rater>[A-Z]+\d+):\s*(?P<labels>[^(]*)")
_UTT = re.compile(r"^(?P<speaker>Ses\d\d)[FM]_(?P<dialog>.+)_(?P<gender>[FM])\d+$")

#: The summary line's three-letter labels.
IEMOCAP_SUMMARY_LABELS = {
    "neu": "neutral",
    "hap": "happiness",
    "sad": "sadness",
    "ang": "anger",
    "exc": "excitement",
    "fru": "frustration",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "oth": "other",
    "xxx": None,  # the evaluators did not agree
}


def load_iemocap(root, *, sessions=None, improvised_only=False, self_reports=True,
                 merge_labels=False):
    """Load IEMOCAP's utterances and per-evaluator categorical labels.

    Reads ``Session*/dialog/EmoEvaluation/*.txt``: for each utterance the
    summary line ``[start - end] TURN label [V, A, D]`` and the per-evaluator
    lines ``C-E2: Neutral; ()`` (evaluators ``E*``) and ``C-F1:``/``C-M1:``
    (the actors, whose rating of their own turn is a self-report). Several
    labels on one line (``C-E1: Frustration; Anger; ()``) are kept in order.

    Parameters
    ----------
    root : str or Path
        ``IEMOCAP_full_release`` (the folder holding ``Session1`` ...
        ``Session5``).
    sessions : int or iterable of int, default=None
        Sessions to read (default: every ``Session<k>`` folder present); each
        once.
    improvised_only : bool, default=False
        Keep only improvised dialogues (Ando et al. use these).
    self_reports : bool, default=True
        Keep the actors' ``C-F*``/``C-M*`` ratings as raters (Chou & Lee count
        them among an utterance's annotators). Their columns are listed in
        ``actor_raters``; ``utterances["self_rater"]`` names the column that
        holds the speaker's own rating.
    merge_labels : bool, default=False
        Apply ``label_map`` to the annotations: excitement counts as
        happiness, as in the papers' four classes (a rater who chose both
        chose happiness once). Without it the labels are as written and a
        target encoder applies the map (``label_map="iemocap"``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (indexed by turn name: ``path`` to
        ``sentences/wav/<dialog>/<turn>.wav``, ``speaker`` (e.g. ``Ses01F``),
        ``gender``, ``session``, ``dialog``, ``improvised``, ``start``,
        ``end``, ``corpus_label`` (the summary label, NaN for ``xxx``),
        ``valence``, ``activation``, ``dominance``, ``self_rater``),
        ``annotations`` (rater table: ``E1`` ... and ``F1``/``M1`` ...),
        ``evaluator_raters``, ``actor_raters``, ``classes`` (the usual four),
        ``label_map`` (``{"excitement": "happiness"}``).
    """
    root = check_root(root, "load_iemocap", "Session1 ... Session5")
    if sessions is None:
        session_dirs = sorted(p for p in root.glob("Session*") if p.is_dir())
    else:
        session_dirs = [root / f"Session{k}" for k in _session_numbers(sessions)]
        for p in session_dirs:
            if not p.is_dir():
                raise FileNotFoundError(f"load_iemocap: {str(p)!r} does not exist.")
    if not session_dirs:
        raise FileNotFoundError(
            f"load_iemocap: no Session<k> folder in {str(root)!r}; pass the "
            "IEMOCAP_full_release folder."
        )
    rows, ratings = [], {}
    n_files = 0
    for sdir in session_dirs:
        session = int(re.sub(r"\D", "", sdir.name) or 0)
        for txt in sorted((sdir / "dialog" / "EmoEvaluation").glob("*.txt")):
            n_files += 1
            _parse_evaluation(txt, sdir, session, rows, ratings)
    if not rows:
        raise FileNotFoundError(
            f"load_iemocap: no utterance found in {n_files} EmoEvaluation file(s) "
            f"under {str(root)!r} (expected Session*/dialog/EmoEvaluation/*.txt)."
        )
    utterances = pd.DataFrame(rows).set_index("utterance")
    if utterances.index.has_duplicates:
        dup = utterances.index[utterances.index.duplicated()][:3]
        raise ValueError(f"load_iemocap: utterance(s) described twice: {list(dup)}.")
    if improvised_only:
        utterances = utterances[utterances["improvised"]]
    raters = sorted({r for per in ratings.values() for r in per}, key=_rater_key)
    if not self_reports:
        raters = [r for r in raters if r.startswith("E")]
    cells = np.empty((len(utterances), len(raters)), dtype=object)
    col = {r: j for j, r in enumerate(raters)}
    for i, utt in enumerate(utterances.index):
        for r, labels in ratings.get(utt, {}).items():
            if r in col:
                cells[i, col[r]] = labels
    annotations = to_ratings(pd.DataFrame(
        cells, index=utterances.index, columns=pd.Index(raters, name="rater"),
        dtype=object,
    ))
    label_map = {"excitement": "happiness"}
    if merge_labels:
        annotations = annotations.ratings.map_labels(
            lambda label: label_map.get(normalize_label(label), normalize_label(label)))
    return Bunch(
        utterances=utterances,
        annotations=annotations,
        evaluator_raters=[r for r in raters if r.startswith("E")],
        actor_raters=[r for r in raters if not r.startswith("E")],
        classes=["anger", "happiness", "neutral", "sadness"],
        label_map=label_map,
        DESCR="IEMOCAP (Busso et al. 2008): 5 sessions of two actors, per-evaluator "
        "categorical labels (several choices allowed).",
    )


def _rater_key(name):
    m = re.match(r"([A-Z]+)(\d+)", name)
    return (0 if name.startswith("E") else 1, m.group(1), int(m.group(2))) if m else (
        2, name, 0)


def _parse_evaluation(txt: Path, sdir: Path, session, rows, ratings):
    current = None
    skipped = 0
    with open(txt, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("["):
                m = _SUMMARY.match(line)
                if m is None:
                    skipped += 1
                    current = None
                    continue
                utt = m["utt"]
                um = _UTT.match(utt)
                if um is None:
                    skipped += 1
                    current = None
                    continue
                dialog = utt.rsplit("_", 1)[0]
                label = m["label"].lower()
                rows.append({
                    "utterance": utt,
                    "path": str(sdir / "sentences" / "wav" / dialog / f"{utt}.wav"),
                    "speaker": um["speaker"] + um["gender"],
                    "gender": "female" if um["gender"] == "F" else "male",
                    "session": session,
                    "dialog": dialog,
                    "improvised": "impro" in dialog,
                    "start": float(m["start"]),
                    "end": float(m["end"]),
                    "corpus_label": IEMOCAP_SUMMARY_LABELS.get(label, label),
                    "valence": float(m["v"]),
                    "activation": float(m["a"]),
                    "dominance": float(m["d"]),
                    "self_rater": f"{um['gender']}1",
                })
                current = utt
                ratings[current] = {}
                continue
            if current is None:
                continue
            c = _CATEGORICAL.match(line)
            if c:
                labels = tuple(
                    p.strip() for p in c["labels"].split(";") if p.strip()
                )
                if labels:
                    ratings[current][c["rater"]] = labels
    if skipped:
        ser_warn(
            f"load_iemocap: {skipped} summary line(s) of {txt.name} could not be "
            "read and were left out.",
            DroppedRowsWarning,
        )


def _session_numbers(sessions):
    """``sessions`` as distinct session numbers: one int, or a list of ints
    (or of their digits as strings); a string is refused rather than read as
    its characters ("12" was sessions 1 and 2)."""
    import numbers

    if isinstance(sessions, numbers.Integral) and not isinstance(sessions, bool):
        sessions = [sessions]
    out = []
    for s in check_names(sessions, "sessions", "load_iemocap", labels=False):
        if isinstance(s, bool) or not (isinstance(s, numbers.Integral) or (
                isinstance(s, str) and s.strip().isdigit())):
            raise ValueError(f"load_iemocap: sessions holds {s!r}; give session "
                             "numbers, e.g. sessions=[1, 2, 3].")
        out.append(int(s))
    # a session read twice would read its utterances twice
    return check_names(out, "sessions", "load_iemocap", unique=True, labels=False)
