"""sklearn-ser: speech emotion recognition that learns from every rating.

Sub-packages
------------
annotations
    Ratings at crowd scale (``from_long``) and the targets built from them:
    hard, soft, existence, per-rater, Dawid-Skene and other aggregation models.
features
    openSMILE frames and functionals, log spectrograms, speaker
    normalisation, frame pooling, speed perturbation.
models
    BLSTM and CNN-BLSTM sequence classifiers (skorch), the three papers'
    meta-estimators, seed ensembles and ``EveryRatingClassifier`` for any
    scikit-learn classifier.
metrics
    UAR, WA, per-class reports and scorers for ``cross_validate``.
datasets
    Loaders for IEMOCAP, CREMA-D, EmoDB, ABAW, corpus folders (any audio
    format), audformat databases and a generated corpus.
experiments
    The protocols of ``sklearn-ser benchmark``: leave-one-group-out within a
    corpus and across corpora (one record per compared method, the runner,
    the intervals and paired tests, the report) and the command line.
plotting
    Confusion matrices, per-class recall, agreement, attention and the
    noisy-label model's weights.

Top level
---------
save_model, load_model
    A fitted model as a folder that loads without unpickling anything
    (skops for the scikit-learn parts, safetensors for the networks).

Modules
-------
exceptions
    The warnings and errors of the toolkit (all ``SERWarning``) and
    ``summed_warnings``.
"""

from ._moved import install as _install_moved
from ._version import __version__

__all__ = ["__version__", "load_model", "save_model"]

#: Names of the sub-packages offered at the top, imported on first use.
_LAZY = {"save_model": "sklearn_ser.models", "load_model": "sklearn_ser.models"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_install_moved()  # an old pickle's module gets a message, not a bare error
