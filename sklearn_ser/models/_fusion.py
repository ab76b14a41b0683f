"""A classifier on frozen, concatenated encoders (second stage of the methods)."""

from __future__ import annotations

import copy
import numbers

from sklearn.utils._param_validation import Interval

from ._base import SequenceClassifier
from ._modules import FusionHead


class FrozenFusionClassifier(SequenceClassifier):
    """Train a new classifier on the frozen embeddings of fitted networks.

    ``encoders`` are fitted torch modules exposing ``embed`` (the
    ``net_.module_`` of fitted sequence classifiers). They are copied and
    frozen (no gradient, dropout and batch norm in eval mode); their
    embeddings are concatenated and fed to a new classifier: one softmax
    layer (``hidden_units=None``, Chou & Lee 2.2.4) or Dense + output (Ando
    et al.'s classifier part). Internal building block of the meta-estimators.
    """

    _parameter_constraints: dict = {
        **SequenceClassifier._parameter_constraints,
        "encoders": [list],
        "hidden_units": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        encoders=None,
        target="hard",
        *,
        classes=None,
        label_map=None,
        hidden_units=None,
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
        self.encoders = encoders
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
        self.class_weight = class_weight
        self.bucket = bucket
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _build_module(self, n_features, n_outputs):
        if not self.encoders:
            raise ValueError(
                "FrozenFusionClassifier needs at least one fitted encoder."
            )
        encoders = [copy.deepcopy(e) for e in self.encoders]
        return FusionHead(encoders, n_outputs, self.hidden_units, self.dropout)

    def _min_length(self):
        return max((getattr(e, "min_length", lambda: 1)() for e in self.encoders or []),
                   default=1)
