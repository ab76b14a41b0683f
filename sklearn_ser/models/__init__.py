"""Estimators: the neural sequence estimators, the papers' meta-estimators,
and models that train any scikit-learn classifier from every rating.

Networks (torch + skorch, loaded on first use):

* :class:`BLSTMAttentionClassifier`: Dense-BLSTM-attention-Dense (Chou & Lee;
  Fujioka et al.'s sizes by parameters);
* :class:`CNNBLSTMClassifier`: CNN+BLSTM+self-attention on spectrograms
  (Ando et al.);
* :class:`SUPERBHeadClassifier`: SUPERB's weighted layer sum, projection and
  mean pooling on frozen self-supervised features;
* :class:`FrozenFusionClassifier`: a new classifier on frozen, fitted
  encoders (the second stage of the meta-estimators).

The papers' meta-estimators:

* :class:`StackedAnnotatorClassifier`: crowd and individual-rater models,
  frozen and fused (Chou & Lee 2019);
* :class:`MLEEFusionClassifier`: multi-label emotion existence pre-training
  and fusion (Ando et al. 2019);
* :class:`NoisyLabelMetaClassifier`: learned label correction and sample
  weights (Fujioka et al. 2020).

Any scikit-learn classifier (no torch needed):

* :class:`EveryRatingClassifier`: trained from every rating (vote shares,
  ratings or aggregation posteriors as weighted samples, refined by learning
  from crowds);
* :class:`LateFusionClassifier`: the averaged probabilities of classifiers
  that make their own features (functionals + linear model, frames + BLSTM);
  :func:`combine_probabilities` its rule (arithmetic or geometric mean);
* :class:`SeedEnsembleClassifier`: the mean probability of copies of one
  classifier trained with different seeds.

Layout: ``_nn/`` network internals (torch modules, data, losses, the skorch
net and its callbacks); ``_sequence/`` ``SequenceClassifier`` and one file
per network; ``_meta/`` one file per paper's meta-estimator and their shared
``base``; ``_every_rating.py``, ``_late_fusion.py``, ``_seed_ensemble.py``
the torch-free estimators; ``_inputs.py`` inputs and target encoders by
name; ``_docstrings.py`` the shared parameter documentation.
"""

from ..exceptions import (
    AbsentClassWarning,
    InnerSplitWarning,
    NoRaterModelWarning,
    RareClassWarning,
)
from ._every_rating import EveryRatingClassifier
from ._late_fusion import LateFusionClassifier, combine_probabilities
from ._seed_ensemble import SeedEnsembleClassifier

#: The estimators that need torch, imported on first use: the torch-free
#: ones above (any scikit-learn model from every rating, late fusion, seed
#: ensembles of any classifier) load without torch, skorch and their
#: start-up time.
_NETWORKS = {
    "SequenceClassifier": "._sequence.base",
    "BLSTMAttentionClassifier": "._sequence.blstm_attention",
    "CNNBLSTMClassifier": "._sequence.cnn_blstm",
    "SUPERBHeadClassifier": "._sequence.superb_head",
    "FrozenFusionClassifier": "._sequence.fusion_head",
    "StackedAnnotatorClassifier": "._meta.stacked",
    "MLEEFusionClassifier": "._meta.mlee_fusion",
    "NoisyLabelMetaClassifier": "._sequence.noisy_label",
    "save_model": "._bundle",
    "load_model": "._bundle",
    "check_bundle": "._bundle",
    "predict_distribution": "._distribution",
}


def __getattr__(name):
    if name in _NETWORKS:
        import importlib

        value = getattr(importlib.import_module(_NETWORKS[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "BLSTMAttentionClassifier",
    "CNNBLSTMClassifier",
    "EveryRatingClassifier",
    "FrozenFusionClassifier",
    "LateFusionClassifier",
    "MLEEFusionClassifier",
    "NoisyLabelMetaClassifier",
    "SeedEnsembleClassifier",
    "SUPERBHeadClassifier",
    "SequenceClassifier",
    "StackedAnnotatorClassifier",
    "check_bundle",
    "combine_probabilities",
    "predict_distribution",
]
