"""Multi-label emotion existence pre-training and fusion (Ando et al. 2019)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from ..._warnings import ser_warn
from ...annotations import ExistenceLabels, HardLabels, SoftLabels
from ...exceptions import DroppedRowsWarning
from .._inputs import as_input
from .._late_fusion import combine_probabilities
from .._sequence.base import SequenceClassifier
from .._sequence.blstm_attention import BLSTMAttentionClassifier
from .._sequence.cnn_blstm import CNNBLSTMClassifier
from .base import (
    MetaClassifierMixin,
    _final_has,
    early_stop_on_held_out,
    fit_quietly,
    frozen_fusion,
    held_out_rows,
    stage_bar,
    warn_final_validation_unused,
    with_params,
)
from .stages import HEAD_SET_BY_META, StagedParamsMixin


class MLEEFusionClassifier(StagedParamsMixin, MetaClassifierMixin):
    """Dominant emotion recognition helped by an emotion-existence model.

    The MLEE model (3.1) is ``estimator`` with a sigmoid head trained by
    class-weighted binary cross entropy on existence targets (Eq. 5-6): on
    every utterance, including those with no target emotion, which are
    negatives (``training_set="all"``), or only on utterances with a dominant
    emotion (``"dominant"``). Then, by ``mode`` (3.2):

    * ``"mlee_only"``: the arg-max of the existence probabilities (Eq. 7);
    * ``"pretrain"``: the MLEE encoder frozen, a new classifier part (Dense 64
      + output, Table 2) fine-tuned on ``finetune_target``;
    * ``"fusion"``: the frozen MLEE encoder and the frozen encoder of a
      dominant-emotion model (trained on ``finetune_target``), concatenated,
      a new classifier part fine-tuned.

    Learning rates of 4.1: 2e-4 for the MLEE and dominant models, 1e-4 for
    fine-tuning after pre-training, 5e-5 for fusion fine-tuning. Each stage's
    settings are one dict, read and set by prefix (``pretrain__lr``,
    ``fusion__max_epochs``; :mod:`~sklearn_ser.models._meta.stages`), so a
    grid search reaches them as it reaches ``estimator__lr``.

    Parameters
    ----------
    estimator : SequenceClassifier, default=None
        The building block. Default ``CNNBLSTMClassifier()`` (Table 2; Adam,
        batch 16).
    mode : {"fusion", "pretrain", "mlee_only"}, default="fusion"
    finetune_target : {"soft", "hard"}, default="soft"
    training_set : {"all", "dominant"}, default="all"
        Utterances the MLEE model learns from.
    existence_min_votes : int, default=1
        Votes that make an emotion "exist" in an utterance for the MLEE
        targets (Eq. 5: 1, chosen by any rater). With many raters per
        utterance nearly every emotion someone chose exists; 2 keeps only
        those chosen twice (:class:`~sklearn_ser.annotations.ExistenceLabels`'
        ``min_votes``).
    classes, label_map : see :class:`BLSTMAttentionClassifier`
    alpha : float, default=0.75
        Smoothing of soft targets.
    pretrain : dict, default=None
        Settings of the MLEE model over the building block's (any of its
        parameters); default ``{"lr": 2e-4}`` (4.1).
    dominant : dict, default=None
        Settings of the dominant-emotion model of ``"fusion"`` over the
        building block's; default ``{"lr": 2e-4}``.
    finetune : dict, default=None
        The new classifier part of ``mode="pretrain"``: ``lr`` (1e-4, 4.1),
        ``hidden_units`` (the Dense layer, 64, Table 2), ``input_dropout``
        (dropout on the frozen representations it reads, while it trains;
        0) and ``max_epochs`` (None: the building block's).
    fusion : dict, default=None
        The new classifier part of ``mode="fusion"``: as ``finetune``, with
        ``lr`` 5e-5 (4.1). Both also take any other parameter of
        :class:`FrozenFusionClassifier` (``patience``, ``weight_averaging``...;
        not ``init``: ``final_init`` decides it).
    final_init : {"random", "dominant"}, default="random"
        How the new classifier part starts in ``mode="fusion"``: at random
        (the paper's Fig. 2(c) as written), or as the dominant model itself
        (``"dominant"``: its own output layer on its frozen encoder plus the
        new Dense + output part on both encoders, whose output starts at
        zero; :class:`FrozenFusionClassifier`'s ``init="first"``), so that
        fine-tuning at the paper's small learning rate adds what the MLEE
        encoder brings to a model that already recognises the dominant
        emotion, and cannot start below it (:doc:`/defaults`). Other modes
        refuse ``"dominant"``.
    final_validation : float or None, default=None
        How long the new classifier part trains. None: like ``estimator``.
        A share in (0, 1): that share of the training utterances is held out
        from the MLEE and dominant models and from the classifier part, which
        keeps the epoch scoring best on them; the models that early-stop use
        the same rows (as :class:`StackedAnnotatorClassifier`'s
        ``final_validation``; ``held_out_``, ``held_out_by_``).
        Unused, with a warning, in ``mode="mlee_only"``.
    dominant_weight : float in [0, 1], default=0.0
        Share of the dominant model's own probabilities in the prediction of
        ``mode="fusion"``: ``predict_proba`` is the weighted geometric mean
        (:func:`~sklearn_ser.models.combine_probabilities`) of the fused
        model's and the dominant model's class probabilities, with weights
        ``1 - dominant_weight`` and ``dominant_weight``; ``predict`` its
        arg-max, ``decision_function`` its log-probabilities. 0: the fused
        model alone (the paper). Not in the paper: a late fusion of the two
        models the method already trains, which keeps what the fused model
        learns from the MLEE encoder where the crowd's extra emotions carry
        signal and bounds what the encoder costs where they are other raters'
        noise; the command line's ``mlee_fusion`` uses 0.5 on
        speaker-confounded folds, where nothing held out stops the fused
        model's new part, and 0 elsewhere (measured: :doc:`/defaults`). Other
        modes refuse a weight above 0.
    random_state : int, RandomState or None
    progress : bool, default=False
        A progress bar over the models: the MLEE pre-training, the dominant
        model (fusion mode), the final model.

    Attributes
    ----------
    mlee_ : the fitted existence model
    dominant_ : the fitted dominant-emotion model (``mode="fusion"``)
    final_ : the model used for prediction
    held_out_ : ndarray of bool or None
        The training rows held out for the final part's epochs
        (``final_validation``), None without.
    held_out_by_ : {"speakers", "utterances"} or None
    blend_weights_ : tuple of float or None
        The weights of the fused and the dominant model's probabilities in
        the prediction (``dominant_weight`` above 0), None: ``final_`` alone.
    classes_ : ndarray
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        tiny, fast = BLSTMAttentionClassifier._tiny(), {"lr": 0.02}
        return [cls(tiny, mode="pretrain", pretrain=fast, finetune=fast,
                    random_state=0),
                # fusion mode with the late blend of the fused and the dominant
                # model: its own predict / predict_proba / decision_function
                cls(tiny, dominant_weight=0.5, pretrain=fast, dominant=fast,
                    fusion=fast, random_state=0)]

    _parameter_constraints: dict = {
        "estimator": [SequenceClassifier, None],
        "mode": [StrOptions({"fusion", "pretrain", "mlee_only"})],
        "finetune_target": [StrOptions({"soft", "hard"})],
        "training_set": [StrOptions({"all", "dominant"})],
        "existence_min_votes": [Interval(numbers.Integral, 1, None, closed="left")],
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "pretrain": [dict, None],
        "dominant": [dict, None],
        "finetune": [dict, None],
        "fusion": [dict, None],
        "final_init": [StrOptions({"random", "dominant"})],
        "final_validation": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "dominant_weight": [Interval(numbers.Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
        "progress": ["boolean"],
    }

    _default_estimator = CNNBLSTMClassifier

    _HEAD = {"hidden_units": 64, "input_dropout": 0.0, "max_epochs": None}
    _stage_defaults = {"pretrain": {"lr": 2e-4}, "dominant": {"lr": 2e-4},
                       "finetune": {"lr": 1e-4, **_HEAD},
                       "fusion": {"lr": 5e-5, **_HEAD}}
    _open_stages = ("pretrain", "dominant")
    _head_decided = HEAD_SET_BY_META | {"init"}  # final_init decides it

    def __init__(
        self,
        estimator=None,
        *,
        mode="fusion",
        finetune_target="soft",
        training_set="all",
        existence_min_votes=1,
        classes=None,
        label_map=None,
        alpha=0.75,
        pretrain=None,
        dominant=None,
        finetune=None,
        fusion=None,
        final_init="random",
        final_validation=None,
        dominant_weight=0.0,
        random_state=None,
        progress=False,
    ):
        self.estimator = estimator
        self.mode = mode
        self.finetune_target = finetune_target
        self.training_set = training_set
        self.existence_min_votes = existence_min_votes
        self.classes = classes
        self.label_map = label_map
        self.alpha = alpha
        self.pretrain = pretrain
        self.dominant = dominant
        self.finetune = finetune
        self.fusion = fusion
        self.final_init = final_init
        self.final_validation = final_validation
        self.dominant_weight = dominant_weight
        self.random_state = random_state
        self.progress = progress

    def _finetune_encoder(self, classes):
        if self.finetune_target == "soft":
            return SoftLabels(classes, alpha=self.alpha, label_map=self.label_map)
        return HardLabels(classes, label_map=self.label_map)

    def _check_params(self):
        super()._check_params()
        base = self._building_block()
        for stage in self._stage_defaults:  # every stage's settings, before any work
            self._stage(stage, base)
        if self.final_init == "dominant" and self.mode != "fusion":
            raise ValueError(
                f"MLEEFusionClassifier(final_init='dominant') starts the classifier "
                f"part as the dominant model of mode='fusion'; mode={self.mode!r} "
                "trains none: use final_init='random' or mode='fusion'.")
        if self.dominant_weight > 0 and self.mode != "fusion":
            raise ValueError(
                f"MLEEFusionClassifier(dominant_weight={self.dominant_weight}) "
                "averages the fused model with the dominant model of "
                f"mode='fusion'; mode={self.mode!r} trains none: use "
                "dominant_weight=0 or mode='fusion'.")

    def _fit(self, inputs):
        """Pre-train the MLEE model, then build the chosen mode; the start and
        end of the fit are every meta-estimator's (:meth:`fit`)."""
        X, y, groups, rng, base, classes = inputs
        if hasattr(self, "dominant_"):
            del self.dominant_  # from an earlier fit in another mode
        seeds = [int(s) for s in rng.randint(2**31 - 1, size=3)]
        self.held_out_, self.held_out_by_ = None, None
        if self.final_validation is not None and self.mode != "mlee_only":
            self.held_out_, self.held_out_by_ = held_out_rows(
                self, X, y, groups, classes, rng)
        elif self.final_validation is not None:
            warn_final_validation_unused(
                self, "mode='mlee_only' trains the MLEE model alone")
        X_mlee, y_mlee, g_mlee, held_mlee = X, y, groups, self.held_out_
        if self.training_set == "dominant":
            hard = HardLabels(classes, label_map=self.label_map).fit(y).transform(y)
            rows = np.flatnonzero(hard.notna().to_numpy())
            if len(rows) < len(hard):

                ser_warn(
                    "MLEEFusionClassifier(training_set='dominant'): the MLEE model "
                    f"is pre-trained on the {len(rows)} of {len(hard)} utterances "
                    f"with a dominant emotion ({len(hard) - len(rows)} without a "
                    "hard majority left out of pre-training; the later stages use "
                    "every utterance).", DroppedRowsWarning)
            X_mlee = X.iloc[rows] if hasattr(X, "iloc") else [X[i] for i in rows]
            y_mlee = y.iloc[rows] if hasattr(y, "iloc") else [y[i] for i in rows]
            g_mlee = None if groups is None else np.asarray(groups)[rows]
            held_mlee = None if held_mlee is None else held_mlee[rows]
        n_models = {"mlee_only": 1, "pretrain": 2, "fusion": 3}.get(self.mode, 3)
        bar = stage_bar(self, n_models, self.progress)
        try:
            self._fit_stages(X, y, groups, X_mlee, y_mlee, g_mlee, held_mlee, base,
                             classes, seeds, bar)
        finally:
            bar.close()
        w = float(self.dominant_weight)
        self.blend_weights_ = (1.0 - w, w) if w > 0 else None
        parts = {"mlee": self.mlee_}
        if getattr(self, "dominant_", None) is not None and self.mode == "fusion":
            parts["dominant"] = self.dominant_
        if self.final_ is not self.mlee_:
            parts["final"] = self.final_
        return parts

    def _fit_stages(self, X, y, groups, X_mlee, y_mlee, g_mlee, held_mlee, base,
                    classes, seeds, bar):
        """The MLEE pre-training, the dominant model (fusion mode), the final
        model; ``bar`` moves after each."""
        mlee = with_params(base, **self._stage("pretrain", base),
                           target=ExistenceLabels(
                               classes, min_votes=self.existence_min_votes,
                               label_map=self.label_map),
                           classes=classes, label_map=self.label_map,
                           random_state=seeds[0])
        mlee._held_out = held_mlee
        bar.set_postfix_str("MLEE pre-training")
        self.mlee_ = fit_quietly(mlee, X_mlee, y_mlee, g_mlee)
        bar.update()
        encoders = [self.mlee_.module_]
        if self.mode == "mlee_only":
            self.final_ = self.mlee_
        else:
            stage = "fusion" if self.mode == "fusion" else "finetune"
            head = self._stage(stage)
            if self.mode == "fusion":
                dom = with_params(base, **self._stage("dominant", base),
                                  target=self._finetune_encoder(classes),
                                  classes=classes, label_map=self.label_map,
                                  random_state=seeds[1])
                dom._held_out = self.held_out_
                bar.set_postfix_str("dominant model")
                self.dominant_ = fit_quietly(dom, X, y, groups)
                bar.update()
                encoders.append(self.dominant_.module_)
            init = "random"
            if self.final_init == "dominant":  # the dominant model first
                encoders, init = encoders[::-1], "first"
            final = frozen_fusion(base, encoders, self._finetune_encoder(classes),
                                  classes, hidden_units=head["hidden_units"],
                                  lr=head["lr"], seed=seeds[2],
                                  input_dropout=head["input_dropout"], init=init)
            final.set_params(**self._head_extras(stage, head))  # max_epochs...
            early_stop_on_held_out(final, base, self.held_out_, self.final_validation)
            bar.set_postfix_str("final model")
            self.final_ = fit_quietly(final, X, y, groups)
            bar.update()

    def _scored_models(self):
        """The MLEE model (Eq. 7), the dominant model (fusion mode), the
        final model and, with ``dominant_weight``, their blend (this model's
        own prediction)."""
        models = {"mlee_only": self.mlee_}
        if hasattr(self, "dominant_"):
            models["dominant"] = self.dominant_
        if self.mode != "mlee_only":
            models[self.mode] = self.final_
        if getattr(self, "blend_weights_", None) is not None:
            models["fusion+dominant"] = self
        return models

    def _blended(self):
        """Whether the prediction blends the fused and the dominant model."""
        self._final()
        return getattr(self, "blend_weights_", None) is not None

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order (with
        ``dominant_weight``: the weighted geometric mean of the fused and the
        dominant model's)."""
        if not self._blended():
            return super().predict_proba(X)
        X = as_input(X)
        return combine_probabilities(
            [self.final_.predict_proba(X), self.dominant_.predict_proba(X)],
            weights=self.blend_weights_, combine="geometric")

    def predict(self, X):
        """Predicted emotion per utterance."""
        if not self._blended():
            return super().predict(X)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @available_if(_final_has("decision_function"))
    def decision_function(self, X):
        """Logits of the final model (1-D for two classes); with
        ``dominant_weight``, the blend's log-probabilities."""
        if not self._blended():
            return super().decision_function(X)
        logp = np.log(np.clip(self.predict_proba(X), 1e-12, None))
        return logp[:, 1] - logp[:, 0] if logp.shape[1] == 2 else logp
