"""Out-of-fold predictions with annotations as ``y``.

scikit-learn's ``cross_val_predict`` encodes ``y`` as class labels before it
splits (``method="predict_proba"``), which a ratings column is not; models
that learn from every rating need ``y`` passed through as it is. The pooled
scores of a comparison (one UAR of all out-of-fold predictions together)
then come from :func:`score_predictions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import KFold, LeaveOneGroupOut, check_cv
from sklearn.utils import _safe_indexing

from .._parallel import torch_thread_share, use_torch_threads
from ..annotations import align_annotations, check_names

METHODS = ("predict", "predict_proba", "decision_function")


def _fit_and(estimator, X, y, train, test, method, threads):
    use_torch_threads(threads)
    model = clone(estimator).fit(_safe_indexing(X, train), _safe_indexing(y, train))
    return np.asarray(getattr(model, method)(_safe_indexing(X, test))), list(
        model.classes_)


def out_of_fold(estimator, X, y, *, groups=None, cv=None, method="predict_proba",
                classes=None, n_jobs=None):
    """Each utterance's prediction by the model that did not train on it.

    Parameters
    ----------
    estimator : estimator
        Any classifier of this package or a pipeline ending in one (it takes
        annotations as ``y``), or a scikit-learn classifier with labels.
    X : utterance table or array-like
    y : annotations (ratings, vote counts, labels)
        Aligned with X by utterance id (pandas) or position.
    groups : array-like, optional
        Speakers or sessions: with ``cv=None``, one fold per group
        (``LeaveOneGroupOut``), so no speaker is trained and tested on.
    cv : int, splitter or iterable, optional
        As in scikit-learn; None: ``LeaveOneGroupOut`` with ``groups``, else
        five unshuffled folds.
    method : {"predict_proba", "predict", "decision_function"}
    classes : list, optional
        The columns of the result: each fold's model must have learned them
        all (``classes=`` on the estimator makes sure); by default the first
        fold's ``classes_``, and a fold that learned others is refused.
    n_jobs : int, optional
        Folds in parallel (each worker gets its share of torch threads).

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Indexed like X: the labels (``predict``), else one column per class.

    Examples
    --------
    >>> from sklearn_ser.annotations import HardLabels
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> from sklearn_ser.experiments import out_of_fold, score_predictions
    >>> from sklearn_ser.features import OpenSmileFunctionals
    >>> from sklearn_ser.models import EveryRatingClassifier
    >>> data = make_emotional_speech(60, n_speakers=4, n_sessions=2, random_state=0)
    >>> X = OpenSmileFunctionals().fit_transform(data.utterances)  # doctest: +SKIP
    >>> pred = out_of_fold(EveryRatingClassifier(), X, data.annotations,
    ...                    groups=data.utterances["speaker"],
    ...                    method="predict")  # doctest: +SKIP
    >>> classes = ["anger", "happiness", "neutral", "sadness"]
    >>> majority = HardLabels(classes).fit_transform(data.annotations)
    >>> score_predictions(pred, majority, classes)["uar"]  # doctest: +SKIP
    """
    if method not in METHODS:
        raise ValueError(f"out_of_fold: method={method!r}; use one of {METHODS}.")
    y = align_annotations(X, y) if isinstance(X, pd.DataFrame) else y
    n = len(X)
    if cv is None:
        cv = LeaveOneGroupOut() if groups is not None else KFold(5)
    cv = check_cv(cv)
    groups = None if groups is None else np.asarray(groups)
    splits = list(cv.split(np.zeros((n, 1)), None, groups))
    covered = np.zeros(n, dtype=int)
    for _, test in splits:
        covered[test] += 1
    if (covered != 1).any():
        raise ValueError(
            f"out_of_fold: the folds must test every utterance once; "
            f"{int((covered == 0).sum())} are never tested and "
            f"{int((covered > 1).sum())} more than once (use a partition such as "
            "LeaveOneGroupOut or KFold).")
    threads = torch_thread_share(n_jobs, len(splits))
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and)(estimator, X, y, train, test, method, threads)
        for train, test in splits)
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
    if method == "predict":
        out = np.empty(n, dtype=object)
        for (_, test), (pred, _) in zip(splits, results, strict=True):
            out[test] = pred
        return pd.Series(out, index=index, name="predicted")
    names = (check_names(classes, "classes", "out_of_fold") if classes is not None
             else results[0][1])
    out = np.full((n, len(names)), np.nan)
    for k, ((_, test), (values, learned)) in enumerate(
            zip(splits, results, strict=True)):
        if list(learned) != list(names):
            raise ValueError(
                f"out_of_fold: the model of fold {k} learned the classes "
                f"{list(learned)}, not {list(names)}; give classes= to the "
                "estimator so every fold's model has the same.")
        out[test] = values.reshape(len(test), -1)
    return pd.DataFrame(out, index=index, columns=list(names))
