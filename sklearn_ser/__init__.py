"""sklearn-ser: speech emotion recognition that learns from every rating.

Sub-packages
------------
annotations
    Annotation tables and the targets built from them (hard, soft, existence,
    per-rater).
metrics
    UAR, WA, per-class reports and scorers for ``cross_validate``.
datasets
    Loaders for IEMOCAP, CREMA-D, EmoDB, ABAW and a generated corpus.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
