"""The in-fold search of :class:`EveryRatingClassifier`: a penalty grid
scored on inner folds of speakers (against the ratings' distribution), then
refined around the best value."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state

from .._warnings import ser_warn
from ..annotations import (
    confusion_counts,
)
from ..exceptions import DroppedRowsWarning
from ._row_space import applies, fold_views


def _final_step(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


class PenaltySearch:
    """The search methods of :class:`EveryRatingClassifier` (they read its
    ``param_grid``, ``cv``, ``refine`` and scoring settings)."""

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
        ests = []
        for params in candidates:
            try:
                ests.append(clone(base).set_params(**params))
            except ValueError as exc:
                raise ValueError(
                    f"EveryRatingClassifier: param_grid candidate {params} does not "
                    f"fit the estimator {type(base).__name__} ({exc}).") from None
        # the inner fits of a plain L2 logistic regression on the row space of
        # each fold's training utterances (the same optimum; _row_space.py)
        views = fold_views(X_rated, splits, applies(ests, X_rated))
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
        for c, (params, est) in enumerate(zip(candidates, ests, strict=True)):
            for k, ((tr, _), (X_tr, X_te)) in enumerate(zip(splits, views,
                                                          strict=True)):
                if warm:
                    if fold_models[k] is None:
                        fold_models[k] = clone(base).set_params(**{warm_key: True})
                    fold_est = fold_models[k].set_params(**params)
                else:
                    fold_est = est
                try:
                    model = self._fit_on(X_tr, q_rated[tr], fold_est,
                                         fresh=not warm)
                except ValueError as exc:
                    raise ValueError(
                        f"EveryRatingClassifier(param_grid=...): the classifier of "
                        f"the search's inner fold {k + 1} of {len(splits)} could "
                        f"not be fitted ({exc}). Its training part holds too few "
                        "classes: use fewer search_cv folds or other groups."
                    ) from exc
                scores[c, k] = self._inner_score(model, X_te,
                                                 q_rated[splits[k][1]])
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
        # one basis per fold for every EM iteration (the folds stay)
        views = fold_views(X_rated, splits, applies([base], X_rated))
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
            for k, ((tr, te), (X_tr, X_te)) in enumerate(zip(splits, views,
                                                             strict=True)):
                try:
                    model = self._fit_on(X_tr, q[idx[tr]], base)
                except ValueError as exc:
                    raise ValueError(
                        f"EveryRatingClassifier(refine={self.refine}): the "
                        f"classifier of refine's inner fold {k + 1} of "
                        f"{len(splits)} could not be fitted ({exc}). Its training "
                        "part holds too few classes: use fewer refine_cv folds, "
                        "other groups, or refine=0.") from exc
                proba[te] = self._align_proba(model, X_te)
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
