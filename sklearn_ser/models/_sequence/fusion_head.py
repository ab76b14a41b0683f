"""A classifier on frozen, concatenated encoders (second stage of the methods)."""

from __future__ import annotations

import copy
import numbers
from typing import ClassVar

from sklearn.utils._param_validation import Interval, StrOptions

from ...annotations import resolve_classes
from .._docstrings import fill_doc
from .._nn.modules import FusionHead
from .base import SequenceClassifier, parameters


@fill_doc
@parameters
class FrozenFusionClassifier(SequenceClassifier):
    """Train a new classifier on the frozen embeddings of fitted networks.

    ``encoders`` are fitted torch modules exposing ``embed`` (the
    ``net_.module_`` of fitted sequence classifiers). They are copied and
    frozen (no gradient, dropout and batch norm in eval mode); their
    embeddings are concatenated and fed to a new classifier: one softmax
    layer (``hidden_units=None``, Chou & Lee 2.2.4) or Dense + output (Ando
    et al.'s classifier part). The second stage of the meta-estimators;
    :meth:`from_estimators` builds one on fitted classifiers.

    Parameters
    ----------
    encoders : list of torch modules
        Fitted modules with ``embed`` (``SequenceClassifier.module_``).
    target : {"hard", "soft", "existence"} or target encoder, default="hard"
    classes, label_map : see :class:`BLSTMAttentionClassifier`
    hidden_units : int or None, default=None
        None: one softmax layer on the embeddings; an int: Dense(hidden_units,
        ReLU) + dropout + output.
    dropout : float, default=0.5
        Dropout after the Dense layer (``hidden_units`` given).
    input_dropout : float, default=0.0
        Dropout on the concatenated embeddings, while training.
    init : {"random", "average", "first"}, default="random"
        How the softmax layer starts (``hidden_units=None``): at random; as
        the encoders' own output layers scaled by 1 / (number of encoders),
        so that its first logits are the mean of theirs (``"average"``); or
        as the first encoder's output layer with zero weights on the others,
        so that it starts as the first encoder's prediction (``"first"``).
        With ``hidden_units``, ``"first"`` adds the first encoder's own
        output layer on its embedding (a trainable copy) to the new Dense +
        output part, whose output layer starts at zero: the head starts as
        the first encoder's prediction and learns what the others add
        (``"average"`` needs ``hidden_units=None``).
        Either start needs encoders that share the classes, in one order
        (:meth:`from_estimators`
        checks the fitted estimators' ``classes_`` against each other and
        against ``classes``, and takes their order when ``classes`` is None;
        given modules carry no class names and are taken as they are).
    optimizer : {"adam", "adamax", "sgd"}, default="adam"
    %(class_weight)s
    %(training_params)s
    """

    _no_common_checks = (
        "needs fitted encoders whose input size is fixed, so sklearn's checks "
        "(which vary n_features) cannot build one; covered by "
        "test_frozen_fusion_api")

    _parameter_constraints: ClassVar[dict] = {
        **SequenceClassifier._parameter_constraints,
        "encoders": [list],
        "hidden_units": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "input_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "init": [StrOptions({"random", "average", "first"})],
    }

    encoders: list | None = None
    hidden_units: int | None = None
    dropout: float = 0.5
    input_dropout: float = 0.0
    init: str = "random"

    #: its encoders weight the layers of stacked frames themselves
    layer_weights = False

    #: Training settings a fusion head takes from the estimator it stacks on.
    INHERITED = ("optimizer", "batch_size", "max_epochs", "patience", "monitor",
                 "validation_fraction", "refit", "weight_averaging",
                 "stopping_window", "device", "callbacks")

    @classmethod
    def from_estimators(cls, estimators, *, like=None, target="hard", classes=None,
                        hidden_units=None, lr=1e-3, random_state=None,
                        input_dropout=0.0, init="random"):
        """A fusion head on fitted sequence classifiers (or their modules).

        Parameters
        ----------
        estimators : list of fitted SequenceClassifier or torch modules
            Their ``module_`` (or the modules) are frozen and concatenated.
        like : SequenceClassifier, default=None
            The head trains like it (optimizer, batch size, epochs, early
            stopping, device), at its own ``lr``.
        target, classes, hidden_units, lr, random_state, input_dropout, init
            As in the constructor.

        Returns
        -------
        head : FrozenFusionClassifier
            Unfitted.
        """
        encoders = [e.module_ if isinstance(e, SequenceClassifier) else e
                    for e in estimators]
        if init in ("average", "first"):
            classes = _shared_classes(estimators, classes,
                                      getattr(like, "label_map", None), init)
        params = {} if like is None else {
            k: v for k, v in like.get_params(deep=False).items()
            if k in cls.INHERITED}
        return cls(encoders=encoders, target=target, classes=classes,
                   hidden_units=hidden_units, lr=lr, input_dropout=input_dropout,
                   init=init,
                   random_state=None if random_state is None else int(random_state),
                   **params)

    def _build_module(self, n_features, n_outputs):
        if not self.encoders:
            raise ValueError(
                "FrozenFusionClassifier needs at least one fitted encoder."
            )
        encoders = [copy.deepcopy(e) for e in self.encoders]
        return FusionHead(encoders, n_outputs, self.hidden_units, self.dropout,
                          self.input_dropout, self.init)

    def _min_length(self):
        return max((getattr(e, "min_length", lambda: 1)() for e in self.encoders or []),
                   default=1)


def _shared_classes(estimators, classes, label_map=None, init="average"):
    """The classes an averaged start needs: every fitted estimator's
    ``classes_`` the same list (and ``classes``, when given, the same classes
    once normalised and sorted as the head will); returns them (``classes``
    when no estimator carries class names)."""
    named = [(i, [str(c) for c in e.classes_]) for i, e in enumerate(estimators)
             if isinstance(e, SequenceClassifier) and hasattr(e, "classes_")]
    if not named:
        return classes
    first, order = named[0]
    for i, other in named[1:]:
        if other != order:
            raise ValueError(
                f"init={init!r} reads the encoders' output layers class by "
                f"class, but estimator {i} has classes_ {other} and estimator "
                f"{first} {order}; fit them with the same classes in one order."
            )
    if classes is not None and [str(c) for c in resolve_classes(
            None, classes, label_map=label_map)] != order:  # sorted, as classes_
        raise ValueError(
            f"init={init!r} starts the head from the encoders' output layers, "
            f"whose classes_ are {order}; classes={list(classes)} are other "
            "classes: pass classes=None (theirs) or the same ones."
        )
    return order if classes is None else classes
