"""The scikit-learn estimator around a skorch net, shared by both networks."""

from __future__ import annotations

import contextlib
import functools
import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.helper import predefined_split
from skorch.utils import to_device
from torch.optim.swa_utils import AveragedModel

from .._parallel import record_sigint, torch_threads_for_fit
from .._warnings import ser_warn
from ..annotations import (
    BaseTargetEncoder,
    ExistenceLabels,
    HardLabels,
    SoftLabels,
    check_annotations,
    rare_classes,
    report_missing,
)
from ..exceptions import AbsentClassWarning, InnerSplitWarning, RareClassWarning
from ..features import get_frames
from ..metrics import UARScoreMixin
from ._data import SequenceDataset, SequenceLoader, SequenceTensors
from ._losses import SERLoss, balanced_weights, existence_weights
from ._modules import LayerWeightedNet


class _FiniteLoss(Callback):
    """Stop with a clear error as soon as the training loss is NaN or inf."""

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None and not torch.isfinite(loss).all():
            epoch = len(net.history)
            raise FloatingPointError(
                f"The training loss became {float(loss.detach())} at epoch {epoch}. "
                "Lower lr "
                f"(now {net.lr}), check the features for extreme values (normalise "
                "them, e.g. with SpeakerStandardizer) or use a smaller batch_size."
            )


def tensor_uar(pred, true):
    """UAR of predicted class indices against true ones (classes present in
    ``true``), for the early-stopping monitors."""
    return float(np.mean([float((pred[true == c] == c).float().mean())
                          for c in torch.unique(true)]))


class _WeightAveraging(Callback):
    """Stochastic weight averaging (Izmailov et al. 2018) over the last
    ``share`` of each training call's ``epochs``: from that epoch on, the
    running mean of the weights at the end of every epoch (kept by
    ``torch.optim.swa_utils.AveragedModel``) replaces the last epoch's weights
    when training ends (after Ctrl-C too: the epochs trained so far, if any
    was in the window). Parameters only: buffers such as BatchNorm statistics
    stay the last epoch's. The epochs averaged are marked ``averaged`` in the
    history. Set ``epochs`` before each ``partial_fit`` of a phased fit."""

    def __init__(self, share, epochs):
        self.share = share
        self.epochs = epochs

    def initialize(self):
        self.averaged_ = None
        self.first_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        n = max(1, round(self.share * self.epochs))
        self.first_ = len(net.history) + self.epochs - n + 1
        self.averaged_ = None

    def on_epoch_end(self, net, **kwargs):
        inside = len(net.history) >= self.first_
        if inside:
            if self.averaged_ is None:
                self.averaged_ = AveragedModel(net.module_)
            self.averaged_.update_parameters(net.module_)
        net.history.record("averaged", inside)

    def on_train_end(self, net, **kwargs):
        if self.averaged_ is not None:
            with torch.no_grad():
                for mine, mean in zip(net.module_.parameters(),
                                      self.averaged_.module.parameters(), strict=True):
                    mine.copy_(mean)
            self.averaged_ = None  # not kept, nor pickled


