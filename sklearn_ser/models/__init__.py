"""Neural sequence estimators (skorch + torch) and the papers' meta-estimators.

* :class:`BLSTMAttentionClassifier`: Dense-BLSTM-attention-Dense (Chou & Lee;
  Fujioka et al.'s sizes by parameters);
* :class:`CNNBLSTMClassifier`: CNN+BLSTM+self-attention on spectrograms
  (Ando et al.).

Each learns from hard, soft or existence targets built from the ratings.
"""

from ._base import AbsentClassWarning, InnerSplitWarning, SequenceClassifier
from ._estimators import BLSTMAttentionClassifier, CNNBLSTMClassifier

__all__ = [
    "AbsentClassWarning",
    "BLSTMAttentionClassifier",
    "CNNBLSTMClassifier",
    "InnerSplitWarning",
    "SequenceClassifier",
]
