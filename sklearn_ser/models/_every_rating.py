"""Any scikit-learn classifier trained from every rating."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import GroupKFold, KFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, has_fit_parameter

from .._parallel import restore_on_interrupt
from .._warnings import ser_warn
from ..annotations import (
    BaseTargetEncoder,
    HardLabels,
    SoftLabels,
    check_annotations,
    check_id_spellings,
    confusion_counts,
    report_missing,
    resolve_classes,
)
from ..exceptions import AbsentClassWarning, DroppedRowsWarning, SERWarning
from ..metrics import UARScoreMixin
from ._inputs import as_input

TARGETS = ("shares", "ratings", "majority")


def _final_step(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


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


class EveryRatingClassifier(UARScoreMixin, MetaEstimatorMixin, ClassifierMixin,
                            BaseEstimator):
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
        each training utterance, not a guess for an unseen speaker: measured
        with eGeMAPS (C=1e-2) on the generated one-emotion-per-speaker corpus,
        0.792 UAR vs the intended emotion with folds over utterances, 0.761
        with speaker folds (EmoDB-crowd 0.730 vs 0.724; BENCHMARKS.md).
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
        plurality left out). The log loss is the steadier choice: over
        EmoDB-crowd, EmoDB-confounded and a generated corpus it chose penalties
        within a factor 3 of the best fixed one, where UAR on a few hundred
        crowd labels swung by a factor 10 and cost up to 4 points
        (BENCHMARKS.md).

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
        est = estimator if estimator is not None else self._base()
        if fresh:
            est = clone(est)
        key = (f"{est.steps[-1][0]}__sample_weight" if isinstance(est, Pipeline)
               else "sample_weight")
        return est.fit(_safe_indexing(X, rows), self.classes_[cls], **{key: weight})

    def _base(self):
        est = self.estimator if self.estimator is not None else _default()
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
        return est

    @restore_on_interrupt
    def fit(self, X, y, groups=None):
        """Fit ``estimator`` on every rating of ``y``.

        Parameters
        ----------
        X : array-like or DataFrame
            The utterances' features (rows aligned with ``y``).
        y : ratings, annotation table, vote counts or 1-D labels
        groups : array-like, default=None
            Speakers (or sessions) for ``refine``'s out-of-fold predictions.

        Returns
        -------
        self : object
        """
        self._validate_params()
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
        base = self._base()
        classes = self.classes
        if classes is None and isinstance(self.targets, BaseTargetEncoder) and (
                self.targets.classes is not None):
            classes = self.targets.classes  # the encoder's classes decide
        self.classes_ = resolve_classes(y, classes, label_map=self.label_map)
        q, enc = self._distribution(y)
        report_missing(enc, y, np.isnan(q).any(axis=1),
                       "EveryRatingClassifier: left out", what="training utterance(s)")
        mass = np.nansum(q, axis=0)
        absent = [str(c) for c, m in zip(self.classes_, mass, strict=True) if m <= 0]
        if absent:
            ser_warn(
                f"EveryRatingClassifier: class(es) {absent} have no training target "
                "(no rating gives them any share): the model never predicts them; "
                "their columns of predict_proba are 0 and of decision_function "
                "-inf.", AbsentClassWarning)
        if self.param_grid is not None:
            base = self._search(X, q, groups, base)
        if self.refine:
            q = self._refine(X, y, q, groups, base)
        self.estimator_ = self._fit_on(X, q, base)
        keep = ~np.isnan(q).any(axis=1)
        index = y.index if isinstance(y, pd.Series | pd.DataFrame) else (
            pd.RangeIndex(len(q)))
        self.targets_ = pd.DataFrame(
            q[keep], index=index[keep],
            columns=pd.Index(list(self.classes_), name="class"))
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def _inner_splits(self, idx, groups, q, cv, what):
        """Folds over the rated utterances ``idx``: grouped by ``groups`` when
        given, else stratified (search) or shuffled (refine) over utterances."""
        if groups is not None:
            g = np.asarray(groups)[idx]
            n_groups = len(np.unique(g))
            if n_groups < 2:
                raise ValueError(
                    f"EveryRatingClassifier({what}): its inner folds hold out "
                    f"whole groups, and groups has {n_groups} value among the "
                    "rated utterances; give at least two groups (speakers, "
                    "sessions), or no groups (folds over utterances)"
                    + (", or refine=0." if what.startswith("refine") else "."))
            n_splits = cv if isinstance(cv, numbers.Integral) else 5
            return list(GroupKFold(min(n_splits, n_groups)).split(idx, groups=g))
        if isinstance(cv, numbers.Integral):
            seed = check_random_state(self.random_state).randint(2**31 - 1)
            if what.startswith("param_grid"):
                from sklearn.model_selection import StratifiedKFold

                labels = np.nanargmax(q[idx], axis=1)
                counts = np.bincount(labels)
                if len(labels) and counts[counts > 0].min() >= cv:
                    return list(StratifiedKFold(cv, shuffle=True, random_state=seed)
                                .split(idx, labels))
            return list(KFold(cv, shuffle=True, random_state=seed).split(idx))
        return list(check_cv(cv).split(idx))

    def _search(self, X, q, groups, base):
        """The ``param_grid`` candidate that scores best on held-out
        utterances of the training data (fitted on the initial targets)."""
        from sklearn.model_selection import ParameterGrid

        candidates = list(ParameterGrid(self.param_grid))
        if not candidates:
            raise ValueError("param_grid holds no candidate.")
        rated = ~np.isnan(q).any(axis=1)
        idx = np.flatnonzero(rated)
        splits = self._inner_splits(idx, groups, q, self.search_cv,
                                    "param_grid search")
        X_rated = _safe_indexing(X, idx)
        q_rated = q[idx]
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(candidates) * len(splits), unit="fit",
                       desc=f"EveryRatingClassifier search ({len(candidates)} "
                            f"candidates x {len(splits)} folds)")
        scores = np.zeros((len(candidates), len(splits)))
        # estimators with warm_start (LogisticRegression...) start each
        # candidate of a fold from the previous one's solution: the same
        # optimum within tolerance, at a fraction of the iterations
        warm_key = ("warm_start" if not isinstance(base, Pipeline)
                    else f"{base.steps[-1][0]}__warm_start")
        warm = (warm_key in base.get_params()
                and not any(warm_key in p for p in candidates))
        fold_models = [None] * len(splits)
        for c, params in enumerate(candidates):
            try:
                est = clone(base).set_params(**params)
            except ValueError as exc:
                raise ValueError(
                    f"EveryRatingClassifier: param_grid candidate {params} does not "
                    f"fit the estimator {type(base).__name__} ({exc}).") from None
            for k, (tr, te) in enumerate(splits):
                if warm:
                    if fold_models[k] is None:
                        fold_models[k] = clone(base).set_params(**{warm_key: True})
                    fold_est = fold_models[k].set_params(**params)
                else:
                    fold_est = est
                try:
                    model = self._fit_on(_safe_indexing(X_rated, tr), q_rated[tr],
                                         fold_est, fresh=not warm)
                except ValueError as exc:
                    raise ValueError(
                        f"EveryRatingClassifier(param_grid=...): the classifier of "
                        f"the search's inner fold {k + 1} of {len(splits)} could "
                        f"not be fitted ({exc}). Its training part holds too few "
                        "classes: use fewer search_cv folds or other groups."
                    ) from exc
                scores[c, k] = self._inner_score(model, _safe_indexing(X_rated, te),
                                                 q_rated[te])
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        mean, std = _finite_mean_std(scores)
        if not np.isfinite(scores).any():
            mean = np.zeros(len(candidates))
        mean = np.where(np.isfinite(mean), mean, -np.inf)
        best = int(np.argmax(mean))  # ties: the first in grid order
        self.best_params_ = dict(candidates[best])
        order = (-mean).argsort(kind="stable")
        rank = np.empty(len(candidates), dtype=int)
        rank[order] = np.arange(1, len(candidates) + 1)
        self.search_results_ = pd.DataFrame({
            "params": candidates, "mean_score": mean, "std_score": std,
            "rank": rank})
        return clone(base).set_params(**self.best_params_)

    def _inner_score(self, model, X, q):
        """The search's score of a fitted candidate on held-out utterances."""
        if self.search_scoring == "log_loss":
            if not hasattr(model, "predict_proba"):
                raise TypeError(
                    "EveryRatingClassifier(search_scoring='log_loss') needs "
                    f"predict_proba; {type(_final_step(model)).__name__} has none: "
                    "use search_scoring='uar'.")
            p = np.clip(self._align_proba(model, X), 1e-7, 1.0)
            target = q / q.sum(axis=1, keepdims=True)
            return float(np.mean(np.sum(target * np.log(p), axis=1)))
        top = q.max(axis=1, keepdims=True)
        unique = (q == top).sum(axis=1) == 1
        if not unique.any():
            return np.nan
        truth = self.classes_[np.argmax(q[unique], axis=1)]
        pred = np.asarray(model.predict(_safe_indexing(X, np.flatnonzero(unique))))
        recalls = [np.mean(pred[truth == c] == c) for c in np.unique(truth)]
        return float(np.mean(recalls))

    def _refine(self, X, y, q, groups, base):
        """Learning-from-crowds EM over every choice of a target class."""
        ratings = y.array  # checked by fit
        if ratings.kind != "table":
            ser_warn("EveryRatingClassifier: refine needs individual ratings; "
                          "vote counts or labels are used as they are.",
                          DroppedRowsWarning)
            return q
        K = len(self.classes_)
        cols = ratings.label_columns(list(self.classes_))
        class_of = np.full(len(ratings.vocabulary), -1)
        class_of[cols[cols >= 0]] = np.flatnonzero(cols >= 0)
        k = class_of[ratings.label_code]
        keep = k >= 0  # every choice of a target class, second choices too
        item, rater, said = ratings.item_code[keep], ratings.rater_code[keep], k[keep]
        R = len(ratings.rater_names)
        rated = ~np.isnan(q).any(axis=1)
        q = np.where(rated[:, None], q, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):  # unrated: NaN rows
            q = q / np.nansum(q, axis=1, keepdims=True)  # "ratings" counts -> shares
        idx = np.flatnonzero(rated)
        if not hasattr(base, "predict_proba"):
            raise TypeError(
                f"EveryRatingClassifier(refine={self.refine}) needs out-of-fold "
                f"probabilities, and {type(_final_step(base)).__name__} has no "
                "predict_proba: use refine=0, or a classifier with probabilities "
                "(LogisticRegression, SVC(probability=True), ...).")
        splits = self._inner_splits(
            idx, groups if getattr(self, "refine_groups", True) else None, q,
            self.refine_cv, f"refine={self.refine}")
        X_rated = _safe_indexing(X, idx)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.refine * len(splits), unit="fit",
                       desc=f"EveryRatingClassifier refine ({self.refine} EM "
                            f"iterations x {len(splits)} folds)")
        for _ in range(self.refine):
            # M: raters' confusion matrices from the current targets
            conf = confusion_counts(rater, said, np.nan_to_num(q[item]), R, K,
                                    initial=self.smoothing)
            conf /= conf.sum(axis=2, keepdims=True)
            # the classifier's out-of-fold view of each rated utterance
            proba = np.zeros((len(idx), K))
            for k, (tr, te) in enumerate(splits):
                try:
                    model = self._fit_on(_safe_indexing(X_rated, tr), q[idx[tr]],
                                         base)
                except ValueError as exc:
                    raise ValueError(
                        f"EveryRatingClassifier(refine={self.refine}): the "
                        f"classifier of refine's inner fold {k + 1} of "
                        f"{len(splits)} could not be fitted ({exc}). Its training "
                        "part holds too few classes: use fewer refine_cv folds, "
                        "other groups, or refine=0.") from exc
                proba[te] = self._align_proba(model, _safe_indexing(X_rated, te))
                if bar is not None:
                    bar.update(1)
            # E: posterior of the emotion given the audio and every rating
            # (unrated rows stay NaN; computed on the rated rows only)
            logp = np.zeros((len(idx), K))
            logp[:] = np.log(np.clip(proba, 1e-6, 1.0))
            pos = np.full(len(q), -1)
            pos[idx] = np.arange(len(idx))
            use = rated[item]
            np.add.at(logp, pos[item[use]], np.log(conf[rater[use], :, said[use]]))
            logp -= logp.max(axis=1, keepdims=True)
            p = np.exp(logp)
            q = np.full((len(q), K), np.nan)
            q[idx] = p / p.sum(axis=1, keepdims=True)
        if bar is not None:
            bar.close()
        self.rater_confusion_ = conf
        self.raters_ = list(ratings.rater_names)
        return q

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


def _finite_mean_std(scores):
    """Per row, the mean and standard deviation of the finite entries (NaN
    where a row has none): numpy's nanmean/nanstd without their "Mean of
    empty slice" / "Degrees of freedom" RuntimeWarnings for a candidate that
    scored in no fold."""
    scores = np.asarray(scores, dtype=float)
    finite = np.isfinite(scores)
    n = finite.sum(axis=1)
    safe = np.where(finite, scores, 0.0)
    mean = np.where(n > 0, safe.sum(axis=1) / np.maximum(n, 1), np.nan)
    dev = np.where(finite, scores - mean[:, None], 0.0)
    std = np.where(n > 0, np.sqrt((dev ** 2).sum(axis=1) / np.maximum(n, 1)), np.nan)
    return mean, std
