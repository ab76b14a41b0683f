"""The skorch net of every network and its callbacks: finite-loss check,
weight averaging, validation UAR, length-bucketed batches, a Ctrl-C that
stops; the training history helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_device
from torch.optim.swa_utils import AveragedModel

from ..._parallel import record_sigint


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


class WindowedEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` on the mean of the last ``window`` epochs'
    validation scores, restoring the mean of those epochs' weights.

    One epoch's score on a few held-out speakers is noisy: the best single
    epoch among many is partly the luckiest. The mean over a window of
    epochs is a steadier curve, and the mean of the window's weights (as in
    stochastic weight averaging; parameters only, buffers stay the window's
    last epoch's) the model that curve describes. ``best_epoch_`` is the
    window's last epoch (the epochs trained to reach it). ``window=1`` is
    skorch's rule.
    """

    def __init__(self, window=1, **kwargs):
        super().__init__(**kwargs)
        self.window = window

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.recent_ = []  # (score, parameters) of the last `window` epochs

    def on_epoch_end(self, net, **kwargs):
        score = float(net.history[-1, self.monitor])
        params = [p.detach().clone() for p in net.module_.parameters()]
        self.recent_ = (self.recent_ + [(score, params)])[-self.window:]
        smoothed = float(np.mean([s for s, _ in self.recent_]))
        net.history.record(f"{self.monitor}_mean", smoothed)
        if not self._is_score_improved(smoothed):
            self.misses_ += 1
        else:
            self.misses_ = 0
            self.dynamic_threshold_ = self._calc_new_threshold(smoothed)
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                state = {k: v.detach().clone()
                         for k, v in net.module_.state_dict().items()}
                names = [n for n, _ in net.module_.named_parameters()]
                for i, name in enumerate(names):
                    state[name] = torch.stack(
                        [ps[i] for _, ps in self.recent_]).mean(0)
                self.best_model_weights_ = state
        if self.misses_ == self.patience:
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        self.recent_ = []  # not kept, nor pickled
        if self.load_best and self.best_model_weights_ is not None:
            net.module_.load_state_dict(self.best_model_weights_)


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


def forked_torch_rng():
    """A context in which torch may be seeded: the caller's global torch
    random state (CPU and initialised CUDA devices) is the same after it."""
    devices = (list(range(torch.cuda.device_count()))
               if torch.cuda.is_available() and torch.cuda.is_initialized() else [])
    return torch.random.fork_rng(devices=devices)


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
                    if len(self.history):  # before the first epoch: nothing to end
                        try:
                            self.notify("on_train_end", X=X, y=y)
                        except Exception:  # an epoch cut short: the interrupt
                            pass  # is what happened, and what propagates
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
                   "valid_loss_mean", "valid_uar_mean", "averaged", "dur")


def history_table(stages):
    """``history_``: one row per epoch of each (stage, net), with a ``stage``
    column when there is more than one stage (``"validation"`` then
    ``"refit"``)."""
    rows = []
    for stage, net in stages:
        # a net interrupted before skorch built its history has none
        for h in getattr(net, "history", None) or ():
            row = {k: h.get(k) for k in HISTORY_COLUMNS if k in h}
            if len(stages) > 1:
                row = {"stage": stage, **row}
            rows.append(row)
    return pd.DataFrame(rows)
