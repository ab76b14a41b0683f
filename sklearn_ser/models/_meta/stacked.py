"""Joint learning of crowd and individual raters (Chou & Lee, ICASSP 2019)."""

from __future__ import annotations

import numbers

import joblib
import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval, StrOptions

from ..._parallel import torch_thread_share, use_torch_threads
from ..._warnings import ser_warn
from ...annotations import (
    HardLabels,
    RaterLabels,
    SoftLabels,
    check_names,
    rater_counts,
    rater_profiles,
    select_raters,
)
from ...exceptions import NoRaterModelWarning
from .._sequence.base import SequenceClassifier
from .._sequence.blstm_attention import BLSTMAttentionClassifier
from .base import (
    MetaClassifierMixin,
    early_stop_on_held_out,
    fit_quietly,
    frozen_fusion,
    held_out_rows,
    stage_bar,
    warn_final_validation_unused,
    with_params,
)
from .stages import StagedParamsMixin

_SELECTIONS = {"CrowdH", "CrowdS", "CrowdHS", "E_n", "all"}


def _fit_component(estimator, X, y, groups, threads=None):
    use_torch_threads(threads)  # parallel workers share the cores
    return fit_quietly(estimator, X, y, groups)


class StackedAnnotatorClassifier(StagedParamsMixin, MetaClassifierMixin):
    """Crowd and individual-rater models, frozen and fused (Chou & Lee 2019).

    Stage 1 trains, as clones of ``estimator``: CrowdH on the hard
    majority, CrowdS on soft labels (alpha 0.75, every rating), and one soft
    model E_n per rater with at least ``min_rater_items`` rated utterances,
    each only on the utterances that rater labelled. Stage 2 freezes them,
    concatenates their penultimate representations and trains one final
    softmax layer on the hard targets (2.2.4).

    Parameters
    ----------
    estimator : SequenceClassifier, default=None
        The building block (default: ``BLSTMAttentionClassifier()`` with Chou &
        Lee's sizes, dropout 0.5, Adamax). Its ``target`` is set per component.
    components : {"all", "CrowdH", "CrowdS", "CrowdHS", "E_n"}, default="all"
        Which rows of Chou & Lee's Table 3 to build: "all" is the proposed
        model (CrowdH + CrowdS + every E_n), "CrowdHS" the crowd fusion, "E_n"
        the raters only. A single component (CrowdH or CrowdS) is used as is,
        without a second stage.
    classes, label_map : see :class:`BLSTMAttentionClassifier`
    alpha : float, default=0.75
        Smoothing of the soft targets (CrowdS and every E_n).
    raters : list of str, default=None
        Raters to model individually (default: all with enough ratings).
    min_rater_items : int, default=50
        Minimum number of rated utterances for an individual model.
    rater_models : {"auto", "individual", "grouped"}, default="auto"
        Strategy for sparse crowds (CREMA-D: thousands of raters, ~9 ratings
        per clip). "grouped" clusters raters by their label distribution
        (k-means on each rater's vote shares) into ``n_rater_groups`` groups
        and trains one soft model per group on the pooled ratings of its
        members. "auto" groups when more than ``max_rater_models`` raters
        qualify, or when none does but raters exist.
    n_rater_groups : int, default=6
    max_rater_models : int, default=12
    final : dict, default=None
        Settings of the final layer (the fusion head), read and set by
        prefix (``final__lr``; :mod:`~sklearn_ser.models._meta.stages`):
        ``lr`` (None: the building block's), ``input_dropout`` (dropout on
        the concatenated representations it reads, while it trains; Chou &
        Lee 3.1: "a dropout layer for all layers with 50% drop out rate";
        default 0) and ``max_epochs`` (None: the building block's; Chou &
        Lee "train some epochs": the layer reads representations the
        stage-1 models fitted to the training rows, so its length decides
        how far it trusts the models that memorised them most); and any other
        parameter of :class:`FrozenFusionClassifier` (``init``,
        ``weight_averaging``, ``patience``...).
    final_validation : float or None, default=None
        How long the final layer trains. None: like ``estimator`` (its
        epochs and early stopping; Chou & Lee "train some epochs"). A share
        in (0, 1): that share of the training utterances is held out from
        every stage-1 model and from the final layer, which keeps the epoch
        (of at most ``max_epochs``) scoring best on them (``estimator``'s
        ``monitor``). Stage-1 models that early-stop use the same held-out
        rows. Without it the final layer trains on representations the
        stage-1 models memorised, and their training length decides which
        model it learns to trust. The held-out rows are whole speakers where
        speakers are known and do not predict the labels, else utterances
        drawn per majority class (``held_out_``, ``held_out_by_``). The rows
        are data the stage-1 models lose (measured: :doc:`/defaults`).
        Unused, with a warning, when stage 1 is one model (no fusion layer).
    n_jobs : int, default=None
        Stage-1 models trained in parallel (joblib processes).
    random_state : int, RandomState or None
    progress : bool, default=False
        A progress bar over the models: each stage-1 model as it finishes,
        then the fusion head (stage 1 of Chou & Lee's proposed model trains 2
        + one per rater).

    Attributes
    ----------
    components_ : dict
        Fitted stage-1 models by name (``CrowdH``, ``CrowdS``, ``E1``... or
        ``G1``... for rater groups).
    rater_groups_ : dict
        Group name -> member raters (grouped strategy only).
    raters_without_model_ : list
        Raters with fewer than ``min_rater_items`` rated utterances, left
        without an individual model (individual strategy; warned).
    final_ : fitted classifier used for prediction.
    held_out_ : ndarray of bool or None
        The training rows held out for the final layer's epochs
        (``final_validation``), None without.
    held_out_by_ : {"speakers", "utterances"} or None
        How they were drawn.
    classes_ : ndarray
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(BLSTMAttentionClassifier._tiny(), components="CrowdHS",
                    random_state=0)]

    _parameter_constraints: dict = {
        "estimator": [SequenceClassifier, None],
        "components": [StrOptions(_SELECTIONS)],
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "raters": ["array-like", None],
        "min_rater_items": [Interval(numbers.Integral, 1, None, closed="left")],
        "rater_models": [StrOptions({"auto", "individual", "grouped"})],
        "n_rater_groups": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_rater_models": [Interval(numbers.Integral, 1, None, closed="left")],
        "final": [dict, None],
        "final_validation": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "progress": ["boolean"],
    }

    _default_estimator = BLSTMAttentionClassifier

    _stage_defaults = {"final": {"lr": None, "input_dropout": 0.0,
                                 "max_epochs": None}}

    def _check_params(self):
        super()._check_params()
        self._stage("final")  # the head's settings, before any work

    def __init__(
        self,
        estimator=None,
        *,
        components="all",
        classes=None,
        label_map=None,
        alpha=0.75,
        raters=None,
        min_rater_items=50,
        rater_models="auto",
        n_rater_groups=6,
        max_rater_models=12,
        final=None,
        final_validation=None,
        n_jobs=None,
        random_state=None,
        progress=False,
    ):
        self.estimator = estimator
        self.components = components
        self.classes = classes
        self.label_map = label_map
        self.alpha = alpha
        self.raters = raters
        self.min_rater_items = min_rater_items
        self.rater_models = rater_models
        self.n_rater_groups = n_rater_groups
        self.max_rater_models = max_rater_models
        self.final = final
        self.final_validation = final_validation
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.progress = progress

    # -- stage 1 plan ---------------------------------------------------------------
    def _rater_targets(self, y, classes, rng):
        """[(name, encoder, columns)] for the individual or grouped rater models."""
        if y.array.kind != "table":  # y is checked (the fit's one parse)
            ser_warn(
                "StackedAnnotatorClassifier: the annotations hold no individual raters "
                "(vote counts or plain labels); no E_n model is built.",
                NoRaterModelWarning,
            )
            return []
        counts = rater_counts(y)
        if self.raters is not None:
            chosen = check_names(self.raters, "raters", type(self).__name__,
                                 unique=True, labels=False)
            missing = [r for r in chosen if r not in counts.index]
            if missing:
                raise ValueError(
                    f"StackedAnnotatorClassifier: raters {missing} are not raters "
                    f"of the annotations (they include {list(counts.index[:8])})."
                )
            eligible = chosen
        else:
            eligible = [r for r, n in counts.items() if n >= self.min_rater_items]
        self.raters_without_model_ = [r for r, n in counts.items()
                                      if 0 < n < self.min_rater_items
                                      and r not in eligible]
        group = self.rater_models == "grouped" or (
            self.rater_models == "auto"
            and (len(eligible) > self.max_rater_models
                 or (not eligible and len(counts) > 0))
        )
        self.rater_groups_ = {}
        if not group:
            if not eligible:
                ser_warn(
                    f"StackedAnnotatorClassifier: no rater has {self.min_rater_items} "
                    "rated utterances; no E_n model is built (lower min_rater_items "
                    "or use rater_models='grouped').",
                    NoRaterModelWarning,
                )
            left = self.raters_without_model_
            if eligible and left and self.raters is None:
                shown = ", ".join(map(repr, left[:5])) + (" ..." if len(left) > 5
                                                          else "")
                ser_warn(
                    f"StackedAnnotatorClassifier: {len(left)} of "
                    f"{len(eligible) + len(left)} raters rated fewer than "
                    f"min_rater_items={self.min_rater_items} utterances and get no "
                    f"individual model ({shown}); their ratings still count in "
                    "CrowdH and CrowdS (raters_without_model_).",
                    NoRaterModelWarning,
                )
            return [(str(r), RaterLabels(r, "soft", classes=classes, alpha=self.alpha,
                                         label_map=self.label_map), None)
                    for r in eligible]
        # grouped: cluster raters by their vote shares over the target classes
        pool = [r for r, n in counts.items() if n > 0] if self.raters is None else (
            eligible)
        self.raters_without_model_ = []  # grouped: every rater is in a group
        profiles = rater_profiles(y, classes, pool,
                                  label_map=self.label_map).to_numpy()
        k = min(self.n_rater_groups, len(pool))
        labels = KMeans(k, n_init=10, random_state=rng.randint(2**31 - 1)).fit_predict(
            profiles)
        out = []
        for g in range(k):
            members = [pool[i] for i in np.flatnonzero(labels == g)]
            name = f"G{g + 1}"
            self.rater_groups_[name] = members
            out.append((name, SoftLabels(classes, alpha=self.alpha,
                                         label_map=self.label_map), members))
        return out

    def _plan(self, y, classes, rng):
        crowd_h = ("CrowdH", HardLabels(classes, label_map=self.label_map), None)
        crowd_s = ("CrowdS", SoftLabels(classes, alpha=self.alpha,
                                        label_map=self.label_map), None)
        if self.components == "CrowdH":
            return [crowd_h]
        if self.components == "CrowdS":
            return [crowd_s]
        if self.components == "CrowdHS":
            return [crowd_h, crowd_s]
        raters = self._rater_targets(y, classes, rng)
        if self.components == "E_n":
            if not raters:
                raise ValueError(
                    "components='E_n' needs individual raters with enough ratings."
                )
            return raters
        return [crowd_h, crowd_s, *raters]

    # -- fit ---------------------------------------------------------------------------
    def _fit(self, inputs):
        """Stage 1 (components) then stage 2 (frozen fusion); the start and
        end of the fit are every meta-estimator's (:meth:`fit`)."""
        X, y, groups, rng, base, classes = inputs
        plan = self._plan(y, classes, rng)
        seeds = rng.randint(2**31 - 1, size=len(plan) + 1)
        self.held_out_, self.held_out_by_ = None, None
        if self.final_validation is not None and len(plan) > 1:
            self.held_out_, self.held_out_by_ = held_out_rows(
                self, X, y, groups, classes, rng)
        elif self.final_validation is not None:
            warn_final_validation_unused(
                self, f"components={self.components!r} trains one model and no "
                "fusion layer")
        jobs = []
        for (name, target, columns), seed in zip(plan, seeds, strict=False):
            est = with_params(base, target=target, classes=classes,
                              label_map=self.label_map, random_state=int(seed))
            est._held_out = self.held_out_
            y_part = y if columns is None else select_raters(y, columns)
            jobs.append((name, est, y_part))
        threads = torch_thread_share(self.n_jobs)
        bar = stage_bar(self, len(jobs) + (len(jobs) > 1), self.progress)
        fitted = []
        try:
            results = joblib.Parallel(n_jobs=self.n_jobs, return_as="generator")(
                joblib.delayed(_fit_component)(est, X, y_part, groups, threads)
                for _, est, y_part in jobs)
            for (name, _, _), component in zip(jobs, results, strict=True):
                fitted.append(component)
                bar.set_postfix_str(f"stage 1: {name}")
                bar.update()
            self.components_ = {name: est for (name, _, _), est in zip(
                jobs, fitted, strict=True)}
            self._fit_fusion(X, y, groups, base, classes, seeds, bar)
        finally:
            bar.close()
        return ({**self.components_, "fusion": self.final_}
                if len(self.components_) > 1 else self.components_)

    def _fit_fusion(self, X, y, groups, base, classes, seeds, bar):
        """Stage 2: the frozen stage-1 models' representations, one softmax
        layer (a single component is used as it is)."""
        if len(self.components_) == 1:
            self.final_ = next(iter(self.components_.values()))
            return
        head = self._stage("final")
        final = frozen_fusion(
            base, [c.module_ for c in self.components_.values()],
            HardLabels(classes, label_map=self.label_map), classes,
            hidden_units=None, lr=head["lr"] or getattr(base, "lr", 1e-3),
            seed=seeds[-1], input_dropout=head["input_dropout"],
        )
        final.set_params(**self._head_extras("final", head))  # max_epochs...
        early_stop_on_held_out(final, base, self.held_out_, self.final_validation)
        bar.set_postfix_str("stage 2: fusion")
        self.final_ = fit_quietly(final, X, y, groups)
        bar.update()

    def _scored_models(self):
        """Chou & Lee's Table 3 for this data: every stage-1 model and the
        fusion (row ``"fusion"``, the proposed model when ``components="all"``)."""
        models = dict(self.components_)
        if len(self.components_) > 1:
            models["fusion"] = self.final_
        return models
