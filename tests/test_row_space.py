"""The every-rating model's inner fits on the row space of their training
utterances (issue 46): the same optimum as on the features, over generated
problems of every shape the rule accepts, and the rule refuses the others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.models import EveryRatingClassifier
from sklearn_ser.models._row_space import RowSpace, applies


def _problem(seed, n, d, k):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    y = np.arange(n) % k
    X = centres[y] * 0.3 + rng.normal(size=(n, d))
    return X, y, rng


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(12, 60),
       extra=st.integers(1, 200), k=st.integers(2, 4),
       log_c=st.floats(-5, 0), weighted=st.booleans(), intercept=st.booleans(),
       solver=st.sampled_from(["lbfgs", "newton-cg", "newton-cholesky"]),
       balanced=st.booleans(), duplicates=st.booleans())
def test_the_row_space_keeps_the_l2_optimum(seed, n, extra, k, log_c, weighted,
                                            intercept, solver, balanced,
                                            duplicates):
    X, y, rng = _problem(seed, n, n + n // 2 + extra, k)
    if duplicates:  # repeated rows: one utterance once per chosen class
        X, y = np.vstack([X, X[: n // 2]]), np.concatenate([y, (y[: n // 2] + 1) % k])
    w = rng.uniform(0.1, 2.0, size=len(y)) if weighted else None
    X_test = rng.normal(size=(7, X.shape[1]))
    lr = LogisticRegression(C=10.0 ** log_c, fit_intercept=intercept, solver=solver,
                            class_weight="balanced" if balanced else None,
                            tol=1e-10, max_iter=5000)
    assert applies([lr], X)
    space = RowSpace(X)
    full = LogisticRegression(**lr.get_params()).fit(X, y, sample_weight=w)
    reduced = LogisticRegression(**lr.get_params()).fit(space(X), y, sample_weight=w)
    # the same optimum; the two stop on the solver's tolerance in other
    # coordinates, so they agree to about 1e-4 where the penalty is weak
    np.testing.assert_allclose(reduced.predict_proba(space(X_test)),
                               full.predict_proba(X_test), atol=1e-4)
    # the reduced weights, written back in the features, are the full ones
    np.testing.assert_allclose(reduced.coef_ @ space.basis.T, full.coef_,
                               atol=1e-3 * max(1.0, np.abs(full.coef_).max()))


@pytest.mark.parametrize("case", [
    "pipeline", "l1", "elasticnet", "liblinear", "saga", "no penalty", "sparse",
    "more rows than columns", "subclass", "text"])
def test_the_rule_refuses_what_the_row_space_would_change(case):
    X, _, _ = _problem(0, 20, 50, 2)
    est = LogisticRegression()

    class Mine(LogisticRegression):
        pass

    if case == "pipeline":
        est = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])
    elif case == "l1":
        est = LogisticRegression(l1_ratio=1.0, solver="saga")
    elif case == "elasticnet":
        est = LogisticRegression(l1_ratio=0.5, solver="saga")
    elif case == "liblinear":
        est = LogisticRegression(solver="liblinear")
    elif case == "saga":
        est = LogisticRegression(solver="saga")
    elif case == "no penalty":
        est = LogisticRegression(C=np.inf)
    elif case == "sparse":
        X = sp.csr_matrix(X)
    elif case == "more rows than columns":
        X = X[:, :10]
    elif case == "subclass":
        est = Mine()
    elif case == "text":
        X = X.astype(str)
    assert not applies([est], X)


def _ratings_problem(seed=0, n=60, d=300):
    X, y, rng = _problem(seed, n, d, 3)
    names = np.array(["anger", "neutral", "sadness"])
    cells = {}
    for r in range(3):
        noisy = np.where(rng.random(n) < 0.75, y, rng.integers(0, 3, n))
        cells[f"E{r}"] = names[noisy]
    ratings = pd.DataFrame(cells, index=[f"u{i}" for i in range(n)])
    groups = np.array([f"s{i % 6}" for i in range(n)])
    return X, ratings, groups


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_recipe_chooses_the_same_penalty_and_predicts_the_same(seed):
    """The every-rating recipe (search + refine) on the row space and on the
    features (the same logistic regression in a one-step Pipeline, which the
    row-space rule leaves alone)."""
    X, ratings, groups = _ratings_problem(seed)
    grid = {"C": list(np.logspace(-4, 0, 5))}
    lr = LogisticRegression(max_iter=5000, tol=1e-8)
    fast = EveryRatingClassifier(lr, param_grid=grid, refine=2,
                                 random_state=seed).fit(X, ratings, groups=groups)
    full = EveryRatingClassifier(
        Pipeline([("lr", lr)]), param_grid={"lr__C": grid["C"]}, refine=2,
        random_state=seed).fit(X, ratings, groups=groups)
    assert fast.best_params_["C"] == full.best_params_["lr__C"]
    np.testing.assert_allclose(fast.search_results_["mean_score"],
                               full.search_results_["mean_score"], atol=1e-5)
    np.testing.assert_allclose(fast.targets_, full.targets_, atol=1e-4)
    np.testing.assert_allclose(fast.predict_proba(X), full.predict_proba(X),
                               atol=1e-4)
    # the final model is fitted on the features: its coefficients are theirs
    assert fast.estimator_.coef_.shape == (3, X.shape[1])
