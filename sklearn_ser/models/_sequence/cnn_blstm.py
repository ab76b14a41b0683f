"""CNNBLSTMClassifier: CNN + BLSTM + self-attention on spectrograms (Ando et
al. 2019)."""

from __future__ import annotations

import numbers
from typing import ClassVar

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import CNNBLSTMNet
from .base import SequenceClassifier, parameters


@fill_doc
@parameters
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

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(channels=(4, 4, 4), kernels=((3, 3), (3, 3), (3, 3)),
                    lstm_units=8, attention_units=8, head_units=8, lr=0.02,
                    max_epochs=20, random_state=0)]

    _parameter_constraints: ClassVar[dict] = {
        **SequenceClassifier._parameter_constraints,
        "channels": ["array-like"],
        "kernels": ["array-like"],
        "strides": ["array-like"],
        "lstm_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "attention_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    channels: tuple = (16, 24, 32)
    kernels: tuple = ((12, 16), (8, 12), (5, 7))
    strides: tuple = ((2, 2), (1, 1), (1, 1))
    lstm_units: int = 128
    attention_units: int = 64
    head_units: int = 64
    dropout: float = 0.5
    lr: float = 5e-4
    batch_size: int = 16
    layer_weights: bool | str = "auto"

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
