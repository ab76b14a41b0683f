"""CNNBLSTMClassifier: CNN + BLSTM + self-attention on spectrograms (Ando et
al. 2019)."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import CNNBLSTMNet
from .base import SequenceClassifier


@fill_doc
class CNNBLSTMClassifier(SequenceClassifier):
    """CNN + BLSTM + self-attention on spectrograms (Ando et al. 2019, Table 2).

    Three Conv2d blocks (16/24/32 channels, kernels 12x16, 8x12, 5x7, strides
    2x2, 1x1, 1x1; each BatchNorm + ReLU + 2x2 max-pool) -> BLSTM(128) ->
    one-head self-attention -> Dense(64) -> output; Adam, lr 5e-4, batch 16
    (4.1). Inputs are frame sequences such as
    :class:`~sklearn_ser.features.LogSpectrogram` (400 bins); sequences shorter
    than the CNN needs are zero-padded.

    Parameters
    ----------
    %(target_params)s
    channels : tuple of int, default=(16, 24, 32)
        Output channels of the three convolution blocks.
    kernels : tuple of (int, int), default=((12, 16), (8, 12), (5, 7))
        Kernel sizes (time, frequency).
    strides : tuple of (int, int), default=((2, 2), (1, 1), (1, 1))
    lstm_units : int, default=128
        BLSTM units per direction.
    attention_units : int, default=64
        Size of the self-attention projection.
    head_units : int, default=64
        Dense layer before the output.
    dropout : float, default=0.5
    optimizer : {"adam", "adamax", "sgd"}, default="adam"
    %(class_weight)s
    %(layer_weights)s
    %(training_params)s
    """

    _parameter_constraints: dict = {
        **SequenceClassifier._parameter_constraints,
        "channels": ["array-like"],
        "kernels": ["array-like"],
        "strides": ["array-like"],
        "lstm_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "attention_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        target="hard",
        *,
        classes=None,
        label_map=None,
        channels=(16, 24, 32),
        kernels=((12, 16), (8, 12), (5, 7)),
        strides=((2, 2), (1, 1), (1, 1)),
        lstm_units=128,
        attention_units=64,
        head_units=64,
        dropout=0.5,
        optimizer="adam",
        lr=5e-4,
        batch_size=16,
        max_epochs=100,
        patience=10,
        monitor="loss",
        validation_fraction=0.1,
        refit=False,
        weight_averaging=0,
        class_weight="balanced",
        layer_weights="auto",
        bucket=True,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.target = target
        self.classes = classes
        self.label_map = label_map
        self.channels = channels
        self.kernels = kernels
        self.strides = strides
        self.lstm_units = lstm_units
        self.attention_units = attention_units
        self.head_units = head_units
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.monitor = monitor
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.weight_averaging = weight_averaging
        self.class_weight = class_weight
        self.layer_weights = layer_weights
        self.bucket = bucket
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _build_module(self, n_features, n_outputs):
        if not (len(self.channels) == len(self.kernels) == len(self.strides)):
            raise ValueError(
                "channels, kernels and strides must have one entry per CNN block; "
                f"got {len(self.channels)}, {len(self.kernels)}, {len(self.strides)}."
            )
        return CNNBLSTMNet(n_features, n_outputs, tuple(self.channels),
                           tuple(tuple(k) for k in self.kernels),
                           tuple(tuple(s) for s in self.strides), self.lstm_units,
                           self.attention_units, self.head_units, self.dropout)

    def _min_length(self):
        probe = CNNBLSTMNet(64, 2, tuple(self.channels),
                            tuple(tuple(k) for k in self.kernels),
                            tuple(tuple(s) for s in self.strides), 2, 2, 2)
        return probe.min_length()
