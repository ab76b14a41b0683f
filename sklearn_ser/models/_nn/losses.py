"""Losses for hard, soft and existence targets, with class weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SERLoss(nn.Module):
    """One criterion for the three kinds of target.

    * ``"hard"``: class-weighted cross entropy (targets are class indices).
    * ``"soft"``: soft-target cross entropy ``-sum_k w_k q_k log p_k``
      (Eq. 2 of Ando et al. with the smoothed targets of Eq. 4).
    * ``"existence"``: class-wise binary cross entropy (Eq. 6 of Ando et al.),
      positives of class k weighted by ``pos_weight[k]`` and negatives by
      ``neg_weight[k]``.

    ``sample_weight`` (optional, per sample) multiplies each sample's loss; the
    noisy-label meta-estimator uses it for ``1 / w_n`` (Eq. 6 of Fujioka).
    """

    def __init__(self, kind="hard", weight=None, pos_weight=None, neg_weight=None):
        super().__init__()
        self.kind = kind
        self.register_buffer("weight", None if weight is None else torch.as_tensor(
            weight, dtype=torch.float32))
        self.register_buffer("pos_weight", None if pos_weight is None else
                             torch.as_tensor(pos_weight, dtype=torch.float32))
        self.register_buffer("neg_weight", None if neg_weight is None else
                             torch.as_tensor(neg_weight, dtype=torch.float32))

    def per_sample(self, logits, target):
        if self.kind == "hard":
            return nn.functional.cross_entropy(
                logits, target.long(), weight=self.weight, reduction="none")
        if self.kind == "soft":
            logp = torch.log_softmax(logits, dim=1)
            w = 1.0 if self.weight is None else self.weight[None, :]
            return -(w * target * logp).sum(dim=1)
        # existence
        target = target.float()
        logsig = nn.functional.logsigmoid(logits)
        log1m = nn.functional.logsigmoid(-logits)
        pw = 1.0 if self.pos_weight is None else self.pos_weight[None, :]
        nw = 1.0 if self.neg_weight is None else self.neg_weight[None, :]
        return -(pw * target * logsig + nw * (1 - target) * log1m).sum(dim=1)

    def forward(self, logits, target, sample_weight=None):
        loss = self.per_sample(logits, target)
        if sample_weight is not None:
            loss = loss * sample_weight
        if self.kind == "hard" and self.weight is not None and sample_weight is None:
            # the weighted mean of torch's cross entropy
            denom = self.weight[target.long()].sum().clamp(min=1e-12)
            return loss.sum() / denom
        return loss.mean()


def balanced_weights(counts):
    """Inverse-frequency weights ``n / (K * n_k)``; absent classes get 0."""
    counts = np.asarray(counts, dtype=float)
    present = counts > 0
    w = np.zeros_like(counts)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


def existence_weights(targets):
    """Per class, inverse frequencies of existent and non-existent labels.

    ``pos_k = n / (2 n1_k)`` and ``neg_k = n / (2 n0_k)`` (Ando et al. 4.1), so
    positives and negatives of every class weigh the same in total.
    """
    t = np.asarray(targets, dtype=float)
    n = len(t)
    n1 = t.sum(axis=0)
    n0 = n - n1
    pos = np.where(n1 > 0, n / (2 * np.maximum(n1, 1)), 0.0)
    neg = np.where(n0 > 0, n / (2 * np.maximum(n0, 1)), 0.0)
    return pos, neg
