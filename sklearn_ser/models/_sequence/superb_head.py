"""SUPERBHeadClassifier: SUPERB's weighted layer sum, projection and mean
pooling on frozen self-supervised features."""

from __future__ import annotations

import numbers
from typing import ClassVar

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_doc
from .._nn.modules import PooledHeadNet
from .base import SequenceClassifier, parameters


@fill_doc
@parameters
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

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(hidden_units=16, lr=0.01, max_epochs=40, random_state=0)]

    _parameter_constraints: ClassVar[dict] = {
        **SequenceClassifier._parameter_constraints,
        "hidden_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    hidden_units: int = 256
    dropout: float = 0.0
    layer_weights: bool | str = "auto"

    def _build_module(self, n_features, n_outputs):
        return PooledHeadNet(n_features, n_outputs, self.hidden_units, self.dropout)
