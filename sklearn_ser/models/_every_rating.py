"""Any scikit-learn classifier trained from every rating."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, has_fit_parameter

from .._warnings import ser_warn
from ..annotations import (
    BaseTargetEncoder,
    HardLabels,
    SoftLabels,
    check_annotations,
    check_id_spellings,
    report_missing,
    resolve_classes,
)
from ..exceptions import AbsentClassWarning, SERWarning
from ..metrics import UARScoreMixin
from ._inputs import as_input
from ._penalty_search import PenaltySearch, _final_step
from ._row_space import applies, fit_through_row_space
from ._template import OneFitMixin


class RatingsInputs(NamedTuple):
    """What the start of an every-rating fit built, once: X as rows to
    index, y parsed, ``groups``, the target distribution (NaN rows: none)."""

    X: object
    y: object
    groups: object
    q: np.ndarray

TARGETS = ("shares", "ratings", "majority")


def _estimator_has(attr):
    def check(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            est = self.estimator if self.estimator is not None else _default()
        return hasattr(est, attr)
    return check


def _default():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e-3, max_iter=3000)


class EveryRatingClassifier(OneFitMixin, PenaltySearch, UARScoreMixin,
                            MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train any scikit-learn classifier from every rating, not the majority.

    Each utterance is given to ``estimator`` once per emotion its raters chose,
    as a sample weighted by how much of the crowd chose it (``"shares"``, the
    default), once per rating (``"ratings"``) or with the weights of a target
    encoder's distribution (``SoftLabels(alpha=...)``, ``AggregatedLabels(
    "dawid_skene")``). ``targets="majority"`` is the usual baseline: the hard
    majority label, utterances without one left out.

    With ``refine > 0`` the targets are refined by learning from crowds
    (Raykar et al., JMLR 2010): an EM that alternates (M) fitting the
    classifier on the current targets and estimating each rater's confusion
    matrix from them, and (E) setting each utterance's target to the posterior
    of its emotion given the classifier's *out-of-fold* prediction for it and
    every rating of it (second choices included), each rating weighted by its
    rater's reliability. The
    audio is then evidence next to the raters: a rating that contradicts both
    the other raters and the voice counts less. The final classifier is fitted
    on the refined targets.

    Class balancing is done on the weighted samples: with
    ``class_weight="balanced"`` each class's weights are scaled so that every
    class carries the same total weight (``n_weight / (K * weight_k)``), the
    weighted analogue of scikit-learn's ``"balanced"``. Give the estimator
    itself no ``class_weight``.

    Parameters
    ----------
    estimator : classifier, default=None
        Must accept ``sample_weight`` in ``fit`` (for a Pipeline: its last
        step; the weights are routed to it). Default:
        ``LogisticRegression(C=1e-3, max_iter=3000)``.
    targets : {"shares", "ratings", "majority"} or target encoder, \
default="shares"
        What each utterance teaches: see above. A soft encoder's rows are
        expanded like vote shares; a hard encoder's labels are used as is.
    alpha : float, default=0.0
        Smoothing of the vote shares (Eq. 1 of Chou & Lee; 0 = plain shares).
    class_weight : {"balanced"}, dict or None, default="balanced"
        Per-class multipliers of the sample weights (see above).
    refine : int, default=0
        Learning-from-crowds EM iterations (0: the targets as they are).
    refine_cv : int or cross-validation splitter, default=5
        Folds of the out-of-fold predictions in each EM iteration; with
        ``groups`` given to ``fit``, a :class:`~sklearn.model_selection.GroupKFold`
        over them (speakers: the prediction for an utterance then never
        comes from a model that heard its speaker). Inside a Pipeline the
        groups reach it by metadata routing:
        ``sklearn.set_config(enable_metadata_routing=True)`` and
        ``EveryRatingClassifier(...).set_fit_request(groups=True)``, then
        ``pipe.fit(X, y, groups=speakers)``.
    refine_groups : bool, default=True
        Whether refine's folds follow the ``groups`` given to ``fit`` (False:
        shuffled folds over utterances even then, while ``param_grid``'s
        search still groups by them). Refinement wants a second opinion on
        each training utterance, not a guess for an unseen speaker (measured:
        :doc:`/defaults`).
    smoothing : float, default=0.5
        Added to every cell of the raters' confusion counts.
    classes : array-like, default=None
        Target classes (default: :func:`~sklearn_ser.annotations.resolve_classes`).
    label_map : dict or "iemocap", default=None
    random_state : int, RandomState or None, default=None
        Shuffles ``refine_cv`` folds when no groups are given.
    progress : bool, default=False
        A progress bar over the search's and refine's inner fits (long fits:
        ComParE functionals with ``refine=3`` take minutes).
    param_grid : dict or list of dicts, default=None
        Settings of ``estimator`` chosen **in the training data** before
        anything else is fitted, e.g. ``{"C": np.logspace(-4, 0, 5)}`` (for a
        Pipeline: ``{"logisticregression__C": [...]}``): each candidate is
        fitted on the targets of the inner training folds and scored on the
        held-out utterances (``search_scoring``); the best is used for
        ``refine`` and the final fit (ties: the first in grid order, so list
        the most regularised first). The folds split *utterances*, never the
        expanded rows of one utterance, and are grouped by ``groups``
        (speakers) when given. None: ``estimator`` as it is.
    search_cv : int or cross-validation splitter, default=5
        Inner folds of the search: with ``groups``, a GroupKFold over them;
        else a StratifiedKFold over the utterances' arg-max targets, shuffled
        by ``random_state``.
    search_scoring : {"log_loss", "uar"}, default="log_loss"
        What the search maximises on the held-out utterances: minus the soft
        log loss of the predicted probabilities against their targets (the
        vote shares: every rating counts), or the UAR of the predictions
        against the plurality of their ratings (utterances without a unique
        plurality left out). The log loss is the steadier choice: UAR on a few
        hundred crowd labels swings with the penalty (measured:
        :doc:`/defaults`).

    Attributes
    ----------
    estimator_ : the fitted classifier
    classes_ : ndarray
    targets_ : pandas.DataFrame
        The distribution each training utterance was fitted on (rows without
        a target left out).
    rater_confusion_ : ndarray of shape (n_raters, K, K)
        ``refine > 0``: each rater's ``P(says l | truth k)``.
    raters_ : list
        ``refine > 0``: the raters of ``rater_confusion_``.
    best_params_ : dict
        ``param_grid``: the settings chosen in the training data.
    search_results_ : pandas.DataFrame
        ``param_grid``: each candidate's ``params``, ``mean_score`` and
        ``std_score`` over the inner folds, and ``rank``.
    n_features_in_ : int
        When the estimator has it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_ser.annotations import from_long
    >>> long = pd.DataFrame({"utterance": ["a", "a", "b", "b", "c", "c"],
    ...                      "rater": ["r1", "r2"] * 3,
    ...                      "label": ["sad", "sad", "angry", "sad", "angry",
    ...                                "angry"]})
    >>> X = np.array([[0.0], [0.5], [1.0]])
    >>> clf = EveryRatingClassifier().fit(X, from_long(long))
    >>> clf.targets_.round(2).to_numpy().tolist()
    [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
    """

    # -- the instances scikit-learn's checks run on (tests/test_common.py) --
    @classmethod
    def _test_instances(cls):
        return [cls(), cls(refine=1, random_state=0)]

    #: reads annotation tables (parsed once for an ensemble of it)
    _reads_ratings = True

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "targets": [StrOptions(set(TARGETS)), BaseTargetEncoder],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "refine": [Interval(numbers.Integral, 0, None, closed="left")],
        "refine_cv": ["cv_object"],
        "smoothing": [Interval(numbers.Real, 0, None, closed="neither")],
        "refine_groups": ["boolean"],
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "random_state": ["random_state"],
        "progress": ["boolean"],
        "param_grid": [dict, list, None],
        "search_cv": ["cv_object"],
        "search_scoring": [StrOptions({"uar", "log_loss"})],
    }

    def __init__(self, estimator=None, *, targets="shares", alpha=0.0,
                 class_weight="balanced", refine=0, refine_cv=5, smoothing=0.5,
                 classes=None, label_map=None, random_state=None, progress=False,
                 param_grid=None, search_cv=5, search_scoring="log_loss",
                 refine_groups=True):
        self.estimator = estimator
        self.targets = targets
        self.alpha = alpha
        self.class_weight = class_weight
        self.refine = refine
        self.refine_cv = refine_cv
        self.smoothing = smoothing
        self.classes = classes
        self.label_map = label_map
        self.random_state = random_state
        self.progress = progress
        self.param_grid = param_grid
        self.search_cv = search_cv
        self.search_scoring = search_scoring
        self.refine_groups = refine_groups

    # -- targets -------------------------------------------------------------------
    def _distribution(self, y):
        """(n, K) targets (rows of NaN: none) and the hard/soft kind."""
        if isinstance(self.targets, BaseTargetEncoder):
            enc = clone(self.targets)
            if enc.classes is None:
                enc.set_params(classes=self.classes_)
            if self.label_map is not None and enc.label_map is None:
                enc.set_params(label_map=self.label_map)
            out = enc.fit(y).transform(y)
            if enc.target_kind == "existence":
                raise ValueError(
                    "EveryRatingClassifier learns one emotion per sample; an "
                    "existence target (several classes at once) is not one.")
            if enc.target_kind == "hard":
                return self._one_hot(out), enc
            return out.reindex(columns=self.classes_).to_numpy(dtype=float), enc
        if self.targets == "majority":
            enc = HardLabels(self.classes_, label_map=self.label_map)
            return self._one_hot(enc.fit(y).transform(y)), enc
        enc = SoftLabels(self.classes_, alpha=self.alpha, label_map=self.label_map)
        q = enc.fit(y).transform(y).to_numpy(dtype=float)
        if self.targets == "ratings":  # one unit of weight per rating
            counts, _ = enc._class_counts(y)
            q = np.where(np.isnan(q), np.nan, counts)
            q[counts.sum(axis=1) <= 0] = np.nan
        return q, enc

    def _one_hot(self, labels):
        """One-hot rows of ``labels`` over ``classes_`` (NaN rows: no label)."""
        k = pd.Index(list(self.classes_), dtype=object).get_indexer(
            pd.Series(np.asarray(labels, dtype=object), dtype=object))
        q = np.full((len(k), len(self.classes_)), np.nan)
        has = k >= 0
        q[has] = np.eye(len(self.classes_))[k[has]]
        return q

    def _class_multipliers(self, q):
        K = len(self.classes_)
        if self.class_weight is None:
            return np.ones(K)
        if isinstance(self.class_weight, dict):
            return np.array([float(self.class_weight.get(c, 1.0))
                             for c in self.classes_])
        mass = np.nansum(q, axis=0)
        present = mass > 0
        mult = np.zeros(K)
        mult[present] = mass.sum() / (present.sum() * mass[present])
        return mult

    def expand(self, q):
        """Rows, class indices and sample weights of the expanded training set.

        Row ``i`` appears once per class ``k`` with ``q[i, k] > 0``, weighted
        ``q[i, k]`` times the class multiplier of ``class_weight``. The weights
        sum to the number of utterances with a target whatever ``targets``
        is (``"ratings"``' counts are scaled to it: one utterance weighs one),
        so an estimator's penalty (``C``) means the same for vote shares, the
        majority and the ratings.
        """
        q = np.asarray(q, dtype=float)
        ok = ~np.isnan(q).any(axis=1)
        rows, cls = np.nonzero(np.where(ok[:, None], q, 0.0) > 0)
        mass = float(q[ok].sum())
        if mass > 0:
            q = q * (ok.sum() / mass)
        mult = self._class_multipliers(np.where(ok[:, None], q, np.nan))
        weight = q[rows, cls] * mult[cls]
        return rows, cls, weight

    # -- fitting -------------------------------------------------------------------
    def _fit_on(self, X, q, estimator=None, *, fresh=True):
        rows, cls, weight = self.expand(q)
        if len(np.unique(cls)) < 2:
            present = [str(self.classes_[c]) for c in sorted(set(cls))]
            raise ValueError(
                "EveryRatingClassifier needs at least two classes among the "
                f"training targets; got {len(present)} class: {present}.")
        est = estimator if estimator is not None else self._estimator()
        if fresh:
            est = clone(est)
        if applies([est], X):  # fewer utterances than features
            # the same optimum on as many columns as utterances (_row_space.py)
            return fit_through_row_space(est, X, rows, self.classes_[cls], weight)
        key = (f"{est.steps[-1][0]}__sample_weight" if isinstance(est, Pipeline)
               else "sample_weight")
        return est.fit(_safe_indexing(X, rows), self.classes_[cls], **{key: weight})

    def _estimator(self):
        """``estimator``, else the default logistic regression."""
        return self.estimator if self.estimator is not None else _default()

    def _check_params(self):
        """The estimator takes sample weights (the ratings' weights go through
        them); a class balancing of its own besides ``class_weight`` is said."""
        est = self._estimator()
        own = getattr(_final_step(est), "class_weight", None)
        if own is not None and self.class_weight is not None:
            ser_warn(
                f"EveryRatingClassifier: the estimator has its own class_weight="
                f"{own!r} and class_weight={self.class_weight!r} balances the "
                "weighted samples too: classes are balanced twice. Give the "
                "estimator class_weight=None (or EveryRatingClassifier "
                "class_weight=None).", SERWarning)
        if not has_fit_parameter(_final_step(est), "sample_weight"):
            raise TypeError(
                f"{type(_final_step(est)).__name__} does not accept sample_weight "
                "in fit; EveryRatingClassifier gives each rating's weight through "
                "it (LogisticRegression, SVC, LinearSVC, RandomForest... do).")

    def _fit_inputs(self, X, y, groups):
        """X as rows to index, y parsed once, the classes decided once, the
        target distribution ``q`` (step 2 of the fit template)."""
        X = as_input(X)
        if sp.issparse(X):
            X = X.tocsr()  # row indexing
        if y is not None and _num_samples(X) != _num_samples(y):
            raise ValueError(f"X has {_num_samples(X)} rows but y has "
                             f"{_num_samples(y)}.")
        y = check_annotations(y, X if isinstance(X, pd.DataFrame) else None,
                              label_map=self.label_map, classes=self.classes,
                              target=True, whom="EveryRatingClassifier")
        if groups is not None and len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} entries but X has {len(y)} "
                             "utterances.")
        if groups is not None:  # one speaker in an inner fold's two sides
            check_id_spellings(groups, "groups value", advice="in the speaker ids")
        classes = self.classes
        if classes is None and isinstance(self.targets, BaseTargetEncoder) and (
                self.targets.classes is not None):
            classes = self.targets.classes  # the encoder's classes decide
        self.classes_ = resolve_classes(y, classes, label_map=self.label_map)
        q, enc = self._distribution(y)
        report_missing(enc, y, np.isnan(q).any(axis=1),
                       "EveryRatingClassifier: left out", what="training utterance(s)")
        return RatingsInputs(X, y, groups, q)

    def _fit(self, inputs):
        """The penalty search (``param_grid``), the refinement (``refine``),
        then the estimator on the final targets."""
        X, y, groups, q = inputs
        mass = np.nansum(q, axis=0)
        absent = [str(c) for c, m in zip(self.classes_, mass, strict=True) if m <= 0]
        if absent:
            ser_warn(
                f"EveryRatingClassifier: class(es) {absent} have no training target "
                "(no rating gives them any share): the model never predicts them; "
                "their columns of predict_proba are 0 and of decision_function "
                "-inf.", AbsentClassWarning)
        base = self._estimator()
        if self.param_grid is not None:
            base = self._search(X, q, groups, base)
        if self.refine:
            q = self._refine(X, y, q, groups, base)
        self.estimator_ = self._fit_on(X, q, base)
        return q

    def _fit_end(self, inputs, q):
        """The targets the estimator was fitted on, per utterance."""
        keep = ~np.isnan(q).any(axis=1)
        y = inputs.y
        index = y.index if isinstance(y, pd.Series | pd.DataFrame) else (
            pd.RangeIndex(len(q)))
        self.targets_ = pd.DataFrame(
            q[keep], index=index[keep],
            columns=pd.Index(list(self.classes_), name="class"))
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_

    def _align_proba(self, model, X):
        proba = model.predict_proba(X)
        out = np.zeros((len(proba), len(self.classes_)))
        pos = {c: k for k, c in enumerate(self.classes_)}
        for j, c in enumerate(model.classes_):
            out[:, pos[c]] = proba[:, j]
        return out

    # -- prediction ------------------------------------------------------------------
    def predict(self, X):
        """Most probable emotion per utterance."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Probabilities in ``classes_`` order (0 for a class never trained)."""
        check_is_fitted(self, "estimator_")
        return self._align_proba(self.estimator_, X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The estimator's decision function, one column per ``classes_``
        entry (-inf for a class it was never trained on; 1-D, scikit-learn's
        binary form, when ``classes_`` has two)."""
        check_is_fitted(self, "estimator_")
        scores = np.asarray(self.estimator_.decision_function(X), dtype=float)
        trained = list(self.estimator_.classes_)
        if len(trained) == len(self.classes_):
            return scores
        if scores.ndim == 1:  # a binary estimator: the second class' score
            scores = np.column_stack([-scores, scores])
        out = np.full((len(scores), len(self.classes_)), -np.inf)
        pos = {c: k for k, c in enumerate(self.classes_)}
        for j, c in enumerate(trained):
            out[:, pos[c]] = scores[:, j]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self.estimator if self.estimator is not None else _default()
        from sklearn.utils import get_tags

        inner = get_tags(base)
        tags.input_tags = inner.input_tags
        tags.target_tags.required = True
        return tags
