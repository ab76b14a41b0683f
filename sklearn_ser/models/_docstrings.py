# ruff: noqa: E501  (docstring fragments keep the estimators' line widths)
"""Parameter descriptions shared by the estimators' docstrings.

Like imbalanced-learn's ``Substitution``: a docstring holds ``%(name)s``
placeholders and :func:`fill_doc` replaces them with these fragments, so one
parameter is described once for every estimator that has it.
"""

from __future__ import annotations

_FRAGMENTS = {
    "target_params": """    target : {"hard", "soft", "existence"} or target encoder, default="hard"
        How annotations become targets: :class:`~sklearn_ser.annotations.HardLabels`
        (class-weighted cross entropy), :class:`~sklearn_ser.annotations.SoftLabels`
        (soft-target cross entropy, alpha 0.75), or
        :class:`~sklearn_ser.annotations.ExistenceLabels` (class-weighted binary
        cross entropy; ``predict`` takes the most probable existence, Eq. 7 of
        Ando et al.). An encoder object gives full control
        (``SoftLabels(alpha=0.5, votes="first")``).
    classes : array-like of str, default=None
        Target classes (default: every label seen in the annotations except
        ``"other"``).
    label_map : dict or "iemocap", default=None
        Label merges such as ``{"excitement": "happiness"}``.
""",
    "class_weight": """    class_weight : "balanced" or None, default="balanced"
        Inverse class frequencies (existence: inverse existent / non-existent
        frequencies per class).
""",
    "layer_weights": """    layer_weights : "auto" or bool, default="auto"
        A learned softmax-weighted sum of the hidden layers of a speech model
        (the frames of :class:`~sklearn_ser.features.PretrainedFrames` with
        ``layers="all"``), in front of the network: "auto" when the frames
        hold several layers (their ``layers``), never for openSMILE or
        spectrogram frames. ``layer_weights_`` gives the learned weights.
""",
    "training_params": """    lr : float
        Learning rate of the optimizer (the default is in the signature).
    batch_size : int
    max_epochs : int, default=100
    patience : int or None, default=10
        Early stopping on the validation loss (or UAR, see ``monitor``); the
        best epoch's weights are restored. None trains ``max_epochs`` epochs.
    monitor : {"loss", "uar"}, default="loss"
        What early stopping watches on the held-out speakers: the loss, or
        the UAR of their predictions against the arg-max of their targets.
    validation_fraction : float or None, default=0.1
        Share of training *speakers* held out for early stopping (from the
        ``speaker`` column of X or the ``groups`` passed to ``fit``).
    refit : bool or int, default=False
        After early stopping on the held-out speakers, train a new network on
        *every* training utterance for the number of epochs they chose
        (``best_epoch_``). An int ``k``: the training speakers are split into
        ``k`` folds, each held out once (``k`` networks), and the epochs are
        the best of their mean validation curve. Validation rows whose
        emotion the fold's other speakers never show are left out (they
        would only score classes the network cannot learn). For corpora
        whose speakers predict the labels (each shows one or a few emotions),
        where an early-stopped network would lack the held-out speakers'
        emotions. ``history_`` then has a ``stage`` column ("validation" or
        "validation 1" .. "validation k", then "refit").
    weight_averaging : float in [0, 1], default=0
        Stochastic weight averaging (Izmailov et al. 2018): the final weights
        are the mean of the weights after each of the last
        ``weight_averaging`` share of the epochs (0.5 of 20: epochs 11-20)
        instead of the last epoch's; 0 keeps the last epoch's. It makes the
        result depend less on the number of epochs and on the seed
        (:doc:`/defaults`). Needs a fixed number of epochs:
        ``validation_fraction=None``, or ``refit`` (the refit network
        averages its last epochs); with early stopping alone it is an error.
        ``history_`` marks the averaged epochs (``averaged``).
    stopping_window : int, default=1
        Early stopping watches the mean of the last ``stopping_window``
        epochs' validation scores (``history_``'s ``valid_loss_mean`` or
        ``valid_uar_mean``) instead of one epoch's, and restores the mean of
        those epochs' weights (parameters; buffers are the window's last
        epoch's). One epoch's score on a few held-out speakers is noisy; the
        best of many single epochs is partly the luckiest. ``best_epoch_`` is
        the window's last epoch. 1 is plain early stopping.
    bucket : bool, default=True
        Length-bucketed batches (less padding); False pads random batches.
    device : str, default="cpu"
        Any torch device this machine has (``"cuda"``, ``"cuda:1"``);
        ``"auto"`` is a GPU when torch sees one, else the CPU. A GPU torch
        cannot use is refused at fit, naming the parameter.
    callbacks : list, default=None
        skorch callbacks (instances, or ``(name, callback)`` pairs, as
        ``NeuralNet(callbacks=)`` takes them), run after the package's own
        (finite-loss check, validation UAR, early stopping, weight
        averaging) in every net a fit trains; a meta-estimator's components
        and fusion head take them from its building block.
    random_state : int, RandomState or None, default=None
        Seeds weights, dropout, batches and the inner split.
    verbose : int, default=0
        skorch's per-epoch log when > 0.

""",
}


def fill_doc(obj):
    """Class decorator: replace ``%(name)s`` in ``obj.__doc__`` by the fragments."""
    text = obj.__doc__ or ""
    for name, fragment in _FRAGMENTS.items():
        text = text.replace(f"    %({name})s\n", fragment)
    obj.__doc__ = text
    return obj
