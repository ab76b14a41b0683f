"""BLSTM with attention (Chou & Lee; Fujioka et al.), CNN+BLSTM (Ando et al.) and
SUPERB's pooled head for self-supervised features."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from ._base import SequenceClassifier
from ._docstrings import fill_doc
from ._modules import BLSTMAttentionNet, CNNBLSTMNet, PooledHeadNet


@fill_doc
class BLSTMAttentionClassifier(SequenceClassifier):
    """BLSTM-DNN with attention, trainable on hard, soft or existence targets.

    Defaults are Chou & Lee's (3.1): Dense(256, ReLU) -> BLSTM(128 per
    direction) -> attention pooling -> Dense(256, ReLU) -> output, dropout
    0.5 on every layer, Adamax. Fujioka et al.'s variant (Dense 512, BLSTM
    128, no second dense layer, Adam)::

        BLSTMAttentionClassifier(dense_units=512, head_units=None, optimizer="adam")

    Parameters
    ----------
    %(target_params)s
    dense_units, lstm_units, head_units : int
        Layer sizes (``head_units=None`` drops the second dense layer).
    dropout : float, default=0.5
    optimizer : {"adamax", "adam", "sgd"}, default="adamax"
    %(class_weight)s
    %(layer_weights)s
    %(training_params)s
    Attributes
    ----------
    classes_ : ndarray
    target_encoder_ : the fitted target encoder
    net_ : skorch.NeuralNet
        The trained skorch net (``net_.module_`` is the torch module).
    history_ : DataFrame
        Train and validation loss per epoch.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=(int(rng.integers(5, 15)), 4)).astype("float32") + (i % 2)
    ...      for i in range(40)]
    >>> y = ["anger" if i % 2 else "sadness" for i in range(40)]
    >>> clf = BLSTMAttentionClassifier(dense_units=16, lstm_units=8, head_units=16,
    ...                                max_epochs=30, patience=None, lr=0.01,
    ...                                random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).tolist()
    ['sadness', 'anger', 'sadness', 'anger']
    >>> clf.transform(X[:2]).shape
    (2, 16)
    """

    _parameter_constraints: dict = {
        **SequenceClassifier._parameter_constraints,
        "dense_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "lstm_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_units": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        target="hard",
        *,
        classes=None,
        label_map=None,
        dense_units=256,
        lstm_units=128,
        head_units=256,
        dropout=0.5,
        optimizer="adamax",
        lr=1e-3,
        batch_size=32,
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
        self.dense_units = dense_units
        self.lstm_units = lstm_units
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
        return BLSTMAttentionNet(n_features, n_outputs, self.dense_units,
                                 self.lstm_units, self.head_units, self.dropout)


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


@fill_doc
class SUPERBHeadClassifier(SequenceClassifier):
    """SUPERB's downstream head on frozen self-supervised features.

    The emotion-recognition protocol of SUPERB (Yang et al. 2021) and EmoBox
    (Ma et al. 2024): a learned softmax-weighted sum of the speech model's
    hidden layers (when the frames hold them all, ``layer_weights``), then
    Dense(``hidden_units``) -> ReLU -> mean over the real frames -> output.
    Give it the frames of :class:`~sklearn_ser.features.PretrainedFrames`
    (``layers="all"``); it trains on hard, soft or existence targets like
    the other sequence estimators, and the meta-estimators take it as their
    building block.

    Parameters
    ----------
    %(target_params)s
    hidden_units : int, default=256
        The projection before pooling (SUPERB's ``projector_dim``).
    dropout : float, default=0.0
    optimizer : {"adam", "adamax", "sgd"}, default="adam"
    %(class_weight)s
    %(layer_weights)s
    %(training_params)s
    Notes
    -----
    SUPERB trains this head with AdamW at lr 1e-4 for 30,000 steps of 32
    utterances; the default here (Adam, lr 1e-3, early stopping on held-out
    speakers) reaches its plateau in the few epochs a CPU affords.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=(int(rng.integers(5, 15)), 6)).astype("float32") + (i % 2)
    ...      for i in range(40)]
    >>> y = ["anger" if i % 2 else "sadness" for i in range(40)]
    >>> clf = SUPERBHeadClassifier(hidden_units=16, lr=0.01, max_epochs=30,
    ...                            patience=None, random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).tolist()
    ['sadness', 'anger', 'sadness', 'anger']
    """

    _parameter_constraints: dict = {
        **SequenceClassifier._parameter_constraints,
        "hidden_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        target="hard",
        *,
        classes=None,
        label_map=None,
        hidden_units=256,
        dropout=0.0,
        optimizer="adam",
        lr=1e-3,
        batch_size=32,
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
        self.hidden_units = hidden_units
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
        return PooledHeadNet(n_features, n_outputs, self.hidden_units, self.dropout)
