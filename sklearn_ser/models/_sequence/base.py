"""SequenceClassifier: the scikit-learn estimator around the skorch net,
shared by every network (targets, early-stopping splits, refit, averaging)."""

from __future__ import annotations

import contextlib
import numbers
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ..._device import torch_device
from ..._parallel import torch_threads_for_fit
from ..._warnings import ser_warn
from ...annotations import (
    BaseTargetEncoder,
    check_annotations,
    rare_classes,
    report_missing,
)
from ...exceptions import AbsentClassWarning, RareClassWarning
from ...metrics import UARScoreMixin
from .._inputs import as_input, make_target_encoder, sequences_from, target_kind
from .._nn.data import SequenceDataset, SequenceLoader, SequenceTensors
from .._nn.losses import SERLoss, balanced_weights, existence_weights
from .._nn.modules import LayerWeightedNet
from .._nn.net import (
    OPTIMIZERS,
    WindowedEarlyStopping,
    _FiniteLoss,
    _SERNet,
    _ValidUAR,
    _WeightAveraging,
    best_epoch,
    forked_torch_rng,
    history_table,
    mean_curve_best,
    validation_runs,
)
from .._template import OneFitMixin
from ._splits import EarlyStoppingSplits


@dataclass
class FitInputs:
    """What the start of a network's fit built, once (:meth:`SequenceClassifier.
    _fit_inputs`): X as given (its ``speaker`` column for the splits), its
    ``groups``, its frames, ids, the rows with a target, the targets (class codes or
    distributions), per-class counts, the seeded RNG and torch seed."""

    X: object
    groups: object
    frames: object
    ids: list
    keep: np.ndarray
    t: np.ndarray
    counts: np.ndarray
    rng: object
    seed: int


#: The constructor of a network from its class annotations (a dataclass
#: ``__init__``: each parameter is defined once, the training ones here in
#: :class:`SequenceClassifier`, a network's own and its paper's defaults in
#: its class). ``eq`` and ``repr`` stay scikit-learn's.
parameters = dataclass(eq=False, repr=False, kw_only=True)


@dataclass(eq=False, repr=False)
class SequenceClassifier(OneFitMixin, EarlyStoppingSplits, UARScoreMixin,
                         ClassifierMixin, BaseEstimator):
    """Base class: fit on sequences and ratings, predict emotions.

    Subclasses implement ``_build_module(n_features, n_outputs)``, declare
    their own parameters as annotated class attributes under
    :data:`parameters` and redeclare the training parameters whose default
    their paper sets (``lr: float = 5e-4``).
    """

    target: str | BaseTargetEncoder = "hard"
    _: KW_ONLY
    classes: list | None = None
    label_map: dict | str | None = None
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 100
    patience: int | None = 10
    monitor: str = "loss"
    validation_fraction: float | None = 0.1
    refit: bool | int = False
    weight_averaging: float = 0.0
    stopping_window: int = 1
    class_weight: str | dict | None = "balanced"
    bucket: bool = True
    device: str = "cpu"
    callbacks: list | None = None
    random_state: int | None = None
    verbose: int = 0

    _no_common_checks = "an abstract base (no _build_module)"

    #: reads frame sequences and annotation tables (a meta-estimator converts
    #: and parses them once for all its members)
    _reads_frames: ClassVar[bool] = True
    _reads_ratings: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict] = {
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
        "stopping_window": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "layer_weights": ["boolean", StrOptions({"auto"})],
        "bucket": ["boolean"],
        "device": [str],
        "callbacks": [list, None],
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
        status = None
        if self.target_kind_ == "hard" and hasattr(enc, "_class_codes"):
            # the majority decided once, as codes (no label strings between)
            codes, status = enc._class_codes(y)
            keep = codes >= 0
        else:
            targets = enc.transform(y)
            values = targets.to_numpy() if isinstance(targets, pd.DataFrame) else (
                targets.to_numpy(dtype=object))
            if values.ndim == 1:
                keep = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
            else:
                keep = ~np.isnan(values.astype(float)).any(axis=1)
        report_missing(enc, y, ~keep, f"{type(self).__name__}: left out",
                       what="training utterance(s)", status=status)
        if not keep.any():
            raise ValueError(
                f"No training utterance has a usable {self.target_kind_} target."
            )
        classes = np.asarray(enc.classes_)
        if self.target_kind_ == "hard":
            if status is not None:
                t = codes[keep]
            else:  # a hard encoder of the user's: its labels, coded here
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

    # -- fit ------------------------------------------------------------------------
    def _check_params(self):
        """Settings that only fit together (after ``_parameter_constraints``,
        before any work); a network with more such rules extends it."""
        torch_device(self.device, type(self).__name__)  # one this machine has
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

    def _fit_inputs(self, X, y, groups):
        """Checked sequences and targets, seeded RNGs: the start of every fit
        (step 2 of the fit template, :mod:`sklearn_ser.models._template`)."""
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
        return FitInputs(X, groups, frames, ids, keep, t, counts, rng, seed)

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

    #: a fit stopped by Ctrl-C keeps the nets it trained (``interrupted_``)
    _keeps_interrupted_fit = True

    def _fit_scope(self):
        """Torch is seeded from ``random_state`` on a forked RNG: the caller's
        global torch random state is the same after the fit."""
        return forked_torch_rng()

    def _fit(self, inputs):
        """Train on what :meth:`_fit_inputs` built: one net per early-stopping
        split (``refit=k``: k of them), then a refit on every row. A network
        with its own training implements ``_fit`` (``NoisyLabelMetaClassifier``)."""
        X, groups, frames, keep, t, rng, seed = (
            inputs.X, inputs.groups, inputs.frames, inputs.keep, inputs.t, inputs.rng,
            inputs.seed)
        tensors = self._tensors(frames[np.asarray(keep, dtype=bool)])
        # rows a meta-estimator holds out of this fit only (not of a later one)
        held = self.__dict__.pop("_held_out", None)
        splits = self._validation_splits(X, groups, keep, rng, t, held=held)
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
                rows = (np.arange(len(t)) if held is None
                        else splits[0][0])  # rows held out by a meta-estimator stay out
                self._train_net(stages, "refit", tensors, target_t, t,
                                rows, None, seed, max_epochs=self.best_epoch_)
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
            last = getattr(stages[-1][1], "history", None) if stages else None
            self.n_iter_ = len(last) if last is not None else 0
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
            window = getattr(self, "stopping_window", 1)
            stopper = dict(monitor=f"valid_{monitor}",
                           lower_is_better=monitor == "loss",
                           patience=self.patience, load_best=True,
                           threshold=threshold)
            cbs.append(("early_stopping", EarlyStopping(**stopper) if window == 1
                        else WindowedEarlyStopping(window=window, **stopper)))
        if self.weight_averaging and valid_ds is None:
            # a fixed number of epochs: the last ones are averaged
            cbs.append(("weight_averaging", _WeightAveraging(
                self.weight_averaging, net_params.get("max_epochs", self.max_epochs))))
        cbs.extend(callbacks)
        cbs.extend(self.callbacks or ())  # the user's, after ours (skorch's form)
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
            device=str(torch_device(self.device, type(self).__name__)),
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


def _counts_of(t, n_classes, kind):
    if kind == "hard":
        return np.bincount(np.asarray(t, dtype=np.int64), minlength=n_classes)
    return np.asarray(t, dtype=float).sum(axis=0)
