"""Neural sequence estimators (skorch + torch) and the papers' meta-estimators.

* :class:`BLSTMAttentionClassifier`: Dense-BLSTM-attention-Dense (Chou & Lee;
  Fujioka et al.'s sizes by parameters);
* :class:`CNNBLSTMClassifier`: CNN+BLSTM+self-attention on spectrograms
  (Ando et al.);
* :class:`SUPERBHeadClassifier`: SUPERB's weighted layer sum, projection and
  mean pooling on frozen self-supervised features;
* :class:`StackedAnnotatorClassifier`: crowd and individual-rater models,
  frozen and fused (Chou & Lee 2019);
* :class:`MLEEFusionClassifier`: multi-label emotion existence pre-training
  and fusion (Ando et al. 2019);
* :class:`NoisyLabelMetaClassifier`: learned label correction and sample
  weights (Fujioka et al. 2020);
* :class:`SeedEnsembleClassifier`: the mean probability of copies of one
  classifier trained with different seeds;
* :class:`EveryRatingClassifier`: any scikit-learn classifier trained from
  every rating (vote shares, ratings or aggregation posteriors as weighted
  samples, refined by learning from crowds);
* :class:`LateFusionClassifier`: the averaged probabilities of classifiers
  that make their own features (functionals + linear model, frames + BLSTM).
"""

from ..exceptions import (
    AbsentClassWarning,
    InnerSplitWarning,
    NoRaterModelWarning,
    RareClassWarning,
)
from ._base import SequenceClassifier
from ._ensemble import SeedEnsembleClassifier
from ._estimators import (
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    SUPERBHeadClassifier,
)
from ._every_rating import EveryRatingClassifier
from ._fusion import FrozenFusionClassifier
from ._late_fusion import LateFusionClassifier
from ._mlee import MLEEFusionClassifier
from ._noisy import NoisyLabelMetaClassifier
from ._stacked import StackedAnnotatorClassifier

__all__ = [
    "AbsentClassWarning",
    "BLSTMAttentionClassifier",
    "CNNBLSTMClassifier",
    "EveryRatingClassifier",
    "FrozenFusionClassifier",
    "InnerSplitWarning",
    "LateFusionClassifier",
    "MLEEFusionClassifier",
    "NoRaterModelWarning",
    "NoisyLabelMetaClassifier",
    "RareClassWarning",
    "SeedEnsembleClassifier",
    "SUPERBHeadClassifier",
    "SequenceClassifier",
    "StackedAnnotatorClassifier",
]
