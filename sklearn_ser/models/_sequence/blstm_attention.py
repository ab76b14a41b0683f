"""BLSTMAttentionClassifier: Dense-BLSTM-attention-Dense (Chou & Lee 2019;
Fujioka et al. 2020 by its parameters)."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import BLSTMAttentionNet
from .base import SequenceClassifier


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
