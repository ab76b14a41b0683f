"""Corpora whose speakers show only a few emotions, derived from any corpus.

In many naturalistic corpora (talk shows, podcasts, call centres) a speaker is
recorded in one mood: speaker and emotion are confounded. Acted corpora such
as EmoDB are the opposite (every speaker acts every emotion), and a default
tuned on them can fail on the former. :func:`restrict_speaker_emotions` turns
an acted corpus into a confounded one for development and tests.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state


def restrict_speaker_emotions(data, emotions_per_speaker=2, *, column="intended",
                              speaker_column="speaker", group_column="session",
                              random_state=0, n_candidates=100,
                              max_tries=10_000):
    """Keep, for each speaker, only the utterances of a few of their emotions.

    Every emotion stays in the corpus, kept by speakers of at least two groups
    (sessions) where the corpus has that many, so that every
    leave-one-group-out training fold still holds every emotion. Among
    ``n_candidates`` random draws that satisfy this, the one whose rarest
    emotion keeps the most utterances is taken.

    Parameters
    ----------
    data : Bunch
        With ``utterances`` (a ``column`` of emotions and a ``speaker_column``)
        and ``annotations`` aligned with it; other list-like entries aligned
        with the utterances are left as they are.
    emotions_per_speaker : int, default=2
        Emotions kept per speaker (a speaker with fewer keeps all of theirs).
    column : str, default="intended"
        The emotion each utterance was meant to show.
    speaker_column, group_column : str
        ``group_column`` may be absent (then speakers are the groups).
    random_state : int, RandomState or None, default=0
    n_candidates : int, default=100
        Valid draws compared.
    max_tries : int, default=10000
        Random draws tried before giving up on the "two groups" condition.

    Returns
    -------
    data : Bunch
        A copy with the kept ``utterances`` and ``annotations``, plus
        ``speaker_emotions`` (speaker -> kept emotions) and a ``DESCR`` line.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.utils import Bunch
    >>> u = pd.DataFrame({"speaker": list("aaabbbccc"),
    ...                   "session": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                   "intended": list("xyzxyzxyz")})
    >>> out = restrict_speaker_emotions(Bunch(utterances=u, annotations=u.intended),
    ...                                 2, random_state=0)
    >>> len(out.utterances), sorted(map(len, out.speaker_emotions.values()))
    (6, [2, 2, 2])
    """
    if (not isinstance(emotions_per_speaker, numbers.Integral)
            or emotions_per_speaker < 1):
        raise ValueError("emotions_per_speaker must be an integer >= 1, got "
                         f"{emotions_per_speaker!r}.")
    u = data.utterances
    for col in (column, speaker_column):
        if col not in u.columns:
            raise ValueError(f"restrict_speaker_emotions: no {col!r} column in the "
                             f"utterances (columns: {list(u.columns)}).")
    rng = check_random_state(random_state)
    groups = u[group_column] if group_column in u.columns else u[speaker_column]
    speakers = sorted(u[speaker_column].dropna().unique().tolist(), key=str)
    own = {s: sorted(u.loc[u[speaker_column] == s, column].dropna().unique(),
                     key=str) for s in speakers}
    group_of = {s: groups[u[speaker_column] == s].iloc[0] for s in speakers}
    emotions = sorted(u[column].dropna().unique(), key=str)
    # each emotion in two groups, or in as many as it had
    need = {e: min(2, len({group_of[s] for s in speakers if e in own[s]}))
            for e in emotions}

    def draw():
        return {s: sorted(rng.choice(own[s], size=min(emotions_per_speaker,
                                                      len(own[s])),
                                     replace=False).tolist(), key=str)
                for s in speakers}

    size = u.groupby([speaker_column, column]).size().to_dict()

    def balance(cand):  # fewest utterances of any emotion, then most kept
        per = {e: sum(size.get((s, e), 0) for s in speakers if e in cand[s])
               for e in emotions}
        return min(per.values()), sum(per.values())

    choice, valid = None, 0
    for _ in range(max_tries):
        cand = draw()
        spread = {e: {group_of[s] for s in speakers if e in cand[s]}
                  for e in emotions}
        if all(len(g) >= need[e] for e, g in spread.items()):
            if choice is None or balance(cand) > balance(choice):
                choice = cand
            valid += 1
            if valid >= n_candidates:
                break
    if choice is None:
        raise ValueError(
            f"restrict_speaker_emotions: no draw of {emotions_per_speaker} "
            f"emotion(s) per speaker keeps each of {emotions} in two groups of "
            f"{group_column!r} (or all it had; {max_tries} tries); keep more "
            "emotions per speaker."
        )
    keep = np.array([e in choice[s] for s, e in zip(u[speaker_column], u[column],
                                                    strict=True)])
    out = Bunch(**{k: v for k, v in data.items()})
    out.utterances = u[keep].copy()
    ann = data.annotations
    if isinstance(ann, pd.DataFrame | pd.Series):
        out.annotations = ann[keep].copy()
    else:
        out.annotations = np.asarray(ann)[keep]
    out.speaker_emotions = choice
    out.DESCR = (f"{getattr(data, 'DESCR', 'corpus')} Restricted to "
                 f"{emotions_per_speaker} emotion(s) per speaker "
                 f"(restrict_speaker_emotions, random_state={random_state!r}): "
                 f"{int(keep.sum())} of {len(u)} utterances kept.")
    return out
