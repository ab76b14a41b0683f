"""The torch networks of the papers.

Both networks take ``x`` (batch, time, features, zero-padded) and
``lengths``; they return logits and expose ``embed`` (the penultimate
representation that the meta-estimators concatenate) and the attention
weights of the last forward pass (``last_attention``).
"""

from __future__ import annotations

import copy
import functools
import inspect

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def records_args(init):
    """Keep a network's constructor arguments as ``init_args`` (after
    ``__init__``), so that a saved model rebuilds it from data
    (:func:`~sklearn_ser.models.save_model`)."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        # set past nn.Module's __setattr__: a plain dict, not a sub-module
        self.__dict__["init_args"] = {k: v for k, v in bound.arguments.items()
                                      if k != "self"}
    return wrapper


def _mask(lengths, T):
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def masked_softmax(scores, mask):
    """Softmax over time restricted to real frames (padding gets weight 0)."""
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=1)


class _BLSTM(nn.Module):
    def __init__(self, n_in, units):
        super().__init__()
        self.lstm = nn.LSTM(n_in, units, batch_first=True, bidirectional=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out


class BLSTMAttentionNet(nn.Module):
    """Dense -> BLSTM -> attention pooling -> Dense -> output.

    Chou & Lee (3.1): Dense(256, ReLU), BLSTM(128) with attention, Dense(256,
    ReLU), output; dropout 0.5 on every layer. Fujioka et al. (2.1, 3.2):
    ``dense_units=512, head_units=None`` (Dense 512, BLSTM 128, output).
    Attention: ``alpha_t = softmax_t(h_t . u)`` and ``h' = sum_t alpha_t h_t``
    (Eqs. 1-2 of Fujioka et al.), restricted to real frames.
    """

    @records_args
    def __init__(self, n_features, n_outputs, dense_units=256, lstm_units=128,
                 head_units=256, dropout=0.5):
        super().__init__()
        self.dense = nn.Sequential(nn.Linear(n_features, dense_units), nn.ReLU(),
                                   nn.Dropout(dropout))
        self.blstm = _BLSTM(dense_units, lstm_units)
        self.drop_rnn = nn.Dropout(dropout)
        self.u = nn.Linear(2 * lstm_units, 1, bias=False)  # attention vector u
        if head_units:
            self.head = nn.Sequential(nn.Linear(2 * lstm_units, head_units),
                                      nn.ReLU(), nn.Dropout(dropout))
            self.embedding_dim = head_units
        else:
            self.head = nn.Identity()
            self.embedding_dim = 2 * lstm_units
        self.out = nn.Linear(self.embedding_dim, n_outputs)
        self.last_attention = None

    def embed(self, x, lengths, **kwargs):
        h = self.drop_rnn(self.blstm(self.dense(x), lengths))
        mask = _mask(lengths, h.shape[1])
        alpha = masked_softmax(self.u(h).squeeze(-1), mask)  # Eq. 1
        self.last_attention = alpha.detach()
        pooled = torch.bmm(alpha.unsqueeze(1), h).squeeze(1)  # Eq. 2
        return self.head(pooled)

    def forward(self, x, lengths, **kwargs):
        return self.out(self.embed(x, lengths))


def conv_out_length(lengths, kernel, stride, padding):
    return torch.div(lengths + 2 * padding - kernel, stride, rounding_mode="floor") + 1


class CNNBLSTMNet(nn.Module):
    """CNN -> BLSTM -> self-attention -> Dense(64) -> output (Ando et al. Table 2).

    Three Conv2d blocks over (time, frequency): 16/24/32 channels, kernels
    12x16, 8x12, 5x7, strides 2x2, 1x1, 1x1, each followed by batch
    normalisation, ReLU and 2x2 max pooling (4.1). Convolutions pad by half
    the kernel so short utterances keep at least one step; lengths are
    tracked through every layer and padded steps are masked. The BLSTM (128
    per direction) feeds a one-head structured self-attention (Lin et al.
    2017): ``a = softmax(w2 . tanh(W1 h_t))``, pooled ``sum_t a_t h_t``.
    """

    @records_args
    def __init__(self, n_features, n_outputs, channels=(16, 24, 32),
                 kernels=((12, 16), (8, 12), (5, 7)), strides=((2, 2), (1, 1), (1, 1)),
                 lstm_units=128, attention_units=64, head_units=64, dropout=0.5):
        super().__init__()
        blocks = []
        self.time_geometry = []
        freq = n_features
        c_in = 1
        for c_out, k, s in zip(channels, kernels, strides, strict=True):
            pad = (k[0] // 2, k[1] // 2)
            blocks.append(nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=k, stride=s, padding=pad),
                nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            ))
            self.time_geometry.append((k[0], s[0], pad[0]))
            freq = (freq + 2 * pad[1] - k[1]) // s[1] + 1
            freq = -(-freq // 2)
            c_in = c_out
        if freq < 1:
            raise ValueError(f"{n_features} frequency bins are too few for the CNN.")
        self.convs = nn.ModuleList(blocks)
        self.blstm = _BLSTM(c_in * freq, lstm_units)
        self.drop = nn.Dropout(dropout)
        self.att_w1 = nn.Linear(2 * lstm_units, attention_units, bias=False)
        self.att_w2 = nn.Linear(attention_units, 1, bias=False)
        self.head = nn.Sequential(nn.Linear(2 * lstm_units, head_units), nn.ReLU(),
                                  nn.Dropout(dropout))
        self.embedding_dim = head_units
        self.out = nn.Linear(head_units, n_outputs)
        self.last_attention = None

    def out_lengths(self, lengths):
        for k, s, p in self.time_geometry:
            lengths = conv_out_length(lengths, k, s, p)
            lengths = -torch.div(-lengths, 2, rounding_mode="floor")  # ceil pool
        return lengths.clamp(min=1)

    def min_length(self):
        """Shortest input (frames) giving at least one step after the CNN."""
        n = 1
        while int(self.out_lengths(torch.tensor([n]))[0]) < 1 or n < 1:
            n += 1
        k, s, p = self.time_geometry[0]
        return max(n, k - 2 * p)

    def embed(self, x, lengths, **kwargs):
        z = x.unsqueeze(1)  # (B, 1, T, F)
        for block in self.convs:
            z = block(z)
        B, C, T, F = z.shape
        z = z.permute(0, 2, 1, 3).reshape(B, T, C * F)
        out_len = self.out_lengths(lengths).clamp(max=T)
        h = self.drop(self.blstm(z, out_len))
        mask = _mask(out_len, T)
        scores = self.att_w2(torch.tanh(self.att_w1(h))).squeeze(-1)
        a = masked_softmax(scores, mask)
        self.last_attention = a.detach()
        pooled = torch.bmm(a.unsqueeze(1), h).squeeze(1)
        return self.head(pooled)

    def forward(self, x, lengths, **kwargs):
        return self.out(self.embed(x, lengths))


class LayerWeightedNet(nn.Module):
    """A softmax-weighted sum of stacked hidden layers in front of a network.

    The input frames hold ``n_layers`` hidden states of a speech model side
    by side (``(B, T, n_layers * width)``, layer after layer, as
    :class:`~sklearn_ser.features.PretrainedFrames` with ``layers="all"``
    writes them); ``x = sum_l softmax(w)_l h_l`` goes to ``inner`` (SUPERB's
    weighted sum, s3prl's ``Featurizer``; the weights start equal). Everything
    else (``embed``, ``embedding_dim``, ``last_attention``, ``out_lengths``)
    is the inner network's.
    """

    @records_args
    def __init__(self, inner, n_layers):
        super().__init__()
        self.inner = inner
        self.n_layers = int(n_layers)
        self.layer_logits = nn.Parameter(torch.zeros(self.n_layers))

    def mix(self, x):
        B, T, D = x.shape
        w = torch.softmax(self.layer_logits, dim=0)
        return torch.einsum("btld,l->btd", x.reshape(B, T, self.n_layers,
                                                     D // self.n_layers), w)

    def weights(self):
        """The layer weights (softmax of the learned logits)."""
        return torch.softmax(self.layer_logits.detach(), dim=0)

    def embed(self, x, lengths, **kwargs):
        return self.inner.embed(self.mix(x), lengths)

    def forward(self, x, lengths, **kwargs):
        return self.inner(self.mix(x), lengths)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)


class PooledHeadNet(nn.Module):
    """Dense -> ReLU -> masked mean over time -> output (SUPERB's head).

    The downstream model of SUPERB's emotion task (Yang et al. 2021) and of
    EmoBox (Ma et al. 2024) on frozen self-supervised features: a linear
    projection, a mean over the real frames, a linear classifier.
    """

    @records_args
    def __init__(self, n_features, n_outputs, hidden_units=256, dropout=0.0):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(n_features, hidden_units), nn.ReLU(),
                                  nn.Dropout(dropout))
        self.embedding_dim = hidden_units
        self.out = nn.Linear(hidden_units, n_outputs)
        self.last_attention = None

    def embed(self, x, lengths, **kwargs):
        h = self.proj(x)
        mask = _mask(lengths, h.shape[1]).to(h.dtype)
        weights = mask / lengths.clamp(min=1).to(h.dtype)[:, None]
        self.last_attention = weights.detach()  # uniform over the real frames
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1)

    def forward(self, x, lengths, **kwargs):
        return self.out(self.embed(x, lengths))


class FusionHead(nn.Module):
    """Frozen encoders, concatenated embeddings, a new trainable classifier.

    Used by the meta-estimators: Chou & Lee's final softmax layer over the
    concatenated penultimate layers (``hidden_units=None``), Ando et al.'s
    classifier part on frozen MLEE (and dominant) encoders (``hidden_units``
    = 64, the Dense layer of Table 2).
    """

    @records_args
    def __init__(self, encoders, n_outputs, hidden_units=None, dropout=0.5,
                 input_dropout=0.0, init="random"):
        super().__init__()
        self.encoders = nn.ModuleList(encoders)
        for enc in self.encoders:
            for p in enc.parameters():
                p.requires_grad_(False)
        dim = sum(enc.embedding_dim for enc in self.encoders)
        if hidden_units:
            self.classifier = nn.Sequential(nn.Linear(dim, hidden_units), nn.ReLU(),
                                            nn.Dropout(dropout),
                                            nn.Linear(hidden_units, n_outputs))
            self.embedding_dim = hidden_units
        else:
            self.classifier = nn.Linear(dim, n_outputs)
            self.embedding_dim = dim
        self.skip = None
        if init == "first" and hidden_units:
            self._skip_init(n_outputs)
        elif init in ("average", "first"):
            self._output_init(n_outputs, hidden_units, init)
        # dropout on the concatenated embeddings (training only)
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout else None
        self.last_attention = None

    def _skip_init(self, n_outputs):
        """``init="first"`` with a Dense layer: the logits are the first
        encoder's own output layer on its embedding (a trainable copy) plus
        the new classifier part on the concatenation, whose output layer
        starts at zero; so the head starts as the first encoder's prediction
        and learns what the other encoders add."""
        out = getattr(self.encoders[0], "out", None)
        if not isinstance(out, nn.Linear) or out.out_features != n_outputs:
            raise ValueError(
                f"init='first' starts from the first encoder's own output layer, "
                f"which must have {n_outputs} outputs; encoder(s) [0] have none "
                "or another size.")
        self.skip = copy.deepcopy(out)
        for p in self.skip.parameters():
            p.requires_grad_(True)
        self.skip_dim = self.encoders[0].embedding_dim
        with torch.no_grad():
            self.classifier[-1].weight.zero_()
            self.classifier[-1].bias.zero_()

    def _output_init(self, n_outputs, hidden_units, init):
        """The softmax layer starts from the encoders' own output layers:
        ``"average"``, each scaled by 1 / (number of encoders), so that its
        first logits are the mean of the encoders' logits; ``"first"``, the
        first encoder's and zeros for the others, so that it starts as the
        first encoder's own prediction."""
        outs = [getattr(enc, "out", None) for enc in self.encoders]
        if init == "first":
            outs = outs[:1]
        bad = [i for i, o in enumerate(outs) if not isinstance(o, nn.Linear)
               or o.out_features != n_outputs]
        if hidden_units or bad:
            raise ValueError(
                f"init={init!r} needs one softmax layer (hidden_units=None) on "
                f"encoders whose own output layer has {n_outputs} outputs; "
                + (f"hidden_units={hidden_units}." if hidden_units else
                   f"encoder(s) {bad} have none or another size."))
        with torch.no_grad():
            if init == "first":
                self.classifier.weight.zero_()
                self.classifier.weight[:, :outs[0].in_features].copy_(outs[0].weight)
                self.classifier.bias.copy_(outs[0].bias)
                return
            k = len(outs)
            self.classifier.weight.copy_(torch.cat([o.weight for o in outs], 1) / k)
            self.classifier.bias.copy_(sum(o.bias for o in outs) / k)

    def train(self, mode=True):
        super().train(mode)
        for enc in self.encoders:  # frozen: dropout and batch norm stay in eval
            enc.eval()
        return self

    def _concat(self, x, lengths):
        with torch.no_grad():
            parts = [enc.embed(x, lengths) for enc in self.encoders]
        self.last_attention = self.encoders[0].last_attention
        return torch.cat(parts, dim=1)

    def embed(self, x, lengths, **kwargs):
        z = self._concat(x, lengths)
        if isinstance(self.classifier, nn.Sequential):
            return self.classifier[:3](z)
        return z

    def forward(self, x, lengths, **kwargs):
        z = self._concat(x, lengths)
        skip = getattr(self, "skip", None)  # absent in older pickles
        first = None if skip is None else skip(z[:, :self.skip_dim])
        drop = getattr(self, "input_dropout", None)  # absent in older pickles
        if drop is not None:
            z = drop(z)
        logits = self.classifier(z)
        return logits if first is None else logits + first
