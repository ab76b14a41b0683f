"""Predicted rating distributions, and what kind of distribution a model
predicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator

from ._every_rating import EveryRatingClassifier
from ._late_fusion import LateFusionClassifier
from ._seed_ensemble import SeedEnsembleClassifier

#: What a model's probabilities are, by how it was trained.
KINDS = {
    "vote shares": "the predicted share of the raters' votes per class (trained "
                   "on every rating: soft targets or the raters' votes)",
    "majority": "the probability of each class being the majority label "
                "(trained on hard labels)",
    "existence": "each class' probability of being chosen by some rater "
                 "(trained on existence targets), scaled to sum to 1",
    "mixed": "a fusion of models trained on different targets",
}


def _last(estimator):
    while hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    return (estimator.estimator if isinstance(estimator, FrozenEstimator)
            else estimator)


def distribution_kind(estimator):
    """``"vote shares"``, ``"majority"``, ``"existence"`` or ``"mixed"``: what
    the fitted ``estimator``'s ``predict_proba`` estimates (:data:`KINDS`)."""
    model = _last(estimator)
    if isinstance(model, EveryRatingClassifier):
        return "vote shares"
    if isinstance(model, SeedEnsembleClassifier | LateFusionClassifier):
        kinds = {distribution_kind(m) for m in model.estimators_}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    for part in ("final_", "fused_"):  # a meta-estimator predicts with its head
        if getattr(model, part, None) is not None and hasattr(
                getattr(model, part), "target_kind_"):
            model = getattr(model, part)
            break
    kind = getattr(model, "target_kind_", "hard")
    return {"soft": "vote shares", "existence": "existence"}.get(kind, "majority")


def predict_distribution(estimator, X):
    """The predicted distribution of the ratings of each utterance.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : what ``estimator`` predicts from

    Returns
    -------
    DataFrame
        One column per class (``estimator.classes_``), rows summing to 1
        (existence probabilities are scaled to), indexed by the utterances
        of ``X`` when it is a table; ``attrs["distribution"]`` says what the
        values are (:func:`distribution_kind`: ``"vote shares"`` for a model
        trained on every rating, ``"majority"`` for one trained on hard
        labels, ...) and ``attrs["meaning"]`` says so in words.
    """
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    total = proba.sum(axis=1, keepdims=True)
    proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / proba.shape[1]),
                      where=total > 0)
    index = X.index if isinstance(X, pd.DataFrame) else None
    out = pd.DataFrame(proba, columns=[str(c) for c in estimator.classes_],
                       index=index)
    kind = distribution_kind(estimator)
    out.attrs["distribution"] = kind
    out.attrs["meaning"] = KINDS[kind]
    return out
