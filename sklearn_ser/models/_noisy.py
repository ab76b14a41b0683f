"""Label correction and sample weights through meta-learning (Fujioka et al.)."""

from __future__ import annotations

import copy
import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .._parallel import torch_threads_for_fit
from ._base import (
    _FiniteLoss,
    _SERNet,
    keeps_torch_rng,
    make_target_encoder,
    target_kind,
    tensor_uar,
)
from ._data import SequenceDataset, SequenceLoader
from ._estimators import BLSTMAttentionClassifier
from ._losses import SERLoss, balanced_weights


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
        ``w_n`` is clipped at this value before the mean-1 rescaling.
    Other parameters
        As :class:`BLSTMAttentionClassifier` (``target`` must give hard gold
        labels).

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

    _parameter_constraints: dict = {
        **BLSTMAttentionClassifier._parameter_constraints,
        "update": [StrOptions({"Lw", "L", "w", "none"})],
        "pretrain": ["boolean"],
        "meta_lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "label_logit_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_weight": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        target="hard",
        *,
        update="Lw",
        pretrain=False,
        meta_lr=0.1,
        label_logit_scale=1.0,
        min_weight=0.01,
        classes=None,
        label_map=None,
        dense_units=512,
        lstm_units=128,
        head_units=None,
        dropout=0.5,
        optimizer="adam",
        lr=1e-3,
        batch_size=32,
        max_epochs=100,
        patience=10,
        monitor="loss",
        validation_fraction=0.1,
        class_weight="balanced",
        bucket=True,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            target, classes=classes, label_map=label_map, dense_units=dense_units,
            lstm_units=lstm_units, head_units=head_units, dropout=dropout,
            optimizer=optimizer, lr=lr, batch_size=batch_size, max_epochs=max_epochs,
            patience=patience, monitor=monitor,
            validation_fraction=validation_fraction,
            class_weight=class_weight, bucket=bucket, device=device,
            random_state=random_state, verbose=verbose,
        )
        self.update = update
        self.pretrain = pretrain
        self.meta_lr = meta_lr
        self.label_logit_scale = label_logit_scale
        self.min_weight = min_weight

    # -- helpers -------------------------------------------------------------
    def _valid_scores(self, module, loader, criterion):
        """Loss and UAR on the held-out speakers, against their gold labels."""
        module.eval()
        total, n, pred, true = 0.0, 0, [], []
        with torch.no_grad():
            for xb, yb in loader:
                logits = module(xb["x"].to(self.device), xb["lengths"].to(self.device))
                total += float(criterion(logits, yb.to(self.device))) * len(yb)
                n += len(yb)
                pred.append(logits.argmax(1).cpu())
                true.append(yb)
        return total / max(n, 1), tensor_uar(torch.cat(pred), torch.cat(true))

    def _meta_epoch(self, module, dataset, L, w, epoch_seed):
        """One epoch updating L and/or w with the network fixed (Algorithm 1)."""
        module.eval()
        loader = SequenceLoader(dataset, batch_size=self.batch_size, shuffle=True,
                                bucket=self.bucket, seed=epoch_seed)
        learn_L = self.update in {"Lw", "L"}
        learn_w = self.update in {"Lw", "w"}
        for xb, _ in loader:
            ids = xb["sample_ids"].to(self.device)
            with torch.no_grad():
                logp = torch.log_softmax(
                    module(xb["x"].to(self.device), xb["lengths"].to(self.device)),
                    dim=1)
            L_b = L[ids].detach().requires_grad_(learn_L)
            w_b = w[ids].detach().requires_grad_(learn_w)
            s = torch.softmax(L_b, dim=1)  # Eq. 7
            loss = (-(s * logp).sum(dim=1) / w_b).sum()  # Eq. 6, summed
            loss.backward()
            with torch.no_grad():
                if learn_L:
                    L[ids] -= self.meta_lr * L_b.grad
                if learn_w:
                    w[ids] -= self.meta_lr * w_b.grad
        if learn_w:
            with torch.no_grad():  # positive, mean 1 (Eq. 8)
                w.clamp_(min=self.min_weight)
                w.mul_(len(w) / w.sum())

    # -- fit -----------------------------------------------------------------
    @keeps_torch_rng
    def fit(self, X, y, groups=None):
        """Alternate network epochs and label/weight epochs (Algorithm 1)."""
        if not (self.target == "hard" or target_kind(make_target_encoder(
                self.target)) == "hard"):
            raise ValueError(
                "NoisyLabelMetaClassifier learns from hard gold labels; use "
                f"target='hard' (got target={self.target!r})."
            )
        X, frames, ids, keep, t, _, rng, seed = self._fit_inputs(X, y, groups)
        K = len(self.classes_)
        kept_ids = np.asarray(ids, dtype=object)[keep]
        tensors = self._tensors([f for f, k in zip(frames, keep, strict=True) if k])
        tr, va = self._inner_split(X, groups, keep, rng, t)
        gold = torch.as_tensor(t[tr], dtype=torch.long)
        n = len(tr)
        # L: one-hot gold logits; w: Eq. 4 (class frequency / its mean)
        one_hot = torch.nn.functional.one_hot(gold, K).float()
        L = one_hot * self.label_logit_scale
        freq = torch.bincount(gold, minlength=K).float()
        w = freq[gold] / freq[gold].mean()
        w_init = w.clone()
        targets = torch.softmax(L, dim=1)
        train_ds = SequenceDataset([tensors[i] for i in tr], targets,
                                   sample_ids=torch.arange(n))
        module = self._build_module(self.n_features_in_, K)
        opt = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax,
               "sgd": torch.optim.SGD}[self.optimizer]
        net = _SERNet(
            module=module, criterion=SERLoss, criterion__kind="soft", optimizer=opt,
            lr=self.lr, max_epochs=1, batch_size=self.batch_size,
            iterator_train=SequenceLoader, iterator_train__bucket=self.bucket,
            train_split=None, callbacks=[("finite_loss", _FiniteLoss())],
            device=self.device, verbose=self.verbose,
        )
        net.seed_ = seed
        net.initialize()
        valid_loader, criterion = None, None
        if va is not None and len(va):
            valid_ds = SequenceDataset([tensors[i] for i in va],
                                       torch.as_tensor(t[va], dtype=torch.long))
            valid_loader = SequenceLoader(valid_ds, batch_size=64, shuffle=False)
            criterion = SERLoss("hard", weight=balanced_weights(
                np.bincount(t[tr], minlength=K))).to(self.device)

        history = []
        phases = (["gold", "meta"] if self.pretrain else ["meta"])
        if self.update == "none":
            phases = ["gold"]
        best = None
        epoch = 0
        with torch_threads_for_fit():  # a fair share of the idle cores
            for phase in phases:
                best_loss, bad = np.inf, 0
                if best is not None:  # continue from the best pre-trained network
                    net.module_.load_state_dict(best[0])
                for _ in range(self.max_epochs):
                    epoch += 1
                    # the gold phase (baseline, pre-training) learns the one-hot gold
                    # labels; the meta phase learns s_n = softmax(L_n)
                    train_ds.targets = (one_hot if phase == "gold"
                                        else torch.softmax(L, dim=1))
                    net.sample_weight_ = 1.0 / w  # Eq. 6: the loss is divided by w_n
                    net.partial_fit(train_ds, None)
                    row = {"epoch": epoch, "phase": phase,
                           "train_loss": net.history[-1, "train_loss"]}
                    if phase == "meta":
                        self._meta_epoch(net.module_, train_ds, L, w, seed * 31 + epoch)
                    if valid_loader is not None:
                        row["valid_loss"], row["valid_uar"] = self._valid_scores(
                            net.module_, valid_loader, criterion)
                        # lower is better: the loss, or minus the UAR
                        score = (row["valid_loss"] if self.monitor == "loss"
                                 else -row["valid_uar"])
                        if score < best_loss:
                            best_loss, bad = score, 0
                            best = (copy.deepcopy(net.module_.state_dict()), L.clone(),
                                    w.clone())
                        else:
                            bad += 1
                    history.append(row)
                    if valid_loader is not None and bad >= self.patience:
                        break
                if valid_loader is None:
                    best = (copy.deepcopy(net.module_.state_dict()), L.clone(),
                            w.clone())
        net.module_.load_state_dict(best[0])
        L, w = best[1], best[2]
        self.net_ = net
        self.n_iter_ = epoch
        self.history_ = pd.DataFrame(history)
        train_ids = pd.Index(kept_ids[tr], name="utterance")
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
        by_class = {}
        for k, c in enumerate(self.classes_):
            mask = (gold == k).numpy()
            by_class[c] = [float(w_init[mask].mean()) if mask.any() else np.nan,
                           float(w[mask].mean()) if mask.any() else np.nan]
        self.weights_by_class_ = pd.DataFrame(by_class, index=["initial", "learned"])
        return self
