"""BLSTMAttentionClassifier: Dense-BLSTM-attention-Dense (Chou & Lee 2019;
Fujioka et al. 2020 by its parameters)."""

from __future__ import annotations

import numbers
from typing import ClassVar

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import BLSTMAttentionNet
from .base import SequenceClassifier, parameters


@fill_doc
@parameters
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

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(dense_units=16, lstm_units=8, head_units=16, lr=0.01,
                    max_epochs=40, random_state=0)]

    @classmethod
    def _tiny(cls, **params):
        """A network small enough for a meta-estimator's checks."""
        return cls(**{**dict(dense_units=8, lstm_units=4, head_units=8, lr=0.02,
                             max_epochs=15, random_state=0), **params})

    _parameter_constraints: ClassVar[dict] = {
        **SequenceClassifier._parameter_constraints,
        "dense_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "lstm_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_units": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    dense_units: int = 256
    lstm_units: int = 128
    head_units: int | None = 256
    dropout: float = 0.5
    optimizer: str = "adamax"
    layer_weights: bool | str = "auto"

    def _build_module(self, n_features, n_outputs):
        return BLSTMAttentionNet(n_features, n_outputs, self.dense_units,
                                 self.lstm_units, self.head_units, self.dropout)
