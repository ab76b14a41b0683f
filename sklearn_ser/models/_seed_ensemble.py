"""Averaging copies of one estimator trained with different seeds."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import check_is_fitted

from ..annotations import align_annotations
from ..metrics import UARScoreMixin
from ._inputs import MembersInputs, as_input, fit_members, shared_inputs
from ._sequence.blstm_attention import BLSTMAttentionClassifier
from ._template import OneFitMixin


def _seeded(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` (also those of
    pipeline steps and nested estimators) set to ``seed``."""
    est = clone(estimator)
    keys = [k for k in est.get_params(deep=True)
            if k == "random_state" or k.endswith("__random_state")]
    if not keys:
        raise ValueError(
            f"SeedEnsembleClassifier needs an estimator with a random_state "
            f"parameter (its members differ only by seed); "
            f"{type(estimator).__name__} has none."
        )
    est.set_params(**dict.fromkeys(keys, int(seed)))
    return est


class SeedEnsembleClassifier(OneFitMixin, UARScoreMixin, ClassifierMixin,
                             BaseEstimator):
    """Average the probabilities of copies of one classifier with different seeds.

    Neural networks trained on a few hundred utterances differ from seed to
    seed by several UAR points (initial weights, batch order, and which
    speakers are held out for early stopping). This meta-estimator trains
    ``n_members`` clones of ``estimator`` that differ only by their
    ``random_state`` (every ``random_state`` inside a pipeline too) and
    predicts the class with the highest mean probability. Because each member
    holds out other speakers for early stopping, the ensemble as a whole
    learns from every training speaker.

    ``y`` is passed to the members unchanged, so annotation tables work as
    they do for the members (``target="soft"`` etc.); scikit-learn's
    ``VotingClassifier`` and ``BaggingClassifier`` need one label per sample.

    Parameters
    ----------
    estimator : classifier, default=None
        The member (default: ``BLSTMAttentionClassifier("soft")``). It needs
        ``predict_proba`` and a ``random_state`` parameter.
    n_members : int, default=5
        Number of copies.
    n_jobs : int, default=None
        Members trained in parallel (joblib). Each parallel worker gets an
        equal share of the CPU cores for torch.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds.

    Attributes
    ----------
    estimators_ : list of fitted estimators
    seeds_ : ndarray of int
        The ``random_state`` of each member.
    classes_ : ndarray
        Class labels, shared by every member.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.models import BLSTMAttentionClassifier, SeedEnsembleClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=(20, 4)).astype("float32") + (i % 2) for i in range(40)]
    >>> y = ["anger" if i % 2 else "sadness" for i in range(40)]
    >>> member = BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8,
    ...                                   lr=0.02, max_epochs=10)
    >>> speakers = [f"spk{i // 2 % 4}" for i in range(40)]  # early-stopping groups
    >>> ens = SeedEnsembleClassifier(member, n_members=3, random_state=0)
    >>> ens = ens.fit(X, y, groups=speakers)
    >>> ens.predict_proba(X[:2]).shape, len(ens.estimators_)
    ((2, 2), 3)
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(BLSTMAttentionClassifier._tiny(), n_members=2, random_state=0)]

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_members": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, n_members=5, *, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _member(self):
        if self.estimator is not None:
            return self.estimator

        return BLSTMAttentionClassifier("soft")

    def _fit_inputs(self, X, y, groups):
        """X converted and y parsed once for every member (when every member
        reads frames / annotations), the members' fit parameters (``groups``,
        or what metadata routing sends them), the seeded members."""
        X = as_input(X)
        if y is not None:  # pandas objects by id, arrays by position
            y = align_annotations(X, y)
        member = self._member()
        X, y = shared_inputs([member], X, y, type(self).__name__)
        if _routing_enabled():
            routed = process_routing(self, "fit", groups=groups)
            fit_params = dict(routed.estimator.fit)
        else:
            fit_params = {} if groups is None else {"groups": groups}
        rng = check_random_state(self.random_state)
        self.seeds_ = rng.randint(2**31 - 1, size=self.n_members)
        members = [_seeded(member, s) for s in self.seeds_]
        return MembersInputs(X, y, members, [fit_params] * len(members))

    def _fit(self, inputs):
        """The members, side by side on ``n_jobs``."""
        self.estimators_ = fit_members(inputs, self.n_jobs)

    def _fit_end(self, inputs, result):
        """Every member learned the same classes; they are the ensemble's."""
        first = self.estimators_[0].classes_
        for i, est in enumerate(self.estimators_[1:], start=1):
            if list(est.classes_) != list(first):
                raise ValueError(
                    f"Member {i} (random_state={self.seeds_[i]}) learned the classes "
                    f"{list(est.classes_)}, member 0 learned {list(first)}; pass "
                    "classes= to the estimator so every member has the same."
                )
        self.classes_ = np.asarray(first)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimators_[0], attr):
                setattr(self, attr, getattr(self.estimators_[0], attr))

    def predict_proba(self, X):
        """Mean of the members' class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "estimators_")
        X = as_input(X)
        return np.mean([est.predict_proba(X) for est in self.estimators_], axis=0)

    def predict(self, X):
        """The class with the highest mean probability."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata_routing(self):
        router = MetadataRouter(owner=self.__class__.__name__).add(
            estimator=self._member(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        member = get_tags(self._member())
        tags.input_tags = member.input_tags
        tags.classifier_tags.poor_score = member.classifier_tags.poor_score
        tags.non_deterministic = member.non_deterministic
        return tags
