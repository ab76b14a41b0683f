"""Label correction and sample weights through meta-learning (Fujioka et al.)."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback

from ..._device import torch_device
from ..._parallel import torch_threads_for_fit
from .._docstrings import fill_doc
from .._inputs import make_target_encoder, target_kind
from .._nn.data import SequenceDataset, SequenceLoader
from .._nn.losses import SERLoss, balanced_weights
from .._nn.net import best_epoch, validation_runs
from .base import parameters
from .blstm_attention import BLSTMAttentionClassifier


@fill_doc
@parameters
class NoisyLabelMetaClassifier(BLSTMAttentionClassifier):
    """BLSTM with attention that corrects its labels and weighs its samples.

    Fujioka et al. (ICASSP 2020, Interspeech 2020) learn, next to the network
    parameters theta, per training utterance ``n``:

    * label logits ``L_n``, initialised from the one-hot gold label (times
      ``label_logit_scale``); the training target is ``s_n = softmax(L_n)``
      (Eq. 7), never the gold label itself;
    * a contribution weight ``w_n``, initialised by Eq. 4: the frequency of
      the sample's class divided by the mean of those frequencies, so frequent
      classes start with a *larger* ``w_n``.

    The loss of a sample is its cross entropy against ``s_n`` **divided** by
    ``w_n`` (Eq. 6): a *lower* ``w_n`` means a *larger* weight in the loss.
    Training alternates (Algorithm 1): one epoch updates theta with ``L`` and
    ``w`` fixed, the next updates ``L`` and ``w`` with theta fixed (network
    in evaluation mode); after every update ``w`` is kept positive and
    rescaled to mean 1 (Eq. 8). Early stopping watches the loss on held-out
    speakers against their gold labels.

    Defaults follow Fujioka et al. 3.2: Dense(512, ReLU), BLSTM(128),
    attention, output (``head_units=None``), dropout 0.5, Adam. The gold label
    is the hard majority of the ratings.

    Parameters
    ----------
    update : {"Lw", "L", "w", "none"}, default="Lw"
        Which of ``L`` and ``w`` are learned: the paper's BLSTM + L + w,
        + L, + w, and its baseline BLSTM + ATT (``"none"``: gold labels and
        the fixed class-frequency weights of Eq. 4).
    pretrain : bool, default=False
        Train the network on the gold labels until early stopping first
        (the paper's "pretrained" variant), then alternate.
    meta_lr : float, default=0.1
        Step size of the (per-sample, plain gradient) updates of ``L`` and ``w``.
    label_logit_scale : float, default=1.0
        ``L_n`` starts as this times the one-hot gold label (1.0 = the paper).
    min_weight : float, default=0.01
        Lower bound of ``w_n`` (a loss weight of at most ``1 / min_weight``),
        kept through the rescaling: values below it are raised and the rest
        rescaled again.
    weight_norm : {"global", "class"}, default="global"
        How ``w`` is rescaled after each update. ``"global"`` (Eq. 8, the
        paper): the mean over all training utterances is 1, so the class
        balance of Eq. 4 is free to change -- with the per-sample gradient
        steps it is gone within a few epochs (every class mean near 1).
        ``"class"`` (a measured departure): each gold class keeps its Eq. 4
        mean (the overall mean stays 1), so ``w`` only moves weight from the
        ambiguous to the clear utterances of one class. The command line's
        ``noisy_meta`` uses it, with ``monitor="uar"`` (measured:
        :doc:`/defaults`).
    %(target_params)s
        Here ``target`` must give hard gold labels (the majority by default).
    dense_units, lstm_units : int, default=512, 128
        Layer sizes (Fujioka et al. 3.2).
    head_units : int or None, default=None
        A second dense layer (None: the paper's network has none).
    dropout : float, default=0.5
    optimizer : {"adam", "adamax", "sgd"}, default="adam"
    class_weight : "balanced", dict or None, default=None
        Per-class multipliers of the training loss, on top of the learned
        ``w_n``. None (the paper): Eq. 4's initial ``w_n`` already balance the
        classes.
    %(layer_weights)s
    %(training_params)s
    Attributes
    ----------
    corrected_labels_ : Series
        ``argmax softmax(L_n)`` by training utterance id.
    label_distributions_ : DataFrame
        ``softmax(L_n)`` by training utterance id.
    sample_weights_ : Series
        Learned ``w_n`` by training utterance id (lower = more weight).
    gold_labels_ : Series
        The gold (majority) label of each training utterance.
    transition_matrix_ : DataFrame
        Share of each gold label updated to each corrected label (Fig. 3).
    weights_by_class_ : DataFrame
        Mean ``w_n`` per gold class before and after training (Table 3).
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(dense_units=8, lstm_units=4, lr=0.02, max_epochs=15,
                    random_state=0)]

    _parameter_constraints: ClassVar[dict] = {
        **BLSTMAttentionClassifier._parameter_constraints,
        "update": [StrOptions({"Lw", "L", "w", "none"})],
        "pretrain": ["boolean"],
        "meta_lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "label_logit_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_weight": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_norm": [StrOptions({"global", "class"})],
    }

    update: str = "Lw"
    pretrain: bool = False
    meta_lr: float = 0.1
    label_logit_scale: float = 1.0
    min_weight: float = 0.01
    weight_norm: str = "global"
    dense_units: int = 512
    head_units: int | None = None
    optimizer: str = "adam"
    class_weight: str | dict | None = None

    # -- fit -----------------------------------------------------------------
    def _check_params(self):
        super()._check_params()
        if target_kind(make_target_encoder(self.target)) != "hard":
            raise ValueError(
                "NoisyLabelMetaClassifier learns from hard gold labels; use "
                f"target='hard' (got target={self.target!r})."
            )

    def _fit(self, inputs):
        """Alternate network epochs and label/weight epochs (Algorithm 1).

        One skorch net trains the network (``partial_fit`` once per phase:
        the gold-label pre-training when ``pretrain=True``, then the
        alternation); a :class:`_LabelWeightUpdate` callback runs the ``L``/
        ``w`` epoch after each network epoch and keeps the ``(L, w)`` of the
        epoch EarlyStopping keeps; the validation loss is the gold-label
        cross entropy (the net's ``valid_criterion_``). The start of the fit
        is every network's (:meth:`SequenceClassifier._fit_inputs`).
        """
        X, groups, frames, ids, keep, t, rng, seed = (
            inputs.X, inputs.groups, inputs.frames, inputs.ids, inputs.keep, inputs.t,
            inputs.rng, inputs.seed)
        kept_ids = np.asarray(ids, dtype=object)[keep]
        tensors = self._tensors(frames[np.asarray(keep, dtype=bool)])
        splits = self._validation_splits(X, groups, keep, rng, t)
        phases = ["gold", "meta"] if self.pretrain else ["meta"]
        if self.update == "none":
            phases = ["gold"]
        stages = []
        with self._recording(stages):
            kept = []
            for stage, tr, va, run_seed in validation_runs(splits, seed):
                state, epochs = self._train(stages, stage, tensors, t, tr, va,
                                            run_seed,
                                            {p: self.max_epochs for p in phases})
                kept.append(epochs)
            # each phase's epochs: the median over the held-out folds
            epochs = {p: int(np.ceil(np.median([e[p] for e in kept])))
                      for p in phases}
            self.best_epoch_ = sum(epochs.values())
            if self.refit and splits[0][1] is not None:
                # the held-out speakers chose each phase's epochs; every
                # training utterance now trains for that many
                torch.manual_seed(seed)
                tr = np.arange(len(t))
                state, _ = self._train(stages, "refit", tensors, t, tr, None, seed,
                                       epochs)
        self._describe(state, kept_ids[tr])
        return self

    def _train(self, stages, stage, tensors, t, tr, va, seed, epochs):
        """One net trained on rows ``tr`` (early stopping on ``va`` when
        given) for at most ``epochs[phase]`` epochs per phase; returns the
        label/weight state and the epochs each phase kept."""
        K = len(self.classes_)
        state = _LabelWeightUpdate(self, t[tr], K, seed,
                                   device=torch_device(self.device,
                                                       type(self).__name__))
        train_ds = SequenceDataset(tensors.subset(tr), state.targets("gold"),
                                   sample_ids=torch.arange(len(tr)))
        valid_ds = None
        if va is not None:
            valid_ds = SequenceDataset(tensors.subset(va),
                                       torch.as_tensor(t[va], dtype=torch.long))
        gold_counts = np.bincount(t[tr], minlength=K)
        net = self._make_net(
            valid_ds, self._train_criterion(gold_counts),
            callbacks=[("label_weight_update", state)], valid_uar=True, threshold=0.0,
            iterator_train__seed_per_epoch=True,
            iterator_valid__batch_size=64, iterator_valid__bucket=True,
            # early stopping on the gold labels of the held-out speakers
            valid_criterion=SERLoss, valid_criterion__kind="hard",
            valid_criterion__weight=balanced_weights(gold_counts),
        )
        net.seed_ = seed
        net.initialize()
        self.net_ = net
        stages.append((stage, net))
        kept = {}
        # weight averaging (no validation): the last epochs of each phase
        averager = dict(net.callbacks_).get("weight_averaging")
        with torch_threads_for_fit():  # a fair share of the idle cores
            for phase, n in epochs.items():
                if n < 1:
                    kept[phase] = 0
                    continue
                state.phase = phase
                if averager is not None:
                    averager.epochs = n
                start = len(net.history)
                net.partial_fit(train_ds, None, epochs=n)
                # early stopping restored the phase's best epoch
                kept[phase] = (best_epoch(net) - start if valid_ds is not None
                               else len(net.history) - start)
        return state, kept

    def _train_criterion(self, gold_counts):
        """Soft cross entropy against ``s_n``; ``class_weight`` multiplies it
        per class (default None: Eq. 4's ``w_n`` already balances the classes)."""
        params = {"criterion__kind": "soft"}
        if isinstance(self.class_weight, dict):
            params["criterion__weight"] = np.array(
                [float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        elif self.class_weight == "balanced":
            params["criterion__weight"] = balanced_weights(gold_counts)
        return params

    def _describe(self, state, train_ids):
        """The fitted attributes of the paper's tables and figures."""
        L, w = state.best_L.cpu(), state.best_w.cpu()
        gold = state.gold.cpu()
        train_ids = pd.Index(train_ids, name="utterance")
        dist = torch.softmax(L, dim=1).numpy()
        self.label_distributions_ = pd.DataFrame(dist, index=train_ids,
                                                 columns=list(self.classes_))
        self.corrected_labels_ = pd.Series(self.classes_[dist.argmax(axis=1)],
                                           index=train_ids, name="corrected")
        self.gold_labels_ = pd.Series(self.classes_[gold.numpy()], index=train_ids,
                                      name="gold")
        self.sample_weights_ = pd.Series(w.numpy(), index=train_ids, name="w")
        self.transition_matrix_ = pd.crosstab(
            self.gold_labels_, self.corrected_labels_, normalize="index"
        ).reindex(index=self.classes_, columns=self.classes_, fill_value=0.0)
        w_init = state.w_init.cpu()
        by_class = {}
        for k, c in enumerate(self.classes_):
            mask = (gold == k).numpy()
            by_class[c] = [float(w_init[mask].mean()) if mask.any() else np.nan,
                           float(w[mask].mean()) if mask.any() else np.nan]
        self.weights_by_class_ = pd.DataFrame(by_class, index=["initial", "learned"])


class _LabelWeightUpdate(Callback):
    """Fujioka et al.'s ``L`` and ``w`` as a skorch callback (Algorithm 1).

    ``on_epoch_begin`` gives the training data its targets (one-hot gold
    labels in the ``"gold"`` phase, ``softmax(L)`` in the ``"meta"`` phase,
    Eq. 7) and its per-sample weights ``1 / w`` (Eq. 6); ``on_epoch_end``, in
    the meta phase, runs one epoch of plain gradient steps on ``L`` and/or
    ``w`` with the network fixed, keeps ``w`` positive with mean 1 (Eq. 8),
    and snapshots ``(L, w)`` whenever EarlyStopping keeps the epoch
    (``best_L``, ``best_w``; every epoch without validation). The tensors live
    on the net's device.
    """

    def __init__(self, estimator, gold, n_classes, seed, device="cpu"):
        self.estimator = estimator
        self.seed = seed
        self.phase = "meta"
        self.gold, self.L, self.w = label_weight_init(
            gold, n_classes, estimator.label_logit_scale, device)
        self.one_hot = torch.nn.functional.one_hot(self.gold, n_classes).float()
        self.w_init = self.w.clone()
        self.best_L, self.best_w = self.L.clone(), self.w.clone()

    def targets(self, phase):
        return (self.one_hot if phase == "gold" else torch.softmax(self.L, dim=1)).cpu()

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        dataset_train.targets = self.targets(self.phase)
        dataset_train.sample_weight = (1.0 / self.w).cpu()  # Eq. 6: loss / w_n
        net.history.record("phase", self.phase)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if self.phase == "meta":
            self._meta_epoch(net, dataset_train, net.history[-1, "epoch"])
        stopper = dict(net.callbacks_).get("early_stopping")
        if stopper is None or stopper.best_epoch_ == net.history[-1, "epoch"]:
            self.best_L, self.best_w = self.L.clone(), self.w.clone()

    def on_train_end(self, net, **kwargs):
        # the (L, w) of the epoch whose network EarlyStopping restored
        self.L, self.w = self.best_L.clone(), self.best_w.clone()

    def _meta_epoch(self, net, dataset, epoch):
        est = self.estimator
        module = net.module_
        module.eval()
        loader = SequenceLoader(dataset, batch_size=est.batch_size, shuffle=True,
                                bucket=est.bucket, seed=self.seed * 31 + epoch)
        learn_L = est.update in {"Lw", "L"}
        learn_w = est.update in {"Lw", "w"}
        L, w, device = self.L, self.w, self.L.device
        for xb, _ in loader:
            ids = xb["sample_ids"].to(device)
            with torch.no_grad():
                logp = torch.log_softmax(
                    module(xb["x"].to(device), xb["lengths"].to(device)), dim=1)
            L_b = L[ids].detach().requires_grad_(learn_L)
            w_b = w[ids].detach().requires_grad_(learn_w)
            s = torch.softmax(L_b, dim=1)  # Eq. 7
            loss = (-(s * logp).sum(dim=1) / w_b).sum()  # Eq. 6, summed
            loss.backward()
            with torch.no_grad():
                if learn_L:
                    L[ids] -= est.meta_lr * L_b.grad
                if learn_w:
                    w[ids] -= est.meta_lr * w_b.grad
        if learn_w:
            with torch.no_grad():
                rescale_weights(w, self.gold, self.w_init, est.min_weight,
                                est.weight_norm)


def rescale_weights(w, gold, w_init, min_weight, mode="global"):
    """Keep the learned ``w`` at least ``min_weight`` and at mean 1, in place.

    ``"global"`` (Eq. 8) scales ``w`` to mean 1 over every sample;
    ``"class"`` scales each gold class to the sum (hence the mean) of its
    initial weights ``w_init`` -- Eq. 4's class balance -- so the overall
    mean stays that of ``w_init`` (1). Values below ``min_weight`` are raised
    to it and the rest rescaled until both hold (a few rounds): a plain
    gradient step on a small ``w_n`` can be huge (the loss's gradient is
    ``-CE_n / w_n**2``), and a single clip before the rescaling let the
    other samples of its class fall towards 0, i.e. a loss weight
    ``1 / w`` without bound. Where the mean to keep is itself below
    ``min_weight`` (a class about ``1 / min_weight`` times rarer than the
    most frequent one has that Eq. 4 mean), that mean is the floor instead:
    both cannot hold, and the mean is the paper's.
    """
    def class_sums(values):
        n = int(gold.max()) + 1 if len(gold) else 0
        sums = torch.zeros(n, dtype=w.dtype, device=w.device)
        return sums.index_add_(0, gold, values)

    if mode == "class":
        target = class_sums(w_init)
        mean = target / class_sums(torch.ones_like(w_init)).clamp(min=1)
        floor = torch.clamp(mean[gold], max=min_weight)
    else:
        target = float(w_init.sum())
        floor = torch.full_like(w, min(min_weight, target / max(len(w), 1)))
    for _ in range(100):
        w.copy_(torch.maximum(w, floor))
        if mode == "class":
            w.mul_((target / class_sums(w))[gold])
        else:
            w.mul_(target / w.sum())
        if bool((w >= floor * (1 - 1e-4)).all()):
            return w
    # not settled (a floor at or near its group's mean is approached only
    # slowly): solve each group exactly, the floored values fixed and the
    # others scaled to the group's sum
    rows = [gold == k for k in range(len(target))] if mode == "class" else [
        torch.ones_like(gold, dtype=torch.bool)]
    sums = target if mode == "class" else [target]
    for part, total in zip(rows, sums, strict=True):
        w[part] = _fill(w[part], floor[part], float(total))
    return w


def _fill(values, floor, total):
    """``max(floor, s * values)`` summing to ``total`` (``floor`` summing to
    at most ``total``): the floored set only grows, so a few rounds end."""
    values = torch.maximum(values, floor)
    fixed = torch.zeros_like(values, dtype=torch.bool)
    for _ in range(len(values) + 1):
        free = values[~fixed].sum()
        if float(free) <= 0:
            return floor.clone()
        scaled = values * ((total - float(floor[fixed].sum())) / free)
        grown = fixed | (scaled < floor)
        if bool((grown == fixed).all()):
            break
        fixed = grown
    return torch.where(fixed, floor, scaled)


def label_weight_init(gold, n_classes, scale=1.0, device="cpu"):
    """``(gold, L, w)`` on ``device``: one-hot gold logits times ``scale`` and
    Eq. 4's weights (the class frequency over its mean)."""
    gold = torch.as_tensor(np.asarray(gold), dtype=torch.long, device=device)
    one_hot = torch.nn.functional.one_hot(gold, n_classes).float()
    L = one_hot * scale
    freq = one_hot.sum(dim=0)
    w = freq[gold] / freq[gold].mean()
    return gold, L, w
