"""SUPERBHeadClassifier: SUPERB's weighted layer sum, projection and mean
pooling on frozen self-supervised features."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import PooledHeadNet
from .base import SequenceClassifier


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
