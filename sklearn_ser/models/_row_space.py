"""Inner fits of an L2-penalised logistic regression on the row space of its
training utterances.

With more features than training utterances (6,373 ComParE functionals,
a few hundred utterances), the weights of an L2-penalised logistic
regression lie in the span of the training rows: the gradient of the loss is
a combination of the rows, the penalty's gradient is the weights themselves,
and the solver starts from zero. Writing the rows in an orthonormal basis
``Q`` of that span (``X @ Q``, one column per utterance) keeps every inner
product, the penalty ``||w||^2 = ||Q^T w||^2`` and so the optimum: the model
fitted on ``X_train @ Q`` predicts ``X @ Q`` as the model fitted on
``X_train`` predicts ``X``, on a fraction of the columns. The solvers'
stopping rules read the gradient in other coordinates, so the two agree
within the solver's ``tol``, not bit for bit.

:class:`~sklearn_ser.models.EveryRatingClassifier` fits its penalty search's
and refinement's inner models this way when the rule holds, and its final
model too, whose weights are then written back in the features
(``coef_ @ Q^T``): a plain logistic regression on the user's features.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.utils import _safe_indexing

#: solvers whose iterates stay in the span of the rows (deterministic,
#: full-gradient; liblinear penalises the intercept, sag/saga draw samples)
SOLVERS = frozenset({"lbfgs", "newton-cg", "newton-cholesky"})


def _is_l2(params):
    penalty, l1_ratio = params.get("penalty", "l2"), params.get("l1_ratio")
    if penalty == "l2":
        return True
    return penalty == "deprecated" and (l1_ratio is None or l1_ratio == 0)


def applies(estimators, X):
    """Whether every estimator of ``estimators`` (the search's candidates)
    is a plain L2-penalised logistic regression whose optimum the row space
    keeps, on dense numeric ``X`` with more columns than rows."""
    if sp.issparse(X) or not hasattr(X, "shape") or len(X.shape) != 2:
        return False
    if np.asarray(X[:0]).dtype.kind not in "fiu" or X.shape[0] >= X.shape[1]:
        return False
    for est in estimators:
        if type(est) is not LogisticRegression:
            return False
        params = est.get_params()
        if not _is_l2(params) or params["solver"] not in SOLVERS or params["dual"]:
            return False
        if not np.isfinite(params["C"]):
            return False
    return True


class RowSpace:
    """An orthonormal basis of the span of ``X_train``'s rows; calling it
    writes rows in that basis (``X @ Q``)."""

    def __init__(self, X_train):
        rows = np.asarray(X_train, dtype=np.float64)
        # QR of the (d, n) transpose: Q's n orthonormal columns span the rows
        # (duplicate or dependent rows leave Q orthonormal and the span whole)
        self.basis, _ = np.linalg.qr(rows.T)

    def __call__(self, X):
        return np.asarray(X, dtype=np.float64) @ self.basis


def fold_views(X, splits, reduce):
    """Per inner fold ``(X_train, X_test)``: in the row space of the fold's
    training rows when ``reduce``, else the rows as they are."""
    views = []
    for tr, te in splits:
        X_tr, X_te = _safe_indexing(X, tr), _safe_indexing(X, te)
        if reduce:
            space = RowSpace(X_tr)
            X_tr, X_te = space(X_tr), space(X_te)
        views.append((X_tr, X_te))
    return views


def fit_through_row_space(estimator, X, rows, y, sample_weight):
    """Fit ``estimator`` on the rows ``rows`` of ``X`` (an utterance may
    repeat) in the row space of the utterances they hold, then write its
    weights back in ``X``'s features: the fitted estimator is the one fitted
    on the features (within the solver's ``tol``), with ``n_features_in_``
    and ``feature_names_in_`` of ``X``."""
    space = RowSpace(_safe_indexing(X, np.unique(rows)))
    estimator.fit(space(_safe_indexing(X, rows)), y, sample_weight=sample_weight)
    estimator.coef_ = estimator.coef_ @ space.basis.T
    estimator.n_features_in_ = X.shape[1]
    if hasattr(X, "columns"):
        estimator.feature_names_in_ = np.asarray(X.columns, dtype=object)
    return estimator
