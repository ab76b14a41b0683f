"""Shared pieces of the meta-estimators."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted

from ..annotations import HardLabels
from ..annotations._table import align_annotations
from ._base import as_input, sequences_from


def fit_quietly(estimator, X, y, groups=None):
    """Fit a component, keeping its DroppedRowsWarnings for one summary.

    The messages go to ``estimator.dropped_rows_`` (they travel with the
    component out of a parallel worker); :func:`report_dropped` gives the
    meta-estimator's one warning with the counts.
    """
    from ..exceptions import DroppedRowsWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DroppedRowsWarning)
        fitted = estimator.fit(X, y, groups=groups)
    kept = []
    for w in caught:
        if issubclass(w.category, DroppedRowsWarning):
            kept.append(str(w.message))
        else:  # any other warning is the user's to see
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    fitted.dropped_rows_ = kept
    return fitted


def report_dropped(meta, components):
    """One DroppedRowsWarning naming every component that left rows out."""
    from .._warnings import user_stacklevel
    from ..exceptions import DroppedRowsWarning

    parts = [f"{name}: {' '.join(msgs)}" for name, est in components.items()
             if (msgs := getattr(est, "dropped_rows_", None))]
    if parts:
        warnings.warn(
            f"{type(meta).__name__}: {len(parts)} of {len(components)} component(s) "
            "trained without some utterances. " + " | ".join(parts),
            DroppedRowsWarning,
            stacklevel=user_stacklevel(),
        )


def with_params(estimator, **params):
    """A clone of ``estimator`` with the parameters it has set."""
    est = clone(estimator)
    valid = est.get_params(deep=False)
    est.set_params(**{k: v for k, v in params.items() if k in valid})
    return est


def frozen_fusion(base, encoders, target, classes, *, hidden_units, lr, seed):
    """The second-stage classifier, trained like ``base`` (batch size, epochs,
    early stopping, optimizer, device) but at its own learning rate."""
    from ._fusion import FrozenFusionClassifier

    inherited = ("optimizer", "batch_size", "max_epochs", "patience", "monitor",
                 "validation_fraction", "device")
    params = {k: v for k, v in base.get_params(deep=False).items() if k in inherited}
    return FrozenFusionClassifier(encoders=encoders, target=target, classes=classes,
                                  hidden_units=hidden_units, lr=lr,
                                  random_state=int(seed), **params)


def component_scores(models, X, y, classes, label_map=None):
    """UAR and per-class recall of each fitted model against the hard majority."""
    y = align_annotations(X, y)
    enc = HardLabels(classes, label_map=label_map).fit(y)
    truth = enc.transform(y)
    keep = truth.notna().to_numpy()
    idx = np.flatnonzero(keep)
    X_kept = X.iloc[idx] if isinstance(X, pd.DataFrame) else [X[i] for i in idx]
    t = truth.to_numpy(dtype=object)[idx]
    rows = {}
    for name, model in models.items():
        pred = np.asarray(model.predict(X_kept), dtype=object)
        recalls = {c: float(np.mean(pred[t == c] == c)) if np.any(t == c) else np.nan
                   for c in enc.classes_}
        present = [v for v in recalls.values() if not np.isnan(v)]
        rows[name] = {"UAR": float(np.mean(present)), **recalls}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    table.attrs["n_scored"] = int(keep.sum())
    table.attrs["n_left_out"] = int((~keep).sum())
    return table


class MetaClassifierMixin(ClassifierMixin, BaseEstimator):
    """predict / predict_proba / transform delegated to ``final_``."""

    def _final(self):
        check_is_fitted(self, "final_")
        return self.final_

    def predict(self, X):
        """Predicted emotion per utterance."""
        return self._final().predict(as_input(X))

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        return self._final().predict_proba(as_input(X))

    def decision_function(self, X):
        """Logits of the final model (1-D for two classes)."""
        return self._final().decision_function(as_input(X))

    def transform(self, X):
        """Penultimate representation of the final model."""
        return self._final().transform(as_input(X))

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y, **fit_params).transform(X)

    def attention_weights(self, X):
        """Attention weights over time (of the final model's first encoder)."""
        return self._final().attention_weights(as_input(X))

    def _check_X(self, X):
        X = as_input(X)
        frames, _ = sequences_from(X, type(self).__name__)
        return X, frames

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.poor_score = True
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags
