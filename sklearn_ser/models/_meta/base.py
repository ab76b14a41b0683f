"""Shared pieces of the meta-estimators."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..._device import torch_device
from ..._warnings import rewarn, ser_warn
from ...annotations import (
    HardLabels,
    build_label_map,
    check_annotations,
    resolve_classes,
)
from ...exceptions import DroppedRowsWarning, InnerSplitWarning, SERWarning
from ...features import is_speaker_confounded
from ...metrics import UARScoreMixin
from .._inputs import as_input, frames_input
from .._sequence._splits import _speakers_of
from .._sequence.fusion_head import FrozenFusionClassifier
from .._template import OneFitMixin


def fit_quietly(estimator, X, y, groups=None):
    """Fit a component, keeping its DroppedRowsWarnings for one summary.

    The messages go to ``estimator.dropped_rows_`` (they travel with the
    component out of a parallel worker); :func:`report_dropped` gives the
    meta-estimator's one warning with the counts.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DroppedRowsWarning)
        fitted = estimator.fit(X, y, groups=groups)
    kept = []
    for w in caught:
        if issubclass(w.category, DroppedRowsWarning):
            kept.append(str(w.message))
        else:  # any other warning is the user's to see (once per cause)
            rewarn(w)
    fitted.dropped_rows_ = kept
    return fitted


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass

    def close(self):
        pass


def stage_bar(meta, total, enabled):
    """A progress bar over a meta-estimator's models (``progress=True``), or
    one that shows nothing."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="model", desc=f"{type(meta).__name__}")


def report_dropped(meta, components):
    """One DroppedRowsWarning naming every component that left rows out."""
    parts = [f"{name}: {' '.join(msgs)}" for name, est in components.items()
             if (msgs := getattr(est, "dropped_rows_", None))]
    if parts:
        ser_warn(
            f"{type(meta).__name__}: {len(parts)} of {len(components)} component(s) "
            "trained without some utterances. " + " | ".join(parts),
            DroppedRowsWarning,
        )


def with_params(estimator, **params):
    """A clone of ``estimator`` with the parameters it has set."""
    est = clone(estimator)
    valid = est.get_params(deep=False)
    est.set_params(**{k: v for k, v in params.items() if k in valid})
    return est


def frozen_fusion(base, encoders, target, classes, *, hidden_units, lr, seed,
                  input_dropout=0.0, init="random"):
    """The second-stage classifier, trained like ``base`` (batch size, epochs,
    early stopping, optimizer, device) but at its own learning rate."""
    return FrozenFusionClassifier.from_estimators(
        encoders, like=base, target=target, classes=classes,
        hidden_units=hidden_units, lr=lr, random_state=seed,
        input_dropout=input_dropout, init=init)


def held_out_rows(meta, X, y, groups, classes, rng):
    """The training rows a meta-estimator holds out of every model for its
    final layer's epochs (``meta.final_validation`` of them), and how they
    were drawn: whole speakers when speakers are known and do not predict
    the majority labels (every class still shown by a training speaker),
    else utterances, that share of each majority class (at least one of
    every class with two or more; rows without a majority stay in training).

    Returns ``(held, by)``: a boolean mask over the rows of X and
    ``"speakers"`` or ``"utterances"``.
    """
    from sklearn.model_selection import GroupShuffleSplit

    majority = HardLabels(classes, label_map=meta.label_map).fit(y).transform(y)
    labels, has = majority.to_numpy(dtype=object), majority.notna().to_numpy()
    speakers = _speakers_of(X, groups)
    n, share = len(labels), meta.final_validation
    if speakers is not None:
        speakers = np.asarray(speakers)
        if (len(np.unique(speakers)) > 2
                and not is_speaker_confounded(speakers[has], labels[has])[0]):
            split = GroupShuffleSplit(20, test_size=share,
                                      random_state=rng.randint(2**31 - 1))
            shown = set(labels[has])
            for tr, va in split.split(np.arange(n), groups=speakers):
                if shown - set(labels[tr][has[tr]]):
                    continue  # a class only the held-out speakers show
                held = np.zeros(n, dtype=bool)
                held[va] = True
                return held, "speakers"
    held = np.zeros(n, dtype=bool)
    few = []
    for c in classes:
        rows = np.flatnonzero(has & (labels == c))
        if len(rows) < 2:
            few.append(c)
            continue
        k = min(len(rows) - 1, max(1, int(round(share * len(rows)))))
        held[rng.choice(rows, size=k, replace=False)] = True
    if few:
        ser_warn(
            f"{type(meta).__name__}: the final layer's held-out rows "
            f"(final_validation={share}) lack the classes {few}, which win "
            "fewer than two majorities in training.",
            InnerSplitWarning,
        )
    return held, "utterances"


def warn_final_validation_unused(meta, why):
    """``final_validation`` was given to a fit with no final layer to use it."""
    ser_warn(
        f"{type(meta).__name__}: final_validation={meta.final_validation} is not "
        f"used: {why}, so no rows are held out (held_out_ is None).",
        SERWarning,
    )


def early_stop_on_held_out(final, base, held, share):
    """Make the (unfitted) final layer ``final`` keep its best epoch on the
    rows ``held`` (no-op when None): trained like ``base`` otherwise, with
    ``base``'s patience (or to ``max_epochs`` without one)."""
    if held is None:
        return
    patience = getattr(base, "patience", None)
    final.set_params(validation_fraction=share, refit=False, weight_averaging=0,
                     patience=final.max_epochs if patience is None else patience)
    final._held_out = held


