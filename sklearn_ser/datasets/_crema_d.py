"""Loader of CREMA-D (Cao et al. 2014), per-rater responses or tabulated votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._warnings import ser_warn
from ..annotations import from_long
from ..exceptions import DroppedRowsWarning
from ._base import check_root

#: CREMA-D's response letters.
CREMA_D_LETTERS = {
    "A": "anger",
    "D": "disgust",
    "F": "fear",
    "H": "happiness",
    "N": "neutral",
    "S": "sadness",
}
#: Three-letter emotion codes in the clip names.
CREMA_D_CODES = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_MODALITIES = {"voice": 1, "face": 2, "audio-visual": 3}


def parse_crema_d_name(name):
    """Split a clip name ``ACTOR_SENTENCE_EMOTION_LEVEL`` into its fields.

    Examples
    --------
    >>> parse_crema_d_name("1001_IEO_HAP_LO")
    {'actor': '1001', 'sentence': 'IEO', 'intended': 'happiness', 'level': 'low'}
    """
    parts = str(name).split("_")
    if len(parts) != 4 or parts[2] not in CREMA_D_CODES or parts[3] not in _LEVELS:
        raise ValueError(
            f"CREMA-D clip name {name!r} does not follow ACTOR_SENTENCE_EMOTION_LEVEL "
            "(e.g. 1001_IEO_HAP_LO)."
        )
    return {
        "actor": parts[0],
        "sentence": parts[1],
        "intended": CREMA_D_CODES[parts[2]],
        "level": _LEVELS[parts[3]],
    }


def load_crema_d(root, *, modality="voice", source="auto"):
    """Load CREMA-D's clips and their crowd ratings for one modality.

    Parameters
    ----------
    root : str or Path
        The CREMA-D repository folder: ``finishedResponses.csv`` (per-rater
        answers), ``processedResults/tabulatedVotes.csv`` (vote counts),
        ``VideoDemographics.csv`` and ``AudioWAV/`` when present.
    modality : {"voice", "face", "audio-visual"}, default="voice"
        Which presentation's ratings to keep (CREMA-D's ``queryType`` 1, 2, 3;
        in ``tabulatedVotes.csv`` the row name // 100000).
    source : {"auto", "responses", "votes"}, default="auto"
        ``"auto"`` reads the per-rater ``finishedResponses.csv`` when present,
        otherwise the tabulated vote counts.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (indexed by clip name: ``path`` to ``AudioWAV/<clip>.wav``,
        ``speaker`` (actor), ``gender``, ``age``, ``race``, ``ethnicity``,
        ``sentence``, ``intended``, ``level``, ``corpus_vote`` (CREMA-D's own
        ``emoVote`` when read from the votes)), ``annotations`` (a rater table
        from the responses, or a vote-count table with one column per emotion),
        ``classes``, ``source``, ``modality``.
    """
    if modality not in _MODALITIES:
        raise ValueError(
            f"modality={modality!r}; use one of {sorted(_MODALITIES)}."
        )
    if source not in {"auto", "responses", "votes"}:
        raise ValueError(f"source={source!r}; use 'auto', 'responses' or 'votes'.")
    root = check_root(
        root, "load_crema_d",
        "finishedResponses.csv or processedResults/tabulatedVotes.csv",
    )
    responses = root / "finishedResponses.csv"
    votes_path = root / "processedResults" / "tabulatedVotes.csv"
    use_responses = source == "responses" or (source == "auto" and responses.exists())
    if use_responses and not responses.exists():
        raise FileNotFoundError(
            f"load_crema_d: {str(responses)!r} does not exist; use source='votes' "
            "to read processedResults/tabulatedVotes.csv instead."
        )
    if not use_responses and not votes_path.exists():
        raise FileNotFoundError(
            f"load_crema_d: neither finishedResponses.csv nor "
            f"processedResults/tabulatedVotes.csv is in {str(root)!r}."
        )
    code = _MODALITIES[modality]
    corpus_vote = None
    if use_responses:
        annotations = _read_responses(responses, code)
        clips = list(annotations.index)
        used = str(responses)
    else:
        votes = pd.read_csv(votes_path, index_col=0)
        votes = votes[(votes.index.astype(np.int64) // 100000) == code]
        votes = votes.set_index("fileName")
        votes.index.name = "clip"
        annotations = votes[list(CREMA_D_LETTERS)].rename(columns=CREMA_D_LETTERS)
        corpus_vote = votes["emoVote"]
        clips = list(votes.index)
        used = str(votes_path)
    utterances = _clip_table(root, clips)
    if corpus_vote is not None:
        utterances["corpus_vote"] = corpus_vote.reindex(utterances.index)
    return Bunch(
        utterances=utterances,
        annotations=annotations.loc[utterances.index],
        classes=sorted(CREMA_D_LETTERS.values()),
        source=used,
        modality=modality,
        DESCR="CREMA-D (Cao et al. 2014): 91 actors, 6 emotions, crowd ratings "
        "per modality (voice, face, audio-visual).",
    )


def _read_responses(path, code):
    resp = pd.read_csv(path)
    needed = {"localid", "queryType", "clipName"}
    missing = needed - set(resp.columns)
    if missing:
        raise ValueError(
            f"load_crema_d: {str(path)!r} lacks the column(s) {sorted(missing)}; "
            "finishedResponses.csv has localid, queryType, clipName and respEmo "
            "(or ans)."
        )
    resp = resp[resp["queryType"] == code]
    if "respEmo" in resp.columns:
        letters = resp["respEmo"].astype(str).str.strip()
    elif "ans" in resp.columns:
        letters = resp["ans"].astype(str).str.split("_").str[0].str.strip()
    else:
        raise ValueError(
            f"load_crema_d: {str(path)!r} has neither respEmo nor ans; cannot read "
            "the chosen emotions."
        )
    bad = ~letters.isin(list(CREMA_D_LETTERS))
    if bad.any():
        ser_warn(
            f"load_crema_d: {int(bad.sum())} response(s) hold no emotion letter "
            f"A/D/F/H/N/S (e.g. {letters[bad].iloc[0]!r}) and were left out.",
            DroppedRowsWarning,
        )
    long = pd.DataFrame({
        "clip": resp["clipName"].astype(str).str.strip(),
        "rater": resp["localid"].astype(str),
        "label": letters.map(CREMA_D_LETTERS),
    })[~bad.to_numpy()]
    return from_long(long, item="clip", rater="rater", label="label")


def _clip_table(root, clips):
    rows, bad = [], []
    for clip in clips:
        try:
            info = parse_crema_d_name(clip)
        except ValueError:
            bad.append(clip)
            continue
        rows.append({"clip": clip, "path": str(root / "AudioWAV" / f"{clip}.wav"),
                     **info})
    if bad:
        ser_warn(
            f"load_crema_d: {len(bad)} clip name(s) do not follow "
            f"ACTOR_SENTENCE_EMOTION_LEVEL and were left out (e.g. {bad[:3]}).",
            DroppedRowsWarning,
        )
    table = pd.DataFrame(rows).set_index("clip")
    table["speaker"] = table["actor"]
    demo_path = root / "VideoDemographics.csv"
    if demo_path.exists():
        demo = pd.read_csv(demo_path, dtype={"ActorID": str}).set_index("ActorID")
        table["gender"] = demo["Sex"].str.lower().reindex(table["actor"]).to_numpy()
        table["age"] = demo["Age"].reindex(table["actor"]).to_numpy()
        table["race"] = demo["Race"].reindex(table["actor"]).to_numpy()
        table["ethnicity"] = demo["Ethnicity"].reindex(table["actor"]).to_numpy()
    return table.drop(columns="actor")
