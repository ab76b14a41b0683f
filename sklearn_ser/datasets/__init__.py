"""Corpus loaders and a generated corpus.

Each loader returns a :class:`sklearn.utils.Bunch` with ``utterances`` (a
DataFrame indexed by utterance id: audio path or waveform, speaker, gender,
session and whatever else the corpus gives) and ``annotations`` (an
annotation table, a vote-count table or labels), aligned row by row.
"""

from ._abaw import load_abaw
from ._audformat import load_audformat
from ._crema_d import load_crema_d, parse_crema_d_name
from ._emodb import EMODB_SESSIONS, load_emodb
from ._generic import load_corpus, save_corpus
from ._iemocap import load_iemocap
from ._restrict import restrict_speaker_emotions
from ._synthetic import make_emotional_speech

__all__ = [
    "EMODB_SESSIONS",
    "load_abaw",
    "load_audformat",
    "load_corpus",
    "load_crema_d",
    "load_emodb",
    "load_iemocap",
    "make_emotional_speech",
    "parse_crema_d_name",
    "restrict_speaker_emotions",
    "save_corpus",
]