class _ValidUAR(Callback):
    """Record ``valid_uar``: the UAR of the validation predictions against the
    arg-max of the validation targets (the class index for hard targets, the
    strongest class of soft or existence targets), for ``monitor="uar"``."""

    def on_epoch_begin(self, net, **kwargs):
        self._pred, self._true = [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        y = batch[1]
        self._pred.append(y_pred.detach().argmax(1).cpu())
        self._true.append((y if y.ndim == 1 else y.argmax(1)).cpu())

    def on_epoch_end(self, net, **kwargs):
        if not self._pred:
            return
        net.history.record("valid_uar", tensor_uar(torch.cat(self._pred),
                                                   torch.cat(self._true)))


def keeps_torch_rng(fit):
    """Decorator: ``fit`` seeds torch from ``random_state`` on a forked RNG, so
    the caller's global torch random state is the same after the fit."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        devices = (list(range(torch.cuda.device_count()))
                   if torch.cuda.is_available() and torch.cuda.is_initialized()
                   else [])
        with torch.random.fork_rng(devices=devices):
            return fit(self, *args, **kwargs)

    return wrapper


class _SERNet(NeuralNet):
    """skorch net with seeded, epoch-dependent length-bucketed batches.

    ``valid_criterion`` (optional, with ``valid_criterion__*`` parameters)
    scores the validation batches instead of ``criterion``.
    """

    def __init__(self, *args, valid_criterion=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.valid_criterion = valid_criterion

    def initialize_criterion(self):
        super().initialize_criterion()
        if self.valid_criterion is not None:
            params = self.get_params_for("valid_criterion")
            self.valid_criterion_ = to_device(self.valid_criterion(**params),
                                              self.device)
        return self

    def get_iterator(self, dataset, training=False):
        if training:
            kwargs = self.get_params_for("iterator_train")
            kwargs.setdefault("batch_size", self.batch_size)
            kwargs["shuffle"] = True
            kwargs["seed"] = int(getattr(self, "seed_", 0)) * 7919 + len(self.history)
            return self.iterator_train(dataset, **kwargs)
        return super().get_iterator(dataset, training=training)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit``, except that Ctrl-C stops.

        skorch catches ``KeyboardInterrupt`` and returns a half-trained net as
        if training had finished. Here the end-of-training callbacks still
        run (early stopping restores the best weights so far), ``interrupted_``
        is set, and the interrupt propagates: scikit-learn callers
        (``cross_validate``, the meta-estimators, the command line) stop.
        """
        if not self.initialized_:
            self.initialize()
        routing_method = fit_params.pop("_routing_method", "partial_fit")
        self.interrupted_ = False
        self.notify("on_train_begin", X=X, y=y)
        with record_sigint() as sigint:
            try:
                self.fit_loop(X, y, _routing_method=routing_method, **fit_params)
            except KeyboardInterrupt:
                # skorch's EarlyStopping stops training by raising
                # KeyboardInterrupt too: only a real SIGINT propagates
                if sigint:
                    self.interrupted_ = True
                    self.notify("on_train_end", X=X, y=y)
                    raise
        self.notify("on_train_end", X=X, y=y)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion, with per-sample weights from the batch's ``X`` dict.

        A ``valid_criterion`` scores the validation batches instead: the
        noisy-label model trains on corrected soft labels and stops early on
        the gold labels.
        """
        criterion = self.criterion_
        if not training and getattr(self, "valid_criterion_", None) is not None:
            criterion = self.valid_criterion_
        weight = X.get("sample_weight") if isinstance(X, dict) else None
        if weight is not None and training:
            return criterion(y_pred, y_true, sample_weight=weight.to(y_pred.device))
        return criterion(y_pred, y_true)


#: The optimizers by name.
OPTIMIZERS = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax,
              "sgd": torch.optim.SGD}


def make_target_encoder(target, classes=None, label_map=None):
    """A target encoder from ``"hard"``/``"soft"``/``"existence"`` or an encoder."""
    if isinstance(target, BaseTargetEncoder):
        enc = clone(target)
        if classes is not None and enc.classes is None:
            enc.set_params(classes=classes)
        if label_map is not None and enc.label_map is None:
            enc.set_params(label_map=label_map)
        return enc
    makers = {"hard": HardLabels, "soft": SoftLabels, "existence": ExistenceLabels}
    if target not in makers:
        raise ValueError(
            f"target={target!r}; use 'hard', 'soft', 'existence' or a target encoder "
            "such as SoftLabels(alpha=0.5)."
        )
    return makers[target](classes, label_map=label_map)


def target_kind(encoder):
    """What a target encoder produces, as it declares in ``target_kind``."""
    kind = getattr(encoder, "target_kind", None)
    if kind not in {"soft", "hard", "existence"}:
        raise TypeError(
            f"{type(encoder).__name__}.target_kind is {kind!r}; a target encoder "
            "declares 'hard' (class labels), 'soft' (a distribution over "
            "classes_) or 'existence' (0/1 per class)."
        )
    return kind


def as_input(X):
    """Array-likes that are not lists, arrays or DataFrames become arrays."""
    if not isinstance(X, pd.DataFrame | list | tuple | np.ndarray) and hasattr(
        X, "__array__"
    ) and not sp.issparse(X):
        return np.asarray(X)
    return X


def sequences_from(X, whom):
    """(T, D) float32 arrays from X, with utterance-named errors."""
    if sp.issparse(X):
        raise TypeError(
            f"{whom} does not accept sparse input; pass frame sequences (a list of "
            "dense (T, D) arrays or a DataFrame with a 'frames' column)."
        )
    X = as_input(X)
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 1:
        raise ValueError(
            "Expected 2D array (utterances x features) or a list of (T, D) "
            "sequences, got 1D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    if len(X) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is "
            f"required by {whom}."
        )
    frames = get_frames(X, whom=whom)
    if len(frames) and frames.dim == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({len(frames)}, 0)) while a "
            f"minimum of 1 is required by {whom}."
        )
    ids = list(X.index) if isinstance(X, pd.DataFrame) else list(range(len(frames)))
    empty = np.flatnonzero(frames.lengths == 0)
    if len(empty):
        raise ValueError(
            f"Utterance {ids[empty[0]]!r} has an empty sequence (0 frames).")
    bad = np.flatnonzero(~frames.finite)  # recorded when the frames were made
    if len(bad):
        f = frames[int(bad[0])]
        raise ValueError(
            f"Utterance {ids[bad[0]]!r} has NaN or infinite feature values "
            f"({int((~np.isfinite(f)).sum())} of {f.size})."
        )
    return frames, ids


class SequenceClassifier(UARScoreMixin, ClassifierMixin, BaseEstimator):
    """Base class: fit on sequences and ratings, predict emotions.

    Subclasses implement ``_build_module(n_features, n_outputs)`` and set
    the defaults of their paper.
    """

    _parameter_constraints: dict = {
        "target": [StrOptions({"hard", "soft", "existence"}), BaseTargetEncoder],
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "optimizer": [StrOptions({"adam", "adamax", "sgd"})],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "monitor": [StrOptions({"loss", "uar"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "refit": ["boolean", Interval(numbers.Integral, 2, None, closed="left")],
        "weight_averaging": [Interval(numbers.Real, 0, 1, closed="both")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "layer_weights": ["boolean", StrOptions({"auto"})],
        "bucket": ["boolean"],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- to implement -----------------------------------------------------------
    def _build_module(self, n_features, n_outputs):  # pragma: no cover
        raise NotImplementedError

    def _min_length(self):
        return 1

    # -- data ----------------------------------------------------------------------
    def _tensors(self, frames):
        """The frames as torch tensors, made per item when a batch is read
        (zero-padded to the receptive field); nothing is copied up front."""
        return SequenceTensors(frames, self._min_length())

    def _targets(self, X, y):
        """Fit the target encoder and return (row mask, target array)."""
        y = check_annotations(y, X, label_map=self.label_map, classes=self.classes,
                              target=True, whom=type(self).__name__)
        enc = make_target_encoder(self.target, self.classes, self.label_map)
        enc.fit(y)
        self.target_encoder_ = enc
        self.target_kind_ = target_kind(enc)
        targets = enc.transform(y)
        values = targets.to_numpy() if isinstance(targets, pd.DataFrame) else (
            targets.to_numpy(dtype=object))
        if values.ndim == 1:
            keep = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
        else:
            keep = ~np.isnan(values.astype(float)).any(axis=1)
        report_missing(enc, y, ~keep, f"{type(self).__name__}: left out",
                       what="training utterance(s)")
        if not keep.any():
            raise ValueError(
                f"No training utterance has a usable {self.target_kind_} target."
            )
        classes = np.asarray(enc.classes_)
        if self.target_kind_ == "hard":
            pos = {c: i for i, c in enumerate(classes)}
            t = np.array([pos[v] for v in values[keep]], dtype=np.int64)
            present = np.unique(t)
            if len(present) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least two classes in the "
                    f"training targets; got 1 class: {list(classes[present])}."
                )
            counts = np.bincount(t, minlength=len(classes))
        else:
            t = values[keep].astype(np.float32)
            counts = t.sum(axis=0)
            # a class some rater chose: above the smoothing floor of its row
            # (soft) or present (existence); smoothing alone gives every class
            # some mass, which is not evidence
            picked = (t > t.min(axis=1, keepdims=True) + 1e-6) | (
                (t > 0) if self.target_kind_ == "existence" else False)
            chosen = picked.any(axis=0)
            if int(chosen.sum()) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least two classes chosen in "
                    f"the training ratings; got {int(chosen.sum())} class: "
                    f"{[str(c) for c in classes[chosen]]} (the others get only "
                    "smoothing mass)."
                )
            counts = np.where(chosen, counts, 0)
        absent = [str(c) for c, n in zip(classes, counts, strict=True) if n == 0]
        if absent:
            ser_warn(
                f"{type(self).__name__}: class(es) {absent} have no training target "
                "(no rater chose them; smoothing alone gives them some mass); the "
                "model cannot learn them.",
                AbsentClassWarning,
            )
        # hard: the majorities; soft/existence: the utterances whose raters
        # chose the class (smoothing mass is not evidence)
        rare = rare_classes(classes, counts if self.target_kind_ == "hard"
                            else picked.sum(axis=0))
        if rare:
            what = ("utterances" if self.target_kind_ == "hard"
                    else "utterances' chosen classes")
            ser_warn(
                f"{type(self).__name__}: class(es) "
                + ", ".join(f"{c!r} ({share:.1%} of the training {what})"
                            for c, share in rare.items())
                + f" are rare: below a quarter of an even share "
                f"(1/{4 * len(classes)}). The model learns them from few "
                "examples; leave them out of `classes` (or merge them) unless "
                "they are wanted.",
                RareClassWarning,
            )
        return keep, t, counts

    def _criterion_params(self, t, counts):
        params = {"criterion__kind": self.target_kind_}
        if isinstance(self.class_weight, dict):
            w = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
            if self.target_kind_ == "existence":
                params["criterion__pos_weight"] = w
                params["criterion__neg_weight"] = np.ones_like(w)
            else:
                params["criterion__weight"] = w
        elif self.class_weight == "balanced":
            if self.target_kind_ == "existence":
                pos, neg = existence_weights(t)
                params["criterion__pos_weight"] = pos
                params["criterion__neg_weight"] = neg
            else:
                params["criterion__weight"] = balanced_weights(counts)
        return params

    def _inner_split(self, X, groups, keep, rng, targets=None):
        """Indices (within kept rows) for training and early-stopping validation."""
        n = int(keep.sum())
        all_idx = np.arange(n)
        if not self.validation_fraction or self.patience is None:
            return all_idx, None
        groups = _speakers_of(X, groups)
        seed = rng.randint(2**31 - 1)
        if groups is None:
            ser_warn(
                f"{type(self).__name__}: no speaker information (no 'speaker' column "
                "and no groups); the early-stopping validation holds out random "
                "utterances instead of whole speakers.",
                InnerSplitWarning,
            )
            if n < 4:
                return all_idx, None
            split = ShuffleSplit(1, test_size=self.validation_fraction,
                                 random_state=seed)
            tr, va = next(split.split(all_idx))
            return tr, va
        g = np.asarray(groups)[keep]
        if len(np.unique(g)) < 2:
            ser_warn(
                f"{type(self).__name__}: a single speaker/group in training; no "
                "early-stopping validation, training runs max_epochs.",
                InnerSplitWarning,
            )
            return all_idx, None
        self._check_confounded_split(g, targets)
        # held-out speakers whose emotions the other training speakers never
        # show would score the network on classes it cannot learn (their
        # loss only grows and stops training at once): among a few splits,
        # the first whose validation emotions all occur in its training
        # part, else the one that covers most, scored on the covered rows
        split = GroupShuffleSplit(_SPLIT_TRIES, test_size=self.validation_fraction,
                                  random_state=seed)
        best = None
        for tr, va in split.split(all_idx, groups=g):
            covered = self._covered(targets, tr, va)
            if best is None or covered.sum() > best[2].sum():
                best = (tr, va, covered)
            if covered.all():
                break
        tr, va, covered = best
        if not covered.any():
            ser_warn(
                f"{type(self).__name__}: no split of the {len(np.unique(g))} "
                "training speakers holds out one whose emotions the others show "
                "too (each shows emotions no one else does); no early-stopping "
                f"validation, training runs max_epochs={self.max_epochs}.",
                InnerSplitWarning,
            )
        return tr, va[covered]

    def _validation_splits(self, X, groups, keep, rng, targets=None):
        """[(train rows, validation rows or None)]: the early-stopping split,
        or with ``refit=k`` (an int) ``k`` folds of the training speakers,
        each held out once (validation rows of classes its training part
        lacks left out, as for one split)."""
        tr, va = self._inner_split(X, groups, keep, rng, targets)
        if va is not None and not len(va):
            va = None
        k = self.refit
        if va is None or isinstance(k, bool):
            return [(tr, va)]
        groups = _speakers_of(X, groups)
        if groups is None:  # random utterances (warned): one split
            return [(tr, va)]
        g = np.asarray(groups)[keep]
        speakers = np.unique(g)
        parts = np.array_split(check_random_state(rng.randint(2**31 - 1)).permutation(
            speakers), min(k, len(speakers)))
        out = []
        for part in parts:
            held = np.isin(g, part)
            tr, va = np.flatnonzero(~held), np.flatnonzero(held)
            va = va[self._covered(targets, tr, va)]
            if len(va):
                out.append((tr, va))
        return out or [(np.arange(len(g)), None)]

    def _covered(self, t, tr, va):
        """Which validation rows have a (strongest) class that the training
        rows have too (all rows for existence targets)."""
        if t is None or self.target_kind_ == "existence":
            return np.ones(len(va), dtype=bool)
        labels = t if np.ndim(t) == 1 else np.asarray(t).argmax(axis=1)
        return np.isin(labels[va], np.unique(labels[tr]))

    def _check_confounded_split(self, groups, t):
        """Warn when the held-out speakers would take their emotions along."""
        from ..features import (
            CONFOUND_THRESHOLD,
            speaker_label_dependence,
        )

        if t is None or self.target_kind_ == "existence" or self.refit:
            return  # refit: the held-out speakers only choose the epochs
        labels = t if t.ndim == 1 else np.asarray(t).argmax(axis=1)
        dep = speaker_label_dependence(groups, labels)
        if np.isfinite(dep) and dep >= CONFOUND_THRESHOLD:
            ser_warn(
                f"{type(self).__name__}: the speakers predict the training labels "
                f"(speaker explains {dep:.0%} of their entropy: speakers show one "
                "or a few emotions), so holding out whole speakers for early "
                "stopping removes emotions from training. Use refit=True (they "
                "choose the number of epochs, then every speaker trains for that "
                "many; BENCHMARKS.md).",
                InnerSplitWarning,
            )

    # -- fit ------------------------------------------------------------------------
    def _fit_inputs(self, X, y, groups):
        """Validated sequences and targets, seeded RNGs: the start of every fit."""
        self._validate_params()
        if (self.weight_averaging and self.validation_fraction is not None
                and not self.refit):
            raise ValueError(
                f"{type(self).__name__}: weight_averaging={self.weight_averaging} "
                "averages the last epochs of a fixed-length training, but early "
                f"stopping (validation_fraction={self.validation_fraction}, "
                "refit=False) keeps the best epoch's weights instead. Set "
                "validation_fraction=None (train max_epochs) or refit=True (the "
                "held-out speakers choose the epochs; the final network averages "
                "its last ones).")
        X = as_input(X)
        frames, ids = sequences_from(X, type(self).__name__)
        if groups is not None and len(groups) != len(frames):
            raise ValueError(
                f"groups has {len(groups)} entries but X has {len(frames)} utterances."
            )
        keep, t, counts = self._targets(X, y)
        rng = check_random_state(self.random_state)
        seed = rng.randint(2**31 - 1)
        torch.manual_seed(seed)
        self.n_features_in_ = frames[0].shape[1]
        self.n_layers_ = self._input_layers(frames)
        self.classes_ = np.asarray(self.target_encoder_.classes_)
        return X, frames, ids, keep, t, counts, rng, seed

    #: estimators without the parameter (NoisyLabelMetaClassifier) weight the
    #: layers of stacked frames too; FrozenFusionClassifier sets it off (its
    #: encoders weight them)
    layer_weights = "auto"
    #: estimators of third parties whose constructor lacks it keep the best
    #: epoch's weights of the held-out run (no refit)
    refit = False
    #: share of the last epochs whose weights are averaged (0: none); a
    #: constructor parameter of every network of the package
    weight_averaging = 0

    def _input_layers(self, frames):
        """Hidden layers to weight and sum (1: none), from ``layer_weights``
        and the layers the frames hold."""
        stacked = int(getattr(frames, "layers", 1))
        if self.layer_weights is False:
            return 1
        if self.layer_weights is True and stacked == 1:
            raise ValueError(
                f"{type(self).__name__}(layer_weights=True) needs frames that hold "
                "several hidden layers of a speech model side by side "
                "(PretrainedFrames(layers='all')); these hold plain features "
                f"({frames.dim} per frame). Use layer_weights='auto' or False."
            )
        return stacked

    @property
    def layer_weights_(self):
        """Learned weight of each hidden layer (softmax), or None when the
        network sums no layers."""
        check_is_fitted(self, "net_")
        module = self.net_.module_
        if not isinstance(module, LayerWeightedNet):
            return None
        return module.weights().cpu().numpy()

    @keeps_torch_rng
    def fit(self, X, y, groups=None):
        """Train on frame sequences and annotations.

        Parameters
        ----------
        X : DataFrame with a ``frames`` column, or list of (T, D) arrays
            Output of a feature extractor (metadata such as ``speaker`` is
            used for the early-stopping split), or plain sequences.
        y : annotation table, vote-count table or 1-D labels
            Turned into targets by ``target``; rows with no usable target are
            left out (a ``DroppedRowsWarning`` gives the count).
        groups : array-like, default=None
            Speaker (or session) of each utterance for the early-stopping
            split; by default ``X["speaker"]``. Routed by metadata routing
            when requested (``set_fit_request(groups=True)``).

        Returns
        -------
        self : object
        """
        X, frames, ids, keep, t, counts, rng, seed = self._fit_inputs(X, y, groups)
        tensors = self._tensors(frames[np.asarray(keep, dtype=bool)])
        splits = self._validation_splits(X, groups, keep, rng, t)
        target_t = torch.as_tensor(t)
        stages = []  # (name, net), each added before it trains
        with self._recording(stages):
            for stage, tr, va, run_seed in validation_runs(splits, seed):
                valid_ds = (SequenceDataset(tensors.subset(va), target_t[va])
                            if va is not None else None)
                self._train_net(stages, stage, tensors, target_t, t, tr, valid_ds,
                                run_seed)
            # one split: its best epoch; k folds: the best of their mean curve
            self.best_epoch_ = (best_epoch(self.net_) if len(splits) == 1 else
                                mean_curve_best([net for _, net in stages],
                                                getattr(self, "monitor", "loss")))
            if self.refit and splits[0][1] is not None:
                # the held-out speakers chose the epoch count; now every
                # training utterance trains for that many epochs
                torch.manual_seed(seed)
                self._train_net(stages, "refit", tensors, target_t, t,
                                np.arange(len(t)), None, seed,
                                max_epochs=self.best_epoch_)
        return self

    @contextlib.contextmanager
    def _recording(self, stages):
        """Around the training stages: ``interrupted_`` on Ctrl-C (which
        propagates, as scikit-learn users expect; what was trained so far
        stays inspectable), and ``n_iter_`` / ``history_`` in every case."""
        self.interrupted_ = False
        try:
            yield
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise
        finally:
            self.n_iter_ = len(stages[-1][1].history) if stages else 0
            self.history_ = history_table(stages)

    def _train_net(self, stages, stage, tensors, target_t, t, rows, valid_ds, seed,
                   **net_params):
        """Build a net on training rows ``rows`` and fit it; ``net_`` and
        ``stages`` hold it before it trains (an interrupted fit keeps what it
        trained)."""
        net = self._make_net(valid_ds, self._criterion_params(
            t[rows], _counts_of(t[rows], len(self.classes_), self.target_kind_)),
            **net_params)
        net.seed_ = seed
        self.net_ = net
        stages.append((stage, net))
        with torch_threads_for_fit():
            net.fit(SequenceDataset(tensors.subset(rows), target_t[rows]), None)

    def _make_net(self, valid_ds, criterion_params, *, callbacks=(), valid_uar=None,
                  threshold=1e-4, **net_params):
        """The one place that builds a skorch net for this package.

        Parameters
        ----------
        valid_ds : SequenceDataset or None
            Early-stopping validation data (``predefined_split``); None trains
            ``max_epochs``.
        criterion_params : dict
            ``criterion__*`` parameters of :class:`SERLoss`.
        callbacks : list of (name, Callback)
            Run after the early stopping callback, in this order.
        valid_uar : bool, default=None
            Record ``valid_uar`` (default: when ``monitor="uar"``).
        threshold : float
            EarlyStopping's relative improvement threshold.
        **net_params
            Other skorch parameters (``module``, ``lr``, ``max_epochs``,
            ``iterator_valid__batch_size``...) over the estimator's.
        """
        monitor = getattr(self, "monitor", "loss")
        cbs = [("finite_loss", _FiniteLoss())]
        train_split = None
        if valid_ds is not None:
            train_split = predefined_split(valid_ds)
            if valid_uar or (valid_uar is None and monitor == "uar"):
                cbs.append(("valid_uar", _ValidUAR()))
            cbs.append(("early_stopping", EarlyStopping(
                monitor=f"valid_{monitor}", lower_is_better=monitor == "loss",
                patience=self.patience, load_best=True, threshold=threshold)))
        if self.weight_averaging and valid_ds is None:
            # a fixed number of epochs: the last ones are averaged
            cbs.append(("weight_averaging", _WeightAveraging(
                self.weight_averaging, net_params.get("max_epochs", self.max_epochs))))
        cbs.extend(callbacks)
        params = dict(
            criterion=SERLoss,
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=SequenceLoader,
            iterator_train__bucket=self.bucket,
            iterator_valid=SequenceLoader,
            iterator_valid__bucket=self.bucket,
            train_split=train_split,
            callbacks=cbs,
            device=self.device,
            verbose=self.verbose,
            **criterion_params,
        )
        params.update(net_params)
        if "module" not in params:
            n_layers = getattr(self, "n_layers_", 1)
            module = self._build_module(self.n_features_in_ // n_layers,
                                        len(self.classes_))
            if n_layers > 1:
                module = LayerWeightedNet(module, n_layers)
            params["module"] = module
        return _SERNet(**params)

    # -- inference ------------------------------------------------------------------
    @property
    def module_(self):
        """The fitted torch module (``embed`` gives the penultimate
        representation; :class:`FrozenFusionClassifier` stacks such modules)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    def _forward(self, X, what="logits", batch_size=None):
        check_is_fitted(self, "net_")
        frames, _ = sequences_from(X, type(self).__name__)
        if len(frames) and frames.dim != self.n_features_in_:
            raise ValueError(
                f"X has {frames.dim} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input (per frame)."
            )
        tensors = self._tensors(frames)
        ds = SequenceDataset(tensors)
        loader = SequenceLoader(ds, batch_size=batch_size or max(self.batch_size, 64),
                                shuffle=False, bucket=True)
        module = self.net_.module_
        module.eval()
        device = self.net_.device
        outputs = [None] * len(tensors)
        order = iter(loader.batch_sampler)
        with torch.no_grad():
            for (xb, _), idx in zip(loader, order, strict=True):
                x = xb["x"].to(device)
                lengths = xb["lengths"].to(device)
                if what == "embed":
                    out = module.embed(x, lengths)
                else:
                    out = module(x, lengths)
                if what == "attention":
                    att = module.last_attention.cpu().numpy()
                    steps = (module.out_lengths(lengths).cpu().numpy()
                             if hasattr(module, "out_lengths") else
                             lengths.cpu().numpy())
                    for j, i in enumerate(idx):
                        outputs[i] = att[j, : steps[j]]
                    continue
                out = out.cpu().numpy()
                for j, i in enumerate(idx):
                    outputs[i] = out[j]
        if what == "attention":
            return outputs
        return np.stack(outputs).astype(np.float32)

    def decision_function(self, X):
        """Logits, one column per class in ``classes_``.

        With two classes, as in scikit-learn, a 1-D score for ``classes_[1]``
        (the difference of the two logits).
        """
        logits = self._forward(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities (softmax); for existence targets the per-class
        existence probabilities (sigmoid, rows need not sum to 1)."""
        logits = torch.from_numpy(self._forward(X))
        if getattr(self, "target_kind_", "hard") == "existence":
            return torch.sigmoid(logits).numpy()
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X):
        """Most probable class (Eq. 7 of Ando et al. for existence targets)."""
        logits = self._forward(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the penultimate representation of ``X``."""
        return self.fit(X, y, **fit_params).transform(X)

    def transform(self, X):
        """Penultimate representation (the input of the output layer)."""
        return self._forward(X, what="embed")

    def attention_weights(self, X):
        """Attention weights over time, one 1-D array per utterance."""
        return self._forward(X, what="attention")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        tags.classifier_tags.poor_score = True
        # transform() gives the penultimate representation
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags


#: Early-stopping splits tried for one whose validation emotions all occur in
#: its training part.
_SPLIT_TRIES = 20


def _speakers_of(X, groups):
    """The early-stopping groups: ``groups``, else X's ``speaker`` column."""
    if groups is None and isinstance(X, pd.DataFrame) and "speaker" in X.columns:
        return X["speaker"].to_numpy()
    return groups


def validation_runs(splits, seed):
    """(stage name, train rows, validation rows, seed) per early-stopping
    split; torch is reseeded for every split after the first."""
    for i, (tr, va) in enumerate(splits):
        stage = ("train" if va is None else "validation" if len(splits) == 1
                 else f"validation {i + 1}")
        if i:
            torch.manual_seed(seed + i)
        yield stage, tr, va, seed + i


def best_epoch(net):
    """The epoch whose weights the net kept: early stopping's best epoch, or
    its last epoch when nothing stopped it."""
    stopper = dict(getattr(net, "callbacks_", [])).get("early_stopping")
    best = getattr(stopper, "best_epoch_", 0) if stopper is not None else 0
    return int(best) if best else len(net.history)


def mean_curve_best(nets, monitor="loss"):
    """The best epoch of the mean validation curve of several nets (one per
    held-out fold); a curve that early stopping ended is continued at its
    last value (its score had stopped improving)."""
    key = f"valid_{monitor}"
    curves = [np.asarray(net.history[:, key], dtype=float) for net in nets]
    length = max(len(c) for c in curves)
    mean = np.mean([np.concatenate([c, np.full(length - len(c), c[-1])])
                    for c in curves], axis=0)
    return int((np.argmin(mean) if monitor == "loss" else np.argmax(mean)) + 1)


#: The columns of ``history_`` (those a net recorded).
HISTORY_COLUMNS = ("epoch", "phase", "train_loss", "valid_loss", "valid_uar",
                   "averaged", "dur")


def history_table(stages):
    """``history_``: one row per epoch of each (stage, net), with a ``stage``
    column when there is more than one stage (``"validation"`` then
    ``"refit"``)."""
    rows = []
    for stage, net in stages:
        for h in net.history:
            row = {k: h.get(k) for k in HISTORY_COLUMNS if k in h}
            if len(stages) > 1:
                row = {"stage": stage, **row}
            rows.append(row)
    return pd.DataFrame(rows)


def _counts_of(t, n_classes, kind):
    if kind == "hard":
        return np.bincount(np.asarray(t, dtype=np.int64), minlength=n_classes)
    return np.asarray(t, dtype=float).sum(axis=0)