def component_scores(models, X, y, classes, label_map=None):
    """UAR and per-class recall of each fitted model against the hard majority."""
    y = check_annotations(y, X, label_map=label_map, classes=classes)
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


def _final_has(attr):
    """available_if check: the fitted final model has ``attr`` (unfitted: the
    method exists and raises NotFittedError)."""

    def check(self):
        final = getattr(self, "final_", None)
        return final is None or hasattr(final, attr)

    return check


class MetaInputs(NamedTuple):
    """What the start of a meta-estimator's fit built, once: X converted, y
    parsed, ``groups``, the seeded RNG, the building block, the classes."""

    X: object
    y: object
    groups: object
    rng: object
    base: object
    classes: list


class MetaClassifierMixin(OneFitMixin, UARScoreMixin, ClassifierMixin,
                          BaseEstimator):
    """The meta-estimators' shared skeleton.

    Their ``fit`` is every estimator's (:mod:`sklearn_ser.models._template`):
    :meth:`_fit_inputs` builds the parameters' checks, X, y aligned with X,
    the seeded RNG, the building block and the classes once; the estimator's
    ``_fit`` trains on them; :meth:`_fit_end` gives one summary of the rows
    components left out and ``classes_`` and ``n_features_in_`` from
    ``final_``; prediction,
    probabilities, logits, embeddings and attention are delegated to
    ``final_``; :meth:`score_components` scores ``_scored_models()``.
    """

    #: The building block when ``estimator`` is None (a class).
    _default_estimator = None

    #: reads frame sequences and annotation tables (see SequenceClassifier)
    _reads_frames = True
    _reads_ratings = True

    def _final(self):
        check_is_fitted(self, "final_")
        return self.final_

    def _building_block(self):
        """``estimator``, else the default building block."""
        if self.estimator is not None:
            return self.estimator
        return self._default_estimator()

    def _fit(self, inputs):  # pragma: no cover - every subclass defines it
        """Train the components and the final model on ``inputs`` (a
        :class:`MetaInputs`); return the named components (for the summary of
        the rows they left out)."""
        raise NotImplementedError

    def _check_params(self):
        """Settings that only fit together, before any work (a meta-estimator
        with such rules extends it)."""
        if hasattr(self, "device"):  # one this machine has, before any work
            torch_device(self.device, type(self).__name__)

    def _fit_inputs(self, X, y, groups):
        """X converted, y parsed (aligned with X), the seeded RNG, the building
        block and the classes, once (step 2 of the fit template)."""
        # the one conversion of X and the one parse of y of this fit: every
        # component receives converted frames and checked ratings
        X = frames_input(X, type(self).__name__)
        # the one parse of this fit: every component receives checked ratings
        y = check_annotations(y, X, label_map=self.label_map, classes=self.classes,
                              target=True, whom=type(self).__name__)
        rng = check_random_state(self.random_state)
        base = self._building_block()
        # the classes of every component, decided once (the encoders' rule)
        classes = list(resolve_classes(y, self.classes,
                                       label_map=build_label_map(self.label_map)))
        return MetaInputs(X, y, groups, rng, base, classes)

    def _fit_end(self, inputs, components):
        """Report left-out rows once; copy ``classes_``/``n_features_in_``."""
        report_dropped(self, components)
        self.classes_ = np.asarray(self.final_.classes_)
        self.n_features_in_ = self.final_.n_features_in_

    def _scored_models(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def score_components(self, X, y):
        """UAR and per-class recall of every component and of the final model
        against the hard majority of ``y`` (utterances without one left out;
        the counts are in ``table.attrs``)."""
        self._final()
        return component_scores(self._scored_models(), X, y, list(self.classes_),
                                self.label_map)

    def predict(self, X):
        """Predicted emotion per utterance."""
        return self._final().predict(as_input(X))

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        return self._final().predict_proba(as_input(X))

    @available_if(_final_has("decision_function"))
    def decision_function(self, X):
        """Logits of the final model (1-D for two classes)."""
        return self._final().decision_function(as_input(X))

    @available_if(_final_has("transform"))
    def transform(self, X):
        """Penultimate representation of the final model."""
        return self._final().transform(as_input(X))

    @available_if(_final_has("transform"))
    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y, **fit_params).transform(X)

    @available_if(_final_has("attention_weights"))
    def attention_weights(self, X):
        """Attention weights over time (of the final model's first encoder)."""
        return self._final().attention_weights(as_input(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.poor_score = True
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags
