"""The compared methods: a record per method, the registry, the training
profiles and the functionals pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..exceptions import ComparisonError
from ..models import (
    BLSTMAttentionClassifier,
    EveryRatingClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    SeedEnsembleClassifier,
    StackedAnnotatorClassifier,
)

#: Training settings. "benchmark": the command line's networks (early
#: stopping with patience 8, docs: "Why the defaults are what they are");
#: "demo": a compact network so that every method runs on the generated
#: corpus within minutes on two CPU cores.
PROFILES = {
    "benchmark": {"pool": 10, "blstm": {"lr": 3e-3, "patience": 8,
                                        "validation_fraction": 0.25}},
    "demo": {"pool": 10, "blstm": {"dense_units": 64, "lstm_units": 32,
                                   "head_units": 64, "lr": 3e-3, "patience": 5,
                                   "validation_fraction": 0.25}},
}


#: The settings of a fold whose training speakers predict its labels
#: (speaker-confounded): eGeMAPS LLD frames, a fixed number of epochs on every
#: training speaker with the last half's weights averaged (held-out speakers
#: would remove emotions), the stacked model's head at most ``head_epochs``,
#: MLEE fusion blended with its dominant model. Measured in the docs, "Why the
#: defaults are what they are".
CONFOUNDED = {"features": "eGeMAPSv02", "epochs": 20, "head_epochs": 8,
              "mlee_dominant_weight": 0.5,
              "blstm": {"validation_fraction": None, "weight_averaging": 0.5}}


def confounded_profile(profile):
    """``profile`` with the :data:`CONFOUNDED` settings (features, epochs, no
    early stopping) over it."""
    out = {**profile, "features": CONFOUNDED["features"],
           "epochs": CONFOUNDED["epochs"], "head_epochs": CONFOUNDED["head_epochs"],
           "mlee_dominant_weight": CONFOUNDED["mlee_dominant_weight"]}
    out["blstm"] = {**profile["blstm"], **CONFOUNDED["blstm"]}
    return out


@dataclass(frozen=True)
class Method:
    """One compared method of :func:`registry`.

    Parameters
    ----------
    name, description : str
    kind : {"functionals", "network", "fusion"}
        Utterance functionals + a scikit-learn model; frames + a network;
        the fused probabilities of other methods.
    build : callable, default=None
        ``build(classes, seed, epochs, profile, n_features)`` returns the
        unfitted estimator of one (seed, fold): a network takes the fold's
        frames and ratings, a functionals pipeline its functionals (the
        penalty grid scales with ``n_features``). None for a fusion.
    targets : {"ratings", "majority"}, default="ratings"
        What the estimator is fitted on: every rating, or the hard majority
        (the functionals baselines; utterances without one left out).
    features : str, default=None
        The openSMILE functionals of a functionals method.
    members : tuple of str, default=()
        The methods a fusion fuses (the geometric mean of their
        probabilities, :class:`~sklearn_ser.models.LateFusionClassifier`'s
        rule with equal weights).
    """

    name: str
    description: str
    kind: str
    build: Callable | None = None
    targets: str = "ratings"
    features: str | None = None
    members: tuple = ()

    def estimator(self, classes, seed, epochs, profile, n_features=None):
        """The unfitted estimator of one (seed, fold)."""
        if self.build is None:
            raise ComparisonError(f"{self.name} is a fusion of {list(self.members)}; "
                                  "it has no estimator of its own.")
        return self.build(classes, seed, epochs, profile, n_features)

    def fit(self, estimator, fold):
        """Fit ``estimator`` on a :class:`Fold`'s training part."""
        if self.targets == "majority":
            ok = fold.majority_train.notna().to_numpy()
            return estimator.fit(fold.X_train[ok],
                                 fold.majority_train[ok].astype(str))
        if self.kind == "functionals":
            # the penalty search and refine's inner folds group by speaker
            return estimator.fit(fold.X_train, fold.y_train,
                                 everyratingclassifier__groups=fold.groups_train)
        return estimator.fit(fold.X_train, fold.y_train)


@dataclass(frozen=True)
class Fold:
    """The inputs of one leave-one-group-out fold for one kind of method.

    ``X_train``/``X_test`` the fold's features (frames or functionals, after
    the fold's normalisation), ``y_train`` the training ratings,
    ``majority_train`` their hard majority (a Series, NaN without one),
    ``groups_train`` the training speakers.
    """

    X_train: object
    y_train: object
    X_test: object
    majority_train: object = None
    groups_train: object = None

    @property
    def n_features(self):
        """Columns of utterance-level features (None for frame sequences)."""
        X = self.X_train
        return int(X.shape[1]) if isinstance(X, np.ndarray) and X.ndim == 2 else None


def _network(target):
    def build(classes, seed, epochs, profile, n_features=None):
        return BLSTMAttentionClassifier(target, classes=classes, random_state=seed,
                                        max_epochs=epochs, **profile["blstm"])
    return build


def _soft_x5(classes, seed, epochs, profile, n_features=None):
    return SeedEnsembleClassifier(_network("soft")(classes, seed, epochs, profile),
                                  n_members=5, random_state=seed)


def _stacked(classes, seed, epochs, profile, n_features=None):
    # dropout 0.5 on the head's input (Chou & Lee's "dropout layer for all
    # layers"); on confounded folds at most head_epochs (docs: the defaults)
    head = profile.get("head_epochs")
    return StackedAnnotatorClassifier(_network("hard")(classes, seed, epochs, profile),
                                      classes=classes, final={
                                          "input_dropout": 0.5,
                                          "max_epochs": None if head is None
                                          else min(epochs, head)},
                                      random_state=seed)


def _mlee(classes, seed, epochs, profile, n_features=None):
    # the BLSTM encoder on LLD frames, at the learning rate of the other
    # BLSTMs (the paper's CNN on spectrograms is MLEEFusionClassifier's
    # default; far too slow for two CPU cores); on confounded folds the
    # prediction blends in the dominant model (CONFOUNDED)
    lr = profile["blstm"].get("lr", 1e-3)
    base = _network("hard")(classes, seed, epochs, profile).set_params(
        optimizer="adam")
    return MLEEFusionClassifier(base, classes=classes, random_state=seed,
                                pretrain={"lr": lr}, dominant={"lr": lr},
                                finetune={"lr": lr / 2}, fusion={"lr": lr / 4},
                                dominant_weight=profile.get("mlee_dominant_weight",
                                                            0.0))


def _noisy(classes, seed, epochs, profile, n_features=None):
    params = dict(profile["blstm"])
    params.pop("lr", None)  # Fujioka et al.: Adam at its default 1e-3
    if "dense_units" in params:  # compact profile: keep Fujioka's ratio
        params["dense_units"] *= 2
    params.pop("head_units", None)
    # departures from the paper, measured (docs: the defaults): w keeps Eq. 4's
    # class balance, early stopping watches the held-out UAR
    return NoisyLabelMetaClassifier(classes=classes, random_state=seed,
                                    max_epochs=epochs, weight_norm="class",
                                    monitor="uar", **params)


def _functionals(name):
    def build(classes, seed, epochs, profile, n_features=88):
        return baseline_pipeline(name, seed, n_features=n_features, classes=classes)
    return build


def _methods():
    egemaps, compare = "eGeMAPSv02", "ComParE_2016"
    records = [
        Method("svm_egemaps", "eGeMAPS functionals + linear SVM (C=0.01, balanced) "
               "on the majority", "functionals", _functionals("svm_egemaps"),
               targets="majority", features=egemaps),
        Method("logreg_egemaps", "eGeMAPS functionals + logistic regression (C=0.01, "
               "balanced) on the majority", "functionals",
               _functionals("logreg_egemaps"), targets="majority", features=egemaps),
        Method("every_rating_egemaps", "eGeMAPS functionals + logistic regression "
               "from every rating: vote shares refined by learning from crowds "
               "(EveryRatingClassifier, refine=3), C chosen in each training fold "
               "(C x features 0.01 .. 100, 5 inner folds grouped by speaker, scored "
               "on the ratings' log loss)", "functionals",
               _functionals("every_rating_egemaps"), features=egemaps),
        Method("every_rating_compare", "the README's recipe: ComParE-2016 functionals "
               "+ logistic regression from every rating (vote shares, refine=3), C "
               "chosen in each training fold as for every_rating_egemaps",
               "functionals", _functionals("every_rating_compare"), features=compare),
        Method("every_rating_fusion", "every_rating_compare and crowd_soft fused: the "
               "geometric mean of their probabilities (LateFusionClassifier's rule, "
               "equal weights)", "fusion",
               members=("every_rating_compare", "crowd_soft")),
        Method("crowd_hard", "BLSTM-attention on hard majority targets (CrowdH)",
               "network", _network("hard")),
        Method("crowd_soft", "BLSTM-attention on soft targets, alpha 0.75 (CrowdS)",
               "network", _network("soft")),
        Method("crowd_soft_x5", "five CrowdS BLSTMs with their own seeds, "
               "probabilities averaged (SeedEnsembleClassifier)", "network",
               _soft_x5),
        Method("mlee_only", "BLSTM-attention on existence targets, Eq. 7 (MLEE only)",
               "network", _network("existence")),
        Method("stacked", "StackedAnnotatorClassifier: CrowdH + CrowdS + raters, "
               "fused (dropout 0.5 on the fusion head's input)", "network", _stacked),
        Method("mlee_fusion", "MLEEFusionClassifier (BLSTM encoders), soft "
               "fine-tuning", "network", _mlee),
        Method("noisy_meta", "NoisyLabelMetaClassifier: BLSTM + L + w (w rescaled "
               "per gold class, early stopping on the held-out UAR)", "network",
               _noisy),
    ]
    return {m.name: m for m in records}


#: Every compared method by name (:class:`Method` records); the runner reads
#: it at each call. Add a method by adding its record.
METHODS = {}


def registry():
    """The compared methods: name -> :class:`Method` (a copy of
    :data:`METHODS`, in the order the command line reports them)."""
    return dict(METHODS)


#: Methods run by ``sklearn-ser demo`` when --methods is not given: the
#: majority-trained baselines, CrowdH, CrowdS and the three papers' methods.
DEMO_METHODS = ("svm_egemaps", "logreg_egemaps", "crowd_hard", "crowd_soft",
                "stacked", "mlee_fusion", "noisy_meta")

METHODS.update(_methods())

#: The every-rating recipe: its penalty is chosen in each training fold.
EVERY_RATING = tuple(n for n, m in METHODS.items()
                     if m.kind == "functionals" and m.targets == "ratings")

#: The majority-trained functionals baselines (no network).
BASELINES = tuple(n for n, m in METHODS.items()
                  if m.kind == "functionals" and m.targets == "majority")

#: Every method on utterance functionals (no network).
FUNCTIONALS = tuple(n for n, m in METHODS.items() if m.kind == "functionals")

#: The functionals of each functionals method.
FUNCTIONAL_SETS = {n: m.features for n, m in METHODS.items()
                   if m.kind == "functionals"}

#: Methods made of others: name -> the members whose probabilities are fused.
FUSIONS = {n: m.members for n, m in METHODS.items() if m.kind == "fusion"}

#: The penalties the every-rating recipe chooses from, as ``C * n_features``
#: (half decades around 1: with standardised features the penalty's weight
#: against the data grows with their number, so 88 eGeMAPS functionals get C
#: 1e-4 .. 1 and 6,373 ComParE ones 1.6e-6 .. 1.6e-2; an unscaled grid left
#: ComParE searching penalties its optimum never needs).
PENALTY_GRID = tuple(float(c) for c in np.logspace(-2, 2, 9))


def penalty_grid(n_features):
    """The C values of :data:`PENALTY_GRID` for ``n_features`` features."""
    return [c / n_features for c in PENALTY_GRID]


#: The ``--normalise`` choices of the command line (speaker z-scores, global
#: z-scores, none, or "auto": decided per training fold).
NORMALISATIONS = ("auto", "speaker", "global", "corpus", "none")


def baseline_pipeline(name, seed=0, n_features=88, classes=None):
    """StandardScaler + the linear SVM or logistic regression of a baseline
    (fitted on majority labels), or the every-rating logistic regression of
    ``every_rating_egemaps`` / ``every_rating_compare`` (fitted on the
    ratings, on ``classes``; C chosen in the training fold from
    :func:`penalty_grid` of ``n_features``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name in EVERY_RATING:
        return make_pipeline(StandardScaler(), EveryRatingClassifier(
            LogisticRegression(max_iter=3000), classes=classes, refine=3,
            random_state=seed,
            param_grid={"C": penalty_grid(n_features)}, refine_groups=False))
    if name == "svm_egemaps":
        clf = SVC(kernel="linear", C=0.01, class_weight="balanced")
    else:
        clf = LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000)
    return make_pipeline(StandardScaler(), clf)
